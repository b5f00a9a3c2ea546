package dev.gatehouse.audit;

import static dev.gatehouse.audit.AuditTestSupport.NO_SCHEDULE;
import static dev.gatehouse.audit.AuditTestSupport.count;
import static dev.gatehouse.audit.AuditTestSupport.event;
import static dev.gatehouse.audit.AuditTestSupport.newMasterKey;
import static dev.gatehouse.audit.AuditTestSupport.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.GatehouseConfig.AuditConfig;
import dev.gatehouse.credential.MasterKey;
import dev.gatehouse.credential.MasterKeyMismatchException;
import dev.gatehouse.store.Database;
import dev.gatehouse.store.StoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ChainedAuditLogTest {
  static final TestStores stores = new TestStores();

  @AfterEach
  void closeStores() {
    stores.closeOpened();
  }

  @AfterAll
  static void stop() {
    stores.close();
  }

  private static ChainedAuditLog appendN(Database db, MasterKey key, int n) {
    ChainedAuditLog log = new ChainedAuditLog(db, key, NO_SCHEDULE);
    for (int i = 1; i <= n; i++) {
      assertThat(log.append(event(i))).isEqualTo(i);
    }
    return log;
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void chainOfAppendsVerifies(TestStores.Kind kind) {
    Database db = stores.open(kind);
    try (ChainedAuditLog log = appendN(db, newMasterKey(), 25)) {
      assertThat(log.checkpoint()).isEqualTo(25);
      log.append(event(26));
      VerifyResult r = new AuditVerifier(db, log.publicSigningKeyset()).verify();
      assertThat(r.ok()).as(String.valueOf(r)).isTrue();
      assertThat(r.records()).isEqualTo(26);
      assertThat(r.checkpoints()).isEqualTo(1);
      assertThat(r.lastSeq()).isEqualTo(26);
    }
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void storedDataIsCanonicalJsonWithSortedKeys(TestStores.Kind kind) {
    Database db = stores.open(kind);
    try (ChainedAuditLog log = new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE)) {
      log.append(new AuditEvent("t", "bob", null, null, Map.of("z", 1L, "a", List.of("x"))));
    }
    String data =
        db.transaction(
            c -> {
              try (var rs = c.createStatement().executeQuery("SELECT data FROM audit_log")) {
                rs.next();
                return rs.getString(1);
              }
            });
    assertThat(data).isEqualTo("{\"a\":[\"x\"],\"z\":1}");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void modifiedRecordIsNamed(TestStores.Kind kind) {
    Database db = stores.open(kind);
    appendN(db, newMasterKey(), 10).close();
    sql(db, "UPDATE audit_log SET data = ? WHERE seq = 6", "{\"i\":6,\"note\":\"forged\"}");
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(6);
    assertThat(r.problem()).contains("seq 6").contains("modified");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void deletedMiddleRecordIsDetected(TestStores.Kind kind) {
    Database db = stores.open(kind);
    appendN(db, newMasterKey(), 10).close();
    sql(db, "DELETE FROM audit_log WHERE seq = 4");
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(4);
    assertThat(r.problem()).contains("seq 4 is missing");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void deletedRecordWithRenumberedTailIsDetected(TestStores.Kind kind) {
    Database db = stores.open(kind);
    appendN(db, newMasterKey(), 10).close();
    sql(db, "DELETE FROM audit_log WHERE seq = 4");
    for (int s = 5; s <= 10; s++) {
      sql(db, "UPDATE audit_log SET seq = ? WHERE seq = ?", (long) s - 1, (long) s);
    }
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(4);
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void swappedRecordsAreDetected(TestStores.Kind kind) {
    Database db = stores.open(kind);
    appendN(db, newMasterKey(), 10).close();
    // Swap everything but seq between rows 3 and 7 (reordering two records).
    String cols = "at, type, actor, session_id, connection, data, prev_hash, hash";
    sql(db, "CREATE TABLE tmp_row AS SELECT " + cols + " FROM audit_log WHERE seq = 3");
    for (String col : cols.split(", ")) {
      sql(
          db,
          "UPDATE audit_log SET "
              + col
              + " = (SELECT "
              + col
              + " FROM audit_log WHERE seq = 7) WHERE seq = 3");
      sql(db, "UPDATE audit_log SET " + col + " = (SELECT " + col + " FROM tmp_row) WHERE seq = 7");
    }
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(3);
    assertThat(r.problem()).contains("reordered");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void swappedSeqNumbersAreDetected(TestStores.Kind kind) {
    Database db = stores.open(kind);
    appendN(db, newMasterKey(), 10).close();
    sql(db, "UPDATE audit_log SET seq = -1 WHERE seq = 2");
    sql(db, "UPDATE audit_log SET seq = 2 WHERE seq = 5");
    sql(db, "UPDATE audit_log SET seq = 5 WHERE seq = -1");
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(2);
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void truncatedTailAfterCheckpointIsDetected(TestStores.Kind kind) {
    Database db = stores.open(kind);
    appendN(db, newMasterKey(), 10).close(); // close takes a checkpoint at seq 10
    sql(db, "DELETE FROM audit_log WHERE seq > 7");
    // A careful attacker also rewinds the head; the signed checkpoint still gives it away.
    String hash7 =
        db.transaction(
            c -> {
              try (var rs =
                  c.createStatement().executeQuery("SELECT hash FROM audit_log WHERE seq = 7")) {
                rs.next();
                return rs.getString(1);
              }
            });
    sql(db, "UPDATE audit_chain_head SET seq = 7, hash = ?", hash7);
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).isFalse();
    assertThat(r.problem()).contains("truncated").contains("seq 10");
    assertThat(r.firstBadSeq()).isEqualTo(8);
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void truncatedTailWithoutCheckpointIsDetectedByTheHead(TestStores.Kind kind) {
    Database db = stores.open(kind);
    ChainedAuditLog log = appendN(db, newMasterKey(), 5);
    sql(db, "DELETE FROM audit_log WHERE seq = 5");
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).isFalse();
    assertThat(r.problem()).contains("chain head is at seq 5");
    log.close();
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void badCheckpointSignatureIsDetected(TestStores.Kind kind) {
    Database db = stores.open(kind);
    ChainedAuditLog log = appendN(db, newMasterKey(), 4);
    log.checkpoint();
    log.append(event(5));
    log.close();
    sql(db, "UPDATE audit_checkpoints SET at = at + 1 WHERE seq = 4");
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(4);
    assertThat(r.problem()).contains("signature does not verify");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void rewrittenHistoryWithRecomputedHashesFailsAgainstTheCheckpoint(TestStores.Kind kind) {
    Database db = stores.open(kind);
    appendN(db, newMasterKey(), 6).close();
    // Rewrite record 3 and re-chain everything after it, as an attacker without the signing key.
    List<AuditRecord> rows = new ArrayList<>();
    db.transaction(
        c -> {
          try (var rs =
              c.createStatement()
                  .executeQuery("SELECT " + AuditRecord.COLUMNS + " FROM audit_log ORDER BY seq")) {
            while (rs.next()) {
              rows.add(AuditRecord.read(rs));
            }
          }
          return null;
        });
    String prev = rows.get(1).hash();
    for (int i = 2; i < rows.size(); i++) {
      AuditRecord r = rows.get(i);
      String data = i == 2 ? "{\"i\":3,\"note\":\"nothing happened\"}" : r.data();
      AuditRecord forged =
          AuditRecord.chain(
              r.seq(), r.at(), r.type(), r.actor(), r.sessionId(), r.connection(), data, prev);
      sql(
          db,
          "UPDATE audit_log SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?",
          forged.data(),
          forged.prevHash(),
          forged.hash(),
          forged.seq());
      prev = forged.hash();
    }
    sql(db, "UPDATE audit_chain_head SET hash = ?", prev);
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(6);
    assertThat(r.problem()).contains("rewritten");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void verifierRejectsCheckpointsSignedByAnotherKey(TestStores.Kind kind) {
    Database db = stores.open(kind);
    Database other = stores.open(kind);
    appendN(db, newMasterKey(), 3).close();
    String foreignKey;
    try (ChainedAuditLog otherLog = new ChainedAuditLog(other, newMasterKey(), NO_SCHEDULE)) {
      foreignKey = otherLog.publicSigningKeyset();
    }
    VerifyResult r = new AuditVerifier(db, foreignKey).verify();
    assertThat(r.ok()).isFalse();
    assertThat(r.problem()).contains("signature does not verify");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void sixteenConcurrentThreadsFormOneValidChain(TestStores.Kind kind) throws Exception {
    Database db = stores.open(kind);
    int threads = 16;
    int perThread = 100;
    Set<Long> seqs = ConcurrentHashMap.newKeySet();
    try (ChainedAuditLog log = new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE);
        ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * perThread;
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    seqs.add(log.append(event(base + i)));
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    }
    assertThat(seqs).hasSize(threads * perThread);
    assertThat(seqs).allMatch(s -> s >= 1 && s <= threads * perThread);
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).as(String.valueOf(r)).isTrue();
    assertThat(r.records()).isEqualTo(threads * perThread);
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void tworeplicasOnOneStoreFormOneChain(TestStores.Kind kind) throws Exception {
    Database db = stores.open(kind);
    MasterKey key = newMasterKey();
    try (ChainedAuditLog a = new ChainedAuditLog(db, key, NO_SCHEDULE);
        ChainedAuditLog b = new ChainedAuditLog(db, key, NO_SCHEDULE);
        ExecutorService pool = Executors.newFixedThreadPool(8)) {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        ChainedAuditLog log = t % 2 == 0 ? a : b;
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 50; i++) {
                    log.append(event(i));
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      a.checkpoint();
    }
    VerifyResult r = new AuditVerifier(db).verify();
    assertThat(r.ok()).as(String.valueOf(r)).isTrue();
    assertThat(r.records()).isEqualTo(400);
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void appendOnAClosedStoreThrows(TestStores.Kind kind) {
    Database db = stores.open(kind);
    ChainedAuditLog log = new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE);
    log.append(event(1));
    db.close();
    assertThatThrownBy(() -> log.append(event(2)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("audit");
    log.close();
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void appendAfterCloseThrows(TestStores.Kind kind) {
    Database db = stores.open(kind);
    ChainedAuditLog log = new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE);
    log.close();
    assertThatThrownBy(() -> log.append(event(1))).isInstanceOf(IllegalStateException.class);
    assertThat(count(db, "SELECT COUNT(*) FROM audit_log")).isZero();
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void wrongMasterKeyCannotOpenTheSigningKeyset(TestStores.Kind kind) {
    Database db = stores.open(kind);
    new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE).close();
    assertThatThrownBy(() -> new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE))
        .isInstanceOf(MasterKeyMismatchException.class)
        .hasMessageContaining("does not match the store's keyset \"audit-signing\"");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void oneBadEventDoesNotFailItsBatchNeighbours(TestStores.Kind kind) throws Exception {
    Database db = stores.open(kind);
    try (ChainedAuditLog log = new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE);
        ExecutorService pool = Executors.newFixedThreadPool(8)) {
      String tooLong = "x".repeat(600);
      List<Future<Long>> good = new ArrayList<>();
      Future<Long> bad =
          pool.submit(() -> log.append(new AuditEvent("bad", tooLong, null, null, Map.of())));
      for (int i = 0; i < 20; i++) {
        int n = i;
        good.add(pool.submit(() -> log.append(event(n))));
      }
      for (Future<Long> f : good) {
        assertThat(f.get()).isPositive();
      }
      assertThatThrownBy(bad::get).hasCauseInstanceOf(StoreException.class);
    }
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void checkpointsAreTakenOnTheConfiguredInterval(TestStores.Kind kind) throws Exception {
    Database db = stores.open(kind);
    AuditConfig every50ms = new AuditConfig(Duration.ofMillis(50), List.of());
    try (ChainedAuditLog log = new ChainedAuditLog(db, newMasterKey(), every50ms)) {
      log.append(event(1));
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (count(db, "SELECT COUNT(*) FROM audit_checkpoints") == 0
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(count(db, "SELECT COUNT(*) FROM audit_checkpoints")).isEqualTo(1);
      // Nothing new appended: later ticks add no duplicate checkpoint.
      Thread.sleep(200);
      assertThat(count(db, "SELECT COUNT(*) FROM audit_checkpoints")).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void verifierStreamsLogAndCheckpointsAcrossFetchPages(TestStores.Kind kind) throws Exception {
    Database db = stores.open(kind);
    try (ChainedAuditLog log = new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE);
        ExecutorService pool = Executors.newFixedThreadPool(8)) {
      for (int round = 0; round < 5; round++) {
        List<Future<Long>> done = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
          int n = i;
          done.add(pool.submit(() -> log.append(event(n))));
        }
        for (Future<Long> f : done) {
          f.get();
        }
        log.checkpoint();
      }
    }
    // 3,000 records and 5 checkpoints: more than one fetch page (1,000) of the log cursor while
    // the checkpoint cursor is open beside it.
    VerifyResult ok = new AuditVerifier(db).verify();
    assertThat(ok.ok()).as(String.valueOf(ok)).isTrue();
    assertThat(ok.records()).isEqualTo(3000);
    assertThat(ok.checkpoints()).isEqualTo(5);
    sql(db, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2345");
    VerifyResult bad = new AuditVerifier(db).verify();
    assertThat(bad.firstBadSeq()).isEqualTo(2345);
    assertThat(bad.records()).isEqualTo(2344);
  }
}
