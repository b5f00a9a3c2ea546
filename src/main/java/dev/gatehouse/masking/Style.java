package dev.gatehouse.masking;

import java.util.HexFormat;
import java.util.Locale;

/**
 * How a sensitive value is replaced. Implementations are immutable and thread safe.
 *
 * <ul>
 *   <li>{@link Redact}: a fixed text, {@code [REDACTED:{type}]} by default or e.g. {@code ****}.
 *   <li>{@link Partial}: keeps a little for recognition (last 4 card digits with the separators,
 *       {@code j****@example.com}, last digits of a phone number).
 *   <li>{@link Hash}: {@code h:} plus truncated HMAC-SHA256, so masked values still join and group.
 *   <li>{@link Fpe}: same length and shape (digit for digit, letter for letter, separators kept),
 *       keyed and deterministic. It is a pseudonym, not reversible encryption.
 *   <li>{@link Null}: SQL NULL for a column; in free text it falls back to redaction.
 *   <li>{@link Keep}: leaves the value as is (to exempt a type or column).
 * </ul>
 */
abstract sealed class Style {
  static final String DEFAULT_REDACTION = "[REDACTED:{type}]";

  /** The replacement for {@code value} found as {@code type}. */
  abstract String apply(String value, String type);

  boolean isNull() {
    return false;
  }

  boolean keeps() {
    return false;
  }

  abstract String describe();

  @Override
  public String toString() {
    return describe();
  }

  static final class Redact extends Style {
    final String template;

    Redact(String template) {
      this.template = template == null ? DEFAULT_REDACTION : template;
    }

    @Override
    String apply(String value, String type) {
      return template.replace("{type}", type);
    }

    @Override
    String describe() {
      return "redact(" + template + ")";
    }
  }

  static final class Partial extends Style {
    /** Characters to keep; -1 means the type's default (4 for cards and IBANs, 2 for phones). */
    final int keep;

    Partial(int keep) {
      this.keep = keep;
    }

    @Override
    String apply(String value, String type) {
      if (type.equals("email") || (!type.equals("card") && looksLikeEmail(value))) {
        int at = Math.max(value.lastIndexOf('@'), value.lastIndexOf(Checks.FULLWIDTH_AT));
        if (at < 0 && type.equals("email")) {
          at = value.indexOf("%40"); // URL-encoded: c****%40example.net
        }
        if (at < 0 && type.equals("email")) {
          at = writtenAt(value); // a****(at)example(dot)com, a**** at example dot com
        }
        if (at > 0) {
          // The first character whole (not half of a surrogate pair); a local part of one
          // character (a@example.com) would be shown whole, so it is masked too.
          int first = Character.charCount(value.codePointAt(0));
          return (at == first ? "*" : value.substring(0, first)) + "****" + value.substring(at);
        }
      }
      int k = keep >= 0 ? keep : type.equals("phone") ? 2 : 4;
      int lead = type.equals("iban") ? 2 : 0;
      return keepLast(value, k, lead);
    }

    /**
     * Where the at of an address written out starts ({@code PiiDetectors.Email.Obfuscated}): the
     * spaces before a bracketed {@code (at)}, {@code [at]}, {@code {at}} or {@code <at>} (any
     * case), or the space before the word {@code at} or {@code AT}; -1 for none.
     */
    static int writtenAt(String v) {
      for (int i = 1; i + 3 < v.length(); i++) {
        char c = v.charAt(i);
        if ((c == '(' || c == '[' || c == '{' || c == '<')
            && v.regionMatches(true, i + 1, "at", 0, 2)
            && ")]}>".indexOf(v.charAt(i + 3)) >= 0) {
          int s = i;
          while (s > 1 && (v.charAt(s - 1) == ' ' || v.charAt(s - 1) == '\t')) {
            s--;
          }
          return s;
        }
      }
      int w = v.indexOf(" at ");
      return w > 0 ? w : v.indexOf(" AT ");
    }

