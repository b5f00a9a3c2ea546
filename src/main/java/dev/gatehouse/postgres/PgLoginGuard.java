package dev.gatehouse.postgres;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Recognises statements that would change or remove a login the gateway holds for the connection:
 * {@code ALTER ROLE|USER name ... PASSWORD|RENAME|NOLOGIN|VALID UNTIL} and {@code DROP ROLE|USER}
 * naming one of them (sql-alterrole.html, sql-droprole.html). psql's {@code \password} sends {@code
 * ALTER USER <current_user> PASSWORD '<SCRAM verifier>'} (psql/command.c exec_command_password,
 * libpq PQencryptPasswordConn), and current_user behind the gateway is the gateway's login: a DBA
 * who types {@code \password} to change "their" password would set the gateway's credential for the
 * connection, the vault would no longer open it and every later session would fail with {@code
 * 08001}. The credentials belong to the vault (docs/postgres.md#target-connection); the guard
 * applies whatever the policy says, like the read-only guard.
 *
 * <p>Coarse, erring towards refusing. A target that is not a plain name ({@code CURRENT_USER},
 * {@code SESSION_USER}, {@code CURRENT_ROLE}, or no name at all, as in a string a DO block or
 * function concatenates) counts as a held login. String constants (a DO body, an EXECUTE's text)
 * are lexed again, two levels deep, and looked at the same way. Input that lexes neither with
 * standard_conforming_strings on nor off is refused when it mentions a role or user at all.
 */
final class PgLoginGuard {
  private PgLoginGuard() {}

  /** How deep string constants are lexed again (a DO body's EXECUTE '...' is depth 2). */
  private static final int MAX_DEPTH = 2;

  /** Options of ALTER ROLE that change or end a login (sql-alterrole.html). */
  private static final Set<String> LOGIN_OPTIONS = Set.of("password", "rename", "nologin", "valid");

  private static final Set<String> CURRENT = Set.of("current_user", "session_user", "current_role");

  /**
   * The held login {@code sql} would change or drop ({@code "current_user"} and the like for a
   * target that is not a plain name), or null when it changes none of {@code logins}.
   */
  static String changedLogin(String sql, Set<String> logins) {
    if (!mayMention(sql)) {
      return null; // most statements
    }
    PgLexer.Result on = PgLexer.lex(sql, true);
    PgLexer.Result off = PgLexer.lex(sql, false);
    if (!on.ok() && !off.ok()) {
      return "an unreadable statement"; // we cannot tell where its strings end
    }
    String found = on.ok() ? scan(on.tokens(), logins, 0) : null;
    if (found == null && off.ok()) {
      found = scan(off.tokens(), logins, 0);
    }
    return found;
  }

  /**
   * Whether {@code sql} spells ROLE or USER anywhere. A token's value differs from its text only
   * through escapes (a backslash, {@code U&}), so text without those holds every word a token
   * spells.
   */
  private static boolean mayMention(String sql) {
    String s = sql.toLowerCase(Locale.ROOT);
    return s.indexOf('\\') >= 0 || s.contains("u&") || s.contains("role") || s.contains("user");
  }

  private static String scan(List<PgToken> t, Set<String> logins, int depth) {
    for (int i = 0; i < t.size(); i++) {
      PgToken tok = t.get(i);
      if (tok.isString() && depth < MAX_DEPTH && mayMention(tok.value())) {
        PgLexer.Result inner = PgLexer.lex(tok.value(), true);
        String found =
            inner.ok() ? scan(inner.tokens(), logins, depth + 1) : unreadable(tok.value());
        if (found != null) {
          return found;
        }
      }
      boolean alter = tok.isWord("alter");
      if ((alter || tok.isWord("drop"))
          && i + 1 < t.size()
          && (t.get(i + 1).isWord("role") || t.get(i + 1).isWord("user"))) {
        String found = alter ? altered(t, i + 2, logins) : dropped(t, i + 2, logins);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }

  /** A string that does not lex: refused if it could be about a role at all. */
  private static String unreadable(String text) {
    String s = text.toLowerCase(Locale.ROOT);
    return s.contains("password") || s.contains("rename") || s.contains("login")
        ? "an unreadable statement"
        : null;
  }

  /** ALTER ROLE|USER at {@code at}: its target, when it is held and a login option follows. */
  private static String altered(List<PgToken> t, int at, Set<String> logins) {
    if (at >= t.size() || t.get(at).is(";")) {
      return held(null, logins); // 'ALTER ROLE ' || name || ' PASSWORD …': all comes from elsewhere
    }
    boolean changesLogin = false;
    for (int k = at; k < t.size() && !t.get(k).is(";"); k++) {
      PgToken o = t.get(k);
      if (o.kind() == PgToken.Kind.IDENT && LOGIN_OPTIONS.contains(o.value())) {
        changesLogin = true;
        break;
      }
    }
    if (!changesLogin) {
      return null; // ALTER ROLE ... SET/RESET, CONNECTION LIMIT, ALTER USER MAPPING ...
    }
    return held(t.get(at), logins);
  }

  /** DROP ROLE|USER [IF EXISTS] a, b, ...: the first held one. */
  private static String dropped(List<PgToken> t, int at, Set<String> logins) {
    int k = at;
    if (k + 1 < t.size() && t.get(k).isWord("if") && t.get(k + 1).isWord("exists")) {
      k += 2;
    }
    if (k >= t.size() || t.get(k).is(";")) {
      return held(null, logins); // the names come from elsewhere (a concatenated string)
    }
    for (; k < t.size() && !t.get(k).is(";"); k++) {
      PgToken n = t.get(k);
      if (n.is(",")) {
        continue;
      }
      String found = held(n, logins);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  /** The login {@code target} names when it is (or may be) one of {@code logins}, else null. */
  private static String held(PgToken target, Set<String> logins) {
    if (target == null || target.is(";")) {
      return "a role named elsewhere";
    }
    if (target.kind() == PgToken.Kind.IDENT && CURRENT.contains(target.value())) {
      return target.value();
    }
    if (!target.isName()) {
      return "a role named elsewhere";
    }
    return logins.contains(target.value()) ? target.value() : null;
  }
}
