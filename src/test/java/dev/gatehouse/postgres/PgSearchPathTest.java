package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgProtocolRedTeamTest.bind;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.execute;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.firstColumn;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.parse;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.sqlStates;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.sync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.PolicySet;
import dev.gatehouse.postgres.PgCodec.Message;
import dev.gatehouse.postgres.PgProtocolRedTeamTest.Raw;
import dev.gatehouse.postgres.PgTestSupport.Run;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deny of {@code app.payments} against a session that moves its search_path: an unqualified
 * {@code payments} is read in every schema the path has named (PgSearchPath), with real pgjdbc,
 * psql and raw protocol messages against the embedded PostgreSQL, whose {@code public.payments} is
 * another, harmless table.
 */
class PgSearchPathTest {
  static final String TOKEN = "tok-searchpath-0001";
  static final String TOKEN_UNKNOWN = "tok-searchpath-0002";
  static final String TOKEN_BUILTINS = "tok-searchpath-0003";
  static final String CONN = "searchpath";
  static final String SECRET = "app-secret-4f1e";
  static final String DENIED = PgErrors.INSUFFICIENT_PRIVILEGE;

  static final String POLICY =
      """
      version: 1
      rules:
        - id: work
          subjects: { groups: [sp] }
          connections: { names: [searchpath] }
          effect: allow
          sql: { statements: [read, session, execute] }
        - id: work-and-unknown
          subjects: { groups: [sp-unknown] }
          connections: { names: [searchpath] }
          effect: allow
          sql: { statements: [read, session, unknown] }
        # Reads only of known functions, and unknown statements (which may set any path).
        - id: known-functions-only
          subjects: { groups: [sp-builtins] }
          connections: { names: [searchpath] }
          effect: allow
          sql: { statements: [read, session] }
          when: action.kind != "sql" || size(action.attributes.opaque_functions) == 0
        - id: unknown-statements
          subjects: { groups: [sp-builtins] }
          connections: { names: [searchpath] }
          effect: allow
          sql: { statements: [unknown] }
        - id: no-app-payments
          subjects: { groups: [sp] }
          effect: deny
          sql: { statements: [read, write], tables: [app.payments, gh_scram.ledger] }
          reason: app.payments and the ledger are off limits
        # Every deny rule with an sql matcher matches unknown statements, so a subject that may
        # run them can only be held for review on a table.
        - id: app-payments-reviewed
          subjects: { groups: [sp-unknown] }
          effect: review
          review: { groups: [dba] }
          sql: { statements: [read], tables: [app.payments] }
      """;

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;
  private static final List<String> reviewed = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    t.freshDatabase(
        "gh_searchpath",
        """
          CREATE SCHEMA app;
          CREATE TABLE app.payments (v text);
          INSERT INTO app.payments VALUES ('%s');
          CREATE TABLE public.payments (v text);
          INSERT INTO public.payments VALUES ('public');
          CREATE SCHEMA gh_scram;
          CREATE TABLE gh_scram.ledger (v text);
          INSERT INTO gh_scram.ledger VALUES ('%s');
          CREATE SCHEMA evil;
          CREATE TABLE public.pwned (x text);
          CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql
            AS $$ INSERT INTO public.pwned VALUES ('pwned'); SELECT 'evil' $$;
          """
            .formatted(SECRET, SECRET));
    t.addConnection(CONN, "gh_searchpath", "gh_scram", "prefer");
    t.addPrincipal(TOKEN, "sam", Set.of("sp"));
    t.addPrincipal(TOKEN_UNKNOWN, "uma", Set.of("sp-unknown"));
    t.addPrincipal(TOKEN_BUILTINS, "pia", Set.of("sp-builtins"));
    PolicySet policy = PgTestSupport.policy(dir, "searchpath.yaml", POLICY);
    gate =
        t.gateWith(() -> policy)
            .redactor((profile, text) -> text)
            .reviews(
                (sessionId, principal, target, action, decision, waiting) -> {
                  reviewed.add(action.raw());
                  return new ReviewGate.Outcome(false, "none", "nobody approves in this test");
                })
            .build();
    server = t.serve(gate);
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  private static Connection jdbc(String user, String token, String extra) throws SQLException {
    return PgTestSupport.plainJdbc(server, CONN, user, token, extra);
  }

  private static Connection sam() throws SQLException {
    return jdbc("sam", TOKEN, "");
  }

