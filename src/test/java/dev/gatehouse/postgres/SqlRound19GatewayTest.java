package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgProtocolRedTeamTest.parse;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.sqlStates;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.sync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.ReloadingPolicyEngine;
import dev.gatehouse.postgres.PgCodec.Message;
import dev.gatehouse.postgres.PgProtocolRedTeamTest.Raw;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Red team rt19, end to end through the gateway to the embedded PostgreSQL; each test failed before
 * its fix.
 *
 * <p>{@code CREATE TABLE t AS EXECUTE name} runs a prepared statement like {@code EXECUTE name}
 * does (gram.y's ExecuteStmt has both forms; prepare.c ExecuteQuery accepts any prepared statement
 * whose plan is a SELECT, and a SELECT with a data-modifying WITH is one, even {@code WITH NO
 * DATA}). The gateway decided it as a plain {@code create} of the new table, so a principal allowed
 * to create tables ran a reviewed write without a review (prepared once with an approval, or Parsed
 * with a parameter, which defers the review to an Execute that never came) and read a table a
 * reloaded policy denies.
 *
 * <p>{@code setval(('public.payments_id_seq'), 1)}: a sequence argument that is not one whole
 * literal wrote no table, so a deny of the sequence did not match and an allow rule for writes of
 * {@code scratch.*} admitted it (it touched no table outside scratch).
 */
class SqlRound19GatewayTest {
  static final String TOKEN = "tok-rt19-ctas-0001";
  static final String CONN = "rt19ctas";
  static final String DENIED = PgErrors.INSUFFICIENT_PRIVILEGE;

  static final String POLICY =
      """
      version: 1
      rules:
        - id: analysts
          subjects: { groups: [rt19] }
          connections: { names: [rt19ctas] }
          effect: allow
          sql: { statements: [read, session, transaction, create] }
        - id: writes-reviewed
          subjects: { groups: [rt19] }
          connections: { names: [rt19ctas] }
          effect: review
          review: { groups: [dba], approvals: 1 }
          # a write in a WITH is not parsed by JSqlParser (unparsed): reviewed like a write
          sql: { statements: [write, unknown] }
      """;

  static final String STRICTER =
      POLICY
          + """
            - id: no-ledger
              subjects: { groups: [rt19] }
              effect: deny
              sql: { tables: [ledger, public.ledger] }
              reason: the ledger is closed
          """;

  /** The policy with billing denied (a deny rule matches every unparsed statement). */
  static final String NO_BILLING =
      POLICY
          + """
            - id: no-billing
              subjects: { groups: [rt19] }
              effect: deny
              sql: { tables: ["billing.*"] }
              reason: billing is not for analysts
          """;

