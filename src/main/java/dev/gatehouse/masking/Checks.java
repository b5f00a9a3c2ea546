package dev.gatehouse.masking;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/** Validators shared by detectors: checksums, lengths, entropy and character classes. */
final class Checks {
  private Checks() {}

  static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  static boolean isUpper(char c) {
    return c >= 'A' && c <= 'Z';
  }

  static boolean isLower(char c) {
    return c >= 'a' && c <= 'z';
  }

  static boolean isAsciiLetter(char c) {
    return isUpper(c) || isLower(c);
  }

  static boolean isAlnum(char c) {
    return isDigit(c) || isAsciiLetter(c);
  }

  /**
   * The no-break and thin spaces that browsers, word processors and spreadsheet exports put between
   * digit groups: U+00A0 NO-BREAK SPACE, U+202F NARROW NO-BREAK SPACE (the French thousands
   * separator, CLDR) and U+2009 THIN SPACE (the SI digit-group separator). Read as a space between
   * the groups of a card number. And U+3000 IDEOGRAPHIC SPACE, the full-width space of Chinese,
   * Japanese and Korean input methods.
   */
  static boolean isNoBreakSpace(int c) {
    return c == '\u00a0' || c == '\u202f' || c == '\u2009' || c == '\u3000';
  }

  /**
   * The length in bytes (2 or 3) of the UTF-8 encoding of an {@link #isNoBreakSpace} character at
   * {@code b[i]}, or 0: {@code C2 A0}, {@code E2 80 AF}, {@code E2 80 89}, {@code E3 80 80}.
   */
  static int noBreakSpaceLength(byte[] b, int i, int end) {
    if (b[i] == (byte) 0xc2) {
      return i + 1 < end && b[i + 1] == (byte) 0xa0 ? 2 : 0;
    }
    if (b[i] == (byte) 0xe2 && i + 2 < end && b[i + 1] == (byte) 0x80) {
      byte t = b[i + 2];
      return t == (byte) 0xaf || t == (byte) 0x89 ? 3 : 0;
    }
    if (b[i] == (byte) 0xe3 && i + 2 < end && b[i + 1] == (byte) 0x80) {
      return b[i + 2] == (byte) 0x80 ? 3 : 0;
    }
    return 0;
  }

  /**
   * The character the scanner reads in place of {@code c} ({@code Scanner#scanNormalized}): the
   * other Unicode space separators (general category Zs: U+1680, U+2000-U+200A, U+205F) and U+0085
   * NEXT LINE, U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR as a space; the dash
   * punctuation (category Pd: the hyphens, the figure and em dashes U+2010-U+2015 that word
   * processors put for a typed {@code -}, but not the en dash U+2013, which also writes ranges; the
   * wave dash U+301C, the small and full-width hyphen-minus U+FE63 and U+FF0D...; not the Armenian
   * and Hebrew hyphens U+058A and U+05BE, written with a letter on each side) and U+2212 MINUS SIGN
   * as {@code -}; the full-width and small commercial at U+FF20 and U+FE6B as {@code @}; the
   * full-width full stop U+FF0E and the ideographic full stops U+3002 and U+FF61 as {@code .}. Not
   * the full-width colon U+FF1A and equals sign U+FF1D: read as {@code :}, they would make an email
   * address before {@code ：} a URL's {@code user@host:path} and start an IPv6 run after a word
   * ({@code 地址：2001:db8::…}); {@code SecretDetectors.NonLatinWords} reads them itself. Values
   * grouped or written with them ({@code 4111 1111…}, {@code 536‑22‑1234}, {@code bob﹫example．com})
   * are then read like their ASCII spelling (Unicode 15.1, UnicodeData.txt). The no-break and thin
   * spaces of {@link #isNoBreakSpace} are read by the detectors as they are and are not mapped.
   */
  static char separatorFold(char c) {
    if (c < '\u2000') {
      return c < '\u0085'
          ? c
          : c == '\u0085' || c == '\u1680' ? ' ' : c == '\u1400' || c == '\u1806' ? '-' : c;
    }
    if (c <= '\u205f') {
      if (c <= '\u200a') {
        return c == '\u2009' ? c : ' ';
      }
      if (c <= '\u2015') {
        // The en dash stays: it also writes ranges (pages 123–45–6789), read as an SSN separator
        // only after the word SSN (PiiDetectors.Ssn).
        return c >= '\u2010' && c != '\u2013' ? '-' : c;
      }
      return c == '\u2028' || c == '\u2029' || c == '\u205f' ? ' ' : c;
    }
    return switch (c) {
      case '\u2212',
          '\u2e17',
          '\u2e1a',
          '\u2e3a',
          '\u2e3b',
          '\u2e40',
          '\u2e5d',
          '\u301c',
          '\u3030',
          '\u30a0',
          '\ufe31',
          '\ufe32',
          '\ufe58',
          '\ufe63',
          '\uff0d' ->
          '-';
      case '\ufe6b', FULLWIDTH_AT -> '@';
      case '\u3002', '\uff0e', '\uff61' -> '.';
      default -> c;
    };
  }

