package dev.gatehouse.runner;

/**
 * The gateway refused a command before asking the policy: a binary the connection does not offer, a
 * variable outside {@code env_allow}, a working directory outside the workspace. The message is one
 * line for the caller and names the value and what was expected; it never contains secrets.
 */
final class Refusal extends Exception {
  private static final long serialVersionUID = 1L;

  Refusal(String message) {
    super(message, null, false, false);
  }
}
