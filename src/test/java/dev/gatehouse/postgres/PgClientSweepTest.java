package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.UPSTREAM_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.policy.PolicySet;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The twentieth session's real-client sweep (psql 15, pgjdbc) against examples/policies/demo.yaml
 * on a connection of its own: what broke on day one, as a DBA of the demo would meet it.
 */
class PgClientSweepTest {
  static final String CONN = "sweep20-payments";
  static final String DBA_TOKEN = "tok-sweep20-dba-0001";
  static final String ENGINEER_TOKEN = "tok-sweep20-eng-0002";

  /** The connection's own login, made for this class so that a failure cannot lock others out. */
  static final String LOGIN = "gh_sweep20";

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    try (Connection c = t.direct("postgres");
        Statement s = c.createStatement()) {
      s.execute("DROP ROLE IF EXISTS " + LOGIN);
      s.execute("SET password_encryption = 'scram-sha-256'");
      s.execute("CREATE ROLE " + LOGIN + " LOGIN CREATEROLE PASSWORD '" + UPSTREAM_PASSWORD + "'");
    }
    t.freshDatabase("gh_sweep20", "CREATE TABLE public.payments (id int PRIMARY KEY)");
    t.addDemoConnection(CONN, "gh_sweep20", LOGIN);
    t.addPrincipal(DBA_TOKEN, "dora", Set.of("dba"));
    t.addPrincipal(ENGINEER_TOKEN, "emil", Set.of("engineering"));
    PolicySet policy =
        PgTestSupport.policy(
            dir,
            "demo.yaml",
            Files.readString(Path.of("examples/policies/demo.yaml")).replace("payments-db", CONN));
    MaskingEngine engine =
        MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "sweep20"), 0));
    gate = t.gateWith(() -> policy).redactor(engine::redact).build();
    server = t.serve(gate, engine);
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  /** The connection's login still opens the target with the password the vault holds. */
  private static boolean loginStillWorks() {
    Properties p = new Properties();
    p.setProperty("user", LOGIN);
    p.setProperty("password", UPSTREAM_PASSWORD);
    try (Connection c =
        DriverManager.getConnection(
            "jdbc:postgresql://127.0.0.1:" + t.pg.getPort() + "/gh_sweep20", p)) {
      return c.isValid(5);
    } catch (SQLException e) {
      return false;
    }
  }

  /**
   * psql's {@code \password} behind the gateway: current_user is the gateway's login, so psql sends
   * {@code ALTER USER gh_sweep20 PASSWORD 'SCRAM-SHA-256$…'}. Before the login guard the dba's rule
   * ({@code statements: ["*"]}) let it through and the vault's credential stopped working for every
   * later session of the connection.
   */
  @Test
  void psqlPasswordCannotChangeTheGatewaysLogin() throws Exception {
    // \password reads the new password from the terminal (simple_prompt opens /dev/tty), so psql
    // runs under script(1) with a pseudo-terminal, and the answers are typed after the prompts.
    String psql =
        "/usr/bin/psql 'host=127.0.0.1 port="
            + server.address().getPort()
            + " dbname="
            + CONN
            + " user=dora sslmode=disable' -X -v VERBOSITY=verbose -c '\\password'";
    ProcessBuilder pb = new ProcessBuilder("script", "-qec", psql, "/dev/null");
    pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
    pb.environment().put("PGPASSWORD", DBA_TOKEN);
    pb.redirectErrorStream(true);
    Process p = pb.start();
    try (OutputStream in = p.getOutputStream()) {
      for (int i = 0; i < 2; i++) {
        Thread.sleep(1500);
        in.write("Sweep20-new-pw\r".getBytes(StandardCharsets.US_ASCII));
        in.flush();
      }
      Thread.sleep(1000);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(out).isTrue();
    assertThat(out).contains("Enter new password for user \"" + LOGIN + "\"");
    assertThat(out)
        .contains("42501")
        .contains("a login the gateway holds are refused (here: " + LOGIN + ")");
    assertThat(loginStillWorks()).as(out).isTrue();
    // and the session was not ended: the connection still opens through the gateway
    try (Connection c = PgTestSupport.plainJdbc(server, CONN, "dora", DBA_TOKEN, "");
        Statement s = c.createStatement()) {
      assertThat(s.execute("SELECT 1")).isTrue();
    }
  }

  /** The same for what a DBA might type by hand, and through a DO block (pgjdbc). */
  @Test
  void otherWaysToChangeOrDropAHeldLoginAreRefusedToo() throws Exception {
    try (Connection c = PgTestSupport.plainJdbc(server, CONN, "dora", DBA_TOKEN, "");
        Statement s = c.createStatement()) {
      for (String sql :
          List.of(
              "ALTER ROLE CURRENT_USER WITH PASSWORD 'x'",
              "ALTER USER \"" + LOGIN + "\" VALID UNTIL '2000-01-01'",
              "ALTER ROLE " + LOGIN + " NOLOGIN",
              "ALTER ROLE " + LOGIN + " RENAME TO someone_else",
              "DROP ROLE IF EXISTS nobody_here, " + LOGIN,
              "DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', current_user, 'x'); END $$")) {
        SQLException e = catchThrowableOfType(SQLException.class, () -> s.execute(sql));
        assertThat((Throwable) e).as(sql).isNotNull();
        assertThat(e.getSQLState()).as(sql).isEqualTo("42501");
        assertThat(e.getMessage()).as(sql).contains("a login the gateway holds");
      }
      // another role's password, and a held login's settings, are the DBA's business
      s.execute("CREATE ROLE gh_sweep20_other");
      s.execute("ALTER ROLE gh_sweep20_other PASSWORD 'x'");
      s.execute("DROP ROLE gh_sweep20_other");
      s.execute("ALTER ROLE CURRENT_USER SET work_mem = '8MB'");
      s.execute("ALTER ROLE CURRENT_USER RESET work_mem");
    }
    assertThat(loginStillWorks()).isTrue();
  }

  /**
   * An engineer's session is masked, so a LATIN1 client is refused at startup. PgErrors.Fatal adds
   * the "gatehouse: " prefix itself; the message used to carry its own as well ("FATAL: gatehouse:
   * gatehouse: client_encoding LATIN1 …").
   */
  @Test
  void aLatin1ClientOfAMaskedSessionIsRefusedWithOnePrefix() throws Exception {
    PgTestSupport.Run r =
        PgTestSupport.run(
            ENGINEER_TOKEN,
            java.util.Map.of("PGCLIENTENCODING", "LATIN1"),
            List.of(
                "/usr/bin/psql",
                "host=127.0.0.1 port="
                    + server.address().getPort()
                    + " dbname="
                    + CONN
                    + " user=emil sslmode=disable",
                "-X",
                "-c",
                "SELECT 1"));
    assertThat(r.exit()).as(r.all()).isNotZero();
    assertThat(r.err())
        .contains("FATAL:  gatehouse: client_encoding LATIN1 is refused")
        .doesNotContain("gatehouse: gatehouse:");
  }

  /**
   * psql's {@code \lo_import} sends FunctionCall messages (lo_creat, lo_open, lowrite: libpq's
   * fe-lobj.c), which the demo's engineers may not send (kind unknown: the table-deny rule about
   * session texts matches it). The refusal used to say the statement "could not be parsed", naming
   * a statement the engineer never wrote.
   */
  @Test
  void aRefusedLargeObjectImportSaysItWasAFunctionCall() throws Exception {
    Path file = Files.createTempFile("sweep20-lo", ".txt");
    Files.writeString(file, "large object\n");
    PgTestSupport.Run r =
        PgTestSupport.run(
            ENGINEER_TOKEN,
            java.util.Map.of(),
            List.of(
                "/usr/bin/psql",
                "host=127.0.0.1 port="
                    + server.address().getPort()
                    + " dbname="
                    + CONN
                    + " user=emil sslmode=disable",
                "-X",
                "-c",
                "\\lo_import " + file));
    Files.deleteIfExists(file);
    assertThat(r.exit()).as(r.all()).isNotZero();
    assertThat(r.err())
        .contains("ERROR:  gatehouse: denied by rule engineering-no-session-texts")
        .contains("a FunctionCall message, as large-object clients such as psql's \\lo_import send")
        .doesNotContain("could not be parsed");
  }

  /**
   * pgjdbc features of the sweep not covered elsewhere, in a masked session (the demo's engineer):
   * binary transfer of bytea, uuid and timestamptz with server-prepared statements, a fetch size
   * with autocommit off (portal suspension), and {@code Statement.cancel()} from another thread.
   */
  @Test
  void pgjdbcBinaryTransferFetchSizeAndCancelInAMaskedSession() throws Exception {
    try (Connection c =
        PgTestSupport.plainJdbc(
            server, CONN, "emil", ENGINEER_TOKEN, "&binaryTransfer=true&prepareThreshold=1")) {
      try (var ps =
          c.prepareStatement(
              "SELECT '\\xdeadbeef'::bytea, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,"
                  + " '2026-11-24 08:00:00+00'::timestamptz, 12.50::numeric, ?::int")) {
        for (int run = 0; run < 2; run++) { // the second run is server-prepared, binary
          ps.setInt(1, run);
          try (var rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBytes(1)).containsExactly(0xde, 0xad, 0xbe, 0xef);
            assertThat(rs.getObject(2)).hasToString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
            assertThat(rs.getTimestamp(3).toInstant())
                .isEqualTo(java.time.Instant.parse("2026-11-24T08:00:00Z"));
            assertThat(rs.getBigDecimal(4)).isEqualByComparingTo("12.50");
          }
        }
      }
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.setFetchSize(7);
        int n = 0;
        try (var rs = s.executeQuery("SELECT g FROM generate_series(1, 50) g")) {
          while (rs.next()) {
            assertThat(rs.getInt(1)).isEqualTo(++n);
          }
        }
        assertThat(n).isEqualTo(50);
      }
      c.commit();
      c.setAutoCommit(true);
      try (Statement s = c.createStatement()) {
        var canceller =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor()
                .schedule(
                    () -> {
                      s.cancel();
                      return null;
                    },
                    1,
                    TimeUnit.SECONDS);
        long t0 = System.nanoTime();
        SQLException e =
            catchThrowableOfType(SQLException.class, () -> s.execute("SELECT pg_sleep(30)"));
        canceller.get();
        assertThat(e.getSQLState()).isEqualTo("57014");
        assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(20));
        assertThat(s.execute("SELECT 1")).isTrue(); // the session goes on
      }
    }
  }
}
