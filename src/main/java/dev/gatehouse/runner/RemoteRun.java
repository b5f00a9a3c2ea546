package dev.gatehouse.runner;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.config.GatehouseConfig.ExecSecretConfig;
import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Lock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exec flow on an SSH target ({@code exec.runner}): the same resolution, refusals, decision,
 * recording, masking, limits and exit statuses as a local run; only where the process runs differs.
 * Nothing reaches the target before the policy allowed the command.
 *
 * <pre>
 *   describe (binaries, env_allow, cwd) ─▶ refused: 126
 *   authorize (policy, review, durable record) ─▶ denied: 126
 *   open the exec secrets; log in to the runner (pinned host key) ─▶ refused/unreachable: 127
 *   setup: job dir + workspace (mktemp -d) ─▶ upload env file and file secrets (cat, 0600)
 *   run: env -i /bin/sh -c '. env; rm env; cd; ulimit; exec BINARY ARGV…' ─▶ supervise (shared)
 *   cleanup (always): rm -rf the job dir and a fresh workspace; kill what outlived the channel
 * </pre>
 *
 * See {@link RemoteScript} for the command strings.
 */
final class RemoteRun {
  private static final Logger log = LoggerFactory.getLogger(RemoteRun.class);

  /** Setup, upload and cleanup are short commands; one that takes longer has hung. */
  static final Duration STEP_TIMEOUT = Duration.ofSeconds(30);

  private final CommandRunner runner;
  private final RemoteHosts hosts;
  private final RemoteJobs jobs;

  RemoteRun(CommandRunner runner, RemoteHosts hosts, RemoteJobs jobs) {
    this.runner = runner;
    this.hosts = hosts;
    this.jobs = jobs;
  }

