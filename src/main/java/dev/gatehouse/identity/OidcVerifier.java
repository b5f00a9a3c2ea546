package dev.gatehouse.identity;

import com.nimbusds.jose.Algorithm;
import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.GeneralException;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import dev.gatehouse.config.GatehouseConfig.OidcIssuerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies JWTs (ID tokens, CI job tokens, access tokens in JWT form) from any number of configured
 * OIDC issuers, and maps them to {@link Principal}s.
 *
 * <p>Each issuer's metadata comes from OpenID Connect Discovery 1.0 ({@code issuer +
 * /.well-known/openid-configuration}) unless {@code jwks_uri} is configured; its keys come from the
 * JWKS, cached and refreshed when a token names a key id the cache lacks (key rotation), with
 * refreshes rate-limited so a flood of forged key ids cannot hammer the issuer. Nothing is fetched
 * until the first token from that issuer arrives, so start-up does not depend on the IdP.
 *
 * <p>Checks, in this order: well-formed JWS (JWE and unsecured JWTs are refused, RFC 8725 §3.1/2),
 * {@code iss} is a configured issuer, {@code alg} in the issuer's allow-list (asymmetric only: an
 * HMAC key would be the issuer's shared secret, which we never hold), {@code kid} is in the JWKS,
 * signature, {@code exp}/{@code nbf}/{@code iat} with the configured clock skew (RFC 7519 §4.1),
 * {@code aud} contains one of the configured audiences (RFC 7519 §4.1.3), {@code sub} present.
 *
 * <p>Thread-safe.
 */
public final class OidcVerifier {
  private static final Logger log = LoggerFactory.getLogger(OidcVerifier.class);

