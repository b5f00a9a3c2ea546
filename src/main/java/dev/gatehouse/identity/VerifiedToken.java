package dev.gatehouse.identity;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A JWT whose signature, issuer, audience and times {@link OidcVerifier} has checked.
 *
 * @param issuerName the configured name of the issuer ({@code identity.oidc[].name})
 * @param subject the {@code sub} claim
 * @param claims all claims in JSON form (times as epoch seconds, arrays as lists)
 */
public record VerifiedToken(String issuerName, String subject, Map<String, Object> claims) {
  public VerifiedToken {
    // Not Map.copyOf: JSON claims may legitimately be null.
    claims = Collections.unmodifiableMap(new LinkedHashMap<>(claims));
  }

  /** A claim as text: strings as they are, numbers and booleans printed; null otherwise. */
  public String stringClaim(String name) {
    Object v = claims.get(name);
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Number || v instanceof Boolean) {
      return String.valueOf(v);
    }
    return null;
  }
}
