package dev.gatehouse.identity;

/**
 * A credential was not accepted. The message is safe to show to the caller: it never contains the
 * credential itself.
 */
public final class AuthenticationException extends Exception {
  public AuthenticationException(String message) {
    super(message);
  }

  public AuthenticationException(String message, Throwable cause) {
    super(message, cause);
  }
}
