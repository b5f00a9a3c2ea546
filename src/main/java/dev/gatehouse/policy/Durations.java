package dev.gatehouse.policy;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Parses durations written as {@code 30s}, {@code 15m}, {@code 8h}, {@code 1h30m}, {@code 2d}. */
final class Durations {
  private Durations() {}

  static Duration parse(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    if (s.startsWith("p")) {
      try {
        return positive(Duration.parse(s.toUpperCase(Locale.ROOT)), text);
      } catch (DateTimeParseException e) {
        throw bad(text);
      }
    }
    if (s.isEmpty()) {
      throw bad(text);
    }
    Duration total = Duration.ZERO;
    int i = 0;
    while (i < s.length()) {
      int start = i;
      while (i < s.length() && Character.isDigit(s.charAt(i))) {
        i++;
      }
      if (start == i || i == s.length()) {
        throw bad(text);
      }
      long v;
      try {
        v = Long.parseLong(s.substring(start, i));
      } catch (NumberFormatException e) {
        throw bad(text);
      }
      char unit = s.charAt(i++);
      total =
          switch (unit) {
            case 's' -> total.plusSeconds(v);
            case 'm' -> total.plusMinutes(v);
            case 'h' -> total.plusHours(v);
            case 'd' -> total.plusDays(v);
            default -> throw bad(text);
          };
    }
    return positive(total, text);
  }

  static String format(Duration d) {
    if (d == null) {
      return "none";
    }
    long s = d.getSeconds();
    StringBuilder b = new StringBuilder();
    if (s >= 86400 && s % 86400 == 0) {
      return s / 86400 + "d";
    }
    if (s >= 3600) {
      b.append(s / 3600).append('h');
      s %= 3600;
    }
    if (s >= 60) {
      b.append(s / 60).append('m');
      s %= 60;
    }
    if (s > 0 || b.isEmpty()) {
      b.append(s).append('s');
    }
    return b.toString();
  }

  private static Duration positive(Duration d, String text) {
    if (d.isNegative() || d.isZero()) {
      throw bad(text);
    }
    return d;
  }

  private static IllegalArgumentException bad(String text) {
    return new IllegalArgumentException(
        "duration: " + text + " (expected a positive duration such as 30s, 15m, 8h, 1h30m or 2d)");
  }
}
