package dev.gatehouse.runner;

import dev.gatehouse.gate.GateSession;
import dev.gatehouse.masking.IdleFlushingWriter;
import dev.gatehouse.masking.StreamMasker;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Copies one output stream of the process to the caller through a masker, chunk by chunk (never
 * buffering the whole output), records what the caller saw, and enforces the shared output limit.
 */
final class OutputPump implements Runnable {
  /** Read size; a pipe holds 64 KiB on Linux (pipe(7)), so reads are at most that anyway. */
  static final int CHUNK = 16 * 1024;

  /**
   * How long the masker may hold back the tail of a chunk when the process is quiet: long enough
   * for the rest of a value written in two writes, short enough that a prompt is not delayed.
   */
  static final long IDLE_FLUSH_MILLIS = 25;

  private final InputStream in;
  private final OutputStream out;
  private final StreamMasker masker;
  private final char direction;
  private final GateSession session;
  private final boolean record;
  private final AtomicLong total;
  private final long max;
  private final Consumer<String> kill;
  private volatile boolean callerGone;

  OutputPump(
      InputStream in,
      OutputStream out,
      StreamMasker masker,
      char direction,
      GateSession session,
      boolean record,
      AtomicLong total,
      long max,
      Consumer<String> kill) {
    this.in = in;
    this.out = out;
    this.masker = masker;
    this.direction = direction;
    this.session = session;
    this.record = record;
    this.total = total;
    this.max = max;
    this.kill = kill;
  }

  @Override
  public void run() {
    byte[] buf = new byte[CHUNK];
    boolean over = false;
    // Held-back output is flushed after IDLE_FLUSH_MILLIS of quiet by the writer's own thread,
    // while this one keeps reading: the end of the output is seen (and flushed) at once.
    IdleFlushingWriter w =
        new IdleFlushingWriter(masker, this::emit, IDLE_FLUSH_MILLIS).start("exec-flush");
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        if (over) {
          continue; // drain, so the process is not blocked on a full pipe while it is killed
        }
        long after = total.addAndGet(n);
        int keep = n;
        if (max > 0 && after > max) {
          keep = (int) Math.max(0, n - (after - max));
          over = true;
        }
        w.feed(Arrays.copyOf(buf, keep));
        if (over) {
          w.flushNow();
          kill.accept("output limit of " + max + " bytes reached");
        }
      }
    } catch (IOException e) {
      // the process side closed (it was killed); what the masker holds is still flushed below
    }
    try {
      w.finish();
    } catch (IOException e) {
      // emit never throws: a caller that went away is handled there
    }
  }

  private void emit(byte[] masked) {
    if (masked.length == 0) {
      return;
    }
    if (record) {
      session.recordStream(direction, masked);
    }
    if (callerGone) {
      return;
    }
    try {
      // Callers may pass one stream for both stdout and stderr (a terminal): whole chunks only.
      synchronized (out) {
        out.write(masked);
        out.flush();
      }
    } catch (IOException e) {
      callerGone = true;
      kill.accept("the caller disconnected");
    }
  }
}
