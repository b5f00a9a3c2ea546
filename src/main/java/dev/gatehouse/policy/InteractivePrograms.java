package dev.gatehouse.policy;

import java.util.List;
import java.util.Set;

/**
 * Interactive programs (and clients that read commands from a script) that run a shell, or commands
 * of the caller's choosing, from what they read while they run rather than from argv: the argv
 * decision would no longer be the boundary. An allow or review rule matches one only when it says
 * {@code shell: true} (it grants what a shell grants); deny rules are not affected.
 *
 * <p>They read their commands from standard input, which the caller writes with or without a
 * terminal (vim and ex read keystrokes from a pipe too, with a warning; ed and ex are line
 * editors): vi, vim, nvim, view, ex ({@code :!sh}, {@code :terminal}), ed ({@code !sh}), emacs
 * ({@code M-x shell}, {@code M-!}), nano and pico (^T runs a spell checker or, nano 2.9+, any
 * command), jed, joe, mcedit and mc ({@code !} or the subshell), more ({@code !cmd}: util-linux
 * more has no secure mode), most and pg ({@code !}). top: the Inspect command ({@code Y}) runs the
 * {@code pipe} entries of {@code ~/.toprc}, which is in the workspace (HOME), and {@code k}/{@code
 * r} signal or renice any process of the runner's uid, so other jobs; batch mode ({@code -b}) reads
 * no commands and is not guarded. htop, atop and btop signal processes the same way.
 *
 * <p>Clients and tools whose commands, from standard input or a script file as much as from a
 * terminal, include a shell escape, guarded whatever their arguments (the escape is in the input,
 * and their options also name scripts, output pipes and startup files):
 *
 * <ul>
 *   <li>database clients: psql ({@code \!}, {@code \o |cmd}, {@code \copy ... program}; psql(1)),
 *       mysql and mariadb ({@code system}, {@code \!}, {@code pager}; mysql client commands),
 *       sqlite3 ({@code .shell}, {@code .system}, {@code .once |cmd}; sqlite.org/cli.html), duckdb
 *       (the same dot commands), sqlcmd ({@code !!}), mycli and litecli ({@code system}), pgcli
 *       ({@code \!}, pgspecial's "Pass commands to shell"), usql ({@code \!}, usql's "execute
 *       command in shell"), MySQL Shell mysqlsh ({@code \system}, {@code \!}; MySQL Shell
 *       commands), Oracle SQL*Plus sqlplus ({@code HOST}, {@code !} on Unix; SQL*Plus reference
 *       "HOST"), mongosh ({@code require()} of Node.js built-in modules such as child_process:
 *       MongoDB Shell "Include External Files and Modules in Scripts");
 *   <li>smbclient ({@code !cmd} "run a shell command on the local system", interactive or in a
 *       {@code -c} command string; smbclient(1));
 *   <li>debuggers: gdb, gdb-multiarch, cgdb ({@code shell}, {@code !}; gdb manual "Shell
 *       Commands"), lldb ({@code platform shell}, {@code script});
 *   <li>file transfer and remote login clients: sftp, ftp, lftp, tnftp, ncftp, telnet ({@code !cmd}
 *       runs a local shell command; sftp(1), ftp(1));
 *   <li>dc ({@code !cmd}; GNU dc manual "Miscellaneous"), gnuplot ({@code system}, {@code !});
 *   <li>mail readers: mail, mailx, s-nail, bsd-mailx, mutt, neomutt ({@code !}, {@code ~!};
 *       mailx(1));
 *   <li>text browsers: lynx, w3m ({@code !} spawns a shell).
 * </ul>
 *
 * <p>Not here, because the gateway makes them safe through their environment: less (LESSSECURE=1:
 * less(1) SECURITY, no shell, pipe, editor, lesskey or LESSOPEN), man and the programs that page
 * (PAGER, MANPAGER, GIT_PAGER, SYSTEMD_PAGER set to cat; {@code man -P}/{@code -H} are risky flags,
 * {@link RiskyFlags}). Exec runners have no terminal, so nothing pages there at all.
 */
final class InteractivePrograms {
  private InteractivePrograms() {}

  /**
   * Program names as {@link CommandWrappers#programName} reports them (lower case, version suffix
   * dropped: vim9 is vim, emacs-29.1 is emacs), with the Debian alternatives' names.
   */
  private static final Set<String> NAMES =
      Set.of(
          "vi",
          "vim",
          "vim.basic",
          "vim.tiny",
          "vim.nox",
          "vim.gtk3",
          "gvim",
          "rvim",
          "evim",
          "vimdiff",
          "view",
          "rview",
          "nvim",
          "ex",
          "ed",
          "red",
          "emacs",
          "emacs-nox",
          "emacsclient",
          "nano",
          "rnano",
          "pico",
          "jed",
          "joe",
          "mcedit",
          "mc",
          "more",
          "most",
          "pg",
          "top",
          "htop",
          "atop",
          "btop",
          // shell escapes in their commands (see the class comment); sqlite3 is "sqlite" here
          "psql",
          "mysql",
          "mariadb",
          "sqlite",
          "duckdb",
          "sqlcmd",
          "mycli",
          "litecli",
          "pgcli",
          "usql",
          "mysqlsh",
          "sqlplus",
          "mongosh",
          "smbclient",
          "gdb",
          "gdb-multiarch",
          "cgdb",
          "lldb",
          "sftp",
          "ftp",
          "lftp",
          "tnftp",
          "ncftp",
          "telnet",
          "dc",
          "gnuplot",
          "mail",
          "mailx",
          "s-nail",
          "bsd-mailx",
          "mutt",
          "neomutt",
          "lynx",
          "w3m");

  /**
   * Why {@code argv} runs an interactive program that can start a shell, or null.
   *
   * @param binary the program (a path or name)
   */
  static String why(String binary, List<String> argv) {
    if (binary == null) {
      return null;
    }
    String name = CommandWrappers.programName(binary);
    if (!NAMES.contains(name) || (name.equals("top") && topBatch(argv))) {
      return null;
    }
    return name
        + " is interactive and can run a shell or signal other processes from what it reads while"
        + " it runs, from a terminal, a pipe or a script (vi's :!sh, psql's \\!, gdb's shell,"
        + " sftp's !cmd, top's Inspect and kill), and the rule does not say shell: true";
  }

  /**
   * Whether procps top runs in batch mode: {@code -b} (alone or in a cluster before a letter that
   * takes a value: {@code -bn1}, not {@code -ubob}) or {@code --batch-mode}, before {@code --}.
   * Letters that take a value: top(1) {@code -d -E -e -n -o -O -p -U -u -w}.
   */
  private static boolean topBatch(List<String> argv) {
    for (int i = 1; i < argv.size(); i++) {
      String w = argv.get(i);
      if (w.equals("--")) {
        return false;
      }
      if (w.equals("--batch-mode")) {
        return true;
      }
      if (w.length() < 2 || w.charAt(0) != '-' || w.charAt(1) == '-') {
        continue;
      }
      for (int j = 1; j < w.length(); j++) {
        char c = w.charAt(j);
        if (c == 'b') {
          return true;
        }
        if ("dEenoOpUuw".indexOf(c) >= 0) {
          if (j == w.length() - 1) {
            i++; // -p -b: the next word is the value
          }
          break;
        }
      }
    }
    return false;
  }
}
