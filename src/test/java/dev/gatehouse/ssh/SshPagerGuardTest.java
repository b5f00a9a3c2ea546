package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.GatehouseConfig.SshTargetConfig;
import dev.gatehouse.policy.CommandLine;
import dev.gatehouse.runner.PagerGuard;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line sent to the target for an exec request, with and without a terminal, run by real
 * shells: dash as /bin/sh, and bash (in POSIX mode and not) where it is the target's /bin/sh or
 * login shell (RHEL, Fedora, Amazon Linux, macOS).
 */
class SshPagerGuardTest {
  private static final String GUARD = String.join(" ", PagerGuard.envCommand()) + " ";

  /**
   * The shells a target may run: as the login shell running sshd's {@code SHELL -c LINE}, and as
   * the {@code /bin/sh} the guarded line names (substituted when it is not /bin/sh here).
   */
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
  void aCommandWithATerminalRunsWithoutAPagerAndWithLessInSecureMode() {
    String remote =
        SshTargetCommand.remoteCommand(
            CommandLine.parse("journalctl -u nginx --since today"), true);
    assertThat(remote)
        .startsWith("/usr/bin/env LESSSECURE=1 PAGER=cat ")
        .contains("SYSTEMD_PAGER=cat", "SYSTEMD_PAGERSECURE=1", "GIT_PAGER=cat", "MANPAGER=cat")
        .endsWith(" journalctl -u nginx --since today");
  }

  @Test
  void withoutATerminalTheArgvIsGuardedToo() {
    // git commit without -m starts vi, which reads :!sh from the channel without a terminal
    assertThat(SshTargetCommand.remoteCommand(CommandLine.parse("git commit"), true))
        .startsWith("/usr/bin/env LESSSECURE=1 ")
        .contains(" EDITOR=false ", " GIT_EDITOR=false ")
        .endsWith(" git commit");
  }

