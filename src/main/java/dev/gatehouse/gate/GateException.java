package dev.gatehouse.gate;

import dev.gatehouse.policy.Decision;

/**
 * The shared flow refused something. {@link #reason()} says which step refused, so each protocol
 * can word it in its own format (SQLSTATE, MySQL error, SSH exit status, problem+json) without
 * deciding anything itself. The message is safe for the caller: no secrets, no credentials.
 */
public final class GateException extends Exception {

  /** Which step refused. */
  public enum Reason {
    /** Credential unknown, expired, revoked or malformed. */
    AUTHENTICATION,
    /** No connection of that name (or it is of another protocol). */
    UNKNOWN_CONNECTION,
    /** Authenticated, but policy or token scope does not allow it. */
    FORBIDDEN,
    /** A reviewer denied, or the review expired. */
    REVIEW_DENIED,
    /** The gateway could not decide or record: fail closed. */
    UNAVAILABLE,
    /** The session's token was revoked or expired, or its grant ended. */
    SESSION_ENDED
  }

  private final Reason reason;
  private final transient Decision decision;

  public GateException(Reason reason, String message, Decision decision) {
    super(message);
    this.reason = reason;
    this.decision = decision;
  }

  public GateException(Reason reason, String message) {
    this(reason, message, null);
  }

  public Reason reason() {
    return reason;
  }

  /** The decision behind a FORBIDDEN or REVIEW_DENIED, or null. */
  public Decision decision() {
    return decision;
  }
}
