package dev.gatehouse.ssh;

import dev.gatehouse.config.GatehouseConfig.SshTargetConfig;
import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.masking.StreamMasker;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.CommandLine;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.runner.ForwardedSignals;
import dev.gatehouse.runner.PagerGuard;
import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.channel.PtyCapableChannelSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.PtyChannelConfiguration;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.Signal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exec request or a shell on an {@code ssh} connection, relayed to the same request on the
 * target once the gate allowed it.
 *
 * <ul>
 *   <li>exec (RFC 4254 section 6.5): the line is split into argv with POSIX shell rules and decided
 *       as a {@code command} action (binary = argv[0] as typed). The target receives the argv
 *       re-quoted in single quotes, so its shell cannot read more into it than was decided; a line
 *       that needs a shell (pipes, redirection, expansion) is sent as typed only when a rule
 *       allowed it as such.
 *   <li>shell: decided once as a {@code shell} action; then a shell with the client's terminal
 *       (type, size, modes; window changes follow) is opened on the target, input and masked output
 *       are recorded (asciicast), and typed lines are audited best effort ({@link SshCommandLog}).
 * </ul>
 *
 * Output on stdout and stderr is masked with the session's profile and the target credentials as
 * exact values; exit status and exit signal come back from the target. When agent forwarding was
 * allowed on the client's channel, the upstream channel asks for it too ({@link SshForwarding}).
 */
final class SshTargetCommand extends SshChannelCommand {
  private static final Logger log = LoggerFactory.getLogger(SshTargetCommand.class);

  /**
   * Linux's limit on one argument (MAX_ARG_STRLEN, 32 pages of 4 KiB, with its NUL): the target's
   * sshd passes the whole command line as the argument of {@code SHELL -c}.
   */
  static final int MAX_ARG_STRLEN = 32 * 4096;

  private final String line; // null for a shell
  private volatile PtyCapableChannelSession upstream;
  private volatile SshTargetJob job;

  SshTargetCommand(SshConnection conn, String line) {
    super(conn);
    this.line = line;
  }

