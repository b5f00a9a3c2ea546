package dev.gatehouse.postgres;

import dev.gatehouse.policy.Action;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The session settings that change what a statement's text means, for binding a review's approval
 * to them (red team rt12: an update of "Jan 2" rows, approved under {@code DateStyle = 'ISO, MDY'},
 * ran against Feb 1 rows after {@code SET DateStyle = 'ISO, DMY'}). Among them DateStyle, TimeZone,
 * IntervalStyle and standard_conforming_strings are reported by the server in ParameterStatus
 * (protocol-flow.html#PROTOCOL-ASYNC), at the start and after each change; search_path is bound as
 * the schemas the gateway tracks ({@link PgSearchPath}). Others are never reported:
 * transform_null_equals ({@code x = NULL} read as {@code x IS NULL}), array_nulls,
 * timezone_abbreviations, extra_float_digits, lc_* and any setting a custom type or extension
 * reads. The gateway cannot follow all the ways a statement changes them (set_config, a function,
 * DO, a procedure), so:
 *
 * <ul>
 *   <li>the reported values are bound into every review fingerprint of the session and shown to the
 *       reviewer: a session started with another DateStyle or TimeZone (both allowed as startup
 *       parameters) makes another request;
 *   <li>once the session ran a statement that may change any setting beyond a short list that
 *       cannot change how text is read ({@link #HARMLESS}), the session is "changed": its
 *       fingerprints also bind the session's id, so an approval filed in another session (or before
 *       the change) is not spent here, and one filed here holds in this session only. The change is
 *       noted when the statement is decided, before the statements after it in the same Query or
 *       pipeline are, so it cannot slip between a SET and its ParameterStatus.
 * </ul>
 *
 * Reported values: target-reader thread; the change flag: session thread. Read by the session
 * thread when a review is filed.
 */
final class PgReadingSettings {

  /** The settings the server reports that change how text is read (names as it reports them). */
  static final Set<String> REPORTED =
      Set.of("DateStyle", "IntervalStyle", "TimeZone", "standard_conforming_strings");

  /**
   * Settings a SET or RESET of which does not change how a statement's text is read: timeouts,
   * logging, memory and planner settings, the application name. search_path is bound on its own.
   */
  static final Set<String> HARMLESS =
      Set.of(
          "application_name",
          "statement_timeout",
          "lock_timeout",
          "idle_in_transaction_session_timeout",
          "idle_session_timeout",
          "transaction_timeout",
          "client_min_messages",
          "work_mem",
          "maintenance_work_mem",
          "temp_buffers",
          "jit",
          "search_path",
          "transaction",
          "default_transaction_isolation",
          "default_transaction_deferrable",
          "default_transaction_read_only",
          "transaction_isolation",
          "transaction_deferrable",
          "transaction_read_only",
          "random_page_cost",
          "seq_page_cost",
          "effective_cache_size");

  private final Map<String, String> reported = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean changed;

  /**
   * Settings the client chose at startup that the server never reports and that change what a
   * statement does ({@code bytea_output}: the text of {@code bytea::text}; {@code lc_monetary}: how
   * {@code money} input is read; {@code lc_numeric}, {@code lc_time}: {@code to_number}, {@code
   * to_date}; {@code extra_float_digits}: {@code float8::text}), by lower-case name. Bound and
   * shown like the reported ones, so an approval filed in a plain session does not run in one
   * started with {@code -c bytea_output=escape} (red team rt18pg F2: the approved {@code
   * '\x6869'::bytea::text} stored {@code hi}), while sessions started alike (pgjdbc always sends
   * {@code extra_float_digits=3}) still share approvals. Written once, before any statement.
   */
  private Map<String, String> startup = Map.of();

  /** Lower-case names of {@link #REPORTED}, and client_encoding, which the gateway handles. */
  private static final Set<String> NOT_STARTUP =
      Set.of(
          "datestyle",
          "intervalstyle",
          "timezone",
          "standard_conforming_strings",
          "client_encoding");

  /** The startup parameters forwarded to the target ({@link PgStartupParams#filter}). */
  void started(Map<String, String> forwarded) {
    Map<String, String> bound = new TreeMap<>();
    forwarded.forEach(
        (name, value) -> {
          String n = name.toLowerCase(Locale.ROOT);
          if (!HARMLESS.contains(n) && !NOT_STARTUP.contains(n)) {
            bound.put(n, value);
          }
        });
    startup = Map.copyOf(bound);
  }

  /** A ParameterStatus from the target. */
  void reported(String name, String value) {
    if (REPORTED.contains(name)) {
      reported.put(name, value);
    }
  }

  /** True once the session ran a statement that may have changed a setting it cannot read. */
  boolean changed() {
    return changed;
  }

  /** A FunctionCall (by OID: may be set_config) was allowed. */
  void unknownChange() {
    changed = true;
  }

  /**
   * An allowed statement (or a run of one), noted when it is decided: whether it may change a
   * setting that changes how text is read.
   */
  void note(Action a) {
    if (!changed && mayChange(a)) {
      changed = true;
    }
  }

  static boolean mayChange(Action a) {
    List<String> kinds = a.list(Action.Attr.SQL_KINDS);
    String kind = a.string(Action.Attr.SQL_KIND);
    if (kinds.isEmpty() && kind != null) {
      kinds = List.of(kind);
    }
    for (String k : kinds) {
      switch (k) {
        case SqlKinds.SET, SqlKinds.RESET -> {
          if (!HARMLESS.contains(settingName(a.raw()))) {
            return true;
          }
        }
        case SqlKinds.DO, SqlKinds.CALL, SqlKinds.DISCARD, SqlKinds.UNKNOWN -> {
          return true;
        }
        default -> {}
      }
    }
    if (a.flag(Action.Attr.SQL_UNPARSED)) {
      return true;
    }
    for (String f : a.list(Action.Attr.SQL_FUNCTIONS)) {
      if (f.endsWith("set_config")) {
        return true;
      }
    }
    // A user function may run SET itself.
    return !a.list(Action.Attr.SQL_OPAQUE_FUNCTIONS).isEmpty();
  }

  /**
   * The setting a SET or RESET statement names (lower case; {@code ""} when not read here): the
   * word after SET/RESET and an optional SESSION or LOCAL. {@code SET TIME ZONE} names "time",
   * {@code RESET ALL} "all": neither is harmless.
   */
  static String settingName(String sql) {
    PgLexer.Result r = PgLexer.lex(sql, true);
    List<PgToken> t = r.tokens();
    int i = 0;
    if (i < t.size() && (t.get(i).isWord("set") || t.get(i).isWord("reset"))) {
      i++;
    }
    if (i < t.size() && (t.get(i).isWord("session") || t.get(i).isWord("local"))) {
      i++;
    }
    if (i >= t.size() || !t.get(i).isName()) {
      return "";
    }
    if (i + 1 < t.size() && t.get(i + 1).is(".")) {
      return ""; // a custom (extension's) setting: it may change how a type reads its input
    }
    return t.get(i).value().toLowerCase(Locale.ROOT);
  }

  /** What the fingerprint binds: the reported values, and the session when it changed one. */
  String exact(String sessionId) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : new TreeMap<>(reported).entrySet()) {
      sb.append(e.getKey().length()).append(':').append(e.getKey());
      sb.append(e.getValue().length()).append(':').append(e.getValue());
    }
    for (Map.Entry<String, String> e : new TreeMap<>(startup).entrySet()) {
      sb.append("startup ").append(e.getKey().length()).append(':').append(e.getKey());
      sb.append(e.getValue().length()).append(':').append(e.getValue());
    }
    if (changed) {
      sb.append("changed in session ").append(sessionId);
    }
    return sb.toString();
  }

  /** The settings as reviewers see them: a comment line after the statement. */
  String shown() {
    StringBuilder sb = new StringBuilder("\n\n-- session settings:");
    new TreeMap<>(reported)
        .forEach((k, v) -> sb.append(' ').append(k).append('=').append(v).append(';'));
    new TreeMap<>(startup)
        .forEach((k, v) -> sb.append(' ').append(k).append('=').append(v).append(" (at startup);"));
    if (changed) {
      sb.append(
          " this session ran a statement that may have changed others, so an approval holds only"
              + " in this session");
    }
    return sb.toString();
  }
}
