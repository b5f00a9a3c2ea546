package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.config.GatehouseConfig.UpstreamRole;
import dev.gatehouse.config.Secret;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.PolicySet;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code upstream_role} obligation end to end with pgjdbc and a real PostgreSQL: each
 * principal's session logs in as the role its rules name, so the database refuses what that role
 * may not do even where the policy lets the statement through; a role the connection lacks, or
 * rules that disagree, refuse the connection before the target is reached.
 */
class PgUpstreamRoleGatewayTest {
  static final String CONN = "roles-db";
  static final String DB = "gh_roles";
  static final String READER_LOGIN = "gh_roles_ro";
  static final String TOKEN_ENG = "tok-roles-eng-01";
  static final String TOKEN_DBA = "tok-roles-dba-02";
  static final String TOKEN_LOST = "tok-roles-lost-03";
  static final String TOKEN_TORN = "tok-roles-torn-04";

  static final String POLICY =
      """
      rules:
        - id: eng-anything
          subjects: { groups: [eng] }
          connections: { names: [CONN] }
          effect: allow
          sql: { statements: ["*"] }
          obligations: { upstream_role: reader }
        - id: dba-anything
          subjects: { groups: [dba] }
          connections: { names: [CONN] }
          effect: allow
          sql: { statements: ["*"] }
        - id: lost
          subjects: { groups: [lost] }
          connections: { names: [CONN] }
          effect: allow
          obligations: { upstream_role: auditor }
        - id: torn
          subjects: { groups: [torn] }
          connections: { names: [CONN] }
          effect: allow
          obligations: { upstream_role: writer }
      """;

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    t.freshDatabase(
        DB,
        """
          CREATE TABLE public.ledger (id int PRIMARY KEY, amount int);
          INSERT INTO public.ledger VALUES (1, 10), (2, 20);
          ALTER TABLE public.ledger OWNER TO gh_scram;
          """);
    try (Connection c = t.direct(DB);
        Statement s = c.createStatement()) {
      s.execute("DROP ROLE IF EXISTS " + READER_LOGIN);
      s.execute(
          "CREATE ROLE "
              + READER_LOGIN
              + " LOGIN PASSWORD '"
              + PgTestSupport.UPSTREAM_PASSWORD
              + "'");
      s.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
      s.execute("GRANT SELECT ON public.ledger TO " + READER_LOGIN);
    }
    t.addConnection(CONN, DB, "gh_scram", "prefer");
    Secret pw = new Secret(PgTestSupport.UPSTREAM_PASSWORD, "test");
    t.connections.put(
        CONN,
        t.connections
            .get(CONN)
            .withRoles(
                Map.of(
                    "reader", new UpstreamRole(READER_LOGIN, pw, null),
                    "writer", new UpstreamRole("gh_scram", pw, null))));
    Map<String, String> fields = new HashMap<>(t.vault.get(CONN));
    fields.put("role.reader.username", READER_LOGIN);
    fields.put("role.reader.password", PgTestSupport.UPSTREAM_PASSWORD);
    fields.put("role.writer.username", "gh_scram");
    fields.put("role.writer.password", PgTestSupport.UPSTREAM_PASSWORD);
    t.vault.put(CONN, fields);
    t.addPrincipal(TOKEN_ENG, "erin", Set.of("eng"));
    t.addPrincipal(TOKEN_DBA, "dora", Set.of("dba"));
    t.addPrincipal(TOKEN_LOST, "lou", Set.of("lost"));
    t.addPrincipal(TOKEN_TORN, "toni", Set.of("eng", "torn"));
    PolicySet policy = PgTestSupport.policy(dir, "roles.yaml", POLICY.replace("CONN", CONN));
    gate =
        t.gateWith(() -> policy)
            .redactor((profile, text) -> text)
            .reviews(
                (sessionId, principal, target, action, decision, waiting) ->
                    new ReviewGate.Outcome(false, "none", "no reviews here"))
            .build();
    server = t.serve(gate);
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  private static Connection as(String user, String token) throws SQLException {
    return PgTestSupport.plainJdbc(server, CONN, user, token, "");
  }

  private static String one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void theRoleIsTheLoginTheTargetSees() throws Exception {
    try (Connection c = as("erin", TOKEN_ENG);
        Statement st = c.createStatement()) {
      assertThat(one(st, "SELECT current_user")).isEqualTo(READER_LOGIN);
      assertThat(one(st, "SELECT session_user")).isEqualTo(READER_LOGIN);
      assertThat(one(st, "SELECT sum(amount) FROM ledger")).isEqualTo("30");
    }
    try (Connection c = as("dora", TOKEN_DBA);
        Statement st = c.createStatement()) {
      assertThat(one(st, "SELECT current_user")).isEqualTo("gh_scram");
    }
    assertThat(t.audit)
        .anySatisfy(
            e -> {
              assertThat(e.type()).isEqualTo("session.start");
              assertThat(e.actor()).isEqualTo("erin");
              assertThat(e.data())
                  .containsEntry("upstream_role", "reader")
                  .containsEntry("upstream_user", READER_LOGIN);
            });
  }

  @Test
  void theDatabaseRefusesWhatThePolicyLetsThroughAndTheSessionGoesOn() throws Exception {
    try (Connection c = as("erin", TOKEN_ENG);
        Statement st = c.createStatement()) {
      SQLException write =
          catchThrowableOfType(
              SQLException.class, () -> st.executeUpdate("UPDATE ledger SET amount = 0"));
      assertThat(write.getSQLState()).isEqualTo("42501");
      assertThat(write.getMessage()).contains("permission denied");
      SQLException ddl =
          catchThrowableOfType(
              SQLException.class,
              () ->
                  st.execute(
                      "CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE sql"
                          + " AS $$ SELECT 'x' $$"));
      assertThat(ddl.getSQLState()).isEqualTo("42501");
      assertThat(one(st, "SELECT count(*) FROM ledger")).isEqualTo("2");
    }
    try (Connection c = t.direct(DB);
        Statement st = c.createStatement()) {
      assertThat(one(st, "SELECT sum(amount) FROM ledger")).isEqualTo("30");
    }
  }

  @Test
  void aRoleTheConnectionLacksRefusesTheSessionNotFallsBackToTheOwner() {
    SQLException e = catchThrowableOfType(SQLException.class, () -> as("lou", TOKEN_LOST));
    assertThat((Throwable) e).isNotNull();
    assertThat(e.getSQLState()).isEqualTo("42501");
    assertThat(e.getMessage()).contains("\"auditor\"").contains("does not define");
    assertThat(t.audit)
        .anySatisfy(
            ev -> {
              assertThat(ev.type()).isEqualTo("session.denied");
              assertThat(ev.actor()).isEqualTo("lou");
            });
  }

  @Test
  void rulesNamingDifferentRolesRefuseTheConnection() {
    SQLException e = catchThrowableOfType(SQLException.class, () -> as("toni", TOKEN_TORN));
    assertThat((Throwable) e).isNotNull();
    assertThat(e.getSQLState()).isEqualTo("42501");
    assertThat(e.getMessage()).contains("different upstream roles");
    List<AuditEvent> denied =
        t.audit.stream()
            .filter(ev -> ev.type().equals("session.denied") && ev.actor().equals("toni"))
            .toList();
    assertThat(denied).isNotEmpty();
  }
}
