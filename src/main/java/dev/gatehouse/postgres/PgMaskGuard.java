package dev.gatehouse.postgres;

import java.util.BitSet;
import java.util.List;
import java.util.Locale;

/**
 * Statements a masked session refuses because the masker could not read their output as it assumes:
 * UTF-8 text, and COPY text/CSV output in PostgreSQL's default layout.
 *
 * <p>{@link PgRowMasker#filterCopyData} scans each COPY TO STDOUT row as UTF-8 text; content
 * detection finds a card number, an email or an SSN by its characters and the separators around it.
 * A caller who picks the quote, delimiter, escape or null string of the output can put a letter or
 * digit of its choice between every value ({@code quote '7'} with {@code force_quote *}, {@code
 * delimiter '-'}), so that no value looks like what it is; a caller who picks the encoding gets
 * bytes that are not UTF-8. Both are refused (fail closed), and so is a session client_encoding
 * other than UTF-8 (rows would be masked as UTF-8 and sent in another encoding).
 */
final class PgMaskGuard {
  private PgMaskGuard() {}

  /** Longest COPY option list read; a longer one is refused (bounded work per statement). */
  static final int MAX_OPTIONS = 64;

  /** The problem of an unknown statement that mentions COPY: its options cannot be read. */
  static final String UNREADABLE = "in a statement that cannot be read";

  /**
   * Why a COPY TO STDOUT cannot be masked, naming the option ({@code quote '7'}); null when the
   * statement is no COPY TO STDOUT or its options keep the layout the masker reads: FORMAT text,
   * csv or binary (binary output is withheld by the row filter), HEADER, FORCE_QUOTE, DELIMITER tab
   * (text) or comma (csv), QUOTE and ESCAPE {@code "}, a NULL string without letters or digits (or
   * text's default {@code \\N}), ENCODING UTF8. Both option syntaxes of sql-copy.html are read, the
   * parenthesised list and the pre-9.0 one ({@code DELIMITER AS '-'}, {@code CSV QUOTE AS '7'},
   * {@code BINARY}, {@code USING DELIMITERS}); anything else after STDOUT is refused. Called by
   * SqlClassifier with one statement's tokens ({@code lexed}: all of them could be lexed).
   */
  static String copyProblem(List<PgToken> t, boolean lexed) {
    int n = t.size();
    while (n > 0 && t.get(n - 1).is(";")) {
      n--;
    }
    if (n == 0 || !t.get(0).isWord("copy")) {
      return null;
    }
    if (!lexed) {
      return "a COPY statement that cannot be read";
    }
    Opts o = new Opts();
    int i = 1;
    if (word(t, i, "binary")) {
      o.format = "binary"; // COPY BINARY table (the oldest syntax)
      i++;
    }
    if (is(t, i, "(")) {
      i = matching(t, i, n) + 1;
    } else {
      if (i < n && t.get(i).isName()) {
        i++; // the table, [schema.]name
      }
      while (is(t, i, ".") && i + 1 < n && t.get(i + 1).isName()) {
        i += 2;
      }
      if (is(t, i, "(")) {
        i = matching(t, i, n) + 1;
      }
    }
    if (i <= 0 || !word(t, i, "to")) {
      return null; // COPY FROM, or not a COPY the server would run: nothing comes back to mask
    }
    i++;
    if (!word(t, i, "stdout")) {
      return null; // a server file or program (kind copy_program, decided by the policy)
    }
    i++;
    String problem = options(t, i, n, o);
    return problem != null ? problem : o.check();
  }

  /** The options of a COPY TO STDOUT as the masker must know them. */
  private static final class Opts {
    String format = "text";
    String delimiter;
    String quote;
    String escape;
    String nullString;
    String encoding;

    String check() {
      if (!format.equals("text") && !format.equals("csv") && !format.equals("binary")) {
        return "format " + format;
      }
      String sep = format.equals("csv") ? "," : "\t";
      if (delimiter != null && !delimiter.equals(sep)) {
        return "delimiter '" + delimiter + "'";
      }
      if (quote != null && !quote.equals("\"")) {
        return "quote '" + quote + "'";
      }
      if (escape != null && !escape.equals("\"")) {
        return "escape '" + escape + "'";
      }
      if (nullString != null
          && !nullString.equals("\\N") // text format's default, written out
          && nullString.codePoints().anyMatch(Character::isLetterOrDigit)) {
        return "null '" + nullString + "'";
      }
      if (encoding != null && !isUtf8(encoding)) {
        return "encoding '" + encoding + "'";
      }
      return null;
    }
  }

