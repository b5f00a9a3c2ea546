package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.ReloadingPolicyEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGStatement;

/**
 * Red team rt21, end to end through the gateway (pgjdbc) to the embedded PostgreSQL; the tests of
 * fixes failed before them, the last two confirm behaviour that held.
 *
 * <p>Left by rt20: renaming or moving a denied function ({@code ALTER FUNCTION purge_ledger()
 * RENAME TO p2}) was an alter naming no function, after which the function ran as an opaque call of
 * another name; {@code ALTER … OWNER TO} was a plain alter although it gives the new owner every
 * privilege; a foreign key wrote nothing on the table it references (whose deletes it then refuses
 * or cascades). New: the functions an aggregate binds ({@code SFUNC = f}) were not reported; {@code
 * lo_get} was an opaque call reading no table, and the default-deny of {@code lo_export} did not
 * name it.
 */
class SqlRound21GatewayTest {
  static final String TOKEN = "tok-rt21-review-0001";
  static final String CONN = "rt21pg";
  static final String DB = "gh_rt21pg";
  static final String DENIED = PgErrors.INSUFFICIENT_PRIVILEGE;

  static final String POLICY =
      """
      version: 1
      rules:
        - id: builders
          subjects: { groups: [rt21] }
          connections: { names: [rt21pg] }
          effect: allow
          sql: { statements: [read, session, transaction, ddl] }
        - id: scratch-writes
          subjects: { groups: [rt21] }
          connections: { names: [rt21pg] }
          effect: allow
          sql: { statements: [write], tables_written: ["scratch.*"] }
        - id: scratch-maintenance
          subjects: { groups: [rt21] }
          connections: { names: [rt21pg] }
          effect: allow
          sql: { statements: [maintenance], tables: ["scratch.*"] }
        - id: no-privileges
          subjects: { groups: [rt21] }
          effect: deny
          sql: { statements: [privileges] }
          reason: grants are made by the DBA
        - id: no-purge
          subjects: { groups: [rt21] }
          effect: deny
          sql: { functions: [purge_ledger, public.purge_ledger, purge_step, public.purge_step] }
          reason: the ledger is purged by the nightly job only
        - id: no-customer-writes
          subjects: { groups: [rt21] }
          effect: deny
          sql: { tables_written: [customers, public.customers] }
          reason: customers are written by the application only
      """;

  /** The same, and large objects are nobody's business. */
  static final String NO_LARGE_OBJECTS =
      POLICY
          + """
            - id: no-large-objects
              subjects: { groups: [rt21] }
              effect: deny
              sql: { tables: [pg_largeobject, pg_catalog.pg_largeobject] }
              reason: large objects hold the scanned contracts
          """;

