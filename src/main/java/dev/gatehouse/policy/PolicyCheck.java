package dev.gatehouse.policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * "What would the policy say?" for {@code gatehouse policy check} and {@code POST
 * /api/v1/policy/check}: builds a request from plain data, decides, and renders the decision with
 * its explanation as text or as a JSON-ready map.
 */
public final class PolicyCheck {
  private PolicyCheck() {}

  /**
   * Decides on a request given as plain data (parsed JSON or YAML): {@code principal}, {@code
   * connection}, {@code action} and optionally {@code at}; see docs/policy.md for the fields. Raw
   * SQL with several statements is decided per statement; the most restrictive decision is
   * returned.
   *
   * @param sqlDescriber turns raw SQL ({@code action.sql}) into actions; may be null
   * @param commandDescriber turns a raw command line ({@code action.command}) into an action; may
   *     be null
   * @throws IllegalArgumentException when the body is malformed, naming the field and what was
   *     expected
   */
  public static Decision check(
      PolicyEngine engine,
      Map<String, Object> body,
      Function<String, List<Action>> sqlDescriber,
      Function<String, Action> commandDescriber) {
    for (String key : body.keySet()) {
      if (!List.of("principal", "connection", "action", "at").contains(key)) {
        throw new IllegalArgumentException(
            key + ": unknown key (expected principal, connection, action and optionally at)");
      }
    }
    var principal = RequestSpec.principal(body.get("principal"));
    var target = RequestSpec.target(body.get("connection"));
    var at = RequestSpec.at(body.get("at"));
    List<Decision> decisions = new ArrayList<>();
    for (Action a : RequestSpec.actions(body.get("action"), sqlDescriber, commandDescriber)) {
      decisions.add(engine.decide(new PolicyRequest(principal, target, a, at)));
    }
    return RequestSpec.combine(decisions);
  }

  /** Multi-line, human-readable rendering: effect, rule, reason, review, obligations, trace. */
  public static String render(Decision d) {
    StringBuilder b = new StringBuilder();
    b.append("decision:    ").append(effect(d.effect())).append('\n');
    b.append("rule:        ").append(d.rule()).append('\n');
    b.append("reason:      ").append(d.reason()).append('\n');
    ReviewRequirement r = d.review();
    if (r != null) {
      b.append("review:      ")
          .append(r.approvals())
          .append(" approval(s) from ")
          .append(String.join(r.allGroups() ? " and " : " or ", r.reviewerGroups()))
          .append(r.requireJustification() ? ", justification required" : "")
          .append(", expires after ")
          .append(Durations.format(r.expiresAfter()))
          .append('\n');
    }
    if (d.effect() != Effect.DENY) {
      Obligations o = d.obligations();
      b.append("obligations: masking=")
          .append(o.maskingProfile())
          .append(" read_only=")
          .append(o.readOnly())
          .append(" max_rows=")
          .append(o.maxRows() == 0 ? "unlimited" : String.valueOf(o.maxRows()))
          .append(" max_session=")
          .append(Durations.format(o.maxSessionDuration()))
          .append(" recording=")
          .append(o.recording())
          .append(o.upstreamRole() == null ? "" : " upstream_role=" + o.upstreamRole())
          .append('\n');
    }
    b.append("explanation:\n");
    int i = 1;
    for (String line : d.explanation()) {
      b.append("  ").append(i++).append(". ").append(line).append('\n');
    }
    return b.toString();
  }

  /** JSON-ready rendering (maps, lists, strings, numbers, booleans) for the REST API. */
  public static Map<String, Object> toMap(Decision d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("effect", effect(d.effect()));
    m.put("rule", d.rule());
    m.put("reason", d.reason());
    if (d.review() != null) {
      ReviewRequirement r = d.review();
      Map<String, Object> rm = new LinkedHashMap<>();
      rm.put("groups", r.reviewerGroups());
      rm.put("approvals", r.approvals());
      rm.put("all_groups", r.allGroups());
      rm.put("require_justification", r.requireJustification());
      rm.put("expires_after_seconds", r.expiresAfter().toSeconds());
      m.put("review", rm);
    }
    Obligations o = d.obligations();
    Map<String, Object> om = new LinkedHashMap<>();
    om.put("masking", o.maskingProfile());
    om.put("read_only", o.readOnly());
    om.put("max_rows", o.maxRows());
    om.put(
        "max_session_seconds",
        o.maxSessionDuration() == null ? null : o.maxSessionDuration().toSeconds());
    om.put("recording", o.recording());
    om.put("upstream_role", o.upstreamRole());
    m.put("obligations", om);
    m.put("explanation", d.explanation());
    return m;
  }

  static String effect(Effect e) {
    return e.name().toLowerCase(Locale.ROOT);
  }
}
