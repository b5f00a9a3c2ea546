package dev.gatehouse.cli;

/** A CLI failure with its documented exit code (see docs/cli.md). */
final class CliException extends RuntimeException {
  /** Generic failure (for example, audit verification failed, a policy test failed). */
  static final int FAILED = 1;

  /** Bad usage or invalid configuration. */
  static final int USAGE = 2;

  /** Not authenticated or not allowed (HTTP 401/403). */
  static final int AUTH = 3;

  /** The thing asked for does not exist (HTTP 404). */
  static final int NOT_FOUND = 4;

  /** The gateway could not be reached or is unavailable (HTTP 5xx, connection refused). */
  static final int UNAVAILABLE = 5;

  private final int exitCode;

  CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
