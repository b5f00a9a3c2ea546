package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What PgMaskGuard reads in COPY options and encoding changes (end to end: PgClientTourTest). */
class PgMaskGuardTest {
  /** The COPY TO STDOUT problem the classifier found in {@code sql}'s statements, or null. */
  static String copyProblem(String sql, boolean scs) {
    return found(sql, scs, SqlClassifier.ATTR_COPY_OUT_OPTION);
  }

  /** The client_encoding change the classifier found in {@code sql}'s statements, or null. */
  static String encodingProblem(String sql, boolean scs) {
    return found(sql, scs, SqlClassifier.ATTR_CLIENT_ENCODING);
  }

  private static String found(String sql, boolean scs, String attribute) {
    for (SqlStatement s : SqlClassifier.classify(sql, scs)) {
      String problem = s.action().string(attribute);
      if (problem != null) {
        return problem;
      }
    }
    return null;
  }

  private static String copy(String sql) {
    return copyProblem(sql, true);
  }

  @Test
  void onlyCopyToStdoutIsRead() {
    assertThat(copy("SELECT 'copy'")).isNull();
    assertThat(copy("COPY t FROM STDIN WITH (QUOTE '7', FORMAT csv)")).isNull();
    assertThat(copy("COPY t TO '/tmp/x' WITH (QUOTE '7', FORMAT csv)")).isNull();
    assertThat(copy("/* c */ COPY \"my t\" (a) TO STDOUT (QUOTE '7', FORMAT csv);"))
        .isEqualTo("quote '7'");
    assertThat(copy("copy s.t to stdout delimiter as '|'")).isEqualTo("delimiter '|'");
    assertThat(copy("COPY BINARY t TO STDOUT")).isNull(); // withheld by the row filter
  }

  @Test
  void theDefaultLayoutPassesAndEveryOtherOptionIsNamed() {
    assertThat(copy("COPY t TO STDOUT WITH (FORMAT csv, HEADER true, FORCE_QUOTE (a, b))"))
        .isNull();
    assertThat(copy("COPY t TO STDOUT WITH CSV HEADER FORCE QUOTE a, b QUOTE '\"'")).isNull();
    assertThat(copy("COPY t TO STDOUT WITH (FORMAT csv, DELIMITER E'\\t')"))
        .isEqualTo("delimiter '\t'");
    assertThat(copy("COPY t TO STDOUT WITH (NULL '')")).isNull();
    assertThat(copy("COPY t TO STDOUT WITH (NULL 'é')")).isEqualTo("null 'é'");
    assertThat(copy("COPY t TO STDOUT WITH (ENCODING 'utf-8')")).isNull();
    assertThat(copy("COPY t TO STDOUT WITH (FORMAT csv, QUOTE $$7$$)")).isEqualTo("quote '7'");
    assertThat(copy("COPY t TO STDOUT WITH (FORMAT csv, QUOTE U&'\\0037')")).isEqualTo("quote '7'");
    assertThat(copy("COPY t TO STDOUT WITH (FORMAT csv) QUOTE '7'"))
        .isEqualTo("options after the option list");
    assertThat(copy("COPY t TO STDOUT WITH (FORMAT csv, FORCE_NOT_NULL (a))"))
        .isEqualTo("force_not_null");
    assertThat(copy("COPY t TO STDOUT WITH (FORMAT foo)")).isEqualTo("format foo");
    // with standard_conforming_strings off a backslash escapes in '...'
    assertThat(copyProblem("COPY t TO STDOUT WITH (DELIMITER '\\t')", false)).isNull();
  }

  @Test
  void encodingChangesOtherThanUtf8AreFound() {
    assertThat(encodingProblem("SELECT names FROM t", true)).isNull();
    assertThat(encodingProblem("SET client_encoding TO DEFAULT", true)).isNull();
    assertThat(encodingProblem("SET client_encoding = 'Unicode'", true)).isNull();
    assertThat(encodingProblem("SET LOCAL client_encoding = latin1", true))
        .isEqualTo("client_encoding latin1");
    assertThat(encodingProblem("SET U&\"client\\005fencoding\" TO 'SJIS'", true)).isNotNull();
    assertThat(encodingProblem("SELECT set_config('search_path', 'x', false)", true)).isNull();
    assertThat(encodingProblem("SELECT set_config($1, 'x', false)", true)).isNotNull();
    assertThat(encodingProblem("SELECT \"set_config\"('Client_Encoding', 'EUC_JP', true)", true))
        .isEqualTo("client_encoding 'EUC_JP'");
  }

