package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.CommandLine;
import dev.gatehouse.runner.PagerGuard;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guard's process-group report for a command without a terminal ({@link SshTargetJob}): run by
 * real shells as sshd runs a session's command (setsid, then {@code SHELL -c LINE}), and read back
 * out of stderr by {@link SshTargetJob.Report}.
 */
class SshTargetJobTest {
  private static final String GUARD = String.join(" ", PagerGuard.envCommand()) + " ";
  private static final String MARK = SshTargetJob.MARK;

  private static List<List<String>> shells() {
    List<List<String>> shells = new ArrayList<>();
    shells.add(List.of("/bin/sh"));
    for (String bash : List.of("/bin/bash", "/usr/bin/bash")) {
      if (Files.isExecutable(Path.of(bash))) {
        shells.add(List.of(bash, "--posix"));
        shells.add(List.of(bash));
        break;
      }
    }
    return shells;
  }

  @Test
  void theDecidedArgvRunsAsBeforeAndItsProcessGroupIsReported(@TempDir Path bin) throws Exception {
    List<List<String>> argvs =
        List.of(
            List.of("prog", "a b", "$HOME", "`id`", "'"),
            List.of("-a=x", "no-such-rm", "-rf", "/data"),
            List.of("-a", "no-such-rm"),
            List.of("LESSOPEN=x", "less"),
            List.of("nl\nname=1", "\n"));
    for (List<String> argv : argvs) {
      Path prog = bin.resolve(argv.get(0));
      Files.writeString(prog, "#!/bin/sh\nprintf '%s\\0' \"${0##*/}\" \"$@\"\n");
      assertThat(prog.toFile().setExecutable(true)).isTrue();
      CommandLine cl = CommandLine.parse(CommandLine.quote(argv));
      String remote = SshTargetCommand.remoteCommand(cl, true, true);
      assertThat(remote).startsWith(GUARD + "/bin/sh -c ");
      for (List<String> login : shells()) {
        for (List<String> sh : shells()) {
          String line = remote.replace(GUARD + "/bin/sh ", GUARD + String.join(" ", sh) + " ");
          Ran ran = exec(login, line, bin, true);
          assertThat(ran.status()).as("%s under %s/%s: %s", argv, login, sh, ran.err).isZero();
          assertThat(words(ran.out)).as("%s under %s/%s", argv, login, sh).isEqualTo(argv);
          // sshd's child called setsid(2): the login shell and the guard's sh are that process
          assertThat(ran.group).as("%s under %s/%s", argv, login, sh).isEqualTo(ran.pid);
          assertThat(ran.err).isEmpty();
          // not a group leader (no setsid): nothing is reported, the command runs the same
          Ran plain = exec(login, line, bin, false);
          assertThat(words(plain.out)).isEqualTo(argv);
          assertThat(plain.group).isZero();
        }
      }
    }
  }

  @Test
  void aShellLineRunsWithTheReportBeforeIt() throws Exception {
    CommandLine cl = CommandLine.parse("echo \"$PAGER\" | tr a-z A-Z; echo \"$0\" >&2");
    assertThat(cl.needsShell()).isTrue();
    String remote = SshTargetCommand.remoteCommand(cl, true, true);
    for (List<String> login : shells()) {
      Ran ran = exec(login, remote, null, true);
      assertThat(ran.out).isEqualTo("CAT\n");
      assertThat(ran.group).isEqualTo(ran.pid);
      assertThat(ran.err).as("the line's own stderr passes").isEqualTo("/bin/sh\n");
    }
  }

  @Test
  void withATerminalOrUnguardedNothingChanges() {
    CommandLine cl = CommandLine.parse("sleep 5");
    assertThat(SshTargetCommand.remoteCommand(cl, true, false))
        .isEqualTo(SshTargetCommand.remoteCommand(cl, true))
        .isEqualTo(GUARD + "sleep 5");
    assertThat(SshTargetCommand.remoteCommand(cl, false, true)).isEqualTo("sleep 5");
  }

