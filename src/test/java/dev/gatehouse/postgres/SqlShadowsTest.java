package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.config.GatehouseConfig.UpstreamTlsConfig;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Action.Attr;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The classification of calls and operators that a function or operator created outside the gateway
 * may take the place of ({@link SqlShadows}), and the catalog check's failure (fail closed). With
 * the real catalog: PgShadowedBuiltinsGatewayTest.
 */
class SqlShadowsTest {

  /**
   * Shadows from a test's spec (the {@code shadows=} of the classifier's case files): comma
   * separated, {@code name} a function, {@code schema.op} an operator, {@code ?} the catalog
   * unread; null or empty for none.
   */
  static SqlShadows parse(String spec) {
    if (spec == null || spec.isEmpty()) {
      return SqlShadows.NONE;
    }
    if (spec.equals("?")) {
      return SqlShadows.UNVERIFIED;
    }
    List<String> functions = new ArrayList<>();
    List<String[]> operators = new ArrayList<>();
    for (String s : spec.split(",")) {
      int dot = s.lastIndexOf('.');
      if (dot < 0) {
        functions.add(s);
      } else {
        operators.add(new String[] {s.substring(0, dot), s.substring(dot + 1)});
      }
    }
    return SqlShadows.of(functions, operators);
  }

  private static Action action(String sql, SqlShadows shadows) {
    List<SqlStatement> stmts = SqlClassifier.classify(sql, true, true, shadows);
    assertThat(stmts).hasSize(1);
    return stmts.get(0).action();
  }