  /**
   * Whether {@link #separatorFold} reads {@code c} as a space, a dash or a dot, or {@code c} is the
   * en dash, the middle dot U+00B7 or the bullet U+2022 (which the card, phone and SSN detectors
   * read between digit groups themselves, {@code PiiDetectors#dotOrControl}): a separator between
   * the groups of a number for the scanner's digit runs.
   */
  static boolean isFoldedSeparator(int c) {
    char f = c >= '\u0085' && c <= '\uffff' ? separatorFold((char) c) : (char) c;
    return c == '\u2013'
        || c == '\u00b7'
        || c == '\u2022'
        || (f != c && (f == ' ' || f == '-' || f == '.'));
  }

  /**
   * The length in bytes (2 or 3) of the UTF-8 encoding of an {@link #isFoldedSeparator} character
   * at {@code b[i]} (a well-formed sequence), or 0: {@code E2 80 87} (U+2007 FIGURE SPACE), {@code
   * E2 80 93} (U+2013 EN DASH)...
   */
  static int foldedSeparatorLength(byte[] b, int i, int end) {
    int c = b[i] & 0xff;
    if (c == 0xc2) {
      // U+0085 and U+00B7, the only ones below U+0800
      return i + 1 < end && (b[i + 1] == (byte) 0x85 || b[i + 1] == (byte) 0xb7) ? 2 : 0;
    }
    if ((c != 0xe2 && c != 0xe3 && c != 0xef && c != 0xe1) || i + 2 >= end) {
      return 0; // the others are in U+1400-U+1FFF (E1), U+2000-U+2FFF (E2), U+3000-U+3FFF (E3), EF
    }
    int x = b[i + 1];
    int y = b[i + 2];
    return (x & 0xc0) == 0x80
            && (y & 0xc0) == 0x80
            && isFoldedSeparator((c & 0x0f) << 12 | (x & 0x3f) << 6 | y & 0x3f)
        ? 3
        : 0;
  }

  /**
   * Invisible characters that text copied from a document or a web page, or written to hide a
   * value, may carry inside it: the Basic Multilingual Plane part of Unicode's
   * Default_Ignorable_Code_Point property (DerivedCoreProperties.txt, Unicode 15.1; UAX #44 5.3:
   * characters with no visible glyph that a renderer ignores). That is the soft hyphen U+00AD, the
   * combining grapheme joiner U+034F, the Arabic letter mark U+061C, the Hangul fillers U+115F,
   * U+1160, U+3164 and U+FFA0, the Khmer inherent vowels U+17B4-U+17B5, the Mongolian variation
   * selectors and vowel separator U+180B-U+180F, the zero-width characters and directional marks
   * U+200B-U+200F, the bidirectional embeddings U+202A-U+202E, the word joiner, invisible operators
   * and isolates U+2060-U+206F, the variation selectors U+FE00-U+FE0F, U+FEFF and U+FFF0-U+FFF8.
   * The scanner reads a value without them ({@code Scanner#scanNormalized}). The tag characters
   * U+E0000-U+E0FFF (surrogate pairs) are not read.
   */
  static boolean isInvisible(int c) {
    if (c < '\u2000') {
      return c >= '\u00ad'
          && (c == '\u00ad'
              || c == '\u034f'
              || c == '\u061c'
              || c == '\u115f'
              || c == '\u1160'
              || c == '\u17b4'
              || c == '\u17b5'
              || (c >= '\u180b' && c <= '\u180f'));
    }
    if (c < '\u2070') {
      return (c >= '\u200b' && c <= '\u200f') || (c >= '\u202a' && c <= '\u202e') || c >= '\u2060';
    }
    return c == '\u3164'
        || (c >= '\ufe00' && c <= '\ufe0f')
        || c == '\ufeff'
        || c == '\uffa0'
        || (c >= '\ufff0' && c <= '\ufff8');
  }

