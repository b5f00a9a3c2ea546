package dev.gatehouse.server;

import dev.gatehouse.api.ApiServer;
import dev.gatehouse.api.ExecApi;
import dev.gatehouse.api.GatewayApi;
import dev.gatehouse.api.ReviewApi;
import dev.gatehouse.api.SshKeyApi;
import dev.gatehouse.approval.ReviewNotifier;
import dev.gatehouse.approval.ReviewService;
import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditExporter;
import dev.gatehouse.audit.AuditSinks;
import dev.gatehouse.audit.AuditVerifier;
import dev.gatehouse.audit.ChainedAuditLog;
import dev.gatehouse.audit.SessionQueries;
import dev.gatehouse.audit.StoreSessionRecorder;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.credential.MasterKey;
import dev.gatehouse.credential.TinkCredentialVault;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.Redactor;
import dev.gatehouse.identity.OidcVerifier;
import dev.gatehouse.identity.SshKeys;
import dev.gatehouse.identity.TokenExchange;
import dev.gatehouse.identity.TokenService;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.policy.PolicyException;
import dev.gatehouse.policy.ReloadingPolicyEngine;
import dev.gatehouse.postgres.PgProtocolServer;
import dev.gatehouse.runner.CommandRunner;
import dev.gatehouse.runner.FixedWorkdirs;
import dev.gatehouse.runner.RemoteHosts;
import dev.gatehouse.ssh.SshProtocolServer;
import dev.gatehouse.store.DataDirectory;
import dev.gatehouse.store.Database;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a gateway from a validated configuration: store, keys, audit, identity, policy, masking,
 * the shared {@link Gate}, then the listeners. Start-up is all or nothing: if any step fails,
 * everything started so far is closed and the error says which step (the process never runs
 * half-configured).
 */
