package dev.gatehouse.audit;

import static dev.gatehouse.audit.AuditTestSupport.count;
import static dev.gatehouse.audit.AuditTestSupport.newMasterKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.GatehouseConfig.AuditConfig;
import dev.gatehouse.credential.MasterKey;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.Obligations;
import dev.gatehouse.store.Database;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The local journal in front of the store: records confirmed to callers survive a crash before they
 * reach the store, a torn tail is dropped, damage elsewhere refuses the start.
 */
class AuditJournalTest {
  static final TestStores stores = new TestStores();
  static final AuditConfig FSYNC = new AuditConfig(Duration.ZERO, List.of(), AuditConfig.FSYNC);
  static final AuditConfig OS = new AuditConfig(Duration.ZERO, List.of(), AuditConfig.OS);

  @TempDir Path tmp;
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

  static Action select(String sql) {
    return new Action(
        ActionKind.SQL,
        sql,
        Map.of(Action.Attr.SQL_KIND, "select", Action.Attr.SQL_TABLES_READ, List.of("t")));
  }

  static Decision allow() {
    return new Decision(Effect.ALLOW, "r", "", null, Obligations.NONE, List.of());
  }

  private ChainedAuditLog open(Database db, MasterKey key, AuditConfig config, Path dir) {
    ChainedAuditLog log = new ChainedAuditLog(db, key, config, dir);
    closeables.add(log);
    return log;
  }

  private record Started(Database db, ChainedAuditLog log, StoreSessionRecorder rec) {}

  /** An H2 store behind an {@code os} journal with {@code session} started and stored. */
  private Started startOnOs(String session) {
    Database db = stores.open(TestStores.Kind.H2);
    ChainedAuditLog log = open(db, newMasterKey(), OS, tmp.resolve("journal"));
    StoreSessionRecorder rec = new StoreSessionRecorder(db, log);
    rec.sessionStarted(session, "alice", "prod", "postgres", "", "{}");
    log.awaitStored();
    return new Started(db, log, rec);
  }

  /** Records 20 statements with outcomes, a stream chunk and the end, into a held-back store. */
  private static List<Long> recordSession(StoreSessionRecorder rec, String session) {
    rec.sessionStarted(session, "alice", "prod", "postgres", "127.0.0.1", "{}");
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      long id = rec.actionDecided(session, select("SELECT " + i), "SELECT " + i, allow(), null);
      rec.actionCompleted(id, "ok", "SELECT 1", 1, Duration.ofMillis(2));
      ids.add(id);
    }
    rec.streamChunk(session, 'o', "output".getBytes(StandardCharsets.UTF_8));
    rec.sessionEnded(session, "closed");
    return ids;
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void recordsConfirmedBeforeACrashReachTheStoreAtTheNextStart(TestStores.Kind kind)
      throws Exception {
    Database db = stores.open(kind);
    MasterKey key = newMasterKey();
    Path dir = tmp.resolve("journal");
    ChainedAuditLog first = new ChainedAuditLog(db, key, FSYNC, dir);
    assertThat(first.journaled()).isTrue();
    first.pauseStoreForTest(true);
    List<Long> ids = recordSession(new StoreSessionRecorder(db, first), "s1");
    Thread.sleep(100); // the outcomes are queued without waiting
    assertThat(count(db, "SELECT COUNT(*) FROM session_actions WHERE session_id = 's1'"))
        .as("nothing reached the store yet")
        .isZero();
    first.abandonForTest(); // the process "dies" with everything only in the journal

    ChainedAuditLog second = open(db, key, FSYNC, dir);
    assertThat(count(db, "SELECT COUNT(*) FROM session_actions WHERE session_id = 's1'"))
        .isEqualTo(20);
    assertThat(
            count(
                db,
                "SELECT COUNT(*) FROM session_actions WHERE session_id = 's1' AND status = 'ok'"))
        .isEqualTo(20);
    assertThat(count(db, "SELECT COUNT(*) FROM session_streams WHERE session_id = 's1'"))
        .isEqualTo(1);
    assertThat(count(db, "SELECT COUNT(*) FROM sessions WHERE id = 's1' AND ended_at IS NOT NULL"))
        .isEqualTo(1);
    assertThat(count(db, "SELECT COUNT(*) FROM audit_log WHERE type = 'decision'")).isEqualTo(20);
    assertThat(count(db, "SELECT MIN(id) FROM session_actions")).isEqualTo(ids.get(0));
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();

    // Replayed once only: a clean restart applies nothing again.
    second.close();
    open(db, key, FSYNC, dir);
    assertThat(count(db, "SELECT COUNT(*) FROM session_actions")).isEqualTo(20);
    assertThat(count(db, "SELECT COUNT(*) FROM audit_log WHERE type = 'decision'")).isEqualTo(20);
  }

