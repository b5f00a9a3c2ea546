package dev.gatehouse.runner;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.policy.CommandLine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The command strings sent to an SSH target used as a runner. Each one is {@code /bin/sh -c SCRIPT}
 * with every word the gateway did not write itself in single quotes, so the target's login shell
 * (whatever it is: sshd runs {@code $SHELL -c STRING}) and its {@code /bin/sh} read exactly what
 * was decided. No secret ever appears in them: the target's process list shows command lines to
 * every local user (ps(1)), so values travel on the stdin of {@code cat} into 0600 files.
 *
 * <pre>
 *   setup    umask 077; r=$TMPDIR/gatehouse-runner-UID (private); echo CLOCK &gt; $r/lease-OWNER;
 *            j=$(mktemp -d $r/job-OWNER-CLOCK.XXXXXXXXXX); mkdir $j/secrets $j/tmp; w=WORKSPACE
 *            cat &gt; $j/env      (stdin: export NAME='value' lines), then prints "$j" and "$w"
 *   upload   set -C; umask 077 &amp;&amp; cat &gt; $j/secrets/NAME   (stdin: a file secret; a new file)
 *   run      /usr/bin/env -i /bin/sh -c '. $j/env; command -p rm -f $j/env; export HOME=…
 *            TMPDIR=$j/tmp FILE=…; echo PGID &gt; $j/pid; cd CWD; (cwd still inside the
 *            workspace?); ulimit …; trap : SIGNALS; BINARY ARGV…; s=$?; rm -rf $j/secrets;
 *            (died of a signal: raise it again); exit $s'
 *   signal   kill -s SIG -- -$(cat $j/pid)                  (Ctrl-C, timeout, output limit…)
 *   cleanup  [kill -s KILL -- -$(cat $j/pid);] rm -rf -- $j [fresh workspace]
 *   heartbeat  echo CLOCK &gt; $r/lease-OWNER            (every minute while a job runs)
 *   sweep    rm -rf $r/job-* of no live job: ours not running, others' with a stale lease
 * </pre>
 *
 * {@code env -i} starts from an empty environment, as the local runner does; the env file then sets
 * exactly {@code PATH}, {@code LANG}, the connection's {@code env}, the caller's variables and the
 * secrets, and the run script {@code HOME} and the paths of file secrets.
 */
final class RemoteScript {
  /** The shell every script runs in on the target (POSIX XCU sh -c). */
  static final String SHELL = "/bin/sh";

  /** Starts the command with an empty environment (POSIX env -i). */
  static final String ENV = "/usr/bin/env";

  static final String ENV_FILE = "env";
  static final String PID_FILE = "pid";
  static final String SECRETS = "secrets";

  /** The job's private temporary directory ({@code TMPDIR}), removed with the job directory. */
  static final String TMP = "tmp";

  /**
   * The job's HOME when the workdir is fixed (shared by the connection's jobs: a dotfile one job
   * leaves there would configure the next caller's programs); removed with the job directory.
   */
  static final String HOME = "home";

  /**
   * Signals whose default action ends a process, that the gateway forwards ({@link
   * ForwardedSignals}): the run script traps them with a command (not with {@code ''}: an ignored
   * signal stays ignored in the command, POSIX XCU 2.14 trap) so that it outlives the command it
   * waits for and removes the secrets; a trap set so is reset to the default in the command.
   */
  static final String TRAPPED = "HUP INT QUIT TERM USR1 USR2 ALRM";

  private RemoteScript() {}

  /** One word in single quotes, inside which nothing is special (a quote is written '\''). */
  static String q(String word) {
    return "'" + word.replace("'", "'\\''") + "'";
  }

  /** {@code /bin/sh -c SCRIPT} as one string for the login shell. */
  static String sh(String script) {
    return CommandLine.quote(List.of(SHELL, "-c", script));
  }

  /**
   * The runner's root on the target, as a shell word: one private directory per target user under
   * the login's temporary directory. Every job directory of every gateway lives in it, so the sweep
   * ({@link #sweep}) never has to look anywhere else.
   */
  static final String ROOT = "\"${TMPDIR:-/tmp}/gatehouse-runner-$(id -u)\"";

  /** Prefix of job directories in the root: the owner id, the target's clock and a dash follow. */
  static final String JOB_PREFIX = "job-";

  /** Prefix of fresh workspaces made in a {@code workdir}: the owner id and clock follow. */
  static final String WS_PREFIX = "gatehouse-ws-";

  /** File in the job directory naming a fresh workspace made outside it (in {@code workdir}). */
  static final String WS_FILE = "ws";

  /** Prefix of lease files in the root: the owner id follows; the content is the target's clock. */
  static final String LEASE_PREFIX = "lease-";

