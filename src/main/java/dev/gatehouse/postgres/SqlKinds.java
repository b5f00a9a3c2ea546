package dev.gatehouse.postgres;

import java.util.Map;
import java.util.Set;

/**
 * The statement kinds the classifier produces, and how dangerous each is relative to the others.
 *
 * <p>A statement that does several things (a SELECT whose CTE deletes, an INSERT that calls {@code
 * pg_read_file}) gets one kind: the most dangerous by {@link #rank}. The order is a judgement, not
 * a PostgreSQL fact: reading server files or running programs and anything we cannot analyse rank
 * highest; schema and privilege changes above data changes; data changes above reads.
 */
final class SqlKinds {
  private SqlKinds() {}

  static final String SELECT = "select";
  static final String INSERT = "insert";
  static final String UPDATE = "update";
  static final String DELETE = "delete";
  static final String MERGE = "merge";
  static final String CREATE = "create";
  static final String ALTER = "alter";
  static final String DROP = "drop";
  static final String TRUNCATE = "truncate";
  static final String GRANT = "grant";
  static final String REVOKE = "revoke";
  static final String COPY_IN = "copy_in";
  static final String COPY_OUT = "copy_out";
  static final String COPY_PROGRAM = "copy_program";
  static final String SET = "set";
  static final String RESET = "reset";
  static final String SET_ROLE = "set_role";
  static final String TRANSACTION = "transaction";

  /**
   * Two-phase commit: PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED. Not {@link
   * #TRANSACTION}: COMMIT/ROLLBACK PREPARED finish a transaction another session prepared (the
   * server checks only that the role is the same, and every principal shares the gateway's upstream
   * role), and a prepared transaction keeps its locks after its session has ended
   * (sql-prepare-transaction.html, sql-commit-prepared.html).
   */
  static final String PREPARED_TRANSACTION = "prepared_transaction";

  static final String EXPLAIN = "explain";

  /**
   * Listed for completeness but never produced: PREPARE name AS stmt takes the kind of stmt
   * (EXECUTE later runs it without showing it again); the name is in an extra attribute.
   */
  static final String PREPARE = "prepare";

  static final String EXECUTE = "execute";
  static final String DEALLOCATE = "deallocate";
  static final String DO = "do";
  static final String CALL = "call";
  static final String MAINTENANCE = "maintenance";
  static final String LOCK = "lock";
  static final String LISTEN = "listen";
  static final String NOTIFY = "notify";
  static final String UNLISTEN = "unlisten";
  static final String SHOW = "show";
  static final String DISCARD = "discard";
  static final String CURSOR = "cursor";
  static final String COMMENT = "comment";
  static final String UNKNOWN = "unknown";

  private static final Map<String, Integer> RANK =
      Map.ofEntries(
          Map.entry(SELECT, 0),
          Map.entry(SHOW, 0),
          Map.entry(EXPLAIN, 1),
          Map.entry(CURSOR, 2),
          Map.entry(LISTEN, 3),
          Map.entry(UNLISTEN, 3),
          Map.entry(DISCARD, 3),
          Map.entry(DEALLOCATE, 3),
          Map.entry(TRANSACTION, 3),
          Map.entry(EXECUTE, 5),
          Map.entry(COPY_OUT, 6),
          Map.entry(LOCK, 10),
          Map.entry(NOTIFY, 11),
          Map.entry(SET, 12),
          Map.entry(RESET, 12),
          Map.entry(COMMENT, 20),
          Map.entry(MAINTENANCE, 25),
          Map.entry(INSERT, 30),
          Map.entry(COPY_IN, 31),
          Map.entry(CREATE, 35),
          Map.entry(UPDATE, 40),
          Map.entry(MERGE, 45),
          Map.entry(DELETE, 50),
          Map.entry(PREPARED_TRANSACTION, 55),
          Map.entry(ALTER, 60),
          Map.entry(TRUNCATE, 65),
          Map.entry(DROP, 70),
          Map.entry(GRANT, 75),
          Map.entry(REVOKE, 75),
          Map.entry(CALL, 80),
          Map.entry(DO, 85),
          Map.entry(SET_ROLE, 90),
          Map.entry(COPY_PROGRAM, 95),
          Map.entry(UNKNOWN, 100));

  /** Kinds that only read: a weak hidden effect (nextval, advisory lock) upgrades only these. */
  static final Set<String> READ_LIKE = Set.of(SELECT, SHOW, EXPLAIN, CURSOR, EXECUTE, COPY_OUT);

  static int rank(String kind) {
    Integer r = RANK.get(kind);
    return r == null ? 100 : r;
  }

  /** The more dangerous of two kinds (the first on a tie). */
  static String worse(String a, String b) {
    return rank(b) > rank(a) ? b : a;
  }

  static Set<String> all() {
    return RANK.keySet();
  }
}
