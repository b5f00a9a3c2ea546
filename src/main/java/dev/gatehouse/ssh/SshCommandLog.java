package dev.gatehouse.ssh;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Best-effort reconstruction of the lines typed into an interactive shell, for the audit log.
 *
 * <p>This is an audit aid, NOT a security boundary: it sees keystrokes, not what the remote shell
 * runs. Tab completion, history recall (arrow keys), aliases, line-editing shortcuts, pasted
 * control characters, programs reading their own input (editors, REPLs) and anything typed at a
 * no-echo prompt are not (or wrongly) reconstructed. Decisions about interactive shells are made
 * once, on the {@code shell} action; use exec requests when every command must be decided on.
 */
final class SshCommandLog {
  /** Longest line kept; the rest of a longer line is dropped (bounds memory per channel). */
  static final int MAX_LINE = 4096;

  private final Consumer<String> onLine;
  private final StringBuilder line = new StringBuilder();
  private final java.io.ByteArrayOutputStream utf8 = new java.io.ByteArrayOutputStream();
  private int escape; // 0 none, 1 after ESC, 2 inside CSI, 3 inside OSC/other string

  SshCommandLog(Consumer<String> onLine) {
    this.onLine = onLine;
  }

  /** Feeds raw client input. */
  void feed(byte[] chunk) {
    for (byte b : chunk) {
      int c = b & 0xff;
      if (escape == 1) {
        escape = c == '[' ? 2 : c == ']' || c == 'P' ? 3 : 0;
        continue;
      }
      if (escape == 2) {
        if (c >= 0x40 && c <= 0x7e) {
          escape = 0;
        }
        continue;
      }
      if (escape == 3) {
        if (c == 0x07 || c == 0x1b) {
          escape = c == 0x1b ? 1 : 0;
        }
        continue;
      }
      switch (c) {
        case 0x1b -> escape = 1;
        case '\r', '\n' -> emit();
        case 0x7f, 0x08 -> backspace();
        case 0x15, 0x03 -> clear(); // Ctrl-U kills the line, Ctrl-C abandons it
        default -> {
          if (c >= 0x20 || c == '\t') {
            if (line.length() + utf8.size() < MAX_LINE) {
              utf8.write(c);
            }
          }
        }
      }
    }
    decode();
  }

  private void decode() {
    if (utf8.size() == 0) {
      return;
    }
    byte[] b = utf8.toByteArray();
    int complete = completeUtf8Prefix(b);
    line.append(new String(b, 0, complete, StandardCharsets.UTF_8));
    utf8.reset();
    utf8.write(b, complete, b.length - complete);
  }

  private void backspace() {
    decode();
    if (utf8.size() > 0) {
      utf8.reset();
    } else if (!line.isEmpty()) {
      int cp = line.codePointBefore(line.length());
      line.setLength(line.length() - Character.charCount(cp));
    }
  }

  private void clear() {
    line.setLength(0);
    utf8.reset();
  }

  private void emit() {
    decode();
    String l = line.toString().strip();
    clear();
    if (!l.isEmpty()) {
      onLine.accept(l);
    }
  }

  private static int completeUtf8Prefix(byte[] b) {
    int n = b.length;
    for (int back = 1; back <= 3 && back <= n; back++) {
      int v = b[n - back] & 0xff;
      if ((v & 0xC0) == 0x80) {
        continue;
      }
      int need = v >= 0xF0 ? 4 : v >= 0xE0 ? 3 : v >= 0xC0 ? 2 : 1;
      return need > back ? n - back : n;
    }
    return n;
  }
}
