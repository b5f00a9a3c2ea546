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
}
