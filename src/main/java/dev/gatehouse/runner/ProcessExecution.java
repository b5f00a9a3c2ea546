package dev.gatehouse.runner;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A started command: the leader of its own process group (it was started through setsid(1)), so
 * {@code kill -SIG -PGID} reaches everything it spawned that did not leave the group (kill(2)).
 */
final class ProcessExecution implements Running {
  private static final Logger log = LoggerFactory.getLogger(ProcessExecution.class);

  /** Time a group gets between SIGTERM and SIGKILL, like systemd's stop timeout, but shorter. */
  static final Duration KILL_GRACE = Duration.ofSeconds(2);

  private final Process process;
  private final long pgid;
  private final ForwardedSignals forwarded;
  private final AtomicReference<String> killedBecause = new AtomicReference<>();

  ProcessExecution(Process process, ForwardedSignals forwarded) {
    this.process = process;
    this.pgid = process.pid();
    this.forwarded = forwarded;
  }

  Process process() {
    return process;
  }

  @Override
  public String name() {
    return String.valueOf(pgid);
  }

  @Override
  public java.io.InputStream stdout() {
    return process.getInputStream();
  }

  @Override
  public java.io.InputStream stderr() {
    return process.getErrorStream();
  }

  @Override
  public java.io.OutputStream stdin() {
    return process.getOutputStream();
  }

  @Override
  public boolean waitFor(long millis) throws InterruptedException {
    return process.waitFor(millis, TimeUnit.MILLISECONDS);
  }

  @Override
  public int finish() throws InterruptedException {
    int status = process.waitFor();
    // Orphans (a background job of a shell) still hold the pipes open: end the group.
    reapGroup();
    return status;
  }

  @Override
  public void abandonOutput() {
    closeQuietly(process.getInputStream());
    closeQuietly(process.getErrorStream());
  }

  private static void closeQuietly(java.io.InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // closing is all we wanted
    }
  }

  @Override
  public String killedBecause() {
    return killedBecause.get();
  }

  @Override
  public void signal(String name) {
    sendToGroup(forwarded.check(name));
  }

  @Override
  public void kill() {
    terminate("killed on request");
  }

  /**
   * Ends the whole group: SIGTERM, then SIGKILL after {@link #KILL_GRACE} if the leader still runs.
   * Idempotent; the first reason is kept.
   */
  @Override
  public void terminate(String reason) {
    if (!killedBecause.compareAndSet(null, reason)) {
      return;
    }
    sendToGroup("TERM");
    Thread.ofVirtual()
        .name("exec-kill-" + pgid)
        .start(
            () -> {
              try {
                if (!process.waitFor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                  sendToGroup("KILL");
                }
              } catch (InterruptedException e) {
                sendToGroup("KILL");
              }
            });
  }

  /** SIGKILL to whatever is left of the group once the leader has exited (orphans). */
  private void reapGroup() {
    sendToGroup("KILL");
  }

  private void sendToGroup(String sig) {
    // The JDK cannot signal a process group, or send anything but TERM and KILL: use kill(1).
    String kill = Tools.find("kill");
    try {
      if (kill == null) {
        if ("KILL".equals(sig)) {
          process.destroyForcibly();
        } else {
          process.destroy();
        }
        return;
      }
      Process k =
          new ProcessBuilder(kill, "-s", sig, "--", "-" + pgid)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      k.getOutputStream().close();
      if (!k.waitFor(5, TimeUnit.SECONDS)) {
        k.destroyForcibly();
      }
    } catch (IOException e) {
      log.warn("exec: cannot send SIG{} to process group {}", sig, pgid, e);
      process.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
