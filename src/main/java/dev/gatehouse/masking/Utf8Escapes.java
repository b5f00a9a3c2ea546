package dev.gatehouse.masking;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;

/**
 * Bytes that are mostly UTF-8 text, masked as text and written back byte for byte: each byte that
 * is not valid UTF-8 becomes the lone surrogate U+DC80..U+DCFF (as Python's {@code
 * surrogateescape}), so the valid text around it, non-Latin text included, is read as it is, and
 * the escapes come back as the bytes they were. Used for PostgreSQL bytea values and for hex
 * literals in stored texts ({@link HexLiterals}).
 */
public final class Utf8Escapes {
  private Utf8Escapes() {}

  /**
   * {@code b[off, off + len)} masked as text by {@code redact} (which returns its input when it
   * changes nothing), or null when unchanged.
   */
  public static byte[] masked(UnaryOperator<String> redact, byte[] b, int off, int len) {
    String escaped = escaped(b, off, len);
    String text = escaped == null ? new String(b, off, len, StandardCharsets.UTF_8) : escaped;
    String masked = redact.apply(text);
    return masked.equals(text) ? null : unescaped(masked);
  }

  /** The bytes decoded as UTF-8 with invalid bytes escaped; null when they are valid UTF-8. */
  public static String escaped(byte[] b, int off, int len) {
    CharsetDecoder d =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(b, off, len);
    // A byte gives at most one char: a valid sequence of n bytes one or two, an invalid byte one.
    CharBuffer out = CharBuffer.allocate(len);
    boolean escaped = false;
    while (true) {
      CoderResult cr = d.decode(in, out, true);
      if (cr.isError()) {
        for (int i = 0; i < cr.length(); i++) {
          out.put((char) (0xDC00 | (in.get() & 0xff)));
        }
        escaped = true;
      } else {
        break; // underflow: all read (overflow cannot happen, see above)
      }
    }
    return escaped ? out.flip().toString() : null;
  }

  /** {@link #escaped}'s inverse: UTF-8, with each escaped byte written as itself. */
  public static byte[] unescaped(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() + 16);
    int run = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0xDC80 && c <= 0xDCFF && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)))) {
        out.writeBytes(s.substring(run, i).getBytes(StandardCharsets.UTF_8));
        out.write(c & 0xff);
        run = i + 1;
      }
    }
    out.writeBytes(s.substring(run).getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }
}
