package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.command;
import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PolicyEngine#pathArguments}: the words a rule's {@code paths} constrained, which SSH
 * checks again where the target resolves them (docs/ssh.md).
 */
class PathArgumentsTest {
  static final PolicySet P =
      policy(
          """
          rules:
            - id: read
              effect: allow
              command:
                binary: [cat, tail]
                paths: [/var/log]
                flags_with_values: [-n]
            - id: grep
              effect: allow
              command: { binary: grep, args: ["*"], paths: [/var/log], flags: { allowed: [-n] } }
            - id: no-paths
              effect: allow
              command: { binary: uname }
            - id: lines
              effect: allow
              command: { binary: ls, paths: [/var/log], shell: true }
          """);

  private static List<String> words(String line) {
    Action a = CommandLine.parse(line).toAction();
    Decision d = decide(P, human("sue"), target("web-1"), a);
    assertThat(d.allowed()).as(d.explanation().toString()).isTrue();
    return P.pathArguments(d.rule(), a);
  }

  @Test
  void theWordsAfterTheRulesArgsAreItsPathArguments() {
    assertThat(words("cat /var/log/a /var/log/../log/b"))
        .containsExactly("/var/log/a", "/var/log/../log/b");
    // an option's value is not a path argument; the pattern grep's args match is not either
    assertThat(words("tail -n 5 /var/log/x")).containsExactly("/var/log/x");
    assertThat(words("grep -n /var/log/x /var/log/y")).containsExactly("/var/log/y");
  }

  @Test
  void aRuleWithoutPathsHasNoneAndAShellLineCannotBeTold() {
    assertThat(words("uname -a")).isEmpty();
    assertThat(words("ls /var/log/*.log")).isNull();
  }

  @Test
  void aRuleNoLongerInThePolicyCannotBeTold(@TempDir Path dir) throws Exception {
    assertThat(P.pathArguments("gone", command("cat /var/log/a"))).isNull();
    Path file =
        Files.writeString(
            dir.resolve("p.yaml"),
            "rules:\n  - id: read\n    effect: allow\n"
                + "    command: { binary: cat, paths: [/var/log] }\n");
    try (ReloadingPolicyEngine engine =
        ReloadingPolicyEngine.load(List.of(file.toString()), null)) {
      assertThat(engine.pathArguments("read", command("cat /var/log/a")))
          .containsExactly("/var/log/a");
      assertThat(engine.pathArguments("gone", command("cat /var/log/a"))).isNull();
    }
  }

  /**
   * Review 13 (F9): an engine that does not say (a wrapper that forgot to delegate) cannot tell, so
   * SSH refuses the command rather than skip the check of where its paths lead.
   */
  @Test
  void anEngineThatDoesNotSayCannotTell() {
    PolicyEngine wrapper = P::decide;
    Action a = CommandLine.parse("cat /var/log/syslog").toAction();
    assertThat(decide(wrapper, human("sue"), target("web-1"), a).allowed()).isTrue();
    assertThat(P.pathArguments("read", a)).containsExactly("/var/log/syslog");
    assertThat(wrapper.pathArguments("read", a)).isNull();
  }
}
