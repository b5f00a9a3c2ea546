package dev.gatehouse.ssh;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticated upstream sessions kept for reuse, so that a client connection (one {@code ssh host
 * cmd}, one {@code scp}) does not pay a TCP connect, a key exchange and a login to the target on
 * top of its own.
 *
 * <h2>Why this is safe</h2>
 *
 * <ul>
 *   <li>The gateway logs in to the target with the connection's own credential from the vault,
 *       which is the same for every caller of that connection: a pooled session is exactly the
 *       session any caller of the connection would have opened. Sessions are keyed by connection
 *       name, host, port, user name, pinned host keys and a hash of the credential, so a changed
 *       pin, target or (rotated) credential never reuses an older session.
 *   <li>A session is leased to one client connection at a time, never shared concurrently. Every
 *       request still opens its own channel, and SSH channels are isolated by the protocol (RFC
 *       4254 section 5): separate data streams, environment, terminal and exit status. A session
 *       that carried session-wide state (a remote forward's listener, agent forwarding; see {@link
 *       SshForwarding}) is released as not reusable and closed ({@code
 *       SshConnection.upstreamWithState}), so a session carries no state from one lease to the
 *       next.
 *   <li>A session comes back to the pool only when the lease ended with no channel left open on it;
 *       otherwise (a command cut off by revocation, a client gone mid-transfer) it is closed.
 *   <li>Host key pinning is unchanged: every new session is verified against the pins when it is
 *       opened, and a reused one was verified the same way; a connect that fails on the host key or
 *       the credential is never pooled.
 *   <li>Idle sessions expire after {@link #IDLE}, and any session is retired after {@link #MAX_AGE}
 *       or {@link #MAX_LEASES} leases; closed or closing sessions are dropped on sight.
 * </ul>
 */
final class SshUpstreamPool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SshUpstreamPool.class);

  /** How long an idle session is kept. */
  static final Duration IDLE = Duration.ofSeconds(60);

  /** A session is not leased again after this long. */
  static final Duration MAX_AGE = Duration.ofMinutes(10);

  /** A session is not leased again after this many leases. */
  static final int MAX_LEASES = 1000;

  /** Idle sessions kept per key. */
  static final int MAX_IDLE_PER_KEY = 4;

  private final SshClient client;
  private final Map<String, Deque<Idle>> idle = new HashMap<>();
  private boolean closed;
  private Thread sweeper;

  SshUpstreamPool(SshClient client) {
    this.client = client;
  }

  private record Idle(Pooled up, long since) {}

  /** An upstream session with its pool bookkeeping. */
  static final class Pooled {
    final SshUpstream up;
    final String key;
    final long created = System.nanoTime();
    int leases;

    Pooled(SshUpstream up, String key) {
      this.up = up;
      this.key = key;
    }
  }

  /**
   * A session for one client connection: an idle one for the same key when there is a healthy one,
   * else a new one ({@link SshUpstream#connect}).
   */
  Pooled acquire(GateSession gate) throws GateException {
    return acquire(gate.connection(), gate.upstreamCredentials(), gate::audit);
  }

  /**
   * {@link #acquire(GateSession)} for a connection other than the session's own (an ssh connection
   * used as an exec runner), with its credentials already opened; refusals are audited on {@code
   * audit}.
   */
  Pooled acquire(ConnectionConfig conn, Map<String, String> creds, SshUpstream.Audit audit)
      throws GateException {
    String key = key(conn, creds);
    List<Pooled> stale = new ArrayList<>();
    Pooled found = null;
    synchronized (this) {
      Deque<Idle> q = idle.get(key);
      while (q != null && !q.isEmpty()) {
        Pooled p = q.pollLast().up; // most recently used first: the warmest
        if (usable(p)) {
          found = p;
          break;
        }
        stale.add(p);
      }
      if (q != null && q.isEmpty()) {
        idle.remove(key);
      }
    }
    stale.forEach(p -> p.up.close());
    if (found == null) {
      found = new Pooled(SshUpstream.connect(client, conn, () -> creds, audit), key);
    } else {
      log.debug("reusing upstream session for {}", conn.name());
    }
    found.leases++;
    return found;
  }

  /**
   * Ends a lease. The session goes back to the pool only when it is healthy, has no channel left
   * open and {@code reusable} is true; otherwise it is closed.
   */
  void release(Pooled p, boolean reusable) {
    boolean keep = reusable && usable(p) && noChannels(p.up.session());
    if (keep) {
      synchronized (this) {
        if (!closed) {
          Deque<Idle> q = idle.computeIfAbsent(p.key, k -> new ArrayDeque<>());
          q.addLast(new Idle(p, System.nanoTime()));
          Pooled evicted = q.size() > MAX_IDLE_PER_KEY ? q.pollFirst().up : null;
          startSweeper();
          if (evicted != null) {
            evicted.up.close();
          }
          return;
        }
      }
    }
    p.up.close();
  }

  private static boolean usable(Pooled p) {
    ClientSession s = p.up.session();
    return s.isOpen()
        && !s.isClosing()
        && s.isAuthenticated()
        && p.leases < MAX_LEASES
        && System.nanoTime() - p.created < MAX_AGE.toNanos();
  }

  static boolean noChannels(ClientSession s) {
    try {
      var service = s.getService(org.apache.sshd.common.session.ConnectionService.class);
      return service instanceof org.apache.sshd.common.session.helpers.AbstractConnectionService a
          && a.getChannels().isEmpty();
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Closes sessions idle longer than {@link #IDLE}, and unusable ones. */
  void sweep() {
    List<Pooled> drop = new ArrayList<>();
    long now = System.nanoTime();
    synchronized (this) {
      for (Iterator<Deque<Idle>> qs = idle.values().iterator(); qs.hasNext(); ) {
        Deque<Idle> q = qs.next();
        for (Iterator<Idle> i = q.iterator(); i.hasNext(); ) {
          Idle e = i.next();
          if (now - e.since() > IDLE.toNanos() || !usable(e.up())) {
            i.remove();
            drop.add(e.up());
          }
        }
        if (q.isEmpty()) {
          qs.remove();
        }
      }
    }
    drop.forEach(p -> p.up.close());
  }

  /** Idle sessions held now (tests). */
  synchronized int idleCount() {
    return idle.values().stream().mapToInt(Deque::size).sum();
  }

  private void startSweeper() {
    if (sweeper != null && sweeper.isAlive()) {
      return;
    }
    sweeper =
        Thread.ofVirtual()
            .name("ssh-upstream-pool")
            .start(
                () -> {
                  try {
                    while (true) {
                      Thread.sleep(5_000);
                      sweep();
                      synchronized (this) {
                        if (closed || idle.isEmpty()) {
                          sweeper = null;
                          return;
                        }
                      }
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
  }

  @Override
  public void close() {
    List<Pooled> all = new ArrayList<>();
    synchronized (this) {
      closed = true;
      idle.values().forEach(q -> q.forEach(e -> all.add(e.up())));
      idle.clear();
      if (sweeper != null) {
        sweeper.interrupt();
      }
    }
    all.forEach(p -> p.up.close());
  }

  /**
   * The pool key: everything that decides which session {@link SshUpstream#connect} would open. The
   * credential enters only as a SHA-256 over its values, never as itself.
   */
  static String key(ConnectionConfig conn, Map<String, String> creds) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (Map.Entry<String, String> e : new TreeMap<>(creds).entrySet()) {
        update(d, e.getKey());
        update(d, e.getValue());
      }
      StringBuilder sb = new StringBuilder();
      sb.append(conn.name()).append('\0').append(conn.host()).append('\0').append(conn.port());
      sb.append('\0').append(conn.username()).append('\0');
      if (conn.ssh() != null) {
        for (String pin : conn.ssh().hostKeys()) {
          sb.append(pin.trim()).append('\n');
        }
      }
      sb.append('\0').append(HexFormat.of().formatHex(d.digest()));
      return sb.toString();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void update(MessageDigest d, String s) {
    byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
    d.update((byte) (b.length >>> 24));
    d.update((byte) (b.length >>> 16));
    d.update((byte) (b.length >>> 8));
    d.update((byte) b.length);
    d.update(b);
  }
}