  @Test
  void pagerGuardAlwaysTtyOrOffDecidesWhetherTheLineIsWrapped() {
    SshTargetConfig always = new SshTargetConfig(List.of(), null, null);
    SshTargetConfig tty = new SshTargetConfig(List.of(), null, "tty");
    SshTargetConfig off = new SshTargetConfig(List.of(), null, "off");
    assertThat(always.pagerGuard()).isEqualTo("always");
    assertThat(List.of(always.guards(true), always.guards(false))).containsExactly(true, true);
    assertThat(List.of(tty.guards(true), tty.guards(false))).containsExactly(true, false);
    assertThat(List.of(off.guards(true), off.guards(false))).containsExactly(false, false);
    assertThatThrownBy(() -> new SshTargetConfig(List.of(), null, "false"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void unguardedTheTargetReceivesTheDecidedCommandAsSuch() {
    // what git-shell, gitolite, rrsync or a ForceCommand reading SSH_ORIGINAL_COMMAND expect
    assertThat(
            SshTargetCommand.remoteCommand(
                CommandLine.parse("git-upload-pack '/srv/repo.git'"), false))
        .isEqualTo("git-upload-pack /srv/repo.git");
    assertThat(
            SshTargetCommand.remoteCommand(
                CommandLine.parse("rsync --server -vlogDtpre.iLsfxCIvu . /data"), false))
        .isEqualTo("rsync --server -vlogDtpre.iLsfxCIvu . /data");
    CommandLine shellLine = CommandLine.parse("ls /tmp | wc -l");
    assertThat(shellLine.needsShell()).isTrue();
    assertThat(SshTargetCommand.remoteCommand(shellLine, false)).isEqualTo("ls /tmp | wc -l");
    // a first word with = stays quoted, so the target's shell runs it rather than assigning it
    assertThat(SshTargetCommand.remoteCommand(CommandLine.parse("'LESSOPEN=x' less"), false))
        .isEqualTo("'LESSOPEN=x' less");
  }

  /**
   * Hostile argvs: each runs, under every shell, as exactly the decided argv. A program whose name
   * is the first word prints its own name and arguments.
   */
  @Test
  void theArgvThatRunsOnTheTargetIsTheDecidedOneUnderDashAndBash(@TempDir Path bin)
      throws Exception {
    List<List<String>> argvs =
        List.of(
            // bash's exec -a NAME (the reviewer's repro was -a=x rm -rf /data; a program that does
            // not exist stands for rm, so a regression fails without removing anything)
            List.of("-a=x", "no-such-rm", "-rf", "/data"),
            List.of("-a", "no-such-rm", "-rf", "/data"),
            List.of("-i", "x"), // env -i
            List.of("--", "no-such-rm"),
            List.of("=x", "y"),
            List.of("LESSOPEN=x", "less"),
            List.of("a'b=c", "it's", "\"q\"", "\\", "$HOME", "`id`", "*", ""),
            List.of("prog", "line1\nline2", "-a=x", "--", "-", "a=b", "; rm -rf /", "'"),
            List.of("nl\nname=1", "\n"));
    for (List<String> argv : argvs) {
      Path prog = bin.resolve(argv.get(0));
      // ${0##*/}: the name the shell or env found on PATH; printf with NUL ends, as words may hold
      // newlines
      Files.writeString(prog, "#!/bin/sh\nprintf '%s\\0' \"${0##*/}\" \"$@\"\n");
      assertThat(prog.toFile().setExecutable(true)).isTrue();
      CommandLine cl = CommandLine.parse(CommandLine.quote(argv));
      assertThat(cl.argv()).as("round trip of %s", argv).isEqualTo(argv);
      assertThat(cl.needsShell()).isFalse();
      for (boolean guarded : List.of(true, false)) {
        String remote = SshTargetCommand.remoteCommand(cl, guarded);
        assertThat(remote.startsWith(GUARD)).isEqualTo(guarded);
        for (List<String> login : shells()) {
          if (remote.startsWith("-")) {
            // sshd runs SHELL -c LINE: the login shell reads such a line as its options and fails
            // closed, running nothing
            Ran ran = exec(login, remote, bin);
            assertThat(guarded).isFalse();
            assertThat(ran.status()).as("%s unguarded under %s", argv, login).isNotZero();
            assertThat(ran.out()).doesNotContain("\0");
            continue;
          }
          for (List<String> sh : shells()) {
            String line = remote.replace(GUARD + "/bin/sh ", GUARD + String.join(" ", sh) + " ");
            assertThat(runArgv(login, line, bin))
                .as("%s under %s, /bin/sh being %s: %s", argv, login, sh, line)
                .isEqualTo(argv);
          }
        }
      }
    }
  }

  @Test
  void aFirstWordWithAnEqualsSignIsTheGuardedProgramNotAnAssignment(@TempDir Path bin)
      throws Exception {
    String remote = SshTargetCommand.remoteCommand(CommandLine.parse("'LESSOPEN=x' less"), true);
    assertThat(remote).isEqualTo(GUARD + "/bin/sh -c '\"$@\"' sh 'LESSOPEN=x' less");
    // the program named LESSOPEN=x runs, with the guard's variables and without LESSOPEN set
    Path prog = bin.resolve("LESSOPEN=x");
    Files.writeString(
        prog, "#!/bin/sh\necho \"ran $0 $1 PAGER=$PAGER LESSOPEN=${LESSOPEN-unset}\"\n");
    assertThat(prog.toFile().setExecutable(true)).isTrue();
    for (List<String> shell : shells()) {
      assertThat(run(shell, remote.replace("'LESSOPEN=x' less", "'LESSOPEN=x' arg"), bin))
          .isEqualTo("ran " + prog + " arg PAGER=cat LESSOPEN=unset");
    }
  }

  @Test
  void aLineAllowedAsAShellLineRunsUnderShWithTheGuard() throws Exception {
    CommandLine cl =
        CommandLine.parse(
            "echo \"$PAGER\" | tr a-z A-Z; LESSOPEN=x env | grep -c '^LESSSECURE=1$'");
    assertThat(cl.needsShell()).isTrue();
    String remote = SshTargetCommand.remoteCommand(cl, true);
    assertThat(remote).startsWith(GUARD + "/bin/sh -c -- '");
    for (List<String> shell : shells()) {
      // every command of the line sees the guard, the assignment prefix included
      assertThat(run(shell, remote, null)).isEqualTo("CAT\n1");
    }
  }

  @Test
  void aShellLineStartingWithADashIsACommandNotOptions() throws Exception {
    CommandLine cl = CommandLine.parse("-x 2>/dev/null; echo \"ran $PAGER\"");
    assertThat(cl.needsShell()).isTrue();
    String remote = SshTargetCommand.remoteCommand(cl, true);
    for (List<String> login : shells()) {
      for (List<String> sh : shells()) {
        String line = remote.replace(GUARD + "/bin/sh ", GUARD + String.join(" ", sh) + " ");
        assertThat(run(login, line, null)).as("%s, %s", login, sh).isEqualTo("ran cat");
      }
    }
  }

  @Test
  void aLineTooLongOnceQuotedIsMeasuredAgainstTheTargetsArgumentLimit() {
    // a single quote becomes '\'' once quoted: the line grows past what sshd can pass to SHELL -c
    CommandLine cl = CommandLine.parse("echo \"" + "'".repeat(40_000) + "\"");
    assertThat(cl.needsShell()).isFalse();
    assertThat(cl.raw().length()).isLessThan(CommandLine.MAX_LENGTH);
    assertThat(SshTargetCommand.remoteCommand(cl, true).length())
        .isGreaterThanOrEqualTo(SshTargetCommand.MAX_ARG_STRLEN);
  }

  @Test
  void theTargetGetsTheSameVariablesAsLocalJobs() {
    String line = SshTargetCommand.remoteCommand(CommandLine.parse("journalctl -u x"), true);
    PagerGuard.VARIABLES.forEach((k, v) -> assertThat(line).contains(" " + k + "=" + v + " "));
  }

  /** Runs {@code line} as sshd would, {@code SHELL -c LINE}, with {@code path} first on PATH. */
  private static String run(List<String> shell, String line, Path path) throws Exception {
    return succeeded(exec(shell, line, path)).strip();
  }

  private static List<String> runArgv(List<String> shell, String line, Path path) throws Exception {
    String out = succeeded(exec(shell, line, path));
    assertThat(out).as("NUL-terminated words").endsWith("\0");
    return Arrays.asList(out.substring(0, out.length() - 1).split("\0", -1));
  }

  private static String succeeded(Ran ran) {
    assertThat(ran.status()).as("%s -> %s", ran.cmd(), ran.out()).isZero();
    return ran.out();
  }

  private record Ran(int status, String out, List<String> cmd) {}

  private static Ran exec(List<String> shell, String line, Path path) throws Exception {
    List<String> cmd = new ArrayList<>(shell);
    cmd.add("-c");
    cmd.add(line);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (path != null) {
      pb.environment().put("PATH", path + ":" + pb.environment().get("PATH"));
    }
    pb.environment().remove("PAGER");
    pb.environment().remove("LESSOPEN");
    pb.environment().remove("ENV");
    pb.environment().remove("BASH_ENV");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Ran(p.waitFor(), out, cmd);
  }
}
