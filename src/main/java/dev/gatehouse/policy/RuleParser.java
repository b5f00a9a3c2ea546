package dev.gatehouse.policy;

import dev.gatehouse.config.GatehouseConfig.UpstreamRole;
import dev.gatehouse.identity.PrincipalKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;

/** Turns one policy file's node tree into rules, reporting every problem with file:line. */
final class RuleParser {
  static final List<String> FILE_KEYS = List.of("version", "rules");
  static final List<String> RULE_KEYS =
      List.of(
          "id",
          "description",
          "subjects",
          "connections",
          "effect",
          "reason",
          "obligations",
          "review",
          "when",
          "sql",
          "command",
          "shell",
          "file",
          "http",
          "mcp",
          "forward");
  static final List<String> SUBJECT_KEYS = List.of("users", "groups", "kinds");
  static final List<String> CONNECTION_KEYS = List.of("names", "types", "labels");
  static final List<String> OBLIGATION_KEYS =
      List.of("masking", "read_only", "max_rows", "max_session", "recording", "upstream_role");

  static final List<String> REVIEW_KEYS =
      List.of("groups", "approvals", "all_groups", "require_justification", "expires_after");
  static final Set<String> RECORDING = Set.of("full", "metadata");
  static final Duration DEFAULT_REVIEW_EXPIRY = Duration.ofHours(1);
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  private RuleParser() {}

  /** Parses one file; rules get indexes starting at {@code firstIndex}. */
  static List<Rule> parse(YamlReader r, String text, int firstIndex) {
    return parse(r, text, firstIndex, new HashMap<>());
  }

  /**
   * Parses one file.
   *
   * @param conditions conditions compiled so far, by source text: rules with the same {@code when}
   *     share one compiled condition, so a decision evaluates it once
   */
  static List<Rule> parse(
      YamlReader r, String text, int firstIndex, Map<String, Condition> conditions) {
    Node root = r.compose(text);
    List<Rule> rules = new ArrayList<>();
    if (root == null) {
      if (r.errorCount() == 0) {
        // an empty file is almost always a mistake (a truncated write, a wrong path)
        r.errorAt(1, "", "the file is empty (expected a mapping with a rules: list)");
      }
      return rules;
    }
    Map<String, Node> top = r.mapping(root, "", FILE_KEYS);
    if (top == null) {
      return rules;
    }
    if (top.containsKey("version")) {
      Long v = r.integer(top.get("version"), "version", 1);
      if (v != null && v != 1) {
        r.error(top.get("version"), "version", v + " (expected 1)");
      }
    }
    Node rulesNode = top.get("rules");
    if (rulesNode == null) {
      r.error(root, "", "missing key \"rules\" (expected rules: followed by a list of rules)");
      return rules;
    }
    List<Node> items = r.sequence(rulesNode, "rules", " of rules, each starting with '- id: ...'");
    if (items == null) {
      return rules;
    }
    int i = 0;
    for (Node item : items) {
      Rule rule = rule(r, item, "rules[" + i + "]", firstIndex + rules.size(), conditions);
      if (rule != null) {
        rules.add(rule);
      }
      i++;
    }
    return rules;
  }

