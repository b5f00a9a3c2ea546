package dev.gatehouse.policy;

import dev.gatehouse.identity.Principal;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Runs {@code *.policytest.yaml} files, so users can test their policies in their own CI ({@code
 * gatehouse policy test}).
 *
 * <pre>
 * policies: [demo.yaml]          # optional: policy files relative to this file
 * tests:
 *   - name: alice may select
 *     principal: { subject: alice, groups: [engineering], kind: human }
 *     connection: { name: payments-db, type: postgres }
 *     action: { kind: sql, statement: select, tables_read: [public.payments] }
 *     at: 2026-01-05T09:00:00Z     # optional
 *     expect: { effect: allow, rule: engineering-read, obligations: { masking: pii } }
 * </pre>
 *
 * A file that is not valid (YAML errors, unknown keys, its policies do not load) is a {@link
 * PolicyException}; a test case that cannot run (say, raw SQL without a SQL describer) fails with a
 * message, and the other cases still run.
 */
public final class PolicyTestRunner {
  static final List<String> FILE_KEYS = List.of("policies", "tests");
  static final List<String> TEST_KEYS =
      List.of("name", "principal", "connection", "action", "at", "expect");
  static final List<String> EXPECT_KEYS =
      List.of("effect", "rule", "reason", "obligations", "review");

  private final PolicyEngine engine;
  private final Function<String, List<Action>> sqlDescriber;
  private final Function<String, Action> commandDescriber;

  /**
   * @param engine the policy to test when a test file names no {@code policies:}; may be null
   * @param sqlDescriber turns raw SQL into actions (the gateway's SQL classifier); may be null
   * @param commandDescriber turns a raw command line into an action; may be null
   */
  public PolicyTestRunner(
      PolicyEngine engine,
      Function<String, List<Action>> sqlDescriber,
      Function<String, Action> commandDescriber) {
    this.engine = engine;
    this.sqlDescriber = sqlDescriber;
    this.commandDescriber = commandDescriber;
  }

  /**
   * The outcome of one test case.
   *
   * @param file the test file
   * @param line line of the test case in the file
   * @param name the test's name
   * @param passed whether every expectation held
   * @param message empty when passed; otherwise expected vs actual, or why it could not run
   * @param decision the decision, or null when the case could not run
   */
  public record Result(
      String file, int line, String name, boolean passed, String message, Decision decision) {}

  /** Runs every test file matched by the globs, in order. */
  public List<Result> run(List<String> testGlobs) throws PolicyException {
    List<String> errors = new ArrayList<>();
    List<Path> files = PolicyFiles.resolve(testGlobs, errors);
    if (!errors.isEmpty()) {
      throw new PolicyException(errors);
    }
    List<Result> results = new ArrayList<>();
    for (Path f : files) {
      results.addAll(runFile(f));
    }
    return results;
  }

  /** Runs one test file. */
  public List<Result> runFile(Path file) throws PolicyException {
    List<String> errors = new ArrayList<>();
    List<PolicyFiles.Source> src = PolicyFiles.read(List.of(file), errors);
    if (!errors.isEmpty()) {
      throw new PolicyException(errors);
    }
    YamlReader r = new YamlReader(file.toString(), errors);
    Node root = r.compose(src.get(0).text());
    Map<String, Node> top = root == null ? null : r.mapping(root, "", FILE_KEYS);
    if (root == null && errors.isEmpty()) {
      r.errorAt(1, "", "the file is empty (expected tests: followed by a list of test cases)");
    }
    PolicyEngine policy = engine;
    List<Node> tests = null;
    if (top != null) {
      if (top.containsKey("policies")) {
        List<String> globs = r.strings(top.get("policies"), "policies");
        if (globs != null) {
          Path dir = file.toAbsolutePath().getParent();
          List<String> resolved =
              globs.stream()
                  .map(g -> g.startsWith("/") ? g : relative(dir.resolve(g).normalize()))
                  .toList();
          try {
            policy = PolicySet.load(resolved);
          } catch (PolicyException e) {
            for (String p : e.problems()) {
              r.error(top.get("policies"), "policies", p);
            }
          }
        }
      }
      if (top.containsKey("tests")) {
        tests =
            r.sequence(top.get("tests"), "tests", " of test cases, each starting with '- name:'");
      } else {
        r.error(root, "", "missing key \"tests\" (expected tests: followed by a list of cases)");
      }
      if (policy == null && !top.containsKey("policies")) {
        r.error(
            root,
            "",
            "no policy to test (add policies: [your-policy.yaml] or run it against a loaded"
                + " policy)");
      }
    }
    List<Map<String, Node>> cases = new ArrayList<>();
    List<Node> caseNodes = new ArrayList<>();
    if (tests != null) {
      int i = 0;
      for (Node t : tests) {
        Map<String, Node> m = r.mapping(t, "tests[" + i + "]", TEST_KEYS);
        if (m != null) {
          if (m.containsKey("expect")) {
            r.mapping(m.get("expect"), "tests[" + i + "].expect", EXPECT_KEYS);
          } else {
            r.error(
                t,
                "tests[" + i + "]",
                "missing key \"expect\" (expected expect: { effect: allow })");
          }
          cases.add(m);
          caseNodes.add(t);
        }
        i++;
      }
    }
    if (!errors.isEmpty()) {
      throw new PolicyException(errors);
    }
    List<Result> results = new ArrayList<>();
    for (int i = 0; i < cases.size(); i++) {
      results.add(runCase(file.toString(), caseNodes.get(i), cases.get(i), i, policy));
    }
    return results;
  }

  private static String relative(Path p) {
    Path cwd = Path.of("").toAbsolutePath();
    return p.startsWith(cwd) ? cwd.relativize(p).toString() : p.toString();
  }

