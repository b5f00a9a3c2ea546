package dev.gatehouse.runner;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.config.GatehouseConfig.ExecSecretConfig;
import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.masking.StreamMasker;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.CommandLine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs commands on exec connections: the one flow shared by {@code gatehouse exec} (the API) and
 * SSH exec requests on an exec connection. Resolve the binary against the connection, describe,
 * authorize (policy, review, durable record), start a sandboxed process with a clean environment
 * and the injected secrets, stream masked output, record the outcome.
 *
 * <pre>
 *   caller ─ExecRequest─▶ plan: resolve argv[0] in binaries, env_allow, workspace, cwd ─▶ Refusal? 126
 *          ─▶ GateSession.authorize(COMMAND action)  policy → review hold → durable record ─▶ denied? 126
 *          ─▶ open secrets (vault) → env / 0600 files
 *          ─▶ setsid [bwrap] [setpriv] [prlimit] env --default-signal BINARY argv…  ─▶ onStart(Execution)
 *          ─▶ stdout/stderr ─▶ StreamMasker(profile + exact secrets) ─▶ caller + recordStream
 *          ─▶ exit (timeout / max_output / disconnect → kill the group) ─▶ completed("exit N")
 *          ─▶ remove fresh workspace and secret files
 * </pre>
 *
 * Exit statuses follow the shell (POSIX XCU 2.8.2): the command's own status, 128+N when it was
 * killed by signal N, {@link #DENIED} when the gateway refused it and {@link #NOT_STARTED} when it
 * could not be started.
 */
public final class CommandRunner {
  private static final Logger log = LoggerFactory.getLogger(CommandRunner.class);

  /** Exit status for a command the gateway refused (denied, not approved, not offered). */
  public static final int DENIED = 126;

  /** Exit status for a command that could not be started. */
  public static final int NOT_STARTED = 127;

  /** The search path of the clean environment: only system directories, never the caller's. */
  static final String PATH = "/usr/local/bin:/usr/bin:/bin";

  /** A terminal type is a short name (terminfo(5) names), not a place to smuggle data. */
  private static final Pattern TERM = Pattern.compile("[A-Za-z0-9._+-]{1,64}");

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  /** The shell a line that needs one is run with (POSIX XCU sh -c). */
  static final String SHELL = "/bin/sh";

  private final Path dataDir;
  private final MaskingEngine masking;
  private final RemoteHosts remotes;
  private final WorkspaceOwner owner;
  private final RemoteJobs remoteJobs;
  private final List<Path> sandboxHidden;

  /**
   * Whether the bubblewrap sandbox works on this host (installed, and able to make the namespaces
   * it needs): probed once, the answer every connection with {@code sandbox: auto} gets.
   */
  public static boolean sandboxAvailable() {
    return Sandbox.bubblewrapAvailable();
  }

  /** The bubblewrap binary when {@link #sandboxAvailable}, else null (for the demo's host). */
  public static String bubblewrap() {
    return sandboxAvailable() ? Tools.find("bwrap") : null;
  }

  /** A runner for the gateway host only: connections with an {@code exec.runner} are refused. */
  public CommandRunner(Path dataDir, MaskingEngine masking) {
    this(dataDir, masking, null);
  }

  /**
   * @param remotes logs in to SSH targets used as runners ({@code exec.runner}); null refuses
   *     connections that have one
   */
  public CommandRunner(Path dataDir, MaskingEngine masking, RemoteHosts remotes) {
    this(dataDir, masking, remotes, List.of(), List.of());
  }

  /**
   * @param workdirs the {@code workdir} of every exec connection with fresh workspaces on this
   *     host, where a gateway that died may have left some ({@link WorkspaceOwner#sweep})
   * @param hidden the {@code workdir} of every exec connection on this host (fresh and fixed): a
   *     job in the bubblewrap sandbox sees none of them but its own workspace ({@link
   *     Sandbox#hidden})
   */
  public CommandRunner(
      Path dataDir,
      MaskingEngine masking,
      RemoteHosts remotes,
      Collection<Path> workdirs,
      Collection<Path> hidden) {
    this.dataDir = dataDir.toAbsolutePath().normalize();
    this.masking = masking;
    this.remotes = remotes;
    this.sandboxHidden = hidden.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    // Claimed before sweeping, so no other gateway starting now can take this runner for dead.
    this.owner = WorkspaceOwner.claim(this.dataDir);
    this.remoteJobs = new RemoteJobs(owner.id());
    WorkspaceOwner.sweep(
        this.dataDir,
        workdirs.stream().map(p -> p.toAbsolutePath().normalize()).toList(),
        Path.of(System.getProperty("java.io.tmpdir")));
    // Probe the sandbox now, in the background, so a missing or unusable bubblewrap is reported
    // at start rather than at the first command (which would otherwise wait for the probe).
    Thread.ofVirtual().name("exec-sandbox-probe").start(Sandbox::bubblewrapAvailable);
  }

  private List<Path> sandboxHidden(ExecConfig cfg, Workspace ws, int[] runAs) {
    List<Path> roots = new ArrayList<>(sandboxHidden);
    if (cfg.workdir() != null) {
      roots.add(cfg.workdir());
    }
    return Sandbox.hidden(dataDir, roots, ws.root(), runAs);
  }

  /** This gateway's job directories on SSH runners (tests make a sweep due with it). */
  RemoteJobs remoteJobs() {
    return remoteJobs;
  }

  /**
   * Runs one command and blocks until it has ended and its outcome is recorded. A refusal is
   * written to {@code stderr} as one line naming the rule, and returns {@link #DENIED}.
   *
   * @param onStart told once the process runs, with a handle to signal or kill it
   * @return the exit status (128 + signal number when killed by a signal)
   */
  public int run(
      GateSession session,
      ExecRequest request,
      InputStream stdin,
      OutputStream stdout,
      OutputStream stderr,
      Consumer<Execution> onStart) {
    String conn = session.connection().name();
    ExecConfig cfg = session.connection().exec();
    if (cfg != null && cfg.runner() != null) {
      return new RemoteRun(this, remotes, remoteJobs)
          .run(session, cfg, request, stdin, stdout, stderr, onStart);
    }
    Plan plan;
    Workspace ws = null;
    try {
      if (cfg == null) {
        throw new Refusal("connection " + conn + " is not an exec connection");
      }
      boolean bubblewrap = Sandbox.useBubblewrap(cfg, conn);
      // network: false in bubblewrap also refuses AF_UNIX sockets, or refuses the job (fail closed)
      Path seccomp = bubblewrap && !cfg.network() ? Sandbox.unixSocketFilter(dataDir, conn) : null;
      plan = describe(cfg, conn, request);
      int[] runAs = Sandbox.runAs(cfg, conn);
      ws = Workspace.open(cfg, dataDir, conn, runAs, owner.id(), bubblewrap);
      Path cwd = ws.cwd(request.cwd());
      plan =
          plan.with(bubblewrap, seccomp, runAs, cwd, request.cwd() == null ? null : cwd.toString());
    } catch (Refusal r) {
      close(ws);
      refused(session, request, r.getMessage());
      line(stderr, "gatehouse: " + r.getMessage());
      return DENIED;
    } catch (IOException | RuntimeException e) {
      close(ws);
      log.error("exec: cannot prepare a workspace on {}", conn, e);
      // Before the policy was asked, so nothing else records that someone tried: audited as the
      // refusals above are (exec.refused), with the reason the caller gets.
      String why = "cannot prepare the workspace: " + e.getMessage();
      refused(session, request, why);
      line(stderr, "gatehouse: " + why);
      return NOT_STARTED;
    }
    try (Workspace workspace = ws) {
      return authorizeAndRun(
          session, cfg, plan, workspace, request, stdin, stdout, stderr, onStart);
    }
  }

  private int authorizeAndRun(
      GateSession session,
      ExecConfig cfg,
      Plan plan,
      Workspace ws,
      ExecRequest request,
      InputStream stdin,
      OutputStream stdout,
      OutputStream stderr,
      Consumer<Execution> onStart) {
    AuthorizedAction authorized;
    try {
      authorized = session.authorize(plan.action(), CommandRunner.waiting(request, plan));
    } catch (GateException e) {
      line(stderr, "gatehouse: " + e.getMessage());
      return DENIED;
    }
    Map<String, String> env = new LinkedHashMap<>(plan.env());
    List<String> exact = new ArrayList<>();
    ProcessExecution execution;
    try {
      Map<String, String> vault =
          cfg.secrets().isEmpty() ? Map.of() : session.upstreamCredentials();
      // A fixed workspace is shared by the connection's jobs: each gets a HOME of its own there
      // (Workspace.home), unless the connection sets HOME itself.
      Path home = env.containsKey("HOME") ? null : ws.home();
      env.putIfAbsent("HOME", (home == null ? ws.root() : home).toString());
      for (ExecSecretConfig s : cfg.secrets()) {
        String value = vault.get("secret." + s.name());
        if (value == null) {
          throw new IOException("secret " + s.name() + " is not in the vault");
        }
        exact.add(value);
        env.put(
            s.name(), "file".equals(s.as()) ? ws.secretFile(s.name(), value).toString() : value);
      }
      List<Path> hidden = sandboxHidden(cfg, ws, plan.runAs());
      List<String> command =
          Sandbox.command(
              new Sandbox.Spec(
                  plan.bubblewrap(),
                  cfg.network(),
                  plan.runAs(),
                  ws.root(),
                  plan.cwd(),
                  ws.secretDir(),
                  ws.secretShield(),
                  home,
                  plan.seccomp(),
                  hidden,
                  cfg,
                  plan.argv()));
      ProcessBuilder pb = new ProcessBuilder(command).directory(plan.cwd().toFile());
      pb.environment().clear();
      pb.environment().putAll(env);
      execution = new ProcessExecution(pb.start(), ForwardedSignals.of(cfg));
    } catch (GateException | IOException | RuntimeException e) {
      log.warn("exec: cannot start {} on {}", plan.argv().get(0), session.connection().name(), e);
      String why = e instanceof GateException ? e.getMessage() : "cannot start the command";
      line(stderr, "gatehouse: " + why + " (" + plan.argv().get(0) + ")");
      session.completed(authorized, false, "not started: " + why, 0);
      return NOT_STARTED;
    }
    return supervise(session, cfg, authorized, execution, exact, stdin, stdout, stderr, onStart);
  }

  /**
   * Streams, limits and records one started command, local or remote, until it has ended; returns
   * its exit status.
   */
  int supervise(
      GateSession session,
      ExecConfig cfg,
      AuthorizedAction authorized,
      Running execution,
      List<String> exact,
      InputStream stdin,
      OutputStream stdout,
      OutputStream stderr,
      Consumer<Execution> onStart) {
    String profile = session.obligations().maskingProfile();
    boolean record = !"metadata".equals(authorized.decision().obligations().recording());
    // Revocation, expiry or a policy reload that no longer grants the session's terms stop the
    // command, and the caller's stderr line and the action's outcome say why. Off the sweeper's
    // thread, which ends every session: sending the signals waits for kill(1).
    Runnable unhook =
        session.onTerminate(
            () ->
                Thread.ofVirtual()
                    .name("exec-session-ended-" + execution.name())
                    .start(() -> execution.terminate(sessionEnded(session.endedBecause()))));
    AtomicLong out = new AtomicLong();
    long max = cfg.maxOutput();
    Thread o =
        Thread.ofVirtual()
            .name("exec-out-" + execution.name())
            .start(
                new OutputPump(
                    execution.stdout(),
                    stdout,
                    masking.streamMasker(profile, exact),
                    'o',
                    session,
                    record,
                    out,
                    max,
                    execution::terminate));
    Thread e =
        Thread.ofVirtual()
            .name("exec-err-" + execution.name())
            .start(
                new OutputPump(
                    execution.stderr(),
                    stderr,
                    masking.streamMasker(profile, exact),
                    'e',
                    session,
                    record,
                    out,
                    max,
                    execution::terminate));
    Thread in =
        Thread.ofVirtual()
            .name("exec-in-" + execution.name())
            .start(
                () ->
                    pumpStdin(
                        stdin,
                        execution.stdin(),
                        session,
                        record ? masking.streamMasker(profile, exact) : null));
    try {
      onStart.accept(execution);
    } catch (RuntimeException ex) {
      log.warn("exec: onStart failed; killing the command", ex);
      execution.terminate("the caller failed");
    }
    int status;
    try {
      if (!execution.waitFor(cfg.timeout().toMillis())) {
        execution.terminate("timeout of " + cfg.timeout() + " reached");
      }
      status = execution.finish();
      if (!o.join(Duration.ofSeconds(5)) || !e.join(Duration.ofSeconds(5))) {
        // The JDK already closes the pipes when the leader exits (it drains what is buffered), so
        // a process that left the group cannot hold the run open; this is the fallback should a
        // JDK not do so: stop reading, so the outcome is recorded now and nothing arrives after.
        log.warn("exec: output of {} still open after exit; closing it", execution.name());
        execution.abandonOutput();
        o.join(Duration.ofSeconds(1));
        e.join(Duration.ofSeconds(1));
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      execution.terminate("the gateway is shutting down");
      status = 128 + 9;
    }
    in.interrupt();
    unhook.run(); // the command is over: a later end of its session has nothing of it to stop
    String killed = execution.killedBecause();
    String lost = execution.lost();
    if (killed != null) {
      line(stderr, "gatehouse: command killed: " + killed);
    } else if (lost != null) {
      line(stderr, "gatehouse: " + lost);
    }
    String summary =
        "exit "
            + status
            + (killed != null
                ? " (killed: " + killed + ")"
                : lost != null ? " (" + lost + ")" : "");
    session.completed(authorized, status == 0 && killed == null, summary, out.get());
    return status;
  }

  /** Why a command is stopped when its session is ended from outside. */
  public static String sessionEnded(String why) {
    return why == null ? "the session ended" : "the session ended: " + why;
  }

  /**
   * Forwards the caller's input; with {@code recorder}, records it masked like the output (the
   * profile and the injected secrets), holding typed text back until a line ends so that a value
   * typed key by key, or split across reads, is still seen whole.
   */
  private static void pumpStdin(
      InputStream stdin, OutputStream to, GateSession session, StreamMasker recorder) {
    try (to) {
      if (stdin == null) {
        return;
      }
      byte[] buf = new byte[OutputPump.CHUNK];
      int n;
      while ((n = stdin.read(buf)) > 0) {
        to.write(buf, 0, n);
        to.flush();
        if (recorder != null) {
          byte[] chunk = java.util.Arrays.copyOf(buf, n);
          session.recordStream('i', recorder.feed(chunk));
          for (byte b : chunk) {
            if (b == '\n' || b == '\r') {
              session.recordStream('i', recorder.flush());
              break;
            }
          }
        }
      }
    } catch (IOException e) {
      // the process closed its stdin or ended; nothing more to forward
    } finally {
      if (recorder != null) {
        session.recordStream('i', recorder.flush());
      }
    }
  }

  /** The refusal is an audit event: the policy never saw the command, but someone tried. */
  static void refused(GateSession session, ExecRequest request, String reason) {
    try {
      Map<String, Object> data = new LinkedHashMap<>();
      data.put(
          "command",
          session.mask(
              request.commandLine() != null
                  ? request.commandLine()
                  : CommandLine.quote(request.argv())));
      data.put("reason", reason);
      session.audit("exec.refused", data);
    } catch (GateException | RuntimeException e) {
      log.warn("exec: cannot audit a refusal on {}", session.connection().name(), e);
    }
  }

  /**
   * Whether a caller may set {@code name} on this connection: it matches an {@code env_allow} glob
   * and is not one of the connection's secrets ({@code TERM} is always accepted). The SSH listener
   * can use this to drop variables a client sends by habit ({@code SendEnv LANG LC_*}) the way
   * sshd's AcceptEnv does, instead of having every command refused; the API refuses instead, since
   * its caller asked for the variable explicitly.
   */
  public static boolean envAllowed(ExecConfig cfg, String name) {
    if (name.equals("TERM")) {
      return true;
    }
    return ENV_NAME.matcher(name).matches()
        && cfg.envAllow().stream().anyMatch(g -> glob(g, name))
        && cfg.secrets().stream().noneMatch(s -> s.name().equals(name));
  }

  private static void close(Workspace ws) {
    if (ws != null) {
      ws.close();
    }
  }

  static void line(OutputStream err, String text) {
    try {
      err.write((text + "\n").getBytes(StandardCharsets.UTF_8));
      err.flush();
    } catch (IOException e) {
      // the caller is gone; the refusal is recorded anyway
    }
  }

  /**
   * The caller's waiting, bound to exactly what will run: the argv (with the shell wrapper, if
   * any), every variable with its value (the action has the names of the caller's only) and the
   * working directory. A review's approval then covers this run and no other.
   */
  static ReviewGate.Waiting waiting(ExecRequest request, Plan plan) {
    StringBuilder sb = new StringBuilder();
    java.util.function.Consumer<String> part = p -> ReviewGate.Waiting.part(sb, p);
    part.accept("argv" + plan.argv().size());
    plan.argv().forEach(part);
    Map<String, String> env = new java.util.TreeMap<>(plan.env());
    part.accept("env" + env.size());
    env.forEach(
        (k, v) -> {
          part.accept(k);
          part.accept(v);
        });
    part.accept("cwd");
    part.accept(String.valueOf(request.cwd()));
    return ReviewGate.Waiting.binding(request.waiting(), sb.toString());
  }

  /** What will run, before and after the workspace is known. */
  record Plan(
      Action action,
      List<String> argv,
      Map<String, String> env,
      boolean bubblewrap,
      Path seccomp,
      int[] runAs,
      Path cwd) {
    Plan with(boolean bubblewrap, Path seccomp, int[] runAs, Path cwd, String policyCwd) {
      Action a = action;
      if (policyCwd != null) {
        Map<String, Object> attrs = new java.util.HashMap<>(a.attributes());
        attrs.put(Action.Attr.CMD_CWD, policyCwd);
        a = new Action(a.kind(), a.raw(), attrs);
      }
      return new Plan(a, argv, env, bubblewrap, seccomp, runAs, cwd);
    }
  }

  /**
   * Resolves the binary, checks the caller's variables and builds the policy action and the argv to
   * run. Nothing here searches PATH: a name is only ever one of the connection's binaries.
   */
  static Plan describe(ExecConfig cfg, String conn, ExecRequest request) throws Refusal {
    List<String> argv;
    boolean needsShell = false;
    String raw;
    if (request.commandLine() != null) {
      CommandLine line;
      try {
        line = CommandLine.parse(request.commandLine());
      } catch (IllegalArgumentException e) {
        throw new Refusal(e.getMessage());
      }
      argv = line.argv();
      needsShell = line.needsShell();
      raw = request.commandLine();
    } else {
      argv = request.argv();
      raw = CommandLine.quote(argv);
    }
    if (argv.isEmpty() || argv.get(0).isEmpty()) {
      throw new Refusal("empty command (expected a binary offered by connection " + conn + ")");
    }
    String binary = resolve(cfg, conn, argv.get(0));
    List<String> run = new ArrayList<>();
    if (needsShell) {
      if (!offered(cfg, SHELL)) {
        throw new Refusal(
            "the command needs a shell (pipes, redirection, substitution) and connection "
                + conn
                + " does not offer "
                + SHELL);
      }
      run.addAll(List.of(SHELL, "-c", request.commandLine()));
    } else {
      run.add(binary);
      run.addAll(argv.subList(1, argv.size()));
    }
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", PATH);
    env.put("LANG", "C.UTF-8");
    env.putAll(PagerGuard.VARIABLES);
    env.putAll(cfg.env());
    Map<String, String> asked = new LinkedHashMap<>();
    for (var e : new java.util.TreeMap<>(request.env()).entrySet()) {
      String name = e.getKey();
      if (name.equals("TERM")) {
        if (!TERM.matcher(e.getValue()).matches()) {
          throw new Refusal("TERM " + e.getValue() + " is not a terminal type");
        }
        env.put("TERM", e.getValue());
        continue;
      }
      if (!ENV_NAME.matcher(name).matches()) {
        throw new Refusal("variable " + name + " is not a valid name");
      }
      if (cfg.envAllow().stream().noneMatch(g -> glob(g, name))) {
        throw new Refusal(
            "variable "
                + name
                + " may not be set on connection "
                + conn
                + " (env_allow: "
                + cfg.envAllow()
                + ")");
      }
      if (cfg.secrets().stream().anyMatch(s -> s.name().equals(name))) {
        throw new Refusal("variable " + name + " is a secret of connection " + conn);
      }
      String named = SecretReferences.inValue(e.getValue(), secretNames(cfg));
      if (named != null) {
        throw new Refusal(
            "variable "
                + name
                + " names secret "
                + named
                + " of connection "
                + conn
                + " (programs expand such references from the environment that holds it)");
      }
      asked.put(name, e.getValue());
      env.put(name, e.getValue());
    }
    for (String arg : run.subList(1, run.size())) {
      String named = SecretReferences.inArgument(run.get(0), arg, secretNames(cfg));
      if (named != null) {
        throw new Refusal(
            "an argument references secret "
                + named
                + " of connection "
                + conn
                + " (a program that expands it reads the secret from its environment)");
      }
    }
    Action action = new CommandLine(raw, argv, needsShell).toAction(binary, asked, null);
    if (request.justification() != null) {
      // filed with a review, as for SQL comments and SSH's GATEHOUSE_JUSTIFICATION
      Map<String, Object> attrs = new java.util.HashMap<>(action.attributes());
      attrs.put(Action.Attr.JUSTIFICATION, request.justification());
      action = new Action(action.kind(), action.raw(), attrs);
    }
    return new Plan(action, List.copyOf(run), env, false, null, null, null);
  }

  private static List<String> secretNames(ExecConfig cfg) {
    return cfg.secrets().stream().map(ExecSecretConfig::name).toList();
  }

  private static boolean offered(ExecConfig cfg, String absolute) {
    return cfg.binaries().stream().anyMatch(b -> normalize(b).equals(absolute));
  }

  /**
   * argv[0] against the connection's binaries: an absolute path must be listed (after removing
   * {@code .}, {@code ..} and duplicate slashes); a base name matches a listed binary with that
   * base name. Relative paths ({@code ./x}, {@code bin/x}) are never resolved.
   */
  static String resolve(ExecConfig cfg, String conn, String arg0) throws Refusal {
    String found = null;
    if (arg0.startsWith("/")) {
      String wanted = normalize(arg0);
      for (String b : cfg.binaries()) {
        if (normalize(b).equals(wanted)) {
          found = normalize(b);
          break;
        }
      }
    } else if (!arg0.contains("/")) {
      for (String b : cfg.binaries()) {
        Path name = Path.of(b).getFileName();
        if (name != null && name.toString().equals(arg0)) {
          found = normalize(b);
          break;
        }
      }
    }
    // env(1) would read NAME=VALUE as an assignment, not as the program to run.
    if (found == null || found.contains("=")) {
      throw new Refusal(
          "binary "
              + arg0
              + " not offered by connection "
              + conn
              + (arg0.contains("/") && !arg0.startsWith("/")
                  ? " (relative paths are never resolved; give a base name or an absolute path)"
                  : ""));
    }
    return found;
  }

  static String normalize(String path) {
    return Path.of(path).normalize().toString();
  }

  /** {@code *} any run of characters, {@code ?} one character; the rest literal. */
  static boolean glob(String glob, String s) {
    StringBuilder re = new StringBuilder();
    for (char c : glob.toCharArray()) {
      switch (c) {
        case '*' -> re.append(".*");
        case '?' -> re.append('.');
        default -> re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return s.matches(re.toString());
  }
}
