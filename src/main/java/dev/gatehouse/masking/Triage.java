package dev.gatehouse.masking;

/**
 * The first pass over a value: an upper bound of the {@link Scanner} pre-filter result from one
 * loop of one table load, an OR, an add and a branch-free run update per character, so that most
 * values of a table (names, words, cities, statuses, codes, numbers, timestamps, sentences) are
 * settled here, and a value that arms a detector goes to it with little else run.
 *
 * <p>The result (packed as {@link Scanner#pack}) is exact in the presence bits, in the flags of
 * {@code @ = > : - . %} and in the longest token run. It only guesses the rarer flags ({@link
 * #GUESSED}: {@code ::} or seven colons from a colon, three dots between digits from a dot and four
 * digits, five dashes in a row from a dash, an IBAN start from two upper-case letters (or a long
 * token run) and two digits), which {@link #exact} settles when a detector that needs one is armed
 * by the guess, and it bounds the digit runs by the digit count (the phone and SSN flags from 8 and
 * 9 digits), which {@link Scanner#digitRuns} settles when a digit-run detector is armed by it.
 * Gates that fail on the bound fail on the exact result.
 *
 * <p>Eight bytes at a time (SWAR on longs) was tried for the UTF-8 entry point: with the classes
 * the gates need (digits, upper case, token characters, six punctuation characters, presence of
 * letters) it took about as long per byte as this loop on the benchmark machine, so it was not
 * kept. The run update is branch-free because in real rows the token/non-token pattern is not
 * predictable.
 *
 * <p>A multi-byte UTF-8 character (and, in a String, any character from U+0080) has no class, as in
 * the pre-filter.
 */
final class Triage {
  private Triage() {}

  // One table entry per character holds, from bit 0: the 32 presence bits of Scanner.PRESENT,
  // the classes below, and at bits 48 and 56 a count of 1 for a digit and an upper-case letter. The
  // loop ORs the entries (presence and classes) and adds them (the counts: the sum of at most
  // BLOCK entries below bit 40 stays below bit 48, so the count fields are exact).
  private static final long K_TOKEN = 1L << 32;
  private static final long K_AT = 1L << 33;
  private static final long K_EQ = 1L << 34;
  private static final long K_GT = 1L << 35;
  private static final long K_COLON = 1L << 36;
  private static final long K_DASH = 1L << 37;
  private static final long K_DOT = 1L << 38;
  private static final long K_PCT = 1L << 39;
  private static final long K_DIGIT_COUNT = 1L << 48;
  private static final long K_UPPER_COUNT = 1L << 56;

  /** Characters per block, so that the 8-bit count fields cannot overflow. */
  private static final int BLOCK = 255;

  /**
   * Entries of the characters U+0000-U+00FF (token characters as in the pre-filter); higher ones
   * have none, like every non-ASCII character in the pre-filter.
   */
  private static final long[] CLASS = new long[256];

  /** {@link #CLASS} for the characters of a String: U+00EF (ï) is a letter, not a lead byte. */
  private static final long[] CHAR_CLASS = new long[256];

  static {
    for (int c = 0; c < 128; c++) {
      long k = Scanner.presentBit(c) & 0xffffffffL;
      boolean digit = c >= '0' && c <= '9';
      boolean upper = c >= 'A' && c <= 'Z';
      if (digit || upper || (c >= 'a' && c <= 'z') || "_-+/=".indexOf(c) >= 0) {
        k |= K_TOKEN;
      }
      k |= digit ? K_DIGIT_COUNT : 0;
      k |= upper ? K_UPPER_COUNT : 0;
      k |= c == '@' ? K_AT : c == '=' ? K_EQ : c == '>' ? K_GT : 0;
      k |= c == ':' ? K_COLON : c == '-' ? K_DASH : c == '.' ? K_DOT : 0;
      k |= c == '%' ? K_PCT : 0;
      CLASS[c] = k;
    }
    // The lead byte EF of U+FF20 (the full-width at, read as @ by the scanner): a value with one
    // arms the email detector (as does the character itself, or a) in a String, see chars).
    // And of U+FF1A and U+FF1D, the full-width colon and equals sign (read as : and =, e.g. after
    // the word for password in Chinese: SecretDetectors.NonLatinWords).
    System.arraycopy(CLASS, 0, CHAR_CLASS, 0, 256);
    CLASS[0xef] = K_AT | K_COLON | K_EQ;
  }

