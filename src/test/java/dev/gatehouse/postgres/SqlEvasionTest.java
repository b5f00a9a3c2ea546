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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Red-team cases: evasion attempts against the statement classifier and the read-only guard, and
 * benign look-alikes that must stay reads. Table-driven from
 * src/test/resources/postgres/sql-evasion-cases.tsv, in the format of {@link SqlClassifierTest}
 * plus {@code {CR}} and {@code {U+XXXX}} escapes in the SQL.
 */
class SqlEvasionTest {

  static final String CASES = "/postgres/sql-evasion-cases.tsv";

  private static final Pattern CODE_UNIT = Pattern.compile("\\{U\\+([0-9A-Fa-f]{4})}");

  static List<SqlClassifierTest.Case> cases() throws IOException {
    List<SqlClassifierTest.Case> out = new ArrayList<>();
    try (InputStream in = SqlEvasionTest.class.getResourceAsStream(CASES);
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
            unescape(
                line.substring(0, tab)
                    .replace("{NL}", "\n")
                    .replace("{CR}", "\r")
                    .replace("{TAB}", "\t")
                    .replace("{NUL}", "\0"));
        Map<String, String> expect = new LinkedHashMap<>();
        for (String kv : line.substring(tab + 1).trim().split(" +")) {
          int eq = kv.indexOf('=');
          expect.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        out.add(new SqlClassifierTest.Case(n, sql, expect));
      }
    }
    return out;
  }

