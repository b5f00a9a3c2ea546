package dev.gatehouse.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as written in {@code gatehouse.yaml}: one integer and one unit, {@code 500ms}, {@code
 * 30s}, {@code 15m}, {@code 12h}, {@code 90d}. Compound forms ({@code 1h30m}) and ISO-8601 ({@code
 * PT15M}) are rejected on purpose: one obvious spelling is easier to read in review.
 */
public final class Durations {
  static final String FORMS = "a number and a unit: 500ms, 30s, 15m, 12h or 90d";

  private static final Pattern FORM = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");

  private Durations() {}

  /** The duration, or null when {@code text} is not in the accepted form. */
  static Duration parse(String text) {
    Matcher m = FORM.matcher(text.trim());
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    try {
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    } catch (ArithmeticException e) {
      return null;
    }
  }

  /** The shortest exact spelling in the accepted form, for messages and docs. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms != 0 && ms % 86_400_000 == 0) {
      return ms / 86_400_000 + "d";
    }
    if (ms != 0 && ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms != 0 && ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
