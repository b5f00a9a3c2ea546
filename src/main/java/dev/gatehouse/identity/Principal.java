package dev.gatehouse.identity;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * A verified identity. Only the identity package creates principals from credentials; everything
 * downstream (policy, audit, protocols) trusts this value.
 *
 * @param subject stable identifier of the caller ({@code alice}, {@code ci-bot})
 * @param groups groups the caller belongs to, used by policy subjects and reviewer groups
 * @param kind human, service or agent
 * @param tokenId id of the gateway token or API key that proved the identity; used for revocation
 * @param expiresAt when the credential stops being valid; sessions end then
 * @param scope connection names the token is limited to; empty means no extra limit
 * @param attributes extra claims (for example CI repository, workflow, ref) available to CEL
 */
public record Principal(
    String subject,
    Set<String> groups,
    PrincipalKind kind,
    String tokenId,
    Instant expiresAt,
    Set<String> scope,
    Map<String, String> attributes) {

  public Principal {
    if (subject == null || subject.isBlank()) {
      throw new IllegalArgumentException("subject: blank (expected: a non-empty name)");
    }
    groups = Set.copyOf(groups);
    scope = Set.copyOf(scope);
    attributes = Map.copyOf(attributes);
  }

  /** True when the token's scope (if any) admits the named connection. */
  public boolean scopeAllows(String connection) {
    return scope.isEmpty() || scope.contains(connection);
  }

  public boolean expired(Instant now) {
    return expiresAt != null && !now.isBefore(expiresAt);
  }
}
