package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Action.Attr;
import dev.gatehouse.policy.ActionKind;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Table-driven tests from src/test/resources/postgres/sql-classification-cases.tsv.
 *
 * <p>Each line: {@code sql<TAB>expectations}. In the SQL, {@code {NL}} is a newline and {@code
 * {TAB}} a tab. Expectations are space-separated {@code key=value}: {@code kind} (one per
 * statement, separated by {@code ;}), and for the LAST statement {@code type}, {@code read}, {@code
 * written}, {@code fn} (comma-separated, compared as sets; empty value = empty), {@code where},
 * {@code unparsed}, {@code opaque} (opaque_functions), {@code kinds} (every kind performed); {@code
 * scs=off} classifies with standard_conforming_strings off, {@code catalog=behind} in a session
 * whose search_path puts pg_catalog behind another schema, {@code shadows} with what the target's
 * catalog holds in place of built-ins ({@link SqlShadowsTest#parse}).
 */
class SqlClassifierTest {

  static final String CASES = "/postgres/sql-classification-cases.tsv";

  record Case(int line, String sql, Map<String, String> expect) {
    @Override
    public String toString() {
      return line + ": " + sql;
    }
  }

  static List<Case> cases() throws IOException {
    List<Case> out = new ArrayList<>();
    try (InputStream in = SqlClassifierTest.class.getResourceAsStream(CASES);
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        int tab = line.lastIndexOf('\t');
        String sql =
            line.substring(0, tab)
                .replace("{NL}", "\n")
                .replace("{TAB}", "\t")
                .replace("{NUL}", "\0");
        Map<String, String> expect = new LinkedHashMap<>();
        for (String kv : line.substring(tab + 1).trim().split(" +")) {
          int eq = kv.indexOf('=');
          expect.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        out.add(new Case(n, sql, expect));
      }
    }
    return out;
  }

  static Stream<Arguments> caseArguments() throws IOException {
    return cases().stream().map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("caseArguments")
  void classifies(Case c) {
    boolean scs = !"off".equals(c.expect().get("scs"));
    boolean catalogFirst = !"behind".equals(c.expect().get("catalog"));
    List<SqlStatement> stmts =
        SqlClassifier.classify(
            c.sql(), scs, catalogFirst, SqlShadowsTest.parse(c.expect().get("shadows")));
    SoftAssertions soft = new SoftAssertions();
    List<String> kinds = stmts.stream().map(SqlStatement::kind).toList();
    soft.assertThat(kinds).as(c + " kinds").containsExactly(c.expect().get("kind").split(";"));
    if (!stmts.isEmpty()) {
      Action a = stmts.get(stmts.size() - 1).action();
      soft.assertThat(a.kind()).isEqualTo(ActionKind.SQL);
      check(soft, c, "type", a.string(Attr.SQL_OBJECT_TYPE));
      checkList(soft, c, "read", a.list(Attr.SQL_TABLES_READ));
      checkList(soft, c, "written", a.list(Attr.SQL_TABLES_WRITTEN));
      checkList(soft, c, "fn", a.list(Attr.SQL_FUNCTIONS));
      checkList(soft, c, "opaque", a.list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS));
      checkList(soft, c, "kinds", a.list(dev.gatehouse.policy.Action.Attr.SQL_KINDS));
      check(soft, c, "where", String.valueOf(a.attributes().get(Attr.SQL_HAS_WHERE)));
      check(soft, c, "unparsed", String.valueOf(a.flag(Attr.SQL_UNPARSED)));
    }
    soft.assertAll();
  }

  private static void check(SoftAssertions soft, Case c, String key, String actual) {
    if (c.expect().containsKey(key)) {
      soft.assertThat(actual).as(c + " " + key).isEqualTo(c.expect().get(key));
    }
  }

  private static void checkList(SoftAssertions soft, Case c, String key, List<String> actual) {
    if (c.expect().containsKey(key)) {
      String v = c.expect().get(key);
      List<String> want = v.isEmpty() ? List.of() : Arrays.asList(v.split(","));
      soft.assertThat(actual).as(c + " " + key).containsExactlyInAnyOrderElementsOf(want);
    }
  }

  @Test
  void thereAreAtLeast150CasesCoveringEveryKind() throws IOException {
    List<Case> all = cases();
    assertThat(all).hasSizeGreaterThanOrEqualTo(150);
    List<String> covered =
        all.stream().flatMap(c -> Arrays.stream(c.expect().get("kind").split(";"))).toList();
    assertThat(covered).containsAll(SqlKinds.all());
  }

  @Test
  void everyStatementCarriesTheBasicAttributes() {
    SqlStatement s = SqlClassifier.classify("select a from t", true).get(0);
    assertThat(s.text()).isEqualTo("select a from t");
    assertThat(s.action().raw()).isEqualTo("select a from t");
    assertThat(s.action().attributes())
        .containsKeys(
            Attr.SQL_KIND,
            Attr.SQL_TABLES_READ,
            Attr.SQL_TABLES_WRITTEN,
            Attr.SQL_FUNCTIONS,
            Attr.SQL_UNPARSED);
  }

  @Test
  void emptyQueryHasNoStatements() {
    assertThat(SqlClassifier.classify("  ; -- nothing\n ;", true)).isEmpty();
  }

  @Test
  void prepareRecordsTheStatementName() {
    Action a = SqlClassifier.classify("PREPARE del AS DELETE FROM t", true).get(0).action();
    assertThat(a.string(SqlClassifier.ATTR_PREPARED_NAME)).isEqualTo("del");
    assertThat(a.string(Attr.SQL_KIND)).isEqualTo("delete");
  }

  @Test
  void explainAnalyzeIsMarked() {
    Action a = SqlClassifier.classify("EXPLAIN ANALYZE DELETE FROM t", true).get(0).action();
    assertThat(a.flag(SqlClassifier.ATTR_EXPLAIN_ANALYZE)).isTrue();
  }

  @Test
  void deepNestingIsRefusedAsUnknown() {
    String sql =
        "select "
            + "(".repeat(SqlClassifier.MAX_NESTING_DEPTH + 1)
            + "1"
            + ")".repeat(SqlClassifier.MAX_NESTING_DEPTH + 1);
    SqlStatement s = SqlClassifier.classify(sql, true).get(0);
    assertThat(s.kind()).isEqualTo("unknown");
    assertThat(s.action().flag(Attr.SQL_UNPARSED)).isTrue();
  }

  @Test
  void moderatelyNestedQueryIsStillClassifiedWithoutTheParser() {
    String sql = "select " + "(".repeat(30) + "1" + ")".repeat(30) + " from t";
    SqlStatement s = SqlClassifier.classify(sql, true).get(0);
    assertThat(s.kind()).isEqualTo("select");
    assertThat(s.action().list(Attr.SQL_TABLES_READ)).containsExactly("t");
  }

  @Test
  void repeatedTextsAreServedFromTheCacheWithEqualResults() {
    String sql = "update pgbench_accounts set abalance = abalance + 1 where aid = 7";
    List<SqlStatement> first = SqlClassifier.classify(sql, true);
    List<SqlStatement> second = SqlClassifier.classify(sql, true);
    assertThat(second).isSameAs(first);
    assertThat(SqlClassifier.classify(sql, false)).isNotSameAs(first).isEqualTo(first);
  }

  @Test
  void standardConformingStringsIsPartOfTheCacheKey() {
    String sql = "select 'a\\'; delete from t; --'";
    assertThat(SqlClassifier.classify(sql, true))
        .extracting(SqlStatement::kind)
        .containsExactly("select", "delete");
    assertThat(SqlClassifier.classify(sql, false))
        .extracting(SqlStatement::kind)
        .containsExactly("select");
  }

  @Test
  void regclassLiteralsAreNormalisedLikeIdentifiers() {
    assertThat(SqlClassifier.regclassLiteral("Public.\"My Seq\"")).isEqualTo("public.My Seq");
    assertThat(SqlClassifier.regclassLiteral("not a name")).isNull();
  }
}
