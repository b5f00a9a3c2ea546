package dev.gatehouse.gate;

import dev.gatehouse.identity.Principal;
import java.time.Instant;
import java.util.Set;

/**
 * Time-boxed access grants (implemented by the approval package): roles a principal holds on one
 * connection until a deadline. The gate adds them to the principal's groups for every decision on
 * that connection, so a grant that ends mid-session makes the very next action fall back to what
 * the principal could do without it.
 */
@FunctionalInterface
public interface GrantSource {
  /** Roles active for {@code principal} on {@code connection} at {@code now}; cheap, per action. */
  Set<String> activeRoles(Principal principal, String connection, Instant now);

  GrantSource NONE = (principal, connection, now) -> Set.of();
}
