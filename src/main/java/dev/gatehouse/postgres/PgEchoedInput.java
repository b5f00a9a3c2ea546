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
    if (text == null || text.isEmpty()) {
      return text;
    }
    String lowerSent = sent == null ? null : sent.toLowerCase(Locale.ROOT);
    for (String tail : UNQUOTED_TAILS) {
      if (text.startsWith(tail) && text.length() > tail.length()) {
        String name = text.substring(tail.length());
        return known(name, lowerSent) ? text : tail + REDACTED;
      }
    }
    int i = text.indexOf('"');
    while (i >= 0) {
      int end = text.indexOf('"', i + 1);
      if (end < 0 || !known(text.substring(i + 1, end), lowerSent)) {
        // Messages do not escape a quote inside the value they quote ("a"b"), so from the first
        // unknown part to the last quote is all value, possibly: redacted as one.
        int last = text.lastIndexOf('"');
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
