package dev.gatehouse.postgres;

import dev.gatehouse.policy.Action;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The schemas a session's search_path may name, so that deny and review rules read an unqualified
 * name in each of them ({@link Action.Attr#SQL_SEARCH_PATH}): after {@code SET search_path = app,
 * public}, {@code SELECT * FROM payments} reads {@code app.payments}
 * (ddl-schemas.html#DDL-SCHEMAS-PATH).
 *
 * <p>Sources: the {@code search_path} startup parameter the gateway passed through, every statement
 * the gateway allowed that sets it ({@link SqlClassifier#ATTR_SETS_SEARCH_PATH}: {@code SET
 * [SESSION|LOCAL] search_path} and its alias {@code SET SCHEMA 'x'}, {@code
 * set_config('search_path', ...)}), and the value the target reports in ParameterStatus (PostgreSQL
 * 18 and later). {@code "$user"} is the schema named like the current user: the upstream role the
 * gateway logs in as.
 *
 * <p>The set only grows. ROLLBACK, RESET or {@code SET LOCAL} at the end of a transaction can make
 * the real path shorter again, but an extra schema only makes deny and review rules match more,
 * which fails closed; following the server's transaction rules exactly could only get it wrong in
 * the open direction. A session that states no path starts with the server's default {@code
 * "$user", public} ({@link #started}). Not seen: role and database defaults on PostgreSQL 17 and
 * older, which do not report search_path; see docs/sql-classification.md.
 *
 * <p>Pipelining cannot make the set stale: a statement's schemas are added when it is allowed,
 * before it is sent, so what is pipelined behind a SET the target has not answered yet is decided
 * under the old and the new path alike. Functions are another matter: whether pg_catalog comes
 * first is the path as the target last reported it, which a pending statement may change
 * (PgSession#catalogFirstNow).
 *
 * <p>The session thread decorates and learns; the target reader thread reports ParameterStatus.
 */
final class PgSearchPath {
  /**
   * Most schemas tracked. PostgreSQL bounds a path only by the length of the setting; every tracked
   * schema costs a comparison per unqualified name and deny or review glob, so past this many a
   * bare name matches such rules in any schema, which fails closed. Real paths name a handful.
   */
  static final int MAX_SCHEMAS = 32;

  /** Decorated actions kept per session, by identity of the classifier's (cached) action. */
  static final int MEMO = 64;

  static final List<String> ANY = List.of(Action.Attr.ANY_SCHEMA);

  private final String user;

  /**
   * Immutable; null while no path has named a schema besides pg_catalog and public (which deny and
   * review rules always read), so that such sessions pay nothing per statement. Replaced, never
   * changed, and only by a longer list or {@link #ANY}.
   */
  private volatile List<String> schemas;

  // Session thread only: decorated actions, valid for the list memoFor.
  private List<String> memoFor;
  private Action[] memoKeys;
  private Action[] memoValues;

  /**
   * @param user the role the gateway logs in to the target as: what {@code "$user"} names
   */
  PgSearchPath(String user) {
    this.user = user;
  }

  /**
   * A search_path value as the server reads it (a startup parameter, a ParameterStatus), split like
   * the server does; a value that does not split may name anything.
   */
  void value(String value) {
    List<String> names = PgStartupParams.splitIdentifiers(value);
    add(names == null ? ANY : names);
  }

  /** A startup parameter passed to the target: a search_path counts (names are case-blind). */
  void startupParameter(String name, String value) {
    if (name.equalsIgnoreCase("search_path")) {
      value(value);
    }
  }

  /**
   * The path a session starts with: the search_path startup parameter passed to the target, or else
   * the server's default {@code "$user", public} (runtime-config-client.html#GUC-SEARCH-PATH), so
   * that a schema named like the upstream role is read first without any SET. Tracking it costs
   * every session the decorated path (as every PostgreSQL 18 session, which reports {@code "$user"}
   * at startup, pays anyway); not tracking it would let a role named {@code app} read {@code
   * app.payments} as a bare {@code payments} past a deny of {@code app.payments}.
   */
  void started(java.util.Map<String, String> forwarded) {
    boolean stated = false;
    for (var e : forwarded.entrySet()) {
      if (e.getKey().equalsIgnoreCase("search_path")) {
        stated = true;
        value(e.getValue());
      }
    }
    if (!stated) {
      value(DEFAULT);
    }
  }

  /** PostgreSQL's default search_path. */
  static final String DEFAULT = "\"$user\", public";

  /** After a statement was allowed, before it is forwarded: the schemas it may add to the path. */
  void allowed(Action action) {
    List<String> set = action.list(SqlClassifier.ATTR_SETS_SEARCH_PATH);
    if (!set.isEmpty()) {
      add(set);
    }
  }

  /** A statement that may set search_path to anything was allowed (a FunctionCall by OID). */
  void unreadable() {
    add(ANY);
  }

  /** What deny and review rules read: the tracked schemas, or null when there are none. */
  List<String> schemas() {
    return schemas;
  }

  private synchronized void add(List<String> names) {
    List<String> current = schemas;
    if (current == ANY) {
      return;
    }
    Set<String> next = current == null ? new LinkedHashSet<>() : new LinkedHashSet<>(current);
    for (String name : names) {
      if (name.equals(Action.Attr.ANY_SCHEMA)) {
        schemas = ANY;
        return;
      }
      String schema = name.equals("$user") ? user : name;
      // Deny and review rules read public and pg_catalog anyway; no schema has an empty name
      // (SET search_path = '' empties the path).
      if (!schema.isEmpty() && !schema.equals("public") && !schema.equals("pg_catalog")) {
        // As the classifier reports a qualified name's schema: "billing.prod".payments.
        next.add(SqlClassifier.part(schema));
      }
    }
    if (next.size() > MAX_SCHEMAS) {
      schemas = ANY;
    } else if (next.size() > (current == null ? 0 : current.size())) {
      schemas = List.copyOf(next);
    }
  }

  /**
   * The action with the tracked schemas, to decide on. The action itself while there are none; a
   * statement the classifier has cached is decorated once per change of the set.
   */
  Action decorate(Action action) {
    List<String> s = schemas;
    if (s == null) {
      return action;
    }
    if (memoFor != s) {
      if (memoKeys == null) {
        memoKeys = new Action[MEMO];
        memoValues = new Action[MEMO];
      } else {
        Arrays.fill(memoKeys, null);
        Arrays.fill(memoValues, null);
      }
      memoFor = s;
    }
    int i = System.identityHashCode(action) & (MEMO - 1);
    if (memoKeys[i] == action) {
      return memoValues[i];
    }
    Action decorated = action.with(Action.Attr.SQL_SEARCH_PATH, s);
    memoKeys[i] = action;
    memoValues[i] = decorated;
    return decorated;
  }

  /**
   * True when {@code decided} (a decorated action, maybe with parameters added) was decided with
   * every schema tracked now; otherwise the decision must be made again. A prepared statement is
   * planned again at Execute when search_path changed (sql-prepare.html), so it may read another
   * table than at Parse.
   */
  boolean current(Action decided) {
    List<String> s = schemas;
    return s == null || decided.attributes().get(Action.Attr.SQL_SEARCH_PATH) == s;
  }
}
