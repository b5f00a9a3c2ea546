package dev.gatehouse.demo;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.config.GatehouseConfig.ExecSecretConfig;
import dev.gatehouse.config.GatehouseConfig.IdentityConfig;
import dev.gatehouse.config.GatehouseConfig.ListenerConfig;
import dev.gatehouse.config.GatehouseConfig.PolicyConfig;
import dev.gatehouse.config.GatehouseConfig.ServerConfig;
import dev.gatehouse.config.GatehouseConfig.SshTargetConfig;
import dev.gatehouse.config.GatehouseConfig.UpstreamRole;
import dev.gatehouse.config.GatehouseConfig.UpstreamTlsConfig;
import dev.gatehouse.config.GatehouseConfig.UserConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.identity.IssuedToken;
import dev.gatehouse.identity.TokenService;
import dev.gatehouse.runner.CommandRunner;
import dev.gatehouse.server.GatehouseServer;
import dev.gatehouse.store.DataDirectory;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gatehouse demo}: a gateway on 127.0.0.1 in front of an embedded PostgreSQL with a seeded
 * {@code payments} database, three identities with tokens, the demo policy, and a short tour. Needs
 * nothing but a JDK.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run a self-contained demo: gateway + embedded PostgreSQL target with seeded data.",
      "Writes DATA_DIR/demo.env with tokens for alice, dana and ci-bot. Ctrl-C stops everything."
    })
public final class DemoCommand implements Callable<Integer> {

  static final String CONNECTION = "payments-db";
  static final String RUNNER = "build-runner";
  static final String HOST = "demo-host";
  static final String HOST_RUNNER = "host-runner";

  /** Where the demo-exec example policy expects the host's files; rewritten to the real path. */
  static final String POLICY_HOST_DIR = "/srv/demo-host";

  @Option(
      names = "--data-dir",
      defaultValue = "./gatehouse-demo",
      description =
          "Where the gateway keeps its store, keys and certificate (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(
      names = "--api-port",
      defaultValue = "8443",
      description = "REST API port (default: ${DEFAULT-VALUE}).")
  int apiPort;

  @Option(
      names = "--pg-port",
      defaultValue = "15432",
      description = "PostgreSQL listener port (default: ${DEFAULT-VALUE}).")
  int pgPort;

  @Option(
      names = "--ssh-port",
      defaultValue = "2222",
      description = "SSH listener port (default: ${DEFAULT-VALUE}).")
  int sshPort;

  @Option(
      names = "--target-port",
      defaultValue = "0",
      description = "Embedded target database port (default: a free port).")
  int targetPort;

  private final CountDownLatch stop = new CountDownLatch(1);

  /** Stops a running demo (Ctrl-C does the same); for tests. */
  void stop() {
    stop.countDown();
  }

