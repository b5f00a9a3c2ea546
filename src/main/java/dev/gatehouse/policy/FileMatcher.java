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
  private static final Set<String> OPS = Set.of("read", "write");

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
          String o = op.toLowerCase(Locale.ROOT);
          if (!OPS.contains(o)) {
            r.error(m.get("ops"), path + ".ops", op + " (expected read or write)");
          }
          ops.add(o);
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
      // an action without an op is treated as a write: the more dangerous one
      String o = op == null ? "write" : op.toLowerCase(Locale.ROOT);
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
