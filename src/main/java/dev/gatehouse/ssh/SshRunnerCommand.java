package dev.gatehouse.ssh;

import dev.gatehouse.runner.CommandRunner;
import dev.gatehouse.runner.ExecRequest;
import dev.gatehouse.runner.Execution;
import java.util.List;
import org.apache.sshd.server.Signal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exec request on an {@code exec} connection: handed to the shared {@link CommandRunner}, which
 * decides, records, runs the process (sandboxed on the gateway host, or on the connection's SSH
 * runner) and masks its output. Signal requests (RFC 4254 section 6.9) are forwarded to the process
 * group, wherever it runs. A shell on an exec connection is refused: there is no interactive shell
 * to give, only decided commands.
 */
final class SshRunnerCommand extends SshChannelCommand {
  private static final Logger log = LoggerFactory.getLogger(SshRunnerCommand.class);

  private final String line; // null: a shell was asked for
  private volatile Execution execution;

  SshRunnerCommand(SshConnection conn, String line) {
    super(conn);
    this.line = line;
  }

  @Override
  void run() {
    if (line == null) {
      refuseRecorded(
          "request",
          "shell",
          "connection \""
              + conn.gate().connection().name()
              + "\" runs commands, not interactive shells; run one command: ssh USER@GATEWAY COMMAND");
      return;
    }
    CommandRunner runner = conn.server().runner();
    if (runner == null) {
      refuse("command execution is not enabled on this gateway");
      return;
    }
    // The runner parses the line and refuses (and records) what it cannot run, as for the API.
    env.addSignalListener(
        (channel, signal) -> {
          Execution x = execution;
          if (x != null && signal != Signal.WINCH) {
            try {
              x.signal(signal.name());
            } catch (IllegalArgumentException e) {
              // not forwarded (USR1 without exec.signals_allow, STOP...); RFC 4254 section 6.9
              // signal requests get no reply
              log.debug("exec: {}", e.getMessage());
            }
          }
        });
    int status =
        runner.run(
            conn.gate(),
            new ExecRequest(
                List.of(),
                line,
                acceptedEnv(),
                null,
                announcing(), // CommandRunner binds the job's argv, environment and directory
                env.getEnv().get(JUSTIFICATION_ENV)),
            in,
            out,
            err,
            x -> execution = x);
    exit(status);
  }

  /**
   * The variables the client asked for that the connection accepts ({@code env_allow}), like sshd's
   * {@code AcceptEnv}: a variable a client sends by habit is dropped rather than refusing every
   * command; one it is allowed to set still goes through the policy with the command.
   */
  private java.util.Map<String, String> acceptedEnv() {
    java.util.Map<String, String> m = new java.util.HashMap<>();
    var cfg = conn.gate().connection().exec();
    env.getEnv()
        .forEach(
            (k, v) -> {
              if (!k.equals(JUSTIFICATION_ENV)
                  && !k.equals(org.apache.sshd.server.Environment.ENV_USER)
                  && !k.equals(org.apache.sshd.server.Environment.ENV_COLUMNS)
                  && !k.equals(org.apache.sshd.server.Environment.ENV_LINES)
                  && cfg != null
                  && CommandRunner.envAllowed(cfg, k)) {
                m.put(k, v);
              }
            });
    return m;
  }

  /**
   * The client's channel went away: the command is killed. When that is because the gateway ended
   * the session, the outcome says why (CommandRunner stops it for that reason too; whichever comes
   * first names it).
   */
  @Override
  void cancel() {
    Execution x = execution;
    if (x != null) {
      String ended = conn.gate().endedBecause();
      if (ended == null || "closed".equals(ended)) {
        x.kill();
      } else {
        x.terminate(CommandRunner.sessionEnded(ended));
      }
    }
  }
}
