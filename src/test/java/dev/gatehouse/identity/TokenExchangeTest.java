package dev.gatehouse.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.GatehouseConfig.TokenExchangeConfig;
import dev.gatehouse.config.GatehouseConfig.UserConfig;
import dev.gatehouse.store.Database;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** RFC 8693 exchange of CI job tokens from a real in-process OIDC server. */
class TokenExchangeTest {
  static MockOAuth2Server server;
  static OidcVerifier verifier;

  static final TokenExchangeConfig DEPLOY =
      new TokenExchangeConfig(
          "acme-deploy",
          "ci",
          Map.of("repository", "acme/*", "workflow", "*", "ref", "refs/heads/main"),
          "ci:{repository}:{workflow}",
          List.of("ci", "deployers"),
          "service",
          Duration.ofMinutes(10),
          List.of("orders-db", "billing-db"));
  static final TokenExchangeConfig ANY_BRANCH =
      new TokenExchangeConfig(
          "acme-readonly",
          "ci",
          Map.of("repository", "acme/*", "role", "*"),
          "ci:{repository}",
          List.of("ci"),
          null,
          null,
          List.of());
  static final TokenExchangeConfig BY_ACTOR =
      new TokenExchangeConfig(
          "by-actor",
          "ci",
          Map.of("repository", "other/*"),
          "{actor}",
          List.of(),
          null,
          null,
          List.of());

  Database db;
  ListAuditLog audit;
  TokenService tokens;
  TokenExchange exchange;

  @BeforeAll
  static void startIdp() {
    server = new MockOAuth2Server();
    server.start();
    verifier =
        new OidcVerifier(
            List.of(Configs.issuer("ci", server.issuerUrl("ci").toString(), "gatehouse")),
            Clock.systemUTC());
  }

  @AfterAll
  static void stopIdp() {
    server.shutdown();
  }

  @BeforeEach
  void setUp() {
    db = Database.inMemory("exchange-" + UUID.randomUUID());
    audit = new ListAuditLog();
    tokens =
        new TokenService(
            db,
            Configs.identity(List.of(new UserConfig("alice", "human", List.of(), "admin"))),
            audit,
            Clock.systemUTC(),
            verifier);
    exchange = new TokenExchange(tokens, verifier, List.of(DEPLOY, ANY_BRANCH, BY_ACTOR), audit);
  }

  @AfterEach
  void tearDown() {
    db.close();
  }

  static String ciToken(String repository, String ref, Map<String, Object> extra) {
    Map<String, Object> claims = new HashMap<>(extra);
    claims.put("repository", repository);
    claims.put("workflow", "deploy");
    claims.put("ref", ref);
    return server
        .issueToken("ci", "repo:" + repository + ":ref:" + ref, "gatehouse", claims)
        .serialize();
  }

