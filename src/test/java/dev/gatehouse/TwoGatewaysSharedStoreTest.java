package dev.gatehouse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gate.AuthAttempt;
import dev.gatehouse.server.GatehouseServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * High availability on plain PostgreSQL: two gateway replicas share one PostgreSQL store. A
 * statement held for review on replica B is released by an approval given through replica A, and a
 * token issued on A works on B.
 */
class TwoGatewaysSharedStoreTest {
  static final String APP_PASSWORD = "app-Secret-71b0";
  @TempDir static Path dir;
  static EmbeddedPostgres store;
  static EmbeddedPostgres target;
  static GatehouseServer a;
  static GatehouseServer b;

  @BeforeAll
  static void start() throws Exception {
    store = EmbeddedPostgres.builder().start();
    target = EmbeddedPostgres.builder().start();
    try (Connection c = target.getPostgresDatabase().getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE ROLE app LOGIN PASSWORD '" + APP_PASSWORD + "'");
      st.execute("CREATE DATABASE payments OWNER app");
    }
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + target.getPort() + "/payments",
                "app",
                APP_PASSWORD);
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE payments (id int PRIMARY KEY, status text)");
      st.execute("INSERT INTO payments VALUES (42, 'settled')");
    }
    Path policies = Files.createDirectories(dir.resolve("policies"));
    try (var in =
        TwoGatewaysSharedStoreTest.class.getResourceAsStream("/examples/policies/demo.yaml")) {
      Files.copy(in, policies.resolve("demo.yaml"));
    }
    // Both replicas need the same master key: the sealed credentials and signing keys are shared.
    Files.writeString(dir.resolve("master.key"), dev.gatehouse.credential.MasterKey.generate());
    a = GatehouseServer.start(config("a"));
    b = GatehouseServer.start(config("b"));
  }

  static GatehouseConfig config(String name) throws Exception {
    String yaml =
        """
        server:
          data_dir: data-%s
          master_key: ${file:master.key}
          api: { host: 127.0.0.1, port: 0 }
          postgres: { host: 127.0.0.1, port: 0 }
          ssh: { enabled: false }
        store:
          type: postgres
          url: jdbc:postgresql://127.0.0.1:%d/postgres
          username: postgres
          password: ${env:STORE_PASSWORD}
        identity:
          users:
            - { subject: alice, kind: human, groups: [engineering], role: user }
            - { subject: dana, kind: human, groups: [dba], role: admin }
        connections:
          - name: payments-db
            type: postgres
            host: 127.0.0.1
            port: %d
            database: payments
            username: app
            password: ${env:PAYMENTS_PASSWORD}
            # demo.yaml's upstream_role: the same login here (the test is about the gateway)
            roles:
              - { name: writer, username: app, password: "${env:PAYMENTS_PASSWORD}" }
              - { name: reader, username: app, password: "${env:PAYMENTS_PASSWORD}" }
            tls: { mode: disable }
        policy:
          files: [policies/*.yaml]
        """
            .formatted(name, store.getPort(), target.getPort());
    return ConfigLoader.parse(
        yaml,
        "gatehouse-" + name + ".yaml",
        dir,
        Map.of("PAYMENTS_PASSWORD", APP_PASSWORD, "STORE_PASSWORD", "postgres"));
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {b, a, target, store}) {
      if (c != null) {
        c.close();
      }
    }
  }

  @Test
  void approvalThroughReplicaAReleasesAStatementHeldOnReplicaB() throws Exception {
    String alice = a.tokens().issueForUser("alice", null, Set.of(), "test").secret();
    String dana = b.tokens().issueForUser("dana", null, Set.of(), "test").secret();
    Path out = dir.resolve("held.out");
    Path err = dir.resolve("held.err");
    ProcessBuilder pb =
        new ProcessBuilder(
            "psql",
            "host=127.0.0.1 port="
                + b.postgresPort()
                + " dbname=payments-db user=alice"
                + " sslmode=require",
            "-X",
            "-c",
            "/* justification: OPS-7 */ UPDATE payments SET status = 'refunded' WHERE id = 42");
    pb.environment().put("PGPASSWORD", alice); // issued on A, used on B: one shared store
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process psql = pb.start();

    String id = null;
    for (int i = 0; i < 150 && id == null; i++) {
      var pending = a.reviews().list("pending", 10);
      if (!pending.isEmpty()) {
        id = pending.get(0).id();
      } else {
        Thread.sleep(200);
      }
    }
    assertThat(id).as("a review filed on B is visible on A").isNotNull();
    var reviewer = a.gate().authenticate(dana, new AuthAttempt("test", null, null));
    a.reviews().approve(id, reviewer, "refund confirmed");

    assertThat(psql.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(out)).contains("UPDATE 1");
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + target.getPort() + "/payments",
                "app",
                APP_PASSWORD);
        Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT status FROM payments WHERE id = 42")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("refunded");
    }
  }

  @Test
  void bothReplicasExtendOneAuditChain() throws Exception {
    a.awaitRecorded();
    b.awaitRecorded();
    var verify = new dev.gatehouse.audit.AuditVerifier(a.database()).verify();
    assertThat(verify.ok()).as(String.valueOf(verify.problem())).isTrue();
    // Each replica appended its own server.start (and the sessions above): one chain, no forks.
    assertThat(verify.records()).isGreaterThanOrEqualTo(2);
  }
}
