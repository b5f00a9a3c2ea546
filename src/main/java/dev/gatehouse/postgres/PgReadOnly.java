package dev.gatehouse.postgres;

import dev.gatehouse.postgres.PgToken.Kind;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Recognises statements that would lift a read-only obligation. The target enforces read-only
 * itself (the session opens with {@code default_transaction_read_only=on}); this guard stops the
 * caller from switching that off again.
 *
 * <p>It is deliberately coarse and errs towards refusing. A statement is refused when, in its
 * tokens as PostgreSQL reads them ({@link PgLexer}, with standard_conforming_strings both on and
 * off, so that it does not rest on the value the session tracks), any identifier, string or other
 * token mentions {@code set_config}, or {@code transaction_read_only} (other than in SHOW), or
 * {@code pg_settings} together with UPDATE/INSERT/MERGE/DELETE (the view's rules call set_config),
 * or the key words {@code READ WRITE} follow each other (BEGIN/START TRANSACTION/SET
 * TRANSACTION/SET SESSION CHARACTERISTICS, sql-set-transaction.html). Working on tokens matters:
 * comments nest and {@code --} ends at a carriage return too (sql-syntax-lexical.html §4.1.5), and
 * a string literal may contain {@code --} or {@code /*}, so a text scan that strips "comments" with
 * regular expressions can be made to strip live code. Unicode-escaped identifiers ({@code U&"..."},
 * §4.1.1) are decoded by the lexer. Input that does not lex in either mode is refused.
 *
 * <p>The earlier text scan (lower-cased, comments stripped, whitespace collapsed) is kept as a
 * second, independent test; it can only add refusals. It is not a SQL parser; the target's own
 * read-only mode remains the actual barrier for writes.
 */
final class PgReadOnly {
  private PgReadOnly() {}

  private static final Pattern BLOCK_COMMENT = Pattern.compile("/\\*.*?\\*/", Pattern.DOTALL);
  private static final Pattern LINE_COMMENT = Pattern.compile("--[^\\n\\r]*");
  private static final Pattern SPACE = Pattern.compile("\\s+");

  /** True when {@code sql} could turn read-only mode off ({@code set_config} always counts). */
  static boolean liftsReadOnly(String sql) {
    return liftsReadOnly(sql, false);
  }

  /**
   * True when {@code sql} could turn read-only mode off. With {@code trusted} (the classifier found
   * every function the statement calls, and every operator it uses, to be PostgreSQL's own: {@code
   * opaque_functions} empty, kind not unknown), a {@code set_config} whose setting {@link
   * PgSetConfig} reads from the statement and finds in {@link PgSetConfig#READ_ONLY_SAFE} does not
   * count: pg_dump's {@code set_config('search_path', '', false)} and its
   * restrict_nonsystem_relation_kind statement. Without it every {@code set_config} counts.
   */
  static boolean liftsReadOnly(String sql, boolean trusted) {
    PgLexer.Result on = PgLexer.lex(sql, true);
    if (on.ok() && !mayMention(sql)) {
      return false; // most statements: no second lexing, no token walk, no text scan
    }
    PgLexer.Result off = PgLexer.lex(sql, false);
    if (!on.ok() && !off.ok()) {
      return true; // we cannot tell where its strings and comments end
    }
    return (on.ok() && lifts(on.tokens(), trusted))
        || (off.ok() && lifts(off.tokens(), trusted))
        || textScanLifts(sql, trusted);
  }

  /**
   * Whether any token of {@code sql} could spell what {@link #lifts} and {@link #textScanLifts}
   * look for. A token's value is its text except where escapes are decoded: backslash escapes
   * ({@code E'...'}, and plain strings with standard_conforming_strings off) and Unicode escapes
   * ({@code U&"..."}, {@code U&'...'}, with any UESCAPE character), sql-syntax-lexical.html §4.1.2.
   * So text without a backslash and without {@code U&} holds every word any token spells.
   */
  private static boolean mayMention(String sql) {
    String s = sql.toLowerCase(Locale.ROOT);
    return s.indexOf('\\') >= 0
        || s.contains("u&")
        || s.contains("set_config")
        || s.contains("transaction_read_only")
        || s.contains("pg_settings")
        || s.contains("read");
  }

  private static boolean lifts(List<PgToken> t, boolean trusted) {
    boolean show = !t.isEmpty() && t.get(0).isWord("show");
    boolean settings = false;
    boolean dml = false;
    boolean restrict = trusted && PgSetConfig.isPgDumpRestrict(t);
    for (int i = 0; i < t.size(); i++) {
      PgToken tok = t.get(i);
      // Values of names and strings (decoded), and raw text of everything else.
      String v = PgLexer.foldCase(tok.kind() == Kind.OTHER ? tok.text() : tok.value());
      if (v.contains("set_config") && !(restrict || (trusted && safeCall(t, i)))) {
        return true;
      }
      if (v.contains("transaction_read_only") && !show) {
        return true;
      }
      if (v.contains("pg_settings")) {
        settings = true;
      }
      if (tok.isWord("update")
          || tok.isWord("insert")
          || tok.isWord("merge")
          || tok.isWord("delete")) {
        dml = true;
      }
      if (tok.isWord("read") && i + 1 < t.size() && t.get(i + 1).isWord("write")) {
        return true;
      }
    }
    return settings && dml;
  }

  /**
   * A call of the built-in set_config at {@code i} (unqualified or {@code pg_catalog.}) whose
   * setting name is a string constant in {@link PgSetConfig#READ_ONLY_SAFE}. Any other token
   * mentioning set_config (a string holding a call, a quoted {@code "Set_Config"}, another schema's
   * function) is not.
   */
  private static boolean safeCall(List<PgToken> t, int i) {
    PgToken tok = t.get(i);
    if (tok.kind() != Kind.IDENT || !tok.value().equals("set_config")) {
      return false;
    }
    boolean qualified = i > 0 && t.get(i - 1).is(".");
    if (qualified && !(i > 1 && t.get(i - 2).isWord("pg_catalog"))) {
      return false;
    }
    return PgSetConfig.readOnlySafe(PgSetConfig.literalName(t, i));
  }

  /**
   * The text scan's spelling of a {@link #safeCall} (after lower-casing, comments out, whitespace
   * collapsed): the name a plain string constant of letters and underscores.
   */
  private static final Pattern SAFE_CALL =
      Pattern.compile(
          "(?<![a-z0-9_$\".])(?:pg_catalog ?\\. ?)?set_config ?\\( ?'(?:"
              + String.join("|", PgSetConfig.READ_ONLY_SAFE)
              + ")' ?,");

  /** The text scan's spelling of pg_dump's restrict statement ({@link PgSetConfig}). */
  private static final Pattern RESTRICT =
      Pattern.compile(
          "select (?:pg_catalog ?\\. ?)?set_config ?\\( ?name ?, ?'[a-z, -]*' ?, ?false ?\\) ?from"
              + " (?:pg_catalog ?\\. ?)?pg_settings where name ?= ?'"
              + PgSetConfig.RESTRICT
              + "' ?;?");

  /** The original coarse text scan; with {@code trusted}, {@link #safeCall}s taken out first. */
  private static boolean textScanLifts(String sql, boolean trusted) {
    String s = sql.toLowerCase(Locale.ROOT);
    s = BLOCK_COMMENT.matcher(s).replaceAll(" ");
    s = LINE_COMMENT.matcher(s).replaceAll(" ");
    s = SPACE.matcher(s).replaceAll(" ").strip();
    if (trusted) {
      s = RESTRICT.matcher(s).matches() ? "" : SAFE_CALL.matcher(s).replaceAll(" ");
    }
    if (s.contains("read write") || s.contains("set_config") || s.contains("u&\"")) {
      return true;
    }
    return s.contains("transaction_read_only") && !s.startsWith("show ");
  }
}
