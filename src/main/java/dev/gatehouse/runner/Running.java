package dev.gatehouse.runner;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * A started command as the runner supervises it, wherever it runs: a local process group ({@link
 * ProcessExecution}) or an exec channel on an SSH target ({@link RemoteExecution}). One supervision
 * loop (masking, recording, limits, timeout) drives both, so they cannot drift apart.
 */
interface Running extends Execution {
  /** A short name for thread names and logs. */
  String name();

  InputStream stdout();

  InputStream stderr();

  OutputStream stdin();

  /** Waits up to {@code millis} for the command to end; true when it has. */
  boolean waitFor(long millis) throws InterruptedException;

  /**
   * After it ended: the exit status, 128+N when killed by signal N. Also ends what the command left
   * behind (orphans still holding the output open).
   */
  int finish() throws InterruptedException;

  /** Why the gateway killed it (timeout, output limit, disconnect), or null. */
  String killedBecause();

  /** Stops reading output that is still open after the command ended. */
  void abandonOutput();

  /**
   * After {@link #finish}: why the status is not the command's own when the gateway did not kill it
   * (a remote channel that ended without one), for the caller and the record; else null.
   */
  default String lost() {
    return null;
  }
}
