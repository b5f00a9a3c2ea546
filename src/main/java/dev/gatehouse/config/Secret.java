package dev.gatehouse.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * A secret value resolved from a {@code ${env:…}} or {@code ${file:…}} reference. {@link
 * #toString()} shows only where it came from, so a secret logged by accident stays hidden.
 */
public final class Secret {
  private final String value;
  private final String origin;

  public Secret(String value, String origin) {
    this.value = value;
    this.origin = origin;
  }

  /** The value, for handing to the component that uses it. Never log or return it. */
  public String reveal() {
    return value;
  }

  /** Where it came from, for example {@code env:PGPASSWORD}. */
  public String origin() {
    return origin;
  }

  /** Constant-time comparison. */
  public boolean matches(String candidate) {
    return candidate != null
        && MessageDigest.isEqual(
            value.getBytes(StandardCharsets.UTF_8), candidate.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "Secret[" + origin + "]";
  }
}
