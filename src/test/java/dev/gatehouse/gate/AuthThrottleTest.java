package dev.gatehouse.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.AuthConfig;
import dev.gatehouse.gate.AuthThrottle.Scope;
import dev.gatehouse.testing.MovingClock;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The counting rules of {@link AuthThrottle}, on a clock the test moves. */
class AuthThrottleTest {
  static final AuthConfig LIMITS =
      new AuthConfig(
          true, 3, 5, Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofMinutes(15), 100);

  final MovingClock clock = new MovingClock(Instant.parse("2026-11-22T10:00:00Z"));

  static AuthAttempt from(String address, String identity) throws Exception {
    return new AuthAttempt("test", InetAddress.getByName(address), identity);
  }

  @Test
  void addressIsRefusedAfterTheLimitUntilTheBackOffEnds() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    AuthAttempt a = from("192.0.2.1", "alice");

    assertThat(t.failed(a)).isEmpty();
    assertThat(t.failed(a)).isEmpty();
    assertThat(t.begin(a)).isNull();
    var started = t.failed(a);

    assertThat(started)
        .singleElement()
        .satisfies(s -> assertThat(s.scope()).isEqualTo(Scope.ADDRESS));
    assertThat(started.get(0).key()).isEqualTo("192.0.2.1");
    var refusal = t.begin(a);
    assertThat(refusal.scope()).isEqualTo(Scope.ADDRESS);
    assertThat(refusal.retryAfter()).isEqualTo(Duration.ofMinutes(1));
    assertThat(refusal.message())
        .isEqualTo("too many failed authentication attempts from this address; try again in 60 s");
    assertThat(t.begin(from("192.0.2.1", "bob"))).isNotNull(); // any identity from there
    assertThat(t.addressBlock(from("192.0.2.1", "bob"))).isNotNull(); // public keys too
    assertThat(t.identityBlock(from("192.0.2.2", "alice"))).isNull(); // alice from elsewhere

