package dev.gatehouse.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.Database;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** {@link TokenServiceContract} on the embedded store (H2 in PostgreSQL mode). */
class TokenServiceH2Test extends TokenServiceContract {
  @Override
  Database freshDatabase() {
    return Database.inMemory("identity-" + UUID.randomUUID());
  }

  @Override
  void release(Database db) {
    db.close();
  }

  @Test
  void expiryIsReportedAsStoredWithARealClock() throws Exception {
    TokenService real = new TokenService(db, Configs.identity(USERS), audit, Clock.systemUTC());

    IssuedToken t =
        real.issue(
            "alice",
            Set.of(),
            PrincipalKind.HUMAN,
            Duration.ofNanos(3_600_000_000_123L),
            Set.of(),
            Map.of(),
            "x");

    assertThat(real.authenticate(t.secret()).expiresAt()).isEqualTo(t.expiresAt());
  }

  @Test
  void sessionsEndWhenRevocationsCannotBeCheckedForTooLong() throws Exception {
    IssuedToken t = issueAlice(Duration.ofHours(1));
    Principal p = tokens.authenticate(t.secret());
    assertThat(tokens.stillValid(p, clock.instant())).isTrue();

    db.close(); // the store becomes unreachable
    clock.advance(TokenService.REVOCATION_REFRESH);
    assertThat(tokens.stillValid(p, clock.instant())).as("a short outage is tolerated").isTrue();
    clock.advance(TokenService.REVOCATION_MAX_STALENESS);

    assertThat(tokens.stillValid(p, clock.instant())).isFalse();
  }

  @Test
  void aBurstAfterAnIdleSpellWaitsForTheReloadInsteadOfFailingClosed() throws Exception {
    IssuedToken t = issueAlice(Duration.ofHours(1));
    Principal p = tokens.authenticate(t.secret());
    assertThat(tokens.stillValid(p, clock.instant())).isTrue();
    clock.advance(TokenService.REVOCATION_MAX_STALENESS.plusSeconds(1)); // no check for a while

    // Another session's check is reloading the revoked set (it holds the lock) when this one asks.
    java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Thread reloader =
        Thread.ofPlatform()
            .start(
                () -> {
                  tokens.refreshLock.lock();
                  try {
                    held.countDown();
                    release.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  } finally {
                    tokens.refreshLock.unlock();
                  }
                });
    held.await();
    java.util.concurrent.CompletableFuture<Boolean> valid =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> tokens.stillValid(p, clock.instant()));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!valid.isDone()
        && !tokens.refreshLock.hasQueuedThreads()
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    release.countDown();
    reloader.join();

    assertThat(valid.get(10, java.util.concurrent.TimeUnit.SECONDS))
        .as("the token is neither expired nor revoked: the check waits for the reload")
        .isTrue();
  }
}
