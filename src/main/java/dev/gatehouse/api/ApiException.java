package dev.gatehouse.api;

/**
 * An error that becomes an RFC 9457 problem+json response. Messages are for the caller: never put
 * secrets in them.
 */
final class ApiException extends RuntimeException {
  private final int status;
  private final String type;

  ApiException(int status, String type, String detail) {
    super(detail);
    this.status = status;
    this.type = type;
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
