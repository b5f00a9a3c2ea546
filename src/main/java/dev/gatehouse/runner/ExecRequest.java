package dev.gatehouse.runner;

import dev.gatehouse.gate.ReviewGate;
import java.util.List;
import java.util.Map;

/**
 * One command to run.
 *
 * @param argv the arguments; argv[0] is resolved against the connection's binaries
 * @param commandLine the string the caller sent (an SSH exec request), or null when the caller sent
 *     argv (the API); a line that needs a shell is only run when a rule allows {@code shell}
 * @param env variables the caller asks to set (checked against {@code env_allow} and the policy)
 * @param cwd working directory asked for, or null for the connection's workspace
 * @param waiting told when the command is held for review; null refuses review decisions
 * @param justification why the caller runs it, filed with a review (the action's {@code
 *     justification} attribute); null when none was given
 */
public record ExecRequest(
    List<String> argv,
    String commandLine,
    Map<String, String> env,
    String cwd,
    ReviewGate.Waiting waiting,
    String justification) {
  public ExecRequest {
    argv = List.copyOf(argv);
    env = Map.copyOf(env);
    justification = justification == null || justification.isBlank() ? null : justification.strip();
  }

  /** A request without a justification. */
  public ExecRequest(
      List<String> argv,
      String commandLine,
      Map<String, String> env,
      String cwd,
      ReviewGate.Waiting waiting) {
    this(argv, commandLine, env, cwd, waiting, null);
  }
}
