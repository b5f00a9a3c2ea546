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
}
