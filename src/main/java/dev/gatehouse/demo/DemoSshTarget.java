package dev.gatehouse.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.AbstractMap;
import java.util.List;
import java.util.Map;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.file.FileSystemFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.SessionContext;
import org.apache.sshd.scp.server.ScpCommandFactory;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.sftp.server.SftpSubsystem;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

/**
 * The demo's SSH target: an embedded SSH server (Apache MINA SSHD) on 127.0.0.1 that stands in for
 * a host the gateway logs in to. It accepts exactly one key, the one the gateway holds; commands
 * and shells run {@code /bin/sh} in the demo's host directory, as the user running the demo, and
 * SFTP/SCP start there (with the real paths, as with OpenSSH's sshd).
 *
 * <p>It is a stand-in, not a sandbox: the point of the demo is what the gateway allows, not the
 * isolation of the target. One thing is hidden all the same: the demo's data directory (demo.env
 * with every token, master.key, the store), which the host directory sits in and which is the
 * gateway's own. Where bubblewrap works, commands and shells run with it mounted over by an empty
 * tmpfs, the host directory mounted back, and their own pid namespace (red team, issue #6: a shell
 * approved on the demo host read the admin token); without bubblewrap they run unconfined, and the
 * demo says so. SFTP and scp are served in this JVM and are not confined: only the gateway's file
 * rules (the demo's keep them to the host directory) stand between them and the data directory.
 */
final class DemoSshTarget implements AutoCloseable {
  static final String USER = "demo";

  private final SshServer server;
  private final KeyPair clientKey;
  private final KeyPair hostKey;
  private final boolean confined;

  private DemoSshTarget(SshServer server, KeyPair clientKey, KeyPair hostKey, boolean confined) {
    this.server = server;
    this.clientKey = clientKey;
    this.hostKey = hostKey;
    this.confined = confined;
  }

  /**
   * Starts the target on a free port with {@code home} as its file system and working directory.
   */
  static DemoSshTarget start(Path home) throws IOException {
    return start(home, null);
  }

  /**
   * As {@link #start(Path)}; processes do not see {@code hidden} (a directory holding {@code home})
   * where bubblewrap works.
   */
  static DemoSshTarget start(Path home, Path hidden) throws IOException {
    KeyPair host;
    KeyPair client;
    try {
      host = ecKeyPair();
      client = ecKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot generate the demo SSH keys", e);
    }
    Files.createDirectories(home);
    SshServer sshd = SshServer.setUpDefaultServer();
    sshd.setHost("127.0.0.1");
    sshd.setPort(0);
    sshd.setKeyPairProvider(KeyPairProvider.wrap(host));
    PublicKey allowed = client.getPublic();
    sshd.setPublickeyAuthenticator(
        (user, key, session) -> USER.equals(user) && KeyUtils.compareKeys(allowed, key));
    sshd.setPasswordAuthenticator(null);
    sshd.setKeyboardInteractiveAuthenticator(null);
    Path homeDir = home.toAbsolutePath();
    List<String> confine = hidden == null ? List.of() : confinement(hidden, homeDir);
    sshd.setShellFactory(channel -> new HostProcess(home, with(confine, "/bin/sh", "-i")));
    sshd.setCommandFactory(
        new ScpCommandFactory.Builder()
            .withDelegate(
                (channel, command) ->
                    new HostProcess(home, with(confine, "/bin/sh", "-c", command)))
            .build());
    sshd.setSubsystemFactories(
        List.of(
            new SftpSubsystemFactory() {
              @Override
              public Command createSubsystem(ChannelSession channel) {
                // MINA starts SFTP in the process's working directory; sshd starts in the home.
                return new SftpSubsystem(channel, this) {
                  @Override
                  public void setFileSystem(FileSystem fs) {
                    super.setFileSystem(fs);
                    defaultDir = homeDir;
                  }

                  /**
                   * REALPATH as OpenSSH's sftp-server answers it, realpath(3): links followed, a
                   * missing last component kept (MINA only normalizes the text). The gateway does
                   * not rely on it (it resolves links itself); clients see real paths.
                   */
                  @Override
                  protected AbstractMap.SimpleImmutableEntry<Path, Boolean> validateRealPath(
                      int id, String path, Path f, LinkOption... options) throws IOException {
                    var checked = super.validateRealPath(id, path, f, options);
                    // f is already normalized ("up/.." gone): resolve the name as the client sent
                    // it, links before "..".
                    Path asSent = path == null ? f : defaultDir.resolve(path);
                    return new AbstractMap.SimpleImmutableEntry<>(
                        realPath(asSent), checked.getValue());
                  }
                };
              }
            }));
    // The host's real file system with its home as the starting directory, as sshd would: SFTP
    // paths are then the same absolute paths that commands see and that policies name.
    sshd.setFileSystemFactory(
        new FileSystemFactory() {
          @Override
          public Path getUserHomeDir(SessionContext session) {
            return homeDir;
          }

          @Override
          public FileSystem createFileSystem(SessionContext session) {
            return FileSystems.getDefault();
          }
        });
    sshd.start();
    return new DemoSshTarget(sshd, client, host, !confine.isEmpty());
  }

