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
 * A role default {@code search_path} that puts a schema in front of pg_catalog, set behind the
 * gateway's back: PostgreSQL 18 reports search_path in ParameterStatus, so the session stops
 * trusting unqualified built-in names ({@code lower} is then opaque) and a rule that allows only
 * calls without opaque functions refuses {@code SELECT lower('A')}, which would run the role's own
 * {@code lower} that writes.
 */
class SearchPathTargetTest {
  @TempDir Path dir;

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
        String token = gw.tokens().issueForUser("dev", null, Set.of(), "test").secret();
        Properties props = new Properties();
        props.setProperty("user", "dev");
        props.setProperty("password", token);
        props.setProperty("sslmode", "require");
        try (Connection c =
                DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + gw.postgresPort() + "/shop", props);
            Statement st = c.createStatement()) {
          try (ResultSet rs = st.executeQuery("SELECT pg_catalog.lower('A')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("a");
          }
          SQLException e =
              org.assertj.core.api.Assertions.catchThrowableOfType(
                  SQLException.class, () -> st.executeQuery("SELECT lower('A')"));
          assertThat((Throwable) e).isNotNull();
          assertThat(e.getSQLState()).isEqualTo("42501");
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
}