  @Override
  public Integer call() throws Exception {
    Path data = dataDir.toAbsolutePath().normalize();
    DataDirectory.ownerOnly(data);
    checkPortFree("--api-port", apiPort);
    checkPortFree("--pg-port", pgPort);
    checkPortFree("--ssh-port", sshPort);
    if (targetPort != 0) {
      checkPortFree("--target-port", targetPort);
    }

    System.out.println("gatehouse demo: starting the embedded PostgreSQL target…");
    String appPassword =
        HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(16));
    // The logins of the connection's roles (upstream_role in demo.yaml): engineers' sessions run
    // as payments_rw (no DDL, no functions), CI's as payments_ro (SELECT only); only DBAs' as the
    // owner. The passwords are sealed in the gateway and kept nowhere else.
    String writerPassword =
        HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(16));
    String readerPassword =
        HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(16));
    EmbeddedPostgres target = startTarget(data, appPassword, writerPassword, readerPassword);
    GatehouseServer server = null;
    DemoSshTarget sshTarget = null;
    try {
      int port = target.getPort();
      Path hostDir = data.resolve("host");
      DemoHost.seed(hostDir);
      System.out.println("gatehouse demo: starting the embedded SSH target…");
      sshTarget = DemoSshTarget.start(hostDir, data);
      if (!sshTarget.confined()) {
        System.out.println(
            "gatehouse demo: bubblewrap is not available: commands and shells on the demo SSH host"
                + " run as you, and can read the demo's data directory (tokens, master key)");
      }
      Path project = data.resolve("ci-project");
      DemoHost.writeProject(project);
      Path keys = data.resolve("keys");
      Map<String, String> userKeys = DemoHost.userKeys(keys, List.of("alice", "dana", "ci-bot"));
      Path policies = data.resolve("policies");
      Files.createDirectories(policies);
      copyResource("/examples/policies/demo.yaml", policies.resolve("demo.yaml"));
      copyResource("/examples/policies/demo-exec.yaml", policies.resolve("demo-exec.yaml"));
      Path execPolicy = policies.resolve("demo-exec.yaml");
      Files.writeString(
          execPolicy, Files.readString(execPolicy).replace(POLICY_HOST_DIR, hostDir.toString()));

      GatehouseConfig defaults = ConfigLoader.defaults(data);
      ServerConfig s = defaults.server();
      ServerConfig server1 =
          new ServerConfig(
              data,
              s.masterKey(),
              s.tls(),
              new ListenerConfig(true, "127.0.0.1", apiPort, false),
              new ListenerConfig(true, "127.0.0.1", pgPort, false),
              new ListenerConfig(true, "127.0.0.1", sshPort, false));
      IdentityConfig id = defaults.identity();
      IdentityConfig identity =
          new IdentityConfig(
              id.humanTokenTtl(),
              id.serviceTokenTtl(),
              id.agentTokenTtl(),
              List.of(
                  new UserConfig(
                      "alice",
                      "human",
                      List.of("engineering"),
                      "user",
                      List.of(userKeys.get("alice"))),
                  new UserConfig(
                      "dana", "human", List.of("dba"), "admin", List.of(userKeys.get("dana"))),
                  new UserConfig(
                      "ci-bot", "service", List.of("ci"), "user", List.of(userKeys.get("ci-bot")))),
              List.of(),
              List.of());
      ConnectionConfig payments =
          new ConnectionConfig(
                  CONNECTION,
                  "postgres",
                  "127.0.0.1",
                  port,
                  "payments",
                  "payments_app",
                  new Secret(appPassword, "demo:generated"),
                  Map.of("env", "demo", "team", "payments"),
                  new UpstreamTlsConfig("disable", null),
                  Map.of())
              .withRoles(
                  Map.of(
                      "writer",
                      new UpstreamRole(
                          WRITER_ROLE, new Secret(writerPassword, "demo:generated"), null),
                      "reader",
                      new UpstreamRole(
                          READER_ROLE, new Secret(readerPassword, "demo:generated"), null)));
      String deployToken =
          "dpl_" + HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(16));
      ConnectionConfig runner =
          execConnection(
              RUNNER,
              new ExecConfig(
                  List.of(javaBinary()),
                  "fixed",
                  project,
                  Map.of("CI", "true"),
                  List.of(),
                  List.of(
                      new ExecSecretConfig(
                          "DEPLOY_TOKEN", new Secret(deployToken, "demo:generated"), "env")),
                  Duration.ofMinutes(10),
                  64L << 20,
                  0,
                  Duration.ZERO,
                  0,
                  "auto",
                  // No network where bubblewrap can take it away; elsewhere (a machine with only a
                  // JDK, or a bwrap without user namespaces) a runner with network: false is
                  // refused, and the demo must still run. The runner's own probe decides.
                  !CommandRunner.sandboxAvailable(),
                  null,
                  null,
                  List.of()));
      ConnectionConfig host =
          new ConnectionConfig(
              HOST,
              "ssh",
              "127.0.0.1",
              sshTarget.port(),
              null,
              DemoSshTarget.USER,
              null,
              Map.of("env", "demo", "team", "platform"),
              null,
              Map.of(),
              null,
              new SshTargetConfig(
                  List.of(sshTarget.hostKeyLine()),
                  new Secret(sshTarget.clientPrivateKey(), "demo:generated")));
      // The same exec model run on the SSH host: its tools, its token, the gateway's policy.
      String hostToken =
          "hst_" + HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(16));
      ConnectionConfig hostRunner =
          execConnection(
              HOST_RUNNER,
              new ExecConfig(
                  List.of("/usr/bin/uname", "/usr/bin/df", "/usr/bin/printenv"),
                  "fresh",
                  null,
                  Map.of(),
                  List.of(),
                  List.of(
                      new ExecSecretConfig(
                          "HOST_TOKEN", new Secret(hostToken, "demo:generated"), "env")),
                  Duration.ofMinutes(1),
                  1L << 20,
                  0,
                  Duration.ZERO,
                  0,
                  "auto",
                  true,
                  null,
                  HOST,
                  List.of()));
      GatehouseConfig cfg =
          new GatehouseConfig(
              null,
              server1,
              defaults.store(),
              identity,
              List.of(payments, runner, host, hostRunner),
              new PolicyConfig(List.of(policies.resolve("*.yaml").toString()), true),
              defaults.audit(),
              defaults.approvals(),
              defaults.masking(),
              defaults.logging());

      System.out.println("gatehouse demo: starting the gateway…");
      server = GatehouseServer.start(cfg);
      TokenService tokens = server.tokens();
      Duration day = Duration.ofHours(12);
      IssuedToken alice = tokens.issueForUser("alice", day, java.util.Set.of(), "demo");
      IssuedToken dana = tokens.issueForUser("dana", day, java.util.Set.of(), "demo");
      // Service tokens default to 15 minutes; the demo's lives 12 h so the tour does not expire.
      IssuedToken ci = tokens.issueForUser("ci-bot", day, java.util.Set.of(), "demo");

      Path env = data.resolve("demo.env");
      String cert = server.tls().certificateFile().toString();
      String envText =
          "# gatehouse demo: source this file in a shell (. "
              + env
              + ")\n"
              + "export GATEHOUSE_API="
              + server.apiUrl()
              + "\n"
              + "export GATEHOUSE_CACERT="
              + cert
              + "\n"
              + "export GATEHOUSE_PG_PORT="
              + server.postgresPort()
              + "\n"
              + "export GATEHOUSE_SSH_PORT="
              + sshPort
              + "\n"
              + "export GATEHOUSE_SSH_CONFIG="
              + data.resolve("ssh_config")
              + "\n"
              + "export GATEHOUSE_DEMO_KEYS="
              + keys
              + "\n"
              + "export DEMO_HOST_DIR="
              + hostDir
              + "\n"
              + "export ALICE_TOKEN="
              + alice.secret()
              + "\n"
              + "export DANA_TOKEN="
              + dana.secret()
              + "\n"
              + "export CI_TOKEN="
              + ci.secret()
              + "\n"
              + "export GATEHOUSE_TOKEN=$DANA_TOKEN\n"
              + "export TARGET_URL=postgresql://payments_app:"
              + appPassword
              + "@127.0.0.1:"
              + port
              + "/payments\n";
      Files.writeString(env, envText);
      try {
        Files.setPosixFilePermissions(env, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException ignored) {
        // non-POSIX
      }
      DemoHost.writeSshConfig(data, sshPort);
      printTour(env, server.postgresPort());

      CountDownLatch closed = new CountDownLatch(1);
      Thread hook =
          new Thread(
              () -> {
                stop.countDown();
                try {
                  closed.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                  Thread.currentThread().interrupt();
                }
              });
      Runtime.getRuntime().addShutdownHook(hook);
      stop.await();
      System.out.println("\ngatehouse demo: stopping…");
      server.close();
      closeQuietly(sshTarget);
      closeQuietly(target);
      closed.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException ignored) {
        // already shutting down
      }
      return 0;
    } catch (Exception e) {
      if (server != null) {
        server.close();
      }
      closeQuietly(sshTarget);
      closeQuietly(target);
      throw e;
    }
  }

  private static void printTour(Path env, int pgPort) {
    String conn = "host=127.0.0.1 port=" + pgPort + " dbname=" + CONNECTION + " sslmode=require";
    System.out.println(
        """

        Gatehouse demo is running. In another terminal:

          . %1$s

          # 1. alice (engineering) reads; card numbers, emails and SSNs come back masked
          PGPASSWORD=$ALICE_TOKEN psql "%2$s user=alice" -c "SELECT c.full_name, c.email, c.ssn, p.card_number, p.amount FROM payments p JOIN customers c ON c.id = p.customer_id LIMIT 5"

          # 2. alice may not drop tables: denied with SQLSTATE 42501, naming the rule
          PGPASSWORD=$ALICE_TOKEN psql "%2$s user=alice" -c "DROP TABLE payments"

          # 3. alice's refund waits for a DBA's approval (the comment is her justification)
          PGPASSWORD=$ALICE_TOKEN psql "%2$s user=alice" -c "/* justification: OPS-1 */ UPDATE payments SET status = 'refunded' WHERE id = 42"
             # ...and in a third terminal, dana (dba) approves; alice's psql then prints UPDATE 1
             bin/gatehouse reviews list
             bin/gatehouse reviews approve <ID> --reason "refund confirmed"

        Then the record of it all (GATEHOUSE_TOKEN in demo.env is dana's, an admin):
          bin/gatehouse sessions list
          bin/gatehouse audit verify

        Also try ci-bot (read-only: PGPASSWORD=$CI_TOKEN ... user=ci-bot) and dana (dba: unmasked).

        Code execution (the build runner) and SSH (the demo host):

          # 4. ci-bot builds and tests the demo project on the gateway's runner; the deploy token
          #    the runner injects is masked wherever the build prints it
          GATEHOUSE_TOKEN=$CI_TOKEN bin/gatehouse exec build-runner -- java Build.java test

          # 5. ...but may not publish: exit status 126, and the rule that said no
          GATEHOUSE_TOKEN=$CI_TOKEN bin/gatehouse exec build-runner -- java Build.java publish; echo "exit $?"
          # the same exec model on the SSH host; the token held for it comes back masked
          GATEHOUSE_TOKEN=$ALICE_TOKEN bin/gatehouse exec host-runner -- printenv HOST_TOKEN

          # 6. alice reads the host's logs over SSH, masked; anything else is refused
          ssh -F $GATEHOUSE_SSH_CONFIG -i $GATEHOUSE_DEMO_KEYS/alice alice+demo-host@gatehouse-demo tail -n 5 $DEMO_HOST_DIR/logs/app.log
          ssh -F $GATEHOUSE_SSH_CONFIG -i $GATEHOUSE_DEMO_KEYS/alice alice+demo-host@gatehouse-demo cat $DEMO_HOST_DIR/secrets.env

          # 7. dana (dba) gets a recorded interactive shell; then replay it
          ssh -F $GATEHOUSE_SSH_CONFIG -i $GATEHOUSE_DEMO_KEYS/dana dana+demo-host@gatehouse-demo
          bin/gatehouse sessions list
          bin/gatehouse sessions replay <ID>

        Press Ctrl-C to stop the gateway and the embedded targets.
        """
            .formatted(env, conn));
  }

  /** The target's login for engineers' sessions: reads and writes of rows, nothing else. */
  static final String WRITER_ROLE = "payments_rw";

  /** The target's login for CI's sessions: SELECT only, read-only transactions by default. */
  static final String READER_ROLE = "payments_ro";

  private EmbeddedPostgres startTarget(
      Path data, String appPassword, String writerPassword, String readerPassword)
      throws Exception {
    Path pgdata = data.resolve("target-pgdata");
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setDataDirectory(pgdata)
            .setCleanDataDirectory(true)
            .setPort(targetPort == 0 ? freePort() : targetPort)
            .setServerConfig("password_encryption", "scram-sha-256")
            // No Unix socket: PostgreSQL's default directory is /tmp, open to every local user,
            // and the superuser would be one socket connection away from the data.
            .setServerConfig("unix_socket_directories", "")
            .start();
    try (Connection c = pg.getPostgresDatabase().getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE ROLE payments_app LOGIN PASSWORD '" + appPassword + "'");
      st.execute("CREATE DATABASE payments OWNER payments_app");
      st.execute("CREATE ROLE " + WRITER_ROLE + " LOGIN PASSWORD '" + writerPassword + "'");
      st.execute("CREATE ROLE " + READER_ROLE + " LOGIN PASSWORD '" + readerPassword + "'");
      st.execute("ALTER ROLE " + READER_ROLE + " SET default_transaction_read_only = on");
    }
    try (Connection c = pg.getDatabase("payments_app", "payments").getConnection()) {
      DemoData.create(c);
      try (Statement st = c.createStatement()) {
        grantRoles(st);
      }
    }
    // Every login needs a password (SCRAM) from here on: the gateway's role has one (sealed in the
    // gateway, and in demo.env for loading data directly), and the superuser gets a random one
    // that nothing keeps. The embedded server's default (trust for everyone on 127.0.0.1) would let
    // any local user past the gateway as superuser, to the data and to COPY ... TO PROGRAM.
    Files.writeString(
        pgdata.resolve("pg_hba.conf"),
        """
        host all all 127.0.0.1/32 scram-sha-256
        host all all ::1/128 scram-sha-256
        """);
    try (Connection c = pg.getPostgresDatabase().getConnection();
        Statement st = c.createStatement()) {
      byte[] random = new byte[24];
      new java.security.SecureRandom().nextBytes(random);
      st.execute(
          "ALTER ROLE postgres PASSWORD '" + java.util.HexFormat.of().formatHex(random) + "'");
      st.execute("SELECT pg_reload_conf()");
    }
    return pg;
  }

  /**
   * What the demo's roles may do, enforced by PostgreSQL under the gateway's policy: neither may
   * create objects in public (so no function or operator can shadow a built-in that the classifier
   * trusts) nor temporary ones (a temporary table named payments would come first on the search
   * path), and tables the owner creates later get the same grants.
   */
  static void grantRoles(Statement st) throws java.sql.SQLException {
    st.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    st.execute("REVOKE TEMPORARY ON DATABASE payments FROM PUBLIC");
    for (String role : List.of(WRITER_ROLE, READER_ROLE)) {
      st.execute("GRANT CONNECT ON DATABASE payments TO " + role);
      st.execute("GRANT USAGE ON SCHEMA public TO " + role);
    }
    st.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + READER_ROLE);
    st.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + WRITER_ROLE);
    st.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + WRITER_ROLE);
    st.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO " + READER_ROLE);
    st.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES"
            + " TO "
            + WRITER_ROLE);
    st.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "
            + WRITER_ROLE);
  }

  private static void copyResource(String name, Path to) throws IOException {
    try (InputStream in = DemoCommand.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("demo resource " + name + " is missing from the build");
      }
      Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static void checkPortFree(String flag, int port) throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("127.0.0.1", port));
    } catch (BindException e) {
      throw new IOException(
          "port " + port + " on 127.0.0.1 is already in use; choose another with " + flag + " N");
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void closeQuietly(DemoSshTarget t) {
    try {
      if (t != null) {
        t.close();
      }
    } catch (IOException | RuntimeException ignored) {
      // best effort at shutdown
    }
  }

  /** An exec connection of the demo (labels env=demo, team=platform). */
  private static ConnectionConfig execConnection(String name, ExecConfig exec) {
    return new ConnectionConfig(
        name,
        "exec",
        null,
        0,
        null,
        null,
        null,
        Map.of("env", "demo", "team", "platform"),
        null,
        Map.of(),
        exec,
        null);
  }

  /** The java launcher of the running JDK: the build runner's one binary. */
  static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toAbsolutePath().toString();
  }

  private static void closeQuietly(EmbeddedPostgres pg) {
    try {
      pg.close();
    } catch (IOException | RuntimeException ignored) {
      // best effort at shutdown
    }
  }
}
