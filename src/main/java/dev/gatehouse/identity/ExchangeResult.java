package dev.gatehouse.identity;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A successful RFC 8693 token exchange response (§2.2.1). {@link #toString()} leaves the token out.
 *
 * @param accessToken the issued gateway token ({@code ght_…})
 * @param issuedTokenType always {@code urn:ietf:params:oauth:token-type:access_token}
 * @param tokenType always {@code Bearer} (RFC 6750)
 * @param expiresIn lifetime in seconds
 * @param scope space-separated connection names the token is limited to; null when unrestricted
 */
public record ExchangeResult(
    String accessToken, String issuedTokenType, String tokenType, long expiresIn, String scope) {

  /** The JSON body of the response, field names as in RFC 8693 §2.2.1. */
  public Map<String, Object> toResponse() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("access_token", accessToken);
    m.put("issued_token_type", issuedTokenType);
    m.put("token_type", tokenType);
    m.put("expires_in", expiresIn);
    if (scope != null) {
      m.put("scope", scope);
    }
    return m;
  }

  @Override
  public String toString() {
    return "ExchangeResult[issuedTokenType="
        + issuedTokenType
        + ", expiresIn="
        + expiresIn
        + ", scope="
        + scope
        + "]";
  }
}
