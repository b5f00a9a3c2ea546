package dev.gatehouse.credential;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import com.google.crypto.tink.subtle.Hkdf;
import dev.gatehouse.config.Secret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The root key of the gateway: 32 random bytes that seal every keyset in the store (credential data
 * keys, audit signing keys). It never leaves the process: not in logs, messages or {@link
 * #toString()}.
 *
 * <p>The key itself never encrypts data. Each purpose gets its own AES-256-GCM key derived with
 * HKDF-SHA256 ({@code info = "gatehouse/keyset/" + purpose}), so a ciphertext made for one purpose
 * cannot be opened as another.
 */
public final class MasterKey {
  private static final Logger log = LoggerFactory.getLogger(MasterKey.class);

  /** Length of the key in bytes (AES-256). */
  public static final int LENGTH = 32;

  /** File name of the generated key inside the data directory. */
  public static final String FILE_NAME = "master.key";

  private static final byte[] HKDF_SALT =
      "gatehouse-master-key-v1".getBytes(StandardCharsets.UTF_8);

  private final byte[] key;
  private final String origin;

  private MasterKey(byte[] key, String origin) {
    if (key.length != LENGTH) {
      throw new IllegalArgumentException(
          "master key from " + origin + ": " + key.length + " bytes (expected: " + LENGTH + ")");
    }
    this.key = key.clone();
    this.origin = origin;
  }

  /** Parses a configured key ({@code server.master_key}: base64 of 32 random bytes). */
  public static MasterKey fromSecret(Secret secret) {
    return parse(secret.reveal(), secret.origin());
  }

  /**
   * The configured key when there is one; otherwise the key in {@code dataDir/master.key},
   * generated there (mode 0600) on first start. A generated key lives next to the data it protects,
   * so it is logged loudly as unfit for production.
   */
  public static MasterKey loadOrGenerate(Secret configured, Path dataDir) {
    if (configured != null) {
      return fromSecret(configured);
    }
    Path file = dataDir.resolve(FILE_NAME);
    try {
      if (!Files.exists(file)) {
        Files.createDirectories(dataDir);
        MasterKey generated = parse(generate(), "file:" + file);
        try {
          generated.writeTo(file);
          log.warn(
              "GENERATED A NEW MASTER KEY at {}. It sits next to the data it protects: in"
                  + " production, supply server.master_key from ${env:...} or ${file:...}"
                  + " (create one with `gatehouse keys generate`) and keep a backup; without it the"
                  + " stored credentials and signing keys cannot be opened.",
              file);
          return generated;
        } catch (FileAlreadyExistsException raced) {
          // Another process generated it first; use theirs.
        }
      }
      log.warn(
          "using the master key from {}; in production supply server.master_key from the"
              + " environment or a secret file instead",
          file);
      return parse(Files.readString(file, StandardCharsets.US_ASCII).trim(), "file:" + file);
    } catch (IOException e) {
      throw new UncheckedIOException("master key: cannot read or create " + file, e);
    }
  }

  /** A new random key, base64-encoded, for {@code gatehouse keys generate}. */
  public static String generate() {
    byte[] k = new byte[LENGTH];
    new SecureRandom().nextBytes(k);
    try {
      return Base64.getEncoder().encodeToString(k);
    } finally {
      Arrays.fill(k, (byte) 0);
    }
  }

  private static MasterKey parse(String base64, String origin) {
    if (base64 == null || base64.isBlank()) {
      throw new IllegalArgumentException(
          "master key from " + origin + " is empty (expected: base64 of " + LENGTH + " bytes)");
    }
    byte[] k;
    try {
      k = Base64.getDecoder().decode(base64.trim());
    } catch (IllegalArgumentException e) {
      // The message of e could quote part of the value: leave it out.
      throw new IllegalArgumentException(
          "master key from "
              + origin
              + " is not valid base64 (expected: base64 of "
              + LENGTH
              + " random bytes, as printed by `gatehouse keys generate`)");
    }
    try {
      return new MasterKey(k, origin);
    } finally {
      Arrays.fill(k, (byte) 0);
    }
  }

  /**
   * Writes the key as base64 to a new file readable only by its owner (0600 where the file system
   * supports POSIX permissions). Fails if the file exists, so a key is never overwritten.
   */
  public void writeTo(Path file) throws IOException {
    byte[] text = Base64.getEncoder().encode(key);
    try {
      Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");
      try {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(ownerOnly));
      } catch (UnsupportedOperationException notPosix) {
        Files.createFile(file);
      }
      Files.write(file, text, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
    } finally {
      Arrays.fill(text, (byte) 0);
    }
  }

  /** Where the key came from, for example {@code env:GATEHOUSE_MASTER_KEY}. */
  public String origin() {
    return origin;
  }

  /** The AEAD that seals keysets for one purpose (a derived key, never the master key itself). */
  Aead keysetAead(String purpose) {
    byte[] derived = null;
    try {
      derived =
          Hkdf.computeHkdf(
              "HMACSHA256",
              key,
              HKDF_SALT,
              ("gatehouse/keyset/" + purpose).getBytes(StandardCharsets.UTF_8),
              LENGTH);
      return new AesGcmJce(derived);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("master key: cannot derive the key for " + purpose, e);
    } finally {
      if (derived != null) {
        Arrays.fill(derived, (byte) 0);
      }
    }
  }

  @Override
  public String toString() {
    return "MasterKey[" + origin + "]";
  }
}
