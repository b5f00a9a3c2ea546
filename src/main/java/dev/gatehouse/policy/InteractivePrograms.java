package dev.gatehouse.policy;

import java.util.List;
import java.util.Set;

/**
 * Interactive programs that run a shell, or commands of the caller's choosing, from what they read
 * while they run rather than from argv: the argv decision would no longer be the boundary. An allow
 * or review rule matches one only when it says {@code shell: true} (it grants what a shell grants);
 * deny rules are not affected.
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
          "btop");

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
        + " it runs (vi's :!sh, ed's !sh, more's !cmd, top's Inspect and kill), and the rule does"
        + " not say shell: true";
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
