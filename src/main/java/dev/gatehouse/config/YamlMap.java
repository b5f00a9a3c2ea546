package dev.gatehouse.config;

import static dev.gatehouse.config.ParseContext.child;
import static dev.gatehouse.config.ParseContext.isNull;
import static dev.gatehouse.config.ParseContext.kindOf;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A YAML mapping with a fixed set of keys. Creating one reports unknown keys (with the closest
 * valid key), duplicate keys and non-scalar keys; the typed getters report wrong types and return
 * the default when a key is absent or its value is invalid.
 */
final class YamlMap {
  private final ParseContext ctx;
  private final String path;
  private final Node node;
  private final Map<String, NodeTuple> entries = new LinkedHashMap<>();

  private YamlMap(ParseContext ctx, Node node, String path) {
    this.ctx = ctx;
    this.node = node;
    this.path = path;
  }

  /**
   * A view of {@code node}, which may be null or a YAML null (then every key is absent). Anything
   * other than a mapping is reported and treated as empty.
   */
  static YamlMap of(ParseContext ctx, Node node, String path, List<String> keys) {
    YamlMap map = new YamlMap(ctx, isNull(node) ? null : node, path);
    if (map.node == null) {
      return map;
    }
    if (!(node instanceof MappingNode mapping)) {
      ctx.problem(
          node,
          path,
          "expected a mapping, found " + kindOf(node),
          path.isEmpty()
              ? "the top level holds sections such as `server:` and `connections:`"
              : "write `key: value` pairs, one per line, indented under `"
                  + lastSegment(path)
                  + ":`");
      return map;
    }
    for (NodeTuple t : mapping.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode keyNode)) {
        ctx.problem(
            t.getKeyNode(),
            path,
            "keys must be plain names, found " + kindOf(t.getKeyNode()),
            null);
        continue;
      }
      String key = keyNode.getValue();
      String at = child(path, key);
      if (key.equals("<<")) {
        ctx.problem(
            keyNode,
            at,
            "YAML merge keys are not supported",
            "write the keys out; anchors and aliases (&a, *a) on whole values work");
        continue;
      }
      if (!keys.contains(key)) {
        String guess = Suggestions.closest(key, keys);
        ctx.problem(
            keyNode,
            at,
            "unknown key",
            guess != null
                ? "did you mean `" + guess + "`?"
                : "valid keys here: " + String.join(", ", keys));
        continue;
      }
      NodeTuple first = map.entries.putIfAbsent(key, t);
      if (first != null) {
        ctx.problem(
            keyNode,
            at,
            "duplicate key (first set on line " + ParseContext.line(first.getKeyNode()) + ")",
            "keep one of them");
      }
    }
    return map;
  }

  private static String lastSegment(String path) {
    int dot = path.lastIndexOf('.');
    String last = dot < 0 ? path : path.substring(dot + 1);
    int bracket = last.indexOf('[');
    return bracket < 0 ? last : last.substring(0, bracket);
  }

  String path() {
    return path;
  }

  String path(String key) {
    return child(path, key);
  }

  /** The mapping's line, for problems about keys that are missing from it. */
  int line() {
    return ParseContext.line(node);
  }

  boolean present(String key) {
    return !isNull(value(key));
  }

  /** The value node, or null when the key is absent; a YAML null is returned as is. */
  Node value(String key) {
    NodeTuple t = entries.get(key);
    return t == null ? null : t.getValueNode();
  }

  /** The line of the key, for problems about a value that is present. */
  Node keyNode(String key) {
    NodeTuple t = entries.get(key);
    return t == null ? null : t.getKeyNode();
  }

  /** Reports a key as required, at the mapping's line. */
  void missing(String key, String fix) {
    if (entries.containsKey(key)) {
      ctx.problem(keyNode(key), path(key), "missing value", fix);
    } else {
      ctx.problem(line(), path(key), "missing required key", fix);
    }
  }

  /**
   * Reports a key that is present but not allowed in this context (for example {@code database} on
   * an ssh connection).
   */
  void notApplicable(String key, String why) {
    if (entries.containsKey(key)) {
      ctx.problem(keyNode(key), path(key), why, "remove it");
    }
  }

  YamlMap map(String key, List<String> keys) {
    return of(ctx, value(key), path(key), keys);
  }

  String string(String key, String def) {
    String s = ctx.text(value(key), path(key), "a string");
    return s == null ? def : s;
  }

  /** A required, non-blank string; null (problem recorded) when missing. */
  String requiredString(String key, String fix) {
    Node v = value(key);
    if (isNull(v)) {
      missing(key, fix);
      return null;
    }
    String s = ctx.text(v, path(key), "a string");
    if (s != null && s.isBlank()) {
      ctx.problem(v, path(key), "must not be empty", fix);
      return null;
    }
    return s;
  }

  int integer(String key, int def, int min, int max) {
    Integer v = ctx.integer(value(key), path(key), min, max, "an integer " + min + "-" + max);
    return v == null ? def : v;
  }

  int port(String key, int def, boolean zeroMeansRandom) {
    int min = zeroMeansRandom ? 0 : 1;
    String expected =
        zeroMeansRandom ? "an integer 0-65535, 0 picks a free port" : "an integer 1-65535";
    Integer v = ctx.integer(value(key), path(key), min, 65535, expected);
    return v == null ? def : v;
  }

  double decimal(String key, double def, double minExclusive, double max, String expected) {
    Double v = ctx.decimal(value(key), path(key), minExclusive, max, expected);
    return v == null ? def : v;
  }

  boolean bool(String key, boolean def) {
    Boolean v = ctx.bool(value(key), path(key));
    return v == null ? def : v;
  }

  Duration duration(String key, Duration def, Duration min, Duration max) {
    Duration v = ctx.duration(value(key), path(key), min, max);
    return v == null ? def : v;
  }

  String choice(String key, String def, String what, List<String> allowed) {
    String v = ctx.choice(value(key), path(key), what, allowed);
    return v == null ? def : v;
  }

  Secret secret(String key) {
    return ctx.secret(value(key), path(key));
  }

  Path path(String key, Path def) {
    Path v = ctx.path(value(key), path(key));
    return v == null ? def : v;
  }

  Path existingFile(String key, String what) {
    return ctx.existingFile(value(key), path(key), what);
  }

  /** The items of a list; empty when absent. Anything other than a list is reported. */
  List<Node> items(String key) {
    Node v = value(key);
    if (isNull(v)) {
      return List.of();
    }
    if (!(v instanceof SequenceNode seq)) {
      ctx.problem(
          v,
          path(key),
          "expected a list, found " + kindOf(v),
          "write one `- item` per line, or [a, b]");
      return List.of();
    }
    return seq.getValue();
  }

  /** A list of non-empty strings; empty when absent; {@code def} when absent and def not null. */
  List<String> strings(String key, List<String> def) {
    if (!present(key)) {
      return def;
    }
    List<String> out = new ArrayList<>();
    List<Node> items = items(key);
    for (int i = 0; i < items.size(); i++) {
      Node item = items.get(i);
      String at = ParseContext.item(path(key), i);
      if (isNull(item)) {
        ctx.problem(item, at, "empty list item", "remove it or give a value");
        continue;
      }
      String s = ctx.text(item, at, "a string");
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  /** A mapping of string to string (labels, claim matches); empty when absent. */
  Map<String, String> stringMap(String key) {
    Node v = value(key);
    Map<String, String> out = new LinkedHashMap<>();
    if (isNull(v)) {
      return out;
    }
    if (!(v instanceof MappingNode mapping)) {
      ctx.problem(v, path(key), "expected a mapping of names to values, found " + kindOf(v), null);
      return out;
    }
    Map<String, Node> seen = new LinkedHashMap<>();
    for (NodeTuple t : mapping.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode k)) {
        ctx.problem(
            t.getKeyNode(),
            path(key),
            "keys must be plain names, found " + kindOf(t.getKeyNode()),
            null);
        continue;
      }
      String at = child(path(key), k.getValue());
      Node first = seen.putIfAbsent(k.getValue(), k);
      if (first != null) {
        ctx.problem(
            k,
            at,
            "duplicate key (first set on line " + ParseContext.line(first) + ")",
            "keep one of them");
        continue;
      }
      Node val = t.getValueNode();
      if (isNull(val)) {
        ctx.problem(val, at, "missing value", "give a value or remove the key");
        continue;
      }
      String s = ctx.text(val, at, "a string");
      if (s != null) {
        out.put(k.getValue(), s);
      }
    }
    return out;
  }
}
