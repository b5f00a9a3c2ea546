package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.ReloadingPolicyEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Red team round 5, end to end with pgjdbc through the gateway to the embedded PostgreSQL: SET
 * SCHEMA past a deny of a schema, planner statistics past a deny of a table, and prepared
 * statements and cursors that kept running after the policy was reloaded to deny them (or after one
 * approval). Each ran before its fix. The policy is a file reloaded by the test.
 */
class SqlRound5GatewayTest {
  static final String TOKEN = "tok-round5-0001";
  static final String TOKEN_LIMITED = "tok-round5-0002";
  static final String CONN = "round5";
  static final String SSN = "078-05-1120";
  static final String DENIED = PgErrors.INSUFFICIENT_PRIVILEGE;

  static final String POLICY =
      """
      version: 1
      rules:
        - id: work
          subjects: { groups: [rt5] }
          connections: { names: [round5] }
          effect: allow
          sql: { statements: [read, write, session, transaction, execute] }
        - id: no-billing
          subjects: { groups: [rt5] }
          effect: deny
          sql: { statements: [read, write], tables: ["billing.*"] }
        - id: no-customers
          subjects: { groups: [rt5] }
          effect: deny
          sql: { statements: [read, write], tables: [customers, public.customers] }
        - id: refunds-reviewed
          subjects: { groups: [rt5] }
          effect: review
          review: { groups: [dba], approvals: 1 }
          sql: { statements: [update], tables: [refunds, public.refunds] }
        - id: two-rows
          subjects: { groups: [rt5-limited] }
          connections: { names: [round5] }
          effect: allow
          sql: { statements: [read, session, transaction] }
          obligations: { max_rows: 2 }
      """;

