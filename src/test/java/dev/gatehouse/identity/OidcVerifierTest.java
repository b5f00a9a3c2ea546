package dev.gatehouse.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.config.GatehouseConfig.OidcIssuerConfig;
import dev.gatehouse.store.Database;
import dev.gatehouse.testing.MovingClock;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link OidcVerifier} against a real in-process OAuth 2.0 / OIDC server. */
class OidcVerifierTest {
  static MockOAuth2Server server;
  static String corpIssuer;
  static OidcVerifier verifier;

  @BeforeAll
  static void startIdp() {
    server = new MockOAuth2Server();
    server.start();
    corpIssuer = server.issuerUrl("corp").toString();
    verifier = new OidcVerifier(List.of(corp()), Clock.systemUTC());
  }

  @AfterAll
  static void stopIdp() {
    server.shutdown();
  }

  static OidcIssuerConfig corp() {
    return Configs.issuer("corp", corpIssuer, "gatehouse");
  }

  static String token(String subject, String audience, Map<String, Object> claims) {
    return server.issueToken("corp", subject, audience, claims).serialize();
  }

  @Test
  void validTokenIsAcceptedWithGroupsMapped() throws Exception {
    String jwt = token("alice", "gatehouse", Map.of("groups", List.of("dba", "platform-admins")));

    VerifiedToken v = verifier.verify(jwt);
    Principal p = verifier.toPrincipal(v);

    assertThat(v.issuerName()).isEqualTo("corp");
    assertThat(v.subject()).isEqualTo("alice");
    assertThat(v.claims()).containsEntry("iss", corpIssuer);
    assertThat(p.subject()).isEqualTo("alice");
    assertThat(p.groups()).containsExactlyInAnyOrder("dba", "platform-admins");
    assertThat(p.kind()).isEqualTo(PrincipalKind.HUMAN);
    assertThat(p.attributes()).containsEntry("role", "admin").containsEntry("issuer", "corp");
    assertThat(p.expiresAt()).isAfter(Instant.now());
    assertThat(p.tokenId()).startsWith("oidc:corp:");
  }

  @Test
  void groupsGivenAsOneStringAreSplitOnSpacesAndCommas() throws Exception {
    String jwt = token("bob", "gatehouse", Map.of("groups", "dev, security ops"));

    Principal p = verifier.toPrincipal(verifier.verify(jwt));

    assertThat(p.groups()).containsExactlyInAnyOrder("dev", "security", "ops");
    assertThat(p.attributes()).containsEntry("role", "auditor");
  }

  @Test
  void subjectAndKindFollowTheIssuerConfig() throws Exception {
    OidcIssuerConfig c = corp();
    OidcIssuerConfig byEmail =
        new OidcIssuerConfig(
            c.name(),
            c.issuer(),
            c.audiences(),
            null,
            null,
            List.of("RS256"),
            null,
            "email",
            "roles",
            "agent",
            List.of(),
            List.of());
    OidcVerifier v = new OidcVerifier(List.of(byEmail), Clock.systemUTC());
    String jwt =
        token("0f3c", "gatehouse", Map.of("email", "carol@example.com", "roles", List.of("x")));

    Principal p = v.toPrincipal(v.verify(jwt));

    assertThat(p.subject()).isEqualTo("carol@example.com");
    assertThat(p.groups()).containsExactly("x");
    assertThat(p.kind()).isEqualTo(PrincipalKind.AGENT);
    assertThat(p.attributes()).containsEntry("role", "user");
  }

  @Test
  void expiredTokenIsRejected() throws Exception {
    String jwt = token("alice", "gatehouse", Map.of());
    Instant exp = SignedJWT.parse(jwt).getJWTClaimsSet().getExpirationTime().toInstant();
    MovingClock later = new MovingClock(exp.plus(Duration.ofSeconds(31)));

    OidcVerifier v = new OidcVerifier(List.of(corp()), later);

    assertThatThrownBy(() -> v.verify(jwt))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("token expired at " + exp);
  }