  /**
   * Makes sure the root exists and is a private directory of this user (not a symbolic link, not
   * made by someone else in a shared /tmp), then stamps {@code t} with the target's clock (seconds
   * since the epoch; 0 where date(1) cannot tell) and renews this owner's lease with it.
   */
  private static String rootAndLease(String owner) {
    return "r="
        + ROOT
        + " && { [ -d \"$r\" ] || mkdir \"$r\"; }"
        + " && { { [ -d \"$r\" ] && [ ! -h \"$r\" ] && [ -O \"$r\" ]; } || { printf '%s\\n'"
        + " \"gatehouse: $r is not a private directory of this user\" >&2; exit 1; }; }"
        + " && chmod 700 \"$r\" && t=$(date +%s) && case \"$t\" in ''|*[!0-9]*) t=0 ;; esac"
        + " && printf '%s\\n' \"$t\" > \"$r/"
        + LEASE_PREFIX
        + owner(owner)
        + '"';
  }

  /**
   * Creates the job directory (always: it holds the env file, the pid and file secrets, outside the
   * workspace as locally) and the workspace, and prints both physical paths, one per line. The job
   * directory is {@code ROOT/job-OWNER-CLOCK.RANDOM}, so a later sweep can tell whose it is and how
   * old. {@code fresh} without {@code workdir}: {@code JOB/work}; {@code fresh} with it: a new
   * directory {@code gatehouse-ws-OWNER-CLOCK.RANDOM} in {@code workdir}, named in {@code JOB/ws};
   * {@code fixed}: {@code workdir} itself (created when missing).
   */
  static String setup(ExecConfig cfg, String owner) {
    StringBuilder s = new StringBuilder();
    s.append("umask 077 && ").append(rootAndLease(owner));
    s.append(" && j=$(mktemp -d \"$r/")
        .append(JOB_PREFIX)
        .append(owner(owner))
        .append("-$t.XXXXXXXXXX\")");
    s.append(" && mkdir \"$j/").append(SECRETS).append("\" \"$j/").append(TMP).append('"');
    if ("fixed".equals(cfg.workspace())) {
      s.append(" \"$j/").append(HOME).append('"');
    }
    String workdir = cfg.workdir() == null ? null : cfg.workdir().toString();
    if ("fixed".equals(cfg.workspace())) {
      s.append(" && mkdir -p ").append(q(workdir)).append(" && w=").append(q(workdir));
    } else if (workdir == null) {
      s.append(" && mkdir \"$j/work\" && w=\"$j/work\"");
    } else {
      s.append(" && mkdir -p ")
          .append(q(workdir))
          .append(" && w=$(mktemp -d ")
          .append(q(workdir + "/" + WS_PREFIX + owner(owner) + "-"))
          .append("\"$t\"'.XXXXXXXXXX')")
          .append(" && printf '%s\\n' \"$w\" > \"$j/")
          .append(WS_FILE)
          .append('"');
    }
    s.append(" && w=$(cd \"$w\" && pwd -P)");
    s.append(" && cat > \"$j/").append(ENV_FILE).append('"');
    s.append(" && printf '%s\\n%s\\n' \"$j\" \"$w\"");
    return sh(s.toString());
  }

  /** Renews this owner's lease while it has jobs on the target ({@link #sweep}). */
  static String heartbeat(String owner) {
    return sh("umask 077 && " + rootAndLease(owner));
  }

