package dev.gatehouse.runner;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the host command line that runs one command: a new session, the sandbox, the unprivileged
 * user, the resource limits, default signal dispositions, then the binary.
 *
 * <pre>
 *   [sh -c 'exec "$@" 9&lt;"$0"']   network: false only: opens the seccomp filter as fd 9 for bwrap
 *   setsid                        new session and process group, no controlling terminal (setsid(2))
 *    └ bwrap …                    read-only /, private /tmp /var/tmp /dev /proc, pid namespace (bwrap(1)),
 *                                  network: false: no network, no AF_UNIX sockets (SeccompFilter)
 *       └ setpriv --reuid …       drop root: run_as, no supplementary groups, no new privileges
 *          └ prlimit --as --cpu --nproc    RLIMIT_AS, RLIMIT_CPU, RLIMIT_NPROC (setrlimit(2))
 *             └ env --default-signal       undo SIG_IGN inherited from the gateway (signal(7))
 *                └ /usr/bin/the-binary argv…
 * </pre>
 *
 * <p>Each wrapper execs the next one, so the process the gateway started is the leader of the group
 * that holds everything the command spawns: signals and kills go to the whole group.
 *
 * <p>What this does not guarantee: without bubblewrap a process that calls setsid(2) itself leaves
 * the group and survives a kill; the read-only root still shows every world-readable file of the
 * host; {@code network: true} is the host network. bubblewrap is isolation, not a VM.
 */
final class Sandbox {
  private static final Logger log = LoggerFactory.getLogger(Sandbox.class);

  /** The gateway's own uid: {@code /proc/self} is owned by the effective uid of the reader. */
  static final boolean ROOT = isRoot();

  private static volatile Boolean bwrapWorks;
  private static volatile Boolean envResetsSignals;
  private static volatile Boolean seccompWorks;
  private static final Map<String, int[]> IDS = new ConcurrentHashMap<>();
  private static final java.util.Set<String> WARNED = ConcurrentHashMap.newKeySet();

  private Sandbox() {}

  private static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | RuntimeException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  /**
   * Whether bubblewrap is installed and can create the namespaces it needs here (it cannot, for
   * instance, inside a container without user namespaces). Probed once with the same options a
   * command gets.
   */
  static boolean bubblewrapAvailable() {
    Boolean b = bwrapWorks;
    if (b == null) {
      String bwrap = Tools.find("bwrap");
      b =
          bwrap != null
              && probe(
                  concat(
                      List.of(bwrap),
                      ROOT_DEV_PROC,
                      "--perms",
                      "1777",
                      "--tmpfs",
                      "/tmp",
                      "--unshare-pid",
                      "--unshare-ipc",
                      "--unshare-net",
                      "--die-with-parent",
                      "--",
                      "/bin/true"));
      if (bwrap == null) {
        log.warn(
            "exec: bubblewrap is not installed; exec connections with sandbox: auto run commands"
                + " without a sandbox, and those with sandbox: bubblewrap refuse every command");
      } else if (!b) {
        log.warn(
            "exec: {} is installed but cannot create its namespaces here (no user namespaces?);"
                + " treating bubblewrap as absent",
            bwrap);
      }
      bwrapWorks = b;
    }
    return b;
  }

  /** GNU env 8.31+ resets signal dispositions with {@code --default-signal}. */
  static boolean envResetsSignals() {
    Boolean b = envResetsSignals;
    if (b == null) {
      String env = Tools.find("env");
      b = env != null && probe(List.of(env, "--default-signal", "/bin/true"));
      envResetsSignals = b;
    }
    return b;
  }

  /** bwrap's base: the host's root read-only, a minimal /dev, the pid namespace's /proc. */
  private static final List<String> ROOT_DEV_PROC =
      List.of("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc");

  private static List<String> concat(List<String> head, List<String> mid, String... tail) {
    List<String> out = new ArrayList<>(head);
    out.addAll(mid);
    out.addAll(List.of(tail));
    return out;
  }

