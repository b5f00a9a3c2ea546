package dev.gatehouse.masking;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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

  /** Whether this profile has every detector of {@code other} (the same instances). */
  boolean detects(Profile other) {
    return covers.computeIfAbsent(
        other.name, n -> scanner.detectors().containsAll(other.scanner.detectors()));
  }

  private final java.util.concurrent.ConcurrentHashMap<String, Boolean> covers =
      new java.util.concurrent.ConcurrentHashMap<>();

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
    if (text.indexOf('\u001b') >= 0) {
      return redactWithEscapes(text);
    }
    List<Finding> found = scanner.scan(text);
    return found.isEmpty() ? text : apply(text, found, 0, text.length());
  }

  /**
   * {@link #redact} of {@code text} read as it is and also after {@code lead}, a word that gives a
   * detector its context ({@code phone: } before the value of a JSON member named for a phone), the
   * findings of both readings joined ({@link Scanner#covering}: masks only grow). The plain reading
   * is needed too: the lead pushes the value off its line's start, where the line-anchored
   * detectors look ({@code .pgpass} lines, {@code requirepass x}). With colour codes in the value,
   * the plain reading's result is read again after the lead. The same instance when nothing was
   * found.
   */
  String redactAfter(String lead, String text) {
    if (text == null || text.isEmpty() || scanner.isEmpty()) {
      return text;
    }
    if (text.indexOf('\u001b') >= 0) {
      String plain = redactWithEscapes(text);
      String led = lead + plain;
      String masked = redactWithEscapes(led);
      return masked == led || !masked.startsWith(lead) ? plain : masked.substring(lead.length());
    }
    List<Finding> found =
        Scanner.covering(
            scanner.scan(text), Scanner.after(scanner.scan(lead + text), lead.length()));
    return found.isEmpty() ? text : apply(text, found, 0, text.length());
  }

  /**
   * {@link #redact} of a text with ANSI escape sequences, as the terminal path masks it ({@link
   * TextStreamMasker}): the values of the text without the sequences ({@code
   * 4111\e[1;31m1111\e[0m11111111}, a colour code inside a value stored in a table), masked with
   * the sequences kept in place, then a pass over the result with them (a value inside a sequence).
   */
  private String redactWithEscapes(String text) {
    TextStreamMasker.Visible v = TextStreamMasker.Visible.of(text);
    List<Finding> found = scanner.scan(v.text);
    String woven =
        found.isEmpty() ? text : v.apply(text, found, v.text.length(), text.length(), this);
    List<Finding> raw = scanner.scan(woven);
    return raw.isEmpty() ? woven : apply(woven, raw, 0, woven.length());
  }

  /**
   * {@link #redact} of UTF-8 text, or null when nothing is found: the detectors' gates are
   * evaluated on the bytes, and only a value that arms a detector is decoded and scanned.
   */
  String redactUtf8(byte[] utf8, int off, int len) {
    long armed = armed(utf8, off, len);
    return armed == 0 ? null : decodeAndRedact(utf8, off, len, armed);
  }

  /** The detectors {@code utf8} arms (their gates evaluated on the bytes); 0 when none. */
  private long armed(byte[] utf8, int off, int len) {
    if (len <= 0 || scanner.isEmpty()) {
      return 0;
    }
    long armed = scanner.armedUtf8(utf8, off, len);
    return armed == 0 ? 0 : scanner.keywordsPresentUtf8(armed, utf8, off, len);
  }

  /** Decodes and scans with the {@code armed} detectors; null when nothing is found. */
  private String decodeAndRedact(byte[] utf8, int off, int len, long armed) {
    String text = new String(utf8, off, len, StandardCharsets.UTF_8);
    if (text.indexOf('\u001b') >= 0) {
      String masked = redactWithEscapes(text); // colour codes inside the value
      return masked == text ? null : masked;
    }
    List<Finding> found = scanner.scanWith(text, armed, utf8, off, len);
    return found.isEmpty() ? null : apply(text, found, 0, text.length());
  }

  /**
   * {@link #redactUtf8} encoded as UTF-8, or null when nothing is found. A value that arms only the
   * email detector (the usual case for an email column; with or without its parts for addresses
   * written out, which every address with their markers' letters arms, and which only a value with
   * one of their markers needs: {@code findAscii} leaves that to the String path) is searched and
   * masked on its bytes, so that it is neither decoded nor re-encoded; the result is the same bytes
   * the String path gives (tested on the corpus and on random text; malformed UTF-8 outside an
   * address is passed on as it is, where the String path would write U+FFFD). Anything else, and an
   * address with non-ASCII characters outside its local part, takes the String path.
   */
  byte[] redactUtf8Bytes(byte[] utf8, int off, int len) {
    long armed = armed(utf8, off, len);
    if (armed == 0) {
      return null;
    }
    // the email detector, and perhaps its parts for addresses written out, which findAscii leaves
    // to the String path when the value has one of their markers
    if ((armed & ~scanner.emailWrittenOut) == scanner.emailBit) {
      List<Finding> found = new Scanner.Findings();
      boolean ascii;
      try {
        ascii = scanner.email.findAscii(utf8, off, len, found);
      } catch (Scanner.TooManyFindings e) {
        return applyBytes(
            utf8, off, len, List.of(new Finding(0, len, Scanner.TOO_MANY, Integer.MAX_VALUE)));
      } catch (RuntimeException e) {
        ascii = false; // the String path records a detector failure as a finding
      }
      if (ascii) {
        return found.isEmpty() ? null : applyBytes(utf8, off, len, Scanner.resolve(found));
      }
    }
    String masked = decodeAndRedact(utf8, off, len, armed);
    return masked == null ? null : masked.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * {@link #apply} on UTF-8 bytes, for email findings at byte offsets from {@code off} (see {@link
   * PiiDetectors.Email#findAscii}: whole characters of the BMP). The partial email style ({@code
   * j****@…}) is written directly; other styles get the finding as a String.
   */
  private byte[] applyBytes(byte[] b, int off, int len, List<Finding> found) {
    if (found.size() == 1) {
      // One address (an email column): the result's size is known, so one exact allocation.
      Finding f = found.get(0);
      int at = partialEmailAt(b, off, f);
      if (at > 0) {
        int first = PiiDetectors.Email.charLength(b[off + f.start()]);
        byte[] out = new byte[len - (at - f.start()) + first + 4];
        System.arraycopy(b, off, out, 0, f.start() + first);
        int o = f.start() + first;
        out[o] = '*';
        out[o + 1] = '*';
        out[o + 2] = '*';
        out[o + 3] = '*';
        System.arraycopy(b, off + at, out, o + 4, len - at);
        return out;
      }
    }
    byte[] out = new byte[len + 16];
    int o = 0;
    int pos = 0;
    for (Finding f : found) {
      int gap = f.start() - pos;
      out = room(out, o, gap + 5);
      System.arraycopy(b, off + pos, out, o, gap);
      o += gap;
      Style style = styleFor(f.type());
      int at = partialEmailAt(b, off, f);
      if (at > 0) {
        int first = PiiDetectors.Email.charLength(b[off + f.start()]);
        out = room(out, o, first + 4 + f.end() - at);
        System.arraycopy(b, off + f.start(), out, o, first);
        o += first;
        out[o] = '*';
        out[o + 1] = '*';
        out[o + 2] = '*';
        out[o + 3] = '*';
        o += 4;
        System.arraycopy(b, off + at, out, o, f.end() - at);
        o += f.end() - at;
      } else {
        String value = new String(b, off + f.start(), f.end() - f.start(), StandardCharsets.UTF_8);
        byte[] r = style.apply(value, f.type()).getBytes(StandardCharsets.UTF_8);
        out = room(out, o, r.length);
        System.arraycopy(r, 0, out, o, r.length);
        o += r.length;
      }
      pos = f.end();
    }
    out = room(out, o, len - pos);
    System.arraycopy(b, off + pos, out, o, len - pos);
    o += len - pos;
    return o == out.length ? out : Arrays.copyOf(out, o);
  }

  /**
   * For an email finding with the partial style, the offset of its last {@code @} after its first
   * character (where {@link Style.Partial#apply} cuts: the first character, {@code ****}, and from
   * the last {@code @} on); -1 for other findings or styles, and for a local part of one character,
   * which {@link Style.Partial#apply} masks whole.
   */
  private int partialEmailAt(byte[] b, int off, Finding f) {
    if (!f.type().equals("email") || !(styleFor(f.type()) instanceof Style.Partial)) {
      return -1;
    }
    for (int k = f.end() - 1; k > f.start(); k--) {
      if (b[off + k] == '@') {
        return k == f.start() + PiiDetectors.Email.charLength(b[off + f.start()]) ? -1 : k;
      }
    }
    return -1;
  }

  /** {@code out}, or a larger copy, with room for {@code need} more bytes after {@code o}. */
  private static byte[] room(byte[] out, int o, int need) {
    return o + need <= out.length ? out : Arrays.copyOf(out, Math.max(2 * out.length, o + need));
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
