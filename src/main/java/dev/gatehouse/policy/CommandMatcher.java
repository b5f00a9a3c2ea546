package dev.gatehouse.policy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * {@code command:} matcher for exec and SSH exec requests.
 *
 * <p>The argv is split into flags and positional arguments the way getopt would: {@code --name},
 * {@code --name=value}, {@code -x}, clustered {@code -xzf}, and {@code --} ending the flags. A flag
 * listed in {@code flags_with_values} consumes the next token, so {@code npm --loglevel silent
 * publish} is still {@code publish}. A value-taking flag that is <em>not</em> listed shifts the
 * positional arguments; an allow rule then fails to match (default deny), and deny rules match
 * their {@code args} anywhere in order, so the shift cannot hide a denied subcommand either.
 *
 * <p>Deny rules are read generously (they must not be evaded): they see the commands inside
 * wrappers and shell lines ({@link CommandWrappers}), match binaries case-insensitively and by base
 * name, take a long flag for any listed flag it abbreviates, and treat words a shell computes as
 * anything. Allow rules are read strictly: a wildcard in {@code env} never admits a variable that
 * makes a program run code ({@link #riskyEnv}), a flag that does ({@link RiskyFlags}: {@code
 * --script-shell}, {@code git -c}) must be named by the rule, and a {@code shell: true} rule is
 * checked against every simple command of the line ({@code shellLineMismatch}).
 *
 * <p>What this does not guarantee: wrappers that run another program ({@code env}, {@code sh -c},
 * {@code xargs}, {@code find -exec}) are only as safe as the allow list that admits them.
 */
final class CommandMatcher implements KindMatcher {
  static final List<String> KEYS =
      List.of(
          "binary",
          "subcommand",
          "args",
          "paths",
          "flags",
          "flags_with_values",
          "env",
          "cwd",
          "shell");
  static final List<String> FLAG_KEYS = List.of("allowed", "denied", "present", "accept_risky");

  private final List<Binary> binaries; // null = any
  private final List<List<ArgPattern>> args; // position -> alternatives
  private final List<PathPattern> paths; // null = no constraint on further arguments
  private final List<Glob> flagsAllowed;
  private final List<Glob> flagsDenied;
  private final List<Glob> flagsPresent;
  private final List<String> acceptRisky; // risky flags (RiskyFlags) this rule admits; null = none
  private final Set<String> flagsWithValues;
  private final List<Glob> env; // null = caller may set no variables
  private final Glob cwd;
  private final boolean shell;

  private CommandMatcher(
      List<Binary> binaries,
      List<List<ArgPattern>> args,
      List<PathPattern> paths,
      List<Glob> flagsAllowed,
      List<Glob> flagsDenied,
      List<Glob> flagsPresent,
      List<String> acceptRisky,
      Set<String> flagsWithValues,
      List<Glob> env,
      Glob cwd,
      boolean shell) {
    this.binaries = binaries;
    this.args = args;
    this.paths = paths;
    this.flagsAllowed = flagsAllowed;
    this.flagsDenied = flagsDenied;
    this.flagsPresent = flagsPresent;
    this.acceptRisky = acceptRisky;
    this.flagsWithValues = flagsWithValues;
    this.env = env;
    this.cwd = cwd;
    this.shell = shell;
  }

  /**
   * An allowed binary: an absolute path glob, or a base name glob matched against the base name.
   */
  record Binary(Glob glob, Glob folded, Glob baseFolded, boolean absolute) {
    boolean matches(String bin) {
      return glob.matches(absolute ? PathPattern.normalize(bin) : baseName(bin));
    }

    /**
     * For deny rules: also in another case ({@code NPM}, {@code /usr/local/bin/Npm}: macOS and
     * Windows file systems are case-insensitive, and an SSH target's file system is unknown) and
     * with a Windows executable suffix or trailing dots and spaces ({@code npm.exe}, {@code
     * npm.cmd}, {@code npm.}); and an absolute path whose last segment has no wildcard also by that
     * base name ({@code /usr/bin/npm} denies {@code npm}, {@code /bin/npm} and {@code
     * /opt/node/bin/npm}: an SSH target runs argv[0] as typed, through its PATH, and /bin is
     * /usr/bin on merged-/usr systems).
     */
    boolean matchesLoosely(String bin) {
      if (matches(bin)) {
        return true;
      }
      String b = CommandWrappers.windowsName(bin);
      return folded.matches(absolute ? PathPattern.normalize(b) : baseName(b))
          || (baseFolded != null && baseFolded.matches(baseName(b)));
    }

    @Override
    public String toString() {
      return glob.toString();
    }
  }

  /** One positional-argument pattern: a literal, a glob, or {@code re:} followed by a regex. */
  record ArgPattern(String text, Glob glob, Pattern regex) {
    static ArgPattern compile(String text) {
      if (text.startsWith("re:")) {
        try {
          return new ArgPattern(text, null, Pattern.compile(text.substring(3)));
        } catch (PatternSyntaxException e) {
          throw new IllegalArgumentException(
              "regex: "
                  + text.substring(3)
                  + " is not valid ("
                  + e.getDescription()
                  + "; expected a Java regular expression after re:)",
              e);
        }
      }
      return new ArgPattern(text, Glob.compile(text, false, false), null);
    }

    boolean matches(String s) {
      return regex != null ? regex.matcher(s).matches() : glob.matches(s);
    }

    @Override
    public String toString() {
      return text;
    }
  }

  static CommandMatcher parse(YamlReader r, Node node, String path, Effect effect) {
    Map<String, Node> m = r.mapping(node, path, KEYS);
    if (m == null) {
      return null;
    }
    List<Binary> binaries = null;
    if (m.containsKey("binary")) {
      List<String> list = r.strings(m.get("binary"), path + ".binary");
      binaries = new ArrayList<>();
      for (String b : list == null ? List.<String>of() : list) {
        boolean absolute = b.startsWith("/");
        if (!absolute && b.contains("/")) {
          r.error(
              m.get("binary"),
              path + ".binary",
              b + " (expected an absolute path such as /usr/bin/npm or a base name such as npm)");
          continue;
        }
        try {
          String g = absolute ? PathPattern.normalize(b) : b;
          String last = baseName(g);
          Glob base =
              absolute && effect == Effect.DENY && !last.isEmpty() && !last.matches(".*[*?\\[{].*")
                  ? Glob.compile(last, false, true)
                  : null;
          binaries.add(
              new Binary(
                  Glob.compile(g, absolute, false),
                  Glob.compile(g, absolute, true),
                  base,
                  absolute));
        } catch (IllegalArgumentException e) {
          r.error(m.get("binary"), path + ".binary", e.getMessage());
        }
      }
      binaries = List.copyOf(binaries);
    }
    List<List<ArgPattern>> args = new ArrayList<>();
    if (m.containsKey("subcommand")) {
      List<ArgPattern> alts = alternatives(r, m.get("subcommand"), path + ".subcommand");
      if (alts != null) {
        args.add(alts);
      }
    }
    if (m.containsKey("args")) {
      List<Node> items = r.sequence(m.get("args"), path + ".args", " such as [get, \"re:pods?\"]");
      if (items != null) {
        int i = 0;
        for (Node item : items) {
          List<ArgPattern> alts = alternatives(r, item, path + ".args[" + i++ + "]");
          if (alts != null) {
            args.add(alts);
          }
        }
      }
    }
    List<PathPattern> paths = null;
    if (m.containsKey("paths")) {
      paths = pathPatterns(r, m.get("paths"), path + ".paths");
    }
    List<Glob> allowed = null;
    List<Glob> denied = null;
    List<Glob> present = null;
    List<String> acceptRisky = null;
    if (m.containsKey("flags")) {
      Map<String, Node> f = r.mapping(m.get("flags"), path + ".flags", FLAG_KEYS);
      if (f != null) {
        allowed = flagGlobs(r, f.get("allowed"), path + ".flags.allowed");
        denied = flagGlobs(r, f.get("denied"), path + ".flags.denied");
        present = flagGlobs(r, f.get("present"), path + ".flags.present");
        if (allowed != null && effect == Effect.DENY) {
          r.error(
              f.get("allowed"),
              path + ".flags.allowed",
              "not allowed on a deny rule (any other flag would slip past the deny; use"
                  + " flags.present to deny commands that carry a flag)");
        }
        if (f.containsKey("accept_risky")) {
          acceptRisky =
              acceptRisky(r, f.get("accept_risky"), path + ".flags.accept_risky", binaries, effect);
        }
      }
    }
    Set<String> withValues = new HashSet<>();
    if (m.containsKey("flags_with_values")) {
      List<String> l = r.strings(m.get("flags_with_values"), path + ".flags_with_values");
      if (l != null) {
        for (String s : l) {
          if (!s.startsWith("-")) {
            r.error(
                m.get("flags_with_values"),
                path + ".flags_with_values",
                s + " (expected a flag such as --registry or -n)");
          }
          withValues.add(s);
        }
      }
    }
    List<Glob> env = null;
    if (m.containsKey("env")) {
      env = flagGlobs(r, m.get("env"), path + ".env");
      if (effect == Effect.DENY) {
        r.error(
            m.get("env"),
            path + ".env",
            "not allowed on a deny rule (setting any other variable would slip past the deny)");
      }
    }
    Glob cwd = null;
    if (m.containsKey("cwd")) {
      String c = r.string(m.get("cwd"), path + ".cwd");
      if (c != null) {
        try {
          cwd = Glob.compile(c, true, false);
        } catch (IllegalArgumentException e) {
          r.error(m.get("cwd"), path + ".cwd", e.getMessage());
        }
      }
    }
    boolean shell = false;
    if (m.containsKey("shell")) {
      shell = Boolean.TRUE.equals(r.bool(m.get("shell"), path + ".shell"));
    }
    return new CommandMatcher(
        binaries,
        List.copyOf(args),
        paths,
        allowed,
        denied,
        present,
        acceptRisky,
        Set.copyOf(withValues),
        env,
        cwd,
        shell);
  }