  int run(
      GateSession session,
      ExecConfig cfg,
      ExecRequest request,
      InputStream stdin,
      OutputStream stdout,
      OutputStream stderr,
      Consumer<Execution> onStart) {
    String conn = session.connection().name();
    CommandRunner.Plan plan;
    String cwd;
    try {
      if (hosts == null) {
        throw new Refusal(
            "connection "
                + conn
                + " runs commands on runner "
                + cfg.runner()
                + ", and this gateway has no SSH client for runners");
      }
      plan = CommandRunner.describe(cfg, conn, request);
      cwd = relativeCwd(cfg, request.cwd());
      String policyCwd =
          cwd == null || cfg.workdir() == null
              ? null
              : cfg.workdir().resolve(cwd).normalize().toString();
      plan = plan.with(false, null, null, null, policyCwd);
    } catch (Refusal r) {
      CommandRunner.refused(session, request, r.getMessage());
      CommandRunner.line(stderr, "gatehouse: " + r.getMessage());
      return CommandRunner.DENIED;
    }
    AuthorizedAction authorized;
    try {
      authorized = session.authorize(plan.action(), CommandRunner.waiting(request, plan));
    } catch (GateException e) {
      CommandRunner.line(stderr, "gatehouse: " + e.getMessage());
      return CommandRunner.DENIED;
    }
    String binary = plan.argv().get(0);
    // Values go in the env file and in secret files, written from stdin: never on a command line.
    Map<String, String> env = new LinkedHashMap<>(plan.env());
    Map<String, String> files = new LinkedHashMap<>();
    List<String> exact = new ArrayList<>();
    RemoteHosts.Host host;
    try {
      Map<String, String> vault =
          cfg.secrets().isEmpty() ? Map.of() : session.upstreamCredentials();
      for (ExecSecretConfig s : cfg.secrets()) {
        String value = vault.get("secret." + s.name());
        if (value == null) {
          throw new GateException(
              GateException.Reason.UNAVAILABLE, "secret " + s.name() + " is not in the vault");
        }
        exact.add(value);
        if ("file".equals(s.as())) {
          files.put(s.name(), value);
        } else {
          env.put(s.name(), value);
        }
      }
      host = hosts.open(cfg.runner(), session);
    } catch (GateException | RuntimeException e) {
      String why = e instanceof GateException ? e.getMessage() : "cannot reach the runner";
      log.warn("exec: runner {} of {}: {}", cfg.runner(), conn, e.toString());
      CommandRunner.line(stderr, "gatehouse: " + why + " (" + binary + ")");
      session.completed(authorized, false, "not started: " + why, 0);
      return CommandRunner.NOT_STARTED;
    }
    try (host) {
      exact.addAll(host.secrets());
      sweep(host, cfg.runner());
      Job job;
      Lock setupLock = jobs.setupLock();
      setupLock.lock();
      try {
        job = setup(host, cfg, jobs.owner(), RemoteScript.envFile(env));
        jobs.started(job);
      } catch (IOException | RuntimeException e) {
        log.warn("exec: cannot prepare a workspace on runner {} of {}", cfg.runner(), conn, e);
        String why = "cannot prepare the workspace on runner " + cfg.runner();
        CommandRunner.line(stderr, "gatehouse: " + why);
        session.completed(authorized, false, "not started: " + why, 0);
        return CommandRunner.NOT_STARTED;
      } finally {
        setupLock.unlock();
      }
      // The lease says this gateway is alive while the job runs (a sweep by another gateway
      // spares the job); stopped before the session goes back to the pool with no channel open.
      Thread heartbeat = heartbeat(host, cfg.runner());
      try {
        RemoteExecution execution = null;
        try {
          // Paths are not secret: they are exported by the run script, after the env file.
          Map<String, String> exports = new LinkedHashMap<>();
          // a fixed workdir is shared: the job's own HOME instead (CommandRunner does the same),
          // unless the connection sets HOME
          if (!plan.env().containsKey("HOME")) {
            exports.put(
                "HOME",
                "fixed".equals(cfg.workspace())
                    ? job.dir() + "/" + RemoteScript.HOME
                    : job.workspace());
          }
          // a private temporary directory, as the sandbox's /tmp is locally (removed with JOB)
          exports.put("TMPDIR", job.dir() + "/" + RemoteScript.TMP);
          for (var f : files.entrySet()) {
            String path = job.dir() + "/" + RemoteScript.SECRETS + "/" + f.getKey();
            step(host, RemoteScript.upload(path), f.getValue().getBytes(StandardCharsets.UTF_8));
            exports.put(f.getKey(), path);
          }
          RemoteHosts.Command command =
              host.start(
                  RemoteScript.run(job.dir(), job.workspace(), cwd, cfg, exports, plan.argv()));
          execution =
              new RemoteExecution(
                  command,
                  signal -> step(host, RemoteScript.signal(job.dir(), signal), null),
                  ForwardedSignals.of(cfg),
                  cfg.runner());
        } catch (IOException | RuntimeException e) {
          log.warn("exec: cannot start {} on runner {} of {}", binary, cfg.runner(), conn, e);
          String why = "cannot start the command on runner " + cfg.runner();
          CommandRunner.line(stderr, "gatehouse: " + why + " (" + binary + ")");
          session.completed(authorized, false, "not started: " + why, 0);
          return CommandRunner.NOT_STARTED;
        } finally {
          if (execution == null) {
            cleanup(host, cfg, job, false);
          }
        }
        try {
          return runner.supervise(
              session, cfg, authorized, execution, exact, stdin, stdout, stderr, onStart);
        } finally {
          cleanup(host, cfg, job, execution.leftBehind());
        }
      } finally {
        stop(heartbeat);
        jobs.ended(job);
      }
    }
  }

  /**
   * Sweeps the runner's root of job directories no live job owns ({@link RemoteScript#sweep}), on
   * its first use after start and then every {@link RemoteJobs#SWEEP_EVERY}, with every setup of
   * this gateway held back meanwhile. A failure is logged: it never stops the run.
   */
  private void sweep(RemoteHosts.Host host, String runnerName) {
    if (!jobs.sweepDue(runnerName)) {
      return;
    }
    Lock l = jobs.sweepLock();
    l.lock();
    try {
      String out =
          step(
              host,
              RemoteScript.sweep(jobs.owner(), jobs.live(), RemoteJobs.LEASE.toSeconds()),
              null);
      String n = out.strip();
      if (!n.equals("0")) {
        log.info(
            "exec: removed {} job directories on runner {} left by gateways that stopped"
                + " uncleanly",
            n,
            runnerName);
      }
    } catch (IOException | RuntimeException e) {
      log.warn("exec: cannot sweep old job directories on runner {}: {}", runnerName, e.toString());
    } finally {
      l.unlock();
    }
  }

