package dev.gatehouse.masking;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads masking rule files in YAML through SnakeYAML's node API, so every error names the file and
 * line. Format (docs/masking.md has the full reference):
 *
 * <pre>
 * redaction: "[REDACTED:{type}]"      # optional, default text for full redaction
 * detectors:
 *   - id: employee_id                 # becomes the finding type
 *     regex: '\bEMP-\d{6}\b'
 *     group: 0                        # capture group to mask
 *     validator: luhn                 # luhn | mod97 | entropy
 *     entropy: 3.0                    # minimum Shannon entropy of the value
 *     keywords: [emp-]                # run only when one occurs
 *     allowlist: ['EMP-000000']
 *     category: pii                   # also add to built-in profiles: pii or secret
 *   - id: codenames
 *     words: [falcon, "blue heron"]   # or words_file: codenames.txt
 * profiles:
 *   support:
 *     extends: pii
 *     detectors: [employee_id]        # added
 *     exclude: [ip]                   # removed
 *     styles: {email: hash, card: {style: partial, keep: 4}}
 *     columns:
 *       - {connection: payments-db, schema: public, table: customers, column: email,
 *          style: partial}
 * </pre>
 */
final class RuleFiles {
  private static final Set<String> TOP_KEYS = Set.of("redaction", "detectors", "profiles");
  private static final Set<String> DETECTOR_KEYS =
      Set.of(
          "id",
          "regex",
          "group",
          "validator",
          "entropy",
          "keywords",
          "allowlist",
          "stopwords",
          "category",
          "words",
          "words_file");
  private static final Set<String> PROFILE_KEYS =
      Set.of("extends", "redaction", "detectors", "exclude", "styles", "columns");
  private static final Set<String> COLUMN_KEYS =
      Set.of("connection", "schema", "table", "column", "style", "type", "keep", "text");
  private static final Set<String> STYLE_KEYS = Set.of("style", "keep", "text", "length");

  /** A reference in a file to something defined elsewhere, kept with its location. */
  record Ref(String name, String where) {}

  /** A profile definition awaiting resolution of {@code extends} and detector references. */
  static final class ProfileDef {
    final String name;
    final String where;
    String extendsName;
    String extendsWhere;
    String redaction;
    final List<Ref> add = new ArrayList<>();
    final List<Ref> exclude = new ArrayList<>();
    final List<Map.Entry<String, Node>> styles = new ArrayList<>();
    final List<Node> columns = new ArrayList<>();
    final RuleFiles file;

    ProfileDef(String name, String where, RuleFiles file) {
      this.name = name;
      this.where = where;
      this.file = file;
    }
  }

  /** Everything collected from all files. */
  static final class Collected {
    final Map<String, Detector> detectors = new LinkedHashMap<>();
    final List<Detector> secretCategory = new ArrayList<>();
    final List<Detector> piiCategory = new ArrayList<>();
    final Map<String, ProfileDef> profiles = new LinkedHashMap<>();
    String redaction;
  }

  private final String file;
  private final Path dir;
  private final Keyed keyed;

  private RuleFiles(String file, Path dir, Keyed keyed) {
    this.file = file;
    this.dir = dir;
    this.keyed = keyed;
  }

  static void load(Path path, Keyed keyed, Collected into) {
    String name = path.toString();
    try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      Path parent = path.toAbsolutePath().getParent();
      new RuleFiles(name, parent, keyed).read(r, into);
    } catch (IOException e) {
      throw new MaskingConfigException(name + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  static void load(String name, Reader reader, Keyed keyed, Collected into) {
    new RuleFiles(name, Path.of("."), keyed).read(reader, into);
  }

  private void read(Reader r, Collected into) {
    Node root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).compose(r);
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      throw new MaskingConfigException(file + ":" + line + ": invalid YAML: " + e.getProblem(), e);
    }
    if (root == null) {
      return;
    }
    MappingNode top = mapping(root, "a mapping with redaction, detectors, profiles");
    Map<String, Node> m = fields(top, TOP_KEYS);
    if (m.size() == 1 && m.containsKey("masking") && m.get("masking") instanceof MappingNode mm) {
      m = fields(mm, TOP_KEYS);
    }
    if (m.containsKey("redaction")) {
      into.redaction = scalar(m.get("redaction"));
    }
    if (m.containsKey("detectors")) {
      for (Node d : sequence(m.get("detectors"), "a list of detectors")) {
        detector(d, into);
      }
    }
    if (m.containsKey("profiles")) {
      for (NodeTuple t : mapping(m.get("profiles"), "a mapping of profile names").getValue()) {
        String name = scalar(t.getKeyNode());
        if (into.profiles.containsKey(name) || Set.of("none").contains(name)) {
          throw error(t.getKeyNode(), "profile '" + name + "' is defined twice");
        }
        into.profiles.put(name, profile(name, t.getKeyNode(), t.getValueNode()));
      }
    }
  }

