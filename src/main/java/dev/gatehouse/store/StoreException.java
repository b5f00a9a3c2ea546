package dev.gatehouse.store;

/** The store could not do what was asked. Callers fail closed: the action is denied. */
public final class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }

  public StoreException(String message) {
    super(message);
  }
}
