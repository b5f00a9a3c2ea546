package dev.gatehouse.policy;

import java.util.List;

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

  /**
   * The words of a command action's argv that the {@code paths} of rule {@code rule} (the one that
   * allowed it, or held it for review) constrained: its path arguments, as written. A protocol that
   * can ask the target where they really lead checks them again there (SSH exec, docs/ssh.md).
   *
   * <p>The default cannot tell, so a protocol that asks refuses the command: an engine that wraps
   * another (a cache, a decorator) must delegate, or the check would silently be skipped.
   *
   * @return empty when the rule constrains no path; null when the rule is not in this policy (it
   *     was reloaded since), its path arguments cannot be told (a line run by a shell), or the
   *     engine does not know
   */
  default List<String> pathArguments(String rule, Action action) {
    return null;
  }

  /**
   * {@link #pathArguments(String, Action)} of the policy of {@code generation}, the one that
   * decided the action: null when another policy was swapped in since (a reload that keeps the
   * rule's id may change its {@code args} or {@code paths}, and with them the words that were
   * constrained).
   */
  default List<String> pathArguments(String rule, Action action, long generation) {
    return generation == generation() ? pathArguments(rule, action) : null;
  }
}
