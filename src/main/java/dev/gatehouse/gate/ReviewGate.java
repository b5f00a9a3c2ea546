package dev.gatehouse.gate;

import dev.gatehouse.identity.Principal;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Target;
import java.util.List;

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
     * {@link #shown} masked with {@code maskStored} (the review profile's stored-text masking), as
     * it is stored and sent to reviewers. By default the whole text at once; a protocol whose text
     * has a syntax masks it within its tokens, so that no mask hides where a comment or literal
     * ends and the reviewer reads what runs (PostgreSQL: {@code PgStoredText#maskTokens}).
     */
    default String shownMasked(Action action, java.util.function.UnaryOperator<String> maskStored) {
      return maskStored.apply(shown(action));
    }

    /**
     * True when an approval found or given for this request is to be spent later, by {@link
     * ReviewGate#spendAll}, not when it is found: for a message of several statements, each decided
     * before any runs, whose approvals must stay unspent when another statement of the message is
     * refused and nothing runs.
     */
    default boolean defersSpending() {
      return false;
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
        public String shownMasked(
            Action action, java.util.function.UnaryOperator<String> maskStored) {
          return waiting.shownMasked(action, maskStored);
        }

        @Override
        public boolean defersSpending() {
          return waiting.defersSpending();
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

  /**
   * Spends the approvals of all of {@code reviewIds} (each returned unspent by {@link #await}, for
   * the statements of one message) or none: false, with none spent, when one of them was used
   * meanwhile or has lapsed (nothing of the message may run, and the others stay for its re-run).
   */
  default boolean spendAll(List<String> reviewIds, String sessionId) {
    return reviewIds.isEmpty();
  }

  /**
   * The statement run under review {@code reviewId}'s spent approval did not take effect (it
   * failed, was skipped or rolled back, or its caller left before it ran): recorded for the
   * review's audit trail, so a spent approval is not read as a change made.
   */
  default void notExecuted(String reviewId, String sessionId, String why) {}

  /**
   * The statement run under review {@code reviewId}'s spent approval was sent to the target, which
   * did not answer before the caller left: it may have run (and committed) or not. Recorded for the
   * review's audit trail instead of {@link #notExecuted}, which would claim it changed nothing.
   */
  default void outcomeUnknown(String reviewId, String sessionId, String why) {}

  ReviewGate NONE =
      (sessionId, principal, target, action, decision, waiting) ->
          new Outcome(false, null, "approvals are not enabled on this gateway");
}
