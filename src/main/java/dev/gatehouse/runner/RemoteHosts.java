package dev.gatehouse.runner;

import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * SSH targets used as runners ({@code exec.runner: SSH_CONNECTION}). The runner only needs to start
 * command strings on a logged-in session; the SSH package implements this with the same pinned host
 * key check and vault credentials as its relay, so the runner never sees a key or a password and
 * host key logic exists once. Wired in by the server; without it a connection with a runner is
 * refused.
 */
public interface RemoteHosts extends AutoCloseable {
  /**
   * Logs in to the target of the ssh connection {@code connection}. An unknown or changed host key,
   * no pins, bad credentials or an unreachable target are a {@link GateException} with a message
   * for the caller; a host key refusal is audited on {@code session} ({@code
   * ssh.host_key_rejected}).
   */
  Host open(String connection, GateSession session) throws GateException;

  @Override
  void close();

  /** One authenticated SSH session to the target. Closing it ends every channel on it. */
  interface Host extends AutoCloseable {
    /**
     * Starts {@code command} in a new exec channel (RFC 4254 section 6.5), without a pty. The
     * string is what the target's sshd hands to the login shell ({@code $SHELL -c COMMAND}): the
     * target's process list shows it, so it must never contain a secret.
     */
    Command start(String command) throws IOException;

    /** Credential values the session logged in with, to remove from output (exact masking). */
    List<String> secrets();

    @Override
    void close();
  }

  /** A command running in an exec channel. */
  interface Command {
    OutputStream stdin();

    InputStream stdout();

    InputStream stderr();

    /** Waits until the exit status or signal arrived, or the channel closed; true when so. */
    boolean awaitExit(long millis) throws InterruptedException;

    /** Waits until the channel is closed (all output delivered); true when closed. */
    boolean awaitClosed(long millis) throws InterruptedException;

    /** The exit status, or null (none yet, killed by a signal, or the channel was cut). */
    Integer exitStatus();

    /** The name of the signal that killed the command ({@code TERM}...), or null. */
    String exitSignal();

    /** Closes the channel at once; output not yet received is lost. */
    void close();
  }
}
