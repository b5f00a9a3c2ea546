package dev.gatehouse.runner;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A command running on an SSH target. Signals are sent with kill(1) to the command's process group
 * from a second exec channel on the same SSH session ({@link RemoteScript#signal}), not as SSH
 * {@code signal} requests: OpenSSH's sshd refuses those for root logins ("session signalling
 * requires privilege separation") and older or other servers ignore them, and with no reply the
 * gateway could not tell. Should the command still not end, the channel is cut and the cleanup
 * kills the group.
 */
final class RemoteExecution implements Running {
  private static final Logger log = LoggerFactory.getLogger(RemoteExecution.class);

  /**
   * How long the channel may stay open after the exit status: output still in flight arrives in
   * this time; a background job still holding the output open is cut off (and killed by the
   * cleanup), as the local runner kills what is left of the process group.
   */
  static final Duration DRAIN = Duration.ofSeconds(5);

  /** Exit signal names of RFC 4254 section 6.10 and their Linux numbers, for 128+N. */
  static final Map<String, Integer> SIGNALS =
      Map.ofEntries(
          Map.entry("HUP", 1),
          Map.entry("INT", 2),
          Map.entry("QUIT", 3),
          Map.entry("ILL", 4),
          Map.entry("ABRT", 6),
          Map.entry("FPE", 8),
          Map.entry("KILL", 9),
          Map.entry("USR1", 10),
          Map.entry("SEGV", 11),
          Map.entry("USR2", 12),
          Map.entry("PIPE", 13),
          Map.entry("ALRM", 14),
          Map.entry("TERM", 15));

  /** Exit status when the channel ended without a status or a signal (ssh(1) uses 255 too). */
  static final int LOST = 255;

  /** Delivers one signal to the command's process group on the target. */
  interface Signals {
    void send(String signal) throws IOException;
  }

  private final RemoteHosts.Command command;
  private final Signals signals;
  private final ForwardedSignals forwarded;
  private final String name;
  private final AtomicReference<String> killedBecause = new AtomicReference<>();
  private volatile boolean cutOff;
  private volatile String lost;

  /** Signals not yet delivered; the head is being delivered. */
  private final java.util.ArrayDeque<String> pending = new java.util.ArrayDeque<>();

  RemoteExecution(
      RemoteHosts.Command command, Signals signals, ForwardedSignals forwarded, String name) {
    this.command = command;
    this.signals = signals;
    this.forwarded = forwarded;
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public InputStream stdout() {
    return command.stdout();
  }

  @Override
  public InputStream stderr() {
    return command.stderr();
  }

  @Override
  public OutputStream stdin() {
    return command.stdin();
  }

  @Override
  public void signal(String signal) {
    String sig = forwarded.check(signal); // refused here, to the caller
    // Delivered in order, off the caller's thread (an SSH listener I/O thread, an API request):
    // each one is a round trip to the target.
    synchronized (pending) {
      pending.addLast(sig);
      if (pending.size() == 1) {
        Thread.ofVirtual().name("exec-signal-" + name).start(this::deliver);
      }
    }
  }

  private void deliver() {
    while (true) {
      String sig;
      synchronized (pending) {
        sig = pending.peekFirst();
        if (sig == null) {
          return;
        }
      }
      send(sig);
      synchronized (pending) {
        pending.pollFirst();
      }
    }
  }

  @Override
  public void kill() {
    terminate("killed on request");
  }

  @Override
  public void terminate(String reason) {
    if (!killedBecause.compareAndSet(null, reason)) {
      return;
    }
    // Off the caller's thread (an output pump, the session sweeper): each signal is a round trip.
    Thread.ofVirtual()
        .name("exec-kill-" + name)
        .start(
            () -> {
              try {
                long grace = ProcessExecution.KILL_GRACE.toMillis();
                send("TERM");
                if (!command.awaitExit(grace)) {
                  send("KILL");
                  if (!command.awaitExit(grace)) {
                    log.warn("exec: runner {} did not end the command on signals; cutting", name);
                    cut();
                  }
                }
              } catch (InterruptedException e) {
                cut();
              }
            });
  }

  private void send(String signal) {
    try {
      if (!command.awaitExit(1)) {
        signals.send(signal);
      }
    } catch (IOException e) {
      log.warn("exec: cannot send SIG{} on runner {}: {}", signal, name, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void cut() {
    cutOff = true;
    command.close();
  }

  @Override
  public boolean waitFor(long millis) throws InterruptedException {
    return command.awaitExit(millis);
  }

  @Override
  public int finish() throws InterruptedException {
    while (!command.awaitExit(60_000)) {
      // terminate() guarantees an end: exit, or the channel is cut
    }
    if (!command.awaitClosed(DRAIN.toMillis())) {
      cut();
    }
    Integer status = command.exitStatus();
    if (status != null) {
      return status;
    }
    String signal = command.exitSignal();
    if (signal != null) {
      Integer n = SIGNALS.get(signal);
      if (n == null) {
        lost = "killed by signal " + signal + " on runner " + name;
        return LOST;
      }
      return 128 + n;
    }
    if (killedBecause.get() != null) {
      return 128 + 9;
    }
    lost = "the channel to runner " + name + " ended without an exit status";
    return LOST;
  }

  @Override
  public String lost() {
    return lost;
  }

  /**
   * Whether something of the command may still run on the target: the channel was closed before it
   * reported an end, or while output was still open after it.
   */
  boolean leftBehind() {
    return cutOff;
  }

  @Override
  public String killedBecause() {
    return killedBecause.get();
  }

  @Override
  public void abandonOutput() {
    cut();
  }
}
