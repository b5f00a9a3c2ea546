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
 * A role default {@code search_path} names a schema the gateway never saw a statement set:
 * PostgreSQL 18 reports search_path in ParameterStatus at startup, so a deny of {@code
 * sales.payments} catches the bare {@code payments} that resolves there.
 */
class SearchPathDefaultTargetTest {
  @TempDir Path dir;

  @Test
  void aRoleDefaultPathReportedByPostgres18CountsForBareNames() throws Exception {
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
        String token = gw.tokens().issueForUser("dev", null, Set.of(), "test").secret();
        Properties props = new Properties();
        props.setProperty("user", "dev");
        props.setProperty("password", token);
        props.setProperty("sslmode", "require");
        try (Connection c =
                DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + gw.postgresPort() + "/shop", props);
            Statement st = c.createStatement()) {
          try (ResultSet rs = st.executeQuery("SELECT v FROM public.payments")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("public");
          }
          SQLException e =
              org.assertj.core.api.Assertions.catchThrowableOfType(
                  SQLException.class, () -> st.executeQuery("SELECT v FROM payments"));
          assertThat((Throwable) e).isNotNull();
          assertThat(e.getSQLState()).isEqualTo("42501");
        }
      }
    }
  }
}