  @Override
  void run() throws Exception {
    GateSession gate = conn.gate();
    Action action;
    String remote = null;
    boolean report = false; // the guard reports the command's process group (SshTargetJob)
    if (line == null) {
      action = new Action(ActionKind.SHELL, "(interactive shell)", Map.of());
    } else {
      CommandLine cl;
      try {
        cl = CommandLine.parse(line);
      } catch (IllegalArgumentException e) {
        refuseLine(line, e.getMessage());
        return;
      }
      if (cl.argv().isEmpty()) {
        refuseLine(line, "empty command");
        return;
      }
      action = cl.toAction(cl.argv().get(0), requestedEnv(), null);
      SshTargetConfig target = gate.connection().ssh();
      boolean guarded = target == null || target.guards(hasPty());
      // Without a terminal, closing the channel does not stop the command on the target: the
      // gateway stops its process group itself (SshTargetJob). With one, sshd hangs it up.
      report = guarded && !hasPty();
      remote = remoteCommand(cl, guarded, report);
      if (remote.getBytes(java.nio.charset.StandardCharsets.UTF_8).length >= MAX_ARG_STRLEN) {
        // sshd runs the line as one argument of `SHELL -c LINE`; a longer one fails there (E2BIG)
        refuseLine(line, "command line too long for the target once quoted");
        return;
      }
    }
    Action decided = justified(action);
    SshCommandPaths.Held held = null;
    AuthorizedAction authorized;
    try {
      if (line != null) {
        Decision first = gate.check(decided);
        if (first.effect() == Effect.REVIEW) {
          // reviewers see, and approve, where the path arguments lead on the target (issue #6)
          held = SshCommandPaths.beforeReview(conn, decided, first);
          decided = held == null ? decided : held.action();
        }
      }
      authorized = gate.authorize(decided, waiting());
    } catch (GateException e) {
      refuse(e);
      return;
    } catch (SshCommandPaths.Refused e) {
      refuse(e.getMessage());
      return;
    }
    // Agent forwarding allowed on this channel (SshForwarding.CHANNEL_REQUESTS) is asked for on the
    // upstream twin, so the target's SSH_AUTH_SOCK leads back to the caller's agent.
    boolean agent = SshForwarding.agentAllowed(channel) && conn.forwards().agentAllowed();
    // Likewise an allowed x11-req: the target's x11 channels come back on this upstream session.
    SshForwarding.X11Request x11 = SshForwarding.x11(channel);
    if (x11 != null && !conn.forwards().x11Allowed()) {
      x11 = null;
    }
    SshUpstream up;
    try {
      up = agent || x11 != null ? conn.upstreamWithState() : conn.upstream();
    } catch (GateException e) {
      gate.completed(authorized, false, e.getMessage(), 0);
      refuse(e);
      return;
    }
    if (line != null) {
      // where the allowed path arguments really lead on the target (issue #6)
      String refused = SshCommandPaths.check(conn, authorized, up, held);
      if (refused != null) {
        refuse(refused);
        return;
      }
    }
    Map<String, Object> upstreamEnv = new java.util.HashMap<>(localeEnv());
    if (line != null) {
      upstreamEnv.putAll(requestedEnv()); // part of the decided action
    }
    PtyChannelConfiguration pty = ptyConfig();
    PtyCapableChannelSession ch =
        x11 != null
            ? withX11(up.session(), line == null ? null : remote, pty, upstreamEnv, x11)
            : line == null
                ? up.session().createShellChannel(pty, upstreamEnv)
                : up.session().createExecChannel(remote, pty, upstreamEnv);
    ch.setUsePty(hasPty());
    ch.setAgentForwarding(agent);
    SshTargetJob running = new SshTargetJob(up.session(), ch, hasPty());
    job = running;
    upstream = ch;
    try {
      ch.open().verify(SshUpstream.CONNECT_TIMEOUT);
    } catch (IOException e) {
      log.warn("upstream channel for {} failed: {}", gate.connection().name(), e.toString());
      gate.completed(authorized, false, "the target refused the channel", 0);
      refuse("the target refused to open the " + (line == null ? "shell" : "command"));
      return;
    }
    ForwardedSignals forwarded = ForwardedSignals.of(gate.connection().ssh());
    env.addSignalListener(
        (channel, signal) -> {
          try {
            if (signal == Signal.WINCH) {
              ch.sendWindowChange(
                  envInt(Environment.ENV_COLUMNS, 80), envInt(Environment.ENV_LINES, 24));
            } else if (forwarded.allows(signal.name())) {
              sendSignal(ch, signal.name());
            } else {
              // USR1 makes Node.js open its inspector (docs/exec.md, "Limits, signals and exit
              // statuses"); an ssh connection forwards the default signals, and USR1/USR2 only
              // when its ssh.signals_allow lists them
              log.debug("ssh: signal {} not forwarded", signal);
            }
          } catch (IOException e) {
            log.debug("cannot forward {}", signal, e);
          }
        });

    StreamMasker outMasker = conn.masker();
    StreamMasker errMasker = conn.masker();
    AtomicLong bytes = new AtomicLong();
    Thread stdout =
        Thread.ofVirtual()
            .start(
                () ->
                    bytes.addAndGet(
                        pump(ch.getInvertedOut(), out, outMasker, b -> conn.record('o', b))));
    java.io.InputStream targetErr =
        report ? running.stderr(ch.getInvertedErr()) : ch.getInvertedErr();
    Thread stderr =
        Thread.ofVirtual()
            .start(
                () -> bytes.addAndGet(pump(targetErr, err, errMasker, b -> conn.record('e', b))));
    java.util.function.Consumer<byte[]> tap = b -> {};
    if (line == null) {
      StreamMasker inMasker = conn.masker();
      SshCommandLog commands =
          new SshCommandLog(
              l -> {
                try {
                  gate.audit("ssh.shell_input", Map.of("line", gate.mask(l)));
                } catch (GateException e) {
                  log.warn("cannot audit shell input: {}", e.getMessage());
                }
              });
      tap =
          b -> {
            // Input is recorded masked too; typed lines are held back until Enter so a value
            // typed key by key is still seen whole.
            conn.record('i', inMasker.feed(b));
            for (byte x : b) {
              if (x == '\r' || x == '\n') {
                conn.record('i', inMasker.flush());
                break;
              }
            }
            commands.feed(b);
          };
    }
    java.util.function.Consumer<byte[]> inputTap = tap;
    Thread.ofVirtual().start(() -> SshStreams.pumpInput(in, ch.getInvertedIn(), inputTap));

    conn.onTarget(running);
    try {
      ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), 0L);
      stdout.join();
      stderr.join();
    } catch (InterruptedException e) {
      // The client's channel went away first (destroy(): the client closed it or left, or the
      // gateway ended the session): cancel() stops the command on the target (SshTargetJob).
      // There is no one to tell, but the action's record says how it ended and what was done.
      conn.stop(running); // idempotent: cancel() may not have run yet
      String how = running.stoppedHow(SshTargetJob.STOP_WAIT.plusSeconds(1));
      gate.completed(
          authorized,
          false,
          cutShort(gate.endedBecause()) + (how == null ? "" : "; " + how),
          bytes.get());
      return;
    } finally {
      conn.offTarget(running);
    }
    Integer status = ch.getExitStatus();
    String signal = ch.getExitSignal();
    boolean bySignal = signal != null && status == null;
    int s = status == null ? 255 : status;
    String outcome = bySignal ? "killed by signal " + signal : "exit " + s;
    String ended = gate.endedBecause();
    String stopped = running.stoppedHow(SshTargetJob.STOP_WAIT.plusSeconds(1));
    if (stopped != null && (ended == null || "closed".equals(ended))) {
      // The client left and the gateway stopped the command (SshConnection.closed): no one to
      // tell; the record says what was done and how the command ended.
      String last = bySignal || status != null ? outcome : "cut off before it ended";
      gate.completed(
          authorized, false, cutShort(ended) + "; " + stopped + "; " + last, bytes.get());
      return;
    }
    if (ended != null && !"closed".equals(ended)) {
      // The gateway ended the session and stopped the command (SshConnection.stopOnTarget): its
      // exit is not relayed, so that the client ends on the disconnect that says why, not on a
      // bare "exit 143" that may come first.
      String last = bySignal || status != null ? outcome : "cut off before it ended";
      gate.completed(authorized, false, cutShort(ended) + " (" + last + ")", bytes.get());
    } else if (bySignal) {
      gate.completed(authorized, false, outcome, bytes.get());
      exitSignal(signal, false, "");
    } else {
      gate.completed(authorized, s == 0, outcome, bytes.get());
      exit(s);
    }
  }

  /** The outcome of a command whose client channel went away before it ended. */
  static String cutShort(String sessionEnded) {
    return sessionEnded == null || "closed".equals(sessionEnded)
        ? "not finished: the client closed the channel before the command ended"
        : "stopped: the session ended: " + sessionEnded;
  }

  private static long pump(
      java.io.InputStream from,
      java.io.OutputStream to,
      StreamMasker masker,
      java.util.function.Consumer<byte[]> record) {
    try {
      return SshStreams.pumpMasked(from, to, masker, record);
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * The command line the target receives for a decided exec request. Unguarded ({@code
   * ssh.pager_guard: off}, or {@code tty} without a terminal) it is the decided argv re-quoted in
   * single quotes, or a line allowed as a shell line as typed: what a restricted target (git-shell,
   * gitolite, rrsync, ForceCommand reading SSH_ORIGINAL_COMMAND) expects. Guarded (the default) it
   * runs through {@code /usr/bin/env} with the pager guard's variables ({@link PagerGuard}). sshd
   * usually refuses {@code env} requests (sshd_config(5) AcceptEnv), so the command sets them
   * itself. With a PTY an allowed command that pages (journalctl, systemctl status, git log, man,
   * psql, aws) starts less, whose {@code !command} runs a shell. Without one no pager pages, but an
   * editor still reads commands: {@code git commit} without {@code -m}, {@code crontab -e} or
   * {@code kubectl edit} start $EDITOR (vi), and vi reads its input, {@code :!sh} included, from
   * the channel as ex mode; and less reads a lesskey file whose {@code #env} can set LESSOPEN,
   * which it runs even when it only copies. Local jobs get the guard without a terminal for the
   * same reasons.
   *
   * <p>The guard's own programs are absolute paths, so the target account's PATH cannot replace
   * them. env(1) reads every leading word with {@code =} as an assignment, and may read a leading
   * {@code -} as an option, so a decided program whose name has either ({@code 'LESSOPEN=x' less}
   * runs the program {@code LESSOPEN=x}) is started by {@code /bin/sh -c '"$@"' sh ARGV}: an
   * expanded word is never an assignment (XCU 2.9.1) nor an option, and the first one is the
   * command. Not {@code exec "$@"}: bash's exec reads options ({@code -a NAME}), so {@code -a=x rm
   * -rf /data} would run rm, a program the policy never saw (and dash runs {@code exec --} as the
   * command {@code --}). Builtins cannot be reached that way: none has {@code =} or a leading
   * {@code -} in its name. A line allowed as a shell line runs under {@code /bin/sh -c -- LINE}
   * ({@code --}: a line starting with {@code -} or {@code +} is not read as options): the gateway
   * decided it as a POSIX shell line, and the guard's variables then reach every command of it (an
   * unquoted {@code LESSOPEN=x less} is such a line: its assignment was checked as the command's
   * environment, and less in secure mode runs no LESSOPEN). The target account's login shell only
   * reads the words quoted here.
   */
  static String remoteCommand(CommandLine cl, boolean guarded) {
    return remoteCommand(cl, guarded, false);
  }

  /**
   * {@link #remoteCommand(CommandLine, boolean)}; with {@code report} (a guarded command without a
   * terminal) the guard's {@code /bin/sh} first tells the gateway its process group on stderr
   * ({@link SshTargetJob#REPORT}), so that the gateway can stop the command when the client goes
   * away. The decided argv is then started by {@code exec "$@"} (the shell is replaced, so the
   * command's exit status or signal comes back as it is), or by {@code "$@"} when the program's
   * name starts with {@code -} (bash's exec would read it as options). A shell line gets the report
   * as one more line before it, in the same shell.
   */
  static String remoteCommand(CommandLine cl, boolean guarded, boolean report) {
    if (!guarded) {
      return cl.needsShell() ? cl.raw() : CommandLine.quote(cl.argv());
    }
    String guard = String.join(" ", PagerGuard.envCommand());
    if (cl.needsShell()) {
      String shellLine = report ? SshTargetJob.REPORT + "\n" + cl.raw() : cl.raw();
      return guard + " /bin/sh -c -- " + CommandLine.quote(List.of(shellLine));
    }
    String argv = CommandLine.quote(cl.argv());
    String program = cl.argv().get(0);
    if (report) {
      String start = program.startsWith("-") ? "\"$@\"" : "exec \"$@\"";
      return guard
          + " /bin/sh -c "
          + CommandLine.quote(List.of(SshTargetJob.REPORT + "; " + start))
          + " sh "
          + argv;
    }
    if (program.indexOf('=') >= 0 || program.startsWith("-")) {
      return guard + " /bin/sh -c '\"$@\"' sh " + argv;
    }
    return guard + " " + argv;
  }

  private PtyChannelConfiguration ptyConfig() {
    PtyChannelConfiguration c = new PtyChannelConfiguration();
    if (hasPty()) {
      c.setPtyType(sentEnv(Environment.ENV_TERM));
      c.setPtyColumns(envInt(Environment.ENV_COLUMNS, 80));
      c.setPtyLines(envInt(Environment.ENV_LINES, 24));
      c.setPtyModes(env.getPtyModes());
    }
    return c;
  }

  /** A {@code signal} request (RFC 4254 section 6.9) on the upstream channel. */
  static IoWriteFuture sendSignal(org.apache.sshd.client.channel.ChannelSession ch, String name)
      throws IOException {
    Buffer b = ch.getSession().createBuffer(SshConstants.SSH_MSG_CHANNEL_REQUEST);
    b.putUInt(ch.getRecipient());
    b.putString("signal");
    b.putBoolean(false);
    b.putString(name);
    return ch.writePacket(b);
  }

  /**
   * The client's channel went away: a command still running on the target is stopped ({@link
   * SshTargetJob#stop}, which then closes the upstream channel); the connection waits for that
   * before it gives up its upstream session ({@link SshConnection#closed}).
   */
  @Override
  void cancel() {
    SshTargetJob j = job;
    if (j != null) {
      conn.stop(j);
      return;
    }
    PtyCapableChannelSession ch = upstream;
    if (ch != null) {
      ch.close(false);
    }
  }

  /**
   * An exec or shell channel on the target that sends the client's {@code x11-req} (RFC 4254
   * section 6.3.1) before its pty, environment and exec or shell requests, as OpenSSH's client
   * does. MINA's client channels have no X11 request of their own.
   */
  private static PtyCapableChannelSession withX11(
      org.apache.sshd.client.session.ClientSession session,
      String command,
      PtyChannelConfiguration pty,
      Map<String, ?> env,
      SshForwarding.X11Request x11)
      throws IOException {
    PtyCapableChannelSession ch =
        command == null
            ? new org.apache.sshd.client.channel.ChannelShell(pty, env) {
              @Override
              protected void doOpenPty() throws IOException {
                sendX11Request(this, x11);
                super.doOpenPty();
              }
            }
            : new org.apache.sshd.client.channel.ChannelExec(command, pty, env) {
              @Override
              protected void doOpenPty() throws IOException {
                sendX11Request(this, x11);
                super.doOpenPty();
              }
            };
    session.getService(org.apache.sshd.common.session.ConnectionService.class).registerChannel(ch);
    return ch;
  }

  private static void sendX11Request(PtyCapableChannelSession ch, SshForwarding.X11Request x11)
      throws IOException {
    Buffer b =
        ch.getSession()
            .createBuffer(
                SshConstants.SSH_MSG_CHANNEL_REQUEST,
                64 + x11.protocol().length() + x11.cookie().length());
    b.putUInt(ch.getRecipient());
    b.putString("x11-req");
    b.putBoolean(false); // want-reply: the client was answered already; a refusal shows on the
    // target as no DISPLAY, as with OpenSSH when the server's X11Forwarding is off
    b.putBoolean(x11.singleConnection());
    b.putString(x11.protocol());
    b.putString(x11.cookie());
    b.putUInt(x11.screen() & 0xffffffffL);
    ch.writePacket(b);
  }
}
