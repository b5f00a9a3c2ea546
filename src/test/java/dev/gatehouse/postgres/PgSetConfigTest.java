package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.Action;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The set_config calls pg_dump sends (and a plain dump's header, restored with psql -f) pass the
 * read-only and masking guards; every other set_config stays refused (PgSetConfig).
 */
class PgSetConfigTest {
  /** pg_dump 15.18's statement, as the server logged it (log_statement=all). */
  static final String RESTRICT =
      "SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name ="
          + " 'restrict_nonsystem_relation_kind'";

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT pg_catalog.set_config('search_path', '', false);",
        "SELECT pg_catalog.set_config('search_path', '', false)",
        "SELECT set_config('search_path', 'public', false)",
        "SELECT set_config('SEARCH_PATH', '', false)",
        "select set_config('statement_timeout', '0', true)",
        "SELECT set_config('lock_timeout', '0', false), set_config('extra_float_digits', '3', false)",
        "SELECT set_config('idle_in_transaction_session_timeout', '0', false)",
        RESTRICT,
        RESTRICT + ";",
        "SELECT pg_catalog.set_config(name, '', false) FROM pg_catalog.pg_settings WHERE name ="
            + " 'restrict_nonsystem_relation_kind'",
      })
  void pgDumpsSetConfigPassesTheReadOnlyGuardWhenBuiltinsAreTrusted(String sql) {
    assertThat(PgReadOnly.liftsReadOnly(sql, true)).as(sql).isFalse();
    // not without trust (a search_path putting a schema first, a shadowing function), nor as before
    assertThat(PgReadOnly.liftsReadOnly(sql, false)).as(sql).isTrue();
    assertThat(PgReadOnly.liftsReadOnly(sql)).as(sql).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT set_config('transaction_read_only', 'off', true)",
        "SELECT pg_catalog.set_config('transaction_read_only', 'off', true)",
        "SELECT set_config('role', 'postgres', false)",
        "SELECT set_config('session_authorization', 'postgres', false)",
        "SELECT set_config('app.anything', 'x', false)",
        "SELECT set_config(' search_path', '', false)",
        "SELECT set_config('search_path' || '', '', false)",
        "SELECT set_config('search_path'::text, '', false)",
        "SELECT set_config(setting_name => 'search_path', new_value => '', is_local => false)",
        "SELECT set_config(current_setting('x'), 'off', false)",
        "SELECT \"set_config\"('search_path', '', false)",
        "SELECT public.set_config('search_path', '', false)",
        "SELECT evil . set_config('search_path', '', false)",
        "SELECT set_config('search_path', set_config('role', 'x', false), false)",
        "SELECT set_config('search_path', '', false), set_config('default_transaction_read_only',"
            + " 'off', false)",
        "SELECT 'set_config(''search_path'', '''', false)'",
        "DO $$BEGIN PERFORM set_config('search_path', '', false); END$$",
        "SELECT set_config(name, 'off', false) FROM pg_settings WHERE name ="
            + " 'default_transaction_read_only'",
        "SELECT set_config(name, 'off', false) FROM pg_settings WHERE name ="
            + " 'restrict_nonsystem_relation_kind' OR true",
        "SELECT set_config(name, 'off', false) FROM pg_settings WHERE name ="
            + " 'restrict_nonsystem_relation_kind' OR name = 'transaction_read_only'",
        "SELECT set_config(name, '', false) FROM evil.pg_settings WHERE name ="
            + " 'restrict_nonsystem_relation_kind'",
        "SELECT set_config(name, '', true) FROM pg_settings WHERE name ="
            + " 'restrict_nonsystem_relation_kind'; SELECT set_config('role', 'x', false)",
        "UPDATE pg_settings SET setting = '' WHERE name = 'search_path'",
        "BEGIN READ WRITE",
      })
  void everyOtherSetConfigIsStillRefusedInAReadOnlySession(String sql) {
    assertThat(PgReadOnly.liftsReadOnly(sql, true)).as(sql).isTrue();
  }

  @Test
  void theMaskingGuardReadsPgDumpsRestrictStatementOnlyWhenBuiltinsAreTrusted() {
    var t = PgLexer.lex(RESTRICT, true).tokens();
    assertThat(PgMaskGuard.encodingProblem(RESTRICT, t, true)).isNull();
    assertThat(PgMaskGuard.encodingProblem(RESTRICT, t)).isEqualTo(PgMaskGuard.NAME_NOT_LITERAL);
    String other =
        "SELECT set_config(name, 'LATIN1', false) FROM pg_settings WHERE name = 'client_encoding'";
    assertThat(PgMaskGuard.encodingProblem(other, PgLexer.lex(other, true).tokens(), true))
        .isEqualTo(PgMaskGuard.NAME_NOT_LITERAL);
  }

  @Test
  void theClassifierCallsPgDumpsRestrictStatementASet() {
    SqlStatement s = SqlClassifier.classify(RESTRICT, true, true).get(0);
    assertThat(s.action().string("statement")).isEqualTo("set");
    assertThat(s.action().list(Action.Attr.SQL_KINDS)).containsExactly("set");
    assertThat(s.action().list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS)).isEmpty();
    // with a search_path that puts another schema first set_config may be another function, as
    // for any call: opaque, so the guards refuse it (PgSession.builtinsOnly)
    SqlStatement u = SqlClassifier.classify(RESTRICT, true, false).get(0);
    assertThat(u.action().list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS)).contains("set_config");
    String other = "SELECT set_config(name, 'x', false) FROM pg_settings WHERE name = 'role'";
    assertThat(SqlClassifier.classify(other, true, true).get(0).action().string("statement"))
        .isEqualTo("unknown");
  }
}
