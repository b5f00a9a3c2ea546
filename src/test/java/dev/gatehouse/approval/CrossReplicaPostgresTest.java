package dev.gatehouse.approval;

import static dev.gatehouse.approval.Kit.CONN;
import static dev.gatehouse.approval.Kit.approvedButUnused;
import static dev.gatehouse.approval.Kit.authorizeAsync;
import static dev.gatehouse.approval.Kit.deferring;
import static dev.gatehouse.approval.Kit.service;
import static dev.gatehouse.approval.Kit.sql;
import static dev.gatehouse.approval.Kit.user;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.approval.Kit.Held;
import dev.gatehouse.approval.Kit.ListAudit;
import dev.gatehouse.approval.Kit.Run;
import dev.gatehouse.approval.Kit.TestPolicy;
import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.store.Database;
import dev.gatehouse.testing.MovingClock;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Two gateway replicas ("A" and "B") sharing one PostgreSQL store. */
@Tag("slow")
class CrossReplicaPostgresTest {
  static EmbeddedPostgres pg;

  final List<AutoCloseable> closeables = new ArrayList<>();
  final ListAudit audit = new ListAudit();
  final TestPolicy policy = new TestPolicy();
  static final Duration SHORT_WAIT = Duration.ofMillis(300);

  @BeforeAll
  static void start() throws Exception {
    pg = EmbeddedPostgres.builder().start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (pg != null) {
      pg.close();
    }
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
  }

  <T extends AutoCloseable> T track(T c) {
    closeables.add(c);
    return c;
  }

  Database replicaStore() {
    return track(Database.postgres(pg.getJdbcUrl("postgres", "postgres"), "postgres", "", 4));
  }

  @Test
  void approvalThroughReplicaAReleasesARequestHeldOnReplicaBByNotify() throws Exception {
    // Polling every 60 s: within the 10 s the test waits, only NOTIFY can release the caller.
    ReviewService.Tuning notifyOnly =
        new ReviewService.Tuning(Duration.ofSeconds(60), true, Duration.ofSeconds(1));
    ReviewService a = track(service(replicaStore(), audit, Clock.systemUTC(), notifyOnly));
    ReviewService b = track(service(replicaStore(), audit, Clock.systemUTC(), notifyOnly));
    Thread.sleep(500); // let B's listener subscribe
    assertReleasedAcrossReplicas(a, b, "DROP TABLE orders");
  }

  @Test
  void approvalThroughReplicaAReleasesARequestHeldOnReplicaBByPollingWithoutNotify()
      throws Exception {
    ReviewService.Tuning pollOnly =
        new ReviewService.Tuning(Duration.ofMillis(200), false, Duration.ofSeconds(1));
    ReviewService a = track(service(replicaStore(), audit, Clock.systemUTC(), pollOnly));
    ReviewService b = track(service(replicaStore(), audit, Clock.systemUTC(), pollOnly));
    assertReleasedAcrossReplicas(a, b, "DROP TABLE invoices");
  }

  @Test
  void grantsListingAndExpiryWorkOnPostgresToo() throws Exception {
    MovingClock clock = new MovingClock(java.time.Instant.parse("2026-03-01T09:00:00Z"));
    ReviewService a = track(service(replicaStore(), audit, clock, Kit.polling(100)));
    ReviewService b = track(service(replicaStore(), audit, clock, Kit.polling(100)));
    GrantView g =
        a.requestAccess(user("alice", "dev"), CONN, "writer", Duration.ofMinutes(30), "OPS-1");
    GrantView other =
        a.requestAccess(user("bob", "dev"), CONN, "writer", Duration.ofMinutes(30), "OPS-2");

    b.approve(g.reviewId(), Kit.admin("root", "admins"), "ok");

    assertThat(a.activeRoles(user("alice", "dev"), CONN, clock.instant()))
        .containsExactly("writer");
    assertThat(a.grants("alice", 10)).extracting(GrantView::state).containsExactly("active");
    assertThat(b.list("approved", 50)).extracting(ReviewView::id).contains(g.reviewId());
    clock.advance(Duration.ofHours(2));
    assertThat(a.list("expired", 50)).extracting(ReviewView::id).contains(other.reviewId());
    assertThat(a.activeRoles(user("alice", "dev"), CONN, clock.instant())).isEmpty();
    assertThat(audit.of("review.expired"))
        .filteredOn(e -> e.data().get("review_id").equals(other.reviewId()))
        .hasSize(1);
  }

  /**
   * Review 13, F6, on the PostgreSQL store: a message's approvals are spent in one transaction, so
   * when replica B spent one of them first, replica A's message spends none.
   */
  @Test
  void theApprovalsOfOneMessageAreSpentAllOrNoneAcrossReplicas() throws Exception {
    ReviewService a =
        track(service(replicaStore(), audit, Clock.systemUTC(), Kit.polling(50), SHORT_WAIT));
    ReviewService b =
        track(service(replicaStore(), audit, Clock.systemUTC(), Kit.polling(50), SHORT_WAIT));
    GateSession onA =
        track(Kit.gate(policy, audit, a, a, Clock.systemUTC()))
            .open(user("alice", "dev"), CONN, "postgres", "10.0.0.7");
    GateSession onB =
        track(Kit.gate(policy, audit, b, b, Clock.systemUTC()))
            .open(user("alice", "dev"), CONN, "postgres", "10.0.0.8");
    String first = approvedButUnused(a, onA, "DROP TABLE spent_first");
    String second = approvedButUnused(a, onA, "DROP TABLE spent_second");
    AuthorizedAction x = onA.authorize(sql("DROP TABLE spent_first"), deferring());
    AuthorizedAction y = onA.authorize(sql("DROP TABLE spent_second"), deferring());

    assertThat(onB.authorize(sql("DROP TABLE spent_second"), new Held()).reviewId())
        .isEqualTo(second);

    assertThatThrownBy(() -> onA.spendAll(List.of(x, y)))
        .isInstanceOf(GateException.class)
        .hasMessageContaining("already used");
    assertThat(a.show(first).orElseThrow().consumedAt()).as("not spent").isNull();
    assertThat(a.show(second).orElseThrow().consumedAt()).isNotNull();
    onA.spendAll(List.of(x));
    assertThat(b.show(first).orElseThrow().consumedAt()).isNotNull();
  }

  private void assertReleasedAcrossReplicas(ReviewService a, ReviewService b, String statement)
      throws Exception {
    Gate gateB = track(Kit.gate(policy, audit, b, b, Clock.systemUTC()));
    Held held = new Held();
    Run run =
        authorizeAsync(
            gateB.open(user("alice", "dev"), CONN, "postgres", "10.0.0.7"), sql(statement), held);
    String id = held.id.get(10, SECONDS);
    assertThat(a.show(id)).get().extracting(ReviewView::state).isEqualTo("pending");

    long approvedAt = System.nanoTime();
    a.approve(id, user("carol", "dba"), "ok from replica A");

    assertThat(run.result().get(10, SECONDS).reviewId()).isEqualTo(id);
    assertThat(Duration.ofNanos(System.nanoTime() - approvedAt)).isLessThan(Duration.ofSeconds(10));
    assertThat(a.show(id).orElseThrow().consumedAt()).isNotNull();
  }
}