  /**
   * {@code flags.accept_risky}: flags of the {@link RiskyFlags} catalogue this allow or review rule
   * admits, each by its exact name and known for one of the rule's binaries (any catalogued program
   * when the rule names none, or names one by a glob), so a typo cannot pass silently.
   */
  private static List<String> acceptRisky(
      YamlReader r, Node n, String path, List<Binary> binaries, Effect effect) {
    if (effect == Effect.DENY) {
      r.error(
          n,
          path,
          "not allowed on a deny rule (deny rules refuse what they list; risky flags only restrict"
              + " allow and review rules)");
      return null;
    }
    List<String> items = r.strings(n, path);
    if (items == null) {
      return null;
    }
    List<String> programs = null;
    if (binaries != null) {
      programs = new ArrayList<>();
      for (Binary b : binaries) {
        if (!b.glob().isLiteral()) {
          programs = null; // a glob may name any program
          break;
        }
        programs.add(baseName(b.glob().literal()));
      }
    }
    String names =
        programs == null
            ? "any of " + String.join(", ", RiskyFlags.programs())
            : String.join(", ", programs);
    for (String s : items) {
      if (!s.matches(".*[*?\\[{].*") && RiskyFlags.catalogued(s, programs)) {
        // also a value or subcommand entry: --network=host, bind-mount, plugin install, git's
        // ext:: URLs
        continue;
      }
      if (!s.startsWith("-") || s.matches(".*[*?\\[{=].*")) {
        r.error(n, path, s + " (expected one flag by its exact name, such as --kubeconfig or -c)");
      } else {
        List<String> known = RiskyFlags.listed(programs);
        r.error(
            n,
            path,
            s
                + " is not a risky flag of "
                + names
                + (known.isEmpty()
                    ? " (no risky flags are catalogued for it)"
                    : " (its risky flags: " + String.join(", ", known) + ")")
                + "; list ordinary flags in flags.allowed");
      }
    }
    return List.copyOf(items);
  }

  private static List<ArgPattern> alternatives(YamlReader r, Node n, String path) {
    List<String> texts = r.strings(n, path);
    if (texts == null) {
      return null;
    }
    if (texts.isEmpty() || (n instanceof SequenceNode s && s.getValue().isEmpty())) {
      r.error(n, path, "empty list (expected at least one pattern)");
      return null;
    }
    List<ArgPattern> out = new ArrayList<>();
    for (String t : texts) {
      try {
        out.add(ArgPattern.compile(t));
      } catch (IllegalArgumentException e) {
        r.error(n, path, e.getMessage());
      }
    }
    return List.copyOf(out);
  }

  private static List<Glob> flagGlobs(YamlReader r, Node n, String path) {
    if (n == null) {
      return null;
    }
    List<String> items = r.strings(n, path);
    if (items == null) {
      return null;
    }
    List<Glob> out = new ArrayList<>();
    for (String s : items) {
      try {
        out.add(Glob.compile(s, false, false));
      } catch (IllegalArgumentException e) {
        r.error(n, path, e.getMessage());
      }
    }
    return List.copyOf(out);
  }

  static List<PathPattern> pathPatterns(YamlReader r, Node n, String path) {
    List<String> items = r.strings(n, path);
    if (items == null) {
      return null;
    }
    List<PathPattern> out = new ArrayList<>();
    for (String s : items) {
      try {
        out.add(PathPattern.compile(s));
      } catch (IllegalArgumentException e) {
        r.error(n, path, e.getMessage());
      }
    }
    return List.copyOf(out);
  }

  @Override
  public ActionKind kind() {
    return ActionKind.COMMAND;
  }

  @Override
  public String mismatch(Action action, Effect effect) {
    boolean deny = effect == Effect.DENY;
    List<String> argv = action.list(Action.Attr.CMD_ARGV);
    String bin = action.string(Action.Attr.CMD_BINARY);
    if (bin == null || bin.isEmpty()) {
      bin = argv.isEmpty() ? null : argv.get(0);
    }
    String why = mismatch(action, argv, bin, deny, false);
    if (why == null && !deny && shell && action.flag(Action.Attr.CMD_NEEDS_SHELL)) {
      why = shellLineMismatch(action);
    }
    if (why == null || !deny) {
      return why;
    }
    // A deny rule also matches a command hidden in a wrapper (env, sudo, xargs, npx, sh -c...)
    // or in a line that needs a shell.
    String line = action.flag(Action.Attr.CMD_NEEDS_SHELL) ? action.raw() : null;
    CommandWrappers.Inner inner = innerOf(action, argv, bin, line);
    if (!inner.complete()) {
      return null; // too deep or too many to look at all: assume the denied command is in there
    }
    for (List<String> c : inner.commands()) {
      if (mismatch(action, c, c.get(0), true, inner.expandedByShell(c)) == null) {
        return null;
      }
    }
    return why;
  }

  /** Words a shell reads as reserved words before a command name (XCU 2.4). */
  private static final Set<String> RESERVED =
      Set.of(
          "!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "time",
          "-p");

  /**
   * An allow or review rule with {@code shell: true} matched argv[0] of a line that runs as {@code
   * /bin/sh -c LINE}. The rest of the line must not do what the rule was not written for: every
   * simple command the rule's {@code binary} names (every command when it names none) must match
   * the whole rule ({@code make test && make deploy} is not {@code make test}), and a command that
   * runs other programs (a wrapper, shell or interpreter: {@code | sh}, {@code ; sudo ...}, {@code
   * . ./x}; bash's {@code enable -f} and {@code fc}, {@link CommandWrappers#runsUnseenCode}) or
   * whose name is computed ({@code $CMD}, {@code np?}) must be named by the rule's {@code binary}
   * itself. Other programs (pipes into {@code tee}, {@code grep}) may run, as the documentation
   * says: shell: true remains a broad grant.
   */
  private String shellLineMismatch(Action action) {
    String raw = action.raw();
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    List<String> argv = action.list(Action.Attr.CMD_ARGV);
    String argv0 = argv.isEmpty() ? null : argv.get(0);
    String resolved = action.string(Action.Attr.CMD_BINARY);
    CommandLine.Split split = CommandLine.split(raw);
    if (!split.complete()) {
      return "the shell line is too long or too deeply nested to check every command in it";
    }
    List<String> fds = redirectionNames(raw);
    if (fds.contains(null)) {
      return "the shell line names an array element in a {NAME[i]}> redirection, which sets a"
          + " variable this check does not follow";
    }
    String fdSets = namesMismatch(fds);
    if (fdSets != null) {
      return "in the shell line, a {NAME}> or {NAME}< redirection: " + fdSets;
    }
    for (List<String> c : split.commands()) {
      String sets = lineSetsMismatch(c, 0);
      if (sets != null) {
        return "in the shell line, " + String.join(" ", c) + ": " + sets;
      }
      int k = 0;
      while (k < c.size() && (RESERVED.contains(c.get(k)) || CommandLine.isAssignment(c.get(k)))) {
        k++;
      }
      if (k >= c.size()) {
        continue;
      }
      List<String> cmd = c.subList(k, c.size());
      String first = cmd.get(0);
      if (first.equals(argv0) && resolved != null && !resolved.isEmpty()) {
        first = resolved; // the runner resolved argv[0] (npm is /usr/bin/npm)
      }
      boolean named = binaries == null || namedBinary(first);
      if (named) {
        String why = mismatch(action, cmd, first, false, false);
        if (why != null) {
          return "in the shell line, " + String.join(" ", cmd) + ": " + why;
        }
      } else if (CommandWrappers.isWrapper(first)
          || CommandWrappers.STDIN_PROGRAMS.contains(CommandWrappers.programName(first))
          || CommandWrappers.runsUnseenCode(cmd)
          || dynamic(first)) {
        return "the shell line runs "
            + first
            + ", which can run other programs (or whose name is computed), and the rule's binary"
            + " does not name it";
      }
    }
    return null;
  }

  /** Builtins whose operands name variables they set (bash(1) SHELL BUILTIN COMMANDS, XCU 2.14). */
  private static final Set<String> SETS_VARIABLES =
      Set.of(
          "export",
          "declare",
          "typeset",
          "local",
          "readonly",
          "read",
          "getopts",
          "mapfile",
          "readarray",
          "let",
          "for",
          "select");

