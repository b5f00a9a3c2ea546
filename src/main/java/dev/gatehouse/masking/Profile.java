package dev.gatehouse.masking;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** A named, immutable set of detectors, styles per detected type, and column rules. */
final class Profile {
  final String name;
  final Scanner scanner;
  final Map<String, Style> styles;
  final Style fallback;
  final List<ColumnRule> columns;

  Profile(
      String name,
      List<Detector> detectors,
      Map<String, Style> styles,
      Style fallback,
      List<ColumnRule> columns) {
    this.name = name;
    this.scanner = new Scanner(detectors);
    this.styles = Map.copyOf(styles);
    this.fallback = fallback;
    this.columns = List.copyOf(columns);
  }

  boolean detectsContent() {
    return !scanner.isEmpty();
  }

  Style styleFor(String type) {
    Style s = styles.get(type);
    return s == null ? fallback : s;
  }

  ColumnRule columnRule(String conn, String schema, String table, String column) {
    for (ColumnRule r : columns) {
      if (r.matches(conn, schema, table, column)) {
        return r;
      }
    }
    return null;
  }

  /** The text with every finding replaced; the same instance when nothing was found. */
  String redact(String text) {
    if (text == null || text.isEmpty() || scanner.isEmpty()) {
      return text;
    }
    List<Finding> found = scanner.scan(text);
    return found.isEmpty() ? text : apply(text, found, 0, text.length());
  }

  /**
   * {@link #redact} of UTF-8 text, or null when nothing is found: the detectors' gates are
   * evaluated on the bytes, and only a value that arms a detector is decoded and scanned.
   */
  String redactUtf8(byte[] utf8, int off, int len) {
    if (len <= 0 || scanner.isEmpty()) {
      return null;
    }
    long armed = scanner.armedUtf8(utf8, off, len);
    if (armed == 0) {
      return null;
    }
    String text = new String(utf8, off, len, StandardCharsets.UTF_8);
    List<Finding> found = scanner.scanWith(text, armed);
    return found.isEmpty() ? null : apply(text, found, 0, text.length());
  }

  /** Applies {@code found} (sorted, non-overlapping) within {@code [from, to)}. */
  String apply(String text, List<Finding> found, int from, int to) {
    if (found.size() == 1 && from == 0 && to == text.length()) {
      Finding f = found.get(0);
      if (f.start() == 0 && f.end() == to) {
        // The whole value is one finding (an email or phone column): no copy, no builder.
        return styleFor(f.type()).apply(text, f.type());
      }
    }
    StringBuilder b = new StringBuilder(to - from + 16);
    int pos = from;
    for (Finding f : found) {
      if (f.start() < from || f.end() > to) {
        continue;
      }
      b.append(text, pos, f.start());
      String value = text.substring(f.start(), f.end());
      Style style = styleFor(f.type());
      b.append(style.apply(value, f.type()));
      pos = f.end();
    }
    b.append(text, pos, to);
    return b.toString();
  }
}
