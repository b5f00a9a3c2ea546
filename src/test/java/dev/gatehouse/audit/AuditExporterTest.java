package dev.gatehouse.audit;

import static dev.gatehouse.audit.AuditTestSupport.NO_SCHEDULE;
import static dev.gatehouse.audit.AuditTestSupport.event;
import static dev.gatehouse.audit.AuditTestSupport.newMasterKey;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.config.GatehouseConfig.AuditSinkConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.credential.MasterKey;
import dev.gatehouse.store.Database;
import dev.gatehouse.testing.MovingClock;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AuditExporterTest {
  static final TestStores stores = new TestStores();
  static final ObjectMapper JSON = new ObjectMapper();
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @AfterEach
  void closeStores() {
    stores.closeOpened();
  }

  @AfterAll
  static void stop() {
    stores.close();
  }

  static final MasterKey KEY = newMasterKey();

  /** Five records one hour apart starting at T0. */
  private static Database logWithFiveRecords(TestStores.Kind kind) {
    Database db = stores.open(kind);
    MovingClock clock = new MovingClock(T0);
    try (ChainedAuditLog log = new ChainedAuditLog(db, KEY, NO_SCHEDULE, clock)) {
      for (int i = 1; i <= 5; i++) {
        log.append(event(i));
        clock.advance(Duration.ofHours(1));
      }
    }
    return db;
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void exportWritesJsonLinesFilteredBySinceAndSeq(TestStores.Kind kind) throws Exception {
    Database db = logWithFiveRecords(kind);
    AuditExporter exporter = new AuditExporter(db);

    StringWriter all = new StringWriter();
    assertThat(exporter.export(all, null, 0)).isEqualTo(5);
    List<String> lines = all.toString().lines().toList();
    assertThat(lines).hasSize(5);
    JsonNode first = JSON.readTree(lines.get(0));
    assertThat(first.get("seq").asLong()).isEqualTo(1);
    assertThat(first.get("at").asText()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(first.get("type").asText()).isEqualTo("test.event");
    assertThat(first.get("data").get("note").asText()).isEqualTo("n1");
    assertThat(first.get("hash").asText()).hasSize(64);
    assertThat(JSON.readTree(lines.get(1)).get("prev_hash").asText())
        .isEqualTo(first.get("hash").asText());

    StringWriter since = new StringWriter();
    assertThat(exporter.export(since, T0.plus(Duration.ofHours(3)), 0)).isEqualTo(2);
    assertThat(since.toString().lines().map(l -> seq(l)).toList()).containsExactly(4L, 5L);

    StringWriter after = new StringWriter();
    assertThat(exporter.export(after, null, 3)).isEqualTo(2);
    assertThat(after.toString().lines().map(l -> seq(l)).toList()).containsExactly(4L, 5L);
  }

  private static long seq(String line) {
    try {
      return JSON.readTree(line).get("seq").asLong();
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + line, e);
    }
  }

  @Test
  void fileSinkAppendsEveryRecordOnceAndResumesFromItsOffset(@TempDir Path dir) throws Exception {
    Database db = logWithFiveRecords(TestStores.Kind.H2);
    Path out = dir.resolve("audit/export.jsonl");
    AuditSink sink = AuditSinks.sink(new AuditSinkConfig("file", out, null, null), Duration.ZERO);

    try (AuditSinks sinks = new AuditSinks(db, List.of(sink), Duration.ofMillis(20))) {
      awaitLines(out, 5);
    }
    try (ChainedAuditLog log = new ChainedAuditLog(db, KEY, NO_SCHEDULE)) {
      log.append(event(6));
    }
    // A restart: a new tailer picks up from the stored offset.
    AuditSink again = AuditSinks.sink(new AuditSinkConfig("file", out, null, null), Duration.ZERO);
    try (AuditSinks sinks = new AuditSinks(db, List.of(again), Duration.ofMillis(20))) {
      awaitLines(out, 6);
      assertThat(again.id()).isEqualTo(sink.id());
    }
    List<String> lines = Files.readAllLines(out);
    assertThat(lines.stream().map(AuditExporterTest::seq).toList())
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
  }

  @Test
  void webhookSinkPostsBatchesWithAuthorizationAndRetriesAfterA500() throws Exception {
    Database db = logWithFiveRecords(TestStores.Kind.H2);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    AtomicInteger calls = new AtomicInteger();
    List<String> bodies = new CopyOnWriteArrayList<>();
    List<String> auth = new CopyOnWriteArrayList<>();
    server.createContext(
        "/hook",
        ex -> {
          String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          auth.add(ex.getRequestHeaders().getFirst("Authorization"));
          int status = calls.incrementAndGet() == 1 ? 500 : 204;
          if (status == 204) {
            bodies.add(body);
          }
          ex.sendResponseHeaders(status, -1);
          ex.close();
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook?token=q";
      AuditSink sink =
          AuditSinks.sink(
              new AuditSinkConfig("webhook", null, url, new Secret("Bearer hook-token", "test")),
              Duration.ofMillis(10));
      assertThat(sink.id()).doesNotContain("token=q");
      try (AuditSinks sinks = new AuditSinks(db, List.of(sink), Duration.ofMillis(20))) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (sinks.offset(sink.id()) < 5 && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(sinks.offset(sink.id())).isEqualTo(5);
      }
      assertThat(calls.get()).isGreaterThanOrEqualTo(2);
      assertThat(auth).allMatch("Bearer hook-token"::equals);
      JsonNode batch = JSON.readTree(bodies.get(0));
      assertThat(batch.isArray()).isTrue();
      assertThat(batch).hasSize(5);
      assertThat(batch.get(4).get("seq").asLong()).isEqualTo(5);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void failingSinkNeitherBlocksAppendsNorMovesItsOffset() throws Exception {
    Database db = logWithFiveRecords(TestStores.Kind.H2);
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    AuditSink sink =
        AuditSinks.sink(
            new AuditSinkConfig("webhook", null, "http://127.0.0.1:" + closedPort + "/", null),
            Duration.ofMillis(10));
    try (AuditSinks sinks = new AuditSinks(db, List.of(sink), Duration.ofMillis(20));
        ChainedAuditLog log = new ChainedAuditLog(db, KEY, NO_SCHEDULE)) {
      for (int i = 6; i <= 25; i++) {
        assertThat(log.append(event(i))).isEqualTo(i);
      }
      Thread.sleep(300);
      assertThat(sinks.offset(sink.id())).isZero();
    }
  }

  private static void awaitLines(Path file, int n) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(file) && Files.readAllLines(file).size() >= n) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("file sink did not write " + n + " lines to " + file);
  }
}
