package dev.gatehouse.policy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * How npm reads its command line: nopt (npm/nopt lib/nopt-lib.js {@code parse} and {@code
 * resolveShort}) with npm 11.19.1's option types and shorthands (@npmcli/config lib/definitions).
 * The matcher's getopt-like reading ({@link CommandMatcher.Parsed}) and nopt disagree in ways that
 * change which word is npm's command (red team rt20exec):
 *
 * <ul>
 *   <li>nopt splits {@code --name=VALUE} into {@code --name} and {@code VALUE} before it looks at
 *       the option, and a Boolean option takes only {@code true} or {@code false} as its value: in
 *       {@code npm --ignore-scripts=publish test} VALUE is a word of its own, so npm runs {@code
 *       publish} (npm 11.19.1: {@code npm --json=config get json} runs config and prints true). So
 *       do a shorthand ({@code --silent=publish} is {@code --loglevel silent publish}) and a
 *       negated option ({@code --no-audit=publish}).
 *   <li>A short word has no glued value: {@code -wpkg} is the unknown option {@code --wpkg}, and a
 *       word whose every letter is a one-letter shorthand is one option per letter, each value
 *       option taking the next of them: {@code -wCCC} is {@code --workspace=--prefix
 *       --prefix=--prefix}, which sets the prefix (and the npmrc files read from it).
 *   <li>A String option never takes a next word that looks like an option ({@code --tag
 *       --registry=URL}); the option names lose every leading dash and every {@code no-} ({@code
 *       ----registry}); a unique prefix is the option ({@code --ignore=publish}); multi-letter
 *       shorthands ({@code -reg}, {@code -dd}, {@code --porc}) and their prefixes expand.
 * </ul>
 *
 * <p>Where this reading is not sure a word is a value it reads it as a word of its own (a
 * positional argument, or an option when it looks like one): allow rules then see a disagreement
 * and refuse, deny rules match more.
 */
final class Nopt {
  private Nopt() {}

  /** Programs that read their options with nopt (npm/cli; pnpm's parse-cli-args uses nopt too). */
  static final Set<String> PROGRAMS = Set.of("npm", "npx", "pnpm", "pnpx");

  static boolean reads(String binary) {
    return binary != null && PROGRAMS.contains(CommandWrappers.programName(binary));
  }

  /** How an option's type makes nopt read the word after it (see {@link #takes}). */
  private enum Kind {
    /** Boolean: only {@code true}/{@code false} are taken. */
    BOOLEAN,
    /** [null, Boolean] and the like: also the literals listed (null, always). */
    BOOLEAN_LITERALS,
    /** [null, Boolean, String]: a Boolean that also takes a String. */
    BOOLEAN_STRING,
    /** String: any word except one that looks like an option ({@code /^-{1,2}[^-]+/}). */
    STRING,
    /** An array type that admits a String ([null, String], [String, Array]). */
    ARRAY_STRING,
    /** Anything else (path, url, Number, Date, a list of literals): any word. */
    VALUE
  }

  private static final Map<String, Kind> TYPES = types();

  /** The literals a {@link Kind#BOOLEAN_LITERALS} option takes besides true and false. */
  private static final Map<String, Set<String>> LITERALS =
      Map.of(
          "color", Set.of("always"),
          "expect-results", Set.of("null"),
          "optional", Set.of("null"),
          "production", Set.of("null"),
          "workspaces", Set.of("null"),
          "yes", Set.of("null"));

  /** npm's shorthands (definitions/shorthands, npm 11.19.1). */
  private static final Map<String, List<String>> SHORTHANDS = shorthands();

  /** Every option name, sorted, for nopt's unique prefixes (the abbrev package). */
  private static final TreeSet<String> NAMES = new TreeSet<>(TYPES.keySet());

  private static final TreeSet<String> SHORTHAND_NAMES = new TreeSet<>(SHORTHANDS.keySet());

  /** nopt's test for a word a String option leaves alone. */
  private static final Pattern OPTION_LIKE = Pattern.compile("^-{1,2}[^-]+");

  /** nopt's end of options, and a word no option takes: {@code /^-{2,}$/}. */
  private static final Pattern DASHES = Pattern.compile("^-{2,}$");

