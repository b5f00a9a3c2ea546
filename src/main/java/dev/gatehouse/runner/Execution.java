package dev.gatehouse.runner;

/** A running command, for forwarding signals from the caller. */
public interface Execution {
  /**
   * Sends a signal ({@code INT}, {@code TERM}, {@code HUP}, {@code KILL}...) to its process group.
   */
  void signal(String name);

  /** Kills the whole process group. */
  void kill();
}
