package dev.gatehouse.gate;

import dev.gatehouse.identity.Principal;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Target;

/**
 * Holds an action for human review (implemented by the approval package). The default, until one is
 * installed, denies every review decision: without a reviewer there is no approval.
 */
public interface ReviewGate {

  /** What a held caller is told while waiting, in the protocol's own words. */
  interface Waiting {
    /** Called once when the request is filed, with the review id and how to approve it. */
    void held(String reviewId, String message);
  }

  /** The result of a review. */
  record Outcome(boolean approved, String reviewId, String reason) {}

  /**
   * Files (or finds an already approved) review for exactly this action and blocks (on a virtual
   * thread) until it is decided, expires or {@code maxWait} passes.
   */
  Outcome await(
      String sessionId,
      Principal principal,
      Target target,
      Action action,
      Decision decision,
      Waiting waiting)
      throws InterruptedException;

  ReviewGate NONE =
      (sessionId, principal, target, action, decision, waiting) ->
          new Outcome(false, null, "approvals are not enabled on this gateway");
}
