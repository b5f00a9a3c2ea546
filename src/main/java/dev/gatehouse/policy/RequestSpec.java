package dev.gatehouse.policy;

import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Builds a request from plain data (a policy test case, or the JSON body of {@code POST
 * /api/v1/policy/check}):
 *
 * <pre>
 * principal:  { subject: alice, groups: [engineering], kind: human, attributes: { repo: x } }
 * connection: { name: payments-db, type: postgres, labels: { env: prod } }
 * action:     { kind: sql, statement: select, tables_read: [public.payments] }
 *             { kind: sql, sql: "UPDATE ..." }            (needs the SQL describer)
 *             { kind: command, command: "npm ci" }        (needs the command describer)
 * at:         2026-01-05T09:00:00Z                        (optional; default: now)
 * </pre>
 *
 * Errors are {@link IllegalArgumentException}s naming the field and what was expected.
 */
final class RequestSpec {
  static final List<String> PRINCIPAL_KEYS = List.of("subject", "groups", "kind", "attributes");
  static final List<String> CONNECTION_KEYS = List.of("name", "type", "labels");

  /** Attribute keys each action kind accepts, besides kind and raw. */
  static final Map<ActionKind, Set<String>> ATTRIBUTES =
      Map.of(
          ActionKind.CONNECT, Set.of(),
          ActionKind.SQL,
              Set.of(
                  Action.Attr.SQL_KIND,
                  Action.Attr.SQL_KINDS,
                  Action.Attr.SQL_OBJECT_TYPE,
                  Action.Attr.SQL_TABLES_READ,
                  Action.Attr.SQL_TABLES_WRITTEN,
                  Action.Attr.SQL_FUNCTIONS,
                  Action.Attr.SQL_OPAQUE_FUNCTIONS,
                  Action.Attr.SQL_READ_ONLY_FUNCTIONS,
                  Action.Attr.SQL_HAS_WHERE,
                  Action.Attr.SQL_UNPARSED,
                  Action.Attr.SQL_SEARCH_PATH),
          ActionKind.COMMAND,
              Set.of(
                  Action.Attr.CMD_BINARY,
                  Action.Attr.CMD_ARGV,
                  Action.Attr.CMD_ENV,
                  Action.Attr.CMD_CWD,
                  Action.Attr.CMD_NEEDS_SHELL),
          ActionKind.SHELL, Set.of(),
          ActionKind.FILE, Set.of(Action.Attr.FILE_PATH, Action.Attr.FILE_OP),
          ActionKind.HTTP, Set.of(Action.Attr.HTTP_METHOD, Action.Attr.HTTP_PATH),
          ActionKind.MCP, Set.of(Action.Attr.MCP_TOOL),
          ActionKind.FORWARD,
              Set.of(
                  Action.Attr.FORWARD_TYPE,
                  Action.Attr.FORWARD_HOST,
                  Action.Attr.FORWARD_PORT,
                  Action.Attr.FORWARD_PATH));

  private RequestSpec() {}

  static Principal principal(Object value) {
    Map<String, Object> m = map(value, "principal", PRINCIPAL_KEYS);
    String subject = string(m.get("subject"), "principal.subject");
    if (subject == null) {
      throw new IllegalArgumentException("principal.subject: missing (expected a name)");
    }
    PrincipalKind kind =
        m.containsKey("kind")
            ? PrincipalKind.parse(string(m.get("kind"), "principal.kind"))
            : PrincipalKind.HUMAN;
    return new Principal(
        subject,
        new LinkedHashSet<>(strings(m.get("groups"), "principal.groups")),
        kind,
        null,
        null,
        Set.of(),
        stringMap(m.get("attributes"), "principal.attributes"));
  }

  static Target target(Object value) {
    Map<String, Object> m = map(value, "connection", CONNECTION_KEYS);
    String name = string(m.get("name"), "connection.name");
    if (name == null) {
      throw new IllegalArgumentException("connection.name: missing (expected a connection name)");
    }
    String type = m.containsKey("type") ? string(m.get("type"), "connection.type") : "";
    return new Target(name, type, stringMap(m.get("labels"), "connection.labels"));
  }

