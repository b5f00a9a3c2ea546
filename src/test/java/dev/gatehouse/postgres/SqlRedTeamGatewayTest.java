package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.PolicySet;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Red team round 4, end to end: bypasses of the classifier found in that round, sent with pgjdbc
 * through the gateway to the embedded PostgreSQL under a policy that allows reads and inserts but
 * denies one table, and allows DDL but not role changes. Each statement ran before its fix.
 */
class SqlRedTeamGatewayTest {
  static final String TOKEN = "tok-redteam4-0001";
  static final String CONN = "redteam4";
  static final String SECRET = "rt4-card-4111";
  static final String DENIED = PgErrors.INSUFFICIENT_PRIVILEGE;

  static final String POLICY =
      """
      version: 1
      rules:
        - id: work
          subjects: { groups: [rt4] }
          connections: { names: [redteam4] }
          effect: allow
          sql: { statements: [read, insert, create, alter, session] }
        - id: no-payments
          subjects: { groups: [rt4] }
          effect: deny
          sql: { statements: [read, write], tables: [rt4_payments, public.rt4_payments] }
          reason: payments are off limits
        - id: no-role-changes
          subjects: { groups: [rt4] }
          effect: deny
          sql: { statements: [set_role] }
          reason: no role changes
      """;

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    t.freshDatabase(
        "gh_redteam4",
        """
          CREATE TABLE public.rt4_payments (v text);
          INSERT INTO public.rt4_payments VALUES ('%s');
          CREATE TABLE public.rt4_copy (v text);
          CREATE FUNCTION public.rt4_f() RETURNS text LANGUAGE sql AS 'SELECT current_user::text';
          ALTER TABLE public.rt4_payments OWNER TO gh_scram;
          ALTER TABLE public.rt4_copy OWNER TO gh_scram;
          ALTER FUNCTION public.rt4_f() OWNER TO gh_scram;
          """
            .formatted(SECRET));
    t.addConnection(CONN, "gh_redteam4", "gh_scram", "prefer");
    t.addPrincipal(TOKEN, "rita", Set.of("rt4"));
    PolicySet policy = PgTestSupport.policy(dir, "redteam4.yaml", POLICY);
    gate =
        t.gateWith(() -> policy)
            .redactor((profile, text) -> text)
            .reviews(
                (sessionId, principal, target, action, decision, waiting) ->
                    new ReviewGate.Outcome(false, "none", "nobody approves in this test"))
            .build();
    server = t.serve(gate);
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  private static Connection rita() throws SQLException {
    return PgTestSupport.plainJdbc(server, CONN, "rita", TOKEN, "");
  }

  private static String refused(Statement st, String sql) {
    SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(sql));
    assertThat((Throwable) e).as(sql).isNotNull();
    return e.getSQLState();
  }

  private static long copied() throws SQLException {
    try (Connection c = t.direct("gh_redteam4");
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT count(*) FROM public.rt4_copy WHERE v = '" + SECRET + "'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void insertOfTableFromADeniedTableIsRefused() throws Exception {
    try (Connection c = rita();
        Statement st = c.createStatement()) {
      assertThat(refused(st, "INSERT INTO rt4_copy SELECT * FROM rt4_payments")).isEqualTo(DENIED);
      assertThat(refused(st, "INSERT INTO rt4_copy TABLE rt4_payments")).isEqualTo(DENIED);
      assertThat(refused(st, "INSERT INTO rt4_copy (v) TABLE public.rt4_payments"))
          .isEqualTo(DENIED);
      assertThat(refused(st, "INSERT INTO rt4_copy WITH x AS (SELECT 1) TABLE rt4_payments"))
          .isEqualTo(DENIED);
      assertThat(copied()).isZero();
      // the same statement form on an allowed table runs
      st.execute("INSERT INTO rt4_copy TABLE rt4_copy");
      assertThat(st.executeUpdate("INSERT INTO rt4_copy VALUES ('ok')")).isEqualTo(1);
    }
  }

  @Test
  void alterFunctionSetRoleIsARoleChange() throws Exception {
    try (Connection c = rita();
        Statement st = c.createStatement()) {
      assertThat(refused(st, "ALTER FUNCTION rt4_f() SET role = 'postgres'")).isEqualTo(DENIED);
      assertThat(refused(st, "ALTER FUNCTION rt4_f() SET \"ROLE\" TO postgres")).isEqualTo(DENIED);
      // other settings of a function are an ordinary alter
      st.execute("ALTER FUNCTION rt4_f() SET work_mem = '4MB'");
    }
    try (Connection c = t.direct("gh_redteam4");
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT proconfig::text FROM pg_proc WHERE proname = 'rt4_f'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).contains("work_mem").doesNotContain("role");
    }
  }
}