  private static Rule rule(
      YamlReader r, Node node, String path, int index, Map<String, Condition> conditions) {
    int before = r.errorCount();
    String peeked = peekId(node);
    Map<String, Node> m =
        r.mapping(node, peeked == null ? path : path + " (" + peeked + ")", RULE_KEYS);
    if (m == null) {
      return null;
    }
    String id = null;
    if (m.containsKey("id")) {
      id = r.string(m.get("id"), path + ".id");
      if (id != null && !ID.matcher(id).matches()) {
        r.error(
            m.get("id"),
            path + ".id",
            "\"" + id + "\" (expected letters, digits, '.', '_', ':' or '-', at most 128)");
      } else if (Decision.DEFAULT_DENY.equals(id)
          || ArgvSafety.RULE.equals(id)
          || "policy-error".equals(id)) {
        r.error(m.get("id"), path + ".id", "\"" + id + "\" is reserved (choose another id)");
      }
    } else {
      r.error(node, path, "missing key \"id\" (every rule needs a unique id)");
    }
    if (id != null) {
      path = path + " (" + id + ")";
    }
    final String rp = path;
    Effect effect = null;
    if (m.containsKey("effect")) {
      String e = r.string(m.get("effect"), path + ".effect");
      if (e != null) {
        switch (e.trim().toLowerCase(Locale.ROOT)) {
          case "allow" -> effect = Effect.ALLOW;
          case "deny" -> effect = Effect.DENY;
          case "review" -> effect = Effect.REVIEW;
          default ->
              r.error(
                  m.get("effect"),
                  path + ".effect",
                  "\"" + e + "\" (expected allow, deny or review)");
        }
      }
    } else {
      r.error(node, path, "missing key \"effect\" (expected effect: allow, deny or review)");
    }
    String description =
        m.containsKey("description") ? r.string(m.get("description"), path + ".description") : null;
    String reason = m.containsKey("reason") ? r.string(m.get("reason"), path + ".reason") : null;

    // subjects
    Set<String> users = new LinkedHashSet<>();
    List<Glob> userGlobs = new ArrayList<>();
    Set<String> groups = new LinkedHashSet<>();
    List<Glob> groupGlobs = new ArrayList<>();
    Set<PrincipalKind> kinds = new HashSet<>();
    if (m.containsKey("subjects")) {
      String sp = path + ".subjects";
      Map<String, Node> s = r.mapping(m.get("subjects"), sp, SUBJECT_KEYS);
      if (s != null) {
        names(r, s.get("users"), sp + ".users", users, userGlobs);
        names(r, s.get("groups"), sp + ".groups", groups, groupGlobs);
        if (s.containsKey("kinds")) {
          List<String> ks = r.strings(s.get("kinds"), sp + ".kinds");
          if (ks != null) {
            for (String k : ks) {
              try {
                kinds.add(PrincipalKind.parse(k));
              } catch (IllegalArgumentException e) {
                r.error(s.get("kinds"), sp + ".kinds", e.getMessage());
              }
            }
          }
        }
        if (s.isEmpty()) {
          r.error(
              m.get("subjects"),
              sp,
              "empty (list users, groups or kinds, or omit subjects to match everyone)");
        }
      }
    }

    // connections
    List<Glob> names = null;
    Set<String> types = null;
    Map<String, Glob> labels = new LinkedHashMap<>();
    if (m.containsKey("connections")) {
      String cp = path + ".connections";
      Map<String, Node> c = r.mapping(m.get("connections"), cp, CONNECTION_KEYS);
      if (c != null) {
        if (c.containsKey("names")) {
          names = new ArrayList<>();
          List<String> l = r.strings(c.get("names"), cp + ".names");
          for (String n : l == null ? List.<String>of() : l) {
            try {
              names.add(Glob.compile(n, false, false));
            } catch (IllegalArgumentException e) {
              r.error(c.get("names"), cp + ".names", e.getMessage());
            }
          }
          names = List.copyOf(names);
        }
        if (c.containsKey("types")) {
          List<String> l = r.strings(c.get("types"), cp + ".types");
          types = l == null ? null : Set.copyOf(l);
        }
        if (c.containsKey("labels")) {
          Map<String, String> l = r.stringMap(c.get("labels"), cp + ".labels");
          if (l != null) {
            for (Map.Entry<String, String> e : l.entrySet()) {
              try {
                labels.put(e.getKey(), Glob.compile(e.getValue(), false, false));
              } catch (IllegalArgumentException ex) {
                r.error(c.get("labels"), cp + ".labels." + e.getKey(), ex.getMessage());
              }
            }
          }
        }
      }
    }

    // per-kind matchers
    EnumMap<ActionKind, KindMatcher> matchers = new EnumMap<>(ActionKind.class);
    Effect eff = effect == null ? Effect.ALLOW : effect;
    putIf(matchers, m, "sql", n -> SqlMatcher.parse(r, n, rp + ".sql", eff));
    putIf(matchers, m, "command", n -> CommandMatcher.parse(r, n, rp + ".command", eff));
    putIf(matchers, m, "shell", n -> ShellMatcher.parse(r, n, rp + ".shell"));
    putIf(matchers, m, "file", n -> FileMatcher.parse(r, n, rp + ".file"));
    putIf(matchers, m, "http", n -> HttpMatcher.parse(r, n, rp + ".http"));
    putIf(matchers, m, "mcp", n -> McpMatcher.parse(r, n, rp + ".mcp"));
    putIf(matchers, m, "forward", n -> ForwardMatcher.parse(r, n, rp + ".forward"));

    Rule.RuleObligations obligations = Rule.RuleObligations.EMPTY;
    if (m.containsKey("obligations")) {
      obligations = obligations(r, m.get("obligations"), path + ".obligations");
      if (effect == Effect.DENY) {
        r.error(
            m.get("obligations"),
            path + ".obligations",
            "a deny rule has nothing to oblige (remove obligations, or make the rule allow/review)");
      }
    }

    ReviewRequirement review = null;
    if (m.containsKey("review")) {
      review = review(r, m.get("review"), path + ".review");
      if (effect != null && effect != Effect.REVIEW) {
        r.error(
            m.get("review"),
            path + ".review",
            "only a rule with effect: review takes a review block (the effect is "
                + effect.name().toLowerCase(Locale.ROOT)
                + ")");
      }
    } else if (effect == Effect.REVIEW) {
      r.error(
          node,
          path,
          "effect: review needs a review block (e.g. review: { groups: [dba], approvals: 1 })");
    }

    Condition when = null;
    if (m.containsKey("when")) {
      String expr = r.string(m.get("when"), path + ".when");
      if (expr != null) {
        try {
          when = conditions.get(expr);
          if (when == null) {
            when = Condition.compile(expr);
            conditions.put(expr, when);
          }
        } catch (IllegalArgumentException e) {
          r.error(
              m.get("when"),
              path + ".when",
              "CEL does not compile: "
                  + e.getMessage()
                  + " (expected a bool expression over principal, connection, action, request)");
        } catch (RuntimeException | LinkageError e) {
          Throwable root = e;
          while (root.getCause() != null) {
            root = root.getCause();
          }
          r.error(
              m.get("when"),
              path + ".when",
              "CEL is unavailable ("
                  + root
                  + "); check that protobuf-java >= 4.29 is on the class path");
        }
      }
    }

    if (r.errorCount() > before || id == null || effect == null) {
      return null;
    }
    return new Rule(
        index,
        id,
        description,
        r.file,
        YamlReader.line(node),
        effect,
        reason,
        Set.copyOf(users),
        List.copyOf(userGlobs),
        Set.copyOf(groups),
        List.copyOf(groupGlobs),
        Set.copyOf(kinds),
        names,
        types,
        Map.copyOf(labels),
        matchers,
        obligations,
        review,
        when);
  }

