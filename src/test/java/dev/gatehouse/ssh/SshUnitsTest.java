package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.CommandLine;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pieces of the SSH gateway that need no sockets. */
class SshUnitsTest {

  @Test
  void loginSplitsAtTheLastPlus() {
    assertThat(SshLogin.parse("alice+web-1")).isEqualTo(new SshLogin("alice", "web-1"));
    assertThat(SshLogin.parse("ops+oncall@example.com+db"))
        .isEqualTo(new SshLogin("ops+oncall@example.com", "db"));
  }

  @Test
  void loginWithoutAConnectionIsRejected() {
    assertThat(SshLogin.parse("alice")).isNull();
    assertThat(SshLogin.parse("alice+")).isNull();
    assertThat(SshLogin.parse("+web")).isNull();
    assertThat(SshLogin.parse(null)).isNull();
    assertThat(SshLogin.parse("a".repeat(600) + "+x")).isNull();
  }

  @Test
  void requotedArgvSplitsBackIntoTheSameWords() {
    List<List<String>> cases =
        List.of(
            List.of("ls", "-la", "/var/log"),
            List.of("echo", "a;", "id"),
            List.of("echo", "it's", "$HOME", "`id`", "a b", ""),
            List.of("grep", "-e", "x|y", "/var/log/*.log"),
            List.of("printf", "%s\\n", "~root", "\"q\""));
    for (List<String> argv : cases) {
      String line = dev.gatehouse.policy.CommandLine.quote(argv);
      CommandLine back = CommandLine.parse(line);
      assertThat(back.argv()).as(line).isEqualTo(argv);
      assertThat(back.needsShell()).as(line).isFalse();
    }
    assertThat(dev.gatehouse.policy.CommandLine.quote(List.of("echo", "a;", "id")))
        .isEqualTo("echo 'a;' id");
  }

  @Test
  void commandLogReconstructsTypedLines() {
    List<String> lines = new ArrayList<>();
    SshCommandLog log = new SshCommandLog(lines::add);
    feed(log, "ls -lxy\u007f\u007fa\r");
    feed(log, "secret typo\u0015echo ok\r");
    feed(log, "\u001b[Aignored-arrow-then-text\u0003\r");
    feed(log, "echo gr");
    feed(log, "üß\r");
    feed(log, "\r");
    assertThat(lines).containsExactly("ls -la", "echo ok", "echo grüß");
  }

  @Test
  void signalNamesMapToLinuxNumbers() {
    assertThat(SshChannelCommand.signalNumber("TERM")).isEqualTo(15);
    assertThat(SshChannelCommand.signalNumber("INT")).isEqualTo(2);
    assertThat(SshChannelCommand.signalNumber("KILL")).isEqualTo(9);
    assertThat(SshChannelCommand.signalNumber("WHAT")).isZero();
  }

  @Test
  void scpRemoteEndIsRecognised() {
    assertThat(SshTransferCommand.isScp("scp -t /srv/drop")).isTrue();
    assertThat(SshTransferCommand.isScp("scp -v -r -p -f -- /srv/x")).isTrue();
    assertThat(SshTransferCommand.isScp("/usr/bin/scp -f x")).isTrue();
    assertThat(SshTransferCommand.isScp("scp a b")).isFalse();
    assertThat(SshTransferCommand.isScp("echo scp -t")).isFalse();
  }

  @Test
  void hostKeyIsGeneratedOnceAndKeptPrivate(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    var first = SshHostKey.loadOrGenerate(dir);
    var again = SshHostKey.loadOrGenerate(dir);
    assertThat(SshHostKey.fingerprint(again)).isEqualTo(SshHostKey.fingerprint(first));
    assertThat(SshHostKey.fingerprint(first)).startsWith("SHA256:");
    assertThat(first.getPublic().getAlgorithm()).containsIgnoringCase("ed");
    assertThat(java.nio.file.Files.getPosixFilePermissions(dir.resolve(SshHostKey.FILE_NAME)))
        .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
  }

  private static void feed(SshCommandLog log, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    // byte by byte, as a terminal sends keystrokes (splits multi-byte characters too)
    for (byte x : b) {
      log.feed(new byte[] {x});
    }
  }