  static final List<String> DEFAULT_ALGORITHMS = List.of("RS256", "ES256");
  static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);

  /** Longest JWT we parse; real ID tokens are a few KB. */
  static final int MAX_JWT_CHARS = 16 * 1024;

  private static final int HTTP_TIMEOUT_MILLIS = 5_000;
  private static final int JWKS_SIZE_LIMIT = 512 * 1024;

  /** After a failed discovery, wait this long before contacting the issuer again. */
  private static final Duration DISCOVERY_RETRY = Duration.ofSeconds(10);

  private final Clock clock;
  private final Map<String, IssuerState> byIssuerUrl = new LinkedHashMap<>();
  private final Map<String, IssuerState> byName = new LinkedHashMap<>();

  public OidcVerifier(List<OidcIssuerConfig> issuers, Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    for (OidcIssuerConfig c : issuers) {
      IssuerState s = new IssuerState(c);
      if (byName.put(s.name, s) != null) {
        throw new IllegalArgumentException(
            "oidc[" + s.name + "].name: duplicate (expected: unique issuer names)");
      }
      if (byIssuerUrl.put(s.issuer, s) != null) {
        throw new IllegalArgumentException(
            "oidc[" + s.name + "].issuer: " + s.issuer + " configured twice (expected: unique)");
      }
    }
  }

  /** Names of the configured issuers. */
  public Set<String> issuerNames() {
    return byName.keySet();
  }

  /** Verifies {@code jwt}; the exception message is one line, safe to show to the caller. */
  public VerifiedToken verify(String jwt) throws AuthenticationException {
    if (jwt == null || jwt.isBlank()) {
      throw new AuthenticationException("missing token");
    }
    if (jwt.length() > MAX_JWT_CHARS) {
      throw new AuthenticationException(
          "token of " + jwt.length() + " characters (expected: at most " + MAX_JWT_CHARS + ")");
    }
    String[] parts = jwt.strip().split("\\.", -1);
    if (parts.length == 5) {
      throw new AuthenticationException("encrypted tokens (JWE) are not accepted");
    }
    if (parts.length != 3) {
      throw new AuthenticationException(
          "malformed token: " + parts.length + " parts (expected: 3, header.payload.signature)");
    }
    // Look at alg before handing the token to a JWS parser: "none" never parses as a JWS, and we
    // want to say why it was refused (RFC 8725 §3.1).
    Algorithm alg;
    try {
      alg = Header.parseAlgorithm(JSONObjectUtils.parse(new Base64URL(parts[0]).decodeToString()));
    } catch (ParseException | RuntimeException e) {
      throw new AuthenticationException("malformed token header");
    }
    if (alg == null || Algorithm.NONE.equals(alg) || "none".equalsIgnoreCase(alg.getName())) {
      throw new AuthenticationException("algorithm none is not allowed");
    }
    if (!(alg instanceof JWSAlgorithm jwsAlg)) {
      throw new AuthenticationException(
          "algorithm " + printable(alg.getName()) + " is not allowed");
    }
    if (JWSAlgorithm.Family.HMAC_SHA.contains(jwsAlg)) {
      throw new AuthenticationException("algorithm " + jwsAlg.getName() + " is not allowed");
    }
    SignedJWT signed;
    JWTClaimsSet claims;
    try {
      signed = SignedJWT.parse(jwt.strip());
      claims = signed.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new AuthenticationException("malformed token");
    }
    String iss = claims.getIssuer();
    if (iss == null) {
      throw new AuthenticationException("token has no iss claim (expected: a configured issuer)");
    }
    IssuerState issuer = byIssuerUrl.get(iss);
    if (issuer == null) {
      throw new AuthenticationException("unknown issuer " + printable(iss));
    }
    JWSHeader header = signed.getHeader();
    if (!issuer.algorithms.contains(jwsAlg)) {
      throw new AuthenticationException(
          "algorithm "
              + jwsAlg.getName()
              + " is not allowed for issuer "
              + issuer.name
              + " (expected one of "
              + names(issuer.algorithms)
              + ")");
    }
    List<JWK> keys = issuer.keysFor(header);
    boolean verified = false;
    for (JWK key : keys) {
      if (verifies(signed, key)) {
        verified = true;
        break;
      }
    }
    if (!verified) {
      throw new AuthenticationException("invalid signature");
    }
    checkTimes(claims, issuer);
    List<String> aud = claims.getAudience();
    if (aud == null || aud.stream().noneMatch(issuer.audiences::contains)) {
      throw new AuthenticationException(
          "audience mismatch (expected one of " + new TreeSet<>(issuer.audiences) + ")");
    }
    checkAuthorizedParty(claims, aud, issuer);
    String sub = claims.getSubject();
    if (sub == null || sub.isBlank()) {
      throw new AuthenticationException("token has no sub claim");
    }
    return new VerifiedToken(issuer.name, sub, claims.toJSONObject());
  }

  /**
   * OpenID Connect Core 1.0 §3.1.3.7 steps 4 and 5, for tokens issued to several audiences: such a
   * token must name the party it was issued to ({@code azp}), and that party must be us (one of the
   * configured audiences). Otherwise a token another client obtained, with us merely among its
   * audiences, would log in here. A token for one audience (ours, checked above) is not held to its
   * {@code azp}: in an access token that names the client that asked for it, which is rightly
   * another party when the gateway is the resource.
   */
  private static void checkAuthorizedParty(
      JWTClaimsSet claims, List<String> aud, IssuerState issuer) throws AuthenticationException {
    if (aud.size() < 2) {
      return;
    }
    Object azp = claims.getClaim("azp");
    if (azp == null) {
      throw new AuthenticationException(
          "token has several audiences and no azp claim (OpenID Connect Core §3.1.3.7)");
    }
    if (!(azp instanceof String party) || !issuer.audiences.contains(party)) {
      throw new AuthenticationException(
          "token was issued to another party: azp "
              + printable(String.valueOf(azp))
              + " (expected one of "
              + new TreeSet<>(issuer.audiences)
              + ")");
    }
  }

  /**
   * Maps a verified token to a principal: subject from {@code subject_claim} (default {@code sub}),
   * groups from {@code groups_claim} (default {@code groups}; a JSON array or a space- or
   * comma-separated string), kind from the issuer config (default human), and the API role in the
   * {@code role} attribute: admin if any group is in {@code admin_groups}, else auditor if any is
   * in {@code auditor_groups}, else user.
   */
  public Principal toPrincipal(VerifiedToken token) throws AuthenticationException {
    IssuerState issuer = byName.get(token.issuerName());
    if (issuer == null) {
      throw new AuthenticationException("unknown issuer " + token.issuerName());
    }
    String subject = token.stringClaim(issuer.subjectClaim);
    if (subject == null || subject.isBlank()) {
      throw new AuthenticationException(
          "token has no "
              + issuer.subjectClaim
              + " claim (expected: the subject, per subject_claim)");
    }
    Set<String> groups = groups(token.claims().get(issuer.groupsClaim));
    String role = "user";
    if (groups.stream().anyMatch(issuer.adminGroups::contains)) {
      role = "admin";
    } else if (groups.stream().anyMatch(issuer.auditorGroups::contains)) {
      role = "auditor";
    }
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put(TokenService.ROLE_ATTRIBUTE, role);
    attributes.put("issuer", issuer.name);
    String email = token.stringClaim("email");
    if (email != null) {
      attributes.put("email", email);
    }
    Object exp = token.claims().get("exp");
    Instant expiresAt = exp instanceof Number n ? Instant.ofEpochSecond(n.longValue()) : null;
    String jti = token.stringClaim("jti");
    String tokenId =
        "oidc:"
            + issuer.name
            + ":"
            + (jti != null ? jti : token.subject() + "@" + token.stringClaim("iat"));
    return new Principal(subject, groups, issuer.kind, tokenId, expiresAt, Set.of(), attributes);
  }

  private void checkTimes(JWTClaimsSet claims, IssuerState issuer) throws AuthenticationException {
    Instant now = clock.instant();
    Duration skew = issuer.clockSkew;
    if (claims.getExpirationTime() == null) {
      throw new AuthenticationException("token has no exp claim (expected: an expiry)");
    }
    Instant exp = claims.getExpirationTime().toInstant();
    if (!now.isBefore(exp.plus(skew))) {
      throw new AuthenticationException("token expired at " + exp);
    }
    if (claims.getNotBeforeTime() != null) {
      Instant nbf = claims.getNotBeforeTime().toInstant();
      if (now.plus(skew).isBefore(nbf)) {
        throw new AuthenticationException("token not valid before " + nbf);
      }
    }
    if (claims.getIssueTime() != null) {
      Instant iat = claims.getIssueTime().toInstant();
      if (now.plus(skew).isBefore(iat)) {
        throw new AuthenticationException("token issued in the future at " + iat);
      }
    }
  }

  private static boolean verifies(SignedJWT jwt, JWK key) {
    try {
      JWSVerifier verifier;
      if (key instanceof RSAKey rsa) {
        verifier = new RSASSAVerifier(rsa);
      } else if (key instanceof ECKey ec) {
        verifier = new ECDSAVerifier(ec);
      } else if (key instanceof OctetKeyPair okp) {
        verifier = new Ed25519Verifier(okp.toPublicJWK());
      } else {
        return false; // symmetric keys in a JWKS are never used
      }
      return jwt.verify(verifier);
    } catch (JOSEException | RuntimeException e) {
      return false;
    }
  }

  static Set<String> groups(Object claim) {
    Set<String> out = new TreeSet<>();
    if (claim instanceof Collection<?> list) {
      for (Object o : list) {
        if (o != null && !o.toString().isBlank()) {
          out.add(o.toString().strip());
        }
      }
    } else if (claim instanceof String s) {
      for (String g : s.split("[\\s,]+")) {
        if (!g.isBlank()) {
          out.add(g);
        }
      }
    }
    return out;
  }

  private static List<String> names(Set<JWSAlgorithm> algs) {
    Set<String> out = new TreeSet<>();
    for (JWSAlgorithm a : algs) {
      out.add(a.getName());
    }
    return List.copyOf(out);
  }

  /** Claims are attacker-controlled until verified: keep echoed values short and one line. */
  static String printable(String s) {
    String t = s.replaceAll("\\p{Cntrl}", "?");
    return t.length() > 200 ? t.substring(0, 200) + "…" : t;
  }

  /** One configured issuer and its lazily discovered key source. */
  private final class IssuerState {
    final String name;
    final String issuer;
    final Set<String> audiences;
    final Set<JWSAlgorithm> algorithms;
    final Duration clockSkew;
    final String subjectClaim;
    final String groupsClaim;
    final PrincipalKind kind;
    final Set<String> adminGroups;
    final Set<String> auditorGroups;
    private final String configuredJwksUri;

    private JWKSource<SecurityContext> keys;
    private Instant lastDiscoveryFailure;

    IssuerState(OidcIssuerConfig c) {
      if (c.name() == null || c.name().isBlank()) {
        throw new IllegalArgumentException("oidc[].name: blank (expected: a short issuer name)");
      }
      this.name = c.name();
      String prefix = "oidc[" + name + "].";
      if (c.issuer() == null || !secureUrl(c.issuer())) {
        throw new IllegalArgumentException(
            prefix
                + "issuer: "
                + c.issuer()
                + " (expected: the issuer URL, https:// unless on the loopback interface)");
      }
      this.issuer = c.issuer();
      Set<String> aud = new LinkedHashSet<>(c.audiences());
      if (aud.isEmpty() && c.clientId() != null && !c.clientId().isBlank()) {
        aud.add(c.clientId());
      }
      if (aud.isEmpty()) {
        throw new IllegalArgumentException(
            prefix + "audiences: empty (expected: at least one audience, or a client_id)");
      }
      this.audiences = Set.copyOf(aud);
      List<String> algNames = c.algorithms().isEmpty() ? DEFAULT_ALGORITHMS : c.algorithms();
      Set<JWSAlgorithm> algs = new LinkedHashSet<>();
      for (String a : algNames) {
        JWSAlgorithm alg = JWSAlgorithm.parse(a.strip());
        if ("none".equalsIgnoreCase(a.strip())
            || JWSAlgorithm.Family.HMAC_SHA.contains(alg)
            || !(JWSAlgorithm.Family.SIGNATURE.contains(alg))) {
          throw new IllegalArgumentException(
              prefix
                  + "algorithms: "
                  + a
                  + " (expected: asymmetric JWS algorithms such as RS256, PS256, ES256, EdDSA;"
                  + " none and HS* are never accepted)");
        }
        algs.add(alg);
      }
      this.algorithms = Set.copyOf(algs);
      this.clockSkew = c.clockSkew() == null ? DEFAULT_CLOCK_SKEW : c.clockSkew();
      if (clockSkew.isNegative() || clockSkew.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException(
            prefix + "clock_skew: " + clockSkew + " (expected: between 0 and 10 minutes)");
      }
      this.subjectClaim = blankToDefault(c.subjectClaim(), "sub");
      this.groupsClaim = blankToDefault(c.groupsClaim(), "groups");
      this.kind =
          c.kind() == null || c.kind().isBlank()
              ? PrincipalKind.HUMAN
              : PrincipalKind.parse(c.kind());
      this.adminGroups = Set.copyOf(c.adminGroups());
      this.auditorGroups = Set.copyOf(c.auditorGroups());
      this.configuredJwksUri = c.jwksUri() == null || c.jwksUri().isBlank() ? null : c.jwksUri();
      if (configuredJwksUri != null && !secureUrl(configuredJwksUri)) {
        throw new IllegalArgumentException(
            prefix
                + "jwks_uri: "
                + configuredJwksUri
                + " (expected: https:// unless on the loopback interface)");
      }
    }

    /** Candidate keys for the header; throws when the key id is unknown or keys are unavailable. */
    List<JWK> keysFor(JWSHeader header) throws AuthenticationException {
      JWKSource<SecurityContext> source = source();
      List<JWK> found;
      try {
        // On a miss the source re-fetches the JWKS once (rate-limited), which picks up rotated
        // keys.
        found = source.get(new JWKSelector(JWKMatcher.forJWSHeader(header)), null);
      } catch (KeySourceException e) {
        if (e instanceof RateLimitReachedException) {
          found = List.of();
        } else {
          throw new AuthenticationException(
              "issuer " + name + ": cannot fetch signing keys (" + e.getMessage() + ")");
        }
      }
      if (found.isEmpty()) {
        if (header.getKeyID() != null) {
          throw new AuthenticationException("unknown key id " + printable(header.getKeyID()));
        }
        throw new AuthenticationException(
            "no key of issuer " + name + " fits algorithm " + header.getAlgorithm().getName());
      }
      return found;
    }

    private synchronized JWKSource<SecurityContext> source() throws AuthenticationException {
      if (keys != null) {
        return keys;
      }
      Instant now = Instant.now();
      if (lastDiscoveryFailure != null
          && now.isBefore(lastDiscoveryFailure.plus(DISCOVERY_RETRY))) {
        throw new AuthenticationException(
            "issuer " + name + ": discovery failed recently, retrying shortly");
      }
      try {
        URL jwksUrl;
        if (configuredJwksUri != null) {
          jwksUrl = URI.create(configuredJwksUri).toURL();
        } else {
          OIDCProviderMetadata md =
              OIDCProviderMetadata.resolve(
                  new Issuer(issuer), HTTP_TIMEOUT_MILLIS, HTTP_TIMEOUT_MILLIS);
          if (md.getJWKSetURI() == null) {
            throw new GeneralException("no jwks_uri in discovery document");
          }
          if (!secureUrl(md.getJWKSetURI().toString())) {
            throw new GeneralException(
                "jwks_uri " + md.getJWKSetURI() + " is not https (expected: https://)");
          }
          jwksUrl = md.getJWKSetURI().toURL();
        }
        keys =
            JWKSourceBuilder.<SecurityContext>create(
                    jwksUrl,
                    new DefaultResourceRetriever(
                        HTTP_TIMEOUT_MILLIS, HTTP_TIMEOUT_MILLIS, JWKS_SIZE_LIMIT))
                .build();
        log.info("oidc issuer {}: keys from {}", name, jwksUrl);
        return keys;
      } catch (GeneralException | IOException | IllegalArgumentException e) {
        lastDiscoveryFailure = now;
        log.warn("oidc issuer {}: discovery at {} failed: {}", name, issuer, e.getMessage());
        throw new AuthenticationException(
            "issuer " + name + ": discovery failed (" + e.getMessage() + ")");
      }
    }
  }

  /**
   * Keys fetched over plain HTTP could be swapped by anyone on the path, which would let them mint
   * tokens; only loopback (tests, a local IdP in development) may use http.
   */
  static boolean secureUrl(String url) {
    URI u;
    try {
      u = URI.create(url);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (u.getHost() == null || u.getScheme() == null) {
      return false;
    }
    if ("https".equalsIgnoreCase(u.getScheme())) {
      return true;
    }
    String host = u.getHost();
    return "http".equalsIgnoreCase(u.getScheme())
        && (host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]"));
  }

  private static String blankToDefault(String v, String dflt) {
    return v == null || v.isBlank() ? dflt : v;
  }
}
