package dev.gatehouse.policy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How well-known programs read the options before their subcommand, where the command matcher's
 * generic reading (a flag takes a value only when the rule lists it in {@code flags_with_values})
 * and the program's own parser disagree about which word is the subcommand.
 *
 * <p>For allow and review rules ({@link #mayTakeNext}): a word the rule's {@code args} constrain
 * must not come right after a flag that the program may read as taking it for its value, or {@code
 * npm --tag test publish} (npm reads {@code tag=test}, then runs {@code publish}) would pass a rule
 * for {@code npm test}. A flag is only known not to take a value from the program's own parser
 * (below) or, for other programs, from the rule ({@code flags.allowed} names it and {@code
 * flags_with_values} does not).
 *
 * <p>For deny rules ({@link #mayBeAlias}): git and kubectl run a word that is none of their
 * commands as an alias from configuration the caller may control ({@code git -c alias.p=push p},
 * {@code GIT_CONFIG_*}, {@code help.autocorrect}, kubectl's kuberc, gh's aliases), or as a plugin
 * or extension (kubectl, helm, gh, docker), so such a word may be any command.
 *
 * <p>For cobra programs (kubectl, oc, helm, gh, docker), which word is the subcommand is decided
 * once, as cobra decides it ({@link #cobraCommandIndex}).
 *
 * <p>What this does not do: know every option of every program. It errs towards refusing (allow
 * rules) and towards matching (deny rules).
 */
final class ProgramOptions {
  private ProgramOptions() {}

  /**
   * npm's options that take no value (npm/cli workspaces/config/lib/definitions/definitions.js:
   * {@code type: Boolean}; shorthands in {@code shorthands.js}). nopt (npm/nopt lib/nopt-lib.js)
   * reads {@code --no-NAME} of one of these as a boolean, but {@code --no-NAME} of an option whose
   * type admits a String ({@code --no-otp x}) takes the next word (rt19exec), and an unknown {@code
   * --name} without {@code =} is a boolean; every other known option (String, Number, path, url:
   * {@code --tag}, {@code --otp}, {@code --workspace}, {@code --registry}...) takes the next word.
   */
  private static final Set<String> NPM_BOOLEAN =
      Set.of(
          "--silent",
          "--quiet",
          "--verbose",
          "--global",
          "--force",
          "--yes",
          "--dry-run",
          "--json",
          "--long",
          "--parseable",
          "--workspaces",
          "--include-workspace-root",
          "--ignore-scripts",
          "--foreground-scripts",
          "--if-present",
          "--offline",
          "--prefer-offline",
          "--prefer-online",
          "--legacy-peer-deps",
          "--strict-peer-deps",
          "--save",
          "--save-dev",
          "--save-optional",
          "--save-exact",
          "--save-prod",
          "--save-peer",
          "--save-bundle",
          "--package-lock-only",
          "--production",
          "--audit",
          "--fund",
          "--progress",
          "--timing",
          "--usage",
          "--help",
          "--version",
          "--ws",
          "--iwr",
          // Boolean too, so that their --no- form takes no value (rt19exec)
          "--update-notifier",
          "--package-lock",
          "--bin-links",
          "--shrinkwrap",
          "--unicode",
          "--strict-ssl",
          "--description",
          "--deprecated",
          "--optional",
          "--engine-strict",
          "--install-links",
          "--git-tag-version",
          "--commit-hooks",
          "--sign-git-tag",
          "--sign-git-commit",
          "--workspaces-update",
          "--format-package-lock",
          "--rebuild-bundle");

  /**
   * Programs that read their short options with getopt(3) or git's parse-options, where a digit is
   * never a letter that takes the next word ({@code -j4}, {@code -n3}, {@code -9}). Go's flag
   * package (terraform after its subcommand, many CLIs) reads {@code -name2} as one option that may
   * take the next word, so the rule is not applied to programs outside this list.
   */
  private static final Set<String> GETOPT_DIGITS =
      Set.of("git", "make", "gmake", "xz", "gzip", "bzip2", "zstd", "head", "tail", "grep");

  /**
   * kubectl's root options that take no value ({@code kubectl options}, kubectl 1.32-1.34; cobra's
   * boolean flags have {@code NoOptDefVal}). cobra's subcommand search (spf13/cobra command.go
   * {@code stripFlags}) looks only at the root command's flag set: it skips the next word after
   * every other {@code --name} and two-letter {@code -x} without {@code =}, whether the subcommand
   * reads it as a boolean or not ({@code kubectl -A get delete pods x} runs delete, with {@code
   * get} skipped as the value of {@code -A}). {@code -h}/{@code --help} is not in the root's set
   * while cobra looks (it is added when the command runs). The klog options of older kubectl
   * ({@code --logtostderr}...) are not listed: read as taking the next word, an allow rule refuses.
   */
  private static final Set<String> KUBECTL_ROOT_BOOLEAN =
      Set.of(
          "--insecure-skip-tls-verify",
          "--match-server-version",
          "--warnings-as-errors",
          "--disable-compression");

  /**
   * helm's root options that take no value: {@code --debug}, {@code
   * --kube-insecure-skip-tls-verify} and the hidden klog booleans (helm v3 cmd/helm/helm.go {@code
   * initKubeLogs}: klog.InitFlags added as a Go flag set, so its booleans get pflag's NoOptDefVal
   * and cobra's stripFlags skips no word after them; names are normalized {@code _} to {@code -},
   * both spellings are looked up). Unknown to the index, {@code helm --logtostderr plugin install
   * URL} hid {@code plugin} as a value.
   */
  private static final Set<String> HELM_ROOT_BOOLEAN =
      Set.of(
          "--debug",
          "--kube-insecure-skip-tls-verify",
          "--logtostderr",
          "--alsologtostderr",
          "--skip-headers",
          "--skip_headers",
          "--skip-log-headers",
          "--skip_log_headers",
          "--add-dir-header",
          "--add_dir_header",
          "--one-output",
          "--one_output");

  /**
   * How a program built on spf13/cobra finds its subcommand ({@link #cobraCommandIndex}).
   *
   * @param pflagGlobals the program parses its root options with pflag before cobra looks (docker:
   *     cli/cobra.go {@code HandleGlobalFlags}, {@code SetInterspersed(false)}): an unknown option
   *     is an error, a value option takes the next word, {@code --} ends the options and the word
   *     after it is the command. Otherwise cobra's {@code stripFlags} decides.
   * @param rootBooleans the root command's options that take no value (long names and {@code -x})
   * @param commands the program's commands and their cobra aliases: any other word is an alias,
   *     plugin or extension, which may run any command ({@link #mayBeAlias})
   * @param aliases the commands' cobra aliases ({@code Command.Aliases}), to the command they run
   *     ({@link #cobraCommandName}: {@code helm un} is {@code helm uninstall})
   */
  private record Cobra(
      boolean pflagGlobals,
      Set<String> rootBooleans,
      Set<String> commands,
      Map<String, String> aliases) {}

  private static final Cobra KUBECTL =
      new Cobra(
          false,
          KUBECTL_ROOT_BOOLEAN,
          // kubectl 1.32 `kubectl __complete ""`, plus alpha and kuberc. A kuberc alias (kubectl
          // 1.33+, ~/.kube/kuberc, --kuberc, KUBERC) or a plugin (kubectl-NAME on PATH) can take
          // any other name.
          words(
              "annotate api-resources api-versions apply attach auth autoscale certificate"
                  + " cluster-info completion config cordon cp create debug delete describe diff"
                  + " drain edit events exec explain expose get help kustomize label logs options"
                  + " patch plugin port-forward proxy replace rollout run scale set taint top"
                  + " uncordon version wait alpha kuberc"),
          Map.of());

  /**
   * cobra programs by name. helm (helm.sh/helm/v3 cmd/helm/root.go, `helm --help`: only {@code
   * --debug} and {@code --kube-insecure-skip-tls-verify} of the root's options take no value; an
   * unknown word runs a plugin of that name). gh (cli/cli pkg/cmd/root: {@code --help} and {@code
   * --version}; gh expands an alias or runs an extension for a word that is none of its commands,
   * cmd/gh main.go). docker (docker/cli cli/flags/options.go: {@code -D}, {@code --tls}, {@code
   * --tlsverify}, {@code -v}, {@code -h} take no value; a CLI plugin, {@code docker-NAME} in the
   * cli-plugins directories, takes any other name).
   */
  private static final Map<String, Cobra> COBRA =
      Map.of(
          "kubectl",
          KUBECTL,
          "oc",
          KUBECTL,
          "helm",
          new Cobra(
              false,
              HELM_ROOT_BOOLEAN,
              words(
                  "completion create dependency dep dependencies env get help history install"
                      + " lint list ls package plugin pull fetch push registry repo rollback"
                      + " search show inspect status template test uninstall un delete del"
                      + " upgrade verify version"),
              Map.of(
                  "dep", "dependency",
                  "dependencies", "dependency",
                  "ls", "list",
                  "fetch", "pull",
                  "inspect", "show",
                  "un", "uninstall",
                  "delete", "uninstall",
                  "del", "uninstall")),
          "gh",
          new Cobra(
              false,
              Set.of("--help", "--version"),
              words(
                  "agent-task alias api attestation at auth browse cache codespace cs completion"
                      + " config copilot extension extensions ext gist gpg-key help issue label"
                      + " org pr preview project release repo ruleset run search secret ssh-key"
                      + " status variable workflow version"),
              Map.of(
                  "extensions", "extension",
                  "ext", "extension",
                  "cs", "codespace",
                  "at", "attestation")),
          "docker",
          new Cobra(
              true,
              Set.of("-D", "--debug", "--tls", "--tlsverify", "-v", "--version", "-h", "--help"),
              words(
                  "attach build builder buildx commit compose config container context cp create"
                      + " diff events exec export history image images import info inspect kill"
                      + " load login logout logs manifest network node pause plugin port ps pull"
                      + " push rename restart rm rmi run save search secret service stack start"
                      + " stats stop swarm system tag top trust unpause update version volume"
                      + " wait checkpoint scout init debug help"),
              Map.of()));

  private static Set<String> words(String spaceSeparated) {
    return Set.of(spaceSeparated.split(" "));
  }

  /**
   * kubectl's options that take no value after the subcommand (pflag parses the subcommand's own
   * flags and the root's): the root's booleans and common boolean options of its read commands.
   */
  private static final Set<String> KUBECTL_BOOLEAN =
      Set.of(
          "--insecure-skip-tls-verify",
          "--match-server-version",
          "--warnings-as-errors",
          "--disable-compression",
          "--help",
          "-h",
          "--all-namespaces",
          "-A",
          "--watch",
          "-w",
          "--watch-only",
          "--show-labels",
          "--show-kind",
          "--no-headers",
          "--ignore-not-found",
          "--show-managed-fields");

  /** GNU make's long options that take no value (make --help). */
  private static final Set<String> MAKE_BOOLEAN =
      Set.of(
          "--always-make",
          "--keep-going",
          "--silent",
          "--quiet",
          "--dry-run",
          "--just-print",
          "--recon",
          "--ignore-errors",
          "--question",
          "--touch",
          "--print-directory",
          "--environment-overrides",
          "--no-builtin-rules",
          "--warn-undefined-variables",
          "--trace",
          "--check-symlink-times",
          "--stop",
          "--jobs",
          "--load-average");

  /**
   * git's options that take no value after a subcommand, as far as the matcher needs them
   * (parse-options reads {@code --no-NAME} as the negation of a boolean). Not {@code -n}: {@code
   * git log -n 5} takes a value, {@code git add -n} does not.
   */
  private static final Set<String> GIT_BOOLEAN =
      Set.of("-v", "--verbose", "-q", "--quiet", "-p", "--patch", "-a", "--all", "--dry-run");

  /**
   * git's commands (git 2.39 {@code git --list-cmds=main,nohelpers}, plus the commands added since,
   * the Perl/Tcl ones a distribution may package separately, and git-lfs). git.c {@code run_argv}
   * runs a builtin, then an external {@code git-NAME}, then an alias: an alias never replaces one
   * of these, but any other word may be an alias or, with {@code help.autocorrect}, the command it
   * is closest to ({@code git psuh} runs push).
   */
  private static final Set<String> GIT_COMMANDS =
      Set.of(
          ("add write-tree am annotate apply archive bisect worktree blame branch bugreport bundle"
                  + " cat-file check-attr check-ignore check-mailmap check-ref-format checkout"
                  + " whatchanged checkout-index cherry cherry-pick clean clone column commit"
                  + " commit-graph commit-tree config count-objects credential credential-cache"
                  + " version credential-store daemon describe diagnose diff diff-files diff-index"
                  + " diff-tree difftool verify-tag verify-pack fast-export fast-import fetch"
                  + " fetch-pack filter-branch fmt-merge-msg for-each-ref for-each-repo"
                  + " format-patch fsck fsck-objects verify-commit gc get-tar-commit-id grep"
                  + " hash-object help hook http-backend http-fetch http-push imap-send index-pack"
                  + " init init-db instaweb interpret-trailers log ls-files ls-remote ls-tree"
                  + " mailinfo mailsplit maintenance merge merge-base merge-file merge-index"
                  + " merge-octopus merge-one-file merge-ours merge-recursive merge-recursive-ours"
                  + " merge-recursive-theirs merge-resolve merge-subtree merge-tree mergetool mktag"
                  + " mktree multi-pack-index mv name-rev notes pack-objects pack-redundant"
                  + " pack-refs patch-id pickaxe prune prune-packed pull push quiltimport"
                  + " range-diff read-tree rebase receive-pack reflog remote remote-ext remote-fd"
                  + " remote-ftp remote-ftps remote-http remote-https repack replace request-pull"
                  + " rerere reset restore rev-list rev-parse revert rm send-pack var shell"
                  + " shortlog show show-branch show-index show-ref sparse-checkout stage stash"
                  + " status stripspace submodule upload-pack subtree switch symbolic-ref tag"
                  + " unpack-file unpack-objects update-index update-ref update-server-info"
                  + " upload-archive replay refs backfill last-modified repo history"
                  + " fsmonitor--daemon send-email svn p4 cvsimport cvsserver cvsexportcommit"
                  + " archimport gui citool lfs")
              .split(" "));

  /**
   * Options that GNU coreutils and grep read as taking no value (their getopt_long tables:
   * coreutils src/cat.c, ls.c, head.c, tail.c; grep src/grep.c; the man pages' OPTIONS), by
   * program: short letters, then long names. Used by {@link #valueFlags}.
   */
  private record Booleans(String letters, Set<String> longNames) {}

  private static final Map<String, Booleans> KNOWN_BOOLEANS =
      Map.of(
          // cat takes no option with a value at all
          "cat",
          new Booleans(
              "AbeEnstTuv",
              Set.of(
                  "--show-all",
                  "--number-nonblank",
                  "--show-ends",
                  "--number",
                  "--squeeze-blank",
                  "--show-tabs",
                  "--show-nonprinting",
                  "--help",
                  "--version")),
          // ls: only -I, -T, -w (and long options such as --hide, --sort) take a value
          "ls",
          new Booleans(
              "aAbBcCdDfFgGhHiklLmnNopqQrRsStuUvxXZ1",
              Set.of(
                  "--all",
                  "--almost-all",
                  "--author",
                  "--escape",
                  "--directory",
                  "--dired",
                  "--file-type",
                  "--full-time",
                  "--human-readable",
                  "--si",
                  "--dereference",
                  "--dereference-command-line",
                  "--numeric-uid-gid",
                  "--literal",
                  "--hide-control-chars",
                  "--show-control-chars",
                  "--quote-name",
                  "--recursive",
                  "--reverse",
                  "--size",
                  "--context",
                  "--zero",
                  // optional values, only with '=' (ls.c long_options: optional_argument)
                  "--color",
                  "--hyperlink",
                  "--classify",
                  "--help",
                  "--version")),
          // head: -c and -n take a value
          "head",
          new Booleans(
              "qvz", Set.of("--quiet", "--silent", "--verbose", "--zero-terminated", "--help")),
          // tail: -c, -n, -s take a value; --follow's value is optional, so only with '='
          "tail",
          new Booleans(
              "fFqvz",
              Set.of(
                  "--follow",
                  "--retry",
                  "--quiet",
                  "--silent",
                  "--verbose",
                  "--zero-terminated",
                  "--help")),
          // grep: -e, -f, -m, -A, -B, -C, -d, -D take a value
          "grep",
          new Booleans(
              "EFGPiyvwxcLloqsbHhnTZzUraIRV",
              Set.of(
                  "--extended-regexp",
                  "--fixed-strings",
                  "--basic-regexp",
                  "--perl-regexp",
                  "--ignore-case",
                  "--no-ignore-case",
                  "--invert-match",
                  "--word-regexp",
                  "--line-regexp",
                  "--count",
                  "--files-without-match",
                  "--files-with-matches",
                  "--only-matching",
                  "--quiet",
                  "--silent",
                  "--no-messages",
                  "--byte-offset",
                  "--with-filename",
                  "--no-filename",
                  "--line-number",
                  "--initial-tab",
                  "--null",
                  "--null-data",
                  "--binary",
                  "--text",
                  "--recursive",
                  "--dereference-recursive",
                  // optional value, only with '=' (grep.c long_options: optional_argument)
                  "--color",
                  "--colour",
                  "--help",
                  "--version")),
          // GNU sed (sed/sed.c): -e, -f, -l take a value; -i's suffix is optional and only
          // attached (-i.bak, --in-place=.bak), so sed -i FILE edits FILE
          "sed",
          new Booleans(
              "nrEsuzi",
              Set.of(
                  "--quiet",
                  "--silent",
                  "--regexp-extended",
                  "--separate",
                  "--unbuffered",
                  "--null-data",
                  "--in-place",
                  "--debug",
                  "--posix",
                  "--sandbox",
                  "--follow-symlinks",
                  "--help",
                  "--version")));

  /**
   * The flags that take the next word (or the rest of a short cluster) as their value: the rule's
   * {@code flags_with_values}, less the options {@code binary} is known to read as taking none. A
   * rule for several programs may list a flag that only some of them give a value ({@code -n} for
   * {@code tail} and {@code cat}): {@code cat -n /etc/shadow} numbers the lines of /etc/shadow, so
   * for cat the word after {@code -n} is a file that {@code paths} must check, not a value. Reading
   * a word as positional rather than as a value only makes allow rules stricter and deny rules
   * match more.
   */
  static Set<String> valueFlags(String binary, Set<String> ruleValues) {
    if (ruleValues.isEmpty()) {
      return ruleValues;
    }
    Booleans b = KNOWN_BOOLEANS.get(program(binary));
    if (b == null) {
      return ruleValues;
    }
    Set<String> out = new HashSet<>(ruleValues);
    out.removeIf(
        f ->
            b.longNames().contains(f)
                || (f.length() == 2
                    && f.charAt(0) == '-'
                    && b.letters().indexOf(f.charAt(1)) >= 0));
    return out.size() == ruleValues.size() ? ruleValues : Set.copyOf(out);
  }

  /**
   * Whether {@code flag}, which the rule says takes a value and which is written without one
   * ({@code -n}, not {@code -n5} or {@code --lines=5}), takes the word after it, {@code next} (null
   * at the end). Options with an optional value take the next word only when it is one:
   * journalctl's {@code -n}/{@code --lines} (systemd journalctl.c {@code parse_lines}: getopt
   * leaves the value optional, and the next word is taken only when it is {@code all}, {@code N} or
   * {@code +N}), so {@code journalctl -n _COMM=sshd} reads the match {@code _COMM=sshd} ({@code
   * -b}/{@code --boot} likewise, with a boot offset: {@code -b -1}). Erring towards not taking it
   * (a positional word is checked against {@code args} and {@code paths}): digits only, at most 18
   * of them. Every other flag in {@code flags_with_values} takes it.
   */
  static boolean takesNext(String binary, String flag, String next) {
    if (!program(binary).equals("journalctl")) {
      return true;
    }
    boolean lines = flag.equals("-n") || flag.equals("--lines");
    // -b/--boot the same way: the next word only when it is a boot offset (a boot ID is read
    // here as not taken: a positional word is checked, never hidden)
    boolean boot = flag.equals("-b") || flag.equals("--boot");
    if (!lines && !boot) {
      return true;
    }
    if (next == null) {
      return false;
    }
    if (lines && next.equals("all")) {
      return true;
    }
    boolean signed = next.startsWith("+") || (boot && next.startsWith("-"));
    String digits = signed ? next.substring(1) : next;
    if (digits.isEmpty() || digits.length() > 18) {
      return false;
    }
    for (int i = 0; i < digits.length(); i++) {
      if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * Programs that read the working directory when they are given no file operand: ls (and dir,
   * vdir) list it, find, du and tree walk it, ripgrep searches it, and GNU grep searches it when
   * recursive (grep(1): "if no FILE is given, recursive searches examine the working directory";
   * {@code -r}, {@code -R}, {@code --recursive}, {@code --dereference-recursive}, {@code -d
   * recurse}). Erring towards yes: {@code -d}/{@code --directories} with any value, and any long
   * flag that abbreviates one of those names.
   *
   * @param flags the flags of argv as {@link CommandMatcher.Parsed} read them (a cluster whole)
   */
  static boolean readsWorkingDirectory(String binary, List<String> flags) {
    switch (program(binary)) {
      case "ls",
          "dir",
          "vdir",
          "find",
          "du",
          "tree",
          "rg",
          "ag",
          "ack",
          "ack-grep",
          "fd",
          "fdfind",
          "eza",
          "exa",
          "lsd",
          "ncdu",
          "dust",
          "gdu",
          "ugrep",
          "ug" -> {
        return true;
      }
      case "grep", "egrep", "fgrep" -> {}
      default -> {
        return false;
      }
    }
    for (String f : flags) {
      if (f.startsWith("--")) {
        for (String name : List.of("--recursive", "--dereference-recursive", "--directories")) {
          if (f.length() >= 4 && name.startsWith(f)) {
            return true;
          }
        }
        continue;
      }
      // a cluster up to the first letter that takes a value (-e, -f, -m, -A, -B, -C, -d, -D)
      for (int j = 1; j < f.length(); j++) {
        char c = f.charAt(j);
        if (c == 'r' || c == 'R' || c == 'd') {
          return true;
        }
        if ("efmABCD".indexOf(c) >= 0) {
          break;
        }
      }
    }
    return false;
  }

  private static String program(String binary) {
    return binary == null ? "" : CommandWrappers.programName(binary);
  }

  /**
   * Options that {@code binary} reads as taking the next word when they come before its subcommand,
   * whatever the rule's {@code flags_with_values} says: kubectl's global options ({@code kubectl
   * options}: {@code -n}, {@code -v}, {@code --request-timeout}...: pflag takes the next word and
   * cobra's stripFlags skips it), helm's, gh's and docker's likewise, as listed in RiskyFlags. So
   * {@code kubectl -v 9 delete pod x} has the subcommand delete for a rule that does not list
   * {@code -v}, as kubectl has. (git's, which RiskyFlags also lists, are all risky and stay read by
   * {@code flags_with_values}.) And java's options that take a value, before the main class ({@link
   * JavaValues}).
   */
  static Set<String> globalValueFlags(String binary) {
    if (javaLauncher(binary)) {
      return JavaValues.OPTIONS;
    }
    RiskyFlags.Tool t = cobra(binary) ? RiskyFlags.tool(binary) : null;
    return t == null ? Set.of() : t.globalValues();
  }

  /**
   * java's options that take the next word ({@code -cp DIR}, {@code --source 21}; java --help), so
   * that {@code java -cp . -- Build.java} reads {@code --} before the main class, as java does. Not
   * {@code -jar}, {@code -m}, {@code --module}: their value is the program, read as the first
   * positional argument as before ({@code args: [app.jar]}).
   */
  private static final class JavaValues {
    static final Set<String> OPTIONS = options();

    private static Set<String> options() {
      RiskyFlags.Tool t = RiskyFlags.tool("java");
      Set<String> out = new HashSet<>(t == null ? Set.of() : t.globalValues());
      out.removeIf(ProgramOptions::javaEndsOptions);
      return Set.copyOf(out);
    }
  }

  /**
   * Whether the program is the JDK's {@code java} launcher, which has no {@code --} end of options:
   * before the main class or source file it refuses the word ({@code java -- Build.java test}:
   * "Unrecognized option: --", nothing runs), and after it (or after the value of {@code -jar},
   * {@code -m}, {@code --module}) every word is the program's, {@code --} included ({@code java
   * Build.java -- test} runs Build with the arguments {@code --} and {@code test}). JDK "The java
   * Command" (synopsis: {@code java [options] mainclass [args ...]}); checked with the JDK 25
   * launcher.
   */
  static boolean javaLauncher(String binary) {
    return program(binary).equals("java");
  }

  /**
   * java's options after which the rest of the command line is the program's: {@code -jar FILE},
   * {@code -m}/{@code --module MODULE[/CLASS]} (also {@code --module=...}), as {@link RiskyFlags}
   * reads them.
   */
  static boolean javaEndsOptions(String word) {
    return word.equals("-jar")
        || word.equals("-m")
        || word.equals("--module")
        || word.startsWith("--module=");
  }

  /** Whether the program finds its subcommand with spf13/cobra (kubectl, oc, helm, gh, docker). */
  static boolean cobra(String binary) {
    return COBRA.containsKey(program(binary));
  }

  /**
   * Whether, for this program, options before the first positional argument never take the next
   * word as their value. Terraform and OpenTofu (hashicorp/cli {@code processArgs}): the subcommand
   * is the first argument that does not start with {@code -}; options before it are recorded, never
   * given a value ({@code -chdir} needs {@code =}). So {@code terraform -var-file apply plan} runs
   * {@code apply}, even when a rule lists {@code -var-file} in {@code flags_with_values}.
   */
  static boolean noValuesBeforeSubcommand(String binary) {
    String p = program(binary);
    return p.equals("terraform") || p.equals("tofu");
  }

  /**
   * Whether {@code flag} (a word starting with {@code -}, without {@code =}, that the rule's {@code
   * flags_with_values} did not make take the next word) may take the next word as its value.
   *
   * @param beforeSubcommand whether no positional argument comes before the flag
   * @param allowed the rule's {@code flags.allowed}, or null
   */
  static boolean mayTakeNext(
      String binary, String flag, boolean beforeSubcommand, List<Glob> allowed) {
    String p = program(binary);
    boolean shortCluster = !flag.startsWith("--");
    char last = flag.charAt(flag.length() - 1);
    Cobra cobra = COBRA.get(p);
    if (cobra != null && (beforeSubcommand || cobra == KUBECTL)) {
      // cobra: only a two-letter -x skips the next word (a longer -xyz is a cluster or -xVALUE);
      // before the subcommand, every flag but the root's booleans does (stripFlags; the index
      // itself is cobraCommandIndex, which CommandMatcher checks first)
      if ((beforeSubcommand ? cobra.rootBooleans() : KUBECTL_BOOLEAN).contains(flag)) {
        return false;
      }
      return !shortCluster || flag.length() == 2;
    }
    switch (p) {
      case "terraform", "tofu" -> {
        if (beforeSubcommand) {
          return false; // hashicorp/cli: see noValuesBeforeSubcommand
        }
      }
      case "git" -> {
        if (beforeSubcommand) {
          // git.c handle_options: a closed list; every other option takes no value or is an
          // "unknown option" error before any command runs. The list is RiskyFlags' globalValues.
          return RiskyFlags.tool(binary).globalValues().contains(flag);
        }
        if (flag.startsWith("--no-") || GIT_BOOLEAN.contains(flag)) {
          return false;
        }
      }
      case "npm" -> {
        if (flag.regionMatches(true, 0, "--no-", 0, 5)) {
          // nopt negates the option after every no-; a negated option whose type admits a String
          // (--otp, --workspace, --script-shell: [null, String]) takes the next word (npm 11.19:
          // `npm --no-otp x config get otp` prints x), so only a known Boolean's --no- takes none
          // (red team rt19exec: `npm --no-otp test publish` publishes)
          String core = flag.substring(5);
          int rounds = 0;
          while (core.regionMatches(true, 0, "no-", 0, 3) && rounds++ < 64) {
            core = core.substring(3);
          }
          return !NPM_BOOLEAN.contains("--" + core.toLowerCase(java.util.Locale.ROOT));
        }
        if (NPM_BOOLEAN.contains(flag)) {
          return false;
        }
        if (shortCluster && flag.length() >= 2) {
          // as nopt reads it (Nopt, rt20exec): -ws and -iwr are shorthands, -sw is --loglevel
          // silent --workspace (which takes the next word), -wpkg the unknown Boolean --wpkg
          // (nopt has no value glued to a short option)
          String probe = "x";
          return !Nopt.read(List.of("npm", flag, probe)).remain().contains(probe);
        }
        return true;
      }
      case "make", "gmake" -> {
        // GNU make (make(1)): -C, -f, -I, -o, -W, -E take a value; -j, -l, -O only attached
        if (shortCluster) {
          return "CfIoWE".indexOf(last) >= 0;
        }
        return !flag.startsWith("--no-") && !MAKE_BOOLEAN.contains(flag);
      }
      default -> {}
    }
    // getopt(3) and its kin: in a cluster the first letter that takes a value takes the rest of
    // the word, or the next word when it is the last letter; so only the last letter can take the
    // next word. A digit is never such a letter (git log -n3, xz -9, head -5). Only for programs
    // known to parse so: Go's flag package reads -name2 as one option that takes the next word.
    if (GETOPT_DIGITS.contains(p) && shortCluster && flag.length() > 2 && Character.isDigit(last)) {
      return false;
    }
    // Other programs: the rule's own word. A flag flags.allowed names exactly and
    // flags_with_values does not is read as taking no value; a cluster by its last letter.
    if (allowed != null) {
      String name = shortCluster && flag.length() > 2 ? "-" + last : flag;
      for (int i = 0; i < allowed.size(); i++) {
        Glob g = allowed.get(i);
        if (g.isLiteral() && (g.literal().equals(name) || g.literal().equals(flag))) {
          return false;
        }
      }
    }
    return true;
  }

  /** Maven's launchers, which read their options with commons-cli's GnuParser. */
  private static final Set<String> MAVEN = Set.of("mvn", "mvnw", "mvnd", "mvnDebug", "mvnwDebug");

  /**
   * Maven's options ({@code mvn --help}, Maven 3.8.7 and 3.9.11), short and long names, and those
   * of them that take an argument.
   */
  private static final Set<String> MAVEN_OPTIONS =
      words(
          "am also-make amd also-make-dependents B batch-mode b builder C strict-checksums c"
              + " lax-checksums color cpu check-plugin-updates D define e errors emp"
              + " encrypt-master-password ep encrypt-password f file fae fail-at-end ff fail-fast"
              + " fn fail-never gs global-settings gt global-toolchains h help itr"
              + " ignore-transitive-repositories l log-file llr legacy-local-repository N"
              + " non-recursive npr no-plugin-registry npu no-plugin-updates nsu"
              + " no-snapshot-updates ntp no-transfer-progress o offline P activate-profiles pl"
              + " projects q quiet raw-streams rf resume-from s settings t toolchains T threads U"
              + " update-snapshots up update-plugins v version V show-version X debug"
              + " non-interactive force-interactive");

  private static final Set<String> MAVEN_ARGUMENTS =
      words(
          "b builder color D define emp encrypt-master-password ep encrypt-password f file gs"
              + " global-settings gt global-toolchains l log-file P activate-profiles pl projects"
              + " rf resume-from s settings t toolchains T threads");

  /**
   * The word Maven splits off an option word and reads as a goal or phase, or null. Maven (3.8.7
   * and 3.9.11) reads its command line with commons-cli's GnuParser, whose {@code flatten} splits
   * {@code -B=deploy} and {@code --batch-mode=deploy} at the {@code =} when the part before it is
   * an option, and {@code -Bdeploy} after its first letter when {@code -B} is one: the second part
   * is the option's value when it takes one, and otherwise a word of its own, a goal ({@code mvn -o
   * validate -B=xx} and {@code -Bxx} both fail with "Unknown lifecycle phase xx"). So {@code mvn
   * -B=deploy verify} runs deploy (red team rt20exec). An option word that is none of these is an
   * error ("Unrecognized option"), as is {@code --batch=xx}: no abbreviations.
   */
  static String mavenGoal(String binary, String word) {
    if (!MAVEN.contains(program(binary)) || word.length() < 2 || word.charAt(0) != '-') {
      return null;
    }
    String opt = word.startsWith("--") ? word.substring(2) : word.substring(1);
    if (opt.isEmpty() || MAVEN_OPTIONS.contains(opt)) {
      return null;
    }
    int eq = opt.indexOf('=');
    if (eq >= 0 && MAVEN_OPTIONS.contains(opt.substring(0, eq))) {
      return MAVEN_ARGUMENTS.contains(opt.substring(0, eq)) ? null : opt.substring(eq + 1);
    }
    String first = word.substring(1, 2);
    if (MAVEN_OPTIONS.contains(first)) {
      return MAVEN_ARGUMENTS.contains(first) ? null : word.substring(2);
    }
    return null;
  }

  /** How often a cobra program's argv was read for its command, for tests. */
  static final java.util.concurrent.atomic.LongAdder COBRA_READINGS =
      new java.util.concurrent.atomic.LongAdder();

  /**
   * The index in {@code argv} (argv[0] is the program) of the word a cobra program runs as its
   * command, or -1 when it runs none (its usage, an error, or the words after {@code --}). The one
   * reading that {@link CommandMatcher} (allow rules refuse when theirs differs; deny rules also
   * match this word), {@link RiskyFlags} (which flags come before or after the subcommand) and
   * {@link #mayBeAlias} share.
   *
   * <p>cobra (spf13/cobra command.go {@code Find}, {@code stripFlags}): a {@code --name} or a
   * two-letter {@code -x}, without {@code =}, that is not one of the root command's booleans skips
   * the next word, whether or not pflag will read it as that option's value ({@code kubectl -A get
   * delete pods x} runs delete; {@code kubectl -A -n x delete} runs the unknown command {@code x});
   * {@code --name=value}, {@code -x=v}, a cluster or {@code -xVALUE} ({@code -nx}, {@code -An})
   * skips nothing; {@code --} ends the search with no command; a flag whose value would be the last
   * word ends it too. docker parses its root options with pflag first ({@link Cobra}): a value
   * option takes the next word or the rest of its cluster, a boolean nothing, {@code --} ends the
   * options, and an unknown option is an error.
   *
   * @return -1 also for a program that is not a cobra program
   */
  static int cobraCommandIndex(String binary, List<String> argv) {
    Cobra c = COBRA.get(program(binary));
    if (c == null) {
      return -1;
    }
    COBRA_READINGS.increment();
    if (c.pflagGlobals()) {
      return pflagCommandIndex(c, RiskyFlags.tool(binary).globalValues(), argv);
    }
    for (int i = 1; i < argv.size(); i++) {
      String w = argv.get(i);
      if (w.equals("--")) {
        return -1;
      }
      if (stripFlagsSkipsNext(c, w)) {
        if (argv.size() - (i + 1) <= 1) {
          return -1; // stripFlags: "break Loop" when the value is the last word
        }
        i++;
      } else if (!w.isEmpty() && w.charAt(0) != '-') {
        return i;
      }
    }
    return -1;
  }

  /**
   * Whether cobra's {@code stripFlags} (and {@code Traverse}) skips the word after {@code w} as its
   * value: a {@code --name} or a two-letter {@code -x}, without {@code =}, that is not one of the
   * root command's booleans.
   */
  private static boolean stripFlagsSkipsNext(Cobra c, String w) {
    return w.indexOf('=') < 0
        && !c.rootBooleans().contains(w)
        && (w.startsWith("--") || (w.length() == 2 && w.charAt(0) == '-'));
  }

  /**
   * The words a deny rule reads from a cobra program's command on: the command (as {@link
   * #cobraCommandName} names it), then the words after it that are not options. With {@code
   * skipValues}, an option that cobra's {@code stripFlags} reads as taking the next word ({@link
   * #stripFlagsSkipsNext}) drops that word too. Which of the two readings cobra makes when it looks
   * for the subcommand depends on the command's own flags, which Gatehouse does not list: a deny
   * rule reads both, so that {@code helm plugin --debug add URL} and {@code helm plugin --namespace
   * x add URL} both run {@code plugin add} for it (words after {@code --} are kept: matching more).
   *
   * @param command the index of the command in argv ({@link #cobraCommandIndex}), not negative
   */
  static List<String> cobraCommandWords(
      String binary, List<String> argv, int command, boolean skipValues) {
    Cobra c = COBRA.get(program(binary));
    List<String> out = new ArrayList<>(argv.size() - command);
    out.add(cobraCommandName(binary, argv.get(command)));
    boolean options = true;
    for (int i = command + 1; i < argv.size(); i++) {
      String w = argv.get(i);
      if (!options || w.length() < 2 || w.charAt(0) != '-') {
        out.add(w);
      } else if (w.equals("--")) {
        options = false;
      } else if (skipValues && c != null && stripFlagsSkipsNext(c, w)) {
        i++;
      }
    }
    return out;
  }

  /**
   * The command a cobra program runs for {@code word}, its subcommand: the command a cobra alias
   * stands for ({@code helm un}, {@code helm del}: uninstall; {@code gh ext}: extension), else the
   * word itself.
   */
  static String cobraCommandName(String binary, String word) {
    Cobra c = COBRA.get(program(binary));
    return c == null ? word : c.aliases().getOrDefault(word, word);
  }

  /**
   * Spellings of one command, by program: cobra aliases of subcommands ({@code Command.Aliases} of
   * helm's plugin and repo commands, docker's management commands) and docker's top-level shortcuts
   * ({@code docker rm} is {@code docker container rm}, docker/cli cli/command/commands). Every
   * spelling of a group runs the same command.
   */
  private static final Map<String, List<List<String>>> SPELLINGS =
      Map.of(
          "helm",
          groups(
              "plugin install|plugin add",
              "plugin update|plugin up",
              "plugin uninstall|plugin rm|plugin remove",
              "plugin list|plugin ls",
              "repo remove|repo rm",
              "repo list|repo ls"),
          "docker",
          groups(
              "rm|container rm|container remove",
              "rmi|image rm|image remove",
              "run|container run",
              "ps|container ls|container list|container ps",
              "exec|container exec",
              "cp|container cp",
              "create|container create",
              "kill|container kill",
              "commit|container commit",
              "images|image ls|image list",
              "pull|image pull",
              "push|image push",
              "save|image save",
              "load|image load",
              "build|image build|builder build|buildx build",
              "volume rm|volume remove",
              "volume ls|volume list",
              "network rm|network remove",
              "network ls|network list",
              "plugin rm|plugin remove",
              "plugin ls|plugin list",
              "context rm|context remove",
              "context ls|context list"));

  private static List<List<String>> groups(String... groups) {
    List<List<String>> out = new ArrayList<>(groups.length);
    for (String g : groups) {
      out.add(List.of(g.split("\\|")));
    }
    return List.copyOf(out);
  }

  /**
   * {@code words} (a command and its arguments, the command first) with every other spelling of
   * that command put before it: {@code [container, remove, c1]} becomes {@code [rm, container, rm,
   * container, remove, c1]}. For deny rules and the risky-command catalogue, which look for words
   * in order anywhere: a rule for one spelling then matches the others ({@code args: [[rm, rmi]]}
   * matches {@code docker container remove}, {@code plugin install} {@code helm plugin add}).
   * Matching more is the safe direction there; allow rules read the words as typed.
   */
  static List<String> cobraSpellings(String binary, List<String> words) {
    List<List<String>> groups = SPELLINGS.get(program(binary));
    if (groups == null || words.isEmpty()) {
      return words;
    }
    List<String> best = null;
    List<String> group = null;
    for (List<String> g : groups) {
      for (String spelling : g) {
        List<String> w = List.of(spelling.split(" "));
        if (w.size() <= words.size()
            && words.subList(0, w.size()).equals(w)
            && (best == null || w.size() > best.size())) {
          best = w;
          group = g;
        }
      }
    }
    if (group == null) {
      return words;
    }
    List<String> out = new ArrayList<>(words.size() + 6);
    for (String spelling : group) {
      out.addAll(List.of(spelling.split(" ")));
    }
    out.addAll(words.subList(best.size(), words.size()));
    return out;
  }

  /** docker: pflag over the root's options, stopping at the first word that is not one. */
  private static int pflagCommandIndex(Cobra c, Set<String> values, List<String> argv) {
    for (int i = 1; i < argv.size(); i++) {
      String w = argv.get(i);
      if (w.equals("--")) {
        return i + 1 < argv.size() ? i + 1 : -1;
      }
      if (w.length() < 2 || w.charAt(0) != '-') {
        return i;
      }
      if (w.startsWith("--")) {
        int eq = w.indexOf('=');
        String name = eq < 0 ? w : w.substring(0, eq);
        if (values.contains(name)) {
          i += eq < 0 ? 1 : 0;
        } else if (!c.rootBooleans().contains(name)) {
          return -1; // pflag: unknown flag, nothing runs
        }
        continue;
      }
      for (int j = 1; j < w.length(); j++) {
        String letter = "-" + w.charAt(j);
        if (values.contains(letter)) {
          i += j == w.length() - 1 ? 1 : 0; // -H x, or -Hx / -H=x
          break;
        }
        if (!c.rootBooleans().contains(letter)) {
          return -1; // pflag: unknown shorthand flag
        }
        if (j + 1 < w.length() && w.charAt(j + 1) == '=') {
          break; // -D=true
        }
      }
    }
    return -1;
  }

  /**
   * Whether git or a cobra program would read the command word of {@code argv} as an alias (or a
   * plugin, an extension, or an autocorrection): it is none of their commands. Then it may be any
   * command, and a deny rule for that program treats it as such. Other programs: false.
   */
  static boolean mayBeAlias(String binary, List<String> argv) {
    return mayBeAlias(binary, argv, cobraCommandIndex(binary, argv));
  }

  /**
   * {@link #mayBeAlias(String, List)} with the cobra command index of argv ({@link
   * #cobraCommandIndex}), computed once by the caller.
   */
  static boolean mayBeAlias(String binary, List<String> argv, int cobraCommand) {
    String p = program(binary);
    Cobra cobra = COBRA.get(p);
    if (cobra != null) {
      int i = cobraCommand;
      // no command: the program prints its usage or an error (deny rules still read the words
      // after --, as positional arguments)
      return i >= 0 && !cobra.commands().contains(argv.get(i));
    }
    if (!p.equals("git")) {
      return false;
    }
    Set<String> gitValues = RiskyFlags.tool(binary).globalValues();
    for (int i = 1; i < argv.size(); i++) {
      String t = argv.get(i);
      if (t.equals("--")) {
        return true; // an unknown option: not worth reading further
      }
      if (t.length() > 1 && t.charAt(0) == '-') {
        if (gitValues.contains(t)) {
          i++;
        }
        if (t.equals("-h") || t.equals("--help") || t.equals("-v")) {
          return false; // git prints usage or its version and runs no command
        }
        if (t.equals("--version") || t.equals("--exec-path")) {
          return false;
        }
        continue;
      }
      return !GIT_COMMANDS.contains(t);
    }
    return false; // no command: git prints its usage
  }
}
