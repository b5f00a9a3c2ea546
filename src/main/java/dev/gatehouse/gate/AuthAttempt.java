package dev.gatehouse.gate;

import java.net.InetAddress;
import java.util.Objects;

/**
 * Who is trying to authenticate, as far as a listener can tell before the credential is checked:
 * what the {@link AuthThrottle} counts failures by.
 *
 * @param protocol the listener ({@code postgres}, {@code ssh}, {@code api}), for the audit log
 * @param address the client's address, or null when the transport has none
 * @param identity the identity the client claims (PostgreSQL {@code user}, the SSH login's
 *     identity), or null when it claims none (an API bearer token)
 */
public record AuthAttempt(String protocol, InetAddress address, String identity) {
  public AuthAttempt {
    Objects.requireNonNull(protocol, "protocol");
    if (identity != null && identity.isEmpty()) {
      identity = null;
    }
  }
}
