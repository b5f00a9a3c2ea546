package dev.gatehouse.approval;

/**
 * A vote or request was refused. {@link #kind()} says why, so the API can answer 404, 403, 409 or
 * 400 without parsing messages. Messages are safe to show to the caller.
 */
public final class ReviewException extends RuntimeException {

  /** Why it was refused. */
  public enum Kind {
    /** No review with that id. */
    NOT_FOUND,
    /** Self-approval, or the caller is not in any reviewer group. */
    FORBIDDEN,
    /** Already decided or expired, or the caller already voted. */
    CONFLICT,
    /** Malformed input (unknown role, bad duration, missing justification). */
    INVALID
  }

  private final Kind kind;

  ReviewException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