  private void detector(Node node, Collected into) {
    Map<String, Node> f = fields(mapping(node, "a detector mapping"), DETECTOR_KEYS);
    Node idNode = required(node, f, "id");
    String id = scalar(idNode);
    if (!id.matches("[A-Za-z0-9_.:-]{1,64}")) {
      throw error(idNode, "detector id '" + id + "' (expected: letters, digits, _ . : -)");
    }
    if (into.detectors.containsKey(id)) {
      throw error(idNode, "detector '" + id + "' is defined twice");
    }
    Detector d;
    if (f.containsKey("regex")) {
      if (f.containsKey("words") || f.containsKey("words_file")) {
        throw error(node, "detector '" + id + "' has both regex and words (expected one)");
      }
      d = regexDetector(id, f);
    } else if (f.containsKey("words") || f.containsKey("words_file")) {
      List<String> words = new ArrayList<>();
      if (f.containsKey("words")) {
        words.addAll(strings(f.get("words")));
      }
      if (f.containsKey("words_file")) {
        Path p = dir.resolve(scalar(f.get("words_file")));
        try {
          for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            if (!line.isBlank() && !line.startsWith("#")) {
              words.add(line.trim());
            }
          }
        } catch (IOException e) {
          throw error(f.get("words_file"), "cannot read word list " + p + " (" + e + ")");
        }
      }
      if (words.isEmpty()) {
        throw error(node, "detector '" + id + "' has an empty word list");
      }
      d = new DictionaryDetector(id, words);
    } else {
      throw error(node, "detector '" + id + "' needs regex or words");
    }
    into.detectors.put(id, d);
    if (f.containsKey("category")) {
      String c = scalar(f.get("category")).toLowerCase(Locale.ROOT);
      switch (c) {
        case "pii" -> into.piiCategory.add(d);
        case "secret", "secrets" -> into.secretCategory.add(d);
        default -> throw error(f.get("category"), "category '" + c + "' (expected: pii, secret)");
      }
    }
  }

  private RegexDetector regexDetector(String id, Map<String, Node> f) {
    Node rn = f.get("regex");
    Pattern p;
    try {
      p = Pattern.compile(scalar(rn));
    } catch (PatternSyntaxException e) {
      throw error(rn, "invalid regex for '" + id + "': " + e.getDescription());
    }
    int group = f.containsKey("group") ? integer(f.get("group")) : 0;
    if (group < 0 || group > p.matcher("").groupCount()) {
      throw error(
          f.get("group"), "group " + group + " (expected: 0.." + p.matcher("").groupCount() + ")");
    }
    RegexDetector.Validator v = RegexDetector.Validator.NONE;
    if (f.containsKey("validator")) {
      String vs = scalar(f.get("validator")).toUpperCase(Locale.ROOT);
      try {
        v = RegexDetector.Validator.valueOf(vs);
      } catch (IllegalArgumentException e) {
        throw error(
            f.get("validator"),
            "validator '" + vs.toLowerCase(Locale.ROOT) + "' (expected: luhn, mod97, entropy)");
      }
    }
    double entropy = f.containsKey("entropy") ? number(f.get("entropy")) : 0;
    if (v == RegexDetector.Validator.ENTROPY && entropy <= 0) {
      entropy = Builtins.DEFAULT_ENTROPY_THRESHOLD;
    }
    List<Pattern> allow = new ArrayList<>();
    if (f.containsKey("allowlist")) {
      for (Node a : sequence(f.get("allowlist"), "a list of regexes")) {
        try {
          allow.add(Pattern.compile(scalar(a)));
        } catch (PatternSyntaxException e) {
          throw error(a, "invalid allowlist regex: " + e.getDescription());
        }
      }
    }
    List<String> keywords = f.containsKey("keywords") ? strings(f.get("keywords")) : List.of();
    List<String> stop = f.containsKey("stopwords") ? strings(f.get("stopwords")) : List.of();
    return new RegexDetector(id, 90, p, group, v, entropy, keywords, allow, stop);
  }

  private ProfileDef profile(String name, Node keyNode, Node node) {
    if (!name.matches("[A-Za-z0-9_.:-]{1,64}")) {
      throw error(keyNode, "profile name '" + name + "' (expected: letters, digits, _ . : -)");
    }
    ProfileDef def = new ProfileDef(name, where(keyNode), this);
    Map<String, Node> f = fields(mapping(node, "a profile mapping"), PROFILE_KEYS);
    if (f.containsKey("extends")) {
      def.extendsName = scalar(f.get("extends"));
      def.extendsWhere = where(f.get("extends"));
    }
    if (f.containsKey("redaction")) {
      def.redaction = scalar(f.get("redaction"));
    }
    if (f.containsKey("detectors")) {
      for (Node d : sequence(f.get("detectors"), "a list of detector ids")) {
        def.add.add(new Ref(scalar(d), where(d)));
      }
    }
    if (f.containsKey("exclude")) {
      for (Node d : sequence(f.get("exclude"), "a list of detector ids")) {
        def.exclude.add(new Ref(scalar(d), where(d)));
      }
    }
    if (f.containsKey("styles")) {
      for (NodeTuple t : mapping(f.get("styles"), "a mapping of type to style").getValue()) {
        def.styles.add(Map.entry(scalar(t.getKeyNode()), t.getValueNode()));
      }
    }
    if (f.containsKey("columns")) {
      def.columns.addAll(sequence(f.get("columns"), "a list of column rules"));
    }
    return def;
  }

  /** Applies a definition on top of its (already built) base. */
  void apply(ProfileDef def, ProfileBuilder b, Map<String, Detector> known) {
    if (def.redaction != null) {
      b.fallback = new Style.Redact(def.redaction);
    }
    for (Ref r : def.add) {
      Detector d = known.get(r.name());
      if (d == null) {
        throw new MaskingConfigException(
            r.where()
                + ": unknown detector '"
                + r.name()
                + "' (expected one of "
                + known.keySet()
                + ")");
      }
      b.add(d);
    }
    for (Ref r : def.exclude) {
      if (b.detectors.remove(r.name()) == null && !known.containsKey(r.name())) {
        throw new MaskingConfigException(
            r.where()
                + ": unknown detector '"
                + r.name()
                + "' (expected one of "
                + known.keySet()
                + ")");
      }
    }
    for (Map.Entry<String, Node> e : def.styles) {
      b.style(e.getKey(), style(e.getValue(), (Style.Redact) redactOf(b)));
    }
    for (Node c : def.columns) {
      b.columns.add(column(c, (Style.Redact) redactOf(b)));
    }
  }

  private static Style redactOf(ProfileBuilder b) {
    return b.fallback instanceof Style.Redact r ? r : new Style.Redact(null);
  }

  private ColumnRule column(Node node, Style.Redact redact) {
    Map<String, Node> f = fields(mapping(node, "a column rule mapping"), COLUMN_KEYS);
    Node colNode = required(node, f, "column");
    Style style;
    if (f.containsKey("style")) {
      Node sn = f.get("style");
      if (sn instanceof MappingNode) {
        style = style(sn, redact);
      } else {
        style =
            styleNamed(
                scalar(sn),
                sn,
                f.containsKey("keep") ? integer(f.get("keep")) : -1,
                f.containsKey("text") ? scalar(f.get("text")) : null,
                16,
                redact);
      }
    } else {
      style = redact;
    }
    return new ColumnRule(
        Glob.of(opt(f, "connection")),
        Glob.of(opt(f, "schema")),
        Glob.of(opt(f, "table")),
        Glob.of(scalar(colNode)),
        style,
        opt(f, "type"),
        where(node));
  }

  private String opt(Map<String, Node> f, String key) {
    return f.containsKey(key) ? scalar(f.get(key)) : null;
  }

  Style style(Node node, Style.Redact redact) {
    if (node instanceof ScalarNode) {
      return styleNamed(scalar(node), node, -1, null, 16, redact);
    }
    Map<String, Node> f = fields(mapping(node, "a style name or mapping"), STYLE_KEYS);
    Node sn = required(node, f, "style");
    int keep = f.containsKey("keep") ? integer(f.get("keep")) : -1;
    String text = f.containsKey("text") ? scalar(f.get("text")) : null;
    int length = f.containsKey("length") ? integer(f.get("length")) : 16;
    if (length < 8 || length > 64) {
      throw error(f.get("length"), "hash length " + length + " (expected: 8..64)");
    }
    return styleNamed(scalar(sn), sn, keep, text, length, redact);
  }

  private Style styleNamed(
      String name, Node where, int keep, String text, int length, Style.Redact redact) {
    if (keep < -1 || keep > 16) {
      throw error(where, "keep " + keep + " (expected: 0..16)");
    }
    return switch (Style.normalize(name)) {
      case "redact", "full" -> text == null ? redact : new Style.Redact(text);
      case "partial" -> new Style.Partial(keep);
      case "hash" -> new Style.Hash(keyed, length);
      case "fpe", "format-preserving", "format_preserving" -> new Style.Fpe(keyed);
      case "null" -> new Style.Null(redact);
      case "none", "keep" -> Style.Keep.INSTANCE;
      default ->
          throw error(
              where, "unknown style '" + name + "' (expected one of " + Style.names() + ")");
    };
  }

  // --- node helpers ---------------------------------------------------------------------------

  private String where(Node n) {
    return file + ":" + (n.getStartMark().getLine() + 1);
  }

  MaskingConfigException error(Node n, String msg) {
    return new MaskingConfigException(where(n) + ": " + msg);
  }

  private MappingNode mapping(Node n, String expected) {
    if (n instanceof MappingNode m) {
      return m;
    }
    throw error(n, "expected " + expected);
  }

  private List<Node> sequence(Node n, String expected) {
    if (n instanceof SequenceNode s) {
      return s.getValue();
    }
    throw error(n, "expected " + expected);
  }

  private String scalar(Node n) {
    if (n instanceof ScalarNode s) {
      return s.getValue();
    }
    throw error(n, "expected a single value");
  }

  private int integer(Node n) {
    try {
      return Integer.parseInt(scalar(n).trim());
    } catch (NumberFormatException e) {
      throw error(n, "'" + scalar(n) + "' (expected: an integer)");
    }
  }

  private double number(Node n) {
    try {
      return Double.parseDouble(scalar(n).trim());
    } catch (NumberFormatException e) {
      throw error(n, "'" + scalar(n) + "' (expected: a number)");
    }
  }

  private List<String> strings(Node n) {
    if (n instanceof ScalarNode) {
      return List.of(scalar(n));
    }
    List<String> out = new ArrayList<>();
    for (Node x : sequence(n, "a list of strings")) {
      out.add(scalar(x));
    }
    return out;
  }

  private Node required(Node parent, Map<String, Node> f, String key) {
    Node n = f.get(key);
    if (n == null) {
      throw error(parent, "missing '" + key + "'");
    }
    return n;
  }

  private Map<String, Node> fields(MappingNode m, Set<String> allowed) {
    Map<String, Node> out = new LinkedHashMap<>();
    for (NodeTuple t : m.getValue()) {
      String k = scalar(t.getKeyNode());
      if (!allowed.contains(k) && !(allowed == TOP_KEYS && k.equals("masking"))) {
        throw error(
            t.getKeyNode(), "unknown key '" + k + "' (expected one of " + sorted(allowed) + ")");
      }
      if (out.put(k, t.getValueNode()) != null) {
        throw error(t.getKeyNode(), "duplicate key '" + k + "'");
      }
    }
    return out;
  }

  private static String sorted(Set<String> s) {
    return String.join(", ", s.stream().sorted().toList());
  }
}
