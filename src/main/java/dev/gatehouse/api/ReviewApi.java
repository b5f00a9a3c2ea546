package dev.gatehouse.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.approval.Durations;
import dev.gatehouse.approval.GrantView;
import dev.gatehouse.approval.ReviewException;
import dev.gatehouse.approval.ReviewService;
import dev.gatehouse.approval.ReviewView;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.store.StoreException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Reviews and time-boxed access grants over REST.
 *
 * <pre>
 *   GET  /api/v1/reviews?state=pending&amp;limit=50   reviews you can see (requester, reviewer, auditor)
 *   GET  /api/v1/reviews/{id}                      one review with its votes
 *   POST /api/v1/reviews/{id}/approve  {reason}    vote as the caller
 *   POST /api/v1/reviews/{id}/deny     {reason}
 *   POST /api/v1/access/requests  {connection, role, duration: "30m", reason}
 *   GET  /api/v1/access/grants?all=true            your grants (all: auditors and admins)
 * </pre>
 *
 * <p>Reviewers vote with their own token; eligibility is membership in one of the review's reviewer
 * groups, checked by {@link ReviewService}, never by API role: an admin who is not in a reviewer
 * group cannot approve, and nobody can approve their own request.
 */
public final class ReviewApi implements ApiServer.Endpoints {
  private static final int DEFAULT_LIMIT = 50;

  private final ReviewService reviews;

  public ReviewApi(ReviewService reviews) {
    this.reviews = reviews;
  }

  @Override
  public void register(ApiServer api) {
    api.route("GET", "/api/v1/reviews", ApiServer.Access.USER, this::list);
    api.route("GET", "/api/v1/reviews/{id}", ApiServer.Access.USER, this::show);
    api.route("POST", "/api/v1/reviews/{id}/approve", ApiServer.Access.USER, r -> vote(r, true));
    api.route("POST", "/api/v1/reviews/{id}/deny", ApiServer.Access.USER, r -> vote(r, false));
    api.route(
        "POST",
        "/api/v1/access/requests",
        ApiServer.Access.USER,
        r -> {
          Map<String, Object> body = request(r);
          return new ApiServer.Response(
              201, "application/json", api.json().writeValueAsBytes(body));
        });
    api.route("GET", "/api/v1/access/grants", ApiServer.Access.USER, this::grants);
  }

  private Object list(ApiRequest r) {
    Principal p = r.principal();
    String state = r.query().getOrDefault("state", "pending");
    int limit = limit(r);
    return call(
        () ->
            reviews.list(state, limit).stream()
                .filter(v -> visible(p, v))
                .map(ReviewApi::json)
                .toList());
  }

  private Object show(ApiRequest r) {
    String id = r.path("id");
    ReviewView v = call(() -> reviews.show(id)).orElse(null);
    if (v == null || !visible(r.principal(), v)) {
      throw ApiException.notFound("review " + id + " does not exist or is not visible to you");
    }
    return json(v);
  }

  private Object vote(ApiRequest r, boolean approve) throws Exception {
    String id = r.path("id");
    String reason = text(r.json(), "reason");
    Principal p = r.principal();
    return json(call(() -> approve ? reviews.approve(id, p, reason) : reviews.deny(id, p, reason)));
  }

