package dev.gatehouse.postgres;

import java.util.Locale;
import java.util.Set;

/**
 * Errors that quote back the input of a failed conversion, in a masked session: what they quote
 * must be something the client sent, or it is redacted whole.
 *
 * <p>PostgreSQL's input functions quote the text they could not read: {@code invalid input syntax
 * for type integer: "…"} (22P02), {@code value "…" is out of range} (22003), and the object-name
 * types ({@code regclass}, {@code regtype}, {@code regproc}, {@code regrole}, {@code regnamespace},
 * …) look the text up as a name and report {@code relation "…" does not exist} (42P01), {@code
 * schema "…" does not exist} (3F000), {@code type "…" does not exist} (42704) and so on. A cast of
 * a column ({@code SELECT email::regclass FROM customers}) so hands the column's value to the
 * client in an error. Content detection reads the error too, but the name types rewrite the value
 * before they quote it: {@code noor@qq.com::regclass} is split at the dot, lower-cased and reported
 * as {@code schema "noor@qq" does not exist}, which is no longer an email address (red team
 * rt18mask F3: every address with a two-label domain, and dashed IBANs). So for these codes a
 * quoted part of the message, detail or hint that the client's statement does not contain (ignoring
 * case: unquoted names are folded to lower case) is replaced by {@link #REDACTED}. A name the
 * client typed ({@code 'orders'::regclass}, a misspelt table) is in its statement and stays. A
 * value the client bound as a parameter is not in the statement and is redacted too: the client
 * sent it, so only the error's wording is lost.
 *
 * <p>The codes (<a href="https://www.postgresql.org/docs/current/errcodes-appendix.html">Appendix
 * A</a>): class 22 (data exception: every input function's failure), and the name lookups 42P01,
 * 3F000, 42704, 42883, 42725, 3D000 (not 42703: an undefined column is one the client named); 0A000
 * and 42602 for too many dotted names, whose message ends in the unquoted name after a colon; 42601
 * for a type name that does not parse.
 */
final class PgEchoedInput {
  private PgEchoedInput() {}

  static final String REDACTED = "[REDACTED]";

  private static final Set<String> NAME_LOOKUPS =
      Set.of("42P01", "3F000", "42704", "42883", "42725", "3D000", "0A000", "42602", "42601");

  /** Messages of 0A000 and 42602 that end in the name, unquoted, after {@code ": "}. */
  private static final String[] UNQUOTED_TAILS = {
    "cross-database references are not implemented: ",
    "improper qualified name (too many dotted names): ",
    "improper relation name (too many dotted names): ",
  };

  /** XML errors (2200L/M/N/S/T): libxml's DETAIL quotes the input's line, unquoted. */
  private static final Set<String> XML = Set.of("2200L", "2200M", "2200N", "2200S", "2200T");

  /**
   * The fields of an error whose code {@link #applies}, as the client may see them: message, detail
   * and context with what the client did not send redacted ({@link #redact}; a hint names catalog
   * objects, "Perhaps you meant to reference the column …", and is left to content masking).
   * Besides quoted parts: the JSON parser's CONTEXT ({@code JSON data, line 1: …}) and libxml's
   * DETAIL for XML codes quote the input unquoted, and are redacted after their prefix. A server
   * whose messages are translated (the localized severity {@code S} differs from {@code V}) quotes
   * with other marks ({@code »…«}, {@code «…»}) in other words: message, detail and context are
   * then redacted whole (fail closed; the SQLSTATE stays).
   */
  static java.util.Map<Character, String> fields(java.util.Map<Character, String> in, String sent) {
    java.util.Map<Character, String> f = new java.util.LinkedHashMap<>(in);
    String severity = f.get('S');
    String plain = f.get('V');
    if (severity != null && plain != null && !severity.equals(plain)) {
      f.put('M', "input quoted in a translated message: " + REDACTED);
      f.computeIfPresent('D', (k, v) -> REDACTED);
      f.computeIfPresent('W', (k, v) -> REDACTED);
      return f;
    }
    String code = f.get('C');
    String lowerSent = lower(sent);
    for (char k : new char[] {'M', 'D', 'W'}) {
      String v = f.get(k);
      if (v == null) {
        continue;
      }
      if (k == 'W' && v.startsWith("JSON data, line ")) {
        v = afterColon(v, lowerSent);
      } else if (k == 'D' && XML.contains(code)) {
        v = v.startsWith("line ") ? afterColon(v, lowerSent) : known(v, lowerSent) ? v : REDACTED;
      } else {
        v = redactLower(v, lowerSent);
      }
      f.put(k, v);
    }
    return f;
  }

  /** {@code text} with what follows its first {@code ": "} redacted, unless the client sent it. */
  private static String afterColon(String text, String lowerSent) {
    int c = text.indexOf(": ");
    if (c < 0) {
      return known(text, lowerSent) ? text : REDACTED;
    }
    return known(text.substring(c + 2), lowerSent) ? text : text.substring(0, c + 2) + REDACTED;
  }

  /** {@code sent} in lower case, as {@link #known} compares; null stays null. */
  private static String lower(String sent) {
    return sent == null ? null : sent.toLowerCase(Locale.ROOT);
  }

  /** Whether errors of {@code sqlstate} may quote converted input ({@link PgEchoedInput}). */
  static boolean applies(String sqlstate) {
    return sqlstate != null && (sqlstate.startsWith("22") || NAME_LOOKUPS.contains(sqlstate));
  }

  /**
   * {@code text} (a message, detail or context; a hint names catalog objects, "Perhaps you meant to
   * reference the column …", and is left to content masking) with every double-quoted part, and the
   * name after one of {@link #UNQUOTED_TAILS}, that {@code sent} does not contain replaced by
   * {@link #REDACTED}. {@code sent} null (the statement is not known): every such part is replaced.
   */
  static String redact(String text, String sent) {
    return redactLower(text, lower(sent));
  }

  private static String redactLower(String text, String lowerSent) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    for (String tail : UNQUOTED_TAILS) {
      if (text.startsWith(tail) && text.length() > tail.length()) {
        String name = text.substring(tail.length());
        return known(name, lowerSent) ? text : tail + REDACTED;
      }
    }
    int i = text.indexOf('"');
    int last = text.lastIndexOf('"');
    if (i >= 0 && text.chars().filter(c -> c == '"').count() % 2 == 1) {
      // An odd number of quotes: a quoted value holds one, and the parts between quotes are not
      // the message's own ("ab"cd" would show cd): judged from the first quote to the last whole.
      return known(text.substring(i + 1, last > i ? last : text.length()), lowerSent)
          ? text
          : text.substring(0, i + 1) + REDACTED + (last > i ? text.substring(last) : "");
    }
    while (i >= 0) {
      int end = text.indexOf('"', i + 1);
      if (end < 0 || !known(text.substring(i + 1, end), lowerSent)) {
        // Messages do not escape a quote inside the value they quote ("a"b"), so from the first
        // unknown part to the last quote is all value, possibly: redacted as one.
        return text.substring(0, i + 1) + REDACTED + (last > i ? text.substring(last) : "");
      }
      i = text.indexOf('"', end + 1);
    }
    return text;
  }

  private static boolean known(String quoted, String lowerSent) {
    return quoted.isEmpty()
        || (lowerSent != null && lowerSent.contains(quoted.toLowerCase(Locale.ROOT)));
  }
}
