package dev.gatehouse.ssh;

import static dev.gatehouse.ssh.SftpRelayTest.random;
import static dev.gatehouse.ssh.SftpRelayTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.ssh.SftpRelayTest.Bridge;
import dev.gatehouse.ssh.SftpRelayTest.Rec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ScpRelay between the real OpenSSH scp client in legacy mode ({@code scp -O -S PROGRAM}, PROGRAM
 * standing in for ssh) and a real {@code scp -t}/{@code scp -f} process, started from the remote
 * command the client asked for, as the SSH listener would.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ScpRelayTest {
  @TempDir Path tmp;
  Path local;
  Path remote;
  final List<Rec> records = new CopyOnWriteArrayList<>();
  final List<String> remoteCommands = new CopyOnWriteArrayList<>();

  @BeforeEach
  void dirs() throws IOException {
    local = Files.createDirectories(tmp.resolve("local"));
    remote = Files.createDirectories(tmp.resolve("remote")).toRealPath();
  }

  final List<String> refusedNames = new java.util.concurrent.CopyOnWriteArrayList<>();

  SftpRelay.PathPolicy policy() {
    String secret = remote + "/secret";
    return checking(
        (op, path) ->
            path.equals(secret) || path.startsWith(secret + "/") ? "secret is off limits" : null);
  }

  /**
   * The policy's denials with their reasons ({@code op path: reason}), as the gate records them in
   * the audit log.
   */
  final List<String> denials = new CopyOnWriteArrayList<>();

  /**
   * A policy deciding with {@code check}; its denials go to {@link #denials}, refusals it never saw
   * to {@link #refusedNames}.
   */
  SftpRelay.PathPolicy checking(java.util.function.BinaryOperator<String> check) {
    return new SftpRelay.PathPolicy() {
      @Override
      public String check(String op, String path) {
        String reason = check.apply(op, path);
        if (reason != null) denials.add(op + " " + path + ": " + reason);
        return reason;
      }

      @Override
      public void refused(String op, String name, String reason) {
        refusedNames.add(op + " " + name + ": " + reason);
      }
    };
  }

  /** The path resolver of each run, for what it asked the target. */
  final List<SftpPathResolver> resolvers = new CopyOnWriteArrayList<>();

  record Run(int exit, String output, Throwable relayError) {}

  /** Runs {@code scp -O -S bridge ARGS} in the local directory; "R:" stands for the remote host. */
  Run scp(String... args) throws Exception {
    Bridge bridge = new Bridge(tmp.resolve("bridge"));
    CompletableFuture<Throwable> relay =
        CompletableFuture.supplyAsync(
            () -> {
              try (InputStream in = bridge.in();
                  OutputStream out = bridge.out()) {
                String command = bridge.command();
                remoteCommands.add(command);
                List<String> argv = Arrays.asList(command.split(" "));
                assertThat(argv.get(0)).isEqualTo("scp");
                String mode = argv.contains("-t") ? "t" : "f";
                String target = argv.get(argv.size() - 1);
                SftpPathResolver resolver = SftpRelayTest.resolver(remote);
                resolvers.add(resolver);
                Process server =
                    // through a shell, as sshd runs exec requests: globs in PATH expand there
                    new ProcessBuilder("sh", "-c", command)
                        .directory(remote.toFile())
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
                new ScpRelay(
                        mode,
                        target,
                        in,
                        out,
                        server.getInputStream(),
                        server.getOutputStream(),
                        policy(),
                        (op, path, bytes, sha) -> records.add(new Rec(op, path, bytes, sha)),
                        resolver)
                    .run();
                server.waitFor(30, TimeUnit.SECONDS);
                return null;
              } catch (Throwable t) {
                return t;
              }
            });
    List<String> cmd = new ArrayList<>(List.of("scp", "-O", "-q", "-S", bridge.script.toString()));
    for (String a : args) cmd.add(a.replace("R:", "gatehouse-test:"));
    Process client =
        new ProcessBuilder(cmd).directory(local.toFile()).redirectErrorStream(true).start();
    String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(client.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(client.exitValue(), output, relay.get(60, TimeUnit.SECONDS));
  }

  @Test
  void uploadIntoDirectoryAndToNewName() throws Exception {
    byte[] data = random(5 * 1024 * 1024 + 3);
    Files.write(local.resolve("big.bin"), data);

    Run run = scp("big.bin", "R:" + remote + "/");
    assertThat(run.exit).as(run.output + " " + run.relayError).isZero();
    assertThat(run.relayError).isNull();
    Run renamed = scp("big.bin", "R:" + remote + "/other.bin");
    assertThat(renamed.exit).as(renamed.output).isZero();

    assertThat(Files.readAllBytes(remote.resolve("big.bin"))).isEqualTo(data);
    assertThat(Files.readAllBytes(remote.resolve("other.bin"))).isEqualTo(data);
    assertThat(records)
        .containsExactly(
            new Rec("write", remote + "/big.bin", data.length, sha256(data)),
            new Rec("write", remote + "/other.bin", data.length, sha256(data)));
    assertThat(remoteCommands.get(0)).startsWith("scp ").contains(" -t ");
  }

  /**
   * Checked relative (the relay does not know the login directory), recorded where it really is.
   */
  @Test
  void uploadToTheLoginDirectoryIsRecordedWhereItReallyIs() throws Exception {
    Files.writeString(local.resolve("x.txt"), "rel");

    Run run = scp("x.txt", "R:");

    assertThat(run.exit).as(run.output + " " + run.relayError).isZero();
    assertThat(remoteCommands.get(0)).endsWith(" .");
    assertThat(remote.resolve("x.txt")).hasContent("rel");
    assertThat(records).containsExactly(new Rec("write", remote + "/x.txt", 3, sha("rel")));
    assertThat(ScpRelay.namesDirectory("/a/b")).isFalse();
    assertThat(ScpRelay.namesDirectory("/a/b/")).isTrue();
    assertThat(ScpRelay.namesDirectory("a/..")).isTrue();
  }

  /**
   * Legacy scp takes PATH as sent, so the target's scp follows links the relay's lexical check
   * never saw ({@code sub/up} is {@code sub}, then ".." leaves it; {@code data} is secret itself).
   */
  @Test
  void pathsAreCheckedWhereTheTargetReallyResolvesThem() throws Exception {
    Path secret = SftpRelayTest.escapeTree(remote);
    Files.createSymbolicLink(remote.resolve("ok.txt"), secret.resolve("s.txt"));
    Files.writeString(local.resolve("x.txt"), "planted");

    Run viaDotDot = scp("R:" + remote + "/sub/up/../secret/s.txt", "got1.txt");
    Run viaLink = scp("R:" + remote + "/data/s.txt", "got2.txt");
    Run viaFinalLink = scp("R:" + remote + "/ok.txt", "got3.txt");
    Run upload = scp("x.txt", "R:" + remote + "/data/");
    Run uploadOverLink = scp("x.txt", "R:" + remote + "/ok.txt");

    // The client is told what every refusal is told; the rule's reason is in the record only
    // (issue #6: it would tell the client that the link's destination exists).
    for (Run r : List.of(viaDotDot, viaLink, viaFinalLink, upload, uploadOverLink)) {
      assertThat(r.exit).as(r.output).isNotZero();
      assertThat(r.output)
          .isEqualTo(SftpRelay.DENIED + "\n")
          .doesNotContain("secret is off limits")
          .doesNotContain("/secret");
    }
    assertThat(denials)
        .contains(
            "read " + secret + "/s.txt: secret is off limits",
            "write " + secret + "/x.txt: secret is off limits",
            "write " + secret + "/s.txt: secret is off limits");
    assertThat(local.resolve("got1.txt")).doesNotExist();
    assertThat(local.resolve("got2.txt")).doesNotExist();
    assertThat(local.resolve("got3.txt")).doesNotExist();
    assertThat(secret.resolve("x.txt")).doesNotExist();
    assertThat(secret.resolve("s.txt")).hasContent("TOPSECRET");
    assertThat(records).isEmpty();
  }

  /**
   * Through a link out of the tree, the client learns nothing about what exists there: the refusal
   * does not say which directory is missing or no directory (issue #6); the audit record does.
   */
  @Test
  void aPathThatCannotBePlacedOutsideTheTreeIsRefusedWithoutDetails() throws Exception {
    Files.createSymbolicLink(remote.resolve("out"), Path.of("/etc"));

    Path secret = SftpRelayTest.escapeTree(remote);
    Run missing = scp("R:" + remote + "/out/no-such-gatehouse-dir/x", "got1.txt");
    Run notDir = scp("R:" + remote + "/out/hostname/x", "got2.txt");
    // a link to a place that exists and is denied: told the same
    Run exists = scp("R:" + remote + "/data/s.txt", "got3.txt");

    for (Run r : List.of(missing, notDir, exists)) {
      assertThat(r.exit).as(r.output).isNotZero();
      assertThat(r.output)
          .isEqualTo(missing.output)
          .contains(SftpRelay.DENIED)
          .doesNotContain("does not exist")
          .doesNotContain("is not a directory")
          .doesNotContain("/etc");
    }
    assertThat(local.resolve("got1.txt")).doesNotExist();
    assertThat(local.resolve("got2.txt")).doesNotExist();
    assertThat(refusedNames)
        .anyMatch(n -> n.contains("/etc/no-such-gatehouse-dir does not exist"))
        .anyMatch(n -> n.contains("/etc/hostname is not a directory"));
    assertThat(denials).containsExactly("read " + secret + "/s.txt: secret is off limits");
  }

  @Test
  void download() throws Exception {
    byte[] data = random(3 * 1024 * 1024 + 1);
    Files.write(remote.resolve("f.bin"), data);

    Run run = scp("R:" + remote + "/f.bin", ".");

    assertThat(run.exit).as(run.output + " " + run.relayError).isZero();
    assertThat(Files.readAllBytes(local.resolve("f.bin"))).isEqualTo(data);
    assertThat(records)
        .containsExactly(new Rec("read", remote + "/f.bin", data.length, sha256(data)));
    assertThat(remoteCommands.get(0)).contains(" -f ");
    // PATH is walked once, before the transfer: the source's header for it names the same path
    // and is not walked again (one LSTAT per component, in one round trip)
    int components = (remote + "/f.bin").split("/").length - 1;
    assertThat(resolvers.get(0).requests).isEqualTo(components);
    assertThat(resolvers.get(0).roundTrips).isEqualTo(1);
  }

  @Test
  void downloadWithGlobRecordsEachMatchInItsDirectory() throws Exception {
    Files.writeString(remote.resolve("one.txt"), "1");
    Files.writeString(remote.resolve("two.txt"), "22");
    Files.writeString(remote.resolve("skip.bin"), "x");

    Run run = scp("R:" + remote + "/*.txt", ".");

    assertThat(run.exit).as(run.output + " " + run.relayError).isZero();
    assertThat(local.resolve("two.txt")).hasContent("22");
    assertThat(local.resolve("skip.bin")).doesNotExist();
    assertThat(records)
        .containsExactlyInAnyOrder(
            new Rec("read", remote + "/one.txt", 1, sha("1")),
            new Rec("read", remote + "/two.txt", 2, sha("22")));
  }

  @Test
  void recursiveWithTimesBothWays() throws Exception {
    Path tree = Files.createDirectories(local.resolve("tree/sub/deeper"));
    Files.writeString(local.resolve("tree/a.txt"), "alpha");
    Files.writeString(local.resolve("tree/sub/deeper/b.txt"), "beta");
    Files.write(local.resolve("tree/sub/empty"), new byte[0]);
    FileTime old = FileTime.fromMillis(1_000_000_000_000L);
    Files.setLastModifiedTime(local.resolve("tree/a.txt"), old);

    Run up = scp("-r", "-p", "tree", "R:" + remote + "/");
    assertThat(up.exit).as(up.output + " " + up.relayError).isZero();
    assertThat(remote.resolve("tree/a.txt")).hasContent("alpha");
    assertThat(remote.resolve("tree/sub/deeper/b.txt")).hasContent("beta");
    assertThat(Files.getLastModifiedTime(remote.resolve("tree/a.txt"))).isEqualTo(old);
    assertThat(records)
        .containsExactlyInAnyOrder(
            new Rec("write", remote + "/tree/a.txt", 5, sha("alpha")),
            new Rec("write", remote + "/tree/sub/deeper/b.txt", 4, sha("beta")),
            new Rec("write", remote + "/tree/sub/empty", 0, sha("")));

    records.clear();
    Run down = scp("-r", "R:" + remote + "/tree", "copy");
    assertThat(down.exit).as(down.output).isZero();
    assertThat(local.resolve("copy/sub/deeper/b.txt")).hasContent("beta");
    assertThat(records)
        .containsExactlyInAnyOrder(
            new Rec("read", remote + "/tree/a.txt", 5, sha("alpha")),
            new Rec("read", remote + "/tree/sub/deeper/b.txt", 4, sha("beta")),
            new Rec("read", remote + "/tree/sub/empty", 0, sha("")));
    assertThat(tree).exists();
  }

  @Test
  void deniedUploadAndDownloadTellTheClientAndTransferNothing() throws Exception {
    Files.createDirectories(remote.resolve("secret"));
    Files.writeString(remote.resolve("secret/keep.txt"), "classified");
    Files.writeString(local.resolve("x.txt"), "payload");

    Run up = scp("x.txt", "R:" + remote + "/secret/");
    assertThat(up.exit).isNotZero();
    assertThat(up.output).isEqualTo(SftpRelay.DENIED + "\n");
    assertThat(denials).contains("write " + remote + "/secret/x.txt: secret is off limits");
    assertThat(remote.resolve("secret/x.txt")).doesNotExist();

    // Both readings of a target without "/" are checked: "remote/secret" could be a directory.
    Run asName = scp("x.txt", "R:" + remote + "/secret");
    assertThat(asName.exit).isNotZero();
    assertThat(asName.output).isEqualTo(SftpRelay.DENIED + "\n");

    Run down = scp("R:" + remote + "/secret/keep.txt", ".");
    assertThat(down.exit).isNotZero();
    assertThat(down.output).isEqualTo(SftpRelay.DENIED + "\n");
    assertThat(denials).contains("read " + remote + "/secret/keep.txt: secret is off limits");
    assertThat(local.resolve("keep.txt")).doesNotExist();

    // A directory upload is checked as mkdir when its D header comes up.
    Files.createDirectories(local.resolve("up/secret"));
    Files.writeString(local.resolve("up/secret/s.txt"), "s");
    Run nested = scp("-r", "up/secret", "R:" + remote + "/");
    assertThat(nested.exit).isNotZero();
    assertThat(nested.output).isEqualTo(SftpRelay.DENIED + "\n");
    assertThat(denials).contains("mkdir " + remote + "/secret: secret is off limits");
    assertThat(remote.resolve("secret/s.txt")).doesNotExist();

    assertThat(records).isEmpty();
  }

  @Test
  void deniedHeaderNeverReachesTheServer() throws Exception {
    var toClient = new ByteArrayOutputStream();
    var toServer = new ByteArrayOutputStream();
    new ScpRelay(
            "t",
            "/d/",
            bytes("T1 0 1 0\nC0644 5 x\nhello\0"),
            toClient,
            bytes("\0\0"), // ready, then the answer to T
            toServer,
            checking((op, path) -> op.equals("write") ? "no writes in " + path : null),
            (op, path, n, sha) -> records.add(new Rec(op, path, n, sha)),
            null)
        .run();
    assertThat(toServer.toString(StandardCharsets.UTF_8)).isEqualTo("T1 0 1 0\n");
    assertThat(toClient.toString(StandardCharsets.UTF_8))
        .isEqualTo("\0\0\2" + SftpRelay.DENIED + "\n");
    assertThat(denials).containsExactly("write /d/x: no writes in /d/x");
    assertThat(records).isEmpty();
  }

  @Test
  void malformedHeadersCloseTheRelay() {
    for (String bad :
        List.of(
            "C0644 5 ../x\n",
            "C0644 5 a/b\n",
            "C9999 5 x\n",
            "C0644 -1 x\n",
            "X\n",
            "C0644 5 " + "n".repeat(ScpRelay.MAX_LINE + 1) + "\n")) {
      ScpRelay relay =
          new ScpRelay(
              "t",
              "/d/",
              bytes(bad),
              new ByteArrayOutputStream(),
              bytes("\0"),
              new ByteArrayOutputStream(),
              checking((op, path) -> null),
              (op, path, n, sha) -> records.add(new Rec(op, path, n, sha)),
              null);
      assertThatThrownBy(relay::run).as(bad).isInstanceOf(ProtocolException.class);
    }
    assertThat(refusedNames).isEmpty();
  }

  @Test
  void aHeaderThatIsNotUtf8IsRefusedAndReported() {
    ScpRelay relay =
        new ScpRelay(
            "t",
            "/d/",
            new ByteArrayInputStream(
                new byte[] {'C', '0', '6', '4', '4', ' ', '1', ' ', 'x', (byte) 0xff, '\n'}),
            new ByteArrayOutputStream(),
            bytes("\0"),
            new ByteArrayOutputStream(),
            checking((op, path) -> null),
            (op, path, n, sha) -> records.add(new Rec(op, path, n, sha)),
            null);
    assertThatThrownBy(relay::run).isInstanceOf(ProtocolException.class);
    assertThat(refusedNames)
        .containsExactly("write 0644 1 x\\xff: scp: header is not UTF-8 or contains NUL");
  }

  /**
   * Red team (ssh21): scp.c reads a header or message line into 2048 bytes and stops after 2047
   * (sink(), response()); the rest of a longer line is its next header. A client sent a {@code T}
   * line, or a {@code \1} message (which the sink does not answer), whose first 2047 bytes were a
   * whole line to scp and whose rest was {@code D0755 0 data}: the relay checked one line, the
   * target's {@code scp -r -t} entered {@code data}, a link out of the tree, unchecked, and the
   * next file, checked and recorded as {@code remote/pwned}, was written into the secret directory.
   */
  @Test
  void aLineLongerThanScpReadsCannotCarryAHeaderPastTheChecks() throws Exception {
    Path secret = SftpRelayTest.escapeTree(remote); // remote/data -> remote/secret
    List<String> smuggled =
        List.of(
            "T1 0 1 " + "0".repeat(2047 - 7) + "D0755 0 data\n",
            "\1" + "x".repeat(2046) + "D0755 0 data\n");
    for (String first : smuggled) {
      records.clear();
      String client = first + "C0644 6 pwned\nPWNED!\0E\n";
      Process server =
          new ProcessBuilder("scp", "-r", "-t", "--", remote + "/")
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      var toClient = new ByteArrayOutputStream();
      Throwable error = null;
      try {
        new ScpRelay(
                "t",
                remote + "/",
                bytes(client),
                toClient,
                server.getInputStream(),
                server.getOutputStream(),
                policy(),
                (op, path, n, sha) -> records.add(new Rec(op, path, n, sha)),
                SftpRelayTest.resolver(remote))
            .run();
      } catch (ProtocolException e) {
        error = e;
      }
      assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(secret.resolve("pwned")).as(first.substring(0, 1)).doesNotExist();
      if (first.startsWith("T")) {
        assertThat(error).as("a T line scp would read as two").isNotNull();
      } else {
        // The message is cut to what scp reads as one line; the next header is the relay's.
        assertThat(error).isNull();
        assertThat(remote.resolve("pwned")).hasContent("PWNED!");
        assertThat(records).containsExactly(new Rec("write", remote + "/pwned", 6, sha("PWNED!")));
      }
    }
  }

  /**
   * Red team (ssh21): the target's scp sends a name containing a newline strnvis(3)-encoded ({@code
   * a\^Jb}), which does not exist; it was placed in the allowed directory like a file to be
   * created, and allowed, while scp read {@code a<newline>b}: a link to the secret. A planted file
   * literally named {@code a\^Jb} made even the encoded name exist. Both readings are checked now,
   * and a name the source sends must exist.
   */
  @Test
  void aNameTheSourceEncodedIsCheckedWhereScpReadIt() throws Exception {
    Path secret = SftpRelayTest.escapeTree(remote);
    Path linkOnly = Files.createDirectories(remote.resolve("pub1"));
    Files.createSymbolicLink(linkOnly.resolve("a\nb"), secret.resolve("s.txt"));
    Path withDecoy = Files.createDirectories(remote.resolve("pub2"));
    Files.createSymbolicLink(withDecoy.resolve("a\nb"), secret.resolve("s.txt"));
    Files.writeString(withDecoy.resolve("a\\^Jb"), "decoy");

    for (Path dir : List.of(linkOnly, withDecoy)) {
      denials.clear();
      Path got = local.resolve("got-" + dir.getFileName());
      Run run = scp("-r", "R:" + dir, got.toString());
      assertThat(run.exit).as(run.output).isNotZero();
      assertThat(run.output).contains(SftpRelay.DENIED);
      assertThat(denials).contains("read " + secret + "/s.txt: secret is off limits");
      try (var files = Files.walk(local)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          assertThat(f).as(f.toString()).content().doesNotContain("TOPSECRET");
        }
      }
    }
    assertThat(ScpRelay.unvis("a\\^Jb")).isEqualTo("a\nb");
    assertThat(ScpRelay.unvis("a\\\\b\\^?\\M-C\\M-)\\M-B\\240"))
        .isEqualTo("a\\b\u007f\u00e9\u00a0");
    assertThat(ScpRelay.unvis("plain")).isNull();
    assertThat(ScpRelay.unvis("a\\b")).isNull();
    assertThat(ScpRelay.unvis("a\\^@b")).isNull(); // NUL: no name
  }

  static InputStream bytes(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }

  static String sha(String s) throws Exception {
    return sha256(s.getBytes(StandardCharsets.UTF_8));
  }
}