  /**
   * The length in bytes of the UTF-8 encoding of an {@link #isInvisible} character at {@code b[i]}
   * (a well-formed 2- or 3-byte sequence), or 0.
   */
  static int invisibleLength(byte[] b, int i, int end) {
    int c = b[i] & 0xff;
    if (c >= 0xc2 && c <= 0xdf) {
      return i + 1 < end
              && (b[i + 1] & 0xc0) == 0x80
              && isInvisible((c & 0x1f) << 6 | b[i + 1] & 0x3f)
          ? 2
          : 0;
    }
    if (c < 0xe1 || c > 0xef || i + 2 >= end) {
      return 0; // E0 starts only U+0800-U+0FFF, which has none
    }
    int x = b[i + 1];
    int y = b[i + 2];
    return (x & 0xc0) == 0x80
            && (y & 0xc0) == 0x80
            && isInvisible((c & 0x0f) << 12 | (x & 0x3f) << 6 | y & 0x3f)
        ? 3
        : 0;
  }

  /** The full-width commercial at U+FF20, which the scanner reads as {@code @}. */
  static final char FULLWIDTH_AT = '\uff20';

  /**
   * Whether {@code s} has an {@link #isInvisible} character, a {@link #FULLWIDTH_AT} or another
   * character {@link #separatorFold} maps: the JDK's vectorised {@code String.indexOf} for the soft
   * hyphen and the full-width at, then one compare per character for the others. {@code
   * Scanner#scan} asks only for a value with a character from U+0085 on ({@code Triage#F_WIDE}).
   */
  static boolean needsNormalizing(String s) {
    if (s.indexOf('\u00ad') >= 0 || s.indexOf(FULLWIDTH_AT) >= 0) {
      return true;
    }
    // The others are U+0085 and from U+034F on: two compares per character reject Latin text.
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c >= '\u034f' ? isInvisible(c) || separatorFold(c) != c : c == '\u0085') {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code s} contains {@code lower} (a lower-case ASCII word) in any case, without the
   * lower-cased copy of the whole text that {@code toLowerCase().contains} makes for every value.
   */
  static boolean containsIgnoreCase(String s, String lower) {
    int n = lower.length();
    char first = lower.charAt(0);
    char firstUpper = Character.toUpperCase(first);
    for (int i = 0, last = s.length() - n; i <= last; i++) {
      char c = s.charAt(i);
      if ((c == first || c == firstUpper) && s.regionMatches(true, i, lower, 0, n)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code b[off, off + len)} has a byte from 0x80 on (a character outside ASCII). */
  static boolean hasNonAscii(byte[] b, int off, int len) {
    int or = 0;
    for (int i = off, end = off + len; i < end; i++) {
      or |= b[i];
    }
    return or < 0;
  }

  /** Eight bytes of an array read as one little-endian long ({@link #word}). */
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private static final long ONES = 0x0101010101010101L;

  /** The eight bytes {@code b[i, i + 8)} as a little-endian long. */
  static long word(byte[] b, int i) {
    return (long) LONGS.get(b, i);
  }

  /**
   * Whether one of the eight bytes of {@code x} is {@code v} (exact: Bit Twiddling Hacks' haszero).
   */
  static boolean hasByte(long x, int v) {
    long y = x ^ (ONES * v);
    return ((y - ONES) & ~y & HIGHS) != 0;
  }

  /**
   * Whether one of the eight bytes of {@code x} is a control character (below 0x20), DEL or from
   * 0x80 on: the "has less" and "has more" tricks of Sean Anderson's Bit Twiddling Hacks
   * (https://graphics.stanford.edu/~seander/bithacks.html#HasLessInWord), exact about whether some
   * byte qualifies on the seven low bits, and a byte from 0x80 on caught by its high bit.
   */
  static boolean hasControlOrNonAscii(long x) {
    long y = x & ~HIGHS;
    return ((x & HIGHS) | ((y - ONES * 0x20) & ~y & HIGHS) | ((y + ONES) & HIGHS)) != 0;
  }

  private static final long HIGHS = 0x8080808080808080L;

  /** Letters and digits of any script count as "word" characters for boundaries. */
  static boolean isWord(char c) {
    return c < 128 ? isAlnum(c) || c == '_' : Character.isLetterOrDigit(c);
  }

  static boolean isHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  static boolean isBase64Url(char c) {
    return isAlnum(c) || c == '-' || c == '_';
  }

  /** Luhn checksum over the digits of {@code s} (other characters are skipped). */
  static boolean luhn(CharSequence s) {
    int sum = 0;
    boolean dbl = false;
    int digits = 0;
    for (int i = s.length() - 1; i >= 0; i--) {
      char c = s.charAt(i);
      if (!isDigit(c)) {
        continue;
      }
      int d = c - '0';
      if (dbl) {
        d *= 2;
        if (d > 9) {
          d -= 9;
        }
      }
      sum += d;
      dbl = !dbl;
      digits++;
    }
    return digits > 1 && sum % 10 == 0;
  }

  /** ISO 13616 IBAN lengths by country (SWIFT registry, 2024). */
  static final Map<String, Integer> IBAN_LENGTHS =
      Map.ofEntries(
          Map.entry("AD", 24),
          Map.entry("AE", 23),
          Map.entry("AL", 28),
          Map.entry("AT", 20),
          Map.entry("AZ", 28),
          Map.entry("BA", 20),
          Map.entry("BE", 16),
          Map.entry("BG", 22),
          Map.entry("BH", 22),
          Map.entry("BI", 27),
          Map.entry("BR", 29),
          Map.entry("BY", 28),
          Map.entry("CH", 21),
          Map.entry("CR", 22),
          Map.entry("CY", 28),
          Map.entry("CZ", 24),
          Map.entry("DE", 22),
          Map.entry("DJ", 27),
          Map.entry("DK", 18),
          Map.entry("DO", 28),
          Map.entry("EE", 20),
          Map.entry("EG", 29),
          Map.entry("ES", 24),
          Map.entry("FI", 18),
          Map.entry("FK", 18),
          Map.entry("FO", 18),
          Map.entry("FR", 27),
          Map.entry("GB", 22),
          Map.entry("GE", 22),
          Map.entry("GI", 23),
          Map.entry("GL", 18),
          Map.entry("GR", 27),
          Map.entry("GT", 28),
          Map.entry("HR", 21),
          Map.entry("HU", 28),
          Map.entry("IE", 22),
          Map.entry("IL", 23),
          Map.entry("IQ", 23),
          Map.entry("IS", 26),
          Map.entry("IT", 27),
          Map.entry("JO", 30),
          Map.entry("KW", 30),
          Map.entry("KZ", 20),
          Map.entry("LB", 28),
          Map.entry("LC", 32),
          Map.entry("LI", 21),
          Map.entry("LT", 20),
          Map.entry("LU", 20),
          Map.entry("LV", 21),
          Map.entry("LY", 25),
          Map.entry("MC", 27),
          Map.entry("MD", 24),
          Map.entry("ME", 22),
          Map.entry("MK", 19),
          Map.entry("MN", 20),
          Map.entry("MR", 27),
          Map.entry("MT", 31),
          Map.entry("MU", 30),
          Map.entry("NI", 28),
          Map.entry("NL", 18),
          Map.entry("NO", 15),
          Map.entry("OM", 23),
          Map.entry("PK", 24),
          Map.entry("PL", 28),
          Map.entry("PS", 29),
          Map.entry("PT", 25),
          Map.entry("QA", 29),
          Map.entry("RO", 24),
          Map.entry("RS", 22),
          Map.entry("RU", 33),
          Map.entry("SA", 24),
          Map.entry("SC", 31),
          Map.entry("SD", 18),
          Map.entry("SE", 24),
          Map.entry("SI", 19),
          Map.entry("SK", 24),
          Map.entry("SM", 27),
          Map.entry("SO", 23),
          Map.entry("ST", 25),
          Map.entry("SV", 28),
          Map.entry("TL", 23),
          Map.entry("TN", 24),
          Map.entry("TR", 26),
          Map.entry("UA", 29),
          Map.entry("VA", 22),
          Map.entry("VG", 24),
          Map.entry("XK", 20),
          Map.entry("YE", 30));

  /** IBAN lengths by country code, indexed by the two letters (0: not a registered country). */
  private static final byte[] IBAN_LENGTH_BY_CODE = new byte[26 * 26];

  static {
    IBAN_LENGTHS.forEach(
        (cc, len) ->
            IBAN_LENGTH_BY_CODE[(cc.charAt(0) - 'A') * 26 + cc.charAt(1) - 'A'] = len.byteValue());
  }

  /**
   * The IBAN length of the country whose code is {@code a b} in either case, or 0 when it is not a
   * registered IBAN country. Without allocation: it runs at every IBAN-like start in a value.
   */
  static int ibanLength(char a, char b) {
    int x = (a | 0x20) - 'a';
    int y = (b | 0x20) - 'a';
    if (x < 0 || x >= 26 || y < 0 || y >= 26) {
      return 0;
    }
    return IBAN_LENGTH_BY_CODE[x * 26 + y];
  }

  /** ISO 7064 mod 97-10 over an IBAN without spaces: valid when the remainder is 1. */
  static boolean mod97(CharSequence iban) {
    int n = iban.length();
    if (n < 5) {
      return false;
    }
    int rem = 0;
    for (int k = 0; k < n; k++) {
      char c = iban.charAt((k + 4) % n);
      if (isDigit(c)) {
        rem = (rem * 10 + (c - '0')) % 97;
      } else if (isUpper(c)) {
        rem = (rem * 100 + (c - 'A' + 10)) % 97;
      } else if (isLower(c)) {
        rem = (rem * 100 + (c - 'a' + 10)) % 97;
      } else {
        return false;
      }
    }
    return rem == 1;
  }

  /** Shannon entropy in bits per character of {@code s[from, to)}. */
  static double entropy(CharSequence s, int from, int to) {
    int n = to - from;
    if (n <= 0) {
      return 0;
    }
    int[] counts = new int[128];
    int other = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < 128) {
        counts[c]++;
      } else {
        other++;
      }
    }
    double h = 0;
    for (int k : counts) {
      if (k > 0) {
        double p = (double) k / n;
        h -= p * Math.log(p);
      }
    }
    if (other > 0) {
      double p = (double) other / n;
      h -= p * Math.log(p);
    }
    return h / Math.log(2);
  }

