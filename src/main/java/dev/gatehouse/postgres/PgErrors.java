package dev.gatehouse.postgres;

import dev.gatehouse.gate.GateException;

/**
 * How the gateway words refusals as PostgreSQL errors. SQLSTATEs are chosen so that clients react
 * as they would to the same condition in PostgreSQL itself (for example, libpq and poolers retry
 * 57P03 "cannot connect now" but not 28P01).
 *
 * @see <a href="https://www.postgresql.org/docs/current/errcodes-appendix.html">Error codes</a>
 */
final class PgErrors {
  private PgErrors() {}

  static final String PROTOCOL_VIOLATION = "08P01";
  static final String OUT_OF_MEMORY = "53200";
  static final String CANNOT_CONNECT = "08001";
  static final String INVALID_AUTHORIZATION = "28000";
  static final String INVALID_PASSWORD = "28P01";
  static final String INVALID_CATALOG = "3D000";
  static final String INSUFFICIENT_PRIVILEGE = "42501";
  static final String SYNTAX_ERROR = "42601";
  static final String DUPLICATE_STATEMENT = "42P05";
  static final String DUPLICATE_CURSOR = "42P03";
  static final String INVALID_STATEMENT_NAME = "26000";
  static final String INVALID_CURSOR_NAME = "34000";
  static final String INVALID_NAME = "42602";
  static final String FEATURE_NOT_SUPPORTED = "0A000";
  static final String ADMIN_SHUTDOWN = "57P01";
  static final String CANNOT_CONNECT_NOW = "57P03";
  static final String TOO_MANY_CONNECTIONS = "53300";

  /**
   * SQLSTATE for a refusal by the shared gate.
   *
   * <ul>
   *   <li>AUTHENTICATION → 28P01 invalid_password (what PostgreSQL says for a bad password)
   *   <li>UNKNOWN_CONNECTION → 3D000 invalid_catalog_name (the database name is the connection)
   *   <li>FORBIDDEN, REVIEW_DENIED → 42501 insufficient_privilege
   *   <li>UNAVAILABLE → 57P03 cannot_connect_now: the gateway cannot decide or record right now, a
   *       condition worth retrying later (fail closed, but say it is temporary)
   *   <li>SESSION_ENDED → 57P01 admin_shutdown ("terminating connection")
   *   <li>TOO_MANY_SESSIONS → 53300 too_many_connections, what the server says when it is full
   * </ul>
   */
  static String sqlState(GateException.Reason reason) {
    return switch (reason) {
      case AUTHENTICATION -> INVALID_PASSWORD;
      case UNKNOWN_CONNECTION -> INVALID_CATALOG;
      case FORBIDDEN, REVIEW_DENIED -> INSUFFICIENT_PRIVILEGE;
      case UNAVAILABLE -> CANNOT_CONNECT_NOW;
      case SESSION_ENDED -> ADMIN_SHUTDOWN;
      case TOO_MANY_SESSIONS -> TOO_MANY_CONNECTIONS;
    };
  }

  /** An ERROR-level response for a refused statement; the session stays usable. */
  static byte[] error(GateException e) {
    return PgMessages.error("ERROR", sqlState(e.reason()), "gatehouse: " + e.getMessage());
  }

  static byte[] error(String sqlState, String message) {
    return PgMessages.error("ERROR", sqlState, "gatehouse: " + message);
  }

  /**
   * A condition that ends the connection with a FATAL ErrorResponse. Thrown anywhere in the session
   * and sent once, from the session root.
   */
  static final class Fatal extends Exception {
    private final String sqlState;

    Fatal(String sqlState, String message) {
      super(message);
      this.sqlState = sqlState;
    }

    static Fatal of(GateException e) {
      return new Fatal(PgErrors.sqlState(e.reason()), e.getMessage());
    }

    String sqlState() {
      return sqlState;
    }

    byte[] frame() {
      return PgMessages.error("FATAL", sqlState, "gatehouse: " + getMessage());
    }
  }
}
