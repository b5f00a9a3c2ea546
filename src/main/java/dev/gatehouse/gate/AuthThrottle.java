package dev.gatehouse.gate;

import dev.gatehouse.config.GatehouseConfig.AuthConfig;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Slows down credential guessing on every listener alike: counts failed authentications per client
 * address and per claimed identity (so a guess spread over many addresses at one user is slowed
 * too), and once a key has {@link AuthConfig#addressFailures()} (or {@link
 * AuthConfig#identityFailures()}) failures within {@link AuthConfig#window()}, refuses its attempts
 * <em>without checking the credential</em> for a back-off period: {@link AuthConfig#backoff()},
 * doubled for each further period the key earns, up to {@link AuthConfig#maxBackoff()}. A key that
 * stays quiet for {@code maxBackoff} after its last period starts over. A success resets its
 * address (the identity's count runs on: the owner logging in must not wipe out a distributed guess
 * at the same account).
 *
 * <p>This is the approach of OWASP's authentication cheat sheet ("Protect against automated
 * attacks": account and address throttling with an exponential delay, rather than a hard lockout a
 * stranger could trigger forever) and of fail2ban's {@code bantime.increment}. It does not stop a
 * patient attacker with many addresses guessing at many identities; the real defence there is that
 * gateway tokens carry 256 random bits.
 *
 * <p>IPv6 clients are counted per /64, the prefix one host or subscriber line normally gets (RFC
 * 6177 section 2; RFC 7421), so rotating addresses within it gains nothing.
 *
 * <p>Memory is bounded: at most {@link AuthConfig#maxTracked()} keys are remembered, the least
 * recently seen evicted first. An attacker can push its own key out by failing from that many other
 * addresses, but each of those failures is itself counted (and the identity's key, touched on every
 * attempt at it, stays). Claimed identities are cut to {@link #MAX_IDENTITY_CHARS}.
 *
 * <p>Per replica: replicas behind one load balancer each count what they see.
 *
 * <p>Thread-safe; every operation is a few map operations under one lock.
 */
final class AuthThrottle {
  /** Longest claimed identity kept as a key (subjects are e-mail addresses, at most 254). */
  static final int MAX_IDENTITY_CHARS = 256;

  /** Which counter refused or started a period. */
  enum Scope {
    ADDRESS,
    IDENTITY
  }

  /** Attempts are refused for {@code retryAfter}; {@code scope} says which counter refused. */
  record Refusal(Scope scope, Duration retryAfter) {
    String message() {
      return "too many failed authentication attempts "
          + (scope == Scope.ADDRESS ? "from this address" : "for this identity")
          + "; try again in "
          + seconds(retryAfter)
          + " s";
    }
  }

  /** A throttling period that has just begun: audited once, as {@code auth.throttled}. */
  record Started(Scope scope, String key, int failures, Duration period, Instant until) {}

  private static final class Counter {
    Instant windowStart;
    int failures;
    Instant blockedUntil; // null: never blocked, or forgiven
    int periods; // throttling periods so far, for the growing back-off
  }

  private final AuthConfig limits;
  private final Clock clock;

  // Access order: the eldest entry is the least recently seen. Guarded by this.
  private final LinkedHashMap<String, Counter> entries;

  AuthThrottle(AuthConfig limits, Clock clock) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.entries =
        new LinkedHashMap<>(64, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Counter> eldest) {
            return size() > limits.maxTracked();
          }
        };
  }

  /** Whole seconds, rounded up, at least 1: what a client is told to wait. */
  static long seconds(Duration d) {
    return Math.max(1, (d.toMillis() + 999) / 1000);
  }

  boolean enabled() {
    return limits.enabled();
  }

  /** Null if {@code a} may have its credential checked; otherwise why not and for how long. */
  synchronized Refusal check(AuthAttempt a) {
    if (!limits.enabled()) {
      return null;
    }
    Instant now = clock.instant();
    Refusal worst = null;
    for (Scope scope : Scope.values()) {
      String key = key(scope, a);
      Counter e = key == null ? null : entries.get(key);
      if (e != null && e.blockedUntil != null && now.isBefore(e.blockedUntil)) {
        Duration left = Duration.between(now, e.blockedUntil);
        if (worst == null || left.compareTo(worst.retryAfter()) > 0) {
          worst = new Refusal(scope, left);
        }
      }
    }
    return worst;
  }

  /** Counts a failed attempt; returns the throttling periods it started (at most one per key). */
  List<Started> failed(AuthAttempt a) {
    if (!limits.enabled()) {
      return List.of();
    }
    List<Started> started = new ArrayList<>(2);
    synchronized (this) {
      Instant now = clock.instant();
      for (Scope scope : Scope.values()) {
        String key = key(scope, a);
        if (key == null) {
          continue;
        }
        Counter e = entries.computeIfAbsent(key, k -> new Counter());
        if (e.blockedUntil != null && !now.isBefore(e.blockedUntil.plus(limits.maxBackoff()))) {
          e.periods = 0; // quiet for a whole maximum back-off: start over
          e.blockedUntil = null;
        }
        if (e.windowStart == null || !now.isBefore(e.windowStart.plus(limits.window()))) {
          e.windowStart = now;
          e.failures = 0;
        }
        e.failures++;
        int limit = scope == Scope.ADDRESS ? limits.addressFailures() : limits.identityFailures();
        if (e.failures >= limit && (e.blockedUntil == null || !now.isBefore(e.blockedUntil))) {
          Duration period = backoff(e.periods);
          e.periods++;
          e.blockedUntil = now.plus(period);
          started.add(new Started(scope, show(key), e.failures, period, e.blockedUntil));
          e.failures = 0;
          e.windowStart = null;
        }
      }
    }
    return started;
  }

  /** A credential was accepted: the address starts over. */
  synchronized void succeeded(AuthAttempt a) {
    if (limits.enabled()) {
      entries.remove(key(Scope.ADDRESS, a));
    }
  }

  /** Number of addresses and identities remembered now. */
  synchronized int tracked() {
    return entries.size();
  }

  /** {@code backoff * 2^periods}, at most {@code maxBackoff}. */
  private Duration backoff(int periods) {
    Duration d = limits.backoff();
    for (int i = 0; i < periods && d.compareTo(limits.maxBackoff()) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(limits.maxBackoff()) > 0 ? limits.maxBackoff() : d;
  }

  private static String key(Scope scope, AuthAttempt a) {
    if (scope == Scope.IDENTITY) {
      String id = a.identity();
      if (id == null) {
        return null;
      }
      return "i:" + (id.length() > MAX_IDENTITY_CHARS ? id.substring(0, MAX_IDENTITY_CHARS) : id);
    }
    return "a:" + address(a.address());
  }

  /** The address as counted: IPv4 as is, IPv6 as its /64 prefix. */
  static String address(InetAddress address) {
    if (address == null) {
      return "unknown";
    }
    if (address instanceof Inet6Address v6) {
      byte[] b = v6.getAddress();
      HexFormat hex = HexFormat.of();
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < 8; i += 2) {
        sb.append(hex.toHexDigits(b[i])).append(hex.toHexDigits(b[i + 1])).append(':');
      }
      return sb.append(":/64").toString();
    }
    return address.getHostAddress();
  }

  private static String show(String key) {
    return key.substring(2);
  }
}
