package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.sql;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReloadingPolicyEngineTest {
  static final String ALLOW_SELECT =
      "rules:\n  - id: reads\n    effect: allow\n    sql: { statements: [select] }\n";
  static final String ALLOW_DELETE =
      "rules:\n  - id: deletes\n    effect: allow\n    sql: { statements: [delete] }\n";

  @TempDir Path dir;
  final List<AuditEvent> events = new CopyOnWriteArrayList<>();
  final AuditLog audit =
      e -> {
        events.add(e);
        return events.size();
      };

  @Test
  void validChangeSwapsSnapshotIncrementsGenerationAndIsAudited() throws Exception {
    Path file = dir.resolve("p.yaml");
    Files.writeString(file, ALLOW_SELECT);
    try (ReloadingPolicyEngine engine =
        ReloadingPolicyEngine.load(List.of(file.toString()), audit)) {
      long before = engine.generation();
      assertThat(decide(engine, human("a"), target("db"), sql("delete")).allowed()).isFalse();

      Files.writeString(file, ALLOW_DELETE);
      assertThat(engine.reload()).isTrue();

      assertThat(engine.generation()).isEqualTo(before + 1);
      assertThat(decide(engine, human("a"), target("db"), sql("delete")).allowed()).isTrue();
      assertThat(events)
          .singleElement()
          .satisfies(
              e -> {
                assertThat(e.type()).isEqualTo("config.change");
                assertThat(e.data())
                    .containsEntry("generation", before + 1)
                    .containsEntry("rules", 1);
              });
    }
  }

  @Test
  void invalidChangeKeepsTheOldPolicy() throws Exception {
    Path file = dir.resolve("p.yaml");
    Files.writeString(file, ALLOW_SELECT);
    try (ReloadingPolicyEngine engine =
        ReloadingPolicyEngine.load(List.of(file.toString()), audit)) {
      long before = engine.generation();

      Files.writeString(file, "rules:\n  - id: broken\n    effect: sometimes\n");

      assertThat(engine.reload()).isFalse();
      assertThat(engine.generation()).isEqualTo(before);
      assertThat(engine.lastError().getMessage()).contains("p.yaml:3");
      assertThat(decide(engine, human("a"), target("db"), sql("select")).allowed()).isTrue();
      assertThat(events).isEmpty();
    }
  }

  @Test
  void failingAuditKeepsTheOldPolicy() throws Exception {
    Path file = dir.resolve("p.yaml");
    Files.writeString(file, ALLOW_SELECT);
    AuditLog broken =
        e -> {
          throw new IllegalStateException("disk full");
        };
    try (ReloadingPolicyEngine engine =
        ReloadingPolicyEngine.load(List.of(file.toString()), broken)) {
      Files.writeString(file, ALLOW_DELETE);

      assertThat(engine.reload()).isFalse();
      assertThat(decide(engine, human("a"), target("db"), sql("delete")).allowed()).isFalse();
    }
  }

  @Test
  void watcherPicksUpChangesAndNewFiles() throws Exception {
    Path file = dir.resolve("a.yaml");
    Files.writeString(file, ALLOW_SELECT);
    try (ReloadingPolicyEngine engine =
        ReloadingPolicyEngine.load(List.of(dir + "/*.yaml"), audit).watch(Duration.ofMillis(50))) {
      long before = engine.generation();

      Files.writeString(dir.resolve("b.yaml"), ALLOW_DELETE);

      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (engine.generation() == before && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(engine.generation()).isEqualTo(before + 1);
      assertThat(engine.current().ruleIds()).containsExactly("reads", "deletes");

      // a broken edit is not applied, and not retried until the file changes again
      Files.writeString(file, "rules: [");
      deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (engine.lastError() == null && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(engine.lastError()).isNotNull();
      assertThat(engine.generation()).isEqualTo(before + 1);
    }
  }
}
