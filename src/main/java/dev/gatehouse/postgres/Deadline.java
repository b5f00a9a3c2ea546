package dev.gatehouse.postgres;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A time limit on a socket's set-up (connect, TLS handshake, startup and authentication), enforced
 * by closing the socket instead of with {@code SO_TIMEOUT}.
 *
 * <p>Why not {@code SO_TIMEOUT}: the JDK's socket implementation switches a socket to non-blocking
 * mode the first time a timed connect or read is used, and never switches it back. Every later read
 * of the session then costs a {@code read} that fails with {@code EAGAIN}, a {@code poll} and a
 * second {@code read}: three system calls where one blocking {@code read} does, on every message of
 * every statement. Closing the socket from a timer wakes a blocked read just as well.
 */
final class Deadline implements AutoCloseable {
  private static final ScheduledThreadPoolExecutor TIMER =
      new ScheduledThreadPoolExecutor(
          1,
          r -> {
            Thread t = new Thread(r, "pg-deadline");
            t.setDaemon(true);
            return t;
          });

  static {
    // A thousand sessions connecting must not leave a thousand cancelled tasks in the queue.
    TIMER.setRemoveOnCancelPolicy(true);
  }

  private static final int ARMED = 0;
  private static final int EXPIRED = 1;
  private static final int DISARMED = 2;

  private final long millis;
  private final ScheduledFuture<?> task;
  private volatile Socket watched;

  /** ARMED until the timer or {@link #close} wins; the loser does nothing. */
  private final java.util.concurrent.atomic.AtomicInteger state =
      new java.util.concurrent.atomic.AtomicInteger(ARMED);

  private Deadline(long millis) {
    this.millis = millis;
    this.task = TIMER.schedule(this::expire, millis, TimeUnit.MILLISECONDS);
  }

  /** Starts a deadline {@code millis} from now; {@link #close} disarms it. */
  static Deadline after(long millis) {
    return new Deadline(millis);
  }

  /** Closes {@code s} when the deadline passes (at once if it has passed). Returns {@code s}. */
  Socket watch(Socket s) {
    watched = s;
    if (expired()) {
      closeQuietly(s);
    }
    return s;
  }

  /** Whether the deadline passed before it was disarmed (and the socket was closed for it). */
  boolean expired() {
    return state.get() == EXPIRED;
  }

  /** {@code e}, or a timeout naming the limit when the deadline closed the socket under it. */
  IOException explain(IOException e) {
    if (!expired() || e instanceof SocketTimeoutException) {
      return e;
    }
    SocketTimeoutException t =
        new SocketTimeoutException(
            "timed out after " + (millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms"));
    t.initCause(e);
    return t;
  }

  private void expire() {
    if (!state.compareAndSet(ARMED, EXPIRED)) {
      return; // disarmed first: the socket is the caller's again
    }
    Socket s = watched;
    if (s != null) {
      closeQuietly(s);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing for the deadline; the blocked reader reports the failure
    }
  }

  /**
   * Disarms the deadline. After it returns, either the socket will not be closed for the deadline,
   * or {@link #expired} is true (the timer won: the socket is or will be closed).
   */
  @Override
  public void close() {
    if (state.compareAndSet(ARMED, DISARMED)) {
      task.cancel(false);
    }
  }
}
