package dev.gatehouse;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.api.GatewayFixture;
import dev.gatehouse.approval.ReviewView;
import dev.gatehouse.audit.AuditExporter;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gate.AuthAttempt;
import dev.gatehouse.server.GatehouseServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A review's approval runs the statement that was reviewed and nothing else, end to end through the
 * PostgreSQL gateway (psql and pgjdbc, TLS, the demo policy: engineers' writes need a DBA's
 * approval). The red team's two bypasses: a re-run whose newline after {@code --} turns the comment
 * into code, and one whose nested {@code /*} makes the justification comment swallow the reviewed
 * statement; both ran under the other text's approval. And a client killed while held: the approval
 * that arrives afterwards runs nothing.
 */
class ReviewFingerprintGatewayTest {
  static final String APP_PASSWORD = "app-Secret-5c2e";
  static final int ROWS = 50;
  @TempDir static Path dir;
  static EmbeddedPostgres target;
  static GatehouseServer gw;
  static String alice;
  static String dana;
  static String root;
  static HttpServer hooks;

  /** Between the gateway and the target, so that a test can cut the connection to the target. */
  static TargetProxy proxy;

  static final List<String> notified = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    hooks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    hooks.createContext(
        "/",
        ex -> {
          notified.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    hooks.start();
    target = EmbeddedPostgres.builder().start();
    try (Connection c = target.getPostgresDatabase().getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE ROLE app LOGIN PASSWORD '" + APP_PASSWORD + "'");
      st.execute("CREATE DATABASE payments OWNER app");
    }
    try (Connection c = direct();
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE payments (id int PRIMARY KEY, status text)");
    }
    proxy = new TargetProxy(target.getPort());
    Path policies = Files.createDirectories(dir.resolve("policies"));
    try (var in =
        ReviewFingerprintGatewayTest.class.getResourceAsStream("/examples/policies/demo.yaml")) {
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
            - { subject: root, kind: human, groups: [admins], role: admin }
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
        approvals:
          max_wait: 3s
          webhooks:
            - { format: json, url: "http://127.0.0.1:%d/json" }
            - { format: slack, url: "http://127.0.0.1:%d/slack" }
        """
            .formatted(proxy.port(), hooks.getAddress().getPort(), hooks.getAddress().getPort());
    GatehouseConfig cfg =
        ConfigLoader.parse(yaml, "gatehouse.yaml", dir, Map.of("PAYMENTS_PASSWORD", APP_PASSWORD));
    gw = GatehouseServer.start(cfg);
    alice = gw.tokens().issueForUser("alice", null, Set.of(), "test").secret();
    dana = gw.tokens().issueForUser("dana", null, Set.of(), "test").secret();
    root = gw.tokens().issueForUser("root", null, Set.of(), "test").secret();
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {gw, proxy, target}) {
      if (c != null) {
        c.close();
      }
    }
    if (hooks != null) {
      hooks.stop(0);
    }
  }

  @BeforeEach
  void settledRows() throws Exception {
    try (Connection c = direct();
        Statement st = c.createStatement()) {
      st.execute("TRUNCATE payments");
      st.execute(
          "INSERT INTO payments SELECT g, 'settled' FROM generate_series(1, " + ROWS + ") g");
    }
  }

  static Connection direct() throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + target.getPort() + "/payments", "app", APP_PASSWORD);
  }

  static int count(String where) throws SQLException {
    try (Connection c = direct();
        Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT count(*) FROM payments WHERE " + where)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  record Psql(Process process, Path out, Path err) {
    String output() throws Exception {
      return Files.readString(out) + Files.readString(err);
    }

    boolean finished() throws InterruptedException {
      return process.waitFor(60, TimeUnit.SECONDS);
    }
  }

  /** psql as alice, each of {@code sqls} a Query of its own in one session. */
  static Psql psql(String... sqls) throws Exception {
    return psqlWith(Map.of(), sqls);
  }

  /** {@link #psql} with more environment variables ({@code PGOPTIONS}). */
  static Psql psqlWith(Map<String, String> env, String... sqls) throws Exception {
    Path out = Files.createTempFile(dir, "psql", ".out");
    Path err = Files.createTempFile(dir, "psql", ".err");
    List<String> command = new ArrayList<>();
    command.add("psql");
    command.add(
        "host=127.0.0.1 port="
            + gw.postgresPort()
            + " dbname=payments-db user=alice sslmode=require");
    command.add("-X");
    for (String sql : sqls) {
      command.add("-c");
      command.add(sql);
    }
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("PGPASSWORD", alice);
    pb.environment().putAll(env);
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    return new Psql(pb.start(), out, err);
  }

  /** The pending review filed for {@code statement}, once it appears. */
  static ReviewView pendingFor(String statement) throws Exception {
    // what the statement refers to (a prepared statement, Bind parameters) follows it
    return pendingWhere(
        statement,
        v -> v.statement().equals(statement) || v.statement().startsWith(statement + "\n\n-- "));
  }

  static ReviewView pendingWhere(String what, Predicate<ReviewView> match) throws Exception {
    for (int i = 0; i < 150; i++) {
      for (ReviewView v : gw.reviews().list("pending", 50)) {
        if (match.test(v)) {
          return v;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        "no pending review for "
            + what
            + " in "
            + gw.reviews().list("pending", 50).stream().map(ReviewView::statement).toList());
  }

  static void approve(String id) throws Exception {
    var reviewer = gw.gate().authenticate(dana, new AuthAttempt("test", null, null));
    gw.reviews().approve(id, reviewer, "looks right");
  }

  /** Files {@code statement} for review and lets it wait out max_wait; then dana approves it. */
  static String approvedButUnused(String statement) throws Exception {
    Psql first = psql(statement);
    String id = pendingFor(statement).id();
    assertThat(first.finished()).isTrue();
    assertThat(first.output()).contains("still pending");
    approve(id);
    return id;
  }

  @Test
  void aJustificationIsMaskedInTheReviewItsAuditEventTheJournalAndNotifications() throws Exception {
    String card = "4526018159083012";
    String password = "Hunter2xyz";
    String statement =
        "/* justification: refund for card "
            + card
            + ", contraseña: "
            + password
            + " */ UPDATE payments SET status = 'refunded' WHERE id = 5";
    Psql held = psql(statement);
    ReviewView v =
        pendingWhere(
            statement,
            r ->
                r.subject().equals("alice")
                    && r.statement().contains("'refunded' WHERE id = 5\n\n-- gatehouse"));
    assertThat(held.finished()).isTrue();

    // What GET /api/v1/reviews and the CLI serve.
    assertThat(v.justification())
        .startsWith("refund for card ************3012")
        .doesNotContain(card)
        .doesNotContain(password);
    // The statement reviewers are shown carries its justification comment masked too.
    assertThat(v.statement())
        .startsWith("/* justification: refund for card ************3012")
        .doesNotContain(card)
        .doesNotContain(password);
    gw.awaitRecorded();
    StringWriter exported = new StringWriter();
    new AuditExporter(gw.database()).export(exported, null, 0);
    String requested =
        exported
            .toString()
            .lines()
            .filter(l -> l.contains("review.requested") && l.contains(v.id()))
            .findFirst()
            .orElseThrow();
    assertThat(requested).contains("refund for card").doesNotContain(card);
    assertThat(requested).doesNotContain(password);
    try (Stream<Path> journal = Files.walk(dir.resolve("data").resolve("journal"))) {
      for (Path f : journal.filter(Files::isRegularFile).toList()) {
        String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        assertThat(bytes).as(f.toString()).doesNotContain(card).doesNotContain(password);
      }
    }
    for (String body : notifications(v.id())) {
      assertThat(body).contains("refund for card").doesNotContain(card).doesNotContain(password);
    }
  }

  /**
   * Every text a person types into a review is masked before it is stored: the held statement (its
   * justification comment and its literals; it runs as typed), a grant request's reason and the
   * reasons reviewers give with their votes. None of a card number, an SSN and a token typed into
   * them is in the store's rows, the API's replies, the webhooks' payloads or the exported audit
   * log.
   */
  @Test
  void reviewTextsAreStoredServedSentAndExportedMasked() throws Exception {
    String card = "4526018159083012";
    String ssn = "536-22-1234";
    String token = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
    String secrets = " card " + card + " ssn " + ssn + " token " + token;
    String statement =
        "/* justification: refund,"
            + secrets
            + " */ UPDATE payments SET status = '"
            + ssn
            + " "
            + card
            + " "
            + token
            + "' WHERE id = 17";
    Psql held = psql(statement);
    ReviewView v =
        pendingWhere(statement, r -> r.statement().contains("WHERE id = 17\n\n-- gatehouse"));
    assertThat(held.finished()).isTrue();
    assertThat(held.output()).contains("still pending");
    HttpClient http = GatewayFixture.trustingClient(gw.tls().certificateFile());
    List<String> served = new ArrayList<>();
    served.add(
        api(http, "POST", "/api/v1/reviews/" + v.id() + "/deny", dana, reason("no," + secrets)));
    String grant =
        api(
            http,
            "POST",
            "/api/v1/access/requests",
            alice,
            "{\"connection\":\"payments-db\",\"role\":\"reporting\",\"duration\":\"30m\","
                + "\"reason\":\"OPS-9"
                + secrets
                + "\"}");
    served.add(grant);
    String grantId = new ObjectMapper().readTree(grant).get("review_id").asText();
    served.add(
        api(
            http,
            "POST",
            "/api/v1/reviews/" + grantId + "/approve",
            root,
            reason("ok," + secrets)));
    served.add(api(http, "GET", "/api/v1/reviews?state=all&limit=500", root, null));
    served.add(api(http, "GET", "/api/v1/reviews/" + v.id(), root, null));
    served.add(api(http, "GET", "/api/v1/access/grants?all=true", root, null));
    served.addAll(notifications(v.id()));
    served.addAll(notifications(grantId));
    gw.awaitRecorded();
    StringWriter exported = new StringWriter();
    new AuditExporter(gw.database()).export(exported, null, 0);
    served.add(exported.toString());
    served.add(
        gw.database()
            .transaction(
                c -> {
                  StringBuilder rows = new StringBuilder();
                  for (String table : List.of("reviews", "review_votes", "grants")) {
                    try (Statement st = c.createStatement();
                        var rs = st.executeQuery("SELECT * FROM " + table)) {
                      while (rs.next()) {
                        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                          rows.append(rs.getString(i)).append('|');
                        }
                        rows.append('\n');
                      }
                    }
                  }
                  return rows.toString();
                }));

    String all = String.join("\n", served);
    // What was typed is there, masked: the reviewer still sees what the statement does.
    assertThat(all)
        .contains("UPDATE payments SET status = '")
        .contains("WHERE id = 17")
        .contains("************3012")
        .contains("OPS-9")
        .contains("no,")
        .contains("ok,");
    for (String text : served) {
      assertThat(text).doesNotContain(card).doesNotContain(ssn).doesNotContain(token);
    }
    assertThat(gw.reviews().show(grantId).orElseThrow().votes().getFirst().reason())
        .startsWith("ok, card ************3012")
        .doesNotContain(ssn);
  }

  static String reason(String reason) {
    return "{\"reason\":\"" + reason + "\"}";
  }

  /** An API call's reply body, once it succeeded. */
  static String api(HttpClient http, String method, String path, String bearer, String json)
      throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(gw.apiUrl() + path))
                .header("Authorization", "Bearer " + bearer)
                .header("Content-Type", "application/json")
                .method(
                    method,
                    json == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 299);
    return r.body();
  }

  /** The webhook payloads (json and slack) about a review, once both arrived. */
  static List<String> notifications(String reviewId) throws InterruptedException {
    for (int i = 0; i < 100 && notifiedAbout(reviewId).size() < 2; i++) {
      Thread.sleep(100);
    }
    List<String> sent = notifiedAbout(reviewId);
    assertThat(sent).hasSize(2);
    return sent;
  }

  static List<String> notifiedAbout(String reviewId) {
    return notified.stream().filter(b -> b.contains(reviewId)).toList();
  }

  /**
   * The demo's engineering-read rule allows reads only: a SELECT that calls a user-defined function
   * (which can write) is refused, while one that calls built-ins runs. A view that calls the same
   * function reads like a table: the gateway cannot see it (docs/policy.md).
   */
  @Test
  void anEngineerCannotWriteThroughAUserDefinedFunctionInASelect() throws Exception {
    try (Connection c = direct();
        Statement st = c.createStatement()) {
      st.execute(
          "CREATE OR REPLACE FUNCTION refund_all() RETURNS int LANGUAGE sql AS"
              + " $$ UPDATE payments SET status = 'refunded' RETURNING 1 $$");
    }
    try (Connection a = aliceJdbc();
        Statement st = a.createStatement()) {
      SQLException refused =
          org.assertj.core.api.Assertions.catchThrowableOfType(
              SQLException.class, () -> st.executeQuery("SELECT refund_all()"));
      assertThat((Object) refused).as("SELECT refund_all() refused").isNotNull();
      assertThat(refused.getSQLState()).isEqualTo("42501");
      try (var rs = st.executeQuery("SELECT lower(status), count(*) FROM payments GROUP BY 1")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("settled");
      }
    }
    assertThat(count("status = 'refunded'")).isZero();
  }

  @Test
  void aNewlineAfterDoubleDashIsAnotherStatementThanTheApprovedComment() throws Exception {
    String approved =
        "/* justification: OPS-9 refund payment 42 */ UPDATE payments SET status = 'refunded'"
            + " WHERE id = 42 -- OR id > 0";
    String id = approvedButUnused(approved);

    String rerun = approved.replace("-- OR", "--\nOR");
    Psql attack = psql(rerun);
    assertThat(attack.finished()).isTrue();
    assertThat(attack.output()).doesNotContain("UPDATE " + ROWS).contains("still pending");
    assertThat(count("status = 'refunded'")).isZero();
    assertThat(pendingFor(rerun).id()).as("filed as a request of its own").isNotEqualTo(id);

    // What the server reads alike finds the approval: other layout, another justification.
    Psql same =
        psql(
            "-- justification: OPS-9 again\n  update payments\n SET status='refunded' WHERE id=42");
    assertThat(same.finished()).isTrue();
    assertThat(same.output()).contains("UPDATE 1");
    assertThat(count("status = 'refunded'")).isEqualTo(1);
  }

  @Test
  void aNestedCommentOpenerDoesNotHideTheReviewedStatementInTheJustification() throws Exception {
    String approved =
        "/* justification: OPS-11 refund 42 */ UPDATE payments SET status = 'refunded' WHERE id"
            + " = 42 -- */ DELETE FROM payments WHERE id > 0";
    approvedButUnused(approved);

    String rerun =
        "/* justification: /* */ UPDATE payments SET status = 'refunded' WHERE id = 42 -- */"
            + " DELETE FROM payments WHERE id > 0";
    Psql attack = psql(rerun);
    assertThat(attack.finished()).isTrue();
    assertThat(attack.output()).doesNotContain("DELETE " + ROWS).contains("still pending");
    assertThat(count("true")).isEqualTo(ROWS);
    // The reviewer is shown, as the justification, exactly what the server skips.
    assertThat(pendingFor(rerun).justification())
        .isEqualTo("/* */ UPDATE payments SET status = 'refunded' WHERE id = 42 --");
  }

  @Test
  void anApprovalForOneBindParameterDoesNotRunTheStatementWithAnother() throws Exception {
    String sql = "/* justification: OPS-12 */ UPDATE payments SET status = 'refunded' WHERE id > ?";
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", alice);
    p.setProperty("sslmode", "require");
    String url = "jdbc:postgresql://127.0.0.1:" + gw.postgresPort() + "/payments-db";
    try (Connection c = DriverManager.getConnection(url, p);
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, ROWS - 1);
      Thread held = Thread.ofVirtual().start(() -> runQuietly(ps));
      ReviewView pending = pendingFor(sql.replace("?", "$1"));
      // pgjdbc sends the int in binary: shown as the recording shows it, with its declared type
      // and the value that type reads from it
      assertThat(pending.statement())
          .contains("\n\n-- parameters:\n-- $1 = '\\x00000031' (int4, binary: 49)");
      String id = pending.id();
      assertThat(held.join(java.time.Duration.ofSeconds(30))).as("max_wait passed").isTrue();
      approve(id);
      assertThat(count("status = 'refunded'")).as("approved after max_wait: not run").isZero();
    }
    try (Connection c = DriverManager.getConnection(url, p);
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, 0);
      try {
        ps.executeUpdate();
      } catch (SQLException e) {
        assertThat(e.getMessage()).contains("still pending");
      }
      assertThat(count("status = 'refunded'")).isZero();
      ps.setInt(1, ROWS - 1);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
  }

  static Connection aliceJdbc() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", alice);
    p.setProperty("sslmode", "require");
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + gw.postgresPort() + "/payments-db", p);
  }

  /** Runs {@code sql} on a virtual thread; held past max_wait it fails ("still pending"). */
  static Thread started(Statement st, String sql) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                st.execute(sql);
              } catch (SQLException e) {
                // "still pending"
              }
            });
  }

  /** Runs {@code sql}, approves its review while it is held, and returns the review. */
  static ReviewView approvedWhileHeld(Statement st, String sql) throws Exception {
    Thread held = started(st, sql);
    ReviewView v = pendingFor(sql);
    approve(v.id());
    assertThat(held.join(java.time.Duration.ofSeconds(30))).isTrue();
    assertThat(gw.reviews().show(v.id()).orElseThrow().consumedAt()).as("it ran").isNotNull();
    return v;
  }

  /** Runs {@code sql} until max_wait gives up on it (the review stays pending); its review. */
  static ReviewView heldPastMaxWait(Statement st, String sql) throws Exception {
    Thread held = started(st, sql);
    ReviewView v = pendingFor(sql);
    assertThat(held.join(java.time.Duration.ofSeconds(30))).as("max_wait passed").isTrue();
    return v;
  }

  @Test
  void anExecuteIsReviewedWithItsPreparedTextAndItsApprovalRunsNoOtherText() throws Exception {
    String execute = "/* justification: OPS-20 */ EXECUTE p(42)";
    String exact = "UPDATE payments SET status = 'refunded' WHERE id = $1";
    String wider = "UPDATE payments SET status = 'refunded' WHERE id >= $1";
    try (Connection a = aliceJdbc();
        Statement st = a.createStatement()) {
      approvedWhileHeld(st, "/* justification: OPS-20 */ PREPARE p(int) AS " + exact);
      ReviewView v = heldPastMaxWait(st, execute);
      // The reviewer sees what EXECUTE p runs, not just its name.
      assertThat(v.statement())
          .startsWith(
              execute
                  + "\n\n-- runs prepared statement \"p\":\n/* justification: OPS-20 */"
                  + " PREPARE p(int) AS "
                  + exact
                  + "\n\n-- gatehouse classification: kinds ")
          .contains("update");
      approve(v.id()); // approved, not yet used
    }
    assertThat(count("status = 'refunded'")).isZero();
    try (Connection b = aliceJdbc();
        Statement st = b.createStatement()) {
      // Another session prepares p with other text (its PREPARE alone changes nothing)...
      approvedWhileHeld(st, "/* justification: OPS-21 */ PREPARE p(int) AS " + wider);
      // ...and its EXECUTE p(42), the same text as the approved one, is a request of its own.
      ReviewView other = heldPastMaxWait(st, execute);
      assertThat(other.statement()).contains(wider);
      assertThat(count("status = 'refunded'")).as("ran under p's other text's approval").isZero();
    }
    try (Connection a = aliceJdbc();
        Statement st = a.createStatement()) {
      approvedWhileHeld(st, "/* justification: OPS-20 */ PREPARE p(int) AS " + exact);
      st.execute(execute); // the approved EXECUTE of the approved text: runs at once
      assertThat(st.getUpdateCount()).isEqualTo(1);
    }
    assertThat(count("status = 'refunded'")).isEqualTo(1);
    assertThat(count("id = 42 AND status = 'refunded'")).isEqualTo(1);
  }

  private static void runQuietly(PreparedStatement ps) {
    try {
      ps.executeUpdate();
    } catch (SQLException e) {
      // held past max_wait: "still pending"
    }
  }

  @Test
  void aClientKilledWhileHeldRunsNothingWhenTheApprovalArrives() throws Exception {
    String statement =
        "/* justification: OPS-13 */ UPDATE payments SET status = 'refunded' WHERE id = 7";
    Psql held = psql(statement);
    String id = pendingFor(statement).id();
    held.process().destroyForcibly();
    assertThat(held.finished()).isTrue();
    approve(id);
    Thread.sleep(1500); // the held session notices within its poll interval
    assertThat(count("status = 'refunded'")).as("nobody is there to see it run").isZero();
    assertThat(gw.reviews().show(id).orElseThrow().state()).isEqualTo("approved");

    Psql again = psql(statement);
    assertThat(again.finished()).isTrue();
    assertThat(again.output()).contains("UPDATE 1");
    assertThat(count("status = 'refunded'")).isEqualTo(1);
  }

  /**
   * Red team rt12, finding 1: the same eight Bind bytes are 2.0 as float8 and 4611686018427387904
   * as int8. pgjdbc sends both in binary with their declared type; the approval of {@code id < 2.0}
   * (one row) must not run {@code id < 4611686018427387904} (every row).
   */
  @Test
  void anApprovalIsBoundToTheDeclaredParameterTypes() throws Exception {
    String sql =
        "/* justification: OPS-30 */ UPDATE payments SET status = 'refunded' WHERE id < ?"
            + " AND id <= "
            + ROWS;
    String id;
    try (Connection c = aliceJdbc();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setDouble(1, 2.0);
      Thread held = Thread.ofVirtual().start(() -> runQuietly(ps));
      ReviewView pending = pendingFor(sql.replace("?", "$1"));
      // The reviewer sees the value the declared type reads from the bytes.
      assertThat(pending.statement())
          .contains("-- $1 = '\\x4000000000000000' (float8, binary: 2.0)");
      id = pending.id();
      assertThat(held.join(java.time.Duration.ofSeconds(30))).as("max_wait passed").isTrue();
      approve(id);
    }
    try (Connection c = aliceJdbc();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, Double.doubleToRawLongBits(2.0)); // the same bytes, declared int8
      try {
        ps.executeUpdate();
      } catch (SQLException e) {
        assertThat(e.getMessage()).contains("still pending");
      }
      assertThat(count("status = 'refunded'")).as("ran under the float8 approval").isZero();
      assertThat(gw.reviews().show(id).orElseThrow().consumedAt()).isNull();
      ps.setDouble(1, 2.0);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    assertThat(count("status = 'refunded'")).isEqualTo(1);
  }

  /**
   * Red team rt12, finding 2: a password keyword in a comment made the masker eat the comment's end
   * and the live SQL behind it, so the reviewer read one row where fifty were updated. The review
   * now keeps every token's bounds and says how the gateway read the statement.
   */
  @Test
  void theReviewedTextKeepsTheCommentsEndAndSaysWhatTheStatementDoes() throws Exception {
    String statement =
        "/* justification: OPS-31 settle payment 1 */ UPDATE payments SET status = 'refunded'"
            + " WHERE id = 1 /* password: */ OR id <= "
            + ROWS;
    Psql held = psql(statement);
    ReviewView v = pendingWhere(statement, r -> r.statement().contains("OPS-31"));
    assertThat(held.finished()).isTrue();
    assertThat(v.statement())
        .startsWith(
            "/* justification: OPS-31 settle payment 1 */ UPDATE payments SET status ="
                + " 'refunded' WHERE id = 1 /* ")
        .contains(" */ OR id <= " + ROWS + "\n\n-- gatehouse classification: kinds update")
        .contains("payments");
  }

  /**
   * Red team rt12, finding 3: under DateStyle DMY the approved "Jan 2" text reads Feb 1. A SET of a
   * setting that changes how text is read, in the same Query, makes the statement another request;
   * the reviewer sees the settings the approval holds under.
   */
  @Test
  void anApprovalIsBoundToTheSettingsThatChangeHowTheTextIsRead() throws Exception {
    String statement =
        "/* justification: OPS-32 Jan 2 */ UPDATE payments SET status = 'refunded'"
            + " WHERE id = extract(day FROM '01/02/2026'::date)::int";
    String id = approvedButUnused(statement);
    assertThat(gw.reviews().show(id).orElseThrow().statement())
        .contains("-- session settings: DateStyle=ISO, MDY;");

    Psql dmy = psql("SET DateStyle = 'ISO, DMY'; " + statement);
    assertThat(dmy.finished()).isTrue();
    assertThat(dmy.output()).doesNotContain("UPDATE 1").contains("still pending");
    assertThat(count("status = 'refunded'")).as("ran on Feb 1 under the Jan 2 approval").isZero();
    assertThat(gw.reviews().show(id).orElseThrow().consumedAt()).isNull();

    Psql same = psql(statement);
    assertThat(same.finished()).isTrue();
    assertThat(same.output()).contains("UPDATE 1");
    assertThat(count("id = 2 AND status = 'refunded'")).isEqualTo(1);
  }

  /**
   * Red team rt18pg, finding 2: a setting chosen at startup that the server never reports changes
   * what the approved text does ({@code bytea_output=escape}: {@code '\\x6869'::bytea::text} is
   * {@code hi}, not the approved {@code \\x6869}); such a session makes another request. The
   * reviewer sees it.
   */
  @Test
  void anApprovalIsBoundToTheStartupSettingsTheServerDoesNotReport() throws Exception {
    String statement =
        "/* justification: OPS-33 tag */ UPDATE payments SET status = '\\x6869'::bytea::text"
            + " WHERE id = 4";
    approvedButUnused(statement);

    Psql escape = psqlWith(Map.of("PGOPTIONS", "-c bytea_output=escape"), statement);
    assertThat(escape.finished()).isTrue();
    assertThat(escape.output()).doesNotContain("UPDATE 1").contains("still pending");
    assertThat(count("status = 'hi'")).as("ran as 'hi' under the '\\x6869' approval").isZero();
    ReviewView held =
        pendingWhere(statement, v -> v.statement().contains("bytea_output=escape (at startup);"));
    assertThat(held.statement()).startsWith(statement);

    Psql same = psql(statement);
    assertThat(same.finished()).isTrue();
    assertThat(same.output()).contains("UPDATE 1");
    assertThat(count("id = 4 AND status = '\\x6869'")).isEqualTo(1);
  }

  /** Red team rt12, finding 4: {@code N'settled '} is bpchar, equal to 'settled'; text is not. */
  @Test
  void aNationalCharacterConstantIsAnotherRequestThanAPlainOne() throws Exception {
    approvalDoesNotRunTheOther(
        "/* justification: OPS-33 */ UPDATE payments SET status = 'refunded'"
            + " WHERE status = 'settled ' AND id <= 10",
        "'settled '",
        "N'settled '");
  }

  /**
   * Review 13, F3: the form of {@code N'settled'} was that of {@code 'Nsettled'}, so the approval
   * of a statement that matches no row ran one that matches ten.
   */
  @Test
  void anApprovalOfAPlainConstantStartingWithNDoesNotRunANationalOne() throws Exception {
    String id =
        approvalDoesNotRunTheOther(
            "/* justification: OPS-36 */ UPDATE payments SET status = 'refunded'"
                + " WHERE status = 'Nsettled' AND id <= 10",
            "'Nsettled'",
            "N'settled'");
    assertThat(gw.reviews().show(id).orElseThrow().state()).isEqualTo("approved");
  }

  /**
   * Approves {@code approved} (which matches no row, unused), runs it with {@code constant}
   * replaced by {@code other} (which matches ten): held, the approval not spent. Its review id.
   */
  static String approvalDoesNotRunTheOther(String approved, String constant, String other)
      throws Exception {
    String id = approvedButUnused(approved);
    Psql attack = psql(approved.replace(constant, other));
    assertThat(attack.finished()).isTrue();
    assertThat(attack.output()).doesNotContain("UPDATE 10").contains("still pending");
    assertThat(count("status = 'refunded'")).isZero();
    assertThat(gw.reviews().show(id).orElseThrow().consumedAt()).isNull();
    return id;
  }

  /**
   * Review 13, F5: with standard_conforming_strings off, a constant masked on its decoded value
   * ({@code 'pass\x77ord=…'}) whose value ends in a backslash was written back as {@code '…\'}: its
   * closing quote escaped, it ran on over the live SQL, and the masking of the review's text then
   * ate the comment's end and {@code OR id <=} (rt12's finding 2 again): the reviewer read one row
   * where fifty are updated.
   */
  @Test
  void aMaskedConstantEndingInABackslashDoesNotHideLiveSqlFromTheReviewer() throws Exception {
    String statement =
        "/* justification: OPS-37 */ UPDATE payments SET status = 'pass\\x77ord=Hunter2xyz \\\\'"
            + " WHERE id = 1 /* password: */ OR id <= "
            + ROWS
            + " -- '";
    // The target's sessions start with the setting off and report it: an engineer's SET of it is
    // refused by the demo policy.
    String role = "ALTER ROLE app IN DATABASE payments ";
    try (Connection c = target.getPostgresDatabase().getConnection();
        Statement st = c.createStatement()) {
      st.execute(role + "SET standard_conforming_strings = off");
    }
    try {
      Psql held = psql(statement);
      ReviewView v = pendingWhere(statement, r -> r.statement().contains("OPS-37"));
      assertThat(held.finished()).isTrue();
      assertThat(v.statement())
          .doesNotContain("Hunter2xyz")
          .contains("status = E'password=")
          .contains("\\\\' WHERE id = 1 /* ")
          .contains(" */ OR id <= " + ROWS + " -- '\n\n-- gatehouse classification: kinds update");
    } finally {
      try (Connection c = target.getPostgresDatabase().getConnection();
          Statement st = c.createStatement()) {
        st.execute(role + "RESET standard_conforming_strings");
      }
    }
    assertThat(count("status = 'refunded'")).isZero();
  }

  /**
   * Red team rt12, finding 7: an approved statement in a Query that is refused as a whole keeps its
   * approval: it is spent only once every statement of the Query was allowed. Two copies of it in
   * one Query are refused without spending it.
   */
  @Test
  void anApprovalIsNotSpentByAQueryThatIsRefusedAsAWhole() throws Exception {
    String statement =
        "/* justification: OPS-34 */ UPDATE payments SET status = 'refunded' WHERE id = 3";
    String id = approvedButUnused(statement);

    Psql refused = psql(statement + "; DELETE FROM payments WHERE id = 4");
    assertThat(refused.finished()).isTrue();
    assertThat(refused.output()).doesNotContain("UPDATE 1").doesNotContain("DELETE 1");
    assertThat(gw.reviews().show(id).orElseThrow().consumedAt()).as("not spent").isNull();

    Psql twice = psql(statement + "; " + statement);
    assertThat(twice.finished()).isTrue();
    assertThat(twice.output()).contains("more than once");
    assertThat(gw.reviews().show(id).orElseThrow().consumedAt()).as("not spent").isNull();
    assertThat(count("status = 'refunded'")).isZero();

    Psql once = psql(statement + "; SELECT 1"); // psql prints the last result only
    assertThat(once.finished()).isTrue();
    assertThat(once.output()).contains("(1 row)");
    assertThat(gw.reviews().show(id).orElseThrow().consumedAt()).isNotNull();
    assertThat(count("status = 'refunded'")).isEqualTo(1);
  }

  /**
   * A statement run under a spent approval that fails at the target changed nothing: the audit log
   * says so ({@code review.not_executed}), so the spent approval is not read as a change made.
   */
  @Test
  void anApprovedStatementThatFailsAtTheTargetIsAuditedAsNotExecuted() throws Exception {
    String statement = "/* justification: OPS-35 */ UPDATE payments SET id = 1 WHERE id = 2";
    String id = approvedButUnused(statement);
    Psql run = psql(statement);
    assertThat(run.finished()).isTrue();
    assertThat(run.output()).contains("duplicate key");
    assertThat(gw.reviews().show(id).orElseThrow().consumedAt()).isNotNull();
    assertThat(auditedOnce("review.not_executed", id)).isEqualTo(1);
  }

  /** The audit events {@code event} about review {@code id}, waiting up to 5 s for the first. */
  static long auditedOnce(String event, String id) throws Exception {
    long events = 0;
    for (int i = 0; i < 50 && events == 0; i++) {
      gw.awaitRecorded();
      events = audited(event, id);
      Thread.sleep(100);
    }
    return events;
  }

  static long audited(String event, String id) throws Exception {
    StringWriter exported = new StringWriter();
    new AuditExporter(gw.database()).export(exported, null, 0);
    return exported.toString().lines().filter(l -> l.contains(event) && l.contains(id)).count();
  }

  /**
   * A client that leaves while its approved statement runs gets no answer, but PostgreSQL runs a
   * Query to its end and commits it: the approval's outcome is unknown, not "not executed" (which
   * would have the audit log say the approved change was not made while it was).
   */
  @Test
  void anApprovedStatementLeftUnansweredByALeavingClientIsOfUnknownOutcome() throws Exception {
    // the client leaves before the answer
    unansweredIsOfUnknownOutcome("slow", 7, run -> run.process().destroyForcibly());
  }

  /**
   * When the connection to the target is lost (not the client leaving) while an approved statement
   * runs, the target may have run and committed it and lost only its answer: its approval's outcome
   * is unknown too, not "not executed" (rt16: the target-lost case still said not executed).
   */
  @Test
  void anApprovedStatementLeftUnansweredByALostTargetIsOfUnknownOutcome() throws Exception {
    int before = proxy.accepted(); // connections made before are closed already
    unansweredIsOfUnknownOutcome(
        "cut",
        8,
        run -> {
          proxy.cutFrom(before); // the connection to the target is lost before the answer
          assertThat(run.finished()).isTrue();
        });
  }

  interface Step<T> {
    void run(T t) throws Exception;
  }

  /**
   * Runs an approved UPDATE of payment {@code id} to {@code status} that sleeps 2 s at the target
   * and has {@code loseAnswer} lose its answer while the target sleeps, and checks that it ran and
   * its approval is audited as of unknown outcome, not "not executed".
   */
  private static void unansweredIsOfUnknownOutcome(String status, int id, Step<Psql> loseAnswer)
      throws Exception {
    String statement =
        "/* justification: OPS-16 */ UPDATE payments SET status = '"
            + status
            + "' WHERE id = "
            + id
            + " AND pg_sleep(2) IS NOT NULL";
    String reviewId = approvedButUnused(statement);
    Psql run = psql(statement);
    for (int i = 0;
        i < 100 && gw.reviews().show(reviewId).orElseThrow().consumedAt() == null;
        i++) {
      Thread.sleep(20);
    }
    assertThat(gw.reviews().show(reviewId).orElseThrow().consumedAt()).isNotNull();
    Thread.sleep(300); // sent to the target, which sleeps
    loseAnswer.run(run);
    assertThat(auditedOnce("review.outcome_unknown", reviewId)).isEqualTo(1);
    String ran = "status = '" + status + "'";
    for (int i = 0; i < 100 && count(ran) == 0; i++) {
      Thread.sleep(50);
    }
    assertThat(count(ran)).isEqualTo(1); // it ran
    assertThat(audited("review.not_executed", reviewId)).isZero();
  }

  /** A TCP relay to the target whose connections a test can cut (both ends closed, no answer). */
  static final class TargetProxy implements AutoCloseable {
    private final java.net.ServerSocket server;
    private final List<java.net.Socket[]> pairs = new CopyOnWriteArrayList<>();

    TargetProxy(int targetPort) throws java.io.IOException {
      server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  while (true) {
                    java.net.Socket client = server.accept();
                    java.net.Socket up =
                        new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), targetPort);
                    pairs.add(new java.net.Socket[] {client, up});
                    pump(client, up);
                    pump(up, client);
                  }
                } catch (java.io.IOException e) {
                  // closed
                }
              });
    }

    private static void pump(java.net.Socket from, java.net.Socket to) {
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  from.getInputStream().transferTo(to.getOutputStream());
                } catch (java.io.IOException e) {
                  // cut or closed
                } finally {
                  closeQuietly(from);
                  closeQuietly(to);
                }
              });
    }

    private static void closeQuietly(java.net.Socket s) {
      try {
        s.close();
      } catch (java.io.IOException e) {
        // already closed
      }
    }

    int port() {
      return server.getLocalPort();
    }

    /** Connections accepted so far. */
    int accepted() {
      return pairs.size();
    }

    /** Cuts every connection accepted after the first {@code n}. */
    void cutFrom(int n) {
      for (int i = n; i < pairs.size(); i++) {
        closeQuietly(pairs.get(i)[0]);
        closeQuietly(pairs.get(i)[1]);
      }
    }

    @Override
    public void close() throws java.io.IOException {
      server.close();
      for (java.net.Socket[] p : pairs) {
        closeQuietly(p[0]);
        closeQuietly(p[1]);
      }
    }
  }
}
