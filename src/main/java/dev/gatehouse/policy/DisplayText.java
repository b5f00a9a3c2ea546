package dev.gatehouse.policy;

/**
 * Requester-controlled text (statements, argv, paths, justifications, reasons) made safe to show to
 * a human on a terminal or in a chat message. A reviewer must see the bytes that will run: a
 * carriage return, an ANSI escape sequence ({@code ESC [ 2K} erases the line, {@code ESC [ 1A}
 * moves up) or a bidi override (Unicode TR#9, U+202E renders what follows right to left) can make a
 * terminal display another statement than the one being approved. Every such character is replaced
 * with a visible escape, as {@code cat -v} does:
 *
 * <ul>
 *   <li>{@code \r}, {@code \n}, {@code \t} for carriage return, line feed, tab;
 *   <li>{@code \}{@code u001B} style for the other C0 controls, DEL and the C1 controls
 *       (U+0080-U+009F: U+009B is a one-character CSI to many terminals);
 *   <li>the same for format characters (general category Cf: bidi embeddings, overrides and
 *       isolates U+202A-U+202E and U+2066-U+2069, marks U+200E/U+200F/U+061C, zero-width
 *       characters, U+FEFF, tag characters, which can reorder or hide text), line and paragraph
 *       separators U+2028/U+2029 and unpaired surrogates; {@code \}{@code u{E0041}} above U+FFFF.
 * </ul>
 *
 * Backslashes are not doubled (a SQL {@code E'\n'} stays readable), so a literal {@code \r} typed
 * by the requester looks like an escaped carriage return: both are visible, neither hides text.
 * JSON output needs none of this (it is data, escaped by its own rules); only text meant to be read
 * goes through here.
 */
public final class DisplayText {
  private DisplayText() {}

  /** One line: line breaks too are escaped, so the text cannot add lines of its own. */
  public static String oneLine(String s) {
    return escape(s, false, "");
  }

  /**
   * Lines kept as lines, each after the first prefixed with {@code indent} so that the text cannot
   * impersonate output of its own (a forged {@code state: approved} line starts indented); every
   * other invisible character escaped as in {@link #oneLine}. A tab is kept as it is.
   */
  public static String lines(String s, String indent) {
    return escape(s, true, indent);
  }

  private static String escape(String s, boolean multiline, String indent) {
    if (s == null) {
      return "";
    }
    int i = 0;
    while (i < s.length()) {
      int cp = s.codePointAt(i);
      if (hidden(cp, multiline) || (cp == '\n' && !indent.isEmpty())) {
        break;
      }
      i += Character.charCount(cp);
    }
    if (i == s.length()) {
      return s; // the common case: nothing to escape
    }
    StringBuilder sb = new StringBuilder(s.length() + 16).append(s, 0, i);
    while (i < s.length()) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (!hidden(cp, multiline)) {
        sb.appendCodePoint(cp);
        if (cp == '\n') {
          sb.append(indent);
        }
        continue;
      }
      switch (cp) {
        case '\r' -> sb.append("\\r");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        default ->
            sb.append(cp > 0xFFFF ? String.format("\\u{%X}", cp) : String.format("\\u%04X", cp));
      }
    }
    return sb.toString();
  }

  private static boolean hidden(int cp, boolean multiline) {
    if (cp >= 0x20 && cp < 0x7F) {
      return false;
    }
    if (multiline && (cp == '\n' || cp == '\t')) {
      return false;
    }
    return switch (Character.getType(cp)) {
      case Character.CONTROL,
          Character.FORMAT,
          Character.LINE_SEPARATOR,
          Character.PARAGRAPH_SEPARATOR,
          Character.SURROGATE ->
          true;
      default -> false;
    };
  }
}
