package dev.gatehouse.gate;

import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Decision;

/**
 * Proof that an action was decided on and durably recorded before it runs. Only {@link GateSession}
 * can create one; protocols forward an action to the target only when they hold this value.
 */
public final class AuthorizedAction {
  private final long recordId;
  private final Action action;
  private final Decision decision;
  private final String reviewId;
  private final long startedNanos;
  private final long policyGeneration;

  AuthorizedAction(
      long recordId, Action action, Decision decision, String reviewId, long policyGeneration) {
    this.recordId = recordId;
    this.action = action;
    this.decision = decision;
    this.reviewId = reviewId;
    this.policyGeneration = policyGeneration;
    this.startedNanos = System.nanoTime();
  }

  public long recordId() {
    return recordId;
  }

  public Action action() {
    return action;
  }

  public Decision decision() {
    return decision;
  }

  /** The review this ran under, or null. */
  public String reviewId() {
    return reviewId;
  }

  long startedNanos() {
    return startedNanos;
  }

  /** The policy generation this decision was taken under, to re-check when the policy changes. */
  public long policyGeneration() {
    return policyGeneration;
  }
}
