package dev.gatehouse.policy;

import static dev.gatehouse.policy.ArgvEvasionTest.argv;
import static dev.gatehouse.policy.ArgvEvasionTest.line;
import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static dev.gatehouse.policy.PolicyLoadErrorsTest.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 6 leftovers: git's global options (those with optional values and those that take the next
 * word) before the subcommand, git's code-execution vectors ({@code -c} keys, {@code --exec-path},
 * {@code --upload-pack}, {@code ext::} URLs), man's pager and browser flags, and interactive
 * programs that run a shell from what they read (vi, ed, more, top, psql, sqlite3, gdb, sftp...),
 * which an allow rule admits only with {@code shell: true}.
 */
class ArgvGitAndInteractiveTest {
  static final PolicySet RULES =
      policy(
          """
          rules:
            - id: no-push
              effect: deny
              command: { binary: git, subcommand: [push] }
            - id: git-read
              effect: allow
              command: { binary: git, subcommand: [status, log, show, fetch, ls-remote, clone] }
            - id: git-ext
              effect: allow
              command:
                binary: git
                subcommand: [submodule]
                flags: { accept_risky: ["ext::"] }
            - id: man
              effect: allow
              command: { binary: man }
            - id: viewers
              effect: allow
              command: { binary: [vi, vim, ed, more, top, htop, emacs, nano, less] }
            - id: editor-with-shell
              effect: allow
              command: { binary: nvim, shell: true }
            - id: clients
              effect: allow
              command:
                binary: [psql, mysql, mariadb, sqlite3, duckdb, gdb, lldb, sftp, ftp, lftp, dc,
                         telnet, mail, mutt, smbclient, sqlplus, mysqlsh, usql, pgcli, mongosh]
            - id: psql-with-shell
              effect: allow
              command: { binary: /usr/lib/postgresql/16/bin/psql, shell: true }
          """);

