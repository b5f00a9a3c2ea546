package dev.gatehouse.identity;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import dev.gatehouse.config.GatehouseConfig.TokenExchangeConfig;
import dev.gatehouse.store.StoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OAuth 2.0 Token Exchange (RFC 8693): trades a token from a configured OIDC issuer (typically a CI
 * job's ID token, such as GitHub Actions' or GitLab's) for a short-lived gateway token, so CI jobs
 * need no stored gateway secret.
 *
 * <p>The first {@code identity.token_exchange} mapping whose {@code issuer} is the verified token's
 * issuer and whose {@code match} globs all match the token's claims decides the gateway identity:
 * subject (a template with {@code {claim}} placeholders), groups, kind, lifetime and the scope the
 * client may narrow. The matched claims become principal attributes (for CEL conditions such as
 * {@code principal.attributes.ref == "refs/heads/main"}).
 *
 * <p>What it does not do: it does not check the subject token for replay (CI tokens are short-lived
 * and the issued token is too), and it does not support {@code actor_token} delegation.
 *
 * <p>Errors: RFC 8693 §2.2.2 names {@code invalid_request} for an unacceptable subject token; like
 * most deployed token services we answer {@code invalid_grant} for tokens that fail verification or
 * match no mapping, because the request itself is well-formed and clients treat invalid_grant as
 * "this credential will not work".
 */
public final class TokenExchange {
  private static final Logger log = LoggerFactory.getLogger(TokenExchange.class);

  public static final String GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange";
  public static final String TOKEN_TYPE_JWT = "urn:ietf:params:oauth:token-type:jwt";
  public static final String TOKEN_TYPE_ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token";
  public static final String TOKEN_TYPE_ACCESS_TOKEN =
      "urn:ietf:params:oauth:token-type:access_token";

  static final Set<String> ACCEPTED_TOKEN_TYPES =
      Set.of(TOKEN_TYPE_JWT, TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_ACCESS_TOKEN);
  static final Duration DEFAULT_TTL = Duration.ofMinutes(15);

  /** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
  private static final Pattern SCOPE_TOKEN = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]+");

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]+)}");

  private final TokenService tokens;
  private final OidcVerifier verifier;
  private final List<Mapping> mappings;
  private final AuditLog audit;

  /**
   * @throws IllegalArgumentException if a mapping names an issuer the verifier does not know, or
   *     has an invalid kind, lifetime or subject template
   */
  public TokenExchange(
      TokenService tokens,
      OidcVerifier verifier,
      List<TokenExchangeConfig> mappings,
      AuditLog audit) {
    this.tokens = Objects.requireNonNull(tokens, "tokens");
    this.verifier = Objects.requireNonNull(verifier, "verifier");
    this.audit = Objects.requireNonNull(audit, "audit");
    List<Mapping> ms = new ArrayList<>();
    for (TokenExchangeConfig c : mappings) {
      ms.add(new Mapping(c, verifier.issuerNames()));
    }
    this.mappings = List.copyOf(ms);
  }

  /**
   * Exchanges {@code subjectToken} for a gateway token.
   *
   * @param subjectTokenType one of the {@code TOKEN_TYPE_*} constants; all are verified as JWTs
   * @param requestedScope space-separated connection names, or null for the mapping's scope; may
   *     only narrow it
   * @throws OAuthException with the RFC 6749/8693 error code to return to the client
   * @throws StoreException if the token could not be stored or audited (an HTTP 500)
   */
  public ExchangeResult exchange(
      String subjectToken, String subjectTokenType, String requestedScope) throws OAuthException {
    if (subjectToken == null || subjectToken.isBlank()) {
      throw new OAuthException(OAuthException.INVALID_REQUEST, "subject_token is missing");
    }
    if (subjectTokenType == null || subjectTokenType.isBlank()) {
      throw new OAuthException(OAuthException.INVALID_REQUEST, "subject_token_type is missing");
    }
    if (!ACCEPTED_TOKEN_TYPES.contains(subjectTokenType)) {
      throw new OAuthException(
          OAuthException.UNSUPPORTED_TOKEN_TYPE,
          "subject_token_type "
              + OidcVerifier.printable(subjectTokenType)
              + " is not supported (expected one of "
              + new TreeSet<>(ACCEPTED_TOKEN_TYPES)
              + ")");
    }
    Set<String> requested = parseScope(requestedScope);

    VerifiedToken verified;
    try {
      verified = verifier.verify(subjectToken);
    } catch (AuthenticationException e) {
      throw new OAuthException(
          OAuthException.INVALID_GRANT, "subject_token rejected: " + e.getMessage());
    }
    Mapping mapping = null;
    for (Mapping m : mappings) {
      if (m.matches(verified)) {
        mapping = m;
        break;
      }
    }
    if (mapping == null) {
      throw new OAuthException(
          OAuthException.INVALID_GRANT,
          "no token exchange mapping matches this token from issuer " + verified.issuerName());
    }
    String subject = mapping.renderSubject(verified);
    if (mapping.subjectFromClaims && tokens.user(subject).isPresent()) {
      // A claim-derived name must not collide with a local user and inherit that user's API role.
      throw new OAuthException(
          OAuthException.INVALID_GRANT,
          "mapping "
              + mapping.name
              + " renders subject "
              + subject
              + ", which is a local user (expected: a name no identity.users entry has)");
    }
    Set<String> scope = mapping.narrow(requested);

    Map<String, String> attributes = new LinkedHashMap<>();
    for (String claim : mapping.match.keySet()) {
      if (!TokenService.ROLE_ATTRIBUTE.equals(claim)) {
        attributes.put(claim, verified.stringClaim(claim));
      }
    }
    attributes.put("exchange", mapping.name);
    attributes.put("issuer", verified.issuerName());
    attributes.put(TokenService.ROLE_ATTRIBUTE, "user");

    IssuedToken issued;
    try {
      issued =
          tokens.issue(
              subject,
              mapping.groups,
              mapping.kind,
              mapping.ttl,
              scope,
              attributes,
              "token-exchange/" + mapping.name);
    } catch (IllegalArgumentException e) {
      throw new OAuthException(
          OAuthException.INVALID_GRANT, "mapping " + mapping.name + ": " + e.getMessage());
    }

    Map<String, Object> data = new LinkedHashMap<>();
    data.put("mapping", mapping.name);
    data.put("issuer", verified.issuerName());
    data.put("source_subject", verified.subject());
    data.put("subject", subject);
    data.put("token_id", issued.id());
    data.put("scope", List.copyOf(new TreeSet<>(scope)));
    data.put("claims", Map.copyOf(attributes));
    data.put("expires_at", issued.expiresAt().toString());
    try {
      audit.append(new AuditEvent("token.exchanged", subject, null, null, data));
    } catch (RuntimeException e) {
      // Fail closed. The secret was never handed out, so the token is unusable; revoke it anyway
      // so listings are truthful (best effort: the audit log is what just failed).
      try {
        tokens.revoke(issued.id(), "token-exchange/" + mapping.name);
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new StoreException("audit: could not record token.exchanged: " + e.getMessage(), e);
    }
    log.info(
        "exchanged a {} token ({}) for gateway token {} as {}",
        verified.issuerName(),
        mapping.name,
        issued.id(),
        subject);
    return new ExchangeResult(
        issued.secret(),
        TOKEN_TYPE_ACCESS_TOKEN,
        "Bearer",
        mapping.ttl.toSeconds(),
        scope.isEmpty() ? null : String.join(" ", new TreeSet<>(scope)));
  }

  private static Set<String> parseScope(String requestedScope) throws OAuthException {
    Set<String> out = new LinkedHashSet<>();
    if (requestedScope == null || requestedScope.isBlank()) {
      return out;
    }
    for (String s : requestedScope.strip().split(" +")) {
      if (!SCOPE_TOKEN.matcher(s).matches()) {
        throw new OAuthException(
            OAuthException.INVALID_SCOPE,
            "scope " + OidcVerifier.printable(s) + " is malformed (RFC 6749 §3.3)");
      }
      out.add(s);
    }
    return out;
  }

  /** {@code *} matches any run of characters, including none and including {@code /}. */
  static Pattern glob(String glob) {
    StringBuilder re = new StringBuilder();
    for (String part : glob.split("\\*", -1)) {
      if (!re.isEmpty()) {
        re.append(".*");
      }
      re.append(Pattern.quote(part));
    }
    return Pattern.compile(re.toString(), Pattern.DOTALL);
  }

  /** One validated {@code token_exchange} entry. */
  private static final class Mapping {
    final String name;
    final String issuer;
    final Map<String, String> match;
    final Map<String, Pattern> patterns = new LinkedHashMap<>();
    final String subjectTemplate;
    final boolean subjectFromClaims;
    final Set<String> groups;
    final PrincipalKind kind;
    final Duration ttl;
    final Set<String> scope;

    Mapping(TokenExchangeConfig c, Set<String> knownIssuers) {
      this.name = c.name() == null || c.name().isBlank() ? String.valueOf(c.issuer()) : c.name();
      String prefix = "token_exchange[" + name + "].";
      if (!knownIssuers.contains(c.issuer())) {
        throw new IllegalArgumentException(
            prefix
                + "issuer: "
                + c.issuer()
                + " (expected one of oidc names "
                + knownIssuers
                + ")");
      }
      this.issuer = c.issuer();
      this.match = c.match();
      for (Map.Entry<String, String> e : match.entrySet()) {
        patterns.put(e.getKey(), glob(e.getValue()));
      }
      if (c.subject() == null || c.subject().isBlank()) {
        throw new IllegalArgumentException(
            prefix + "subject: blank (expected: a template such as repo:{repository})");
      }
      this.subjectTemplate = c.subject();
      this.subjectFromClaims = PLACEHOLDER.matcher(subjectTemplate).find();
      this.groups = Set.copyOf(c.groups());
      this.kind =
          c.kind() == null || c.kind().isBlank()
              ? PrincipalKind.SERVICE
              : PrincipalKind.parse(c.kind());
      this.ttl = c.ttl() == null ? DEFAULT_TTL : c.ttl();
      if (ttl.isNegative() || ttl.isZero()) {
        throw new IllegalArgumentException(prefix + "ttl: " + ttl + " (expected: > 0)");
      }
      this.scope = Set.copyOf(c.scope());
    }

    boolean matches(VerifiedToken t) {
      if (!issuer.equals(t.issuerName())) {
        return false;
      }
      for (Map.Entry<String, Pattern> e : patterns.entrySet()) {
        // Only scalar claims match; a missing, array or object claim never does.
        String value = t.stringClaim(e.getKey());
        if (value == null || !e.getValue().matcher(value).matches()) {
          return false;
        }
      }
      return true;
    }

    String renderSubject(VerifiedToken t) throws OAuthException {
      Matcher m = PLACEHOLDER.matcher(subjectTemplate);
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        String value = t.stringClaim(m.group(1));
        if (value == null || value.isBlank()) {
          throw new OAuthException(
              OAuthException.INVALID_GRANT,
              "mapping " + name + ": the token has no claim " + m.group(1) + " for the subject");
        }
        m.appendReplacement(out, Matcher.quoteReplacement(value));
      }
      m.appendTail(out);
      return out.toString();
    }

    /** The granted scope: the mapping's, narrowed to the request; widening is invalid_scope. */
    Set<String> narrow(Set<String> requested) throws OAuthException {
      if (requested.isEmpty()) {
        return scope;
      }
      if (!scope.isEmpty()) {
        for (String s : requested) {
          if (!scope.contains(s)) {
            throw new OAuthException(
                OAuthException.INVALID_SCOPE,
                "scope "
                    + s
                    + " is not allowed by mapping "
                    + name
                    + " (expected a subset of "
                    + new TreeSet<>(scope)
                    + ")");
          }
        }
      }
      return requested;
    }
  }
}
