package dev.gatehouse.ssh;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SftpRelay between the real OpenSSH sftp client ({@code sftp -D PROGRAM}, which speaks SFTP over
 * PROGRAM's stdio) and the real OpenSSH sftp-server. PROGRAM is a shell script bridging its stdio
 * to two FIFOs whose other ends the relay holds, so both ends are the production OpenSSH code.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SftpRelayTest {
  static final String SFTP_SERVER = "/usr/lib/openssh/sftp-server";

  record Rec(String op, String path, long bytes, String sha256) {}

  @TempDir Path tmp;
  Path local;
  Path remote;
  final List<Rec> records = new CopyOnWriteArrayList<>();
  final List<String> checked = new CopyOnWriteArrayList<>();
  final List<String> refusedNames = new CopyOnWriteArrayList<>();

  @BeforeEach
  void dirs() throws IOException {
    assumeTrue(Files.isExecutable(Path.of(SFTP_SERVER)), "OpenSSH sftp-server not installed");
    local = Files.createDirectories(tmp.resolve("local"));
    remote = Files.createDirectories(tmp.resolve("remote")).toRealPath();
  }

  /** Denies everything under remote/secret; records what was asked. */
  SftpRelay.PathPolicy policy() {
    String secret = remote + "/secret";
    return new SftpRelay.PathPolicy() {
      @Override
      public String check(String op, String path) {
        checked.add(op + " " + path);
        return path.equals(secret) || path.startsWith(secret + "/") ? "secret is off limits" : null;
      }

      @Override
      public void refused(String op, String name, String reason) {
        refusedNames.add(op + " " + name + ": " + reason);
      }
    };
  }

  SftpRelay.Recorder recorder() {
    return (op, path, bytes, sha) -> records.add(new Rec(op, path, bytes, sha));
  }

  record Run(int exit, String output, Throwable relayError) {}

  Run sftp(String batch, String... options) throws Exception {
    Path batchFile = tmp.resolve("batch");
    Files.writeString(batchFile, batch);
    Bridge bridge = new Bridge(tmp.resolve("bridge"));
    CompletableFuture<Throwable> relay =
        CompletableFuture.supplyAsync(
            () -> {
              try (InputStream in = bridge.in();
                  OutputStream out = bridge.out()) {
                Process server =
                    new ProcessBuilder(SFTP_SERVER, "-d", remote.toString())
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
                new SftpRelay(
                        in,
                        out,
                        server.getInputStream(),
                        server.getOutputStream(),
                        policy(),
                        recorder(),
                        resolver(remote))
                    .run();
                server.waitFor(30, TimeUnit.SECONDS);
                return null;
              } catch (Throwable t) {
                return t;
              }
            });
    List<String> cmd = new ArrayList<>(List.of("sftp", "-D", bridge.script.toString()));
    cmd.addAll(List.of(options));
    cmd.addAll(List.of("-b", batchFile.toString()));
    Process client =
        new ProcessBuilder(cmd).directory(local.toFile()).redirectErrorStream(true).start();
    String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(client.waitFor(60, TimeUnit.SECONDS)).isTrue();
    Throwable error = relay.get(60, TimeUnit.SECONDS);
    return new Run(client.exitValue(), output, error);
  }

  @Test
  void uploadAndDownloadMultiMegabyteFileWithHashes() throws Exception {
    byte[] data = random(8 * 1024 * 1024 + 12345);
    Files.write(local.resolve("big.bin"), data);

    Run run = sftp("put big.bin up.bin\nget up.bin down.bin\n");

    assertThat(run.exit).as(run.output).isZero();
    assertThat(run.relayError).isNull();
    assertThat(Files.readAllBytes(remote.resolve("up.bin"))).isEqualTo(data);
    assertThat(Files.readAllBytes(local.resolve("down.bin"))).isEqualTo(data);
    String path = remote + "/up.bin";
    assertThat(records)
        .contains(
            new Rec("write", path, data.length, sha256(data)),
            new Rec("read", path, data.length, sha256(data)));
  }

  @Test
  void deeplyPipelinedTransferWithLargeBuffers() throws Exception {
    byte[] data = random(6 * 1024 * 1024 + 7);
    Files.write(local.resolve("p.bin"), data);

    // 128 requests in flight of up to 128 KiB each, both directions.
    Run run = sftp("put p.bin p.bin\nget p.bin back.bin\n", "-R", "128", "-B", "131072");

    assertThat(run.exit).as(run.output).isZero();
    assertThat(Files.readAllBytes(local.resolve("back.bin"))).isEqualTo(data);
    assertThat(records)
        .contains(
            new Rec("write", remote + "/p.bin", data.length, sha256(data)),
            new Rec("read", remote + "/p.bin", data.length, sha256(data)));
  }

  @Test
  void deniedWriteAnswersPermissionDeniedAndWritesNothing() throws Exception {
    Files.createDirectories(remote.resolve("secret"));
    Files.writeString(remote.resolve("secret/keep.txt"), "classified");
    Files.writeString(local.resolve("small.txt"), "hello");

    // "-" lets the batch continue after a failing command.
    Run run =
        sftp(
            "-put small.txt secret/x.txt\n"
                + "-get secret/keep.txt got.txt\n"
                + "-rm secret/keep.txt\n"
                + "-ls secret\n"
                + "put small.txt ok.txt\n");

    assertThat(run.exit).as(run.output).isZero();
    assertThat(run.output).contains("Permission denied");
    assertThat(remote.resolve("secret/x.txt")).doesNotExist();
    assertThat(remote.resolve("secret/keep.txt")).hasContent("classified");
    assertThat(local.resolve("got.txt")).doesNotExist();
    assertThat(remote.resolve("ok.txt")).hasContent("hello");
    assertThat(records).extracting(Rec::path).doesNotContain(remote + "/secret/x.txt");
    assertThat(records)
        .containsExactly(
            new Rec(
                "write", remote + "/ok.txt", 5, sha256("hello".getBytes(StandardCharsets.UTF_8))));
    assertThat(checked).contains("write " + remote + "/secret/x.txt");
  }

  @Test
  void fileChangesAreRecordedOnSuccess() throws Exception {
    Files.writeString(local.resolve("a.txt"), "abc");

    Run run =
        sftp(
            "mkdir d\n"
                + "put a.txt d/a\n"
                + "rename d/a d/b\n"
                + "ln -s b d/link\n"
                + "chmod 600 d/b\n"
                + "rm d/link\n"
                + "rm d/b\n"
                + "rmdir d\n"
                + "-rmdir nope\n");

    assertThat(run.exit).as(run.output).isZero();
    String d = remote + "/d";
    assertThat(records)
        .containsExactly(
            new Rec("mkdir", d, 0, null),
            new Rec("write", d + "/a", 3, sha256("abc".getBytes(StandardCharsets.UTF_8))),
            new Rec("rename", d + "/a -> " + d + "/b", 0, null),
            new Rec("symlink", d + "/link -> " + d + "/b", 0, null),
            new Rec("setstat", d + "/b", 0, null),
            new Rec("remove", d + "/link", 0, null),
            new Rec("remove", d + "/b", 0, null),
            new Rec("rmdir", d, 0, null));
    assertThat(remote.resolve("d")).doesNotExist();
  }

  // ---- raw protocol against the real sftp-server ----

  /** A client end driven packet by packet. */
  final class RawClient implements AutoCloseable {
    final DataOutputStream out;
    final DataInputStream in;
    final Process server;
    final CompletableFuture<Throwable> relay;

    RawClient() throws IOException {
      Pipe c2r = Pipe.open();
      Pipe r2c = Pipe.open();
      out = new DataOutputStream(Channels.newOutputStream(c2r.sink()));
      in = new DataInputStream(Channels.newInputStream(r2c.source()));
      server =
          new ProcessBuilder(SFTP_SERVER, "-d", remote.toString())
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      SftpRelay r =
          new SftpRelay(
              Channels.newInputStream(c2r.source()),
              Channels.newOutputStream(r2c.sink()),
              server.getInputStream(),
              server.getOutputStream(),
              policy(),
              recorder(),
              resolver(remote));
      relay = runAsync(r);
    }

    void send(int type, Object... fields) throws IOException {
      out.write(packet(type, fields));
      out.flush();
    }

    /** Reads one packet: type byte first. */
    DataInputStream receive() throws IOException {
      int len = in.readInt();
      byte[] b = new byte[len];
      in.readFully(b);
      return new DataInputStream(new ByteArrayInputStream(b));
    }

    List<String> init() throws IOException {
      send(SftpRelay.INIT, 3);
      DataInputStream v = receive();
      assertThat(v.readByte()).isEqualTo((byte) SftpRelay.VERSION);
      assertThat(v.readInt()).isEqualTo(3);
      List<String> ext = new ArrayList<>();
      while (v.available() > 0) {
        ext.add(string(v));
        string(v);
      }
      return ext;
    }

    @Override
    public void close() throws Exception {
      out.close();
      relay.get(30, TimeUnit.SECONDS);
      server.waitFor(30, TimeUnit.SECONDS);
    }
  }

  static String string(DataInputStream d) throws IOException {
    byte[] b = new byte[d.readInt()];
    d.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  static CompletableFuture<Throwable> runAsync(SftpRelay r) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            r.run();
            return null;
          } catch (Throwable t) {
            return t;
          }
        });
  }

  /**
   * The red team's tree under root: {@code secret/s.txt} (what the test policies refuse), {@code
   * sub/up -> .} (a link back into its own directory) and {@code data -> secret}. Returns secret.
   */
  static Path escapeTree(Path root) throws IOException {
    Path secret = Files.createDirectories(root.resolve("secret"));
    Files.writeString(secret.resolve("s.txt"), "TOPSECRET");
    Path sub = Files.createDirectories(root.resolve("sub"));
    Files.createSymbolicLink(sub.resolve("up"), Path.of("."));
    Files.createSymbolicLink(root.resolve("data"), secret);
    return secret;
  }

  /**
   * The red team's escape: a link to a directory inside the allowed tree, then "..". The relay's
   * lexical view ({@code sub/up/../secret} is {@code sub/secret}) differs from the kernel's ({@code
   * up} is {@code sub}, so ".." is the root and the file is {@code secret/s.txt}). A link that
   * points out of the tree needs no ".." at all.
   */
  @Test
  void pathsAreCheckedWhereTheTargetReallyResolvesThem() throws Exception {
    Path secret = escapeTree(remote);
    Path sub = remote.resolve("sub");
    Files.writeString(local.resolve("up.txt"), "planted");

    Run run =
        sftp(
            String.join(
                "\n",
                "-get sub/up/../secret/s.txt got1.txt",
                "-get data/s.txt got2.txt",
                "-ls -l sub/up/../secret",
                "-put up.txt sub/up/../secret/planted1.txt",
                "-put up.txt data/planted2.txt",
                "-symlink sub/up/../secret/s.txt sub/l1",
                "-rename sub/up/../secret/s.txt moved.txt",
                "-chmod 777 data/s.txt",
                ""));

    assertThat(local.resolve("got1.txt")).doesNotExist();
    assertThat(local.resolve("got2.txt")).doesNotExist();
    assertThat(run.output).contains("Permission denied");
    try (var listed = Files.list(secret)) {
      assertThat(listed.map(p -> p.getFileName().toString())).containsExactly("s.txt");
    }
    assertThat(sub.resolve("l1")).doesNotExist();
    assertThat(remote.resolve("moved.txt")).doesNotExist();
    assertThat(Files.getPosixFilePermissions(secret.resolve("s.txt")))
        .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
    // Every refusal came from the policy asked about the real path, under secret (the client
    // stats a file before it gets it, and that is where the read stops).
    assertThat(checked)
        .contains(
            "stat " + remote + "/sub/secret/s.txt",
            "stat " + remote + "/secret/s.txt",
            "stat " + remote + "/data/s.txt",
            "stat " + remote + "/secret",
            "write " + remote + "/sub/secret/planted1.txt",
            "write " + remote + "/secret/planted1.txt",
            "write " + remote + "/secret/planted2.txt",
            "rename " + remote + "/secret/s.txt",
            "setstat " + remote + "/secret/s.txt");
    assertThat(run.relayError).isNull();
  }

  /**
   * Issue #6 review: every path refusal looks the same to the client. A link whose real destination
   * exists and is denied was answered with the rule's reason, a link leading nowhere with "cannot
   * tell where", so the client learnt that the destination exists. Now the name denied as sent, the
   * real destination denied, a missing directory, a component that is no directory and a name that
   * is not UTF-8 all get SSH_FX_PERMISSION_DENIED and {@link SftpRelay#DENIED}; the reasons are in
   * the record (the policy's denials, the relay's own refusals).
   */
  @Test
  void everyPathRefusalLooksTheSameToTheClient() throws Exception {
    escapeTree(remote);
    Files.createSymbolicLink(remote.resolve("out"), Path.of("/etc"));
    List<String> asked =
        List.of(
            "secret/s.txt", // denied as sent
            "data/s.txt", // denied where it leads, which exists
            "data/none.txt", // denied where it would be created
            "out/no-such-gatehouse-dir/x", // leads nowhere
            "out/hostname/x"); // through a file
    List<String> answers = new ArrayList<>();
    try (RawClient c = new RawClient()) {
      c.init();
      for (int i = 0; i < asked.size(); i++) {
        c.send(SftpRelay.STAT, 10 + i, asked.get(i));
        DataInputStream s = c.receive();
        assertStatus(s, 10 + i, SftpRelay.FX_PERMISSION_DENIED);
        answers.add(string(s) + "|" + string(s));
      }
      c.send(SftpRelay.STAT, 20, new byte[] {'/', 't', 'm', 'p', '/', (byte) 0xff});
      DataInputStream s = c.receive();
      assertStatus(s, 20, SftpRelay.FX_PERMISSION_DENIED);
      answers.add(string(s) + "|" + string(s));
    }
    assertThat(answers).hasSize(asked.size() + 1).containsOnly(SftpRelay.DENIED + "|");
    assertThat(checked)
        .contains(
            "stat " + remote + "/secret/s.txt",
            "stat " + remote + "/data/none.txt",
            "stat " + remote + "/secret/none.txt");
    assertThat(refusedNames)
        .anyMatch(n -> n.contains("/etc/no-such-gatehouse-dir does not exist"))
        .anyMatch(n -> n.contains("/etc/hostname is not a directory"))
        .anyMatch(n -> n.contains("not UTF-8"));
  }

  /**
   * The other escape the red team found: sftp-server reuses a closed handle for the next OPEN, so
   * an FSETSTAT pipelined behind "CLOSE h; OPEN other" ran on the other file while checked against
   * the closed one. A handle is forgotten when its CLOSE is sent.
   */
  @Test
  void aHandleIsForgottenWhenItsCloseIsSentNotWhenAnswered() throws Exception {
    Files.writeString(remote.resolve("a.txt"), "a");
    Path b = remote.resolve("b.txt");
    Files.writeString(b, "b");
    Files.setPosixFilePermissions(b, PosixFilePermissions.fromString("rw-r--r--"));
    try (RawClient c = new RawClient()) {
      c.init();
      c.send(SftpRelay.OPEN, 1, "a.txt", SftpRelay.FXF_READ, 0);
      DataInputStream s = c.receive();
      assertThat(s.readByte()).isEqualTo((byte) SftpRelay.HANDLE);
      assertThat(s.readInt()).isEqualTo(1);
      byte[] handle = new byte[s.readInt()];
      s.readFully(handle);

      // One write: CLOSE h, OPEN b (gets h back from sftp-server), FSETSTAT h mode 0777.
      ByteArrayOutputStream burst = new ByteArrayOutputStream();
      burst.write(packet(SftpRelay.CLOSE, 2, handle));
      burst.write(packet(SftpRelay.OPEN, 3, "b.txt", SftpRelay.FXF_READ, 0));
      burst.write(
          packet(SftpRelay.FSETSTAT, 4, handle, 0x4, 0777)); // SSH_FILEXFER_ATTR_PERMISSIONS
      c.out.write(burst.toByteArray());
      c.out.flush();

      java.util.Map<Integer, Integer> replies = new java.util.HashMap<>();
      for (int i = 0; i < 3; i++) {
        s = c.receive();
        int type = s.readByte();
        int id = s.readInt();
        replies.put(id, type == SftpRelay.STATUS ? s.readInt() : -type);
      }
      assertThat(replies).containsEntry(2, SftpRelay.FX_OK);
      assertThat(replies).containsEntry(3, -SftpRelay.HANDLE);
      assertThat(replies).containsEntry(4, SftpRelay.FX_FAILURE);
    }
    assertThat(Files.getPosixFilePermissions(b))
        .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
  }

  @Test
  void deniedRequestIsAnsweredWithItsOwnIdAndRelativePathsAreAbsolutized() throws Exception {
    try (RawClient c = new RawClient()) {
      assertThat(c.init())
          .isNotEmpty()
          .allMatch(SftpRelay.EXTENSIONS::contains)
          .contains("limits@openssh.com", "expand-path@openssh.com")
          .doesNotContain("home-directory");

      int flags = SftpRelay.FXF_WRITE | SftpRelay.FXF_CREAT | SftpRelay.FXF_TRUNC;
      c.send(SftpRelay.OPEN, 77, "x/../secret//./y.txt", flags, 0);
      DataInputStream s = c.receive();
      assertThat(s.readByte()).isEqualTo((byte) SftpRelay.STATUS);
      assertThat(s.readInt()).isEqualTo(77);
      assertThat(s.readInt()).isEqualTo(SftpRelay.FX_PERMISSION_DENIED);
      assertThat(string(s)).isEqualTo(SftpRelay.DENIED);
      assertThat(checked).contains("write " + remote + "/secret/y.txt");

      // NUL inside a name: the server would see a different path than the policy.
      c.send(SftpRelay.STAT, 78, "/etc/passwd\0/../../" + remote);
      s = c.receive();
      s.readByte();
      assertThat(s.readInt()).isEqualTo(78);
      assertThat(s.readInt()).isEqualTo(SftpRelay.FX_PERMISSION_DENIED);
      // Not UTF-8: refused too. Neither reaches the policy, and both are reported for the record,
      // escaped so the record shows the bytes that were sent.
      c.send(SftpRelay.OPEN, 81, new byte[] {'/', 't', 'm', 'p', '/', (byte) 0xff, '\\'}, flags, 0);
      s = c.receive();
      s.readByte();
      assertThat(s.readInt()).isEqualTo(81);
      assertThat(s.readInt()).isEqualTo(SftpRelay.FX_PERMISSION_DENIED);
      assertThat(checked).containsExactly("write " + remote + "/secret/y.txt");
      assertThat(refusedNames)
          .containsExactly(
              "stat /etc/passwd\\x00/../../" + remote + ": file name is not UTF-8 or contains NUL",
              "write /tmp/\\xff\\x5c: file name is not UTF-8 or contains NUL");

      c.send(SftpRelay.EXTENDED, 79, "home-directory", "root");
      s = c.receive();
      s.readByte();
      assertThat(s.readInt()).isEqualTo(79);
      assertThat(s.readInt()).isEqualTo(SftpRelay.FX_OP_UNSUPPORTED);

      c.send(SftpRelay.STAT, 80, ".");
      s = c.receive();
      assertThat(s.readByte()).isEqualTo((byte) SftpRelay.ATTRS);
      assertThat(s.readInt()).isEqualTo(80);
    }
    assertThat(remote.resolve("secret")).doesNotExist();
  }

  @Test
  void nonSequentialWritesHaveNoHashAndExtensionsAreChecked() throws Exception {
    Files.writeString(remote.resolve("orig.txt"), "original");
    try (RawClient c = new RawClient()) {
      c.init();
      int flags = SftpRelay.FXF_WRITE | SftpRelay.FXF_CREAT | SftpRelay.FXF_TRUNC;
      c.send(SftpRelay.OPEN, 1, "holes.bin", flags, 0);
      DataInputStream h = c.receive();
      assertThat(h.readByte()).isEqualTo((byte) SftpRelay.HANDLE);
      h.readInt();
      byte[] handle = h.readNBytes(h.readInt());
      c.send(SftpRelay.WRITE, 2, handle, 4L, "5678".getBytes(StandardCharsets.UTF_8));
      c.send(SftpRelay.WRITE, 3, handle, 0L, "1234".getBytes(StandardCharsets.UTF_8));
      c.send(SftpRelay.CLOSE, 4, handle);
      for (int id = 2; id <= 4; id++) assertOk(c.receive(), id);

      // hardlink@openssh.com: (existing, new name), checked as symlink for both.
      c.send(SftpRelay.EXTENDED, 5, "hardlink@openssh.com", "orig.txt", "secret/link");
      assertStatus(c.receive(), 5, SftpRelay.FX_PERMISSION_DENIED);
      c.send(SftpRelay.EXTENDED, 6, "hardlink@openssh.com", "orig.txt", "link.txt");
      assertOk(c.receive(), 6);
      c.send(SftpRelay.EXTENDED, 7, "posix-rename@openssh.com", "link.txt", "moved.txt");
      assertOk(c.receive(), 7);

      c.send(SftpRelay.EXTENDED, 8, "expand-path@openssh.com", "secret/../secret/z");
      assertStatus(c.receive(), 8, SftpRelay.FX_PERMISSION_DENIED);
      c.send(SftpRelay.EXTENDED, 9, "limits@openssh.com");
      DataInputStream limits = c.receive();
      assertThat(limits.readByte()).isEqualTo((byte) SftpRelay.EXTENDED_REPLY);
      assertThat(limits.readInt()).isEqualTo(9);
      assertThat(limits.readLong()).isLessThanOrEqualTo(SftpPacket.MAX_LENGTH);
    }
    assertThat(remote.resolve("holes.bin")).hasContent("12345678");
    assertThat(remote.resolve("moved.txt")).hasContent("original");
    assertThat(records)
        .containsExactly(
            new Rec("write", remote + "/holes.bin", 8, null),
            new Rec("symlink", remote + "/link.txt -> " + remote + "/orig.txt", 0, null),
            new Rec("rename", remote + "/link.txt -> " + remote + "/moved.txt", 0, null));
    assertThat(checked)
        .contains("symlink " + remote + "/secret/link", "stat " + remote + "/secret/z");
  }

  /**
   * OpenSSH numbers handles from 0, so a client can name the handle of an OPEN before its reply: a
   * pipelined WRITE or FSETSTAT on it would pass the relay unchecked (no setstat decision, bytes
   * missing from the record). Requests on a handle the relay has not seen handed out are answered
   * SSH_FX_FAILURE here and never reach the server. A scripted server holds its HANDLE reply until
   * the client's pipelined requests were answered, which makes the race deterministic.
   */
  @Test
  void requestsOnAHandleNotYetHandedOutAreRefused() throws Exception {
    Scripted s = scripted(r -> r);
    OutputStream client = s.client(), server = s.server();
    DataInputStream toClient = s.toClient(), toServer = s.toServer();

    int flags = SftpRelay.FXF_WRITE | SftpRelay.FXF_CREAT | SftpRelay.FXF_TRUNC;
    byte[] predicted = new byte[4]; // sftp-server's first handle: index 0, big-endian
    client.write(packet(SftpRelay.OPEN, 1, "pipelined.txt", flags, 0));
    assertThat(readPacket(toServer)[0]).isEqualTo((byte) SftpRelay.OPEN);
    client.write(packet(SftpRelay.WRITE, 2, predicted, 0L, "unrecorded".getBytes(UTF_8)));
    client.write(packet(SftpRelay.FSETSTAT, 3, predicted, 0x4, 04777)); // attrs: permissions
    client.write(packet(SftpRelay.READDIR, 4, predicted));
    client.write(packet(SftpRelay.EXTENDED, 5, "fsync@openssh.com", predicted));
    for (int id = 2; id <= 5; id++) {
      assertStatus(new DataInputStream(new ByteArrayInputStream(readPacket(toClient))), id, 4);
    }
    server.write(packet(SftpRelay.HANDLE, 1, predicted));
    assertThat(readPacket(toClient)[0]).isEqualTo((byte) SftpRelay.HANDLE);
    // Once handed out, the handle works; the next packet the server sees is this WRITE: none of
    // the refused ones reached it.
    client.write(packet(SftpRelay.WRITE, 6, predicted, 0L, "abc".getBytes(UTF_8)));
    byte[] write = readPacket(toServer);
    assertThat(write[0]).isEqualTo((byte) SftpRelay.WRITE);
    assertThat(new DataInputStream(new ByteArrayInputStream(write, 1, 4)).readInt()).isEqualTo(6);
    server.write(packet(SftpRelay.STATUS, 6, SftpRelay.FX_OK, "", ""));
    readPacket(toClient);
    client.write(packet(SftpRelay.CLOSE, 7, predicted));
    readPacket(toServer);
    server.write(packet(SftpRelay.STATUS, 7, SftpRelay.FX_OK, "", ""));
    readPacket(toClient);
    assertThat(records)
        .contains(new Rec("write", "/srv/pipelined.txt", 3, sha256("abc".getBytes(UTF_8))));
    s.close();
  }

  /**
   * Replies are matched by request id (draft-ietf-secsh-filexfer-02 section 4): while a request is
   * in flight, another with its id is answered SSH_FX_FAILURE here and never reaches the server (a
   * reply could otherwise be taken for the other request's, a change's among them). Once the reply
   * passed, the id may be used again.
   */
  @Test
  void aRequestIdInFlightIsNotReused() throws Exception {
    Scripted s = scripted(r -> r);
    OutputStream client = s.client(), server = s.server();
    DataInputStream toClient = s.toClient(), toServer = s.toServer();

    client.write(packet(SftpRelay.STAT, 9, "first"));
    assertThat(new String(readPacket(toServer), 9, 5, UTF_8)).isEqualTo("first");
    client.write(packet(SftpRelay.STAT, 9, "second"));
    assertStatus(
        new DataInputStream(new ByteArrayInputStream(readPacket(toClient))),
        9,
        SftpRelay.FX_FAILURE);
    server.write(packet(SftpRelay.STATUS, 9, SftpRelay.FX_OK, "", ""));
    assertOk(new DataInputStream(new ByteArrayInputStream(readPacket(toClient))), 9);
    client.write(packet(SftpRelay.STAT, 9, "third"));
    // The next packet the server sees is "third": "second" never reached it.
    assertThat(new String(readPacket(toServer), 9, 5, UTF_8)).isEqualTo("third");
    server.write(packet(SftpRelay.STATUS, 9, SftpRelay.FX_OK, "", ""));
    readPacket(toClient);
    s.close();
  }

  /**
   * A path request behind a change the target does not answer waits a bounded time, then is
   * answered SSH_FX_FAILURE without reaching the target: fail closed. Once the change is answered,
   * paths go through again.
   */
  @Test
  void aPathBehindAnUnansweredChangeFailsClosedAfterTheWait() throws Exception {
    Scripted s = scripted(r -> r.changeWait(300));
    OutputStream client = s.client(), server = s.server();
    DataInputStream toClient = s.toClient(), toServer = s.toServer();

    client.write(packet(SftpRelay.RENAME, 1, "a", "b"));
    assertThat(readPacket(toServer)[0]).isEqualTo((byte) SftpRelay.RENAME);
    long t0 = System.nanoTime();
    client.write(packet(SftpRelay.OPEN, 2, "b", SftpRelay.FXF_READ, 0));
    assertStatus(
        new DataInputStream(new ByteArrayInputStream(readPacket(toClient))),
        2,
        SftpRelay.FX_FAILURE);
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
    server.write(packet(SftpRelay.STATUS, 1, SftpRelay.FX_OK, "", ""));
    assertOk(new DataInputStream(new ByteArrayInputStream(readPacket(toClient))), 1);
    client.write(packet(SftpRelay.OPEN, 3, "b", SftpRelay.FXF_READ, 0));
    // The next packet the server sees is the OPEN with id 3: the refused one never reached it.
    byte[] open = readPacket(toServer);
    assertThat(open[0]).isEqualTo((byte) SftpRelay.OPEN);
    assertThat(new DataInputStream(new ByteArrayInputStream(open, 1, 4)).readInt()).isEqualTo(3);
    server.write(packet(SftpRelay.STATUS, 3, SftpRelay.FX_FAILURE, "", ""));
    readPacket(toClient);
    s.close();
  }

  /** A relay between a raw client and a scripted server, past the handshake. */
  record Scripted(
      OutputStream client,
      DataInputStream toClient,
      OutputStream server,
      DataInputStream toServer,
      CompletableFuture<Throwable> done) {
    /** Both sides end; the relay must end without an error. */
    void close() throws Exception {
      client.close();
      server.close();
      assertThat(done.get(30, TimeUnit.SECONDS)).isNull();
    }
  }

  Scripted scripted(java.util.function.UnaryOperator<SftpRelay> tune) throws IOException {
    Pipe c2r = Pipe.open(), r2c = Pipe.open(), r2s = Pipe.open(), s2r = Pipe.open();
    Scripted s =
        new Scripted(
            Channels.newOutputStream(c2r.sink()),
            new DataInputStream(Channels.newInputStream(r2c.source())),
            Channels.newOutputStream(s2r.sink()),
            new DataInputStream(Channels.newInputStream(r2s.source())),
            runAsync(tune.apply(piped(c2r, r2c, s2r, r2s))));
    handshake(s.client(), s.toClient(), s.server(), s.toServer());
    return s;
  }

  static void assertOk(DataInputStream s, int id) throws IOException {
    assertStatus(s, id, SftpRelay.FX_OK);
  }

  static void assertStatus(DataInputStream s, int id, int code) throws IOException {
    assertThat(s.readByte()).isEqualTo((byte) SftpRelay.STATUS);
    assertThat(s.readInt()).isEqualTo(id);
    assertThat(s.readInt()).isEqualTo(code);
  }

  /** Throughput sanity, printed, never asserted: the relay against sftp talking to sftp-server. */
  @Test
  @Tag("slow")
  void throughputSanity() throws Exception {
    int size = 48 * 1024 * 1024;
    Files.write(local.resolve("t.bin"), random(size));
    String batch = "put t.bin t.bin\nget t.bin t2.bin\n";
    Files.write(local.resolve("w.bin"), random(8 * 1024 * 1024));
    assertThat(sftp("put w.bin w.bin\nget w.bin w2.bin\n").exit).isZero(); // JIT warm-up
    long t0 = System.nanoTime();
    Run run = sftp(batch);
    long relayed = System.nanoTime() - t0;
    assertThat(run.exit).as(run.output).isZero();

    Path directRemote = Files.createDirectories(tmp.resolve("direct-remote"));
    Files.writeString(tmp.resolve("direct"), batch.replace("t2.bin", "t3.bin"));
    t0 = System.nanoTime();
    Process direct =
        new ProcessBuilder(
                "sftp",
                "-D",
                SFTP_SERVER + " -d " + directRemote,
                "-b",
                tmp.resolve("direct").toString())
            .directory(local.toFile())
            .redirectErrorStream(true)
            .start();
    direct.getInputStream().readAllBytes();
    assertThat(direct.waitFor(120, TimeUnit.SECONDS)).isTrue();
    long plain = System.nanoTime() - t0;
    assertThat(local.resolve("t3.bin")).hasSize(size);
    assertThat(local.resolve("t2.bin")).hasSameBinaryContentAs(local.resolve("t.bin"));
    double mb = 2.0 * size / (1024 * 1024);
    System.out.printf(
        "SFTP put+get of %d MiB: relayed %.0f MiB/s, direct %.0f MiB/s%n",
        size >> 20, mb / (relayed / 1e9), mb / (plain / 1e9));
  }

  @Test
  void oversizeClientPacketClosesBothSides() throws Exception {
    RawClient c = new RawClient();
    c.init();
    // One write of the whole header: the relay closes its side as soon as it has read the length,
    // so a second write could meet a broken pipe.
    byte[] header =
        java.nio.ByteBuffer.allocate(5)
            .putInt(SftpPacket.MAX_LENGTH + 1)
            .put((byte) SftpRelay.WRITE)
            .array();
    try {
      c.out.write(header);
      c.out.flush();
    } catch (java.io.IOException closedFirst) {
      // the relay already closed: also what this test expects
    }
    assertThat(c.relay.get(30, TimeUnit.SECONDS))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("SFTP_MAX_MSG_LENGTH");
    assertThat(c.in.read()).isEqualTo(-1); // client side closed
    assertThat(c.server.waitFor(30, TimeUnit.SECONDS)).isTrue(); // server saw end of input
  }

  /**
   * A relay between four pipes: client to relay, relay to client, server to relay, relay to server.
   */
  SftpRelay piped(Pipe c2r, Pipe r2c, Pipe s2r, Pipe r2s) {
    return new SftpRelay(
        Channels.newInputStream(c2r.source()),
        Channels.newOutputStream(r2c.sink()),
        Channels.newInputStream(s2r.source()),
        Channels.newOutputStream(r2s.sink()),
        policy(),
        recorder(),
        null); // the "server" here is scripted: no second server to place paths
  }

  /**
   * The production resolver's protocol against a second real sftp-server started in dir, as the
   * gateway opens a second sftp channel on the upstream session.
   */
  static SftpPathResolver resolver(Path dir) {
    return new SftpPathResolver(
        () -> {
          Process p =
              new ProcessBuilder(SFTP_SERVER, "-d", dir.toString())
                  .redirectError(ProcessBuilder.Redirect.DISCARD)
                  .start();
          return new SftpPathResolver.Channel(p.getInputStream(), p.getOutputStream(), p::destroy);
        });
  }

  /** One SFTP packet: length, type, then ints, longs and strings (byte[] or UTF-8). */
  static byte[] packet(int type, Object... fields) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(body);
    d.writeByte(type);
    for (Object f : fields) {
      if (f instanceof Integer i) d.writeInt(i);
      else if (f instanceof Long l) d.writeLong(l);
      else {
        byte[] b =
            f instanceof byte[] bytes ? bytes : ((String) f).getBytes(StandardCharsets.UTF_8);
        d.writeInt(b.length);
        d.write(b);
      }
    }
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    new DataOutputStream(all).writeInt(body.size());
    body.writeTo(all);
    return all.toByteArray();
  }

  /** INIT and VERSION through the relay, with the relay's own REALPATH answered as /srv. */
  static void handshake(
      OutputStream client, DataInputStream toClient, OutputStream server, DataInputStream toServer)
      throws IOException {
    client.write(packet(SftpRelay.INIT, 3));
    assertThat(readPacket(toServer)[0]).isEqualTo((byte) SftpRelay.INIT);
    server.write(packet(SftpRelay.VERSION, 3));
    assertThat(readPacket(toServer)[0]).isEqualTo((byte) SftpRelay.REALPATH); // the relay's own
    server.write(packet(SftpRelay.NAME, 0, 1, "/srv", "/srv", 0));
    assertThat(readPacket(toClient)[0]).isEqualTo((byte) SftpRelay.VERSION);
  }

  static byte[] readPacket(DataInputStream in) throws IOException {
    byte[] b = new byte[in.readInt()];
    in.readFully(b);
    return b;
  }

  /**
   * A server may answer pipelined requests in any order (draft-ietf-secsh-filexfer-02 section 7):
   * the relay matches each DATA to its READ by request id, forwards every reply unchanged, counts
   * every byte, and records no hash rather than a wrong one when the data did not pass in file
   * order. Replies in order give the whole file's hash. Both with 255 KiB DATA packets, OpenSSH's
   * size, so each reply spans several reads of the relay.
   */
  @Test
  void outOfOrderReadRepliesAreMatchedByIdAndCountedButNotHashed() throws Exception {
    Scripted s = scripted(r -> r);
    OutputStream client = s.client(), server = s.server();
    DataInputStream toClient = s.toClient(), toServer = s.toServer();

    int chunk = 255 * 1024;
    byte[] a = random(chunk), b = random(chunk);
    for (boolean inOrder : new boolean[] {false, true}) {
      String name = inOrder ? "in-order.bin" : "out-of-order.bin";
      client.write(packet(SftpRelay.OPEN, 1, name, SftpRelay.FXF_READ, 0));
      assertThat(readPacket(toServer)[0]).isEqualTo((byte) SftpRelay.OPEN);
      server.write(packet(SftpRelay.HANDLE, 1, "h1"));
      readPacket(toClient);
      client.write(packet(SftpRelay.READ, 2, "h1", 0L, chunk));
      client.write(packet(SftpRelay.READ, 3, "h1", (long) chunk, chunk));
      readPacket(toServer);
      readPacket(toServer);
      byte[] first = packet(SftpRelay.DATA, 2, a), second = packet(SftpRelay.DATA, 3, b);
      byte[][] sent = inOrder ? new byte[][] {first, second} : new byte[][] {second, first};
      // Written by a thread of its own (each reply is larger than a pipe holds; the common pool
      // may have a single worker, busy with the relay).
      CompletableFuture<Void> replies = new CompletableFuture<>();
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  server.write(sent[0]);
                  server.write(sent[1]);
                  replies.complete(null);
                } catch (IOException e) {
                  replies.completeExceptionally(e);
                }
              });
      for (byte[] reply : sent) { // forwarded unchanged, in the server's order
        assertThat(readPacket(toClient)).isEqualTo(Arrays.copyOfRange(reply, 4, reply.length));
      }
      replies.get(30, TimeUnit.SECONDS);
      client.write(packet(SftpRelay.CLOSE, 4, "h1"));
      readPacket(toServer);
      server.write(packet(SftpRelay.STATUS, 4, SftpRelay.FX_OK, "", ""));
      readPacket(toClient);
      byte[] whole = new byte[2 * chunk];
      System.arraycopy(a, 0, whole, 0, chunk);
      System.arraycopy(b, 0, whole, chunk, chunk);
      assertThat(records)
          .contains(new Rec("read", "/srv/" + name, 2L * chunk, inOrder ? sha256(whole) : null));
    }
    s.close();
  }

  @Test
  void oversizeServerPacketClosesBothSides() throws Exception {
    Pipe c2r = Pipe.open(), r2c = Pipe.open(), r2s = Pipe.open(), s2r = Pipe.open();
    CompletableFuture<Throwable> done = runAsync(piped(c2r, r2c, s2r, r2s));
    DataOutputStream client = new DataOutputStream(Channels.newOutputStream(c2r.sink()));
    DataOutputStream server = new DataOutputStream(Channels.newOutputStream(s2r.sink()));
    InputStream fromRelay = Channels.newInputStream(r2c.source());
    client.write(new byte[] {0, 0, 0, 5, SftpRelay.INIT, 0, 0, 0, 3});
    client.flush();
    try { // one write: the relay may close its side as soon as it has read the length
      server.write(
          java.nio.ByteBuffer.allocate(5)
              .putInt(SftpPacket.MAX_LENGTH + 1000)
              .put((byte) SftpRelay.VERSION)
              .array());
      server.flush();
    } catch (java.io.IOException closedFirst) {
      // the relay already closed: also what this test expects
    }
    assertThat(fromRelay.read()).isEqualTo(-1);
    client.close(); // the client, seeing its input end, goes away
    assertThat(done.get(30, TimeUnit.SECONDS)).isInstanceOf(ProtocolException.class);
  }

  @Test
  void normalizesLexically() {
    assertThat(SftpRelay.normalize("/home/u", "a//b/./c/../d")).isEqualTo("/home/u/a/b/d");
    assertThat(SftpRelay.normalize("/home/u", "/../../etc")).isEqualTo("/etc");
    assertThat(SftpRelay.normalize("/home/u", "")).isEqualTo("/home/u");
    assertThat(SftpRelay.normalize(null, "../x/../../y")).isEqualTo("../../y");
    assertThat(SftpRelay.normalize(null, "a/..")).isEqualTo(".");
    assertThatThrownBy(() -> new ScpRelay("x", "/", null, null, null, null, null, null, null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- helpers ----

  static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  /**
   * A program for {@code sftp -D} or {@code scp -S}: writes its last argument (scp's remote
   * command) to {@code cmd}, then copies stdin to FIFO {@code c2r} and FIFO {@code r2c} to stdout.
   * FIFOs, unlike a bash /dev/tcp socket, give each direction its own end of stream.
   */
  static final class Bridge {
    final Path script;
    final Path c2r;
    final Path r2c;
    final Path cmd;

    Bridge(Path dir) throws IOException, InterruptedException {
      Files.createDirectories(dir);
      c2r = dir.resolve("c2r");
      r2c = dir.resolve("r2c");
      cmd = dir.resolve("cmd");
      for (Path p : List.of(c2r, r2c)) {
        Files.deleteIfExists(p);
        Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        assertThat(mk.waitFor()).isZero();
      }
      Files.deleteIfExists(cmd);
      script = dir.resolve("bridge.sh");
      Files.writeString(
          script,
          "#!/bin/sh\n"
              + "last=\n"
              + "for last; do :; done\n"
              + "printf '%s\\n' \"$last\" > '"
              + cmd
              + ".tmp' && mv '"
              + cmd
              + ".tmp' '"
              + cmd
              + "'\n"
              // an asynchronous command's stdin would be /dev/null: keep the real one as fd 3
              + "exec 3<&0\n"
              + "cat <&3 > '"
              + c2r
              + "' &\n"
              + "copier=$!\n"
              + "cat < '"
              + r2c
              + "'\n"
              // scp waits for end of stream before it closes its own output, so the copier
              // would wait for scp forever: the relay closing r2c means the session is over.
              + "kill $copier 2>/dev/null\n"
              + "exit 0\n");
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    }

    /** Blocks until the program has started. */
    InputStream in() throws IOException {
      return new FileInputStream(c2r.toFile());
    }

    OutputStream out() throws IOException {
      return new FileOutputStream(r2c.toFile());
    }

    String command() throws IOException {
      return Files.readString(cmd).strip();
    }
  }
}
