package dev.gatehouse.masking;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 under the masking key, for deterministic hashing and format-preserving substitution.
 * Without a configured key a random one is generated per process, so pseudonyms are stable only
 * until restart (and cannot be reversed or precomputed by anyone).
 */
final class Keyed {
  private final Mac prototype;

  Keyed(byte[] key) {
    try {
      prototype = Mac.getInstance("HmacSHA256");
      prototype.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  static Keyed random() {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    return new Keyed(k);
  }

  static Keyed of(String key) {
    return new Keyed(key.getBytes(StandardCharsets.UTF_8));
  }

  /** HMAC of {@code domain || 0 || value || 0 || counter}; a fresh Mac per call (thread safe). */
  byte[] mac(String domain, String value, int counter) {
    Mac m;
    try {
      m = (Mac) prototype.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException(e);
    }
    m.update(domain.getBytes(StandardCharsets.UTF_8));
    m.update((byte) 0);
    m.update(value.getBytes(StandardCharsets.UTF_8));
    m.update((byte) 0);
    m.update((byte) counter);
    return m.doFinal();
  }
}
