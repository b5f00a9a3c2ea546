package dev.gatehouse.audit;

import static dev.gatehouse.audit.AuditTestSupport.NO_SCHEDULE;
import static dev.gatehouse.audit.AuditTestSupport.count;
import static dev.gatehouse.audit.AuditTestSupport.newMasterKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.Obligations;
import dev.gatehouse.store.Database;
import dev.gatehouse.store.StoreException;
import dev.gatehouse.testing.MovingClock;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class StoreSessionRecorderTest {
  static final TestStores stores = new TestStores();
  static final ObjectMapper JSON = new ObjectMapper();
  static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    stores.closeOpened();
  }

  @AfterAll
  static void stop() {
    stores.close();
  }

  private ChainedAuditLog audit(Database db, MovingClock clock) {
    ChainedAuditLog log = new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE, clock);
    closeables.add(log);
    return log;
  }

  static Action select(String sql) {
    return new Action(
        ActionKind.SQL,
        sql,
        Map.of(Action.Attr.SQL_KIND, "select", Action.Attr.SQL_TABLES_READ, List.of("users")));
  }

  static Decision allow(String rule) {
    return new Decision(Effect.ALLOW, rule, "", null, Obligations.NONE, List.of());
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void recordedSessionReadsBackWithDecisionsAndOutcomes(TestStores.Kind kind) throws Exception {
    Database db = stores.open(kind);
    MovingClock clock = new MovingClock(T0);
    StoreSessionRecorder rec = new StoreSessionRecorder(db, audit(db, clock), clock);
    SessionQueries q = new SessionQueries(db);

    rec.sessionStarted("s1", "alice", "prod", "postgres", "10.0.0.7", "{\"db\":\"app\"}");
    clock.advance(Duration.ofMillis(1500));
    long a1 =
        rec.actionDecided(
            "s1", select("SELECT * FROM users"), "SELECT * FROM users", allow("read-users"), null);
    rec.actionCompleted(a1, "ok", "SELECT 3", 3, Duration.ofMillis(12));
    clock.advance(Duration.ofSeconds(2));
    long a2 =
        rec.actionDecided(
            "s1",
            new Action(ActionKind.SQL, "DROP TABLE users", Map.of(Action.Attr.SQL_KIND, "drop")),
            "DROP TABLE users",
            Decision.deny("no-ddl", "DDL is not allowed on prod", List.of()),
            null);
    long a3 =
        rec.actionDecided(
            "s1",
            new Action(
                ActionKind.SQL,
                "SELECT * FROM users WHERE id = $1 AND name = $2 AND note = $3",
                Map.of(
                    Action.Attr.SQL_KIND,
                    "select",
                    "parameters",
                    java.util.Arrays.asList("42", null, "it's"))),
            "SELECT * FROM users WHERE id = $1 AND name = $2 AND note = $3",
            allow("read-users"),
            null);
    rec.sessionEnded("s1", "closed");
    rec.sessionStarted("s2", "bob", "staging", "postgres", "10.0.0.8", "");

    assertThat(a3).isGreaterThan(a2);
    assertThat(a2).isGreaterThan(a1);
    SessionDetail d = q.show("s1").orElseThrow();
    assertThat(d.session().subject()).isEqualTo("alice");
    assertThat(d.session().startedAt()).isEqualTo(T0);
    assertThat(d.session().endReason()).isEqualTo("closed");
    assertThat(d.session().actions()).isEqualTo(3);
    assertThat(d.session().denied()).isEqualTo(1);
    assertThat(d.details()).isEqualTo("{\"db\":\"app\"}");
    assertThat(d.actions()).extracting(SessionAction::id).containsExactly(a1, a2, a3);
    SessionAction first = d.actions().get(0);
    assertThat(first.effect()).isEqualTo("allow");
    assertThat(first.rule()).isEqualTo("read-users");
    assertThat(first.status()).isEqualTo("ok");
    assertThat(first.rows()).isEqualTo(3);
    assertThat(first.duration()).isEqualTo(Duration.ofMillis(12));
    assertThat(first.attributes()).containsEntry("tables_read", List.of("users"));
    SessionAction second = d.actions().get(1);
    assertThat(second.effect()).isEqualTo("deny");
    assertThat(second.reason()).isEqualTo("DDL is not allowed on prod");
    assertThat(second.status()).isNull();

    assertThat(q.list(null, null, 10)).extracting(SessionSummary::id).containsExactly("s2", "s1");
    assertThat(q.list("alice", null, 10)).extracting(SessionSummary::id).containsExactly("s1");
    assertThat(q.list(null, "staging", 10)).extracting(SessionSummary::id).containsExactly("s2");
    assertThat(q.list("alice", "staging", 10)).isEmpty();
    assertThat(q.show("nope")).isEmpty();

    StringWriter timeline = new StringWriter();
    q.writeTimeline("s1", timeline);
    assertThat(timeline.toString())
        .contains("alice on prod (postgres from 10.0.0.7)")
        .contains("+    1.500s")
        .contains("SELECT * FROM users")
        .contains("-> ok: SELECT 3 (3 rows, 12 ms)")
        .contains("DENY")
        .contains("reason: DDL is not allowed on prod")
        .contains("params: $1='42', $2=NULL, $3='it''s'");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void everyDecidedActionHasADecisionAuditRecord(TestStores.Kind kind) throws Exception {
    Database db = stores.open(kind);
    MovingClock clock = new MovingClock(T0);
    ChainedAuditLog audit = audit(db, clock);
    StoreSessionRecorder rec = new StoreSessionRecorder(db, audit, clock);
    rec.sessionStarted("s1", "alice", "prod", "postgres", "10.0.0.7", "");
    long id = rec.actionDecided("s1", select("SELECT 1"), "SELECT 1", allow("r1"), "rev-9");

    StringWriter out = new StringWriter();
    new AuditExporter(db).export(out, null, 0);
    List<String> lines = out.toString().lines().toList();
    assertThat(lines).hasSize(1);
    JsonNode e = JSON.readTree(lines.get(0));
    assertThat(e.get("type").asText()).isEqualTo("decision");
    assertThat(e.get("actor").asText()).isEqualTo("alice");
    assertThat(e.get("session_id").asText()).isEqualTo("s1");
    assertThat(e.get("connection").asText()).isEqualTo("prod");
    JsonNode data = e.get("data");
    assertThat(data.get("action_id").asLong()).isEqualTo(id);
    assertThat(data.get("kind").asText()).isEqualTo("sql");
    assertThat(data.get("statement").asText()).isEqualTo("select");
    assertThat(data.get("text").asText()).isEqualTo("SELECT 1");
    assertThat(data.get("effect").asText()).isEqualTo("allow");
    assertThat(data.get("rule").asText()).isEqualTo("r1");
    assertThat(data.get("review_id").asText()).isEqualTo("rev-9");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void concurrentSessionsEachGetTheirActionsAndOneValidChain(TestStores.Kind kind)
      throws Exception {
    Database db = stores.open(kind);
    MovingClock clock = new MovingClock(T0);
    ChainedAuditLog audit = audit(db, clock);
    StoreSessionRecorder rec = new StoreSessionRecorder(db, audit, clock);
    int sessions = 8;
    int perSession = 40;
    try (ExecutorService pool = Executors.newFixedThreadPool(sessions)) {
      List<Future<?>> done = new ArrayList<>();
      for (int s = 0; s < sessions; s++) {
        String sid = "s" + s;
        done.add(
            pool.submit(
                () -> {
                  rec.sessionStarted(sid, "u" + sid, "prod", "postgres", "", "");
                  for (int i = 0; i < perSession; i++) {
                    long id =
                        rec.actionDecided(
                            sid, select("SELECT " + i), "SELECT " + i, allow("r"), null);
                    rec.actionCompleted(id, "ok", "SELECT 1", 1, Duration.ofMillis(1));
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    }
    SessionQueries q = new SessionQueries(db, audit::awaitStored);
    for (int s = 0; s < sessions; s++) {
      List<SessionAction> actions = q.show("s" + s).orElseThrow().actions();
      assertThat(actions).hasSize(perSession);
      assertThat(actions).extracting(SessionAction::raw).startsWith("SELECT 0", "SELECT 1");
      assertThat(actions).allMatch(a -> "ok".equals(a.status()));
    }
    assertThat(count(db, "SELECT COUNT(*) FROM audit_log WHERE type = 'decision'"))
        .isEqualTo(sessions * perSession);
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void recorderWorksWithAnyAuditLog(TestStores.Kind kind) {
    Database db = stores.open(kind);
    List<AuditEvent> events = new ArrayList<>();
    StoreSessionRecorder rec =
        new StoreSessionRecorder(
            db,
            e -> {
              events.add(e);
              return events.size();
            });
    rec.sessionStarted("s1", "alice", "prod", "postgres", "", "");
    long id = rec.actionDecided("s1", select("SELECT 1"), "SELECT 1", allow("r"), null);
    assertThat(events)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.type()).isEqualTo("decision");
              assertThat(e.data()).containsEntry("action_id", id);
            });
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void failingAuditLogFailsTheDecision(TestStores.Kind kind) {
    Database db = stores.open(kind);
    StoreSessionRecorder rec =
        new StoreSessionRecorder(
            db,
            e -> {
              throw new StoreException("audit down");
            });
    rec.sessionStarted("s1", "alice", "prod", "postgres", "", "");
    assertThatThrownBy(
            () -> rec.actionDecided("s1", select("SELECT 1"), "SELECT 1", allow("r"), null))
        .isInstanceOf(StoreException.class);
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void unknownSessionAndUnknownActionAreRefused(TestStores.Kind kind) {
    Database db = stores.open(kind);
    StoreSessionRecorder rec = new StoreSessionRecorder(db, audit(db, new MovingClock(T0)));
    assertThatThrownBy(
            () -> rec.actionDecided("ghost", select("SELECT 1"), "SELECT 1", allow("r"), null))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("session ghost was not started");
    // Outcomes are written after the fact, without making the client wait: an unknown action is
    // reported on the writer thread and counted, not thrown to the caller.
    rec.actionCompleted(424242, "ok", "", 0, Duration.ZERO);
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    while (rec.outcomeFailures() == 0 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(rec.outcomeFailures()).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void streamRecordingReplaysAsAsciicastJsonLines(TestStores.Kind kind) throws Exception {
    Database db = stores.open(kind);
    MovingClock clock = new MovingClock(T0);
    StoreSessionRecorder rec = new StoreSessionRecorder(db, audit(db, clock), clock);
    rec.sessionStarted("s1", "alice", "box", "ssh", "10.0.0.7", "");
    clock.advance(Duration.ofMillis(250));
    rec.streamChunk("s1", 'i', "ls\r".getBytes(StandardCharsets.UTF_8));
    byte[] euro = "price: 5€\r\n".getBytes(StandardCharsets.UTF_8);
    int cut = euro.length - 3; // inside the three bytes of €
    clock.advance(Duration.ofMillis(250));
    rec.streamChunk("s1", 'o', Arrays.copyOfRange(euro, 0, cut));
    clock.advance(Duration.ofMillis(500));
    rec.streamChunk("s1", 'o', Arrays.copyOfRange(euro, cut, euro.length));
    rec.streamChunk("s1", 'e', "oops\n".getBytes(StandardCharsets.UTF_8));

    StringWriter out = new StringWriter();
    new SessionQueries(db).writeAsciicast("s1", out);
    List<JsonNode> lines = new ArrayList<>();
    for (String l : out.toString().split("\n")) {
      lines.add(JSON.readTree(l));
    }
    JsonNode header = lines.get(0);
    assertThat(header.get("version").asInt()).isEqualTo(2);
    assertThat(header.get("width").asInt()).isPositive();
    assertThat(header.get("height").asInt()).isPositive();
    assertThat(header.get("timestamp").asLong()).isEqualTo(T0.getEpochSecond());
    assertThat(lines).hasSize(5);
    assertThat(lines.get(1).get(0).asDouble()).isEqualTo(0.25);
    assertThat(lines.get(1).get(1).asText()).isEqualTo("i");
    assertThat(lines.get(1).get(2).asText()).isEqualTo("ls\r");
    String output = lines.get(2).get(2).asText() + lines.get(3).get(2).asText();
    assertThat(output).isEqualTo("price: 5€\r\n");
    assertThat(lines.get(3).get(0).asDouble()).isEqualTo(1.0);
    assertThat(lines.get(4).get(1).asText()).isEqualTo("o");
    assertThat(lines.get(4).get(2).asText()).isEqualTo("oops\n");
  }
}
