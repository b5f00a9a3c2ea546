package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_ALICE;
import static dev.gatehouse.postgres.PgTestSupport.TOKEN_READER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.policy.Action;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Session settings whose classification depends on what the server really does, checked against the
 * embedded PostgreSQL target: search_path in front of pg_catalog, and DISCARD ALL in a read-only
 * session.
 */
class SqlSessionSettingsTest {
  static PgTestSupport t;

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS gh_evil");
      s.execute("CREATE TABLE IF NOT EXISTS gh_evil_log (x text)");
      s.execute("CREATE TABLE IF NOT EXISTS gh_discard (id int)");
      s.execute("GRANT ALL ON gh_discard, gh_evil_log TO PUBLIC");
      s.execute("GRANT USAGE ON SCHEMA gh_evil TO PUBLIC");
      s.execute(
          "CREATE OR REPLACE FUNCTION gh_evil.lower(text) RETURNS text LANGUAGE sql AS"
              + " $$ INSERT INTO public.gh_evil_log VALUES ('pwned'); SELECT 'evil' $$");
    }
  }

  private static String one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      assertThat(rs.next()).isTrue();
      return rs.getString(1);
    }
  }

  private static String kind(String sql) {
    return SqlClassifier.classify(sql, true).get(0).kind();
  }

  @Test
  void aSearchPathBehindPgCatalogTurnsABuiltinNameIntoAUserFunctionAndIsUnknown() throws Exception {
    String behind = "SET search_path = gh_evil, pg_catalog";
    String ordinary = "SET search_path = gh_evil, public";
    try (Connection c = t.direct("gh_test");
        Statement st = c.createStatement()) {
      st.execute(ordinary);
      assertThat(one(st, "SELECT lower('A')")).isEqualTo("a"); // pg_catalog is searched first
      st.execute(behind);
      assertThat(one(st, "SELECT lower('A')")).isEqualTo("evil"); // the user's function ran
      st.execute("SELECT pg_catalog.set_config('search_path', 'gh_evil,pg_catalog', false)");
      assertThat(one(st, "SELECT lower('A')")).isEqualTo("evil");
    }
    assertThat(kind(behind)).isEqualTo("unknown");
    assertThat(kind("SELECT set_config('search_path', 'gh_evil,pg_catalog', false)"))
        .isEqualTo("unknown");
    assertThat(kind(ordinary)).isEqualTo("set");
  }

  @Test
  void aSearchPathStartupParameterBehindPgCatalogIsDropped() throws Exception {
    // pgjdbc sends currentSchema as the search_path startup parameter.
    try (Connection c = t.jdbc("conn", "alice", TOKEN_ALICE, "currentSchema=gh_evil,pg_catalog");
        Statement st = c.createStatement()) {
      assertThat(one(st, "SHOW search_path")).doesNotContain("gh_evil");
      assertThat(one(st, "SELECT lower('A')")).isEqualTo("a");
    }
    try (Connection c = t.jdbc("conn", "alice", TOKEN_ALICE, "currentSchema=gh_evil,public");
        Statement st = c.createStatement()) {
      assertThat(one(st, "SHOW search_path")).contains("gh_evil");
      assertThat(one(st, "SELECT lower('A')")).isEqualTo("a");
    }
    Map<String, String> filtered =
        PgStartupParams.filter(Map.of("search_path", "\"$user\", pg_catalog"), false).dropped();
    assertThat(filtered).containsKey("search_path");
  }

  @Test
  void discardAllReturnsToTheStartupValuesWhichKeepTheSessionReadOnly() throws Exception {
    // Directly: DISCARD ALL's RESET ALL goes back to the startup packet's value, not to off.
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    p.setProperty("options", "-c default_transaction_read_only=on");
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + t.pg.getPort() + "/gh_test", p);
        Statement st = c.createStatement()) {
      st.execute("SET default_transaction_read_only = off");
      st.execute("DISCARD ALL");
      assertThat(one(st, "SHOW default_transaction_read_only")).isEqualTo("on");
    }
    // Through the gateway, in a session with the read_only obligation.
    try (Connection c = t.jdbc("conn", "reader", TOKEN_READER, "");
        Statement st = c.createStatement()) {
      st.execute("DISCARD ALL");
      assertThat(one(st, "SHOW default_transaction_read_only")).isEqualTo("on");
      SQLException e =
          catchThrowableOfType(
              SQLException.class, () -> st.execute("INSERT INTO gh_discard VALUES (1)"));
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState()).isEqualTo("25006"); // read_only_sql_transaction
    }
    Action a = SqlClassifier.classify("DISCARD ALL", true).get(0).action();
    assertThat(a.string(Action.Attr.SQL_KIND)).isEqualTo("discard");
    assertThat(a.list(dev.gatehouse.policy.Action.Attr.SQL_KINDS)).isEqualTo(List.of("discard"));
  }

  @Test
  void anUpsertNeedsUpdatePrivilegeAndIsClassifiedAsAnUpdateToo() throws Exception {
    try (Connection c = t.direct("gh_test");
        Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS gh_upsert");
      st.execute("CREATE TABLE gh_upsert (id int PRIMARY KEY, a int)");
      st.execute("DROP ROLE IF EXISTS gh_inserter");
      st.execute("CREATE ROLE gh_inserter");
      st.execute("GRANT SELECT, INSERT ON gh_upsert TO gh_inserter");
      st.execute("INSERT INTO gh_upsert VALUES (1, 1)");
      st.execute("SET ROLE gh_inserter");
      String upsert = "INSERT INTO gh_upsert VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET a = 2";
      SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(upsert));
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState()).isEqualTo("42501"); // the server wants UPDATE privilege
      st.execute("INSERT INTO gh_upsert VALUES (1, 2) ON CONFLICT (id) DO NOTHING");
      st.execute("RESET ROLE");
      Action a = SqlClassifier.classify(upsert, true).get(0).action();
      assertThat(a.string(Action.Attr.SQL_KIND)).isEqualTo("update");
      assertThat(a.list(dev.gatehouse.policy.Action.Attr.SQL_KINDS))
          .containsExactly("update", "insert");
      assertThat(a.flag(Action.Attr.SQL_HAS_WHERE)).isFalse();
    }
  }

  @Test
  void outsideASafeSearchPathUnqualifiedCallsAreOpaque() {
    String sql = "SELECT lower(a), pg_catalog.upper(b) FROM t";
    List<SqlStatement> trusted = SqlClassifier.classify(sql, true, true);
    List<SqlStatement> behind = SqlClassifier.classify(sql, true, false);
    assertThat(trusted.get(0).action().list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS)).isEmpty();
    assertThat(behind.get(0).action().list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS))
        .containsExactly("lower");
    assertThat(SqlClassifier.classify(sql, true)).isSameAs(trusted); // the flag is in the key
  }

  @Test
  void searchPathValuesAreSplitLikeTheServer() {
    assertThat(PgStartupParams.splitIdentifiers(" Evil , \"pg_catalog\",\"a\"\"b\" "))
        .containsExactly("evil", "pg_catalog", "a\"b");
    assertThat(PgStartupParams.splitIdentifiers("")).isEmpty();
    assertThat(PgStartupParams.splitIdentifiers("a,,b")).isNull();
    assertThat(PgStartupParams.splitIdentifiers("a,")).isNull();
    assertThat(PgStartupParams.splitIdentifiers("\"a")).isNull();
    assertThat(PgStartupParams.splitIdentifiers("a b")).isNull();
    assertThat(PgStartupParams.safeSearchPath("\"$user\", public")).isTrue();
    assertThat(PgStartupParams.safeSearchPath("pg_catalog, evil")).isTrue();
    assertThat(PgStartupParams.safeSearchPath("pg_temp, pg_catalog, evil")).isTrue();
    assertThat(PgStartupParams.safeSearchPath("\"evil,pg_catalog\"")).isTrue();
    assertThat(PgStartupParams.safeSearchPath("evil, PG_CATALOG")).isFalse();
    assertThat(PgStartupParams.safeSearchPath("evil, \"PG_CATALOG\"")).isTrue();
    assertThat(PgStartupParams.safeSearchPath("pg_temp, evil, pg_catalog")).isFalse();
    assertThat(PgStartupParams.safeSearchPath("a,,pg_catalog")).isFalse();
  }
}
