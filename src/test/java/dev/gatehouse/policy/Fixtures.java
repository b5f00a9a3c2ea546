package dev.gatehouse.policy;

import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Small builders shared by the policy tests. */
final class Fixtures {
  static final Instant NOON_UTC = Instant.parse("2026-01-05T12:00:00Z"); // a Monday

  private Fixtures() {}

  static PolicySet policy(String yaml) {
    try {
      return PolicySet.parse("test.yaml", yaml);
    } catch (PolicyException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  static Principal human(String subject, String... groups) {
    return principal(subject, PrincipalKind.HUMAN, groups);
  }

  static Principal principal(String subject, PrincipalKind kind, String... groups) {
    return new Principal(subject, Set.of(groups), kind, "t1", null, Set.of(), Map.of());
  }

  static Target target(String name) {
    return new Target(name, "postgres", Map.of());
  }

  static Target target(String name, Map<String, String> labels) {
    return new Target(name, "postgres", labels);
  }

  static Action sql(String statement, String... tablesRead) {
    Map<String, Object> a = new HashMap<>();
    a.put(Action.Attr.SQL_KIND, statement);
    a.put(Action.Attr.SQL_TABLES_READ, List.of(tablesRead));
    return new Action(ActionKind.SQL, statement, a);
  }

  static Action sqlWrite(String statement, boolean hasWhere, String... tablesWritten) {
    Map<String, Object> a = new HashMap<>();
    a.put(Action.Attr.SQL_KIND, statement);
    a.put(Action.Attr.SQL_TABLES_WRITTEN, List.of(tablesWritten));
    a.put(Action.Attr.SQL_HAS_WHERE, hasWhere);
    return new Action(ActionKind.SQL, statement, a);
  }

  static Action attrs(ActionKind kind, Object... keyValues) {
    Map<String, Object> a = new HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      a.put((String) keyValues[i], keyValues[i + 1]);
    }
    return new Action(kind, "", a);
  }

  /** The simple describer the CLI replaces with the real one: split on whitespace. */
  static Action command(String line) {
    List<String> argv = Arrays.asList(line.trim().split("\\s+"));
    Map<String, Object> a = new HashMap<>();
    a.put(Action.Attr.CMD_ARGV, List.copyOf(argv));
    a.put(Action.Attr.CMD_BINARY, argv.get(0));
    a.put(Action.Attr.CMD_NEEDS_SHELL, line.matches(".*[|&;<>$`].*"));
    return new Action(ActionKind.COMMAND, line, a);
  }

  static Action command(String line, Map<String, Object> extra) {
    Map<String, Object> a = new HashMap<>(command(line).attributes());
    a.putAll(extra);
    return new Action(ActionKind.COMMAND, line, a);
  }

  static Decision decide(PolicyEngine engine, Principal p, Target t, Action a) {
    return engine.decide(new PolicyRequest(p, t, a, NOON_UTC));
  }
}