  /** Reads the options after STDOUT into {@code o}; a problem naming the option, or null. */
  private static String options(List<PgToken> t, int i, int n, Opts o) {
    if (word(t, i, "using") && word(t, i + 1, "delimiters")) {
      i++; // copy_delimiter: [USING] DELIMITERS 'x'
    }
    if (word(t, i, "delimiters")) {
      if (!string(t, i + 1)) {
        return "delimiters";
      }
      o.delimiter = t.get(i + 1).value();
      i += 2;
    }
    if (word(t, i, "with")) {
      i++;
    }
    if (is(t, i, "(")) {
      int close = matching(t, i, n);
      if (close != n - 1) {
        return "options after the option list";
      }
      return genericOptions(t, i + 1, close, o);
    }
    int count = 0;
    while (i < n) {
      if (++count > MAX_OPTIONS) {
        return "more than " + MAX_OPTIONS + " options";
      }
      PgToken k = t.get(i);
      String w = k.kind() == PgToken.Kind.IDENT ? k.value() : "";
      switch (w) {
        case "binary", "csv" -> {
          o.format = w;
          i++;
        }
        case "header" -> i++;
        case "delimiter", "null", "quote", "escape", "encoding" -> {
          int v = word(t, i + 1, "as") && !w.equals("encoding") ? i + 2 : i + 1;
          if (!string(t, v)) {
            return w;
          }
          set(o, w, t.get(v).value());
          i = v + 1;
        }
        case "force" -> {
          if (!word(t, i + 1, "quote")) {
            return "force " + (i + 1 < n ? t.get(i + 1).text() : "");
          }
          i += 2; // FORCE QUOTE * or a column list: names, commas
          if (is(t, i, "*")) {
            i++;
          } else {
            while (i < n && t.get(i).isName()) {
              i++;
              if (!is(t, i, ",")) {
                break;
              }
              i++;
            }
          }
        }
        default -> {
          return k.text();
        }
      }
    }
    return null;
  }

  /**
   * The parenthesised list (gram.y copy_generic_opt_list): name, optional argument, separated by
   * commas. An argument may be a string, a name (PostgreSQL reads {@code quote "7"} and {@code
   * format csv} as strings), a number, {@code *} or a parenthesised list.
   */
  private static String genericOptions(List<PgToken> t, int i, int end, Opts o) {
    int count = 0;
    while (i < end) {
      if (++count > MAX_OPTIONS) {
        return "more than " + MAX_OPTIONS + " options";
      }
      PgToken k = t.get(i);
      if (!k.isName()) {
        return k.text();
      }
      String name = k.value();
      i++;
      int argEnd = i;
      while (argEnd < end && !is(t, argEnd, ",")) {
        argEnd = is(t, argEnd, "(") ? matching(t, argEnd, end) + 1 : argEnd + 1;
        if (argEnd <= 0) {
          return name;
        }
      }
      PgToken arg = argEnd == i + 1 ? t.get(i) : null;
      String value =
          arg != null && (arg.isString() || arg.isName() || arg.kind() == PgToken.Kind.NUMBER)
              ? arg.value()
              : null;
      switch (name) {
        case "format" -> {
          if (value == null) {
            return "format";
          }
          o.format = value.toLowerCase(Locale.ROOT);
        }
        case "header" -> {
          // true, false, match (COPY FROM only) or nothing: the header line is scanned too
        }
        case "force_quote" -> {
          // * or a column list: quoting with the default quote
        }
        case "delimiter", "null", "quote", "escape", "encoding" -> {
          if (value == null) {
            return name;
          }
          set(o, name, value);
        }
        default -> {
          return name;
        }
      }
      i = argEnd < end ? argEnd + 1 : argEnd;
    }
    return null;
  }

  private static void set(Opts o, String name, String value) {
    switch (name) {
      case "delimiter" -> o.delimiter = value;
      case "null" -> o.nullString = value;
      case "quote" -> o.quote = value;
      case "escape" -> o.escape = value;
      default -> o.encoding = value;
    }
  }

  /** PostgreSQL's names of UTF-8, compared as clean_encoding_name does (letters and digits). */
  static boolean isUtf8(String encoding) {
    String n = encoding.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    return n.equals("utf8") || n.equals("unicode");
  }

