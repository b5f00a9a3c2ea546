package dev.gatehouse.policy;

/**
 * Decides on requests. Implementations must be thread-safe, must never throw for a well-formed
 * request (an internal error is a {@code deny}), and must default to deny.
 */
public interface PolicyEngine {
  Decision decide(PolicyRequest request);

  /**
   * Increases every time a new policy is swapped in (hot reload), so a protocol that decided at
   * Parse can tell at Execute whether it must decide again.
   */
  default long generation() {
    return 0;
  }
}
