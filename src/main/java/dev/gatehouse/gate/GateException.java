package dev.gatehouse.gate;

import dev.gatehouse.policy.Decision;
import java.time.Duration;

/**
 * The shared flow refused something. {@link #reason()} says which step refused, so each protocol
 * can word it in its own format (SQLSTATE, MySQL error, SSH exit status, problem+json) without
 * deciding anything itself. The message is safe for the caller: no secrets, no credentials.
 */
public final class GateException extends Exception {

  /** Which step refused. */
  public enum Reason {
    /**
     * Credential unknown, expired, revoked or malformed; or not checked at all because of too many
     * failures ({@link #retryAfter()} is then set).
     */
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
    SESSION_ENDED,
    /**
     * The connection already has as many sessions open as it may, in total or for this principal
     * ({@code max_sessions}, {@code max_sessions_per_principal}); refused before the target is
     * reached.
     */
    TOO_MANY_SESSIONS
  }

  private final Reason reason;
  private final transient Decision decision;
  private final Duration retryAfter;

  public GateException(Reason reason, String message, Decision decision) {
    super(message);
    this.reason = reason;
    this.decision = decision;
    this.retryAfter = null;
  }

  private GateException(String message, Duration retryAfter) {
    super(message);
    this.reason = Reason.AUTHENTICATION;
    this.decision = null;
    this.retryAfter = retryAfter;
  }

  /** Authentication refused without checking the credential, for {@code retryAfter}. */
  static GateException throttled(String message, Duration retryAfter) {
    return new GateException(message, retryAfter);
  }

  public GateException(Reason reason, String message) {
    this(reason, message, null);
  }

  public Reason reason() {
    return reason;
  }

  /**
   * How long authentication stays refused when it was refused for too many failures (not the
   * credential), else null. Listeners say so in their own form: HTTP 429 with {@code Retry-After},
   * an SSH disconnect.
   */
  public Duration retryAfter() {
    return retryAfter;
  }

  /** {@link #retryAfter()} in whole seconds, rounded up (at least 1), or 0 if not throttled. */
  public long retryAfterSeconds() {
    return retryAfter == null ? 0 : AuthThrottle.seconds(retryAfter);
  }

  /** Whether this is a refusal for too many failures rather than a verdict on a credential. */
  public boolean throttled() {
    return retryAfter != null;
  }

  /** The decision behind a FORBIDDEN or REVIEW_DENIED, or null. */
  public Decision decision() {
    return decision;
  }
}