  private static String one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      assertThat(rs.next()).as(sql).isTrue();
      return rs.getString(1);
    }
  }

  private static String refused(Statement st, String sql) {
    SQLException e = catchThrowableOfType(SQLException.class, () -> st.executeQuery(sql));
    assertThat((Throwable) e).as(sql).isNotNull();
    return e.getSQLState();
  }

  @Test
  void withoutASearchPathChangeABareNameIsNotReadInOtherSchemas() throws Exception {
    try (Connection c = sam();
        Statement st = c.createStatement()) {
      assertThat(one(st, "SELECT v FROM payments")).isEqualTo("public");
      assertThat(one(st, "SELECT v FROM public.payments")).isEqualTo("public");
      assertThat(refused(st, "SELECT v FROM app.payments")).isEqualTo(DENIED);
    }
  }

  @Test
  void setSearchPathThenABareNameIsDeniedAsTheTableItResolvesTo() throws Exception {
    try (Connection c = sam();
        Statement st = c.createStatement()) {
      st.execute("SET search_path = app, public");
      assertThat(refused(st, "SELECT v FROM payments")).isEqualTo(DENIED);
      // qualified names are read as written
      assertThat(one(st, "SELECT v FROM public.payments")).isEqualTo("public");
    }
  }

  @Test
  void anSqlPreparedStatementIsDecidedAgainWhenThePathGrewBeforeItsExecute() throws Exception {
    try (Connection c = sam();
        Statement st = c.createStatement()) {
      st.execute("PREPARE pp AS SELECT v FROM payments");
      // '$' moves the decision to the protocol Execute (the record carries the parameters).
      st.execute("PREPARE pr(int) AS SELECT v FROM payments WHERE $1 = 1");
      st.execute("PREPARE pq(int) AS SELECT v FROM public.payments WHERE $1 = 1");
      assertThat(one(st, "EXECUTE pp")).isEqualTo("public");
      assertThat(one(st, "EXECUTE pr(1)")).isEqualTo("public");
      st.execute("SET search_path = app, public");
      // PostgreSQL plans them again: pp and pr would read app.payments now.
      assertThat(refused(st, "EXECUTE pp")).isEqualTo(DENIED);
      assertThat(refused(st, "EXECUTE pr(1)")).isEqualTo(DENIED);
      assertThat(one(st, "EXECUTE pq(1)")).isEqualTo("public");
    }
  }

  @Test
  void anExtendedProtocolSetIsDecidedAndRecordedOnce() throws Exception {
    String set = "SET search_path TO app, public /* once */";
    try (Connection c = sam();
        Statement st = c.createStatement()) {
      st.execute(set);
      assertThat(refused(st, "SELECT v FROM payments")).isEqualTo(DENIED);
    }
    // pgjdbc sent the SET as Parse/Bind/Execute: decided and recorded once, at Parse, although
    // it grew the tracked schemas itself before its Execute.
    assertThat(t.decided.stream().filter(d -> d.action().raw().equals(set)).count()).isEqualTo(1);
  }

  @Test
  void aSetInTheSameQueryStringCountsForTheStatementsAfterIt() throws Exception {
    // psql sends one simple Query; pgjdbc splits it into a pipeline of Parse/Bind/Execute.
    Run r =
        PgTestSupport.run(
            TOKEN,
            Map.of(),
            List.of(
                "/usr/bin/psql",
                "host=127.0.0.1 port="
                    + server.address().getPort()
                    + " dbname="
                    + CONN
                    + " user=sam sslmode=disable",
                "-X",
                "-A",
                "-t",
                "-v",
                "VERBOSITY=verbose",
                "-c",
                "SET search_path = app, public; SELECT v FROM payments"));
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains(DENIED);
    assertThat(r.all()).doesNotContain(SECRET);
    try (Connection c = sam();
        Statement st = c.createStatement()) {
      SQLException e =
          catchThrowableOfType(
              SQLException.class,
              () -> st.execute("SET search_path = app; SELECT v FROM payments"));
      assertThat(e.getSQLState()).isEqualTo(DENIED);
    }
  }

  @Test
  void setConfigOfSearchPathCountsLikeSet() throws Exception {
    try (Connection c = sam();
        Statement st = c.createStatement()) {
      assertThat(one(st, "SELECT set_config('search_path', 'app', false)")).isEqualTo("app");
      assertThat(refused(st, "SELECT v FROM payments")).isEqualTo(DENIED);
    }
  }

  @Test
  void setLocalInATransactionCountsAndStaysCountedAfterRollback() throws Exception {
    try (Connection c = sam();
        Statement st = c.createStatement()) {
      c.setAutoCommit(false);
      st.execute("SET LOCAL search_path = app");
      assertThat(refused(st, "SELECT v FROM payments")).isEqualTo(DENIED);
      c.rollback();
      // The real path is public again; matching more than it is the fail-closed direction.
      assertThat(one(st, "SELECT current_setting('search_path')")).doesNotContain("app");
      assertThat(refused(st, "SELECT v FROM payments")).isEqualTo(DENIED);
    }
  }

  @Test
  void userMeansTheUpstreamRole() throws Exception {
    try (Connection c = sam();
        Statement st = c.createStatement()) {
      st.execute("SET search_path = \"$user\"");
      assertThat(refused(st, "SELECT v FROM ledger")).isEqualTo(DENIED);
    }
  }

  @Test
  void withoutAnySetTheServerDefaultReadsTheUpstreamRolesSchemaFirst() throws Exception {
    // The default search_path "$user", public: a bare ledger is gh_scram.ledger for role gh_scram.
    try (Connection direct = t.direct("gh_searchpath");
        Statement d = direct.createStatement()) {
      d.execute("SET ROLE gh_scram"); // what the gateway logs in as
      try (ResultSet rs = d.executeQuery("SELECT v FROM ledger")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo(SECRET);
      }
    }
    try (Connection c = sam();
        Statement st = c.createStatement()) {
      assertThat(refused(st, "SELECT v FROM ledger")).isEqualTo(DENIED);
    }
  }

  @Test
  void aSearchPathStartupParameterCounts() throws Exception {
    // pgjdbc sends currentSchema as the search_path startup parameter.
    try (Connection c = jdbc("sam", TOKEN, "&currentSchema=app,public");
        Statement st = c.createStatement()) {
      assertThat(one(st, "SHOW search_path")).contains("app");
      assertThat(refused(st, "SELECT v FROM payments")).isEqualTo(DENIED);
    }
  }

  /**
   * Prepared (and decided) before the path changed, executed after it in the same pipeline: the
   * server plans it again for the new path (sql-prepare.html), so the Parse decision is not used.
   */
  @Test
  void aStatementParsedBeforeTheChangeIsDecidedAgainAtItsExecute() throws Exception {
    try (Raw r = new Raw(server.address().getPort(), "sam", TOKEN, Map.of("database", CONN))) {
      List<Message> ms =
          r.send(
                  parse("s1", "SELECT v FROM payments"),
                  parse("s2", "SET search_path = app"),
                  bind("", "s2"),
                  execute("", 0),
                  bind("", "s1"),
                  execute("", 0),
                  sync())
              .untilReady();
      assertThat(sqlStates(ms)).containsExactly(DENIED);
      assertThat(firstColumn(ms)).doesNotContain(SECRET);
    }
  }

  /**
   * A Query pipelined behind a SET search_path that the target has not answered yet: its bare name
   * is decided in the new path too (the schemas grow when the SET is allowed, before it is sent;
   * nothing waits for the target's report), and in the old one.
   */
  @Test
  void aQueryPipelinedBehindAnUnansweredSetIsDecidedUnderBothPaths() throws Exception {
    try (Raw r = new Raw(server.address().getPort(), "sam", TOKEN, Map.of("database", CONN))) {
      r.send(
          PgMessages.query("SET search_path = app, public; SELECT pg_sleep(0.3)"),
          PgMessages.query("SELECT v FROM payments"));
      assertThat(sqlStates(r.untilReady())).isEmpty();
      List<Message> second = r.untilReady();
      assertThat(sqlStates(second)).containsExactly(DENIED);
      assertThat(firstColumn(second)).doesNotContain(SECRET);
    }
  }

  @Test
  void anUnreadablePathPutsBareNamesInAnySchema() throws Exception {
    String bare = "SELECT v FROM payments /* uma */";
    try (Connection c = jdbc("uma", TOKEN_UNKNOWN, "");
        Statement st = c.createStatement()) {
      assertThat(one(st, bare)).isEqualTo("public");
      assertThat(reviewed).doesNotContain(bare);
      // Not a literal: unknown, which uma may run; the gateway cannot tell the new path.
      st.execute("SELECT set_config('search_path', 'pub' || 'lic', false)");
      assertThat(one(st, "SELECT current_setting('search_path')")).isEqualTo("public");
      assertThat(refused(st, bare)).isEqualTo(DENIED);
      assertThat(reviewed).contains(bare);
      assertThat(one(st, "SELECT v FROM public.payments")).isEqualTo("public");
    }
  }

  /**
   * PostgreSQL 17 never reports search_path (18 does, SearchPathTargetTest): after an allowed
   * statement that set a path the gateway cannot read, {@code lower('A')} may call {@code
   * evil.lower}, so unqualified built-in names are opaque (and the rule that allows only known
   * functions refuses them) until a SET the gateway reads puts pg_catalog in front again outside a
   * transaction block.
   */
  @Test
  void onAServerThatDoesNotReportThePathAnUnreadableSetMakesBuiltinsOpaque() throws Exception {
    try (Connection d = t.direct("gh_searchpath");
        Statement s = d.createStatement()) {
      assertThat(Integer.parseInt(one(s, "SHOW server_version_num")))
          .as("a target that does not report search_path")
          .isLessThan(180000);
    }
    String lower = "SELECT lower('A')";
    try (Connection c = jdbc("pia", TOKEN_BUILTINS, "");
        Statement st = c.createStatement()) {
      assertThat(one(st, lower)).isEqualTo("a");
      // unknown (a path behind pg_catalog), which pia may run; the target does not report it
      st.execute("SELECT set_config('search_path', 'evil, pg_catalog', false)");
      assertThat(refused(st, lower)).isEqualTo(DENIED);
      assertThat(one(st, "SELECT pg_catalog.lower('A')")).isEqualTo("a");
      // a path the gateway reads, with pg_catalog in front: trusted again from its answer on
      st.execute("SET search_path = public");
      assertThat(one(st, lower)).isEqualTo("a");

      st.execute("SELECT set_config('search_path', 'evil, pg_catalog', false)");
      // SET LOCAL outside a transaction block changes nothing; set_config(..., true) neither
      st.execute("SET LOCAL search_path = public");
      assertThat(refused(st, lower)).isEqualTo(DENIED);
      st.execute("SELECT pg_catalog.set_config('search_path', 'public', true)");
      assertThat(refused(st, lower)).isEqualTo(DENIED);
      // inside a transaction block a SET counts only once it is committed: ROLLBACK undoes it
      c.setAutoCommit(false);
      st.execute("SET search_path = public");
      assertThat(refused(st, lower)).isEqualTo(DENIED);
      c.rollback();
      assertThat(refused(st, lower)).isEqualTo(DENIED);
      c.rollback();
      c.setAutoCommit(true);
      assertThat(one(st, "SELECT pg_catalog.current_setting('search_path')"))
          .isEqualTo("evil, pg_catalog");
      // RESET goes back to the start path (what the session started with is trusted)
      st.execute("RESET search_path");
      assertThat(one(st, lower)).isEqualTo("a");
    }
    try (Connection d = t.direct("gh_searchpath");
        Statement s = d.createStatement()) {
      assertThat(one(s, "SELECT count(*) FROM public.pwned"))
          .as("evil.lower never ran")
          .isEqualTo("0");
    }
  }

  /**
   * What was prepared while built-in names were trusted runs under the path of its run (PostgreSQL
   * plans it again): a pgjdbc server-prepared statement bound again without a Parse, and an
   * SQL-level EXECUTE, are decided again without trusting them; and in one query string the
   * statements behind an unreadable path change are classified so from the first such change on.
   */
  @Test
  void statementsPreparedBeforeAnUnreadablePathChangeAreDecidedAgain() throws Exception {
    String evil = "SELECT set_config('search_path', 'evil, pg_catalog', false)";
    try (Connection c = jdbc("pia", TOKEN_BUILTINS, "&prepareThreshold=1");
        Statement st = c.createStatement();
        java.sql.PreparedStatement ps = c.prepareStatement("SELECT lower(?)")) {
      ps.setString(1, "A");
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("a");
      }
      st.execute("PREPARE lp AS SELECT lower('A')");
      assertThat(one(st, "EXECUTE lp")).isEqualTo("a");
      st.execute(evil);
      SQLException e = catchThrowableOfType(SQLException.class, ps::executeQuery);
      assertThat((Throwable) e).as("the server-prepared lower(?) bound again").isNotNull();
      assertThat(e.getSQLState()).isEqualTo(DENIED);
      assertThat(refused(st, "EXECUTE lp")).isEqualTo(DENIED);
    }
    try (Raw r =
        new Raw(server.address().getPort(), "pia", TOKEN_BUILTINS, Map.of("database", CONN))) {
      assertThat(sqlStates(r.query(evil + "; SELECT lower('A')"))).containsExactly(DENIED);
    }
    try (Connection d = t.direct("gh_searchpath");
        Statement s = d.createStatement()) {
      assertThat(one(s, "SELECT count(*) FROM public.pwned"))
          .as("evil.lower never ran")
          .isEqualTo("0");
    }
  }
}
