package dev.gatehouse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.server.GatehouseServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole gateway as a user runs it: {@code gatehouse.yaml} → {@link GatehouseServer} with the
 * embedded store, real identity, policy, masking, audit and recordings, in front of a real
 * PostgreSQL; driven by psql and by the {@code gatehouse} CLI in a separate process.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayEndToEndTest {
  static final String APP_PASSWORD = "app-Secret-9f3c2a77";
  @TempDir static Path dir;
  static EmbeddedPostgres target;
  static GatehouseServer server;
  static String alice;
  static String dana;
  static String ci;
  static final List<String> everythingClientsSaw = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    target =
        EmbeddedPostgres.builder().setServerConfig("password_encryption", "scram-sha-256").start();
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
      st.execute(
          "CREATE TABLE customers (id int PRIMARY KEY, full_name text, email text UNIQUE,"
              + " card text, notes text)");
      st.execute(
          "INSERT INTO customers VALUES"
              + " (1, 'Ada Lovelace', 'ada@example.com', '4111-1111-1111-1111', 'call +1 415 555"
              + " 0100'),"
              + " (2, 'Alan Turing', 'alan@example.org', '5555-5555-5555-4444', 'VIP')");
    }
    Path policies = Files.createDirectories(dir.resolve("policies"));
    try (var in = GatewayEndToEndTest.class.getResourceAsStream("/examples/policies/demo.yaml")) {
      Files.copy(in, policies.resolve("demo.yaml"));
    }
    String yaml =
        """
        server:
          data_dir: data
          api: { host: 127.0.0.1, port: 0 }
          postgres: { host: 127.0.0.1, port: 0 }
          ssh: { enabled: false }
        identity:
          users:
            - { subject: alice, kind: human, groups: [engineering], role: user }
            - { subject: dana, kind: human, groups: [dba], role: admin }
            - { subject: ci-bot, kind: service, groups: [ci], role: user }
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
            .formatted(target.getPort());
    GatehouseConfig cfg =
        ConfigLoader.parse(yaml, "e2e.yaml", dir, Map.of("PAYMENTS_PASSWORD", APP_PASSWORD));
    server = GatehouseServer.start(cfg);
    alice = server.tokens().issueForUser("alice", null, Set.of(), "test").secret();
    dana = server.tokens().issueForUser("dana", null, Set.of(), "test").secret();
    ci = server.tokens().issueForUser("ci-bot", Duration.ofHours(1), Set.of(), "test").secret();
  }

  @AfterAll
  static void stop() throws IOException {
    if (server != null) {
      server.close();
    }
    if (target != null) {
      target.close();
    }
  }

  record Run(int exit, String out, String err) {}

  static Run run(Map<String, String> env, String... cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("process finished: %s", List.of(cmd)).isTrue();
    Run r = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    everythingClientsSaw.add(r.out());
    everythingClientsSaw.add(r.err());
    return r;
  }

  static String conninfo(String user) {
    return "host=127.0.0.1 port="
        + server.postgresPort()
        + " dbname=payments-db user="
        + user
        + " sslmode=require";
  }

  static Run psql(String user, String token, String... sql) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add("psql");
    cmd.add(conninfo(user));
    cmd.add("-X");
    cmd.add("-v");
    cmd.add("VERBOSITY=verbose");
    cmd.add("-At");
    for (String s : sql) {
      cmd.add("-c");
      cmd.add(s);
    }
    return run(Map.of("PGPASSWORD", token), cmd.toArray(String[]::new));
  }

  static Run cli(String token, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.gatehouse.Gatehouse");
    cmd.addAll(List.of(args));
    Map<String, String> env = new HashMap<>();
    env.put("GATEHOUSE_API", server.apiUrl());
    env.put("GATEHOUSE_CACERT", server.tls().certificateFile().toString());
    env.put("GATEHOUSE_TOKEN", token);
    env.put("XDG_CONFIG_HOME", dir.resolve("xdg").toString());
    return run(env, cmd.toArray(String[]::new));
  }

  @Test
  @Order(1)
  void engineerReadsThroughPsqlWithSensitiveValuesMasked() throws Exception {
    Run r = psql("alice", alice, "SELECT id, email, card, notes FROM customers ORDER BY id");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("1|").contains("2|");
    assertThat(r.out()).doesNotContain("ada@example.com", "4111-1111-1111-1111", "415 555 0100");
    assertThat(r.out()).contains("1111"); // cards keep their last four digits
  }

  @Test
  @Order(1)
  void valuesInsideErrorMessagesAreMaskedToo() throws Exception {
    Run r = psql("alice", alice, "SELECT 'grace.hopper@example.com'::int");
    assertThat(r.exit()).isNotZero();
    // psql echoes its own query text after "LINE 1:"; the server's message is what must be masked.
    String message = r.err().lines().filter(l -> l.startsWith("ERROR:")).findFirst().orElse("");
    assertThat(message).contains("22P02").doesNotContain("grace.hopper@example.com");
    assertThat(message).contains("@example.com"); // partial style keeps the domain
  }

  @Test
  @Order(1)
  void binaryResultsFromPgjdbcAreMaskedToo() throws Exception {
    var props = new java.util.Properties();
    props.setProperty("user", "alice");
    props.setProperty("password", alice);
    props.setProperty("sslmode", "require");
    props.setProperty("binaryTransfer", "true");
    props.setProperty(
        "prepareThreshold", "-1"); // server-prepared from the first use: binary results
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + server.postgresPort() + "/payments-db", props);
        var ps = c.prepareStatement("SELECT email, card FROM customers WHERE id = ?")) {
      ps.setInt(1, 1);
      try (var rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isNotEqualTo("ada@example.com").endsWith("@example.com");
        assertThat(rs.getString(2)).isNotEqualTo("4111-1111-1111-1111").endsWith("1111");
      }
    }
  }

  @Test
  @Order(1)
  void copyToStdoutIsMaskedToo() throws Exception {
    Run r = psql("alice", alice, "COPY (SELECT email, card FROM customers ORDER BY id) TO STDOUT");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).doesNotContain("ada@example.com", "4111-1111-1111-1111");
    assertThat(r.out()).contains("@example.com").contains("1111");
  }

  @Test
  @Order(1)
  void resultsAreCutAtTheRulesMaxRows() throws Exception {
    // The demo policy's engineering-read rule sets max_rows: 10000.
    Run r = psql("alice", alice, "SELECT g FROM generate_series(1, 10005) AS g");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().lines().count()).isEqualTo(10_000);
    assertThat(r.err()).contains("cut at 10000 rows").contains("engineering-read");
    Run dba = psql("dana", dana, "SELECT g FROM generate_series(1, 10005) AS g");
    assertThat(dba.out().lines().count()).isEqualTo(10_005);
  }

  @Test
  @Order(1)
  void copyToStdoutRowsAreCutAtMaxRowsToo() throws Exception {
    // One CopyData per row: COPY is an export like SELECT, and cut at the same limit.
    Run r = psql("alice", alice, "COPY (SELECT g FROM generate_series(1, 10005) AS g) TO STDOUT");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().lines().count()).isEqualTo(10_000);
    assertThat(r.out().lines().reduce((x, y) -> y)).contains("10000");
    assertThat(r.err()).contains("cut at 10000 rows").contains("engineering-read");
    // The CSV header line is one of the CopyData messages, so it counts as a row.
    Run csv =
        psql(
            "alice",
            alice,
            "COPY (SELECT g FROM generate_series(1, 10005) AS g) TO STDOUT WITH (FORMAT csv,"
                + " HEADER)");
    assertThat(csv.out().lines().count()).isEqualTo(10_000);
    assertThat(csv.out().lines().findFirst()).contains("g");
    Run dba = psql("dana", dana, "COPY (SELECT g FROM generate_series(1, 10005) AS g) TO STDOUT");
    assertThat(dba.out().lines().count()).isEqualTo(10_005);
  }

  @Test
  @Order(1)
  void aCursorsRowsAreCountedAcrossItsFetches() throws Exception {
    Run r =
        psql(
            "alice",
            alice,
            "BEGIN",
            "DECLARE c CURSOR FOR SELECT g FROM generate_series(1, 12000) AS g",
            "FETCH 6000 FROM c",
            "FETCH 6000 FROM c",
            "FETCH 10 FROM c",
            "COMMIT",
            // A new cursor of the same name starts counting again.
            "BEGIN",
            "DECLARE c CURSOR FOR SELECT -g FROM generate_series(1, 20) AS g",
            "FETCH 5 FROM c",
            "COMMIT");
    assertThat(r.exit()).as(r.err()).isZero();
    List<String> rows = r.out().lines().filter(l -> l.matches("-?\\d+")).toList();
    assertThat(rows.stream().filter(l -> !l.startsWith("-")).count()).isEqualTo(10_000);
    assertThat(rows).contains("10000").doesNotContain("10001");
    assertThat(rows).containsSubsequence("-1", "-2", "-3", "-4", "-5");
    assertThat(r.err()).contains("cut at 10000 rows of cursor c").contains("engineering-read");
    // psql's FETCH_COUNT reads a plain SELECT through a cursor of its own.
    Run fetchCount =
        run(
            Map.of("PGPASSWORD", alice),
            "psql",
            conninfo("alice"),
            "-X",
            "-At",
            "-v",
            "FETCH_COUNT=1000",
            "-c",
            "SELECT g FROM generate_series(1, 12000) AS g");
    assertThat(fetchCount.exit()).as(fetchCount.err()).isZero();
    assertThat(fetchCount.out().lines().count()).isEqualTo(10_000);
    assertThat(fetchCount.err()).contains("cut at 10000 rows");
    Run dba =
        psql(
            "dana",
            dana,
            "BEGIN",
            "DECLARE c CURSOR FOR SELECT g FROM generate_series(1, 12000) AS g",
            "FETCH 6000 FROM c",
            "FETCH 6000 FROM c",
            "COMMIT");
    assertThat(dba.out().lines().filter(l -> l.matches("\\d+")).count()).isEqualTo(12_000);
  }

  @Test
  @Order(2)
  void dbaSeesRawValuesAndThatAccessIsAudited() throws Exception {
    Run r = psql("dana", dana, "SELECT email FROM customers WHERE id = 1");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().trim()).isEqualTo("ada@example.com");
  }

  @Test
  @Order(3)
  void deniedStatementGets42501NamingTheRuleAndSessionStaysUsable() throws Exception {
    Run r = psql("alice", alice, "DROP TABLE customers", "SELECT count(*) FROM customers");
    assertThat(r.err()).contains("42501").contains("rule");
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + target.getPort() + "/payments",
                "app",
                APP_PASSWORD);
        Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT count(*) FROM customers")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(2);
    }
  }

  @Test
  @Order(4)
  void ciSessionIsReadOnlyInTheDatabaseToo() throws Exception {
    Run r = psql("ci-bot", ci, "SHOW default_transaction_read_only");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().trim()).isEqualTo("on");
    Run off = psql("ci-bot", ci, "SET default_transaction_read_only = off");
    assertThat(off.exit()).isNotZero();
    assertThat(off.err()).contains("42501");
  }

  @Test
  @Order(5)
  void wrongTokenIsRejectedWith28P01() throws Exception {
    Run r = psql("alice", "ght_nope_" + "x".repeat(43), "SELECT 1");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("FATAL");
    // psql does not print the SQLSTATE of a connection failure; pgjdbc exposes it.
    var props = new java.util.Properties();
    props.setProperty("user", "alice");
    props.setProperty("password", alice.substring(0, alice.length() - 1) + "x");
    props.setProperty("sslmode", "require");
    var e =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            java.sql.SQLException.class,
            () ->
                DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + server.postgresPort() + "/payments-db",
                    props));
    assertThat(e.getSQLState()).isEqualTo("28P01");
  }

  @Test
  @Order(6)
  void cliListsSessionsAndShowsTheTimeline() throws Exception {
    Run list = cli(dana, "sessions", "list", "--output", "json");
    assertThat(list.exit()).as(list.err()).isZero();
    assertThat(list.out()).contains("\"subject\" : \"alice\"").contains("payments-db");
    String id = list.out().replaceAll("(?s).*?\"id\" : \"([^\"]+)\".*", "$1");
    Run show = cli(dana, "sessions", "show", id);
    assertThat(show.exit()).as(show.err()).isZero();
    assertThat(show.out()).isNotBlank();
  }

  @Test
  @Order(7)
  void apiErrorsAreProblemJson() throws Exception {
    HttpResponse<String> r =
        http()
            .send(
                HttpRequest.newBuilder(URI.create(server.apiUrl() + "/api/v1/tokens")).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(r.body()).contains("\"status\":401");
  }

  @Test
  @Order(8)
  void nonAdminCannotIssueTokensForOthers() throws Exception {
    Run r = cli(alice, "token", "issue", "--user", "dana");
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.err()).contains("only admins");
  }

  @Test
  @Order(9)
  void policyCheckExplainsTheDecision() throws Exception {
    Run r =
        cli(
            dana,
            "policy",
            "check",
            "--connection",
            "payments-db",
            "--user",
            "alice",
            "--sql",
            "DELETE FROM customers");
    assertThat(r.out() + r.err()).containsIgnoringCase("deny");
    assertThat(r.exit()).isEqualTo(1);
  }

  @Test
  @Order(9)
  void policyTestsRunLocallyAndConfigCheckFailsWithFileAndLine() throws Exception {
    Run tests = cli(dana, "policy", "test", "examples/policies/*.policytest.yaml");
    assertThat(tests.exit()).as(tests.out() + tests.err()).isZero();
    assertThat(tests.out()).contains("passed, 0 failed");
    Path bad = dir.resolve("broken.yaml");
    Files.writeString(
        bad, "server:\n  data_dr: x\nconnections:\n  - name: a\n    type: postgress\n");
    Run check = cli(dana, "config", "check", bad.toString());
    assertThat(check.exit()).isEqualTo(2);
    assertThat(check.err()).contains("broken.yaml:2:").contains("did you mean `data_dir`?");
    assertThat(check.err()).contains("broken.yaml:5:").contains("postgres");
    // The policy files the configuration names are loaded as at start-up.
    Path policies = Files.createDirectories(dir.resolve("check-policies"));
    Files.writeString(
        policies.resolve("fwd.yaml"),
        "version: 1\nrules:\n  - id: tunnels\n    subjects: { users: [alice] }\n"
            + "    connections: { names: [box] }\n    effect: allow\n"
            + "    forward:\n      types: [local]\n"
            + "      destinations: [{ host: db, ports: [70000] }]\n");
    Path withPolicies = dir.resolve("with-policies.yaml");
    Files.writeString(withPolicies, "policy:\n  files: [check-policies/*.yaml]\n");
    Run policyCheck = cli(dana, "config", "check", withPolicies.toString());
    assertThat(policyCheck.exit()).as(policyCheck.out() + policyCheck.err()).isEqualTo(2);
    assertThat(policyCheck.err()).contains("fwd.yaml:").contains("70000");
  }

  @Test
  @Order(10)
  void upstreamPasswordNeverReachesClients() {
    assertThat(String.join("\n", everythingClientsSaw)).doesNotContain(APP_PASSWORD);
  }

  /** Starts psql in the background; the statement will be held for review. */
  static Process psqlAsync(String user, String token, Path out, Path err, String sql)
      throws IOException {
    return psqlAsync(user, token, out, err, "-c", sql);
  }

  /** psql in the background with {@code args} after the connection (e.g. {@code -f file}). */
  static Process psqlAsync(String user, String token, Path out, Path err, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add("psql");
    cmd.add(conninfo(user));
    cmd.addAll(List.of("-X", "-v", "VERBOSITY=verbose"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("PGPASSWORD", token);
    pb.environment().put("PGCLIENTENCODING", "UTF8");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    return pb.start();
  }

  /** Waits until the reviews API lists a pending review and returns its id. */
  static String pendingReviewId() throws Exception {
    for (int i = 0; i < 100; i++) {
      Run r = cli(dana, "reviews", "list", "--output", "json");
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile(
                  "\"id\" : \"(rv_[^\"]+)\"[^}]*?\"state\" : \"pending\"",
                  java.util.regex.Pattern.DOTALL)
              .matcher(r.out());
      if (m.find()) {
        return m.group(1);
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no pending review appeared");
  }

  @Test
  @Order(11)
  void heldUpdateRunsAfterADbaApprovesFromAnotherProcess() throws Exception {
    Path out = dir.resolve("held.out");
    Path err = dir.resolve("held.err");
    Process p =
        psqlAsync(
            "alice",
            alice,
            out,
            err,
            "/* justification: OPS-42 */ UPDATE customers SET notes = 'refunded' WHERE id = 2");
    String id = pendingReviewId();
    assertThat(Files.readString(err)).contains(id); // the NoticeResponse names the review
    Run self = cli(alice, "reviews", "approve", id, "--reason", "me");
    assertThat(self.exit()).isNotZero(); // alice is not a reviewer, and never of her own request
    Run approve = cli(dana, "reviews", "approve", id, "--reason", "refund confirmed");
    assertThat(approve.exit()).as(approve.err()).isZero();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(out)).contains("UPDATE 1");
    Run check = psql("dana", dana, "SELECT notes FROM customers WHERE id = 2");
    assertThat(check.out().trim()).isEqualTo("refunded");
  }

  @Test
  @Order(12)
  void aDenialsReasonReachesPsqlAs42501() throws Exception {
    Path out = dir.resolve("denied.out");
    Path err = dir.resolve("denied.err");
    Process p =
        psqlAsync(
            "alice",
            alice,
            out,
            err,
            "/* justification: OPS-43 */ DELETE FROM customers WHERE id = 1");
    String id = pendingReviewId();
    Run deny = cli(dana, "reviews", "deny", id, "--reason", "customer 1 is under audit");
    assertThat(deny.exit()).as(deny.err()).isZero();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(err)).contains("42501").contains("customer 1 is under audit");
    assertThat(psql("dana", dana, "SELECT count(*) FROM customers").out().trim()).isEqualTo("2");
  }

  @Test
  @Order(13)
  void aReviewerSeesControlAndBidiCharactersEscapedAndApprovesTheExactStatement() throws Exception {
    // Red-team F8: a carriage return and an erase-line escape in a comment made the reviewer's
    // terminal show "WHERE id = 1" while "WHERE id = 1 OR id = 2" ran; U+202E reorders text.
    String shown = "UPDATE customers SET notes = 'spoofed' WHERE id = 1";
    String sql =
        "/* justification: OPS-44 */ UPDATE customers SET notes = 'spoofed' WHERE id = 1 OR id = 2"
            + " /*\rstatement: /* justification: OPS-44 */ "
            + shown
            + "\u001b[K \u202e2 = di */";
    Path file = dir.resolve("spoof.sql");
    Files.writeString(file, sql, StandardCharsets.UTF_8);
    Path out = dir.resolve("spoof.out");
    Path err = dir.resolve("spoof.err");
    Process p = psqlAsync("alice", alice, out, err, "-f", file.toString());
    String id = pendingReviewId();

    Run show = cli(dana, "reviews", "show", id);
    assertThat(show.exit()).as(show.err()).isZero();
    assertThat(show.out())
        .contains("WHERE id = 1 OR id = 2 /*\\rstatement:")
        .contains(shown + "\\u001B[K \\u202E2 = di */")
        .doesNotContain("\r", "\u001b", "\u202e");
    Run list = cli(dana, "reviews", "list");
    assertThat(list.exit()).as(list.err()).isZero();
    assertThat(list.out())
        .contains("OR id = 2 /*\\rstatement:")
        .contains("\\u001B[K")
        .doesNotContain("\r", "\u001b", "\u202e");

    Run approve = cli(dana, "reviews", "approve", id, "--reason", "looked at it");
    assertThat(approve.exit()).as(approve.err()).isZero();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    // The approval bound the statement as it was sent, not as a terminal would have shown it.
    assertThat(Files.readString(out)).contains("UPDATE 2");
    assertThat(psql("dana", dana, "SELECT count(*) FROM customers WHERE notes = 'spoofed'").out())
        .contains("2");

    // The session timeline shows the same statement escaped.
    Run sessions = cli(alice, "sessions", "list", "--output", "json");
    String session = sessions.out().replaceAll("(?s).*?\"id\" : \"([^\"]+)\".*", "$1");
    Run timeline = cli(alice, "sessions", "show", session);
    assertThat(timeline.out())
        .contains("\\u001B[K \\u202E2 = di */")
        .doesNotContain("\r", "\u001b", "\u202e");
  }

  @Test
  @Order(20)
  void auditVerifyPassesThenNamesATamperedRecord() throws Exception {
    Run ok = cli(dana, "audit", "verify");
    assertThat(ok.exit()).as(ok.out() + ok.err()).isZero();
    assertThat(ok.out()).contains("intact");
    // Tamper with one record directly in the store's database file (a second process would do
    // the same through H2's AUTO_SERVER).
    String url =
        "jdbc:h2:file:"
            + dir.resolve("data").resolve("gatehouse").toAbsolutePath()
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;AUTO_SERVER=TRUE";
    try (Connection c = DriverManager.getConnection(url, "gatehouse", "");
        Statement st = c.createStatement()) {
      assertThat(st.executeUpdate("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"))
          .isEqualTo(1);
    }
    Run bad = cli(dana, "audit", "verify");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.out()).contains("3");
  }

  static HttpClient http() throws Exception {
    return dev.gatehouse.api.GatewayFixture.trustingClient(server.tls().certificateFile());
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
