package dev.gatehouse.runner;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import dev.gatehouse.audit.SessionRecorder;
import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.config.GatehouseConfig.ExecSecretConfig;
import dev.gatehouse.config.GatehouseConfig.SshTargetConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.credential.CredentialVault;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.identity.Authenticator;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.ReloadingPolicyEngine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A real gate (policy from YAML, in-memory recorder, audit and vault) around exec connections, for
 * runner tests that start real processes.
 */
final class RunnerKit implements AutoCloseable {
  static final String TOKEN = "tok_live_5f3a9c1e7b2d4f60";
  static final String KUBECONFIG = "apiVersion: v1\nclusters: []\nkey: kube-8c1f2e7a9b3d\n";
  static final String KUBE_SECRET = "kube-8c1f2e7a9b3d";

  static final List<String> BINARIES =
      List.of(
          "/usr/bin/echo",
          "/usr/bin/cat",
          "/usr/bin/env",
          "/bin/sh",
          "/usr/bin/sleep",
          "/usr/bin/id",
          "/usr/bin/touch",
          "/usr/bin/yes",
          "/usr/bin/rm",
          "/usr/bin/printenv",
          "/usr/bin/stat",
          "/usr/bin/gatehouse-not-installed");

  static final String POLICY =
      """
      version: 1
      rules:
        - id: no-rm
          subjects: { groups: [dev] }
          effect: deny
          command: { binary: rm }
          reason: Nobody deletes files here.
        - id: quiet-printenv
          subjects: { groups: [dev] }
          connections: { names: ["tools*"] }
          effect: allow
          command: { binary: printenv }
          obligations: { masking: none, recording: metadata }
        - id: masked-tools
          subjects: { groups: [dev] }
          connections: { names: ["masked*"] }
          effect: allow
          command: { binary: [sh] }
          obligations: { masking: default }
        - id: dev-tools
          subjects: { groups: [dev] }
          connections: { names: ["tools*"] }
          effect: allow
          command:
            binary: [echo, cat, env, sh, sleep, id, yes, printenv, stat, gatehouse-not-installed]
            env: [CI, "APP_*"]
          obligations: { masking: none }
        - id: sandbox-probes
          subjects: { groups: [dev] }
          connections: { names: ["tools-boxed*"] }
          effect: allow
          command: { binary: [python3], args: ["re:^/.*/probe[.]py$"], env: ["APP_*"] }
          obligations: { masking: none }
        - id: dev-echo-pipes
          subjects: { groups: [dev] }
          connections: { names: ["tools*"] }
          effect: allow
          command: { binary: [echo], shell: true }
          obligations: { masking: none }
        - id: touch-needs-ops
          subjects: { groups: [dev] }
          connections: { names: ["tools*"] }
          effect: review
          review: { groups: [ops] }
          command: { binary: touch }
          obligations: { masking: none }
      """;

  final Path dir;
  final ListRecorder recorder = new ListRecorder();
  final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
  final Map<String, ConnectionConfig> connections = new ConcurrentHashMap<>();
  final MemoryVault vault = new MemoryVault();
  final Gate gate;
  final CommandRunner runner;
  volatile ReviewGate reviews = ReviewGate.NONE;

  static final Principal ALICE =
      new Principal("alice", Set.of("dev"), PrincipalKind.HUMAN, "tok-1", null, Set.of(), Map.of());

  RunnerKit(Path dir) throws Exception {
    this(dir, kit -> null);
  }

  RunnerKit(Path dir, java.util.function.Function<RunnerKit, RemoteHosts> remotes)
      throws Exception {
    this(dir, remotes, List.of());
  }

