package dev.gatehouse.identity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import dev.gatehouse.config.GatehouseConfig.IdentityConfig;
import dev.gatehouse.config.GatehouseConfig.UserConfig;
import dev.gatehouse.store.Database;
import dev.gatehouse.store.StoreException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issues, verifies and revokes gateway credentials: short-lived tokens ({@code ght_…}) and API keys
 * for service accounts ({@code ghk_…}). Also accepts an OIDC JWT directly when an {@link
 * OidcVerifier} is configured.
 *
 * <p>Only the SHA-256 of a credential's secret part is stored; lookup is by the (non-secret) id and
 * the hash comparison is constant-time. A plain hash, not a slow password hash, is right here: the
 * secret is 256 random bits, so there is nothing to brute-force.
 *
 * <p>Revocation ends live sessions: {@link #stillValid} consults an in-memory set of revoked ids
 * that is reloaded from the store at most every {@link #REVOCATION_REFRESH} (so a revocation made
 * on another replica takes effect within seconds) and updated at once for local revocations, and
 * {@link #onRevoke} listeners are told about both.
 *
 * <p>Thread-safe.
 */
public final class TokenService implements Authenticator {
  private static final Logger log = LoggerFactory.getLogger(TokenService.class);

  static final String TYPE_TOKEN = "token";
  static final String TYPE_API_KEY = "api_key";

  /** The attribute carrying the API role of a principal. */
  public static final String ROLE_ATTRIBUTE = "role";

  static final Set<String> ROLES = Set.of("admin", "auditor", "user");

  static final Duration DEFAULT_HUMAN_TTL = Duration.ofHours(12);
  static final Duration DEFAULT_MACHINE_TTL = Duration.ofMinutes(15);
  static final Duration DEFAULT_API_KEY_TTL = Duration.ofDays(90);

  /** How old the in-memory revoked set may get before {@link #stillValid} reloads it. */
  static final Duration REVOCATION_REFRESH = Duration.ofSeconds(2);

  /**
   * If the revoked set could not be reloaded for this long (store down), {@link #stillValid} fails
   * closed: we can no longer tell whether another replica revoked the token.
   */
  static final Duration REVOCATION_MAX_STALENESS = Duration.ofSeconds(30);

  /** Longest credential text we look at; anything longer is rejected before parsing. */
  static final int MAX_CREDENTIAL_CHARS = 16 * 1024;

  private static final int MAX_JSON_CHARS = 16_000;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<List<String>> STRING_LIST = new TypeReference<>() {};
  private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};

  /** Compared against when the id is unknown, so both paths do the same hashing work. */
  private static final String DUMMY_HASH = TokenFormat.hash("gatehouse-dummy-secret");

  private final Database db;
  private final IdentityConfig config;
  private final AuditLog audit;
  private final Clock clock;
  private final OidcVerifier oidc;
  private final List<Consumer<String>> revokeListeners = new CopyOnWriteArrayList<>();

  /** Revoked, not yet expired token ids → expiry (epoch ms), for pruning. Only ever grows. */
  private final Map<String, Long> revoked = new ConcurrentHashMap<>();

  /** Held while the revoked set is reloaded (package-private for a test). */
  final ReentrantLock refreshLock = new ReentrantLock();

  private volatile long lastRefreshMillis = Long.MIN_VALUE;

  /**
   * Reloads tried, counted under {@link #refreshLock}: a waiter does not repeat one just failed.
   */
  private volatile long refreshAttempts;

  private volatile boolean revokedLoaded;

  /**
   * A service using the OIDC issuers from {@code config} (if any) for JWTs presented directly.
   * Nothing is fetched from the issuers until the first JWT arrives.
   */
  public TokenService(Database db, IdentityConfig config, AuditLog audit, Clock clock) {
    this(
        db,
        config,
        audit,
        clock,
        config.oidc().isEmpty() ? null : new OidcVerifier(config.oidc(), clock));
  }

  /** A service that accepts OIDC JWTs verified by {@code oidc} (null: gateway credentials only). */
  public TokenService(
      Database db, IdentityConfig config, AuditLog audit, Clock clock, OidcVerifier oidc) {
    this.db = Objects.requireNonNull(db, "db");
    this.config = Objects.requireNonNull(config, "config");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.oidc = oidc;
  }

  /** The OIDC verifier used for JWTs presented directly, if one is configured. */
  public Optional<OidcVerifier> oidc() {
    return Optional.ofNullable(oidc);
  }

  // ---------------------------------------------------------------------------------- directory

  /** The locally configured user (or service account) named {@code subject}. */
  public Optional<UserConfig> user(String subject) {
    for (UserConfig u : config.users()) {
      if (u.subject().equals(subject)) {
        return Optional.of(u);
      }
    }
    return Optional.empty();
  }

  /** All locally configured users. */
  public List<UserConfig> users() {
    return config.users();
  }

  // ------------------------------------------------------------------------------------ issuing

  /**
   * Issues a gateway token for a configured user, with that user's groups and kind.
   *
   * @throws IllegalArgumentException if {@code subject} is not a configured user
   */
  public IssuedToken issueForUser(
      String subject, Duration ttl, Set<String> scope, String issuedBy) {
    UserConfig u =
        user(subject)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "subject: " + subject + " (expected: a user from identity.users)"));
    return issue(u.subject(), Set.copyOf(u.groups()), kindOf(u), ttl, scope, Map.of(), issuedBy);
  }

  /**
   * Issues a gateway token. The returned secret is the only copy; only its hash is stored.
   *
   * @param ttl lifetime; null means the default for {@code kind} from the identity config (12 h for
   *     humans, 15 min for services and agents unless configured)
   * @param scope connection names the token is limited to; empty means no extra limit
   * @param attributes extra attributes for policy conditions; {@code role} (admin, auditor, user)
   *     is honoured for subjects that are not configured users
   * @param issuedBy subject of the admin or component issuing it, for the audit log
   * @throws dev.gatehouse.store.StoreException if the token could not be stored or audited; then no
   *     token exists
   */
  public IssuedToken issue(
      String subject,
      Set<String> groups,
      PrincipalKind kind,
      Duration ttl,
      Set<String> scope,
      Map<String, String> attributes,
      String issuedBy) {
    Objects.requireNonNull(kind, "kind");
    Duration lifetime = ttl == null ? defaultTtl(kind) : ttl;
    return store(TYPE_TOKEN, null, subject, groups, kind, lifetime, scope, attributes, issuedBy);
  }

  /**
   * Issues an API key for a service account. API keys are long-lived (default 90 days), so give
   * them a name that says where they are used; they are listed and revoked like tokens.
   *
   * @param ttl lifetime; null means 90 days
   */
  public IssuedToken issueApiKey(
      String name, String subject, Set<String> groups, Duration ttl, String issuedBy) {
    if (name == null || name.isBlank() || name.length() > 200) {
      throw new IllegalArgumentException(
          "name: " + name + " (expected: 1 to 200 characters naming where the key is used)");
    }
    Duration lifetime = ttl == null ? DEFAULT_API_KEY_TTL : ttl;
    return store(
        TYPE_API_KEY,
        name,
        subject,
        groups,
        PrincipalKind.SERVICE,
        lifetime,
        Set.of(),
        Map.of(),
        issuedBy);
  }

  /** Default lifetime for a kind: from the identity config, else 12 h human, 15 min otherwise. */
  Duration defaultTtl(PrincipalKind kind) {
    Duration configured =
        switch (kind) {
          case HUMAN -> config.humanTokenTtl();
          case SERVICE -> config.serviceTokenTtl();
          case AGENT -> config.agentTokenTtl();
        };
    if (configured != null) {
      return configured;
    }
    return kind == PrincipalKind.HUMAN ? DEFAULT_HUMAN_TTL : DEFAULT_MACHINE_TTL;
  }

  private IssuedToken store(
      String type,
      String name,
      String subject,
      Set<String> groups,
      PrincipalKind kind,
      Duration ttl,
      Set<String> scope,
      Map<String, String> attributes,
      String issuedBy) {
    if (subject == null || subject.isBlank() || subject.length() > 512) {
      throw new IllegalArgumentException(
          "subject: " + subject + " (expected: 1 to 512 characters)");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl: " + ttl + " (expected: > 0)");
    }
    if (issuedBy == null || issuedBy.isBlank()) {
      throw new IllegalArgumentException("issuedBy: blank (expected: the issuing subject)");
    }
    Set<String> g = new TreeSet<>(nonBlank("groups", groups));
    Set<String> s = new TreeSet<>(nonBlank("scope", scope));
    Map<String, String> attrs = new LinkedHashMap<>(attributes);
    for (Map.Entry<String, String> e : attrs.entrySet()) {
      if (e.getKey() == null || e.getKey().isBlank() || e.getValue() == null) {
        throw new IllegalArgumentException(
            "attributes: " + e.getKey() + " (expected: non-blank names with non-null values)");
      }
    }
    String role = attrs.get(ROLE_ATTRIBUTE);
    if (role != null && !ROLES.contains(role)) {
      throw new IllegalArgumentException(
          "attributes.role: " + role + " (expected: admin, auditor or user)");
    }
    String groupsJson = json("groups", List.copyOf(g));
    String scopeJson = json("scope", List.copyOf(s));
    String attrsJson = json("attributes", attrs);

    String id = TokenFormat.newId();
    String secret = TokenFormat.newSecret();
    // The store keeps epoch milliseconds; truncate so the returned expiry equals the stored one.
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    Instant expiresAt = now.plus(ttl).truncatedTo(ChronoUnit.MILLIS);
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("token_id", id);
    event.put("type", type);
    if (name != null) {
      event.put("name", name);
    }
    event.put("subject", subject);
    event.put("kind", kind.wireName());
    event.put("groups", List.copyOf(g));
    event.put("scope", List.copyOf(s));
    event.put("expires_at", expiresAt.toString());

    db.transaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO identity_tokens (id, token_type, name, secret_hash, subject, kind,"
                      + " groups_json, scope_json, attributes_json, created_at, expires_at,"
                      + " issued_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, type);
            if (name == null) {
              ps.setNull(3, Types.VARCHAR);
            } else {
              ps.setString(3, name);
            }
            ps.setString(4, TokenFormat.hash(secret));
            ps.setString(5, subject);
            ps.setString(6, kind.wireName());
            ps.setString(7, groupsJson);
            ps.setString(8, scopeJson);
            ps.setString(9, attrsJson);
            ps.setLong(10, now.toEpochMilli());
            ps.setLong(11, expiresAt.toEpochMilli());
            ps.setString(12, issuedBy);
            ps.executeUpdate();
          }
          // Inside the transaction: if the audit append throws, the insert rolls back and no
          // unaudited credential exists (fail closed).
          appendAudit(new AuditEvent("token.issued", issuedBy, null, null, event));
          return null;
        });
    log.info("issued {} {} for {} (expires {})", type, id, subject, expiresAt);
    return new IssuedToken(id, TokenFormat.format(type, id, secret), expiresAt);
  }

  // ------------------------------------------------------------------------ listing and revoking

  /** Tokens and API keys, newest first; inactive (revoked or expired) ones only if asked. */
  public List<TokenInfo> list(boolean includeInactive) {
    long now = clock.millis();
    return db.transaction(
        c -> {
          String sql =
              "SELECT id, token_type, name, subject, kind, groups_json, scope_json, created_at,"
                  + " expires_at, revoked_at, issued_by FROM identity_tokens"
                  + (includeInactive ? "" : " WHERE revoked_at IS NULL AND expires_at > ?")
                  + " ORDER BY created_at DESC, id";
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (!includeInactive) {
              ps.setLong(1, now);
            }
            List<TokenInfo> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                long revokedAt = rs.getLong("revoked_at");
                boolean wasRevoked = !rs.wasNull();
                out.add(
                    new TokenInfo(
                        rs.getString("id"),
                        rs.getString("token_type"),
                        rs.getString("name"),
                        rs.getString("subject"),
                        Set.copyOf(readList(rs.getString("groups_json"))),
                        PrincipalKind.parse(rs.getString("kind")),
                        Set.copyOf(readList(rs.getString("scope_json"))),
                        Instant.ofEpochMilli(rs.getLong("created_at")),
                        Instant.ofEpochMilli(rs.getLong("expires_at")),
                        wasRevoked ? Instant.ofEpochMilli(revokedAt) : null,
                        rs.getString("issued_by")));
              }
            }
            return out;
          }
        });
  }

  /**
   * Revokes a token or API key. Live sessions using it end within seconds on every replica.
   *
   * @return true if this call revoked it; false if the id is unknown or already revoked
   * @throws dev.gatehouse.store.StoreException if the revocation could not be stored or audited;
   *     then it did not happen and the caller must retry
   */
  public boolean revoke(String id, String by) {
    if (id == null || id.length() != TokenFormat.ID_HEX_CHARS || !TokenFormat.isLowerHex(id)) {
      return false;
    }
    if (by == null || by.isBlank()) {
      throw new IllegalArgumentException("by: blank (expected: the revoking subject)");
    }
    long now = clock.millis();
    Long expiresAt =
        db.transaction(
            c -> {
              Long exp;
              String subject;
              String type;
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT expires_at, subject, token_type FROM identity_tokens"
                          + " WHERE id = ? AND revoked_at IS NULL")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                  if (!rs.next()) {
                    return null;
                  }
                  exp = rs.getLong(1);
                  subject = rs.getString(2);
                  type = rs.getString(3);
                }
              }
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "UPDATE identity_tokens SET revoked_at = ?, revoked_by = ?"
                          + " WHERE id = ? AND revoked_at IS NULL")) {
                ps.setLong(1, now);
                ps.setString(2, by);
                ps.setString(3, id);
                if (ps.executeUpdate() != 1) {
                  return null; // revoked concurrently by someone else
                }
              }
              appendAudit(
                  new AuditEvent(
                      "token.revoked",
                      by,
                      null,
                      null,
                      Map.of("token_id", id, "type", type, "subject", subject)));
              return exp;
            });
    if (expiresAt == null) {
      return false;
    }
    revoked.put(id, expiresAt);
    log.info("revoked token {} (by {})", id, by);
    notifyRevoked(id);
    return true;
  }

  /**
   * Registers a listener told the id of every revoked token: at once for revocations on this
   * replica, within {@link #REVOCATION_REFRESH} of the next {@link #stillValid} call for those made
   * on other replicas. Listeners must be quick and must not throw.
   */
  public void onRevoke(Consumer<String> tokenIdListener) {
    revokeListeners.add(Objects.requireNonNull(tokenIdListener, "tokenIdListener"));
  }

  private void notifyRevoked(String id) {
    for (Consumer<String> l : revokeListeners) {
      try {
        l.accept(id);
      } catch (RuntimeException e) {
        log.warn("revocation listener failed for token {}", id, e);
      }
    }
  }

  // ------------------------------------------------------------------------------ authenticating

  @Override
  public Principal authenticate(String credential) throws AuthenticationException {
    if (credential == null || credential.isBlank()) {
      throw failed("missing credential", "none", null);
    }
    String text = credential.strip();
    if (text.length() > MAX_CREDENTIAL_CHARS) {
      throw failed(
          "credential of "
              + text.length()
              + " characters (expected: at most "
              + MAX_CREDENTIAL_CHARS
              + ")",
          "unknown",
          null);
    }
    if (TokenFormat.looksLikeOurs(text)) {
      return authenticateGatewayCredential(text);
    }
    if (oidc != null && looksLikeJwt(text)) {
      try {
        return oidc.toPrincipal(oidc.verify(text));
      } catch (AuthenticationException e) {
        throw failed(e.getMessage(), "jwt", null);
      }
    }
    throw failed(
        "unrecognised credential (expected: a gateway token, an API key"
            + (oidc != null ? " or an OIDC JWT)" : ")"),
        "unknown",
        null);
  }

  private Principal authenticateGatewayCredential(String text) throws AuthenticationException {
    TokenFormat.Parsed p = TokenFormat.parse(text);
    String kindLabel = text.startsWith(TokenFormat.API_KEY_PREFIX) ? "api_key" : "token";
    if (p == null) {
      throw failed("malformed " + kindLabel.replace('_', ' '), kindLabel, null);
    }
    Row row = load(p.id);
    String presented = TokenFormat.hash(p.secret);
    // Same work whether or not the id exists; the comparison itself is constant-time.
    boolean match = TokenFormat.hashesEqual(presented, row == null ? DUMMY_HASH : row.secretHash);
    if (row == null || !match || !row.type.equals(p.type)) {
      // One answer for unknown id and wrong secret: the caller learns nothing about which ids
      // exist. The audit record is more specific for investigators.
      String reason =
          row == null
              ? "unknown token id"
              : !match ? "secret mismatch" : "prefix does not match the credential type";
      throw failed(
          reason, kindLabel, row == null ? null : p.id, "invalid " + kindLabel.replace('_', ' '));
    }
    Instant now = clock.instant();
    if (row.revokedAt != null) {
      throw failed("token " + p.id + " was revoked at " + row.revokedAt, kindLabel, p.id);
    }
    if (!now.isBefore(row.expiresAt)) {
      throw failed("token " + p.id + " expired at " + row.expiresAt, kindLabel, p.id);
    }
    Map<String, String> attrs = new HashMap<>(row.attributes);
    attrs.put(ROLE_ATTRIBUTE, roleFor(row.subject, row.attributes.get(ROLE_ATTRIBUTE)));
    return new Principal(
        row.subject, row.groups, row.kind, row.id, row.expiresAt, row.scope, attrs);
  }

  /**
   * The API role: the directory is authoritative for configured users (so a demotion in the config
   * applies to their existing tokens); other subjects keep the role given at issue, else user.
   */
  String roleFor(String subject, String issuedRole) {
    Optional<UserConfig> u = user(subject);
    if (u.isPresent()) {
      String r = u.get().role();
      return r != null && ROLES.contains(r) ? r : "user";
    }
    return issuedRole != null && ROLES.contains(issuedRole) ? issuedRole : "user";
  }

  static boolean looksLikeJwt(String text) {
    int first = text.indexOf('.');
    int second = first < 0 ? -1 : text.indexOf('.', first + 1);
    return first > 0 && second > first && text.indexOf('.', second + 1) < 0;
  }

  /** Records the failure (reason only, never the credential) and builds the exception. */
  private AuthenticationException failed(String reason, String credentialType, String tokenId) {
    return failed(reason, credentialType, tokenId, reason);
  }

  /**
   * Records {@code reason} in the audit log and returns an exception carrying {@code shown}, the
   * (possibly vaguer) message the caller sees.
   */
  private AuthenticationException failed(
      String reason, String credentialType, String tokenId, String shown) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("reason", reason);
    data.put("credential_type", credentialType);
    if (tokenId != null) {
      data.put("token_id", tokenId);
    }
    AuthenticationException e = new AuthenticationException(shown);
    try {
      audit.append(new AuditEvent("auth.failed", "anonymous", null, null, data));
    } catch (RuntimeException auditFailure) {
      // Authentication is failing anyway; keep the audit problem visible.
      log.error("could not audit failed authentication ({})", reason, auditFailure);
      e.addSuppressed(auditFailure);
    }
    return e;
  }

  // ---------------------------------------------------------------------------- live validity

  @Override
  public boolean stillValid(Principal principal, Instant now) {
    if (principal.expired(now)) {
      return false;
    }
    long nowMillis = clock.millis();
    if (nowMillis - lastRefreshMillis >= REVOCATION_REFRESH.toMillis()
        || lastRefreshMillis == Long.MIN_VALUE) {
      // Too stale to answer without a reload (never loaded, or idle for longer than the limit):
      // wait for the reload under way rather than fail closed. Otherwise, after 30 s without a
      // session check, a burst of new connections ended every session but the reloading one with
      // "token expired or was revoked".
      refreshRevoked(nowMillis, tooStale(nowMillis));
    }
    if (tooStale(nowMillis)) {
      return false; // cannot tell whether it was revoked elsewhere: fail closed
    }
    return principal.tokenId() == null || !revoked.containsKey(principal.tokenId());
  }

  private boolean tooStale(long nowMillis) {
    return lastRefreshMillis == Long.MIN_VALUE
        || nowMillis - lastRefreshMillis > REVOCATION_MAX_STALENESS.toMillis();
  }

  /**
   * Reloads revoked ids. Only one caller does the query; others carry on with the current set
   * rather than queue behind it, which keeps {@link #stillValid} cheap under load, unless the set
   * is too stale to use ({@code wait}): then they wait for the query under way.
   */
  private void refreshRevoked(long nowMillis, boolean wait) {
    long attemptsBefore = refreshAttempts;
    if (wait) {
      refreshLock.lock();
    } else if (!refreshLock.tryLock()) {
      return;
    }
    List<String> discovered = new ArrayList<>();
    try {
      if (nowMillis - lastRefreshMillis < REVOCATION_REFRESH.toMillis()
          && lastRefreshMillis != Long.MIN_VALUE) {
        return; // someone else refreshed while we waited for the lock
      }
      if (refreshAttempts != attemptsBefore) {
        return; // someone else tried (and failed: the store is down) while we waited
      }
      Map<String, Long> loaded =
          db.transaction(
              c -> {
                Map<String, Long> m = new HashMap<>();
                try (PreparedStatement ps =
                    c.prepareStatement(
                        "SELECT id, expires_at FROM identity_tokens"
                            + " WHERE revoked_at IS NOT NULL AND expires_at > ?")) {
                  ps.setLong(1, nowMillis);
                  try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                      m.put(rs.getString(1), rs.getLong(2));
                    }
                  }
                }
                return m;
              });
      for (Map.Entry<String, Long> e : loaded.entrySet()) {
        if (revoked.putIfAbsent(e.getKey(), e.getValue()) == null && revokedLoaded) {
          discovered.add(e.getKey());
        }
      }
      // Revocation is never undone, so entries only leave the set once the token has expired.
      revoked.values().removeIf(exp -> exp <= nowMillis);
      revokedLoaded = true;
      lastRefreshMillis = nowMillis;
    } catch (StoreException e) {
      log.warn("could not reload revoked tokens: {}", e.getMessage());
    } finally {
      refreshAttempts++;
      refreshLock.unlock();
    }
    for (String id : discovered) {
      log.info("token {} was revoked on another replica", id);
      notifyRevoked(id);
    }
  }

  // ---------------------------------------------------------------------------------- helpers

  private record Row(
      String id,
      String type,
      String secretHash,
      String subject,
      PrincipalKind kind,
      Set<String> groups,
      Set<String> scope,
      Map<String, String> attributes,
      Instant expiresAt,
      Instant revokedAt) {
    @Override
    public String toString() {
      return "Row[" + id + " " + type + " " + subject + "]";
    }
  }

  private Row load(String id) {
    return db.transaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT id, token_type, secret_hash, subject, kind, groups_json, scope_json,"
                      + " attributes_json, expires_at, revoked_at FROM identity_tokens"
                      + " WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return null;
              }
              long revokedAt = rs.getLong("revoked_at");
              boolean wasRevoked = !rs.wasNull();
              return new Row(
                  rs.getString("id"),
                  rs.getString("token_type"),
                  rs.getString("secret_hash"),
                  rs.getString("subject"),
                  PrincipalKind.parse(rs.getString("kind")),
                  Set.copyOf(readList(rs.getString("groups_json"))),
                  Set.copyOf(readList(rs.getString("scope_json"))),
                  readMap(rs.getString("attributes_json")),
                  Instant.ofEpochMilli(rs.getLong("expires_at")),
                  wasRevoked ? Instant.ofEpochMilli(revokedAt) : null);
            }
          }
        });
  }

  private void appendAudit(AuditEvent event) {
    try {
      audit.append(event);
    } catch (RuntimeException e) {
      throw new StoreException(
          "audit: could not record " + event.type() + ": " + e.getMessage(), e);
    }
  }

  static PrincipalKind kindOf(UserConfig u) {
    return u.kind() == null || u.kind().isBlank()
        ? PrincipalKind.HUMAN
        : PrincipalKind.parse(u.kind());
  }

  private static Set<String> nonBlank(String what, Set<String> values) {
    if (values == null) {
      return Set.of();
    }
    for (String v : values) {
      if (v == null || v.isBlank()) {
        throw new IllegalArgumentException(what + ": " + values + " (expected: non-blank names)");
      }
    }
    return values;
  }

  private static String json(String what, Object value) {
    String s;
    try {
      s = JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(what + ": not serialisable", e);
    }
    if (s.length() > MAX_JSON_CHARS) {
      throw new IllegalArgumentException(
          what
              + ": "
              + s.length()
              + " characters as JSON (expected: at most "
              + MAX_JSON_CHARS
              + ")");
    }
    return s;
  }

  private static List<String> readList(String json) throws SQLException {
    try {
      return JSON.readValue(json, STRING_LIST);
    } catch (JsonProcessingException e) {
      throw new SQLException("corrupt JSON list in identity_tokens", e);
    }
  }

  private static Map<String, String> readMap(String json) throws SQLException {
    try {
      return JSON.readValue(json, STRING_MAP);
    } catch (JsonProcessingException e) {
      throw new SQLException("corrupt JSON map in identity_tokens", e);
    }
  }
}
