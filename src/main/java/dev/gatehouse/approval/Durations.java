package dev.gatehouse.approval;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Short durations as people type them: {@code 30m}, {@code 1h30m}, {@code 45s}, {@code 2d}. */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+)([dhms])");

  private Durations() {}

  /** Parses {@code 30m}, {@code 1h30m}, {@code 90s}, {@code 1d} or ISO-8601 {@code PT30M}. */
  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("duration: blank (expected e.g. 30m, 1h30m, 2h)");
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.startsWith("p")) {
      try {
        return Duration.parse(t.toUpperCase(Locale.ROOT));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "duration: " + text + " (expected e.g. 30m, 1h30m, 2h)", e);
      }
    }
    Matcher m = PART.matcher(t);
    Duration d = Duration.ZERO;
    int end = 0;
    while (m.find() && m.start() == end) {
      long n = Long.parseLong(m.group(1));
      d =
          d.plus(
              switch (m.group(2)) {
                case "d" -> Duration.ofDays(n);
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofSeconds(n);
              });
      end = m.end();
    }
    if (end == 0 || end != t.length()) {
      throw new IllegalArgumentException("duration: " + text + " (expected e.g. 30m, 1h30m, 2h)");
    }
    return d;
  }

  /** Formats as {@code 1h30m}, {@code 15m}, {@code 45s}, {@code 250ms}. */
  public static String format(Duration d) {
    if (d.isZero() || d.isNegative()) {
      return "0s";
    }
    if (d.compareTo(Duration.ofSeconds(1)) < 0) {
      return d.toMillis() + "ms";
    }
    StringBuilder sb = new StringBuilder();
    long days = d.toDays();
    if (days > 0) {
      sb.append(days).append('d');
    }
    if (d.toHoursPart() > 0) {
      sb.append(d.toHoursPart()).append('h');
    }
    if (d.toMinutesPart() > 0) {
      sb.append(d.toMinutesPart()).append('m');
    }
    if (d.toSecondsPart() > 0) {
      sb.append(d.toSecondsPart()).append('s');
    }
    return sb.toString();
  }
}