  private static Map<String, Kind> types() {
    Map<String, Kind> m = new HashMap<>();
    put(
        m,
        Kind.BOOLEAN,
        "all allow-same-version audit bin-links bypass-2fa commit-hooks"
            + " dangerously-allow-all-scripts description dev diff-ignore-all-space diff-name-only"
            + " diff-no-prefix diff-text dry-run engine-strict force foreground-scripts"
            + " format-package-lock fund git-tag-version global global-style if-present"
            + " ignore-scripts include-staged include-workspace-root include-attestations"
            + " init-private install-links json legacy-bundling legacy-peer-deps link long offline"
            + " omit-lockfile-registry-resolved package-lock package-lock-only parseable"
            + " allow-scripts-pending allow-scripts-pin prefer-dedupe prefer-offline prefer-online"
            + " progress provenance read-only rebuild-bundle save save-bundle save-dev save-exact"
            + " save-optional save-peer save-prod packages-all shrinkwrap sign-git-commit"
            + " sign-git-tag strict-peer-deps strict-allow-scripts strict-ssl timing unicode"
            + " update-notifier usage version versions workspaces-update");
    put(m, Kind.BOOLEAN_LITERALS, "color expect-results optional production workspaces yes");
    put(m, Kind.BOOLEAN_STRING, "browser");
    put(
        m,
        Kind.STRING,
        "call diff-dst-prefix diff-src-prefix editor git heading init-author-email"
            + " init-author-name init-license init-type init.author.email init.author.name"
            + " init.license message pack-destination preid save-prefix scope searchexclude"
            + " searchopts shell tag tag-version-prefix user-agent viewer");
    put(
        m,
        Kind.ARRAY_STRING,
        "_auth allow-scripts ca cert cidr cpu diff key libc name min-release-age-exclude"
            + " node-options noproxy orgs os otp package packages replace-registry-host scopes"
            + " password token-description script-shell workspace");
    put(
        m,
        Kind.VALUE,
        "access allow-directory allow-file allow-git allow-remote also audit-level auth-type"
            + " before cache cache-max cache-min cafile depth diff-unified expect-result-count"
            + " expires fetch-retries fetch-retry-factor fetch-retry-maxtimeout"
            + " fetch-retry-mintimeout fetch-timeout globalconfig https-proxy include"
            + " init-author-url init-module init-version init.author.url init.module init.version"
            + " install-strategy local-address location lockfile-version loglevel logs-dir"
            + " logs-max maxsockets min-release-age node-gyp omit only prefix provenance-file"
            + " proxy registry sbom-format sbom-type packages-and-scopes-permission"
            + " orgs-permission searchlimit searchstaleness umask userconfig which");
    return Map.copyOf(m);
  }

  private static void put(Map<String, Kind> m, Kind k, String names) {
    for (String n : names.split(" ")) {
      m.put(n, k);
    }
  }

  private static Map<String, List<String>> shorthands() {
    Map<String, List<String>> m = new HashMap<>();
    String[][] table = {
      {"enjoy-by", "--before"},
      {"d", "--loglevel info"},
      {"dd", "--loglevel verbose"},
      {"ddd", "--loglevel silly"},
      {"quiet", "--loglevel warn"},
      {"q", "--loglevel warn"},
      {"s", "--loglevel silent"},
      {"silent", "--loglevel silent"},
      {"verbose", "--loglevel verbose"},
      {"desc", "--description"},
      {"help", "--usage"},
      {"local", "--no-global"},
      {"n", "--no-yes"},
      {"no", "--no-yes"},
      {"porcelain", "--parseable"},
      {"readonly", "--read-only"},
      {"reg", "--registry"},
      {"iwr", "--include-workspace-root"},
      {"ws", "--workspaces"},
      {"a", "--all"},
      {"c", "--call"},
      {"f", "--force"},
      {"g", "--global"},
      {"L", "--location"},
      {"l", "--long"},
      {"m", "--message"},
      {"p", "--parseable"},
      {"C", "--prefix"},
      {"S", "--save"},
      {"B", "--save-bundle"},
      {"D", "--save-dev"},
      {"E", "--save-exact"},
      {"O", "--save-optional"},
      {"P", "--save-prod"},
      {"?", "--usage"},
      {"H", "--usage"},
      {"h", "--usage"},
      {"v", "--version"},
      {"w", "--workspace"},
      {"y", "--yes"}
    };
    for (String[] row : table) {
      m.put(row[0], List.of(row[1].split(" ")));
    }
    return Map.copyOf(m);
  }

  /** One option as nopt sets it: its name without dashes, and whether a {@code no-} negated it. */
  record Option(String name, boolean negated) {
    /** The spellings a rule may list for it: {@code --name}, and its one-letter shorthand. */
    List<String> spellings() {
      List<String> out = new ArrayList<>(3);
      out.add("--" + name);
      if (negated) {
        out.add("--no-" + name);
      }
      for (Map.Entry<String, List<String>> e : SHORTHANDS.entrySet()) {
        if (e.getKey().length() == 1 && e.getValue().equals(List.of("--" + name))) {
          out.add("-" + e.getKey());
        }
      }
      return out;
    }
  }

  /**
   * What nopt makes of argv (argv[0], the program, is skipped): the options it sets and the words
   * it leaves ({@code remain}: npm's command and its arguments, those after {@code --} included).
   */
  record Reading(List<Option> options, List<String> remain) {}

  /** More words than this after expansion: read no further (the rest is left as words). */
  private static final int MAX_STEPS = 4096;