  /**
   * @param remotes the runner's SSH targets, made from this kit's connections and vault
   * @param hidden the exec workdirs every sandboxed job must not see
   */
  RunnerKit(
      Path dir,
      java.util.function.Function<RunnerKit, RemoteHosts> remotes,
      java.util.Collection<Path> hidden)
      throws Exception {
    this.dir = dir;
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, POLICY);
    AuditLog log =
        e -> {
          audit.add(e);
          return audit.size();
        };
    ReloadingPolicyEngine engine = ReloadingPolicyEngine.load(List.of(policy.toString()), log);
    gate =
        Gate.builder()
            .authenticator(
                new Authenticator() {
                  @Override
                  public Principal authenticate(String credential) {
                    return ALICE;
                  }

                  @Override
                  public boolean stillValid(Principal principal, java.time.Instant now) {
                    return true;
                  }
                })
            .connections(connections::get)
            .policy(() -> engine)
            .audit(log)
            .recorder(recorder)
            .vault(vault)
            .reviews(
                (sessionId, principal, target, action, decision, waiting) ->
                    reviews.await(sessionId, principal, target, action, decision, waiting))
            .build();
    runner =
        new CommandRunner(
            dir.resolve("data"),
            MaskingEngine.create(null),
            remotes.apply(this),
            List.of(),
            hidden);
  }

  /** An exec connection with the test binaries, one env secret and one file secret. */
  ExecConfig exec(String sandbox, boolean network, Duration timeout, long maxOutput) {
    return new ExecConfig(
        BINARIES,
        "fresh",
        null,
        Map.of("APP_MODE", "test"),
        List.of("CI", "APP_*"),
        List.of(
            new ExecSecretConfig("API_TOKEN", new Secret(TOKEN, "test"), "env"),
            new ExecSecretConfig("KUBECONFIG", new Secret(KUBECONFIG, "test"), "file")),
        timeout,
        maxOutput,
        0,
        Duration.ZERO,
        0,
        sandbox,
        network,
        null,
        null,
        List.of());
  }

  void connection(String name, ExecConfig exec) {
    connections.put(
        name,
        new ConnectionConfig(
            name, "exec", null, 0, null, null, null, Map.of(), null, Map.of(), exec, null));
    Map<String, String> fields = new HashMap<>();
    for (ExecSecretConfig s : exec.secrets()) {
      fields.put("secret." + s.name(), s.value().reveal());
    }
    vault.put(name, fields);
  }

  /** An ssh connection to {@code host:port}, pinned to {@code hostKey}, logging in with a key. */
  void sshConnection(String name, int port, String user, String hostKey, String privateKey) {
    connections.put(
        name,
        new ConnectionConfig(
            name,
            "ssh",
            "127.0.0.1",
            port,
            null,
            user,
            null,
            Map.of(),
            null,
            Map.of(),
            null,
            new SshTargetConfig(List.of(hostKey), new Secret(privateKey, "test"))));
    vault.put(name, Map.of("username", user, "private_key", privateKey));
  }

  record Result(int status, String out, String err, String sessionId) {}

  Result run(String conn, List<String> argv) throws Exception {
    return run(conn, new ExecRequest(argv, null, Map.of(), null, null), null, e -> {});
  }

  Result run(String conn, ExecRequest req, byte[] stdin, Consumer<Execution> onStart)
      throws Exception {
    try (GateSession s = gate.open(ALICE, conn, "exec", "127.0.0.1")) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int status =
          runner.run(
              s, req, stdin == null ? null : new ByteArrayInputStream(stdin), out, err, onStart);
      return new Result(
          status,
          out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8),
          s.id());
    }
  }

  @Override
  public void close() {
    gate.close();
  }

  /** Sessions, actions and stream chunks kept in memory. */
  static final class ListRecorder implements SessionRecorder {
    final List<String> decided = new CopyOnWriteArrayList<>();
    final List<String> completed = new CopyOnWriteArrayList<>();
    final Map<String, StringBuilder> streams = new ConcurrentHashMap<>();
    final AtomicLong ids = new AtomicLong();

    @Override
    public void sessionStarted(
        String sessionId,
        String subject,
        String connection,
        String protocol,
        String client,
        String details) {}

    @Override
    public long actionDecided(
        String sessionId, Action action, String maskedRaw, Decision decision, String reviewId) {
      decided.add(decision.effect() + " " + decision.rule() + " " + maskedRaw);
      return ids.incrementAndGet();
    }

    @Override
    public void actionCompleted(
        long actionId, String status, String summary, long rows, Duration duration) {
      completed.add(status + " " + summary);
    }

    @Override
    public void streamChunk(String sessionId, char direction, byte[] maskedData) {
      streams
          .computeIfAbsent(sessionId + direction, k -> new StringBuilder())
          .append(new String(maskedData, StandardCharsets.UTF_8));
    }

    String stream(String sessionId, char direction) {
      StringBuilder b = streams.get(sessionId + direction);
      return b == null ? "" : b.toString();
    }

    @Override
    public void sessionEnded(String sessionId, String reason) {}
  }

  /** Vault fields in memory. */
  static final class MemoryVault implements CredentialVault {
    final Map<String, Map<String, String>> fields = new ConcurrentHashMap<>();
    final List<String> opened = new ArrayList<>();

    @Override
    public void put(String connection, Map<String, String> f) {
      fields.put(connection, Map.copyOf(f));
    }

    @Override
    public Optional<Map<String, String>> open(String connection) {
      opened.add(connection);
      return Optional.ofNullable(fields.get(connection));
    }

    @Override
    public Set<String> connections() {
      return fields.keySet();
    }
  }
}