  /** The rule's id, read ahead so that even errors in keys before it can name the rule. */
  private static String peekId(Node node) {
    if (node instanceof org.yaml.snakeyaml.nodes.MappingNode m) {
      for (org.yaml.snakeyaml.nodes.NodeTuple t : m.getValue()) {
        if (t.getKeyNode() instanceof org.yaml.snakeyaml.nodes.ScalarNode k
            && k.getValue().equals("id")
            && t.getValueNode() instanceof org.yaml.snakeyaml.nodes.ScalarNode v) {
          return v.getValue();
        }
      }
    }
    return null;
  }

  private static void putIf(
      EnumMap<ActionKind, KindMatcher> matchers,
      Map<String, Node> m,
      String key,
      java.util.function.Function<Node, KindMatcher> parser) {
    Node n = m.get(key);
    if (n != null) {
      KindMatcher km = parser.apply(n);
      if (km != null) {
        matchers.put(km.kind(), km);
      }
    }
  }

  private static void names(
      YamlReader r, Node n, String path, Set<String> exact, List<Glob> globs) {
    if (n == null) {
      return;
    }
    List<String> l = r.strings(n, path);
    if (l == null) {
      return;
    }
    for (String s : l) {
      try {
        Glob g = Glob.compile(s, false, false);
        if (g.isLiteral()) {
          exact.add(g.literal());
        } else {
          globs.add(g);
        }
      } catch (IllegalArgumentException e) {
        r.error(n, path, e.getMessage());
      }
    }
  }

