package dev.gatehouse.postgres;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Decides which client startup parameters reach the target. A startup parameter is a session
 * default set with the target's own authority, before any statement is decided on, so only harmless
 * formatting and timeout settings pass; anything that could change identity, privileges,
 * replication mode or read-only enforcement is dropped (and audited by the caller).
 */
final class PgStartupParams {
  private PgStartupParams() {}

  /** Lower-case names of settings a client may choose for its session. */
  static final Set<String> ALLOWED =
      Set.of(
          "application_name",
          "client_encoding",
          "datestyle",
          "timezone",
          "intervalstyle",
          "extra_float_digits",
          "search_path",
          "bytea_output",
          "standard_conforming_strings",
          "client_min_messages",
          "statement_timeout",
          "lock_timeout",
          "idle_in_transaction_session_timeout",
          "default_transaction_isolation",
          "default_transaction_deferrable",
          "default_transaction_read_only",
          "lc_monetary",
          "lc_numeric",
          "lc_time",
          "jit",
          "work_mem");

  /** What to forward, and what was dropped (name → value) for the audit log. */
  record Filtered(Map<String, String> forwarded, Map<String, String> dropped) {}

  /**
   * @param client the client's startup parameters, without {@code user} and {@code database}
   * @param readOnly the session must be read-only: forces {@code default_transaction_read_only=on}
   */
  static Filtered filter(Map<String, String> client, boolean readOnly) {
    Map<String, String> forwarded = new LinkedHashMap<>();
    Map<String, String> dropped = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : client.entrySet()) {
      String name = e.getKey();
      if (name.equals("user") || name.equals("database") || name.startsWith("_pq_.")) {
        continue; // handled by the session itself
      }
      if (name.equals("options")) {
        filterOptions(e.getValue(), forwarded, dropped);
      } else {
        offer(name, e.getValue(), forwarded, dropped);
      }
    }
    if (readOnly) {
      for (String k : List.copyOf(forwarded.keySet())) {
        if (k.equalsIgnoreCase("default_transaction_read_only")) {
          String v = forwarded.remove(k);
          if (!isOn(v)) {
            dropped.put(k, v);
          }
        }
      }
      forwarded.put("default_transaction_read_only", "on");
    }
    return new Filtered(forwarded, dropped);
  }

  private static void offer(
      String name, String value, Map<String, String> forwarded, Map<String, String> dropped) {
    if ((name.equalsIgnoreCase("client_encoding") && !safeClientEncoding(value))
        || (name.equalsIgnoreCase("search_path") && !safeSearchPath(value))) {
      dropped.put(name, value);
      return;
    }
    if (ALLOWED.contains(name.toLowerCase(Locale.ROOT))) {
      forwarded.put(name, value);
    } else {
      dropped.put(name, value);
    }
  }

  /**
   * {@code options} is a command line for the backend ({@code -c name=value}, {@code
   * --name=value}); PostgreSQL splits it on unescaped whitespace. Only allowlisted settings are
   * turned into ordinary startup parameters; every other switch is dropped as a whole.
   */
  private static void filterOptions(
      String options, Map<String, String> forwarded, Map<String, String> dropped) {
    List<String> args = splitOptions(options);
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      String setting = null;
      if (a.equals("-c") && i + 1 < args.size()) {
        setting = args.get(++i);
      } else if (a.startsWith("-c") && a.length() > 2) {
        setting = a.substring(2);
      } else if (a.startsWith("--") && a.length() > 2) {
        setting = a.substring(2);
      }
      int eq = setting == null ? -1 : setting.indexOf('=');
      if (eq <= 0) {
        dropped.put("options", options);
        continue;
      }
      String name = setting.substring(0, eq).replace('-', '_');
      offer(name, setting.substring(eq + 1), forwarded, dropped);
    }
  }

  /** Splits like PostgreSQL's {@code pg_split_opts}: whitespace separates, backslash escapes. */
  static List<String> splitOptions(String s) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean inArg = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isWhitespace(c)) {
        if (inArg) {
          out.add(cur.toString());
          cur.setLength(0);
          inArg = false;
        }
      } else if (c == '\\' && i + 1 < s.length()) {
        cur.append(s.charAt(++i));
        inArg = true;
      } else {
        cur.append(c);
        inArg = true;
      }
    }
    if (inArg) {
      out.add(cur.toString());
    }
    return out;
  }

  /**
   * Client encodings whose multibyte characters consist of bytes 0x80 and above only, so that
   * quotes, backslashes and semicolons mean the same whether the text is read in that encoding or
   * (as the gateway reads it) as UTF-8. SJIS, BIG5, GBK, GB18030, UHC and JOHAB are not among them:
   * a trailing byte can be 0x5C, a backslash to the gateway and part of a character to the server,
   * which moves where a string ends (multibyte.html; the reason for PostgreSQL's backslash_quote).
   * Names are compared as PostgreSQL does (clean_encoding_name: letters and digits only,
   * case-insensitive).
   */
  static boolean safeClientEncoding(String name) {
    if (name == null) {
      return false;
    }
    String n = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    return SAFE_ENCODING.matcher(n).matches();
  }

  private static final java.util.regex.Pattern SAFE_ENCODING =
      java.util.regex.Pattern.compile(
          "utf8|unicode|sqlascii|latin([1-9]|10)|iso8859([1-9]|1[0-6])|koi8|koi8r|koi8u"
              + "|win(125[0-8]|866|874)|windows(125[0-8]|866|874)|alt|eucjp|euccn|euckr|euctw"
              + "|eucjis2004|muleinternal|tcvn|tcvn5712|vscii|abc");

  /**
   * True when a search_path value (as a startup parameter, a set_config() argument or a
   * ParameterStatus) keeps pg_catalog in front of every schema for function and operator names, so
   * that an unqualified {@code lower(x)} is the built-in. pg_catalog is searched first unless the
   * path names it explicitly after another schema (ddl-schemas.html#DDL-SCHEMAS-CATALOG); pg_temp
   * is never searched for functions or operators, so it may precede it. A value that does not parse
   * is not safe.
   */
  static boolean safeSearchPath(String value) {
    List<String> schemas = splitIdentifiers(value);
    return schemas != null && catalogFirst(schemas);
  }

  /** See {@link #safeSearchPath}: the schema names, parsed. */
  static boolean catalogFirst(List<String> schemas) {
    for (String s : schemas) {
      if (s.equals("pg_catalog")) {
        return true;
      }
      if (!s.equals("pg_temp")) {
        return !schemas.contains("pg_catalog");
      }
    }
    return true;
  }

  /** Longest value of a list setting we parse; longer values are not safe. */
  static final int MAX_LIST_SETTING = 8 * 1024;

  /**
   * Splits a list setting as PostgreSQL's SplitIdentifierString (src/backend/utils/adt/varlena.c)
   * does with separator ',': blanks around names are skipped, {@code "..."} quotes a name ({@code
   * ""} inside is a quote), unquoted names are folded to lower case (ASCII, like the server). An
   * empty value is an empty list; null when malformed (an empty unquoted name, an unterminated
   * quote, junk after a name) or too long.
   */
  static List<String> splitIdentifiers(String value) {
    if (value == null || value.length() > MAX_LIST_SETTING) {
      return null;
    }
    List<String> out = new ArrayList<>();
    int i = skipBlanks(value, 0);
    if (i == value.length()) {
      return out;
    }
    while (true) {
      StringBuilder name = new StringBuilder();
      if (value.charAt(i) == '"') {
        i++;
        while (true) {
          int q = value.indexOf('"', i);
          if (q < 0) {
            return null;
          }
          name.append(value, i, q);
          i = q + 1;
          if (i < value.length() && value.charAt(i) == '"') {
            name.append('"');
            i++;
          } else {
            break;
          }
        }
      } else {
        int start = i;
        while (i < value.length() && value.charAt(i) != ',' && !isBlank(value.charAt(i))) {
          i++;
        }
        if (i == start) {
          return null;
        }
        name.append(PgLexer.foldCase(value.substring(start, i)));
      }
      out.add(name.toString());
      i = skipBlanks(value, i);
      if (i == value.length()) {
        return out;
      }
      if (value.charAt(i) != ',') {
        return null;
      }
      i = skipBlanks(value, i + 1);
      if (i == value.length()) {
        return null;
      }
    }
  }

  private static int skipBlanks(String s, int i) {
    while (i < s.length() && isBlank(s.charAt(i))) {
      i++;
    }
    return i;
  }

  /** scanner_isspace: space, tab, newline, carriage return, form feed (vertical tab is not). */
  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
  }

  static boolean isOn(String v) {
    return Boolean.TRUE.equals(parseBool(v));
  }

  /**
   * A boolean setting as PostgreSQL reads it (parse_bool in src/backend/utils/adt/bool.c): case and
   * surrounding blanks ignored; any prefix of true, yes, false or no; on, of, off; 1 and 0. Null
   * when it is none of these (the server would reject it).
   */
  static Boolean parseBool(String v) {
    if (v == null) {
      return null;
    }
    String s = v.strip().toLowerCase(Locale.ROOT);
    if (s.isEmpty()) {
      return null;
    }
    if ("true".startsWith(s) || "yes".startsWith(s) || s.equals("on") || s.equals("1")) {
      return Boolean.TRUE;
    }
    if ("false".startsWith(s) || "no".startsWith(s) || s.equals("of") || s.equals("off")) {
      return Boolean.FALSE;
    }
    return s.equals("0") ? Boolean.FALSE : null;
  }
}
