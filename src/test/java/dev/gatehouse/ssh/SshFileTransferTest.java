package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.audit.AuditExporter;
import java.io.ByteArrayOutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** scp (SFTP and legacy) and sftp through the gateway: paths decided, transfers recorded. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshFileTransferTest {
  static final String SCP = "/usr/bin/scp";
  static final String SFTP = "/usr/bin/sftp";

  Path dir;
  SshFixture gw;

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    assumeTrue(SshFixture.available(), "OpenSSH client/server not installed");
    assumeTrue(Files.isExecutable(Path.of(SCP)) && Files.isExecutable(Path.of(SFTP)));
    dir = tmp;
    // Interactive sftp asks REALPATH(".") first, which the relay decides as stat of the login
    // directory: a policy that wants interactive sftp must allow that.
    String home = System.getProperty("user.home");
    gw =
        new SshFixture(
            dir,
            SshFixture.DEFAULT_POLICY
                + """
                  - id: eng-home-stat
                    subjects: { groups: [eng] }
                    connections: { names: ["box*"] }
                    effect: allow
                    file: { paths: ["%s"], ops: [stat] }
                """
                    .formatted(home));
  }

  @AfterAll
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  @Test
  void scpUploadAndDownloadWithinAllowedPathsAreRecordedWithTheirHash() throws Exception {
    for (String protocol : List.of("sftp", "legacy")) {
      Path local = Files.writeString(dir.resolve("up-" + protocol + ".txt"), "hello " + protocol);
      Path remote = gw.files.resolve("shared/up-" + protocol + ".txt");
      var up = scp(protocol, local.toString(), "alice+box@127.0.0.1:" + remote);
      assertThat(up.exit()).as(up.err()).isZero();
      assertThat(Files.readString(remote)).isEqualTo("hello " + protocol);

      Path back = dir.resolve("back-" + protocol + ".txt");
      var down = scp(protocol, "alice+box@127.0.0.1:" + remote, back.toString());
      assertThat(down.exit()).as(down.err()).isZero();
      assertThat(Files.readString(back)).isEqualTo("hello " + protocol);

      String sha = sha256("hello " + protocol);
      assertThat(audit()).contains("ssh.file").contains(remote.toString()).contains(sha);
    }
  }

  /**
   * A file larger than the channel window (SshProtocolServer.WINDOW_SIZE) and the socket read
   * buffer, sent in many SFTP requests of OpenSSH's 255 KiB: it arrives intact both ways and both
   * records carry its size and the SHA-256 of the whole file.
   */
  @Test
  void aLargeTransferArrivesIntactAndIsRecordedWithTheFilesHash() throws Exception {
    byte[] data = new byte[9 * 1024 * 1024 + 12345];
    new java.util.Random(42).nextBytes(data);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    Path local = Files.write(dir.resolve("large.bin"), data);
    List<String> protocols = List.of("sftp", "legacy");
    for (int i = 0; i < protocols.size(); i++) {
      String protocol = protocols.get(i);
      Path remote = gw.files.resolve("shared/large-" + protocol + ".bin");
      var up = scp(protocol, local.toString(), "alice+box@127.0.0.1:" + remote);
      assertThat(up.exit()).as(up.err()).isZero();
      assertThat(Files.readAllBytes(remote)).isEqualTo(data);

      Path back = dir.resolve("large-back-" + protocol + ".bin");
      var down = scp(protocol, "alice+box@127.0.0.1:" + remote, back.toString());
      assertThat(down.exit()).as(down.err()).isZero();
      assertThat(Files.readAllBytes(back)).isEqualTo(data);

      String a = audit();
      assertThat(a).contains(remote.toString()).contains(sha);
      // The upload and the download of each protocol are recorded with the whole file's hash.
      assertThat(a.split(sha, -1).length - 1).as(protocol).isEqualTo(2 * (i + 1));
      assertThat(a).contains(String.valueOf(data.length));
    }
  }

  @Test
  void pathsOutsideTheRulesAreRefused() throws Exception {
    for (String protocol : List.of("sftp", "legacy")) {
      Path local = Files.writeString(dir.resolve("secret-" + protocol + ".txt"), "x");
      Path remote = gw.files.resolve("private/secret-" + protocol + ".txt");
      var r = scp(protocol, local.toString(), "alice+box@127.0.0.1:" + remote);
      assertThat(r.exit()).as(protocol).isNotZero();
      assertThat(remote).doesNotExist();
    }
    // write-only drop box: upload works, download does not
    Path local = Files.writeString(dir.resolve("drop.txt"), "dropped");
    Path remote = gw.files.resolve("drop/drop.txt");
    assertThat(scp("sftp", local.toString(), "alice+box@127.0.0.1:" + remote).exit()).isZero();
    var read = scp("sftp", "alice+box@127.0.0.1:" + remote, dir.resolve("nope.txt").toString());
    assertThat(read.exit()).isNotZero();
    assertThat(dir.resolve("nope.txt")).doesNotExist();
  }

  /**
   * Red team, ninth round, through the whole gateway: a link to a directory inside the allowed
   * tree, then "..", or a link out of it. The relays ask the target where the path really is (a
   * second sftp channel on the upstream session) and refuse what the policy refuses there.
   */
  @Test
  void aSymbolicLinkCannotLeadOutOfTheAllowedPaths() throws Exception {
    Path shared = gw.files.resolve("shared");
    Path secret = Files.createDirectories(gw.files.resolve("private"));
    Files.writeString(secret.resolve("key.txt"), "PRIVATE-KEY-MATERIAL");
    Path sub = Files.createDirectories(shared.resolve("sub"));
    Files.createSymbolicLink(sub.resolve("up"), Path.of("."));
    Files.createSymbolicLink(shared.resolve("outside"), secret);
    for (String protocol : List.of("sftp", "legacy")) {
      for (String via : List.of(sub + "/up/../../private/key.txt", shared + "/outside/key.txt")) {
        Path got = dir.resolve("escaped-" + protocol + ".txt");
        var r = scp(protocol, "alice+box@127.0.0.1:" + via, got.toString());
        assertThat(r.exit()).as(protocol + " " + via).isNotZero();
        assertThat(got).doesNotExist();
        if (protocol.equals("legacy")) {
          // the client is told what every refusal is told, not the rule or the real path
          assertThat(r.err()).contains(SftpRelay.DENIED).doesNotContain("private");
        }
      }
    }
    String a = audit();
    assertThat(a).doesNotContain("PRIVATE-KEY-MATERIAL");
    // the audit log has the decision on the real path, with its rule
    assertThat(a)
        .contains("scp read " + secret.toRealPath() + "/key.txt")
        .contains("sftp stat " + secret.toRealPath() + "/key.txt")
        .contains("default-deny");
    // The same files under their allowed names still work.
    Files.writeString(sub.resolve("ok.txt"), "fine");
    var ok = scp("sftp", "alice+box@127.0.0.1:" + sub + "/up/ok.txt", dir + "/ok.txt");
    assertThat(ok.exit()).as(ok.err()).isZero();
    assertThat(Files.readString(dir.resolve("ok.txt"))).isEqualTo("fine");
  }

  /**
   * Red team, issue #6, against real OpenSSH sshd through the whole gateway: a link made in the
   * session ({@code symlink . up}, then {@code up/../..}), a link to /etc that was there before, a
   * chain, a loop. The relay resolves each path itself (LSTAT and READLINK, component by component)
   * and refuses what lies outside the rule; the allowed file read through a link is recorded under
   * its real path.
   */
  @Test
  void sftpCannotLeaveTheAllowedPathsThroughLinksItMakesOrFinds() throws Exception {
    Path secret = Files.createDirectories(gw.files.resolve("private"));
    Files.writeString(secret.resolve("sftp-key.txt"), "PRIVATE-SFTP-MATERIAL");
    Path tree = Files.createDirectories(gw.files.resolve("shared/tree")).toRealPath();
    Files.writeString(tree.resolve("ok.txt"), "fine");
    Files.createSymbolicLink(tree.resolve("etclink"), Path.of("/etc"));
    Files.createSymbolicLink(tree.resolve("c1"), Path.of("c2"));
    Files.createSymbolicLink(tree.resolve("c2"), Path.of("../../private"));
    Files.createSymbolicLink(tree.resolve("loop1"), Path.of("loop2"));
    Files.createSymbolicLink(tree.resolve("loop2"), Path.of("loop1"));
    Path out = Files.createDirectories(dir.resolve("links"));
    Path batch =
        Files.writeString(
            dir.resolve("batch-links"),
            String.join(
                "\n",
                "symlink . " + tree + "/up",
                "-get " + tree + "/up/../../private/sftp-key.txt " + out + "/got1",
                "-get " + tree + "/etclink/hostname " + out + "/got2",
                "-ls " + tree + "/etclink/",
                "-get " + tree + "/c1/sftp-key.txt " + out + "/got3",
                "-get " + tree + "/loop1/x " + out + "/got4",
                "get " + tree + "/up/ok.txt " + out + "/ok",
                ""));
    List<String> cmd =
        gw.fileCommand(SFTP, gw.aliceKey, List.of("-b", batch.toString(), "alice+box@127.0.0.1"));
    var r = gw.run(cmd, Map.of(), null);
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    try (var got = Files.list(out)) {
      assertThat(got.map(p -> p.getFileName().toString())).containsExactly("ok");
    }
    assertThat(r.out() + r.err()).doesNotContain("PRIVATE-SFTP-MATERIAL").contains("ok.txt");
    assertThat(Files.readString(out.resolve("ok"))).isEqualTo("fine");
    String a = audit();
    assertThat(a)
        .doesNotContain("PRIVATE-SFTP-MATERIAL")
        .contains("more than 40 symbolic links")
        .contains("sftp stat " + gw.files.toRealPath() + "/private/sftp-key.txt")
        .contains("sftp stat /etc/hostname")
        .contains(tree + "/up -> " + tree);
  }

  @Test
  void sftpListsAndFetchesInteractively() throws Exception {
    Files.writeString(gw.files.resolve("shared/listed.txt"), "listed");
    Path batch =
        Files.writeString(
            dir.resolve("batch"),
            "cd " + gw.files.resolve("shared") + "\nls\nget listed.txt " + dir + "/got.txt\n");
    List<String> cmd =
        gw.fileCommand(SFTP, gw.aliceKey, List.of("-b", batch.toString(), "alice+box@127.0.0.1"));
    var r = gw.run(cmd, Map.of(), null);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("listed.txt");
    assertThat(Files.readString(dir.resolve("got.txt"))).isEqualTo("listed");
  }

  @Test
  void aNameThatIsNotUtf8IsRefusedAndAudited() throws Exception {
    // sftp passes the name's bytes as they are; 0xff can start no UTF-8 sequence. The relay
    // refuses it before the policy (which decides on text) could, and records that it did.
    byte[] name = (gw.files.resolve("shared") + "/bad").getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream batch = new ByteArrayOutputStream();
    batch.write("ls ".getBytes(StandardCharsets.UTF_8));
    batch.write(name);
    batch.write(new byte[] {(byte) 0xff, 'x', '\n'});
    Path file = Files.write(dir.resolve("batch-latin1"), batch.toByteArray());
    List<String> cmd =
        gw.fileCommand(SFTP, gw.aliceKey, List.of("-b", file.toString(), "alice+box@127.0.0.1"));
    var r = gw.run(cmd, Map.of(), null);
    assertThat(r.exit()).as(r.out() + r.err()).isNotZero();
    assertThat(audit())
        .contains("\"ssh.file_refused\"")
        .contains(gw.files.resolve("shared") + "/bad\\\\xffx")
        .contains("file name is not UTF-8 or contains NUL");
  }

  private SshFixture.Run scp(String protocol, String from, String to) throws Exception {
    List<String> args =
        new java.util.ArrayList<>(protocol.equals("legacy") ? List.of("-O") : List.of("-s"));
    args.add(from);
    args.add(to);
    return gw.run(gw.fileCommand(SCP, gw.aliceKey, args), Map.of(), null);
  }

  private String audit() {
    StringWriter w = new StringWriter();
    gw.server.awaitRecorded();
    new AuditExporter(gw.server.database()).export(w, null, 0);
    return w.toString();
  }

  private static String sha256(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes("UTF-8")));
  }
}
