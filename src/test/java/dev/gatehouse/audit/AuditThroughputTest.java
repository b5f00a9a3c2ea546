package dev.gatehouse.audit;

import static dev.gatehouse.audit.AuditTestSupport.NO_SCHEDULE;
import static dev.gatehouse.audit.AuditTestSupport.event;
import static dev.gatehouse.audit.AuditTestSupport.newMasterKey;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.Obligations;
import dev.gatehouse.store.Database;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prints appends per second with 1 and 16 threads (see the surefire output file). Asserts only that
 * the chain is valid: timing depends on the machine, so nothing here fails on speed.
 */
@Tag("slow")
class AuditThroughputTest {

  @Test
  void measuresAppendThroughputOnH2AndPostgres(@TempDir Path dir) throws Exception {
    try (Database mem = Database.inMemory("throughput-" + System.nanoTime())) {
      measure("H2 in-memory", mem);
    }
    try (Database file = Database.embedded(dir)) {
      measure("H2 file", file);
    }
    try (TestStores stores = new TestStores()) {
      measure("PostgreSQL (embedded)", stores.open(TestStores.Kind.POSTGRES));
    }
  }

  private static void measure(String store, Database db) throws Exception {
    try (ChainedAuditLog log = new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE)) {
      run(log, 1, 200); // warm-up
      for (int threads : new int[] {1, 16}) {
        int total = threads == 1 ? 2_000 : 8_000;
        double perSecond = run(log, threads, total);
        System.out.printf(
            Locale.ROOT,
            "audit append throughput, %s, %2d thread(s): %,.0f appends/s (%d appends)%n",
            store,
            threads,
            perSecond,
            total);
      }
    }
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();
  }

  @Test
  void measuresActionDecidedThroughputOnH2AndPostgres(@TempDir Path dir) throws Exception {
    try (Database file = Database.embedded(dir)) {
      measureRecorder("H2 file", file);
    }
    try (TestStores stores = new TestStores()) {
      measureRecorder("PostgreSQL (embedded)", stores.open(TestStores.Kind.POSTGRES));
    }
  }

  private static void measureRecorder(String store, Database db) throws Exception {
    try (ChainedAuditLog log = new ChainedAuditLog(db, newMasterKey(), NO_SCHEDULE)) {
      StoreSessionRecorder rec = new StoreSessionRecorder(db, log);
      for (int s = 0; s < 16; s++) {
        rec.sessionStarted("s" + s, "alice", "prod", "postgres", "", "");
      }
      Action action =
          new Action(ActionKind.SQL, "SELECT 1", Map.of(Action.Attr.SQL_KIND, "select"));
      Decision allow = new Decision(Effect.ALLOW, "r", "", null, Obligations.NONE, List.of());
      for (int threads : new int[] {1, 16}) {
        int total = threads == 1 ? 1_000 : 4_000;
        int each = total / threads;
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
          List<Future<?>> done = new ArrayList<>();
          for (int t = 0; t < threads; t++) {
            String sid = "s" + t;
            done.add(
                pool.submit(
                    () -> {
                      for (int i = 0; i < each; i++) {
                        long id = rec.actionDecided(sid, action, "SELECT 1", allow, null);
                        rec.actionCompleted(id, "ok", "SELECT 1", 1, Duration.ofMillis(1));
                      }
                    }));
          }
          for (Future<?> f : done) {
            f.get();
          }
        }
        double perSecond = each * threads / ((System.nanoTime() - start) / 1e9);
        System.out.printf(
            Locale.ROOT,
            "recorder actionDecided+actionCompleted, %s, %2d thread(s): %,.0f actions/s%n",
            store,
            threads,
            perSecond);
      }
    }
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();
  }

  private static double run(ChainedAuditLog log, int threads, int total) throws Exception {
    int each = total / threads;
    long start = System.nanoTime();
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < each; i++) {
                    log.append(event(i));
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    }
    return (double) (each * threads) / ((System.nanoTime() - start) / 1e9);
  }
}
