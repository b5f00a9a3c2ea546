package dev.gatehouse.postgres;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the gateway needs to know about a connection's catalog while masking results, which
 * RowDescription and binary values only name by OID: the table names of table OIDs, so masking
 * column rules can name {@code schema.table}, and the binary send function of type OIDs that are
 * not built in (enums, domains, composite types, extension types such as citext, arrays of them),
 * so {@link PgBinaryValues} knows how to read a binary value of the type.
 *
 * <p>One per connection, shared by its sessions; each OID is looked up once (one that is not found,
 * again at the session's next result: see {@link #forgetMisses}), on a side connection the gateway
 * opens with the connection's own credentials (the client's session is mid-result when the OID
 * shows up, so it cannot be asked). Each cache holds at most {@link #MAX_ENTRIES} OIDs. OIDs of a
 * dropped and recreated type are not reused while the cluster runs (OIDs only grow until they wrap
 * around at 2^32), so a cached answer stays right for the catalog's lifetime in practice.
 *
 * <p>A lookup failure throws: the caller then masks the whole row (fail closed) rather than guess.
 *
 * <p>Also what the connection's database holds that PostgreSQL may run in place of a built-in the
 * classifier trusts ({@link #shadows}), read on the same side connection at a session's start and
 * again once the answer is older than {@link #SHADOW_TTL_OPTION} seconds.
 */
final class PgCatalog {
  private static final Logger log = LoggerFactory.getLogger(PgCatalog.class);

  /** Bound on cached OIDs per connection and cache: far above any real schema, against churn. */
  private static final int MAX_ENTRIES = 100_000;

  /**
   * A column's name by table OID and attribute number (RowDescription's two fields, protocol
   * "Message Formats"), both in the one parameter as {@code oid * 65536 + attnum}; an empty second
   * column so the row has two like the others.
   */
  private static final String COLUMN_QUERY =
      "SELECT a.attname, '' FROM pg_catalog.pg_attribute a, (SELECT ?::int8 AS k) p"
          + " WHERE a.attrelid = (p.k >> 16)::oid AND a.attnum = (p.k & 65535)::int2"
          + " AND NOT a.attisdropped";

  private static final String TABLE_QUERY =
      "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
          + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ?";

  /**
   * The schema and name of a type's send function (pg_type.typsend; a domain has its base type's).
   * No row: no such type, or a type without a send function (a pseudo-type): neither can be read.
   */
  private static final String TYPE_QUERY =
      "SELECT n.nspname, p.proname FROM pg_catalog.pg_type t"
          + " JOIN pg_catalog.pg_proc p ON p.oid = t.typsend"
          + " JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE t.oid = ?";

  /**
   * Functions, procedures and aggregates outside pg_catalog ({@code 'f'}, their names) and
   * operators outside pg_catalog ({@code 'o'}, schema and symbol) that no extension owns (pg_depend
   * deptype 'e', catalog-pg-depend.html: an extension's members are its fixed script). Temporary
   * schemas are left out: PostgreSQL never looks up functions or operators there unless a call
   * names pg_temp (ddl-schemas.html#DDL-SCHEMAS-PATH), which is qualified, so opaque anyway. Shell
   * operators (oprcode 0, made by a commutator reference) cannot run. Nor can one whose argument
   * types are exactly a pg_catalog one's of the same name while pg_catalog is searched first: of
   * several with identical argument types PostgreSQL keeps the one earliest on the path
   * (typeconv-func.html step 1, typeconv-oper.html step 2.a), and a session whose path puts a
   * schema in front of pg_catalog trusts no unqualified built-in anyway. Every other non-member
   * operator counts, whatever its function's language: an internal one can be a built-in with an
   * effect ({@code CREATE OPERATOR public.= (LEFTARG = regclass, RIGHTARG = int8, FUNCTION =
   * pg_catalog.setval)}). Function names are filtered here by the classifier's trusted names. Every
   * name the query uses is pg_catalog's, and the side connection's search_path is pg_catalog alone
   * ({@link #open}), so that no operator a role's default path finds first answers it.
   */
  private static final String SHADOW_QUERY =
      "SELECT DISTINCT 'f', '', p.proname FROM pg_catalog.pg_proc p"
          + " JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
          + " WHERE n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_(toast_)?temp_'"
          + " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
          + " WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid"
          + " AND d.deptype = 'e')"
          + " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc b"
          + " WHERE b.pronamespace = 'pg_catalog'::pg_catalog.regnamespace"
          + " AND b.proname = p.proname AND b.proargtypes = p.proargtypes)"
          + " UNION ALL SELECT 'o', n.nspname, o.oprname FROM pg_catalog.pg_operator o"
          + " JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace"
          + " WHERE n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_(toast_)?temp_'"
          + " AND o.oprcode <> 0"
          + " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
          + " WHERE d.classid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND d.objid = o.oid"
          + " AND d.deptype = 'e')"
          + " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_operator b"
          + " WHERE b.oprnamespace = 'pg_catalog'::pg_catalog.regnamespace"
          + " AND b.oprname = o.oprname AND b.oprleft = o.oprleft AND b.oprright = o.oprright)";

  /** Bound on the rows {@link #SHADOW_QUERY} may return; more is a failure (fail closed). */
  private static final int MAX_SHADOW_ROWS = 1_000_000;

  /**
   * The connection option ({@code options:} in the configuration) giving how many seconds a {@link
   * #shadows} answer is used before it is read again; {@link #DEFAULT_SHADOW_TTL_SECONDS} unless
   * set, at least 1 and at most 3600.
   */
  static final String SHADOW_TTL_OPTION = "shadow_check_ttl_seconds";

  static final int DEFAULT_SHADOW_TTL_SECONDS = 30;

  /** A failed {@link #shadows} read is tried again after this long at most (or the TTL). */
  private static final long RETRY_NANOS = 5_000_000_000L;

  /** An answer of {@link #shadows} and when it was read ({@link System#nanoTime}). */
  private record ShadowRead(SqlShadows shadows, long at) {}

  private volatile ShadowRead shadowRead;
  private final long shadowTtlNanos;

  private final ConnectionConfig connection;
  private final Supplier<Map<String, String>> credentials;
  private final Map<Integer, String[]> names = new ConcurrentHashMap<>();
  private final Map<Integer, String[]> sends = new ConcurrentHashMap<>();
  private final Map<Long, String[]> columns = new ConcurrentHashMap<>();
  private final ReentrantLock lock = new ReentrantLock();

  /**
   * Relations and types this thread (a session's target reader) found missing during the current
   * result; see {@link #forgetMisses}. Never remembered for good: a table or type the client's
   * session created in a transaction not yet committed is invisible to the side connection until
   * the commit, and must be found after it (a table cached as missing would lose its column rules
   * for every session of the connection).
   */
  private static final ThreadLocal<Set<Integer>> TABLE_MISSES =
      ThreadLocal.withInitial(java.util.HashSet::new);

  private static final ThreadLocal<Set<Integer>> TYPE_MISSES =
      ThreadLocal.withInitial(java.util.HashSet::new);

  private static final ThreadLocal<Set<Long>> COLUMN_MISSES =
      ThreadLocal.withInitial(java.util.HashSet::new);

  /** Called at each new result: a table or type missing before may be committed now. */
  static void forgetMisses() {
    TABLE_MISSES.get().clear();
    TYPE_MISSES.get().clear();
    COLUMN_MISSES.get().clear();
  }

  private Connection side;

  PgCatalog(ConnectionConfig connection, Supplier<Map<String, String>> credentials) {
    this.connection = connection;
    this.credentials = credentials;
    this.shadowTtlNanos = shadowTtlSeconds(connection) * 1_000_000_000L;
  }

  /** {@link #SHADOW_TTL_OPTION} of {@code connection}; the default when unset or not 1..3600. */
  static long shadowTtlSeconds(ConnectionConfig connection) {
    Object v = connection == null ? null : connection.options().get(SHADOW_TTL_OPTION);
    if (v == null) {
      return DEFAULT_SHADOW_TTL_SECONDS;
    }
    long ttl;
    try {
      ttl = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().strip());
    } catch (NumberFormatException e) {
      ttl = -1;
    }
    if (ttl < 1 || ttl > 3600) {
      log.warn(
          "connection {}: option {} = {} is not 1..3600 seconds; using {}",
          connection.name(),
          SHADOW_TTL_OPTION,
          v,
          DEFAULT_SHADOW_TTL_SECONDS);
      return DEFAULT_SHADOW_TTL_SECONDS;
    }
    return ttl;
  }

  /**
   * What the database holds that PostgreSQL may run in place of a built-in the classifier trusts
   * ({@link SqlShadows}), as read at most {@link #SHADOW_TTL_OPTION} seconds ago: one read per
   * connection and TTL, shared by its sessions, which call this at their start and for every
   * statement (a volatile read and a clock comparison while the answer is fresh). A stale answer is
   * read again by the first session to ask; the others keep the old one meanwhile rather than wait
   * for the lock. Never throws: when the read fails the answer is {@link SqlShadows#UNVERIFIED}
   * (every trusted built-in and every operator opaque: fail closed), read again after 5 seconds.
   */
  SqlShadows shadows() {
    ShadowRead r = shadowRead;
    long now = System.nanoTime();
    if (r != null && now - r.at() < ttlOf(r)) {
      return r.shadows();
    }
    if (r != null && !lock.tryLock()) {
      return r.shadows(); // another session is reading it now
    }
    if (r == null) {
      lock.lock();
    }
    try {
      r = shadowRead;
      now = System.nanoTime();
      if (r != null && now - r.at() < ttlOf(r)) {
        return r.shadows();
      }
      SqlShadows read;
      try {
        read = readShadows();
      } catch (RuntimeException e) {
        log.warn(
            "catalog check of functions and operators shadowing built-ins on {} failed: {};"
                + " every trusted built-in and operator is opaque until it succeeds",
            connection == null ? "(none)" : connection.name(),
            e.getMessage());
        read = SqlShadows.UNVERIFIED;
      }
      if (r != null && read.equals(r.shadows())) {
        read = r.shadows(); // the same object: classifications cached under it stay found
      } else if (!read.isEmpty() && !read.unverified()) {
        log.info(
            "connection {}: functions or operators created outside pg_catalog may run in place of"
                + " built-ins; their calls are opaque: {}",
            connection.name(),
            read);
      }
      shadowRead = new ShadowRead(read, System.nanoTime());
      return read;
    } finally {
      lock.unlock();
    }
  }

  private long ttlOf(ShadowRead r) {
    return r.shadows().unverified() ? Math.min(RETRY_NANOS, shadowTtlNanos) : shadowTtlNanos;
  }

  /** {@link #SHADOW_QUERY}'s answer, on the side connection (under {@link #lock}). */
  private SqlShadows readShadows() {
    if (connection == null) {
      throw new IllegalStateException("no connection to read the catalog of");
    }
    for (int attempt = 0; attempt < 2; attempt++) {
      try {
        if (side == null || side.isClosed()) {
          side = open();
        }
        java.util.List<String> functions = new java.util.ArrayList<>();
        java.util.List<String[]> operators = new java.util.ArrayList<>();
        try (PreparedStatement ps = side.prepareStatement(SHADOW_QUERY);
            ResultSet rs = ps.executeQuery()) {
          int rows = 0;
          while (rs.next()) {
            if (++rows > MAX_SHADOW_ROWS) {
              throw new IllegalStateException("more than " + MAX_SHADOW_ROWS + " rows");
            }
            if ("f".equals(rs.getString(1))) {
              functions.add(rs.getString(3));
            } else {
              operators.add(new String[] {rs.getString(2), rs.getString(3)});
            }
          }
        }
        return SqlShadows.of(functions, operators);
      } catch (SQLException e) {
        log.warn(
            "catalog check on {} failed (attempt {}): {}",
            connection.name(),
            attempt + 1,
            e.getMessage());
        closeSide();
      }
    }
    throw new IllegalStateException("cannot read the catalog of " + connection.name());
  }

  /**
   * A catalog that answers from the given entries only and fails every other lookup, as an
   * unreachable target would (for tests of the masker without a database).
   */
  static PgCatalog fixed(Map<Integer, String[]> tables, Map<Integer, String> typeSends) {
    PgCatalog c = new PgCatalog(null, Map::of);
    c.names.putAll(tables);
    // Tests name the columns they mean by the table's column names: {schema, table, col1, col2…}.
    tables.forEach(
        (oid, t) -> {
          for (int i = 2; i < t.length; i++) {
            c.columns.put(columnKey(oid, i - 1), new String[] {t[i], ""});
          }
        });
    typeSends.forEach((oid, send) -> c.sends.put(oid, send.split("\\.", 2)));
    return c;
  }

  /** {schema, table} for a relation OID, or null when no such relation exists (any more). */
  String[] table(int oid) {
    return cached(names, TABLE_MISSES, oid, TABLE_QUERY);
  }

  /**
   * The name a table's column has in the catalog (attnum from 1), whatever the query called it in
   * the result ({@code SELECT ssn AS s}); null when there is no such column (any more). Column
   * rules name table columns, so RowDescription's table OID and attribute number are what decide,
   * not the output name.
   */
  String column(int tableOid, int attnum) {
    if (tableOid == 0 || attnum <= 0) return null;
    String[] found = cached(columns, COLUMN_MISSES, columnKey(tableOid, attnum), COLUMN_QUERY);
    return found == null ? null : found[0];
  }

  private static long columnKey(int tableOid, int attnum) {
    return ((tableOid & 0xffffffffL) << 16) | (attnum & 0xffff);
  }

  /**
   * The send function of a type OID as {@code schema.name} (for example {@code
   * pg_catalog.enum_send}), or null when no such type exists or it has no send function. A type
   * that is not found is asked for again at the next result (see {@link #cached}).
   */
  String typeSend(int oid) {
    String[] found = cached(sends, TYPE_MISSES, oid, TYPE_QUERY);
    return found == null ? null : found[0] + "." + found[1];
  }

  /**
   * {@code query}'s answer for {@code oid}, cached; a missing one only in {@code misses}, until
   * this session's next result, so that a row of many fields does not cost a query per field per
   * row under the lock every masked session on this connection shares.
   */
  private <K extends Number> String[] cached(
      Map<K, String[]> cache, ThreadLocal<Set<K>> misses, K oid, String query) {
    String[] cached = cache.get(oid);
    if (cached != null) {
      return cached;
    }
    Set<K> missing = misses.get();
    if (missing.contains(oid)) {
      return null;
    }
    lock.lock();
    try {
      // OIDs are unsigned 32-bit (an Integer key above 2^31 is negative); column keys are not.
      long key = oid instanceof Integer i ? Integer.toUnsignedLong(i) : oid.longValue();
      String[] found = lookup(key, query);
      if (found == null) {
        if (missing.size() < 1024) {
          missing.add(oid);
        }
        return null;
      }
      if (cache.size() >= MAX_ENTRIES) {
        cache.clear();
      }
      cache.put(oid, found);
      return found;
    } finally {
      lock.unlock();
    }
  }

  /** The two columns of {@code query}'s row for {@code key}, or null when there is none. */
  private String[] lookup(long key, String query) {
    if (connection == null) {
      throw new IllegalStateException("cannot resolve catalog key " + key);
    }
    for (int attempt = 0; attempt < 2; attempt++) {
      try {
        if (side == null || side.isClosed()) {
          side = open();
        }
        try (PreparedStatement ps = side.prepareStatement(query)) {
          ps.setLong(1, key);
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
    throw new IllegalStateException("cannot resolve catalog OIDs on " + connection.name());
  }

  private Connection open() throws SQLException {
    Map<String, String> creds = credentials.get();
    Properties p = new Properties();
    p.setProperty("user", creds.getOrDefault("username", connection.username()));
    // (Gate#connectionCredentials: the configured password when the vault holds none)
    if (creds.get("password") != null) {
      p.setProperty("password", creds.get("password"));
    }
    p.setProperty("ApplicationName", "gatehouse-catalog");
    // Only pg_catalog's names, whatever path a role's or database's default sets (see SHADOW_QUERY)
    p.setProperty("options", "-c search_path=pg_catalog");
    // Bounded waits: a lookup runs under the lock every masked session of this connection shares,
    // in the middle of a result (pgjdbc's timeouts are in seconds).
    p.setProperty("connectTimeout", "10");
    p.setProperty("loginTimeout", "10");
    p.setProperty("socketTimeout", "10");
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
