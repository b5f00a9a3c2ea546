package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.config.GatehouseConfig.UpstreamTlsConfig;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.PolicySet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
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
 * Functions and operators that shadow a trusted built-in, created directly on the database (not
 * through the gateway), under the demo policy (examples/policies/demo.yaml): an engineer's read
 * must call only functions the classifier knows, and her writes are held for a reviewer who here
 * approves everything. PostgreSQL picks {@code public.lower(varchar)} over {@code
 * pg_catalog.lower(text)} for a varchar argument, and a user {@code public.=(varchar, varchar)}
 * over the built-in, even with pg_catalog first on the search path; the gateway learns of them from
 * the catalog ({@link PgCatalog#shadows}). Extension members (citext's {@code max}, {@code
 * regexp_matches} and operators in public) stay trusted.
 */
class PgShadowedBuiltinsGatewayTest {
  static final String TOKEN = "tok-shadow-eng-0001";
  static final String FN = "shadow-fn";
  static final String OP = "shadow-op";
  static final String LATER = "shadow-later";

  /** gh_shadow_fn with its password in the configuration, none in the vault. */
  static final String CONFIGURED = "shadow-configured";

  static final String PAYMENTS =
      """
        CREATE TABLE public.payments (id int PRIMARY KEY, status text);
        INSERT INTO public.payments VALUES (1, 'settled'), (2, 'settled');
        ALTER TABLE public.payments OWNER TO gh_scram;
      """;

  /** What the attack creates on the database: lower(varchar) that writes, in public. */
  static final String SHADOW_LOWER =
      """
        CREATE FUNCTION public.lower(v varchar) RETURNS text LANGUAGE sql AS $$
          UPDATE public.payments SET status = 'pwned'; SELECT pg_catalog.lower(v::text) $$;
      """;