  @Test
  void duringAStoreOutageStatementsGoOnFromTheJournalAndReachTheStoreAfterwards() throws Exception {
    Database db = stores.open(TestStores.Kind.POSTGRES);
    ChainedAuditLog log = open(db, newMasterKey(), OS, tmp.resolve("journal"));
    StoreSessionRecorder rec = new StoreSessionRecorder(db, log);
    rec.sessionStarted("s4", "alice", "prod", "postgres", "", "{}");
    rec.actionDecided("s4", select("SELECT 0"), "SELECT 0", allow(), null); // reserves ids
    log.awaitStored();

    stores.refuseConnections(db, true);
    try {
      for (int i = 1; i <= 10; i++) {
        // Durable in the journal: the statement may go ahead although the store is down.
        rec.actionDecided("s4", select("SELECT " + i), "SELECT " + i, allow(), null);
      }
      // An event whose caller waits for the store fails, so that caller fails closed.
      assertThatThrownBy(() -> log.append(AuditTestSupport.event(1)))
          .isInstanceOf(dev.gatehouse.store.StoreException.class);
    } finally {
      stores.refuseConnections(db, false);
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    long rows = 0;
    while (System.nanoTime() < deadline) {
      rows = count(db, "SELECT COUNT(*) FROM session_actions WHERE session_id = 's4'");
      if (rows == 11) {
        break;
      }
      Thread.sleep(200);
    }
    assertThat(rows).as("every journaled action reached the store after the outage").isEqualTo(11);
    log.awaitStored();
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();
  }

  @Test
  void aTornFrameAtTheEndIsDroppedAndEverythingBeforeItIsApplied() throws Exception {
    Database db = stores.open(TestStores.Kind.H2);
    MasterKey key = newMasterKey();
    Path dir = tmp.resolve("journal");
    ChainedAuditLog first = new ChainedAuditLog(db, key, OS, dir);
    first.pauseStoreForTest(true);
    recordSession(new StoreSessionRecorder(db, first), "s1");
    Thread.sleep(100);
    first.abandonForTest();
    Path last = segments(dir).getLast();
    long before = dataEnd(last);
    assertThat(Files.size(last)).as("zeros written ahead").isGreaterThan(before);
    try (RandomAccessFile f = new RandomAccessFile(last.toFile(), "rw")) {
      f.seek(before);
      f.writeInt(4096); // a frame header promising more than was written
      f.writeInt(12345);
      f.write(new byte[] {1, 2, 3});
    }

    open(db, key, OS, dir);
    assertThat(count(db, "SELECT COUNT(*) FROM session_actions")).isEqualTo(20);
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();
  }

  @Test
  void damageBeforeTheLastSegmentRefusesTheStart() throws Exception {
    Path dir = tmp.resolve("journal");
    try (Journal j = Journal.open(dir, false, 200, id -> 0, (p, lsn) -> {})) {
      for (int i = 0; i < 20; i++) {
        j.append(List.of(("record " + i + " ".repeat(40)).getBytes(StandardCharsets.UTF_8)));
      }
    }
    List<Path> segments = segments(dir);
    assertThat(segments).hasSizeGreaterThan(2);
    try (RandomAccessFile f = new RandomAccessFile(segments.getFirst().toFile(), "rw")) {
      f.seek(20);
      f.write('X');
    }
    assertThatThrownBy(() -> Journal.open(dir, false, 200, id -> 0, (p, lsn) -> {}))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("damaged")
        .hasMessageContaining("not the last segment");
  }

  @Test
  void aSecondProcessOnTheSameJournalIsRefused() throws Exception {
    Path dir = tmp.resolve("journal");
    try (Journal j = Journal.open(dir, false, 1 << 20, id -> 0, (p, lsn) -> {})) {
      assertThat(j.id()).hasSize(36);
      assertThatThrownBy(() -> Journal.open(dir, false, 1 << 20, id -> 0, (p, lsn) -> {}))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("in use by another gateway");
    }
    Journal.open(dir, false, 1 << 20, id -> 0, (p, lsn) -> {}).close(); // free again
  }

  @Test
  void framesAreReadBackInOrderPastTheAppliedPositionOnly() throws Exception {
    Path dir = tmp.resolve("journal");
    long[] lsns;
    try (Journal j = Journal.open(dir, true, 100, id -> 0, (p, lsn) -> {})) {
      List<byte[]> frames = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        frames.add(("frame-" + i).getBytes(StandardCharsets.UTF_8));
      }
      lsns = j.append(frames.subList(0, 5));
      long[] more = j.append(frames.subList(5, 10));
      assertThat(more[0]).isGreaterThan(lsns[4]);
    }
    List<String> seen = new ArrayList<>();
    try (Journal j =
        Journal.open(
            dir,
            true,
            100,
            id -> lsns[2],
            (p, lsn) -> seen.add(new String(p, StandardCharsets.UTF_8)))) {
      assertThat(seen)
          .containsExactly(
              "frame-3", "frame-4", "frame-5", "frame-6", "frame-7", "frame-8", "frame-9");
      j.retire(j.end());
    }
  }

