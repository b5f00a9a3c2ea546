package dev.gatehouse.policy;

/**
 * The kind-specific part of a rule ({@code sql:}, {@code command:}, ...). A rule may carry several;
 * an action is checked only against the matcher of its own kind.
 *
 * <p>Some checks depend on the rule's effect, always in the fail-closed direction: a constraint
 * that narrows what an allow rule permits must never become a way around a deny rule (a deny rule
 * on {@code tables: [secret.*]} matches a query that touches any secret table, an allow rule on
 * {@code tables: [public.*]} only one that touches nothing else).
 */
interface KindMatcher {
  ActionKind kind();

  /**
   * Checks the action.
   *
   * @return null when it matches; otherwise a short reason for the explanation
   */
  String mismatch(Action action, Effect effect);
}
