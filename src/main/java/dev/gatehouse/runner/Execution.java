package dev.gatehouse.runner;

/** A running command, for forwarding signals from the caller. */
public interface Execution {
  /**
   * Sends a signal ({@code INT}, {@code TERM}, {@code HUP}, {@code KILL}...) to its process group.
   */
  void signal(String name);

  /** Kills the whole process group. */
  void kill();

  /**
   * Ends the command: a polite signal, then a kill after a grace period. Idempotent; the first
   * reason is kept, and is what the caller's stderr line and the recorded outcome give.
   */
  void terminate(String reason);
}
