package dev.gatehouse.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The wire form of gateway credentials: {@code ght_<id>_<secret>} (tokens) and {@code
 * ghk_<id>_<secret>} (API keys). The fixed prefix lets secret scanners (GitHub push protection,
 * gitleaks) recognise a leaked credential; the id makes lookup a primary-key read so the secret
 * itself is only ever compared as a hash.
 *
 * <p>The id is 20 lowercase hex characters (80 random bits, so ids do not collide and cannot be
 * guessed usefully). The secret is 32 random bytes in unpadded base64url (RFC 4648 §5), always 43
 * characters; it may contain {@code _}, so parsing splits at the first {@code _} after the id only.
 */
final class TokenFormat {
  static final String TOKEN_PREFIX = "ght_";
  static final String API_KEY_PREFIX = "ghk_";
  static final int ID_HEX_CHARS = 20;
  static final int SECRET_BYTES = 32;
  static final int SECRET_CHARS = 43;
  static final int CREDENTIAL_CHARS = TOKEN_PREFIX.length() + ID_HEX_CHARS + 1 + SECRET_CHARS;

  private static final SecureRandom RANDOM = new SecureRandom();

  /** A parsed credential. Not a record so that the secret never shows up in a toString. */
  static final class Parsed {
    final String type;
    final String id;
    final String secret;

    Parsed(String type, String id, String secret) {
      this.type = type;
      this.id = id;
      this.secret = secret;
    }

    @Override
    public String toString() {
      return "Parsed[" + type + " " + id + "]";
    }
  }

  private TokenFormat() {}

  static String newId() {
    byte[] b = new byte[ID_HEX_CHARS / 2];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  static String newSecret() {
    byte[] b = new byte[SECRET_BYTES];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static String format(String type, String id, String secret) {
    return prefix(type) + id + "_" + secret;
  }

  static String prefix(String type) {
    return TokenService.TYPE_API_KEY.equals(type) ? API_KEY_PREFIX : TOKEN_PREFIX;
  }

  /** True when the text looks like one of our credentials (prefix only). */
  static boolean looksLikeOurs(String credential) {
    return credential.startsWith(TOKEN_PREFIX) || credential.startsWith(API_KEY_PREFIX);
  }

  /** Parses strictly; returns null for anything that is not exactly our format. */
  static Parsed parse(String credential) {
    if (credential.length() != CREDENTIAL_CHARS) {
      return null;
    }
    String type;
    if (credential.startsWith(TOKEN_PREFIX)) {
      type = TokenService.TYPE_TOKEN;
    } else if (credential.startsWith(API_KEY_PREFIX)) {
      type = TokenService.TYPE_API_KEY;
    } else {
      return null;
    }
    int idStart = TOKEN_PREFIX.length();
    int sep = idStart + ID_HEX_CHARS;
    if (credential.charAt(sep) != '_') {
      return null;
    }
    String id = credential.substring(idStart, sep);
    String secret = credential.substring(sep + 1);
    if (!isLowerHex(id) || !isBase64Url(secret)) {
      return null;
    }
    return new Parsed(type, id, secret);
  }

  /** Lowercase hex SHA-256 of the secret part, the only form that is stored. */
  static String hash(String secret) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(secret.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  /** Constant-time comparison of two hex hashes (they are always 64 ASCII characters). */
  static boolean hashesEqual(String a, String b) {
    return MessageDigest.isEqual(
        a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
  }

  static boolean isLowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isBase64Url(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok =
          (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_';
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
