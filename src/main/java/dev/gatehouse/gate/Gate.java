package dev.gatehouse.gate;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import dev.gatehouse.audit.SessionRecorder;
import dev.gatehouse.config.GatehouseConfig.AuthConfig;
import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.credential.CredentialVault;
import dev.gatehouse.identity.AuthenticationException;
import dev.gatehouse.identity.Authenticator;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.PolicyEngine;
import dev.gatehouse.policy.PolicyRequest;
import dev.gatehouse.policy.Target;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one authorization routine every protocol goes through: authenticate, select the target,
 * decide, hold for review, record, then (and only then) hand out an {@link AuthorizedAction}.
 *
 * <p>Protocols never talk to the policy, the audit log or the credential vault directly; they only
 * word what this class decides in their own wire format. So security steps cannot drift apart
 * between protocols. Every failure inside a step is a denial (fail closed).
 *
 * <pre>
 *   protocol ──authenticate(secret, attempt)─▶ Gate ──▶ AuthThrottle ──▶ Authenticator → Principal
 *   protocol ──open(principal, conn)─▶ Gate ──▶ policy(CONNECT), recorder, audit → GateSession
 *   protocol ──authorize(action)─────▶ GateSession ──▶ policy → review? → record → AuthorizedAction
 *   protocol ──forward to target, stream results through masking──▶ completed(outcome)
 * </pre>
 */