public final class GatehouseServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GatehouseServer.class);

  private final GatehouseConfig config;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private Database db;
  private ChainedAuditLog audit;
  private TokenService tokens;
  private SshKeys sshKeys;
  private TinkCredentialVault vault;
  private ReloadingPolicyEngine policy;
  private Gate gate;
  private ApiServer api;
  private PgProtocolServer postgres;
  private SshProtocolServer ssh;
  private TlsMaterial tls;
  private ReviewService reviews;

  private GatehouseServer(GatehouseConfig config) {
    this.config = config;
  }

  /** Starts everything, or closes what was started and throws. */
  public static GatehouseServer start(GatehouseConfig config) throws IOException {
    return start(config, Clock.systemUTC());
  }

  /**
   * Starts everything on {@code clock} (tests move time forward instead of sleeping), or closes
   * what was started and throws.
   */
  public static GatehouseServer start(GatehouseConfig config, Clock clock) throws IOException {
    GatehouseServer s = new GatehouseServer(config);
    try {
      s.startAll(clock);
      return s;
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  private void startAll(Clock clock) throws IOException {
    var server = config.server();
    DataDirectory.ownerOnly(server.dataDir()); // store, journal, master key, recordings

    db =
        config.store().embedded()
            ? Database.embedded(server.dataDir())
            : Database.postgres(
                config.store().url(),
                config.store().username(),
                config.store().password() == null ? "" : config.store().password().reveal(),
                config.store().poolSize());
    closeables.add(db);

    MasterKey masterKey = MasterKey.loadOrGenerate(server.masterKey(), server.dataDir());
    audit = new ChainedAuditLog(db, masterKey, config.audit(), server.dataDir().resolve("journal"));
    closeables.add(audit);
    vault = new TinkCredentialVault(db, masterKey, audit);
    sealConfiguredCredentials();

    StoreSessionRecorder recorder = new StoreSessionRecorder(db, audit);
    OidcVerifier oidc =
        config.identity().oidc().isEmpty()
            ? null
            : new OidcVerifier(config.identity().oidc(), clock);
    tokens = new TokenService(db, config.identity(), audit, clock, oidc);
    TokenExchange exchange =
        oidc == null
            ? null
            : new TokenExchange(tokens, oidc, config.identity().tokenExchange(), audit);

    try {
      policy = ReloadingPolicyEngine.load(config.policy().files(), audit);
    } catch (PolicyException e) {
      throw new IOException("policy: " + e.getMessage(), e);
    }
    closeables.add(policy);
    if (config.policy().watch()) {
      policy.watch(Duration.ofSeconds(2));
    }
    MaskingEngine masking = MaskingEngine.create(config.masking());
    closeables.add(AuditSinks.start(db, config.audit()));
    Redactor redactor =
        Redactor.of(masking::redact, masking::redactStored, masking::detectsContent);
    ReviewNotifier notifier = new ReviewNotifier(config.approvals(), audit, redactor);
    reviews = new ReviewService(db, audit, config.approvals(), clock, notifier);
    closeables.add(reviews);

    gate =
        Gate.builder()
            .authenticator(tokens)
            .connections(config::connection)
            .policy(() -> policy)
            .audit(audit)
            .recorder(recorder)
            .vault(vault)
            .reviews(reviews)
            .grants(reviews)
            .redactor(redactor)
            .clock(clock)
            .authLimits(server.auth())
            .build();
    closeables.add(gate);
    tokens.onRevoke(gate::revoked);
    sshKeys = new SshKeys(db, config.identity(), audit, clock);
    sshKeys.onRemove(gate::revoked); // removing a key ends the sessions it opened here
    tokens.onRevoke(sshKeys::tokenRevoked); // so does revoking the token that registered it

    tls = TlsMaterial.load(server.tls().certFile(), server.tls().keyFile(), server.dataDir());
    SSLContext ssl = tls.serverContext();

    // One runner for the exec API and SSH exec requests on exec connections; exec connections
    // with a runner run on that ssh connection's target, logged in as the SSH relay does.
    RemoteHosts runners =
        SshProtocolServer.runners(config::connection, name -> vault.open(name).orElse(Map.of()));
    closeables.add(runners);
    // Exec connections that run on this host with a workdir of their own: every one is hidden from
    // other jobs in the sandbox, and the fresh ones are where a gateway that died may have left
    // workspaces.
    var localExecs =
        config.connections().stream()
            .map(c -> c.exec())
            .filter(e -> e != null && e.runner() == null && e.workdir() != null)
            .toList();
    List<java.nio.file.Path> workdirs =
        localExecs.stream()
            .filter(e -> !"fixed".equals(e.workspace()))
            .map(e -> e.workdir())
            .toList();
    // Fixed workdirs several connections share are not protected from each other's jobs.
    Map<String, dev.gatehouse.config.GatehouseConfig.ExecConfig> execs = new LinkedHashMap<>();
    config.connections().stream()
        .filter(c -> c.exec() != null)
        .forEach(c -> execs.put(c.name(), c.exec()));
    FixedWorkdirs.warnings(execs).forEach(log::warn);
    CommandRunner runner =
        new CommandRunner(
            server.dataDir(),
            masking,
            runners,
            workdirs,
            localExecs.stream().map(e -> e.workdir()).toList());

    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(metrics);
    new JvmThreadMetrics().bindTo(metrics);
    new JvmGcMetrics().bindTo(metrics);
    Gauge.builder("gatehouse_sessions_live", gate, Gate::liveSessions)
        .description("Open sessions across all protocols")
        .register(metrics);
    Gauge.builder("gatehouse_auth_throttle_tracked", gate, Gate::authThrottleTracked)
        .description("Client addresses and identities the authentication throttle remembers")
        .register(metrics);
    // Recording health: alert when any of these leaves 0 (a growing backlog means the store is
    // behind the journal; at 512 MB new actions are denied).
    Gauge.builder("gatehouse_audit_journal_backlog_bytes", audit, ChainedAuditLog::journalBacklog)
        .description("Journaled records not yet in the store")
        .register(metrics);
    Gauge.builder("gatehouse_audit_records_skipped", audit, ChainedAuditLog::skippedRecords)
        .description("Journaled records the store refused for good (see the log)")
        .register(metrics);
    Gauge.builder(
            "gatehouse_audit_outcome_failures", recorder, StoreSessionRecorder::outcomeFailures)
        .description("Action outcomes that could not be recorded")
        .register(metrics);

    if (server.api().enabled()) {
      api =
          new ApiServer(
              server.api().host(),
              server.api().port(),
              server.api().plaintext() ? null : ssl,
              gate);
      api.with(
          new GatewayApi(
              config,
              db,
              tokens,
              exchange,
              policy,
              new AuditVerifier(db, audit.publicSigningKeyset())
                  .readingOwnWrites(audit::awaitStored),
              new AuditExporter(db).readingOwnWrites(audit::awaitStored),
              vault,
              new SessionQueries(db, audit::awaitStored),
              metrics,
              PgProtocolServer::describeSql,
              GatewayApi::describeCommand));
      api.with(new ReviewApi(reviews));
      api.with(new SshKeyApi(sshKeys, tokens));
      api.with(new ExecApi(gate, runner));
      closeables.add(api);
      api.start();
      log.info("API listening on {}", api.baseUrl());
    }
    if (server.postgres().enabled()) {
      var l = server.postgres();
      postgres =
          new PgProtocolServer(gate, l.host(), l.port(), ssl, l.plaintext(), config::connection);
      postgres.masking(masking);
      closeables.add(postgres);
      postgres.start();
      if (l.plaintext()) {
        log.warn(
            "PostgreSQL listener on {} accepts plaintext clients (server.postgres.plaintext)",
            postgres.address());
      }
      log.info("PostgreSQL listening on {}", postgres.address());
    }
    if (server.ssh().enabled()) {
      var l = server.ssh();
      ssh =
          new SshProtocolServer(
              gate, l.host(), l.port(), server.dataDir(), config::connection, sshKeys, runner);
      ssh.masking(masking);
      if (l.kexinitWait() != null) {
        ssh.kexinitWait(l.kexinitWait());
      }
      closeables.add(ssh);
      ssh.start();
      log.info("SSH listening on {} (host key {})", ssh.address(), ssh.hostKeyFingerprint());
    }
    audit.append(
        new AuditEvent(
            "server.start",
            "system",
            null,
            null,
            Map.of(
                "config", String.valueOf(config.source()),
                "connections", config.connections().size())));
  }

  /** Seals the credentials of configured connections into the vault (they come from env/file). */
  private void sealConfiguredCredentials() {
    for (ConnectionConfig c : config.connections()) {
      Map<String, String> fields = new HashMap<>();
      if (c.username() != null) {
        fields.put("username", c.username());
      }
      if (c.password() != null) {
        fields.put("password", c.password().reveal());
      }
      if (c.ssh() != null && c.ssh().privateKey() != null) {
        fields.put("private_key", c.ssh().privateKey().reveal());
      }
      for (var role : c.roles().entrySet()) {
        // Other logins for the upstream_role obligation, sealed like the connection's own
        // (GateSession#upstreamCredentials picks one per session).
        String prefix = dev.gatehouse.gate.GateSession.ROLE_PREFIX + role.getKey() + ".";
        fields.put(prefix + "username", role.getValue().username());
        if (role.getValue().password() != null) {
          fields.put(prefix + "password", role.getValue().password().reveal());
        }
        if (role.getValue().privateKey() != null) {
          fields.put(prefix + "private_key", role.getValue().privateKey().reveal());
        }
      }
      if (c.exec() != null) {
        // Exec secrets are sealed like passwords and opened only to start one process.
        for (var secret : c.exec().secrets()) {
          fields.put("secret." + secret.name(), secret.value().reveal());
        }
      }
      if (!fields.isEmpty()) {
        vault.put(c.name(), fields);
      }
    }
  }

  /** SSH public keys registered to identities: the SSH listener's public-key login. */
  public SshKeys sshKeys() {
    return sshKeys;
  }

  public TokenService tokens() {
    return tokens;
  }

  public ReviewService reviews() {
    return reviews;
  }

  public Gate gate() {
    return gate;
  }

  /**
   * The policy in force and its hot reload: {@link ReloadingPolicyEngine#reload()} swaps in what
   * the files say now, as the watcher would on its next round.
   */
  public ReloadingPolicyEngine policy() {
    return policy;
  }

  public Database database() {
    return db;
  }

  /**
   * Waits until every record this gateway has confirmed is in the store (they pass through the
   * local audit journal first): for readers of {@link #database()} that must see their own writes.
   */
  public void awaitRecorded() {
    if (audit != null) {
      audit.awaitStored();
    }
  }

  public TlsMaterial tls() {
    return tls;
  }

  /** The API base URL, e.g. {@code https://127.0.0.1:8443}; null when the API is disabled. */
  public String apiUrl() {
    return api == null ? null : api.baseUrl();
  }

  /** The bound PostgreSQL port, or -1 when disabled. */
  public int postgresPort() {
    return postgres == null ? -1 : postgres.address().getPort();
  }

  /** The bound SSH port, or -1 when disabled. */
  public int sshPort() {
    return ssh == null ? -1 : ssh.address().getPort();
  }

  /** The SSH listener's host key fingerprint ({@code SHA256:...}), or null when disabled. */
  public String sshHostKeyFingerprint() {
    return ssh == null ? null : ssh.hostKeyFingerprint();
  }

  @Override
  public void close() {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception e) {
        log.warn("error while stopping {}", closeables.get(i).getClass().getSimpleName(), e);
      }
    }
    closeables.clear();
  }
}
