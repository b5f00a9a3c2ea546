package dev.gatehouse.masking;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs a set of detectors over text, gated so that ordinary values cost one pass:
 *
 * <ol>
 *   <li>{@link Triage}: one loop (a table load, an OR, an add and a branch-free run update per
 *       character) gives an upper bound of the pre-filter result, exact in presence, punctuation
 *       flags and token runs. Names, words, codes, numbers, timestamps and sentences arm no
 *       detector here and are done.
 *   <li>Only when an IP, IBAN or PEM detector is armed by a flag the first pass guesses ({@code
 *       ::}, dotted quads, five dashes, an IBAN start), {@link Triage#exact} settles it; only when
 *       a digit-run detector (phone, SSN, card) is armed by the digit count, {@link #digitRuns}
 *       bounds the runs, lead digits and groupings (dates, times, amounts and order numbers come
 *       out clean).
 *   <li>Gates: each detector's needs (flags, minimum runs, keyword characters present) are
 *       evaluated for all detectors at once as bit masks (keyword presence with four table
 *       lookups); trigger keywords are then searched only for keyword-gated detectors that passed.
 *       Only armed detectors run.
 * </ol>
 *
 * <p>Every bound is at least the exact pre-filter result ({@link #prefilter}, still used when a
 * profile has more than 64 detectors), so the armed detectors include every detector the exact
 * gates arm, except one that needs a longer value than this one ({@link Detector#minLength}: an
 * IBAN has at least 15 characters); running one more detector never changes what is found. {@code
 * ScannerGatesTest} checks on the efficacy corpus that the gated scan finds exactly what every
 * detector finds on the whole text, {@code TriageTest} that the bounds hold on the corpus,
 * adversarial and random text. The passes also run over UTF-8 bytes with the same result, so a
 * protocol can skip decoding values that arm nothing ({@link #armedUtf8}).
 */
final class Scanner {
  private static final Comparator<Finding> BY_PRIORITY =
      Comparator.comparingInt(Finding::priority)
          .reversed()
          .thenComparing(Comparator.comparingInt((Finding f) -> f.end() - f.start()).reversed())
          .thenComparingInt(Finding::start);

  private final Detector[] detectors;
  private final long[] keywordBit;
  private final int[] needFlags;
  private final int[] minNumeric;
  private final int[] minToken;

  /** Per keyword-gated detector: the presence bits of each of its keywords (see PRESENT). */
  private final int[][] keywordPresence;

  /** Keyword trigger table indexed by the first two lower-cased ASCII characters. */
  private final String[][] keywordsByBigram = new String[128 * 128][];

  private final long[][] bitsByBigram = new long[128 * 128][];

  /** One bit per bigram that starts some keyword: a 2 KB table that stays in L1 cache. */
  private final long[] bigramBits = new long[128 * 128 / 64];

  private final int maxKeywordLength;

  /** Flags any detector needs, and the detectors that need none (see {@link #quickReject}). */
  private final int unionNeed;

  private final int[] noFlagDetectors;

  private final boolean bitGates;
  private final long[] flagDetectors;
  private final long[] numOk;
  private final long[] tokOk;
  private final long noFlagMask;

  /** Per detector: {@link Detector#needsNonAscii}; as bits in {@link #wideOnly}. */
  private final boolean[] needsWide;

  private final long wideOnly;

  /**
   * The flags of the detectors that {@link Detector#needsNonAscii} (-1 when one needs none, 0 when
   * there is no such detector): UTF-8 bytes are looked at for a byte from 0x80 on only when one of
   * them is set ({@link #withWide}), so that the first pass over bytes stays as it was.
   */
  private final int wideNeed;

  private static final long WIDE = (long) Triage.F_WIDE << 32;

  /**
   * {@link #WIDE} and the first pass's {@code :} and {@code =}, carried into the pre-filter's
   * result for the gates of a profile with more than 64 detectors: the pre-filter reads ASCII only,
   * and the full-width {@code ：} and {@code ＝} (U+FF1A, U+FF1D), which only {@code
   * SecretDetectors.NonLatinWords} reads, arm the first pass ({@code Triage#wideClass}; for bytes,
   * their lead byte EF). Only more detectors are armed by them, never fewer.
   */
  private static final long CARRIED = WIDE | (long) (Detector.F_COLON | Detector.F_EQ) << 32;

  /**
   * Detectors whose gates the quick pass decides exactly (only exact flags, no numeric run; token
   * runs and presence are exact): when only these are armed by it, the pre-filter is skipped.
   */
  private final long quickExact;

  private final long presenceGated;

  /**
   * Detectors (bits) that can find something in a value of {@code len} characters, for {@code len}
   * below {@link #LEN_CAP}; every detector for longer values (see {@link Detector#minLength}).
   */
  private final long[] lenOk = new long[LEN_CAP];

  private static final int LEN_CAP = 64;

  /**
   * Keyword-gated detectors with a gate of their own on ASCII bytes ({@link
   * Detector#mayFindAscii}), checked before their keywords are searched for.
   */
  private final long asciiGated;

  /** Detectors that need a flag {@link Triage} only guesses. */
  private final long guessGated;

  /**
   * The bit of the built-in email detector (0 when the profile has none or more than 64 detectors),
   * and the detector: a value that arms only it (an email column) is searched and masked on its
   * UTF-8 bytes (see {@link Profile#redactUtf8Bytes}).
   */
  final long emailBit;

  final PiiDetectors.Email email;

  /**
   * The bits of the parts of {@link #email} that read addresses written out ({@code
   * PiiDetectors.Email.Obfuscated}): every email value with the letters of their markers arms them,
   * and {@link PiiDetectors.Email#findAscii} leaves a value with a marker to the String path, so
   * that a value that arms only these and the email detector is still masked on its bytes.
   */
  final long emailWrittenOut;

  /**
   * The bits of the worded card security code parts ({@code PiiDetectors.Cvv.Worded}), which {@link
   * #armedUtf8} arms only with {@link #CODE_AFTER_NAME}.
   */
  final long wordedCode;

  Scanner(List<Detector> list) {
    this.detectors = list.stream().flatMap(d -> d.parts().stream()).toArray(Detector[]::new);
    int n = detectors.length;
    keywordBit = new long[n];
    needFlags = new int[n];
    minNumeric = new int[n];
    minToken = new int[n];
    keywordPresence = new int[n][];
    int maxKw = 0;
    int nextBit = 0;
    for (int d = 0; d < n; d++) {
      Detector det = detectors[d];
      needFlags[d] = det.needFlags();
      minNumeric[d] = det.minNumericRun();
      minToken[d] = det.minTokenRun();
      List<String> kws = det.keywords();
      if (kws.isEmpty()) {
        continue;
      }
      // More than 63 keyword-gated detectors share the last bit: still correct, a bit slower.
      long bit = 1L << Math.min(nextBit++, 63);
      keywordBit[d] = bit;
      for (String kw : kws) {
        String k = kw.toLowerCase(Locale.ROOT);
        if (k.length() < 2 || k.charAt(0) >= 128 || k.charAt(1) >= 128) {
          keywordBit[d] = 0; // cannot be indexed: run ungated
          continue;
        }
        maxKw = Math.max(maxKw, k.length());
        int idx = k.charAt(0) * 128 + k.charAt(1);
        bigramBits[idx >>> 6] |= 1L << idx;
        String[] ks = keywordsByBigram[idx];
        long[] bs = bitsByBigram[idx];
        int found = -1;
        for (int q = 0; ks != null && q < ks.length; q++) {
          if (ks[q].equals(k)) {
            found = q;
          }
        }
        if (found >= 0) {
          bs[found] |= bit;
        } else {
          int len = ks == null ? 0 : ks.length;
          String[] nks = new String[len + 1];
          long[] nbs = new long[len + 1];
          if (ks != null) {
            System.arraycopy(ks, 0, nks, 0, len);
            System.arraycopy(bs, 0, nbs, 0, len);
          }
          nks[len] = k;
          nbs[len] = bit;
          keywordsByBigram[idx] = nks;
          bitsByBigram[idx] = nbs;
        }
      }
      if (keywordBit[d] != 0) {
        int kb = Long.numberOfTrailingZeros(keywordBit[d]);
        String[] mine = kws.stream().map(k -> k.toLowerCase(Locale.ROOT)).toArray(String[]::new);
        // a bit shared by several detectors (more than 63 keyword-gated) keeps all their keywords
        keywordsOfBit[kb] = keywordsOfBit[kb] == null ? mine : concat(keywordsOfBit[kb], mine);
        keywordPresence[d] = new int[kws.size()];
        for (int q = 0; q < kws.size(); q++) {
          keywordPresence[d][q] = presenceOf(kws.get(q).toLowerCase(Locale.ROOT));
        }
      }
    }
    maxKeywordLength = maxKw;
    int union = 0;
    int noFlag = 0;
    for (int d = 0; d < n; d++) {
      union |= needFlags[d];
      noFlag += needFlags[d] == 0 ? 1 : 0;
    }
    unionNeed = union;
    // With at most 64 detectors the gates are evaluated for all detectors at once, as bit masks:
    // a few table loads instead of a loop over detectors per value.
    bitGates = n <= 64;
    flagDetectors = new long[16];
    numOk = new long[NUM_CAP + 1];
    tokOk = new long[TOK_CAP + 1];
    long none = 0;
    long kwd = 0;
    for (int d = 0; d < n && bitGates; d++) {
      long bit = 1L << d;
      if (needFlags[d] == 0) {
        none |= bit;
      }
      for (int f = 0; f < 16; f++) {
        if ((needFlags[d] & (1 << f)) != 0) {
          flagDetectors[f] |= bit;
        }
      }
      for (int k = 0; k <= NUM_CAP; k++) {
        numOk[k] |= k >= minNumeric[d] ? bit : 0;
      }
      for (int k = 0; k <= TOK_CAP; k++) {
        tokOk[k] |= k >= minToken[d] ? bit : 0;
      }
      if (keywordPresence[d] != null) {
        kwd |= bit;
      }
    }
    noFlagMask = none;
    needsWide = new boolean[n];
    long wide = 0;
    int wideFlags = 0;
    for (int d = 0; d < n; d++) {
      needsWide[d] = detectors[d].needsNonAscii();
      wide |= needsWide[d] && bitGates ? 1L << d : 0;
      wideFlags |= needsWide[d] ? (needFlags[d] == 0 ? -1 : needFlags[d]) : 0;
    }
    wideOnly = wide;
    wideNeed = wideFlags;
    for (int len = 0; len < LEN_CAP; len++) {
      for (int d = 0; d < n && bitGates; d++) {
        lenOk[len] |= len >= detectors[d].minLength() ? 1L << d : 0;
      }
    }
    long exact = 0;
    for (int d = 0; d < n && bitGates; d++) {
      if ((needFlags[d] & ~QUICK_EXACT_FLAGS) == 0 && minNumeric[d] == 0) {
        exact |= 1L << d;
      }
    }
    quickExact = exact;
    presenceGated = kwd;
    long guess = 0;
    for (int d = 0; d < n && bitGates; d++) {
      guess |= (needFlags[d] & Triage.GUESSED) != 0 ? 1L << d : 0;
    }
    guessGated = guess;
    long own = 0;
    for (int d = 0; d < n && bitGates; d++) {
      own |= keywordPresence[d] != null && detectors[d].hasAsciiGate() ? 1L << d : 0;
    }
    asciiGated = own;
    long eb = 0;
    PiiDetectors.Email em = null;
    for (int d = 0; d < n && bitGates && em == null; d++) {
      if (detectors[d] instanceof PiiDetectors.Email e) {
        eb = 1L << d;
        em = e;
      }
    }
    emailBit = eb;
    email = em;
    long wo = 0;
    for (int d = 0; d < n && bitGates && em != null; d++) {
      wo |= detectors[d] instanceof PiiDetectors.Email.Obfuscated o && o.of(em) ? 1L << d : 0;
    }
    emailWrittenOut = wo;
    long wc = 0;
    for (int d = 0; d < n && bitGates; d++) {
      wc |= detectors[d] instanceof PiiDetectors.Cvv.Worded ? 1L << d : 0;
    }
    wordedCode = wc;
    java.util.Map<Integer, Integer> maskIndex = new java.util.LinkedHashMap<>();
    long[][] sets = new long[PRESENCE_WORDS][n];
    for (int d = 0; d < n; d++) {
      for (int q = 0; keywordPresence[d] != null && q < keywordPresence[d].length; q++) {
        int idx = maskIndex.computeIfAbsent(keywordPresence[d][q], m -> maskIndex.size());
        if (idx < 64 * PRESENCE_WORDS) {
          sets[idx >> 6][d] |= 1L << (idx & 63);
        }
      }
    }
    long[] byMask = new long[64 * PRESENCE_WORDS];
    long[] byWord = new long[PRESENCE_WORDS];
    for (int d = 0; d < Math.min(n, 64); d++) {
      for (int w = 0; w < PRESENCE_WORDS; w++) {
        byWord[w] |= sets[w][d] != 0 ? 1L << d : 0;
        for (long m = sets[w][d]; m != 0; m &= m - 1) {
          byMask[64 * w + Long.numberOfTrailingZeros(m)] |= 1L << d;
        }
      }
    }
    keywordSets = sets;
    maskDetectors = byMask;
    wordDetectors = byWord;
    highKeywordSets = byWord[1] | byWord[2] | byWord[3];
    int[] masks = maskIndex.keySet().stream().mapToInt(Integer::intValue).toArray();
    presenceTables = masks.length <= 64 * PRESENCE_WORDS ? presenceTables(masks) : null;
    keywordLetterSets = masks.length;
    boolean letters = true;
    for (int q = 64; q < masks.length; q++) {
      letters &= (masks[q] & LETTERS) != 0;
    }
    highMasksHaveLetters = letters;
    noFlagDetectors = new int[noFlag];
    for (int d = 0, k = 0; d < n; d++) {
      if (needFlags[d] == 0) {
        noFlagDetectors[k++] = d;
      }
    }
  }

  private static String[] concat(String[] a, String[] b) {
    String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  boolean isEmpty() {
    return detectors.length == 0;
  }

  List<Detector> detectors() {
    return List.of(detectors);
  }

  int maxKeywordLength() {
    return maxKeywordLength;
  }

  private static final int C_DIGIT = 1;
  private static final int C_TOKEN = 2;
  private static final int C_NUMSEP = 4;
  private static final int C_LETTER = 8;
  private static final int C_PUNCT = 16;

  /** Character classes of ASCII characters, so the pre-filter does one table load per char. */
  private static final byte[] CLASS = new byte[128];

  private static final byte[] LOWER = new byte[128];

  /**
   * Presence bit of each ASCII character (letters case-insensitively, all digits share one bit,
   * other characters share a few): a keyword can occur only if all its characters' bits are
   * present, so values made of digits and separators (timestamps, amounts) skip the keyword scan.
   */
  private static final int[] PRESENT = new int[128];

  /**
   * For the quick pass: the presence bits plus bits for {@code @ = > %}, and bit 63 for a digit (so
   * that {@code e >>> 63} counts digits without a branch).
   */
  private static final long[] QUICK = new long[128];

  private static final long Q_AT = 1L << 32;
  private static final long Q_EQ = 1L << 33;
  private static final long Q_GT = 1L << 34;
  private static final long Q_PCT = 1L << 35;
  private static final long Q_DIGIT = 1L << 63;
  private static final long Q_TOKEN = 1L << 62;

  /**
   * Bits 56-58: a 3-bit class per character for a window over the last four characters (1 letter, 2
   * digit, 3 colon, 4 dot), so that the quick pass computes the IBAN, IPv4 and IPv6 flags exactly.
   */
  private static final int Q_WINDOW_SHIFT = 56;

  /** Letter, letter, digit, digit: an IBAN-like start (in either case). */
  private static final int IBAN_WINDOW = 0b001_001_010_010;

  /**
   * A non-ASCII character: no presence bit, no class (as in the pre-filter, so presence is exact).
   */
  private static final long Q_NON_ASCII = 0;

  /** Flags the quick pass computes exactly (the others it can only over-approximate). */
  private static final int QUICK_EXACT_FLAGS =
      Detector.F_AT
          | Detector.F_EQ
          | Detector.F_GT
          | Detector.F_COLON
          | Detector.F_DASH
          | Detector.F_ANYDOT
          | Detector.F_PCT
          | Detector.F_IBAN
          | Detector.F_V6
          | Detector.F_DOT3
          | Detector.F_DASH5
          | Detector.F_COLON4;

  private static final int P_DASH = 1 << 27;
  private static final int P_DOT = 1 << 28;
  private static final int P_COLON = 1 << 29;

  static {
    for (int c = 0; c < 128; c++) {
      int k = 0;
      if (c >= '0' && c <= '9') {
        k |= C_DIGIT | C_TOKEN;
      }
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || "_-+/=".indexOf(c) >= 0) {
        k |= C_TOKEN;
      }
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
        k |= C_LETTER; // an IBAN's country code, in either case
      }
      // '+' is not a separator inside a number for any detector (it only starts a phone number);
      // '_' is one between card groups (4350_3359_7478_2425, see Card), and so are a tab and
      // '#' (4526#0181#5908#3012); VT and FF too (PiiDetectors.dotOrControl).
      if (" -.()/_#\t\u000b\u000c".indexOf(c) >= 0) {
        k |= C_NUMSEP;
      }
      if ("@:=>-.%".indexOf(c) >= 0) {
        k |= C_PUNCT;
      }
      if (c == 0 || c == '\b' || c == '\r') {
        k |= C_NUMSEP; // read as invisible inside a number by scanNormalized (hasControls)
      }
      CLASS[c] = (byte) k;
      LOWER[c] = (byte) (c >= 'A' && c <= 'Z' ? c | 0x20 : c);
      int lc = LOWER[c];
      int bit;
      if (lc >= 'a' && lc <= 'z') {
        bit = lc - 'a';
      } else if (lc >= '0' && lc <= '9') {
        bit = 26;
      } else if (lc == '-') {
        bit = 27;
      } else if (lc == '.') {
        bit = 28;
      } else if (lc == ':') {
        bit = 29;
      } else if (lc == '/') {
        bit = 30;
      } else {
        bit = 31;
      }
      PRESENT[c] = 1 << bit;
      long q = PRESENT[c] & 0xffffffffL;
      q |= c == '@' ? Q_AT : c == '=' ? Q_EQ : c == '>' ? Q_GT : c == '%' ? Q_PCT : 0;
      q |= c >= '0' && c <= '9' ? Q_DIGIT : 0;
      q |= (CLASS[c] & C_TOKEN) != 0 ? Q_TOKEN : 0;
      boolean letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
      int w = letter ? 1 : c >= '0' && c <= '9' ? 2 : 0;
      q |= (long) w << Q_WINDOW_SHIFT;
      QUICK[c] = q;
    }
  }

  /** The presence bit of an ASCII character. */
  static int presentBit(int c) {
    return PRESENT[c];
  }

  /** The presence bits a text needs to possibly contain {@code kw}. */
  private static int presenceOf(String kw) {
    int p = 0;
    for (int k = 0; k < kw.length(); k++) {
      char c = kw.charAt(k);
      p |= c < 128 ? PRESENT[c] : 0;
    }
    return p;
  }

  // Packed pre-filter result (one long, so that the per-value path allocates nothing): presence
  // bits 0-31, flags 32-47, longest numeric run (capped at 63) 48-53, longest token run (capped at
  // 1023) 54-63. Triage.bound packs the same layout itself.
  private static final int NUM_CAP = 63;
  private static final int TOK_CAP = 1023;

  static long pack(int present, int flags, int maxNumRun, int maxTokenRun) {
    return (present & 0xffffffffL)
        | ((long) (flags & 0xffff) << 32)
        | ((long) Math.min(maxNumRun, NUM_CAP) << 48)
        | ((long) Math.min(maxTokenRun, TOK_CAP) << 54);
  }

  static int presentOf(long st) {
    return (int) st;
  }

  static int flagsOf(long st) {
    return (int) (st >>> 32) & 0xffff;
  }

  static int numRunOf(long st) {
    return (int) (st >>> 48) & NUM_CAP;
  }

  static int tokenRunOf(long st) {
    return (int) (st >>> 54) & TOK_CAP;
  }

  /**
   * Phone numbers need 8 digits in a run counted from a {@code +}, {@code (} or a group's leading
   * 0, or end in NANP groups of 3, 3 and 4 digits (tracked as the lengths of the last three digit
   * groups of a run).
   */
  private static final int PHONE_LEAD = 8;

  /**
   * The most characters between two digits of one numeric run: three, as in a card grouped by
   * {@code " - "} ({@code 4350 - 3359 - 7478 - 2425}) or a phone number by {@code " / "} ({@code
   * 030 / 1234567}).
   */
  private static final int RUN_GAP = 4;

  /**
   * Digit groups (the last one {@code g}, then {@code g1}, {@code g2}, {@code g3} before it) that
   * end a phone layout read without a lead: NANP 3-3-4, China 3-4-4 ({@code 138-0013-8000}), India
   * 2-5-5 ({@code 91-98765-43210}), Australia 4-3-3 ({@code 1300 123 456}), Spain 3-2-2-2 ({@code
   * 612 34 56 78}), Russia 3-3-2-2 after the trunk 8 ({@code 8-800-555-35-35}). {@link #digitRuns}
   * reads the same shapes ({@link #phoneGroups}).
   */
  private static boolean phoneShape(int g, int g1, int g2, int g3) {
    return (g == 4 && g1 == 3 && g2 == 3)
        || (g == 4 && g1 == 4 && g2 == 3)
        || (g == 5 && g1 == 5 && g2 == 2)
        || (g == 3 && g1 == 3 && g2 == 4)
        || (g == 2 && g1 == 2 && g2 == 2 && g3 == 3)
        // Russia and Kazakhstan without parentheses: 8 912 345 67 89, 8-800-555-35-35
        || (g == 2 && g1 == 2 && g2 == 3 && g3 == 3)
        // Spain's two-digit provincial prefixes: 91 676 18 21 (red team mask20)
        || (g == 2 && g1 == 2 && g2 == 3 && g3 == 2);
  }

  /** {@link #phoneShape} of the completed groups packed by {@link #digitRuns} (5 bits each). */
  private static boolean phoneGroups(int groups) {
    return phoneShape(groups & 31, (groups >>> 5) & 31, (groups >>> 10) & 31, (groups >>> 15) & 31);
  }

  private static boolean isDigitChar(int c) {
    return c >= '0' && c <= '9';
  }

  /**
   * The pre-filter over a String. Kept in step with {@link #prefilter(byte[], int, int)}: both
   * compute the same result for a text and its UTF-8 bytes (non-ASCII characters, one char or
   * several bytes, have no class and break every run, so runs, flags and presence agree).
   */
  static long prefilter(String s) {
    int n = s.length();
    int flags = 0;
    int present = 0;
    int colons = 0;
    int tokenColons = 0; // colons since the last whitespace (F_COLON4)
    int dotDigits = 0;
    int dashes = 0;
    int numRun = 0;
    int maxNumRun = 0;
    int lastDigit = -10;
    int lead = -1;
    int group = 0;
    int group1 = 0;
    int group2 = 0;
    int group3 = 0;
    int tokenRun = 0;
    int maxTokenRun = 0;
    int prevCls = 0;
    int prev2Cls = 0;
    int prev3Cls = 0;
    int prev = 0;
    for (int i = 0; i < n; i++) {
      int c = s.charAt(i);
      tokenColons = Triage.isSpace(c) ? 0 : tokenColons;
      int cls;
      if (c < 128) {
        cls = CLASS[c];
        present |= PRESENT[c];
      } else {
        // between card groups (see Card) and an SSN's groups (536–22–1234, see Ssn), and the
        // spaces and dashes that scanNormalized reads as ASCII ones (4111 1111…)
        cls =
            Checks.isNoBreakSpace(c) || Checks.isFoldedSeparator(c) || Checks.isInvisible(c)
                ? C_NUMSEP
                : 0;
      }
      if ((cls & C_DIGIT) != 0) {
        if (i - lastDigit <= RUN_GAP) {
          numRun++;
          if ((prevCls & C_DIGIT) == 0) {
            group3 = group2;
            group2 = group1;
            group1 = group;
            group = 0;
          }
        } else {
          numRun = 1;
          lead = -1;
          group = group1 = group2 = group3 = 0;
        }
        group++;
        lastDigit = i;
        if (lead < 0 && (prev == '+' || prev == '(' || (c == '0' && (prevCls & C_DIGIT) == 0))) {
          lead = numRun;
        }
        if (numRun > maxNumRun) {
          maxNumRun = numRun;
        }
        if (lead >= 0 && numRun - lead + 1 >= PHONE_LEAD) {
          flags |= Detector.F_PHONE;
        }
        if (group >= 9 || (group == 4 && group1 == 2 && group2 == 3)) {
          flags |= Detector.F_SSN;
        }
        flags |= group >= 8 ? Detector.F_NUM8 : 0;
        if ((prevCls & C_DIGIT) != 0
            && (prev2Cls & C_LETTER) != 0
            && (prev3Cls & C_LETTER) != 0
            && (flags & Detector.F_IBAN) == 0
            && Triage.ibanStart(s, i - 3)) {
          flags |= Detector.F_IBAN;
        }
        if (prev == '.' && (prev2Cls & C_DIGIT) != 0 && ++dotDigits >= 3) {
          flags |= Detector.F_DOT3;
        }
        dashes = 0; // five dashes in a row, as the flag says (and quick and Triage compute it)
      } else {
        if ((prevCls & C_DIGIT) != 0 && phoneShape(group, group1, group2, group3)) {
          flags |= Detector.F_PHONE; // NANP 415 555 0100 and the layouts of phoneShape
        }
        if ((prevCls & C_DIGIT) != 0 && num8Shape(group, group1, group2)) {
          flags |= Detector.F_NUM8;
        }
        if ((cls & C_NUMSEP) == 0) {
          lastDigit = -10;
        }
        if ((cls & C_PUNCT) != 0) {
          if (c == ':') {
            colons++;
            tokenColons++;
          }
          flags |= punct(c, prev, colons, tokenColons);
          if (c == '-') {
            if (++dashes >= 5) {
              flags |= Detector.F_DASH5;
            }
          } else {
            dashes = 0;
          }
        } else {
          dashes = 0;
        }
      }
      if ((cls & C_TOKEN) != 0) {
        if (++tokenRun > maxTokenRun) {
          maxTokenRun = tokenRun;
        }
      } else {
        tokenRun = 0;
      }
      prev3Cls = prev2Cls;
      prev2Cls = prevCls;
      prevCls = cls;
      prev = c;
    }
    if ((prevCls & C_DIGIT) != 0 && phoneShape(group, group1, group2, group3)) {
      flags |= Detector.F_PHONE;
    }
    if ((prevCls & C_DIGIT) != 0 && num8Shape(group, group1, group2)) {
      flags |= Detector.F_NUM8;
    }
    return pack(present, flags, maxNumRun, maxTokenRun);
  }

  /** The pre-filter over UTF-8 bytes; see {@link #prefilter(String)}. */
  static long prefilter(byte[] b, int off, int len) {
    int flags = 0;
    int present = 0;
    int colons = 0;
    int tokenColons = 0; // colons since the last whitespace (F_COLON4)
    int dotDigits = 0;
    int dashes = 0;
    int numRun = 0;
    int maxNumRun = 0;
    int lastDigit = -10;
    int lead = -1;
    int group = 0;
    int group1 = 0;
    int group2 = 0;
    int group3 = 0;
    int tokenRun = 0;
    int maxTokenRun = 0;
    int prevCls = 0;
    int prev2Cls = 0;
    int prev3Cls = 0;
    int prev = 0;
    // Positions are byte offsets less the continuation bytes of no-break spaces (which join
    // numeric runs): distances between ASCII characters then differ from char offsets only across
    // other non-ASCII characters, which reset the numeric run anyway.
    int skipped = 0;
    for (int i = 0; i < len; i++) {
      int c = b[off + i];
      tokenColons = Triage.isSpace(c) ? 0 : tokenColons;
      int cls;
      if (c >= 0) {
        cls = CLASS[c];
        present |= PRESENT[c];
      } else {
        int k = Checks.noBreakSpaceLength(b, off + i, off + len);
        k = k == 0 ? Checks.foldedSeparatorLength(b, off + i, off + len) : k;
        k = k == 0 ? Checks.invisibleLength(b, off + i, off + len) : k;
        cls = k > 0 ? C_NUMSEP : 0;
        i += Math.max(k - 1, 0);
        skipped += Math.max(k - 1, 0);
        c = 0x80; // any non-ASCII value: never compared with an ASCII character below
      }
      if ((cls & C_DIGIT) != 0) {
        if (i - skipped - lastDigit <= RUN_GAP) {
          numRun++;
          if ((prevCls & C_DIGIT) == 0) {
            group3 = group2;
            group2 = group1;
            group1 = group;
            group = 0;
          }
        } else {
          numRun = 1;
          lead = -1;
          group = group1 = group2 = group3 = 0;
        }
        group++;
        lastDigit = i - skipped;
        if (lead < 0 && (prev == '+' || prev == '(' || (c == '0' && (prevCls & C_DIGIT) == 0))) {
          lead = numRun;
        }
        if (numRun > maxNumRun) {
          maxNumRun = numRun;
        }
        if (lead >= 0 && numRun - lead + 1 >= PHONE_LEAD) {
          flags |= Detector.F_PHONE;
        }
        if (group >= 9 || (group == 4 && group1 == 2 && group2 == 3)) {
          flags |= Detector.F_SSN;
        }
        flags |= group >= 8 ? Detector.F_NUM8 : 0;
        if ((prevCls & C_DIGIT) != 0
            && (prev2Cls & C_LETTER) != 0
            && (prev3Cls & C_LETTER) != 0
            && (flags & Detector.F_IBAN) == 0
            && Triage.ibanStart(b, off + i - 3, off + len)) {
          flags |= Detector.F_IBAN;
        }
        if (prev == '.' && (prev2Cls & C_DIGIT) != 0 && ++dotDigits >= 3) {
          flags |= Detector.F_DOT3;
        }
        dashes = 0; // five dashes in a row, as the flag says (and quick and Triage compute it)
      } else {
        if ((prevCls & C_DIGIT) != 0 && phoneShape(group, group1, group2, group3)) {
          flags |= Detector.F_PHONE; // NANP 415 555 0100 and the layouts of phoneShape
        }
        if ((prevCls & C_DIGIT) != 0 && num8Shape(group, group1, group2)) {
          flags |= Detector.F_NUM8;
        }
        if ((cls & C_NUMSEP) == 0) {
          lastDigit = -10;
        }
        if ((cls & C_PUNCT) != 0) {
          if (c == ':') {
            colons++;
            tokenColons++;
          }
          flags |= punct(c, prev, colons, tokenColons);
          if (c == '-') {
            if (++dashes >= 5) {
              flags |= Detector.F_DASH5;
            }
          } else {
            dashes = 0;
          }
        } else {
          dashes = 0;
        }
      }
      if ((cls & C_TOKEN) != 0) {
        if (++tokenRun > maxTokenRun) {
          maxTokenRun = tokenRun;
        }
      } else {
        tokenRun = 0;
      }
      prev3Cls = prev2Cls;
      prev2Cls = prevCls;
      prevCls = cls;
      prev = c;
    }
    if ((prevCls & C_DIGIT) != 0 && phoneShape(group, group1, group2, group3)) {
      flags |= Detector.F_PHONE;
    }
    if ((prevCls & C_DIGIT) != 0 && num8Shape(group, group1, group2)) {
      flags |= Detector.F_NUM8;
    }
    return pack(present, flags, maxNumRun, maxTokenRun);
  }

  /**
   * Upper bounds of the pre-filter's digit-run results, from a pass that looks at digits and
   * numeric separators only: {@code F_PHONE} and {@code F_SSN} in bits 0-15 and the longest numeric
   * run in bits 16 and up. A numeric run of the pre-filter lies within one stretch of digits and
   * separators {@code " -.()/_"}, no-break spaces and en dashes (an SSN {@code 536–22–1234}; it
   * also ends at a gap of three separators; ignoring that only lengthens runs). Within a stretch,
   * the digits counted from its first phone lead ({@code +}, {@code (} or a group's leading 0)
   * bound the pre-filter's count from its lead, and the last groups of digits (remembered across
   * stretches, which only adds readings) give the SSN 3-2-4 grouping regardless of the separator,
   * and, once a stretch has three groups, the phone layouts of {@link #phoneShape} and the 3-3-3
   * and 4-4-4 groups of {@link Detector#F_NUM8} (the values of a COPY row do not add up to them).
   * Timestamps, dates, amounts and order numbers come out without either flag and with short runs.
   */
  static int digitRuns(String s) {
    int n = s.length();
    int flags = 0;
    int seg = 0;
    int maxSeg = 0;
    int fromLead = -1;
    int group = 0;
    int groups = 0;
    int inStretch = 0; // groups completed in the current stretch
    int prev = 0;
    for (int i = 0; i < n; i++) {
      int c = s.charAt(i);
      if (c >= '0' && c <= '9') {
        seg++;
        if (fromLead < 0 && (prev == '+' || prev == '(' || (c == '0' && !isDigitChar(prev)))) {
          fromLead = 0;
        }
        if (fromLead >= 0 && ++fromLead >= PHONE_LEAD) {
          flags |= Detector.F_PHONE;
        }
        if (++group >= 9 || (group == 4 && (groups & 0x3ff) == SSN_GROUPS)) {
          flags |= Detector.F_SSN;
        }
        flags |= group >= 8 ? Detector.F_NUM8 : 0;
      } else {
        if (group > 0) {
          groups = (groups << 5) | Math.min(group, 31);
          if (++inStretch >= 3) {
            flags |= phoneGroups(groups) ? Detector.F_PHONE : 0;
            flags |= num8Groups(groups) ? Detector.F_NUM8 : 0;
          }
          group = 0;
        }
        int k = c == 0x1b ? csiLength(s, i) : 0;
        if (k > 0) {
          i += k - 1; // a colour code: a separator, as in the byte version
        } else if (c >= 128
            ? !Checks.isNoBreakSpace(c) && !Checks.isFoldedSeparator(c) && !Checks.isInvisible(c)
            : (CLASS[c] & C_NUMSEP) == 0) {
          maxSeg = Math.max(maxSeg, seg);
          seg = 0;
          fromLead = -1;
          inStretch = 0;
        }
      }
      prev = c;
    }
    if (group > 0) {
      groups = (groups << 5) | Math.min(group, 31);
      if (++inStretch >= 3) {
        flags |= phoneGroups(groups) ? Detector.F_PHONE : 0;
        flags |= num8Groups(groups) ? Detector.F_NUM8 : 0;
      }
    }
    return flags | Math.min(Math.max(maxSeg, seg), NUM_CAP) << 16;
  }

  /**
   * {@link #digitRuns(String)} over UTF-8 bytes (a multi-byte character other than a no-break space
   * or an en dash ends a stretch).
   */
  static int digitRuns(byte[] b, int off, int len) {
    int end = off + len;
    int flags = 0;
    int seg = 0;
    int maxSeg = 0;
    int fromLead = -1;
    int group = 0;
    int groups = 0;
    int inStretch = 0; // groups completed in the current stretch
    int prev = 0;
    for (int i = off; i < end; i++) {
      int c = b[i];
      if (c >= '0' && c <= '9') {
        seg++;
        if (fromLead < 0 && (prev == '+' || prev == '(' || (c == '0' && !isDigitChar(prev)))) {
          fromLead = 0;
        }
        if (fromLead >= 0 && ++fromLead >= PHONE_LEAD) {
          flags |= Detector.F_PHONE;
        }
        if (++group >= 9 || (group == 4 && (groups & 0x3ff) == SSN_GROUPS)) {
          flags |= Detector.F_SSN;
        }
        flags |= group >= 8 ? Detector.F_NUM8 : 0;
      } else {
        // a byte the worded code's gate does not judge: a control but tab and LF, DEL, non-ASCII
        flags |= (c < 0x20 ? c != '\t' && c != '\n' : c == 0x7f) ? CODE_AFTER_NAME : 0;
        if (group > 0) {
          if ((group == 3 || group == 4) && PiiDetectors.Cvv.Worded.afterName(b, off, i - group)) {
            flags |= CODE_AFTER_NAME;
          }
          groups = (groups << 5) | Math.min(group, 31);
          if (++inStretch >= 3) {
            flags |= phoneGroups(groups) ? Detector.F_PHONE : 0;
            flags |= num8Groups(groups) ? Detector.F_NUM8 : 0;
          }
          group = 0;
        }
        if (c < 0 || (CLASS[c] & C_NUMSEP) == 0) {
          int k =
              c < 0 ? Checks.noBreakSpaceLength(b, i, end) : c == 0x1b ? csiLength(b, i, end) : 0;
          k = k == 0 && c < 0 ? Checks.foldedSeparatorLength(b, i, end) : k;
          k = k == 0 && c < 0 ? Checks.invisibleLength(b, i, end) : k;
          if (k > 0) {
            i += k - 1; // a no-break space or an en dash: a separator, as in the String version
          } else {
            maxSeg = Math.max(maxSeg, seg);
            seg = 0;
            fromLead = -1;
            inStretch = 0;
          }
        }
      }
      prev = c;
    }
    if (group > 0) {
      if ((group == 3 || group == 4) && PiiDetectors.Cvv.Worded.afterName(b, off, end - group)) {
        flags |= CODE_AFTER_NAME;
      }
      groups = (groups << 5) | Math.min(group, 31);
      if (++inStretch >= 3) {
        flags |= phoneGroups(groups) ? Detector.F_PHONE : 0;
        flags |= num8Groups(groups) ? Detector.F_NUM8 : 0;
      }
    }
    return flags | Math.min(Math.max(maxSeg, seg), NUM_CAP) << 16;
  }

  /** {@link #num8Shape} of the completed groups packed by {@link #digitRuns}. */
  private static boolean num8Groups(int groups) {
    return num8Shape(groups & 31, (groups >>> 5) & 31, (groups >>> 10) & 31);
  }

  /** Digit groups 3-3-3 or 4-4-4 (the last {@code g}), see {@link Detector#F_NUM8}. */
  private static boolean num8Shape(int g, int g1, int g2) {
    return g == g1 && g1 == g2 && (g == 3 || g == 4);
  }

  /** Completed digit groups of 3 and 2 (5 bits each, latest lowest): an SSN's 4 digits follow. */
  private static final int SSN_GROUPS = 3 << 5 | 2;

  /** {@code st} with its phone and SSN flags and numeric run replaced by {@link #digitRuns}. */
  static long withDigitRuns(long st, int runs) {
    int flags =
        (flagsOf(st) & ~(Detector.F_PHONE | Detector.F_SSN | Detector.F_NUM8)) | (runs & 0xffff);
    return pack(presentOf(st), flags, (runs & ~CODE_AFTER_NAME) >>> 16, tokenRunOf(st));
  }

  /**
   * A bit of {@link #digitRuns(byte[], int, int)}'s result (above the longest run, which is at most
   * {@link #NUM_CAP}): a run of three or four digits after the name of a card security code ({@code
   * PiiDetectors.Cvv.Worded#afterName}), or a byte that test does not judge (a control character
   * but tab and line feed, DEL, a byte from 0x80 on). Without it the worded security code can find
   * nothing, and {@link #armedUtf8} does not arm it: its own gate ({@link Detector#mayFindAscii})
   * read in the loop that already reads every digit run, instead of a loop of its own for every
   * sentence with a number (free text and address rows paid 10-20 % of their masking throughput for
   * it).
   */
  static final int CODE_AFTER_NAME = 1 << 30;

  /**
   * Flags for one of {@code @:=>-.%}; {@code colons} so far and since the last whitespace, this
   * character included.
   */
  private static int punct(int c, int prev, int colons, int tokenColons) {
    return switch (c) {
      case '@' -> Detector.F_AT;
      case ':' ->
          Detector.F_COLON
              | (colons >= 7 || prev == ':' ? Detector.F_V6 : 0)
              | (tokenColons >= 4 ? Detector.F_COLON4 : 0);
      case '=' -> Detector.F_EQ;
      case '>' -> Detector.F_GT;
      case '-' -> Detector.F_DASH;
      case '.' -> Detector.F_ANYDOT;
      case '%' -> Detector.F_PCT;
      default -> 0;
    };
  }

  private boolean gatesPass(int d, long st) {
    int need = needFlags[d];
    return (need == 0 || (flagsOf(st) & need) != 0)
        && (!needsWide[d] || (flagsOf(st) & Triage.F_WIDE) != 0)
        && numRunOf(st) >= minNumeric[d]
        && tokenRunOf(st) >= minToken[d]
        && (keywordPresence[d] == null || anyPresent(keywordPresence[d], presentOf(st)));
  }

  private static boolean anyPresent(int[] needs, int present) {
    for (int p : needs) {
      if ((p & present) == p) {
        return true;
      }
    }
    return false;
  }

  /**
   * A cheap upper bound of the pre-filter result, from one branch-free pass (a table load, an OR
   * and an add per character): presence bits, every flag that could be set given which characters
   * occur and how many digits, the digit count as the longest numeric run, and the exact longest
   * token run. Gates that fail on this bound fail on the real result too, so most short words,
   * names and small numbers are settled without the full pre-filter.
   */
  static long quick(String s) {
    int n = s.length();
    long p = 0;
    int digits = 0;
    int run = 0;
    int maxRun = 0;
    int window = 0;
    int iban = 0;
    for (int i = 0; i < n; i++) {
      int c = s.charAt(i);
      long e = c < 128 ? QUICK[c] : Q_NON_ASCII;
      p |= e;
      digits += (int) (e >>> 63);
      run = (run + 1) & -(int) ((e >>> 62) & 1); // token run, without a branch
      maxRun = Math.max(maxRun, run);
      window = ((window << 3) | (int) (e >>> Q_WINDOW_SHIFT) & 7) & 0xfff;
      if (window == IBAN_WINDOW && iban == 0 && Triage.ibanStart(s, i - 3)) {
        iban = 1; // a country code and an IBAN's length: rare, so the branch is cheap
      }
    }
    // The rarer flags are settled only when their character occurs, with the JDK's vectorised
    // String.indexOf, so that the per-character loop above stays short.
    int present = (int) p;
    boolean v6 = false;
    boolean colon4 = false;
    if ((present & P_COLON) != 0) {
      int colons = count(s, ':', 7);
      v6 = s.indexOf("::") >= 0 || colons >= 7;
      colon4 = colons >= 4;
    }
    boolean dot3 = false;
    if ((present & P_DOT) != 0 && digits >= 4) {
      int dots = 0;
      for (int k = s.indexOf('.', 1); k > 0 && k + 1 < n && dots < 3; k = s.indexOf('.', k + 1)) {
        dots += isDigitChar(s.charAt(k - 1)) && isDigitChar(s.charAt(k + 1)) ? 1 : 0;
      }
      dot3 = dots >= 3;
    }
    boolean dash5 = (present & P_DASH) != 0 && s.indexOf("-----") >= 0;
    return quickPack(p, digits, maxRun, iban != 0, v6, dot3, dash5)
        | flag(colon4, Detector.F_COLON4);
  }

  private static int count(String s, char c, int atMost) {
    int k = 0;
    for (int i = s.indexOf(c); i >= 0 && k < atMost; i = s.indexOf(c, i + 1)) {
      k++;
    }
    return k;
  }

  /** {@link #quick(String)} over UTF-8 bytes (a multi-byte character only adds length). */
  static long quick(byte[] b, int off, int len) {
    long p = 0;
    int digits = 0;
    int run = 0;
    int maxRun = 0;
    int window = 0;
    int iban = 0;
    int end = off + len;
    for (int i = off; i < end; i++) {
      int c = b[i];
      long e = c >= 0 ? QUICK[c] : Q_NON_ASCII;
      p |= e;
      digits += (int) (e >>> 63);
      run = (run + 1) & -(int) ((e >>> 62) & 1);
      maxRun = Math.max(maxRun, run);
      window = ((window << 3) | (int) (e >>> Q_WINDOW_SHIFT) & 7) & 0xfff;
      if (window == IBAN_WINDOW && iban == 0 && Triage.ibanStart(b, i - 3, end)) {
        iban = 1;
      }
    }
    int present = (int) p;
    boolean v6 = false;
    boolean dot3 = false;
    boolean dash5 = false;
    boolean colon4 = false;
    if ((present & (P_COLON | P_DOT | P_DASH)) != 0) {
      int colons = 0;
      int dots = 0;
      int dashes = 0;
      for (int i = off; i < end; i++) {
        int c = b[i];
        if (c == ':') {
          v6 |= ++colons >= 7 || (i > off && b[i - 1] == ':');
        } else if (c == '.') {
          dots += i > off && i + 1 < end && isDigitChar(b[i - 1]) && isDigitChar(b[i + 1]) ? 1 : 0;
        }
        dashes = c == '-' ? dashes + 1 : 0;
        dash5 |= dashes >= 5;
      }
      dot3 = dots >= 3;
      colon4 = colons >= 4;
    }
    return quickPack(p, digits, maxRun, iban != 0, v6, dot3, dash5)
        | flag(colon4, Detector.F_COLON4);
  }

  /** {@code flag} in the flags of a packed result when {@code set}. */
  private static long flag(boolean set, int flag) {
    return set ? (long) flag << 32 : 0;
  }

  private static long quickPack(
      long p, int digits, int maxTokenRun, boolean iban, boolean v6, boolean dot3, boolean dash5) {
    int present = (int) p;
    int f = 0;
    f |= (p & Q_AT) != 0 ? Detector.F_AT : 0;
    f |= (p & Q_EQ) != 0 ? Detector.F_EQ : 0;
    f |= (p & Q_GT) != 0 ? Detector.F_GT : 0;
    f |= (p & Q_PCT) != 0 ? Detector.F_PCT : 0;
    f |= (present & P_COLON) != 0 ? Detector.F_COLON : 0;
    f |= v6 ? Detector.F_V6 : 0;
    f |= (present & P_DASH) != 0 ? Detector.F_DASH : 0;
    f |= dash5 ? Detector.F_DASH5 : 0;
    f |= (present & P_DOT) != 0 ? Detector.F_ANYDOT : 0;
    f |= dot3 ? Detector.F_DOT3 : 0;
    f |= iban ? Detector.F_IBAN : 0;
    f |= digits >= 8 ? Detector.F_PHONE : 0;
    f |= digits >= 9 ? Detector.F_SSN : 0;
    f |= digits >= 8 ? Detector.F_NUM8 : 0;
    return pack(present, f, digits, maxTokenRun);
  }

  /**
   * Detectors (as bits, when {@link #bitGates}) whose gates pass for pre-filter result {@code st}.
   */
  long armed(long st) {
    long a = noFlagMask;
    for (int f = flagsOf(st); f != 0; f &= f - 1) {
      a |= flagDetectors[Integer.numberOfTrailingZeros(f)];
    }
    // Detectors for words outside ASCII need a character outside ASCII as well as their flags.
    a &= (flagsOf(st) & Triage.F_WIDE) != 0 ? -1L : ~wideOnly;
    a &= numOk[numRunOf(st)] & tokOk[tokenRunOf(st)];
    long gated = a & presenceGated;
    if (gated == 0) {
      return a;
    }
    int present = presentOf(st);
    if (presenceTables != null) {
      // Which keywords' characters all occur: one table per byte of the presence bits.
      long kw = armedBy(presenceWord(present, 0), 0, gated);
      long rest = gated & ~kw & highKeywordSets;
      // A value without letters (a timestamp, an amount) cannot hold a keyword with letters: when
      // every mask from 64 on has one, those words are not looked up at all.
      if (rest != 0 && ((present & LETTERS) != 0 || !highMasksHaveLetters)) {
        // Masks 64 and up: each word looked up only for a detector that has masks there and is
        // not armed yet (a widening computed for every value cost 20-35 % in the row path).
        for (int w = 1; w < PRESENCE_WORDS && rest != 0; w++) {
          long candidates = rest & wordDetectors[w];
          if (candidates != 0) {
            kw |= armedBy(presenceWord(present, w), w, candidates);
            rest &= ~kw;
          }
        }
      }
      return a & (~gated | kw);
    }
    for (long k = gated; k != 0; k &= k - 1) {
      int d = Long.numberOfTrailingZeros(k);
      if (!anyPresent(keywordPresence[d], present)) {
        a &= ~(1L << d);
      }
    }
    return a;
  }

  /**
   * With at most {@code 64 * PRESENCE_WORDS} distinct keyword presence masks: for word w of 64
   * masks, byte j of the presence bits and its value v, at {@code 1024 * w + 256 * j + v}, the set
   * of masks {@code 64 * w} to {@code 64 * w + 63} (by index, less {@code 64 * w}) whose byte j is
   * contained in v; a mask is contained in the presence bits when it is in all four. Null
   * otherwise. Masks are numbered in detector order, so the detectors that come first in a profile
   * (email, card, phone, the credential composites) are decided by the first word alone; the second
   * to fourth words (the words for password in other languages, the later keyword-gated detectors)
   * are looked up only for a value where such a detector is armed by its flags and not by a
   * first-word mask (a widening computed for every value cost 20-35 % in the row path).
   */
  final long[] presenceTables;

  /** The presence bits of the letters a-z. */
  private static final int LETTERS = (1 << 26) - 1;

  /** Whether every keyword letter set from 64 on has a letter (see {@link #armed}). */
  private final boolean highMasksHaveLetters;

  /** Words of 64 keyword letter sets the table lookups cover (256 sets). */
  static final int PRESENCE_WORDS = 4;

  /**
   * Per word w of 64 presence masks and keyword-gated detector, the indices of its keywords'
   * presence masks {@code 64 * w} to {@code 64 * w + 63}, less {@code 64 * w}.
   */
  private final long[][] keywordSets;

  /** The detectors (bits) with presence masks from 64 on. */
  private final long highKeywordSets;

  /** The number of distinct keyword letter sets of this profile's detectors. */
  final int keywordLetterSets;

  /**
   * Of {@code candidates} (detectors, as bits), those with a keyword letter set among {@code
   * contained} (the sets of word {@code w} of 64 whose letters all occur in the value), from
   * whichever side has fewer bits: a short word or a code contains one or two sets, if any, and is
   * decided by looking up those sets' detectors (about 10 ns a value, against 23 ns for asking each
   * of the eight detectors that need no flag, which every value reaches; JFR had put that loop at a
   * third of content detection's time in the row path); a sentence contains dozens of sets and is
   * decided by asking each candidate.
   */
  private long armedBy(long contained, int w, long candidates) {
    long kw = 0;
    if (Long.bitCount(contained) <= Long.bitCount(candidates)) {
      for (long m = contained; m != 0; m &= m - 1) {
        kw |= maskDetectors[64 * w + Long.numberOfTrailingZeros(m)];
      }
      return kw & candidates;
    }
    long[] sets = keywordSets[w];
    for (long k = candidates; k != 0; k &= k - 1) {
      int d = Long.numberOfTrailingZeros(k);
      if ((contained & sets[d]) != 0) {
        kw |= 1L << d;
      }
    }
    return kw;
  }

  /** Per keyword presence mask (by index), the detectors (bits) that have it. */
  private final long[] maskDetectors;

  /** Per word of 64 masks, the detectors (bits) with a mask in it. */
  private final long[] wordDetectors;

  private long presenceWord(int present, int w) {
    int o = 1024 * w;
    return presenceTables[o + (present & 0xff)]
        & presenceTables[o + 256 + ((present >>> 8) & 0xff)]
        & presenceTables[o + 512 + ((present >>> 16) & 0xff)]
        & presenceTables[o + 768 + (present >>> 24)];
  }

  private static long[] presenceTables(int[] masks) {
    long[] t = new long[Math.max(1, (masks.length + 63) >> 6) * 1024];
    for (int j = 0; j < 4; j++) {
      for (int v = 0; v < 256; v++) {
        for (int q = 0; q < masks.length; q++) {
          int part = (masks[q] >>> (8 * j)) & 0xff;
          if ((part & ~v) == 0) {
            t[(q >> 6) * 1024 + 256 * j + v] |= 1L << (q & 63);
          }
        }
      }
    }
    return t;
  }

  /** True when no detector can pass its gates given a {@link Triage} result. */
  private boolean triageRejects(long t) {
    return quickReject(t);
  }

  /** True when no detector can pass its gates given the {@link #quick} bound. */
  private boolean quickReject(long q) {
    if (bitGates) {
      return armed(q) == 0;
    }
    if ((flagsOf(q) & unionNeed) == 0) {
      // Only detectors without flag gates can still pass.
      for (int d : noFlagDetectors) {
        if (gatesPass(d, q)) {
          return false;
        }
      }
      return true;
    }
    for (int d = 0; d < detectors.length; d++) {
      if (gatesPass(d, q)) {
        return false;
      }
    }
    return true;
  }

  /**
   * True when some detector could find something in these UTF-8 bytes; false means {@link #scan} of
   * the decoded text would find nothing, so the value need not be decoded at all.
   */
  boolean mayMatch(byte[] b, int off, int len) {
    if (detectors.length == 0 || len <= 0) {
      return false;
    }
    if (bitGates) {
      return armedUtf8(b, off, len) != 0;
    }
    long t = withWide(Triage.bytes(b, off, len), b, off, len);
    long w = t & CARRIED;
    if (triageRejects(t) || quickReject(quick(b, off, len) | w)) {
      return false;
    }
    long st = prefilter(b, off, len) | w;
    for (int d = 0; d < detectors.length; d++) {
      if (gatesPass(d, st)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The detectors armed by UTF-8 text, to pass to {@link #scanWith} with the decoded text: a bit
   * mask when there are at most 64 detectors, otherwise -1 (some may be armed) or 0 (none is). The
   * mask may include detectors the exact pre-filter would not arm (running one more detector
   * changes nothing found), never fewer.
   */
  long armedUtf8(byte[] b, int off, int len) {
    if (!bitGates) {
      return mayMatch(b, off, len) ? -1L : 0L;
    }
    if (detectors.length == 0 || len <= 0) {
      return 0;
    }
    long t = withWide(Triage.bytes(b, off, len), b, off, len);
    // The byte length bounds the character length from above, so the length gate stays a bound.
    return settle(t, armed(t) & lengthOk(len), b, off, len);
  }

  /**
   * {@link #armedUtf8} after the first pass: {@code a}, armed by the first-pass result {@code t} of
   * the bytes {@code b[off, off + len)}, settled by the exact pass and the digit runs where an
   * armed detector needs them. Also for an ASCII String's bytes ({@link #scan}), whose first pass
   * over the characters gives the same {@code t} (TriageTest).
   */
  private long settle(long t, long a, byte[] b, int off, int len) {
    if ((a & (guessGated | ~quickExact)) == 0) {
      return a; // nothing armed, or only by exact gates (an email address)
    }
    if ((a & guessGated) != 0) {
      t = Triage.exact(t, b, off, len);
    }
    long codes = -1L;
    if ((a & ~quickExact) != 0) {
      int runs = digitRuns(b, off, len);
      t = withDigitRuns(t, runs);
      // the worded security code's own gate, read in the same loop (see CODE_AFTER_NAME)
      codes = (runs & CODE_AFTER_NAME) != 0 ? -1L : ~wordedCode;
    }
    return armed(t) & lengthOk(len) & codes;
  }

  /**
   * {@code t}, a first-pass result of UTF-8 bytes, with {@link Triage#F_WIDE} when they have a byte
   * from 0x80 on, looked for only when a flag of a detector that {@link Detector#needsNonAscii} is
   * set ({@link Triage#chars} sets it for a String in its own loop).
   */
  private long withWide(long t, byte[] b, int off, int len) {
    return (flagsOf(t) & wideNeed) != 0 && Checks.hasNonAscii(b, off, len) ? t | WIDE : t;
  }

  /** The detectors that can find something in a value of {@code len} characters. */
  long lengthOk(int len) {
    return len < LEN_CAP ? lenOk[len] : -1L;
  }

  /** {@link #armedUtf8} for a String. */
  long armedChars(String s) {
    return armedChars(s, Triage.chars(s));
  }

  /** {@link #armedChars(String)} given {@code t}, the {@link Triage#chars} of {@code s}. */
  private long armedChars(String s, long t) {
    long a = armed(t) & lengthOk(s.length());
    if ((a & (guessGated | ~quickExact)) == 0) {
      return a; // nothing armed, or only by exact gates (an email address)
    }
    if ((a & guessGated) != 0) {
      // An IP, IBAN or PEM detector is armed by a guessed flag: settle the guess.
      t = Triage.exact(t, s);
    }
    if ((a & ~quickExact) != 0) {
      // A digit-run detector is armed by the digit count (the guesses do not change that): bound
      // the runs properly.
      t = withDigitRuns(t, digitRuns(s));
    }
    return armed(t) & lengthOk(s.length());
  }

  /** {@link #scan} of {@code s} given {@code armed} from {@link #armedUtf8} of its bytes. */
  List<Finding> scanWith(String s, long armed) {
    if (armed != 0 && hasControls(s)) {
      return scanNormalized(s);
    }
    return bitGates ? scanArmed(s, armed, null, 0, 0) : scan(s);
  }

  /**
   * {@link #scanWith} of {@code s} decoded from {@code utf8[off, off + len)}: the keywords are
   * looked for in the bytes (array loads instead of {@code charAt}'s checks on every character).
   */
  List<Finding> scanWith(String s, long armed, byte[] utf8, int off, int len) {
    if ((s.length() != len && Checks.needsNormalizing(s)) || (armed != 0 && hasControls(s))) {
      return scanNormalized(s); // only a value with non-ASCII characters can have them
    }
    return bitGates ? scanArmed(s, armed, utf8, off, len) : scan(s);
  }

  /**
   * Whether {@code s} has a NUL, a backspace or a carriage return not followed by a line feed:
   * control characters that a terminal does not show as text (a backspace erases the character
   * before it, a lone CR returns to the line's start), which put inside a value hide it from the
   * detectors ({@code 4111<NUL>1111…}, {@code password=Hunt\rer2Secret}). Asked only for a value
   * that armed a detector.
   */
  static boolean hasControls(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c <= '\r'
          && (c == 0 || c == '\b' || (c == '\r' && (i + 1 == n || s.charAt(i + 1) != '\n')))) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@link #scan} of {@code s} read without its {@link Checks#isInvisible} characters and with a
   * full-width {@code ＠} read as {@code @} ({@code 4111&#8203;1111…}, {@code jo&shy;hn@…}, {@code
   * john＠example.com}: text copied from documents and web pages), the findings mapped back to
   * {@code s} (a finding covers the invisible characters inside it). NUL and a lone CR are read as
   * invisible too, and a backspace as erasing the character before it, as a terminal shows them
   * ({@link #hasControls}).
   */
  List<Finding> scanNormalized(String s) {
    java.util.function.Function<String, List<Finding>> scan =
        t -> bitGates ? scanArmed(t, armedChars(t), null, 0, 0) : scanPlain(t);
    List<Finding> shown = normalized(s, true, scan);
    if (s.indexOf('\b') < 0) {
      return shown;
    }
    // The bytes go out as they are, backspaces and what they erase included: read also with the
    // backspaces dropped, so that a value erased on the screen is still masked in the bytes.
    return covering(shown, normalized(s, false, scan));
  }

  /**
   * Findings of two readings of one text, overlapping ones joined into one that covers both (the
   * type of the higher priority): unlike {@link #resolve}, no part of either is left unmasked.
   */
  static List<Finding> covering(List<Finding> a, List<Finding> b) {
    if (b.isEmpty()) {
      return a;
    }
    List<Finding> all = new ArrayList<>(a.size() + b.size());
    all.addAll(a);
    all.addAll(b);
    all.sort(Comparator.comparingInt(Finding::start));
    List<Finding> out = new ArrayList<>(all.size());
    for (Finding f : all) {
      Finding last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && f.start() < last.end()) {
        Finding high = f.priority() > last.priority() ? f : last;
        out.set(
            out.size() - 1,
            new Finding(last.start(), Math.max(last.end(), f.end()), high.type(), high.priority()));
      } else {
        out.add(f);
      }
    }
    return out;
  }

  /**
   * Findings of a text {@code before + body}, where {@code c} is the length of {@code before},
   * mapped to {@code body}: those that end in {@code before} are dropped, one that begins there is
   * clipped to its part in {@code body}.
   */
  static List<Finding> after(List<Finding> found, int c) {
    List<Finding> out = new ArrayList<>(found.size());
    for (Finding f : found) {
      if (f.end() > c) {
        out.add(new Finding(Math.max(0, f.start() - c), f.end() - c, f.type(), f.priority()));
      }
    }
    return out;
  }

  /**
   * {@code scan} of {@code s} normalized as {@link #scanNormalized} says, mapped back; a backspace
   * erases the character before it ({@code erase}, as a terminal shows it) or is dropped.
   */
  private static List<Finding> normalized(
      String s, boolean erase, java.util.function.Function<String, List<Finding>> scan) {
    int n = s.length();
    StringBuilder t = new StringBuilder(n);
    int[] at = new int[n + 1];
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == '\b') {
        if (erase) {
          t.setLength(Math.max(0, t.length() - 1));
        }
      } else if (!Checks.isInvisible(c)
          && c != 0
          && !(c == '\r' && (i + 1 == n || s.charAt(i + 1) != '\n'))) {
        at[t.length()] = i;
        t.append(c == Checks.FULLWIDTH_AT ? '@' : c);
      }
    }
    at[t.length()] = n;
    String text = foldSeparators(t);
    List<Finding> found = scan.apply(text);
    if (found.isEmpty()) {
      return found;
    }
    List<Finding> out = new ArrayList<>(found.size());
    for (Finding f : found) {
      int end = f.end() > f.start() ? at[f.end() - 1] + 1 : at[f.end()];
      out.add(new Finding(at[f.start()], end, f.type(), f.priority()));
    }
    return out;
  }

  /** {@link #csiLength(byte[], int, int)} in a String. */
  static int csiLength(String s, int i) {
    int end = s.length();
    if (i + 2 >= end || s.charAt(i + 1) != '[') {
      return 0;
    }
    for (int j = i + 2; j < end && j - i <= 32; j++) {
      int c = s.charAt(j);
      if (c >= 0x40 && c <= 0x7e) {
        return j + 1 - i;
      }
      if (c < 0x20 || c > 0x3f) {
        return 0;
      }
    }
    return 0;
  }

  /**
   * The length in bytes of the CSI sequence ({@code ESC [}, parameter and intermediate bytes, a
   * final byte; ECMA-48 5.4) at {@code b[i]}, or 0: read as a separator inside a digit run, so that
   * a value with colour codes between its digits arms the detectors ({@code Profile#redact}).
   */
  static int csiLength(byte[] b, int i, int end) {
    if (i + 2 >= end || b[i + 1] != '[') {
      return 0;
    }
    for (int j = i + 2; j < end && j - i <= 32; j++) {
      int c = b[j];
      if (c >= 0x40 && c <= 0x7e) {
        return j + 1 - i;
      }
      if (c < 0x20 || c > 0x3f) {
        return 0;
      }
    }
    return 0;
  }

  /** {@code t} with {@link Checks#separatorFold} applied (one character for one). */
  private static String foldSeparators(StringBuilder t) {
    for (int i = 0, n = t.length(); i < n; i++) {
      char c = t.charAt(i);
      if (c >= '\u0085') {
        t.setCharAt(i, Checks.separatorFold(c));
      }
    }
    return t.toString();
  }

  /** Non-overlapping findings ordered by position; empty when nothing is sensitive. */
  List<Finding> scan(String s) {
    if (detectors.length == 0) {
      return List.of();
    }
    if (bitGates) {
      long t = Triage.chars(s);
      if ((flagsOf(t) & Triage.F_WIDE) != 0 && Checks.needsNormalizing(s)) {
        return scanNormalized(s);
      }
      if ((flagsOf(t) & Triage.F_WIDE) == 0) {
        return scanAscii(s, t);
      }
      long armed = armedChars(s, t);
      return armed != 0 && hasControls(s) ? scanNormalized(s) : scanArmed(s, armed, null, 0, 0);
    }
    return Checks.needsNormalizing(s) || hasControls(s) ? scanNormalized(s) : scanPlain(s);
  }

  /**
   * {@link #scan} of an ASCII text, whose first pass over the characters {@code t} is that of its
   * bytes: where an armed detector needs more than the first pass (the exact pass, the digit runs
   * and the worded security code's gate in them, the gates of their own before the keywords), one
   * copy of its bytes is read as the row path reads a value ({@link #settle}, {@link #asciiGates}),
   * which reads bytes faster than {@code charAt} reads a String.
   */
  private List<Finding> scanAscii(String s, long t) {
    int n = s.length();
    long armed = armed(t) & lengthOk(n);
    if (armed == 0) {
      return List.of();
    }
    if (hasControls(s)) {
      return scanNormalized(s);
    }
    if ((armed & (guessGated | ~quickExact | asciiGated)) == 0) {
      return scanArmed(s, armed, null, 0, 0);
    }
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    return scanArmed(s, settle(t, armed, b, 0, n), b, 0, n);
  }

  /** {@link #scan} with more than 64 detectors, of a text without characters to normalize. */
  private List<Finding> scanPlain(String s) {
    long t = Triage.chars(s);
    long w = t & CARRIED;
    if (triageRejects(t) || quickReject(quick(s) | w)) {
      return List.of();
    }
    long st = prefilter(s) | w;
    // Keywords are looked for only when a keyword-gated detector passed its cheaper gates.
    long candidates = 0;
    boolean any = false;
    for (int d = 0; d < detectors.length; d++) {
      if (gatesPass(d, st)) {
        any = true;
        candidates |= keywordBit[d];
      }
    }
    if (!any) {
      return List.of();
    }
    long kw = candidates == 0 ? 0 : keywords(s, candidates);
    List<Finding> found = null;
    for (int d = 0; d < detectors.length; d++) {
      if (keywordBit[d] != 0 && (kw & keywordBit[d]) == 0) {
        continue;
      }
      if (!gatesPass(d, st)) {
        continue;
      }
      if (found == null) {
        found = new Findings();
      }
      try {
        detectors[d].find(s, found);
      } catch (TooManyFindings e) {
        return wholeValue(s);
      } catch (RuntimeException | StackOverflowError e) {
        // A detector bug must not let the value through: treat the whole text as sensitive.
        found.add(new Finding(0, s.length(), DETECTOR_FAILED, Integer.MAX_VALUE));
      }
    }
    if (found == null || found.isEmpty()) {
      return List.of();
    }
    return resolve(found);
  }

  /**
   * {@link #scan} for the detectors in {@code armed} (bit masks; at most 64 detectors); keywords
   * are looked for in {@code utf8[off, off + len)} (the bytes {@code s} was decoded from) unless it
   * is null.
   */
  private List<Finding> scanArmed(String s, long armed, byte[] utf8, int off, int len) {
    if (armed == 0) {
      return List.of();
    }
    // An ASCII value's bytes (s has one character per byte: U+FFFD for a malformed one, which the
    // detectors read as any other character; the callers sent a text with the control characters
    // the String path reads through to scanNormalized): the armed detectors' gates of their own
    // are checked before their keywords are searched for. Every address in angle brackets and
    // every sentence with a number arms the parts for addresses written out, whose keyword search
    // cost free text 20-30 % of its masking throughput.
    if (utf8 != null && s.length() == len && (armed & asciiGated) != 0) {
      armed = asciiGates(armed, utf8, off, len);
      if (armed == 0) {
        return List.of();
      }
    }
    long candidates = 0;
    for (long k = armed; k != 0; k &= k - 1) {
      candidates |= keywordBit[Long.numberOfTrailingZeros(k)];
    }
    long kw =
        candidates == 0
            ? 0
            : utf8 == null ? keywords(s, candidates) : keywords(utf8, off, len, candidates);
    List<Finding> found = null;
    for (long k = armed; k != 0; k &= k - 1) {
      int d = Long.numberOfTrailingZeros(k);
      if (keywordBit[d] != 0 && (kw & keywordBit[d]) == 0) {
        continue;
      }
      if (found == null) {
        found = new Findings();
      }
      try {
        detectors[d].find(s, found);
      } catch (TooManyFindings e) {
        return wholeValue(s);
      } catch (RuntimeException | StackOverflowError e) {
        // A detector bug must not let the value through: treat the whole text as sensitive.
        found.add(new Finding(0, s.length(), DETECTOR_FAILED, Integer.MAX_VALUE));
      }
    }
    if (found == null || found.isEmpty()) {
      return List.of();
    }
    return resolve(found);
  }

  /**
   * Every detector on the whole text, without gates: the reference the gates are tested against.
   * Read as {@link #scanNormalized} reads it (invisible characters, NUL, lone CR, both readings of
   * a backspace).
   */
  List<Finding> scanUngated(String s) {
    if (Checks.needsNormalizing(s) || hasControls(s)) {
      List<Finding> shown = normalized(s, true, this::scanUngated);
      return s.indexOf('\b') < 0 ? shown : covering(shown, normalized(s, false, this::scanUngated));
    }
    List<Finding> found = new Findings();
    for (Detector d : detectors) {
      try {
        d.find(s, found);
      } catch (TooManyFindings e) {
        return wholeValue(s);
      } catch (RuntimeException | StackOverflowError e) {
        found.add(new Finding(0, s.length(), DETECTOR_FAILED, Integer.MAX_VALUE));
      }
    }
    return found.isEmpty() ? List.of() : resolve(found);
  }

  /** Compares {@code s[at..]} with a lower-case ASCII keyword, ignoring ASCII case. */
  private static boolean matchesLower(String s, int at, String kw) {
    int len = kw.length();
    if (at + len > s.length()) {
      return false;
    }
    for (int k = 0; k < len; k++) {
      char c = s.charAt(at + k);
      if (c >= 128 ? Character.toLowerCase(c) != kw.charAt(k) : LOWER[c] != kw.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  /** Bits of the keyword-gated detectors (among {@code wanted}) whose keywords occur. */
  private long keywords(String s, long wanted) {
    long kw = 0;
    int n = s.length() - 1;
    final long[] bigrams = bigramBits;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      char d = s.charAt(i + 1);
      if (c >= 128 || d >= 128) {
        continue;
      }
      int idx = (LOWER[c] << 7) | LOWER[d];
      if ((bigrams[idx >>> 6] & (1L << idx)) != 0) {
        String[] ks = keywordsByBigram[idx];
        long[] bs = bitsByBigram[idx];
        for (int q = 0; q < ks.length; q++) {
          if ((bs[q] & wanted & ~kw) != 0 && matchesLower(s, i, ks[q])) {
            kw |= bs[q];
            if ((kw & wanted) == wanted) {
              return kw;
            }
          }
        }
      }
    }
    return kw;
  }

  /**
   * {@link #keywords(String, long)} over the UTF-8 bytes of the text: the same bits for ASCII text,
   * and at least those bits otherwise. Bigrams with a byte of a multi-byte character are skipped,
   * as bigrams with a non-ASCII character are in the String version; a comparison that meets such a
   * byte inside a keyword counts as a match (the String version may match there: {@code
   * Character.toLowerCase} maps the Kelvin sign to {@code k}), which only lets a detector run that
   * then finds nothing.
   */
  /**
   * {@code armed} (from {@link #armedUtf8}) less the keyword-gated detectors none of whose keywords
   * occur in the bytes, when every armed detector is keyword-gated and the value is ASCII: such a
   * value (a sentence with the letters of a keyword, not the keyword) is then neither decoded nor
   * scanned again. Unchanged otherwise: a detector that is not keyword-gated decodes the value
   * anyway (and {@link #scanWith} looks for the keywords in the bytes then), and in a value with
   * non-ASCII bytes an invisible character may split a keyword that the String path reads through;
   * so may a control character but tab, line feed and CR LF: NUL, a backspace or a lone CR ({@link
   * #hasControls}: {@code DB_<NUL>PW=}, {@code DB_x<BS>PW=}), a colour code ({@code
   * pass<ESC>[0mword=}, read without its escape sequences by {@code Profile#redact}).
   */
  long keywordsPresentUtf8(long armed, byte[] b, int off, int len) {
    // small enough to be inlined into the row path; the search is a call of its own
    if (!bitGates || armed == 0) {
      return armed;
    }
    long other = armed & ~presenceGated;
    if (other == 0) {
      return keywordGatedOnly(armed, b, off, len);
    }
    return other == emailBit ? besideEmail(armed, b, off, len) : armed;
  }

  /**
   * {@link #keywordsPresentUtf8} of an address that also arms keyword-gated detectors but the parts
   * for addresses written out ({@link PiiDetectors.Email#findAscii} reads their markers itself):
   * those detectors less the ones whose gates and keywords fail, so that the address stays on the
   * byte path ({@code Profile#redactUtf8Bytes}). Its letters arm {@code pass} (a password in a
   * sentence, {@code ann.smith@example.com}), and such values were decoded and scanned whole: a
   * fifth of the email column's cost.
   */
  private long besideEmail(long armed, byte[] b, int off, int len) {
    long extra = armed & presenceGated & ~emailWrittenOut;
    return extra == 0 ? armed : (armed & ~extra) | keywordGatedOnly(extra, b, off, len);
  }

  /**
   * {@code armed} less the detectors whose gates of their own on ASCII bytes fail ({@link
   * Detector#mayFindAscii}; the three parts for addresses written out share one loop, {@code
   * Email.Obfuscated#anyMarker}): a character test that ordinary values fail, where the keywords'
   * letters are in most of them, so their keywords are not searched for. Each gate answers true at
   * a byte it cannot judge (non-ASCII, a control character).
   */
  private long asciiGates(long armed, byte[] b, int off, int len) {
    if ((armed & emailWrittenOut) != 0 && !PiiDetectors.Email.Obfuscated.anyMarker(b, off, len)) {
      armed &= ~emailWrittenOut;
    }
    for (long k = armed & asciiGated; k != 0; k &= k - 1) {
      int d = Long.numberOfTrailingZeros(k);
      if (!detectors[d].mayFindAscii(b, off, len)) {
        armed &= ~(1L << d);
      }
    }
    return armed;
  }

  private long keywordGatedOnly(long armed, byte[] b, int off, int len) {
    // Gates of their own first (card security code, SQL and .netrc password syntax): a character
    // test that ordinary values fail, where the keywords' letters are in most sentences. The three
    // parts for addresses written out share one loop first.
    armed = asciiGates(armed, b, off, len);
    if (armed == 0) {
      return 0;
    }
    long candidates = 0;
    for (long k = armed; k != 0; k &= k - 1) {
      candidates |= keywordBit[Long.numberOfTrailingZeros(k)];
    }
    for (int i = off, end = off + len; i < end; i++) {
      int c = b[i]; // a non-ASCII byte is negative: below 0x20 too
      if (c < 0x20 && c != '\t' && c != '\n' && !(c == '\r' && i + 1 < end && b[i + 1] == '\n')) {
        return armed; // read through on the String path (hasControls, colour codes): decode
      }
    }
    int few = 0;
    for (long k = candidates; k != 0 && few <= FEW_KEYWORDS; k &= k - 1) {
      String[] ks = keywordsOfBit[Long.numberOfTrailingZeros(k)];
      few += ks == null ? FEW_KEYWORDS + 1 : ks.length;
    }
    long kw =
        few <= FEW_KEYWORDS
            ? fewKeywords(b, off, len, candidates)
            : keywords(b, off, len, candidates);
    long out = 0;
    for (long k = armed; k != 0; k &= k - 1) {
      int d = Long.numberOfTrailingZeros(k);
      out |= (kw & keywordBit[d]) != 0 ? 1L << d : 0;
    }
    return out;
  }

  /**
   * At most this many keywords are looked for one pass each (a compare per byte, and the keyword
   * only at its first letter) instead of by the bigram table, which costs several loads per byte:
   * the case of a sentence that has a few keywords' letters and none of the keywords.
   */
  private static final int FEW_KEYWORDS = 4;

  /** The keywords of each keyword bit (see {@link #keywordBit}), lower case. */
  private final String[][] keywordsOfBit = new String[64][];

  /**
   * {@link #keywords(byte[], int, int, long)} for an ASCII value and few keywords: the value as a
   * Latin-1 String (a copy), each keyword looked for at the places of its first letter in either
   * case ({@code String.indexOf}, vectorised by the JDK).
   */
  private long fewKeywords(byte[] b, int off, int len, long wanted) {
    String t = new String(b, off, len, java.nio.charset.StandardCharsets.ISO_8859_1);
    long kw = 0;
    for (long k = wanted; k != 0; k &= k - 1) {
      int bit = Long.numberOfTrailingZeros(k);
      for (String word : keywordsOfBit[bit]) {
        char first = word.charAt(0);
        char upper = Character.toUpperCase(first);
        if (occurs(t, word, first) || (upper != first && occurs(t, word, upper))) {
          kw |= 1L << bit;
          break;
        }
      }
    }
    return kw;
  }

  private static boolean occurs(String t, String word, char first) {
    for (int i = t.indexOf(first); i >= 0; i = t.indexOf(first, i + 1)) {
      if (t.regionMatches(true, i, word, 0, word.length())) {
        return true;
      }
    }
    return false;
  }

  private long keywords(byte[] b, int off, int len, long wanted) {
    long kw = 0;
    int n = off + len - 1;
    final long[] bigrams = bigramBits;
    final byte[] lower = LOWER;
    for (int i = off; i < n; i++) {
      int c = b[i];
      int d = b[i + 1];
      if ((c | d) < 0) {
        continue;
      }
      int idx = (lower[c] << 7) | lower[d];
      if ((bigrams[idx >>> 6] & (1L << idx)) != 0) {
        String[] ks = keywordsByBigram[idx];
        long[] bs = bitsByBigram[idx];
        for (int q = 0; q < ks.length; q++) {
          if ((bs[q] & wanted & ~kw) != 0 && matchesLower(b, i, off + len, ks[q])) {
            kw |= bs[q];
            if ((kw & wanted) == wanted) {
              return kw;
            }
          }
        }
      }
    }
    return kw;
  }

  /**
   * {@link #matchesLower(String, int, String)} on UTF-8 bytes before {@code end}; true at the first
   * byte of a multi-byte character (see {@link #keywords(byte[], int, int, long)}).
   */
  private static boolean matchesLower(byte[] b, int at, int end, String kw) {
    int len = kw.length();
    if (at + len > end) {
      return false; // fewer bytes left than the keyword's characters: fewer characters too
    }
    for (int k = 0; k < len; k++) {
      int c = b[at + k];
      if (c < 0) {
        return true;
      }
      if (LOWER[c] != kw.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The parts of an assignment's value that no kept finding covers, kept too: a bare value runs to
   * the next blank and can swallow other secrets ({@code --password a1|--password
   * b2|https://u:p@h}, string_agg of values); dropped whole, the part before the other finding
   * stayed in clear. {@code kept}: disjoint findings by start.
   */
  private static void keepUncovered(Finding f, TreeMap<Integer, Finding> kept) {
    List<Finding> over = new ArrayList<>();
    Map.Entry<Integer, Finding> before = kept.lowerEntry(f.start());
    if (before != null && before.getValue().end() > f.start()) {
      over.add(before.getValue());
    }
    over.addAll(kept.subMap(f.start(), true, f.end(), false).values());
    for (Finding p : uncovered(f, over)) {
      kept.put(p.start(), p);
    }
  }

  /** The pieces of {@code f} outside {@code over} (the kept findings it overlaps, by start). */
  private static List<Finding> uncovered(Finding f, List<Finding> over) {
    List<Finding> pieces = new ArrayList<>(2);
    int at = f.start();
    for (Finding k : over) {
      if (k.start() > at) {
        pieces.add(new Finding(at, k.start(), f.type(), f.priority()));
      }
      at = Math.max(at, k.end());
    }
    if (at < f.end()) {
      pieces.add(new Finding(at, f.end(), f.type(), f.priority()));
    }
    return pieces;
  }

  /**
   * Findings in one value past which it is masked whole. A value that is nothing but findings
   * ({@code repeat('password=', 80000)}, 720 KB: 80,000 overlapping assignments) cost minutes of
   * gateway CPU per statement, for any masked principal (red team rt18pg F1): the resolution below
   * was quadratic (now O(n log n)), and detectors spend tens of microseconds per finding. Such a
   * value is not data worth masking piece by piece: once a detector adds more than this many
   * findings ({@link Findings}) scanning stops and the whole value is masked. 1,024 is far above
   * any real row (a {@code string_agg} of a thousand addresses still gets its own masks).
   */
  static final int MAX_FINDINGS = 1024;

  /** The findings list detectors add to: past {@link #MAX_FINDINGS}, {@link TooManyFindings}. */
  static final class Findings extends ArrayList<Finding> {
    Findings() {
      super(4);
    }

    @Override
    public boolean add(Finding f) {
      if (size() >= MAX_FINDINGS) {
        throw TooManyFindings.INSTANCE;
      }
      return super.add(f);
    }
  }

  /** Thrown by {@link Findings#add} to end a scan: no stack trace, one instance. */
  static final class TooManyFindings extends RuntimeException {
    static final TooManyFindings INSTANCE = new TooManyFindings();

    private TooManyFindings() {
      super("more than " + MAX_FINDINGS + " findings in one value", null, false, false);
    }
  }

  /**
   * The type of the one finding that masks a value with too many ({@link #MAX_FINDINGS}): not a
   * detector's, whose style may keep part of what it masks (an email's domain), so the profile's
   * fallback style (full redaction unless configured otherwise).
   */
  static final String TOO_MANY = "too_many_findings";

  /**
   * The type of the finding that masks a whole value when a detector failed on it: not the
   * detector's, for the same reason as {@link #TOO_MANY} (the email style would show the text after
   * the first {@code @} or {@code (at)}).
   */
  static final String DETECTOR_FAILED = "detector_failed";

  /** The whole of {@code s} as one finding (fail closed); see {@link #TOO_MANY}. */
  private static List<Finding> wholeValue(String s) {
    return List.of(new Finding(0, s.length(), TOO_MANY, Integer.MAX_VALUE));
  }

  /**
   * Keeps the highest-priority (then longest) finding wherever findings overlap (of an overlapping
   * assignment, the parts outside the kept ones: {@link #keepUncovered}). Kept findings are
   * disjoint, so in a map by start the one with the greatest start before a finding's end is the
   * only one that can tell whether it overlaps any.
   */
  static List<Finding> resolve(List<Finding> found) {
    if (found.size() == 1) {
      return found;
    }
    if (found.size() > MAX_FINDINGS) {
      // A list that is not a Findings (a caller's own): from the first finding to the last, with
      // the fallback style like every value with too many
      int from = Integer.MAX_VALUE;
      int to = 0;
      for (Finding f : found) {
        from = Math.min(from, f.start());
        to = Math.max(to, f.end());
      }
      return List.of(new Finding(from, to, TOO_MANY, Integer.MAX_VALUE));
    }
    found.sort(BY_PRIORITY);
    if (found.size() <= SMALL) {
      return resolveSmall(found);
    }
    TreeMap<Integer, Finding> kept = new TreeMap<>();
    for (Finding f : found) {
      Map.Entry<Integer, Finding> last = kept.lowerEntry(f.end());
      boolean overlaps = last != null && last.getValue().end() > f.start();
      if (!overlaps) {
        kept.put(f.start(), f);
      } else if (f.type().equals("assignment")) {
        keepUncovered(f, kept);
      }
    }
    return new ArrayList<>(kept.values());
  }

  /**
   * Up to this many findings (nearly every value: an email and a phone number in one row) a list
   * compared pairwise is cheaper than a tree map; the answer is the same (FindingLimitsTest).
   */
  private static final int SMALL = 16;

  /** {@link #resolve} for a few findings, sorted by {@link #BY_PRIORITY}. */
  static List<Finding> resolveSmall(List<Finding> found) {
    List<Finding> kept = new ArrayList<>(found.size());
    for (Finding f : found) {
      boolean overlaps = false;
      for (Finding k : kept) {
        if (f.start() < k.end() && k.start() < f.end()) {
          overlaps = true;
          break;
        }
      }
      if (!overlaps) {
        kept.add(f);
      } else if (f.type().equals("assignment")) {
        List<Finding> over = new ArrayList<>();
        for (Finding k : kept) {
          if (f.start() < k.end() && k.start() < f.end()) {
            over.add(k);
          }
        }
        over.sort(Comparator.comparingInt(Finding::start));
        kept.addAll(uncovered(f, over));
      }
    }
    kept.sort(Comparator.comparingInt(Finding::start));
    return kept;
  }
}