  /**
   * The actions described: one, or several when raw SQL holds several statements.
   *
   * @param sqlDescriber turns raw SQL into actions; null when not available
   * @param commandDescriber turns a raw command line into an action; null when not available
   */
  static List<Action> actions(
      Object value,
      Function<String, List<Action>> sqlDescriber,
      Function<String, Action> commandDescriber) {
    if (!(value instanceof Map<?, ?> raw)) {
      throw new IllegalArgumentException(
          "action: " + value + " (expected a mapping such as { kind: sql, statement: select })");
    }
    Object k = raw.get("kind");
    if (k == null) {
      throw new IllegalArgumentException(
          "action.kind: missing (expected connect, sql, command, shell, file, http, mcp or"
              + " forward)");
    }
    ActionKind kind = ActionKind.parse(k.toString());
    Set<String> allowed = new LinkedHashSet<>(ATTRIBUTES.get(kind));
    allowed.add("kind");
    allowed.add("raw");
    if (kind == ActionKind.SQL) {
      allowed.add("sql");
    }
    if (kind == ActionKind.COMMAND) {
      allowed.add("command");
    }
    Map<String, Object> attrs = new LinkedHashMap<>();
    String rawText = null;
    for (Map.Entry<?, ?> e : raw.entrySet()) {
      String key = String.valueOf(e.getKey());
      if (!allowed.contains(key)) {
        throw new IllegalArgumentException(
            "action."
                + key
                + ": unknown for kind "
                + kind.wireName()
                + " (expected one of "
                + String.join(", ", allowed)
                + ")");
      }
      if (key.equals("kind") || key.equals("sql") || key.equals("command")) {
        continue;
      }
      if (key.equals("raw")) {
        rawText = String.valueOf(e.getValue());
        continue;
      }
      attrs.put(key, attribute(e.getValue(), "action." + key));
    }
    if (kind == ActionKind.COMMAND && attrs.get(Action.Attr.CMD_ARGV) instanceof List<?> argv) {
      // argv given directly: the binary defaults to argv[0], as a protocol would report it
      if (!argv.isEmpty() && !attrs.containsKey(Action.Attr.CMD_BINARY)) {
        attrs.put(Action.Attr.CMD_BINARY, String.valueOf(argv.get(0)));
      }
    }
    if (raw.containsKey("sql")) {
      if (sqlDescriber == null) {
        throw new IllegalArgumentException(
            "action.sql: raw SQL needs the SQL classifier, which this runner was not given"
                + " (describe the statement instead: statement: update, tables_written: [...])");
      }
      String sql = String.valueOf(raw.get("sql"));
      List<Action> described = sqlDescriber.apply(sql);
      if (described == null || described.isEmpty()) {
        throw new IllegalArgumentException("action.sql: the SQL classifier found no statement");
      }
      List<Action> out = new ArrayList<>();
      for (Action a : described) {
        out.add(merge(a, attrs));
      }
      return out;
    }
    if (raw.containsKey("command")) {
      if (commandDescriber == null) {
        throw new IllegalArgumentException(
            "action.command: a raw command line needs the command describer, which this runner"
                + " was not given (give argv: [npm, ci] instead)");
      }
      Action a = commandDescriber.apply(String.valueOf(raw.get("command")));
      if (a == null) {
        throw new IllegalArgumentException(
            "action.command: the command describer returned nothing");
      }
      return List.of(merge(a, attrs));
    }
    return List.of(new Action(kind, rawText, attrs));
  }

  private static Action merge(Action described, Map<String, Object> extra) {
    if (extra.isEmpty()) {
      return described;
    }
    Map<String, Object> attrs = new HashMap<>(described.attributes());
    attrs.putAll(extra);
    return new Action(described.kind(), described.raw(), attrs);
  }

  static Instant at(Object value) {
    if (value == null) {
      return Instant.now();
    }
    if (value instanceof Instant i) {
      return i;
    }
    if (value instanceof java.util.Date d) {
      return d.toInstant();
    }
    try {
      return OffsetDateTime.parse(value.toString()).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "at: " + value + " (expected an ISO-8601 instant such as 2026-01-05T09:00:00Z)", e);
    }
  }

  /**
   * Combines the decisions for several statements of one request: the most restrictive wins (deny,
   * then review, then allow), the first of that effect in statement order.
   */
  static Decision combine(List<Decision> decisions) {
    Decision best = null;
    for (Decision d : decisions) {
      if (best == null || rank(d.effect()) > rank(best.effect())) {
        best = d;
      }
    }
    return best;
  }

  private static int rank(Effect e) {
    return switch (e) {
      case ALLOW -> 0;
      case REVIEW -> 1;
      case DENY -> 2;
    };
  }

  private static Object attribute(Object v, String path) {
    if (v instanceof Collection<?> c) {
      List<String> out = new ArrayList<>();
      for (Object o : c) {
        out.add(String.valueOf(o));
      }
      return List.copyOf(out);
    }
    if (v instanceof Boolean || v instanceof String) {
      return v;
    }
    if (v instanceof Number n) {
      return n.longValue();
    }
    throw new IllegalArgumentException(
        path + ": " + v + " (expected a string, bool, number or list)");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value, String path, List<String> keys) {
    if (!(value instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(
          path + ": " + value + " (expected a mapping with keys " + String.join(", ", keys) + ")");
    }
    for (Object k : m.keySet()) {
      if (!keys.contains(String.valueOf(k))) {
        throw new IllegalArgumentException(
            path + "." + k + ": unknown key (expected one of " + String.join(", ", keys) + ")");
      }
    }
    return (Map<String, Object>) m;
  }

  private static String string(Object v, String path) {
    if (v == null) {
      return null;
    }
    if (v instanceof Map<?, ?> || v instanceof Collection<?>) {
      throw new IllegalArgumentException(path + ": " + v + " (expected a single value)");
    }
    return v.toString();
  }

  private static List<String> strings(Object v, String path) {
    if (v == null) {
      return List.of();
    }
    if (v instanceof Collection<?> c) {
      List<String> out = new ArrayList<>();
      for (Object o : c) {
        out.add(string(o, path));
      }
      return out;
    }
    return List.of(string(v, path));
  }

  private static Map<String, String> stringMap(Object v, String path) {
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(
          path + ": " + v + " (expected a mapping of names to values)");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      out.put(String.valueOf(e.getKey()), string(e.getValue(), path + "." + e.getKey()));
    }
    return out;
  }
}
