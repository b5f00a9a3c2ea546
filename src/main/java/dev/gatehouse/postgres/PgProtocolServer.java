package dev.gatehouse.postgres;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.policy.Action;
import dev.gatehouse.server.ProtocolServer;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL listener: native clients connect here as if it were the database, and every
 * statement goes through the shared {@link Gate} before it is forwarded to the target. One virtual
 * thread per connection (plus one relaying the target's answers); see {@code package-info.java}.
 */
public final class PgProtocolServer implements ProtocolServer {
  private static final Logger log = LoggerFactory.getLogger(PgProtocolServer.class);

  private final Gate gate;
  private final String host;
  private final int port;
  private final SSLContext tls;
  private final boolean allowPlaintext;
  private final Function<String, ConnectionConfig> connections;
  private final Set<PgSession> sessions = ConcurrentHashMap.newKeySet();
  private final Map<Integer, CancelTarget> cancelTargets = new ConcurrentHashMap<>();
  private final Map<String, PgCatalog> catalogs = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final AtomicLong connectionCounter = new AtomicLong();
  private volatile Function<GateSession, RowFilter> rowFilters = s -> RowFilter.IDENTITY;
  private volatile ServerSocket listener;
  private volatile boolean closed;

  /**
   * @param gate the shared authorization flow
   * @param host address to bind ({@code 0.0.0.0} for all)
   * @param port port to bind; 0 picks a free one (see {@link #address()})
   * @param tls server TLS context; null means no TLS is offered (SSLRequest is answered 'N')
   * @param allowPlaintext accept clients that did not upgrade to TLS (loudly logged)
   * @param connections resolves a connection by name (used to route cancel requests to the current
   *     configuration of a session's target)
   */
  public PgProtocolServer(
      Gate gate,
      String host,
      int port,
      SSLContext tls,
      boolean allowPlaintext,
      Function<String, ConnectionConfig> connections) {
    this.gate = Objects.requireNonNull(gate, "gate");
    this.host = Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
    }
    this.port = port;
    this.tls = tls;
    this.allowPlaintext = allowPlaintext;
    this.connections = Objects.requireNonNull(connections, "connections");
  }

  /**
   * Describes SQL text as the actions the policy would decide on, one per statement (used by {@code
   * gatehouse policy test}).
   */
  public static List<Action> describeSql(String sql) {
    return SqlClassifier.classify(sql, true).stream().map(SqlStatement::action).toList();
  }

  @Override
  public String protocol() {
    return "postgres";
  }

  @Override
  public void start() throws IOException {
    if (listener != null) {
      throw new IllegalStateException("already started");
    }
    ServerSocket ss = new ServerSocket();
    ss.setReuseAddress(true);
    try {
      ss.bind(new InetSocketAddress(host, port), 128);
    } catch (BindException e) {
      ss.close();
      throw new BindException(
          "postgres listener cannot bind " + host + ":" + port + ": " + e.getMessage());
    }
    listener = ss;
    if (tls == null) {
      log.warn(
          "postgres listener on {} offers NO TLS: only plaintext clients can connect", address());
    } else if (allowPlaintext) {
      log.warn("postgres listener on {} accepts PLAINTEXT clients as well as TLS", address());
    }
    log.info("postgres listener on {}", address());
    Thread.ofVirtual().name("pg-accept-" + address().getPort()).start(this::acceptLoop);
  }

  /**
   * Sessions a listener serves at once (each holds two platform threads, see acceptLoop); more are
   * refused with SQLSTATE 53300 too_many_connections, so a flood of connections cannot exhaust the
   * gateway's threads. The targets' own max_connections is usually far lower.
   */
  static final int MAX_CONNECTIONS = 2000;

  private volatile int maxConnections = MAX_CONNECTIONS;

  /** For tests: a lower limit. */
  void maxConnections(int max) {
    maxConnections = max;
  }

  int maxConnections() {
    return maxConnections;
  }

  /** A builder for a session thread (see acceptLoop); builders are not thread-safe. */
  static Thread.Builder sessionThread() {
    return Thread.ofPlatform().daemon(true);
  }

  private void acceptLoop() {
    ServerSocket ss = listener;
    while (!closed) {
      try {
        Socket s = ss.accept();
        s.setTcpNoDelay(true);
        if (sessions.size() >= maxConnections) {
          // Past the limit a connection gets no platform threads: a virtual one answers its
          // startup with FATAL 53300 (bounded by the startup deadline) and closes it.
          log.warn("postgres: more than {} connections; refusing one", maxConnections);
          PgSession refusal = new PgSession(this, s, true);
          Thread.ofVirtual().name("pg-refuse").start(refusal::run);
          continue;
        }
        PgSession session = new PgSession(this, s);
        sessions.add(session);
        // Platform threads, not virtual ones: a statement's round trip wakes the session's two
        // threads once each, and a blocked platform thread is woken by the kernel directly, where
        // a virtual thread needs the poller and then a carrier thread (measured with pgbench -S,
        // 1 client: 0.23-0.31 ms per statement against 0.43-1.3 ms on a loaded 2-core machine).
        // An idle session costs two parked threads whose stacks are committed only as used.
        sessionThread()
            .name("pg-session-" + connectionCounter.incrementAndGet())
            .start(
                () -> {
                  try {
                    session.run();
                  } finally {
                    sessions.remove(session);
                  }
                });
      } catch (SocketException e) {
        if (!closed) {
          log.error("postgres listener failed", e);
        }
        return;
      } catch (IOException e) {
        log.warn("accept failed", e);
      }
    }
  }

  @Override
  public InetSocketAddress address() {
    ServerSocket ss = listener;
    if (ss == null) {
      throw new IllegalStateException("not started");
    }
    return (InetSocketAddress) ss.getLocalSocketAddress();
  }

  @Override
  public void close() {
    closed = true;
    ServerSocket ss = listener;
    if (ss != null) {
      try {
        ss.close();
      } catch (IOException e) {
        log.debug("closing listener", e);
      }
    }
    for (PgSession s : sessions) {
      s.shutdown();
    }
    catalogs.values().forEach(PgCatalog::close); // their side connections
  }

  // ---- package-private collaborators for PgSession ----

  Gate gate() {
    return gate;
  }

  SSLContext tls() {
    return tls;
  }

  boolean allowPlaintext() {
    return allowPlaintext;
  }

  RowFilter rowFilter(GateSession session) {
    return rowFilters.apply(session);
  }

  /**
   * Masks every session's results, errors and notices with {@code engine}, using the masking
   * profile of the session's obligations ({@code none} means raw values, which the gate audits).
   * Table names for column rules come from one {@link PgCatalog} per connection.
   */
  public void masking(MaskingEngine engine) {
    rowFilters(
        s -> {
          String profile = s.obligations().maskingProfile();
          if (profile == null || "none".equals(profile)) {
            return RowFilter.IDENTITY;
          }
          return new PgRowMasker(engine, profile, s.connection().name(), catalog(s));
        });
  }

  /**
   * The {@link PgCatalog} of the session's connection: one per connection, shared by its sessions
   * (the masker's OID lookups and every session's {@link PgCatalog#shadows} check), reading the
   * catalog with the connection's own credentials.
   */
  PgCatalog catalog(GateSession s) {
    ConnectionConfig conn = s.connection();
    return catalogs.computeIfAbsent(
        conn.name(),
        n ->
            new PgCatalog(
                conn,
                () -> {
                  try {
                    // the connection's own login, whatever role the first session uses; from the
                    // gate, so that the catalog (kept as long as the server) holds no session
                    return gate.connectionCredentials(conn);
                  } catch (GateException e) {
                    throw new IllegalStateException(e.getMessage(), e);
                  }
                }));
  }

  /** The catalogs of the connections sessions have used, by connection name (tests). */
  Map<String, PgCatalog> catalogs() {
    return java.util.Collections.unmodifiableMap(catalogs);
  }

  /** Installs the masking seam: one {@link RowFilter} per session. */
  void rowFilters(Function<GateSession, RowFilter> factory) {
    this.rowFilters = Objects.requireNonNull(factory, "factory");
  }

  /** The target's backend key data for one client session, found by our own key. */
  private record CancelTarget(int secret, String connection, int upstreamPid, int upstreamKey) {}

  /**
   * Issues the client's own cancel key for a session and remembers which target backend it cancels.
   * The target's key never reaches the client. Returns {@code {pid, key}}.
   */
  int[] registerCancel(String connection, int upstreamPid, int upstreamKey) {
    while (true) {
      int pid = random.nextInt(1, Integer.MAX_VALUE);
      int key = random.nextInt();
      if (cancelTargets.putIfAbsent(
              pid, new CancelTarget(key, connection, upstreamPid, upstreamKey))
          == null) {
        return new int[] {pid, key};
      }
    }
  }

  void unregisterCancel(int pid) {
    cancelTargets.remove(pid);
  }

  /**
   * Handles a CancelRequest that arrived on a new connection. Unknown or wrong keys are ignored
   * silently, as PostgreSQL does, so the request cannot be used to probe for sessions.
   */
  void cancel(int pid, int key) {
    CancelTarget t = cancelTargets.get(pid);
    if (t == null || !MessageDigest.isEqual(intBytes(t.secret()), intBytes(key))) {
      log.info("ignoring cancel request with an unknown key");
      return;
    }
    ConnectionConfig conn = connections.apply(t.connection());
    if (conn == null) {
      return;
    }
    PgUpstream.cancel(conn, t.upstreamPid(), t.upstreamKey());
  }

  private static byte[] intBytes(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }
}
