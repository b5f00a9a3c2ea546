package dev.gatehouse.runner;

import dev.gatehouse.gate.GateSession;
import dev.gatehouse.masking.MaskingEngine;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Runs commands on exec connections: the one flow shared by {@code gatehouse exec} (the API) and
 * SSH exec requests on an exec connection. Resolve the binary against the connection, describe,
 * authorize (policy, review, durable record), start a sandboxed process with a clean environment
 * and the injected secrets, stream masked output, record the outcome.
 */
public final class CommandRunner {
  /** Exit status for a command the gateway refused (denied, not approved, not offered). */
  public static final int DENIED = 126;

  /** Exit status for a command that could not be started. */
  public static final int NOT_STARTED = 127;

  private final Path dataDir;
  private final MaskingEngine masking;

  public CommandRunner(Path dataDir, MaskingEngine masking) {
    this.dataDir = dataDir;
    this.masking = masking;
  }

  /**
   * Runs one command and blocks until it has ended and its outcome is recorded. A refusal is
   * written to {@code stderr} as one line naming the rule, and returns {@link #DENIED}.
   *
   * @param onStart told once the process runs, with a handle to signal or kill it
   * @return the exit status (128 + signal number when killed by a signal)
   */
  public int run(
      GateSession session,
      ExecRequest request,
      InputStream stdin,
      OutputStream stdout,
      OutputStream stderr,
      Consumer<Execution> onStart) {
    throw new UnsupportedOperationException("not yet implemented");
  }
}