  private static String unescape(String s) {
    Matcher m = CODE_UNIT.matcher(s);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(
          b, Matcher.quoteReplacement(String.valueOf((char) Integer.parseInt(m.group(1), 16))));
    }
    m.appendTail(b);
    return b.toString();
  }

  static Stream<Arguments> caseArguments() throws IOException {
    return cases().stream().map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("caseArguments")
  void classifies(SqlClassifierTest.Case c) {
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
      checkList(soft, c, "path", a.list(SqlClassifier.ATTR_SETS_SEARCH_PATH));
      check(soft, c, "executes", a.string(SqlClassifier.ATTR_EXECUTED_NAME));
      check(soft, c, "declares", a.string(SqlClassifier.ATTR_DECLARES_CURSOR));
      check(soft, c, "uses", a.string(SqlClassifier.ATTR_USES_CURSOR));
      check(soft, c, "closes", a.string(SqlClassifier.ATTR_CLOSES));
      check(soft, c, "hold", String.valueOf(a.flag(SqlClassifier.ATTR_WITH_HOLD)));
      check(soft, c, "ends", String.valueOf(a.flag(SqlClassifier.ATTR_ENDS_TRANSACTION)));
      check(soft, c, "chains", String.valueOf(a.flag(SqlClassifier.ATTR_CHAINS_TRANSACTION)));
      check(soft, c, "resets", String.valueOf(a.flag(SqlClassifier.ATTR_RESETS_SEARCH_PATH)));
      check(soft, c, "local", String.valueOf(a.flag(SqlClassifier.ATTR_SEARCH_PATH_LOCAL)));
    }
    soft.assertAll();
  }

  private static void check(
      SoftAssertions soft, SqlClassifierTest.Case c, String key, String actual) {
    if (c.expect().containsKey(key)) {
      soft.assertThat(actual).as(c + " " + key).isEqualTo(c.expect().get(key));
    }
  }

  private static void checkList(
      SoftAssertions soft, SqlClassifierTest.Case c, String key, List<String> actual) {
    if (c.expect().containsKey(key)) {
      String v = c.expect().get(key);
      List<String> want = v.isEmpty() ? List.of() : Arrays.asList(v.split(","));
      soft.assertThat(actual).as(c + " " + key).containsExactlyInAnyOrderElementsOf(want);
    }
  }

  @Test
  void thereAreAtLeast60Cases() throws IOException {
    assertThat(cases()).hasSizeGreaterThanOrEqualTo(60);
  }

  @Test
  void noCaseRepeatsOneOfTheClassifierTestCases() throws IOException {
    List<String> old = SqlClassifierTest.cases().stream().map(SqlClassifierTest.Case::sql).toList();
    assertThat(cases()).extracting(SqlClassifierTest.Case::sql).doesNotContainAnyElementsOf(old);
  }

  // ---------------------------------------------------------------------------------------------
  // Statements longer than every limit (JSqlParser's input and nesting, the cache's key length):
  // the token analysis alone still sees a write hidden behind the limit.

  @Test
  void writesBeyondTheSizeAndNestingLimitsAreStillSeen() {
    StringBuilder ctes = new StringBuilder("WITH ");
    for (int i = 0; ctes.length() <= SqlClassifier.MAX_PARSER_INPUT; i++) {
      ctes.append("c").append(i).append(" AS (SELECT ").append(i).append("), ");
    }
    String hidden = ctes + "d AS (DELETE FROM t RETURNING 1) SELECT 1";
    assertThat(kinds(hidden)).containsExactly("delete");
    assertThat(SqlClassifier.classify(hidden, true).get(0).action().list(Attr.SQL_TABLES_WRITTEN))
        .containsExactly("t");

    String comment = "SELECT /*" + "x".repeat(4 * SqlClassifier.MAX_PARSER_INPUT) + "*/ 1";
    assertThat(kinds(comment + "; DELETE FROM t")).containsExactly("select", "delete");

    String deep =
        "SELECT * FROM "
            + "(SELECT * FROM ".repeat(SqlClassifier.MAX_PARSER_NESTING + 8)
            + "(DELETE FROM t RETURNING *) x"
            + ") y".repeat(SqlClassifier.MAX_PARSER_NESTING + 8);
    assertThat(kinds(deep)).containsExactly("delete");

    String tooDeep =
        "SELECT "
            + "(".repeat(SqlClassifier.MAX_NESTING_DEPTH + 1)
            + "1"
            + ")".repeat(SqlClassifier.MAX_NESTING_DEPTH + 1);
    assertThat(kinds(tooDeep + "; SELECT 2")).containsExactly("unknown", "select");
  }

  @Test
  void anExecuteIsDecidedAsTheStatementItRuns() {
    Action prepared =
        action("PREPARE r(int) AS UPDATE refunds SET status = 'refunded' WHERE id = $1");
    Action execute = action("EXECUTE r(my_udf(1))");
    Action a = SqlClassifier.executing(execute, prepared);
    assertThat(a.raw()).isEqualTo("EXECUTE r(my_udf(1))");
    assertThat(a.string(Attr.SQL_KIND)).isEqualTo("update");
    assertThat(a.list(Attr.SQL_KINDS)).containsExactly("update");
    assertThat(a.list(Attr.SQL_TABLES_WRITTEN)).containsExactly("refunds");
    assertThat(a.flag(Attr.SQL_HAS_WHERE)).isTrue();
    assertThat(a.list(Attr.SQL_FUNCTIONS)).containsExactly("my_udf");
    assertThat(a.list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS)).containsExactly("my_udf");
    assertThat(a.string(SqlClassifier.ATTR_EXECUTED_NAME)).isEqualTo("r");
    assertThat(a.attributes()).doesNotContainKey(SqlClassifier.ATTR_PREPARED_NAME);
    assertThat(a.flag(Attr.SQL_UNPARSED)).isFalse();

    // arguments with effects of their own keep them
    Action select = action("PREPARE s AS SELECT * FROM t WHERE id = $1");
    Action withNextval = SqlClassifier.executing(action("EXECUTE s(nextval('q'))"), select);
    assertThat(withNextval.string(Attr.SQL_KIND)).isEqualTo("update");
    assertThat(withNextval.list(Attr.SQL_TABLES_READ)).containsExactly("t");
    Action reading = SqlClassifier.executing(action("EXECUTE s(1)"), select);
    assertThat(reading.string(Attr.SQL_KIND)).isEqualTo("select");
    assertThat(reading.list(Attr.SQL_KINDS)).containsExactly("select");

    // two candidates (one not confirmed yet): everything either does
    Action both = SqlClassifier.executing(a, action("PREPARE r AS DELETE FROM ledger"));
    assertThat(both.string(Attr.SQL_KIND)).isEqualTo("delete");
    assertThat(both.list(Attr.SQL_KINDS)).contains("update", "delete");
    assertThat(both.list(Attr.SQL_TABLES_WRITTEN)).containsExactlyInAnyOrder("refunds", "ledger");
    assertThat(both.flag(Attr.SQL_HAS_WHERE)).isFalse();

    // a statement prepared as an EXECUTE (protocol level) stays the kind execute
    Action nested = action("EXECUTE other");
    assertThat(SqlClassifier.executing(execute, nested)).isSameAs(execute);
  }

  /**
   * rt19: {@code CREATE TABLE t AS EXECUTE name} runs the prepared statement: it is decided as that
   * statement and as the create of t (before: a create of t only).
   */
  @Test
  void createTableAsExecuteIsDecidedAsTheStatementItRunsToo() {
    Action ctas = action("CREATE TEMP TABLE k AS EXECUTE d(7)");
    assertThat(ctas.string(SqlClassifier.ATTR_EXECUTED_NAME)).isEqualTo("d");
    Action prepared =
        action("PREPARE d(int) AS SELECT * FROM payments WHERE id = $1 AND nextval('s') > 0");
    Action a = SqlClassifier.executing(ctas, prepared);
    assertThat(a.raw()).isEqualTo("CREATE TEMP TABLE k AS EXECUTE d(7)");
    assertThat(a.string(Attr.SQL_KIND)).isEqualTo("update"); // nextval: a write of s
    assertThat(a.list(Attr.SQL_KINDS)).containsExactly("update", "create");
    assertThat(a.string(Attr.SQL_OBJECT_TYPE)).isEqualTo("table");
    assertThat(a.list(Attr.SQL_TABLES_READ)).containsExactly("payments");
    assertThat(a.list(Attr.SQL_TABLES_WRITTEN)).containsExactlyInAnyOrder("s", "k");
    Action read = SqlClassifier.executing(ctas, action("PREPARE d AS TABLE payments"));
    assertThat(read.string(Attr.SQL_KIND)).isEqualTo("create");
    assertThat(read.list(Attr.SQL_KINDS)).containsExactly("create");
    assertThat(read.list(Attr.SQL_TABLES_READ)).containsExactly("payments");
    // one the session did not see prepared (a function's): the kind execute too
    assertThat(SqlClassifier.unseenPrepared(ctas).list(Attr.SQL_KINDS))
        .containsExactly("create", "execute");
    Action execute = action("EXECUTE d(7)");
    assertThat(SqlClassifier.unseenPrepared(execute)).isSameAs(execute);
    // a plain CREATE TABLE AS runs no prepared statement
    assertThat(action("CREATE TABLE k AS SELECT 1").attributes())
        .doesNotContainKey(SqlClassifier.ATTR_EXECUTED_NAME);
  }

  private static Action action(String sql) {
    return SqlClassifier.classify(sql, true).get(0).action();
  }

  private static List<String> kinds(String sql) {
    return SqlClassifier.classify(sql, true).stream().map(SqlStatement::kind).toList();
  }

  // ---------------------------------------------------------------------------------------------
  // The read-only guard: every statement below could switch read-only mode off (or hides what it
  // does from a text scan), so a read-only session must refuse it.

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SET default_transaction_read_only = off",
        "SET default_transaction_read_only TO 'off'",
        "SET SESSION default_transaction_read_only = false",
        "SET LOCAL transaction_read_only = off",
        "SET transaction_read_only TO 0",
        "SET \"default_transaction_read_only\" = off",
        "SET \"DEFAULT_TRANSACTION_READ_ONLY\" = off",
        "SET U&\"default\\005ftransaction\\005fread\\005fonly\" = off",
        "SET U&\"default!005ftransaction_read_only\" UESCAPE '!' = off",
        "RESET default_transaction_read_only",
        "RESET transaction_read_only",
        "SET TRANSACTION READ WRITE",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE",
        "SET TRANSACTION ISOLATION LEVEL READ COMMITTED READ WRITE",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "BEGIN READ WRITE",
        "BEGIN TRANSACTION READ WRITE",
        "BEGIN WORK ISOLATION LEVEL SERIALIZABLE, READ WRITE",
        "START TRANSACTION READ WRITE",
        "begin read\twrite",
        "BEGIN READ/**/WRITE",
        "BEGIN READ /* /* */ */ WRITE",
        "BEGIN READ -- x\rWRITE",
        "BEGIN READ --\nWRITE",
        "BEGIN READ\u000bWRITE",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT set_config('transaction_read_only', 'off', true)",
        "SELECT pg_catalog.set_config('transaction_read_only', 'off', true)",
        "SELECT \"set_config\"('transaction_read_only', 'off', true)",
        "SELECT set_config('transaction_' || 'read_only', 'off', true)",
        "SELECT set_config(setting_name => 'transaction_read_only', new_value => 'off',"
            + " is_local => true)",
        "SELECT '--', set_config('transaction_read_only', 'off', true)",
        "SELECT '/*', set_config('default_transaction_read_only', 'off', false), '*/'",
        "SELECT $$/*$$, set_config('default_transaction_read_only', 'off', false), $$*/$$",
        "SELECT \"--\", set_config('default_transaction_read_only', 'off', false)",
        "UPDATE pg_settings SET setting = 'off' WHERE name = 'default_transaction_read_only'",
        "UPDATE pg_catalog.pg_settings SET setting = 'off' WHERE name = 'transaction_' ||"
            + " 'read_only'",
        "ALTER ROLE CURRENT_USER SET default_transaction_read_only = off",
        "ALTER DATABASE app SET default_transaction_read_only = off",
        "ALTER SYSTEM SET default_transaction_read_only = off",
        "SELECT 'unterminated",
      })
  void readOnlyGuardRefuses(String sql) {
    assertThat(PgReadOnly.liftsReadOnly(sql)).as(sql).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT * FROM t",
        "SHOW transaction_read_only",
        "SHOW default_transaction_read_only",
        "BEGIN",
        "BEGIN READ ONLY",
        "START TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "SET search_path = public",
        "SELECT 'read' || 'write' FROM t",
        "SELECT * FROM t WHERE a = '--' AND b = 1",
      })
  void readOnlyGuardLetsReadsThrough(String sql) {
    assertThat(PgReadOnly.liftsReadOnly(sql)).as(sql).isFalse();
  }

  // ---------------------------------------------------------------------------------------------
  // Startup parameters: a read-only session always starts with default_transaction_read_only=on,
  // whatever spelling the client uses for the parameter or the options command line.

  @ParameterizedTest
  @ValueSource(
      strings = {
        "default_transaction_read_only=off",
        "DEFAULT_TRANSACTION_READ_ONLY=off",
        "Default_Transaction_Read_Only=false",
        "options=-c default_transaction_read_only=off",
        "options=-cdefault_transaction_read_only=off",
        "options=--default-transaction-read-only=off",
        "options=--DEFAULT_TRANSACTION_READ_ONLY=0",
        "options=-c default_transaction_read_only=on -c default_transaction_read_only=off",
        "options=-c transaction_read_only=off",
        "options=-c role=admin",
        "options=-c session_authorization=postgres",
        "transaction_read_only=off",
        "role=admin",
        "session_authorization=postgres",
      })
  void readOnlySessionStartsReadOnly(String param) {
    int eq = param.indexOf('=');
    Map<String, String> client = new LinkedHashMap<>();
    client.put("application_name", "psql");
    client.put(param.substring(0, eq), param.substring(eq + 1));
    PgStartupParams.Filtered f = PgStartupParams.filter(client, true);
    assertThat(f.forwarded()).containsEntry("default_transaction_read_only", "on");
    assertThat(f.forwarded().keySet())
        .as(param)
        .filteredOn(
            k ->
                k.toLowerCase(java.util.Locale.ROOT).contains("read_only")
                    || k.toLowerCase(java.util.Locale.ROOT).contains("role")
                    || k.toLowerCase(java.util.Locale.ROOT).contains("authorization")
                    || k.equals("options"))
        .containsExactly("default_transaction_read_only");
    assertThat(f.forwarded()).containsEntry("application_name", "psql");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "client_encoding=SJIS",
        "client_encoding=Shift_JIS",
        "CLIENT_ENCODING=big5",
        "client_encoding=GBK",
        "client_encoding=gb18030",
        "client_encoding=UHC",
        "client_encoding=johab",
        "client_encoding=win932",
        "options=-c client_encoding=sjis",
        "options=--client-encoding=BIG5",
      })
  void clientEncodingsThatHideBackslashesAreDropped(String param) {
    int eq = param.indexOf('=');
    Map<String, String> client = Map.of(param.substring(0, eq), param.substring(eq + 1));
    PgStartupParams.Filtered f = PgStartupParams.filter(client, false);
    assertThat(f.forwarded()).as(param).isEmpty();
    assertThat(f.dropped()).as(param).isNotEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"UTF8", "utf-8", "UNICODE", "SQL_ASCII", "LATIN1", "WIN1252", "EUC_JP"})
  void safeClientEncodingsPass(String enc) {
    PgStartupParams.Filtered f = PgStartupParams.filter(Map.of("client_encoding", enc), false);
    assertThat(f.forwarded()).containsEntry("client_encoding", enc);
  }

  // ---------------------------------------------------------------------------------------------
  // Functions whose bodies we cannot see: a SELECT calling them stays a select, but they are listed
  // in opaque_functions so that a policy can keep read-only principals away from them.

  @Test
  void functionsWithUnknownEffectsAreListedAsOpaque() {
    assertThat(opaque("SELECT my_udf(a), public.other_udf(b), lower(c), count(*) FROM t"))
        .containsExactly("my_udf", "public.other_udf");
    assertThat(opaque("SELECT public.lower(x), pg_catalog.lower(y), \"Lower\"(z)"))
        .containsExactly("public.lower", "lower");
    assertThat(opaque("SELECT pg_catalog.pg_table_is_visible(c.oid) FROM pg_catalog.pg_class c"))
        .isEmpty();
    assertThat(opaque("SELECT nextval('s'), set_config('x', 'y', false), pg_read_file('f')"))
        .isEmpty();
    assertThat(opaque("CALL refresh_all()")).containsExactly("refresh_all");
    assertThat(opaque("SELECT * FROM generate_series(1, evil())")).containsExactly("evil");
    assertThat(SqlClassifier.classify("SELECT my_udf(a) FROM t", true).get(0).kind())
        .isEqualTo("select");
  }

  @Test
  void builtInsThatChangeNothingAreListedAsReadOnly() {
    // A review rule with functions needs no other rule to admit these (docs/policy.md).
    assertThat(readOnly("SELECT now(), lower('x'), my_udf(), public.upper('y')"))
        .containsExactly("now", "lower");
    // functions whose effect decides the kind are not (nor currval, which reads a sequence)
    assertThat(
            readOnly(
                "SELECT now(), lo_export(1, '/tmp/x'), nextval('s'), currval('s'),"
                    + " pg_read_file('f'), set_config('x', 'y', false)"))
        .containsExactly("now");
    assertThat(readOnly("SELECT public.lower(x), pg_catalog.lower(y), \"Lower\"(z)"))
        .containsExactly("pg_catalog.lower");
    assertThat(
            readOnly(
                "SELECT (information_schema._pg_expandarray(i.indkey)).n FROM pg_catalog.pg_index i"))
        .containsExactly("information_schema._pg_expandarray");
    // pg_catalog behind another schema: an unqualified name may be anyone's function
    assertThat(
            SqlClassifier.classify("SELECT lower(a), pg_catalog.upper(b) FROM t", true, false)
                .get(0)
                .action()
                .list(Attr.SQL_READ_ONLY_FUNCTIONS))
        .containsExactly("pg_catalog.upper");
  }

  @Test
  void builtInsThatHoldOnOrCanRunUserCodeAreNotReadOnly() {
    // Review 15: a review rule with functions carries read-only built-ins along without any rule
    // admitting them (docs/policy.md). pg_sleep holds the snapshot, locks and connection without
    // bound; current_setting reads custom settings (app.jwt_secret); these stay known, not opaque.
    String known =
        "SELECT pg_sleep(1), pg_sleep_for('1 s'), pg_sleep_until(now()),"
            + " current_setting('app.jwt_secret'), pg_current_logfile(),"
            + " pg_sequence_last_value('s'), pg_catalog.pg_sleep(1)";
    assertThat(readOnly(known)).containsExactly("now");
    assertThat(opaque(known)).isEmpty();
    // to_json and its kin use a cast to json the type's owner may have created WITH FUNCTION;
    // the record readers and pg_input_is_valid check domain constraints, which may call any
    // function; quote_literal(anyelement) casts to text: opaque, like a user-defined function
    String userCode =
        "SELECT to_json(x), to_jsonb(x), row_to_json(x), array_to_json(a), json_agg(x),"
            + " jsonb_agg(x), json_object_agg(k, x), json_build_object('k', x),"
            + " jsonb_build_array(x), json_populate_record(null::t, j),"
            + " jsonb_to_recordset(j), pg_input_is_valid('1', 'd'), pg_input_error_info('1', 'd'),"
            + " quote_literal(x), quote_nullable(x), lower(y) FROM t";
    assertThat(readOnly(userCode)).containsExactly("lower");
    assertThat(opaque(userCode))
        .contains("to_json", "json_agg", "json_populate_record", "pg_input_is_valid")
        .doesNotContain("lower")
        .hasSize(15);
    // output functions of base types are C (only a superuser creates them), and text(x) is the
    // cast x::text the statement shows
    assertThat(readOnly("SELECT format('%s', x), concat(x, y), concat_ws(',', x), text(x) FROM t"))
        .containsExactly("format", "concat", "concat_ws", "text");
  }

  private static List<String> readOnly(String sql) {
    return SqlClassifier.classify(sql, true).get(0).action().list(Attr.SQL_READ_ONLY_FUNCTIONS);
  }

  private static List<String> opaque(String sql) {
    return SqlClassifier.classify(sql, true)
        .get(0)
        .action()
        .list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS);
  }
}
