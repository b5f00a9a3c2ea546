package dev.gatehouse.postgres;

import java.io.BufferedInputStream;
import java.io.InputStream;

/**
 * A buffered input that can tell whether it has consumed everything received so far without a
 * system call. The relays flush their output when the input runs dry (so pipelined messages go out
 * in one write); {@link BufferedInputStream#available} asks the socket ({@code ioctl FIONREAD})
 * every time, once per relayed message. A TLS stream answers {@code available} from its own
 * decrypted buffer, so it is asked; a plain socket is not.
 */
final class PgInput extends BufferedInputStream {
  private final boolean askSource;

  /**
   * @param askSource whether {@code in.available()} is cheap and worth asking (a TLS stream)
   */
  PgInput(InputStream in, int size, boolean askSource) {
    super(in, size);
    this.askSource = askSource;
  }

  /** Whether every byte received so far has been read: time to flush what was relayed. */
  boolean drained() throws java.io.IOException {
    if (pos < count) {
      return false;
    }
    return !askSource || in == null || in.available() == 0;
  }

  /** How far past the buffered bytes {@link #peerGone} looks for the end of the stream. */
  static final int PEEK_LIMIT = 1 << 16;

  /**
   * Whether the peer has closed or reset the connection, without consuming anything: reads past
   * what is buffered with a 1 ms timeout (at most {@link #PEEK_LIMIT} bytes, kept by mark and
   * reset), so a message the client pipelined is still read later. End of stream or an I/O error:
   * gone. A timeout or more data than the limit: still there. For a session thread that is not
   * reading its client, e.g. while a statement is held for review.
   */
  boolean peerGone(java.net.Socket socket) {
    try {
      int old = socket.getSoTimeout();
      int buffered = count - pos;
      mark(buffered + PEEK_LIMIT);
      try {
        socket.setSoTimeout(1);
        long skipped = 0;
        while (skipped < buffered) {
          long n = skip(buffered - skipped);
          if (n <= 0) {
            break;
          }
          skipped += n;
        }
        byte[] scratch = new byte[4096];
        for (int seen = 0; seen < PEEK_LIMIT; ) {
          int n = read(scratch, 0, Math.min(scratch.length, PEEK_LIMIT - seen));
          if (n < 0) {
            return true;
          }
          seen += n;
        }
        return false;
      } catch (java.net.SocketTimeoutException e) {
        return false; // nothing more has arrived: the connection is open
      } finally {
        reset();
        socket.setSoTimeout(old);
      }
    } catch (java.io.IOException e) {
      return true;
    }
  }
}