  @Test
  void everyOpSurvivesEncoding() throws Exception {
    List<JournalOp> ops =
        List.of(
            new JournalOp.SessionStart(1, "s", "alice", "prod", "postgres", null, "{}"),
            new JournalOp.Action(
                2,
                7,
                "s",
                "alice",
                "prod",
                "sql",
                "SELECT 'é'",
                "{}",
                "allow",
                "r",
                "",
                null,
                "select",
                null),
            new JournalOp.Outcome(3, 7, "ok", "SELECT 1", 1, 4),
            new JournalOp.SessionEnd(5, "s", "closed"),
            new JournalOp.Event(6, "t", "alice", null, null, "{\"a\":1}"));
    for (JournalOp op : ops) {
      assertThat(JournalOp.decode(JournalOp.encode(op))).isEqualTo(op);
    }
    JournalOp.Chunk chunk = new JournalOp.Chunk(4, "s", 1, 'o', new byte[] {0, -1, 65});
    JournalOp.Chunk back = (JournalOp.Chunk) JournalOp.decode(JournalOp.encode(chunk));
    assertThat(back.data()).containsExactly(0, -1, 65);
    assertThat(back.direction()).isEqualTo('o');
    byte[] bad = JournalOp.encode(ops.get(0));
    bad[0] = 99;
    assertThatThrownBy(() -> JournalOp.decode(bad)).hasMessageContaining("unknown journal record");
  }

