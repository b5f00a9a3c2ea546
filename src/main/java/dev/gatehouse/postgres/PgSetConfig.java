package dev.gatehouse.postgres;

import java.util.List;
import java.util.Set;

/**
 * The {@code set_config} calls whose setting the gateway can read from the statement itself, so
 * that the read-only guard ({@link PgReadOnly}), the masking guard ({@link PgMaskGuard}) and the
 * classifier need not refuse them as "could be any setting". Two shapes only:
 *
 * <ul>
 *   <li>{@code [pg_catalog.]set_config('<name>', …)}: the first argument is one string constant
 *       followed by a comma (func-admin.html, {@code set_config(setting_name text, new_value text,
 *       is_local boolean)}); named notation, casts, concatenation and any other expression are not
 *       read.
 *   <li>pg_dump's own statement (pg_dump.c, set_restrict_relation_kind, 14.13/15.8/16.4/17.0 and
 *       later, CVE-2024-7348): {@code SELECT set_config(name, '<value>', false) FROM pg_settings
 *       WHERE name = 'restrict_nonsystem_relation_kind'}, token for token, nothing before or after
 *       but one {@code ;}. The setting's name comes from the WHERE clause, so this is a set_config
 *       of restrict_nonsystem_relation_kind, provided that {@code pg_settings}, {@code set_config}
 *       and {@code =} are PostgreSQL's own: callers accept it only when the statement calls no
 *       function and uses no operator the gateway does not trust ({@code opaque_functions} empty:
 *       pg_catalog first in search_path, nothing shadowing a built-in).
 * </ul>
 */
final class PgSetConfig {
  private PgSetConfig() {}

  /**
   * Settings a read-only session may change with {@code set_config}: none can turn read-only mode
   * off or change the role (config-setting.html, runtime-config-client.html). pg_dump sends the
   * first and the last ({@code SELECT pg_catalog.set_config('search_path', '', false)} and the
   * restrict_nonsystem_relation_kind statement), and so does a plain dump's header, restored with
   * {@code psql -f}; the timeouts and extra_float_digits are what pg_dump and psql set with SET,
   * which the read-only guard never refused. Everything else (default_transaction_read_only,
   * transaction_read_only, role, session_authorization, custom settings, any name not listed) stays
   * refused.
   */
  static final Set<String> READ_ONLY_SAFE =
      Set.of(
          "search_path",
          "statement_timeout",
          "lock_timeout",
          "idle_in_transaction_session_timeout",
          "extra_float_digits",
          "restrict_nonsystem_relation_kind");

  /** The setting pg_dump's statement sets (see the class comment). */
  static final String RESTRICT = "restrict_nonsystem_relation_kind";

  /**
   * The setting name of the call whose {@code set_config} name token is at {@code i}, as written
   * (the string constant's value), or null when its first argument is not one string constant.
   */
  static String literalName(List<PgToken> t, int i) {
    if (!is(t, i + 1, "(") || i + 3 >= t.size() || !t.get(i + 2).isString()) {
      return null;
    }
    return is(t, i + 3, ",") ? t.get(i + 2).value() : null;
  }

  /**
   * Whether the name is one of {@link #READ_ONLY_SAFE}. Setting names are case-insensitive (guc.c,
   * guc_name_compare) but not trimmed: {@code ' role'} is an unknown setting, and is refused here
   * like any name not listed.
   */
  static boolean readOnlySafe(String name) {
    return name != null && READ_ONLY_SAFE.contains(PgLexer.foldCase(name));
  }

  /**
   * True when the tokens of one statement are exactly pg_dump's restrict statement (class comment),
   * with {@code pg_catalog.} allowed before set_config and pg_settings.
   */
  static boolean isPgDumpRestrict(List<PgToken> t) {
    int i = 0;
    if (!word(t, i++, "select")) {
      return false;
    }
    i = catalog(t, i);
    if (!(word(t, i, "set_config")
        && is(t, i + 1, "(")
        && word(t, i + 2, "name")
        && is(t, i + 3, ",")
        && i + 4 < t.size()
        && t.get(i + 4).kind() == PgToken.Kind.STRING
        && is(t, i + 5, ",")
        && word(t, i + 6, "false")
        && is(t, i + 7, ")")
        && word(t, i + 8, "from"))) {
      return false;
    }
    i = catalog(t, i + 9);
    if (!(word(t, i, "pg_settings")
        && word(t, i + 1, "where")
        && word(t, i + 2, "name")
        && is(t, i + 3, "=")
        && i + 4 < t.size()
        && t.get(i + 4).kind() == PgToken.Kind.STRING
        && RESTRICT.equals(t.get(i + 4).value()))) {
      return false;
    }
    int end = i + 5;
    return end == t.size() || (end == t.size() - 1 && is(t, end, ";"));
  }

  /** The index after an optional {@code pg_catalog .} at {@code i}. */
  private static int catalog(List<PgToken> t, int i) {
    return word(t, i, "pg_catalog") && is(t, i + 1, ".") ? i + 2 : i;
  }

  private static boolean word(List<PgToken> t, int i, String w) {
    return i >= 0 && i < t.size() && t.get(i).isWord(w);
  }

  private static boolean is(List<PgToken> t, int i, String p) {
    return i >= 0 && i < t.size() && t.get(i).is(p);
  }
}