  /**
   * What {@link #encodingProblem} starts its answer with for a {@code set_config} of TimeZone whose
   * value is not a string literal. A POSIX zone may name its abbreviation in angle brackets with
   * any letters, digits and signs ({@code <219-68-7821>5}), and the server prints that abbreviation
   * in every timestamptz under DateStyle SQL or Postgres and reports the zone in ParameterStatus:
   * {@code SELECT set_config('timezone', '<' || ssn || '>5', false) FROM customers} put each SSN
   * into date/time values, which masking does not read (red team rt17). A zone the statement spells
   * out is the caller's own text and passes.
   */
  static final String TIME_ZONE = "TimeZone computed in the statement:";

  /** What {@link #encodingProblem} answers for a {@code set_config} whose name is computed. */
  static final String NAME_NOT_LITERAL = "set_config with a setting name that is not a literal";

  /**
   * Why a statement would make the session's client_encoding other than UTF-8, or null: {@code SET
   * [SESSION | LOCAL] client_encoding}, {@code SET NAMES} (sql-set.html) to a value that is not
   * UTF-8 or DEFAULT (the startup value, UTF8 in a masked session), and {@code set_config} whose
   * setting name is client_encoding with such a value or is not a literal (it may be
   * client_encoding). Anywhere in the text, so also a function's SET clause (refused too: rare, and
   * failing closed), but not the SET of an UPDATE, whose {@code client_encoding = …} is a column
   * ({@link #updateSets}). A user function that calls set_config inside is out of sight; the
   * session ends when the target reports such an encoding (PgSession.trackParameter). Called by
   * SqlClassifier with one statement's text and tokens ({@code null}: it could not be lexed one
   * way, and any mention is refused). Also a {@link #TIME_ZONE} computed in the statement.
   */
  static String encodingProblem(String text, List<PgToken> t) {
    return encodingProblem(text, t, false);
  }

  /**
   * {@link #encodingProblem(String, List)}; with {@code trusted} (pg_catalog first in search_path
   * and nothing shadowing a built-in, so pg_settings, set_config and {@code =} are PostgreSQL's
   * own), pg_dump's {@code SELECT set_config(name, '…', false) FROM pg_settings WHERE name =
   * 'restrict_nonsystem_relation_kind'} ({@link PgSetConfig#isPgDumpRestrict}) passes: its setting
   * is neither client_encoding nor TimeZone.
   */
  static String encodingProblem(String text, List<PgToken> t, boolean trusted) {
    // (a U&"…" name can spell either name with escapes)
    if (!contains(text, "client_encoding")
        && !contains(text, "names")
        && !contains(text, "set_")
        && !contains(text, "u&")) {
      return null; // the common case
    }
    if (t == null) {
      return "a statement that cannot be read";
    }
    int n = t.size();
    BitSet columns = null;
    for (int i = 0; i < n; i++) {
      PgToken k = t.get(i);
      if (k.isWord("set")) {
        int j = word(t, i + 1, "session") || word(t, i + 1, "local") ? i + 2 : i + 1;
        // not UPDATE t SET names = …: SET NAMES takes its value without = or TO
        boolean names = word(t, j, "names") && !is(t, j + 1, "=");
        // Setting names are case-insensitive (guc.c, guc_name_compare), quoted or not: SET
        // "CLIENT_ENCODING" = 'LATIN1' is client_encoding (red team rt17).
        if (!names
            && !(j < n
                && t.get(j).isName()
                && "client_encoding".equalsIgnoreCase(t.get(j).value()))) {
          continue;
        }
        if (columns == null) {
          columns = updateSets(t);
        }
        if (columns.get(i)) {
          continue; // UPDATE t SET client_encoding = …: a column
        }
        int v = names ? j + 1 : word(t, j + 1, "to") || is(t, j + 1, "=") ? j + 2 : -1;
        if (v < 0 || v >= n) {
          return "SET client_encoding";
        }
        PgToken value = t.get(v);
        if (value.isWord("default")) {
          continue;
        }
        if (!(value.isString() || value.isName()) || !isUtf8(value.value())) {
          return "client_encoding " + value.text();
        }
      } else if (k.isName() && "set_config".equals(k.value()) && is(t, i + 1, "(")) {
        PgToken name = i + 2 < n ? t.get(i + 2) : null;
        if (name == null || !name.isString() || !is(t, i + 3, ",")) {
          if (trusted && PgSetConfig.isPgDumpRestrict(t)) {
            continue;
          }
          return NAME_NOT_LITERAL;
        }
        if (name.value().trim().equalsIgnoreCase("timezone")
            && !(string(t, i + 4) && is(t, i + 5, ","))) {
          return TIME_ZONE + " " + (i + 4 < n ? t.get(i + 4).text() : "");
        }
        if (!name.value().trim().equalsIgnoreCase("client_encoding")) {
          continue;
        }
        PgToken value = i + 4 < n ? t.get(i + 4) : null;
        if (value == null || !value.isString() || !isUtf8(value.value())) {
          return "client_encoding " + (value == null ? "" : value.text());
        }
      }
    }
    return null;
  }

