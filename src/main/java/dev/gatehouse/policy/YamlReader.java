package dev.gatehouse.policy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads YAML through SnakeYAML's node API so that every problem can name the file and line.
 *
 * <p>Problems are collected, not thrown, so one load reports every mistake in a file at once; each
 * reader method returns null after recording a problem and callers simply skip that part.
 */
final class YamlReader {
  /** Policy files are small; anything larger is a mistake (or an attack on the parser). */
  static final int MAX_FILE_CHARS = 4 * 1024 * 1024;

  final String file;
  private final List<String> errors;

  YamlReader(String file, List<String> errors) {
    this.file = file;
    this.errors = errors;
  }

  /** Parses text into a node tree; records a syntax error and returns null when it is not YAML. */
  Node compose(String text) {
    LoaderOptions options = new LoaderOptions();
    options.setCodePointLimit(MAX_FILE_CHARS);
    options.setAllowDuplicateKeys(false);
    try {
      return new Yaml(options).compose(new java.io.StringReader(text));
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      int line = m == null ? 1 : m.getLine() + 1;
      errors.add(
          file
              + ":"
              + line
              + ": not valid YAML: "
              + String.valueOf(e.getProblem()).trim()
              + " (fix the syntax; indentation uses spaces, lists start with '- ')");
      return null;
    } catch (YAMLException e) {
      errors.add(file + ":1: not valid YAML: " + e.getMessage());
      return null;
    }
  }

  static int line(Node n) {
    return n.getStartMark() == null ? 1 : n.getStartMark().getLine() + 1;
  }

  String where(Node n) {
    return file + ":" + line(n);
  }

  void error(Node n, String path, String message) {
    errors.add(where(n) + ": " + (path.isEmpty() ? "" : path + ": ") + message);
  }

  void errorAt(int line, String path, String message) {
    errors.add(file + ":" + line + ": " + (path.isEmpty() ? "" : path + ": ") + message);
  }

  int errorCount() {
    return errors.size();
  }