  /**
   * The bound for a String: exact in the presence bits, the punctuation flags, the longest token
   * run and the IBAN flag, with the digit count as the numeric run (and the phone and SSN flags
   * from 8 and 9 digits).
   */
  static long chars(String s) {
    int n = s.length();
    if (n > BLOCK) {
      return charsInBlocks(s);
    }
    long or = 0;
    long sum = 0;
    int run = 0;
    int maxRun = 0;
    int chars = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      long e = c < 256 ? CHAR_CLASS[c] : wideClass(c);
      or |= e;
      sum += e;
      chars |= c;
      // Branch-free: in a real table the token/non-token pattern is not predictable.
      run = (run + 1) & -(int) ((e >>> 32) & 1); // K_TOKEN
      maxRun = Math.max(maxRun, run);
    }
    return wide(bound(or, (int) (sum >>> 48) & 0xff, (int) (sum >>> 56), maxRun), chars);
  }

  /** {@link #chars} of a long text, in blocks so that the count fields cannot overflow. */
  private static long charsInBlocks(String s) {
    int n = s.length();
    long or = 0;
    int digits = 0;
    int uppers = 0;
    int run = 0;
    int maxRun = 0;
    int chars = 0;
    for (int base = 0; base < n; base += BLOCK) {
      int lim = Math.min(n, base + BLOCK);
      long sum = 0;
      for (int i = base; i < lim; i++) {
        char c = s.charAt(i);
        long e = c < 256 ? CHAR_CLASS[c] : wideClass(c);
        or |= e;
        sum += e;
        chars |= c;
        run = (run + 1) & -(int) ((e >>> 32) & 1);
        maxRun = Math.max(maxRun, run);
      }
      digits += (int) (sum >>> 48) & 0xff;
      uppers += (int) (sum >>> 56);
    }
    return wide(bound(or, digits, uppers, maxRun), chars);
  }

  /**
   * The class of a character from U+0100 on: the full-width and small commercial at, which {@code
   * Scanner#scanNormalized} reads as {@code @}, and the full-width colon and equals sign, which
   * only {@code SecretDetectors.NonLatinWords} reads as {@code :} and {@code =}.
   */
  private static long wideClass(char c) {
    return c == Checks.FULLWIDTH_AT || c == '\ufe6b'
        ? K_AT
        : c == '\uff1a' ? K_COLON : c == '\uff1d' ? K_EQ : 0;
  }

  /**
   * The text has a character from U+0080 on: it may have one that {@code Scanner#scanNormalized}
   * reads differently, and a detector that {@link Detector#needsNonAscii} may find something in it.
   * Set by {@link #chars} (in its loop, which ORs the characters anyway); for UTF-8 bytes the
   * scanner looks for a byte from 0x80 on only when such a detector may be armed ({@code
   * Scanner#withWide}), so that this loop stays as it was. The pre-filter and the quick pass do not
   * set it.
   */
  static final int F_WIDE = 1 << 14;

  private static long wide(long t, int chars) {
    return chars >= 0x80 ? t | (long) F_WIDE << 32 : t;
  }

  /** {@link #chars} over UTF-8 bytes (a multi-byte character has no class). */
  static long bytes(byte[] b, int off, int len) {
    if (len > BLOCK) {
      return bytesInBlocks(b, off, len);
    }
    long or = 0;
    long sum = 0;
    int run = 0;
    int maxRun = 0;
    for (int i = off; i < off + len; i++) {
      long e = CLASS[b[i] & 0xff];
      or |= e;
      sum += e;
      run = (run + 1) & -(int) ((e >>> 32) & 1);
      maxRun = Math.max(maxRun, run);
    }
    return bound(or, (int) (sum >>> 48) & 0xff, (int) (sum >>> 56), maxRun);
  }

  private static long bytesInBlocks(byte[] b, int off, int len) {
    int end = off + len;
    long or = 0;
    int digits = 0;
    int uppers = 0;
    int run = 0;
    int maxRun = 0;
    for (int base = off; base < end; base += BLOCK) {
      int lim = Math.min(end, base + BLOCK);
      long sum = 0;
      for (int i = base; i < lim; i++) {
        long e = CLASS[b[i] & 0xff];
        or |= e;
        sum += e;
        run = (run + 1) & -(int) ((e >>> 32) & 1);
        maxRun = Math.max(maxRun, run);
      }
      digits += (int) (sum >>> 48) & 0xff;
      uppers += (int) (sum >>> 56);
    }
    return bound(or, digits, uppers, maxRun);
  }

  /** The rarer flags a bound may only guess (see {@link #exact}). */
  static final int GUESSED =
      Detector.F_V6 | Detector.F_DOT3 | Detector.F_DASH5 | Detector.F_IBAN | Detector.F_COLON4;

  /**
   * {@code t} from {@link #chars} of {@code s} with the guessed flags it has settled: {@code ::} or
   * seven colons, three dots between digits, five dashes in a row, two letters followed by two
   * digits (with the JDK's vectorised String searches where they apply). Called only when a
   * detector that needs one of them is armed by the guess.
   */
  static long exact(long t, String s) {
    int f = Scanner.flagsOf(t);
    int g = f & GUESSED;
    f &= ~GUESSED;
    if ((g & Detector.F_V6) != 0 && (s.indexOf("::") >= 0 || count(s, ':', 7) >= 7)) {
      f |= Detector.F_V6;
    }
    if ((g & Detector.F_COLON4) != 0 && count(s, ':', 4) >= 4 && colon4(s)) {
      f |= Detector.F_COLON4;
    }
    if ((g & Detector.F_DOT3) != 0 && dot3(s)) {
      f |= Detector.F_DOT3;
    }
    if ((g & Detector.F_DASH5) != 0 && s.indexOf("-----") >= 0) {
      f |= Detector.F_DASH5;
    }
    if ((g & Detector.F_IBAN) != 0 && iban(s)) {
      f |= Detector.F_IBAN;
    }
    return Scanner.pack(Scanner.presentOf(t), f, Scanner.numRunOf(t), Scanner.tokenRunOf(t));
  }

  /** {@link #exact(long, String)} for {@link #bytes} of UTF-8 bytes. */
  static long exact(long t, byte[] b, int off, int len) {
    int f = Scanner.flagsOf(t);
    int g = f & GUESSED;
    f &= ~GUESSED;
    if ((g & (Detector.F_V6 | Detector.F_DOT3 | Detector.F_DASH5 | Detector.F_COLON4)) != 0) {
      f |= flags(b, off, len) & g;
    }
    if ((g & Detector.F_IBAN) != 0 && iban(b, off, len)) {
      f |= Detector.F_IBAN;
    }
    return Scanner.pack(Scanner.presentOf(t), f, Scanner.numRunOf(t), Scanner.tokenRunOf(t));
  }

  /** Whitespace that ends a run of {@link Detector#F_COLON4} colons. */
  static boolean isSpace(int c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  /** Four colons without whitespace between them ({@link Detector#F_COLON4}). */
  private static boolean colon4(String s) {
    int k = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      k = isSpace(c) ? 0 : k;
      if (c == ':' && ++k >= 4) {
        return true;
      }
    }
    return false;
  }

  private static int count(String s, char c, int atMost) {
    int k = 0;
    for (int i = s.indexOf(c); i >= 0 && k < atMost; i = s.indexOf(c, i + 1)) {
      k++;
    }
    return k;
  }

  /** Three dots between digits. */
  private static boolean dot3(String s) {
    int n = s.length();
    int dots = 0;
    for (int i = s.indexOf('.', 1); i > 0 && i + 1 < n && dots < 3; i = s.indexOf('.', i + 1)) {
      dots += isDigit(s.charAt(i - 1)) && isDigit(s.charAt(i + 1)) ? 1 : 0;
    }
    return dots >= 3;
  }

  /**
   * The pre-filter's V6, DOT3, DASH5 and COLON4 flags over bytes (as {@link Scanner#quick} has
   * them). Whitespace between colons (which ends a run of {@code F_COLON4} colons) is looked for
   * only between two colons, when the second is read: checking every byte for it made this pass
   * about a fifth slower on free text with a dotted address (where only {@code F_DOT3} is guessed).
   */
  private static int flags(byte[] b, int off, int len) {
    int end = off + len;
    int colons = 0;
    int tokenColons = 0;
    int lastColon = off;
    boolean colon4 = false;
    int dots = 0;
    int dashes = 0;
    boolean v6 = false;
    boolean dash5 = false;
    for (int i = off; i < end; i++) {
      int c = b[i];
      if (c == ':') {
        tokenColons = tokenColons > 0 && spaceBetween(b, lastColon + 1, i) ? 0 : tokenColons;
        lastColon = i;
        colon4 |= ++tokenColons >= 4;
        v6 |= ++colons >= 7 || (i > off && b[i - 1] == ':');
      } else if (c == '.') {
        dots += i > off && i + 1 < end && isDigit(b[i - 1]) && isDigit(b[i + 1]) ? 1 : 0;
      }
      dashes = c == '-' ? dashes + 1 : 0;
      dash5 |= dashes >= 5;
    }
    int f = v6 ? Detector.F_V6 : 0;
    f |= colon4 ? Detector.F_COLON4 : 0;
    f |= dots >= 3 ? Detector.F_DOT3 : 0;
    return f | (dash5 ? Detector.F_DASH5 : 0);
  }

  /** Whether {@code b[from, to)} has an {@link #isSpace} byte. */
  private static boolean spaceBetween(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (isSpace(b[i])) {
        return true;
      }
    }
    return false;
  }

  /** {@link #iban(String)} over UTF-8 bytes. */
  private static boolean iban(byte[] b, int off, int len) {
    int window = 0;
    for (int i = off; i < off + len; i++) {
      int c = b[i];
      int k = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? 1 : c >= '0' && c <= '9' ? 2 : 0;
      window = ((window << 2) | k) & 0xff;
      if (window == 0b01_01_10_10 && ibanStart(b, i - 3, off + len)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether an IBAN can start at {@code start}: a registered country code, then at least 15 letters
   * and digits, the shortest IBAN (Norway); single spaces, dashes or underscores between them only
   * when the country code is in capitals (the print form). An IBAN in lower case is one typed into
   * a form, compact: reading only that keeps the first pass's bound (a token run of 15) cheap.
   * Without this, every {@code jones88@example.com} would arm the IBAN pass.
   */
  static boolean ibanStart(byte[] b, int start, int end) {
    if (Checks.ibanLength((char) b[start], (char) b[start + 1]) == 0) {
      return false;
    }
    boolean spaces = isUpper(b[start]) && isUpper(b[start + 1]);
    int n = 0;
    for (int i = start; i < end && n < 15; i++) {
      int c = b[i];
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        n++;
      } else if (!spaces
          || (c != ' ' && c != '-' && c != '_')
          || i + 1 >= end
          || !isAlnum(b[i + 1])) {
        break;
      }
    }
    return n >= 15;
  }

  static boolean ibanStart(String s, int start) {
    if (Checks.ibanLength(s.charAt(start), s.charAt(start + 1)) == 0) {
      return false;
    }
    boolean spaces = isUpper(s.charAt(start)) && isUpper(s.charAt(start + 1));
    int n = 0;
    int end = s.length();
    for (int i = start; i < end && n < 15; i++) {
      char c = s.charAt(i);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        n++;
      } else if (!spaces
          || (c != ' ' && c != '-' && c != '_')
          || i + 1 >= end
          || !isAlnum(s.charAt(i + 1))) {
        break;
      }
    }
    return n >= 15;
  }

  /**
   * Two letters of a registered IBAN country followed by two digits and as many letters and digits
   * as the shortest IBAN, as every IBAN starts (written in either case).
   */
  private static boolean iban(String s) {
    int window = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      int k = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? 1 : c >= '0' && c <= '9' ? 2 : 0;
      window = ((window << 2) | k) & 0xff;
      if (window == 0b01_01_10_10 && ibanStart(s, i - 3)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isAlnum(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }

  private static boolean isUpper(int c) {
    return c >= 'A' && c <= 'Z';
  }

  private static boolean isDigit(int c) {
    return c >= '0' && c <= '9';
  }

  /**
   * The packed bound: presence and the flags of {@code @ = > : - . %} exact; {@code F_V6} guessed
   * from a colon, {@code F_DOT3} from a dot and four digits, {@code F_DASH5} from a dash, {@code
   * F_IBAN} from two upper-case letters, or a token run of 15, and two digits (see {@link #exact});
   * the digit count as the numeric run, and the phone and SSN flags from 8 and 9 digits (see {@link
   * Scanner#digitRuns}).
   */
  private static long bound(long or, int digits, int uppers, int maxTokenRun) {
    int f = PUNCT_FLAGS[(int) (or >>> 33) & 0x7f];
    f |= (or & K_DOT) != 0 && digits >= 4 ? Detector.F_DOT3 : 0;
    // An IBAN in capitals has two upper-case letters; one in lower case is written without spaces
    // (see ibanStart), so it is a token run of at least 15.
    f |= digits >= 2 && (uppers >= 2 || maxTokenRun >= 15) ? Detector.F_IBAN : 0;
    f |= digits >= 8 ? (digits >= 9 ? Detector.F_PHONE | Detector.F_SSN : Detector.F_PHONE) : 0;
    f |= digits >= 8 ? Detector.F_NUM8 : 0;
    return (or & 0xffffffffL)
        | ((long) f << 32)
        | ((long) Math.min(digits, 63) << 48)
        | ((long) Math.min(maxTokenRun, 1023) << 54);
  }

  /**
   * The flags for the classes {@code @ = > : - . %} (bits 33-39 of an entry, shifted down): exact
   * for the characters, guessed {@code F_V6} from a colon and {@code F_DASH5} from a dash.
   */
  private static final int[] PUNCT_FLAGS = new int[128];

  static {
    for (int k = 0; k < 128; k++) {
      long or = (long) k << 33;
      int f = 0;
      f |= (or & K_AT) != 0 ? Detector.F_AT : 0;
      f |= (or & K_EQ) != 0 ? Detector.F_EQ : 0;
      f |= (or & K_GT) != 0 ? Detector.F_GT : 0;
      f |= (or & K_COLON) != 0 ? Detector.F_COLON | Detector.F_V6 | Detector.F_COLON4 : 0;
      f |= (or & K_DASH) != 0 ? Detector.F_DASH | Detector.F_DASH5 : 0;
      f |= (or & K_DOT) != 0 ? Detector.F_ANYDOT : 0;
      f |= (or & K_PCT) != 0 ? Detector.F_PCT : 0;
      PUNCT_FLAGS[k] = f;
    }
  }
}
