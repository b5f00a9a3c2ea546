package dev.gatehouse.identity;

import java.time.Instant;
import java.util.Set;

/**
 * What is known about an issued token or API key, without its secret or hash: safe to show in the
 * API and CLI.
 *
 * @param type {@code token} or {@code api_key}
 * @param name the API key's name; null for tokens
 * @param revokedAt null while not revoked
 */
public record TokenInfo(
    String id,
    String type,
    String name,
    String subject,
    Set<String> groups,
    PrincipalKind kind,
    Set<String> scope,
    Instant createdAt,
    Instant expiresAt,
    Instant revokedAt,
    String issuedBy) {

  public TokenInfo {
    groups = Set.copyOf(groups);
    scope = Set.copyOf(scope);
  }

  /** Neither revoked nor expired at {@code now}. */
  public boolean active(Instant now) {
    return revokedAt == null && now.isBefore(expiresAt);
  }
}