  /** Writes only to scratch; the payments sequence is the application's. */
  static final String SCRATCH =
      """
      version: 1
      rules:
        - id: analysts
          subjects: { groups: [rt19] }
          connections: { names: [rt19ctas] }
          effect: allow
          sql: { statements: [read, session, transaction] }
        - id: scratch-writes
          subjects: { groups: [rt19] }
          connections: { names: [rt19ctas] }
          effect: allow
          sql: { statements: [write], tables: ["scratch.*"] }
        - id: no-payment-ids
          subjects: { groups: [rt19] }
          effect: deny
          sql: { tables: [payments_id_seq, public.payments_id_seq] }
          reason: payment ids are issued by the application
      """;

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;
  private static Path policyFile;
  private static ReloadingPolicyEngine engine;
  private static final AtomicInteger approvals = new AtomicInteger();
  private static final List<String> reviewed = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    t.freshDatabase(
        "gh_rt19ctas",
        """
        CREATE TABLE public.ledger (id int, amount int);
        ALTER TABLE public.ledger OWNER TO gh_scram;
        CREATE SCHEMA scratch AUTHORIZATION gh_scram;
        CREATE TABLE scratch.t (id int);
        CREATE SEQUENCE scratch.t_seq;
        CREATE TABLE public.payments (id serial, amount int);
        ALTER TABLE scratch.t OWNER TO gh_scram;
        ALTER SEQUENCE scratch.t_seq OWNER TO gh_scram;
        ALTER TABLE public.payments OWNER TO gh_scram;
        SELECT setval('public.payments_id_seq', 500);
        CREATE FUNCTION public.prepare_report() RETURNS int LANGUAGE plpgsql AS $$
          BEGIN EXECUTE 'PREPARE z AS SELECT amount FROM billing.ledger'; RETURN 1; END $$;
        ALTER FUNCTION public.prepare_report() OWNER TO gh_scram;
        CREATE SCHEMA billing AUTHORIZATION gh_scram;
        CREATE TABLE billing.ledger (id int, amount int);
        INSERT INTO billing.ledger VALUES (1, 4111);
        ALTER TABLE billing.ledger OWNER TO gh_scram;
        """);
    t.addConnection(CONN, "gh_rt19ctas", "gh_scram", "prefer");
    t.addPrincipal(TOKEN, "rhea", Set.of("rt19"));
    policyFile = dir.resolve("rt19.yaml");
    Files.writeString(policyFile, POLICY);
    engine = ReloadingPolicyEngine.load(List.of(policyFile.toString()), null);
    gate =
        t.gateWith(() -> engine)
            .redactor((profile, text) -> text)
            .reviews(
                (sessionId, principal, target, action, decision, waiting) -> {
                  reviewed.add(action.raw());
                  return approvals.getAndDecrement() > 0
                      ? new ReviewGate.Outcome(true, "r-" + reviewed.size(), "approved")
                      : new ReviewGate.Outcome(false, "r-" + reviewed.size(), "not approved");
                })
            .build();
    server = t.serve(gate);
  }

  @BeforeEach
  void freshLedger() throws Exception {
    try (Connection c = t.direct("gh_rt19ctas");
        Statement st = c.createStatement()) {
      st.execute("TRUNCATE public.ledger");
      st.execute("INSERT INTO public.ledger VALUES (1, 10), (2, 20), (3, 30)");
    }
    approvals.set(0);
    reviewed.clear();
  }

  @AfterEach
  void restorePolicy() throws Exception {
    PgTestSupport.reload(engine, policyFile, POLICY);
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  private static Connection rhea() throws SQLException {
    return PgTestSupport.plainJdbc(server, CONN, "rhea", TOKEN, "");
  }

  private static String refused(Statement st, String sql) {
    SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(sql));
    assertThat((Throwable) e).as(sql).isNotNull();
    return e.getSQLState();
  }

  private static long ledgerRows() throws Exception {
    try (Connection c = t.direct("gh_rt19ctas");
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM public.ledger")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void anApprovedPrepareIsReviewedAgainWhenCreateTableAsExecutesIt() throws Exception {
    try (Connection c = rhea();
        Statement st = c.createStatement()) {
      approvals.set(1); // the PREPARE is approved, once
      st.execute(
          "PREPARE d AS WITH x AS (DELETE FROM ledger WHERE id = 1 RETURNING *) SELECT * FROM x");
      assertThat(reviewed).hasSize(1);
      assertThat(ledgerRows()).isEqualTo(3);
      assertThat(refused(st, "EXECUTE d")).isEqualTo(DENIED); // each run is reviewed again
      // Before the fix: allowed as a create of k, and the DELETE ran without a review.
      assertThat(refused(st, "CREATE TEMP TABLE k AS EXECUTE d")).isEqualTo(DENIED);
      assertThat(refused(st, "CREATE TEMP TABLE k AS EXECUTE d WITH NO DATA")).isEqualTo(DENIED);
      assertThat(refused(st, "EXPLAIN ANALYZE CREATE TEMP TABLE k AS EXECUTE d")).isEqualTo(DENIED);
      assertThat(reviewed)
          .hasSize(5)
          .last()
          .asString()
          .isEqualTo("EXPLAIN ANALYZE CREATE TEMP TABLE k AS EXECUTE d");
      assertThat(ledgerRows()).isEqualTo(3);
    }
  }

  @Test
  void aParsedWriteDoesNotRunUnreviewedThroughCreateTableAs() throws Exception {
    try (Raw r = new Raw(server.address().getPort(), "rhea", TOKEN, Map.of("database", CONN))) {
      // With a parameter the review waits for the Execute, which never comes.
      List<Message> parsed =
          r.send(
                  parse(
                      "w",
                      "WITH x AS (DELETE FROM ledger WHERE id = $1::int RETURNING *)"
                          + " SELECT * FROM x"),
                  sync())
              .untilReady();
      assertThat(sqlStates(parsed)).isEmpty();
      assertThat(reviewed).isEmpty();
      // Before the fix: allowed as a create of k, and row 2 was deleted without any review.
      List<Message> ran = r.query("CREATE TEMP TABLE k AS EXECUTE w(2)");
      assertThat(sqlStates(ran)).containsExactly(DENIED);
      assertThat(reviewed).containsExactly("CREATE TEMP TABLE k AS EXECUTE w(2)");
      assertThat(ledgerRows()).isEqualTo(3);
    }
  }

  @Test
  void aPreparedReadIsDecidedUnderTheReloadedPolicy() throws Exception {
    try (Connection c = rhea();
        Statement st = c.createStatement()) {
      st.execute("PREPARE r AS SELECT amount FROM ledger");
      st.execute("CREATE TEMP TABLE before_reload AS EXECUTE r");
      PgTestSupport.reload(engine, policyFile, STRICTER);
      assertThat(refused(st, "EXECUTE r")).isEqualTo(DENIED);
      // Before the fix: allowed, and the closed ledger was copied into a table.
      SQLException e =
          catchThrowableOfType(
              SQLException.class, () -> st.execute("CREATE TEMP TABLE k AS EXECUTE r"));
      assertThat(e.getSQLState()).isEqualTo(DENIED);
      assertThat(e.getMessage()).contains("no-ledger").contains("the ledger is closed");
      // a create of a table from an ordinary query is still just that
      st.execute("CREATE TEMP TABLE plain AS SELECT 1 AS one");
    }
  }

  @Test
  void aPreparedReadIsDecidedUnderTheSearchPathOfItsRun() throws Exception {
    try (Connection c = rhea();
        Statement st = c.createStatement()) {
      PgTestSupport.reload(engine, policyFile, NO_BILLING);
      st.execute("PREPARE b AS SELECT amount FROM ledger"); // public.ledger
      st.execute("SET search_path = billing, public");
      assertThat(refused(st, "EXECUTE b")).isEqualTo(DENIED); // would read billing.ledger
      // Before the fix: allowed, and billing.ledger was copied into k.
      SQLException e =
          catchThrowableOfType(
              SQLException.class, () -> st.execute("CREATE TEMP TABLE pg_temp.k AS EXECUTE b"));
      assertThat(e.getSQLState()).isEqualTo(DENIED);
      assertThat(e.getMessage()).contains("no-billing");
      st.execute("CREATE TEMP TABLE pg_temp.plain AS SELECT 1 AS one"); // the new table is no read
    }
  }

  private static String paymentsSequence() throws Exception {
    try (Connection c = t.direct("gh_rt19ctas");
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT last_value FROM public.payments_id_seq")) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void aSequenceNamedByAnExpressionIsEverySequence() throws Exception {
    PgTestSupport.reload(engine, policyFile, SCRATCH);
    try (Connection c = rhea();
        Statement st = c.createStatement()) {
      st.execute("SELECT setval('scratch.t_seq', 7)");
      st.execute("INSERT INTO scratch.t VALUES (nextval('scratch.t_seq'::regclass))");
      assertThat(refused(st, "SELECT setval('public.payments_id_seq', 1)")).isEqualTo(DENIED);
      // Before the fix: each was allowed (no table written, so nothing outside scratch) and
      // set the payments sequence back to 1.
      for (String sql :
          List.of(
              "SELECT setval(('public.payments_id_seq'), 1)",
              "SELECT setval('public.payments_' || 'id_seq', 1)",
              "INSERT INTO scratch.t VALUES (setval(('public.payments_id_seq'), 1))")) {
        SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(sql));
        assertThat((Throwable) e).as(sql).isNotNull();
        assertThat(e.getSQLState()).as(sql).isEqualTo(DENIED);
        assertThat(e.getMessage()).as(sql).contains("no-payment-ids");
      }
    }
    assertThat(paymentsSequence()).isEqualTo("500");
  }

  /**
   * A function (or DO block) can prepare a statement the gateway never sees: PL/pgSQL's {@code
   * EXECUTE 'PREPARE z AS ...'}. Running it by name is the kind execute, which no rule here allows;
   * before, {@code CREATE TABLE t AS EXECUTE z} was a create only and copied the denied table.
   */
  @Test
  void aStatementPreparedOutOfSightRunsOnlyWhereExecuteIsAllowed() throws Exception {
    PgTestSupport.reload(engine, policyFile, NO_BILLING);
    try (Connection c = rhea();
        Statement st = c.createStatement()) {
      st.execute("SELECT prepare_report()"); // a read calling an opaque function: allowed here
      assertThat(refused(st, "EXECUTE z")).isEqualTo(DENIED);
      SQLException e =
          catchThrowableOfType(
              SQLException.class, () -> st.execute("CREATE TEMP TABLE pg_temp.k AS EXECUTE z"));
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState()).isEqualTo(DENIED);
      assertThat(e.getMessage())
          .contains("default-deny") // kinds [create, execute]: no rule lists execute
          .contains("runs a prepared statement, kind execute"); // rt20: it named create only
    }
  }

  /**
   * A deny of reading a table ({@code statements: [read]}) did not match {@code CREATE TABLE AS}
   * (kind create) reading it, so the table was copied and the copy read (SqlMatcher).
   */
  @Test
  void aDenyOfReadingATableStopsCopyingItIntoANewOne() throws Exception {
    PgTestSupport.reload(
        engine,
        policyFile,
        POLICY
            + """
              - id: no-ledger-reads
                subjects: { groups: [rt19] }
                effect: deny
                sql: { statements: [read], tables: [ledger, public.ledger] }
                reason: the ledger is read by finance only
            """);
    try (Connection c = rhea();
        Statement st = c.createStatement()) {
      assertThat(refused(st, "SELECT amount FROM ledger")).isEqualTo(DENIED);
      for (String sql :
          List.of(
              "CREATE TEMP TABLE pg_temp.k AS SELECT amount FROM ledger",
              "SELECT amount INTO TEMP TABLE pg_temp.k FROM public.ledger",
              "CREATE TEMP TABLE pg_temp.k AS TABLE ledger")) {
        SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(sql));
        assertThat((Throwable) e).as(sql).isNotNull(); // before: the ledger was copied into k
        assertThat(e.getSQLState()).as(sql).isEqualTo(DENIED);
        assertThat(e.getMessage()).as(sql).contains("no-ledger-reads").contains("finance only");
      }
      st.execute("CREATE TEMP TABLE pg_temp.other AS SELECT 1 AS one");
    }
  }
}
