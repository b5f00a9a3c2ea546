package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.Action;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the classifier reports of a statement's search_path ({@code sets_search_path}) and how a
 * session collects the schemas (PgSearchPath), without a server; {@code PgSearchPathTest} runs the
 * same against PostgreSQL.
 */
class PgSearchPathTrackingTest {
  private static Action action(String sql) {
    List<SqlStatement> stmts = SqlClassifier.classify(sql, true);
    assertThat(stmts).as(sql).hasSize(1);
    return stmts.get(0).action();
  }

  private static List<String> sets(String sql) {
    return action(sql).list(SqlClassifier.ATTR_SETS_SEARCH_PATH);
  }

  @Test
  void theClassifierReportsThePathAStatementSets() {
    assertThat(sets("SET search_path = app, public")).containsExactly("app", "public");
    assertThat(sets("SET LOCAL search_path TO \"$user\", 'My Schema', App"))
        .containsExactly("$user", "My Schema", "app");
    assertThat(sets("SET SESSION search_path = app")).containsExactly("app");
    assertThat(sets("SELECT set_config('search_path', 'a, \"B\"', false)"))
        .containsExactly("a", "B");
    assertThat(sets("PREPARE p AS SELECT set_config('search_path', 'app', false)"))
        .containsExactly("app");
    assertThat(sets("WITH x AS (SELECT set_config('search_path', 'app', true)) SELECT * FROM x"))
        .containsExactly("app");
    // nothing set, or not in this session
    assertThat(sets("SELECT * FROM payments")).isEmpty();
    assertThat(sets("SET search_path = DEFAULT")).isEmpty();
    assertThat(sets("SET work_mem = '64MB'")).isEmpty();
    assertThat(sets("ALTER ROLE r SET search_path = app")).isEmpty();
  }

  @Test
  void statementsThatMaySetAnUnreadablePathReportAnySchema() {
    for (String sql :
        List.of(
            "SELECT set_config('search_path', current_setting('x'), false)",
            "SET search_path = evil, pg_catalog",
            "DO $$ BEGIN PERFORM set_config('search_path', 'app', false); END $$",
            "CALL p()",
            "SET ROLE other",
            "SELECT set_config($1, $2, false)",
            "FROBNICATE payments")) {
      assertThat(sets(sql)).as(sql).containsExactly(Action.Attr.ANY_SCHEMA);
    }
  }

  @Test
  void aSessionThatNamesNoOtherSchemaGetsItsActionsUnchanged() {
    PgSearchPath p = new PgSearchPath("svc");
    Action select = action("SELECT * FROM payments");

    assertThat(p.decorate(select)).isSameAs(select);
    p.value("public, pg_catalog");
    p.allowed(action("SET search_path = ''"));
    p.allowed(action("SET search_path = public"));
    assertThat(p.decorate(select)).isSameAs(select);
    assertThat(p.schemas()).isNull();
    assertThat(p.current(select)).isTrue();
  }

  @Test
  void theSchemasGrowAndReachTheAction() {
    PgSearchPath p = new PgSearchPath("svc");
    Action select = action("SELECT * FROM payments");

    p.value("\"$user\", public");
    assertThat(p.schemas()).containsExactly("svc");
    Action first = p.decorate(select);
    assertThat(first.list(Action.Attr.SQL_SEARCH_PATH)).containsExactly("svc");
    assertThat(first.list(Action.Attr.SQL_TABLES_READ)).containsExactly("payments");
    assertThat(p.decorate(select)).as("decorated once per change").isSameAs(first);
    assertThat(p.current(first)).isTrue();

    p.allowed(action("SET LOCAL search_path = app, public"));
    assertThat(p.schemas()).containsExactly("svc", "app");
    assertThat(p.current(first)).as("decided before app was named").isFalse();
    assertThat(p.decorate(select).list(Action.Attr.SQL_SEARCH_PATH)).containsExactly("svc", "app");
    // A path without app later does not remove it: the set only grows.
    p.value("public");
    assertThat(p.schemas()).containsExactly("svc", "app");
  }

  @Test
  void aSchemaNameWithADotOrQuoteIsKeptAsTheClassifierReportsIt() {
    PgSearchPath p = new PgSearchPath("odd.role");
    p.value("\"billing.prod\", \"$user\", \"we\"\"ird\"");
    assertThat(p.schemas()).containsExactly("\"billing.prod\"", "\"odd.role\"", "\"we\"\"ird\"");
    // ... which is how a qualified name in that schema is reported
    Action qualified = action("SELECT * FROM \"billing.prod\".payments");
    assertThat(qualified.list(Action.Attr.SQL_TABLES_READ))
        .containsExactly("\"billing.prod\".payments");
  }

  @Test
  void aSessionThatStatesNoPathStartsWithTheServerDefault() {
    PgSearchPath unstated = new PgSearchPath("svc");
    unstated.started(Map.of("application_name", "psql"));
    assertThat(unstated.schemas()).containsExactly("svc");
    PgSearchPath stated = new PgSearchPath("svc");
    stated.started(Map.of("SEARCH_PATH", "public"));
    assertThat(stated.schemas()).isNull();
    PgSearchPath app = new PgSearchPath("svc");
    app.started(Map.of("search_path", "app, public"));
    assertThat(app.schemas()).containsExactly("app");
  }

  @Test
  void startupParametersCountByNameCaseBlind() {
    PgSearchPath p = new PgSearchPath("svc");
    p.startupParameter("application_name", "app");
    assertThat(p.schemas()).isNull();
    p.startupParameter("SEARCH_PATH", "app");
    assertThat(p.schemas()).containsExactly("app");
  }

  @Test
  void anUnreadableOrTooLongPathMeansAnySchema() {
    PgSearchPath unreadable = new PgSearchPath("svc");
    unreadable.value("\"unterminated");
    assertThat(unreadable.schemas()).containsExactly(Action.Attr.ANY_SCHEMA);

    PgSearchPath unknown = new PgSearchPath("svc");
    unknown.allowed(action("SELECT set_config('search_path', current_setting('x'), false)"));
    assertThat(unknown.schemas()).containsExactly(Action.Attr.ANY_SCHEMA);
    unknown.value("app");
    assertThat(unknown.schemas()).containsExactly(Action.Attr.ANY_SCHEMA);

    PgSearchPath functionCall = new PgSearchPath("svc");
    functionCall.unreadable();
    assertThat(functionCall.schemas()).containsExactly(Action.Attr.ANY_SCHEMA);

    PgSearchPath many = new PgSearchPath("svc");
    List<String> names = new ArrayList<>();
    for (int i = 0; i < PgSearchPath.MAX_SCHEMAS; i++) {
      names.add("s" + i);
    }
    many.value(String.join(", ", names));
    assertThat(many.schemas()).hasSize(PgSearchPath.MAX_SCHEMAS);
    many.value("one_more");
    assertThat(many.schemas()).containsExactly(Action.Attr.ANY_SCHEMA);
  }
}
