package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_ALICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.config.GatehouseConfig.AuthConfig;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.postgres.PgTestSupport.Run;
import dev.gatehouse.testing.MovingClock;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Failed logins slow down the PostgreSQL listener: real pgjdbc and psql against a listener whose
 * gate throttles after 3 failures per address, on a clock the test moves (no sleeping).
 */
class PgAuthThrottleTest {
  static final String WRONG = "tok-not-a-real-one";

  PgTestSupport t;
  MovingClock clock;
  Gate gate;
  PgProtocolServer server;
  int auditBefore;

  @BeforeEach
  void start() throws Exception {
    start(3, 100);
  }

  /** A listener whose gate throttles after the given failures per address and per identity. */
  void start(int addressFailures, int identityFailures) throws Exception {
    t = PgTestSupport.get();
    clock = MovingClock.now();
    gate =
        t.gateWith(() -> t.new TestPolicy())
            .clock(clock)
            .authLimits(
                new AuthConfig(
                    true,
                    addressFailures,
                    identityFailures,
                    Duration.ofMinutes(1),
                    Duration.ofMinutes(1),
                    Duration.ofMinutes(15),
                    1000))
            .build();
    server =
        new PgProtocolServer(
            gate,
            "127.0.0.1",
            0,
            PgTestSupport.selfSigned().serverContext(),
            false,
            t.connections::get);
    server.start();
    auditBefore = t.audit.size();
  }

  @AfterEach
  void stop() {
    server.close();
    gate.close();
  }

  Connection connect(String token) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:"
            + server.address().getPort()
            + "/conn?sslmode=require&user=alice&password="
            + token);
  }

  Run psql(String token, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add("/usr/bin/psql");
    cmd.add(
        "host=127.0.0.1 port="
            + server.address().getPort()
            + " dbname=conn user=alice sslmode=require");
    cmd.addAll(List.of("-X", "-A", "-t", "-v", "VERBOSITY=verbose"));
    cmd.addAll(List.of(args));
    return PgTestSupport.run(token, Map.of(), cmd);
  }

  List<AuditEvent> throttledEvents() {
    return t.audit.subList(auditBefore, t.audit.size()).stream()
        .filter(e -> e.type().equals("auth.throttled"))
        .toList();
  }

  @Test
  void wrongTokensThrottleTheAddressEvenForTheRightTokenUntilTheBackOffEnds() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> connect(WRONG).close())
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"))
          .hasMessageNotContaining("too many");
    }

    // Now even the right token is refused, unchecked, with the protocol's own error.
    assertThatThrownBy(() -> connect(TOKEN_ALICE).close())
        .isInstanceOf(SQLException.class)
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"))
        .hasMessageContaining("too many failed authentication attempts from this address")
        .hasMessageContaining("try again in 60 s");
    Run refused = psql(TOKEN_ALICE, "-c", "select 1");
    assertThat(refused.exit()).isEqualTo(2);
    // psql prints no SQLSTATE for a failed connection; pgjdbc above showed 28P01
    assertThat(refused.err())
        .contains("FATAL:  gatehouse: too many failed authentication attempts")
        .doesNotContain(TOKEN_ALICE);
    assertThat(throttledEvents()).singleElement(); // once per period, not once per attempt
    assertThat(throttledEvents().get(0).data())
        .containsEntry("address", "127.0.0.1")
        .containsEntry("protocol", "postgres")
        .containsEntry("period_seconds", 60L);

    clock.advance(Duration.ofSeconds(61));

    Run allowed = psql(TOKEN_ALICE, "-c", "select 40+2");
    assertThat(allowed.exit()).as(allowed.all()).isZero();
    assertThat(allowed.out().strip()).isEqualTo("42");
    try (Connection c = connect(TOKEN_ALICE);
        ResultSet rs = c.createStatement().executeQuery("select 1")) {
      assertThat(rs.next()).isTrue();
    }
  }

  @Test
  void psqlWithAWrongTokenIsThrottledAndTheUserNameMismatchCountsToo() throws Exception {
    assertThat(psql(WRONG, "-c", "select 1").err()).contains("unknown or revoked token");
    assertThat(psql(WRONG, "-c", "select 1").err()).contains("unknown or revoked token");
    // a valid token of someone else, presented as alice: a failure too
    Run mismatch = psql(PgTestSupport.TOKEN_BENCH, "-c", "select 1");
    assertThat(mismatch.err()).contains("does not match the identity");

    Run throttled = psql(TOKEN_ALICE, "-c", "select 1");

    assertThat(throttled.exit()).isEqualTo(2);
    assertThat(throttled.err()).contains("too many failed authentication attempts");
    assertThat(throttledEvents()).hasSize(1);
  }

  @Test
  void aSuccessDoesNotResetTheAddressCount() throws Exception {
    assertThatThrownBy(() -> connect(WRONG).close()).isInstanceOf(SQLException.class);
    assertThatThrownBy(() -> connect(WRONG).close()).isInstanceOf(SQLException.class);
    connect(TOKEN_ALICE).close(); // one good login between the guesses
    assertThatThrownBy(() -> connect(WRONG).close()) // the third failure in the window
        .isInstanceOf(SQLException.class)
        .hasMessageNotContaining("too many");

    assertThatThrownBy(() -> connect(TOKEN_ALICE).close())
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("too many failed authentication attempts from this address");
    assertThat(throttledEvents()).singleElement();
  }

  @Test
  void aThrottledIdentityStillLogsInWithTheRightTokenAndOnlyFailuresAreRefused() throws Exception {
    stop();
    start(100, 3); // the address is not throttled here: only the identity the client names
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> connect(WRONG).close())
          .isInstanceOf(SQLException.class)
          .hasMessageNotContaining("too many");
    }
    assertThat(throttledEvents()).singleElement();
    assertThat(throttledEvents().get(0).data())
        .containsEntry("identity", "alice")
        .containsEntry("protocol", "postgres");

    // Anyone can send user=alice with junk: that must not keep alice out.
    try (Connection c = connect(TOKEN_ALICE);
        ResultSet rs = c.createStatement().executeQuery("select 40+2")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isEqualTo(42);
    }
    // A failure while the identity is throttled is refused as throttled, and still counted.
    clock.advance(Duration.ofSeconds(30));
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> connect(WRONG).close())
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"))
          .hasMessageContaining("too many failed authentication attempts for this identity");
    }
    clock.advance(Duration.ofSeconds(31)); // the block is over, the window of those is not
    assertThatThrownBy(() -> connect(WRONG).close()).isInstanceOf(SQLException.class);
    assertThat(throttledEvents()).hasSize(2); // the failures during the block made a second period
    assertThat(throttledEvents().get(1).data()).containsEntry("period_seconds", 120L);
  }
}
