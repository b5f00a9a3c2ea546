package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ClientChannel;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.file.FileSystemFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.SessionContext;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.sftp.server.SftpSubsystem;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The path walk against both kinds of SFTP server the gateway meets: OpenSSH's sftp-server, whose
 * REALPATH follows links, and Apache MINA's stock SftpSubsystem (the demo's target), whose REALPATH
 * only normalizes the text. The resolver must place every path the same on both, because it does
 * not ask REALPATH where a path is (red team, issue #6: {@code symlink . up} then {@code get
 * up/../x} read outside the allowed tree on MINA).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SftpPathResolverTest {
  @TempDir Path tmp;
  Path root;
  Path allowed;
  Mina mina;

  @BeforeEach
  void tree() throws IOException {
    assumeTrue(Files.isExecutable(Path.of(SftpRelayTest.SFTP_SERVER)), "no OpenSSH sftp-server");
    root = tmp.resolve("root");
    allowed = Files.createDirectories(root.resolve("allowed")).toRealPath();
    root = root.toRealPath();
    Files.writeString(root.resolve("secret.txt"), "TOPSECRET");
    Files.writeString(allowed.resolve("ok.txt"), "fine");
    Files.createDirectories(allowed.resolve("sub"));
    Files.createSymbolicLink(allowed.resolve("etclink"), Path.of("/etc"));
    // A chain whose last link leaves the tree: c1 -> c2 -> c3 -> .. (root).
    Files.createSymbolicLink(allowed.resolve("c1"), Path.of("c2"));
    Files.createSymbolicLink(allowed.resolve("c2"), Path.of("sub/../c3"));
    Files.createSymbolicLink(allowed.resolve("c3"), Path.of(".."));
    Files.createSymbolicLink(allowed.resolve("loop1"), Path.of("loop2"));
    Files.createSymbolicLink(allowed.resolve("loop2"), Path.of("loop1"));
  }

  @AfterEach
  void stop() throws IOException {
    if (mina != null) mina.close();
  }

  SftpPathResolver resolver(String server) throws Exception {
    if (server.equals("openssh")) return SftpRelayTest.resolver(allowed);
    mina = new Mina(allowed);
    return new SftpPathResolver(mina::channel);
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssh", "mina"})
  void linksAreFollowedHereNotByTheServersRealpath(String server) throws Exception {
    try (SftpPathResolver r = resolver(server)) {
      Files.createSymbolicLink(allowed.resolve("up"), Path.of("."));
      // "up/.." is the parent of where up leads (allowed), so the root: not allowed/secret.txt.
      assertThat(r.resolve(allowed + "/up/../secret.txt", true))
          .containsExactly(root + "/secret.txt");
      assertThat(r.resolve("up/../secret.txt", true)).containsExactly(root + "/secret.txt");
      assertThat(r.resolve(allowed + "/up/up/up/../ok.txt", false))
          .containsExactly(root + "/ok.txt");
      assertThat(r.resolve(allowed + "/etclink/hostname", true)).containsExactly("/etc/hostname");
      assertThat(r.resolve(allowed + "/etclink/", true)).containsExactly("/etc");
      // A final link is the link itself for LSTAT, REMOVE, RENAME...
      assertThat(r.resolve(allowed + "/etclink", false)).containsExactly(allowed + "/etclink");
      // ...unless a trailing slash makes the kernel follow it: both places are checked.
      assertThat(r.resolve(allowed + "/etclink/", false))
          .containsExactly("/etc", allowed + "/etclink");
      assertThat(r.resolve(allowed + "/etclink/.", false))
          .containsExactly("/etc", allowed + "/etclink");
      assertThat(r.resolve(allowed + "/c1/secret.txt", true)).containsExactly(root + "/secret.txt");
      assertThat(r.resolve(allowed + "/c1", true)).containsExactly(root.toString());
      assertThat(r.resolve("sub/../ok.txt", true)).containsExactly(allowed + "/ok.txt");
      assertThat(r.resolve("/../..", true)).containsExactly("/");
      // A create: the missing last name in its real parent.
      assertThat(r.resolve(allowed + "/up/../new.txt", true)).containsExactly(root + "/new.txt");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"openssh", "mina"})
  void whatCannotBePlacedIsRefused(String server) throws Exception {
    try (SftpPathResolver r = resolver(server)) {
      assertThatThrownBy(() -> r.resolve(allowed + "/loop1/x", true))
          .isInstanceOf(SftpPathResolver.Unresolved.class)
          .hasMessageContaining("more than 40 symbolic links");
      assertThatThrownBy(() -> r.resolve(allowed + "/loop1", true))
          .isInstanceOf(SftpPathResolver.Unresolved.class);
      assertThat(r.resolve(allowed + "/loop1", false)).containsExactly(allowed + "/loop1");
      assertThatThrownBy(() -> r.resolve(allowed + "/nodir/x", true))
          .isInstanceOfSatisfying(
              SftpPathResolver.Unresolved.class, e -> assertThat(e.absent).isTrue())
          .hasMessageContaining("does not exist");
      assertThatThrownBy(() -> r.resolve(allowed + "/ok.txt/../../secret.txt", true))
          .isInstanceOf(SftpPathResolver.Unresolved.class)
          .hasMessageContaining("is not a directory");
      assertThatThrownBy(() -> r.resolve("/" + "a".repeat(SftpPathResolver.MAX_PATH), true))
          .isInstanceOf(SftpPathResolver.Unresolved.class)
          .hasMessageContaining("longer than");
      // 40 links in a row are followed (Linux's MAXSYMLINKS), 41 are not.
      Path chain = Files.createDirectories(allowed.resolve("chain"));
      Files.writeString(chain.resolve("end.txt"), "end");
      for (int i = 0; i < 41; i++) {
        Files.createSymbolicLink(
            chain.resolve("l" + i), Path.of(i == 0 ? "end.txt" : "l" + (i - 1)));
      }
      assertThat(r.resolve(chain + "/l39", true)).containsExactly(chain + "/end.txt");
      assertThatThrownBy(() -> r.resolve(chain + "/l40", true))
          .isInstanceOf(SftpPathResolver.Unresolved.class);
    }
  }

  /**
   * The cost: one pipelined batch of LSTATs (one per component) per path without links, and two
   * round trips more per link (READLINK, then the batch for the rest). Printed for the docs.
   */
  @ParameterizedTest
  @ValueSource(strings = {"openssh", "mina"})
  void aPathWithoutLinksCostsOneRoundTrip(String server) throws Exception {
    try (SftpPathResolver r = resolver(server)) {
      r.resolve(allowed + "/ok.txt", true); // opens the channel
      int trips = r.roundTrips, sent = r.requests;
      r.resolve(allowed + "/ok.txt", true);
      assertThat(r.roundTrips - trips).isEqualTo(1);
      int components = (allowed + "/ok.txt").split("/").length - 1;
      assertThat(r.requests - sent).isEqualTo(components);
      trips = r.roundTrips;
      r.resolve(allowed + "/etclink/hostname", true);
      assertThat(r.roundTrips - trips).isEqualTo(3);
      System.out.printf(
          "%s: %d components, 1 round trip, %d LSTATs; through one link: 3 round trips%n",
          server, components, components);
    }
  }

  /**
   * The red team's sequence with the real OpenSSH sftp client through the relay, on both servers: a
   * link {@code up -> .} made inside the allowed tree, then a file above it through {@code up/..};
   * a link out to /etc; a chain; a loop. Transfers inside the tree still work and are recorded
   * under their real paths.
   */
  @ParameterizedTest
  @ValueSource(strings = {"openssh", "mina"})
  void theRedTeamSequenceIsRefusedOnBothServers(String server) throws Exception {
    Path local = Files.createDirectories(tmp.resolve("local"));
    List<String> checked = new CopyOnWriteArrayList<>();
    List<String> records = new CopyOnWriteArrayList<>();
    String prefix = allowed.toString();
    SftpRelay.PathPolicy policy =
        new SftpRelay.PathPolicy() {
          @Override
          public String check(String op, String path) {
            checked.add(op + " " + path);
            return path.equals(prefix) || path.startsWith(prefix + "/") ? null : "outside";
          }

          @Override
          public void refused(String op, String name, String reason) {
            checked.add("refused " + op + " " + name + ": " + reason);
          }
        };
    String batch =
        String.join(
            "\n",
            "symlink . " + allowed + "/up",
            "-get " + allowed + "/up/../secret.txt got1.txt",
            "-get up/../secret.txt got2.txt",
            "-get etclink/hostname got3.txt",
            "-ls etclink/",
            "-get c1/secret.txt got4.txt",
            "-get loop1/x got5.txt",
            "-get etclink/no-such-gatehouse-dir/x got6.txt",
            "-put " + local.resolve("in.txt") + " up/../planted.txt",
            "get ok.txt got-ok.txt",
            "get up/ok.txt got-ok2.txt",
            "put " + local.resolve("in.txt") + " sub/in.txt",
            "");
    Files.writeString(local.resolve("in.txt"), "uploaded");
    SftpRelayTest.Bridge bridge = new SftpRelayTest.Bridge(tmp.resolve("bridge"));
    Path batchFile = Files.writeString(tmp.resolve("batch"), batch);
    try (SftpPathResolver resolver = resolver(server)) {
      CompletableFuture<Throwable> relay =
          CompletableFuture.supplyAsync(
              () -> {
                try (InputStream in = bridge.in();
                    OutputStream out = bridge.out()) {
                  Target t = target(server);
                  new SftpRelay(
                          in,
                          out,
                          t.in,
                          t.out,
                          policy,
                          (op, path, bytes, sha) -> records.add(op + " " + path + " " + bytes),
                          resolver)
                      .run();
                  t.close.run();
                  return null;
                } catch (Throwable e) {
                  return e;
                }
              });
      Process client =
          new ProcessBuilder("sftp", "-D", bridge.script.toString(), "-b", batchFile.toString())
              .directory(local.toFile())
              .redirectErrorStream(true)
              .start();
      String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(client.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(client.exitValue()).as(output).isZero();
      assertThat(relay.get(60, TimeUnit.SECONDS)).isNull();
      for (int i = 1; i <= 6; i++) assertThat(local.resolve("got" + i + ".txt")).doesNotExist();
      System.out.println("SFTPOUT " + output);
      // outside the tree, the client is not told whether /etc/no-such-gatehouse-dir exists; the
      // audit record is
      assertThat(output)
          .doesNotContain("does not exist")
          .doesNotContain("no-such-gatehouse-dir is");
      assertThat(checked)
          .anyMatch(
              c ->
                  c.startsWith("refused")
                      && c.contains("/etc/no-such-gatehouse-dir does not exist"));
      assertThat(output).doesNotContain("TOPSECRET");
      assertThat(root.resolve("planted.txt")).doesNotExist();
      assertThat(local.resolve("got-ok.txt")).hasContent("fine");
      assertThat(local.resolve("got-ok2.txt")).hasContent("fine");
      assertThat(allowed.resolve("sub/in.txt")).hasContent("uploaded");
      assertThat(checked)
          .contains(
              "stat " + root + "/secret.txt",
              "stat /etc/hostname",
              "write " + root + "/planted.txt")
          .anyMatch(c -> c.equals("list /etc") || c.equals("stat /etc"))
          .anyMatch(c -> c.startsWith("refused") && c.contains("more than 40 symbolic links"));
      assertThat(records)
          .contains(
              "symlink " + allowed + "/up -> " + allowed + " 0",
              "read " + allowed + "/ok.txt 4",
              "write " + allowed + "/sub/in.txt 8");
      // up/ok.txt was read where it is: recorded under its real path.
      assertThat(records.stream().filter(r -> r.equals("read " + allowed + "/ok.txt 4")))
          .hasSize(2);
    }
  }

  /**
   * Red team, issue #6: a link moved to where its relative target leads out of the tree, then
   * {@code RENAME a/g a/q} and {@code OPEN a/q} in one write. The OPEN must be placed after the
   * target renamed (before the fix it was placed on the old tree, allowed, and read the file
   * outside, 5 runs of 5).
   */
  @ParameterizedTest
  @ValueSource(strings = {"openssh", "mina"})
  void aPathPipelinedBehindARenameIsPlacedAfterIt(String server) throws Exception {
    Files.createDirectories(allowed.resolve("a/b"));
    Files.writeString(allowed.resolve("secret.txt"), "inside");
    // From a/b, ../../secret.txt is allowed/secret.txt; from a, it is root/secret.txt.
    Files.createSymbolicLink(allowed.resolve("a/b/g"), Path.of("../../secret.txt"));
    try (SftpPathResolver resolver = resolver(server);
        Raw c = new Raw(server, resolver)) {
      c.send(SftpRelay.RENAME, 1, "a/b/g", "a/g");
      SftpRelayTest.assertOk(c.receive(), 1);
      byte[] batch =
          concat(
              SftpRelayTest.packet(SftpRelay.RENAME, 2, "a/g", "a/q"),
              SftpRelayTest.packet(SftpRelay.OPEN, 3, "a/q", SftpRelay.FXF_READ, 0),
              SftpRelayTest.packet(
                  SftpRelay.OPEN,
                  4,
                  "a/q",
                  SftpRelay.FXF_WRITE | SftpRelay.FXF_CREAT | SftpRelay.FXF_TRUNC,
                  0));
      c.out.write(batch);
      c.out.flush();
      java.util.Map<Integer, Integer> status = new java.util.HashMap<>();
      for (int i = 0; i < 3; i++) {
        java.io.DataInputStream r = c.receive();
        byte type = r.readByte();
        int id = r.readInt();
        status.put(id, type == SftpRelay.STATUS ? r.readInt() : -type);
      }
      assertThat(status)
          .containsEntry(2, SftpRelay.FX_OK)
          .containsEntry(3, SftpRelay.FX_PERMISSION_DENIED)
          .containsEntry(4, SftpRelay.FX_PERMISSION_DENIED);
      assertThat(root.resolve("secret.txt")).hasContent("TOPSECRET");
    }
  }

  /**
   * Red team, issue #6: lsetstat on a link that leads out of the tree chmodded the file outside on
   * MINA (java.nio follows the link). It is checked where the link leads too.
   */
  @ParameterizedTest
  @ValueSource(strings = {"openssh", "mina"})
  void lsetstatIsCheckedWhereTheLinkLeads(String server) throws Exception {
    Files.createSymbolicLink(allowed.resolve("v"), Path.of("../secret.txt"));
    var before = Files.getPosixFilePermissions(root.resolve("secret.txt"));
    try (SftpPathResolver resolver = resolver(server);
        Raw c = new Raw(server, resolver)) {
      c.send(SftpRelay.EXTENDED, 1, "lsetstat@openssh.com", "v", 4, 04777);
      SftpRelayTest.assertStatus(c.receive(), 1, SftpRelay.FX_PERMISSION_DENIED);
      // A hard link to it: refused as well, whether the server would link the link or its file.
      c.send(SftpRelay.EXTENDED, 3, "hardlink@openssh.com", "v", "h");
      SftpRelayTest.assertStatus(c.receive(), 3, SftpRelay.FX_PERMISSION_DENIED);
      assertThat(Files.exists(allowed.resolve("h"), java.nio.file.LinkOption.NOFOLLOW_LINKS))
          .isFalse();
      // A link inside the tree may still be set (OpenSSH cannot chmod a link: not OK, not denied).
      Files.createSymbolicLink(allowed.resolve("w"), Path.of("ok.txt"));
      int trips = resolver.roundTrips;
      c.send(SftpRelay.EXTENDED, 2, "lsetstat@openssh.com", "w", 4, 0644);
      java.io.DataInputStream r = c.receive();
      assertThat(r.readByte()).isEqualTo((byte) SftpRelay.STATUS);
      assertThat(r.readInt()).isEqualTo(2);
      assertThat(r.readInt()).isNotEqualTo(SftpRelay.FX_PERMISSION_DENIED);
      // Both places in one walk: LSTATs up to the link, READLINK, LSTAT of where it leads. The
      // walk to the link itself was a second one (a fourth round trip).
      assertThat(resolver.roundTrips - trips).isEqualTo(3);
      // hardlink's existing name likewise, and the new name one more round trip
      trips = resolver.roundTrips;
      c.send(SftpRelay.EXTENDED, 4, "hardlink@openssh.com", "w", "h2");
      r = c.receive();
      assertThat(r.readByte()).isEqualTo((byte) SftpRelay.STATUS);
      assertThat(r.readInt()).isEqualTo(4);
      assertThat(r.readInt()).isNotEqualTo(SftpRelay.FX_PERMISSION_DENIED);
      assertThat(resolver.roundTrips - trips).isEqualTo(4);
    }
    assertThat(Files.getPosixFilePermissions(root.resolve("secret.txt"))).isEqualTo(before);
  }

  /**
   * expand-path@openssh.com answers with the canonical path, as REALPATH does, so it is checked
   * where the name really is: before, a link chain leaving the tree was checked as its name only
   * and the answer named the directory outside. A leading "~" is the login directory, and the
   * request is forwarded with that directory in its place (sftp-server here runs as a user whose
   * home is elsewhere); "~user" is refused.
   */
  @ParameterizedTest
  @ValueSource(strings = {"openssh", "mina"})
  void expandPathIsCheckedWhereThePathReallyIs(String server) throws Exception {
    try (SftpPathResolver resolver = resolver(server);
        Raw c = new Raw(server, resolver)) {
      c.send(SftpRelay.EXTENDED, 1, "expand-path@openssh.com", "c1");
      SftpRelayTest.assertStatus(c.receive(), 1, SftpRelay.FX_PERMISSION_DENIED);
      c.send(SftpRelay.EXTENDED, 2, "expand-path@openssh.com", "etclink/passwd");
      SftpRelayTest.assertStatus(c.receive(), 2, SftpRelay.FX_PERMISSION_DENIED);
      c.send(SftpRelay.EXTENDED, 3, "expand-path@openssh.com", "~root");
      SftpRelayTest.assertStatus(c.receive(), 3, SftpRelay.FX_PERMISSION_DENIED);
      c.send(SftpRelay.EXTENDED, 4, "expand-path@openssh.com", "~/../secret.txt");
      SftpRelayTest.assertStatus(c.receive(), 4, SftpRelay.FX_PERMISSION_DENIED);
      if (server.equals("openssh")) {
        c.send(SftpRelay.EXTENDED, 5, "expand-path@openssh.com", "~/sub");
        java.io.DataInputStream r = c.receive();
        assertThat(r.readByte()).isEqualTo((byte) SftpRelay.NAME);
        assertThat(r.readInt()).isEqualTo(5);
        assertThat(r.readInt()).isEqualTo(1);
        assertThat(new String(r.readNBytes(r.readInt()), StandardCharsets.UTF_8))
            .isEqualTo(allowed + "/sub");
      }
    }
  }

  /**
   * Review: a path the target will not show (permission denied on a directory) was refused with the
   * rest of its batch of LSTAT answers unread, and every later check read a stale answer and
   * failed. The answers are all read, and the checks after it work. sftp-server runs as nobody
   * here, so that a directory of root's is closed to it.
   */
  @Test
  void aPathTheTargetWillNotShowDoesNotBreakTheChecksAfterIt() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "no setpriv");
    assumeTrue(((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0, "not root");
    for (Path p = allowed; p != null; p = p.getParent()) {
      if (p.equals(tmp.getParent())) break;
      Files.setPosixFilePermissions(
          p, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Path locked = Files.createDirectories(allowed.resolve("locked/a/b"));
    Files.setPosixFilePermissions(
        allowed.resolve("locked"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    try (SftpPathResolver r =
        new SftpPathResolver(
            () -> {
              Process p =
                  new ProcessBuilder(
                          "/usr/bin/setpriv",
                          "--reuid=nobody",
                          "--regid=nogroup",
                          "--clear-groups",
                          SftpRelayTest.SFTP_SERVER,
                          "-d",
                          allowed.toString())
                      .redirectError(ProcessBuilder.Redirect.DISCARD)
                      .start();
              return new SftpPathResolver.Channel(
                  p.getInputStream(), p.getOutputStream(), p::destroy);
            })) {
      assertThatThrownBy(() -> r.resolve(locked + "/c", true))
          .isInstanceOf(SftpPathResolver.Unresolved.class);
      assertThat(r.resolve(allowed + "/ok.txt", true)).containsExactly(allowed + "/ok.txt");
      assertThat(r.resolve(allowed + "/sub/x", true)).containsExactly(allowed + "/sub/x");
    }
  }

  static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) all.writeBytes(p);
    return all.toByteArray();
  }

  /** A client driven packet by packet, through the relay, to the target; policy: the tree only. */
  final class Raw implements AutoCloseable {
    final java.io.DataOutputStream out;
    final java.io.DataInputStream in;
    final Target target;
    final CompletableFuture<Throwable> relay;

    Raw(String server, SftpPathResolver resolver) throws Exception {
      java.nio.channels.Pipe c2r = java.nio.channels.Pipe.open();
      java.nio.channels.Pipe r2c = java.nio.channels.Pipe.open();
      out = new java.io.DataOutputStream(java.nio.channels.Channels.newOutputStream(c2r.sink()));
      in = new java.io.DataInputStream(java.nio.channels.Channels.newInputStream(r2c.source()));
      target = target(server);
      String prefix = allowed.toString();
      SftpRelay.PathPolicy policy =
          new SftpRelay.PathPolicy() {
            @Override
            public String check(String op, String path) {
              return path.equals(prefix) || path.startsWith(prefix + "/") ? null : "outside";
            }

            @Override
            public void refused(String op, String name, String reason) {}
          };
      relay =
          SftpRelayTest.runAsync(
              new SftpRelay(
                  java.nio.channels.Channels.newInputStream(c2r.source()),
                  java.nio.channels.Channels.newOutputStream(r2c.sink()),
                  target.in,
                  target.out,
                  policy,
                  (op, path, bytes, sha) -> {},
                  resolver));
      send(SftpRelay.INIT, 3);
      assertThat(receive().readByte()).isEqualTo((byte) SftpRelay.VERSION);
    }

    void send(int type, Object... fields) throws IOException {
      out.write(SftpRelayTest.packet(type, fields));
      out.flush();
    }

    java.io.DataInputStream receive() throws IOException {
      return new java.io.DataInputStream(
          new java.io.ByteArrayInputStream(SftpRelayTest.readPacket(in)));
    }

    @Override
    public void close() throws Exception {
      out.close();
      relay.get(30, TimeUnit.SECONDS);
      target.close.run();
    }
  }

  record Target(InputStream in, OutputStream out, Runnable close) {}

  /** The transfer's own SFTP server: a second sftp-server, or a second MINA channel. */
  Target target(String server) throws Exception {
    if (server.equals("openssh")) {
      Process p =
          new ProcessBuilder(SftpRelayTest.SFTP_SERVER, "-d", allowed.toString())
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      return new Target(p.getInputStream(), p.getOutputStream(), p::destroy);
    }
    SftpPathResolver.Channel c = mina.channel();
    return new Target(c.in(), c.out(), () -> SftpRelay.closeQuietly(c.close()));
  }

  /**
   * Apache MINA's SFTP server as shipped (REALPATH not changed), starting in {@code home} like the
   * demo's target, and a client session to it for the channels.
   */
  static final class Mina implements AutoCloseable {
    final SshServer server;
    final SshClient client;
    final ClientSession session;

    Mina(Path home) throws Exception {
      server = SshServer.setUpDefaultServer();
      server.setHost("127.0.0.1");
      server.setPort(0);
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      server.setKeyPairProvider(KeyPairProvider.wrap(g.generateKeyPair()));
      server.setPasswordAuthenticator((user, password, s) -> "pw".equals(password));
      server.setSubsystemFactories(
          List.of(
              new SftpSubsystemFactory() {
                @Override
                public Command createSubsystem(ChannelSession channel) {
                  return new SftpSubsystem(channel, this) {
                    @Override
                    public void setFileSystem(FileSystem fs) {
                      super.setFileSystem(fs);
                      defaultDir = home;
                    }
                  };
                }
              }));
      server.setFileSystemFactory(
          new FileSystemFactory() {
            @Override
            public Path getUserHomeDir(SessionContext s) {
              return home;
            }

            @Override
            public FileSystem createFileSystem(SessionContext s) {
              return FileSystems.getDefault();
            }
          });
      server.start();
      client = SshClient.setUpDefaultClient();
      client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
      client.start();
      session =
          client
              .connect("test", "127.0.0.1", server.getPort())
              .verify(Duration.ofSeconds(30))
              .getSession();
      session.addPasswordIdentity("pw");
      session.auth().verify(Duration.ofSeconds(30));
    }

    SftpPathResolver.Channel channel() throws IOException {
      ClientChannel ch = SshTransferChannels.sftp(session);
      ch.open().verify(Duration.ofSeconds(30));
      return new SftpPathResolver.Channel(
          SshTransferChannels.input(ch), ch.getInvertedIn(), () -> ch.close(false));
    }

    @Override
    public void close() throws IOException {
      List<IOException> errors = new ArrayList<>();
      for (AutoCloseable c : List.<AutoCloseable>of(session, client, server)) {
        try {
          c.close();
        } catch (Exception e) {
          errors.add(new IOException(e));
        }
      }
      if (!errors.isEmpty()) throw errors.get(0);
    }
  }
}
