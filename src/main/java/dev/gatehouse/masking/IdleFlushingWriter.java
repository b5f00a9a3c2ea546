package dev.gatehouse.masking;

import java.io.IOException;

/**
 * Feeds a stream through a {@link StreamMasker} and flushes what the masker holds back once the
 * stream has been quiet for a while, on a virtual thread of its own, so that the reader keeps
 * blocking in {@code read} (and sees the end of the stream at once). Feeding and flushing are
 * serialised, so output keeps its order. Used by the command runners and the SSH relay.
 */
public final class IdleFlushingWriter {
  /** Where masked output goes (the caller, and the recording). */
  @FunctionalInterface
  public interface Sink {
    void write(byte[] masked) throws IOException;
  }

  /** How often a masker that holds the start of a secret after an idle flush is asked again. */
  static final long HOLD_RECHECK_MILLIS = 5;

  private final StreamMasker masker;
  private final Sink sink;
  private final long idleMillis;
  private long lastFeed;
  private boolean dirty;
  private boolean done;
  private IOException failed;
  private Thread flusher;

  /**
   * @param idleMillis quiet time after which the held-back tail is flushed: long enough for the
   *     rest of a value written in two writes, short enough that a prompt is not delayed
   */
  public IdleFlushingWriter(StreamMasker masker, Sink sink, long idleMillis) {
    this.masker = masker;
    this.sink = sink;
    this.idleMillis = idleMillis;
  }

  /** Starts the idle flusher; returns this. */
  public IdleFlushingWriter start(String threadName) {
    flusher = Thread.ofVirtual().name(threadName).start(this::flushWhenIdle);
    return this;
  }

  /** Masks and writes a chunk (what the masker lets go of now). */
  public synchronized void feed(byte[] chunk) throws IOException {
    if (failed != null) {
      throw failed;
    }
    write(masker.feed(chunk));
    lastFeed = System.nanoTime();
    dirty = true;
    notifyAll();
  }

  /** Writes everything the masker holds, now (an output limit was reached). */
  public synchronized void flushNow() throws IOException {
    dirty = false;
    write(masker.flush());
  }

  /** End of the stream: writes what the masker holds and stops the flusher. */
  public void finish() throws IOException {
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      notifyAll();
      if (failed == null) {
        write(masker.flush());
      }
    }
    if (flusher != null) {
      flusher.interrupt();
    }
  }

  private synchronized void flushWhenIdle() {
    try {
      while (!done) {
        if (!dirty) {
          wait();
          continue;
        }
        long idle = (System.nanoTime() - lastFeed) / 1_000_000;
        if (idle < idleMillis) {
          wait(idleMillis - idle);
          continue;
        }
        // The masker may keep what looks like the start of a secret still being printed for a
        // bounded time (StreamMasker#flushIdle, at most a second); ask again shortly until it
        // lets go or output arrives (feed sets lastFeed and dirty again).
        write(masker.flushIdle(idle));
        if (masker.holding()) {
          wait(HOLD_RECHECK_MILLIS);
          continue;
        }
        dirty = false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      failed = e;
    }
  }

  private void write(byte[] b) throws IOException {
    if (b.length > 0) {
      sink.write(b);
    }
  }
}
