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
 * address and per claimed identity (so a guess spread over many addresses at one user is seen too).
 * Once a key has {@link AuthConfig#addressFailures()} (or {@link AuthConfig#identityFailures()})
 * failures within {@link AuthConfig#window()}, it is blocked for a back-off period: {@link
 * AuthConfig#backoff()}, doubled for each further period the key earns, up to {@link
 * AuthConfig#maxBackoff()}. A key that stays quiet for {@code maxBackoff} after its last period
 * starts over.
 *
 * <p>The two blocks differ in what they refuse:
 *
 * <ul>
 *   <li>An <b>address</b> block refuses every attempt from the address <em>without checking the
 *       credential</em>, whatever the method: the brake on brute force from one source.
 *   <li>An <b>identity</b> block refuses only <em>failed</em> attempts at the identity (they are
 *       still counted and audited); a valid credential is let through. The identity is a name the
 *       client chooses (PostgreSQL {@code user}, the SSH login), so refusing valid credentials for
 *       it would let anyone lock anyone out; and checking the credential gives a guesser nothing,
 *       since gateway tokens carry 256 random bits. Public-key logins are not identity-throttled at
 *       all ({@link #addressBlock}): a key cannot be guessed.
 * </ul>
 *
 * <p>A success erases nothing: the failures before it expire with the window, so one valid
 * credential does not buy an address endless rounds of guesses (nine bad, one good, repeat).
 *
 * <p>Parallel attempts: {@link #begin} counts an attempt as in flight until {@link #failed} or
 * {@link #finished}, and refuses one when the address's failures in the window plus its attempts in
 * flight already reach {@code addressFailures}. So at most that many credential checks from one
 * address are ever outstanding, and a burst of parallel connections cannot all be checked before
 * the first failure is counted. (It also caps how many checks one address may have in flight at
 * once, which a busy client behind a shared address may notice as a short refusal.)
 *
 * <p>This is the approach of OWASP's authentication cheat sheet ("Protect against automated
 * attacks": account and address throttling with an exponential delay, rather than a hard lockout a
 * stranger could trigger forever) and of fail2ban's {@code bantime.increment}. It does not stop a
 * patient attacker with many addresses guessing at many identities; the real defence there is that
 * gateway tokens carry 256 random bits.
 *
 * <p>The address is the TCP peer: behind a load balancer that rewrites source addresses (SNAT) all
 * clients share one address and are throttled together.
 *
 * <p>IPv6 clients are counted per /64, the prefix one host or subscriber line normally gets (RFC
 * 6177 section 2; RFC 7421), so rotating addresses within it gains nothing.
 *
 * <p>Memory is bounded: at most {@link AuthConfig#maxTracked()} keys are remembered, the least
 * recently seen evicted first (an address with nothing to remember is forgotten when its attempt
 * ends). An attacker can push its own key out by failing from that many other addresses, but each
 * of those failures is itself counted. Claimed identities are cut to {@link #MAX_IDENTITY_CHARS}.
 *
 * <p>Per replica: replicas behind one load balancer each count what they see.
 *
 * <p>Thread-safe; every operation is a few map operations under one lock.
 */
final class AuthThrottle {
  /** Longest claimed identity kept as a key (subjects are e-mail addresses, at most 254). */
  static final int MAX_IDENTITY_CHARS = 256;

  /** How long a client refused for too many attempts in flight is told to wait. */
  static final Duration IN_FLIGHT_RETRY = Duration.ofSeconds(1);

  /** Which counter refused or started a period. */
  enum Scope {
    ADDRESS,
    IDENTITY
  }

  /**
   * Attempts are refused for {@code retryAfter}; {@code scope} says which counter refused; {@code
   * inFlight}: because of the attempts from the address still being checked, not a block.
   */
  record Refusal(Scope scope, Duration retryAfter, boolean inFlight) {
    Refusal(Scope scope, Duration retryAfter) {
      this(scope, retryAfter, false);
    }

    String message() {
      return (inFlight
              ? "too many authentication attempts in progress"
              : "too many failed authentication attempts")
          + (scope == Scope.ADDRESS ? " from this address" : " for this identity")
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
    int inFlight; // attempts begun and not yet ended (addresses only)
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

  /**
   * Null if {@code a}'s address is not blocked; counts and reserves nothing. For public-key logins,
   * which only an address block refuses.
   */
  synchronized Refusal addressBlock(AuthAttempt a) {
    return limits.enabled() ? blocked(Scope.ADDRESS, a, clock.instant()) : null;
  }

  /**
   * Null if {@code a}'s claimed identity is not blocked. An identity block does not stop a
   * credential being checked: it words the refusal of one that failed.
   */
  synchronized Refusal identityBlock(AuthAttempt a) {
    return limits.enabled() ? blocked(Scope.IDENTITY, a, clock.instant()) : null;
  }

  /**
   * Starts an attempt whose credential is to be checked: a refusal if its address is blocked or
   * already has as many attempts in flight as it has failures left in the window; otherwise null,
   * and the attempt is in flight until {@link #failed} or {@link #finished}.
   */
  synchronized Refusal begin(AuthAttempt a) {
    if (!limits.enabled()) {
      return null;
    }
    Instant now = clock.instant();
    Refusal r = blocked(Scope.ADDRESS, a, now);
    if (r != null) {
      return r;
    }
    Counter e = entries.computeIfAbsent(key(Scope.ADDRESS, a), k -> new Counter());
    if (failuresInWindow(e, now) + e.inFlight >= limits.addressFailures()) {
      return new Refusal(Scope.ADDRESS, IN_FLIGHT_RETRY, true);
    }
    e.inFlight++;
    return null;
  }

  /**
   * Counts a failed attempt (ending it, if {@link #begin begun}); returns the throttling periods it
   * started (at most one per key).
   */
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
        if (e.inFlight > 0) {
          e.inFlight--;
        }
        if (e.blockedUntil != null && !now.isBefore(e.blockedUntil.plus(limits.maxBackoff()))) {
          e.periods = 0; // quiet for a whole maximum back-off: start over
          e.blockedUntil = null;
        }
        if (failuresInWindow(e, now) == 0) {
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

  /**
   * Ends a {@link #begin begun} attempt that did not fail (a success, or a check that could not be
   * made). A success erases no failure: they expire with the window.
   */
  synchronized void finished(AuthAttempt a) {
    if (!limits.enabled()) {
      return;
    }
    String key = key(Scope.ADDRESS, a);
    Counter e = entries.get(key);
    if (e == null) {
      return; // evicted meanwhile
    }
    if (e.inFlight > 0) {
      e.inFlight--;
    }
    if (e.inFlight == 0 && e.periods == 0 && failuresInWindow(e, clock.instant()) == 0) {
      entries.remove(key); // nothing to remember: keep the map for addresses that failed
    }
  }

  /** Number of addresses and identities remembered now. */
  synchronized int tracked() {
    return entries.size();
  }

  /** A refusal if {@code scope}'s key of {@code a} is blocked now, otherwise null. */
  private Refusal blocked(Scope scope, AuthAttempt a, Instant now) {
    String key = key(scope, a);
    Counter e = key == null ? null : entries.get(key);
    if (e != null && e.blockedUntil != null && now.isBefore(e.blockedUntil)) {
      return new Refusal(scope, Duration.between(now, e.blockedUntil));
    }
    return null;
  }

  /** {@code e}'s failures in the current window (0 if the window has passed). */
  private int failuresInWindow(Counter e, Instant now) {
    return e.windowStart == null || !now.isBefore(e.windowStart.plus(limits.window()))
        ? 0
        : e.failures;
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
