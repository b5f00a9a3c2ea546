package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Red-team cases for the command matcher: argv evasions an attacker who may run {@code npm ci} and
 * {@code npm test} (but not {@code npm publish}), {@code kubectl get} (not {@code delete} or {@code
 * exec}), {@code git status/log/diff}, {@code terraform plan} (not {@code apply}) and {@code psql
 * -c 'select ...'} would try. Raw lines go through {@link CommandLine} as SSH exec requests do;
 * {@link #argv} builds an exec API request (argv given word by word, no shell).
 */
class ArgvEvasionTest {
  /** Allow anything (shell lines included), deny specific commands: deny rules must see through. */
  static final PolicySet OPEN =
      policy(
          """
          rules:
            - id: anything
              effect: allow
              command: { shell: true }
            - id: no-publish
              effect: deny
              command: { binary: npm, args: [[publish, unpublish]] }
            - id: no-npm-install
              effect: deny
              command: { binary: npm, args: [install] }
            - id: no-kubectl-mutate
              effect: deny
              command: { binary: kubectl, args: [[delete, exec]] }
            - id: no-apply
              effect: deny
              command: { binary: terraform, args: [[apply, destroy]] }
            - id: no-force-push
              effect: deny
              command: { binary: git, args: [push], flags: { present: [--force, -f] } }
            - id: no-auto-approve
              effect: deny
              command: { binary: terraform, flags: { present: [--auto-approve] } }
          """);

  /** A deny rule written with an absolute path. */
  static final PolicySet ABSOLUTE =
      policy(
          """
          rules:
            - id: anything
              effect: allow
              command: { shell: true }
            - id: no-publish
              effect: deny
              command: { binary: /usr/bin/npm, args: [publish] }
          """);

  /** Allow lists only (default deny), with the deny rules a careful operator adds. */
  static final PolicySet CI =
      policy(
          """
          rules:
            - id: npm-ci-test
              effect: allow
              command:
                binary: npm
                subcommand: [ci, test]
                flags_with_values: [--loglevel]
                env: [CI, "NPM_CONFIG_*"]
            - id: kubectl-get
              effect: allow
              command: { binary: kubectl, subcommand: get, flags_with_values: [-n, --namespace] }
            - id: git-read
              effect: allow
              command:
                binary: git
                subcommand: [status, log, diff]
                flags: { denied: [--output, --ext-diff, --exec-path, --git-dir, -c, -C] }
            - id: terraform-plan
              effect: allow
              command: { binary: terraform, subcommand: plan, env: [TF_LOG] }
            - id: psql-select
              effect: allow
              command:
                binary: psql
                shell: true # psql runs \\! from its input: interactive (InteractivePrograms)
                args: ["re:(?is)select\\\\b[^;\\\\\\\\]*"]
                flags: { allowed: [-c, -X, -A, -t] }
                paths: []
            - id: no-publish
              effect: deny
              command: { binary: npm, args: [publish] }
            - id: no-kubectl-mutate
              effect: deny
              command: { binary: kubectl, args: [[delete, exec]] }
          """);

  /** shell: true for named programs: the line may use pipes, but only these programs by name. */
  static final PolicySet SHELL =
      policy(
          """
          rules:
            - id: npm-shell
              effect: allow
              command: { binary: [npm, echo, tee, "true", printf], shell: true }
            - id: npm-ci-test-shell
              effect: allow
              command: { binary: [make], subcommand: [test], shell: true }
            - id: no-publish
              effect: deny
              command: { binary: npm, args: [publish] }
          """);

  static Action line(String line) {
    return CommandLine.parse(line).toAction();
  }

  static Action argv(String... words) {
    Map<String, Object> a = new HashMap<>();
    a.put(Action.Attr.CMD_ARGV, List.of(words));
    a.put(Action.Attr.CMD_BINARY, words[0]);
    a.put(Action.Attr.CMD_NEEDS_SHELL, false);
    return new Action(ActionKind.COMMAND, CommandLine.quote(List.of(words)), a);
  }

  static Action withEnv(Action action, String... names) {
    Map<String, Object> a = new HashMap<>(action.attributes());
    a.put(Action.Attr.CMD_ENV, List.of(names));
    return new Action(ActionKind.COMMAND, action.raw(), a);
  }

  static Effect effect(PolicySet p, Action a) {
    return decide(p, human("mallory"), target("runner"), a).effect();
  }

  static Arguments allow(String name, PolicySet p, Action a) {
    return Arguments.of(name, p, a, Effect.ALLOW);
  }

  static Arguments deny(String name, PolicySet p, Action a) {
    return Arguments.of(name, p, a, Effect.DENY);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // --- npm: aliases and abbreviations (npm resolves unique prefixes and its alias table) ---
        deny("npm pu is publish (unique prefix)", OPEN, line("npm pu")),
        // bash builtins that run code the line does not show (round 16)
        deny("history -s then fc -s", OPEN, argv("bash", "-c", "history -s 'npm publish'; fc -s")),
        deny("fc -e EDITOR runs the editor", OPEN, line("set -o history; echo x; fc -e vi")),
        deny("fc re-runs the last command", OPEN, line("true; builtin fc -s x=y")),
        deny("enable -f loads a shared object", OPEN, line("enable -f /tmp/x.so x; x")),
        deny("enable -af cluster", OPEN, argv("bash", "-c", "command enable -af ./x.so x")),
        deny("npm publi is publish", OPEN, line("npm publi")),
        deny("abbreviation after a value flag", OPEN, line("npm --loglevel silent pub")),
        deny("npm unpub is unpublish", OPEN, line("npm unpub pkg@1.0.0")),
        deny("npm i is install", OPEN, line("npm i left-pad")),
        deny("npm add is install", OPEN, line("npm add left-pad")),
        deny("npm isntall (typo alias) is install", OPEN, line("npm isntall left-pad")),
        deny("npm in is install", OPEN, line("npm in left-pad")),
        deny("npm it (install-test) is not the allowed test", CI, line("npm it")),
        deny("npm tst is test but no allow rule lists it", CI, line("npm tst")),
        allow("npm test stays allowed", CI, line("npm --loglevel silent test")),
        allow("npm run pack stays allowed on the open policy", OPEN, line("npm run lint")),
        // --- npm exec / npx / explore: a command inside an npm subcommand ---
        deny("npm exec -c runs a shell line", OPEN, argv("npm", "exec", "-c", "npm publish")),
        deny("npm x --call= runs a shell line", OPEN, argv("npm", "x", "--call=npm publish")),
        deny("npm explore runs a command", OPEN, argv("npm", "explore", "pkg", "--", "npm pub")),
        deny("npx -c", OPEN, argv("npx", "-c", "npm publish")),
        deny("npm exec abbreviated", OPEN, argv("npm", "exe", "-c", "npm publish")),
        // --- binary name tricks ---
        deny("upper-case binary (case-insensitive file system)", OPEN, line("NPM publish")),
        deny("upper-case absolute path", OPEN, line("/usr/local/bin/Npm publish")),
        deny("Windows-style .exe suffix", OPEN, line("npm.exe publish")),
        deny("dot-slash and parent paths", OPEN, line("../../usr/bin/npm publish")),
        deny("trailing dot (Windows target)", OPEN, line("npm. publish")),
        deny("trailing space", OPEN, argv("npm ", "publish")),
        deny("NUL in the binary", OPEN, argv("npm\u0000", "publish")),
        deny("TAB in the binary", OPEN, argv("npm\t", "publish")),
        deny("fullwidth letters", OPEN, argv("ｎｐｍ", "publish")),
        deny("soft hyphen inside publish", OPEN, argv("npm", "pub\u00adlish")),
        deny("Cyrillic dze in publish", OPEN, argv("npm", "publi\u0455h")),
        // --- wrappers with attached option values and unusual names ---
        deny("env -S with the program glued", OPEN, line("env -Snpm publish")),
        deny("env --split-string= with the rest", OPEN, argv("env", "--split-string=npm", "pu")),
        deny("env -i", OPEN, line("env -i PATH=/usr/bin npm publish")),
        deny("sudo -u glued", OPEN, line("sudo -unobody npm publish")),
        deny("timeout -k glued", OPEN, line("timeout -k5 10 npm publish")),
        deny("nice with negative adjustment", OPEN, line("nice -n -5 npm publish")),
        deny("versioned shell name bash5", OPEN, argv("bash5", "-c", "npm publish")),
        deny("versioned shell name bash-5.2", OPEN, argv("/opt/bin/bash-5.2", "-c", "npm pub")),
        deny("rbash", OPEN, argv("rbash", "-c", "npm publish")),
        deny("yash", OPEN, argv("yash", "-c", "kubectl delete pod x")),
        deny("pwsh -Command", OPEN, argv("pwsh", "-Command", "npm publish")),
        deny("cross-env", OPEN, line("cross-env CI=1 npm publish")),
        deny("xvfb-run", OPEN, line("xvfb-run -a npm publish")),
        deny("dbus-run-session", OPEN, line("dbus-run-session -- npm publish")),
        deny("ip netns exec", OPEN, line("ip netns exec ns1 npm publish")),
        deny("prlimit", OPEN, line("prlimit --nofile=10 npm publish")),
        deny("eatmydata", OPEN, line("eatmydata npm publish")),
        deny("corepack", OPEN, line("corepack npm publish")),
        deny("tini / dumb-init", OPEN, line("dumb-init -- npm publish")),
        deny("tmux new-session", OPEN, argv("tmux", "new-session", "-d", "npm publish")),
        deny("screen -dm", OPEN, line("screen -dmS x npm publish")),
        deny("direnv exec", OPEN, line("direnv exec . npm publish")),
        deny("mise exec", OPEN, line("mise exec -- npm publish")),
        deny("op run", OPEN, line("op run -- npm publish")),
        deny("aws-vault exec", OPEN, line("aws-vault exec prod -- kubectl delete ns x")),
        deny("nix-shell --run", OPEN, argv("nix-shell", "--run", "npm publish")),
        deny("flock -c", OPEN, argv("flock", "/tmp/l", "-c", "npm publish")),
        deny("script -qc", OPEN, argv("script", "-qc", "npm publish", "/dev/null")),
        deny("watch -n1", OPEN, line("watch -n1 npm publish")),
        deny("busybox sh -c", OPEN, argv("busybox", "sh", "-c", "npm publish")),
        deny("find -exec sh -c", OPEN, argv("find", ".", "-exec", "sh", "-c", "npm pu", ";")),
        deny("find names the subcommand", OPEN, line("find publish -maxdepth 0 -exec npm {} ;")),
        deny(
            "find names the subcommand (argv)",
            OPEN,
            argv("find", "publish", "-maxdepth", "0", "-exec", "npm", "{}", ";")),
        deny("cmd /c (Windows target)", OPEN, line("cmd /c npm publish")),
        deny("command -p", OPEN, line("command -p npm publish")),
        deny("exec -a", OPEN, line("exec -a foo npm publish")),
        // --- shell lines the deny rules must see through ---
        deny("computed command name", OPEN, argv("sh", "-c", "x=npm; $x publish")),
        deny("${IFS} instead of a blank", OPEN, argv("sh", "-c", "npm${IFS}publish")),
        deny("brace expansion", OPEN, argv("bash", "-c", "{npm,publish}")),
        deny("glob in the command name", OPEN, argv("sh", "-c", "/usr/bin/np? publish")),
        deny("ANSI-C quoting", OPEN, argv("bash", "-c", "$'\\x6epm' publish")),
        deny("function wrapping npm", OPEN, argv("sh", "-c", "f() { npm \"$@\"; }; f publish")),
        deny("quoted ) inside $( )", SHELL, line("echo $(echo \")\"; npm publish)")),
        deny(
            "quoted ) inside $( ) on kubectl",
            OPEN,
            line("echo \"$(echo ')'; kubectl delete ns x)\"")),
        deny(
            "deeply nested $( )",
            SHELL,
            line("echo $(echo $(echo $(echo $(echo $(npm publish)))))")),
        deny("70 harmless commands first", SHELL, line("true; ".repeat(70) + "npm publish")),
        deny("here-string into bash", OPEN, line("bash <<< 'npm publish'")),
        deny("text piped into sh", OPEN, line("echo 'npm publish' | sh")),
        deny("words piped into bash", OPEN, line("printf '%s\\n' npm\\ publish | bash -s")),
        deny("xargs supplies the subcommand", OPEN, line("echo publish | xargs npm")),
        deny("xargs -I", OPEN, line("echo delete | xargs -I{} kubectl {} pod x")),
        deny("newline in a -c string", OPEN, argv("sh", "-c", "npm ci\nnpm publish")),
        deny("eval of a string", OPEN, argv("sh", "-c", "eval 'npm pub'")),
        // --- shell: true rules naming programs: no other wrapper or shell rides along ---
        allow("a pipe into tee is fine", SHELL, line("npm test 2>&1 | tee log")),
        deny("a pipe into sh is not", SHELL, line("echo 'rm -rf ~' | sh")),
        deny("sudo after ;", SHELL, line("npm ci; sudo rm -rf /")),
        deny("computed name after &&", SHELL, line("npm ci && $CMD")),
        deny("the named program with other arguments", SHELL, line("make test && make deploy")),
        allow("the named program as the rule says", SHELL, line("make test && make test")),
        // --- kubectl / terraform / git / psql allow lists ---
        deny("kubectl -n before delete", CI, line("kubectl -n prod delete pod api")),
        deny("kubectl --context= before delete", CI, line("kubectl --context=prod delete pod x")),
        deny("kubectl get; kubectl delete", CI, line("kubectl get pods; kubectl delete pod x")),
        allow("kubectl -n before get", CI, line("kubectl -n prod get pods")),
        deny("terraform -chdir before apply", CI, line("terraform -chdir=infra apply")),
        deny("TF_CLI_ARGS from the caller", CI, withEnv(line("terraform plan"), "TF_CLI_ARGS")),
        allow("terraform plan", CI, withEnv(line("terraform plan -out=p"), "TF_LOG")),
        deny("git -c core.pager", CI, argv("git", "-c", "core.pager=sh -c id", "log")),
        deny("git --output abbreviated", CI, line("git log --outp=/etc/cron.d/x")),
        deny("git --ext-diff abbreviated", CI, line("git diff --ext")),
        deny("git --exec-path abbreviated", CI, line("git --exec=/tmp log")),
        deny("git -C glued", CI, line("git -C/other/repo log")),
        deny(
            "GIT_EXTERNAL_DIFF from the caller",
            CI,
            withEnv(line("git diff"), "GIT_EXTERNAL_DIFF")),
        allow("git log", CI, line("git log -n 5 --oneline")),
        deny("git push --forc", OPEN, line("git push --forc origin main")),
        deny("psql second -c", CI, argv("psql", "-c", "select 1", "-c", "\\! id")),
        deny("psql ; in the select", CI, argv("psql", "-c", "select 1; drop table t")),
        deny("psql meta-command", CI, argv("psql", "-c", "\\! sh")),
        allow("psql select", CI, argv("psql", "-X", "-c", "select count(*) from t")),
        // --- environment injection through an allowed wildcard ---
        deny(
            "NPM_CONFIG_SCRIPT_SHELL via NPM_CONFIG_*",
            CI,
            withEnv(line("npm test"), "NPM_CONFIG_SCRIPT_SHELL")),
        deny(
            "npm_config_node_options lower-case",
            CI,
            withEnv(line("npm test"), "npm_config_node_options")),
        deny("NPM_CONFIG_ONLOAD_SCRIPT", CI, withEnv(line("npm ci"), "NPM_CONFIG_ONLOAD_SCRIPT")),
        deny("NODE_OPTIONS", CI, withEnv(line("npm ci"), "NODE_OPTIONS")),
        deny("LD_PRELOAD", CI, withEnv(line("npm ci"), "LD_PRELOAD")),
        allow("NPM_CONFIG_LOGLEVEL", CI, withEnv(line("npm ci"), "CI", "NPM_CONFIG_LOGLEVEL")),
        // where npm connects (red team F3: the registry URL carried an expanded ${NPM_TOKEN})
        deny("NPM_CONFIG_REGISTRY", CI, withEnv(line("npm test"), "NPM_CONFIG_REGISTRY")),
        deny("npm_config_https-proxy", CI, withEnv(line("npm ci"), "npm_config_https-proxy")),
        deny("NPM_CONFIG_NOPROXY", CI, withEnv(line("npm ci"), "NPM_CONFIG_NOPROXY")),
        deny("npm_config_strict_ssl", CI, withEnv(line("npm ci"), "npm_config_strict_ssl")),
        deny(
            "NPM_CONFIG_REPLACE_REGISTRY_HOST",
            CI,
            withEnv(line("npm ci"), "NPM_CONFIG_REPLACE_REGISTRY_HOST")),
        // --- programs that take a command line as an option value ---
        deny("ssh -oProxyCommand= glued", OPEN, argv("ssh", "-oProxyCommand=npm publish", "h")),
        deny("ssh -o ProxyCommand=", OPEN, argv("ssh", "-o", "ProxyCommand=npm publish", "h")),
        deny("rsync -e", OPEN, argv("rsync", "-e", "npm publish", "a", "h:b")),
        deny("tar --to-command", OPEN, argv("tar", "-xf", "x.tar", "--to-command=npm publish")),
        deny(
            "tar --checkpoint-action=exec=",
            OPEN,
            argv("tar", "-cf", "/dev/null", "x", "--checkpoint-action=exec=npm publish")),
        deny("socat EXEC:", OPEN, argv("socat", "-", "EXEC:npm publish")),
        deny("vim -c :!", OPEN, argv("vim", "-c", ":!npm publish")),
        deny("sudo -s", OPEN, line("sudo -s npm publish")),
        deny("su -c", OPEN, argv("su", "-c", "npm publish", "build")),
        deny("trap", OPEN, argv("sh", "-c", "trap 'npm publish' EXIT")),
        deny("alias (dash expands aliases)", OPEN, argv("sh", "-c", "alias p='npm publish'\np")),
        deny("Go-style -auto-approve", OPEN, line("terraform import -auto-approve a b")),
        // --- deny rules written with an absolute path ---
        deny("absolute deny rule, bare name", ABSOLUTE, line("npm publish")),
        deny("absolute deny rule, /bin on merged /usr", ABSOLUTE, line("/bin/npm publish")),
        allow("absolute deny rule, other subcommand", ABSOLUTE, line("npm ci")),
        // --- what must stay allowed (no over-reach) ---
        allow("find with a glob", OPEN, argv("find", ".", "-name", "*.log", "-delete")),
        allow(
            "find -execdir npm ci",
            OPEN,
            argv("find", ".", "-name", "x", "-execdir", "npm", "ci", ";")),
        allow("timeout with a regex", OPEN, argv("timeout", "5", "grep", "-r", "a.*b", ".")),
        allow("sh -c with a variable", OPEN, argv("sh", "-c", "echo $HOME")),
        allow("sh -c cd && npm ci", OPEN, argv("sh", "-c", "cd app && npm ci")),
        allow("xargs into grep", OPEN, line("echo a | xargs grep foo")),
        allow("a script file", OPEN, line("bash build.sh")),
        allow("git push without force", OPEN, line("git push origin main")),
        // (an option after -- is the script program's, risky since rt21exec:
        // ArgvTwentyFirstRoundTest; a word that is not an option stays allowed)
        allow("npm install-free run script", OPEN, line("npm run build -- prod")),
        deny("npm run script with an option after --", OPEN, line("npm run build -- --prod")),
        // --- sizes: what cannot be read whole must not pass ---
        deny(
            "5000 nested $( ) in quotes",
            SHELL,
            line("echo \"" + "$(".repeat(5000) + "npm ci" + ")".repeat(5000) + "\"")),
        deny(
            "5000 nested $( )",
            SHELL,
            line("echo " + "$(".repeat(5000) + "npm ci" + ")".repeat(5000))),
        deny("wrapper nested 8 deep", OPEN, argv("sh", "-c", nested(8, "npm publish"))),
        deny("many arguments to a wrapper", OPEN, argv(manyArgs())),
        deny("10,000 commands in a line", SHELL, line("true;".repeat(10_000) + "npm publish")));
  }

  private static String nested(int depth, String inner) {
    String s = inner;
    for (int i = 0; i < depth; i++) {
      s = "sh -c " + CommandLine.quote(List.of(s));
    }
    return s;
  }

  private static String[] manyArgs() {
    String[] a = new String[300];
    a[0] = "env";
    for (int i = 1; i < a.length - 2; i++) {
      a[i] = "X" + i + "=1";
    }
    a[a.length - 2] = "npm";
    a[a.length - 1] = "publish";
    return a;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides(String name, PolicySet p, Action a, Effect expected) {
    Decision d = decide(p, human("mallory"), target("runner"), a);
    assertThat(d.effect()).as(name + ": " + a.raw() + " -> " + d.explanation()).isEqualTo(expected);
  }

  @Test
  void hasAtLeastFiftyCases() {
    assertThat(cases().count()).isGreaterThanOrEqualTo(50);
  }

  @Test
  void abbreviationsOfDeniedFlagsButNotShortClusters() {
    PolicySet p =
        policy(
            """
            rules:
              - id: ls
                effect: allow
                command: { binary: ls, flags: { denied: [--almost-all, --recursive] } }
            """);
    assertThat(effect(p, line("ls --recur /"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, line("ls -recursive /"))).isEqualTo(Effect.DENY); // Go-style
    assertThat(effect(p, line("ls -al /"))).isEqualTo(Effect.ALLOW); // -a -l, not --al...
    assertThat(effect(p, line("ls -l /"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void anAllowRuleNeedsTheFlagItselfNotAPrefixOrAComputedWord() {
    // Abbreviations and computed words count for deny rules, where matching more refuses more;
    // an allow rule asking for a flag must see that flag.
    PolicySet p =
        policy(
            """
            rules:
              - id: lease-only
                effect: allow
                command:
                  binary: git
                  args: [push]
                  shell: true
                  flags: { present: [--force-with-lease] }
            """);
    assertThat(effect(p, line("git push --force-with-lease origin main"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, line("git push --force origin main"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, line("git push -force origin main"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, line("git push $F origin main"))).isEqualTo(Effect.DENY);
  }

  @Test
  void deniedByTheNamedRule() {
    assertThat(decide(OPEN, human("m"), target("t"), line("npm pu")).rule())
        .isEqualTo("no-publish");
    assertThat(decide(OPEN, human("m"), target("t"), line("env -Snpm publish")).rule())
        .isEqualTo("no-publish");
    assertThat(effect(OPEN, line("npm ci"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(OPEN, line("git push origin main"))).isEqualTo(Effect.ALLOW);
  }
}
