package dev.gatehouse.masking;

import java.util.HexFormat;
import java.util.function.UnaryOperator;

/**
 * Hexadecimal literals in a stored statement's text (MySQL {@code 0x6a6f…} and {@code X'6a6f…'},
 * https://dev.mysql.com/doc/refman/8.4/en/hexadecimal-literals.html; the same {@code X'…'} is a
 * standard SQL binary string): the bytes they stand for are text to the server ({@code INSERT INTO
 * t VALUES (0x6a6f686e406578616d706c652e636f6d)} stores {@code john@example.com}) and would be
 * recorded in clear, as PostgreSQL's bytea hex ({@code '\x…'}) was before it was decoded. Each
 * literal of at least {@link #MIN_HEX_DIGITS} digits is decoded, its bytes masked as text (UTF-8,
 * bytes that are not UTF-8 kept as {@link Utf8Escapes}), and written back as the hex of the masked
 * text with its own prefix; one without a finding stays as typed.
 */
final class HexLiterals {
  private HexLiterals() {}

  /** Fewest hex digits read (4 bytes): shorter literals (flags, small numbers) hold no value. */
  static final int MIN_HEX_DIGITS = 8;

  /**
   * {@code text} with its hex literals masked by {@code mask}, or {@code text} itself when it has
   * none or none with a finding.
   */
  static String mask(String text, UnaryOperator<String> mask) {
    if (!mayHave(text)) {
      return text;
    }
    int n = text.length();
    StringBuilder out = null;
    int copied = 0;
    for (int i = 0; i + 2 < n; i++) {
      char c = text.charAt(i);
      boolean zeroX = c == '0' && (text.charAt(i + 1) | 0x20) == 'x';
      boolean quoted = (c | 0x20) == 'x' && text.charAt(i + 1) == '\'';
      if (!(zeroX || quoted) || (i > 0 && wordChar(text.charAt(i - 1)))) {
        continue;
      }
      int start = i + 2;
      int j = start;
      while (j < n && Checks.isHex(text.charAt(j))) {
        j++;
      }
      int digits = j - start;
      // 0x… ends at a character that cannot continue a name or number (0x1g is an identifier);
      // X'…' at its closing quote with an even number of digits (anything else is an error).
      boolean whole =
          quoted
              ? j < n && text.charAt(j) == '\'' && digits % 2 == 0
              : j == n || !wordChar(text.charAt(j));
      if (!whole || digits < MIN_HEX_DIGITS) {
        i = Math.max(i, j - 1);
        continue;
      }
      // MySQL reads an odd number of 0x digits with a leading 0
      String hex = (digits % 2 == 1 ? "0" : "") + text.substring(start, j);
      String masked = maskBytes(HEX.parseHex(hex), mask);
      if (masked != null) {
        if (out == null) {
          out = new StringBuilder(n + 32);
        }
        out.append(text, copied, start).append(masked);
        copied = j;
      }
      i = j - 1;
    }
    return out == null ? text : out.append(text, copied, n).toString();
  }

  /** Whether {@code 0x} or {@code x'} occurs in any case: most statements have neither. */
  static boolean mayHave(String text) {
    for (int i = text.indexOf('\''); i >= 0; i = text.indexOf('\'', i + 1)) {
      if (i > 0 && (text.charAt(i - 1) | 0x20) == 'x') {
        return true;
      }
    }
    for (int i = text.indexOf('0'); i >= 0 && i + 1 < text.length(); i = text.indexOf('0', i + 1)) {
      if ((text.charAt(i + 1) | 0x20) == 'x') {
        return true;
      }
    }
    return false;
  }

  /** The hex of {@code raw} masked as text, or null when masking finds nothing. */
  private static String maskBytes(byte[] raw, UnaryOperator<String> mask) {
    byte[] masked = Utf8Escapes.masked(mask, raw, 0, raw.length);
    return masked == null ? null : HEX.formatHex(masked);
  }

  private static boolean wordChar(char c) {
    return Checks.isAlnum(c) || c == '_' || c == '$';
  }

  private static final HexFormat HEX = HexFormat.of();
}
