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

    /**
     * What exactly will run, as the protocol reads it, beyond the action's attributes: bound into
     * the fingerprint that matches a re-run with its approval, and never recorded (it may hold
     * unmasked values). PostgreSQL gives the statement's tokens as the server lexes them and the
     * exact Bind parameters; commands give the exact environment and argv. Null: the action's raw
     * text, byte for byte. Asked only when the action is held for review.
     */
    default String exactly(Action action) {
      return null;
    }

    /**
     * What reviewers are shown as the request: the raw text, unless the protocol knows what the raw
     * text refers to without saying it. PostgreSQL adds the prepared statement an {@code EXECUTE
     * name} runs and the Bind parameters, which the fingerprint binds through {@link #exactly}.
     * Asked only when a review is filed; like the raw text, it may hold unmasked values: the
     * approval service masks it (stored-text masking) before it stores or sends it.
     */
    default String shown(Action action) {
      return action.raw();
    }

    /**
     * False once the caller has gone (its connection or channel closed). A held request then stops
     * waiting and does not run; its approval, if any, stays unused for an identical re-run.
     */
    default boolean present() {
      return true;
    }

    /**
     * Appends {@code part} length-prefixed ({@code 5:hello}), the form of an {@link #exactly} made
     * of several parts: no two sequences of parts then read alike.
     */
    static StringBuilder part(StringBuilder sb, String part) {
      return sb.append(part.length()).append(':').append(part);
    }

    /**
     * {@code waiting} (null stays null) whose {@link #exactly} is {@code exact}: for a caller that
     * knows what will run (a command's environment) while its holder does not.
     */
    static Waiting binding(Waiting waiting, String exact) {
      if (waiting == null) {
        return null;
      }
      return new Waiting() {
        @Override
        public void held(String reviewId, String message) {
          waiting.held(reviewId, message);
        }

        @Override
        public String exactly(Action action) {
          String inner = waiting.exactly(action);
          return inner == null ? exact : part(new StringBuilder(), inner).append(exact).toString();
        }

        @Override
        public String shown(Action action) {
          return waiting.shown(action);
        }

        @Override
        public boolean present() {
          return waiting.present();
        }
      };
    }
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
