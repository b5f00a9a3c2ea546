package dev.gatehouse.runner;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Start-up warnings for {@code workspace: fixed} directories that several exec connections share. A
 * fixed workdir is kept between commands and is not protected from other jobs with the same uid
 * (docs/exec.md): when two connections use the same one and their jobs can write it, a job of one
 * can change what the other's jobs read and run (a build script, {@code .git/config} hooks, {@code
 * package.json} scripts), whatever the policy allows on the other. The gateway does not refuse such
 * a configuration (it may be intended); it says so at start-up.
 */
public final class FixedWorkdirs {
  private FixedWorkdirs() {}

  /**
   * One warning per shared fixed workdir: on this host, when it exists and a job of one of the
   * connections sharing it may write it (its run_as uid, or the gateway's own when the gateway is
   * not root); on an SSH runner, always (the login user makes it with {@code mkdir -p} and owns
   * it).
   *
   * @param execs exec connections by name, in configuration order
   */
  public static List<String> warnings(Map<String, ExecConfig> execs) {
    Map<String, List<String>> shared = new LinkedHashMap<>();
    Map<String, ExecConfig> first = new LinkedHashMap<>();
    for (var e : execs.entrySet()) {
      ExecConfig cfg = e.getValue();
      if (!"fixed".equals(cfg.workspace()) || cfg.workdir() == null) {
        continue;
      }
      String dir = cfg.workdir().toAbsolutePath().normalize().toString();
      String key = cfg.runner() == null ? "\0" + dir : cfg.runner() + "\0" + dir;
      shared.computeIfAbsent(key, k -> new ArrayList<>()).add(e.getKey());
      first.putIfAbsent(key, cfg);
    }
    List<String> out = new ArrayList<>();
    for (var e : shared.entrySet()) {
      List<String> names = e.getValue();
      if (names.size() < 2) {
        continue;
      }
      ExecConfig cfg = first.get(e.getKey());
      String dir = cfg.workdir().toAbsolutePath().normalize().toString();
      String writer =
          cfg.runner() == null ? localWriter(cfg.workdir(), names, execs) : "the runner's login";
      if (writer == null) {
        continue;
      }
      out.add(
          "exec: fixed workdir "
              + dir
              + (cfg.runner() == null ? "" : " on runner " + cfg.runner())
              + " is shared by connections "
              + String.join(", ", names)
              + " and writable by "
              + writer
              + ": a job of one can change what the others' jobs read and run (scripts, hooks,"
              + " package manifests), whatever the policy allows them; give each connection its"
              + " own workdir or a run_as that cannot write it (docs/exec.md)");
    }
    return out;
  }

  /**
   * Who among the connections' job users may write {@code dir}, or null: none, or unknown. Only the
   * directory's own mode counts, not its ancestors': the jobs run in it (and bubblewrap recreates
   * the path to it), so a parent they cannot search does not keep them out. A group-writable
   * directory counts whatever its group: POSIX ACLs and supplementary groups are not read.
   */
  private static String localWriter(Path dir, List<String> names, Map<String, ExecConfig> execs) {
    if (!Files.isDirectory(dir)) {
      return null; // made by the operator later: nothing to tell yet
    }
    for (String name : names) {
      ExecConfig cfg = execs.get(name);
      try {
        int[] ids = Sandbox.runAs(cfg, name);
        String who =
            ids == null
                ? "the gateway's own user (jobs run as it)"
                : "uid " + ids[0] + " (run_as of " + name + ")";
        if (ids == null) {
          ids = new int[] {gatewayId("unix:uid"), gatewayId("unix:gid")};
        }
        if (Sandbox.permits(dir, ids, 02)) {
          return who;
        }
      } catch (IOException | RuntimeException e) {
        // run_as unknown or the directory unreadable: the run itself will say so
      }
    }
    // What the mode bits do not show: a POSIX ACL's named user and group entries (acl(5): the
    // group bits are then the ACL's mask; the JDK reads no POSIX ACL on Linux, which has no
    // AclFileAttributeView, and the gateway runs no getfacl), and the supplementary groups of jobs
    // that run as the gateway's own user (run_as jobs have none: setpriv --clear-groups). Erring
    // towards warning: a directory whose group class may write counts.
    try {
      int mode = (Integer) Files.getAttribute(dir, "unix:mode");
      if ((mode & 020) != 0) {
        return "its group class (the group write bit is set; it is also a POSIX ACL's mask, and"
            + " ACL entries and supplementary groups are not read)";
      }
    } catch (IOException | RuntimeException e) {
      // unreadable: the run itself will say so
    }
    return null;
  }

  /** The gateway's effective uid or gid: {@code /proc/self} is owned by them. */
  private static int gatewayId(String attribute) throws IOException {
    return (Integer) Files.getAttribute(Path.of("/proc/self"), attribute);
  }
}
