package dev.gatehouse.api;

/**
 * An error that becomes an RFC 9457 problem+json response. Messages are for the caller: never put
 * secrets in them.
 */
final class ApiException extends RuntimeException {
  private final int status;
  private final String type;
  private final long retryAfterSeconds;

  ApiException(int status, String type, String detail) {
    this(status, type, detail, 0);
  }

  private ApiException(int status, String type, String detail, long retryAfterSeconds) {
    super(detail);
    this.status = status;
    this.type = type;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  int status() {
    return status;
  }

  /**
   * A short machine-readable problem type, rendered as {@code https://gatehouse.dev/problems/TYPE}.
   */
  String type() {
    return type;
  }

  /** Seconds for a {@code Retry-After} header, or 0 for none. */
  long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** 429 (RFC 6585 section 4) with {@code Retry-After: seconds}. */
  static ApiException tooManyRequests(String detail, long seconds) {
    return new ApiException(429, "too-many-requests", detail, Math.max(1, seconds));
  }

  static ApiException badRequest(String detail) {
    return new ApiException(400, "bad-request", detail);
  }

  static ApiException unauthorized(String detail) {
    return new ApiException(401, "unauthorized", detail);
  }

  static ApiException forbidden(String detail) {
    return new ApiException(403, "forbidden", detail);
  }

  static ApiException notFound(String detail) {
    return new ApiException(404, "not-found", detail);
  }

  static ApiException unavailable(String detail) {
    return new ApiException(503, "unavailable", detail);
  }
}