  /** The same, and the ledger may not be read any more. */
  static final String NO_LEDGER =
      POLICY
          + """
            - id: no-ledger
              subjects: { groups: [rt21] }
              effect: deny
              sql: { statements: [read], tables: [ledger, public.ledger] }
              reason: the ledger is closed for the audit
          """;

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;
  private static Path policyFile;
  private static ReloadingPolicyEngine engine;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    t.freshDatabase(
        DB,
        """
        CREATE TABLE public.customers (id int PRIMARY KEY, ssn text);
        INSERT INTO public.customers VALUES (1, '111-22-3333'), (42, '222-33-4444');
        ALTER TABLE public.customers OWNER TO gh_scram;
        CREATE TABLE public.ledger (id int, amount int);
        ALTER TABLE public.ledger OWNER TO gh_scram;
        CREATE SCHEMA scratch AUTHORIZATION gh_scram;
        CREATE TABLE scratch.t (id int);
        ALTER TABLE scratch.t OWNER TO gh_scram;
        CREATE FUNCTION public.purge_ledger() RETURNS int LANGUAGE plpgsql AS $$
          BEGIN DELETE FROM public.ledger; RETURN 0; END $$;
        ALTER FUNCTION public.purge_ledger() OWNER TO gh_scram;
        CREATE FUNCTION public.purge_step(int, int) RETURNS int LANGUAGE plpgsql AS $$
          BEGIN DELETE FROM public.ledger; RETURN 0; END $$;
        ALTER FUNCTION public.purge_step(int, int) OWNER TO gh_scram;
        CREATE FUNCTION public.report() RETURNS int LANGUAGE sql AS 'SELECT 1';
        ALTER FUNCTION public.report() OWNER TO gh_scram;
        DO $$ BEGIN CREATE ROLE gh_rt21_other; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        GRANT gh_rt21_other TO gh_scram;
        SELECT lo_from_bytea(4242, 'contract');
        ALTER LARGE OBJECT 4242 OWNER TO gh_scram;
        """);
    t.addConnection(CONN, DB, "gh_scram", "prefer");
    t.addPrincipal(TOKEN, "rita", Set.of("rt21"));
    policyFile = dir.resolve("rt21.yaml");
    Files.writeString(policyFile, POLICY);
    engine = ReloadingPolicyEngine.load(List.of(policyFile.toString()), null);
    gate =
        t.gateWith(() -> engine)
            .redactor((profile, text) -> text)
            .reviews(
                (sessionId, principal, target, action, decision, waiting) ->
                    new ReviewGate.Outcome(false, "r-none", "not approved"))
            .build();
    server = t.serve(gate);
  }

  @BeforeEach
  void fresh() throws Exception {
    direct(
        "TRUNCATE public.ledger",
        "INSERT INTO public.ledger VALUES (1, 10), (2, 20), (3, 30)",
        "DROP TABLE IF EXISTS scratch.fk, scratch.fk2",
        "DROP AGGREGATE IF EXISTS scratch.agg(int)",
        "DROP AGGREGATE IF EXISTS scratch.agg2(int)",
        "DROP AGGREGATE IF EXISTS scratch.total(int)");
  }

  @AfterEach
  void restorePolicy() throws Exception {
    PgTestSupport.reload(engine, policyFile, POLICY);
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  private static void direct(String... sql) throws Exception {
    try (Connection c = t.direct(DB);
        Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  private static long count(String sql) throws Exception {
    try (Connection c = t.direct(DB);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Connection rita() throws SQLException {
    return PgTestSupport.plainJdbc(server, CONN, "rita", TOKEN, "");
  }

  private static SQLException refused(Statement st, String sql) {
    SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(sql));
    assertThat((Throwable) e).as(sql).isNotNull();
    assertThat(e.getSQLState()).as(sql + ": " + e.getMessage()).isEqualTo(DENIED);
    return e;
  }

  /**
   * rt20 left it: with {@code deny { functions: [purge_ledger] }} and ddl allowed, {@code ALTER
   * FUNCTION purge_ledger() RENAME TO p2} named no function and ran, after which {@code SELECT
   * p2()} was an opaque call no rule about purge_ledger knew. The statement that renames, moves or
   * re-owns the function now reports it.
   */
  @Test
  void renamingOrMovingADeniedFunctionIsDenied() throws Exception {
    try (Connection c = rita();
        Statement st = c.createStatement()) {
      assertThat(refused(st, "SELECT purge_ledger()").getMessage()).contains("no-purge");
      for (String sql :
          List.of(
              "ALTER FUNCTION purge_ledger() RENAME TO p2",
              "ALTER FUNCTION public.purge_ledger() SET SCHEMA scratch",
              "ALTER ROUTINE public.purge_ledger RENAME TO p3",
              "ALTER PROCEDURE purge_ledger() RENAME TO p4",
              "ALTER FUNCTION purge_step(int, int) RENAME TO p5")) {
        // Before the fix: allowed by builders (ddl), and the function ran as p2 unseen.
        assertThat(refused(st, sql).getMessage()).as(sql).contains("no-purge");
      }
      // Other functions are still renamed as before.
      st.execute("ALTER FUNCTION public.report() RENAME TO report2");
      st.execute("ALTER FUNCTION public.report2() RENAME TO report");
    }
    assertThat(
            count(
                "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    + " WHERE n.nspname = 'public'"
                    + " AND p.proname IN ('purge_ledger', 'purge_step', 'report')"))
        .isEqualTo(3);
    assertThat(count("SELECT count(*) FROM public.ledger")).isEqualTo(3);
  }

  /**
   * rt20 left it: {@code ALTER … OWNER TO} was a plain alter (ddl), so a deny of privileges did not
   * match it, although the new owner may do anything with the object; it is a grant too now.
   */
  @Test
  void changingAnOwnerIsAGrant() throws Exception {
    try (Connection c = rita();
        Statement st = c.createStatement()) {
      assertThat(refused(st, "GRANT ALL ON scratch.t TO gh_rt21_other").getMessage())
          .contains("no-privileges");
      for (String sql :
          List.of(
              "ALTER TABLE scratch.t OWNER TO gh_rt21_other",
              "ALTER SCHEMA scratch OWNER TO gh_rt21_other",
              "ALTER FUNCTION public.report() OWNER TO gh_rt21_other",
              "ALTER DATABASE " + DB + " OWNER TO gh_rt21_other",
              "ALTER LARGE OBJECT 4242 OWNER TO gh_rt21_other")) {
        // Before the fix: allowed by builders (ddl), and gh_rt21_other owned the object.
        assertThat(refused(st, sql).getMessage()).as(sql).contains("no-privileges");
      }
      st.execute("COMMENT ON TABLE scratch.t IS 'still ddl'"); // other ddl as before
    }
    assertThat(
            count(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'scratch' AND tablename = 't'"
                    + " AND tableowner = 'gh_scram'"))
        .isOne();
    assertThat(
            count(
                "SELECT count(*) FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba"
                    + " WHERE d.datname = '"
                    + DB
                    + "' AND r.rolname = 'gh_scram'"))
        .isOne();
    assertThat(
            count(
                "SELECT count(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner"
                    + " WHERE p.proname = 'report' AND r.rolname = 'gh_scram'"))
        .isOne();
  }

  /**
   * A foreign key adds triggers to the table it references, which then refuse (or cascade) that
   * table's deletes and key updates: the referenced table is written, so {@code deny {
   * tables_written: [customers] }} matches the statement that creates the key. Before (rt20 left
   * it): customers was only read, the key was created, and the application's {@code DELETE FROM
   * customers WHERE id = 42} failed while scratch.fk referenced 42.
   */
  @Test
  void aForeignKeyWritesTheTableItReferences() throws Exception {
    try (Connection c = rita();
        Statement st = c.createStatement()) {
      for (String sql :
          List.of(
              "CREATE TABLE scratch.fk (a int REFERENCES customers (id))",
              "CREATE TABLE scratch.fk (a int, FOREIGN KEY (a) REFERENCES public.customers)",
              "ALTER TABLE scratch.t ADD FOREIGN KEY (id) REFERENCES customers (id)")) {
        assertThat(refused(st, sql).getMessage()).as(sql).contains("no-customer-writes");
      }
      st.execute("CREATE TABLE scratch.fk2 (a int)"); // a table without a key, as before
    }
    assertThat(
            count(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
                    + " AND connamespace = 'scratch'::regnamespace"))
        .isZero();
  }

  /**
   * An aggregate calls its state function on every use, in statements that name only the aggregate:
   * {@code CREATE AGGREGATE scratch.agg(int) (SFUNC = purge_step, STYPE = int)} reported no
   * function, so the deny of purge_step did not match it, and {@code SELECT scratch.agg(1)} then
   * emptied the ledger as an opaque call of agg.
   */
  @Test
  void theFunctionsAnAggregateBindsAreReported() throws Exception {
    try (Connection c = rita();
        Statement st = c.createStatement()) {
      for (String sql :
          List.of(
              "CREATE AGGREGATE scratch.agg(int) (SFUNC = purge_step, STYPE = int)",
              "CREATE AGGREGATE scratch.agg2(int) (sfunc = public.purge_step, stype = int)",
              "CREATE AGGREGATE scratch.agg(int) (SFUNC = 'purge_step', STYPE = int)")) {
        assertThat(refused(st, sql).getMessage()).as(sql).contains("no-purge");
      }
      // An aggregate over a built-in is created as before.
      st.execute("CREATE AGGREGATE scratch.total(int) (SFUNC = int4pl, STYPE = int)");
    }
    assertThat(count("SELECT count(*) FROM pg_proc WHERE proname IN ('agg', 'agg2')")).isZero();
    assertThat(count("SELECT count(*) FROM public.ledger")).isEqualTo(3);
  }

  /**
   * Large objects: lo_get reads pg_largeobject (it was an opaque call reading no table, so a deny
   * of pg_largeobject did not stop it), and a default-deny of lo_export or lo_unlink names the
   * function whose effect gave the kind (it said only "run sql copy_program").
   */
  @Test
  void largeObjectFunctionsAreJudgedByWhatTheyDo() throws Exception {
    try (Connection c = rita();
        Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT convert_from(lo_get(4242), 'UTF8')")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("contract"); // a read, allowed by builders
      }
      assertThat(refused(st, "SELECT lo_export(4242, '/tmp/gh-rt21-contract')").getMessage())
          .contains("default-deny")
          .contains("run sql copy_program calling lo_export");
      assertThat(refused(st, "SELECT lo_unlink(4242)").getMessage())
          .contains("run sql update calling lo_unlink");
      assertThat(refused(st, "SELECT lo_from_bytea(0, 'x')").getMessage())
          .contains("run sql update calling lo_from_bytea");
      PgTestSupport.reload(engine, policyFile, NO_LARGE_OBJECTS);
      for (String sql :
          List.of(
              "SELECT lo_get(4242)",
              "SELECT lo_get(4242, 0, 4)",
              "SELECT loread(lo_open(4242, 262144), 8)")) {
        // Before the fix: allowed (a read of no table), and the contract was read.
        assertThat(refused(st, sql).getMessage()).as(sql).contains("no-large-objects");
      }
    }
    assertThat(count("SELECT count(*) FROM pg_largeobject_metadata WHERE oid = 4242")).isOne();
  }

  /**
   * VACUUM, ANALYZE and CLUSTER without a table name process every table of the database, and
   * REINDEX DATABASE every index; they named no table, so an allow rule for maintenance of
   * scratch.* admitted them.
   */
  @Test
  void maintenanceOfEveryTableIsNoMaintenanceOfScratch() throws Exception {
    try (Connection c = rita();
        Statement st = c.createStatement()) {
      st.execute("VACUUM scratch.t");
      st.execute("ANALYZE scratch.t");
      for (String sql :
          List.of("VACUUM FULL", "ANALYZE", "VACUUM (ANALYZE)", "REINDEX DATABASE " + DB)) {
        // Before the fix: allowed by scratch-maintenance. Now every table is written: the deny
        // of customers' writes matches (without it, nothing admits it: default-deny)
        assertThat(refused(st, sql).getMessage()).as(sql).doesNotContain("scratch-maintenance");
      }
    }
  }

  /**
   * A portal pgjdbc opened with a fetch size (Execute with a row limit, suspended) and then
   * continued with another Execute of the same portal, no new Bind, after a reload that denies its
   * table: the continuation is decided again and refused (held; now tested end to end).
   */
  @Test
  void aSuspendedPortalIsDecidedAgainAfterAReload() throws Exception {
    try (Connection c = rita()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.setFetchSize(1);
        try (ResultSet rs = st.executeQuery("SELECT id FROM public.ledger ORDER BY id")) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getInt(1)).isEqualTo(1);
          PgTestSupport.reload(engine, policyFile, NO_LEDGER);
          SQLException e = catchThrowableOfType(SQLException.class, rs::next);
          assertThat((Throwable) e).isNotNull();
          assertThat(e.getSQLState()).isEqualTo(DENIED);
          assertThat(e.getMessage()).contains("no-ledger");
        }
      }
      c.rollback();
    }
  }

  /**
   * A named statement (pgjdbc's server-side prepared statement, bound again at each run without a
   * Parse) executed after a reload that denies it: refused (held; now tested end to end).
   */
  @Test
  void aNamedStatementIsDecidedAgainAfterAReload() throws Exception {
    try (Connection c = rita();
        PreparedStatement ps =
            c.prepareStatement("SELECT amount FROM public.ledger WHERE id = ?")) {
      ps.unwrap(PGStatement.class).setPrepareThreshold(1);
      for (int id = 1; id <= 2; id++) {
        ps.setInt(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getInt(1)).isEqualTo(id * 10);
        }
      }
      assertThat(ps.unwrap(PGStatement.class).isUseServerPrepare()).isTrue();
      PgTestSupport.reload(engine, policyFile, NO_LEDGER);
      ps.setInt(1, 3);
      SQLException e = catchThrowableOfType(SQLException.class, ps::executeQuery);
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState()).isEqualTo(DENIED);
      assertThat(e.getMessage()).contains("no-ledger");
      PgTestSupport.reload(engine, policyFile, POLICY);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(30);
      }
    }
  }
}