  /** The reloaded policy: the ledger and people tables are denied too. */
  static final String STRICTER =
      POLICY
          + """
            - id: no-ledger-no-people
              subjects: { groups: [rt5] }
              effect: deny
              sql: { statements: [read, write], tables: [ledger, people] }
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
        "gh_round5",
        """
          CREATE SCHEMA billing AUTHORIZATION gh_scram;
          CREATE TABLE billing.payments (id int, card text);
          INSERT INTO billing.payments VALUES (1, 'billing-card-4111');
          CREATE TABLE public.customers (id int, full_name text, ssn text);
          INSERT INTO public.customers
            SELECT g, 'name ' || g, '%s' FROM generate_series(1, 50) g;
          CREATE TABLE public.people (id int, full_name text, ssn text);
          INSERT INTO public.people SELECT g, 'person ' || g, '%s' FROM generate_series(1, 5) g;
          CREATE TABLE public.ledger (id int, amount int);
          INSERT INTO public.ledger VALUES (1, 10), (2, 20);
          CREATE TABLE public.refunds (id int, status text);
          INSERT INTO public.refunds VALUES (100, 'open'), (101, 'open'), (102, 'open');
          ALTER TABLE billing.payments OWNER TO gh_scram;
          ALTER TABLE public.customers OWNER TO gh_scram;
          ALTER TABLE public.people OWNER TO gh_scram;
          ALTER TABLE public.ledger OWNER TO gh_scram;
          ALTER TABLE public.refunds OWNER TO gh_scram;
          ANALYZE public.customers;
          CREATE FUNCTION public.open_refunds(c refcursor) RETURNS refcursor LANGUAGE plpgsql
            AS $$ BEGIN OPEN c FOR SELECT id FROM public.refunds ORDER BY id; RETURN c; END $$;
          """
            .formatted(SSN, SSN));
    t.addConnection(CONN, "gh_round5", "gh_scram", "prefer");
    t.addPrincipal(TOKEN, "rosa", Set.of("rt5"));
    t.addPrincipal(TOKEN_LIMITED, "lina", Set.of("rt5-limited"));
    policyFile = dir.resolve("round5.yaml");
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

  @AfterEach
  void restorePolicy() throws Exception {
    reload(POLICY);
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  private static void reload(String policy) throws Exception {
    PgTestSupport.reload(engine, policyFile, policy);
  }

  private static Connection rosa() throws SQLException {
    return rosa("");
  }

  private static Connection rosa(String options) throws SQLException {
    return PgTestSupport.plainJdbc(server, CONN, "rosa", TOKEN, options);
  }

  private static String refused(Statement st, String sql) {
    SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(sql));
    assertThat((Throwable) e).as(sql).isNotNull();
    return e.getSQLState();
  }

  private static List<String> column(Statement st, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  @Test
  void setSchemaCountsAsTheSearchPath() throws Exception {
    try (Connection c = rosa();
        Statement st = c.createStatement()) {
      st.execute("SET SCHEMA 'billing'");
      assertThat(refused(st, "SELECT * FROM payments")).isEqualTo(DENIED);
      assertThat(refused(st, "TABLE payments")).isEqualTo(DENIED);
      assertThat(column(st, "SELECT count(*) FROM public.ledger")).containsExactly("2");
    }
    try (Connection c = rosa();
        Statement st = c.createStatement()) {
      st.execute("SET LOCAL SCHEMA 'billing'"); // outside a transaction: a warning, no effect
      // still tracked (the set of schemas only grows, which fails closed)
      assertThat(refused(st, "SELECT card FROM payments")).isEqualTo(DENIED);
    }
  }

  @Test
  void plannerStatisticsCountAsEveryTable() throws Exception {
    try (Connection c = rosa();
        Statement st = c.createStatement()) {
      assertThat(
              refused(
                  st,
                  "SELECT attname, most_common_vals, histogram_bounds FROM pg_stats"
                      + " WHERE tablename = 'customers'"))
          .isEqualTo(DENIED);
      assertThat(refused(st, "SELECT most_common_vals::text FROM pg_catalog.\"pg_stats\""))
          .isEqualTo(DENIED);
      assertThat(refused(st, "SELECT * FROM pg_stats_ext")).isEqualTo(DENIED);
      // the catalog queries of psql's \d customers still run
      assertThat(
              column(
                  st,
                  "SELECT c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n"
                      + " ON n.oid = c.relnamespace WHERE c.relname OPERATOR(pg_catalog.~)"
                      + " '^(customers)$' COLLATE pg_catalog.default AND"
                      + " pg_catalog.pg_table_is_visible(c.oid)"))
          .containsExactly("customers");
      assertThat(
              column(
                  st,
                  "SELECT count(*) FROM pg_catalog.pg_statistic_ext stat WHERE stxrelid ="
                      + " 'public.customers'::regclass"))
          .containsExactly("0");
    }
    // the statistics are there: the direct connection sees the SSN among them
    try (Connection c = t.direct("gh_round5");
        Statement st = c.createStatement()) {
      assertThat(
              column(
                  st,
                  "SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'customers'"
                      + " AND attname = 'ssn'"))
          .singleElement()
          .asString()
          .contains(SSN);
    }
  }

  @Test
  void otherSessionsStatementTextsCountAsEveryTable() throws Exception {
    // Another session's last statement, literal SSN included, stays in pg_stat_activity.query
    try (Connection other = t.direct("gh_round5");
        Statement o = other.createStatement()) {
      o.execute("SELECT full_name FROM customers WHERE ssn = '" + SSN + "'");
      try (Connection c = t.direct("gh_round5");
          Statement st = c.createStatement()) {
        assertThat(column(st, "SELECT query FROM pg_stat_activity WHERE datname = 'gh_round5'"))
            .anySatisfy(q -> assertThat(q).contains(SSN));
      }
      try (Connection c = rosa();
          Statement st = c.createStatement()) {
        assertThat(refused(st, "SELECT query FROM pg_stat_activity")).isEqualTo(DENIED);
        assertThat(refused(st, "SELECT a.* FROM pg_catalog.pg_stat_activity a")).isEqualTo(DENIED);
        assertThat(refused(st, "SELECT query FROM pg_stat_get_activity(NULL)")).isEqualTo(DENIED);
        assertThat(
                refused(
                    st,
                    "SELECT pg_stat_get_backend_activity(s) FROM pg_stat_get_backend_idset() s"))
            .isEqualTo(DENIED);
        // the conservative side: without the query column it is refused too (documented)
        assertThat(refused(st, "SELECT pid, state FROM pg_stat_activity")).isEqualTo(DENIED);
        // counters of other views still run
        assertThat(column(st, "SELECT count(*) > 0 FROM pg_stat_user_tables")).containsExactly("t");
      }
    }
  }

  @Test
  void anExecuteIsDecidedAgainAfterThePolicyChanged() throws Exception {
    try (Connection c = rosa();
        Statement st = c.createStatement()) {
      st.execute("PREPARE p AS SELECT amount FROM ledger ORDER BY id");
      assertThat(column(st, "EXECUTE p")).containsExactly("10", "20");
      reload(STRICTER);
      assertThat(refused(st, "EXECUTE p")).isEqualTo(DENIED);
      reload(POLICY);
      assertThat(column(st, "EXECUTE p")).containsExactly("10", "20");
      // a PREPARE that fails as a duplicate does not change what EXECUTE is decided as
      refused(st, "PREPARE p AS SELECT 1");
      reload(STRICTER);
      assertThat(refused(st, "EXECUTE p")).isEqualTo(DENIED);
      // one the target deallocated and prepared again is decided as the new statement
      st.execute("DEALLOCATE p");
      st.execute("PREPARE p AS SELECT 7");
      assertThat(column(st, "EXECUTE p")).containsExactly("7");
    }
  }

  @Test
  void inOneSimpleQueryStringAsWell() throws Exception {
    try (Connection c = rosa("&preferQueryMode=simple");
        Statement st = c.createStatement()) {
      assertThat(st.execute("PREPARE q AS SELECT amount FROM ledger ORDER BY id; EXECUTE q"))
          .isFalse(); // the first result is PREPARE's, which has no rows
      assertThat(st.getMoreResults()).isTrue();
      st.execute(
          "BEGIN; DECLARE h CURSOR WITH HOLD FOR SELECT full_name FROM people ORDER BY id;"
              + " COMMIT");
      assertThat(column(st, "FETCH 1 FROM h")).containsExactly("person 1");
      reload(STRICTER);
      assertThat(refused(st, "EXECUTE q")).isEqualTo(DENIED);
      assertThat(refused(st, "SELECT 1; FETCH 1 FROM h")).isEqualTo(DENIED);
      reload(POLICY);
      assertThat(column(st, "FETCH 1 FROM h")).containsExactly("person 2");
      assertThat(column(st, "EXECUTE q")).containsExactly("10", "20");
    }
  }

  @Test
  void aFetchFromAHeldCursorIsDecidedAgainAfterThePolicyChanged() throws Exception {
    try (Connection c = rosa();
        Statement st = c.createStatement()) {
      st.execute("BEGIN");
      st.execute(
          "DECLARE c CURSOR WITH HOLD FOR SELECT id, full_name, ssn FROM people ORDER BY id");
      st.execute("COMMIT");
      assertThat(column(st, "FETCH 1 FROM c")).containsExactly("1");
      reload(STRICTER);
      assertThat(refused(st, "FETCH 2 FROM c")).isEqualTo(DENIED);
      assertThat(refused(st, "MOVE NEXT IN c")).isEqualTo(DENIED);
      reload(POLICY);
      assertThat(column(st, "FETCH 1 FROM c")).containsExactly("2");
      st.execute("CLOSE c");
      // another cursor of that name, over an allowed table, is decided as itself
      st.execute("BEGIN");
      st.execute("DECLARE c CURSOR FOR SELECT amount FROM ledger ORDER BY id");
      assertThat(column(st, "FETCH 1 FROM c")).containsExactly("10");
      st.execute("COMMIT");
    }
  }

  /**
   * A protocol Close of a portal ends the cursor of that name at the target (portals and SQL
   * cursors are one namespace: protocol-flow.html, Close "closes ... a portal"; portalmem.c
   * PortalDrop). The gateway kept the closed cursor's DECLARE, so after a reload it decided a FETCH
   * of a function's refcursor opened later under the name as that old DECLARE and refused it.
   */
  @Test
  void aCursorClosedByAProtocolCloseIsNotCheckedAgainForTheNextCursorOfItsName() throws Exception {
    try (PgProtocolRedTeamTest.Raw r = rosaRaw()) {
      declareHeldCursorOfPeople(r);
      assertThat(PgProtocolRedTeamTest.firstColumn(r.query("FETCH 1 FROM c"))).hasSize(1);
      reload(STRICTER); // denies people, the closed cursor's table
      List<PgCodec.Message> ms = fetchFromRefundsOpenedAfterClose(r);
      assertThat(states(ms)).isEmpty();
      assertThat(PgProtocolRedTeamTest.firstColumn(ms)).containsExactly("100");
      r.query("COMMIT");
    }
  }

  /**
   * The same for a portal Bound through the protocol: once a Close of it was answered, a FETCH of
   * another cursor of the name (a function's refcursor) was refused as if it could run the portal.
   * Also after a SQL CLOSE of the name or CLOSE ALL, which drop a Bound portal as well.
   */
  @Test
  void aBoundPortalClosedByAProtocolCloseNoLongerRefusesAFetchOfItsName() throws Exception {
    for (String close : List.of("Close", "CLOSE c5", "CLOSE ALL")) {
      try (PgProtocolRedTeamTest.Raw r = rosaRaw()) {
        assertThat(states(r.query("BEGIN"))).isEmpty();
        List<PgCodec.Message> ms =
            close.equals("Close")
                ? runThenClose(r, "SELECT 1", "c5", "c5")
                : runThenClose(r, "SELECT 1", "c5", "other");
        assertThat(states(ms)).isEmpty();
        if (!close.equals("Close")) { // the SQL statement drops the Bound portal too
          assertThat(states(r.query(close))).as(close).isEmpty();
        }
        assertThat(states(r.query("SELECT open_refunds('c5')"))).isEmpty();
        ms = r.query("FETCH 2 FROM c5");
        assertThat(states(ms)).as(close).isEmpty();
        assertThat(PgProtocolRedTeamTest.firstColumn(ms)).containsExactly("100", "101");
        r.query("COMMIT");
      }
    }
  }

  /**
   * A cursor's rows count for {@code max_rows} across its FETCHes; after a protocol Close of it, a
   * function's refcursor opened under the name counted on from the closed cursor's rows and was cut
   * at its first FETCH.
   */
  @Test
  void aCursorClosedByAProtocolCloseLeavesNoRowCountToTheNextCursorOfItsName() throws Exception {
    try (PgProtocolRedTeamTest.Raw r = rosaRaw("lina", TOKEN_LIMITED)) {
      declareHeldCursorOfPeople(r);
      assertThat(PgProtocolRedTeamTest.firstColumn(r.query("FETCH 2 FROM c"))).hasSize(2);
      assertThat(PgProtocolRedTeamTest.firstColumn(r.query("FETCH 1 FROM c"))).isEmpty(); // cut
      List<PgCodec.Message> ms = fetchFromRefundsOpenedAfterClose(r);
      assertThat(PgProtocolRedTeamTest.errorText(ms)).doesNotContain("cut at");
      assertThat(PgProtocolRedTeamTest.firstColumn(ms)).containsExactly("100");
      r.query("COMMIT");
    }
  }

  /**
   * What a Close does not close keeps its protection: a Close of another name (the target keys
   * protocol names by their bytes, while an unquoted SQL name is folded to lower case), and a Close
   * that the target skipped after an earlier error of its pipeline.
   */
  @Test
  void aCloseOfAnotherNameOrASkippedCloseKeepsTheCursorChecked() throws Exception {
    for (String close : List.of("C", "c ", "skipped")) {
      try (PgProtocolRedTeamTest.Raw r = rosaRaw()) {
        declareHeldCursorOfPeople(r);
        if (close.equals("skipped")) {
          assertThat(states(runThenClose(r, "SELECT 1/0", "", "c"))).containsExactly("22012");
        } else {
          closePortal(r, close);
        }
        reload(STRICTER);
        assertThat(states(r.query("FETCH 1 FROM c"))).as(close).containsExactly(DENIED);
        reload(POLICY);
        assertThat(PgProtocolRedTeamTest.firstColumn(r.query("FETCH 1 FROM c")))
            .as(close)
            .hasSize(1);
      }
    }
  }

  private static PgProtocolRedTeamTest.Raw rosaRaw() throws Exception {
    return rosaRaw("rosa", TOKEN);
  }

  /** A raw client of {@code user} on this class's connection. */
  private static PgProtocolRedTeamTest.Raw rosaRaw(String user, String token) throws Exception {
    return new PgProtocolRedTeamTest.Raw(
        server.address().getPort(), user, token, java.util.Map.of("database", CONN));
  }

  /**
   * Closes portal c with a protocol Close, opens a function's refcursor c over refunds in a new
   * transaction (left open) and FETCHes 1 from it: the FETCH's answer.
   */
  private static List<PgCodec.Message> fetchFromRefundsOpenedAfterClose(PgProtocolRedTeamTest.Raw r)
      throws Exception {
    closePortal(r, "c");
    assertThat(states(r.query("BEGIN"))).isEmpty();
    assertThat(states(r.query("SELECT open_refunds('c')"))).isEmpty();
    return r.query("FETCH 1 FROM c");
  }

  private static void declareHeldCursorOfPeople(PgProtocolRedTeamTest.Raw r) throws Exception {
    assertThat(states(r.query("BEGIN"))).isEmpty();
    assertThat(states(r.query("DECLARE c CURSOR WITH HOLD FOR SELECT full_name FROM people")))
        .isEmpty();
    assertThat(states(r.query("COMMIT"))).isEmpty();
  }

  /** Runs {@code sql} in {@code portal}, then Closes portal {@code close}, in one Sync. */
  private static List<PgCodec.Message> runThenClose(
      PgProtocolRedTeamTest.Raw r, String sql, String portal, String close) throws Exception {
    return r.send(
            PgProtocolRedTeamTest.parse("", sql),
            PgProtocolRedTeamTest.bind(portal, ""),
            PgProtocolRedTeamTest.execute(portal, 0),
            PgProtocolRedTeamTest.close('P', close),
            PgProtocolRedTeamTest.sync())
        .untilReady();
  }

  private static void closePortal(PgProtocolRedTeamTest.Raw r, String name) throws Exception {
    List<PgCodec.Message> ms =
        r.send(PgProtocolRedTeamTest.close('P', name), PgProtocolRedTeamTest.sync()).untilReady();
    assertThat(states(ms)).isEmpty();
    assertThat(ms.stream().map(PgCodec.Message::kind)).contains('3');
  }

  private static List<String> states(List<PgCodec.Message> ms) throws Exception {
    return PgProtocolRedTeamTest.sqlStates(ms);
  }

  @Test
  void everyExecuteOfAReviewedStatementIsReviewed() throws Exception {
    reviewed.clear();
    approvals.set(2); // the PREPARE and one EXECUTE
    try (Connection c = rosa();
        Statement st = c.createStatement()) {
      st.execute("PREPARE r(int) AS UPDATE refunds SET status = 'refunded' WHERE id = $1");
      st.execute("EXECUTE r(100)");
      assertThat(refused(st, "EXECUTE r(101)")).isEqualTo(DENIED);
      assertThat(refused(st, "EXECUTE r(102)")).isEqualTo(DENIED);
    } finally {
      approvals.set(0);
    }
    assertThat(reviewed)
        .containsExactly(
            "PREPARE r(int) AS UPDATE refunds SET status = 'refunded' WHERE id = $1",
            "EXECUTE r(100)",
            "EXECUTE r(101)",
            "EXECUTE r(102)");
    try (Connection c = t.direct("gh_round5");
        Statement st = c.createStatement()) {
      assertThat(column(st, "SELECT id || ':' || status FROM refunds ORDER BY id"))
          .containsExactly("100:refunded", "101:open", "102:open");
    }
  }
}
