package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.CommandLine;
import org.junit.jupiter.api.Test;

/** The command line sent to the target for an exec request, with and without a terminal. */
class SshPagerGuardTest {

  @Test
  void aCommandWithATerminalRunsWithoutAPagerAndWithLessInSecureMode() {
    String remote =
        SshTargetCommand.remoteCommand(
            CommandLine.parse("journalctl -u nginx --since today"), true);
    assertThat(remote)
        .startsWith("env LESSSECURE=1 PAGER=cat ")
        .contains("SYSTEMD_PAGER=cat", "SYSTEMD_PAGERSECURE=1", "GIT_PAGER=cat", "MANPAGER=cat")
        .endsWith(" journalctl -u nginx --since today");
  }

  @Test
  void withoutATerminalTheArgvIsSentAsDecided() {
    assertThat(SshTargetCommand.remoteCommand(CommandLine.parse("git log -1"), false))
        .isEqualTo("git log -1");
  }

  @Test
  void aFirstWordWithAnEqualsSignIsNotReadByEnvAsAnAssignment() {
    assertThat(SshTargetCommand.remoteCommand(CommandLine.parse("'a=b' x"), true))
        .isEqualTo("'a=b' x");
  }

  @Test
  void aLineAllowedAsAShellLineIsSentAsTyped() {
    CommandLine cl = CommandLine.parse("ls | wc -l");
    assertThat(cl.needsShell()).isTrue();
    assertThat(SshTargetCommand.remoteCommand(cl, true)).isEqualTo("ls | wc -l");
  }

  @Test
  void theTargetGetsTheSameVariablesAsLocalJobs() {
    String line = SshTargetCommand.remoteCommand(CommandLine.parse("journalctl -u x"), true);
    dev.gatehouse.runner.PagerGuard.VARIABLES.forEach(
        (k, v) -> assertThat(line).contains(" " + k + "=" + v + " "));
  }
}
