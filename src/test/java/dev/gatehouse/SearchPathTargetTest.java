package dev.gatehouse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.server.GatehouseServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Role default {@code search_path}s set behind the gateway's back, which PostgreSQL 18 reports in
 * ParameterStatus. One that puts a schema in front of pg_catalog: the session stops trusting
 * unqualified built-in names ({@code lower} is then opaque) and a rule that allows only calls
 * without opaque functions refuses {@code SELECT lower('A')}, which would run the role's own {@code
 * lower} that writes. One that names another schema: deny rules read bare table names in it.
 */
class SearchPathTargetTest {
  @TempDir Path dir;

  /** The gateway of the running check, for more connections. */
  private GatehouseServer gw;

  /** User dev on the gateway's connection shop. */
  private static Connection dev(GatehouseServer gw) throws SQLException {
    return dev(gw, "extended");
  }

  private static Connection dev(GatehouseServer gw, String queryMode) throws SQLException {
    String token = gw.tokens().issueForUser("dev", null, Set.of(), "test").secret();
    Properties props = new Properties();
    props.setProperty("user", "dev");
    props.setProperty("password", token);
    props.setProperty("sslmode", "require");
    props.setProperty("preferQueryMode", queryMode);
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + gw.postgresPort() + "/shop", props);
  }

  /** The SQLSTATE with which {@code sql} is refused. */
  private static String refused(Statement st, String sql) {
    SQLException e =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            SQLException.class, () -> st.executeQuery(sql));
    assertThat((Throwable) e).as(sql).isNotNull();
    return e.getSQLState();
  }

  /** What a test checks, as dev through the gateway; {@code app} is the target as role app. */
  interface Check {
    void run(Statement dev, Statement app) throws Exception;
  }

  /**
   * PostgreSQL 18 behind a gateway with {@code policy}: runs {@code setup} at the target as role
   * app (the gateway's upstream role), then {@code check} with new connections.
   */
  private void onPostgres18(String policy, List<String> setup, Check check) throws Exception {
    try (EmbeddedPostgres target = PostgresTargetVersionsTest.start("18.1.0");
        GatehouseServer gw =
            PostgresTargetVersionsTest.shopGateway(dir, target, "pw-search-path-18", policy)) {
      this.gw = gw;
      try (Connection c = target.getDatabase("app", "shop").getConnection();
          Statement st = c.createStatement()) {
        for (String sql : setup) {
          st.execute(sql);
        }
      }
      try (Connection c = dev(gw);
          Statement dev = c.createStatement();
          Connection a = target.getDatabase("app", "shop").getConnection();
          Statement app = a.createStatement()) {
        check.run(dev, app);
      }
    }
  }

  @Test
  void aSearchPathBehindPgCatalogMakesUnqualifiedBuiltinsOpaque() throws Exception {
    onPostgres18(
        """
        rules:
          - id: known-functions-only
            subjects: { groups: [dev] }
            connections: { names: [shop] }
            effect: allow
            sql: { statements: [read, session] }
            when: action.kind != "sql" || size(action.attributes.opaque_functions) == 0
        """,
        List.of(
            "CREATE SCHEMA evil",
            "CREATE TABLE public.log (x text)",
            "CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS"
                + " $$ INSERT INTO public.log VALUES ('pwned'); SELECT 'evil' $$",
            "ALTER ROLE app SET search_path = evil, pg_catalog"),
        (dev, app) -> {
          try (ResultSet rs = dev.executeQuery("SELECT pg_catalog.lower('A')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("a");
          }
          assertThat(refused(dev, "SELECT lower('A')")).isEqualTo("42501");
          // A path with pg_catalog in front (reported back) makes lower() the built-in again...
          dev.execute("SET search_path = public");
          try (ResultSet rs = dev.executeQuery("SELECT lower('A')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("a");
          }
          // ...until RESET ALL returns to the role's default, also for what is pipelined behind
          // it (pgjdbc sends the two statements in one pipeline, before any report)
          assertThat(refused(dev, "RESET ALL; SELECT lower('A')")).isEqualTo("42501");
          try (Connection simple = dev(gw, "simple");
              Statement st = simple.createStatement()) {
            st.execute("SET search_path = public");
            // one simple query string: the server resolves lower() after RESET ran
            assertThat(refused(st, "RESET ALL; SELECT lower('A')")).isEqualTo("42501");
            assertThat(refused(st, "SET search_path TO DEFAULT; SELECT lower('A')"))
                .isEqualTo("42501");
          }
          // A transaction's end takes a SET back to the role default: what is pipelined behind
          // COMMIT or ROLLBACK resolves lower() there, before the target reports the path.
          // (a value other than the path now, so that the target reports it)
          dev.execute("BEGIN");
          dev.execute("SET LOCAL search_path = pg_catalog, public");
          try (ResultSet rs = dev.executeQuery("SELECT lower('A')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).as("public, reported: trusted").isEqualTo("a");
          }
          assertThat(refused(dev, "COMMIT; SELECT lower('A')")).isEqualTo("42501");
          dev.execute("ROLLBACK"); // (no transaction: a warning)
          try (Connection simple = dev(gw, "simple");
              Statement st = simple.createStatement()) {
            st.execute("BEGIN; SET search_path = pg_catalog, public");
            try (ResultSet rs = st.executeQuery("SELECT lower('A')")) {
              assertThat(rs.next()).as("reported: trusted").isTrue();
            }
            assertThat(refused(st, "ROLLBACK; SELECT lower('A')")).isEqualTo("42501");
            st.execute("ROLLBACK");
            // once the target's answers are in, the path it reports decides again
            st.execute("SET search_path = pg_catalog, public");
            try (ResultSet rs = st.executeQuery("SELECT lower('A')")) {
              assertThat(rs.next()).isTrue();
            }
          }
          try (ResultSet rs = app.executeQuery("SELECT count(*) FROM public.log")) {
            rs.next();
            assertThat(rs.getInt(1)).as("the user's lower() never ran").isZero();
          }
        });
  }

  /**
   * The role default names schema sales, never set through the gateway: a deny of {@code
   * sales.payments} catches the bare {@code payments} that resolves there (PgSearchPath).
   */
  @Test
  void aRoleDefaultPathCountsForBareNamesInDenyRules() throws Exception {
    onPostgres18(
        """
        rules:
          - id: reads
            subjects: { groups: [dev] }
            connections: { names: [shop] }
            effect: allow
            sql: { statements: [read, session] }
          - id: no-sales-payments
            subjects: { groups: [dev] }
            effect: deny
            sql: { statements: [read], tables: [sales.payments] }
        """,
        List.of(
            "CREATE SCHEMA sales",
            "CREATE TABLE sales.payments (v text)",
            "INSERT INTO sales.payments VALUES ('sales-secret')",
            "CREATE TABLE public.payments (v text)",
            "INSERT INTO public.payments VALUES ('public')",
            "ALTER ROLE app SET search_path = sales, public"),
        (dev, app) -> {
          try (ResultSet rs = dev.executeQuery("SELECT v FROM public.payments")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("public");
          }
          assertThat(refused(dev, "SELECT v FROM payments")).isEqualTo("42501");
        });
  }
}