  private Map<String, Object> request(ApiRequest r) throws Exception {
    JsonNode body = r.json();
    String connection = required(body, "connection");
    String role = required(body, "role");
    Duration duration;
    try {
      duration = Durations.parse(required(body, "duration"));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    String reason = text(body, "reason");
    Principal p = r.principal();
    return json(call(() -> reviews.requestAccess(p, connection, role, duration, reason)));
  }

  private Object grants(ApiRequest r) {
    Principal p = r.principal();
    boolean all = "true".equals(r.query().get("all"));
    if (all && !Role.of(p).atLeast(Role.AUDITOR)) {
      throw ApiException.forbidden(
          "\"" + p.subject() + "\" needs the auditor role to list everyone's grants");
    }
    int limit = limit(r);
    return call(
        () ->
            reviews.grants(all ? null : p.subject(), limit).stream().map(ReviewApi::json).toList());
  }

  /** Requesters see their own reviews, reviewers those they may vote on, auditors all. */
  private static boolean visible(Principal p, ReviewView v) {
    if (Role.of(p).atLeast(Role.AUDITOR) || v.subject().equals(p.subject())) {
      return true;
    }
    return v.reviewerGroups().stream().anyMatch(p.groups()::contains);
  }

  /** Runs a service call, turning its refusals into problem+json. */
  private static <T> T call(Supplier<T> work) {
    try {
      return work.get();
    } catch (ReviewException e) {
      throw switch (e.kind()) {
        case NOT_FOUND -> ApiException.notFound(e.getMessage());
        case FORBIDDEN -> ApiException.forbidden(e.getMessage());
        case CONFLICT -> new ApiException(409, "conflict", e.getMessage());
        case INVALID -> ApiException.badRequest(e.getMessage());
      };
    } catch (StoreException e) {
      throw ApiException.unavailable("the review store is unavailable; try again later");
    }
  }

  private static int limit(ApiRequest r) {
    String s = r.query().get("limit");
    if (s == null) {
      return DEFAULT_LIMIT;
    }
    try {
      int n = Integer.parseInt(s);
      if (n >= 1 && n <= 500) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw ApiException.badRequest("limit: " + s + " (expected: a number from 1 to 500)");
  }

  private static String required(JsonNode body, String field) {
    String v = text(body, field);
    if (v == null) {
      throw ApiException.badRequest(field + ": missing (expected a non-empty string)");
    }
    return v;
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.get(field);
    return n == null || n.isNull() || n.asText().isBlank() ? null : n.asText();
  }

  static Map<String, Object> json(ReviewView v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", v.id());
    m.put("kind", v.kind());
    m.put("state", v.state());
    m.put("requester", v.subject());
    m.put("connection", v.connection());
    m.put("action_kind", v.actionKind());
    m.put("statement", v.statement());
    m.put("rule", v.rule());
    m.put("session_id", v.sessionId());
    m.put("hold_reason", v.holdReason());
    m.put("reviewers", v.reviewerGroups());
    m.put("approvals_required", v.approvalsRequired());
    m.put("approvals", v.approvals());
    m.put("all_groups", v.allGroups());
    m.put("justification", v.justification());
    m.put(
        "votes",
        v.votes().stream()
            .map(
                x -> {
                  Map<String, Object> vote = new LinkedHashMap<>();
                  vote.put("reviewer", x.reviewer());
                  vote.put("vote", x.verdict());
                  vote.put("reason", x.reason());
                  vote.put("at", time(x.at()));
                  return vote;
                })
            .toList());
    m.put("created_at", time(v.createdAt()));
    m.put("expires_at", time(v.expiresAt()));
    m.put("decided_at", time(v.decidedAt()));
    m.put("decided_by", v.decidedBy());
    m.put("decision_reason", v.decisionReason());
    m.put("consumed_at", time(v.consumedAt()));
    m.put("consumed_session", v.consumedSession());
    m.put("notification_status", v.notificationStatus());
    if (v.grantRole() != null) {
      m.put("grant_role", v.grantRole());
      m.put("grant_duration", Durations.format(v.grantDuration()));
    }
    return m;
  }

  static Map<String, Object> json(GrantView g) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("review_id", g.reviewId());
    m.put("state", g.state());
    m.put("subject", g.subject());
    m.put("connection", g.connection());
    m.put("role", g.role());
    m.put("duration", Durations.format(g.duration()));
    m.put("reason", g.reason());
    m.put("requested_at", time(g.requestedAt()));
    m.put("starts_at", time(g.startsAt()));
    m.put("ends_at", time(g.endsAt()));
    return m;
  }

  private static String time(Instant t) {
    return t == null ? null : t.toString();
  }
}
