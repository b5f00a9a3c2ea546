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
 *
 * <p>Beyond wrappers: npm's abbreviations and aliases are resolved ({@link Npm}), {@code npm
 * exec}/{@code explore} are wrappers, git's {@code -c} values and the command-line options of
 * {@link #COMMAND_VALUES} (rsync -e, tar --to-command, socat EXEC:) are read as shell lines, and
 * xargs' commands get a word standing for its input ({@link #STDIN_WORDS}). What cannot be read
 * whole (too many candidates, too deep, a shell line past its limits, a pipe into a shell that
 * reads its program from standard input) makes the result incomplete, and every deny rule then
 * matches.
 */
final class CommandWrappers {
  /** Shells: they read a program from -c, from a script operand, or from standard input. */
  private static final Set<String> SHELLS =
      Set.of(
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
          "rbash",
          "yash",
          "posh",
          "oksh",
          "loksh",
          "pdksh",
          "elvish",
          "nu",
          "xonsh",
          "pwsh",
          "powershell",
          "busybox",
          "toybox");

  /** Whether {@code program} (a name or a path) is one of the shells. */
  static boolean isShell(String program) {
    java.nio.file.Path name = program == null ? null : java.nio.file.Path.of(program).getFileName();
    return name != null && SHELLS.contains(name.toString());
  }

  /** The programs of {@link #STDIN_PROGRAMS} whose inline code is given with -e (or -c). */
  private static final Set<String> INTERPRETERS =
      Set.of(
          "python",
          "pypy",
          "node",
          "nodejs",
          "deno",
          "bun",
          "perl",
          "ruby",
          "php",
          "lua",
          "luajit",
          "tclsh",
          "wish",
          "expect",
          "osascript");

  @SafeVarargs
  private static Set<String> union(Set<String>... sets) {
    java.util.HashSet<String> all = new java.util.HashSet<>();
    for (Set<String> s : sets) {
      all.addAll(s);
    }
    return Set.copyOf(all);
  }

  /** Base names of programs that run another program from their arguments. */
  static final Set<String> WRAPPERS =
      union(
          SHELLS,
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
              // more programs that run their arguments as a command (each man page's synopsis ends
              // in
              // COMMAND [ARG]... or takes a command string): prlimit(1), cpulimit(1), trickle(1),
              // cgexec(1), capsh(1) (-- -c), eatmydata(1), nocache(1), sshpass(1), rlwrap(1), tini,
              // dumb-init, xvfb-run(1), dbus-run-session(1), dbus-launch(1), ip-netns(8) (ip netns
              // exec NAME CMD), bwrap(1), systemd-nspawn(1), runcon(1), daemonize(1),
              // start-stop-daemon(8) (--exec), chronic(1), ifne(1), timelimit(1), perf(1)
              // (record|stat
              // -- CMD), hyperfine(1), entr(1), watchexec(1), tmux(1) (new-session CMD), screen(1),
              // at(1)/batch(1) (with -f or stdin), docker/podman/nerdctl run|exec IMAGE CMD, and
              // the
              // tool and secret runners cross-env, env-cmd, dotenv, direnv exec, mise/rtx/asdf
              // exec,
              // volta run, fnm exec, nvm exec, corepack, pipenv/conda/mamba/micromamba/pixi run,
              // bundle exec, nix-shell --run, nix develop -c, op run, aws-vault exec, doppler run,
              // chamber exec, sops exec-env, s6-setuidgid, setuidgid, softlimit, envdir, envuidgid
              "prlimit",
              "cpulimit",
              "trickle",
              "cgexec",
              "capsh",
              "eatmydata",
              "nocache",
              "sshpass",
              "rlwrap",
              "tini",
              "dumb-init",
              "xvfb-run",
              "dbus-run-session",
              "dbus-launch",
              "ip",
              "bwrap",
              "systemd-nspawn",
              "runcon",
              "daemonize",
              "start-stop-daemon",
              "chronic",
              "ifne",
              "timelimit",
              "perf",
              "hyperfine",
              "entr",
              "watchexec",
              "nodemon",
              "concurrently",
              "tmux",
              "screen",
              "at",
              "batch",
              "sem",
              "docker",
              "podman",
              "nerdctl",
              "cross-env",
              "env-cmd",
              "dotenv",
              "direnv",
              "mise",
              "rtx",
              "asdf",
              "volta",
              "fnm",
              "nvm",
              "corepack",
              "pipenv",
              "conda",
              "mamba",
              "micromamba",
              "pixi",
              "bundle",
              "bundler",
              "nix-shell",
              "nix",
              "op",
              "aws-vault",
              "doppler",
              "chamber",
              "sops",
              "s6-setuidgid",
              "setuidgid",
              "softlimit",
              "envdir",
              "envuidgid",
              "sandbox-exec",
              "caffeinate",
              // fifteenth round: setarch(8) ARCH CMD and its personality links, ssh-agent(1)
              // CMD, expect(1) -c 'spawn CMD', schroot(1), fakechroot(1), proot(1), minijail0(1),
              // nsjail, run-one(1) and its siblings, retry(1), lckdo(1), setlock(8), rr record,
              // uftrace, tsp(1), nq(1), pueue add, lxc-attach(1)/lxc-execute(1), machinectl
              // shell, flatpak-spawn(1), distrobox-enter(1), toolbox run, xterm(1) -e, vagrant
              // ssh -c (the dynamic loader and qemu user emulators: see isWrapper)
              "setarch",
              "linux32",
              "linux64",
              "i386",
              "x86_64",
              "uname26",
              "ssh-agent",
              "expect",
              "spawn",
              "schroot",
              "fakechroot",
              "proot",
              "minijail0",
              "nsjail",
              "run-one",
              "run-this-one",
              "keep-one-running",
              "run-one-constantly",
              "run-one-until-success",
              "run-one-until-failure",
              "retry",
              "lckdo",
              "setlock",
              "rr",
              "uftrace",
              "tsp",
              "nq",
              "pueue",
              "lxc-attach",
              "lxc-execute",
              "machinectl",
              "flatpak-spawn",
              "distrobox-enter",
              "toolbox",
              "xterm",
              "vagrant",
              "cmd", // Windows targets: cmd /c CMD, wsl CMD, runas /user:X CMD
              "wsl",
              "runas",
              // shell built-ins and reserved words (the shells themselves: SHELLS)
              "command",
              "builtin",
              "exec",
              "eval",
              "trap", // trap 'npm publish' EXIT runs the string later
              "alias", // alias x='npm publish' (dash expands aliases in sh -c strings)
              // bash's mapfile/readarray -C CALLBACK evaluates CALLBACK (bash(1) SHELL BUILTIN
              // COMMANDS)
              "mapfile",
              "readarray",
              "coproc",
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
              "poetry"));

  /** Wrappers whose first argument is a package spec that may carry a version ({@code npm@10}). */
  private static final Set<String> PACKAGE_RUNNERS =
      Set.of("npx", "bunx", "pnpx", "pnpm", "yarn", "bun", "uvx", "pipx");

  /**
   * Programs that read the program they run from standard input when given no script operand
   * (sh(1): "If there are no operands and the -c option is not specified, the -s option shall be
   * assumed"; python(1), node(1), perl(1), ruby(1) alike). In a line of several commands ({@code
   * echo 'npm publish' | sh}) that input is made by the line itself and cannot be seen.
   */
  static final Set<String> STDIN_PROGRAMS = union(SHELLS, INTERPRETERS, Set.of("source", "."));

  /**
   * Wrappers that hand (some of) their arguments to a shell: sh -c and the other shells, eval and
   * trap, su -c and runuser -c (su(1)), ssh (the remote login shell runs the words joined, ssh(1)),
   * watch (sh -c, watch(1)), script -c, flock -c, nix-shell --run, tmux and screen commands, capsh
   * -c, parallel, sem, at and batch. Their words are read as shell lines even without blanks, with
   * the shell's expansions ({@code eval '{npm,publish}'}); for the shells themselves only the
   * operand after {@code -c} is ({@code bash -c '{npm,publish}'}).
   */
  private static final Set<String> SHELL_STRINGS =
      union(
          SHELLS,
          Set.of("eval", "trap", "su", "runuser", "ssh", "watch", "script", "flock", "nix-shell"),
          Set.of("tmux", "screen", "capsh", "parallel", "sem", "at", "batch"));

  /**
   * Programs that are not wrappers but take a command line as an option value or argument: rsync(1)
   * -e/--rsh, tar(1) --to-command, -I/--use-compress-program, --checkpoint-action=exec=,
   * -F/--info-script, socat(1) EXEC: and SYSTEM: addresses, tcpdump(8) -z, zip(1) -TT, man(1)
   * -P/--pager, vi/vim/nvim -c '!CMD', gdb(1) -ex '!CMD' or 'shell CMD', scp/sftp -S and -o
   * ProxyCommand=, less(1) (LESSOPEN is an env variable, refused separately), nc/ncat -e, -c,
   * --exec, --sh-exec (ncat(1); see netcatExec), and the program gdb or lldb runs (see debugged).
   */
  private static final Set<String> COMMAND_VALUES =
      Set.of(
          "rsync", "tar", "gtar", "bsdtar", "socat", "tcpdump", "zip", "man", "vi", "vim", "nvim",
          "view", "ex", "gdb", "scp", "sftp", "less", "more", "lldb", "cgdb", "nc", "ncat",
          "netcat");

  /**
   * gdb(1) options that take the next word as their value ({@code gdb --help}; getopt_long_only(3)
   * accepts each with one dash or two). An abbreviation not listed here has its value read as a
   * possible program (more commands, never fewer).
   */
  private static final Set<String> GDB_VALUE_OPTIONS =
      Set.of(
          "ex",
          "eval-command",
          "iex",
          "init-eval-command",
          "x",
          "command",
          "ix",
          "init-command",
          "s",
          "symbols",
          "se",
          "e",
          "exec",
          "c",
          "core",
          "p",
          "pid",
          "d",
          "directory",
          "cd",
          "D",
          "data-directory",
          "t",
          "tty",
          "b",
          "l",
          "i",
          "interpreter",
          "ui",
          "annotate");

  /**
   * lldb(1) options that take the next word as their value ({@code lldb --help}, LLVM's
   * lldb/tools/driver/Options.td): --arch, --core, --file, --attach-name, --attach-pid,
   * --source-on-crash, --one-line-on-crash, --one-line-before-file, --one-line,
   * --source-before-file, --source, --script-language, --repl-language, --capture-path.
   */
  private static final Set<String> LLDB_VALUE_OPTIONS =
      Set.of(
          "a",
          "arch",
          "c",
          "core",
          "f",
          "file",
          "n",
          "attach-name",
          "p",
          "attach-pid",
          "K",
          "source-on-crash",
          "k",
          "one-line-on-crash",
          "O",
          "one-line-before-file",
          "o",
          "one-line",
          "S",
          "source-before-file",
          "s",
          "source",
          "l",
          "script-language",
          "R",
          "repl-language",
          "capture-path");

  /** Debugger options whose value is the program it runs: gdb -e/--exec/--se, lldb -f/--file. */
  private static final Set<String> PROGRAM_OPTIONS =
      Set.of("gdb e", "gdb exec", "gdb se", "lldb f", "lldb file");

  /**
   * gdb's {@code --args}: getopt_long_only(3) reads {@code -args} as {@code --args}, and any prefix
   * of it that no other option shares ({@code -ar}, {@code --arg}; {@code -a} is ambiguous with
   * {@code -annotate} and an error).
   */
  static boolean gdbArgs(String t) {
    String p = t.startsWith("--") ? t.substring(2) : t.startsWith("-") ? t.substring(1) : null;
    return p != null && p.length() >= 2 && "args".startsWith(p);
  }

  /** Appended to a command that xargs or parallel completes with words read from its input. */
  static final String STDIN_WORDS = "${xargs-input}";

  private static final int MAX = 64;

  private CommandWrappers() {}

  /**
   * The name a program is known by, for the tables here: the base name, lower case (a
   * case-insensitive file system runs {@code NPM} as npm), without a Windows {@code .exe}, {@code
   * .cmd}, {@code .bat} or {@code .com} suffix and without a version suffix ({@code bash5}, {@code
   * bash-5.2}, {@code python3.12} are bash and python).
   */
  static String programName(String word) {
    String n =
        windowsName(CommandMatcher.baseName(word).toLowerCase(java.util.Locale.ROOT).strip());
    int end = n.length();
    while (end > 0 && (Character.isDigit(n.charAt(end - 1)) || n.charAt(end - 1) == '.')) {
      end--;
    }
    if (end > 0 && end < n.length() && n.charAt(end - 1) == '-') {
      end--;
    }
    return end > 0 ? n.substring(0, end) : n;
  }

  /**
   * {@code name} as Windows would find the file: without trailing dots and spaces ({@code "npm. "}
   * is npm) and without executable suffixes ({@code npm.exe}, {@code npm.CMD}), case kept.
   */
  static String windowsName(String name) {
    String n = name;
    boolean changed = true;
    while (changed) {
      changed = false;
      int end = n.length();
      while (end > 1 && (n.charAt(end - 1) == '.' || n.charAt(end - 1) == ' ')) {
        end--;
      }
      n = n.substring(0, end);
      for (String ext : List.of(".exe", ".cmd", ".bat", ".com")) {
        if (n.length() > ext.length() && n.regionMatches(true, n.length() - 4, ext, 0, 4)) {
          n = n.substring(0, n.length() - 4);
          changed = true;
          break;
        }
      }
    }
    return n;
  }

  static boolean isWrapper(String word) {
    if (WRAPPERS.contains(programName(word)) || WRAPPERS.contains(CommandMatcher.baseName(word))) {
      return true;
    }
    // the dynamic loader runs the program it is given (ld.so(8): /lib64/ld-linux-x86-64.so.2
    // /usr/bin/npm publish), and so does a qemu user-mode emulator (qemu-x86_64 PROG ARGS)
    String base = CommandMatcher.baseName(word).toLowerCase(java.util.Locale.ROOT);
    return base.startsWith("ld-linux")
        || base.startsWith("ld-musl")
        || base.startsWith("ld.so")
        || base.startsWith("ld64.so")
        || base.startsWith("qemu-");
  }

  /**
   * The inner commands of {@code argv} (not including argv itself), and whether that list is whole:
   * past {@link #MAX} candidates or four levels of wrapping the rest is not looked at, and a deny
   * rule must then assume the worst (padding with 70 wrappers must not hide {@code npm publish}).
   * The list is not whole either when a shell line was too long or deep to read whole, or when a
   * line of several commands feeds a shell or interpreter that reads its program from standard
   * input ({@code echo 'npm publish' | sh}, {@code curl x | bash -s}).
   */
  record Inner(List<List<String>> commands, Set<List<String>> expanded, boolean complete) {
    /**
     * Whether the words of {@code command} went through a shell's expansions (it was read from a
     * shell line, or comes after xargs): then {@code $x}, {@code np?} or {@code {a,b}} are not what
     * runs. Words of argv given directly (an exec request, a wrapper's arguments) are literal.
     */
    boolean expandedByShell(List<String> command) {
      return expanded.contains(command);
    }
  }

  /**
   * @param binary the resolved binary, or null
   * @param shellLine the command line when it needs a shell (its simple commands are candidates
   *     too), or null
   */
  static Inner inner(List<String> argv, String binary, String shellLine) {
    Walk w = new Walk();
    if (shellLine != null && !shellLine.isEmpty()) {
      w.addLine(shellLine, 1, true);
    }
    w.expand(argv, binary, 0, false);
    if (!w.expanded.contains(argv)) {
      // argv itself is matched by the caller; but when it is also a simple command of a line run
      // by a shell, its words are the shell's to expand (npm p*, npm ${x:-publish}, {npm,publish}
      // are npm publish): it stays a candidate, with its words read as computed
      w.out.remove(argv);
    }
    // sh, bash -s, python3, node - alone read their program from standard input, which the caller
    // writes after the decision (an SSH channel, an exec request's stdin): unseen. Checked for the
    // commands that certainly are commands (argv, a line's simple commands, a wrapper's first
    // operand or one after a number: sudo sh, timeout 5 bash), not for every suffix of a
    // wrapper's words (timeout 5 grep -r node, find / -name sh)
    w.entries.add(argv);
    for (List<String> c : w.entries) {
      if ((readsProgramFromStdin(c, false) && !sourcesNothing(c)) || runsUnseenCode(c)) {
        w.cut = true;
      }
    }
    return new Inner(new ArrayList<>(w.out), Set.copyOf(w.expanded), !w.cut);
  }

  /**
   * bash builtins that run code no word of the line shows: {@code enable -f FILE NAME} loads a
   * shared object as a builtin (its constructors run at once; a FILE without a slash is looked up
   * in {@code BASH_LOADABLES_PATH}); {@code fc} re-runs commands from the history list ({@code
   * history -s 'npm publish'; fc -s} runs npm in {@code bash -c}, checked with bash 5.2) or, with
   * {@code -e EDITOR}, runs EDITOR as a command and then what it wrote (bash(1) SHELL BUILTIN
   * COMMANDS). {@code fc -l} only lists, other {@code enable} forms turn builtins on or off.
   * Leading assignments, {@code builtin} and {@code command} are skipped.
   */
  static boolean runsUnseenCode(List<String> cmd) {
    int k = 0;
    while (k < cmd.size() && CommandLine.isAssignment(cmd.get(k))) {
      k++;
    }
    while (k < cmd.size() && (cmd.get(k).equals("builtin") || cmd.get(k).equals("command"))) {
      k++;
      while (k < cmd.size() && cmd.get(k).startsWith("-") && !cmd.get(k).equals("--")) {
        k++; // command -p
      }
      if (k < cmd.size() && cmd.get(k).equals("--")) {
        k++;
      }
    }
    if (k >= cmd.size()) {
      return false;
    }
    String name = cmd.get(k);
    if (!name.equals("enable") && !name.equals("fc")) {
      return false;
    }
    StringBuilder letters = new StringBuilder();
    boolean operands = false;
    boolean editor = false;
    for (int i = k + 1; i < cmd.size(); i++) {
      String a = cmd.get(i);
      if (!operands && a.equals("--")) {
        operands = true;
      } else if (!operands && a.length() > 1 && a.charAt(0) == '-' && !isNumber(a)) {
        int e = name.equals("fc") ? a.indexOf('e', 1) : -1;
        // fc -e takes a value, glued (-evi) or the next word: its letters are not options
        letters.append(a, 1, e < 0 ? a.length() : e);
        if (e >= 0) {
          editor = true;
          if (e == a.length() - 1) {
            i++;
          }
        }
      } else {
        operands = true;
      }
    }
    if (name.equals("fc")) {
      // Only listing when -l is given and neither -s (bash runs the command, -l or not) nor -e
      // (the editor is a command) is: fc -l -s re-runs (review of the sixteenth session).
      return letters.indexOf("l") < 0 || letters.indexOf("s") >= 0 || editor;
    }
    return letters.indexOf("f") >= 0;
  }

  private static boolean isNumber(String a) {
    return a.length() > 1 && a.substring(1).chars().allMatch(Character::isDigit); // fc -5
  }

  /** {@code .} or {@code source} with no file: an error (XCU 2.14 dot), never reads stdin. */
  private static boolean sourcesNothing(List<String> cmd) {
    int k = 0;
    while (k < cmd.size() && CommandLine.isAssignment(cmd.get(k))) {
      k++;
    }
    return k < cmd.size()
        && (cmd.get(k).equals(".") || cmd.get(k).equals("source"))
        && cmd.subList(k + 1, cmd.size()).stream()
            .noneMatch(
                a ->
                    a.equals("-")
                        || a.equals("/dev/stdin")
                        || a.startsWith("/dev/fd/0")
                        || a.startsWith("/proc/self/fd/0"));
  }

  private static final class Walk {
    final Set<List<String>> out = new LinkedHashSet<>();

    /** Candidates that are certainly commands, see {@link #inner}. */
    final Set<List<String>> entries = new LinkedHashSet<>();

    final Set<List<String>> expanded = new java.util.HashSet<>();
    boolean cut;

    /**
     * @param known the text is certainly run by a shell (a -c operand, eval's arguments, a line
     *     that needs a shell): its words get the shell's expansions. Otherwise it is an argument
     *     read as a line only in case (it has blanks or shell syntax), and its words stay literal.
     */
    void addLine(String line, int depth, boolean known) {
      CommandLine.Split split = CommandLine.split(line);
      if (!split.complete()) {
        cut = true;
      }
      List<List<String>> cmds = split.commands();
      if (cmds.size() > 1) {
        for (List<String> c : cmds) {
          if (readsProgramFromStdin(c)) {
            cut = true; // the program it runs is written by the line itself: cannot be seen
          }
        }
      }
      for (List<String> c : cmds) {
        add(c, depth, known);
        if (entries.size() < MAX) {
          entries.add(c);
        }
      }
    }

    void add(List<String> cmd, int depth, boolean shellWords) {
      if (cmd.isEmpty()) {
        return;
      }
      if (out.contains(cmd)) {
        if (shellWords && expanded.add(List.copyOf(cmd))) {
          expand(cmd, null, depth, true);
        }
        return;
      }
      if (out.size() >= MAX) {
        cut = true;
        return;
      }
      List<String> copy = List.copyOf(cmd);
      out.add(copy);
      if (shellWords) {
        expanded.add(copy);
      }
      expand(cmd, null, depth, shellWords);
    }

    void expand(List<String> argv, String binary, int depth, boolean shellWords) {
      if (argv.isEmpty()) {
        return;
      }
      String first = argv.get(0);
      String name = programName(first);
      if (binary != null && !isWrapper(first) && isWrapper(binary)) {
        name = programName(binary);
      }
      if (name.equals("hash") && hashSetsPath(argv)) {
        // bash's hash -p PATH NAME makes NAME run PATH (bash(1) SHELL BUILTIN COMMANDS): every
        // later command name may be another program, which cannot be read
        cut = true;
        return;
      }
      boolean npm = name.equals("npm") || (binary != null && programName(binary).equals("npm"));
      boolean git = name.equals("git") || (binary != null && programName(binary).equals("git"));
      if (npm) {
        // npm resolves abbreviations and aliases (npm pu is publish, npm i is install): the
        // canonical spelling is a candidate too, and npm exec/x/explore run a command
        List<String> canonical = Npm.canonicalize(argv);
        if (!canonical.equals(argv)) {
          if (depth > 4 || out.size() >= MAX) {
            cut = true;
            return;
          }
          add(canonical, depth + 1, shellWords);
        }
        if (!Npm.runsCommand(canonical)) {
          return;
        }
      } else if (git) {
        gitConfig(argv, depth);
        return;
      } else if (COMMAND_VALUES.contains(name)) {
        commandValues(argv, depth, shellWords);
        return;
      } else if (!CommandLine.isAssignment(first)
          && !isWrapper(first)
          && !(binary != null && isWrapper(binary))) {
        return;
      }
      if (depth > 4 || out.size() >= MAX) {
        cut = true;
        return;
      }
      if (CommandLine.isAssignment(first)) {
        int i = 0;
        while (i < argv.size() && CommandLine.isAssignment(argv.get(i))) {
          assignedLine(argv.get(i), depth, shellWords);
          i++;
        }
        add(argv.subList(i, argv.size()), depth + 1, shellWords);
        if (entries.size() < MAX) {
          entries.add(argv.subList(i, argv.size())); // A=1 sh
        }
        return;
      }
      boolean fromInput = name.equals("xargs") || name.equals("parallel") || name.equals("sem");
      // sh(1): sh -c COMMAND_STRING [COMMAND_NAME [ARGUMENT...]]: only the first operand after -c
      // is shell text; the rest are $0, $1... (which the string can run only through "$@", a
      // computed word). Other SHELL_STRINGS programs hand all their words to a shell.
      boolean shellProgram = STDIN_PROGRAMS.contains(name) && !INTERPRETERS.contains(name);
      boolean shellText = SHELL_STRINGS.contains(name) && !shellProgram;
      boolean knownValues = shellText || name.equals("env"); // env -S expands ${VAR} (env(1))
      boolean dashC = false;
      boolean commandString = false;
      boolean operandSeen = false;
      for (int i = 1; i < argv.size(); i++) {
        if (out.size() >= MAX) {
          cut = true;
          return;
        }
        String t = argv.get(i);
        if (shellProgram && !commandString && (t.startsWith("-") || t.startsWith("+"))) {
          dashC |= isCommandOption(t);
          if (t.length() == 2 && "oO".indexOf(t.charAt(1)) >= 0) {
            i++; // set -o NAME, shopt -O NAME: the next word is the option's name
            continue;
          }
        }
        if (t.startsWith("-")) {
          int eq = t.indexOf('=');
          String value =
              eq >= 0
                  ? t.substring(eq + 1)
                  : t.startsWith("--") ? "" : t.length() > 2 ? t.substring(2) : "";
          if (CommandLine.looksLikeCommands(value)) {
            addLine(value, depth + 1, knownValues);
          }
          if (CommandLine.isAssignment(value)) {
            assignedLine(value, depth, knownValues); // ssh -oProxyCommand='npm publish'
          }
          if (!value.isEmpty() && !value.startsWith("-") && !name.equals("find")) {
            // an option's glued value followed by the rest: env -Snpm publish runs npm publish
            // (env(1) -S/--split-string splits its value into words and appends the operands)
            List<String> glued = new ArrayList<>(List.of(value.trim().split("[ \t\n]+")));
            glued.addAll(argv.subList(i + 1, argv.size()));
            add(glued, depth + 1, shellWords);
          }
          continue;
        }
        if (shellProgram && dashC && !commandString) {
          commandString = true;
          addLine(t, depth + 1, true); // a shell reads it: {npm,publish}, np? and $x are expanded
          continue;
        }
        if (t.isEmpty()) {
          continue;
        }
        if (CommandLine.isAssignment(t)) {
          assignedLine(t, depth, shellWords || shellText); // alias x='npm publish'
          continue;
        }
        add(argv.subList(i, argv.size()), depth + 1, shellWords);
        if ((!operandSeen || argv.get(i - 1).matches("[0-9.]+[a-z]?")) && entries.size() < MAX) {
          entries.add(argv.subList(i, argv.size()));
        }
        operandSeen = true;
        boolean findExec =
            name.equals("find")
                && List.of("-exec", "-execdir", "-ok", "-okdir").contains(argv.get(i - 1))
                && argv.subList(i, argv.size()).stream().anyMatch(a -> a.contains("{}"));
        if (fromInput || findExec) {
          // xargs npm: the rest of npm's arguments come from the input; find NAME -exec npm {} ;
          // passes the paths it finds, which the caller names (find publish -exec npm {} ;)
          List<String> completed = new ArrayList<>(argv.subList(i, argv.size()));
          completed.add(STDIN_WORDS);
          add(completed, depth + 1, true);
        }
        int at = t.lastIndexOf('@');
        if (at > 0 && PACKAGE_RUNNERS.contains(name)) { // npx npm@10 publish runs npm publish
          List<String> unversioned = new ArrayList<>(argv.subList(i, argv.size()));
          unversioned.set(0, t.substring(0, at));
          add(unversioned, depth + 1, shellWords);
        }
        if (shellText && !t.isBlank()) {
          addLine(t, depth + 1, true);
        } else if (CommandLine.looksLikeCommands(t)) {
          addLine(t, depth + 1, false);
        }
      }
    }

    /**
     * The program a debugger runs. gdb(1): {@code --args PROG ARGS...}, where getopt_long_only(3)
     * also accepts {@code -args} and any unambiguous prefix ({@code --arg}, {@code -ar}); otherwise
     * the first operand, or the value of {@code -e/--exec/--se}, is the program. lldb(1) ({@code
     * lldb --help}): {@code lldb [options] PROG ARGS...}, {@code lldb -f PROG -- ARGS...}, {@code
     * lldb -- PROG ARGS...}. Either debugger can give the program any arguments later ({@code -ex
     * 'run publish'}, {@code -o 'process launch -- publish'}, a script), so each program is also
     * read with {@link #STDIN_WORDS} for arguments. Every operand is taken as a possible program:
     * an option this list does not know to take a value (an abbreviation) makes its value look like
     * one, which finds more commands, never fewer.
     */
    private void debugged(List<String> argv, int depth, boolean lldb, boolean shellWords) {
      Set<String> values = lldb ? LLDB_VALUE_OPTIONS : GDB_VALUE_OPTIONS;
      String file = null;
      for (int i = 1; i < argv.size(); i++) {
        if (depth > 4 || out.size() >= MAX) {
          cut = true;
          return;
        }
        String t = argv.get(i);
        List<String> rest = argv.subList(i + 1, argv.size());
        if (t.equals("--") || (!lldb && gdbArgs(t))) {
          if (file != null) {
            List<String> withFile = new ArrayList<>(rest.size() + 1);
            withFile.add(file);
            withFile.addAll(rest);
            add(withFile, depth + 1, shellWords); // lldb -f npm -- publish
          }
          add(rest, depth + 1, shellWords); // gdb --args npm publish, lldb -- npm publish
          return;
        }
        if (t.startsWith("-") && t.length() > 1) {
          String opt = t.substring(t.startsWith("--") ? 2 : 1);
          int eq = opt.indexOf('=');
          String key = eq >= 0 ? opt.substring(0, eq) : opt;
          String value = null;
          if (eq >= 0) {
            value = opt.substring(eq + 1);
          } else if (values.contains(key) && i + 1 < argv.size()) {
            value = argv.get(++i);
          }
          if (value != null && PROGRAM_OPTIONS.contains((lldb ? "lldb " : "gdb ") + key)) {
            file = value;
            add(List.of(value, STDIN_WORDS), depth + 1, true); // gdb -e npm, lldb -f npm
          }
          continue;
        }
        // an operand: the program (lldb: with the words after it as its arguments)
        add(List.of(t, STDIN_WORDS), depth + 1, true);
        if (lldb && !rest.isEmpty()) {
          add(argv.subList(i, argv.size()), depth + 1, shellWords);
        }
      }
    }

    /** nc -e PROG, ncat --exec "PROG ARGS" (split at blanks, no shell), -c / --sh-exec LINE. */
    private void netcatExec(List<String> argv, int depth, boolean shellWords) {
      for (int i = 1; i < argv.size(); i++) {
        if (depth > 4 || out.size() >= MAX) {
          cut = true;
          return;
        }
        String t = argv.get(i);
        String value = null;
        boolean line = false;
        if (t.equals("--")) {
          return;
        } else if (t.startsWith("--") && t.length() > 2) {
          // getopt_long(3) takes any unambiguous prefix: --exe, --sh
          int eq = t.indexOf('=');
          String key = t.substring(2, eq >= 0 ? eq : t.length());
          boolean exec = "exec".startsWith(key);
          line = "sh-exec".startsWith(key);
          if (exec || line) {
            value = eq >= 0 ? t.substring(eq + 1) : i + 1 < argv.size() ? argv.get(++i) : null;
          }
        } else if (t.startsWith("-")) {
          // a getopt(3) cluster: -e/-c take the rest of the word or the next word (-ve /bin/sh)
          for (int x = 1; x < t.length(); x++) {
            char o = t.charAt(x);
            if (o == 'e' || o == 'c') {
              line = o == 'c';
              value =
                  x + 1 < t.length()
                      ? t.substring(x + 1)
                      : i + 1 < argv.size() ? argv.get(++i) : null;
              break;
            }
          }
        }
        if (value == null || value.isBlank()) {
          continue;
        }
        if (line) {
          addLine(value, depth + 1, true);
        } else {
          add(List.of(value.trim().split("[ \t\n]+")), depth + 1, shellWords);
        }
      }
    }

    private void assignedLine(String assignment, int depth, boolean known) {
      String value = assignment.substring(assignment.indexOf('=') + 1);
      if (CommandLine.looksLikeCommands(value)) {
        addLine(value, depth + 1, known);
      }
    }

    /**
     * Programs of {@link #COMMAND_VALUES}: every argument and option value that looks like a
     * command line, after a prefix naming it as one ({@code EXEC:}, {@code SYSTEM:}, {@code exec=},
     * {@code !}), is read as a shell line.
     */
    private void commandValues(List<String> argv, int depth, boolean shellWords) {
      if (depth > 4) {
        cut = true;
        return;
      }
      String name = programName(argv.get(0));
      boolean debugger = name.equals("gdb") || name.equals("cgdb") || name.equals("lldb");
      if (debugger) {
        debugged(argv, depth, name.equals("lldb"), shellWords);
      } else if (name.equals("nc") || name.equals("ncat") || name.equals("netcat")) {
        netcatExec(argv, depth, shellWords);
      }
      for (int i = 1; i < argv.size(); i++) {
        String t = argv.get(i);
        if (debugger && (gdbArgs(t) || t.equals("--"))) {
          return; // debugged() read the command after it
        }
        int eq = t.startsWith("-") ? t.indexOf('=') : -1;
        String v = eq >= 0 ? t.substring(eq + 1) : t;
        String lower = v.toLowerCase(java.util.Locale.ROOT);
        for (String prefix : List.of("exec:", "system:", "exec=", ":!", "+:!", "!")) {
          int at = lower.indexOf(prefix);
          if (at >= 0 && at < 8) {
            v = v.substring(at + prefix.length());
            lower = v.toLowerCase(java.util.Locale.ROOT);
          }
        }
        if (CommandLine.looksLikeCommands(v)) {
          addLine(v, depth + 1, true); // tar --to-command, socat SYSTEM: run it with sh -c
        }
      }
    }

    /**
     * git -c NAME=VALUE: several keys hold a command git runs (core.pager, core.editor,
     * core.sshCommand, core.fsmonitor, diff.external, alias.X=!CMD, ...; git-config(1)); each value
     * is read as a shell line, without a leading {@code !}.
     */
    private void gitConfig(List<String> argv, int depth) {
      for (int i = 1; i < argv.size(); i++) {
        String t = argv.get(i);
        String kv = null;
        if (t.equals("-c") && i + 1 < argv.size()) {
          kv = argv.get(++i);
        } else if (t.startsWith("-c") && !t.startsWith("--")) {
          kv = t.substring(2);
        } else if (t.startsWith("--config-env=")) {
          kv = t.substring("--config-env=".length());
        }
        int eq = kv == null ? -1 : kv.indexOf('=');
        if (eq >= 0) {
          String value = kv.substring(eq + 1);
          if (value.startsWith("!")) {
            value = value.substring(1);
          }
          if (depth > 4) {
            cut = true;
            return;
          }
          addLine(value, depth + 1, true); // git runs these with sh -c (git-config(1))
        }
      }
    }
  }

  /** Whether a {@code hash} command has the {@code -p} option (alone or in a cluster). */
  private static boolean hashSetsPath(List<String> argv) {
    for (int i = 1; i < argv.size(); i++) {
      String t = argv.get(i);
      if (t.equals("--") || !t.startsWith("-")) {
        return false;
      }
      if (t.indexOf('p') > 0) {
        return true;
      }
    }
    return false;
  }

  /** A shell option that makes the first operand the command string: -c, -ec, -Command. */
  private static boolean isCommandOption(String t) {
    if (t.startsWith("--")) {
      return t.equals("--command");
    }
    String f = t.substring(1);
    return f.equalsIgnoreCase("command") || (t.startsWith("-") && f.indexOf('c') >= 0);
  }

  /**
   * Whether a simple command (possibly behind wrappers: {@code sudo -u x bash -s}) runs a shell or
   * interpreter that reads its program from standard input: no operand but {@code -} or {@code
   * /dev/stdin}, and no {@code -c}/{@code -e} code.
   */
  static boolean readsProgramFromStdin(List<String> cmd) {
    return readsProgramFromStdin(cmd, true);
  }

  /**
   * @param behind whether a program behind a wrapper's words counts ({@code | sudo sh}); without,
   *     only the command's own program ({@code sh}, not {@code find / -name sh})
   */
  private static boolean readsProgramFromStdin(List<String> cmd, boolean behind) {
    int k = 0;
    while (k < cmd.size() && CommandLine.isAssignment(cmd.get(k))) {
      k++;
    }
    if (k >= cmd.size()) {
      return false;
    }
    boolean behindWrapper = behind && isWrapper(cmd.get(k));
    for (int j = k; j < cmd.size(); j++) {
      if (j > k && !behindWrapper) {
        return false;
      }
      if (!STDIN_PROGRAMS.contains(programName(cmd.get(j)))) {
        continue;
      }
      String prog = programName(cmd.get(j));
      boolean interpreter = INTERPRETERS.contains(prog);
      boolean operand = false;
      for (int m = j + 1; m < cmd.size() && !operand; m++) {
        String a = cmd.get(m);
        if (a.equals("--version") || a.equals("--help")) {
          return false; // prints and exits
        }
        if (!interpreter
            && a.length() > 1
            && a.charAt(0) == '-'
            && a.charAt(1) != '-'
            && a.indexOf('s') > 0
            && a.indexOf('c') < 0) {
          return true; // sh -s ARG...: the operands are positional parameters, the program stdin
        }
        if (a.equals("-")
            || a.equals("/dev/stdin")
            || a.startsWith("/dev/fd/0")
            || a.startsWith("/proc/self/fd/0")) {
          continue;
        }
        if (a.startsWith("--")) {
          int eq = a.indexOf('=');
          String f = eq < 0 ? a : a.substring(0, eq);
          operand = f.equals("--command") || f.equals("--eval") || f.equals("--print");
          continue;
        }
        if (a.startsWith("-")) {
          String f = a.substring(1);
          operand =
              f.equalsIgnoreCase("command")
                  || f.indexOf('c') >= 0
                  || (interpreter && (f.indexOf('e') >= 0 || f.indexOf('p') >= 0));
          continue;
        }
        operand = true;
      }
      if (!operand) {
        return true;
      }
    }
    return false;
  }

  /**
   * npm's command resolution (npm/cli lib/utils/cmd-list.js and lib/npm.js {@code deref}, npm 7 to
   * 11): a camelCase name becomes kebab-case, an exact command name is itself, an alias maps to its
   * command ({@code i}, {@code add}, {@code isntall} are install; {@code x} is exec), and any
   * unambiguous prefix of a command or alias is accepted ({@code pu}, {@code publ} are publish).
   * The tables are npm 11.19.1's (twenty-first session, rt21exec): {@code run-script}, {@code rum}
   * and {@code urn} are aliases of {@code run}, {@code u} is update, and {@code stage} (whose
   * {@code approve} publishes a staged package), {@code trust} (trusted publishing), {@code
   * approve-scripts}, {@code deny-scripts} and {@code install-scripts} are commands, so that {@code
   * npm stag approve} is {@code stage} and {@code npm run-script x} is {@code run} to a deny rule.
   */
  static final class Npm {
    private static final List<String> COMMANDS =
        List.of(
            "access",
            "adduser",
            "approve-scripts",
            "audit",
            "bugs",
            "cache",
            "ci",
            "completion",
            "config",
            "dedupe",
            "deny-scripts",
            "deprecate",
            "diff",
            "dist-tag",
            "docs",
            "doctor",
            "edit",
            "exec",
            "explain",
            "explore",
            "find-dupes",
            "fund",
            "get",
            "help",
            "help-search",
            "init",
            "install",
            "install-ci-test",
            "install-scripts",
            "install-test",
            "link",
            "ll",
            "login",
            "logout",
            "ls",
            "org",
            "outdated",
            "owner",
            "pack",
            "ping",
            "pkg",
            "prefix",
            "profile",
            "prune",
            "publish",
            "query",
            "rebuild",
            "repo",
            "restart",
            "root",
            "run",
            "sbom",
            "search",
            "set",
            "shrinkwrap",
            "stage",
            "star",
            "stars",
            "start",
            "stop",
            "team",
            "test",
            "token",
            "trust",
            "undeprecate",
            "uninstall",
            "unpublish",
            "unstar",
            "update",
            "version",
            "view",
            "whoami");

    private static final java.util.Map<String, String> ALIASES =
        java.util.Map.ofEntries(
            java.util.Map.entry("author", "owner"),
            java.util.Map.entry("home", "docs"),
            java.util.Map.entry("issues", "bugs"),
            java.util.Map.entry("info", "view"),
            java.util.Map.entry("show", "view"),
            java.util.Map.entry("find", "search"),
            java.util.Map.entry("add", "install"),
            java.util.Map.entry("unlink", "uninstall"),
            java.util.Map.entry("remove", "uninstall"),
            java.util.Map.entry("rm", "uninstall"),
            java.util.Map.entry("r", "uninstall"),
            java.util.Map.entry("un", "uninstall"),
            java.util.Map.entry("rb", "rebuild"),
            java.util.Map.entry("list", "ls"),
            java.util.Map.entry("ln", "link"),
            java.util.Map.entry("create", "init"),
            java.util.Map.entry("i", "install"),
            java.util.Map.entry("it", "install-test"),
            java.util.Map.entry("cit", "install-ci-test"),
            java.util.Map.entry("u", "update"),
            java.util.Map.entry("up", "update"),
            java.util.Map.entry("c", "config"),
            java.util.Map.entry("s", "search"),
            java.util.Map.entry("se", "search"),
            java.util.Map.entry("tst", "test"),
            java.util.Map.entry("t", "test"),
            java.util.Map.entry("ddp", "dedupe"),
            java.util.Map.entry("v", "view"),
            java.util.Map.entry("run-script", "run"),
            java.util.Map.entry("clean-install", "ci"),
            java.util.Map.entry("clean-install-test", "install-ci-test"),
            java.util.Map.entry("x", "exec"),
            java.util.Map.entry("why", "explain"),
            java.util.Map.entry("la", "ll"),
            java.util.Map.entry("verison", "version"),
            java.util.Map.entry("ic", "ci"),
            java.util.Map.entry("innit", "init"),
            java.util.Map.entry("in", "install"),
            java.util.Map.entry("ins", "install"),
            java.util.Map.entry("inst", "install"),
            java.util.Map.entry("insta", "install"),
            java.util.Map.entry("instal", "install"),
            java.util.Map.entry("isnt", "install"),
            java.util.Map.entry("isnta", "install"),
            java.util.Map.entry("isntal", "install"),
            java.util.Map.entry("isntall", "install"),
            java.util.Map.entry("install-clean", "ci"),
            java.util.Map.entry("isntall-clean", "ci"),
            java.util.Map.entry("hlep", "help"),
            java.util.Map.entry("dist-tags", "dist-tag"),
            java.util.Map.entry("upgrade", "update"),
            java.util.Map.entry("udpate", "update"),
            java.util.Map.entry("rum", "run"),
            java.util.Map.entry("sit", "install-ci-test"),
            java.util.Map.entry("urn", "run"),
            java.util.Map.entry("ogr", "org"),
            java.util.Map.entry("add-user", "adduser"));

    private Npm() {}

    /** The command npm runs for {@code word}, or null when it names none. */
    static String resolve(String word) {
      if (word.isEmpty() || word.length() > 40) {
        return null;
      }
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < word.length(); i++) { // installTest -> install-test
        char c = word.charAt(i);
        if (c >= 'A' && c <= 'Z') {
          b.append('-').append((char) (c + 32));
        } else {
          b.append(c);
        }
      }
      String c = b.toString();
      if (COMMANDS.contains(c)) {
        return c;
      }
      if (ALIASES.containsKey(c)) {
        return ALIASES.get(c);
      }
      String found = null;
      for (String name : COMMANDS) {
        if (name.startsWith(c)) {
          if (found != null) {
            return null; // ambiguous
          }
          found = name;
        }
      }
      for (String name : ALIASES.keySet()) {
        if (name.startsWith(c)) {
          if (found != null && !found.equals(name)) {
            return null;
          }
          found = name;
        }
      }
      while (found != null && ALIASES.containsKey(found) && !ALIASES.get(found).equals(found)) {
        found = ALIASES.get(found);
      }
      return found;
    }

    /**
     * argv with npm's command spelled out: every positional argument before {@code --} up to and
     * including the first that names a command (a value flag npm knows but the policy does not may
     * come first: {@code npm --cache /tmp/c pu}).
     */
    static List<String> canonicalize(List<String> argv) {
      List<String> out = null;
      for (int i = 1; i < argv.size(); i++) {
        String t = argv.get(i);
        if (t.equals("--")) {
          break;
        }
        if (t.startsWith("-")) {
          continue;
        }
        String c = resolve(t);
        if (c != null) {
          if (!c.equals(t)) {
            out = out == null ? new ArrayList<>(argv) : out;
            out.set(i, c);
          }
          break;
        }
      }
      return out == null ? argv : out;
    }

    /** Whether npm's command runs another command: exec (x, npx) and explore. */
    static boolean runsCommand(List<String> canonical) {
      for (int i = 1; i < canonical.size(); i++) {
        String t = canonical.get(i);
        if (t.equals("--")) {
          return false;
        }
        if (!t.startsWith("-") && COMMANDS.contains(t)) {
          return t.equals("exec") || t.equals("explore");
        }
      }
      return false;
    }
  }
}