  /**
   * Removes the job directories in the root that no live job owns, and prints how many it removed.
   * A directory {@code job-OWNER-CLOCK.RANDOM} goes when
   *
   * <ul>
   *   <li>OWNER is this gateway ({@code owner}) and its name is not in {@code live}: a run whose
   *       cleanup did not reach the target (the connection dropped); the caller holds every setup
   *       of this gateway back while this runs, so no job is between mktemp and being listed;
   *   <li>OWNER is another gateway whose lease ({@code lease-OWNER}, renewed at every setup and
   *       every minute while its jobs run) and the directory's own CLOCK are both older than {@code
   *       ttl} seconds by the target's clock: a gateway that died, or stopped without cleaning up.
   * </ul>
   *
   * The secrets directory goes first, then a fresh workspace named in {@code JOB/ws} when it is a
   * directory (not a link) named {@code gatehouse-ws-OWNER-…} (one this scheme made), then the job
   * directory. Names that do not parse, links and anything outside the root are never touched;
   * processes are not killed (a process group id recorded long ago may belong to another program by
   * now). A lease older than {@code ttl} with no directory left is removed too.
   */
  static String sweep(String owner, java.util.Collection<String> live, long ttl) {
    StringBuilder l = new StringBuilder(" ");
    for (String name : live) {
      if (!name.matches("[A-Za-z0-9._-]+")) {
        throw new IllegalArgumentException(name + " is not a job name");
      }
      l.append(name).append(' ');
    }
    String script =
        "r="
            + ROOT
            + "; { [ -d \"$r\" ] && [ ! -h \"$r\" ] && [ -O \"$r\" ]; } || { echo 0; exit 0; }"
            + "; now=$(date +%s); case \"$now\" in ''|*[!0-9]*) echo 0; exit 0 ;; esac"
            + "; own="
            + owner(owner)
            + "; live="
            + q(l.toString())
            + "; ttl="
            + ttl
            + "; n=0"
            + "; for d in \"$r\"/"
            + JOB_PREFIX
            + "*; do"
            + " { [ -d \"$d\" ] && [ ! -h \"$d\" ]; } || continue;"
            + " b=${d##*/}; x=${b#"
            + JOB_PREFIX
            + "}; o=${x%%-*}; s=${x#*-}; s=${s%%.*};"
            + " case \"$o\" in ''|*[!0-9a-f]*) continue ;; esac;"
            + " case \"$s\" in ''|*[!0-9]*) continue ;; esac;"
            + " case \"$live\" in *\" $b \"*) continue ;; esac;"
            + " if [ \"$o\" != \"$own\" ]; then"
            + " l=$(cat \"$r/"
            + LEASE_PREFIX
            + "$o\" 2>/dev/null); case \"$l\" in ''|*[!0-9]*) l=0 ;; esac;"
            + " [ $((now - l)) -gt \"$ttl\" ] && [ $((now - s)) -gt \"$ttl\" ] || continue;"
            + " fi;"
            + " rm -rf -- \"$d/"
            + SECRETS
            + "\";"
            + " w=$(cat \"$d/"
            + WS_FILE
            + "\" 2>/dev/null);"
            + " case \"${w##*/}\" in \""
            + WS_PREFIX
            + "$o-\"*) { [ -d \"$w\" ] && [ ! -h \"$w\" ]; } && rm -rf -- \"$w\" ;; esac;"
            + " rm -rf -- \"$d\" && n=$((n + 1));"
            + " done"
            + "; for f in \"$r\"/"
            + LEASE_PREFIX
            + "*; do"
            + " [ -f \"$f\" ] || continue; o=${f##*/"
            + LEASE_PREFIX
            + "}; [ \"$o\" = \"$own\" ] && continue;"
            + " l=$(cat \"$f\" 2>/dev/null); case \"$l\" in ''|*[!0-9]*) l=0 ;; esac;"
            + " [ $((now - l)) -gt \"$ttl\" ] || continue;"
            + " set -- \"$r/"
            + JOB_PREFIX
            + "$o-\"*; [ -e \"$1\" ] && continue;"
            + " rm -f -- \"$f\";"
            + " done"
            + "; echo \"$n\"";
    return sh(script);
  }

  /** An owner id goes into scripts unquoted: 16 lower-case hex digits (WorkspaceOwner). */
  private static String owner(String owner) {
    if (!owner.matches("[0-9a-f]{16}")) {
      throw new IllegalArgumentException(owner + " is not an owner id");
    }
    return owner;
  }

  /**
   * Writes stdin to {@code path}, a new file of mode 0600: with noclobber ({@code set -C}, POSIX
   * XCU 2.7.2) the redirection fails rather than write through a file or symbolic link someone put
   * there first.
   */
  static String upload(String path) {
    return sh("set -C && umask 077 && cat > " + q(path));
  }