  @Test
  void channelInputReturnsTheClientsBytesInOrderAndReopensTheWindowByWhatWasRead()
      throws Exception {
    long[] released = new long[1];
    SshChannelInput in = new SshChannelInput(n -> released[0] += n);
    java.io.ByteArrayOutputStream sent = new java.io.ByteArrayOutputStream();
    java.util.Random r = new java.util.Random(7);
    // Payloads of many sizes, one-byte ones among them, and one larger than a chunk.
    for (int size : new int[] {1, 1, 40_000, 5, SshChannelInput.CHUNK, 3, 100_000, 1}) {
      byte[] p = new byte[size + 2];
      r.nextBytes(p);
      in.data(null, p, 1, size);
      sent.write(p, 1, size);
    }
    assertThat(in.available()).isEqualTo(sent.size());
    assertThat(released[0]).isZero(); // nothing is consumed until the relay reads it
    byte[] got = new byte[sent.size()];
    int n = 0;
    for (int step = 1; n < got.length; step = step * 3 + 1) {
      int k = in.read(got, n, Math.min(step, got.length - n));
      assertThat(k).isPositive();
      n += k;
      assertThat(released[0]).isEqualTo(n);
    }
    assertThat(got).isEqualTo(sent.toByteArray());
    // A read asking for more than arrived returns what there is, and the emptied chunk is reused.
    in.data(null, new byte[] {5, 6}, 0, 2);
    byte[] more = new byte[10];
    assertThat(in.read(more, 0, 10)).isEqualTo(2);
    assertThat(more[0]).isEqualTo((byte) 5);
    assertThat(more[1]).isEqualTo((byte) 6);
    in.data(null, new byte[] {7}, 0, 1);
    assertThat(in.read(more, 0, 10)).isEqualTo(1);
    assertThat(more[0]).isEqualTo((byte) 7);
    in.data(null, new byte[] {9}, 0, 1);
    in.close(); // EOF: what already arrived is still read, then end of stream
    assertThat(in.read()).isEqualTo(9);
    assertThat(in.read()).isEqualTo(-1);
    assertThat(released[0]).isEqualTo(sent.size() + 4);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> in.data(null, new byte[1], 0, 1))
        .isInstanceOf(java.io.IOException.class);
    // An upstream channel drops what comes after the relay stopped reading, without an exception.
    assertThat(in.receive(new byte[] {1}, 0, 1)).isFalse();
    assertThat(in.available()).isZero();
  }

  @Test
  void channelWindowIsGivenBackInSteps() throws Exception {
    List<Long> releases = new ArrayList<>();
    SshChannelInput.Window w = SshChannelInput.inSteps(() -> 256 * 1024, releases::add);
    long consumed = 0;
    for (int i = 0; i < 20; i++) { // legacy scp's 64 KiB reads, and a few odd ones
      long n = i % 5 == 4 ? 1 : 64 * 1024;
      w.release(n);
      consumed += n;
    }
    assertThat(releases).hasSize(4).allMatch(n -> n >= 256 * 1024);
    long given = releases.stream().mapToLong(Long::longValue).sum();
    assertThat(consumed - given).isLessThan(256 * 1024); // what is held back stays under a step
    w.release(256 * 1024);
    assertThat(releases).hasSize(5);
    assertThat(releases.stream().mapToLong(Long::longValue).sum()).isEqualTo(consumed + 256 * 1024);
  }

  @Test
  void channelInputReadNBytesWaitsForTheWholeRequestAndEndsShortOnlyAtEof() throws Exception {
    long[] released = new long[1];
    SshChannelInput in = new SshChannelInput(n -> released[0] += n);
    byte[] sent = new byte[255 * 1024 + 13]; // one OpenSSH-sized SFTP WRITE
    new java.util.Random(3).nextBytes(sent);
    byte[] got = new byte[sent.length + 10];
    var result = new java.util.concurrent.CompletableFuture<Integer>();
    Thread reader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    result.complete(in.readNBytes(got, 5, sent.length));
                  } catch (java.io.IOException e) {
                    result.completeExceptionally(e);
                  }
                });
    // Delivered as 32 KiB SSH packets: the reader takes nothing until the last one is there.
    for (int off = 0; off < sent.length; off += 32 * 1024) {
      int len = Math.min(32 * 1024, sent.length - off);
      Thread.sleep(2);
      assertThat(result).isNotDone();
      assertThat(released[0]).isZero();
      in.data(null, sent, off, len);
    }
    assertThat(result.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(sent.length);
    reader.join();
    assertThat(java.util.Arrays.copyOfRange(got, 5, 5 + sent.length)).isEqualTo(sent);
    assertThat(released[0]).isEqualTo(sent.length);
    // At end of stream what arrived is returned, short, and then nothing.
    in.data(null, sent, 0, 3);
    in.close();
    assertThat(in.readNBytes(got, 0, 10)).isEqualTo(3);
    assertThat(in.readNBytes(got, 0, 10)).isZero();
  }
}