  /**
   * bubblewrap's argv (bwrap(1)) that hides {@code hidden} behind an empty tmpfs and mounts {@code
   * home} back; the rest of the file system as it is (the SSH runner's job directories in /tmp
   * among it), a pid namespace of its own (the gateway's /proc/PID/environ out of sight). Empty
   * when bubblewrap cannot run here.
   */
  static List<String> confinement(Path hidden, Path home) {
    String bwrap = dev.gatehouse.runner.CommandRunner.bubblewrap();
    if (bwrap == null) return List.of();
    String h = hidden.toAbsolutePath().toString();
    String d = home.toString();
    return List.of(
        bwrap,
        "--bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        h,
        "--bind",
        d,
        d,
        "--unshare-pid",
        "--die-with-parent",
        "--chdir",
        d,
        "--");
  }

  /** Whether host processes run confined ({@link #confinement}). */
  boolean confined() {
    return confined;
  }

  private static List<String> with(List<String> prefix, String... command) {
    List<String> all = new java.util.ArrayList<>(prefix);
    all.addAll(List.of(command));
    return all;
  }

  /** Where {@code p} really is: every link followed, a missing last name in its real parent. */
  static Path realPath(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException missing) {
      Path parent = p.getParent();
      if (parent == null || p.getFileName() == null) return p;
      try {
        return parent.toRealPath().resolve(p.getFileName());
      } catch (IOException e) {
        return p; // as MINA answers: the server then fails the request itself
      }
    }
  }

  int port() {
    return server.getPort();
  }

  /** The host key line to pin in the gateway's connection ({@code ecdsa-sha2-nistp256 AAAA...}). */
  String hostKeyLine() {
    return PublicKeyEntry.toString(hostKey.getPublic());
  }

  /** The gateway-held private key, in OpenSSH format. */
  String clientPrivateKey() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(clientKey, "gatehouse-demo", null, out);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot encode the demo SSH key", e);
    }
    return out.toString(StandardCharsets.US_ASCII);
  }

  private static KeyPair ecKeyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  @Override
  public void close() throws IOException {
    server.stop(true);
  }

  /** A process on the demo host: its stdio pumped to the channel, its exit status returned. */
  private static final class HostProcess implements Command {
    private final Path home;
    private final List<String> command;
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;
    private Process process;

    HostProcess(Path home, List<String> command) {
      this.home = home;
      this.command = command;
    }

    @Override
    public void setInputStream(InputStream in) {
      this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
      this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
      this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
      this.exit = callback;
    }

    @Override
    public void start(ChannelSession channel, Environment env) throws IOException {
      ProcessBuilder pb = new ProcessBuilder(command).directory(home.toFile());
      Map<String, String> e = pb.environment();
      e.keySet().removeIf(k -> !k.equals("PATH") && !k.equals("LANG"));
      e.put("HOME", home.toString());
      e.put("USER", USER);
      e.put("PS1", "demo-host$ ");
      String term = env.getEnv().get(Environment.ENV_TERM);
      if (term != null) {
        e.put("TERM", term);
      }
      process = pb.start();
      Thread stdout = Thread.ofVirtual().start(() -> pump(process.getInputStream(), out));
      Thread stderr = Thread.ofVirtual().start(() -> pump(process.getErrorStream(), err));
      Thread.ofVirtual()
          .start(
              () -> {
                try (OutputStream stdin = process.getOutputStream()) {
                  in.transferTo(stdin);
                } catch (IOException ignored) {
                  // the process exited or the client closed stdin
                }
              });
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  int status = process.waitFor();
                  // The output must be drained before the exit status closes the channel.
                  stdout.join();
                  stderr.join();
                  exit.onExit(status);
                } catch (InterruptedException e1) {
                  exit.onExit(1);
                }
              });
    }

    private static void pump(InputStream from, OutputStream to) {
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = from.read(buf)) > 0; ) {
          to.write(buf, 0, n);
          to.flush();
        }
      } catch (IOException ignored) {
        // channel or process closed
      }
    }

    @Override
    public void destroy(ChannelSession channel) {
      if (process != null) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
    }
  }
}