  /** Renews this gateway's lease on the runner every {@link RemoteJobs#HEARTBEAT} until stopped. */
  private Thread heartbeat(RemoteHosts.Host host, String runnerName) {
    return Thread.ofVirtual()
        .name("exec-lease-" + runnerName)
        .start(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                try {
                  Thread.sleep(RemoteJobs.HEARTBEAT.toMillis());
                  if (jobs.heartbeatDue(runnerName)) {
                    step(host, RemoteScript.heartbeat(jobs.owner()), null);
                  }
                } catch (InterruptedException e) {
                  return; // stopped: the job ended
                } catch (IOException | RuntimeException e) {
                  if (!Thread.currentThread().isInterrupted()) {
                    log.warn(
                        "exec: cannot renew the lease on runner {}: {}", runnerName, e.toString());
                  }
                }
              }
            });
  }

  /** Stops a heartbeat and waits for it, so no channel of it is left open on the session. */
  private static void stop(Thread heartbeat) {
    heartbeat.interrupt();
    try {
      heartbeat.join(RemoteRun.STEP_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Where one job lives on the target: its private directory and the workspace. */
  record Job(String dir, String workspace) {}

  /** Creates the job directory and the workspace, and writes {@code envFile} into the former. */
  private static Job setup(RemoteHosts.Host host, ExecConfig cfg, String owner, byte[] envFile)
      throws IOException {
    String out = step(host, RemoteScript.setup(cfg, owner), envFile);
    String[] lines = out.split("\n");
    if (lines.length != 2 || !lines[0].startsWith("/") || !lines[1].startsWith("/")) {
      throw new IOException("unexpected output of the setup command: " + out.strip());
    }
    return new Job(lines[0], lines[1]);
  }

  private static void cleanup(RemoteHosts.Host host, ExecConfig cfg, Job job, boolean kill) {
    String fresh = "fixed".equals(cfg.workspace()) ? null : job.workspace();
    try {
      step(host, RemoteScript.cleanup(job.dir(), fresh, kill), null);
    } catch (IOException | RuntimeException e) {
      log.warn("exec: cannot remove {} on runner {}: {}", job.dir(), cfg.runner(), e.toString());
    }
  }

  /**
   * Runs a short command to its end with {@code input} on stdin; returns stdout. A status other
   * than 0 is an error with the command's stderr (for the log; never shown to the caller).
   */
  private static String step(RemoteHosts.Host host, String command, byte[] input)
      throws IOException {
    RemoteHosts.Command c = host.start(command);
    try {
      try (OutputStream in = c.stdin()) {
        if (input != null) {
          in.write(input);
        }
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread o = Thread.ofVirtual().start(() -> drain(c.stdout(), out));
      Thread e = Thread.ofVirtual().start(() -> drain(c.stderr(), err));
      if (!c.awaitClosed(STEP_TIMEOUT.toMillis())) {
        throw new IOException("no answer within " + STEP_TIMEOUT); // a hung target
      }
      o.join(1000);
      e.join(1000);
      Integer status = c.exitStatus();
      if (status == null || status != 0) {
        throw new IOException(
            "exit " + status + ": " + err.toString(StandardCharsets.UTF_8).strip());
      }
      return out.toString(StandardCharsets.UTF_8);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } finally {
      c.close();
    }
  }

  private static void drain(InputStream in, ByteArrayOutputStream to) {
    try {
      in.transferTo(to);
    } catch (IOException e) {
      // the channel closed
    }
  }

  /**
   * The requested working directory relative to the workspace, or null for the workspace itself.
   * Checked here lexically ({@code ..} may not leave it; an absolute path must be inside a fixed
   * workdir) and again on the target after {@code cd}, where symbolic links are resolved. A fresh
   * workspace is empty, so only the workspace itself exists in it.
   */
  static String relativeCwd(ExecConfig cfg, String requested) throws Refusal {
    if (requested == null || requested.isEmpty()) {
      return null;
    }
    boolean fixed = "fixed".equals(cfg.workspace());
    Path p = Path.of(requested).normalize();
    if (p.isAbsolute()) {
      Path root = fixed ? cfg.workdir().normalize() : null;
      if (root == null || !p.startsWith(root)) {
        throw new Refusal("cwd " + requested + " is outside the workspace");
      }
      p = root.relativize(p);
    }
    if (p.startsWith("..")) {
      throw new Refusal("cwd " + requested + " is outside the workspace");
    }
    String rel = p.toString();
    if (rel.isEmpty() || rel.equals(".")) {
      return null;
    }
    if (!fixed) {
      throw new Refusal(
          "cwd " + requested + " does not exist in the workspace (a fresh workspace is empty)");
    }
    return rel;
  }
}
