package dev.gatehouse.identity;

import java.time.Instant;

/**
 * Turns a presented credential (gateway token, API key) into a {@link Principal}. Protocols call it
 * through {@code dev.gatehouse.gate.Gate}, never directly.
 */
public interface Authenticator {

  /**
   * Verifies {@code credential}. Unknown, expired, revoked or malformed credentials throw; the
   * comparison with stored hashes is constant-time.
   */
  Principal authenticate(String credential) throws AuthenticationException;

  /** True while the principal's token is neither expired nor revoked. Cheap: called per action. */
  boolean stillValid(Principal principal, Instant now);
}
