package dev.gatehouse.ssh;

import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.Action;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of what runs on a client session channel (exec, shell, subsystem): MINA hands over the
 * channel's streams, and {@link #start} runs {@link #run()} on a virtual thread so a command may
 * block (on the upstream, or on a review) without holding an I/O thread.
 */
abstract class SshChannelCommand implements Command {
  private static final Logger log = LoggerFactory.getLogger(SshChannelCommand.class);

  /** Exit status for anything the gateway refused; the same as a shell's "cannot execute". */
  static final int REFUSED = 126;

  /**
   * Variables a client's {@code env} requests (RFC 4254 section 6.4) carry by default: OpenSSH
   * clients send {@code LANG} and {@code LC_*} ({@code SendEnv} in Debian's ssh_config). They are
   * passed on without a decision; any other variable is part of the command the policy decides on.
   */
  static boolean isLocale(String name) {
    return name.equals("LANG") || name.startsWith("LC_");
  }

  /**
   * The variable a client sets to justify a request that needs review ({@code ssh -o
   * SetEnv=GATEHOUSE_JUSTIFICATION=INC-42 ...}); it travels as the action's {@code justification}
   * attribute, never to the target.
   */
  static final String JUSTIFICATION_ENV = "GATEHOUSE_JUSTIFICATION";

  /** Set by MINA itself (from pty-req, or always), or by the gateway's own convention. */
  private static final Set<String> SERVER_SET =
      Set.of(
          Environment.ENV_USER,
          Environment.ENV_TERM,
          Environment.ENV_COLUMNS,
          Environment.ENV_LINES,
          JUSTIFICATION_ENV);

  protected final SshConnection conn;
  protected InputStream in;
  protected OutputStream out;
  protected OutputStream err;
  protected ExitCallback exit;
  protected ChannelSession channel;
  protected Environment env;

  /**
   * The channel's variables (and terminal) as they were when the shell, exec or subsystem request
   * came ({@link #start}). RFC 4254 sections 6.2 and 6.4 put {@code pty-req} and {@code env} before
   * that request, but MINA's server channel accepts them at any time and adds them to the same
   * {@link #env}: one sent right after the exec request would otherwise reach the target's command
   * after the gate decided without it (an undecided {@code LD_PRELOAD}), or give a command decided
   * without a terminal (and so, under {@code pager_guard: tty}, without the guard) a terminal. Only
   * window changes ({@link #envInt}) are read live.
   */
  private Map<String, String> sent = Map.of();

  private volatile Thread worker;
  private volatile boolean exited;

  SshChannelCommand(SshConnection conn) {
    this.conn = conn;
  }

  @Override
  public void setInputStream(InputStream in) {
    this.in = in;
  }

  @Override
  public void setOutputStream(OutputStream out) {
    this.out = out;
  }

  @Override
  public void setErrorStream(OutputStream err) {
    this.err = err;
  }

  @Override
  public void setExitCallback(ExitCallback callback) {
    this.exit = callback;
  }

  @Override
  public void start(ChannelSession channel, Environment env) throws IOException {
    this.channel = channel;
    this.env = env;
    this.sent = java.util.Collections.unmodifiableMap(new HashMap<>(env.getEnv()));
    worker =
        Thread.ofVirtual()
            .name("ssh-" + getClass().getSimpleName() + "-" + channel.getChannelId())
            .start(
                () -> {
                  try {
                    run();
                  } catch (Exception e) {
                    log.warn("ssh channel failed", e);
                    refuse("internal error; the command did not complete");
                  }
                });
  }

  /** Does the work and ends with {@link #exit(int)}, {@link #exitSignal} or {@link #refuse}. */
  abstract void run() throws Exception;

  @Override
  public void destroy(ChannelSession channel) {
    Thread t = worker;
    if (t != null && !exited) {
      t.interrupt();
    }
    cancel();
  }

  /** Releases upstream resources when the client channel goes away; idempotent. */
  void cancel() {}

  /** The variables the client asked for with {@code env} requests, without locale variables. */
  Map<String, String> requestedEnv() {
    Map<String, String> m = new HashMap<>();
    sent.forEach(
        (k, v) -> {
          if (!SERVER_SET.contains(k) && !isLocale(k)) {
            m.put(k, v);
          }
        });
    return m;
  }

  /** The locale variables the client sent, passed to the target as they are. */
  Map<String, String> localeEnv() {
    Map<String, String> m = new HashMap<>();
    sent.forEach(
        (k, v) -> {
          if (isLocale(k)) {
            m.put(k, v);
          }
        });
    return m;
  }

  /** True when the client asked for a terminal (pty-req, RFC 4254 section 6.2). */
  boolean hasPty() {
    return sent.containsKey(Environment.ENV_TERM) && sent.containsKey(Environment.ENV_COLUMNS);
  }

  /** A variable as the channel carried it when its request came ({@link #sent}). */
  String sentEnv(String name) {
    return sent.get(name);
  }

  int envInt(String name, int dflt) {
    try {
      return Integer.parseInt(env.getEnv().getOrDefault(name, ""));
    } catch (NumberFormatException e) {
      return dflt;
    }
  }