  /** {@code ${NAME=word}}, {@code ${NAME:=word}}: parameter expansion that assigns (XCU 2.6.2). */
  private static final Pattern ASSIGNING_EXPANSION =
      Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*):?=");

  /** bash's subscripted assignment {@code NAME[i]=value} (bash(1) Arrays). */
  private static final Pattern SUBSCRIPT_ASSIGNMENT =
      Pattern.compile("([A-Za-z_][A-Za-z0-9_]*+)\\[[^\\]]*+\\]\\+?=");

  /**
   * An assignment in shell arithmetic ({@code $((HOME=1))}, {@code let}, array subscripts). Used
   * with {@code find()} on words of up to {@link CommandLine#MAX_LENGTH}: the lookbehind lets a
   * match start only where a name starts and the possessive quantifiers never give characters back,
   * so each character is read a bounded number of times. Without them {@code "[" + "a".repeat(n)}
   * is tried from each of its n letters and rescanned to the end: quadratic, minutes of CPU for one
   * 128 KiB request.
   */
  static final Pattern ARITHMETIC_ASSIGNMENT =
      Pattern.compile("(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*+)\\s*+(?:[-+*/%&|^]|<<|>>)?=(?!=)");

  /**
   * Options of the {@link #SETS_VARIABLES} builtins that take a value (bash(1) SHELL BUILTIN
   * COMMANDS; bash's internal_getopt takes it attached, {@code -pPROMPT}, or as the next word);
   * read -a and printf -v name a variable, the others do not.
   */
  private static final Map<String, String> BUILTIN_VALUE_OPTIONS =
      Map.of("read", "adinNptu", "mapfile", "dnOsuCc", "readarray", "dnOsuCc", "printf", "v");

  /**
   * A simple command of a shell line that an allow or review rule's {@code env} and {@code cwd}
   * must see: variables the line sets ({@code NODE_OPTIONS=... npm test}, {@code export
   * NODE_OPTIONS=...}, {@code for HOME in /tmp/x}, {@code : ${NODE_OPTIONS=...}}) are set by the
   * caller as much as those of an exec request, and a variable already in the environment ({@code
   * PATH}, {@code HOME}) or exported later ({@code set -a}, {@code export NAME}) reaches the
   * programs; {@code cd} makes the rule's {@code cwd} and relative {@code paths} meaningless. A
   * variable whose name is computed ({@code export $V=x}, {@code printf -v "$V"}) or that is a
   * reference to another ({@code declare -n}) cannot be checked, and is refused.
   */
  private String lineSetsMismatch(List<String> c, int depth) {
    List<String> names = new ArrayList<>(2);
    int k = 0;
    while (k < c.size() && (RESERVED.contains(c.get(k)) || CommandLine.isAssignment(c.get(k)))) {
      String n = CommandLine.assignedName(c.get(k));
      if (n != null) {
        names.add(n);
      }
      k++;
    }
    // builtin export ..., command -p printf -v ...: the same builtin (bash(1) builtin, command)
    while (k < c.size() && (c.get(k).equals("builtin") || c.get(k).equals("command"))) {
      k++;
      while (k < c.size() && c.get(k).startsWith("-") && !c.get(k).equals("--")) {
        k++;
      }
      if (k < c.size() && c.get(k).equals("--")) {
        k++;
      }
    }
    String first = k < c.size() ? c.get(k) : null;
    if (first != null && (SETS_VARIABLES.contains(first) || first.equals("printf"))) {
      String why = builtinOperands(first, c.subList(k + 1, c.size()), names);
      if (why != null) {
        return why;
      }
    }
    if (first != null && first.equals("env")) {
      String why = envOperands(c.subList(k + 1, c.size()), names);
      if (why != null) {
        return why;
      }
    }
    if (first != null && first.equals("eval") && k + 1 < c.size()) {
      // eval joins its operands with blanks and runs the result as a line (XCU 2.14 eval): what
      // it sets is set by this line
      String text = String.join(" ", c.subList(k + 1, c.size()));
      CommandLine.Split split = CommandLine.split(text);
      if (depth >= CommandLine.MAX_DEPTH || !split.complete()) {
        return "the line's eval is nested too deeply or too long to check the variables it sets";
      }
      String why = namesMismatch(redirectionNames(text));
      for (int i = 0; why == null && i < split.commands().size(); i++) {
        why = lineSetsMismatch(split.commands().get(i), depth + 1);
      }
      if (why != null) {
        return why;
      }
    }
    for (String w : c) {
      java.util.regex.Matcher m = SUBSCRIPT_ASSIGNMENT.matcher(w);
      if (m.lookingAt()) {
        names.add(m.group(1)); // HOME[0]=/x sets HOME itself (bash(1) Arrays: element 0)
      }
      m = ASSIGNING_EXPANSION.matcher(w);
      while (m.find()) {
        names.add(m.group(1));
      }
      if (w.contains("((") || w.contains("$[") || w.contains("[")) {
        m = ARITHMETIC_ASSIGNMENT.matcher(w);
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    String why = namesMismatch(names);
    if (why != null) {
      return why;
    }
    if ((cwd != null || paths != null)
        && first != null
        && (first.equals("cd") || first.equals("pushd") || first.equals("popd"))) {
      return "the line changes the working directory, which the rule's cwd or paths constrain";
    }
    return null;
  }

  private String namesMismatch(List<String> names) {
    for (String n : names) {
      if (env == null || !envAllowed(env, n)) {
        return "the line sets the variable "
            + n
            + " (the rule allows "
            + (env == null ? "none" : env.toString())
            + ")";
      }
    }
    return null;
  }

  /**
   * The variables a builtin of {@link #SETS_VARIABLES} (or printf -v) sets, added to {@code names};
   * or why the line is refused: a name that is not a plain name, so is computed when the line runs
   * ({@code export $V=x}, {@code read "$V"}, {@code printf -v "$V"}), or a nameref ({@code declare
   * -n r=PATH; r=x} assigns PATH through r; bash(1) PARAMETERS). Options are read as bash's
   * internal_getopt does: clusters up to the first operand or {@code --}, a value attached or in
   * the next word ({@code printf -vPATH}).
   */
  private static String builtinOperands(String builtin, List<String> words, List<String> names) {
    String values = BUILTIN_VALUE_OPTIONS.getOrDefault(builtin, "");
    boolean declaration =
        builtin.equals("declare") || builtin.equals("typeset") || builtin.equals("local");
    boolean functions = false;
    int j = 0;
    if (!builtin.equals("for") && !builtin.equals("select") && !builtin.equals("let")) {
      for (; j < words.size(); j++) {
        String w = words.get(j);
        if (w.equals("--")) {
          j++;
          break;
        }
        if (w.length() < 2 || (w.charAt(0) != '-' && (w.charAt(0) != '+' || !declaration))) {
          break;
        }
        for (int x = 1; x < w.length(); x++) {
          char o = w.charAt(x);
          if (declaration && o == 'n') {
            return "the line declares a name reference ("
                + builtin
                + " "
                + w
                + "), through which it may set any variable";
          }
          functions |= (o == 'f' || o == 'F') && !builtin.equals("read");
          if (values.indexOf(o) >= 0) {
            String value = x + 1 < w.length() ? w.substring(x + 1) : null;
            if (value == null && j + 1 < words.size()) {
              value = words.get(++j);
            }
            if (value != null && (o == 'v' || (o == 'a' && builtin.equals("read")))) {
              String why = variableOperand(builtin, value, names);
              if (why != null) {
                return why;
              }
            }
            break;
          }
        }
      }
    }
    if (builtin.equals("printf") || functions) {
      return null; // printf's operands are its format and arguments; -f names functions
    }
    for (; j < words.size(); j++) {
      String w = words.get(j);
      if (builtin.equals("getopts") && j == 0) {
        continue; // getopts OPTSTRING NAME [ARG...]
      }
      if (builtin.equals("local") && w.equals("-")) {
        continue; // local -: the shell's options are restored on return (bash(1) local)
      }
      if (builtin.equals("let")) {
        // let EXPRESSION...: every operand is arithmetic, assignments anywhere in it
        if (computed(w)) {
          return "the line's let "
              + w
              + " is expanded when it runs, so the variables it sets cannot be known";
        }
        java.util.regex.Matcher m = ARITHMETIC_ASSIGNMENT.matcher(w);
        while (m.find()) {
          names.add(m.group(1));
        }
        continue;
      }
      String why = variableOperand(builtin, w, names);
      if (why != null) {
        return why;
      }
      if (builtin.equals("for")
          || builtin.equals("select")
          || builtin.equals("getopts")
          || builtin.equals("mapfile")
          || builtin.equals("readarray")) {
        break; // the words after the name are values
      }
    }
    return null;
  }

  /**
   * env(1)'s {@code NAME=VALUE} operands before its command, added to {@code names}; or why the
   * line is refused: {@code -S}/{@code --split-string} (its text holds assignments too) or an
   * operand with a computed name ({@code env $V=x}: the shell expands it to an assignment env
   * performs). Options {@code -u}, {@code -C} take the next word (GNU coreutils env).
   */
  private static String envOperands(List<String> words, List<String> names) {
    boolean options = true;
    for (int j = 0; j < words.size(); j++) {
      String w = words.get(j);
      if (options && w.equals("--")) {
        options = false;
        continue;
      }
      if (options && w.startsWith("-") && w.length() > 1) {
        if (w.startsWith("-S") || w.startsWith("--s")) {
          return "the line's env " + w + " splits a string into assignments, which is not checked";
        }
        if (w.equals("-u") || w.equals("-C") || w.equals("--unset") || w.equals("--chdir")) {
          j++;
        }
        continue;
      }
      options = false;
      int eq = w.indexOf('=');
      if (eq < 0) {
        return null; // the command env runs
      }
      String name = CommandLine.assignedName(w);
      if (name == null || computed(w.substring(0, eq))) {
        return "the line's env sets a variable whose name is not a plain name ("
            + w
            + "): it is computed when the line runs and cannot be checked against the rule's env";
      }
      names.add(name);
    }
    return null;
  }

  /**
   * One operand naming a variable ({@code NAME}, {@code NAME=value}, {@code NAME[i]+=value}): its
   * name is added, or the reason it is refused when that part is not a plain name.
   */
  private static String variableOperand(String builtin, String w, List<String> names) {
    int end = w.length();
    for (int i = 0; i < w.length(); i++) {
      char ch = w.charAt(i);
      if (ch == '[' || ch == '=' || (ch == '+' && i + 1 < w.length() && w.charAt(i + 1) == '=')) {
        end = i;
        break;
      }
    }
    String name = w.substring(0, end);
    if (!CommandLine.isName(name)
        || (end < w.length() && w.charAt(end) == '[' && w.indexOf(']', end) < 0)) {
      return "the line's "
          + builtin
          + " sets a variable whose name is not a plain name ("
          + w
          + "): it is computed when the line runs and cannot be checked against the rule's env";
    }
    names.add(name);
    return null;
  }

  /** Whether a word holds an expansion, quote or glob character: its text is computed. */
  private static boolean computed(String w) {
    for (int i = 0; i < w.length(); i++) {
      if ("$`'\"\\*?".indexOf(w.charAt(i)) >= 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * Variables named by bash's {@code {NAME}>file} redirections ({@code {NAME}<}, {@code {NAME}>&-},
   * ...), which set NAME to the file descriptor they open (bash(1) REDIRECTION: "a word of the form
   * {varname}"). The raw line is read, so a quoted one counts too (more names, never fewer).
   * Linear: the name before each "}" followed by "<" or ">" is read back to its "{", and those runs
   * do not overlap. An array element ({@code {a[1]}>}) is reported as {@code null}.
   */
  static List<String> redirectionNames(String raw) {
    List<String> out = new ArrayList<>(0);
    for (int i = 1; i + 1 < raw.length(); i++) {
      char next = raw.charAt(i + 1);
      if (raw.charAt(i) != '}' || (next != '<' && next != '>')) {
        continue;
      }
      if (raw.charAt(i - 1) == ']') {
        out.add(null);
        continue;
      }
      int s = i - 1;
      while (s >= 0 && isNameChar(raw.charAt(s))) {
        s--;
      }
      if (s >= 0 && raw.charAt(s) == '{' && CommandLine.isName(raw.substring(s + 1, i))) {
        out.add(raw.substring(s + 1, i));
      }
    }
    return out;
  }

  private static boolean isNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }

  private boolean namedBinary(String bin) {
    for (int i = 0; i < binaries.size(); i++) {
      if (binaries.get(i).matches(bin)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a word of a command found inside a shell line or wrapper is computed when it runs:
   * parameter expansion and command substitution ({@code $x}, {@code ${IFS}}, {@code $'\x6e'},
   * backquotes), pathname expansion ({@code np?}, {@code n[p]m}, {@code *}) or brace expansion
   * ({@code {npm,publish}}), or the words xargs reads from its input. A deny rule cannot know what
   * it becomes, so such a word matches any binary, argument or flag of a deny rule.
   */
  static boolean dynamic(String w) {
    if (w.equals("[") || w.equals("[[") || w.equals("{")) {
      return false; // test(1) and the reserved word, not expansions
    }
    // whether a "," or ".." follows a "{": the last one, found once (linear; an indexOf from each
    // "{" would rescan the rest of the word for each of 128 Ki braces)
    int comma = w.lastIndexOf(',');
    int dots = w.lastIndexOf("..");
    for (int i = 0; i < w.length(); i++) {
      char c = w.charAt(i);
      if (c == '$' || c == '`' || c == '*' || c == '?' || c == '[') {
        return true;
      }
      if (c == '{' && (comma > i || dots > i)) {
        return true;
      }
    }
    return false;
  }

  /**
   * What the current decision found out about its action, per thread: a decision checks every
   * candidate rule against the same action, and the commands hidden in it (the walk, with
   * shell-line parsing) and, for each argv (the action's and the hidden ones, by identity), where
   * cobra finds the command and the words a deny rule reads from there need not be worked out again
   * per rule. Emptied when the decision ends ({@link #endDecision}, from {@link PolicySet#decide}):
   * a pooled thread keeps no action, whose argv may hold a {@code -pSECRET}, after it.
   */
  private static final ThreadLocal<Memo> MEMO = new ThreadLocal<>();

  /** One argv's cobra reading: {@link ProgramOptions#cobraCommandIndex} and the deny words. */
  private static final class CobraReading {
    final List<String> argv;
    final String bin;
    final int index;

    /** The words for deny rules, see {@link #denyWords}; computed when a deny rule first asks. */
    List<String> denyWords;

    /** Whether {@link #denyWords} read anything the words as written do not say. */
    boolean respelled;

    CobraReading(List<String> argv, String bin, int index) {
      this.argv = argv;
      this.bin = bin;
      this.index = index;
    }
  }

  private static final class Memo {
    /** Readings kept per decision: a shell line may hold more commands, read again past this. */
    static final int MAX_READINGS = 16;

    Action action;
    CommandWrappers.Inner inner;
    final List<CobraReading> readings = new ArrayList<>(4);

    void clear() {
      action = null;
      inner = null;
      readings.clear();
    }
  }

  /** The memo of {@code action}'s decision on this thread, emptied for a new action. */
  private static Memo memo(Action action) {
    Memo m = MEMO.get();
    if (m == null) {
      m = new Memo();
      MEMO.set(m);
    }
    if (m.action != action) {
      m.clear();
      m.action = action;
    }
    return m;
  }

  /** Forgets the current decision's action on this thread: called when a decision ends. */
  static void endDecision() {
    Memo m = MEMO.get();
    if (m != null) {
      m.clear();
    }
  }

  /** Whether this thread still holds an action from a decision, for tests. */
  static boolean remembersAnAction() {
    Memo m = MEMO.get();
    return m != null && (m.action != null || m.inner != null || !m.readings.isEmpty());
  }

  /**
   * The cobra reading of {@code argv} ({@link ProgramOptions#cobraCommandIndex}), once per action
   * and argv: a decision asks every candidate rule about the same words.
   */
  private static CobraReading cobraReading(Action action, List<String> argv, String bin) {
    Memo m = memo(action);
    for (int i = 0; i < m.readings.size(); i++) {
      CobraReading r = m.readings.get(i);
      if (r.argv == argv && Objects.equals(r.bin, bin)) {
        return r;
      }
    }
    CobraReading r = new CobraReading(argv, bin, ProgramOptions.cobraCommandIndex(bin, argv));
    if (m.readings.size() < Memo.MAX_READINGS) {
      m.readings.add(r);
    }
    return r;
  }

  /**
   * The words a deny rule reads from where cobra finds the command (its index must not be
   * negative): the command as cobra runs it (the rule's own reading may have taken an option's
   * value for it: docker -l debug container remove; helm un x runs uninstall, a cobra alias), with
   * every spelling of the command put before it (docker container remove is docker rm, helm plugin
   * add is plugin install), and its subcommand read both ways cobra may read an option between the
   * two words ({@link ProgramOptions#cobraCommandWords}: helm plugin --debug add, docker container
   * --help=false remove). {@link CobraReading#respelled} tells whether they say anything the words
   * as written do not.
   */
  private static List<String> denyWords(CobraReading r) {
    if (r.denyWords == null) {
      List<String> kept = ProgramOptions.cobraCommandWords(r.bin, r.argv, r.index, false);
      List<String> skipped = ProgramOptions.cobraCommandWords(r.bin, r.argv, r.index, true);
      List<String> spelled = ProgramOptions.cobraSpellings(r.bin, kept);
      List<String> words = new ArrayList<>(spelled.size() + skipped.size() + 6);
      words.addAll(spelled);
      if (!skipped.equals(kept)) {
        words.addAll(ProgramOptions.cobraSpellings(r.bin, skipped));
      }
      r.respelled = words.size() > kept.size() || !kept.get(0).equals(r.argv.get(r.index));
      r.denyWords = words;
    }
    return r.denyWords;
  }

  private static CommandWrappers.Inner innerOf(
      Action action, List<String> argv, String bin, String line) {
    Memo m = memo(action);
    if (m.inner == null) {
      m.inner = CommandWrappers.inner(argv, bin, line);
    }
    return m.inner;
  }

  /**
   * @param inner a command found inside a shell line or after xargs (only for deny rules): its
   *     words may be computed when it runs, see {@link #dynamic}
   */
  private String mismatch(
      Action action, List<String> argv, String bin, boolean deny, boolean inner) {
    if (binaries != null) {
      if (bin == null) {
        return "the command has no binary";
      }
      boolean found = deny && inner && dynamic(bin);
      for (int i = 0; i < binaries.size() && !found; i++) {
        found = deny ? binaries.get(i).matchesLoosely(bin) : binaries.get(i).matches(bin);
      }
      if (!found) {
        return "binary " + bin + " does not match " + binaries;
      }
    }
    if (!shell && !deny && action.flag(Action.Attr.CMD_NEEDS_SHELL)) {
      return "the command needs a shell (pipes, redirection, substitution) and the rule does not"
          + " say shell: true";
    }
    if (!shell && !deny) {
      String interactive = InteractivePrograms.why(bin, argv);
      if (interactive == null && !argv.isEmpty()) {
        interactive = InteractivePrograms.why(argv.get(0), argv); // vi, resolved to vim.basic
      }
      if (interactive != null) {
        return interactive;
      }
    }
    if (cwd != null) {
      String dir = action.string(Action.Attr.CMD_CWD);
      String norm = dir == null ? null : PathPattern.resolve(dir, null);
      if (norm == null ? !deny : !cwd.matches(norm)) {
        return "working directory " + dir + " does not match " + cwd;
      }
    }
    if (env != null || !deny) {
      List<String> set = action.list(Action.Attr.CMD_ENV);
      for (int i = 0; i < set.size(); i++) {
        if (env == null || !envAllowed(env, set.get(i))) {
          return "environment variable "
              + set.get(i)
              + " may not be set (the rule allows "
              + (env == null ? "none" : env.toString())
              + ")";
        }
      }
    }
    // Where cobra finds the command: read once per argv, for this rule and the others (the
    // matcher, the alias check and the risky-flag catalogue share it)
    CobraReading cobra = cobraReading(action, argv, bin);
    int cobraCommand = cobra.index;
    Parsed p =
        Parsed.of(
            argv,
            ProgramOptions.valueFlags(bin, flagsWithValues),
            ProgramOptions.noValuesBeforeSubcommand(bin),
            bin,
            // deny rules keep reading such a word as positional: matching more
            deny ? Set.of() : ProgramOptions.globalValueFlags(bin));
    boolean computed = false;
    if (inner) {
      // a computed word may become several ($x with x="npm publish", {npm,publish}), the name
      // included: it stands for any flags and arguments
      for (int i = 0; i < argv.size() && !computed; i++) {
        computed = dynamic(argv.get(i));
      }
    }
    if (deny
        && !computed
        && (!args.isEmpty() || flagsPresent != null || paths != null)
        && ProgramOptions.mayBeAlias(bin, argv, cobraCommand)) {
      // git psuh (help.autocorrect), git p (alias.p=push), kubectl mydel (a kuberc alias): the
      // program runs a command this word does not name, which may be the denied one
      computed = true;
    }
    if (deny && Nopt.reads(bin) && noptReadingMatches(argv, computed)) {
      // npm reads the words as nopt does (Nopt): --json=publish runs publish, --tag
      // --registry=URL sets the registry, -Cw publish runs publish; either reading matches
      return null;
    }
    if (!deny && ProgramOptions.javaLauncher(bin) && p.flags.contains("--")) {
      return JAVA_DASH_DASH;
    }
    String why = checkFlags(p, computed, deny);
    if (why != null) {
      return why;
    }
    if (!deny) {
      why = noptOptionAsValue(argv, ProgramOptions.valueFlags(bin, flagsWithValues), bin);
      if (why != null) {
        return why;
      }
    }
    List<String> positional = p.positional;
    if (ProgramOptions.cobra(bin) && !computed) {
      // the word cobra runs as the command (ProgramOptions.cobraCommandIndex): an allow rule must
      // read the same one; a deny rule also matches it where its own reading skipped it
      int command = cobraCommand;
      if (!deny && !args.isEmpty() && command != p.firstIndex()) {
        return CommandWrappers.programName(bin)
            + " finds its subcommand as cobra does: "
            + (command < 0 ? "none" : "\"" + argv.get(command) + "\"")
            + ", where the rule reads "
            + (p.firstIndex() < 0 ? "none" : "\"" + argv.get(p.firstIndex()) + "\"")
            + " (before the subcommand, a flag that is not one of the root command's booleans"
            + " takes the next word, a cluster such as -An none): write the flags after the"
            + " subcommand, or as --name=value";
      }
      if (deny && command >= 0) {
        // the words as cobra runs them (denyWords); the rule's reading follows
        List<String> words = denyWords(cobra);
        if (cobra.respelled || command != p.firstIndex()) {
          positional = new ArrayList<>(words.size() + p.positional.size());
          positional.addAll(words);
          positional.addAll(p.positional);
        }
      }
    }
    why = deny ? checkArgsAnywhere(positional, computed) : checkArgsFromStart(p, action, bin);
    if (why != null || deny) {
      return why;
    }
    if (Nopt.reads(bin)) {
      why = noptDisagreement(argv, p.positional);
      if (why != null) {
        return why;
      }
    }
    for (RiskyFlags.Use risky : RiskyFlags.findAll(bin, argv, cobraCommand)) {
      if (!RiskyFlags.named(risky, flagsAllowed, acceptRisky)) {
        return risky.describe()
            + ", and the rule does not name it (list it in flags.accept_risky to allow it)";
      }
    }
    RiskyFlags.Use noIndex =
        RiskyFlags.implicitNoIndex(bin, argv, action.string(Action.Attr.CMD_CWD));
    if (noIndex != null && !RiskyFlags.named(noIndex, flagsAllowed, acceptRisky)) {
      return "git diff with a path outside the working directory compares files outside the"
          + " repository, as --no-index does, and the rule does not name --no-index";
    }
    RiskyFlags.Use ext = RiskyFlags.extTransport(bin, argv);
    if (ext != null && !RiskyFlags.named(ext, flagsAllowed, acceptRisky)) {
      return "git runs the command of an ext:: URL (git-remote-ext(1)) where its configuration"
          + " allows that transport, and the rule does not name ext:: (list it in"
          + " flags.accept_risky to allow it)";
    }
    return null;
  }

  /**
   * Variables that make a program run code or read configuration chosen by the caller: the dynamic
   * loader (ld.so(8): LD_PRELOAD, LD_AUDIT...; dyld: DYLD_*), shells (BASH_ENV, ENV, BASH_FUNC_*,
   * SHELLOPTS, PS4, PROMPT_COMMAND, IFS), language runtimes (NODE_OPTIONS, PYTHONSTARTUP, PERL5OPT,
   * RUBYOPT, JAVA_TOOL_OPTIONS...), git (git(1) ENVIRONMENT VARIABLES: GIT_SSH_COMMAND,
   * GIT_EXTERNAL_DIFF, GIT_PAGER, GIT_CONFIG_*...), pagers and editors, kubectl (KUBECONFIG: exec
   * credential plugins), terraform (TF_CLI_ARGS*), psql (PSQLRC) and npm's command-running settings
   * (npm reads npm_config_* case-insensitively: script-shell, node-options, onload-script,
   * userconfig, ...). A wildcard in {@code env} ({@code "NPM_CONFIG_*"}, {@code "*"}) never admits
   * one of them; it must be listed by its exact name.
   */
  static final Set<String> RISKY_ENV =
      // Only names that RISKY_ENV_PREFIXES and RISKY_ENV_SUFFIXES do not cover (a test checks):
      // PATH, HOME, SHELL, CDPATH, PROMPT_COMMAND, the runtimes' NODE_OPTIONS, PYTHONSTARTUP,
      // PERL5OPT, RUBYOPT, JAVA_TOOL_OPTIONS, MAVEN_OPTS, the pagers and editors, KUBECONFIG,
      // PSQLRC, TMPDIR, XDG_CONFIG_HOME, the AWS and Terraform configuration files (credential
      // processes, provider overrides), MAKEFLAGS and MAKEFILES (red team: MAKEFILES='$(shell ...)'
      // made make run a command, GNU make manual 3.4), GOFLAGS (-toolexec), RUSTC_WRAPPER,
      // JAVACMD, GCONV_PATH (glibc iconv modules), LESS (+!command), SSLKEYLOGFILE (TLS keys),
      // SSH_AUTH_SOCK (the gateway's agent) and the CA bundles (a proxy reads the injected tokens)
      // are found by their prefix or suffix.
      Set.of(
          "BASH_ENV",
          "ENV",
          "PS0",
          "PS1",
          "PS2",
          "PS3",
          "PS4",
          "IFS",
          "GLOBIGNORE",
          "VISUAL",
          "MORE",
          "KUBECTL_EXTERNAL_DIFF",
          // build tools run CC, CXX, CPP, LD, AR, AS, FC; npm docs/repo run BROWSER
          "CC",
          "CXX",
          "CPP",
          "LD",
          "AR",
          "AS",
          "FC",
          "BROWSER",
          // glibc: tunables, resolver aliases; terminfo entries; a Kerberos ticket cache
          "GLIBC_TUNABLES",
          "HOSTALIASES",
          "TERMINFO",
          "KRB5CCNAME",
          // GNU tar's archive when no -f is given; HOST:FILE is on another host, reached by
          // running rsh (GNU tar manual, "Remote Tape Server"; RiskyFlags.TAR_REMOTE_ARCHIVE)
          "TAPE",
          // rsync(1) ENVIRONMENT VARIABLES: the program it runs to reach an rsync:// daemon
          // (RSYNC_RSH, the remote shell, ends in RSH)
          "RSYNC_CONNECT_PROG",
          // Nineteenth session (rt19exec). cvs(1): the server program it runs (CVS_RSH ends in
          // RSH); bash's fc editor (VIMINIT, EXINIT end in INIT)
          "CVS_SERVER",
          "FCEDIT",
          // options read from the environment: zip(1) ZIP (-TT CMD runs CMD), gzip(1) GZIP,
          // bzip2(1) BZIP/BZIP2, xz(1) XZ_DEFAULTS, unzip(1) UNZIP
          "ZIP",
          "UNZIP",
          "GZIP",
          "BZIP",
          "BZIP2",
          "XZ_DEFAULTS",
          // gcc: writes the dependency file where it says (gcc(1) ENVIRONMENT)
          "DEPENDENCIES_OUTPUT",
          "SUNPRO_DEPENDENCIES",
          // ocamlfind/ocamlc read options from OCAMLPARAM (-pp CMD runs CMD)
          "OCAMLPARAM",
          // terraform talks to provider processes already running where this says
          "TF_REATTACH_PROVIDERS",
          // uv, pipenv, poetry and others run the interpreter of the virtual environment named
          "VIRTUAL_ENV",
          // getopt(3) and getopt_long stop at the first operand: flags after it become operands
          // (file names) that the rule read as flags, so paths never checked them
          "POSIXLY_CORRECT",
          // ncurses reads a terminal description, or a file of them, from TERMCAP (as TERMINFO)
          "TERMCAP");

  static final List<String> RISKY_ENV_PREFIXES =
      // YARN_*: Yarn 2+ reads every .yarnrc.yml setting from YARN_NAME (yarnPath runs a script);
      // CARGO_*/RUST*: cargo reads every config key from CARGO_KEY (CARGO_BUILD_RUSTC_WRAPPER,
      // CARGO_TARGET_<triple>_RUNNER run programs), RUSTC_WRAPPER, RUSTFLAGS (-C linker=);
      // PYTHON*, PERL*, RUBY*, NODE_*, MAVEN_*, MVNW_* (MVNW_REPOURL downloads the launcher),
      // GRADLE_*, JAVA_*/JDK_*, OPENSSL_*, DOCKER_* (DOCKER_HOST=ssh://... runs ssh),
      // HELM_*, GH_* (gh: GH_REPO, GH_HOST, GH_TOKEN point it at another repository, host or
      // identity, as -R does), ANSIBLE_*, CCACHE_* (CCACHE_PREFIX runs a program), CGO_*: the
      // runtimes' and tools' own namespaces, too large to list name by name
      List.of(
          "LD_",
          "DYLD_",
          "BASH_FUNC_",
          "GIT_",
          "TF_CLI_",
          "YARN_",
          "CARGO_",
          "RUST",
          "PYTHON",
          "PERL",
          "RUBY",
          "NODE_",
          "MAVEN_",
          "MVNW_",
          "M2_",
          "GRADLE_",
          "JAVA_",
          "_JAVA_",
          "JDK_",
          "OPENSSL_",
          "DOCKER_",
          "HELM_",
          "GH_",
          "GITHUB_TOKEN", // gh reads it (and GITHUB_ENTERPRISE_TOKEN) as GH_TOKEN's fallback
          "GITHUB_ENTERPRISE_TOKEN",
          "ANSIBLE_",
          "CCACHE_",
          "CGO_",
          "LESS",
          "BUNDLE_",
          "GEM_",
          // Nineteenth session (rt19exec). D-Bus: a unixexec: address runs a program to reach the
          // bus (D-Bus specification, "Server Addresses"), for every libdbus or GDBus client
          "DBUS_",
          // lua(1): LUA_INIT (LUA_INIT_5_4...) is code, or @FILE, run before the script;
          // LUA_PATH/LUA_CPATH where require() finds code
          "LUA_",
          // go help environment: GOAUTH runs a command for credentials, GOPROXY, GOWORK, GOVCS,
          // GOSUMDB, GONOSUMDB, GOINSECURE choose where modules come from and whether they are
          // checked, GOFLAGS/GOENV/GOTOOLCHAIN above; also GOOGLE_APPLICATION_CREDENTIALS (an
          // external account's credential_source may name a command). Go's runtime variables
          // (GOOS, GOARCH, GOMAXPROCS, GOGC, GODEBUG) are listed by name
          "GO",
          // package installers that read every setting from their namespace: pip (PIP_INDEX_URL,
          // PIP_TRUSTED_HOST), uv (UV_PYTHON runs that interpreter, UV_INDEX_URL), poetry,
          // pipenv, conda, Bun (BUN_CONFIG_REGISTRY), Deno (DENO_CERT), pnpm (pnpm_config_*),
          // composer (COMPOSER names the composer.json it reads, whose scripts it runs)
          "PIP_",
          "UV_",
          "POETRY_",
          "PIPENV_",
          "CONDA_",
          "BUN_",
          "DENO_",
          "PNPM_",
          "COMPOSER",
          // version managers: which interpreter or toolchain their shims run
          "PYENV_",
          "RBENV_",
          "NODENV_",
          "JENV_",
          "ASDF_",
          "MISE_",
          "RTX_",
          "NVM_",
          "FNM_",
          "VOLTA_",
          "SDKMAN_",
          // R runs R_PROFILE/R_PROFILE_USER and reads R_ENVIRON*, R_LIBS*
          "R_",
          // .NET: a profiler (CORECLR_PROFILER + CORECLR_PROFILER_PATH) loaded into the process,
          // and the runtime's settings under both prefixes (DOTNET_STARTUP_HOOKS)
          "CORECLR_",
          "COR_",
          "COMPLUS_",
          "DOTNET_",
          // credentials and endpoints of other identities: gcloud's properties, Vault, Azure
          // (az and terraform's azurerm), terraform's per-host tokens
          "CLOUDSDK_",
          "VAULT_",
          "AZURE_",
          "ARM_",
          "TF_TOKEN_");

  /**
   * Naming conventions of variables that hold options, programs, or where to read code and
   * configuration from ({@code JAVA_OPTS}, {@code MAVEN_DEBUG_OPTS}, {@code PERL_MB_OPT}, {@code
   * ANT_ARGS}, {@code CFLAGS}, {@code JAVA_HOME}, {@code GCONV_PATH}, {@code OPENSSL_CONF}, {@code
   * WGETRC}, {@code SYSTEMD_PAGER}, {@code CARGO_TARGET_X_RUNNER}, {@code HTTPS_PROXY}...): a
   * wildcard never admits a name that ends so, whatever program reads it. Fails closed for harmless
   * names ({@code NODE_ENV}, {@code SOME_DIR}): list them by name.
   */
  static final List<String> RISKY_ENV_SUFFIXES =
      List.of(
          "OPT",
          "OPTS",
          "OPTIONS",
          "ARGS",
          "FLAGS",
          "HOME",
          "PATH",
          "DIR",
          "DIRS",
          "CONF",
          "CONFIG",
          "RC",
          "FILE",
          "FILES",
          "CMD",
          "COMMAND",
          "WRAPPER",
          "RUNNER",
          "EDITOR",
          "PAGER",
          "ASKPASS",
          "SHELL",
          "PROGRAM",
          "EXE",
          "EXECUTABLE",
          "_BIN",
          "_HOOK",
          "_HOOKS",
          "_PLUGIN",
          "_PLUGINS",
          "_MODULE",
          "_MODULES",
          "_ENGINES",
          "_LIB",
          "_LIBS",
          "_PREFIX",
          "_PROXY",
          "_SOCK",
          "_SOCKET",
          "_CA_BUNDLE",
          // remote shells (rt19exec): SVN_SSH, BORG_RSH, CVS_RSH, RSYNC_RSH
          "_SSH",
          "RSH",
          // code run at startup: LUA_INIT, VIMINIT, EXINIT
          "INIT");

  /**
   * npm settings that run programs or load other configuration (also flags: {@link RiskyFlags}).
   */
  static final Set<String> RISKY_NPM_CONFIG =
      Set.of(
          "script_shell",
          "node_options",
          "onload_script",
          "userconfig",
          "globalconfig",
          "call",
          "shell",
          "editor",
          "git",
          "browser",
          "viewer",
          "init_module",
          "prefix",
          "cache",
          "node_gyp",
          // node-gyp, which npm runs to build native addons, reads its options from every
          // npm_config_* variable (lib/node-gyp.js): python is the interpreter it runs
          // (find-python.js), nodedir, devdir, dist_url and tarball where the headers come from,
          // whose common.gypi may run commands (gyp's <!(...)) (rt19exec)
          "python",
          "nodedir",
          "devdir",
          "dist_url",
          "tarball");

  /**
   * npm settings that choose where npm connects and whom it trusts: refused through a wildcard in
   * {@code npm_config_*} variables only. npm sends requests (the update notifier's, even for {@code
   * npm test} in an empty directory) to the registry, so a caller who sets it learns what npm puts
   * in the URL or headers and may serve what npm installs. Not risky as flags: npm does not expand
   * references in flag values, tokens are bound to their registry's host in .npmrc, and {@code npm
   * ci} checks the lockfile's integrity hashes.
   */
  static final Set<String> RISKY_NPM_CONFIG_NETWORK =
      Set.of(
          "registry",
          "replace_registry_host",
          "proxy",
          "https_proxy",
          "noproxy",
          "strict_ssl",
          "ca",
          "cert",
          "key",
          "local_address",
          "metrics_registry");

  static boolean riskyEnv(String name) {
    String n = name.toUpperCase(java.util.Locale.ROOT);
    if (RISKY_ENV.contains(n)) {
      return true;
    }
    for (String p : RISKY_ENV_PREFIXES) {
      if (n.startsWith(p)) {
        return true;
      }
    }
    for (String x : RISKY_ENV_SUFFIXES) {
      if (n.endsWith(x)) {
        return true;
      }
    }
    if (n.startsWith("NPM_CONFIG_")) {
      String key = n.substring("NPM_CONFIG_".length()).toLowerCase(java.util.Locale.ROOT);
      // @npmcli/config loadEnv keeps every other character: @scope:registry is a scoped registry,
      // //host/:_authToken a credential bound to a host (rt19exec). Not a name a POSIX shell can
      // set, but an SSH env request or exec(2) can
      for (int i = 0; i < key.length(); i++) {
        char c = key.charAt(i);
        if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '_' && c != '-') {
          return true;
        }
      }
      return RISKY_NPM_CONFIG.contains(key.replace('-', '_'))
          || RISKY_NPM_CONFIG_NETWORK.contains(key.replace('-', '_'));
    }
    return false;
  }

  /** Programs that read their options with nopt (npm/cli, pnpm's parse-cli-args). */
  private static final Set<String> NOPT_PROGRAMS = Set.of("npm", "npx", "pnpm", "pnpx");

  /** nopt's test for a word that a String option leaves alone (lib/nopt-lib.js). */
  private static final java.util.regex.Pattern NOPT_OPTION_LIKE =
      java.util.regex.Pattern.compile("^-{1,2}[^-]");

  /**
   * For an allow or review rule: a flag of {@code flags_with_values}, written without {@code =},
   * followed by a word that looks like an option. nopt (lib/nopt-lib.js, {@code parse}) gives an
   * option of type String (npm's {@code --tag}, {@code --otp}, {@code --message}...) the empty
   * string instead of a next word matching {@code /^-{1,2}[^-]+/}, and reads that word as an
   * option; other types (paths, numbers, enumerations such as {@code --loglevel}, arrays such as
   * {@code --workspace}) take it. The rule does not say which type its flag has, so either reading
   * may be npm's: {@code npm test --tag --registry=URL} sets the registry that the rule's {@code
   * flags.allowed} never saw, and {@code npm --loglevel --tag publish test} runs publish. nopt also
   * splits {@code --tag=VALUE} into two words first, so a VALUE that looks like an option is read
   * as one ({@code --tag=--registry=URL}), whatever flag it follows. Fails closed (nineteenth
   * session, rt19exec): the rule does not match; {@code --tag=VALUE} with any other value is read
   * one way only.
   */
  static String noptOptionAsValue(List<String> argv, Set<String> values, String bin) {
    if (bin == null || !NOPT_PROGRAMS.contains(CommandWrappers.programName(bin))) {
      return null;
    }
    for (int i = 1; i < argv.size(); i++) {
      String t = argv.get(i);
      if (t.equals("--")) {
        return null;
      }
      int at = t.indexOf('=');
      if (t.startsWith("-") && at > 0 && NOPT_OPTION_LIKE.matcher(t.substring(at + 1)).find()) {
        // nopt splits --tag=VALUE in two and reads a VALUE like an option as an option when
        // --tag is a String (npm test --tag=--registry=URL sets the registry)
        String inner = t.substring(at + 1);
        int eq2 = inner.indexOf('=');
        return CommandWrappers.programName(bin)
            + " may read "
            + (eq2 < 0 ? inner : inner.substring(0, eq2))
            + " as an option rather than as the value of "
            + t.substring(0, at)
            + " (nopt: an option of type String never takes a word that looks like an option)";
      }
      if (i + 1 >= argv.size()
          || !values.contains(t)
          || !NOPT_OPTION_LIKE.matcher(argv.get(i + 1)).find()) {
        continue;
      }
      String next = argv.get(i + 1);
      int eq = next.indexOf('=');
      return CommandWrappers.programName(bin)
          + " may read "
          + (eq < 0 ? next : next.substring(0, eq))
          + " as an option rather than as the value of "
          + t
          + " (nopt: an option of type String never takes a word that looks like an option):"
          + " write "
          + t
          + "=VALUE";
    }
    return null;
  }

  /**
   * For a deny rule: whether it matches argv as npm reads it ({@link Nopt}): the options nopt sets
   * (by their long name, {@code --no-} form and one-letter shorthand) and the words it leaves,
   * whatever the rule's own {@code flags_with_values} say. Deny rules with a {@code
   * flags_with_values} of their own read {@code npm test --tag --registry=URL} as a tag; npm sets
   * the registry (twentieth session, rt20exec).
   */
  private boolean noptReadingMatches(List<String> argv, boolean computed) {
    Nopt.Reading r = Nopt.read(argv);
    List<String> flags = new ArrayList<>();
    for (Nopt.Option o : r.options()) {
      flags.addAll(o.spellings());
    }
    List<String> none = new ArrayList<>(r.remain().size());
    for (int i = 0; i < r.remain().size(); i++) {
      none.add(null);
    }
    List<String> words = r.remain();
    String command = words.isEmpty() ? null : CommandWrappers.Npm.resolve(words.get(0));
    if (command != null && !command.equals(words.get(0))) {
      // npm --json=pu runs publish: the command as npm resolves its aliases and prefixes
      words = new ArrayList<>(r.remain());
      words.add(0, command);
      none.add(null);
    }
    Parsed np = new Parsed(flags, words, none, -1);
    return checkFlags(np, computed, true) == null && checkArgsAnywhere(words, computed) == null;
  }

  /**
   * For an allow or review rule on npm (npx, pnpm): why nopt's reading of argv ({@link Nopt})
   * disagrees with the rule's, or null. The words the rule's {@code args} (and {@code paths}) read
   * must be npm's command and arguments, in order: {@code npm --ignore-scripts=publish test} is
   * {@code npm publish test} to npm (a Boolean option takes no value after {@code =}; the value is
   * a word of its own). The options nopt sets must not be the rule's {@code flags.denied} nor a
   * risky flag the rule does not name ({@code -wCCC} sets the prefix). Twentieth session
   * (rt20exec).
   */
  private String noptDisagreement(List<String> argv, List<String> positional) {
    Nopt.Reading r = Nopt.read(argv);
    int n = paths != null ? Math.max(positional.size(), r.remain().size()) : args.size();
    for (int i = 0; i < n; i++) {
      if (i >= r.remain().size() || i >= positional.size()) {
        return npmReads(argv, r, positional);
      }
      if (!r.remain().get(i).equals(positional.get(i))) {
        return npmReads(argv, r, positional);
      }
    }
    List<String> spelled = new ArrayList<>();
    spelled.add(argv.get(0));
    for (Nopt.Option o : r.options()) {
      List<String> names = o.spellings();
      if (flagsDenied != null) {
        for (String f : names) {
          if (flagMatches(flagsDenied, f, false, true)) {
            return "npm reads an option " + f + " (nopt), which the rule denies";
          }
        }
      }
      spelled.add(names.get(names.size() > 1 && o.negated() ? 1 : 0));
    }
    for (RiskyFlags.Use risky : RiskyFlags.findAll(argv.get(0), spelled, -1)) {
      if (!RiskyFlags.named(risky, flagsAllowed, acceptRisky)) {
        return "as npm reads the words (nopt: one option per letter of a short word, no value"
            + " glued to it), "
            + risky.describe()
            + ", and the rule does not name it (list it in flags.accept_risky to allow it)";
      }
    }
    // npm test -- --import=data:...: options of the script's program (twenty-first session,
    // rt21exec); the words the rule's args match are the rule's
    RiskyFlags.Use script = RiskyFlags.npmScriptOption(argv.get(0), argv, r, args.size());
    if (script != null && !RiskyFlags.named(script, flagsAllowed, acceptRisky)) {
      return CommandWrappers.programName(argv.get(0))
          + " passes "
          + scriptWord(script.word())
          + " to the package script's program, whose options the policy does not know (node"
          + " --test --import=..., jest --config, eslint -c run code the caller chooses), and the"
          + " rule does not name them (match such words in args, or list script-options in"
          + " flags.accept_risky to allow any)";
    }
    return null;
  }

  /** A script option for a message: its name, never its value (a token may follow =). */
  private static String scriptWord(String w) {
    int eq = w.indexOf('=');
    String name = eq < 0 ? w : w.substring(0, eq);
    return "the option " + (name.length() > 40 ? name.substring(0, 40) + "..." : name);
  }

  private static String npmReads(List<String> argv, Nopt.Reading r, List<String> positional) {
    return CommandWrappers.programName(argv.get(0))
        + " reads its command and arguments as "
        + shortList(r.remain())
        + ", not "
        + shortList(positional)
        + " (nopt: a Boolean option such as --ignore-scripts or --silent takes no value after"
        + " =, so the value is a word of its own; a short word is one option per letter, none"
        + " glued to a value): write value options as --name VALUE and Booleans without =";
  }

  private static String shortList(List<String> words) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < words.size() && i < 4; i++) {
      String w = words.get(i);
      out.add(w.length() > 40 ? w.substring(0, 40) + "..." : w);
    }
    return out + (words.size() > 4 ? " (and " + (words.size() - 4) + " more)" : "");
  }

  /** A variable is admitted by a literal entry, or by a wildcard unless it is {@link #riskyEnv}. */
  private static boolean envAllowed(List<Glob> env, String name) {
    boolean risky = riskyEnv(name);
    for (int i = 0; i < env.size(); i++) {
      Glob g = env.get(i);
      if (g.matches(name) && (!risky || g.isLiteral())) {
        return true;
      }
    }
    return false;
  }

  /**
   * @param deny whether the rule denies: then {@code present} also counts abbreviations and
   *     computed words (erring towards matching); for an allow or review rule it must be the flag
   *     itself, or {@code --force} would pass a rule that asks for {@code --force-with-lease}
   */
  private String checkFlags(Parsed p, boolean computed, boolean deny) {
    if (flagsDenied != null) {
      for (String f : p.flags) {
        if (flagMatches(flagsDenied, f, false, true)) {
          return "flag " + f + " is denied by the rule";
        }
      }
    }
    if (flagsAllowed != null) {
      for (String f : p.flags) {
        if (!flagMatches(flagsAllowed, f, true, false)) {
          return "flag " + f + " is not in " + flagsAllowed;
        }
      }
    }
    if (flagsPresent != null) {
      boolean found = false;
      for (String f : p.flags) {
        if (flagMatches(flagsPresent, f, false, deny)) {
          found = true;
          break;
        }
      }
      if (!found && !(computed && deny)) { // for a deny rule a computed word ($f) may be any flag
        return "none of the flags " + flagsPresent + " is present";
      }
    }
    return null;
  }

  /**
   * Checks one flag occurrence. A clustered short flag ({@code -rf}) is checked as a whole and
   * letter by letter: for an allow list every letter must be allowed (or the whole token), for a
   * deny or presence list any letter counts. With {@code loose}, abbreviations count too ({@link
   * #abbreviates}): only where matching more refuses more.
   */
  private static boolean flagMatches(
      List<Glob> globs, String flag, boolean allLetters, boolean loose) {
    if (SqlMatcher.any(globs, flag)) {
      return true;
    }
    if (loose && abbreviates(globs, flag)) {
      return true;
    }
    if (flag.startsWith("--") || flag.length() <= 2 || flag.indexOf('=') >= 0) {
      return false;
    }
    for (int i = 1; i < flag.length(); i++) {
      boolean m = SqlMatcher.any(globs, "-" + flag.charAt(i));
      if (allLetters && !m) {
        return false;
      }
      if (!allLetters && m) {
        return true;
      }
    }
    return allLetters;
  }

  /**
   * For denied and present flags: a long flag that programs would read as a listed one. GNU
   * getopt_long(3) and git's parse-options accept any unambiguous prefix of a long option ({@code
   * git log --outp=x} is {@code --output=x}; npm's nopt too), and Go's flag package (terraform)
   * reads {@code -flag} and {@code --flag} alike. So {@code --outp} matches a listed {@code
   * --output}, and {@code -auto-approve} a listed {@code --auto-approve} (and the reverse). This
   * errs towards matching: a flag that is a prefix of a listed one counts even when the program has
   * such a flag of its own ({@code --force} against a listed {@code --force-with-lease}).
   */
  private static boolean abbreviates(List<Glob> globs, String flag) {
    if (flag.length() < 3 || flag.indexOf('=') >= 0) {
      return false;
    }
    String dashed = flag.startsWith("--") ? flag : "-" + flag; // -auto-approve as --auto-approve
    if (!flag.startsWith("--") && SqlMatcher.any(globs, dashed)) {
      return true;
    }
    if (flag.startsWith("--") && SqlMatcher.any(globs, flag.substring(1))) {
      return true;
    }
    for (int i = 0; i < globs.size(); i++) {
      Glob g = globs.get(i);
      if (!g.isLiteral()) {
        continue;
      }
      String lit = g.literal();
      String full = lit.startsWith("--") ? lit : lit.startsWith("-") ? "-" + lit : null;
      // a short cluster (-al) is not read as an abbreviation (--al of --all); -outp is
      boolean longEnough = flag.startsWith("--") || flag.length() >= 4;
      if (full != null && longEnough && full.startsWith(dashed)) {
        return true;
      }
    }
    return false;
  }

  private String checkArgsFromStart(Parsed p, Action action, String bin) {
    List<String> pos = p.positional;
    if (pos.size() < args.size()) {
      return "expected "
          + args.size()
          + " positional argument(s) "
          + args
          + ", got "
          + pos
          + (pos.isEmpty() ? "" : " (a flag taking a value may be missing from flags_with_values)");
    }
    for (int i = 0; i < args.size(); i++) {
      if (!anyArg(args.get(i), pos.get(i))) {
        return "argument " + (i + 1) + " \"" + pos.get(i) + "\" does not match " + args.get(i);
      }
      // npm --tag test publish: npm reads tag=test and runs publish; the word the rule matched
      // must not be one the program may take as a flag's value
      String f = p.before.get(i);
      // (the first word of a cobra program is the one cobra runs: checked in mismatch)
      boolean cobraCommand = i == 0 && ProgramOptions.cobra(bin);
      if (f != null && !cobraCommand && ProgramOptions.mayTakeNext(bin, f, i == 0, flagsAllowed)) {
        return "flag "
            + f
            + " may take argument "
            + (i + 1)
            + " \""
            + pos.get(i)
            + "\" as its value, and the program would then read a later word in its place (list"
            + " the flag in flags_with_values if it takes a value, or in flags.allowed if it takes"
            + " none)";
      }
    }
    if (paths != null) {
      String dir = action.string(Action.Attr.CMD_CWD);
      for (int i = args.size(); i < pos.size(); i++) {
        String resolved = PathPattern.resolve(pos.get(i), dir);
        if (resolved == null || !anyPath(paths, resolved)) {
          return "argument \"" + pos.get(i) + "\" is not a path within " + paths;
        }
      }
      // ls, and grep -r, with no file operand read the working directory: `grep -r secret` over
      // SSH searches the home directory. Then the working directory itself must be within paths
      // (one that is not known, as on SSH, is not).
      if (pos.size() <= args.size() && ProgramOptions.readsWorkingDirectory(bin, p.flags)) {
        String resolved = dir == null ? null : PathPattern.resolve(".", dir);
        if (resolved == null || !anyPath(paths, resolved)) {
          return "with no path argument the program reads the working directory"
              + (dir == null ? "" : " " + dir)
              + ", which is not a path within "
              + paths;
        }
      }
    }
    return null;
  }

  /**
   * The words of {@code action}'s argv that this rule's {@code paths} constrained when it allowed
   * (or held for review) the action, as {@link #checkArgsFromStart} read them: the positional
   * arguments after {@code args}. Empty without {@code paths}; null when they cannot be told from
   * the argv: a line run by a shell, whose words the shell expands ({@code *}, {@code $HOME}) into
   * paths no one checked. For a protocol that also checks where they really lead (SSH:
   * docs/ssh.md).
   */
  List<String> pathArguments(Action action) {
    if (paths == null) {
      return List.of();
    }
    if (action.flag(Action.Attr.CMD_NEEDS_SHELL)) {
      return null;
    }
    List<String> argv = action.list(Action.Attr.CMD_ARGV);
    String bin = action.string(Action.Attr.CMD_BINARY);
    if (bin == null || bin.isEmpty()) {
      bin = argv.isEmpty() ? null : argv.get(0);
    }
    // read as mismatch reads it for an allow rule
    List<String> pos =
        Parsed.of(
                argv,
                ProgramOptions.valueFlags(bin, flagsWithValues),
                ProgramOptions.noValuesBeforeSubcommand(bin),
                bin,
                ProgramOptions.globalValueFlags(bin))
            .positional;
    return pos.size() <= args.size()
        ? List.of()
        : List.copyOf(pos.subList(args.size(), pos.size()));
  }

  /** Deny rules: the patterns must occur in order among the positional arguments, anywhere. */
  private String checkArgsAnywhere(List<String> pos, boolean computed) {
    if (computed) {
      return null; // a computed word (only in commands found inside others) may be anything
    }
    int next = 0;
    for (int i = 0; i < pos.size() && next < args.size(); i++) {
      if (anyArg(args.get(next), pos.get(i))) {
        next++;
      }
    }
    if (next < args.size()) {
      return "arguments " + pos + " do not contain " + args;
    }
    if (paths != null) {
      for (String a : pos) {
        String resolved = PathPattern.resolve(a, null);
        if (resolved != null && anyPath(paths, resolved)) {
          return null;
        }
      }
      return "no argument is a path within " + paths;
    }
    return null;
  }

  private static boolean anyArg(List<ArgPattern> alts, String s) {
    for (int i = 0; i < alts.size(); i++) {
      if (alts.get(i).matches(s)) {
        return true;
      }
    }
    return false;
  }

  static boolean anyPath(List<PathPattern> paths, String normalized) {
    for (int i = 0; i < paths.size(); i++) {
      if (paths.get(i).matches(normalized)) {
        return true;
      }
    }
    return false;
  }

  static String baseName(String path) {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? path : path.substring(slash + 1);
  }

  /**
   * Why an allow or review rule does not match {@code java -- MAIN ...}: java's launcher has no
   * {@code --} end of options ({@link ProgramOptions#javaLauncher}), so the words after it are not
   * what the launcher would run (it refuses the command), and the rule's reading of them as the
   * main class and its arguments would be another reading than java's.
   */
  static final String JAVA_DASH_DASH =
      "java's launcher has no -- (end of options): before the main class or source file it"
          + " refuses the word (Unrecognized option: --), so the words after it are not read as"
          + " the rule reads them; write the command without --";

  /**
   * argv split into flag names and positional arguments.
   *
   * @param before for each positional argument, the flag word right before it when that flag did
   *     not take it as its value by the rule's {@code flags_with_values} (null otherwise): the
   *     program may still read it so ({@link ProgramOptions#mayTakeNext})
   * @param firstIndex the index in argv of the first positional argument, or -1
   */
  record Parsed(List<String> flags, List<String> positional, List<String> before, int firstIndex) {
    static Parsed of(List<String> argv, Set<String> withValues) {
      return of(argv, withValues, false, null, Set.of());
    }

    /**
     * @param noValuesBeforeFirst whether flags before the first positional argument never take a
     *     value, whatever {@code withValues} says ({@link ProgramOptions#noValuesBeforeSubcommand})
     * @param binary the program, for options whose value is optional ({@link
     *     ProgramOptions#takesNext}: journalctl {@code -n _COMM=sshd} is a match, not a count)
     * @param globalValues options that take the next word when written alone before the first
     *     positional argument, whatever {@code withValues} says ({@link
     *     ProgramOptions#globalValueFlags}: {@code kubectl -v 9 delete} runs delete)
     */
    static Parsed of(
        List<String> argv,
        Set<String> withValues,
        boolean noValuesBeforeFirst,
        String binary,
        Set<String> globalValues) {
      int firstIndex = -1;
      List<String> flags = new ArrayList<>(4);
      List<String> positional = new ArrayList<>(4);
      List<String> before = new ArrayList<>(4);
      boolean endOfFlags = false;
      String lastFlag = null; // the flag word just read, if it took no value
      // java: no -- end of options (ProgramOptions.javaLauncher); after the main class, or after
      // -jar/-m's value, -- is an argument of the program, read as positional where it is
      boolean java = ProgramOptions.javaLauncher(binary);
      boolean javaProgram = false;
      for (int i = 1; i < argv.size(); i++) {
        String t = argv.get(i);
        Set<String> values = noValuesBeforeFirst && positional.isEmpty() ? Set.of() : withValues;
        String flag = null;
        boolean javaArg = java && t.equals("--") && (javaProgram || !positional.isEmpty());
        if (!endOfFlags && positional.isEmpty() && globalValues.contains(t)) {
          flags.add(t);
          i++;
        } else if (endOfFlags || t.length() < 2 || t.charAt(0) != '-' || javaArg) {
          firstIndex = positional.isEmpty() ? i : firstIndex;
          positional.add(t);
          before.add(endOfFlags ? null : lastFlag);
        } else if (java && t.equals("--")) {
          flags.add(t); // before the main class: java refuses it (JAVA_DASH_DASH)
        } else if (t.equals("--")) {
          endOfFlags = true;
        } else if (ProgramOptions.mavenGoal(binary, t) != null) {
          // Maven splits -B=deploy (and -Bdeploy, --batch-mode=deploy) into the option and a
          // goal (commons-cli GnuParser; ProgramOptions.mavenGoal, rt20exec)
          String goal = ProgramOptions.mavenGoal(binary, t);
          flags.add(t.substring(0, t.length() - goal.length() - (t.endsWith("=" + goal) ? 1 : 0)));
          firstIndex = positional.isEmpty() ? i : firstIndex;
          positional.add(goal);
          before.add(null);
        } else if (t.startsWith("--")) {
          int eq = t.indexOf('=');
          String name = eq < 0 ? t : t.substring(0, eq);
          flags.add(name);
          if (eq < 0
              && values.contains(name)
              && ProgramOptions.takesNext(binary, name, next(argv, i))) {
            i++;
          } else if (eq < 0) {
            flag = t;
          }
        } else {
          int eq = t.indexOf('=');
          if (eq >= 0) {
            flags.add(t.substring(0, eq));
            lastFlag = null;
            continue;
          }
          // getopt: letters until one that takes a value; that one takes the rest or the next token
          boolean consumedNext = false;
          boolean consumedRest = false;
          String cluster = t;
          for (int j = 1; j < t.length(); j++) {
            String letter = "-" + t.charAt(j);
            if (values.contains(letter)) {
              cluster = t.substring(0, j + 1);
              consumedNext =
                  j == t.length() - 1 && ProgramOptions.takesNext(binary, letter, next(argv, i));
              consumedRest = j < t.length() - 1;
              break;
            }
          }
          if (consumedRest && Nopt.reads(binary)) {
            // nopt glues no value to a short option: -wpkg is the option --wpkg, -wCCC the
            // options -w -C -C -C (Nopt); every letter is checked against flags.allowed
            cluster = t;
            consumedRest = false;
          }
          flags.add(cluster);
          if (consumedNext) {
            i++;
          } else if (!consumedRest) {
            flag = t;
          }
        }
        javaProgram |= java && ProgramOptions.javaEndsOptions(t);
        lastFlag = flag;
      }
      return new Parsed(flags, positional, before, firstIndex);
    }

    private static String next(List<String> argv, int i) {
      return i + 1 < argv.size() ? argv.get(i + 1) : null;
    }
  }
}
