package dev.gatehouse.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenSSH sshd on a free loopback port that accepts only the gateway's key, with its own
 * host key (and a second, unrelated one to pin for "changed host key" cases). The user is the one
 * running the tests.
 */
public final class TargetSshd implements AutoCloseable {
  public static final String SSHD = "/usr/sbin/sshd";
  public static final String KEYGEN = "/usr/bin/ssh-keygen";

  public final Path dir;
  public final Path gatewayKey;
  public final Path hostKey;
  public final Path otherHostKey;
  public final int port;
  public final String user = System.getProperty("user.name");
  private final Process sshd;

  /** Whether sshd and ssh-keygen are installed (and sshd's privilege separation dir exists). */
  public static boolean available() {
    Path privsep = Path.of("/run/sshd");
    if (!Files.isDirectory(privsep)) {
      try {
        Files.createDirectories(privsep);
      } catch (IOException e) {
        return false;
      }
    }
    return Files.isExecutable(Path.of(SSHD)) && Files.isExecutable(Path.of(KEYGEN));
  }

  public TargetSshd(Path dir) throws Exception {
    this.dir = Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    gatewayKey = keygen(dir.resolve("gateway"));
    hostKey = keygen(dir.resolve("host"));
    otherHostKey = keygen(dir.resolve("other_host"));
    Files.copy(Path.of(gatewayKey + ".pub"), dir.resolve("authorized_keys"));
    port = freePort();
    Files.writeString(
        dir.resolve("sshd_config"),
        """
        Port %d
        ListenAddress 127.0.0.1
        HostKey %s
        AuthorizedKeysFile %s
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PermitRootLogin prohibit-password
        UsePAM no
        StrictModes no
        PidFile %s
        """
            .formatted(port, hostKey, dir.resolve("authorized_keys"), dir.resolve("sshd.pid")));
    sshd =
        new ProcessBuilder(SSHD, "-D", "-e", "-f", dir.resolve("sshd_config").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("log").toFile())
            .start();
    awaitPort(port);
  }

  /** The gateway's private key (OpenSSH format), as the vault holds it. */
  public String privateKey() throws IOException {
    return Files.readString(gatewayKey);
  }

  /** "TYPE BASE64" of the target's host key, to pin. */
  public String hostKeyLine() throws IOException {
    return pubLine(hostKey);
  }

  /** A host key the target does not have: pinning it is a changed key. */
  public String otherHostKeyLine() throws IOException {
    return pubLine(otherHostKey);
  }

  /** Ends every connection to the target (sshd's per-connection processes), as a crash would. */
  public void dropConnections() {
    sshd.toHandle().children().forEach(ProcessHandle::destroyForcibly);
  }

  /** sshd's log (-e). */
  public String log() throws IOException {
    return Files.readString(dir.resolve("log"));
  }

  public static String pubLine(Path key) throws IOException {
    String[] parts = Files.readString(Path.of(key + ".pub")).trim().split(" ");
    return parts[0] + " " + parts[1];
  }

  public static Path keygen(Path file) throws Exception {
    Process p =
        new ProcessBuilder(KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file.toString())
            .redirectErrorStream(true)
            .start();
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("ssh-keygen failed for " + file);
    }
    return file;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static void awaitPort(int port) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < end) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new IOException("sshd never listened on " + port);
  }

  @Override
  public void close() throws Exception {
    sshd.destroy();
    sshd.waitFor(10, TimeUnit.SECONDS);
  }
}
