package dev.gatehouse.gate;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import java.util.HashMap;
import java.util.Map;

/**
 * Counts open sessions per connection and per principal on a connection, and refuses a session
 * beyond {@link ConnectionConfig#maxSessions()} or {@link
 * ConnectionConfig#maxSessionsPerPrincipal()} before anything is opened on the target.
 *
 * <p>Every protocol's session may hold a connection of the target (a PostgreSQL backend, an SSH
 * connection), and the target has a limit of its own ({@code max_connections}): without a cap here,
 * one principal, or a runaway CI job with one token, can take all of them and lock every other
 * principal out, DBAs included. Counting happens in {@link Gate#open}, which every protocol goes
 * through, so the limit is the same for all of them.
 */
final class SessionLimits {
  private final Map<String, Integer> perConnection = new HashMap<>();
  private final Map<String, Integer> perPrincipal = new HashMap<>();

  /**
   * Takes a slot for {@code subject} on {@code conn}, or refuses with {@link
   * GateException.Reason#TOO_MANY_SESSIONS}. A taken slot must be given back once with {@link
   * #release}.
   */
  synchronized void acquire(ConnectionConfig conn, String subject) throws GateException {
    String key = key(conn.name(), subject);
    int onConnection = perConnection.getOrDefault(conn.name(), 0);
    int ofPrincipal = perPrincipal.getOrDefault(key, 0);
    if (conn.maxSessionsPerPrincipal() > 0 && ofPrincipal >= conn.maxSessionsPerPrincipal()) {
      throw new GateException(
          GateException.Reason.TOO_MANY_SESSIONS,
          "\""
              + subject
              + "\" already has "
              + ofPrincipal
              + " sessions open on connection \""
              + conn.name()
              + "\", the most one principal may have (max_sessions_per_principal); close one"
              + " and try again");
    }
    if (conn.maxSessions() > 0 && onConnection >= conn.maxSessions()) {
      throw new GateException(
          GateException.Reason.TOO_MANY_SESSIONS,
          "connection \""
              + conn.name()
              + "\" already has "
              + onConnection
              + " sessions open, the most it may have (max_sessions); try again later");
    }
    perConnection.put(conn.name(), onConnection + 1);
    perPrincipal.put(key, ofPrincipal + 1);
  }

  /** Gives back a slot taken by {@link #acquire}. */
  synchronized void release(String connection, String subject) {
    perConnection.computeIfPresent(connection, (k, n) -> n <= 1 ? null : n - 1);
    perPrincipal.computeIfPresent(key(connection, subject), (k, n) -> n <= 1 ? null : n - 1);
  }

  /** Sessions open on {@code connection} now, for tests and metrics. */
  synchronized int open(String connection) {
    return perConnection.getOrDefault(connection, 0);
  }

  private static String key(String connection, String subject) {
    return connection + '\0' + subject; // NUL is in neither a connection name nor a subject
  }
}
