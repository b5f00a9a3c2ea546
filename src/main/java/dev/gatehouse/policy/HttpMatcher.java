package dev.gatehouse.policy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * {@code http:} matcher: methods and path globs ({@code *} stays within one segment, {@code **}
 * crosses segments). The query string is ignored and the path normalised before matching.
 */
final class HttpMatcher implements KindMatcher {
  static final List<String> KEYS = List.of("methods", "paths");

  private final Set<String> methods;
  private final List<Glob> paths;

  private HttpMatcher(Set<String> methods, List<Glob> paths) {
    this.methods = methods;
    this.paths = paths;
  }

  static HttpMatcher parse(YamlReader r, Node node, String path) {
    Map<String, Node> m = r.mapping(node, path, KEYS);
    if (m == null) {
      return null;
    }
    Set<String> methods = null;
    if (m.containsKey("methods")) {
      List<String> l = r.strings(m.get("methods"), path + ".methods");
      if (l != null) {
        methods = new LinkedHashSet<>();
        for (String s : l) {
          if (!s.matches("[A-Za-z]+|\\*")) {
            r.error(m.get("methods"), path + ".methods", s + " (expected a method such as GET)");
          }
          methods.add(s.toUpperCase(Locale.ROOT));
        }
      }
    }
    List<Glob> paths = null;
    if (m.containsKey("paths")) {
      List<String> l = r.strings(m.get("paths"), path + ".paths");
      if (l != null) {
        paths = new ArrayList<>();
        for (String s : l) {
          try {
            if (!s.startsWith("/")) {
              throw new IllegalArgumentException(
                  "path: " + s + " (expected a path glob starting with /, such as /api/**)");
            }
            paths.add(Glob.compile(s, true, false));
          } catch (IllegalArgumentException e) {
            r.error(m.get("paths"), path + ".paths", e.getMessage());
          }
        }
      }
    }
    return new HttpMatcher(
        methods == null ? null : Set.copyOf(methods), paths == null ? null : List.copyOf(paths));
  }

  @Override
  public ActionKind kind() {
    return ActionKind.HTTP;
  }

  @Override
  public String mismatch(Action action, Effect effect) {
    if (methods != null && !methods.contains("*")) {
      String method = action.string(Action.Attr.HTTP_METHOD);
      if (method == null || !methods.contains(method.toUpperCase(Locale.ROOT))) {
        return "method " + method + " is not in " + methods;
      }
    }
    if (paths != null) {
      String raw = action.string(Action.Attr.HTTP_PATH);
      if (raw == null) {
        return effect == Effect.DENY ? null : "the request has no path";
      }
      int q = raw.indexOf('?');
      String p = PathPattern.resolve(q < 0 ? raw : raw.substring(0, q), null);
      if (p == null || !SqlMatcher.any(paths, p)) {
        return "path " + raw + " does not match " + paths;
      }
    }
    return null;
  }
}
