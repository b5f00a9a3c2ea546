package dev.gatehouse.ssh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A command or shell running on the target for one client channel, and how the gateway stops it
 * when that channel goes away before the command ended (the client closed it, its connection
 * dropped, {@code ssh} was killed) or the gate ends the session.
 *
 * <p>Closing the upstream channel alone does not stop a command without a terminal: OpenSSH's sshd
 * then closes the command's pipes and leaves it running (session.c, session_close_by_channel: "has
 * child"), so {@code ssh host 'sleep 300; touch x'} killed after a second would still touch {@code
 * x}. With a terminal, sshd hangs the terminal up (session_pty_cleanup), and the kernel sends
 * SIGHUP to the terminal's session. A {@code signal} request (RFC 4254 section 6.9) reaches the
 * command's process group (session_signal_req: killpg), but sshd refuses it when the login is root
 * (it then runs without privilege separation: "session signalling requires privilege separation").
 *
 * <p>So a guarded command without a terminal reports its process group first ({@link #REPORT}: sshd
 * starts every session's command in a new session and process group, setsid(2), and the guard's
 * {@code /bin/sh} is its leader when the login shell started it by exec, as bash, dash and zsh do
 * for one simple command), on stderr, where the gateway takes the line out ({@link Report}) before
 * masking. To stop the command the gateway opens one more exec channel on the same upstream
 * session, as the same account, that sends SIGTERM to that process group ({@code kill -TERM -PGID})
 * and SIGKILL {@link #GRACE} later to what is left of it. That works for root and other logins
 * alike. Without a reported group (a terminal, {@code pager_guard: off}, a login shell that forked)
 * the gateway sends the {@code signal} request, as before.
 */
final class SshTargetJob {
  private static final Logger log = LoggerFactory.getLogger(SshTargetJob.class);

  /** What the guard's {@code /bin/sh} writes on stderr before it starts the decided command. */
  static final String MARK = "\036gatehouse-pgid:";

  /**
   * The guard's first statement: the leader of the session's process group is this shell (the login
   * shell started the guard by exec: bash, zsh) or its parent (the login shell forked: Debian's
   * dash), and {@code kill -0 -PID} succeeds only for an existing group, so the first of the two
   * that leads a group is told to the gateway, on one stderr line. dash's kill builtin takes no
   * {@code --}; a signal given first makes the operand a group in dash and bash. printf's format
   * reads {@code \036} as the octal byte (XCU printf). No variable is set: a shell line runs after
   * it in the same shell.
   */
  static final String REPORT =
      "if kill -0 -$$ 2>/dev/null; then printf '\\036gatehouse-pgid:%s\\n' $$ >&2;"
          + " elif kill -0 -$PPID 2>/dev/null; then printf '\\036gatehouse-pgid:%s\\n' $PPID >&2;"
          + " fi";

  /** How long a stopped command has between SIGTERM and SIGKILL (docker stop waits 10 s). */
  static final Duration GRACE = Duration.ofSeconds(10);

  /** How long the gateway waits for the stopping channel to do its work. */
  static final Duration STOP_WAIT = Duration.ofSeconds(10);

  private final ClientSession session;
  private final org.apache.sshd.client.channel.ChannelSession channel;
  private final boolean pty;
  private volatile long group; // 0 until reported
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final CompletableFuture<String> stopped = new CompletableFuture<>();

  SshTargetJob(
      ClientSession session, org.apache.sshd.client.channel.ChannelSession channel, boolean pty) {
    this.session = session;
    this.channel = channel;
    this.pty = pty;
  }

  org.apache.sshd.client.channel.ChannelSession channel() {
    return channel;
  }

  /** The process group the command reported, or 0. */
  long group() {
    return group;
  }

  /** The command's stderr as the target sent it, without the group report. */
  InputStream stderr(InputStream raw) {
    return new Report(raw, g -> group = g);
  }

  /** True once the target said how the command ended (exit-status or exit-signal). */
  boolean ended() {
    return channel.getExitStatus() != null || channel.getExitSignal() != null;
  }

  /**
   * Stops the command on the target, once (later calls return the first's future), then closes the
   * upstream channel. Completes with what was done, for the action's recorded outcome.
   */
  CompletableFuture<String> stop() {
    if (stopping.compareAndSet(false, true)) {
      Thread.ofVirtual()
          .name("ssh-stop")
          .start(
              () -> {
                String how;
                try {
                  how = doStop();
                } catch (RuntimeException e) {
                  log.debug("cannot stop the command on the target", e);
                  how = "the gateway could not stop it on the target: " + e;
                }
                channel.close(false);
                stopped.complete(how);
              });
    }
    return stopped;
  }

  /** The outcome once {@link #stop} finished, waiting at most {@code wait}; null if not stopped. */
  String stoppedHow(Duration wait) {
    if (!stopping.get()) {
      return null;
    }
    try {
      return stopped.get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      return "the gateway's stop had not finished";
    }
  }

  private String doStop() {
    if (ended() || !channel.isOpen() || channel.isClosing()) {
      return "it had ended on the target";
    }
    long g = group;
    if (g > 0 && session.isOpen()) {
      Integer status = killGroup(g);
      if (status == null || status == 0) {
        // null: the stopping channel ran but its exit status did not come back in time (a slow
        // target); a signal request now would be a second SIGTERM, which some programs read as
        // "stop without cleaning up" (terraform)
        return "the gateway sent SIGTERM to its process group on the target, and SIGKILL "
            + GRACE.toSeconds()
            + " s later to what was left"
            + (status == null ? " (not confirmed)" : "");
      }
      if (status == 3) {
        return "it had ended on the target";
      }
      // the stopping channel could not be opened: the signal request below is the last resort
    }
    try {
      SshTargetCommand.sendSignal(channel, "TERM").await(STOP_WAIT.toMillis());
    } catch (IOException | RuntimeException e) {
      log.debug("cannot send TERM to the target", e);
      return "the gateway could not reach the target to stop it";
    }
    return pty
        ? "the gateway hung up its terminal (SIGHUP) and asked the target's sshd to send SIGTERM"
        : "the gateway asked the target's sshd to send SIGTERM (refused on a root login)";
  }

  /**
   * The line that stops process group {@code g}: SIGTERM now, SIGKILL after {@link #GRACE} to what
   * is still in the group, in the background with its streams closed, so the channel ends at once.
   * Exit status 3 when the group is gone. Run by {@code /bin/sh} (dash's kill takes {@code -SIG
   * -PGID}, not {@code --}); {@code g} is a number the gateway parsed.
   */
  static String killLine(long g) {
    String grace = String.valueOf(GRACE.toSeconds());
    String script =
        "kill -TERM -"
            + g
            + " 2>/dev/null || exit 3; (sleep "
            + grace
            + "; kill -0 -"
            + g
            + " && kill -KILL -"
            + g
            + ") </dev/null >/dev/null 2>&1 &";
    return "/bin/sh -c '" + script + "'";
  }

  /**
   * Runs {@link #killLine} on its own channel: its exit status, null when the channel opened but
   * its status did not come back within {@link #STOP_WAIT}, or -1 when it could not be opened.
   */
  private Integer killGroup(long g) {
    try (ChannelExec k = session.createExecChannel(killLine(g))) {
      k.setOut(OutputStream.nullOutputStream());
      k.setErr(OutputStream.nullOutputStream());
      try {
        k.open().verify(STOP_WAIT);
      } catch (IOException | RuntimeException e) {
        log.debug("cannot open the stopping channel on the target", e);
        return -1;
      }
      k.getInvertedIn().close(); // EOF: the line reads nothing
      k.waitFor(EnumSet.of(ClientChannelEvent.CLOSED, ClientChannelEvent.EXIT_STATUS), STOP_WAIT);
      return k.getExitStatus();
    } catch (IOException | RuntimeException e) {
      log.debug("stopping channel on the target", e);
      return null;
    }
  }

  /**
   * A stderr stream without the guard's report line ({@link #MARK} and digits, at the start of a
   * line within the first {@link #SCAN} bytes: a login shell's rc file may write before the guard).
   * Bytes that may still be the report are held until they cannot be (at most the report's length);
   * everything else passes as it came. Only the first report counts: once it was seen, or after
   * {@link #SCAN} bytes, the stream passes unchanged.
   */
  static final class Report extends InputStream {
    static final int SCAN = 64 * 1024;
    private static final byte[] MARK_BYTES = MARK.getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_DIGITS = 19;

    private final InputStream in;
    private final java.util.function.LongConsumer found;
    private final ByteArrayOutputStream held = new ByteArrayOutputStream();
    private byte[] ready = new byte[0];
    private int readyAt;
    private boolean done; // the report was seen, or the scan is over
    private boolean lineStart = true;
    private long scanned;
    private boolean eof;

    Report(InputStream in, java.util.function.LongConsumer found) {
      this.in = in;
      this.found = found;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (true) {
        if (readyAt < ready.length) {
          int n = Math.min(len, ready.length - readyAt);
          System.arraycopy(ready, readyAt, b, off, n);
          readyAt += n;
          return n;
        }
        if (eof) {
          return -1;
        }
        if (done && held.size() == 0) {
          return in.read(b, off, len);
        }
        byte[] buf = new byte[Math.max(len, 1024)];
        int n = in.read(buf, 0, buf.length);
        if (n < 0) {
          eof = true;
          ready = held.toByteArray(); // a report cut short is just output
          readyAt = 0;
          held.reset();
          continue;
        }
        ready = feed(buf, n);
        readyAt = 0;
      }
    }

    /** Scans {@code n} bytes; returns those that are output. */
    byte[] feed(byte[] buf, int n) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(n);
      for (int i = 0; i < n; i++) {
        byte x = buf[i];
        if (done) {
          out.write(buf, i, n - i);
          break;
        }
        scanned++;
        if (held.size() > 0 || lineStart) {
          held.write(x);
          int state = match(held.toByteArray());
          if (state == MATCHED) {
            found.accept(parse(held.toByteArray()));
            held.reset();
            done = true;
            lineStart = true;
            continue;
          }
          if (state == NO) {
            out.writeBytes(held.toByteArray());
            held.reset();
          }
        } else {
          out.write(x);
        }
        lineStart = x == '\n';
        if (scanned >= SCAN && held.size() == 0) {
          done = true;
        }
      }
      return out.toByteArray();
    }

    private static final int NO = 0;
    private static final int MAYBE = 1;
    private static final int MATCHED = 2;

    /** Whether {@code h} is the report line, could still become it, or cannot. */
    static int match(byte[] h) {
      int m = MARK_BYTES.length;
      for (int i = 0; i < Math.min(h.length, m); i++) {
        if (h[i] != MARK_BYTES[i]) {
          return NO;
        }
      }
      if (h.length <= m) {
        return MAYBE;
      }
      for (int i = m; i < h.length; i++) {
        byte c = h[i];
        if (c == '\n') {
          return i > m ? MATCHED : NO;
        }
        if (c < '0' || c > '9' || i - m >= MAX_DIGITS) {
          return NO;
        }
      }
      return MAYBE;
    }

    private static long parse(byte[] line) {
      String digits =
          new String(
              line,
              MARK_BYTES.length,
              line.length - MARK_BYTES.length - 1,
              StandardCharsets.US_ASCII);
      try {
        long g = Long.parseLong(digits);
        return g > 1 ? g : 0; // never "kill -TERM -1" (every process the account may signal)
      } catch (NumberFormatException e) {
        return 0;
      }
    }
  }
}