  /** rt17: setting names are case-insensitive, quoted or not. */
  @Test
  void aQuotedUpperCaseSettingNameIsTheSameSetting() {
    assertThat(encodingProblem("SET \"CLIENT_ENCODING\" = 'LATIN1'", true)).isNotNull();
    assertThat(encodingProblem("SET SESSION \"Client_Encoding\" TO 'WIN1252'", true)).isNotNull();
    assertThat(encodingProblem("SET \"CLIENT_ENCODING\" = 'UTF8'", true)).isNull();
  }

  /** rt17: a zone abbreviation computed from data shows in every timestamptz. */
  @Test
  void aTimeZoneComputedInTheStatementIsRefused() {
    assertThat(
            encodingProblem(
                "SELECT set_config('timezone', '<' || ssn || '>5', false) FROM customers", true))
        .startsWith(PgMaskGuard.TIME_ZONE);
    assertThat(encodingProblem("SELECT set_config('TimeZone', $1, false)", true))
        .startsWith(PgMaskGuard.TIME_ZONE);
    assertThat(encodingProblem("SELECT set_config('TIMEZONE', (SELECT z FROM t), false)", true))
        .startsWith(PgMaskGuard.TIME_ZONE);
    assertThat(encodingProblem("SELECT set_config('TimeZone', 'Europe/Berlin', false)", true))
        .isNull();
    assertThat(encodingProblem("SELECT set_config('timezone', '<ABC>5', true)", true)).isNull();
    assertThat(encodingProblem("SET TIME ZONE 'UTC'", true)).isNull();
  }

  @Test
  void anUpdatesColumnsNamedLikeTheSettingsAreNoEncodingChange() {
    assertThat(encodingProblem("UPDATE t SET client_encoding = 'x' WHERE id = 1", true)).isNull();
    assertThat(encodingProblem("UPDATE ONLY s.t * AS a SET names = 'x'", true)).isNull();
    assertThat(encodingProblem("UPDATE t a SET client_encoding = 1", true)).isNull();
    assertThat(
            encodingProblem(
                "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET client_encoding = 'x'",
                true))
        .isNull();
    assertThat(
            encodingProblem(
                "WITH u AS (UPDATE t SET client_encoding = 'x' RETURNING 1) SELECT 1", true))
        .isNull();
    assertThat(
            encodingProblem(
                "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET names = 'x'",
                true))
        .isNull();
    // a role named update is no UPDATE: its SET is a setting, and so is a function's
    assertThat(encodingProblem("ALTER ROLE update SET client_encoding TO 'latin1'", true))
        .isEqualTo("client_encoding 'latin1'");
    assertThat(
            encodingProblem(
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET client_encoding = 'SJIS'"
                    + " AS 'SELECT 1'",
                true))
        .isEqualTo("client_encoding 'SJIS'");
    // the SET of an UPDATE counts once the UPDATE ends: SET client_encoding in another statement
    assertThat(
            encodingProblem(
                "UPDATE t SET client_encoding = 'x' WHERE id = 1; SET client_encoding = 'LATIN1'",
                true))
        .isEqualTo("client_encoding 'LATIN1'");
  }

  @Test
  void theClassifierCachesWhatTheGuardReads() {
    SqlStatement copy =
        SqlClassifier.classify("COPY t TO STDOUT WITH (FORMAT csv, QUOTE '7')", true).getFirst();
    assertThat(copy.action().string(SqlClassifier.ATTR_COPY_OUT_OPTION)).isEqualTo("quote '7'");
    assertThat(SqlClassifier.classify("COPY t TO STDOUT WITH (FORMAT csv, QUOTE '7')", true))
        .as("cached")
        .first()
        .isSameAs(copy);
    assertThat(
            SqlClassifier.classify("SET client_encoding = 'LATIN1'", true)
                .getFirst()
                .action()
                .string(SqlClassifier.ATTR_CLIENT_ENCODING))
        .isEqualTo("client_encoding 'LATIN1'");
    assertThat(SqlClassifier.classify("SELECT 1", true).getFirst().action().attributes())
        .doesNotContainKeys(SqlClassifier.ATTR_COPY_OUT_OPTION, SqlClassifier.ATTR_CLIENT_ENCODING);
    // a text the gateway cannot read one way: a COPY or an encoding change in it is refused
    assertThat(
            SqlClassifier.unreadable("SELECT 'a\\'; COPY t TO STDOUT")
                .getFirst()
                .action()
                .string(SqlClassifier.ATTR_COPY_OUT_OPTION))
        .isEqualTo(PgMaskGuard.UNREADABLE);
    assertThat(
            SqlClassifier.unreadable("SELECT 'a\\'; SET NAMES 'SJIS'")
                .getFirst()
                .action()
                .string(SqlClassifier.ATTR_CLIENT_ENCODING))
        .isNotNull();
  }
}
