package dev.gatehouse.config;

import java.util.Collection;
import java.util.Locale;

/** "Did you mean" for misspelt keys and enum values. */
final class Suggestions {
  private Suggestions() {}

  /**
   * The candidate closest to {@code input}, or null when none is close enough to be a plausible
   * typo. Spelling variants ({@code dataDir}, {@code data-dir}, {@code DATA_DIR}) always match.
   */
  static String closest(String input, Collection<String> candidates) {
    String normalizedInput = normalize(input);
    for (String c : candidates) {
      if (normalize(c).equals(normalizedInput)) {
        return c;
      }
    }
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = distance(input.toLowerCase(Locale.ROOT), c);
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    // Short keys need a tighter bound, or "url" would "match" "tls".
    int allowed = Math.max(1, Math.min(3, input.length() / 3));
    return bestDistance <= allowed ? best : null;
  }

  private static String normalize(String s) {
    return s.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
  }

  /** Optimal string alignment distance: Levenshtein plus adjacent transpositions. */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