  private Result runCase(
      String file, Node node, Map<String, Node> m, int index, PolicyEngine policy) {
    int line = YamlReader.line(node);
    String name =
        m.containsKey("name") ? String.valueOf(YamlReader.toJava(m.get("name"))) : "test " + index;
    Decision decision;
    try {
      Principal principal = RequestSpec.principal(YamlReader.toJava(m.get("principal")));
      Target target = RequestSpec.target(YamlReader.toJava(m.get("connection")));
      Instant at = RequestSpec.at(m.containsKey("at") ? YamlReader.toJava(m.get("at")) : null);
      List<Decision> decisions = new ArrayList<>();
      for (Action a :
          RequestSpec.actions(YamlReader.toJava(m.get("action")), sqlDescriber, commandDescriber)) {
        decisions.add(policy.decide(new PolicyRequest(principal, target, a, at)));
      }
      decision = RequestSpec.combine(decisions);
    } catch (RuntimeException e) {
      return new Result(file, line, name, false, "cannot run: " + e.getMessage(), null);
    }
    List<String> failures = new ArrayList<>();
    try {
      check(YamlReader.toJava(m.get("expect")), decision, failures);
    } catch (RuntimeException e) {
      failures.add(e.getMessage());
    }
    String message =
        failures.isEmpty()
            ? ""
            : String.join("; ", failures)
                + " (got "
                + PolicyCheck.effect(decision.effect())
                + " by "
                + decision.rule()
                + ": "
                + decision.reason()
                + ")";
    return new Result(file, line, name, failures.isEmpty(), message, decision);
  }

  @SuppressWarnings("unchecked")
  private static void check(Object expect, Decision d, List<String> failures) {
    Map<String, Object> e = (Map<String, Object>) expect;
    Object effect = e.get("effect");
    if (effect == null) {
      throw new IllegalArgumentException("expect.effect: missing (expected allow, deny or review)");
    }
    String want = effect.toString().toLowerCase(Locale.ROOT);
    if (!List.of("allow", "deny", "review").contains(want)) {
      throw new IllegalArgumentException(
          "expect.effect: " + effect + " (expected allow, deny or review)");
    }
    if (!want.equals(PolicyCheck.effect(d.effect()))) {
      failures.add("expected effect " + want);
    }
    if (e.containsKey("rule") && !Objects.equals(String.valueOf(e.get("rule")), d.rule())) {
      failures.add("expected rule " + e.get("rule"));
    }
    if (e.containsKey("reason")
        && (d.reason() == null || !d.reason().contains(String.valueOf(e.get("reason"))))) {
      failures.add("expected the reason to contain \"" + e.get("reason") + "\"");
    }
    if (e.get("obligations") instanceof Map<?, ?> o) {
      Obligations got = d.obligations();
      for (Map.Entry<?, ?> x : o.entrySet()) {
        String key = String.valueOf(x.getKey());
        String v = String.valueOf(x.getValue());
        String actual =
            switch (key) {
              case "masking" -> got.maskingProfile();
              case "read_only" -> String.valueOf(got.readOnly());
              case "max_rows" -> String.valueOf(got.maxRows());
              case "recording" -> got.recording();
              case "upstream_role" -> String.valueOf(got.upstreamRole());
              case "max_session" -> {
                v = Durations.format(Durations.parse(v));
                yield Durations.format(got.maxSessionDuration());
              }
              default ->
                  throw new IllegalArgumentException(
                      "expect.obligations."
                          + key
                          + ": unknown (expected masking, read_only, max_rows, max_session,"
                          + " recording or upstream_role)");
            };
        if (!v.equals(actual)) {
          failures.add("expected obligations." + key + " " + v + ", got " + actual);
        }
      }
    }
    if (e.get("review") instanceof Map<?, ?> rv) {
      ReviewRequirement got = d.review();
      if (got == null) {
        failures.add("expected a review requirement");
      } else {
        for (Map.Entry<?, ?> x : rv.entrySet()) {
          String key = String.valueOf(x.getKey());
          Object v = x.getValue();
          Object actual =
              switch (key) {
                case "groups" -> got.reviewerGroups();
                case "approvals" -> (long) got.approvals();
                case "all_groups" -> got.allGroups();
                case "require_justification" -> got.requireJustification();
                case "expires_after" -> {
                  v = Durations.parse(String.valueOf(v));
                  yield got.expiresAfter();
                }
                default ->
                    throw new IllegalArgumentException(
                        "expect.review."
                            + key
                            + ": unknown (expected groups, approvals,"
                            + " all_groups, require_justification or expires_after)");
              };
          if (v instanceof String s && actual instanceof List<?>) {
            v = List.of(s);
          }
          if (!Objects.equals(v, actual)) {
            failures.add("expected review." + key + " " + v + ", got " + actual);
          }
        }
      }
    }
  }

  /** Printable report: one line per test, the explanation of failures, and a closing count. */
  public static String report(List<Result> results) {
    StringBuilder b = new StringBuilder();
    int passed = 0;
    for (Result r : results) {
      b.append(r.passed() ? "PASS " : "FAIL ")
          .append(r.file())
          .append(':')
          .append(r.line())
          .append(' ')
          .append(r.name())
          .append('\n');
      if (r.passed()) {
        passed++;
      } else {
        b.append("     ").append(r.message()).append('\n');
        if (r.decision() != null) {
          for (String line : r.decision().explanation()) {
            b.append("       ").append(line).append('\n');
          }
        }
      }
    }
    b.append(passed).append(" passed, ").append(results.size() - passed).append(" failed\n");
    return b.toString();
  }
}
