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

  /** User dev on the gateway's connection shop. */
  private static Connection dev(GatehouseServer gw) throws SQLException {
    String token = gw.tokens().issueForUser("dev", null, Set.of(), "test").secret();
    Properties props = new Properties();
    props.setProperty("user", "dev");
    props.setProperty("password", token);
    props.setProperty("sslmode", "require");
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

  @Test
  void aSearchPathBehindPgCatalogMakesUnqualifiedBuiltinsOpaque() throws Exception {
    String password = "pw-search-path-18";
    try (EmbeddedPostgres target = PostgresTargetVersionsTest.start("18.1.0")) {
      try (GatehouseServer gw =
          PostgresTargetVersionsTest.shopGateway(
              dir,
              target,
              password,
              """
              rules:
                - id: known-functions-only
                  subjects: { groups: [dev] }
                  connections: { names: [shop] }
                  effect: allow
                  sql: { statements: [read, session] }
                  when: action.kind != "sql" || size(action.attributes.opaque_functions) == 0
              """)) {
        try (Connection c = target.getDatabase("app", "shop").getConnection();
            Statement st = c.createStatement()) {
          st.execute("CREATE SCHEMA evil");
          st.execute("CREATE TABLE public.log (x text)");
          st.execute(
              "CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS"
                  + " $$ INSERT INTO public.log VALUES ('pwned'); SELECT 'evil' $$");
          st.execute("ALTER ROLE app SET search_path = evil, pg_catalog");
        }
        try (Connection c = dev(gw);
            Statement st = c.createStatement()) {
          try (ResultSet rs = st.executeQuery("SELECT pg_catalog.lower('A')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("a");
          }
          assertThat(refused(st, "SELECT lower('A')")).isEqualTo("42501");
        }
      }
      try (Connection c = target.getDatabase("app", "shop").getConnection();
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT count(*) FROM public.log")) {
        rs.next();
        assertThat(rs.getInt(1)).as("the user's lower() never ran").isZero();
      }
    }
  }

  /**
   * The role default names schema sales, never set through the gateway: a deny of {@code
   * sales.payments} catches the bare {@code payments} that resolves there (PgSearchPath).
   */
  @Test
  void aRoleDefaultPathCountsForBareNamesInDenyRules() throws Exception {
    String password = "pw-search-path-default-18";
    try (EmbeddedPostgres target = PostgresTargetVersionsTest.start("18.1.0")) {
      try (GatehouseServer gw =
          PostgresTargetVersionsTest.shopGateway(
              dir,
              target,
              password,
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
              """)) {
        try (Connection c = target.getDatabase("app", "shop").getConnection();
            Statement st = c.createStatement()) {
          st.execute("CREATE SCHEMA sales");
          st.execute("CREATE TABLE sales.payments (v text)");
          st.execute("INSERT INTO sales.payments VALUES ('sales-secret')");
          st.execute("CREATE TABLE public.payments (v text)");
          st.execute("INSERT INTO public.payments VALUES ('public')");
          st.execute("ALTER ROLE app SET search_path = sales, public");
        }
        try (Connection c = dev(gw);
            Statement st = c.createStatement()) {
          try (ResultSet rs = st.executeQuery("SELECT v FROM public.payments")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("public");
          }
          assertThat(refused(st, "SELECT v FROM payments")).isEqualTo("42501");
        }
      }
    }
  }
}
