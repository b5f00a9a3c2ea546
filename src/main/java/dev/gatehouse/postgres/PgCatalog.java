package dev.gatehouse.postgres;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Table names for the table OIDs in RowDescription messages, so masking column rules can name
 * {@code schema.table}. One per connection, shared by its sessions; each OID is looked up once, on
 * a side connection the gateway opens with the connection's own credentials (the client's session
 * is mid-result when the OID shows up, so it cannot be asked).
 *
 * <p>A lookup failure throws: the caller then masks the whole row (fail closed) rather than guess.
 */
final class PgCatalog {
  private static final Logger log = LoggerFactory.getLogger(PgCatalog.class);

  /** Bound on cached OIDs per connection: far above any real schema, a guard against churn. */
  private static final int MAX_ENTRIES = 100_000;

  private final ConnectionConfig connection;
  private final Supplier<Map<String, String>> credentials;
  private final Map<Integer, String[]> names = new ConcurrentHashMap<>();
  private final ReentrantLock lock = new ReentrantLock();
  private Connection side;

  PgCatalog(ConnectionConfig connection, Supplier<Map<String, String>> credentials) {
    this.connection = connection;
    this.credentials = credentials;
  }

  /** {schema, table} for a relation OID, or null when no such relation exists (any more). */
  String[] table(int oid) {
    String[] cached = names.get(oid);
    if (cached != null) {
      return cached.length == 0 ? null : cached;
    }
    lock.lock();
    try {
      String[] found = lookup(oid);
      if (names.size() >= MAX_ENTRIES) {
        names.clear();
      }
      names.put(oid, found == null ? new String[0] : found);
      return found;
    } finally {
      lock.unlock();
    }
  }

  private String[] lookup(int oid) {
    for (int attempt = 0; attempt < 2; attempt++) {
      try {
        if (side == null || side.isClosed()) {
          side = open();
        }
        try (PreparedStatement ps =
            side.prepareStatement(
                "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
                    + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ?")) {
          ps.setLong(1, oid & 0xffffffffL);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? new String[] {rs.getString(1), rs.getString(2)} : null;
          }
        }
      } catch (SQLException e) {
        log.warn(
            "catalog lookup on {} failed (attempt {}): {}",
            connection.name(),
            attempt + 1,
            e.getMessage());
        closeSide();
      }
    }
    throw new IllegalStateException("cannot resolve table names on " + connection.name());
  }

  private Connection open() throws SQLException {
    Map<String, String> creds = credentials.get();
    Properties p = new Properties();
    p.setProperty("user", creds.getOrDefault("username", connection.username()));
    if (creds.get("password") != null) {
      p.setProperty("password", creds.get("password"));
    }
    p.setProperty("ApplicationName", "gatehouse-catalog");
    p.setProperty("readOnly", "true");
    String mode = connection.tls() == null ? "prefer" : connection.tls().mode();
    p.setProperty("sslmode", mode == null ? "prefer" : mode);
    if (connection.tls() != null && connection.tls().ca() != null) {
      p.setProperty("sslrootcert", connection.tls().ca().toString());
    }
    String url =
        "jdbc:postgresql://"
            + connection.host()
            + ":"
            + connection.port()
            + "/"
            + connection.database();
    return DriverManager.getConnection(url, p);
  }

  private void closeSide() {
    try {
      if (side != null) {
        side.close();
      }
    } catch (SQLException ignored) {
      // already broken
    }
    side = null;
  }

  void close() {
    lock.lock();
    try {
      closeSide();
    } finally {
      lock.unlock();
    }
  }
}