  @Test
  void tokenWithinClockSkewOfExpiryIsStillAccepted() throws Exception {
    String jwt = token("alice", "gatehouse", Map.of());
    Instant exp = SignedJWT.parse(jwt).getJWTClaimsSet().getExpirationTime().toInstant();

    OidcVerifier v = new OidcVerifier(List.of(corp()), new MovingClock(exp.plusSeconds(20)));

    assertThat(v.verify(jwt).subject()).isEqualTo("alice");
  }

  @Test
  void tokenNotYetValidIsRejected() {
    String jwt = token("alice", "gatehouse", Map.of());
    MovingClock earlier = new MovingClock(Instant.now().minus(Duration.ofHours(1)));

    OidcVerifier v = new OidcVerifier(List.of(corp()), earlier);

    assertThatThrownBy(() -> v.verify(jwt)).hasMessageStartingWith("token not valid before ");
  }

  @Test
  void wrongAudienceIsRejected() {
    String jwt = token("alice", "some-other-app", Map.of());

    assertThatThrownBy(() -> verifier.verify(jwt))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("audience mismatch (expected one of [gatehouse])");
  }

  @Test
  void aTokenForSeveralAudiencesMustHaveBeenIssuedToThisGateway() throws Exception {
    // Issued to another client ("wiki"), with us among its audiences: refused (OIDC Core 3.1.3.7).
    String other = issuedTo("wiki", List.of("gatehouse", "wiki"), Map.of());
    assertThatThrownBy(() -> verifier.verify(other))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("token was issued to another party: azp wiki (expected one of [gatehouse])");
    // Several audiences and no azp: whom it was issued to is unknown.
    String unnamed = issuedTo("wiki", List.of("gatehouse", "wiki"), Map.of("azp", ""));
    assertThatThrownBy(() -> verifier.verify(unnamed)).hasMessageContaining("azp");
    // Issued to us, for several audiences: accepted.
    String ours = issuedTo("gatehouse", List.of("gatehouse", "wiki"), Map.of());
    assertThat(verifier.verify(ours).subject()).isEqualTo("alice");
    // One audience (ours): the azp of an access token names the client that asked; accepted.
    assertThat(verifier.verify(issuedTo("wiki", List.of("gatehouse"), Map.of())).subject())
        .isEqualTo("alice");
  }

  private static String issuedTo(
      String client, List<String> audiences, Map<String, Object> claims) {
    return server
        .issueToken(
            "corp",
            client,
            new DefaultOAuth2TokenCallback("corp", "alice", "JWT", audiences, claims))
        .serialize();
  }

  @Test
  void unknownIssuerIsRejected() {
    String jwt = server.issueToken("elsewhere", "alice", "gatehouse", Map.of()).serialize();

    assertThatThrownBy(() -> verifier.verify(jwt))
        .hasMessage("unknown issuer " + server.issuerUrl("elsewhere"));
  }

  @Test
  void tamperedSignatureIsRejected() {
    String jwt = token("alice", "gatehouse", Map.of());
    String[] parts = jwt.split("\\.");
    byte[] sig = new Base64URL(parts[2]).decode();
    sig[sig.length / 2] ^= 0x01;
    String tampered = parts[0] + "." + parts[1] + "." + Base64URL.encode(sig);

    assertThatThrownBy(() -> verifier.verify(tampered)).hasMessage("invalid signature");
  }

  @Test
  void tamperedClaimsAreRejected() throws Exception {
    String jwt = token("alice", "gatehouse", Map.of("groups", List.of("dev")));
    String[] parts = jwt.split("\\.");
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder(SignedJWT.parse(jwt).getJWTClaimsSet())
            .claim("groups", List.of("platform-admins"))
            .build();
    String forged = parts[0] + "." + Base64URL.encode(claims.toString()) + "." + parts[2];

    assertThatThrownBy(() -> verifier.verify(forged)).hasMessage("invalid signature");
  }

