package dev.gatehouse.identity;

import java.security.PublicKey;

/** Public-key login to the SSH listener: keys registered to an identity. */
public interface SshKeyAuthenticator {
  /**
   * The principal {@code subject} logs in as with {@code key}, or null when that key is not
   * registered to that subject (or the registration has expired or been removed).
   */
  Principal authenticate(String subject, PublicKey key);
}