    private static boolean looksLikeEmail(String v) {
      int at = v.indexOf('@');
      return at > 0 && v.indexOf('.', at) > at;
    }

    /** Masks letters and digits with {@code *} except the first {@code lead} and last {@code k}. */
    static String keepLast(String v, int k, int lead) {
      int n = v.length();
      int alnum = 0;
      for (int i = 0; i < n; i++) {
        alnum += letterOrDigit(v.charAt(i)) ? 1 : 0;
      }
      // Never reveal more than half of a value: a short value keeps proportionally less.
      int keepTail = Math.min(k, alnum / 2);
      int keepHead = Math.min(lead, Math.max(0, alnum / 2 - keepTail));
      // Into a char array rather than a StringBuilder (one append per character was most of the
      // cost of masking a phone number).
      char[] out = new char[n];
      int seen = 0;
      for (int i = 0; i < n; i++) {
        char c = v.charAt(i);
        if (letterOrDigit(c)) {
          out[i] = seen < keepHead || seen >= alnum - keepTail ? c : '*';
          seen++;
        } else {
          out[i] = c;
        }
      }
      return new String(out);
    }

    private static final boolean[] ASCII_ALNUM = new boolean[128];

    static {
      for (char c = 0; c < 128; c++) {
        ASCII_ALNUM[c] = Character.isLetterOrDigit(c);
      }
    }

    /** {@link Character#isLetterOrDigit(char)}, with a table for ASCII. */
    private static boolean letterOrDigit(char c) {
      return c < 128 ? ASCII_ALNUM[c] : Character.isLetterOrDigit(c);
    }

    @Override
    String describe() {
      return "partial(" + keep + ")";
    }
  }

  static final class Hash extends Style {
    final Keyed key;
    final int hexChars;

    Hash(Keyed key, int hexChars) {
      this.key = key;
      this.hexChars = hexChars;
    }

    @Override
    String apply(String value, String type) {
      byte[] mac = key.mac("hash", value, 0);
      return "h:" + HexFormat.of().formatHex(mac).substring(0, hexChars);
    }

    @Override
    String describe() {
      return "hash";
    }
  }

  static final class Fpe extends Style {
    final Keyed key;

    Fpe(Keyed key) {
      this.key = key;
    }

    @Override
    String apply(String value, String type) {
      StringBuilder b = new StringBuilder(value.length());
      byte[] stream = key.mac("fpe", value, 0);
      int pos = 0;
      int block = 0;
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        boolean digit = c >= '0' && c <= '9';
        boolean lower = c >= 'a' && c <= 'z';
        boolean upper = c >= 'A' && c <= 'Z';
        if (!(digit || lower || upper)) {
          b.append(c);
          continue;
        }
        if (pos == stream.length) {
          stream = key.mac("fpe", value, ++block);
          pos = 0;
        }
        int r = stream[pos++] & 0xff;
        if (digit) {
          b.append((char) ('0' + r % 10));
        } else if (lower) {
          b.append((char) ('a' + r % 26));
        } else {
          b.append((char) ('A' + r % 26));
        }
      }
      return b.toString();
    }

    @Override
    String describe() {
      return "fpe";
    }
  }

  static final class Null extends Style {
    final Redact textFallback;

    Null(Redact textFallback) {
      this.textFallback = textFallback;
    }

    @Override
    String apply(String value, String type) {
      return textFallback.apply(value, type);
    }

    @Override
    boolean isNull() {
      return true;
    }

    @Override
    String describe() {
      return "null";
    }
  }

  static final class Keep extends Style {
    static final Keep INSTANCE = new Keep();

    @Override
    String apply(String value, String type) {
      return value;
    }

    @Override
    boolean keeps() {
      return true;
    }

    @Override
    String describe() {
      return "none";
    }
  }

  static String names() {
    return "redact, partial, hash, fpe, null, none";
  }

  static String normalize(String name) {
    return name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
  }
}