  private static Rule.RuleObligations obligations(YamlReader r, Node n, String path) {
    Map<String, Node> m = r.mapping(n, path, OBLIGATION_KEYS);
    if (m == null) {
      return Rule.RuleObligations.EMPTY;
    }
    String masking =
        m.containsKey("masking") ? r.string(m.get("masking"), path + ".masking") : null;
    Boolean readOnly =
        m.containsKey("read_only") ? r.bool(m.get("read_only"), path + ".read_only") : null;
    Long maxRows =
        m.containsKey("max_rows") ? r.integer(m.get("max_rows"), path + ".max_rows", 0) : null;
    Duration maxSession =
        m.containsKey("max_session")
            ? r.duration(m.get("max_session"), path + ".max_session")
            : null;
    String recording = null;
    if (m.containsKey("recording")) {
      recording = r.string(m.get("recording"), path + ".recording");
      if (recording != null && !RECORDING.contains(recording)) {
        r.error(
            m.get("recording"),
            path + ".recording",
            "\""
                + recording
                + "\" (expected full or metadata; every action is recorded at least"
                + " with metadata)");
        recording = null;
      }
    }
    String upstreamRole = null;
    if (m.containsKey("upstream_role")) {
      upstreamRole = r.string(m.get("upstream_role"), path + ".upstream_role");
      if (upstreamRole != null && !UpstreamRole.NAME.matcher(upstreamRole).matches()) {
        r.error(
            m.get("upstream_role"),
            path + ".upstream_role",
            "\""
                + upstreamRole
                + "\" (expected the name of one of the connection's roles: letters, digits, '_',"
                + " '-' and '.', at most 63)");
        upstreamRole = null;
      }
    }
    return new Rule.RuleObligations(
        masking, readOnly, maxRows, maxSession, recording, upstreamRole);
  }

  private static ReviewRequirement review(YamlReader r, Node n, String path) {
    Map<String, Node> m = r.mapping(n, path, REVIEW_KEYS);
    if (m == null) {
      return null;
    }
    List<String> groups =
        m.containsKey("groups") ? r.strings(m.get("groups"), path + ".groups") : null;
    if (groups == null || groups.isEmpty()) {
      r.error(n, path, "no reviewer groups (expected groups: [dba] or similar)");
      groups = List.of();
    }
    Long approvals =
        m.containsKey("approvals") ? r.integer(m.get("approvals"), path + ".approvals", 1) : null;
    Boolean all =
        m.containsKey("all_groups") ? r.bool(m.get("all_groups"), path + ".all_groups") : null;
    Boolean just =
        m.containsKey("require_justification")
            ? r.bool(m.get("require_justification"), path + ".require_justification")
            : null;
    Duration expires =
        m.containsKey("expires_after")
            ? r.duration(m.get("expires_after"), path + ".expires_after")
            : null;
    int n2 = approvals == null ? 1 : (int) Math.min(approvals, 100);
    if (Boolean.TRUE.equals(all) && n2 < groups.size()) {
      n2 = groups.size(); // each group must contribute one approval, so at least one per group
    }
    return new ReviewRequirement(
        groups,
        n2,
        Boolean.TRUE.equals(all),
        Boolean.TRUE.equals(just),
        expires == null ? DEFAULT_REVIEW_EXPIRY : expires);
  }
}