  static double entropy(CharSequence s) {
    return entropy(s, 0, s.length());
  }

  /** Decodes base64url or standard base64 (padding optional); null when it is not base64. */
  static byte[] decodeBase64(String s) {
    try {
      String t = s.replace('-', '+').replace('_', '/');
      while (t.endsWith("=")) {
        t = t.substring(0, t.length() - 1);
      }
      int rem = t.length() % 4;
      if (rem == 1) {
        return null;
      }
      return Base64.getDecoder().decode(rem == 0 ? t : t + "==".substring(0, 4 - rem));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** True when the bytes are mostly printable text: base64 of ordinary data, not of a key. */
  static boolean looksLikeText(byte[] b) {
    if (b == null || b.length == 0) {
      return false;
    }
    int printable = 0;
    for (byte x : b) {
      int v = x & 0xff;
      if ((v >= 0x20 && v < 0x7f) || v == '\n' || v == '\r' || v == '\t') {
        printable++;
      }
    }
    return printable >= b.length * 0.95;
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private static final String BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  private static final String BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

  /**
   * Whether {@code s[st, en)} is a public blockchain address, published by design, with its
   * checksum where the format has one, so that a random secret of the same shape is still masked:
   *
   * <ul>
   *   <li>Ethereum ({@code 0x} and 40 hex digits; a private key has 64): in mixed case only with
   *       the EIP-55 checksum (https://eips.ethereum.org/EIPS/eip-55: a letter is upper case when
   *       the nibble at its place in Keccak-256 of the lower-case address is 8 or more; a random
   *       mixed-case token passes with odds of about 2^-15 for its 15 letters). All lower or all
   *       upper case carries no checksum and is exempt: it is hex only, which the entropy detector
   *       leaves alone in any case (hex-only secrets are found only by name).
   *   <li>Bitcoin SegWit ({@code bc1} and 39 or 59 bech32 characters, one case): the BCH checksum
   *       of BIP 173 (bech32, version 0) or BIP 350 (bech32m, version 1 and up) must hold (odds
   *       2^-30 for a random token).
   *   <li>Bitcoin legacy ({@code 1…} or {@code 3…}, 26-35 base58 characters): the Base58Check
   *       checksum, the first four bytes of a double SHA-256 (odds 2^-32).
   * </ul>
   */
  static boolean blockchainAddress(String s, int st, int en) {
    int len = en - st;
    if (len == 42 && s.startsWith("0x", st)) {
      boolean upper = false;
      boolean lower = false;
      for (int k = st + 2; k < en; k++) {
        char c = s.charAt(k);
        if (!isHex(c)) {
          return false;
        }
        upper |= c >= 'A' && c <= 'F';
        lower |= c >= 'a' && c <= 'f';
      }
      return !(upper && lower) || eip55(s, st + 2);
    }
    if ((len == 42 || len == 62) && s.regionMatches(true, st, "bc1", 0, 3)) {
      return bech32(s, st, en);
    }
    if (len >= 26 && len <= 35 && (s.charAt(st) == '1' || s.charAt(st) == '3')) {
      java.math.BigInteger v = java.math.BigInteger.ZERO;
      java.math.BigInteger b58 = java.math.BigInteger.valueOf(58);
      for (int k = st; k < en; k++) {
        int d = BASE58.indexOf(s.charAt(k));
        if (d < 0) {
          return false;
        }
        v = v.multiply(b58).add(java.math.BigInteger.valueOf(d));
      }
      byte[] raw = v.toByteArray();
      byte[] full = new byte[25]; // version byte, 20-byte hash, 4-byte checksum
      int from = raw.length > 25 ? raw.length - 25 : 0;
      if (raw.length - from > 25 || (from > 0 && raw[0] != 0)) {
        return false;
      }
      System.arraycopy(raw, from, full, 25 - (raw.length - from), raw.length - from);
      try {
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        sha.update(full, 0, 21);
        byte[] h = sha.digest(sha.digest());
        return h[0] == full[21] && h[1] == full[22] && h[2] == full[23] && h[3] == full[24];
      } catch (java.security.NoSuchAlgorithmException e) {
        return false; // every JDK has SHA-256 (Java SE MessageDigest algorithms)
      }
    }
    return false;
  }

  /** EIP-55: the case of each letter of the 40 hex digits at {@code at} against Keccak-256. */
  private static boolean eip55(String s, int at) {
    byte[] lower = new byte[40];
    for (int k = 0; k < 40; k++) {
      lower[k] = (byte) Character.toLowerCase(s.charAt(at + k));
    }
    byte[] h = keccak256(lower);
    for (int k = 0; k < 40; k++) {
      char c = s.charAt(at + k);
      int nibble = (h[k >> 1] >> ((k & 1) == 0 ? 4 : 0)) & 0xf;
      if (c >= 'a' && c <= 'f' && nibble >= 8 || c >= 'A' && c <= 'F' && nibble < 8) {
        return false;
      }
    }
    return true;
  }

  private static final long[] KECCAK_RC = {
    0x0000000000000001L, 0x0000000000008082L, 0x800000000000808aL, 0x8000000080008000L,
    0x000000000000808bL, 0x0000000080000001L, 0x8000000080008081L, 0x8000000000008009L,
    0x000000000000008aL, 0x0000000000000088L, 0x0000000080008009L, 0x000000008000000aL,
    0x000000008000808bL, 0x800000000000008bL, 0x8000000000008089L, 0x8000000000008003L,
    0x8000000000008002L, 0x8000000000000080L, 0x000000000000800aL, 0x800000008000000aL,
    0x8000000080008081L, 0x8000000000008080L, 0x0000000080000001L, 0x8000000080008008L
  };

  private static final int[] KECCAK_ROT = {
    0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14
  };

  /**
   * Keccak-256 as Ethereum uses it (the original padding 0x01, not SHA3-256's 0x06, which is all
   * the JDK offers), for inputs shorter than the 136-byte rate: one block, one permutation.
   */
  static byte[] keccak256(byte[] in) {
    long[] a = new long[25];
    byte[] block = new byte[136];
    System.arraycopy(in, 0, block, 0, in.length);
    block[in.length] ^= 0x01;
    block[135] ^= (byte) 0x80;
    for (int i = 0; i < 17; i++) {
      long v = 0;
      for (int b = 7; b >= 0; b--) {
        v = v << 8 | (block[8 * i + b] & 0xff);
      }
      a[i] ^= v;
    }
    long[] c = new long[5];
    long[] b = new long[25];
    for (int round = 0; round < 24; round++) {
      for (int x = 0; x < 5; x++) {
        c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
      }
      for (int x = 0; x < 5; x++) {
        long d = c[(x + 4) % 5] ^ Long.rotateLeft(c[(x + 1) % 5], 1);
        for (int y = 0; y < 25; y += 5) {
          a[y + x] ^= d;
        }
      }
      for (int x = 0; x < 5; x++) {
        for (int y = 0; y < 5; y++) {
          // rho and pi: lane (x, y) moves to (y, 2x + 3y)
          b[y + 5 * ((2 * x + 3 * y) % 5)] = Long.rotateLeft(a[x + 5 * y], KECCAK_ROT[x + 5 * y]);
        }
      }
      for (int y = 0; y < 25; y += 5) {
        for (int x = 0; x < 5; x++) {
          a[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5]);
        }
      }
      a[0] ^= KECCAK_RC[round];
    }
    byte[] out = new byte[32];
    for (int i = 0; i < 32; i++) {
      out[i] = (byte) (a[i >> 3] >>> (8 * (i & 7)));
    }
    return out;
  }

  /**
   * BIP 173 / BIP 350: a SegWit address in one case whose checksum (the BCH code over the expanded
   * {@code bc} prefix and the data) is 1 for witness version 0 (bech32) or 0x2bc830a3 for versions
   * 1-16 (bech32m).
   */
  private static boolean bech32(String s, int st, int en) {
    boolean upper = false;
    boolean lower = false;
    int chk = 1;
    // the human-readable part "bc": high bits, a zero, low bits
    for (int k = 0; k < 2; k++) {
      chk = bech32Step(chk) ^ ((s.charAt(st + k) | 0x20) >> 5);
    }
    chk = bech32Step(chk);
    for (int k = 0; k < 2; k++) {
      chk = bech32Step(chk) ^ ((s.charAt(st + k) | 0x20) & 31);
    }
    int version = -1;
    for (int k = st + 3; k < en; k++) {
      char c = s.charAt(k);
      upper |= c >= 'A' && c <= 'Z';
      lower |= c >= 'a' && c <= 'z';
      int v = BECH32.indexOf(Character.toLowerCase(c));
      if (v < 0) {
        return false;
      }
      version = version < 0 ? v : version;
      chk = bech32Step(chk) ^ v;
    }
    if (upper && lower || version > 16) {
      return false;
    }
    return chk == (version == 0 ? 1 : 0x2bc830a3);
  }

  private static int bech32Step(int chk) {
    int top = chk >>> 25;
    chk = (chk & 0x1ffffff) << 5;
    chk ^= (top & 1) != 0 ? 0x3b6a57b2 : 0;
    chk ^= (top & 2) != 0 ? 0x26508e6d : 0;
    chk ^= (top & 4) != 0 ? 0x1ea119fa : 0;
    chk ^= (top & 8) != 0 ? 0x3d4233dd : 0;
    chk ^= (top & 16) != 0 ? 0x2a1462b3 : 0;
    return chk;
  }
}