  /**
   * Tells a held client on stderr that its command waits for a reviewer, and whether it is still
   * there; binds nothing beyond the action: for a caller that binds what will run itself (the exec
   * runner binds the job's argv, environment and directory, {@code CommandRunner.waiting}).
   */
  ReviewGate.Waiting announcing() {
    return new ReviewGate.Waiting() {
      @Override
      public void held(String reviewId, String message) {
        stderrLine(
            message != null && message.contains(reviewId)
                ? message
                : "held for review " + reviewId + ": " + message);
      }

      /** The client's channel is still open: a client that went away runs nothing. */
      @Override
      public boolean present() {
        ChannelSession ch = channel;
        return ch != null && ch.isOpen() && !ch.isClosing();
      }
    };
  }

  /** {@link #announcing}, bound to the command line and the variables the client sent. */
  ReviewGate.Waiting waiting() {
    ReviewGate.Waiting told = announcing();
    return new ReviewGate.Waiting() {
      @Override
      public void held(String reviewId, String message) {
        told.held(reviewId, message);
      }

      /**
       * The raw command line, and the values of the variables the client sent (the action has their
       * names only: values may be secrets): {@code BASH_ENV=/tmp/x} must not run under an approval
       * given for another value.
       */
      @Override
      public String exactly(Action action) {
        Map<String, String> all = new java.util.TreeMap<>(requestedEnv());
        all.putAll(localeEnv());
        StringBuilder sb = ReviewGate.Waiting.part(new StringBuilder(), action.raw());
        all.forEach((k, v) -> ReviewGate.Waiting.part(ReviewGate.Waiting.part(sb, k), v));
        return sb.toString();
      }

      /** The line, and where its path arguments lead on an ssh target when elsewhere. */
      @Override
      public String shown(Action action) {
        return SshCommandPaths.shown(action);
      }

      @Override
      public boolean present() {
        return told.present();
      }
    };
  }

  /**
   * {@code action} with the client's justification ({@link #JUSTIFICATION_ENV}) as its {@code
   * justification} attribute, which the approval service files with a review.
   */
  Action justified(Action action) {
    String j = sent.get(JUSTIFICATION_ENV);
    if (j == null || j.isBlank()) {
      return action;
    }
    return action.with(Action.Attr.JUSTIFICATION, j.strip());
  }

  /** One {@code gatehouse: ...} line on the channel's stderr. */
  void stderrLine(String text) {
    try {
      // A terminal in raw mode needs CR LF; a pipe gets a plain line.
      String eol = env != null && hasPty() ? "\r\n" : "\n";
      err.write(("gatehouse: " + text + eol).getBytes(StandardCharsets.UTF_8));
      err.flush();
    } catch (IOException e) {
      log.debug("cannot write to client stderr", e);
    }
  }

  /** Refuses: one stderr line naming the reason, exit status 126. */
  void refuse(String text) {
    stderrLine(text);
    exit(REFUSED);
  }

  void refuse(GateException e) {
    refuse(e.getMessage());
  }

  /**
   * Refuses what the policy never saw (a shell or a file transfer on an exec connection, a command
   * line that cannot be read or sent), recorded as an {@code exec.refused} audit event first, as
   * the runner records its own ({@code CommandRunner.refused}): someone tried (red team, issue #6:
   * these left only session.start and session.end). {@code what} names it: {@code request} (shell,
   * sftp) or {@code command} (the line, masked).
   */
  void refuseRecorded(String what, String value, String text) {
    SshForwarding.audit(conn.gate(), "exec.refused", java.util.Map.of(what, value, "reason", text));
    refuse(text);
  }

  /** {@link #refuseRecorded} of a command line, stored masked. */
  void refuseLine(String line, String text) {
    refuseRecorded("command", conn.gate().maskStored(line), text);
  }

  void exit(int status) {
    if (exited) {
      return;
    }
    exited = true;
    try {
      out.flush();
      err.flush();
    } catch (IOException e) {
      // the channel is gone; nothing to flush to
    }
    exit.onExit(status);
  }

  /**
   * Propagates death by a signal: {@code exit-signal} (RFC 4254 section 6.10), then {@code
   * exit-status} 128+n. RFC 4254 expects only the first; OpenSSH's client ignores it and would exit
   * 255, so the status is sent as well to give the caller what a local shell reports.
   */
  void exitSignal(String signal, boolean coreDumped, String message) {
    if (exited) {
      return;
    }
    try {
      Buffer b = channel.getSession().createBuffer(SshConstants.SSH_MSG_CHANNEL_REQUEST);
      b.putUInt(channel.getRecipient());
      b.putString("exit-signal");
      b.putBoolean(false);
      b.putString(signal);
      b.putBoolean(coreDumped);
      b.putString(message == null ? "" : message);
      b.putString("");
      channel.writePacket(b);
    } catch (IOException | RuntimeException e) {
      log.debug("cannot send exit-signal", e);
    }
    exit(128 + signalNumber(signal));
  }

  /** Linux signal numbers of the names RFC 4254 section 6.10 lists. */
  static int signalNumber(String name) {
    return switch (name == null ? "" : name.toUpperCase(Locale.ROOT)) {
      case "HUP" -> 1;
      case "INT" -> 2;
      case "QUIT" -> 3;
      case "ILL" -> 4;
      case "ABRT" -> 6;
      case "FPE" -> 8;
      case "KILL" -> 9;
      case "USR1" -> 10;
      case "SEGV" -> 11;
      case "USR2" -> 12;
      case "PIPE" -> 13;
      case "ALRM" -> 14;
      case "TERM" -> 15;
      default -> 0;
    };
  }
}
