package dev.gatehouse.masking;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Runs a set of detectors over text. One pre-filter pass computes, per text: which of a few
 * characters occur ({@code @}, {@code .}, two colons, an IBAN-like start), the longest run of
 * digits joined by short separators, the longest run of token characters, and which trigger
 * keywords occur. A detector runs only when its preconditions hold, so ordinary text usually costs
 * one linear pass and no detector at all.
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

  /** Keyword trigger table indexed by the first two lower-cased ASCII characters. */
  private final String[][] keywordsByBigram = new String[128 * 128][];

  private final long[][] bitsByBigram = new long[128 * 128][];

  /** One bit per bigram that starts some keyword: a 2 KB table that stays in L1 cache. */
  private final long[] bigramBits = new long[128 * 128 / 64];

  private final int maxKeywordLength;

  Scanner(List<Detector> list) {
    this.detectors = list.toArray(new Detector[0]);
    int n = detectors.length;
    keywordBit = new long[n];
    needFlags = new int[n];
    minNumeric = new int[n];
    minToken = new int[n];
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
    }
    maxKeywordLength = maxKw;
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
  private static final int C_UPPER = 8;
  private static final int C_PUNCT = 16;

  /** Character classes of ASCII characters, so the pre-filter does one table load per char. */
  private static final byte[] CLASS = new byte[128];

  private static final byte[] LOWER = new byte[128];

  static {
    for (int c = 0; c < 128; c++) {
      int k = 0;
      if (c >= '0' && c <= '9') {
        k |= C_DIGIT | C_TOKEN;
      }
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || "_-+/=".indexOf(c) >= 0) {
        k |= C_TOKEN;
      }
      if (c >= 'A' && c <= 'Z') {
        k |= C_UPPER;
      }
      if (" -.()/+".indexOf(c) >= 0) {
        k |= C_NUMSEP;
      }
      if ("@:=>-.".indexOf(c) >= 0) {
        k |= C_PUNCT;
      }
      CLASS[c] = (byte) k;
      LOWER[c] = (byte) (c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    }
  }

  /** Compares {@code s[at..]} with a lower-case ASCII keyword, ignoring ASCII case. */
  private static boolean matchesLower(String s, int at, String kw) {
    int len = kw.length();
    if (at + len > s.length()) {
      return false;
    }
    for (int k = 0; k < len; k++) {
      char c = s.charAt(at + k);
      if (c >= 128 ? c != kw.charAt(k) : LOWER[c] != kw.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  /** Non-overlapping findings ordered by position; empty when nothing is sensitive. */
  List<Finding> scan(String s) {
    if (detectors.length == 0) {
      return List.of();
    }
    int n = s.length();
    int flags = 0;
    int colons = 0;
    int numRun = 0;
    int maxNumRun = 0;
    int lastDigit = -10;
    int tokenRun = 0;
    int maxTokenRun = 0;
    int prevCls = 0;
    int prev2Cls = 0;
    int prev3Cls = 0;
    char prev = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      int cls = c < 128 ? CLASS[c] : 0;
      if ((cls & C_DIGIT) != 0) {
        numRun = i - lastDigit <= 3 ? numRun + 1 : 1;
        lastDigit = i;
        if (numRun > maxNumRun) {
          maxNumRun = numRun;
        }
        if ((prevCls & C_DIGIT) != 0 && (prev2Cls & C_UPPER) != 0 && (prev3Cls & C_UPPER) != 0) {
          flags |= Detector.F_IBAN;
        }
        if (prev == '.' && (prev2Cls & C_DIGIT) != 0) {
          flags |= Detector.F_DOT;
        }
      } else {
        if ((cls & C_NUMSEP) == 0) {
          lastDigit = -10;
        }
        if ((cls & C_PUNCT) != 0) {
          switch (c) {
            case '@' -> flags |= Detector.F_AT;
            case ':' ->
                flags |= ++colons >= 2 ? Detector.F_COLON | Detector.F_COLON2 : Detector.F_COLON;
            case '=' -> flags |= Detector.F_EQ;
            case '>' -> flags |= Detector.F_GT;
            case '-' -> {
              flags |= Detector.F_DASH;
              if (i >= 4 && s.startsWith("----", i - 4)) {
                flags |= Detector.F_DASH5;
              }
            }
            case '.' -> flags |= Detector.F_ANYDOT;
            default -> {}
          }
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
    // Keywords are looked for only when a keyword-gated detector passed its cheaper gates.
    long candidates = 0;
    for (int d = 0; d < detectors.length; d++) {
      if (keywordBit[d] != 0 && gatesPass(d, flags, maxNumRun, maxTokenRun)) {
        candidates |= keywordBit[d];
      }
    }
    long kw = candidates == 0 ? 0 : keywords(s, candidates);
    List<Finding> found = null;
    for (int d = 0; d < detectors.length; d++) {
      if (keywordBit[d] != 0 && (kw & keywordBit[d]) == 0) {
        continue;
      }
      if (!gatesPass(d, flags, maxNumRun, maxTokenRun)) {
        continue;
      }
      if (found == null) {
        found = new ArrayList<>(4);
      }
      try {
        detectors[d].find(s, found);
      } catch (RuntimeException | StackOverflowError e) {
        // A detector bug must not let the value through: treat the whole text as sensitive.
        found.add(new Finding(0, n, detectors[d].type, Integer.MAX_VALUE));
      }
    }
    if (found == null || found.isEmpty()) {
      return List.of();
    }
    return resolve(found);
  }

  private boolean gatesPass(int d, int flags, int maxNumRun, int maxTokenRun) {
    return (needFlags[d] == 0 || (flags & needFlags[d]) != 0)
        && maxNumRun >= minNumeric[d]
        && maxTokenRun >= minToken[d];
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

  /** Keeps the highest-priority (then longest) finding wherever findings overlap. */
  static List<Finding> resolve(List<Finding> found) {
    if (found.size() == 1) {
      return found;
    }
    found.sort(BY_PRIORITY);
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
      }
    }
    kept.sort(Comparator.comparingInt(Finding::start));
    return kept;
  }
}