  @Test
  void ciTokenIsExchangedForAScopedGatewayToken() throws Exception {
    ExchangeResult r =
        exchange.exchange(
            ciToken("acme/app", "refs/heads/main", Map.of()), TokenExchange.TOKEN_TYPE_JWT, null);

    assertThat(r.tokenType()).isEqualTo("Bearer");
    assertThat(r.issuedTokenType()).isEqualTo("urn:ietf:params:oauth:token-type:access_token");
    assertThat(r.expiresIn()).isEqualTo(600);
    assertThat(r.scope()).isEqualTo("billing-db orders-db");
    assertThat(r.toString()).doesNotContain(r.accessToken());
    assertThat(r.toResponse()).containsEntry("access_token", r.accessToken());
    Principal p = tokens.authenticate(r.accessToken());
    assertThat(p.subject()).isEqualTo("ci:acme/app:deploy");
    assertThat(p.groups()).containsExactlyInAnyOrder("ci", "deployers");
    assertThat(p.kind()).isEqualTo(PrincipalKind.SERVICE);
    assertThat(p.scope()).containsExactlyInAnyOrder("orders-db", "billing-db");
    assertThat(p.attributes())
        .containsEntry("repository", "acme/app")
        .containsEntry("workflow", "deploy")
        .containsEntry("ref", "refs/heads/main")
        .containsEntry("exchange", "acme-deploy")
        .containsEntry("role", "user");
    assertThat(audit.ofType("token.exchanged"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.actor()).isEqualTo("ci:acme/app:deploy");
              assertThat(e.data()).containsEntry("mapping", "acme-deploy");
              assertThat(e.data()).containsEntry("token_id", p.tokenId());
            });
    assertThat(audit.events.toString()).doesNotContain(r.accessToken().substring(25));
  }

  @Test
  void requestedScopeNarrowsTheMappingScope() throws Exception {
    ExchangeResult r =
        exchange.exchange(
            ciToken("acme/app", "refs/heads/main", Map.of()),
            TokenExchange.TOKEN_TYPE_ID_TOKEN,
            "orders-db");

    assertThat(r.scope()).isEqualTo("orders-db");
    assertThat(tokens.authenticate(r.accessToken()).scope()).containsExactly("orders-db");
  }

  @Test
  void widenedScopeIsInvalidScope() {
    assertOAuthError(
        () ->
            exchange.exchange(
                ciToken("acme/app", "refs/heads/main", Map.of()),
                TokenExchange.TOKEN_TYPE_JWT,
                "orders-db payroll-db"),
        "invalid_scope",
        "scope payroll-db is not allowed by mapping acme-deploy"
            + " (expected a subset of [billing-db, orders-db])");
    assertThat(tokens.list(true)).isEmpty();
  }

  @Test
  void firstMatchingMappingWinsAndClaimsCannotGrantARole() throws Exception {
    ExchangeResult r =
        exchange.exchange(
            ciToken("acme/app", "refs/heads/feature-x", Map.of("role", "admin")),
            TokenExchange.TOKEN_TYPE_JWT,
            null);

    Principal p = tokens.authenticate(r.accessToken());
    assertThat(p.subject()).isEqualTo("ci:acme/app");
    assertThat(p.scope()).isEmpty();
    assertThat(r.scope()).isNull();
    assertThat(r.expiresIn()).isEqualTo(15 * 60);
    assertThat(p.attributes()).containsEntry("exchange", "acme-readonly");
    assertThat(p.attributes()).containsEntry("role", "user");
  }

  @Test
  void nonMatchingClaimsAreInvalidGrant() {
    assertOAuthError(
        () ->
            exchange.exchange(
                ciToken("evil/app", "refs/heads/main", Map.of()),
                TokenExchange.TOKEN_TYPE_JWT,
                null),
        "invalid_grant",
        "no token exchange mapping matches this token from issuer ci");
    assertThat(tokens.list(true)).isEmpty();
  }

  @Test
  void unverifiableSubjectTokenIsInvalidGrant() {
    String wrongAudience = server.issueToken("ci", "x", "not-gatehouse", Map.of()).serialize();

    assertOAuthError(
        () -> exchange.exchange(wrongAudience, TokenExchange.TOKEN_TYPE_JWT, null),
        "invalid_grant",
        "subject_token rejected: audience mismatch (expected one of [gatehouse])");
    assertOAuthError(
        () -> exchange.exchange("opaque-access-token", TokenExchange.TOKEN_TYPE_ACCESS_TOKEN, null),
        "invalid_grant",
        "subject_token rejected: malformed token: 1 parts (expected: 3, header.payload.signature)");
  }

  @Test
  void claimDerivedSubjectMayNotBecomeALocalUser() {
    String token = ciToken("other/app", "refs/heads/main", Map.of("actor", "alice"));

    assertOAuthError(
        () -> exchange.exchange(token, TokenExchange.TOKEN_TYPE_JWT, null),
        "invalid_grant",
        "mapping by-actor renders subject alice, which is a local user"
            + " (expected: a name no identity.users entry has)");
  }

  @Test
  void badRequestsAreRejectedWithTheirErrorCodes() {
    String token = ciToken("acme/app", "refs/heads/main", Map.of());

    assertOAuthError(
        () -> exchange.exchange(token, "urn:ietf:params:oauth:token-type:saml2", null),
        "unsupported_token_type",
        null);
    assertOAuthError(
        () -> exchange.exchange(token, null, null),
        "invalid_request",
        "subject_token_type is missing");
    assertOAuthError(
        () -> exchange.exchange("", TokenExchange.TOKEN_TYPE_JWT, null),
        "invalid_request",
        "subject_token is missing");
    assertOAuthError(
        () -> exchange.exchange(token, TokenExchange.TOKEN_TYPE_JWT, "orders\"db"),
        "invalid_scope",
        null);
  }

  @Test
  void auditFailureMeansNoTokenIsHandedOut() {
    String token = ciToken("acme/app", "refs/heads/main", Map.of());
    audit.failing = true;

    assertThatThrownBy(() -> exchange.exchange(token, TokenExchange.TOKEN_TYPE_JWT, null))
        .isInstanceOf(dev.gatehouse.store.StoreException.class);
    assertThat(tokens.list(false)).isEmpty();
  }

  @Test
  void mappingForAnUnknownIssuerIsRefused() {
    TokenExchangeConfig bad =
        new TokenExchangeConfig("x", "gitlab", Map.of(), "ci", List.of(), null, null, List.of());

    assertThatThrownBy(() -> new TokenExchange(tokens, verifier, List.of(bad), audit))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("token_exchange[x].issuer: gitlab (expected one of oidc names [ci])");
  }

  @Test
  void globStarMatchesAnyRunOfCharacters() {
    assertThat(TokenExchange.glob("refs/heads/*").matcher("refs/heads/a/b").matches()).isTrue();
    assertThat(TokenExchange.glob("acme/*-svc").matcher("acme/pay-svc").matches()).isTrue();
    assertThat(TokenExchange.glob("acme/*-svc").matcher("acme/pay-svc2").matches()).isFalse();
    assertThat(TokenExchange.glob("a.c").matcher("abc").matches()).as("dot is literal").isFalse();
  }

  private static void assertOAuthError(ThrowingCallable call, String error, String description) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            OAuthException.class,
            e -> {
              assertThat(e.error()).isEqualTo(error);
              assertThat(e.httpStatus()).isEqualTo(400);
              if (description != null) {
                assertThat(e.description()).isEqualTo(description);
              }
            });
  }
}