  /** The env file: one {@code export NAME='value'} per variable, sourced by {@link #run}. */
  static byte[] envFile(Map<String, String> env) {
    StringBuilder s = new StringBuilder();
    env.forEach(
        (k, v) -> s.append("export ").append(name(k)).append('=').append(q(v)).append('\n'));
    return s.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * The command itself. {@code cwd} is the requested directory relative to the workspace (null for
   * the workspace): after {@code cd}, its physical path must still be inside the workspace's, as
   * locally (a symbolic link out of it is refused with 126). {@code exports} are set after the env
   * file ({@code HOME}, paths of file secrets): they are known only once the job exists, and are
   * not secret.
   */
  static String run(
      String job,
      String workspace,
      String cwd,
      ExecConfig cfg,
      Map<String, String> exports,
      List<String> argv) {
    List<String> s = new ArrayList<>();
    String env = job + "/" + ENV_FILE;
    // dash exits (status 2) when . cannot read its file: test first, for the documented 127
    s.add("[ -r " + q(env) + " ] || exit 127");
    s.add(". " + q(env));
    // command -p: the default PATH, not one a caller set through env_allow
    s.add("command -p rm -f " + q(env));
    exports.forEach((k, v) -> s.add("export " + name(k) + "=" + q(v)));
    // The process group to signal: the session sshd started (its leader is the login shell, or
    // this very process when the login shell exec'd it). Read from /proc, else from ps.
    s.add(
        "{ read -r _ _ _ _ g _ 2>/dev/null < /proc/$$/stat || g=$(ps -o pgid= -p $$); }"
            + " && echo $g > "
            + q(job + "/" + PID_FILE));
    if (cwd == null) {
      s.add("cd " + q(workspace) + " || exit 127");
    } else {
      String dir = workspace + "/" + cwd;
      s.add(
          "cd "
              + q(dir)
              + " 2>/dev/null || "
              + fail("cwd " + cwd + " does not exist in the workspace " + workspace, 126));
      s.add(
          "case \"$(pwd -P)/\" in \"$(cd "
              + q(workspace)
              + " && pwd -P)/\"*) ;; *) "
              + fail("cwd " + cwd + " is outside the workspace " + workspace, 126)
              + " ;; esac");
    }
    List<String> limits = limits(cfg);
    if (!limits.isEmpty()) {
      s.add(
          "{ "
              + String.join(" && ", limits)
              + "; } || "
              + fail("cannot set the resource limits (memory, cpu, processes) on the runner", 127));
    }
    s.add(
        "[ -e "
            + q(argv.get(0))
            + " ] || "
            + fail("cannot start the command (" + argv.get(0) + ")", 127));
    // Not exec: the script waits for the command and then removes the file secrets on the target
    // itself, as the local runner does when its process ends, even when the gateway's cleanup
    // never arrives (the connection dropped, the gateway died). A command that died of a signal
    // ends the script by the same signal, so the channel still reports it (exit-signal).
    s.add("trap : " + TRAPPED);
    StringBuilder command = new StringBuilder();
    for (String a : argv) {
      command.append(command.isEmpty() ? "" : " ").append(q(a));
    }
    s.add(command.toString());
    s.add("s=$?");
    s.add("command -p rm -rf -- " + q(job + "/" + SECRETS));
    s.add(
        "if [ $s -gt 128 ] && [ $s -lt 160 ]; then trap - "
            + TRAPPED
            + "; kill -$((s - 128)) $$ 2>/dev/null; fi");
    s.add("exit $s");
    return CommandLine.quote(List.of(ENV, "-i", SHELL, "-c", String.join("; ", s)));
  }

  /**
   * ulimit in the shell that then execs the command, for {@code memory} (RLIMIT_AS, KiB), {@code
   * cpu} (RLIMIT_CPU: soft, then hard one second later, as locally) and {@code processes}
   * (RLIMIT_NPROC: {@code -u} in bash and ksh, {@code -p} in dash).
   */
  static List<String> limits(ExecConfig cfg) {
    List<String> l = new ArrayList<>();
    if (cfg.memory() > 0) {
      l.add("ulimit -v " + Math.max(1, (cfg.memory() + 1023) / 1024));
    }
    if (cfg.cpu() != null && !cfg.cpu().isZero()) {
      long secs = Math.max(1, cfg.cpu().toSeconds());
      l.add("ulimit -S -t " + secs + " && ulimit -H -t " + (secs + 1));
    }
    if (cfg.processes() > 0) {
      l.add(
          "{ ulimit -u "
              + cfg.processes()
              + " 2>/dev/null || ulimit -p "
              + cfg.processes()
              + "; }");
    }
    return l;
  }

  /**
   * Sends {@code signal} (a name from {@link ForwardedSignals}) to the command's process group with
   * kill(1), waiting up to three seconds for the command to have recorded it.
   */
  static String signal(String job, String signal) {
    String pid = q(job + "/" + PID_FILE);
    return sh(
        "i=0; while [ ! -s "
            + pid
            + " ] && [ $i -lt 30 ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done;"
            + " g=$(cat "
            + pid
            + ") && kill -s "
            + signal
            + " -- \"-$g\"");
  }

  /**
   * Removes the job directory and a fresh workspace outside it. With {@code kill}, first kills what
   * is left of a command that outlived its channel: its process group.
   */
  static String cleanup(String job, String freshWorkspace, boolean kill) {
    StringBuilder s = new StringBuilder();
    if (kill) {
      String pid = q(job + "/" + PID_FILE);
      s.append("if [ -s ")
          .append(pid)
          .append(" ]; then kill -s KILL -- \"-$(cat ")
          .append(pid)
          .append(")\" 2>/dev/null; fi; ");
    }
    s.append("rm -rf -- ").append(q(job));
    if (freshWorkspace != null && !freshWorkspace.startsWith(job + "/")) {
      s.append(' ').append(q(freshWorkspace));
    }
    return sh(s.toString());
  }

  /** A variable name goes into a script unquoted: only a POSIX name may (XCU 3.235). */
  private static String name(String name) {
    if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException(name + " is not a variable name");
    }
    return name;
  }

  private static String fail(String message, int status) {
    return "{ printf '%s\\n' " + q("gatehouse: " + message) + " >&2; exit " + status + "; }";
  }
}
