package dev.gatehouse.ssh;

import dev.gatehouse.masking.IdleFlushingWriter;
import dev.gatehouse.masking.StreamMasker;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.function.Consumer;

/**
 * Byte pumps between a client channel and its upstream channel, on virtual threads with blocking
 * I/O: a pump reads the next chunk only after it has written the previous one, so backpressure is
 * the SSH channel window (RFC 4254 section 5.2) and memory per channel stays bounded.
 */
final class SshStreams {
  /** Read size; one SSH packet of data is at most 32 KiB in practice (RFC 4253 section 6.1). */
  static final int CHUNK = 32 * 1024;

  /**
   * How long output may sit in the masker's held-back tail before it is flushed anyway: short
   * enough that a shell prompt appears at once, long enough that a value split across two packets
   * of one burst is still seen whole.
   */
  static final long IDLE_FLUSH_MILLIS = 40;

  private SshStreams() {}

  /** A masker that changes nothing (sessions whose masking profile is {@code none}). */
  static final StreamMasker IDENTITY =
      new StreamMasker() {
        @Override
        public byte[] feed(byte[] chunk) {
          return chunk;
        }

        @Override
        public byte[] flush() {
          return new byte[0];
        }
      };

  /**
   * Copies {@code from} to {@code to} through {@code masker} until end of stream, handing every
   * masked chunk to {@code record} too. Held-back output is flushed when the source has been idle
   * for {@link #IDLE_FLUSH_MILLIS} ({@link IdleFlushingWriter}), so interactive output is not
   * delayed. Returns the number of bytes written; closes nothing.
   */
  static long pumpMasked(
      InputStream from, OutputStream to, StreamMasker masker, Consumer<byte[]> record)
      throws IOException {
    long[] written = new long[1];
    IdleFlushingWriter w =
        new IdleFlushingWriter(
                masker,
                b -> {
                  record.accept(b);
                  to.write(b);
                  to.flush();
                  written[0] += b.length;
                },
                IDLE_FLUSH_MILLIS)
            .start("ssh-flush");
    try {
      byte[] buf = new byte[CHUNK];
      int n;
      while ((n = from.read(buf)) >= 0) {
        if (n > 0) {
          w.feed(java.util.Arrays.copyOf(buf, n));
        }
      }
    } finally {
      w.finish();
    }
    return written[0];
  }

  /**
   * Copies the client's input to the target unchanged, handing each chunk to {@code tap} (for the
   * recording and the command log) before it is forwarded. Closes {@code to} at end of input, which
   * sends EOF upstream (RFC 4254 section 5.3).
   */
  static void pumpInput(InputStream from, OutputStream to, Consumer<byte[]> tap) {
    try (to) {
      byte[] buf = new byte[CHUNK];
      int n;
      while ((n = from.read(buf)) >= 0) {
        if (n > 0) {
          byte[] chunk = java.util.Arrays.copyOf(buf, n);
          tap.accept(chunk);
          to.write(chunk);
          to.flush();
        }
      }
    } catch (IOException e) {
      // The channel closed under us: the command ended or the client went away.
    }
  }
}
