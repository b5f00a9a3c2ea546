package dev.gatehouse.policy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The commands hidden inside a command, for deny rules: {@code env X=1 npm publish}, {@code sudo -u
 * build npm publish}, {@code timeout 60 npm publish}, {@code xargs npm publish}, {@code npx npm
 * publish}, {@code sh -c "npm ci && npm publish"}, {@code find . -exec npm publish ;}, {@code A=1
 * npm publish}, and every simple command of a line that needs a shell.
 *
 * <p>For a known wrapper every suffix of argv that starts with a word that is not an option is a
 * candidate (so no option table is needed: {@code timeout -s KILL 60 npm publish} yields {@code
 * [npm, publish]} among others), and every argument containing blanks or shell syntax is also read
 * as a shell line. This finds more commands than the wrapper would run, never fewer, which is the
 * safe direction for a deny rule. Allow rules never look inside: a wrapper runs only when an allow
 * rule admits the wrapper itself, and then it can run anything (see docs/policy.md).
 */
final class CommandWrappers {
  /** Base names of programs that run another program from their arguments. */
  static final Set<String> WRAPPERS =
      Set.of(
          // run with another identity, priority, limit or namespace
          "env",
          "sudo",
          "doas",
          "su",
          "runuser",
          "sg",
          "pkexec",
          "gosu",
          "su-exec",
          "setpriv",
          "nice",
          "ionice",
          "chrt",
          "taskset",
          "numactl",
          "timeout",
          "nohup",
          "setsid",
          "stdbuf",
          "unbuffer",
          "time",
          "chroot",
          "nsenter",
          "unshare",
          "firejail",
          "systemd-run",
          "flock",
          "fakeroot",
          "faketime",
          "proxychains",
          "proxychains4",
          "torsocks",
          "catchsegv",
          "chpst",
          "strace",
          "ltrace",
          "valgrind",
          "script",
          "watch",
          "parallel",
          "xargs",
          "find",
          "ssh",
          // shells and shell built-ins and reserved words
          "sh",
          "bash",
          "dash",
          "zsh",
          "ksh",
          "mksh",
          "ash",
          "fish",
          "csh",
          "tcsh",
          "busybox",
          "toybox",
          "command",
          "builtin",
          "exec",
          "eval",
          "{",
          "!",
          "if",
          "then",
          "else",
          "elif",
          "do",
          "while",
          "until",
          // package runners
          "npx",
          "bunx",
          "pnpx",
          "pnpm",
          "yarn",
          "bun",
          "uv",
          "uvx",
          "pipx",
          "poetry");

  /** Wrappers whose first argument is a package spec that may carry a version ({@code npm@10}). */
  private static final Set<String> PACKAGE_RUNNERS =
      Set.of("npx", "bunx", "pnpx", "pnpm", "yarn", "bun", "uvx", "pipx");

  private static final int MAX = 64;

  private CommandWrappers() {}

  /**
   * The inner commands of {@code argv} (not including argv itself), and whether that list is whole:
   * past {@link #MAX} candidates or four levels of wrapping the rest is not looked at, and a deny
   * rule must then assume the worst (padding with 70 wrappers must not hide {@code npm publish}).
   */
  record Inner(List<List<String>> commands, boolean complete) {}

  /**
   * @param binary the resolved binary, or null
   * @param shellLine the command line when it needs a shell (its simple commands are candidates
   *     too), or null
   */
  static Inner inner(List<String> argv, String binary, String shellLine) {
    Walk w = new Walk();
    if (shellLine != null && !shellLine.isEmpty()) {
      for (List<String> c : CommandLine.commands(shellLine)) {
        w.add(c, 1);
      }
    }
    w.expand(argv, binary, 0);
    w.out.remove(argv);
    return new Inner(new ArrayList<>(w.out), !w.cut);
  }

  private static final class Walk {
    final Set<List<String>> out = new LinkedHashSet<>();
    boolean cut;

    void add(List<String> cmd, int depth) {
      if (cmd.isEmpty() || out.contains(cmd)) {
        return;
      }
      if (out.size() >= MAX) {
        cut = true;
        return;
      }
      out.add(List.copyOf(cmd));
      expand(cmd, null, depth);
    }

    void expand(List<String> argv, String binary, int depth) {
      if (argv.isEmpty()) {
        return;
      }
      String first = argv.get(0);
      String name = CommandMatcher.baseName(first);
      boolean wrapper =
          WRAPPERS.contains(name)
              || (binary != null && WRAPPERS.contains(CommandMatcher.baseName(binary)));
      if (!assignment(first) && !wrapper) {
        return;
      }
      if (depth > 4 || out.size() >= MAX) {
        cut = true;
        return;
      }
      if (assignment(first)) {
        int i = 1;
        while (i < argv.size() && assignment(argv.get(i))) {
          i++;
        }
        add(argv.subList(i, argv.size()), depth + 1);
        return;
      }
      for (int i = 1; i < argv.size(); i++) {
        if (out.size() >= MAX) {
          cut = true;
          return;
        }
        String t = argv.get(i);
        if (t.startsWith("-")) {
          int eq = t.indexOf('=');
          String value = eq >= 0 ? t.substring(eq + 1) : t.length() > 2 ? t.substring(2) : "";
          if (shellish(value)) {
            for (List<String> c : CommandLine.commands(value)) {
              add(c, depth + 1);
            }
          }
          continue;
        }
        if (t.isEmpty() || assignment(t)) {
          continue;
        }
        add(argv.subList(i, argv.size()), depth + 1);
        int at = t.lastIndexOf('@');
        if (at > 0 && PACKAGE_RUNNERS.contains(name)) { // npx npm@10 publish runs npm publish
          List<String> unversioned = new ArrayList<>(argv.subList(i, argv.size()));
          unversioned.set(0, t.substring(0, at));
          add(unversioned, depth + 1);
        }
        if (shellish(t)) {
          for (List<String> c : CommandLine.commands(t)) {
            add(c, depth + 1);
          }
        }
      }
    }
  }

  private static boolean assignment(String t) {
    int eq = t.indexOf('=');
    return eq > 0 && CommandLine.isName(t.substring(0, eq));
  }

  private static boolean shellish(String t) {
    for (int i = 0; i < t.length(); i++) {
      if (" \t\n;&|()`$<>".indexOf(t.charAt(i)) >= 0) {
        return true;
      }
    }
    return false;
  }
}