    clock.advance(Duration.ofSeconds(59));
    assertThat(t.addressBlock(a)).isNotNull();
    clock.advance(Duration.ofSeconds(1));
    assertThat(t.addressBlock(a)).isNull();
  }

  @Test
  void failuresOutsideTheWindowDoNotAddUp() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    AuthAttempt a = from("192.0.2.1", null);

    t.failed(a);
    t.failed(a);
    clock.advance(Duration.ofMinutes(1));
    assertThat(t.failed(a)).isEmpty();

    assertThat(t.addressBlock(a)).isNull();
  }

  @Test
  void anIdentityIsThrottledWhenTheGuessesComeFromManyAddresses() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    for (int i = 1; i <= 4; i++) {
      assertThat(t.failed(from("192.0.2." + i, "alice"))).isEmpty();
    }
    var started = t.failed(from("192.0.2.5", "alice"));

    assertThat(started).extracting(AuthThrottle.Started::scope).containsExactly(Scope.IDENTITY);
    assertThat(started.get(0).key()).isEqualTo("alice");
    var refusal = t.identityBlock(from("198.51.100.7", "alice"));
    assertThat(refusal.scope()).isEqualTo(Scope.IDENTITY);
    assertThat(refusal.message()).contains("for this identity");
    assertThat(t.identityBlock(from("198.51.100.7", "bob"))).isNull();
  }

  @Test
  void anIdentityBlockNeitherRefusesTheCheckNorAPublicKey() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    for (int i = 1; i <= 5; i++) {
      t.failed(from("192.0.2." + i, "alice")); // strangers claiming alice
    }
    AuthAttempt owner = from("198.51.100.7", "alice");
    assertThat(t.identityBlock(owner)).isNotNull();

    assertThat(t.begin(owner)).isNull(); // her credential is checked
    t.finished(owner);
    assertThat(t.addressBlock(owner)).isNull(); // her key is matched
    // Failures at a blocked identity go on being counted: another period is earned.
    clock.advance(Duration.ofSeconds(30));
    for (int i = 0; i < 4; i++) {
      assertThat(t.failed(from("203.0.113." + i, "alice"))).isEmpty();
    }
    clock.advance(Duration.ofSeconds(30)); // the block is over, the window is not
    assertThat(t.failed(from("203.0.113.9", "alice")))
        .extracting(AuthThrottle.Started::period)
        .containsExactly(Duration.ofMinutes(2));
  }

  @Test
  void parallelAttemptsAreBoundedByTheFailuresLeftInTheWindow() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    AuthAttempt a = from("192.0.2.1", null);
    assertThat(t.begin(a)).isNull();
    assertThat(t.begin(a)).isNull();
    assertThat(t.begin(a)).isNull();

    var busy = t.begin(a); // three in flight: all three may still fail
    assertThat(busy.scope()).isEqualTo(Scope.ADDRESS);
    assertThat(busy.message())
        .isEqualTo(
            "too many authentication attempts in progress from this address; try again in 1 s");
    assertThat(t.failed(a)).isEmpty(); // one failure, two in flight
    assertThat(t.begin(a)).isNotNull();
    t.finished(a); // one failure, one in flight
    assertThat(t.begin(a)).isNull();
    assertThat(t.failed(a)).isEmpty();
    assertThat(t.failed(a)).singleElement(); // the third failure: never more than the limit
    assertThat(t.begin(a).inFlight()).isFalse(); // now blocked
  }

  @Test
  void backOffDoublesPerPeriodUpToTheMaximumAndIsForgivenAfterAQuietSpell() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    AuthAttempt a = from("192.0.2.1", null);
    long[] expectedMinutes = {1, 2, 4, 8, 15, 15};
    for (long minutes : expectedMinutes) {
      t.failed(a);
      t.failed(a);
      var started = t.failed(a);
      assertThat(started).singleElement();
      assertThat(started.get(0).period()).isEqualTo(Duration.ofMinutes(minutes));
      clock.advance(Duration.ofMinutes(minutes));
      assertThat(t.addressBlock(a)).isNull();
    }

    clock.advance(Duration.ofMinutes(15)); // quiet for a whole maximum back-off
    t.failed(a);
    t.failed(a);
    assertThat(t.failed(a).get(0).period()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void aPeriodStartsOnceNotOncePerAttempt() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    AuthAttempt a = from("192.0.2.1", null);
    int starts = 0;
    for (int i = 0; i < 10; i++) {
      starts += t.failed(a).size(); // as if counted late: still one period
    }

    assertThat(starts).isEqualTo(1);
  }

  @Test
  void aSuccessErasesNoFailure() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    AuthAttempt a = from("192.0.2.1", "alice");
    t.failed(a);
    t.failed(a);
    assertThat(t.begin(a)).isNull();
    t.finished(a); // one good login

    assertThat(t.failed(a)) // and the next bad guess is the third in the window
        .extracting(AuthThrottle.Started::scope)
        .containsExactly(Scope.ADDRESS);
    assertThat(t.addressBlock(a)).isNotNull();
  }

  @Test
  void anAddressWithNothingToRememberIsForgottenWhenItsAttemptEnds() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    AuthAttempt a = from("192.0.2.1", "alice");
    assertThat(t.begin(a)).isNull();
    assertThat(t.tracked()).isEqualTo(1);

    t.finished(a);

    assertThat(t.tracked()).isZero();
  }

  @Test
  void trackedKeysAreBoundedEvictingTheLeastRecentlySeen() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    AuthAttempt first = from("10.0.0.1", null);
    t.failed(first);
    t.failed(first);
    t.failed(first);
    assertThat(t.addressBlock(first)).isNotNull();

    for (int i = 0; i < 1000; i++) {
      t.failed(from("10.1." + (i / 250) + "." + (i % 250), null));
      assertThat(t.tracked()).isLessThanOrEqualTo(LIMITS.maxTracked());
    }

    assertThat(t.tracked()).isEqualTo(LIMITS.maxTracked());
    assertThat(t.addressBlock(first)).isNull(); // evicted: the price of bounded memory
  }

  @Test
  void ipv6IsCountedPerSlash64() throws Exception {
    AuthThrottle t = new AuthThrottle(LIMITS, clock);
    t.failed(from("2001:db8:1:2::1", null));
    t.failed(from("2001:db8:1:2::2", null));
    t.failed(from("2001:db8:1:2:aaaa::3", null));

    assertThat(t.addressBlock(from("2001:db8:1:2:ffff::9", null))).isNotNull();
    assertThat(t.addressBlock(from("2001:db8:1:3::1", null))).isNull();
    assertThat(AuthThrottle.address(InetAddress.getByName("2001:db8:1:2::1")))
        .isEqualTo("2001:0db8:0001:0002::/64");
  }

  @Test
  void disabledCountsNothing() throws Exception {
    AuthConfig off =
        new AuthConfig(
            false, 1, 1, Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofMinutes(1), 10);
    AuthThrottle t = new AuthThrottle(off, clock);
    AuthAttempt a = from("192.0.2.1", "alice");
    for (int i = 0; i < 5; i++) {
      assertThat(t.failed(a)).isEmpty();
    }

    assertThat(t.begin(a)).isNull();
    assertThat(t.identityBlock(a)).isNull();
    assertThat(t.tracked()).isZero();
  }
}
