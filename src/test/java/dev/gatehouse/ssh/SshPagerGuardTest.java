package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.CommandLine;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The command line sent to the target for an exec request, with and without a terminal. */
class SshPagerGuardTest {

  @Test
  void aCommandWithATerminalRunsWithoutAPagerAndWithLessInSecureMode() {
    String remote =
        SshTargetCommand.remoteCommand(CommandLine.parse("journalctl -u nginx --since today"));
    assertThat(remote)
        .startsWith("env LESSSECURE=1 PAGER=cat ")
        .contains("SYSTEMD_PAGER=cat", "SYSTEMD_PAGERSECURE=1", "GIT_PAGER=cat", "MANPAGER=cat")
        .endsWith(" journalctl -u nginx --since today");
  }

  @Test
  void withoutATerminalTheArgvIsGuardedToo() {
    // git commit without -m starts vi, which reads :!sh from the channel without a terminal
    assertThat(SshTargetCommand.remoteCommand(CommandLine.parse("git commit")))
        .startsWith("env LESSSECURE=1 ")
        .contains(" EDITOR=false ", " GIT_EDITOR=false ")
        .endsWith(" git commit");
  }

  @Test
  void aFirstWordWithAnEqualsSignIsTheGuardedProgramNotAnAssignment() throws Exception {
    String remote = SshTargetCommand.remoteCommand(CommandLine.parse("'LESSOPEN=x' less"));
    assertThat(remote)
        .startsWith("env LESSSECURE=1 ")
        .endsWith(" sh -c 'exec \"$@\"' sh 'LESSOPEN=x' less");
    // run by a real sh, as the target's login shell would: the program named LESSOPEN=x runs,
    // with the guard's variables and without LESSOPEN set
    Path bin = Files.createTempDirectory("guard");
    try {
      Path prog = bin.resolve("LESSOPEN=x");
      Files.writeString(
          prog, "#!/bin/sh\necho \"ran $0 $1 PAGER=$PAGER LESSOPEN=${LESSOPEN-unset}\"\n");
      prog.toFile().setExecutable(true);
      assertThat(sh(remote.replace("'LESSOPEN=x' less", "'LESSOPEN=x' arg"), bin))
          .isEqualTo("ran " + prog + " arg PAGER=cat LESSOPEN=unset");
    } finally {
      Files.deleteIfExists(bin.resolve("LESSOPEN=x"));
      Files.deleteIfExists(bin);
    }
  }

  @Test
  void aLineAllowedAsAShellLineRunsUnderShWithTheGuard() throws Exception {
    CommandLine cl =
        CommandLine.parse(
            "echo \"$PAGER\" | tr a-z A-Z; LESSOPEN=x env | grep -c '^LESSSECURE=1$'");
    assertThat(cl.needsShell()).isTrue();
    String remote = SshTargetCommand.remoteCommand(cl);
    assertThat(remote).startsWith("env LESSSECURE=1 ").contains(" sh -c '");
    // every command of the line sees the guard, the assignment prefix included
    assertThat(sh(remote, null)).isEqualTo("CAT\n1");
  }

  /** Runs {@code line} as sshd would, {@code sh -c LINE}, with {@code path} first on PATH. */
  private static String sh(String line, Path path) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", line).redirectErrorStream(true);
    if (path != null) {
      pb.environment().put("PATH", path + ":" + pb.environment().get("PATH"));
    }
    pb.environment().remove("PAGER");
    pb.environment().remove("LESSOPEN");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  @Test
  void theTargetGetsTheSameVariablesAsLocalJobs() {
    String line = SshTargetCommand.remoteCommand(CommandLine.parse("journalctl -u x"));
    dev.gatehouse.runner.PagerGuard.VARIABLES.forEach(
        (k, v) -> assertThat(line).contains(" " + k + "=" + v + " "));
  }
}
