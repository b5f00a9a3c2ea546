package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.command;
import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CommandMatcherTest {
  private static Effect effect(PolicySet p, Action a) {
    return decide(p, human("ci"), target("runner"), a).effect();
  }

  @Test
  void flagsWithValuesAreSkippedInEveryPositionAndForm() {
    PolicySet p =
        policy(
            """
            rules:
              - id: npm-test
                effect: allow
                command:
                  binary: npm
                  subcommand: [ci, test]
                  flags_with_values: [--loglevel, -w]
            """);

    assertThat(effect(p, command("npm test"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("npm --loglevel silent test"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("npm --loglevel=silent ci"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("npm -w pkg test"))).isEqualTo(Effect.ALLOW);
    // nopt glues no value to a short option (rt20exec): -wpkg is the unknown Boolean --wpkg (npm
    // 11.19.1: `npm -wpkg config get wpkg` prints true), not -w pkg; it takes no word, so test is
    // still the command. -wCCC is one option per letter, --workspace=--prefix --prefix=--prefix:
    // the prefix (and the npmrc read from it) is set, which the catalogue refuses
    assertThat(effect(p, command("npm -wpkg test"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("npm -wCCC test"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("npm -w=pkg test"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("npm -sw pkg test"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("npm test --loglevel silent"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("npm --loglevel silent publish"))).isEqualTo(Effect.DENY);
    // an undeclared value flag shifts the arguments: the allow rule no longer matches
    assertThat(effect(p, command("npm --cache dir test"))).isEqualTo(Effect.DENY);
  }

  @Test
  void denyRuleFindsItsArgumentsAnywhere() {
    PolicySet p =
        policy(
            """
            rules:
              - id: all
                effect: allow
              - id: no-publish
                effect: deny
                command: { binary: npm, args: [publish] }
            """);

    assertThat(effect(p, command("npm --some-flag value publish"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("npm publish"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("npm test"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("npm run publish-docs"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void binaryMatchesByBaseNameOrAbsolutePath() {
    PolicySet byName = policy("rules: [{ id: r, effect: allow, command: { binary: ls } }]");
    PolicySet byPath = policy("rules: [{ id: r, effect: allow, command: { binary: /bin/ls } }]");

    assertThat(effect(byName, command("ls"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(byName, command("/usr/bin/ls"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(byName, command("lsof"))).isEqualTo(Effect.DENY);
    assertThat(effect(byPath, command("/bin/ls"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(byPath, command("/bin/../bin/ls"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(byPath, command("/tmp/ls"))).isEqualTo(Effect.DENY);
    assertThat(effect(byPath, command("ls"))).isEqualTo(Effect.DENY);
  }

  @Test
  void argsAreLiteralsGlobsRegexesAndAlternatives() {
    PolicySet p =
        policy(
            """
            rules:
              - id: kubectl-get
                effect: allow
                command: { binary: kubectl, args: [[get, describe], "re:pods?|deploy(ments?)?", "api-*"] }
            """);

    assertThat(effect(p, command("kubectl get pods api-1"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("kubectl describe deployment api-x"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("kubectl get secrets api-1"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("kubectl get pods db-1"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("kubectl get pods"))).isEqualTo(Effect.DENY);
  }

  @Test
  void allowedFlagsInAnyPositionAndClusters() {
    PolicySet p =
        policy(
            """
            rules:
              - id: ls
                effect: allow
                command: { binary: ls, flags: { allowed: [-l, -a, --color] } }
            """);

    assertThat(effect(p, command("ls -l /tmp -a"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("ls -la"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("ls --color=always"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("ls -lR"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("ls /tmp --recursive"))).isEqualTo(Effect.DENY);
  }

  @Test
  void deniedFlagsStopTheRuleInAnyPositionAndForm() {
    PolicySet p =
        policy(
            """
            rules:
              - id: git
                effect: allow
                command: { binary: git, subcommand: push, flags: { denied: [--force, -f, "--force-*"] } }
            """);

    assertThat(effect(p, command("git push origin main"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("git push --force origin main"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("git push origin main -f"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("git push -uf origin main"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("git push --force-with-lease=main origin")))
        .isEqualTo(Effect.DENY);
    assertThat(effect(p, command("git push origin -- --force"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void presentFlagsMakeADenyRuleMatch() {
    PolicySet p =
        policy(
            """
            rules:
              - id: all
                effect: allow
              - id: no-force
                effect: deny
                command: { binary: git, flags: { present: [--force, -f] } }
            """);

    assertThat(effect(p, command("git push -f"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("git push --force=true"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, command("git push"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void envListsTheVariablesACallerMaySet() {
    PolicySet withEnv =
        policy(
            "rules: [{ id: r, effect: allow, command: { binary: make, env: [CI, \"MAKE_*\"] } }]");
    PolicySet withoutEnv = policy("rules: [{ id: r, effect: allow, command: { binary: make } }]");

    assertThat(
            effect(withEnv, command("make", Map.of(Action.Attr.CMD_ENV, List.of("CI", "MAKE_J")))))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(withEnv, command("make", Map.of(Action.Attr.CMD_ENV, List.of("LD_PRELOAD")))))
        .isEqualTo(Effect.DENY);
    assertThat(effect(withoutEnv, command("make"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(withoutEnv, command("make", Map.of(Action.Attr.CMD_ENV, List.of("CI")))))
        .isEqualTo(Effect.DENY);
  }

  @Test
  void aWildcardDoesNotAdmitVariablesThatMakeBuildToolsRunCode() {
    // the red team's rule: MAKEFILES='$(shell id)' made make run id, MAVEN_DEBUG_OPTS=
    // -XX:OnOutOfMemoryError=... made mvn -v run a command
    String rule =
        "rules: [{ id: r, effect: allow, command: { binary: [mvn, make], env: [%s],"
            + " flags: { allowed: [-v, --version] } } }]";
    PolicySet star = policy(rule.formatted("\"*\""));
    List<String> risky =
        List.of(
            "MAKEFILES",
            "MAKEFLAGS",
            "MFLAGS",
            "GNUMAKEFLAGS",
            "MAVEN_DEBUG_OPTS",
            "MAVEN_ARGS",
            "MAVEN_OPTS",
            "MVNW_REPOURL",
            "JAVA_HOME",
            "JAVACMD",
            "JAVA_OPTS",
            "JDK_JAVA_OPTIONS",
            "JAVA_TOOL_OPTIONS",
            "_JAVA_OPTIONS",
            "GRADLE_OPTS",
            "GRADLE_USER_HOME",
            "GCONV_PATH",
            "OPENSSL_CONF",
            "OPENSSL_ENGINES",
            "OPENSSL_MODULES",
            "RUSTC_WRAPPER",
            "RUSTC",
            "RUSTFLAGS",
            "CARGO_BUILD_RUSTC_WRAPPER",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER",
            "GIT_SSH_COMMAND",
            "PYTHONSTARTUP",
            "PYTHONPATH",
            "PYTHONHOME",
            "PYTHONWARNINGS",
            "PERL5OPT",
            "PERL5LIB",
            "PERL_MB_OPT",
            "RUBYOPT",
            "NODE_OPTIONS",
            "NODE_REPL_EXTERNAL_MODULE",
            "BASH_ENV",
            "ENV",
            "PS4",
            "PROMPT_COMMAND",
            "SHELLOPTS",
            "LESSOPEN",
            "LESSCLOSE",
            "LESS",
            "EDITOR",
            "VISUAL",
            "PAGER",
            "SYSTEMD_PAGER",
            "CFLAGS",
            "LDFLAGS",
            "HTTPS_PROXY",
            "https_proxy",
            "SSLKEYLOGFILE",
            "SSH_AUTH_SOCK",
            "DOCKER_HOST",
            "WGETRC",
            "CCACHE_PREFIX",
            "GLIBC_TUNABLES");
    for (String name : risky) {
      Action a = command("make", Map.of(Action.Attr.CMD_ENV, List.of(name)));
      assertThat(effect(star, a)).as(name + " under *").isEqualTo(Effect.DENY);
      assertThat(effect(policy(rule.formatted("\"" + name + "\"")), a))
          .as(name + " listed by name")
          .isEqualTo(Effect.ALLOW);
    }
    assertThat(
            effect(
                star, command("mvn -v", Map.of(Action.Attr.CMD_ENV, List.of("CI", "NPM_TOKEN")))))
        .isEqualTo(Effect.ALLOW);
  }

  @Test
  void needsShellMatchesOnlyRulesWithShellTrue() {
    PolicySet noShell = policy("rules: [{ id: r, effect: allow, command: { binary: cat } }]");
    PolicySet shell =
        policy("rules: [{ id: r, effect: allow, command: { binary: cat, shell: true } }]");
    Action piped = command("cat /etc/hosts | wc -l");

    assertThat(effect(noShell, piped)).isEqualTo(Effect.DENY);
    assertThat(decide(noShell, human("a"), target("t"), piped).explanation().get(0))
        .contains("needs a shell");
    assertThat(effect(shell, piped)).isEqualTo(Effect.ALLOW);
  }

  @Test
  void cwdAndPathsAreNormalised() {
    PolicySet p =
        policy(
            """
            rules:
              - id: logs
                effect: allow
                command: { binary: cat, cwd: "/srv/**", paths: [/var/log] }
            """);

    assertThat(effect(p, command("cat /var/log/syslog", Map.of(Action.Attr.CMD_CWD, "/srv/app"))))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(p, command("cat ../../var/log/x", Map.of(Action.Attr.CMD_CWD, "/srv/app"))))
        .isEqualTo(Effect.ALLOW);
    assertThat(
            effect(p, command("cat /var/log/../shadow", Map.of(Action.Attr.CMD_CWD, "/srv/app"))))
        .isEqualTo(Effect.DENY);
    assertThat(effect(p, command("cat /var/logs/x", Map.of(Action.Attr.CMD_CWD, "/srv/app"))))
        .isEqualTo(Effect.DENY);
    assertThat(effect(p, command("cat /var/log/x", Map.of(Action.Attr.CMD_CWD, "/home/me"))))
        .isEqualTo(Effect.DENY);
  }

  @Test
  void unsafeArgvIsDeniedBeforeAnyRuleEvenAnAllowEverythingRule() {
    PolicySet p =
        policy(
            """
            rules:
              - id: all
                effect: allow
                command: { shell: true }
            """);

    Decision d =
        decide(p, human("ci"), target("runner"), CommandLine.parse("npm \u0440ublish").toAction());

    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(ArgvSafety.RULE);
    assertThat(d.reason()).contains("U+0440 CYRILLIC SMALL LETTER ER").contains("\"publish\"");
    assertThat(
            decide(p, human("ci"), target("runner"), CommandLine.parse("npm ci").toAction())
                .effect())
        .isEqualTo(Effect.ALLOW);
  }

  @Test
  void builtInRuleIdsAreReserved() {
    for (String id : List.of("unsafe-command", "default-deny", "policy-error")) {
      assertThatThrownBy(
              () -> PolicySet.parse("t.yaml", "rules: [{id: " + id + ", effect: allow}]"))
          .isInstanceOf(PolicyException.class)
          .hasMessageContaining("reserved");
    }
  }

  @Test
  void denyRulesLookInsideWrappersButAllowRulesDoNot() {
    PolicySet p =
        policy(
            """
            rules:
              - id: npm-ci
                effect: allow
                command: { binary: npm, subcommand: ci }
              - id: sudo-anything
                effect: allow
                command: { binary: sudo }
              - id: no-publish
                effect: deny
                command: { binary: npm, args: [publish] }
            """);

    assertThat(effect(p, CommandLine.parse("sudo -u build npm publish").toAction()))
        .isEqualTo(Effect.DENY);
    assertThat(
            decide(
                    p,
                    human("ci"),
                    target("runner"),
                    CommandLine.parse("sudo npm publish").toAction())
                .rule())
        .isEqualTo("no-publish");
    assertThat(effect(p, CommandLine.parse("sudo npm ci").toAction())).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, CommandLine.parse("env npm ci").toAction())).isEqualTo(Effect.DENY);
    assertThat(CommandWrappers.inner(List.of("npm", "ci"), "/usr/bin/npm", null).commands())
        .isEmpty();
    assertThat(
            CommandWrappers.inner(
                    List.of("timeout", "-s", "KILL", "5", "npm", "publish"), null, null)
                .commands())
        .contains(List.of("npm", "publish"));
    // Padding past what the wrapper walk looks at must not hide a denied command.
    String padded = "sudo ".repeat(70) + "npm publish"; // sudo-anything would allow it
    assertThat(effect(p, CommandLine.parse(padded).toAction())).isEqualTo(Effect.DENY);
    assertThat(CommandWrappers.inner(CommandLine.parse(padded).argv(), null, null).complete())
        .isFalse();
  }

  @Test
  void arithmeticAssignmentFindsAssignmentsAndNoRetriesInsideAName() {
    java.util.regex.Matcher m =
        CommandMatcher.ARITHMETIC_ASSIGNMENT.matcher("$((HOME+=1, x == y, PATH <<= 2))");
    List<String> found = new java.util.ArrayList<>();
    while (m.find()) {
      found.add(m.group(1));
    }
    assertThat(found).containsExactly("HOME", "PATH");
    // a match starts only where a name starts: "ab=" is one name, never "b" inside it
    m = CommandMatcher.ARITHMETIC_ASSIGNMENT.matcher("x[ab=1]");
    assertThat(m.find()).isTrue();
    assertThat(m.group(1)).isEqualTo("ab");
    // the shape that was quadratic: a name with no assignment, CommandLine.MAX_LENGTH long
    String word = "[" + "a".repeat(CommandLine.MAX_LENGTH - 1);
    assertThat(CommandMatcher.ARITHMETIC_ASSIGNMENT.matcher(word).find()).isFalse();
    assertThat(CommandMatcher.ARITHMETIC_ASSIGNMENT.matcher(word + " =1").find()).isTrue();
  }

  @Test
  void redirectionNamesAreTheVariablesANamedFdRedirectionSets() {
    assertThat(CommandMatcher.redirectionNames(": {PATH}>/dev/null; exec {fd}<x {a}>&-"))
        .containsExactly("PATH", "fd", "a");
    assertThat(CommandMatcher.redirectionNames("echo {PATH} > x; echo {1x}>y")).isEmpty();
    assertThat(CommandMatcher.redirectionNames("exec {a[1]}>x")).containsExactly((String) null);
  }

  @Test
  void riskyEnvListsNoExactNameThatAPrefixOrSuffixCovers() {
    for (String name : CommandMatcher.RISKY_ENV) {
      assertThat(CommandMatcher.RISKY_ENV_PREFIXES.stream().filter(name::startsWith))
          .as(name + " is covered by a prefix")
          .isEmpty();
      assertThat(CommandMatcher.RISKY_ENV_SUFFIXES.stream().filter(name::endsWith))
          .as(name + " is covered by a suffix")
          .isEmpty();
    }
    // names that were listed and are now found by their prefix or suffix only
    for (String name :
        List.of(
            "GOENV",
            "GOROOT",
            "GOTOOLCHAIN",
            "RSYNC_RSH",
            "PATH",
            "HOME",
            "SHELL",
            "CDPATH",
            "PROMPT_COMMAND",
            "SHELLOPTS",
            "NODE_OPTIONS",
            "PYTHONSTARTUP",
            "PERL5DB",
            "RUBYOPT",
            "JAVA_TOOL_OPTIONS",
            "MAVEN_ARGS",
            "PAGER",
            "EDITOR",
            "KUBECONFIG",
            "KUBERC",
            "PSQLRC",
            "TMPDIR",
            "TERRAFORM_CONFIG",
            "MAKEFLAGS",
            "MAKEFILES",
            "RUSTC",
            "JAVACMD",
            "LESS",
            "MANOPT",
            "SSH_AUTH_SOCK",
            "PKG_CONFIG",
            "SSLKEYLOGFILE",
            "CURL_CA_BUNDLE",
            "PGSYSCONFDIR",
            "PGPASSFILE")) {
      assertThat(CommandMatcher.riskyEnv(name)).as(name).isTrue();
    }
  }

  @Test
  void tarsTapeVariableIsRiskyAWildcardDoesNotAdmitIt() {
    // GNU tar's default archive; TAPE=host:/x makes tar run rsh to host
    assertThat(CommandMatcher.riskyEnv("TAPE")).isTrue();
    // rsync runs them (rsync(1) ENVIRONMENT VARIABLES), as -e and a daemon connect program
    assertThat(CommandMatcher.riskyEnv("RSYNC_RSH")).isTrue();
    assertThat(CommandMatcher.riskyEnv("RSYNC_CONNECT_PROG")).isTrue();
    PolicySet rules =
        policy(
            """
            rules:
              - id: tar-any-env
                effect: allow
                command: { binary: tar, env: ["*"] }
              - id: gtar-tape
                effect: allow
                command: { binary: gtar, env: [TAPE] }
            """);
    Map<String, Object> tape = Map.of(Action.Attr.CMD_ENV, List.of("TAPE"));
    assertThat(decide(rules, human("m"), target("t"), command("tar -c src", tape)).effect())
        .isEqualTo(Effect.DENY);
    assertThat(decide(rules, human("m"), target("t"), command("gtar -x", tape)).effect())
        .isEqualTo(Effect.ALLOW);
  }

  @Test
  void cobraSkipsTheWordAfterAFlagNotOfKubectlsRootBeforeTheSubcommand() {
    // spf13/cobra stripFlags knows only the root's flags: -A and -w (get's) take the next word
    assertThat(ProgramOptions.mayTakeNext("kubectl", "-A", true, null)).isTrue();
    assertThat(ProgramOptions.mayTakeNext("kubectl", "--all-namespaces", true, null)).isTrue();
    assertThat(ProgramOptions.mayTakeNext("kubectl", "-w", true, null)).isTrue();
    assertThat(ProgramOptions.mayTakeNext("kubectl", "--insecure-skip-tls-verify", true, null))
        .isFalse();
    // after the subcommand pflag reads get's own booleans
    assertThat(ProgramOptions.mayTakeNext("kubectl", "-A", false, null)).isFalse();
    // RiskyFlags: with get skipped, the subcommand is delete... and for logs -f, get: -f reads a
    // file
    assertThat(RiskyFlags.findAll("kubectl", List.of("kubectl", "-A", "logs", "get", "-f", "/x")))
        .isNotEmpty();
    assertThat(RiskyFlags.findAll("kubectl", List.of("kubectl", "-n", "x", "logs", "-f", "api")))
        .isEmpty();
  }
}
