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
}
