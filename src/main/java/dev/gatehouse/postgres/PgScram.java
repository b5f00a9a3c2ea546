package dev.gatehouse.postgres;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: no channel binding
 * ({@code n,,}), empty user name (the target takes it from the startup message). SASLprep is not
 * applied; PostgreSQL falls back to the raw password when a password is not valid SASLprep input,
 * so this only matters for passwords with unusual Unicode, which gateway-held credentials avoid.
 */
final class PgScram {
  static final String MECHANISM = "SCRAM-SHA-256";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String password;
  private final String clientNonce;
  private final String clientFirstBare;
  private byte[] expectedServerSignature;

  PgScram(String password) {
    this(password, randomNonce(), "");
  }

  /**
   * @param user the SCRAM user name; PostgreSQL ignores it and uses the startup user, so the
   *     gateway sends it empty (tests pass one to check against the RFC 7677 example)
   */
  PgScram(String password, String clientNonce, String user) {
    this.password = password;
    this.clientNonce = clientNonce;
    this.clientFirstBare = "n=" + user + ",r=" + clientNonce;
  }

  private static String randomNonce() {
    byte[] b = new byte[18];
    RANDOM.nextBytes(b);
    return Base64.getEncoder().encodeToString(b);
  }

  byte[] clientFirst() {
    return ("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8);
  }

  /** Answers the server-first message with the client proof. */
  byte[] clientFinal(byte[] serverFirstBytes) throws GeneralSecurityException {
    String serverFirst = new String(serverFirstBytes, StandardCharsets.UTF_8);
    String nonce = null;
    String salt = null;
    int iterations = -1;
    for (String part : serverFirst.split(",")) {
      if (part.startsWith("r=")) {
        nonce = part.substring(2);
      } else if (part.startsWith("s=")) {
        salt = part.substring(2);
      } else if (part.startsWith("i=")) {
        iterations = Integer.parseInt(part.substring(2));
      }
    }
    if (nonce == null || salt == null || iterations < 1 || !nonce.startsWith(clientNonce)) {
      throw new GeneralSecurityException("malformed SCRAM server-first message");
    }
    byte[] salted =
        hi(password.getBytes(StandardCharsets.UTF_8), Base64.getDecoder().decode(salt), iterations);
    byte[] clientKey = hmac(salted, "Client Key");
    byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
    String withoutProof = "c=biws,r=" + nonce;
    String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
    byte[] clientSignature = hmac(storedKey, authMessage);
    byte[] proof = new byte[clientKey.length];
    for (int i = 0; i < proof.length; i++) {
      proof[i] = (byte) (clientKey[i] ^ clientSignature[i]);
    }
    expectedServerSignature = hmac(hmac(salted, "Server Key"), authMessage);
    return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof))
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Verifies the server's signature, so a fake target cannot pretend to know the password. */
  void verifyServerFinal(byte[] serverFinalBytes) throws GeneralSecurityException {
    String serverFinal = new String(serverFinalBytes, StandardCharsets.UTF_8);
    if (!serverFinal.startsWith("v=") || expectedServerSignature == null) {
      throw new GeneralSecurityException("SCRAM authentication failed at the target");
    }
    byte[] v = Base64.getDecoder().decode(serverFinal.substring(2).split(",")[0]);
    if (!MessageDigest.isEqual(v, expectedServerSignature)) {
      throw new GeneralSecurityException("the target's SCRAM server signature is wrong");
    }
  }

  private static byte[] hi(byte[] password, byte[] salt, int iterations)
      throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(password, "HmacSHA256"));
    mac.update(salt);
    byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1});
    byte[] result = u.clone();
    for (int i = 1; i < iterations; i++) {
      u = mac.doFinal(u);
      for (int j = 0; j < result.length; j++) {
        result[j] ^= u[j];
      }
    }
    return result;
  }

  private static byte[] hmac(byte[] key, String data) throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
  }
}