  static Reading read(List<String> argv) {
    List<String> args = new ArrayList<>(argv.size() + 4);
    args.addAll(argv.subList(Math.min(1, argv.size()), argv.size()));
    List<Option> options = new ArrayList<>();
    List<String> remain = new ArrayList<>();
    int steps = 0;
    for (int i = 0; i < args.size(); i++) {
      if (++steps > MAX_STEPS) {
        remain.addAll(args.subList(i, args.size())); // erring towards words of their own
        break;
      }
      String arg = args.get(i);
      if (DASHES.matcher(arg).matches()) {
        remain.addAll(args.subList(i + 1, args.size()));
        break;
      }
      if (arg.length() < 2 || arg.charAt(0) != '-') {
        remain.add(arg);
        continue;
      }
      boolean hadEq = false;
      int at = arg.indexOf('=');
      if (at > -1) {
        hadEq = true;
        String v = arg.substring(at + 1);
        arg = arg.substring(0, at);
        args.set(i, arg);
        args.add(i + 1, v);
      }
      List<String> expansion = resolveShort(arg);
      if (expansion != null) {
        args.remove(i);
        args.addAll(i, expansion);
        if (!arg.equals(expansion.get(0))) {
          i--; // read the expansion from its first word (hadEq is not carried over, as in nopt)
          continue;
        }
      }
      String name = stripDashes(arg);
      Boolean no = null;
      while (name.regionMatches(true, 0, "no-", 0, 3)) {
        no = no == null ? Boolean.TRUE : !no;
        name = name.substring(3);
      }
      String full = abbreviation(NAMES, name);
      if (full != null) {
        name = full;
      }
      Kind kind = TYPES.get(name);
      options.add(new Option(name, no != null));
      String la = i + 1 < args.size() ? args.get(i + 1) : null;
      if (takes(kind, no != null, hadEq, name, la)) {
        i++;
      }
    }
    return new Reading(List.copyOf(options), List.copyOf(remain));
  }

  /**
   * Whether the option takes {@code la}, the word after it (null: none), as nopt's parse decides;
   * where this is unsure (a negated option of a list of literals, a number), no.
   */
  private static boolean takes(Kind kind, boolean negated, boolean hadEq, String name, String la) {
    if (la == null) {
      return false;
    }
    boolean bool =
        negated
            || kind == Kind.BOOLEAN
            || kind == Kind.BOOLEAN_LITERALS
            || kind == Kind.BOOLEAN_STRING
            || (kind == null && !hadEq);
    if (bool) {
      if (la.equals("true") || la.equals("false")) {
        return true;
      }
      if (kind == Kind.BOOLEAN_LITERALS) {
        return LITERALS.getOrDefault(name, Set.of()).contains(la);
      }
      if (kind == Kind.BOOLEAN_STRING || (negated && kind == Kind.ARRAY_STRING)) {
        // "foo":[null, Boolean, String] and a negated [null, String]: a String unless -x
        return la.equals("null")
            || !(la.length() > 1 && la.charAt(0) == '-' && la.charAt(1) != '-');
      }
      return false;
    }
    if (kind == Kind.STRING && OPTION_LIKE.matcher(la).find()) {
      return false;
    }
    return !DASHES.matcher(la).matches();
  }

  /** nopt's resolveShort: the words a short option (or a shorthand's name) stands for, or null. */
  static List<String> resolveShort(String arg) {
    String a = stripDashes(arg);
    if (a.isEmpty() || NAMES.contains(a)) {
      return null;
    }
    List<String> exact = SHORTHANDS.get(a);
    if (exact != null) {
      return exact;
    }
    List<String> singles = new ArrayList<>();
    for (int j = 0; j < a.length(); j++) {
      List<String> one = SHORTHANDS.get(String.valueOf(a.charAt(j)));
      if (one == null) {
        singles = null;
        break;
      }
      singles.addAll(one);
    }
    if (singles != null) {
      return singles;
    }
    if (abbreviation(NAMES, a) != null) {
      return null;
    }
    String sh = abbreviation(SHORTHAND_NAMES, a);
    return sh == null ? null : SHORTHANDS.get(sh);
  }

  /** The name {@code a} is, or uniquely begins (the abbrev package), or null. */
  private static String abbreviation(TreeSet<String> names, String a) {
    if (names.contains(a)) {
      return a;
    }
    String first = names.ceiling(a);
    if (first == null || !first.startsWith(a)) {
      return null;
    }
    String second = names.higher(first);
    return second != null && second.startsWith(a) ? null : first;
  }

  private static String stripDashes(String w) {
    int d = 0;
    while (d < w.length() && w.charAt(d) == '-') {
      d++;
    }
    return w.substring(d);
  }

  /** For tests and messages: the options as {@code --name}. */
  static List<String> names(Reading r) {
    return Arrays.asList(r.options().stream().map(o -> "--" + o.name()).toArray(String[]::new));
  }
}
