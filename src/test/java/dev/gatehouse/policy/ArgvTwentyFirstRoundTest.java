package dev.gatehouse.policy;

import static dev.gatehouse.policy.ArgvEvasionTest.allow;
import static dev.gatehouse.policy.ArgvEvasionTest.argv;
import static dev.gatehouse.policy.ArgvEvasionTest.deny;
import static dev.gatehouse.policy.ArgvEvasionTest.line;
import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Twenty-first red-team round (rt21exec). Every denial up to the comment "already decided" was
 * allowed before its fix. Checked against the real tools: npm 11.19.1 with node 20 ({@code npm test
 * -- --import=data:...} ran the caller's code when the test script is {@code node --test}; {@code
 * npm run-script x} runs the script x; {@code npm stag} is {@code npm stage}), kubectl ({@code get
 * --raw PATH} sends GET PATH to the server), Maven 3.9.11 with surefire 3.5.3 ({@code
 * -Dmaven.test.additionalClasspath=DIR} ran a listener that DIR's META-INF/services named).
 */
class ArgvTwentyFirstRoundTest {
  /** The shipped ci.yaml's npm rules. */
  static final PolicySet CI_NPM =
      policy(
          """
          rules:
            - id: ci-no-publish
              effect: deny
              command:
                binary: npm
                args: [[publish, unpublish, deprecate, dist-tag, owner, adduser, login, token, stage, trust]]
            - id: ci-npm
              effect: allow
              command:
                binary: npm
                subcommand: [ci, test]
                flags_with_values: [--loglevel, --workspace, -w]
                flags: { allowed: [--loglevel, --workspace, -w, --silent, --no-audit, --ignore-scripts] }
            - id: ci-npm-run-lint
              effect: allow
              command:
                binary: npm
                args: [run, [lint, "lint:*"]]
                flags_with_values: [--loglevel, --workspace, -w]
                flags: { allowed: [--loglevel, --workspace, -w, --silent] }
          """);

  /** npm and pnpm scripts with no flag list: the risky-flag catalogue is the only guard. */
  static final PolicySet SCRIPTS =
      policy(
          """
          rules:
            - id: npm-scripts
              effect: allow
              command: { binary: [npm, pnpm], subcommand: [test, start, run, t] }
            - id: lint-fix
              effect: allow
              command: { binary: npm, args: [run, fix, --fix] }
            - id: any-script-options
              effect: allow
              command: { binary: npm, args: [run, watch], flags: { accept_risky: [script-options] } }
          """);

  /** Any npm command but the ones the deny rules name (npm 11.19.1's command table). */
  static final PolicySet NPM_DENIES =
      policy(
          """
          rules:
            - id: all-npm
              effect: allow
              command: { binary: npm }
            - id: no-release-script
              effect: deny
              command: { binary: npm, args: [run, release] }
            - id: no-staged-publishing
              effect: deny
              command: { binary: npm, args: [[stage, trust, update]] }
          """);

  /** kubectl reads with no flag list, and config view. */
  static final PolicySet KUBECTL_READ =
      policy(
          """
          rules:
            - id: kubectl-read
              effect: allow
              command: { binary: kubectl, subcommand: [get, describe, logs] }
            - id: kubectl-config-view
              effect: allow
              command: { binary: kubectl, args: [config, view] }
          """);

  /** mvnw verify with no flag list (the catalogue is the only guard), nothing after it. */
  static final PolicySet MVN_ANY_FLAGS =
      policy(
          """
          rules:
            - id: mvnw-verify
              effect: allow
              command: { binary: [mvn, mvnw], args: [verify], paths: [] }
          """);

  static Stream<Arguments> cases() {
    return Stream.of(
        // --- npm passes the words after -- to the script's program ---
        deny(
            "npm test -- --import=data:... (node --test runs it)",
            CI_NPM,
            argv("npm", "test", "--", "--import=data:text/javascript,process.exit(7)")),
        deny(
            "npm test --silent -- --require /tmp/x.js",
            CI_NPM,
            line("npm test --silent -- --require /tmp/x.js")),
        deny("npm run lint -- -c /tmp/evil.js", CI_NPM, line("npm run lint -- -c /tmp/evil.js")),
        deny(
            "npm run lint:ci -- --rulesdir /tmp/r",
            CI_NPM,
            line("npm run lint:ci -- --rulesdir /tmp/r")),
        deny(
            "npm test -- --config=... (no flag list)",
            SCRIPTS,
            argv("npm", "test", "--", "--config={\"globalSetup\":\"/tmp/x.js\"}")),
        deny("npm t -- --require=x (alias)", SCRIPTS, line("npm t -- --require=./x.js")),
        deny("npm start -- --inspect", SCRIPTS, line("npm start -- --inspect=0.0.0.0:9229")),
        deny("--- ends nopt's options too", SCRIPTS, line("npm test --- --import=x")),
        deny(
            "npm run fix -- --fix -c x (past the rule's args)",
            SCRIPTS,
            line("npm run fix -- --fix -c /tmp/x.js")),
        deny("pnpm run x --import=... (no -- needed)", SCRIPTS, line("pnpm run test --import=x")),
        deny("pnpm test -- --import", SCRIPTS, line("pnpm test -- --import=x")),
        deny(
            "npm test -- --script-shell=x (the script's option now)",
            CI_NPM,
            line("npm test -- --script-shell=/tmp/x")),
        // --- npm 11.19.1's commands and aliases, for deny rules ---
        deny("npm run-script release is run", NPM_DENIES, line("npm run-script release")),
        deny("npm rum release", NPM_DENIES, line("npm rum release")),
        deny("npm urn release", NPM_DENIES, line("npm urn release")),
        deny("npm run-s release (a prefix of run-script)", NPM_DENIES, line("npm run-s release")),
        deny("npm stag approve (stage)", NPM_DENIES, line("npm stag approve pkg@1.0.0")),
        deny("npm tru github (trust)", NPM_DENIES, line("npm tru github pkg --repo o/r")),
        deny("npm u is update", NPM_DENIES, line("npm u")),
        // --- kubectl --raw: any API path, proxy subresources included ---
        deny(
            "kubectl get --raw .../services/S:P/proxy/",
            KUBECTL_READ,
            line("kubectl get --raw /api/v1/namespaces/default/services/http:admin:80/proxy/")),
        deny(
            "kubectl get --raw=... (= form)",
            KUBECTL_READ,
            line("kubectl get --raw=/api/v1/nodes/n1/proxy/configz")),
        deny(
            "kubectl -n x get --raw PATH (argv, after a global option)",
            KUBECTL_READ,
            argv("kubectl", "-n", "x", "get", "--raw", "/api/v1/namespaces/x/pods/y:8080/proxy/")),
        deny("kubectl config view --raw", KUBECTL_READ, line("kubectl config view --raw")),
        // --- Maven user properties that put code from elsewhere on the classpath ---
        deny(
            "-Dmaven.test.additionalClasspath=DIR",
            MVN_ANY_FLAGS,
            line("mvnw verify -Dmaven.test.additionalClasspath=/tmp/evil")),
        deny(
            "-Dmaven.test.additionalClasspathDependencies=G:A:V",
            MVN_ANY_FLAGS,
            line("mvnw verify -Dmaven.test.additionalClasspathDependencies=io.github.x:y:1.0")),
        deny(
            "--define=maven.repo.local.tail=DIR",
            MVN_ANY_FLAGS,
            line("mvn verify --define=maven.repo.local.tail=/tmp/repo")),
        deny(
            "-Dmaven.repo.local.tail=DIR",
            MVN_ANY_FLAGS,
            line("mvnw -Dmaven.repo.local.tail=/tmp/repo verify")),
        // --- already decided ---
        deny(
            "-D maven.test.additionalClasspath=DIR (two words: paths: [] refuses the second)",
            MVN_ANY_FLAGS,
            line("mvn verify -D maven.test.additionalClasspath=/tmp/evil")),
        deny("zero-width space inside publish", CI_NPM, line("npm pub\u200Blish")),
        deny("soft hyphen inside a flag", CI_NPM, line("npm test --re\u00ADgistry=http://x/")),
        deny("fullwidth hyphen-minus flag", CI_NPM, line("npm test \uFF0D\uFF0Dsilent")),
        deny("fullwidth dash after an ASCII one", CI_NPM, line("npm test -\uFF0Dsilent")),
        deny("em dash flag", CI_NPM, line("npm test \u2014silent")),
        deny("minus sign flag", MVN_ANY_FLAGS, line("mvn verify \u2212Dexec.executable=/tmp/x")),
        deny("fullwidth letters", CI_NPM, line("npm \uFF54\uFF45\uFF53\uFF54")),
        deny("kubectl get-secret (a plugin, not get)", KUBECTL_READ, line("kubectl get-secret x")),
        deny("kubectl get_secret (a plugin)", KUBECTL_READ, line("kubectl get_secret x")),
        deny("kubectl proxy", KUBECTL_READ, line("kubectl proxy --port=8001")),
        allow("npm test", CI_NPM, line("npm test")),
        allow(
            "npm test -- a file name (a positional word)",
            CI_NPM,
            line("npm test -- src/a.test.js")),
        allow("npm run lint", CI_NPM, line("npm run lint --silent")),
        allow("npm ci -w pkg", CI_NPM, line("npm ci -w pkg --no-audit")),
        allow("args name --fix", SCRIPTS, line("npm run fix -- --fix")),
        allow("accept_risky: [script-options]", SCRIPTS, line("npm run watch -- --poll")),
        allow("a combining accent is an ordinary word", CI_NPM, line("npm test caf\u0065\u0301")),
        allow("npm run release-notes is not release", NPM_DENIES, line("npm run release-notes")),
        allow("npm star is not stage", NPM_DENIES, line("npm star pkg")),
        allow("kubectl get pods -o yaml", KUBECTL_READ, line("kubectl get pods -o yaml")),
        allow("kubectl config view", KUBECTL_READ, line("kubectl config view --minify")),
        allow("mvnw verify -DskipTests", MVN_ANY_FLAGS, line("mvnw verify -DskipTests")),
        allow(
            "-Dmaven.test.failure.ignore",
            MVN_ANY_FLAGS,
            line("mvnw verify -Dmaven.test.failure.ignore=true")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides(String name, PolicySet p, Action a, Effect expected) {
    Decision d = decide(p, human("mallory"), target("runner"), a);
    assertThat(d.effect()).as(name + ": " + a.raw() + " -> " + d.explanation()).isEqualTo(expected);
  }

  @Test
  void theExplanationNamesTheScriptOptionNotItsValue() {
    Decision d =
        decide(
            CI_NPM,
            human("mallory"),
            target("runner"),
            argv("npm", "test", "--", "--import=data:text/javascript,SECRET"));
    // the allow rule's line (a deny rule's "no match" line lists the arguments, as before)
    String why =
        d.explanation().stream().filter(l -> l.startsWith("rule ci-npm ")).findFirst().orElse("");
    assertThat(why)
        .contains("passes the option --import to the package script's program")
        .doesNotContain("SECRET");
  }

  @Test
  void scriptOptionsIsACatalogueName() {
    assertThat(RiskyFlags.catalogued("script-options", java.util.List.of("npm"))).isTrue();
    assertThat(RiskyFlags.catalogued("--raw", java.util.List.of("kubectl"))).isTrue();
    assertThat(CommandWrappers.Npm.resolve("stag")).isEqualTo("stage");
    assertThat(CommandWrappers.Npm.resolve("run-script")).isEqualTo("run");
    assertThat(CommandWrappers.Npm.resolve("u")).isEqualTo("update");
    assertThat(CommandWrappers.Npm.resolve("st")).isNull(); // stage, star, stars, start, stop
  }
}