  @Test
  void unsecuredTokenIsRejected() {
    String plain = new PlainJWT(validClaims().build()).serialize();
    String noneWithSignature = plain + "c2lnbmF0dXJl";

    assertThatThrownBy(() -> verifier.verify(plain)).hasMessage("algorithm none is not allowed");
    assertThatThrownBy(() -> verifier.verify(noneWithSignature))
        .hasMessage("algorithm none is not allowed");
  }

  @Test
  void hmacSignedTokenIsRejected() throws Exception {
    SignedJWT hs = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), validClaims().build());
    hs.sign(new MACSigner(new byte[32]));

    assertThatThrownBy(() -> verifier.verify(hs.serialize()))
        .hasMessage("algorithm HS256 is not allowed");
  }

  @Test
  void tokenSignedWithAKeyTheJwksLacksIsRejected() throws Exception {
    RSAKey foreign = new RSAKeyGenerator(2048).keyID("abc").generate();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("abc").type(JOSEObjectType.JWT).build(),
            validClaims().build());
    jwt.sign(new RSASSASigner(foreign));

    assertThatThrownBy(() -> verifier.verify(jwt.serialize())).hasMessage("unknown key id abc");
  }

  @Test
  void tokenSignedWithAForeignKeyUnderAKnownKeyIdIsRejected() throws Exception {
    // The mock server names its signing key after the issuer id.
    RSAKey foreign = new RSAKeyGenerator(2048).keyID("corp").generate();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("corp").build(), validClaims().build());
    jwt.sign(new RSASSASigner(foreign));

    assertThatThrownBy(() -> verifier.verify(jwt.serialize())).hasMessage("invalid signature");
  }

  @Test
  void algorithmOutsideTheAllowListIsRejected() throws Exception {
    OidcIssuerConfig c = corp();
    OidcIssuerConfig esOnly =
        new OidcIssuerConfig(
            c.name(),
            c.issuer(),
            c.audiences(),
            null,
            null,
            List.of("ES256"),
            null,
            null,
            null,
            null,
            List.of(),
            List.of());
    OidcVerifier v = new OidcVerifier(List.of(esOnly), Clock.systemUTC());

    assertThatThrownBy(() -> v.verify(token("alice", "gatehouse", Map.of())))
        .hasMessage("algorithm RS256 is not allowed for issuer corp (expected one of [ES256])");
  }

  @Test
  void malformedTokensAreRejectedWithoutEchoingThem() {
    assertThatThrownBy(() -> verifier.verify("a.b")).hasMessageStartingWith("malformed token");
    assertThatThrownBy(() -> verifier.verify("!!!.e30.x")).hasMessage("malformed token header");
    assertThatThrownBy(() -> verifier.verify("a.b.c.d.e"))
        .hasMessage("encrypted tokens (JWE) are not accepted");
  }

  @Test
  void unreachableIssuerFailsClosed() throws Exception {
    OidcIssuerConfig down = Configs.issuer("down", "http://127.0.0.1:1/nothing", "gatehouse");
    OidcVerifier v = new OidcVerifier(List.of(down), Clock.systemUTC());
    RSAKey key = new RSAKeyGenerator(2048).keyID("k1").generate();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(),
            validClaims().issuer("http://127.0.0.1:1/nothing").build());
    jwt.sign(new RSASSASigner(key));

    assertThatThrownBy(() -> v.verify(jwt.serialize()))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageStartingWith("issuer down: discovery failed");
  }

  @Test
  void unsafeIssuerConfigIsRefused() {
    OidcIssuerConfig c = corp();
    OidcIssuerConfig hs =
        new OidcIssuerConfig(
            "x",
            c.issuer(),
            c.audiences(),
            null,
            null,
            List.of("HS256"),
            null,
            null,
            null,
            null,
            List.of(),
            List.of());
    OidcIssuerConfig noAudience =
        new OidcIssuerConfig(
            "y",
            c.issuer(),
            List.of(),
            null,
            null,
            List.of(),
            null,
            null,
            null,
            null,
            List.of(),
            List.of());

    assertThatThrownBy(() -> new OidcVerifier(List.of(hs), Clock.systemUTC()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("oidc[x].algorithms: HS256 (expected: asymmetric");
    OidcIssuerConfig plainHttp = Configs.issuer("z", "http://idp.example.com", "gatehouse");
    assertThatThrownBy(() -> new OidcVerifier(List.of(plainHttp), Clock.systemUTC()))
        .hasMessageStartingWith("oidc[z].issuer: http://idp.example.com (expected: the issuer URL");
    assertThatThrownBy(() -> new OidcVerifier(List.of(noAudience), Clock.systemUTC()))
        .hasMessage("oidc[y].audiences: empty (expected: at least one audience, or a client_id)");
  }

  @Test
  void tokenServiceAcceptsOidcTokensDirectly() throws Exception {
    ListAuditLog audit = new ListAuditLog();
    try (Database db = Database.inMemory("oidc-" + UUID.randomUUID())) {
      TokenService tokens =
          new TokenService(db, Configs.identity(List.of()), audit, Clock.systemUTC(), verifier);
      String jwt =
          server
              .issueToken(
                  "corp",
                  "gatehouse-cli",
                  new DefaultOAuth2TokenCallback(
                      "corp", "alice", "JWT", List.of("gatehouse"), Map.of("groups", "dba")))
              .serialize();

      Principal p = tokens.authenticate(jwt);

      assertThat(p.subject()).isEqualTo("alice");
      assertThat(p.groups()).containsExactly("dba");
      assertThat(tokens.stillValid(p, Instant.now())).isTrue();
      String wrongAudience = token("alice", "other", Map.of());
      assertThatThrownBy(() -> tokens.authenticate(wrongAudience))
          .hasMessage("audience mismatch (expected one of [gatehouse])");
      assertThat(audit.ofType("auth.failed"))
          .singleElement()
          .satisfies(e -> assertThat(e.data()).containsEntry("credential_type", "jwt"));
      assertThat(audit.events.toString()).doesNotContain(wrongAudience);
    }
  }

  @Test
  void rotatedSigningKeyIsPickedUpAndTheRetiredOneRejected() throws Exception {
    RSAKey k1 = new RSAKeyGenerator(2048).keyID("k1").generate();
    RSAKey k2 = new RSAKeyGenerator(2048).keyID("k2").generate();
    AtomicReference<String> published =
        new AtomicReference<>(new JWKSet(k1.toPublicJWK()).toString());
    AtomicInteger fetches = new AtomicInteger();
    HttpServer jwksServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    jwksServer.createContext(
        "/jwks",
        exchange -> {
          fetches.incrementAndGet();
          byte[] body = published.get().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    jwksServer.start();
    try {
      String issuer = "https://idp.example.test";
      OidcIssuerConfig c =
          new OidcIssuerConfig(
              "idp",
              issuer,
              List.of("gatehouse"),
              null,
              "http://127.0.0.1:" + jwksServer.getAddress().getPort() + "/jwks",
              List.of(),
              null,
              null,
              null,
              null,
              List.of(),
              List.of());
      OidcVerifier v = new OidcVerifier(List.of(c), Clock.systemUTC());

      assertThat(v.verify(signed(k1, issuer)).subject()).isEqualTo("mallory");
      assertThat(v.verify(signed(k1, issuer)).subject()).isEqualTo("mallory");
      assertThat(fetches).as("keys are cached").hasValue(1);

      published.set(new JWKSet(k2.toPublicJWK()).toString());

      assertThat(v.verify(signed(k2, issuer)).subject()).isEqualTo("mallory");
      assertThat(fetches).hasValue(2);
      assertThatThrownBy(() -> v.verify(signed(k1, issuer))).hasMessage("unknown key id k1");
    } finally {
      jwksServer.stop(0);
    }
  }

  private static String signed(RSAKey key, String issuer) throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
            validClaims().issuer(issuer).build());
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static JWTClaimsSet.Builder validClaims() {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer(corpIssuer)
        .subject("mallory")
        .audience("gatehouse")
        .claim("groups", List.of("platform-admins"))
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(300)));
  }
}
