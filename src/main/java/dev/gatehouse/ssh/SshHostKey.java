package dev.gatehouse.ssh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Iterator;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * The gateway's own SSH host key: ed25519, generated on first start and kept in {@code
 * DATA_DIR/ssh_host_ed25519_key} (OpenSSH format, mode 0600), so clients can pin it across restarts
 * and replicas that share the file.
 */
final class SshHostKey {
  static final String FILE_NAME = "ssh_host_ed25519_key";

  private SshHostKey() {}

  /** Loads the key from {@code dataDir}, or generates and stores a new one. */
  static KeyPair loadOrGenerate(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    try {
      if (Files.exists(file)) {
        return parse(file);
      }
      KeyPairGenerator gen = SecurityUtils.getKeyPairGenerator(SecurityUtils.EDDSA);
      gen.initialize(256); // Ed25519 (the provider's only 256-bit EdDSA curve)
      KeyPair kp = gen.generateKeyPair();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(kp, "gatehouse", null, out);
      Files.createDirectories(dataDir);
      Path tmp = dataDir.resolve(FILE_NAME + ".tmp");
      Files.deleteIfExists(tmp);
      try {
        Files.createFile(
            tmp,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException e) {
        Files.createFile(tmp);
      }
      Files.write(tmp, out.toByteArray(), StandardOpenOption.TRUNCATE_EXISTING);
      Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return kp;
    } catch (GeneralSecurityException e) {
      throw new IOException("ssh host key " + file + ": " + e.getMessage(), e);
    }
  }

  private static KeyPair parse(Path file) throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(file)) {
      Iterator<KeyPair> it =
          SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(file.toString()), in, null)
              .iterator();
      if (!it.hasNext()) {
        throw new IOException("ssh host key " + file + ": no key in the file");
      }
      return it.next();
    }
  }

  /** {@code SHA256:...} as {@code ssh-keygen -l} prints it. */
  static String fingerprint(KeyPair kp) {
    return KeyUtils.getFingerPrint(kp.getPublic());
  }
}
