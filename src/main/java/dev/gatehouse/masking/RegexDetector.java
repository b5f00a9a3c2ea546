package dev.gatehouse.masking;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A detector from a regular expression plus an optional validator, used for built-in credential
 * formats, custom YAML detectors and gitleaks rules. Expressions must use bounded quantifiers on
 * anything that can repeat (the built-ins do); {@code keywords} gate the expression so that it only
 * runs on text that mentions one of them.
 */
final class RegexDetector extends Detector {
  /** Optional post-match checks. */
  enum Validator {
    NONE,
    LUHN,
    MOD97,
    ENTROPY
  }

  final Pattern pattern;
  final int group;
  final Validator validator;
  final double minEntropy;
  final List<String> keywords;
  final List<Pattern> allow;
  final List<String> stopwords;
  private int needFlags;

  RegexDetector(
      String type,
      int priority,
      Pattern pattern,
      int group,
      Validator validator,
      double minEntropy,
      List<String> keywords,
      List<Pattern> allow,
      List<String> stopwords) {
    super(type, priority);
    this.pattern = pattern;
    this.group = group;
    this.validator = validator;
    this.minEntropy = minEntropy;
    this.keywords = keywords.stream().map(k -> k.toLowerCase(Locale.ROOT)).toList();
    this.allow = List.copyOf(allow);
    this.stopwords = stopwords.stream().map(k -> k.toLowerCase(Locale.ROOT)).toList();
    if (group > pattern.matcher("").groupCount()) {
      throw new IllegalArgumentException(
          "group " + group + " (expected: <= " + pattern.matcher("").groupCount() + ")");
    }
  }

  static RegexDetector simple(String type, int priority, String regex, int group, String... kw) {
    return new RegexDetector(
        type,
        priority,
        Pattern.compile(regex),
        group,
        Validator.NONE,
        0,
        List.of(kw),
        List.of(),
        List.of());
  }

  @Override
  List<String> keywords() {
    return keywords;
  }

  /**
   * This detector, run only when one of {@code flags} is present too: for a built-in whose keyword
   * is bounded in the first pass by letters and punctuation that ordinary sentences have ({@code
   * ?key=}, {@code pin}).
   */
  RegexDetector needing(int flags) {
    this.needFlags = flags;
    return this;
  }

  @Override
  int needFlags() {
    return needFlags;
  }

  @Override
  void find(String text, List<Finding> out) {
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      int g = m.group(group) != null ? group : firstGroup(m);
      if (g < 0) {
        continue;
      }
      int s = m.start(g);
      int e = m.end(g);
      if (s < 0 || e <= s) {
        continue;
      }
      String value = text.substring(s, e);
      if (accept(value, m.group())) {
        add(out, s, e);
      }
    }
  }

  private int firstGroup(Matcher m) {
    for (int g = 1; g <= m.groupCount(); g++) {
      if (m.group(g) != null) {
        return g;
      }
    }
    return m.groupCount() == 0 ? 0 : -1;
  }

  private boolean accept(String value, String whole) {
    switch (validator) {
      case LUHN -> {
        if (!Checks.luhn(value)) {
          return false;
        }
      }
      case MOD97 -> {
        if (!Checks.mod97(value.replace(" ", ""))) {
          return false;
        }
      }
      case ENTROPY -> {
        if (Checks.entropy(value) < minEntropy) {
          return false;
        }
      }
      case NONE -> {}
    }
    if (validator != Validator.ENTROPY && minEntropy > 0 && Checks.entropy(value) < minEntropy) {
      return false;
    }
    for (Pattern a : allow) {
      if (a.matcher(value).find() || a.matcher(whole).find()) {
        return false;
      }
    }
    if (!stopwords.isEmpty()) {
      String lower = value.toLowerCase(Locale.ROOT);
      for (String w : stopwords) {
        if (lower.contains(w)) {
          return false;
        }
      }
    }
    return true;
  }
}