  private static List<String> opaque(String sql, SqlShadows shadows) {
    return action(sql, shadows).list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS);
  }

  @Test
  void noShadowsClassifiesAsBeforeFromTheSameCacheEntry() {
    String sql = "SELECT lower(status::varchar) FROM payments WHERE id = 1";
    assertThat(SqlClassifier.classify(sql, true, true, SqlShadows.NONE))
        .isSameAs(SqlClassifier.classify(sql, true, true));
    assertThat(opaque(sql, SqlShadows.NONE)).isEmpty();
    // names the classifier does not trust are no shadows: their calls are opaque anyway
    assertThat(parse("my_udf,Lower")).isSameAs(SqlShadows.NONE);
  }

  @Test
  void aShadowedBuiltinIsOpaqueUnqualifiedOrOutsidePgCatalog() {
    SqlShadows lower = parse("lower");
    String sql = "SELECT lower(status::varchar) FROM payments";
    // before: a plain read calling only a read-only built-in
    assertThat(opaque(sql, SqlShadows.NONE)).isEmpty();
    assertThat(action(sql, SqlShadows.NONE).list(Attr.SQL_READ_ONLY_FUNCTIONS))
        .containsExactly("lower");
    Action a = action(sql, lower);
    assertThat(a.list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS)).containsExactly("lower");
    assertThat(a.list(Attr.SQL_READ_ONLY_FUNCTIONS)).isEmpty();
    assertThat(opaque("SELECT public.lower(x), upper(y) FROM t", lower))
        .containsExactly("public.lower");
    // qualified with pg_catalog: PostgreSQL looks nowhere else
    assertThat(opaque("SELECT pg_catalog.lower(x::varchar) FROM t", lower)).isEmpty();
    // a shadowed name whose effect decides the kind is still that kind, and opaque now
    Action next = action("SELECT nextval('s')", parse("nextval"));
    assertThat(next.string(Attr.SQL_KIND)).isEqualTo("update");
    assertThat(next.list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS)).containsExactly("nextval");
    // the cache keeps one answer per shadow set
    assertThat(opaque(sql, SqlShadows.NONE)).isEmpty();
    assertThat(opaque(sql, parse("upper"))).isEmpty();
  }

  @Test
  void aUserOperatorMakesEveryUseOfItsSymbolOpaque() {
    SqlShadows eq = parse("public.=");
    assertThat(opaque("SELECT count(*) FROM payments WHERE status::varchar = 'x'", eq))
        .containsExactly("operator(public.=)");
    // before: nothing opaque
    assertThat(opaque("SELECT count(*) FROM payments WHERE status::varchar = 'x'", SqlShadows.NONE))
        .isEmpty();
    // no = written: IN, IS DISTINCT FROM, NULLIF, CASE x WHEN and USING compare with it
    assertThat(opaque("SELECT 1 FROM t WHERE s IN ('a', 'b')", eq))
        .containsExactly("operator(public.=)");
    assertThat(opaque("SELECT 1 FROM t WHERE s IS DISTINCT FROM 'a'", eq))
        .containsExactly("operator(public.=)");
    assertThat(opaque("SELECT nullif(s, 'a') FROM t", eq)).containsExactly("operator(public.=)");
    assertThat(opaque("SELECT CASE s WHEN 'a' THEN 1 END FROM t", eq))
        .containsExactly("operator(public.=)");
    assertThat(opaque("SELECT 1 FROM a JOIN b USING (s)", eq))
        .containsExactly("operator(public.=)");
    // named with pg_catalog: not the user's; named with public: the user's
    assertThat(opaque("SELECT 1 FROM t WHERE s OPERATOR(pg_catalog.=) 'a'", eq)).isEmpty();
    assertThat(opaque("SELECT 1 FROM t WHERE s OPERATOR(public.=) 'a'", eq))
        .containsExactly("operator(public.=)");
    assertThat(opaque("SELECT 1 FROM t WHERE s OPERATOR(app.=) 'a'", eq)).isEmpty();
    // the syntax only where it compares; SET assigns (pgjdbc's startup sends one)
    assertThat(opaque("FETCH 1 IN c", eq)).isEmpty();
    assertThat(opaque("SELECT DISTINCT s FROM t", eq)).isEmpty();
    assertThat(opaque("SELECT CASE WHEN s > 'a' THEN 1 END FROM t", eq)).isEmpty();
    assertThat(opaque("SET extra_float_digits = 3", eq)).isEmpty();
    assertThat(opaque("SET LOCAL search_path = public, pg_catalog", eq)).isEmpty();
    // other operators, and * that is no operator
    assertThat(opaque("SELECT count(*), t.* FROM t WHERE a > 1 ORDER BY a", eq)).isEmpty();
    assertThat(opaque("SELECT * FROM t", parse("public.*"))).isEmpty();
    assertThat(opaque("SELECT 2 * 3", parse("public.*"))).containsExactly("operator(public.*)");
    // != is <> to PostgreSQL; NOT BETWEEN compares with < and >; LIKE is ~~
    assertThat(opaque("SELECT 1 FROM t WHERE a != 1", parse("app.<>")))
        .containsExactly("operator(app.<>)");
    assertThat(opaque("SELECT 1 FROM t WHERE a NOT BETWEEN 1 AND 2", parse("app.<")))
        .containsExactly("operator(app.<)");
    assertThat(opaque("SELECT 1 FROM t WHERE a LIKE 'x%'", parse("app.~~,public.~~")))
        .containsExactly("operator(app.~~)", "operator(public.~~)");
  }

  @Test
  void anUnreadCatalogMakesEveryTrustedCallAndOperatorOpaque() {
    SqlShadows unread = SqlShadows.UNVERIFIED;
    assertThat(opaque("SELECT lower(s) FROM t WHERE id = 1", unread))
        .containsExactly("lower", "operator(=)");
    assertThat(opaque("SELECT pg_catalog.lower(s) FROM t", unread)).isEmpty();
    assertThat(opaque("SELECT s FROM t WHERE id OPERATOR(pg_catalog.=) 1", unread)).isEmpty();
    assertThat(opaque("SELECT s FROM t", unread)).isEmpty();
  }

  @Test
  void aCatalogThatCannotBeReadFailsClosed() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    ConnectionConfig dead =
        new ConnectionConfig(
            "dead",
            "postgres",
            "127.0.0.1",
            port,
            "db",
            "u",
            null,
            Map.of(),
            new UpstreamTlsConfig("disable", null),
            Map.of(PgCatalog.SHADOW_TTL_OPTION, 1));
    PgCatalog catalog = new PgCatalog(dead, Map::of);
    try {
      assertThat(catalog.shadows()).isSameAs(SqlShadows.UNVERIFIED);
      assertThat(catalog.shadows()).isSameAs(SqlShadows.UNVERIFIED);
    } finally {
      catalog.close();
    }
    // a catalog that cannot be asked at all (the masker's test catalogs) fails closed too
    assertThat(PgCatalog.fixed(Map.of(), Map.of()).shadows()).isSameAs(SqlShadows.UNVERIFIED);
  }

  @Test
  void theTtlOptionIsBounded() {
    assertThat(PgCatalog.shadowTtlSeconds(null)).isEqualTo(30);
    assertThat(PgCatalog.shadowTtlSeconds(withOptions(Map.of(PgCatalog.SHADOW_TTL_OPTION, 5))))
        .isEqualTo(5);
    assertThat(PgCatalog.shadowTtlSeconds(withOptions(Map.of(PgCatalog.SHADOW_TTL_OPTION, "7"))))
        .isEqualTo(7);
    assertThat(PgCatalog.shadowTtlSeconds(withOptions(Map.of(PgCatalog.SHADOW_TTL_OPTION, 0))))
        .isEqualTo(30);
    assertThat(
            PgCatalog.shadowTtlSeconds(withOptions(Map.of(PgCatalog.SHADOW_TTL_OPTION, "never"))))
        .isEqualTo(30);
  }

  private static ConnectionConfig withOptions(Map<String, Object> options) {
    return new ConnectionConfig(
        "c", "postgres", "h", 5432, "d", "u", null, Map.of(), null, options);
  }
}
