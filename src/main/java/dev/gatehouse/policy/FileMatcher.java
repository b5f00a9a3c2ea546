package dev.gatehouse.policy;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * {@code file:} matcher (SFTP/SCP and file transfers): path prefixes or globs and operations. Paths
 * are normalised first, so {@code ..} cannot climb out of an allowed directory; a path that cannot
 * be made absolute never matches an allow rule and always matches a deny rule.
 */
final class FileMatcher implements KindMatcher {
  static final List<String> KEYS = List.of("paths", "ops");

  /**
   * The operations file transfers report (SFTP and SCP, see docs/ssh-file-transfer.md), and the
   * groups a rule may name instead: {@code read} is downloading and browsing, {@code write} is
   * creating and changing, {@code delete} removes, {@code rename} moves and links.
   */
  static final Map<String, Set<String>> OPS =
      Map.ofEntries(
          Map.entry("read", Set.of("read", "list", "stat")),
          Map.entry("write", Set.of("write", "mkdir", "setstat")),
          Map.entry("delete", Set.of("remove", "rmdir")),
          Map.entry("rename", Set.of("rename", "symlink")),
          Map.entry("list", Set.of("list")),
          Map.entry("stat", Set.of("stat")),
          Map.entry("mkdir", Set.of("mkdir")),
          Map.entry("setstat", Set.of("setstat")),
          Map.entry("remove", Set.of("remove")),
          Map.entry("rmdir", Set.of("rmdir")),
          Map.entry("symlink", Set.of("symlink")));

  private final List<PathPattern> paths;
  private final Set<String> ops;

  private FileMatcher(List<PathPattern> paths, Set<String> ops) {
    this.paths = paths;
    this.ops = ops;
  }

  static FileMatcher parse(YamlReader r, Node node, String path) {
    Map<String, Node> m = r.mapping(node, path, KEYS);
    if (m == null) {
      return null;
    }
    List<PathPattern> paths =
        m.containsKey("paths")
            ? CommandMatcher.pathPatterns(r, m.get("paths"), path + ".paths")
            : null;
    Set<String> ops = null;
    if (m.containsKey("ops")) {
      List<String> l = r.strings(m.get("ops"), path + ".ops");
      if (l != null) {
        ops = new LinkedHashSet<>();
        for (String op : l) {
          Set<String> expanded = OPS.get(op.toLowerCase(Locale.ROOT));
          if (expanded == null) {
            r.error(
                m.get("ops"),
                path + ".ops",
                op
                    + " (expected read, write, delete or rename, or one of list, stat, mkdir,"
                    + " setstat, remove, rmdir, symlink)");
            continue;
          }
          ops.addAll(expanded);
        }
      }
    }
    return new FileMatcher(paths, ops == null ? null : Set.copyOf(ops));
  }

  @Override
  public ActionKind kind() {
    return ActionKind.FILE;
  }

  @Override
  public String mismatch(Action action, Effect effect) {
    boolean deny = effect == Effect.DENY;
    if (ops != null) {
      String op = action.string(Action.Attr.FILE_OP);
      // an action without an op is treated as a write: the more dangerous one; an op this
      // matcher does not know never matches an allow rule and always matches a deny rule
      String o = op == null ? "write" : op.toLowerCase(Locale.ROOT);
      if (!OPS.containsKey(o)) {
        return deny ? null : "operation " + o + " is not known";
      }
      if (!ops.contains(o) && !(deny && op == null)) {
        return "operation " + o + " is not in " + ops;
      }
    }
    if (paths != null) {
      String raw = action.string(Action.Attr.FILE_PATH);
      String p = PathPattern.resolve(raw, null);
      if (p == null) {
        return deny ? null : "path " + raw + " is not absolute";
      }
      if (!CommandMatcher.anyPath(paths, p)) {
        return "path " + p + " is not within " + paths;
      }
    }
    return null;
  }
}