  @Test
  void theStoppingLineSignalsTheGroupThenKillsWhatIsLeft() {
    assertThat(SshTargetJob.killLine(4242))
        .isEqualTo(
            "/bin/sh -c 'kill -TERM -4242 2>/dev/null || exit 3; (sleep 10; kill -0 -4242 &&"
                + " kill -KILL -4242) </dev/null >/dev/null 2>&1 &'");
  }

  // ---- the report read back out of stderr ---------------------------------------------------

  @Test
  void theReportLineIsTakenOutAndEverythingElsePasses() throws Exception {
    assertThat(filter(MARK + "1234\nwarning: x\n", 7))
        .isEqualTo(new Filtered("warning: x\n", 1234));
    // an rc file wrote first
    assertThat(filter("motd line\n" + MARK + "77\nerr", 3))
        .isEqualTo(new Filtered("motd line\nerr", 77));
    // not at the start of a line, not digits, no newline yet at EOF: output
    assertThat(filter("x" + MARK + "5\n", 4)).isEqualTo(new Filtered("x" + MARK + "5\n", 0));
    assertThat(filter(MARK + "5x\n", 4)).isEqualTo(new Filtered(MARK + "5x\n", 0));
    assertThat(filter(MARK + "\n", 4)).isEqualTo(new Filtered(MARK + "\n", 0));
    assertThat(filter(MARK + "55", 2)).isEqualTo(new Filtered(MARK + "55", 0));
    // only the first report counts: the command's own lines pass
    assertThat(filter(MARK + "9\n" + MARK + "10\n", 1)).isEqualTo(new Filtered(MARK + "10\n", 9));
    // never a group that kill(2) would read as every process (-1) or the caller's own (0)
    assertThat(filter(MARK + "1\nok", 1)).isEqualTo(new Filtered("ok", 0));
    assertThat(filter(MARK + "99999999999999999999\n", 8).group()).isZero();
  }

  @Test
  void afterTheScanWindowTheStreamPassesUnchanged() throws Exception {
    String lines = "e\n".repeat(SshTargetJob.Report.SCAN / 2 + 1);
    assertThat(filter(lines + MARK + "5\n", 1000)).isEqualTo(new Filtered(lines + MARK + "5\n", 0));
  }

  private record Filtered(String out, long group) {}

  /** {@code text} through the filter, read {@code chunk} bytes at a time. */
  private static Filtered filter(String text, int chunk) throws IOException {
    AtomicLong group = new AtomicLong();
    InputStream slow =
        new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)) {
          @Override
          public synchronized int read(byte[] b, int off, int len) {
            return super.read(b, off, Math.min(len, chunk));
          }
        };
    InputStream in = new SshTargetJob.Report(slow, group::set);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[5];
    int n;
    while ((n = in.read(buf)) >= 0) {
      out.write(buf, 0, n);
    }
    return new Filtered(out.toString(StandardCharsets.UTF_8), group.get());
  }

  private record Ran(int status, String out, String err, long group, long pid) {}

  /**
   * {@code [setsid] SHELL -c LINE} with {@code path} first on PATH, as sshd runs a session's
   * command; stderr read through the report filter.
   */
  private static Ran exec(List<String> shell, String line, Path path, boolean setsid)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    if (setsid) {
      cmd.add("setsid"); // not a group leader: setsid(2) in place, no fork (setsid(1))
    }
    cmd.addAll(shell);
    cmd.add("-c");
    cmd.add(line);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (path != null) {
      pb.environment().put("PATH", path + ":" + pb.environment().get("PATH"));
    }
    pb.environment().remove("PAGER");
    pb.environment().remove("ENV");
    pb.environment().remove("BASH_ENV");
    Process p = pb.start();
    p.getOutputStream().close();
    AtomicLong group = new AtomicLong();
    byte[][] err = new byte[1][];
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    err[0] = new SshTargetJob.Report(p.getErrorStream(), group::set).readAllBytes();
                  } catch (IOException e) {
                    err[0] = new byte[0];
                  }
                });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int status = p.waitFor();
    t.join();
    return new Ran(status, out, new String(err[0], StandardCharsets.UTF_8), group.get(), p.pid());
  }

  private static List<String> words(String out) {
    assertThat(out).as("NUL-terminated words").endsWith("\0");
    return Arrays.asList(out.substring(0, out.length() - 1).split("\0", -1));
  }
}
