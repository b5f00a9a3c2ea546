package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.policy.PolicySet;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo policy (examples/policies/demo.yaml, on a connection of its own) through the gateway to
 * the embedded PostgreSQL with pgjdbc, a reviewer that approves everything: what the engineer's
 * review rule holds, and what it must not (red team rt12, findings 5 and 8). Besides the demo's
 * rules, a review rule about one function ({@link #SLEEP_REVIEW}, issue #3).
 */
class PgDemoPolicyGatewayTest {
  static final String CONN = "rt12-payments";
  static final String TOKEN = "tok-rt12-eng-0001";

  /** Appended to the demo policy: engineers' calls of pg_sleep are held for a DBA. */
  static final String SLEEP_REVIEW =
      """

        - id: sleep-review
          subjects: { groups: [engineering] }
          connections: { names: [CONN] }
          effect: review
          review: { groups: [dba] }
          sql: { functions: [pg_sleep] }
      """;

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;
  private static final List<String> reviewed = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    t.freshDatabase(
        "gh_rt12",
        """
          CREATE TABLE public.payments (id int PRIMARY KEY, status text);
          INSERT INTO public.payments VALUES (1, 'settled'), (2, 'settled'), (3, 'settled');
          ALTER TABLE public.payments OWNER TO gh_scram;
          CREATE TABLE public.notes (t text);
          ALTER TABLE public.notes OWNER TO gh_scram;
          CREATE FUNCTION public.note(v text) RETURNS int LANGUAGE sql
            AS $$ INSERT INTO public.notes VALUES (v); SELECT 1 $$;
          """);
    t.addDemoConnection(CONN, "gh_rt12", "gh_scram");
    t.addPrincipal(TOKEN, "erin", Set.of("engineering"));
    PolicySet policy =
        PgTestSupport.policy(
            dir,
            "demo.yaml",
            Files.readString(Path.of("examples/policies/demo.yaml")).replace("payments-db", CONN)
                + SLEEP_REVIEW.replace("CONN", CONN));
    MaskingEngine engine =
        MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "rt12"), 0));
    gate =
        t.gateWith(() -> policy)
            .redactor(engine::redact)
            .reviews(
                (sessionId, principal, target, action, decision, waiting) -> {
                  reviewed.add(action.raw());
                  return new ReviewGate.Outcome(true, "rv-" + reviewed.size(), "approved");
                })
            .build();
    server = t.serve(gate, engine);
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  private static Connection erin() throws SQLException {
    return PgTestSupport.plainJdbc(server, CONN, "erin", TOKEN, "");
  }

  private static String status(int id) throws SQLException {
    return direct("SELECT status FROM payments WHERE id = " + id);
  }

  /** The first column of the first row of {@code sql}, run on the target directly. */
  private static String direct(String sql) throws SQLException {
    try (Connection c = t.direct("gh_rt12");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static String refused(Statement st, String sql) {
    SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(sql));
    assertThat((Throwable) e).as(sql).isNotNull();
    return e.getSQLState() + " " + e.getMessage();
  }

  @Test
  void plainWritesAreHeldAndRunOnceApproved() throws Exception {
    try (Connection c = erin();
        Statement st = c.createStatement()) {
      int before = reviewed.size();
      assertThat(
              st.executeUpdate(
                  "/* justification: refund */ UPDATE payments SET status = 'refunded' WHERE id = 2"))
          .isEqualTo(1);
      assertThat(
              st.executeUpdate(
                  "/* justification: new */ INSERT INTO payments VALUES (10, 'new')"
                      + " ON CONFLICT (id) DO UPDATE SET status = 'new' WHERE payments.id = 10"))
          .isEqualTo(1);
      assertThat(reviewed.size() - before).isEqualTo(2);
      assertThat(status(2)).isEqualTo("refunded");
      assertThat(status(10)).isEqualTo("new");
    }
  }

  @Test
  void aRoleChangeOrServerFileReadInsideAnUpdateIsDeniedNotReviewed() throws Exception {
    try (Connection c = erin();
        Statement st = c.createStatement()) {
      int before = reviewed.size();
      // Setting the role to the upstream role itself succeeds at the target: before the fix the
      // review rule held it as a write, the reviewer approved, and it ran.
      assertThat(
              refused(
                  st,
                  "/* justification: x */ UPDATE payments"
                      + " SET status = set_config('role', 'gh_scram', false) WHERE id = 1"))
          .startsWith(PgErrors.INSUFFICIENT_PRIVILEGE)
          .contains("set_role");
      assertThat(
              refused(
                  st,
                  "/* justification: x */ UPDATE payments SET status = status"
                      + " WHERE id = 1 AND length(pg_read_file('postgresql.conf')) > 0"))
          .startsWith(PgErrors.INSUFFICIENT_PRIVILEGE)
          .contains("copy_program");
      assertThat(reviewed.size()).isEqualTo(before);
      assertThat(status(1)).isEqualTo("settled");
      // a plain role change is denied as before
      assertThat(refused(st, "SELECT set_config('role', 'gh_scram', false)"))
          .startsWith(PgErrors.INSUFFICIENT_PRIVILEGE);
    }
  }

  @Test
  void aReviewOfPgSleepHoldsBuiltInsButNotAFunctionNoRuleAdmits() throws Exception {
    try (Connection c = erin();
        Statement st = c.createStatement()) {
      int before = reviewed.size();
      // pg_sleep with now() and lower(), read-only built-ins: held, approved, run
      try (ResultSet rs = st.executeQuery("SELECT pg_sleep(0), now() IS NOT NULL, lower('A')")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(3)).isEqualTo("a");
      }
      assertThat(reviewed.size() - before).isEqualTo(1);
      // with the database's own function (engineering-read does not admit opaque calls): before,
      // held for pg_sleep, approved, and note() wrote
      assertThat(refused(st, "SELECT pg_sleep(0), note('x')"))
          .startsWith(PgErrors.INSUFFICIENT_PRIVILEGE)
          .contains("function note")
          .contains("sleep-review reviews only part of it");
      assertThat(reviewed.size() - before).isEqualTo(1);
      assertThat(direct("SELECT count(*) FROM notes")).isEqualTo("0");
    }
  }

  @Test
  void twoPhaseCommitIsNoSessionStatement() throws Exception {
    try (Connection c = erin();
        Statement st = c.createStatement()) {
      // before: transaction (session group), so it reached the target (42704: no such gid)
      assertThat(refused(st, "COMMIT PREPARED 'someone-elses'"))
          .startsWith(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(refused(st, "ROLLBACK PREPARED 'someone-elses'"))
          .startsWith(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(refused(st, "PREPARE TRANSACTION 'mine'"))
          .startsWith(PgErrors.INSUFFICIENT_PRIVILEGE);
      // her own transactions still work
      st.execute("BEGIN");
      st.execute("SAVEPOINT a");
      st.execute("ROLLBACK TO SAVEPOINT a");
      st.execute("COMMIT");
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM payments")) {
        assertThat(rs.next()).isTrue();
      }
    }
  }

  // ---- red team rt16: SQL names and protocol names are one namespace at the target ----

  private static PgProtocolRedTeamTest.Raw erinRaw() throws Exception {
    return new PgProtocolRedTeamTest.Raw(
        server.address().getPort(), "erin", TOKEN, java.util.Map.of("database", CONN));
  }

  /**
   * A protocol Close of a name drops a statement SQL PREPAREd under it (protocol-flow.html: Close
   * "closes a prepared statement or portal", the one namespace of both). The gateway kept the SQL
   * PREPARE's SELECT for the name, so a write Parsed under it (decided at Execute: it has a '$')
   * ran on SQL EXECUTE as that SELECT, without a review (rt16 finding 1).
   */
  @Test
  void aWriteParsedUnderANameSqlPreparedAndClosedIsNotRunAsTheOldSelect() throws Exception {
    try (PgProtocolRedTeamTest.Raw r = erinRaw()) {
      assertThat(PgProtocolRedTeamTest.sqlStates(r.query("PREPARE p16 AS SELECT 1"))).isEmpty();
      r.send(PgProtocolRedTeamTest.close('S', "p16"), PgProtocolRedTeamTest.sync()).untilReady();
      List<PgCodec.Message> ms =
          r.send(
                  PgProtocolRedTeamTest.parse(
                      "p16", "UPDATE payments SET status = 'rt16$' WHERE id = 3"),
                  PgProtocolRedTeamTest.sync())
              .untilReady();
      assertThat(PgProtocolRedTeamTest.sqlStates(ms)).isEmpty();
      int before = reviewed.size();
      ms = r.query("EXECUTE p16");
      // decided as the UPDATE it may run: held for review (this fixture's reviewer approves)
      assertThat(PgProtocolRedTeamTest.sqlStates(ms)).isEmpty();
      assertThat(reviewed.size()).isEqualTo(before + 1);
      assertThat(status(3)).isEqualTo("rt16$");
    }
  }

  /**
   * The same, with a statement between that made the gateway forget every protocol-level name while
   * the target kept them: DISCARD PLANS, a DEALLOCATE of another name or of a name the target does
   * not know. The EXECUTE ran the Parsed write as the SELECT, unreviewed (review of the sixteenth
   * session).
   */
  @Test
  void aWriteParsedUnderAClosedNameIsNotRunAsTheOldSelectAfterADiscard() throws Exception {
    int id = 0;
    for (String between : List.of("DISCARD PLANS", "DEALLOCATE nosuch17", "DEALLOCATE other17")) {
      id++;
      String name = "p17_" + id;
      try (PgProtocolRedTeamTest.Raw r = erinRaw()) {
        r.query("PREPARE other17 AS SELECT 2");
        assertThat(PgProtocolRedTeamTest.sqlStates(r.query("PREPARE " + name + " AS SELECT 1")))
            .isEmpty();
        r.send(PgProtocolRedTeamTest.close('S', name), PgProtocolRedTeamTest.sync()).untilReady();
        List<PgCodec.Message> ms =
            r.send(
                    PgProtocolRedTeamTest.parse(
                        name, "UPDATE payments SET status = 'rt17-" + id + "$' WHERE id = 2"),
                    PgProtocolRedTeamTest.sync())
                .untilReady();
        assertThat(PgProtocolRedTeamTest.sqlStates(ms)).as(between).isEmpty();
        r.query(between);
        int before = reviewed.size();
        ms = r.query("EXECUTE " + name);
        // decided as the UPDATE it runs: held for review (this fixture's reviewer approves)
        assertThat(PgProtocolRedTeamTest.sqlStates(ms)).as(between).isEmpty();
        assertThat(reviewed.size()).as(between).isEqualTo(before + 1);
        assertThat(status(2)).isEqualTo("rt17-" + id + "$");
      }
    }
  }

  /**
   * SQL FETCH runs any portal of its name, a protocol-level one too (its statement's Execute is
   * where the gateway decides it when it has parameters): FETCH of a named portal Bound to a write
   * ran the write without a decision (rt16 finding 2). Also when the name was a SQL cursor's,
   * closed by a protocol Close.
   */
  @Test
  void sqlFetchCannotRunAPortalBoundThroughTheProtocol() throws Exception {
    for (String before : List.of("", "DECLARE c16 CURSOR FOR SELECT 1")) {
      for (String fetch : List.of("FETCH ALL FROM c16", "MOVE ALL IN c16")) {
        try (PgProtocolRedTeamTest.Raw r = erinRaw()) {
          r.query("BEGIN");
          if (!before.isEmpty()) {
            assertThat(PgProtocolRedTeamTest.sqlStates(r.query(before))).isEmpty();
            r.send(PgProtocolRedTeamTest.close('P', "c16"), PgProtocolRedTeamTest.sync())
                .untilReady();
          }
          assertThat(PgProtocolRedTeamTest.sqlStates(bindUpdate(r))).isEmpty();
          List<PgCodec.Message> ms = r.query(fetch);
          assertThat(PgProtocolRedTeamTest.sqlStates(ms))
              .as(before + " / " + fetch)
              .containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
          assertThat(PgProtocolRedTeamTest.firstColumn(ms)).isEmpty();
          r.query("ROLLBACK");
        }
        assertThat(status(1)).as(before + " / " + fetch).isEqualTo("settled");
      }
    }
  }

  /**
   * A protocol Close forgets a Bound portal once the target answered it, but only the portal it
   * closed: not one Bound again under the name behind the Close in the same pipeline (its
   * CloseComplete arrives after that Bind was sent), nor one of another name (the target keys
   * protocol names by their bytes). Likewise a SQL CLOSE of the name.
   */
  @Test
  void aCloseDoesNotForgetAPortalBoundAfterItOrOfAnotherName() throws Exception {
    for (String close : List.of("c16 before", "CLOSE c16 before", "C16", "c16x")) {
      try (PgProtocolRedTeamTest.Raw r = erinRaw()) {
        r.query("BEGIN");
        if (close.equals("CLOSE c16 before")) { // SQL CLOSE of an open cursor, pipelined
          assertThat(PgProtocolRedTeamTest.sqlStates(r.query("DECLARE c16 CURSOR FOR SELECT 1")))
              .isEmpty();
          List<PgCodec.Message> ms = bindUpdate(r, PgMessages.query("CLOSE c16"));
          assertThat(PgProtocolRedTeamTest.sqlStates(ms)).isEmpty();
          assertThat(PgProtocolRedTeamTest.sqlStates(r.untilReady())).isEmpty();
        } else if (close.equals("c16 before")) {
          List<PgCodec.Message> ms =
              bindUpdate(
                  r,
                  PgProtocolRedTeamTest.parse("s16", "SELECT 1"),
                  PgProtocolRedTeamTest.bind("c16", "s16"),
                  PgProtocolRedTeamTest.close('P', "c16"));
          assertThat(PgProtocolRedTeamTest.sqlStates(ms)).isEmpty();
        } else {
          assertThat(PgProtocolRedTeamTest.sqlStates(bindUpdate(r))).isEmpty();
          List<PgCodec.Message> ms =
              r.send(PgProtocolRedTeamTest.close('P', close), PgProtocolRedTeamTest.sync())
                  .untilReady();
          assertThat(PgProtocolRedTeamTest.sqlStates(ms)).isEmpty();
        }
        List<PgCodec.Message> ms = r.query("FETCH ALL FROM c16");
        assertThat(PgProtocolRedTeamTest.sqlStates(ms))
            .as(close)
            .containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
        assertThat(PgProtocolRedTeamTest.firstColumn(ms)).isEmpty();
        r.query("ROLLBACK");
      }
      assertThat(status(1)).as(close).isEqualTo("settled");
    }
  }

  /**
   * A real deadlock between two masked sessions (issue #3). PostgreSQL's deadlock report
   * (deadlock.c DeadLockReport) sends the client the wait-for cycle only ("Process N waits for
   * ShareLock on transaction X; blocked by process M.") and keeps each process's statement text for
   * the server log (errdetail_log, "See server log for query details."): what a session ran stays
   * out of the other's error. A regression test: nothing leaked before either. The other session's
   * statement carries a card number and a marker; neither reaches the victim, whose error still
   * tells the cycle, and the card number reaches neither session's client.
   */
  @Test
  void aDeadlockErrorCarriesNoOtherSessionsStatement() throws Exception {
    String justified = "/* justification: deadlock test */ ";
    try (PgProtocolRedTeamTest.Raw a = erinRaw();
        PgProtocolRedTeamTest.Raw b = erinRaw()) {
      a.query("BEGIN");
      b.query("BEGIN");
      assertThat(
              PgProtocolRedTeamTest.sqlStates(
                  a.query(justified + "UPDATE payments SET status = 'dl-a' WHERE id = 2")))
          .isEmpty();
      assertThat(
              PgProtocolRedTeamTest.sqlStates(
                  b.query(justified + "UPDATE payments SET status = 'dl-b' WHERE id = 3")))
          .isEmpty();
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newSingleThreadExecutor();
      try {
        java.util.concurrent.Future<List<PgCodec.Message>> first =
            pool.submit(
                () ->
                    a.query(
                        justified
                            + "UPDATE payments SET status = 'dl-a-4111 1111 1111 1111-a-marker'"
                            + " WHERE id = 3"));
        awaitLockWait();
        List<PgCodec.Message> second =
            b.query(
                justified
                    + "UPDATE payments SET status = 'dl-b-4111 1111 1111 1111-b-marker'"
                    + " WHERE id = 2");
        List<PgCodec.Message> firstAnswer = first.get(30, java.util.concurrent.TimeUnit.SECONDS);
        List<String> states =
            new java.util.ArrayList<>(PgProtocolRedTeamTest.sqlStates(firstAnswer));
        states.addAll(PgProtocolRedTeamTest.sqlStates(second));
        assertThat(states).containsExactly("40P01"); // one victim, the other went on
        boolean aLost = !PgProtocolRedTeamTest.sqlStates(firstAnswer).isEmpty();
        List<PgCodec.Message> victim = aLost ? firstAnswer : second;
        String other = aLost ? "b-marker" : "a-marker";
        Map<Character, String> error = errorFields(victim);
        assertThat(error.get('M')).isEqualTo("deadlock detected");
        assertThat(error.get('D')).contains("waits for").contains("blocked by process");
        assertThat(error.get('H')).isEqualTo("See server log for query details.");
        assertThat(error.toString()).doesNotContain(other).doesNotContain("dl-");
        assertThat(
                PgProtocolRedTeamTest.errorText(victim)
                    + PgProtocolRedTeamTest.errorText(aLost ? second : firstAnswer))
            .doesNotContain("4111 1111 1111 1111");
      } finally {
        pool.shutdownNow();
      }
      a.query("ROLLBACK");
      b.query("ROLLBACK");
    }
    assertThat(status(2)).isNotEqualTo("dl-a");
  }

  /** Waits until a session of the test database waits for a lock (at most 10 s). */
  private static void awaitLockWait() throws Exception {
    for (int i = 0; i < 200; i++) {
      if (!direct(
              "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                  + " AND datname = 'gh_rt12'")
          .equals("0")) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no session waited for a lock");
  }

  /** The fields of the first ErrorResponse in {@code ms}. */
  private static Map<Character, String> errorFields(List<PgCodec.Message> ms) throws Exception {
    for (PgCodec.Message m : ms) {
      if (m.kind() == 'E') {
        return PgMessages.parseFields(m.body());
      }
    }
    throw new AssertionError("no ErrorResponse");
  }

  /**
   * Binds portal c16 to an UPDATE of payment 1 that returns rows, decided only at an Execute, in
   * one Sync after the messages {@code before}; the answers up to the first ReadyForQuery.
   */
  private static List<PgCodec.Message> bindUpdate(PgProtocolRedTeamTest.Raw r, byte[]... before)
      throws Exception {
    return r.send(before)
        .send(
            PgProtocolRedTeamTest.parse(
                "", "UPDATE payments SET status = 'rt16$' WHERE id = 1 RETURNING id"),
            PgProtocolRedTeamTest.bind("c16", ""),
            PgProtocolRedTeamTest.sync())
        .untilReady();
  }

  /** The same FETCH Parsed before the portal was Bound, and executed after: decided at Execute. */
  @Test
  void aFetchParsedBeforeThePortalWasBoundCannotRunIt() throws Exception {
    try (PgProtocolRedTeamTest.Raw r = erinRaw()) {
      List<PgCodec.Message> ms =
          r.send(
                  PgProtocolRedTeamTest.parse("f16", "FETCH ALL FROM c16"),
                  PgProtocolRedTeamTest.sync())
              .untilReady();
      assertThat(PgProtocolRedTeamTest.sqlStates(ms)).isEmpty();
      r.query("BEGIN");
      ms =
          r.send(
                  PgProtocolRedTeamTest.parse(
                      "", "UPDATE payments SET status = 'rt16$' WHERE id = 1 RETURNING id"),
                  PgProtocolRedTeamTest.bind("c16", ""),
                  PgProtocolRedTeamTest.bind("", "f16"),
                  PgProtocolRedTeamTest.execute("", 0),
                  PgProtocolRedTeamTest.sync())
              .untilReady();
      assertThat(PgProtocolRedTeamTest.sqlStates(ms))
          .containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(PgProtocolRedTeamTest.firstColumn(ms)).isEmpty();
      r.query("COMMIT");
      assertThat(status(1)).isEqualTo("settled");
    }
  }

  // ---- rt16 "noticed, not fixed" ----

  /**
   * COPY's option {@code FORCE_QUOTE (column)} is not a call of a function force_quote: the
   * engineer's rule refuses unknown functions, and refused the COPY (rt16). Also the old-style
   * option syntax.
   */
  @Test
  void copyWithForceQuoteIsNotRefusedAsAnUnknownFunction() throws Exception {
    for (String copy :
        List.of(
            "COPY payments (status) TO STDOUT (FORMAT csv, FORCE_QUOTE (status))",
            "COPY payments (status) TO STDOUT (FORMAT csv, FORCE_QUOTE *)",
            "COPY payments (status) TO STDOUT WITH CSV FORCE QUOTE status")) {
      try (PgProtocolRedTeamTest.Raw r = erinRaw()) {
        List<PgCodec.Message> ms = r.query(copy);
        assertThat(PgProtocolRedTeamTest.errorText(ms)).as(copy).isEmpty();
        assertThat(
                ms.stream()
                    .filter(m -> m.kind() == 'd')
                    .map(m -> new String(m.body(), java.nio.charset.StandardCharsets.UTF_8)))
            .as(copy)
            .anyMatch(row -> row.contains("\"settled\""));
      }
    }
  }

  /**
   * A named portal lasts until the end of its transaction (protocol-flow.html): after a ROLLBACK, a
   * COMMIT or an error that ends the implicit transaction at Sync, a new Bind of the name is the
   * target's business; the gateway refused it as a duplicate (42P03) from its stale bookkeeping.
   */
  @Test
  void aPortalIsForgottenWhenItsTransactionEnds() throws Exception {
    for (String end : List.of("ROLLBACK", "COMMIT", "error")) {
      try (PgProtocolRedTeamTest.Raw r = erinRaw()) {
        List<PgCodec.Message> ms;
        if (end.equals("error")) { // the implicit transaction of the Bind ends at Sync
          ms =
              r.send(
                      PgProtocolRedTeamTest.parse("s17", "SELECT 1"),
                      PgProtocolRedTeamTest.bind("c17", "s17"),
                      PgProtocolRedTeamTest.parse("", "SELECT 1/0"),
                      PgProtocolRedTeamTest.bind("", ""),
                      PgProtocolRedTeamTest.execute("", 0),
                      PgProtocolRedTeamTest.sync())
                  .untilReady();
          assertThat(PgProtocolRedTeamTest.sqlStates(ms)).containsExactly("22012");
        } else {
          r.query("BEGIN");
          ms =
              r.send(
                      PgProtocolRedTeamTest.parse("s17", "SELECT 1"),
                      PgProtocolRedTeamTest.bind("c17", "s17"),
                      PgProtocolRedTeamTest.sync())
                  .untilReady();
          assertThat(PgProtocolRedTeamTest.errorText(ms)).isEmpty();
          assertThat(PgProtocolRedTeamTest.errorText(r.query(end))).isEmpty();
        }
        ms =
            r.send(
                    PgProtocolRedTeamTest.bind("c17", "s17"),
                    PgProtocolRedTeamTest.execute("c17", 0),
                    PgProtocolRedTeamTest.sync())
                .untilReady();
        assertThat(PgProtocolRedTeamTest.errorText(ms)).as(end).isEmpty();
        assertThat(PgProtocolRedTeamTest.firstColumn(ms)).as(end).containsExactly("1");
      }
    }
  }

  /**
   * Forgetting portals at a transaction end forgets only those Bound before the Query or Sync that
   * ended it: a portal Bound behind it, in a later transaction, still cannot be run by FETCH though
   * the earlier transaction's end is seen after its Bind.
   */
  @Test
  void aPortalBoundBehindAnEndingTransactionIsStillNotFetched() throws Exception {
    try (PgProtocolRedTeamTest.Raw r = erinRaw()) {
      r.send(
          PgMessages.query("SELECT pg_sleep(0.3)"), // its 'I' comes after the Bind below
          PgMessages.query("BEGIN"),
          PgProtocolRedTeamTest.parse(
              "", "UPDATE payments SET status = 'rt16$' WHERE id = 1 RETURNING id"),
          PgProtocolRedTeamTest.bind("c16", ""),
          PgProtocolRedTeamTest.sync());
      for (int i = 0; i < 3; i++) {
        assertThat(PgProtocolRedTeamTest.sqlStates(r.untilReady())).isEmpty();
      }
      List<PgCodec.Message> ms = r.query("FETCH ALL FROM c16");
      assertThat(PgProtocolRedTeamTest.sqlStates(ms))
          .containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(PgProtocolRedTeamTest.firstColumn(ms)).isEmpty();
      r.query("ROLLBACK");
    }
    assertThat(status(1)).isEqualTo("settled");
  }
}