  static final String READ_LOWER = "SELECT lower(status::varchar) FROM payments WHERE id = 1";

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;
  private static final List<String> reviewed = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    t.freshDatabase(
        "gh_shadow_fn",
        PAYMENTS
            + SHADOW_LOWER
            + """
              CREATE SCHEMA app;
              CREATE FUNCTION app.upper(v text) RETURNS text LANGUAGE sql AS $$
                UPDATE public.payments SET status = 'pwned'; SELECT v $$;
              CREATE EXTENSION citext;
              CREATE TABLE public.users (email citext);
              INSERT INTO public.users VALUES ('Ann@Example.com'), ('bob@example.com');
              ALTER TABLE public.users OWNER TO gh_scram;
            """);
    t.freshDatabase(
        "gh_shadow_op",
        PAYMENTS
            + """
              CREATE FUNCTION public.vc_eq(a varchar, b varchar) RETURNS boolean LANGUAGE sql AS $$
                UPDATE public.payments SET status = 'pwned'; SELECT a::text = b::text $$;
              CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar,
                FUNCTION = public.vc_eq);
            """);
    t.freshDatabase("gh_shadow_later", PAYMENTS);
    add(FN, "gh_shadow_fn", Map.of());
    add(OP, "gh_shadow_op", Map.of());
    add(LATER, "gh_shadow_later", Map.of(PgCatalog.SHADOW_TTL_OPTION, 1));
    add(CONFIGURED, "gh_shadow_fn", Map.of());
    t.connections.put(
        CONFIGURED, withPassword(t.connections.get(CONFIGURED), PgTestSupport.UPSTREAM_PASSWORD));
    t.vault.put(CONFIGURED, Map.of());
    t.addPrincipal(TOKEN, "erin-shadow", Set.of("engineering"));
    PolicySet policy =
        PgTestSupport.policy(
            dir,
            "demo.yaml",
            Files.readString(Path.of("examples/policies/demo.yaml"))
                .replace("[payments-db]", "[" + String.join(", ", FN, OP, LATER, CONFIGURED) + "]")
                // the connection's own login (the check is what is tested, not the demo's roles)
                .replace(", upstream_role: writer", "")
                .replace(", upstream_role: reader", ""));
    gate =
        t.gateWith(() -> policy)
            .reviews(
                (sessionId, principal, target, action, decision, waiting) -> {
                  reviewed.add(action.raw());
                  return new ReviewGate.Outcome(true, "rv-" + reviewed.size(), "approved");
                })
            .build();
    server = t.serve(gate);
  }

  private static void add(String name, String db, Map<String, Object> options) {
    t.connections.put(
        name,
        new ConnectionConfig(
            name,
            "postgres",
            "127.0.0.1",
            t.pg.getPort(),
            db,
            "gh_scram",
            null,
            Map.of("env", "test"),
            new UpstreamTlsConfig("disable", null),
            options));
    t.vault.put(name, Map.of("password", PgTestSupport.UPSTREAM_PASSWORD));
  }

  private static ConnectionConfig withPassword(ConnectionConfig c, String password) {
    return new ConnectionConfig(
        c.name(),
        c.type(),
        c.host(),
        c.port(),
        c.database(),
        c.username(),
        new dev.gatehouse.config.Secret(password, "test"),
        c.labels(),
        c.tls(),
        c.options());
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  private static Connection erin(String conn, String extra) throws SQLException {
    return PgTestSupport.plainJdbc(server, conn, "erin-shadow", TOKEN, extra);
  }

  /** The first column of the first row of {@code sql}, run on the target directly. */
  private static String direct(String db, String sql) throws SQLException {
    try (Connection c = t.direct(db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static void directly(String db, String sql) throws SQLException {
    try (Connection c = t.direct(db);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static String refused(Statement st, String sql) {
    SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(sql));
    assertThat((Throwable) e).as(sql).isNotNull();
    return e.getSQLState() + " " + e.getMessage();
  }

  /** The action the gateway last decided for {@code sql}. */
  private static Action decided(String sql) {
    Action last = null;
    for (PgTestSupport.Decided d : t.decided) {
      if (sql.equals(d.raw())) {
        last = d.action();
      }
    }
    assertThat(last).as("decided: " + sql).isNotNull();
    return last;
  }

  @Test
  void aBuiltinShadowedOutsideTheGatewayIsNoPlainRead() throws Exception {
    // The old classification: a plain read of read-only built-ins, which engineering-read allows
    Action old = SqlClassifier.classify(READ_LOWER, true, true).get(0).action();
    assertThat(old.string(Action.Attr.SQL_KIND)).isEqualTo("select");
    assertThat(old.list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS)).isEmpty();
    try (Connection c = erin(FN, "");
        Statement st = c.createStatement()) {
      int before = reviewed.size();
      assertThat(refused(st, READ_LOWER)).startsWith(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(decided(READ_LOWER).list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS))
          .containsExactly("lower");
      assertThat(reviewed.size()).isEqualTo(before);
      assertThat(direct("gh_shadow_fn", "SELECT status FROM payments WHERE id = 1"))
          .isEqualTo("settled");
      // pg_catalog.lower named: PostgreSQL looks nowhere else, so it is the built-in
      try (ResultSet rs =
          st.executeQuery("SELECT pg_catalog.lower(status::varchar) FROM payments WHERE id = 1")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("settled");
      }
    }
    // What the gateway refused would have run the function's UPDATE as a read
    try (Connection c = t.direct("gh_shadow_fn");
        Statement s = c.createStatement()) {
      s.execute("BEGIN");
      s.execute(READ_LOWER);
      try (ResultSet rs = s.executeQuery("SELECT status FROM payments WHERE id = 2")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("pwned");
      }
      s.execute("ROLLBACK");
    }
  }

  @Test
  void extensionMembersAndExactOverloadsBehindPgCatalogStayTrusted() throws Exception {
    // citext puts max(citext), min(citext), regexp_matches(citext, citext) and the citext
    // operators (=, <>, ~~, ...) in public, as members of the extension
    String sql =
        "SELECT max(email), min(email), count(*) FROM users"
            + " WHERE email = 'ANN@example.com' OR email LIKE 'bob%'";
    try (Connection c = erin(FN, "");
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("bob@example.com");
      assertThat(rs.getInt(3)).isEqualTo(2);
    }
    assertThat(decided(sql).list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS)).isEmpty();
    SqlShadows shadows = server.catalogs().get(FN).shadows();
    assertThat(shadows.function("lower")).isTrue();
    assertThat(shadows.function("max")).isFalse();
    assertThat(shadows.function("regexp_matches")).isFalse();
    assertThat(shadows.operator(null, "=")).isEmpty();
    assertThat(shadows.operator(null, "~~")).isEmpty();
    // app.upper(text) has pg_catalog.upper's argument types: with pg_catalog first, never chosen
    assertThat(shadows.function("upper")).isFalse();
    try (Connection c = erin(FN, "");
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT upper(status) FROM payments WHERE id = 1")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("SETTLED");
    }
  }

  @Test
  void theCheckUsesTheConfiguredPasswordAsTheSessionDoes() throws Exception {
    try (Connection c = erin(CONFIGURED, "");
        Statement st = c.createStatement()) {
      assertThat(refused(st, READ_LOWER)).startsWith(PgErrors.INSUFFICIENT_PRIVILEGE);
      // read, not failed closed: max (citext's, an extension member) is still trusted
      try (ResultSet rs = st.executeQuery("SELECT max(email) FROM users")) {
        assertThat(rs.next()).isTrue();
      }
    }
    SqlShadows shadows = server.catalogs().get(CONFIGURED).shadows();
    assertThat(shadows.unverified()).isFalse();
    assertThat(shadows.function("lower")).isTrue();
  }

  @Test
  void aUserOperatorShadowingABuiltinIsOpaque() throws Exception {
    String sql = "SELECT count(*) FROM payments WHERE status::varchar = 'settled'::varchar";
    assertThat(
            SqlClassifier.classify(sql, true, true)
                .get(0)
                .action()
                .list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS))
        .isEmpty();
    try (Connection c = erin(OP, "");
        Statement st = c.createStatement()) {
      assertThat(refused(st, sql)).startsWith(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(decided(sql).list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS))
          .containsExactly("operator(public.=)");
      // IN compares with = too, though the statement writes none
      String in = "SELECT count(*) FROM payments WHERE status::varchar IN ('a'::varchar)";
      assertThat(refused(st, in)).startsWith(PgErrors.INSUFFICIENT_PRIVILEGE);
      // a read using no = is still a read
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM payments WHERE id > 0")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(2);
      }
    }
    assertThat(direct("gh_shadow_op", "SELECT count(*) FROM payments WHERE status = 'pwned'"))
        .isEqualTo("0");
    // what was refused runs the operator's function, which writes
    try (Connection c = t.direct("gh_shadow_op");
        Statement s = c.createStatement()) {
      s.execute("BEGIN");
      s.execute(sql);
      try (ResultSet rs = s.executeQuery("SELECT status FROM payments WHERE id = 1")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("pwned");
      }
      s.execute("ROLLBACK");
    }
  }

  @Test
  void aShadowCreatedLaterIsSeenWithinTheTtlAlsoByAStatementPreparedBefore() throws Exception {
    // prepareThreshold=1: pgjdbc prepares a named statement at once and only binds it later
    try (Connection c = erin(LATER, "&prepareThreshold=1");
        Statement st = c.createStatement();
        PreparedStatement ps =
            c.prepareStatement("SELECT lower(status::varchar) FROM payments WHERE id = ?")) {
      ps.setInt(1, 1);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("settled");
      }
      try (ResultSet rs = st.executeQuery(READ_LOWER)) {
        assertThat(rs.next()).isTrue();
      }
      st.execute("PREPARE sqlp AS " + READ_LOWER);
      try (ResultSet rs = st.executeQuery("EXECUTE sqlp")) {
        assertThat(rs.next()).isTrue();
      }
      directly("gh_shadow_later", SHADOW_LOWER);
      try {
        Thread.sleep(1_200); // the connection's TTL is 1 s
        assertThat(refused(st, READ_LOWER)).startsWith(PgErrors.INSUFFICIENT_PRIVILEGE);
        SQLException e = catchThrowableOfType(SQLException.class, ps::executeQuery);
        assertThat((Throwable) e).isNotNull();
        assertThat(e.getSQLState()).isEqualTo(PgErrors.INSUFFICIENT_PRIVILEGE);
        assertThat(refused(st, "EXECUTE sqlp")).startsWith(PgErrors.INSUFFICIENT_PRIVILEGE);
        assertThat(direct("gh_shadow_later", "SELECT status FROM payments WHERE id = 2"))
            .isEqualTo("settled");
      } finally {
        directly("gh_shadow_later", "DROP FUNCTION public.lower(varchar)");
      }
      Thread.sleep(1_200);
      // gone again: a read again
      try (ResultSet rs = st.executeQuery(READ_LOWER)) {
        assertThat(rs.next()).isTrue();
      }
    }
  }
}
