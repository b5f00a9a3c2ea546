package dev.gatehouse.approval;

import static dev.gatehouse.approval.Kit.CONN;
import static dev.gatehouse.approval.Kit.authorizeAsync;
import static dev.gatehouse.approval.Kit.sql;
import static dev.gatehouse.approval.Kit.user;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.approval.Kit.Held;
import dev.gatehouse.approval.Kit.ListAudit;
import dev.gatehouse.approval.Kit.TestPolicy;
import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.config.GatehouseConfig.ApprovalsConfig;
import dev.gatehouse.config.GatehouseConfig.WebhookConfig;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.Redactor;
import dev.gatehouse.store.Database;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ReviewNotifierTest {
  static final List<Duration> FAST =
      List.of(
          Duration.ofMillis(10),
          Duration.ofMillis(20),
          Duration.ofMillis(40),
          Duration.ofMillis(80));

  final Map<String, List<JsonNode>> received = new ConcurrentHashMap<>();
  final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  final ListAudit audit = new ListAudit();
  final ObjectMapper json = new ObjectMapper();
  HttpServer http;
  String base;
  Database db;
  ReviewService svc;
  Gate gate;

  @BeforeEach
  void start() throws IOException {
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    endpoint("/json", n -> 200);
    endpoint("/slack", n -> n == 1 ? 500 : 200); // fails once, then works
    endpoint("/down", n -> 500);
    http.start();
    base = "http://127.0.0.1:" + http.getAddress().getPort();
  }

  interface Status {
    int of(int attempt);
  }

  void endpoint(String path, Status status) {
    http.createContext(
        path,
        ex -> {
          int n = hits.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
          received
              .computeIfAbsent(path, k -> new CopyOnWriteArrayList<>())
              .add(json.readTree(ex.getRequestBody()));
          ex.sendResponseHeaders(status.of(n), -1);
          ex.close();
        });
  }

  @AfterEach
  void stop() {
    if (gate != null) {
      gate.close();
    }
    if (svc != null) {
      svc.close();
    }
    if (db != null) {
      db.close();
    }
    http.stop(0);
  }

  String fileReview(List<WebhookConfig> hooks, Redactor redactor, String statement)
      throws Exception {
    ApprovalsConfig cfg =
        new ApprovalsConfig(
            Duration.ofMinutes(15), Duration.ofHours(1), "https://gatehouse.example/", hooks);
    ReviewNotifier notifier = new ReviewNotifier(hooks, cfg.publicUrl(), audit, redactor, FAST);
    db = Database.inMemory("notify-" + UUID.randomUUID());
    svc =
        new ReviewService(
            db,
            audit,
            cfg,
            Clock.systemUTC(),
            notifier,
            ReviewService.ADMINS_APPROVE_GRANTS,
            Kit.polling(50));
    gate = Kit.gate(new TestPolicy(), audit, svc, svc, Clock.systemUTC());
    Held held = new Held();
    authorizeAsync(
        gate.open(user("alice", "dev"), CONN, "postgres", "127.0.0.1"), sql(statement), held);
    String id = held.id.get(10, SECONDS);
    assertThat(held.messages.getFirst()).contains("https://gatehouse.example/reviews/" + id);
    return id;
  }

  String statusOf(String id) throws InterruptedException {
    long end = System.nanoTime() + SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      String s = svc.show(id).orElseThrow().notificationStatus();
      if (!s.equals("sending")) {
        return s;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("notification still sending after 10 s");
  }

  @Test
  void jsonWebhookGetsTheReviewAndHowToApproveIt() throws Exception {
    String id =
        fileReview(
            List.of(new WebhookConfig("json", base + "/json")), Redactor.NONE, "DROP TABLE t");

    assertThat(statusOf(id)).isEqualTo("sent");
    JsonNode body = received.get("/json").getFirst();
    assertThat(body.get("review_id").asText()).isEqualTo(id);
    assertThat(body.get("requester").asText()).isEqualTo("alice");
    assertThat(body.get("connection").asText()).isEqualTo(CONN);
    assertThat(body.get("statement").asText()).isEqualTo("DROP TABLE t");
    assertThat(body.get("rule").asText()).isEqualTo("ddl-review");
    assertThat(body.get("reviewers").get(0).asText()).isEqualTo("dba");
    assertThat(body.get("approve_command").asText()).contains("gatehouse reviews approve " + id);
    assertThat(body.get("url").asText()).isEqualTo("https://gatehouse.example/reviews/" + id);
  }

  @Test
  void slackWebhookIsRetriedAfterA500AndGetsTextAndBlocks() throws Exception {
    String id =
        fileReview(
            List.of(new WebhookConfig("slack", base + "/slack")), Redactor.NONE, "DROP TABLE <t>");

    assertThat(statusOf(id)).isEqualTo("sent");
    assertThat(hits.get("/slack").get()).isEqualTo(2);
    JsonNode body = received.get("/slack").getLast();
    assertThat(body.get("text").asText()).contains(id).contains("alice").contains(CONN);
    String blocks = body.get("blocks").toString();
    assertThat(body.get("blocks").isArray()).isTrue();
    assertThat(blocks)
        .contains("DROP TABLE &lt;t&gt;")
        .contains("<https://gatehouse.example/reviews/" + id + "|open it in Gatehouse>")
        .contains("gatehouse reviews approve " + id);
  }

  @Test
  void aWebhookThatKeepsFailingIsAuditedAndShownWithoutItsSecretPath() throws Exception {
    String id =
        fileReview(
            List.of(
                new WebhookConfig("json", base + "/down/T000/SECRET123"),
                new WebhookConfig("json", base + "/json")),
            Redactor.NONE,
            "DROP TABLE t");

    String status = statusOf(id);

    assertThat(status).startsWith("failed: ").contains("HTTP 500").contains("5 attempts");
    assertThat(status).doesNotContain("SECRET123");
    assertThat(hits.get("/down").get()).isEqualTo(5);
    assertThat(hits.get("/json").get()).isEqualTo(1);
    AuditEvent failed = audit.of("review.notification_failed").getFirst();
    assertThat(failed.data()).containsEntry("review_id", id).containsEntry("attempts", 5);
    assertThat(failed.data().toString()).doesNotContain("SECRET123");
  }

  @Test
  void statementsAreMaskedBeforeTheyLeaveTheGateway() throws Exception {
    Redactor redactor = (profile, text) -> text.replace("hunter2", "******");
    String id =
        fileReview(
            List.of(
                new WebhookConfig("json", base + "/json"),
                new WebhookConfig("slack", base + "/slack")),
            redactor,
            "ALTER USER bob PASSWORD 'hunter2'");

    statusOf(id);

    assertThat(received.get("/json").getFirst().toString())
        .contains("******")
        .doesNotContain("hunter2");
    assertThat(received.get("/slack").getLast().toString()).doesNotContain("hunter2");
    // Masked as it is filed: what the store and the API serve is what the webhooks were sent.
    assertThat(svc.show(id).orElseThrow().statement())
        .isEqualTo("ALTER USER bob PASSWORD '******'");
  }
}
