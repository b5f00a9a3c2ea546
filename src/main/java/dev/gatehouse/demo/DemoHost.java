package dev.gatehouse.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;

/**
 * Files for the demo's code-execution part: the SSH host's directory (logs with data worth masking,
 * a secrets file no policy lets engineers read), the CI project the build runner builds, the demo
 * users' SSH keys and an {@code ssh_config} for the tour.
 */
final class DemoHost {
  private DemoHost() {}

  /** Project files, copied from the jar (src/main/resources/demo/ci-project). */
  static final List<String> PROJECT_FILES =
      List.of("Build.java", "src/Calculator.java", "src/CalculatorTest.java");

  /**
   * Writes the host directory: {@code logs/app.log}, {@code logs/access.log}, {@code secrets.env}.
   */
  static void seed(Path home) throws IOException {
    Path logs = home.resolve("logs");
    Files.createDirectories(logs);
    Files.writeString(
        logs.resolve("app.log"),
        """
        2026-11-21T09:14:02Z INFO  payments-api started, version 4.2.1 (build 20261120.3)
        2026-11-21T09:15:44Z INFO  order 100482 paid by jane.doe@example.com, card 4111 1111 1111 1111
        2026-11-21T09:16:10Z WARN  retrying webhook for order 100483 (attempt 2 of 5)
        2026-11-21T09:17:31Z ERROR refund 7731 failed: upstream said "insufficient funds" for \
        customer +1 415 555 0134
        2026-11-21T09:18:05Z DEBUG connecting to postgres://payments_app:Sup3rS3cret!@db.internal:5432/payments
        2026-11-21T09:19:40Z INFO  exported report for ssn 219-09-9999 to s3://reports/2026-11
        2026-11-21T09:20:12Z INFO  healthy: 3 workers, queue depth 0
        """);
    Files.writeString(
        logs.resolve("access.log"),
        """
        10.1.4.7 - - [21/Nov/2026:09:15:44 +0000] "POST /v1/orders/100482/pay HTTP/1.1" 200 512
        10.1.4.9 - - [21/Nov/2026:09:16:10 +0000] "POST /v1/webhooks/retry HTTP/1.1" 202 64
        10.1.4.7 - - [21/Nov/2026:09:17:31 +0000] "POST /v1/refunds/7731 HTTP/1.1" 502 128
        """);
    Files.writeString(
        home.resolve("secrets.env"),
        """
        # Only the host's administrators read this file; the demo policy keeps engineers out.
        STRIPE_SECRET_KEY=sk_live_51DemoOnlyNotARealKey0000000000000000
        DATABASE_PASSWORD=Sup3rS3cret!
        """);
  }

  /** Writes a fresh copy of the CI project the build runner builds. */
  static void writeProject(Path dir) throws IOException {
    Files.createDirectories(dir.resolve("src"));
    for (String f : PROJECT_FILES) {
      try (InputStream in = DemoHost.class.getResourceAsStream("/demo/ci-project/" + f)) {
        if (in == null) {
          throw new IOException(
              "demo resource demo/ci-project/" + f + " is missing from the build");
        }
        Files.copy(in, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    // The project is the gateway's: 0755, so no other local user can replace Build.java (a world-
    // writable project let anyone plant a build that printed the deploy token). Only build/, where
    // the build writes its classes, belongs to the user the runner runs it as (nobody when the
    // gateway is root: run_as is not set in the demo; else the gateway's own user).
    Path build = Files.createDirectories(dir.resolve("build"));
    try {
      for (Path d : List.of(dir, dir.resolve("src"), build)) {
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
      for (String f : PROJECT_FILES) {
        Files.setPosixFilePermissions(dir.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
      }
      if ("root".equals(System.getProperty("user.name"))) {
        chownTree(build, "nobody");
      }
    } catch (UnsupportedOperationException ignored) {
      // non-POSIX file system
    }
  }

  private static void chownTree(Path dir, String user) throws IOException {
    var users = dir.getFileSystem().getUserPrincipalLookupService();
    var owner = users.lookupPrincipalByName(user);
    try (var all = Files.walk(dir)) {
      for (Path p : all.toList()) {
        Files.setOwner(p, owner);
      }
    }
  }

  /**
   * An SSH key pair per user under {@code dir} ({@code alice} and {@code alice.pub}, 0600), made
   * once and reused; returns each user's public key line for the gateway's configuration.
   */
  static Map<String, String> userKeys(Path dir, List<String> users) throws IOException {
    Files.createDirectories(dir);
    Map<String, String> out = new LinkedHashMap<>();
    for (String user : users) {
      Path priv = dir.resolve(user);
      Path pub = dir.resolve(user + ".pub");
      if (!Files.exists(priv) || !Files.exists(pub)) {
        KeyPair kp;
        try {
          KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
          g.initialize(new ECGenParameterSpec("secp256r1"));
          kp = g.generateKeyPair();
        } catch (GeneralSecurityException e) {
          throw new IOException("cannot generate an SSH key for " + user, e);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try {
          OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(
              kp, user + "@gatehouse-demo", null, b);
        } catch (GeneralSecurityException e) {
          throw new IOException("cannot encode the SSH key of " + user, e);
        }
        Files.write(priv, b.toByteArray());
        try {
          Files.setPosixFilePermissions(priv, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
          // non-POSIX file system
        }
        Files.writeString(
            pub, PublicKeyEntry.toString(kp.getPublic()) + " " + user + "@gatehouse-demo\n");
      }
      out.put(user, Files.readString(pub, StandardCharsets.US_ASCII).trim());
    }
    return out;
  }

  /**
   * An ssh_config for the tour: host alias {@code gatehouse-demo} for the gateway's SSH listener,
   * its host key remembered in the demo's own known_hosts on first use.
   */
  static void writeSshConfig(Path data, int port) throws IOException {
    Files.writeString(
        data.resolve("ssh_config"),
        "Host gatehouse-demo\n"
            + "  HostName 127.0.0.1\n"
            + "  Port "
            + port
            + "\n"
            + "  IdentitiesOnly yes\n"
            + "  StrictHostKeyChecking accept-new\n"
            + "  UserKnownHostsFile "
            + data.resolve("known_hosts")
            + "\n");
  }
}
