package dev.gatehouse.approval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import dev.gatehouse.config.GatehouseConfig.ApprovalsConfig;
import dev.gatehouse.config.GatehouseConfig.WebhookConfig;
import dev.gatehouse.gate.Redactor;
import dev.gatehouse.policy.DisplayText;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells reviewers that a review is waiting, through the webhooks of {@code approvals.webhooks}:
 * {@code json} (a generic JSON document) or {@code slack} (an incoming-webhook payload with {@code
 * text} and {@code blocks}).
 *
 * <p>Sending is asynchronous (a virtual thread per review) and retried with exponential backoff (1
 * s, 2 s, 4 s, 8 s: five attempts). A webhook that still fails is recorded in the audit log as
 * {@code review.notification_failed} and shows in the review's notification status. Notification is
 * a convenience, not a guarantee: a review is valid and can be approved whether or not anyone was
 * notified.
 *
 * <p>Webhook URLs often embed a secret (Slack's do), so only their host appears in logs, audit
 * events and statuses. The statement leaves the gateway here, so it is masked with the review's
 * masking profile first.
 */
public final class ReviewNotifier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReviewNotifier.class);
  private static final List<Duration> BACKOFF =
      List.of(
          Duration.ofSeconds(1),
          Duration.ofSeconds(2),
          Duration.ofSeconds(4),
          Duration.ofSeconds(8));

  /** Slack rejects a section text over 3000 characters; keep well under. */
  private static final int SLACK_TEXT_LIMIT = 2800;

  private final List<WebhookConfig> hooks;
  private final String publicUrl;
  private final AuditLog audit;
  private final Redactor redactor;
  private final List<Duration> backoff;
  private final HttpClient http;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final ObjectMapper json = new ObjectMapper();

  /** Webhooks and the public URL from configuration; statements masked with {@code redactor}. */
  public ReviewNotifier(ApprovalsConfig config, AuditLog audit, Redactor redactor) {
    this(config.webhooks(), config.publicUrl(), audit, redactor, BACKOFF);
  }

  ReviewNotifier(
      List<WebhookConfig> hooks,
      String publicUrl,
      AuditLog audit,
      Redactor redactor,
      List<Duration> backoff) {
    this.hooks = List.copyOf(hooks == null ? List.of() : hooks);
    for (WebhookConfig h : this.hooks) {
      if (!h.format().equals("json") && !h.format().equals("slack")) {
        throw new IllegalArgumentException(
            "approvals.webhooks format: " + h.format() + " (expected: json or slack)");
      }
    }
    this.publicUrl = publicUrl == null || publicUrl.isBlank() ? null : stripSlash(publicUrl);
    this.audit = audit;
    this.redactor = redactor == null ? Redactor.NONE : redactor;
    this.backoff = List.copyOf(backoff);
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** A notifier without webhooks (status {@code none}). */
  public static ReviewNotifier none(AuditLog audit) {
    return new ReviewNotifier(List.of(), null, audit, Redactor.NONE, BACKOFF);
  }

  boolean enabled() {
    return !hooks.isEmpty();
  }

  /** The redactor statements are masked with: also the approval service's, for what it stores. */
  Redactor redactor() {
    return redactor;
  }

  /** The link to a review in the web UI, or null without {@code approvals.public_url}. */
  String link(String reviewId) {
    return publicUrl == null ? null : publicUrl + "/reviews/" + reviewId;
  }

  /**
   * Sends to every webhook in the background; the future completes with the final status ({@code
   * sent} or {@code failed: …}) and never completes exceptionally.
   */
  CompletableFuture<String> send(ReviewView review, String maskingProfile) {
    if (hooks.isEmpty()) {
      return CompletableFuture.completedFuture("none");
    }
    return CompletableFuture.supplyAsync(() -> deliverAll(review, maskingProfile), executor);
  }

  private String deliverAll(ReviewView review, String profile) {
    List<String> failures = new ArrayList<>();
    for (WebhookConfig h : hooks) {
      String error = deliver(h, review, profile);
      if (error != null) {
        failures.add(hostOf(h.url()) + " (" + h.format() + "): " + error);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("review_id", review.id());
        data.put("webhook", hostOf(h.url()));
        data.put("format", h.format());
        data.put("attempts", backoff.size() + 1);
        data.put("error", error);
        try {
          audit.append(
              new AuditEvent(
                  "review.notification_failed",
                  "system",
                  review.sessionId(),
                  review.connection(),
                  data));
        } catch (RuntimeException e) {
          log.error("cannot audit failed notification for review {}", review.id(), e);
        }
      }
    }
    if (failures.isEmpty()) {
      return "sent";
    }
    return "failed: " + String.join("; ", failures);
  }

  /** Returns null on success, else the last error. */
  private String deliver(WebhookConfig h, ReviewView review, String profile) {
    byte[] body;
    try {
      body =
          json.writeValueAsBytes(
              h.format().equals("slack") ? slack(review, profile) : generic(review, profile));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return "cannot encode payload: " + e.getOriginalMessage();
    }
    String error = null;
    for (int attempt = 0; attempt <= backoff.size(); attempt++) {
      if (attempt > 0) {
        try {
          Thread.sleep(backoff.get(attempt - 1));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return "interrupted (gateway shutting down) after " + attempt + " attempts";
        }
      }
      try {
        HttpResponse<Void> r =
            http.send(
                HttpRequest.newBuilder(URI.create(h.url()))
                    .timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() / 100 == 2) {
          return null;
        }
        error = "HTTP " + r.statusCode();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted (gateway shutting down)";
      } catch (Exception e) {
        error =
            e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      }
      log.warn(
          "review {}: webhook {} attempt {} failed: {}",
          review.id(),
          hostOf(h.url()),
          attempt + 1,
          error);
    }
    return error + " after " + (backoff.size() + 1) + " attempts";
  }

  String approveCommand(String id) {
    return "gatehouse reviews approve " + id + " --reason \"…\"";
  }

  String denyCommand(String id) {
    return "gatehouse reviews deny " + id + " --reason \"…\"";
  }

  ObjectNode generic(ReviewView r, String profile) {
    ObjectNode n = json.createObjectNode();
    n.put("type", "review.requested");
    n.put("review_id", r.id());
    n.put("kind", r.kind());
    n.put("requester", r.subject());
    n.put("connection", r.connection());
    n.put("action_kind", r.actionKind());
    n.put("statement", redactor.redactStored(profile, r.statement()));
    n.put("rule", r.rule());
    n.put("reason", r.holdReason());
    ArrayNode groups = n.putArray("reviewers");
    r.reviewerGroups().forEach(groups::add);
    n.put("approvals_required", r.approvalsRequired());
    n.put("all_groups", r.allGroups());
    n.put("justification", r.justification());
    n.put("expires_at", r.expiresAt().toString());
    n.put("approve_command", approveCommand(r.id()));
    n.put("deny_command", denyCommand(r.id()));
    if (link(r.id()) != null) {
      n.put("url", link(r.id()));
    }
    return n;
  }

  ObjectNode slack(ReviewView r, String profile) {
    String statement = redactor.redactStored(profile, r.statement());
    if (statement.length() > SLACK_TEXT_LIMIT) {
      statement = statement.substring(0, SLACK_TEXT_LIMIT) + "… (truncated)";
    }
    String needs = Tally.describe(r.reviewerGroups(), r.approvalsRequired(), r.allGroups());
    ObjectNode n = json.createObjectNode();
    String what =
        r.kind().equals("grant")
            ? " asks for role " + r.grantRole() + " on " + r.connection()
            : " asks to run " + r.actionKind() + " on " + r.connection();
    n.put("text", "Review " + r.id() + ": " + r.subject() + what + " (needs " + needs + ")");
    ArrayNode blocks = n.putArray("blocks");
    ObjectNode header = blocks.addObject().put("type", "header");
    header
        .putObject("text")
        .put("type", "plain_text")
        .put("text", "Review " + r.id() + " is waiting");
    ObjectNode fields = blocks.addObject().put("type", "section");
    ArrayNode f = fields.putArray("fields");
    f.addObject().put("type", "mrkdwn").put("text", "*Requester*\n" + esc(r.subject()));
    f.addObject().put("type", "mrkdwn").put("text", "*Connection*\n" + esc(r.connection()));
    f.addObject().put("type", "mrkdwn").put("text", "*Rule*\n" + esc(r.rule()));
    f.addObject().put("type", "mrkdwn").put("text", "*Needs*\n" + esc(needs));
    if (r.justification() != null) {
      f.addObject().put("type", "mrkdwn").put("text", "*Justification*\n" + esc(r.justification()));
    }
    f.addObject().put("type", "mrkdwn").put("text", "*Expires*\n" + r.expiresAt());
    blocks
        .addObject()
        .put("type", "section")
        .putObject("text")
        .put("type", "mrkdwn")
        .put("text", "```" + esc(statement) + "```");
    String how = "Approve with `" + approveCommand(r.id()) + "`";
    if (link(r.id()) != null) {
      how += " or <" + link(r.id()) + "|open it in Gatehouse>";
    }
    blocks
        .addObject()
        .put("type", "section")
        .putObject("text")
        .put("type", "mrkdwn")
        .put("text", how);
    return n;
  }

  /**
   * Slack's mrkdwn needs only &, < and > escaped; control and bidi characters are made visible
   * ({@link DisplayText}) so that the message shows the statement the reviewer will approve.
   */
  private static String esc(String s) {
    return DisplayText.lines(s, "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  static String hostOf(String url) {
    try {
      URI u = URI.create(url);
      return u.getHost() == null
          ? "(invalid url)"
          : u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : "");
    } catch (IllegalArgumentException e) {
      return "(invalid url)";
    }
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
