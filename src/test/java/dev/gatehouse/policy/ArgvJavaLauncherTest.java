package dev.gatehouse.policy;

import static dev.gatehouse.policy.ArgvEvasionTest.line;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * java's launcher has no {@code --} end of options (ProgramOptions#javaLauncher): the matcher reads
 * argv as java does. {@code java -- Build.java test} is refused by java ("Unrecognized option:
 * --"); {@code java Build.java -- test} gives the program {@code --} and {@code test}.
 */
class ArgvJavaLauncherTest {
  static final PolicySet RULES =
      policy(
          """
          rules:
            - id: never-publish
              effect: deny
              command: { binary: java, args: [[publish]] }
            - id: build
              effect: allow
              command:
                binary: java
                args: [Build.java, [build, test]]
                flags: { allowed: ["-*"] }
          """);

  static Decision decide(String line) {
    return Fixtures.decide(RULES, human("ci"), target("runner"), line(line));
  }

  @Test
  void dashDashBeforeTheMainClassIsRefusedWithAReasonEvenWhenEveryFlagIsAllowed() {
    for (String l : new String[] {"java -- Build.java test", "java -cp . -- Build.java test"}) {
      Decision d = decide(l);
      assertThat(d.effect()).as(l).isEqualTo(Effect.DENY);
      assertThat(String.join("\n", d.explanation()))
          .as(l)
          .contains("rule build (allow")
          .contains("java's launcher has no -- (end of options)");
    }
  }

  @Test
  void dashDashAfterTheMainClassIsTheProgramsArgument() {
    // java passes "--" on: Build's task is "--", not test
    assertThat(decide("java Build.java -- test").effect()).isEqualTo(Effect.DENY);
    assertThat(decide("java Build.java test").effect()).isEqualTo(Effect.ALLOW);
    // after -jar's file, too
    assertThat(decide("java -jar Build.java -- test").effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void denyRulesStillReadPastDashDash() {
    for (String l :
        new String[] {
          "java -- Build.java publish", "java Build.java -- publish", "java -cp x -- B publish"
        }) {
      Decision d = decide(l);
      assertThat(d.effect()).as(l).isEqualTo(Effect.DENY);
      assertThat(d.rule()).as(l).isEqualTo("never-publish");
    }
  }

  @Test
  void otherProgramsKeepDashDashAsTheEndOfOptions() {
    PolicySet npm =
        policy(
            """
            rules:
              - id: npm
                effect: allow
                command:
                  binary: npm
                  args: [run, lint]
                  # --x after -- is the script's option (risky since rt21exec), not npm's flag
                  flags: { allowed: [], accept_risky: [script-options] }
            """);
    Decision d = Fixtures.decide(npm, human("ci"), target("runner"), line("npm run lint -- --x"));
    assertThat(d.effect()).isEqualTo(Effect.ALLOW);
  }
}