  static Stream<Arguments> cases() {
    return Stream.of(
        // git: the subcommand after global options with and without values
        Arguments.of(line("git --no-pager log"), Effect.ALLOW, "git-read"),
        Arguments.of(line("git --no-pager --no-replace-objects -P log -n 3"), Effect.ALLOW, null),
        Arguments.of(line("git log --color=always --abbrev=8 --oneline"), Effect.ALLOW, null),
        Arguments.of(line("git --no-pager push"), Effect.DENY, "no-push"),
        Arguments.of(line("git -c a.b=c push origin"), Effect.DENY, "no-push"),
        Arguments.of(line("git -C /srv/x push"), Effect.DENY, "no-push"),
        Arguments.of(line("git --git-dir /x/.git push"), Effect.DENY, "no-push"),
        Arguments.of(line("git --work-tree /x push"), Effect.DENY, "no-push"),
        Arguments.of(line("git --exec-path=/tmp/x push"), Effect.DENY, "no-push"),
        Arguments.of(line("git --namespace n --no-pager push"), Effect.DENY, "no-push"),
        Arguments.of(line("git --config-env a.b=X push"), Effect.DENY, "no-push"),
        Arguments.of(line("git -c alias.x=push x"), Effect.DENY, "no-push"),
        // git: values that run code, refused by the allow rule that does not name them
        Arguments.of(line("git -c core.pager=sh log"), Effect.DENY, null),
        Arguments.of(line("git --no-pager -c core.pager=sh log"), Effect.DENY, null),
        Arguments.of(argv("git", "-c", "core.sshCommand=sh -c id", "fetch"), Effect.DENY, null),
        Arguments.of(argv("git", "-c", "alias.x=!sh", "x"), Effect.DENY, null),
        Arguments.of(argv("git", "-c", "alias.status=!sh", "status"), Effect.DENY, null),
        Arguments.of(line("git -c protocol.ext.allow=always fetch"), Effect.DENY, null),
        Arguments.of(line("git --exec-path=/tmp/x status"), Effect.DENY, null),
        Arguments.of(line("git --exec-pa=/tmp/x status"), Effect.DENY, null),
        Arguments.of(line("git fetch --upload-pack=/tmp/x origin"), Effect.DENY, null),
        Arguments.of(line("git fetch --upl /tmp/x origin"), Effect.DENY, null),
        Arguments.of(line("git ls-remote --upload-pack=/tmp/x origin"), Effect.DENY, null),
        Arguments.of(line("git --git-dir=/tmp/x/.git status"), Effect.DENY, null),
        Arguments.of(line("git --work-tree=/ status"), Effect.DENY, null),
        // git: ext:: URLs run their command where configuration allows the transport
        Arguments.of(argv("git", "fetch", "ext::sh -c id% >&2"), Effect.DENY, null),
        Arguments.of(argv("git", "clone", "ext::sh -c id", "x"), Effect.DENY, null),
        Arguments.of(argv("git", "ls-remote", "--", "ext::sh -c id"), Effect.DENY, null),
        Arguments.of(line("git fetch https://example.com/r.git"), Effect.ALLOW, "git-read"),
        Arguments.of(line("git fetch text::x"), Effect.ALLOW, "git-read"),
        Arguments.of(argv("git", "submodule", "add", "ext::sh -c id"), Effect.ALLOW, "git-ext"),
        // man: the pager and the browser are command lines
        Arguments.of(argv("man", "-P", "sh -c id", "ls"), Effect.DENY, null),
        Arguments.of(argv("man", "--pager=sh -c id", "ls"), Effect.DENY, null),
        Arguments.of(argv("man", "-Hsh", "ls"), Effect.DENY, null),
        Arguments.of(line("man -C /tmp/man.conf ls"), Effect.DENY, null),
        Arguments.of(line("man 5 crontab"), Effect.ALLOW, "man"),
        // interactive programs that run a shell from their input
        Arguments.of(line("vi /etc/hosts"), Effect.DENY, null),
        Arguments.of(line("/usr/bin/vim.basic x"), Effect.DENY, null),
        Arguments.of(line("ed -s notes"), Effect.DENY, null),
        Arguments.of(line("more /var/log/syslog"), Effect.DENY, null),
        Arguments.of(line("top"), Effect.DENY, null),
        Arguments.of(line("top -u bob"), Effect.DENY, null),
        Arguments.of(line("top -p -b"), Effect.DENY, null),
        Arguments.of(line("htop"), Effect.DENY, null),
        Arguments.of(line("emacs -nw x"), Effect.DENY, null),
        Arguments.of(line("nano x"), Effect.DENY, null),
        Arguments.of(line("top -b -n 1"), Effect.ALLOW, "viewers"),
        Arguments.of(line("top -bn1"), Effect.ALLOW, "viewers"),
        Arguments.of(line("less /var/log/syslog"), Effect.ALLOW, "viewers"),
        Arguments.of(line("nvim x"), Effect.ALLOW, "editor-with-shell"),
        // clients and debuggers with a shell escape in their commands, whatever their arguments
        Arguments.of(line("psql -X -c 'select 1'"), Effect.DENY, null),
        Arguments.of(line("psql -f report.sql"), Effect.DENY, null),
        Arguments.of(line("mysql -e 'select 1'"), Effect.DENY, null),
        Arguments.of(line("mariadb db"), Effect.DENY, null),
        Arguments.of(line("sqlite3 app.db .tables"), Effect.DENY, null),
        Arguments.of(line("duckdb x.db"), Effect.DENY, null),
        Arguments.of(line("gdb -batch -ex bt ./app core"), Effect.DENY, null),
        Arguments.of(line("lldb ./app"), Effect.DENY, null),
        Arguments.of(line("sftp host"), Effect.DENY, null),
        Arguments.of(line("ftp host"), Effect.DENY, null),
        Arguments.of(line("lftp host"), Effect.DENY, null),
        Arguments.of(line("dc"), Effect.DENY, null),
        Arguments.of(line("telnet host 25"), Effect.DENY, null),
        Arguments.of(line("mail -s hi bob"), Effect.DENY, null),
        Arguments.of(line("mutt"), Effect.DENY, null),
        // review 13 (F2), more in clientsWithAShellEscapeNeedShellTrue
        Arguments.of(line("smbclient -L fs -N"), Effect.DENY, null),
        Arguments.of(
            line("/usr/lib/postgresql/16/bin/psql -c 'select 1'"),
            Effect.ALLOW,
            "psql-with-shell"));
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @MethodSource("cases")
  void decides(Action a, Effect expected, String rule) {
    Decision d = decide(RULES, human("m"), target("t"), a);
    assertThat(d.effect()).as(String.join("\n", d.explanation())).isEqualTo(expected);
    if (rule != null) {
      assertThat(d.rule()).isEqualTo(rule);
    }
  }

  /**
   * Review 13 (F2): more clients whose commands include a local shell escape. The rule names them
   * (the same words without the guard are allowed); the explanation says the guard refused them.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("shellEscapingClients")
  void clientsWithAShellEscapeNeedShellTrue(String commandLine, String name) {
    Decision d = decide(RULES, human("m"), target("t"), line(commandLine));
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(String.join("\n", d.explanation()))
        .contains(name + " is interactive and can run a shell")
        .contains("shell: true");
  }

  static Stream<Arguments> shellEscapingClients() {
    return Stream.of(
        Arguments.of("smbclient //fs/share -N -c '!sh -c id'", "smbclient"),
        Arguments.of("sqlplus -S scott@db @report.sql", "sqlplus"),
        Arguments.of("mysqlsh --sql -e 'select 1'", "mysqlsh"),
        Arguments.of("usql pg://db -c 'select 1'", "usql"),
        Arguments.of("pgcli -h db app", "pgcli"),
        Arguments.of("mongosh mongodb://db --eval 'db.stats()'", "mongosh"));
  }

  @Test
  void theExplanationsSayWhyAndHowToAllow() {
    String vi =
        String.join("\n", decide(RULES, human("m"), target("t"), line("vi x")).explanation());
    assertThat(vi).contains("vi is interactive and can run a shell").contains("shell: true");
    String psql =
        String.join(
            "\n", decide(RULES, human("m"), target("t"), line("psql -c 'select 1'")).explanation());
    assertThat(psql).contains("psql is interactive and can run a shell").contains("shell: true");
    String ext =
        String.join(
            "\n",
            decide(RULES, human("m"), target("t"), argv("git", "fetch", "ext::sh -c id"))
                .explanation());
    assertThat(ext).contains("ext:: URL").contains("flags.accept_risky");
  }

  @Test
  void extIsAcceptedOnlyForGit() {
    assertThat(
            problems(
                """
                rules:
                  - id: a
                    effect: allow
                    command: { binary: npm, flags: { accept_risky: ["ext::"] } }
                """))
        .singleElement()
        .satisfies(p -> assertThat(p).contains("ext::"));
  }
}