public final class Gate implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Gate.class);

  private final Authenticator authenticator;
  private final Function<String, ConnectionConfig> connections;
  private final Supplier<PolicyEngine> policy;
  private final AuditLog audit;
  private final SessionRecorder recorder;
  private final CredentialVault vault;
  private final ReviewGate reviews;
  private final GrantSource grants;
  private final Redactor redactor;
  private final Clock clock;
  private final AuthThrottle throttle;
  private final Set<GateSession> live = ConcurrentHashMap.newKeySet();
  private final SessionLimits limits = new SessionLimits();
  private final ScheduledExecutorService sweeper;

  private Gate(Builder b) {
    this.authenticator = Objects.requireNonNull(b.authenticator, "authenticator");
    this.connections = Objects.requireNonNull(b.connections, "connections");
    this.policy = Objects.requireNonNull(b.policy, "policy");
    this.audit = Objects.requireNonNull(b.audit, "audit");
    this.recorder = Objects.requireNonNull(b.recorder, "recorder");
    this.vault = Objects.requireNonNull(b.vault, "vault");
    this.reviews = b.reviews == null ? ReviewGate.NONE : b.reviews;
    this.grants = b.grants == null ? GrantSource.NONE : b.grants;
    this.redactor = b.redactor == null ? Redactor.NONE : b.redactor;
    this.clock = b.clock == null ? Clock.systemUTC() : b.clock;
    this.throttle =
        new AuthThrottle(b.authLimits == null ? AuthConfig.DEFAULT : b.authLimits, this.clock);
    this.sweeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "gate-session-sweeper");
              t.setDaemon(true);
              return t;
            });
    // Revocation and expiry must end live sessions, not just new ones: check every second.
    sweeper.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A credential check: returns what the credential proves, or throws when it proves nothing. */
  @FunctionalInterface
  public interface CredentialCheck<T> {
    T check() throws AuthenticationException;
  }

  /**
   * Verifies a credential presented to a listener. Refused unchecked (with {@link
   * GateException#retryAfter()} set) while {@code attempt}'s address is throttled, or while it has
   * as many checks in flight as it has failures left. A failure is counted against the address and
   * the claimed identity; while the identity is throttled a failure is refused as throttled, but a
   * valid credential still gets in (the identity is the client's claim: anyone could otherwise lock
   * its owner out). A success erases no failure. When the attempt claims an identity, the
   * credential must be that identity's: a mismatch is a failure too.
   */
  public Principal authenticate(String credential, AuthAttempt attempt) throws GateException {
    return authenticate(
        attempt,
        () -> {
          Principal p = verify(credential);
          if (attempt.identity() != null && !attempt.identity().equals(p.subject())) {
            throw new AuthenticationException(
                "user \""
                    + attempt.identity()
                    + "\" does not match the identity of the presented token");
          }
          return p;
        });
  }

  /**
   * Runs a check of a credential the gate's authenticator does not handle (an OIDC ID token at the
   * API's login) under the same throttle as {@link #authenticate(String, AuthAttempt)}.
   */
  public <T> T authenticate(AuthAttempt attempt, CredentialCheck<T> check) throws GateException {
    refuse(throttle.begin(attempt));
    boolean ended = false;
    try {
      return run(check);
    } catch (GateException e) {
      if (e.reason() == GateException.Reason.AUTHENTICATION) {
        // Looked at before counting, so the failure that starts a block is worded like any
        // failure, as for an address.
        AuthThrottle.Refusal identity = throttle.identityBlock(attempt);
        ended = true;
        failed(attempt);
        refuse(identity);
      }
      throw e;
    } finally {
      if (!ended) {
        throttle.finished(attempt);
      }
    }
  }

  /**
   * Refuses {@code attempt} if its address is being throttled; counts nothing, and ignores the
   * claimed identity. For public-key authentication: a key cannot be guessed, so only the brake on
   * an address applies, and an identity throttled by strangers' bad passwords still logs in with
   * its key. An SSH client offers each public key it holds in turn, and a public key is no secret,
   * so a key that is not registered is not counted either.
   */
  public void admit(AuthAttempt attempt) throws GateException {
    refuse(throttle.addressBlock(attempt));
  }

  private static void refuse(AuthThrottle.Refusal r) throws GateException {
    if (r != null) {
      throw GateException.throttled(r.message(), r.retryAfter());
    }
  }

  /** Counts a failed attempt and audits each throttling period it starts (once per period). */
  private void failed(AuthAttempt attempt) {
    for (AuthThrottle.Started s : throttle.failed(attempt)) {
      Map<String, Object> data = new LinkedHashMap<>();
      data.put(s.scope() == AuthThrottle.Scope.ADDRESS ? "address" : "identity", s.key());
      data.put("protocol", attempt.protocol());
      data.put("failures", s.failures());
      data.put("period_seconds", s.period().toSeconds());
      data.put("until", s.until().toString());
      log.warn(
          "authentication throttled for {} {} ({} failures; {} s)",
          s.scope().name().toLowerCase(java.util.Locale.ROOT),
          s.key(),
          s.failures(),
          s.period().toSeconds());
      try {
        audit.append(new AuditEvent("auth.throttled", "anonymous", null, null, data));
      } catch (RuntimeException e) {
        // The attempt is refused anyway; keep the audit problem visible.
        log.error("could not audit the start of authentication throttling", e);
      }
    }
  }

  /** Addresses and identities the authentication throttle remembers now, for metrics. */
  public int authThrottleTracked() {
    return throttle.tracked();
  }

  private Principal verify(String credential) throws AuthenticationException {
    if (credential == null || credential.isEmpty()) {
      throw new AuthenticationException("no credential presented");
    }
    return authenticator.authenticate(credential);
  }

  /** A check's failure as the gate words it; an internal error fails closed as unavailable. */
  private static <T> T run(CredentialCheck<T> check) throws GateException {
    try {
      return check.check();
    } catch (AuthenticationException e) {
      throw new GateException(GateException.Reason.AUTHENTICATION, e.getMessage());
    } catch (RuntimeException e) {
      log.error("authentication failed with an internal error", e);
      throw new GateException(
          GateException.Reason.UNAVAILABLE, "authentication is unavailable; try again later");
    }
  }

  /**
   * Opens a session on a connection for an authenticated principal: checks the connection exists
   * and is of the expected type, the token's scope, and the policy's CONNECT decision; then records
   * the session start.
   *
   * @param protocol the protocol that asks ({@code postgres}, {@code ssh}, ...); must match the
   *     connection's type unless {@code anyType}
   */
  public GateSession open(
      Principal principal, String connectionName, String protocol, String clientAddress)
      throws GateException {
    ConnectionConfig conn = connectionName == null ? null : connections.apply(connectionName);
    if (conn == null || !conn.type().equals(protocol)) {
      throw new GateException(
          GateException.Reason.UNKNOWN_CONNECTION,
          "connection \"" + connectionName + "\" does not exist");
    }
    if (!principal.scopeAllows(conn.name())) {
      throw new GateException(
          GateException.Reason.FORBIDDEN,
          "the token of \""
              + principal.subject()
              + "\" is not scoped to connection \""
              + conn.name()
              + "\"");
    }
    Target target = new Target(conn.name(), conn.type(), conn.labels());
    // Read before deciding: a policy swapped in meanwhile makes the session confirm its terms
    // again.
    long generation = policyGeneration();
    Decision decision = decide(principal, target, Action.connect());
    if (decision.effect() != Effect.ALLOW) {
      String id = "deny-" + UUID.randomUUID();
      appendAudit(
          new AuditEvent(
              "session.denied",
              principal.subject(),
              id,
              conn.name(),
              Map.of("protocol", protocol, "rule", decision.rule(), "reason", decision.reason())));
      throw new GateException(
          GateException.Reason.FORBIDDEN,
          "\""
              + principal.subject()
              + "\" may not connect to \""
              + conn.name()
              + "\": "
              + decision.reason()
              + " (rule "
              + decision.rule()
              + ")",
          decision);
    }
    String role = decision.obligations().upstreamRole();
    if (role != null && !conn.roles().containsKey(role)) {
      // A rule naming a role this connection lacks (a connection glob matching more than meant):
      // refused, never the connection's own login instead, which is usually the stronger one.
      String reason = GateSession.undefinedRole(role, conn.name());
      appendAudit(
          new AuditEvent(
              "session.denied",
              principal.subject(),
              "deny-" + UUID.randomUUID(),
              conn.name(),
              Map.of("protocol", protocol, "rule", decision.rule(), "reason", reason)));
      throw new GateException(GateException.Reason.FORBIDDEN, reason);
    }
    try {
      limits.acquire(conn, principal.subject());
    } catch (GateException e) {
      appendAudit(
          new AuditEvent(
              "session.denied",
              principal.subject(),
              "deny-" + UUID.randomUUID(),
              conn.name(),
              Map.of("protocol", protocol, "rule", "session-limit", "reason", e.getMessage())));
      throw e;
    }
    String sessionId = UUID.randomUUID().toString();
    try {
      recorder.sessionStarted(
          sessionId, principal.subject(), conn.name(), protocol, clientAddress, "");
      Map<String, Object> data = new HashMap<>();
      data.put("protocol", protocol);
      data.put("client", String.valueOf(clientAddress));
      data.put("kind", principal.kind().wireName());
      if (principal.tokenId() != null) {
        data.put("token_id", principal.tokenId()); // a configured SSH key has no token
      }
      data.put("obligations", decision.obligations().toString());
      if (role != null) {
        // Which login the target saw: its user name (never a password) next to the role's name.
        data.put("upstream_role", role);
        data.put("upstream_user", conn.roles().get(role).username());
      }
      audit.append(
          new AuditEvent("session.start", principal.subject(), sessionId, conn.name(), data));
    } catch (RuntimeException e) {
      limits.release(conn.name(), principal.subject());
      log.error("cannot record session start; refusing the session", e);
      throw new GateException(
          GateException.Reason.UNAVAILABLE, "the gateway cannot record sessions right now");
    }
    GateSession s =
        new GateSession(this, sessionId, principal, conn, target, decision, generation, protocol);
    live.add(s);
    return s;
  }

  Decision decide(Principal principal, Target target, Action action) {
    try {
      java.time.Instant now = clock.instant();
      Principal effective = withGrants(principal, target.name(), now);
      Decision d = policy.get().decide(new PolicyRequest(effective, target, action, now));
      return d == null
          ? Decision.deny(Decision.DEFAULT_DENY, "no decision", java.util.List.of())
          : d;
    } catch (RuntimeException e) {
      log.error("policy evaluation failed; denying", e);
      return Decision.deny(
          "policy-error", "the policy could not be evaluated", java.util.List.of(e.toString()));
    }
  }

  /** The principal plus the roles of its active grants on this connection, as extra groups. */
  private Principal withGrants(Principal p, String connection, java.time.Instant now) {
    Set<String> roles = grants.activeRoles(p, connection, now);
    if (roles.isEmpty()) {
      return p;
    }
    Set<String> groups = new java.util.HashSet<>(p.groups());
    groups.addAll(roles);
    return new Principal(
        p.subject(), groups, p.kind(), p.tokenId(), p.expiresAt(), p.scope(), p.attributes());
  }

  /**
   * {@link PolicyEngine#pathArguments(String, Action, long)} of the policy that decided {@code a}:
   * null (cannot tell) when another policy was swapped in since, or when the engine fails.
   */
  java.util.List<String> pathArguments(AuthorizedAction a) {
    return pathArguments(a.decision().rule(), a.action(), a.policyGeneration());
  }

  /** {@link PolicyEngine#pathArguments(String, Action, long)}; null when the engine fails. */
  java.util.List<String> pathArguments(String rule, Action action, long generation) {
    try {
      return policy.get().pathArguments(rule, action, generation);
    } catch (RuntimeException e) {
      log.error("policy path arguments failed", e);
      return null;
    }
  }

  long policyGeneration() {
    return policy.get().generation();
  }

  void appendAudit(AuditEvent event) throws GateException {
    try {
      audit.append(event);
    } catch (RuntimeException e) {
      log.error("cannot append audit event {}; failing closed", event.type(), e);
      throw new GateException(
          GateException.Reason.UNAVAILABLE, "the gateway cannot write its audit log right now");
    }
  }

  /**
   * The connection's own credentials (its vault fields, roles' included), opened to hand to an
   * upstream client: the session's login ({@link GateSession#upstreamCredentials}) and the
   * gateway's own side connections (catalog lookups) alike. The configured {@code password} stands
   * in when the vault holds none (a gateway built without sealing, as in tests). Never put them in
   * a message, a log line or a recording.
   */
  public Map<String, String> connectionCredentials(ConnectionConfig connection)
      throws GateException {
    Map<String, String> all;
    try {
      all = vault.open(connection.name()).orElse(Map.of());
    } catch (RuntimeException e) {
      log.error("cannot open credentials for {}", connection.name(), e);
      throw new GateException(
          GateException.Reason.UNAVAILABLE, "the gateway cannot open the target's credentials");
    }
    if (all.get("password") == null && connection.password() != null) {
      all = new java.util.HashMap<>(all);
      all.put("password", connection.password().reveal());
    }
    return all;
  }

  SessionRecorder recorder() {
    return recorder;
  }

  ReviewGate reviews() {
    return reviews;
  }

  Redactor redactor() {
    return redactor;
  }

  Clock clock() {
    return clock;
  }

  Authenticator authenticator() {
    return authenticator;
  }

  void closed(GateSession s) {
    if (live.remove(s)) {
      limits.release(s.connection().name(), s.principal().subject());
    }
  }

  /** Number of open sessions, for metrics. */
  public int liveSessions() {
    return live.size();
  }

  private void sweep() {
    for (GateSession s : live) {
      try {
        s.checkAlive(true);
      } catch (RuntimeException e) {
        log.warn("session sweep failed for {}", s.id(), e);
      }
    }
  }

  /** Ends every live session whose principal used {@code tokenId} (called on revocation). */
  public void revoked(String tokenId) {
    for (GateSession s : live) {
      if (tokenId.equals(s.principal().tokenId())) {
        s.terminate("token revoked");
      }
    }
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
    for (GateSession s : live) {
      s.terminate("gateway shutting down");
    }
  }

  /** Builder: every collaborator but reviews, redactor, clock and auth limits is required. */
  public static final class Builder {
    private Authenticator authenticator;
    private Function<String, ConnectionConfig> connections;
    private Supplier<PolicyEngine> policy;
    private AuditLog audit;
    private SessionRecorder recorder;
    private CredentialVault vault;
    private ReviewGate reviews;
    private GrantSource grants;
    private Redactor redactor;
    private Clock clock;
    private AuthConfig authLimits;

    public Builder authenticator(Authenticator v) {
      authenticator = v;
      return this;
    }

    public Builder connections(Function<String, ConnectionConfig> v) {
      connections = v;
      return this;
    }

    public Builder policy(Supplier<PolicyEngine> v) {
      policy = v;
      return this;
    }

    public Builder audit(AuditLog v) {
      audit = v;
      return this;
    }

    public Builder recorder(SessionRecorder v) {
      recorder = v;
      return this;
    }

    public Builder vault(CredentialVault v) {
      vault = v;
      return this;
    }

    public Builder reviews(ReviewGate v) {
      reviews = v;
      return this;
    }

    public Builder grants(GrantSource v) {
      grants = v;
      return this;
    }

    public Builder redactor(Redactor v) {
      redactor = v;
      return this;
    }

    public Builder clock(Clock v) {
      clock = v;
      return this;
    }

    /**
     * Throttling of failed authentication ({@code server.auth}); default {@link
     * AuthConfig#DEFAULT}.
     */
    public Builder authLimits(AuthConfig v) {
      authLimits = v;
      return this;
    }

    public Gate build() {
      return new Gate(this);
    }
  }
}
