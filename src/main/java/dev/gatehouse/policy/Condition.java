package dev.gatehouse.policy;

import com.google.protobuf.Timestamp;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelIssue;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelFunctionBinding;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import dev.cel.runtime.CelStandardFunctions;
import dev.gatehouse.identity.Principal;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * A rule's {@code when:} condition in CEL, compiled once at load time.
 *
 * <p>Variables (all maps, so a missing key is a runtime error, use {@code has(...)} or {@code in}
 * to test first):
 *
 * <ul>
 *   <li>{@code principal}: {@code subject}, {@code groups} (list), {@code kind} ({@code human},
 *       {@code service}, {@code agent}), {@code attributes} (map of strings)
 *   <li>{@code connection}: {@code name}, {@code type}, {@code labels} (map of strings)
 *   <li>{@code action}: {@code kind} ({@code sql}, {@code command}, ...), {@code raw}, {@code
 *       attributes} (the protocol's attributes, see {@link Action.Attr})
 *   <li>{@code request}: {@code time} (a timestamp: {@code request.time.getHours("Europe/Berlin")})
 * </ul>
 */
final class Condition {
  private static final CelCompiler COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder()
          .addVar("principal", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .addVar("connection", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .addVar("action", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .addVar("request", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .setResultType(SimpleType.BOOL)
          .build();
  private static final Set<Object> OWN_OVERLOADS =
      Set.of(
          CelStandardFunctions.StandardFunction.Overload.DateTime.TIMESTAMP_TO_HOURS_WITH_TZ,
          CelStandardFunctions.StandardFunction.Overload.DateTime.TIMESTAMP_TO_MINUTES_WITH_TZ,
          CelStandardFunctions.StandardFunction.Overload.DateTime.TIMESTAMP_TO_DAY_OF_WEEK_WITH_TZ);

  private static final CelRuntime RUNTIME =
      CelRuntimeFactory.standardCelRuntimeBuilder()
          // The standard zone-aware accessors look the zone up on every call (a few µs each);
          // these bindings do the same arithmetic with zones parsed once.
          .setStandardEnvironmentEnabled(false)
          .setStandardFunctions(
              CelStandardFunctions.newBuilder()
                  .filterFunctions((fn, overload) -> !OWN_OVERLOADS.contains(overload))
                  .build())
          .addFunctionBindings(
              CelFunctionBinding.from(
                  "timestamp_to_hours_with_tz",
                  Timestamp.class,
                  String.class,
                  (ts, tz) -> (long) at(ts, tz).getHour()),
              CelFunctionBinding.from(
                  "timestamp_to_minutes_with_tz",
                  Timestamp.class,
                  String.class,
                  (ts, tz) -> (long) at(ts, tz).getMinute()),
              CelFunctionBinding.from(
                  "timestamp_to_day_of_week_with_tz",
                  Timestamp.class,
                  String.class,
                  // CEL counts days from Sunday = 0
                  (ts, tz) -> (long) (at(ts, tz).getDayOfWeek().getValue() % 7)))
          .build();

  /** Zone ids parsed once: time-window conditions are the common case and run per decision. */
  private static final Map<String, ZoneId> ZONES = new ConcurrentHashMap<>();

  private static ZonedDateTime at(Timestamp ts, String tz) {
    ZoneId zone = ZONES.get(tz);
    if (zone == null) {
      try {
        zone = ZoneId.of(tz);
      } catch (DateTimeException e) {
        throw new IllegalArgumentException(
            "time zone: " + tz + " (expected an IANA name such as Europe/Berlin or an offset)", e);
      }
      if (ZONES.size() < 1000) {
        ZONES.put(tz, zone);
      }
    }
    return Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos()).atZone(zone);
  }

  final String source;
  private final CelRuntime.Program program;

  private Condition(String source, CelRuntime.Program program) {
    this.source = source;
    this.program = program;
  }

  /**
   * Compiles an expression that must yield a bool.
   *
   * @throws IllegalArgumentException naming each problem with its line and column in the expression
   */
  static Condition compile(String source) {
    try {
      CelAbstractSyntaxTree ast = COMPILER.compile(source).getAst();
      return new Condition(source, RUNTIME.createProgram(ast));
    } catch (CelValidationException e) {
      String issues =
          e.getErrors().stream().map(Condition::describe).collect(Collectors.joining("; "));
      throw new IllegalArgumentException(issues.isEmpty() ? e.getMessage() : issues, e);
    } catch (CelEvaluationException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static String describe(CelIssue issue) {
    var loc = issue.getSourceLocation();
    String at =
        loc == null || loc.getLine() <= 0
            ? ""
            : "line " + loc.getLine() + " column " + (loc.getColumn() + 1) + ": ";
    return at + issue.getMessage();
  }

  /**
   * Evaluates against the variables of one request.
   *
   * @throws CelEvaluationException for runtime errors (missing keys, bad time zones, ...)
   */
  boolean eval(Map<String, Object> variables) throws CelEvaluationException {
    // A resolver reads the map in place; eval(Map) would copy it into an Activation per rule.
    Object result = program.eval(name -> java.util.Optional.ofNullable(variables.get(name)));
    return Boolean.TRUE.equals(result);
  }

  /** Builds the CEL variables for a request; only done when a candidate rule has a condition. */
  static Map<String, Object> variables(PolicyRequest request) {
    Principal p = request.principal();
    Map<String, Object> principal = new HashMap<>();
    principal.put("subject", p.subject());
    principal.put("groups", List.copyOf(p.groups()));
    principal.put("kind", p.kind() == null ? "" : p.kind().wireName());
    principal.put("attributes", p.attributes());
    Target t = request.target();
    Map<String, Object> connection = new HashMap<>();
    connection.put("name", t.name() == null ? "" : t.name());
    connection.put("type", t.type() == null ? "" : t.type());
    connection.put("labels", t.labels());
    Action a = request.action();
    Map<String, Object> attrs = new HashMap<>();
    for (Map.Entry<String, Object> e : a.attributes().entrySet()) {
      attrs.put(e.getKey(), celValue(e.getValue()));
    }
    Map<String, Object> action = new HashMap<>();
    action.put("kind", a.kind().wireName());
    action.put("raw", a.raw());
    action.put("attributes", attrs);
    Instant at = request.at() == null ? Instant.now() : request.at();
    Timestamp time =
        Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
    return Map.of(
        "principal",
        principal,
        "connection",
        connection,
        "action",
        action,
        "request",
        Map.of("time", time));
  }

  /** CEL knows long, not int, and lists, not sets. */
  private static Object celValue(Object v) {
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Collection<?> c && !(v instanceof List<?>)) {
      return new ArrayList<>(c);
    }
    return v;
  }
}
