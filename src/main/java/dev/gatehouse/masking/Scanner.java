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

  private static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char) (c | 0x20) : c;
  }

  private static boolean numericSeparator(char c) {
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/' || c == '+';
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
    long kw = 0;
    char prev = 0;
    char prev2 = 0;
    char prev3 = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= '0' && c <= '9') {
        numRun = i - lastDigit <= 3 ? numRun + 1 : 1;
        lastDigit = i;
        if (numRun > maxNumRun) {
          maxNumRun = numRun;
        }
        if (prev >= '0'
            && prev <= '9'
            && prev2 >= 'A'
            && prev2 <= 'Z'
            && prev3 >= 'A'
            && prev3 <= 'Z') {
          flags |= Detector.F_IBAN;
        }
        tokenRun++;
      } else {
        if (!numericSeparator(c)) {
          lastDigit = -10;
        }
        if ((c >= 'a' && c <= 'z')
            || (c >= 'A' && c <= 'Z')
            || c == '_'
            || c == '-'
            || c == '+'
            || c == '/'
            || c == '=') {
          tokenRun++;
        } else {
          tokenRun = 0;
          if (c == '@') {
            flags |= Detector.F_AT;
          } else if (c == '.') {
            flags |= Detector.F_DOT;
          } else if (c == ':' && ++colons >= 2) {
            flags |= Detector.F_COLON2;
          }
        }
      }
      if (tokenRun > maxTokenRun) {
        maxTokenRun = tokenRun;
      }
      if (i + 1 < n && c < 128) {
        char d = s.charAt(i + 1);
        if (d < 128) {
          int idx = lower(c) * 128 + lower(d);
          String[] ks = keywordsByBigram[idx];
          if (ks != null) {
            long[] bs = bitsByBigram[idx];
            for (int q = 0; q < ks.length; q++) {
              if ((kw & bs[q]) != bs[q] && s.regionMatches(true, i, ks[q], 0, ks[q].length())) {
                kw |= bs[q];
              }
            }
          }
        }
      }
      prev3 = prev2;
      prev2 = prev;
      prev = c;
    }
    List<Finding> found = null;
    for (int d = 0; d < detectors.length; d++) {
      if (keywordBit[d] != 0 && (kw & keywordBit[d]) == 0) {
        continue;
      }
      if (needFlags[d] != 0 && (flags & needFlags[d]) == 0) {
        continue;
      }
      if (maxNumRun < minNumeric[d] || maxTokenRun < minToken[d]) {
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