  @Test
  void aLoadTheStoreCannotSustainWaitsForItInsteadOfGrowingTheLag() throws Exception {
    Started st = startOnOs("s5");
    Database db = st.db();
    ChainedAuditLog log = st.log();
    StoreSessionRecorder rec = st.rec();
    log.pauseStoreForTest(true); // the store stays up but applies nothing: the slowest store
    String big = "SELECT '" + "x".repeat(16_000) + "'";
    int total = 600; // about 9.6 MB of records: more than twice the pace limit
    java.util.concurrent.atomic.AtomicInteger recorded =
        new java.util.concurrent.atomic.AtomicInteger();
    Thread producer =
        Thread.ofPlatform()
            .start(
                () -> {
                  for (int i = 0; i < total; i++) {
                    rec.actionDecided("s5", select(big), big, allow(), null);
                    recorded.incrementAndGet();
                  }
                });
    // The producer is held once the lag passes the limit, not let through to fill the journal.
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < until && log.journalBacklog() <= ChainedAuditLog.PACE_BACKLOG) {
      Thread.sleep(10);
    }
    Thread.sleep(500);
    int held = recorded.get();
    assertThat(held).isBetween(200, 400);
    assertThat(log.journalBacklog()).isLessThan(ChainedAuditLog.PACE_BACKLOG + 100_000);
    Thread.sleep(500);
    assertThat(recorded.get()).as("still held").isEqualTo(held);
    // The store catches up: the producer goes on and finishes, and everything is stored.
    log.pauseStoreForTest(false);
    producer.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(recorded.get()).isEqualTo(total);
    log.awaitStored();
    assertThat(count(db, "SELECT COUNT(*) FROM session_actions WHERE session_id = 's5'"))
        .isEqualTo(total);
  }

  @ParameterizedTest
  @ValueSource(strings = {AuditConfig.FSYNC, AuditConfig.OS})
  void aReaderWaitingForTheStoreSeesWhatWasJustRecorded(String durability) {
    Database db = stores.open(TestStores.Kind.H2);
    ChainedAuditLog log =
        open(
            db,
            newMasterKey(),
            new AuditConfig(Duration.ZERO, List.of(), durability),
            tmp.resolve("journal"));
    StoreSessionRecorder rec = new StoreSessionRecorder(db, log);
    SessionQueries queries = new SessionQueries(db, log::awaitStored);
    rec.sessionStarted("s2", "alice", "prod", "postgres", "", "{}");
    for (int i = 0; i < 50; i++) {
      rec.actionDecided("s2", select("SELECT " + i), "SELECT " + i, allow(), null);
      assertThat(queries.show("s2").orElseThrow().actions()).hasSize(i + 1);
    }
  }

  /**
   * A statement still running when the store thread cuts its batch is held back for its outcome (up
   * to CARRY_NANOS), so that action and outcome are one insert rather than an insert and an update.
   * Statements 25 ms apart, each outcome 25 ms after its action: past the 20 ms gathering pause, so
   * without the hold every outcome would miss its action's batch.
   */
  @Test
  void anActionWaitsForItsOutcomeAcrossABatchAndIsStoredOnce() throws Exception {
    Started st = startOnOs("s7");
    Database db = st.db();
    ChainedAuditLog log = st.log();
    StoreSessionRecorder rec = st.rec();
    int n = 20;
    for (int i = 0; i < n; i++) {
      long id = rec.actionDecided("s7", select("SELECT " + i), "SELECT " + i, allow(), null);
      Thread.sleep(25);
      rec.actionCompleted(id, "ok", "SELECT 1", 1, Duration.ofMillis(25));
    }
    Thread.sleep(100); // the last outcome is queued without waiting
    log.awaitStored();
    assertThat(
            count(
                db,
                "SELECT COUNT(*) FROM session_actions WHERE session_id = 's7' AND status = 'ok'"))
        .isEqualTo(n);
    assertThat(count(db, "SELECT COUNT(*) FROM audit_log WHERE type = 'decision'")).isEqualTo(n);
    // A slow machine may let a few outlive the hold; without it all 20 would be updates.
    assertThat(log.outcomesAppliedAlone()).isLessThanOrEqualTo(5);
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();
  }

  /**
   * An action whose outcome comes later than the hold is applied on its own, and the outcome
   * updates its row; a reader waiting for the store sees a held-back action at once.
   */
  @Test
  void aLongStatementIsStoredBeforeItsOutcomeAndReadersDoNotWaitForTheHold() throws Exception {
    Started st = startOnOs("s8");
    Database db = st.db();
    ChainedAuditLog log = st.log();
    StoreSessionRecorder rec = st.rec();
    long id = rec.actionDecided("s8", select("SELECT pg_sleep(1)"), "SELECT 1", allow(), null);
    SessionQueries queries = new SessionQueries(db, log::awaitStored);
    assertThat(queries.show("s8").orElseThrow().actions()).hasSize(1);
    Thread.sleep(2 * TimeUnit.NANOSECONDS.toMillis(ChainedAuditLog.CARRY_NANOS));
    rec.actionCompleted(id, "ok", "SELECT 1", 1, Duration.ofSeconds(1));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (count(db, "SELECT COUNT(*) FROM session_actions WHERE status = 'ok'") < 1
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(count(db, "SELECT COUNT(*) FROM session_actions WHERE status = 'ok'")).isEqualTo(1);
    assertThat(log.outcomesAppliedAlone()).isEqualTo(1);
  }

  /**
   * Without fdatasync a caller that finds the journal taken leaves its record to the holder instead
   * of queueing for the lock: every record must still be written, in one order, and applied.
   */
  @Test
  void concurrentSessionsWithoutFsyncHaveEveryRecordWrittenOnceAndApplied() throws Exception {
    Database db = stores.open(TestStores.Kind.H2);
    MasterKey key = newMasterKey();
    Path dir = tmp.resolve("journal");
    ChainedAuditLog log = new ChainedAuditLog(db, key, OS, dir);
    StoreSessionRecorder rec = new StoreSessionRecorder(db, log);
    int threads = 16;
    int each = 300;
    List<Thread> workers = new ArrayList<>();
    java.util.concurrent.ConcurrentLinkedQueue<Throwable> errors =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    for (int t = 0; t < threads; t++) {
      String session = "c" + t;
      rec.sessionStarted(session, "alice", "prod", "postgres", "", "{}");
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      for (int i = 0; i < each; i++) {
                        long id =
                            rec.actionDecided(
                                session, select("SELECT " + i), "SELECT " + i, allow(), null);
                        rec.actionCompleted(id, "ok", "SELECT 1", 1, Duration.ofMillis(1));
                      }
                    } catch (Throwable e) {
                      errors.add(e);
                    }
                  }));
    }
    for (Thread w : workers) {
      w.join(60_000);
    }
    assertThat(errors).isEmpty();
    log.awaitStored();
    // Outcomes are written by whoever comes next, or by the flusher within milliseconds.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (count(db, "SELECT COUNT(*) FROM session_actions WHERE status = 'ok'") < threads * each
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
      log.awaitStored();
    }
    assertThat(count(db, "SELECT COUNT(*) FROM session_actions")).isEqualTo(threads * each);
    assertThat(count(db, "SELECT COUNT(*) FROM session_actions WHERE status = 'ok'"))
        .isEqualTo(threads * each);
    assertThat(count(db, "SELECT COUNT(*) FROM audit_log WHERE type = 'decision'"))
        .isEqualTo(threads * each);
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();

    // The journal holds each record once: replaying it after a crash adds nothing twice.
    log.abandonForTest();
    open(db, key, OS, dir);
    assertThat(count(db, "SELECT COUNT(*) FROM session_actions")).isEqualTo(threads * each);
    assertThat(count(db, "SELECT COUNT(*) FROM audit_log WHERE type = 'decision'"))
        .isEqualTo(threads * each);
  }

  @Test
  void aCleanStopEmptiesTheJournalAndStoreDurabilityHasNone() throws Exception {
    Database db = stores.open(TestStores.Kind.H2);
    Path dir = tmp.resolve("journal");
    MasterKey key = newMasterKey();
    ChainedAuditLog log = new ChainedAuditLog(db, key, FSYNC, dir);
    recordSession(new StoreSessionRecorder(db, log), "s3");
    log.close();
    assertThat(count(db, "SELECT COUNT(*) FROM session_actions")).isEqualTo(20);
    assertThat(segments(dir)).isEmpty();

    Path none = tmp.resolve("no-journal");
    ChainedAuditLog direct =
        open(db, key, new AuditConfig(Duration.ZERO, List.of(), AuditConfig.STORE), none);
    assertThat(direct.journaled()).isFalse();
    assertThat(none).doesNotExist();
  }

  /** Where a segment's frames end: the first zero frame header, past the 8-byte file header. */
  private static long dataEnd(Path segment) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "r")) {
      long at = 8;
      while (at + 8 <= f.length()) {
        f.seek(at);
        int length = f.readInt();
        int crc = f.readInt();
        if (length == 0 && crc == 0) {
          return at;
        }
        at += 8 + length;
      }
      return at;
    }
  }

  private static List<Path> segments(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("segment-")).sorted().toList();
    }
  }
}
