package dev.gatehouse.identity;

import java.util.Map;

/**
 * An OAuth 2.0 error response (RFC 6749 §5.2, RFC 8693 §2.2.2): an error code from the registry and
 * a one-line description safe to return to the client. The HTTP endpoint renders it with {@link
 * #httpStatus()} and {@link #toResponse()}.
 */
public final class OAuthException extends Exception {
  public static final String INVALID_REQUEST = "invalid_request";
  public static final String INVALID_CLIENT = "invalid_client";
  public static final String INVALID_GRANT = "invalid_grant";
  public static final String UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type";
  public static final String INVALID_SCOPE = "invalid_scope";

  /** RFC 8693 §2.2.2: the subject_token_type is not supported. */
  public static final String UNSUPPORTED_TOKEN_TYPE = "unsupported_token_type";

  /** RFC 8693 §2.2.2: the requested resource or audience is unknown or not allowed. */
  public static final String INVALID_TARGET = "invalid_target";

  private final String error;
  private final String description;

  public OAuthException(String error, String description) {
    super(error + ": " + description);
    this.error = error;
    this.description = description;
  }

  public OAuthException(String error, String description, Throwable cause) {
    super(error + ": " + description, cause);
    this.error = error;
    this.description = description;
  }

  /** The RFC 6749/8693 error code, for the {@code error} field. */
  public String error() {
    return error;
  }

  /** For the {@code error_description} field. */
  public String description() {
    return description;
  }

  /** RFC 6749 §5.2: 401 for client authentication failures, 400 for everything else. */
  public int httpStatus() {
    return INVALID_CLIENT.equals(error) ? 401 : 400;
  }

  /** The JSON body of the error response. */
  public Map<String, Object> toResponse() {
    return Map.of("error", error, "error_description", description);
  }
}
