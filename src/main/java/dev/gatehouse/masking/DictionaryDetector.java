package dev.gatehouse.masking;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whole-word, case-insensitive matches against a word list (project code names, customer names,
 * internal host names). Single words are looked up in a hash set per word of the text; phrases with
 * spaces or punctuation go through one alternation expression. Runs on every text, so very large
 * lists cost a hash lookup per word.
 */
final class DictionaryDetector extends Detector {
  private final Set<String> words;
  private final Pattern phrases;
  private final int minLen;
  private final int maxLen;

  DictionaryDetector(String type, List<String> entries) {
    super(type, 65);
    Set<String> w = new HashSet<>();
    List<String> p = new ArrayList<>();
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (String e : entries) {
      String t = e.trim().toLowerCase(Locale.ROOT);
      if (t.isEmpty()) {
        continue;
      }
      boolean single = t.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_');
      if (single) {
        w.add(t);
        min = Math.min(min, t.length());
        max = Math.max(max, t.length());
      } else {
        p.add(Pattern.quote(t));
      }
    }
    this.words = Set.copyOf(w);
    this.minLen = min;
    this.maxLen = max;
    this.phrases =
        p.isEmpty()
            ? null
            : Pattern.compile(
                "(?<![\\p{L}\\p{N}_])(?:" + String.join("|", p) + ")(?![\\p{L}\\p{N}_])",
                Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
  }

  @Override
  void find(String s, List<Finding> out) {
    if (!words.isEmpty()) {
      int n = s.length();
      int i = 0;
      while (i < n) {
        if (!Checks.isWord(s.charAt(i))) {
          i++;
          continue;
        }
        int j = i;
        while (j < n && Checks.isWord(s.charAt(j))) {
          j++;
        }
        int len = j - i;
        if (len >= minLen
            && len <= maxLen
            && words.contains(s.substring(i, j).toLowerCase(Locale.ROOT))) {
          add(out, i, j);
        }
        i = j;
      }
    }
    if (phrases != null) {
      Matcher m = phrases.matcher(s);
      while (m.find()) {
        add(out, m.start(), m.end());
      }
    }
  }
}