  private static boolean probe(List<String> cmd) {
    try {
      Process p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      p.getOutputStream().close();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Whether to use bubblewrap for this connection; refuses when it is required but unusable. */
  static boolean useBubblewrap(ExecConfig cfg, String connection) throws Refusal {
    String mode = cfg.sandbox() == null ? "auto" : cfg.sandbox();
    return switch (mode) {
      case "none" -> false;
      case "bubblewrap" -> {
        if (!bubblewrapAvailable()) {
          throw new Refusal(
              "connection "
                  + connection
                  + " requires the bubblewrap sandbox, which is not usable on this gateway host");
        }
        yield true;
      }
      default -> {
        boolean ok = bubblewrapAvailable();
        if (!ok && !cfg.network()) {
          // Only bubblewrap can take the network away: running anyway would ignore the setting.
          throw new Refusal(
              "connection "
                  + connection
                  + " has network: false, which needs the bubblewrap sandbox, and bubblewrap is"
                  + " not usable on this gateway host (install the Debian package bubblewrap)");
        }
        if (!ok && WARNED.add(connection)) {
          log.warn(
              "exec: SANDBOX DISABLED for connection {}: bubblewrap (/usr/bin/bwrap) is not"
                  + " usable; commands run with the host's file system and network. Install"
                  + " bubblewrap or set sandbox: bubblewrap to refuse instead",
              connection);
        }
        yield ok;
      }
    };
  }

  /** The descriptor bwrap reads the seccomp program from ({@code --seccomp 9}). */
  static final int SECCOMP_FD = 9;

  /**
   * Opens the file {@code $0} as descriptor 9 and execs {@code "$@"}: ProcessBuilder hands a child
   * descriptors 0-2 only. The script is a constant; the file and the command are positional
   * parameters, never part of the script, so the shell parses nothing of them (POSIX XCU 2.5.1,
   * 2.7.4).
   */
  static final String OPEN_FD_9 = "exec \"$@\" 9<\"$0\"";

  /**
   * The seccomp filter file a {@code network: false} job's bwrap loads ({@link SeccompFilter}),
   * written to the data directory (hidden from every job) when missing or changed, and checked to
   * load once; later jobs only compare the file's attributes ({@link #FILTERS}). Fail closed: a
   * host whose architecture the filter does not cover, or whose bwrap or kernel cannot load it,
   * refuses {@code network: false} jobs.
   */
  static Path unixSocketFilter(Path dataDir, String connection) throws Refusal {
    return unixSocketFilter(dataDir, connection, System.getProperty("os.arch", ""));
  }

  static Path unixSocketFilter(Path dataDir, String connection, String osArch) throws Refusal {
    Path file = dataDir.resolve("exec-seccomp-no-unix-sockets.bpf");
    String key = osArch + " " + file.toAbsolutePath();
    Object known = FILTERS.get(key);
    if (known instanceof String why) {
      throw noFilter(connection, why);
    }
    if (known != null && known.equals(stamp(file))) {
      return file; // written and checked before, and unchanged since
    }
    byte[] program = SeccompFilter.forArch(osArch);
    if (program == null) {
      String why =
          "the seccomp filter that refuses Unix sockets exists for x86_64 and aarch64 only, not "
              + osArch;
      FILTERS.put(key, why);
      throw noFilter(connection, why);
    }
    try {
      writeIfDifferent(file, program);
    } catch (IOException e) {
      log.warn("exec: cannot write the seccomp filter {}", file, e);
      // not remembered: the next job tries again
      throw noFilter(connection, "the seccomp filter cannot be written to the data directory");
    }
    if (!seccompWorks(file)) {
      String why =
          "bubblewrap cannot load the seccomp filter on this host (bwrap --seccomp failed)";
      FILTERS.put(key, why);
      throw noFilter(connection, why);
    }
    Stamp written = stamp(file);
    if (written != null) {
      FILTERS.put(key, written);
    }
    return file;
  }

  /**
   * Per architecture and filter file, what {@link #unixSocketFilter} found: why there is no filter
   * (the architecture, or bwrap), or the file as it was when written and checked. A job then
   * neither rebuilds the program nor reads the file; a file changed since (another inode, size or
   * time) is written again.
   */
  private static final java.util.Map<String, Object> FILTERS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** A file's identity and state, or null when it cannot be read. */
  private record Stamp(Object fileKey, java.nio.file.attribute.FileTime modified, long size) {}

  private static Stamp stamp(Path file) {
    try {
      var a =
          Files.readAttributes(
              file,
              java.nio.file.attribute.BasicFileAttributes.class,
              java.nio.file.LinkOption.NOFOLLOW_LINKS);
      return new Stamp(a.fileKey(), a.lastModifiedTime(), a.size());
    } catch (IOException e) {
      return null;
    }
  }

  private static Refusal noFilter(String connection, String why) {
    return new Refusal(
        "connection " + connection + " has network: false, and " + why + " (fail closed)");
  }

  private static synchronized void writeIfDifferent(Path file, byte[] program) throws IOException {
    try {
      if (java.util.Arrays.equals(Files.readAllBytes(file), program)) {
        return;
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // first use
    }
    Files.createDirectories(file.getParent());
    Path tmp =
        Files.createTempFile(
            file.getParent(),
            ".seccomp-",
            ".tmp",
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    try {
      Files.write(tmp, program);
      Files.move(
          tmp,
          file,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Whether bwrap loads the filter and runs a program under it; probed once. */
  private static boolean seccompWorks(Path file) {
    Boolean b = seccompWorks;
    if (b == null) {
      b =
          probe(
              concat(
                  List.of(
                      CommandRunner.SHELL,
                      "-c",
                      OPEN_FD_9,
                      file.toString(),
                      Tools.require("bwrap", "bubblewrap")),
                  ROOT_DEV_PROC,
                  "--unshare-net",
                  "--die-with-parent",
                  "--seccomp",
                  String.valueOf(SECCOMP_FD),
                  "--",
                  "/bin/true"));
      if (!b) {
        log.warn(
            "exec: bubblewrap cannot load a seccomp filter here; connections with network: false"
                + " refuse every command");
      }
      seccompWorks = b;
    }
    return b;
  }

  /** The uid and gid of {@code user}, looked up once with id(1) so NSS users work too. */
  static int[] ids(String user) throws IOException {
    int[] cached = IDS.get(user);
    if (cached != null) {
      return cached;
    }
    if (!user.matches("[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}")) {
      throw new IOException("run_as: " + user + " is not a user name");
    }
    int[] ids = {idOf(user, "-u"), idOf(user, "-g")};
    IDS.put(user, ids);
    return ids;
  }

  private static int idOf(String user, String flag) throws IOException {
    String id = Tools.require("id", "coreutils");
    Process p = new ProcessBuilder(id, flag, user).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("run_as: user " + user + " does not exist (" + out + ")");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    return Integer.parseInt(out);
  }

  /** Who processes run as: run_as (default nobody) when the gateway is root, else the gateway. */
  static int[] runAs(ExecConfig cfg, String connection) throws IOException {
    if (!ROOT) {
      if (cfg.runAs() != null && WARNED.add("runas:" + connection)) {
        log.warn(
            "exec: run_as {} of connection {} is ignored: the gateway does not run as root, so"
                + " processes run as the gateway's own user",
            cfg.runAs(),
            connection);
      }
      return null;
    }
    return ids(cfg.runAs() == null ? "nobody" : cfg.runAs());
  }

  /**
   * Everything the command line depends on; {@code seccomp} is the filter file ({@link
   * #unixSocketFilter}) for a bubblewrap job without network, else null; {@code secretShield} the
   * root-only directory around {@code secretDir} and {@code home} ({@link Workspace#secretShield}),
   * else null; {@code home} the job's own HOME outside a fixed workspace ({@link Workspace#home}),
   * else null.
   */
  record Spec(
      boolean bubblewrap,
      boolean network,
      int[] runAs,
      Path workspace,
      Path cwd,
      Path secretDir,
      Path secretShield,
      Path home,
      Path seccomp,
      List<Path> hidden,
      ExecConfig limits,
      List<String> argv) {}

  /** Paths never hidden: a workdir configured there would take the system away. */
  private static final java.util.Set<Path> SYSTEM =
      java.util.Set.of(
              "/", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc",
              "/dev", "/sys", "/var", "/run", "/tmp", "/home", "/opt", "/srv", "/nix")
          .stream()
          .map(Path::of)
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  /**
   * What a bubblewrap job must not see, each covered by an empty tmpfs before its own workspace is
   * bound back: the data directory, the workdir of every exec connection of this host (another
   * job's fresh workspace or another connection's fixed one: every job runs as the same run_as
   * user, so file modes do not keep them apart), and the outermost ancestor of the workspace that
   * run_as cannot traverse (bubblewrap then recreates the path to the workspace with 0755
   * directories; without this, a tool that walks up from its working directory, such as mvn's
   * find_maven_basedir, loops on {@code cd ..}). Nested paths are dropped (the outer tmpfs already
   * hides them), as are workdirs that are system directories or do not exist.
   */
  static List<Path> hidden(Path dataDir, Collection<Path> workdirs, Path workspace, int[] runAs) {
    List<Path> all = new ArrayList<>();
    // The data directory (store, master key, recordings) is hidden wherever it is, /srv or /var
    // included: it exists once the gateway runs, and a bwrap that cannot mount there fails the job
    // instead of showing it. The filters below are for workdirs only.
    Path data = dataDir.toAbsolutePath().normalize();
    try {
      data = data.toRealPath();
    } catch (IOException e) {
      // hidden as configured
    }
    all.add(data);
    for (Path w : workdirs) {
      // bwrap cannot mount over a path that does not exist on the read-only root
      try {
        Path real = w.toAbsolutePath().normalize().toRealPath();
        if (Files.isDirectory(real) && !SYSTEM.contains(real)) {
          all.add(real);
        }
      } catch (IOException e) {
        // not created yet: nothing to hide
      }
    }
    Path blocked = runAs == null ? null : untraversable(workspace, runAs);
    if (blocked != null && !blocked.equals(blocked.getRoot())) {
      all.add(blocked);
    }
    List<Path> out = new ArrayList<>();
    for (Path p : all) {
      boolean nested = false;
      for (Path q : all) {
        nested |= !q.equals(p) && p.startsWith(q);
      }
      if (!nested && !out.contains(p)) {
        out.add(p);
      }
    }
    return out;
  }

  /** The outermost proper ancestor of {@code dir} that the user {@code ids} cannot search. */
  static Path untraversable(Path dir, int[] ids) {
    Path abs = dir.toAbsolutePath().normalize();
    Path p = abs.getRoot();
    for (Path name : abs.getParent() == null ? List.<Path>of() : abs.getParent()) {
      p = p.resolve(name);
      try {
        if (!permits(p, ids, 01)) {
          return p;
        }
      } catch (IOException | RuntimeException e) {
        return null;
      }
    }
    return null;
  }

  /**
   * Whether the user {@code ids} ({uid, gid}) has permission {@code bit} (01 search/execute, 02
   * write, 04 read) on {@code p} by its mode bits, as the kernel checks them: the owner's bits for
   * the owner, else the group's for the primary group, else the others'; root always.
   * (Supplementary groups and ACLs are not looked at.)
   */
  static boolean permits(Path p, int[] ids, int bit) throws IOException {
    int mode = (Integer) Files.getAttribute(p, "unix:mode");
    int uid = (Integer) Files.getAttribute(p, "unix:uid");
    int gid = (Integer) Files.getAttribute(p, "unix:gid");
    return ids[0] == 0
        || (uid == ids[0]
            ? (mode & (bit << 6)) != 0
            : gid == ids[1] ? (mode & (bit << 3)) != 0 : (mode & bit) != 0);
  }

  /**
   * The directories between a hidden root and the workspace below it, made 0755 in the tmpfs:
   * bubblewrap would create them for the bind with the modes of the host's (0700 for a fresh
   * workdir or a locked parent), which run_as cannot search.
   */
  static List<String> pathInto(Path hidden, Path workspace) {
    List<String> out = new ArrayList<>();
    if (!workspace.startsWith(hidden) || workspace.equals(hidden)) {
      return out;
    }
    Path p = hidden;
    for (Path name : hidden.relativize(workspace)) {
      p = p.resolve(name);
      if (!p.equals(workspace)) {
        out.addAll(List.of("--perms", "0755", "--dir", p.toString()));
      }
    }
    return out;
  }

  /**
   * /var/tmp is private like /tmp (world-writable: jobs and host services leave files and sockets
   * there). Without network, /run and /var/run are private too: {@code --unshare-net} takes the
   * network and abstract Unix sockets away, not the file-system Unix sockets of host services
   * (PostgreSQL, MySQL, D-Bus, Docker). The seccomp filter ({@link SeccompFilter}) refuses AF_UNIX
   * sockets wherever they are; an empty /run also keeps the host's sockets out of sight.
   */
  static List<String> privateRuntimeDirs(boolean network) {
    List<String> out = new ArrayList<>();
    if (Files.isDirectory(Path.of("/var/tmp"), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      out.addAll(List.of("--perms", "1777", "--tmpfs", "/var/tmp"));
    }
    if (!network) {
      for (String d : List.of("/run", "/var/run")) {
        if (Files.isDirectory(Path.of(d), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          out.addAll(List.of("--perms", "0755", "--tmpfs", d));
        }
      }
    }
    return out;
  }

  /** The host command that runs {@code spec.argv()} as described in the class comment. */
  static List<String> command(Spec s) {
    List<String> cmd = new ArrayList<>();
    if (s.bubblewrap() && s.seccomp() != null) {
      cmd.addAll(List.of(CommandRunner.SHELL, "-c", OPEN_FD_9, s.seccomp().toString()));
    }
    cmd.add(Tools.require("setsid", "util-linux"));
    if (s.bubblewrap()) {
      cmd.add(Tools.require("bwrap", "bubblewrap"));
      cmd.addAll(ROOT_DEV_PROC);
      // A private /tmp, world-writable with the sticky bit like the host's (bwrap 0.5+ --perms).
      cmd.addAll(List.of("--perms", "1777", "--tmpfs", "/tmp"));
      cmd.addAll(privateRuntimeDirs(s.network()));
      // The gateway's data directory (store, master key, recordings) and the exec workdirs are
      // hidden (hidden()); the workspace, which may live below one of them, is bound back
      // read-write afterwards (bwrap applies in order).
      for (Path h : s.hidden()) {
        cmd.addAll(List.of("--tmpfs", h.toString()));
        cmd.addAll(pathInto(h, s.workspace()));
      }
      cmd.addAll(List.of("--bind", s.workspace().toString(), s.workspace().toString()));
      if (s.secretShield() != null) {
        // Workspace.open(shielded): the secrets' directory and the HOME are in one that is root's
        // and 0700 on the host, so that nothing outside the sandbox with the run_as uid reaches
        // them; a tmpfs here lets the job.
        cmd.addAll(List.of("--perms", "0755", "--tmpfs", s.secretShield().toString()));
      }
      if (s.secretDir() != null) {
        cmd.addAll(List.of("--ro-bind", s.secretDir().toString(), s.secretDir().toString()));
      }
      if (s.home() != null) {
        // a fixed workspace's job HOME (Workspace.home): after the secrets, which may be around it
        cmd.addAll(List.of("--bind", s.home().toString(), s.home().toString()));
      }
      cmd.addAll(List.of("--unshare-pid", "--unshare-ipc", "--die-with-parent"));
      if (!s.network()) {
        cmd.add("--unshare-net");
      }
      if (s.seccomp() != null) {
        // bwrap reads the program from the descriptor, closes it, and loads it last, just before
        // it execs setpriv (after its own setup, which needs sockets of its own).
        cmd.addAll(List.of("--seccomp", String.valueOf(SECCOMP_FD)));
      }
      // No --new-session: setsid above already gives a session without a controlling terminal
      // (so TIOCSTI has nothing to inject into), and keeping one process group lets INT and TERM
      // reach the command itself instead of only the bwrap supervisor.
      cmd.addAll(List.of("--chdir", s.cwd().toString(), "--"));
    }
    if (s.runAs() != null) {
      cmd.add(Tools.require("setpriv", "util-linux"));
      cmd.add("--reuid=" + s.runAs()[0]);
      cmd.add("--regid=" + s.runAs()[1]);
      cmd.addAll(
          List.of("--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"));
      cmd.add("--");
    }
    List<String> limits = new ArrayList<>();
    ExecConfig l = s.limits();
    if (l.memory() > 0) {
      limits.add("--as=" + l.memory());
    }
    if (l.cpu() != null && !l.cpu().isZero()) {
      // RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard one (setrlimit(2)).
      long secs = Math.max(1, l.cpu().toSeconds());
      limits.add("--cpu=" + secs + ":" + (secs + 1));
    }
    if (l.processes() > 0) {
      limits.add("--nproc=" + l.processes());
    }
    if (!limits.isEmpty()) {
      cmd.add(Tools.require("prlimit", "util-linux"));
      cmd.addAll(limits);
      cmd.add("--");
    }
    if (envResetsSignals()) {
      cmd.add(Tools.find("env"));
      cmd.add("--default-signal");
      cmd.add("--");
    }
    cmd.addAll(s.argv());
    return cmd;
  }
}