  /**
   * Reads a mapping whose keys must be among {@code keys}; unknown and duplicate keys are reported
   * (with a suggestion for near misses). Returns the entries in file order, or null if {@code n} is
   * not a mapping.
   */
  Map<String, Node> mapping(Node n, String path, List<String> keys) {
    if (!(n instanceof MappingNode m)) {
      error(
          n, path, describe(n) + " (expected a mapping with keys " + String.join(", ", keys) + ")");
      return null;
    }
    Map<String, Node> out = new LinkedHashMap<>();
    for (NodeTuple t : m.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode k)) {
        error(t.getKeyNode(), path, "a key must be a plain name (expected one of " + keys + ")");
        continue;
      }
      String key = k.getValue();
      if (!keys.contains(key)) {
        String hint = suggest(key, keys);
        error(
            k,
            path,
            "unknown key \""
                + key
                + "\" (expected one of "
                + String.join(", ", keys)
                + (hint == null ? "" : "; did you mean \"" + hint + "\"?")
                + ")");
        continue;
      }
      if (out.containsKey(key)) {
        error(k, path, "duplicate key \"" + key + "\" (remove one of them)");
        continue;
      }
      out.put(key, t.getValueNode());
    }
    return out;
  }

  /** Reads a mapping of free-form string keys to string values (labels). */
  Map<String, String> stringMap(Node n, String path) {
    if (!(n instanceof MappingNode m)) {
      error(n, path, describe(n) + " (expected a mapping of names to values, e.g. { env: prod })");
      return null;
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (NodeTuple t : m.getValue()) {
      String k = string(t.getKeyNode(), path);
      String v = string(t.getValueNode(), path + "." + k);
      if (k != null && v != null) {
        out.put(k, v);
      }
    }
    return out;
  }

  String string(Node n, String path) {
    if (n instanceof ScalarNode s) {
      if (s.getTag().getValue().endsWith(":null")) {
        error(n, path, "empty (expected a value)");
        return null;
      }
      return s.getValue();
    }
    error(n, path, describe(n) + " (expected a single value)");
    return null;
  }

  Boolean bool(Node n, String path) {
    String s = n instanceof ScalarNode ? ((ScalarNode) n).getValue() : null;
    if (s != null) {
      switch (s.toLowerCase(Locale.ROOT)) {
        case "true":
          return Boolean.TRUE;
        case "false":
          return Boolean.FALSE;
        default:
          break;
      }
    }
    error(n, path, describe(n) + " (expected true or false)");
    return null;
  }

  Long integer(Node n, String path, long min) {
    String s = n instanceof ScalarNode ? ((ScalarNode) n).getValue() : null;
    if (s != null) {
      try {
        long v = Long.parseLong(s.replace("_", ""));
        if (v >= min) {
          return v;
        }
        error(n, path, s + " (expected a whole number >= " + min + ")");
        return null;
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    error(n, path, describe(n) + " (expected a whole number >= " + min + ")");
    return null;
  }

  Duration duration(Node n, String path) {
    String s = string(n, path);
    if (s == null) {
      return null;
    }
    try {
      return Durations.parse(s);
    } catch (IllegalArgumentException e) {
      error(n, path, e.getMessage());
      return null;
    }
  }

  /** A list of strings; a single scalar is accepted as a one-element list. */
  List<String> strings(Node n, String path) {
    if (n instanceof ScalarNode) {
      String s = string(n, path);
      return s == null ? null : List.of(s);
    }
    if (!(n instanceof SequenceNode seq)) {
      error(n, path, describe(n) + " (expected a list such as [a, b])");
      return null;
    }
    List<String> out = new ArrayList<>();
    int i = 0;
    for (Node item : seq.getValue()) {
      String s = string(item, path + "[" + i++ + "]");
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  /** Items of a sequence, or null (reported) when it is not one. */
  List<Node> sequence(Node n, String path, String example) {
    if (n instanceof SequenceNode seq) {
      return seq.getValue();
    }
    error(n, path, describe(n) + " (expected a list" + example + ")");
    return null;
  }

  /**
   * Converts a node to plain Java values: mappings to ordered maps, sequences to lists, and scalars
   * by their resolved tag (bool, int, null; everything else stays a string).
   */
  static Object toJava(Node n) {
    if (n instanceof MappingNode m) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (NodeTuple t : m.getValue()) {
        Object k = toJava(t.getKeyNode());
        out.put(String.valueOf(k), toJava(t.getValueNode()));
      }
      return out;
    }
    if (n instanceof SequenceNode s) {
      List<Object> out = new ArrayList<>();
      for (Node item : s.getValue()) {
        out.add(toJava(item));
      }
      return out;
    }
    if (n instanceof ScalarNode s) {
      String tag = s.getTag().getValue();
      String v = s.getValue();
      if (tag.endsWith(":null")) {
        return null;
      }
      if (tag.endsWith(":bool")) {
        // YAML 1.1 also spells true as yes/on
        String b = v.toLowerCase(Locale.ROOT);
        return b.equals("true") || b.equals("yes") || b.equals("on") || b.equals("y");
      }
      if (tag.endsWith(":int")) {
        try {
          return Long.parseLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
          return v;
        }
      }
      return v;
    }
    return null;
  }

  static String describe(Node n) {
    if (n instanceof ScalarNode s) {
      return s.getTag().getValue().endsWith(":null") ? "empty" : "\"" + s.getValue() + "\"";
    }
    if (n instanceof SequenceNode) {
      return "a list";
    }
    if (n instanceof MappingNode) {
      return "a mapping";
    }
    return "a value";
  }

  /** The closest allowed key within two edits, for "did you mean". */
  static String suggest(String key, List<String> keys) {
    String best = null;
    int bestDistance = 3;
    for (String k : keys) {
      int d = distance(key.toLowerCase(Locale.ROOT), k);
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return best;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