  /** Why a masked session refuses a COPY whose output option {@link #copyProblem} names. */
  static String copyRefusal(String option) {
    return "COPY TO STDOUT option "
        + option
        + " is refused in a masked session: masking reads COPY output only in its default quote,"
        + " delimiter, escape, null string and UTF8 encoding";
  }

  /** Why a masked session refuses a statement {@link #encodingProblem} answered {@code problem}. */
  static String settingRefusal(String problem) {
    if (problem.startsWith(TIME_ZONE)) {
      return "set_config of TimeZone with a value that is not a string literal is refused in a"
          + " masked session: a zone abbreviation computed from data would appear in every date"
          + " and time value, which masking does not read";
    }
    if (problem.equals(NAME_NOT_LITERAL)) {
      return "set_config with a setting name that is not a string literal is refused in a masked"
          + " session: it may set client_encoding or TimeZone, which masking must know";
    }
    return "a client_encoding other than UTF8 is refused in a masked session ("
        + problem
        + "): masking reads results as UTF8";
  }

  /**
   * The positions of the SET key words that start an UPDATE's column assignments (sql-update.html:
   * {@code UPDATE [ONLY] name [*] [[AS] alias] SET}; {@code ON CONFLICT … DO UPDATE SET}, MERGE's
   * {@code THEN UPDATE SET}). UPDATE counts as the command only where one can start: first, after
   * {@code (} or {@code )} (a CTE, EXPLAIN's options), {@code ;} (a BEGIN ATOMIC body), or a word
   * that a command follows ({@code AS}, {@code DO}, {@code THEN}, EXPLAIN's, a rule's {@code
   * INSTEAD}/{@code ALSO}); {@code ALTER ROLE update SET client_encoding …} names a role. Anything
   * not recognised stays a SET of a setting (refused: fail closed).
   */
  static BitSet updateSets(List<PgToken> t) {
    BitSet sets = new BitSet();
    int n = t.size();
    for (int u = 0; u < n; u++) {
      if (!t.get(u).isWord("update") || !(u == 0 || startsCommand(t.get(u - 1)))) {
        continue;
      }
      int i = u + 1;
      if (!word(t, i, "set")) {
        if (word(t, i, "only")) {
          i++;
        }
        if (i >= n || !t.get(i).isName()) {
          continue;
        }
        i++;
        while (is(t, i, ".") && i + 1 < n && t.get(i + 1).isName()) {
          i += 2;
        }
        if (is(t, i, "*")) {
          i++;
        }
        if (word(t, i, "as")) {
          i++;
        }
        if (i < n && t.get(i).isName() && !t.get(i).isWord("set")) {
          i++; // the alias
        }
      }
      if (word(t, i, "set")) {
        sets.set(i);
      }
    }
    return sets;
  }

  private static final java.util.Set<String> BEFORE_COMMAND =
      java.util.Set.of(
          "as", "do", "then", "explain", "analyze", "analyse", "verbose", "instead", "also",
          "atomic");

  private static boolean startsCommand(PgToken before) {
    return before.is("(")
        || before.is(")")
        || before.is(";")
        || (before.kind() == PgToken.Kind.IDENT && BEFORE_COMMAND.contains(before.value()));
  }

  /** Whether {@code sql} contains {@code lower} (ASCII, lower case), ignoring case; no copy. */
  static boolean contains(String sql, String lower) {
    for (int i = 0, last = sql.length() - lower.length(); i <= last; i++) {
      if (sql.regionMatches(true, i, lower, 0, lower.length())) {
        return true;
      }
    }
    return false;
  }

  private static boolean word(List<PgToken> t, int i, String w) {
    return i >= 0 && i < t.size() && t.get(i).isWord(w);
  }

  private static boolean is(List<PgToken> t, int i, String p) {
    return i >= 0 && i < t.size() && t.get(i).is(p);
  }

  private static boolean string(List<PgToken> t, int i) {
    return i < t.size() && t.get(i).isString();
  }

  /** The index of the parenthesis closing the one at {@code open}, or -1 before {@code end}. */
  private static int matching(List<PgToken> t, int open, int end) {
    int depth = 0;
    for (int i = open; i < end; i++) {
      if (is(t, i, "(")) {
        depth++;
      } else if (is(t, i, ")") && --depth == 0) {
        return i;
      }
    }
    return -1;
  }
}
