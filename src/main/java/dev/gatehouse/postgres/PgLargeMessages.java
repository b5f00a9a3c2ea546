package dev.gatehouse.postgres;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway-wide memory budget for messages held whole. A message is read whole before it is
 * decided on or masked (its length is in the header, PostgreSQL's limit for data messages is 1 GiB,
 * {@code PQ_LARGE_MESSAGE_LIMIT}), so without a budget a few sessions sending large Bind or Query
 * messages, or selecting large values, could fill the heap and stall every other session in garbage
 * collection. Bodies above {@link #LARGE} take their size from one budget shared by all sessions
 * and both directions; a message that finds the budget in use waits for it (fairly, in arrival
 * order) up to {@link #WAIT_SECONDS}, then ends its session with 53200 ({@code out_of_memory}).
 * Smaller messages are never counted: they are bounded by the number of sessions.
 *
 * <p>Large statement texts are also classified a few at a time ({@link #classifying}): lexing and
 * classifying text costs about a hundred times its size in short-lived objects, so a handful of
 * sessions sending statements of a megabyte each would otherwise do the same.
 */
final class PgLargeMessages {
  private PgLargeMessages() {}

  /** Bodies above this size count against the budget. */
  static final int LARGE = 1 << 20;

  /** How long a large message waits for the budget before its session is ended. */
  static final long WAIT_SECONDS = 30;

  /** A quarter of the heap, at least 256 MiB; in KiB so that it fits a semaphore's int. */
  private static final int BUDGET_KIB =
      (int) (Math.max(256L << 20, Runtime.getRuntime().maxMemory() / 4) >> 10);

  private static final Semaphore budget = new Semaphore(BUDGET_KIB, true);

  /** Statement texts above {@link #LARGE_TEXT} characters classified at once, gateway-wide. */
  private static final Semaphore classifying = new Semaphore(2, true);

  /** Texts above this many characters are classified under {@link #classifying}. */
  static final int LARGE_TEXT = 64 << 10;

  /** A message that cannot be held now: ends the session with 53200, not a protocol error. */
  static final class Overloaded extends PgCodec.ProtocolViolation {
    Overloaded(String message) {
      super(message);
    }
  }

  /** The budget held by one direction of one session: at most one large message at a time. */
  static final class Hold {
    private final AtomicInteger kib = new AtomicInteger();

    /**
     * Gives back what the last message took and takes what the next one needs. Called before each
     * body is read: the message read before it has been handled by then (one message per direction
     * is in memory at a time).
     */
    void next(int bodyLength) throws Overloaded {
      release();
      if (bodyLength <= LARGE) {
        return;
      }
      int need = (int) ((bodyLength + 1023L) >> 10);
      if (need > BUDGET_KIB) {
        throw new Overloaded(
            "a message of "
                + bodyLength
                + " bytes is larger than the gateway holds in memory ("
                + ((long) BUDGET_KIB << 10)
                + " bytes for all sessions)");
      }
      boolean got;
      try {
        got = budget.tryAcquire(need, WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        got = false;
      }
      if (!got) {
        throw new Overloaded(
            "the gateway is holding as many large messages as it can; a message of "
                + bodyLength
                + " bytes waited "
                + WAIT_SECONDS
                + " s; try again later");
      }
      kib.set(need);
    }

    /**
     * Gives the budget back (before the next message, and in the reading thread's own cleanup when
     * the session ends); safe to repeat.
     */
    void release() {
      int held = kib.getAndSet(0);
      if (held > 0) {
        budget.release(held);
      }
    }
  }

  /** What the budget has free now, in KiB (tests). */
  static int availableKib() {
    return budget.availablePermits();
  }

  /** Runs a classification of {@code length} characters, a few large ones at a time. */
  static <T> T classify(int length, java.util.function.Supplier<T> classification) {
    if (length <= LARGE_TEXT) {
      return classification.get();
    }
    classifying.acquireUninterruptibly();
    try {
      return classification.get();
    } finally {
      classifying.release();
    }
  }
}
