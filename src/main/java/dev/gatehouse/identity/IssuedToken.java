package dev.gatehouse.identity;

import java.time.Instant;

/**
 * A freshly issued gateway token or API key. {@code secret} is the full credential ({@code
 * ght_…}/{@code ghk_…}); it is shown to the caller once and never stored, so {@link #toString()}
 * leaves it out.
 *
 * @param id lookup id, safe to show and log; used to list and revoke
 * @param secret the whole credential to hand to the holder
 * @param expiresAt when it stops being accepted
 */
public record IssuedToken(String id, String secret, Instant expiresAt) {
  @Override
  public String toString() {
    return "IssuedToken[id=" + id + ", expiresAt=" + expiresAt + "]";
  }
}
