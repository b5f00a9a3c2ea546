package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.SqlKinds.*;

import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Action.Attr;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.postgres.PgToken.Kind;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.delete.ParenthesedDelete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.insert.ParenthesedInsert;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.statement.update.ParenthesedUpdate;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.util.TablesNamesFinder;

/**
 * Classifies each statement of a PostgreSQL query string by what it does, for policy decisions.
 *
 * <p>The kind always comes from our own token-level analysis ({@link PgLexer}): leading key words,
 * plus hidden effects anywhere in the statement (data-modifying CTEs, {@code SELECT INTO}, row
 * locks, calls of functions that touch server files, run dynamic SQL or administer the server).
 * When a statement does several things the most dangerous kind wins ({@link SqlKinds#rank}).
 * JSqlParser only adds table and function names to what the token scan found; its failure or
 * misreading can never make a statement look less dangerous. Anything we cannot recognise is {@code
 * unknown} with {@code unparsed=true}.
 *
 * <p>This is not a SQL validator and does not see inside function bodies, DO blocks or views: see
 * docs/sql-classification.md for what is and is not detected.
 *
 * <p>Thread-safe: the only shared state is a synchronized, bounded LRU of immutable results.
 */
final class SqlClassifier {
  private SqlClassifier() {}

  /**
   * Parenthesis nesting beyond which a statement is refused as unknown. PostgreSQL itself accepts
   * deeper nesting (bounded by max_stack_depth), but no legitimate client query needs it, and it
   * bounds our work and JSqlParser's recursion.
   */
  static final int MAX_NESTING_DEPTH = 100;

  /** JSqlParser backtracks badly on deep nesting: above this depth we rely on tokens alone. */
  static final int MAX_PARSER_NESTING = 12;

  /**
   * Statements longer than this are not handed to JSqlParser (token analysis only): it costs
   * hundreds of microseconds per 100 characters, so a large statement would stall a core.
   */
  static final int MAX_PARSER_INPUT = 16 * 1024;

  /** EXPLAIN / PREPARE / DECLARE wrap statements; more wrapping than this is refused. */
  static final int MAX_WRAPPING = 4;

  /** Identical query strings (pgbench, ORMs) are classified once; bounded LRU. */
  static final int CACHE_ENTRIES = 1024;

  /** Longer texts are not cached, which bounds the cache to about 4 MiB of keys. */
  static final int MAX_CACHED_LENGTH = 4 * 1024;

  /** Attribute: name of the prepared statement, for PREPARE (kind is the inner statement's). */
  static final String ATTR_PREPARED_NAME = "prepared_statement";

  /** EXECUTE: the name of the SQL-level prepared statement it runs. */
  static final String ATTR_EXECUTED_NAME = "executes_prepared";

  /**
   * DECLARE: the cursor's name. The PostgreSQL session keeps the DECLARE's decision per cursor and
   * decides it again before a FETCH or MOVE when the policy changed since.
   */
  static final String ATTR_DECLARES_CURSOR = "declares_cursor";

  /** FETCH and MOVE: the name of the cursor they read. */
  static final String ATTR_USES_CURSOR = "uses_cursor";

  /** DECLARE ... WITH HOLD: true (the cursor outlives its transaction, sql-declare.html). */
  static final String ATTR_WITH_HOLD = "with_hold";

  /**
   * What a statement closes, when it succeeds: {@code CLOSE name} the cursor's name, {@code
   * DEALLOCATE [PREPARE] name} the prepared statement's; {@code *} for CLOSE ALL, DEALLOCATE ALL
   * and DISCARD ALL (which does both, sql-discard.html). Absent otherwise.
   */
  static final String ATTR_CLOSES = "closes";

  /**
   * True for COMMIT, END, ROLLBACK and ABORT (with or without AND [NO] CHAIN; not ROLLBACK TO, nor
   * COMMIT/ROLLBACK PREPARED) and PREPARE TRANSACTION: the session's transaction ends, and with it
   * every cursor without HOLD.
   */
  static final String ATTR_ENDS_TRANSACTION = "ends_transaction";

  /**
   * True for COMMIT, END, ROLLBACK and ABORT with AND CHAIN (sql-commit.html): a new transaction
   * block starts at once, with the same characteristics. Read from the tokens, so a comment holding
   * the words does not set it.
   */
  static final String ATTR_CHAINS_TRANSACTION = "chains_transaction";

  /**
   * Catalog relations that hold planner statistics, among them sample values of every column of
   * every table: {@code most_common_vals}, {@code histogram_bounds}, the MCV lists of extended
   * statistics (view-pg-stats.html, catalog-pg-statistic.html). Reading one reads every table, so
   * it is reported with {@link Attr#ANY_TABLE} in {@code tables_read}. Not pg_statistic_ext, which
   * holds only definitions (psql's \d reads it).
   */
  static final Set<String> STATISTICS_RELATIONS =
      Set.of(
          "pg_stats",
          "pg_stats_ext",
          "pg_stats_ext_exprs",
          "pg_statistic",
          "pg_statistic_ext_data");

  /**
   * Relations and functions that show the text of other sessions' statements, literal values
   * included ({@code WHERE ssn = '078-05-1120'} as another user typed it): pg_catalog's
   * pg_stat_activity view (column {@code query}) and the functions under it,
   * pg_stat_get_activity(pid) and pg_stat_get_backend_activity(backend)
   * (monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW); bare or pg_catalog-qualified, like
   * {@link #STATISTICS_RELATIONS}. Reading one can read what any table holds, so it is reported
   * with {@link Attr#ANY_TABLE} too. Whole relations, not the query column: a column-level view
   * would need the view's columns and every way to reach them ({@code SELECT a FROM
   * pg_stat_activity a}, {@code to_json(a)}, {@code a.*}); a client that only wants pid and state
   * gets its table rules applied (conservative). Other PostgreSQL 15-18 views carry no statement
   * text of other sessions: pg_stat_progress_* hold counters, pg_prepared_statements, pg_cursors
   * and pg_backend_memory_contexts the session's own.
   */
  static final Set<String> ACTIVITY_RELATIONS =
      Set.of("pg_stat_activity", "pg_stat_get_activity", "pg_stat_get_backend_activity");

  /**
   * Extension views and functions that keep statement texts of every session, literal values
   * included, in any schema the extension was installed in: pg_stat_statements (view and function,
   * pgstatstatements.html; normalised texts, but utility statements and texts over
   * track_activity_query_size keep their constants) and Percona's pg_stat_monitor ({@code query},
   * {@code query_example}). Reported with {@link Attr#ANY_TABLE}. pg_stat_statements_info holds
   * only counters.
   */
  static final Set<String> QUERY_TEXT_EXTENSIONS =
      Set.of("pg_stat_statements", "pg_stat_monitor", "pg_stat_monitor_internal");

  /**
   * Attribute: the called functions whose effects we do not know (List of String): everything in
   * {@code functions} except PostgreSQL built-ins known to be read-only and the functions whose
   * effects already shaped the kind. A user-defined function can write anything (its body is
   * opaque: EXECUTE format(...) in PL/pgSQL, SECURITY DEFINER), so a policy can require this list
   * to be empty for read-only principals ({@code size(action.attributes.opaque_functions) == 0}). A
   * built-in name qualified with a schema other than pg_catalog is opaque too, and so are, in a
   * session whose target holds functions or operators created outside the gateway in place of
   * built-ins ({@link SqlShadows}), the calls of such names and the uses of such operators ({@code
   * operator(public.=)}).
   */
  static final String ATTR_OPAQUE_FUNCTIONS = "opaque_functions";

  /**
   * Attribute: the schema names a statement sets search_path to, as the server reads them ({@code
   * $user} for {@code "$user"}), from {@code SET [SESSION|LOCAL] search_path}, its alias {@code SET
   * [SESSION|LOCAL] SCHEMA 'x'} (sql-set.html), and every {@code set_config('search_path',
   * 'literal', ...)} in it (List of String). Just {@code *} when it may set search_path to names
   * nobody can read here: an {@code unknown} or unparsed statement (a non-literal path is one), DO
   * and CALL (a body can {@code SET search_path}), {@code set_role} (SET ROLE changes the schema
   * {@code "$user"} names; {@code set_config(name, ...)} with a non-literal name). Absent
   * otherwise, also for {@code SET search_path = DEFAULT}, which returns to the path the session
   * started with. The PostgreSQL session tracks these (PgSearchPath).
   */
  static final String ATTR_SETS_SEARCH_PATH = "sets_search_path";

  private static final List<String> ANY_SEARCH_PATH = List.of(Attr.ANY_SCHEMA);

  /**
   * Attribute: true when the statement returns search_path to the value the session started with
   * (sql-reset.html: "the value that the parameter would have had, if no SET had ever been issued
   * for it in the current session", so a role's or database's default): {@code RESET ALL}, {@code
   * RESET search_path}, {@code SET [SESSION|LOCAL] search_path {TO | =} DEFAULT} and {@code DISCARD
   * ALL}. The PostgreSQL session then trusts unqualified built-in names only as far as it did at
   * the start.
   */
  static final String ATTR_RESETS_SEARCH_PATH = "resets_search_path";

  /**
   * Attribute: true when a search_path the statement sets or resets may hold only until the
   * transaction ends: {@code SET LOCAL search_path} (or {@code SCHEMA}), and {@code
   * set_config('search_path', v, is_local)} whose third argument is not the literal {@code false}.
   * On a server that does not report search_path the PostgreSQL session trusts unqualified built-in
   * names again only after a path set for the session (PgSession#restoresPath).
   */
  static final String ATTR_SEARCH_PATH_LOCAL = "search_path_local";

  /** Attribute: true when EXPLAIN ANALYZE executes the (inner) statement that gave the kind. */
  static final String ATTR_EXPLAIN_ANALYZE = "explain_analyze";

  /**
   * Attribute: for a COPY TO STDOUT whose output the row masker cannot read as it assumes, the
   * option that changes it ({@code quote '7'}, {@code encoding 'LATIN1'}; PgMaskGuard#copyProblem);
   * {@code in a statement that cannot be read} for an unknown statement that mentions COPY. Absent
   * otherwise. Read from the tokens the classification lexed, and cached with it: a masked session
   * refuses such a statement without lexing its text again.
   */
  static final String ATTR_COPY_OUT_OPTION = "copy_out_option";

  /**
   * Attribute: what in the statement may make the session's client_encoding other than UTF-8
   * ({@code client_encoding 'LATIN1'}, {@code set_config with a setting name that is not a
   * literal}; PgMaskGuard#encodingProblem). Absent otherwise, and when {@link
   * #ATTR_COPY_OUT_OPTION} is present. A masked session refuses such a statement.
   */
  static final String ATTR_CLIENT_ENCODING = "sets_client_encoding";

  private static final Map<String, List<SqlStatement>> CACHE =
      new LinkedHashMap<>(256, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<SqlStatement>> eldest) {
          return size() > CACHE_ENTRIES;
        }
      };

  /**
   * Classifies every statement in {@code sql} (a simple-query string or one extended-protocol Parse
   * text).
   *
   * @param standardConformingStrings the session's current standard_conforming_strings (reported by
   *     the server in ParameterStatus); it changes where {@code '...'} strings end
   * @return one entry per non-empty statement, in order; empty for an empty query
   */
  static List<SqlStatement> classify(String sql, boolean standardConformingStrings) {
    return classify(sql, standardConformingStrings, true);
  }

  /**
   * As {@link #classify(String, boolean)}, in a session whose search_path may not keep pg_catalog
   * in front.
   *
   * @param catalogFirst the session's search_path keeps pg_catalog in front of every other schema
   *     for functions ({@link PgStartupParams#safeSearchPath}; true unless the target reported
   *     otherwise). When false an unqualified built-in name such as {@code lower} may call a user
   *     function of that name, so every unqualified call is in {@code opaque_functions}; only
   *     {@code pg_catalog.}-qualified built-ins are still known.
   */
  static List<SqlStatement> classify(
      String sql, boolean standardConformingStrings, boolean catalogFirst) {
    return classify(sql, standardConformingStrings, catalogFirst, SqlShadows.NONE);
  }

  /**
   * As {@link #classify(String, boolean, boolean)}, in a session whose target holds functions or
   * operators created outside the gateway that PostgreSQL may run in place of a trusted built-in
   * ({@link PgCatalog#shadows}): an unqualified call of such a name is in {@code opaque_functions},
   * and so is each use of such an operator's symbol, written or implied by the syntax ({@code IN}
   * compares with {@code =}; see {@link #shadowedOperators}). {@link SqlShadows#NONE} costs this
   * one comparison more than the three-argument form.
   */
  static List<SqlStatement> classify(
      String sql, boolean standardConformingStrings, boolean catalogFirst, SqlShadows shadows) {
    Objects.requireNonNull(sql, "sql");
    String key = null;
    if (sql.length() <= MAX_CACHED_LENGTH) {
      char settings = (char) ('0' + (standardConformingStrings ? 1 : 0) + (catalogFirst ? 2 : 0));
      key =
          shadows.isEmpty()
              ? settings + sql
              // another range of first characters, and the shadows before a NUL no name holds
              : (char) (settings + 4) + shadows.key() + '\0' + sql;
      synchronized (CACHE) {
        List<SqlStatement> hit = CACHE.get(key);
        if (hit != null) {
          return hit;
        }
      }
    }
    List<SqlStatement> out = new ArrayList<>();
    for (PgLexer.Segment seg : PgLexer.split(sql, standardConformingStrings)) {
      Ctx c;
      if (seg.error() != null) {
        c = new Ctx(sql, seg.tokens());
        c.unknown();
      } else {
        c = analyze(sql, seg.tokens(), 0, standardConformingStrings);
      }
      c.catalogFirst = catalogFirst;
      if (!shadows.isEmpty()) {
        c.shadows = shadows;
        c.shadowedOperators = shadowedOperators(seg.tokens(), shadows);
      }
      c.maskingChecks(seg.text(), seg.tokens(), seg.error() == null);
      out.add(new SqlStatement(seg.text(), c.toAction(seg.text())));
    }
    List<SqlStatement> result = List.copyOf(out);
    if (key != null) {
      synchronized (CACHE) {
        CACHE.put(key, result);
      }
    }
    return result;
  }

  /**
   * {@code sql} as one statement of kind unknown (unparsed): for a text the gateway cannot tell how
   * the server will split and read, so only a rule allowing unknown statements allows it.
   */
  static List<SqlStatement> unreadable(String sql) {
    Ctx c = new Ctx(sql, List.of());
    c.unknown();
    String text = sql.strip();
    c.maskingChecks(text, null, false);
    return List.of(new SqlStatement(text, c.toAction(text)));
  }

  // ---------------------------------------------------------------------------------------------
  // Per-statement state

  private static final class Ctx {
    final String sql;
    final List<PgToken> t;
    String base;
    String objectType;
    final Set<String> read = new LinkedHashSet<>();
    final Set<String> written = new LinkedHashSet<>();
    final Set<String> functions = new LinkedHashSet<>();

    /**
     * Calls written with a quoted upper-case name ({@code "Lower"(x)}): reported folded in {@code
     * functions}, but not the built-in of that name (sql-syntax-lexical.html §4.1.1).
     */
    final Set<String> quotedCalls = new HashSet<>();

    final Set<String> cteNames = new HashSet<>();

    /**
     * Where each CTE name is in scope, as token ranges {@code [from, to)}: a reference to the name
     * outside its range is a table of that name (queries-with.html).
     */
    final List<CteScope> cteScopes = new ArrayList<>();

    final BitSet nonCall = new BitSet();
    final BitSet mainStarts = new BitSet();

    /** Opening parentheses of the argument lists of functions in FROM. */
    final BitSet functionInFrom = new BitSet();

    /** Effects that make any statement more dangerous (DML, file access, SET ROLE, unknown). */
    final List<String> strong = new ArrayList<>();

    /** Kinds the statement performs besides its kind, without changing it (MERGE's actions). */
    final Set<String> also = new LinkedHashSet<>();

    /** Effects that only upgrade read-like statements (nextval, advisory locks, set_config). */
    final List<String> weak = new ArrayList<>();

    /** True for definitions (CREATE FUNCTION, VIEW, RULE...): nothing in them runs now. */
    boolean definition;

    int updateDeleteCount;
    int updateDeleteWithoutWhere;
    boolean rowLock;

    /** Token scan met something it may not fully understand: ask JSqlParser. */
    boolean complex;

    boolean unparsed;

    /** The session's search_path keeps pg_catalog first, as given to {@link #classify}. */
    boolean catalogFirst = true;

    /** What the target holds that may run instead of a trusted built-in, as given to classify. */
    SqlShadows shadows = SqlShadows.NONE;

    /** {@link #shadowedOperators} of the statement's tokens; empty without shadows. */
    List<String> shadowedOperators = List.of();

    /** The session's standard_conforming_strings, as given to {@link #classify}. */
    boolean scs = true;

    String preparedName;
    String executedName;

    /** {@link #ATTR_DECLARES_CURSOR}, {@link #ATTR_USES_CURSOR}. */
    String declares;

    String uses;

    boolean withHold;
    String closes;
    boolean endsTransaction;
    boolean chainsTransaction;
    boolean explainAnalyze;
    boolean resetsSearchPath;
    boolean localSearchPath;

    /** {@link #ATTR_SETS_SEARCH_PATH}, or null. */
    Set<String> searchPath;

    void setsSearchPath(List<String> schemas) {
      if (searchPath == null) {
        searchPath = new LinkedHashSet<>();
      }
      searchPath.addAll(schemas);
    }

    String finalKind;

    Ctx(String sql, List<PgToken> t) {
      this.sql = sql;
      this.t = t;
    }

    void unknown() {
      base = UNKNOWN;
      unparsed = true;
    }

    String word(int i) {
      return i >= 0 && i < t.size() && t.get(i).kind() == Kind.IDENT ? t.get(i).value() : null;
    }

    boolean isWord(int i, String w) {
      return i >= 0 && i < t.size() && t.get(i).isWord(w);
    }

    boolean is(int i, String punct) {
      return i >= 0 && i < t.size() && t.get(i).is(punct);
    }

    String kind() {
      if (finalKind != null) {
        return finalKind;
      }
      String k = base == null ? UNKNOWN : base;
      if (!definition) {
        for (String e : strong) {
          k = worse(k, e);
        }
        if (READ_LIKE.contains(k)) {
          for (String e : weak) {
            k = worse(k, e);
          }
        }
      }
      return k;
    }

    /**
     * The kind first, then every other kind the statement performs now: its leading statement's and
     * the strong effects (a DML in a CTE, the UPDATE of an upsert, SELECT INTO), the actions of a
     * MERGE. Weak effects only count when they made the kind, and a read-like kind only when it is
     * the kind: a read that also writes is the write ({@code SELECT nextval('s')} is [update]).
     * Definitions run nothing now: just the kind.
     */
    List<String> kinds() {
      String kind = kind();
      Set<String> k = new LinkedHashSet<>();
      k.add(kind);
      if (!definition) {
        if (base != null && !READ_LIKE.contains(base)) {
          k.add(base);
        }
        for (String e : strong) {
          if (!READ_LIKE.contains(e)) {
            k.add(e);
          }
        }
        k.addAll(also);
      }
      return List.copyOf(k);
    }

    /** What a COPY TO STDOUT or an encoding change does to masked output ({@link PgMaskGuard}). */
    String copyOutOption;

    String clientEncoding;

    /**
     * Runs PgMaskGuard's checks over the statement's tokens ({@code null}: it could not be lexed
     * one way). An unknown statement that mentions COPY is one whose options cannot be read.
     */
    void maskingChecks(String text, List<PgToken> tokens, boolean lexed) {
      copyOutOption =
          UNKNOWN.equals(kind()) && PgMaskGuard.contains(text, "copy")
              ? PgMaskGuard.UNREADABLE
              : tokens == null ? null : PgMaskGuard.copyProblem(tokens, lexed);
      clientEncoding =
          copyOutOption == null
              ? PgMaskGuard.encodingProblem(text, tokens, catalogFirst && shadows.isEmpty())
              : null;
    }

    Action toAction(String text) {
      String kind = kind();
      Map<String, Object> m = new HashMap<>();
      m.put(Attr.SQL_KIND, kind);
      if (objectType != null) {
        m.put(Attr.SQL_OBJECT_TYPE, objectType);
      }
      Set<String> w = new LinkedHashSet<>(written);
      if (rowLock && !definition) {
        // SELECT ... FOR UPDATE needs UPDATE privilege in PostgreSQL: treat locked rows as written.
        w.addAll(read);
      }
      m.put(
          Attr.SQL_TABLES_READ,
          readsEveryTable(read) || readsEveryTable(functions)
              ? withAnyTable(read)
              : List.copyOf(read));
      m.put(Attr.SQL_TABLES_WRITTEN, List.copyOf(w));
      m.put(Attr.SQL_FUNCTIONS, List.copyOf(functions));
      List<List<String>> sorted = sortFunctions(functions, quotedCalls, catalogFirst, shadows);
      List<String> opaque = sorted.get(0);
      if (!shadowedOperators.isEmpty()) {
        List<String> both = new ArrayList<>(opaque);
        both.addAll(shadowedOperators);
        opaque = List.copyOf(both);
      }
      m.put(ATTR_OPAQUE_FUNCTIONS, opaque);
      m.put(Attr.SQL_READ_ONLY_FUNCTIONS, sorted.get(1));
      List<String> kinds = kinds();
      m.put(Attr.SQL_KINDS, kinds);
      if ((kinds.contains(UPDATE) || kinds.contains(DELETE)) && updateDeleteCount > 0) {
        m.put(Attr.SQL_HAS_WHERE, updateDeleteWithoutWhere == 0);
      }
      m.put(Attr.SQL_UNPARSED, unparsed || kind.equals(UNKNOWN));
      String justification = justification(text);
      if (justification != null) {
        m.put(Attr.JUSTIFICATION, justification);
      }
      if (preparedName != null) {
        m.put(ATTR_PREPARED_NAME, preparedName);
      }
      if (executedName != null) {
        m.put(ATTR_EXECUTED_NAME, executedName);
      }
      if (declares != null) {
        m.put(ATTR_DECLARES_CURSOR, declares);
      }
      if (uses != null) {
        m.put(ATTR_USES_CURSOR, uses);
      }
      if (withHold) {
        m.put(ATTR_WITH_HOLD, true);
      }
      if (closes != null) {
        m.put(ATTR_CLOSES, closes);
      }
      if (endsTransaction) {
        m.put(ATTR_ENDS_TRANSACTION, true);
      }
      if (chainsTransaction) {
        m.put(ATTR_CHAINS_TRANSACTION, true);
      }
      if (explainAnalyze) {
        m.put(ATTR_EXPLAIN_ANALYZE, true);
      }
      if (resetsSearchPath) {
        m.put(ATTR_RESETS_SEARCH_PATH, true);
      }
      if (localSearchPath) {
        m.put(ATTR_SEARCH_PATH_LOCAL, true);
      }
      if (copyOutOption != null) {
        m.put(ATTR_COPY_OUT_OPTION, copyOutOption);
      }
      if (clientEncoding != null) {
        m.put(ATTR_CLIENT_ENCODING, clientEncoding);
      }
      if (unparsed
          || kind.equals(UNKNOWN)
          || kinds.contains(DO)
          || kinds.contains(CALL)
          || kinds.contains(SET_ROLE)) {
        m.put(ATTR_SETS_SEARCH_PATH, ANY_SEARCH_PATH);
      } else if (searchPath != null) {
        m.put(ATTR_SETS_SEARCH_PATH, List.copyOf(searchPath));
      }
      return new Action(ActionKind.SQL, text, m);
    }
  }

  /**
   * The action of a statement that runs a prepared statement the session did not see prepared:
   * {@code EXECUTE name} is the kind execute already; {@code CREATE TABLE t AS EXECUTE name} gets
   * the kind execute in {@code kinds} besides its create, so that only a rule allowing execute
   * admits it, as it admits such an EXECUTE. PostgreSQL can have a name the gateway never saw
   * prepared: a DO block or a function body prepares one ({@code EXECUTE 'PREPARE z AS ...'} in
   * PL/pgSQL, checked on 15), and what it runs is not known here (red team rt19).
   */
  static Action unseenPrepared(Action action) {
    List<String> kinds = action.list(Attr.SQL_KINDS);
    if (EXECUTE.equals(action.string(Attr.SQL_KIND)) || kinds.contains(EXECUTE)) {
      return action;
    }
    List<String> more = new ArrayList<>(kinds);
    more.add(EXECUTE);
    return action.with(Attr.SQL_KINDS, List.copyOf(more));
  }

  /**
   * The action an {@code EXECUTE name(args)} is decided as when the session knows what {@code name}
   * was prepared as: that statement's kinds, tables and WHERE, so that the rules which decided its
   * PREPARE decide every run of it (a reviewed UPDATE is reviewed at each EXECUTE), plus what the
   * arguments do themselves; {@code executes_prepared} stays, {@code prepared_statement} goes. An
   * EXECUTE already merged with one candidate may be merged with another (a PREPARE of the same
   * name not yet confirmed): the result matches every rule either would. The raw text is the
   * EXECUTE's. Unchanged when {@code prepared} is itself an EXECUTE (a protocol-level statement can
   * be one): that stays the kind execute, which only a rule naming it allows.
   */
  static Action executing(Action execute, Action prepared) {
    if (prepared.string(ATTR_EXECUTED_NAME) != null) {
      return execute;
    }
    Map<String, Object> m = new HashMap<>(prepared.attributes());
    m.remove(ATTR_PREPARED_NAME);
    m.remove(Attr.JUSTIFICATION); // the EXECUTE's own, if it has one (below)
    if (execute.string(Attr.JUSTIFICATION) != null) {
      m.put(Attr.JUSTIFICATION, execute.string(Attr.JUSTIFICATION));
    }
    m.remove(Attr.SQL_SEARCH_PATH); // the session decorates the action with its path now
    m.put(ATTR_EXECUTED_NAME, execute.string(ATTR_EXECUTED_NAME));
    String own = execute.string(Attr.SQL_KIND);
    String kind = prepared.string(Attr.SQL_KIND);
    if (!EXECUTE.equals(own)) {
      kind = worse(kind, own); // the arguments' own effects, or a candidate merged before
    }
    Set<String> kinds = new LinkedHashSet<>();
    kinds.add(kind);
    kinds.addAll(prepared.list(Attr.SQL_KINDS));
    for (String k : execute.list(Attr.SQL_KINDS)) {
      if (!k.equals(EXECUTE)) {
        kinds.add(k);
      }
    }
    // As in a classification (kinds()): read-like kinds only when they are the kind, so that
    // CREATE TABLE t AS EXECUTE of a SELECT is [create], as CREATE TABLE t AS SELECT is
    final String main = kind;
    kinds.removeIf(k -> READ_LIKE.contains(k) && !k.equals(main));
    m.put(Attr.SQL_KIND, kind);
    m.put(Attr.SQL_KINDS, List.copyOf(kinds));
    if (execute.string(Attr.SQL_OBJECT_TYPE) != null) {
      // CREATE TABLE t AS EXECUTE name: a create of a table, whatever the statement it runs
      m.put(Attr.SQL_OBJECT_TYPE, execute.string(Attr.SQL_OBJECT_TYPE));
    }
    for (String list :
        List.of(
            Attr.SQL_TABLES_READ,
            Attr.SQL_TABLES_WRITTEN,
            Attr.SQL_FUNCTIONS,
            ATTR_OPAQUE_FUNCTIONS,
            Attr.SQL_READ_ONLY_FUNCTIONS,
            ATTR_SETS_SEARCH_PATH)) {
      Set<String> union = new LinkedHashSet<>(prepared.list(list));
      union.addAll(execute.list(list));
      if (!union.isEmpty() || m.containsKey(list)) {
        m.put(list, List.copyOf(union));
      }
    }
    if (execute.attributes().get(Attr.SQL_HAS_WHERE) instanceof Boolean w) {
      m.merge(Attr.SQL_HAS_WHERE, w, (a, b) -> (Boolean) a && (Boolean) b);
    }
    m.put(Attr.SQL_UNPARSED, prepared.flag(Attr.SQL_UNPARSED) || execute.flag(Attr.SQL_UNPARSED));
    return new Action(ActionKind.SQL, execute.raw(), m);
  }

  /**
   * The requester's justification in the comment that opens a statement ({@code /* justification:
   * OPS-42 *}{@code /} or {@code -- justification: OPS-42}, any case), or null: a psql user gives
   * one without any client support. The comment ends where the server ends it ({@link
   * PgLexer#leadingComment}), so what the reviewer is shown as the justification is exactly what
   * the server skips.
   */
  static String justification(String text) {
    if (!text.startsWith("/*") && !text.startsWith("--")) {
      return null; // statement texts are stripped: most start with a keyword
    }
    String body = PgLexer.leadingComment(text);
    if (body == null) {
      return null;
    }
    body = body.strip();
    String word = "justification";
    if (!body.regionMatches(true, 0, word, 0, word.length())) {
      return null;
    }
    String rest = body.substring(word.length()).stripLeading();
    if (!rest.startsWith(":")) {
      return null;
    }
    String j = rest.substring(1).strip();
    return j.isEmpty() ? null : j;
  }

  /**
   * True when {@code names} (relations read or functions called) has one that shows data of every
   * table: a {@link #STATISTICS_RELATIONS} or {@link #ACTIVITY_RELATIONS} name of pg_catalog, or a
   * {@link #QUERY_TEXT_EXTENSIONS} name in any schema.
   */
  private static boolean readsEveryTable(Set<String> names) {
    for (String r : names) {
      int dot = r.lastIndexOf('.');
      String name = r.substring(dot + 1);
      if (QUERY_TEXT_EXTENSIONS.contains(name)) {
        return true;
      }
      if ((dot < 0 || r.startsWith("pg_catalog.") && dot == "pg_catalog".length())
          && (STATISTICS_RELATIONS.contains(name) || ACTIVITY_RELATIONS.contains(name))) {
        return true;
      }
    }
    return false;
  }

  private static List<String> withAnyTable(Set<String> read) {
    List<String> out = new ArrayList<>(read);
    out.add(Attr.ANY_TABLE);
    return List.copyOf(out);
  }

  /** A CTE name and the token range in which a plain reference to it means the CTE. */
  private record CteScope(String name, int from, int to) {}

  // ---------------------------------------------------------------------------------------------
  // Dispatch on the leading key word

  private static final Set<String> QUERY_START = Set.of("select", "values", "table", "with");

  private static Ctx analyze(String sql, List<PgToken> t, int wrapping, boolean scs) {
    Ctx c = new Ctx(sql, t);
    c.scs = scs;
    if (t.isEmpty() || wrapping > MAX_WRAPPING || maxDepth(t, 0, t.size()) > MAX_NESTING_DEPTH) {
      c.unknown();
      return c;
    }
    int s = 0;
    while (c.is(s, "(")) {
      s++;
    }
    String w = c.word(s);
    if (w == null || (s > 0 && !QUERY_START.contains(w))) {
      c.unknown();
      return c;
    }
    if (hasInnerSemicolon(c) && !isCreateWithBody(c)) {
      // The splitter only leaves ';' inside parentheses or a BEGIN ATOMIC body; outside CREATE
      // RULE / FUNCTION / PROCEDURE the server would reject it, and we cannot tell what it means.
      c.unknown();
      return c;
    }
    switch (w) {
      case "select", "values", "table", "with" -> {
        c.base = SELECT;
        query(c, 0, t.size());
      }
      case "insert", "update", "delete", "merge" -> {
        c.base = w;
        query(c, 0, t.size());
      }
      case "copy" -> copy(c);
      case "create" -> create(c);
      case "alter" -> alter(c);
      case "drop" -> drop(c);
      case "truncate" -> {
        c.base = TRUNCATE;
        int i = 1;
        if (c.isWord(i, "table")) {
          i++;
        }
        nameList(c, i, c.written);
        c.unparsed |= cascades(c); // also empties the tables that reference these: unknown ones
      }
      case "grant", "revoke" -> grant(c, w);
      case "set" -> set(c);
      case "reset" -> {
        String v = nameValue(c, 1);
        boolean role =
            c.isWord(1, "role")
                || (c.isWord(1, "session") && c.isWord(2, "authorization"))
                || isRoleSetting(v);
        c.base = role ? SET_ROLE : RESET;
        c.resetsSearchPath = c.isWord(1, "all") || isSearchPath(v);
        if (!role && v != null && PgLexer.foldCase(v).equals("standard_conforming_strings")) {
          // Back to the session's startup value, which the gateway may not be using now.
          c.unknown();
        }
      }
      case "begin", "commit", "end", "rollback", "abort", "savepoint", "release" -> {
        // COMMIT/ROLLBACK PREPARED 'gid' finish a prepared transaction, perhaps another session's
        c.base =
            (w.equals("commit") || w.equals("rollback")) && c.isWord(1, "prepared")
                ? PREPARED_TRANSACTION
                : TRANSACTION;
        // COMMIT [WORK|TRANSACTION] [AND [NO] CHAIN], likewise END, ROLLBACK, ABORT; not
        // ROLLBACK [WORK] TO [SAVEPOINT] s, nor COMMIT/ROLLBACK PREPARED 'id' (sql-commit.html)
        c.endsTransaction =
            !w.equals("begin")
                && !w.equals("savepoint")
                && !w.equals("release")
                && findWordAtDepth0(c, 1, t.size(), "to") < 0
                && !c.isWord(1, "prepared");
        // ... AND CHAIN (not AND NO CHAIN) starts a new transaction block at once
        int chain = c.endsTransaction ? findWordAtDepth0(c, 1, t.size(), "chain") : -1;
        c.chainsTransaction = chain > 1 && c.isWord(chain - 1, "and");
      }
      case "start" -> c.base = c.isWord(1, "transaction") ? TRANSACTION : UNKNOWN;
      case "prepare" -> {
        return prepare(c, wrapping);
      }
      case "execute" -> {
        c.base = EXECUTE;
        c.executedName = nameValue(c, 1);
        // The arguments only: the statement's name before them is no function (sql-execute.html)
        functionScan(c, c.executedName == null ? 0 : 2, t.size());
      }
      case "deallocate" -> {
        c.base = DEALLOCATE;
        int i = c.isWord(1, "prepare") ? 2 : 1; // DEALLOCATE [PREPARE] { name | ALL }
        c.closes = c.isWord(i, "all") ? "*" : nameValue(c, i);
      }
      case "explain" -> {
        return explain(c, wrapping);
      }
      case "do" -> c.base = DO;
      case "call" -> {
        c.base = CALL;
        functionScan(c, 0, t.size());
      }
      case "vacuum", "analyze", "analyse", "cluster", "reindex", "checkpoint", "refresh" ->
          maintenance(c, w);
      case "lock" -> {
        c.base = LOCK;
        int i = 1;
        if (c.isWord(i, "table")) {
          i++;
        }
        nameList(c, i, c.written);
      }
      case "listen" -> c.base = LISTEN;
      case "unlisten" -> c.base = UNLISTEN;
      case "notify" -> c.base = NOTIFY;
      case "show" -> c.base = SHOW;
      case "discard" -> {
        c.base = DISCARD;
        if (c.isWord(1, "all")) {
          c.closes = "*"; // closes every cursor, deallocates every statement (sql-discard.html)
          c.resetsSearchPath = true; // it runs RESET ALL
        }
      }
      case "declare" -> {
        return declare(c, wrapping);
      }
      case "fetch", "move" -> {
        // FETCH [direction] [FROM | IN] name: the name comes last in every form (sql-fetch.html)
        c.base = CURSOR;
        c.uses = nameValue(c, t.size() - 1);
      }
      case "close" -> {
        c.base = CURSOR;
        c.closes = c.isWord(1, "all") ? "*" : nameValue(c, 1);
      }
      case "comment" -> c.base = COMMENT;
      case "security" -> c.base = c.isWord(1, "label") ? COMMENT : UNKNOWN;
      case "import" -> {
        // IMPORT FOREIGN SCHEMA creates foreign tables.
        c.base = CREATE;
        c.objectType = "foreign_table";
        importedTables(c);
      }
      case "reassign" -> {
        // REASSIGN OWNED BY old TO new (sql-reassign-owned.html): ALTER … OWNER TO new of every
        // object old owns, tables it does not name included (see ownerTo)
        c.base = ALTER;
        c.objectType = "owned";
        c.also.add(GRANT);
        c.written.add(Attr.ANY_TABLE);
      }
      // LOAD loads a shared library into the backend: arbitrary code; everything else is unknown.
      default -> c.unknown();
    }
    if (UNKNOWN.equals(c.base)) {
      c.unparsed = true;
    }
    return c;
  }

  private static boolean hasInnerSemicolon(Ctx c) {
    for (PgToken tok : c.t) {
      if (tok.is(";")) {
        return true;
      }
    }
    return false;
  }

  private static boolean isCreateWithBody(Ctx c) {
    int i = 1;
    if (!c.isWord(0, "create")) {
      return false;
    }
    if (c.isWord(i, "or") && c.isWord(i + 1, "replace")) {
      i += 2;
    }
    return c.isWord(i, "rule") || c.isWord(i, "function") || c.isWord(i, "procedure");
  }

  static int maxDepth(List<PgToken> t, int from, int to) {
    int d = 0;
    int max = 0;
    for (int i = from; i < to; i++) {
      PgToken tok = t.get(i);
      if (tok.is("(") || tok.is("[")) {
        max = Math.max(max, ++d);
      } else if ((tok.is(")") || tok.is("]")) && d > 0) {
        d--;
      }
    }
    return max;
  }

  // ---------------------------------------------------------------------------------------------
  // Queries: SELECT / VALUES / TABLE / WITH / INSERT / UPDATE / DELETE / MERGE

  /**
   * Token scan of a query in [from, to), then JSqlParser enrichment only when the scan met a WITH,
   * LATERAL, ROWS FROM or a parenthesised FROM item (derived table, parenthesised join). This is
   * the fast path: JSqlParser costs hundreds of microseconds per statement, the token scan a few;
   * SELECT/INSERT/UPDATE/DELETE with joins, function calls and sub-selects in expressions never
   * reach the parser. A complex statement the parser cannot read is marked unparsed (its attributes
   * come from tokens only).
   */
  private static void query(Ctx c, int from, int to) {
    if (from >= to) {
      c.unparsed = true;
      return;
    }
    scan(c, from, to);
    functionScan(c, from, to);
    if (c.complex && !enrich(c, from, to)) {
      c.unparsed = true;
    }
  }

  /** Per-parenthesis-level state of the FROM-list scanner. */
  private static final class Level {
    final int start;
    boolean select;
    boolean inFrom;
    boolean expectItem;
    boolean using;
    boolean fromItem;

    Level(int start) {
      this.start = start;
    }
  }

  private static final Set<String> CLAUSE_END =
      Set.of(
          "where",
          "group",
          "having",
          "order",
          "limit",
          "offset",
          "fetch",
          "window",
          "union",
          "intersect",
          "except",
          "returning",
          "set",
          "when",
          "then",
          "into",
          "on",
          "values");

  private static final Set<String> NOT_A_TABLE =
      Set.of("only", "lateral", "rows", "select", "values", "with", "table", "natural", "cross");

  private static void scan(Ctx c, int from, int to) {
    List<PgToken> t = c.t;
    Deque<Level> stack = new ArrayDeque<>();
    int s = from;
    while (c.is(s, "(") && s < to) {
      s++;
    }
    Level cur = new Level(s);
    for (int i = from; i < to; i++) {
      PgToken tok = t.get(i);
      if (tok.is("(")) {
        Level nl = new Level(i + 1);
        if (c.functionInFrom.get(i)) {
          nl.fromItem = true; // only to skip the alias after it
        } else if (cur.expectItem) {
          // Sub-select or parenthesised join as a FROM item.
          nl.select = true;
          nl.inFrom = true;
          nl.expectItem = true;
          nl.fromItem = true;
          cur.expectItem = false;
          c.complex = true;
        }
        stack.push(cur);
        cur = nl;
        continue;
      }
      if (tok.is(")")) {
        if (!stack.isEmpty()) {
          boolean wasItem = cur.fromItem;
          cur = stack.pop();
          if (wasItem) {
            i = skipAlias(c, i + 1) - 1; // (subquery) AS s(a, b)
          }
        }
        continue;
      }
      if (tok.is(",")) {
        if (cur.inFrom) {
          cur.expectItem = true;
        }
        continue;
      }
      boolean atStart = i == cur.start || c.mainStarts.get(i);
      String v = tok.kind() == Kind.IDENT ? tok.value() : null;
      if (atStart && v != null) {
        switch (v) {
          case "with" -> {
            c.complex = true;
            int levelEnd = to;
            if (c.is(cur.start - 1, "(") && cur.start - 1 >= from) {
              int close = matching(c, cur.start - 1, to);
              levelEnd = close < 0 ? to : close;
            }
            int main = parseWith(c, i, to, levelEnd);
            if (main < 0) {
              // A WITH we cannot follow may hide a data-modifying CTE: most dangerous.
              c.strong.add(UNKNOWN);
              c.unparsed = true;
              return;
            }
            c.mainStarts.set(main);
            String mw = c.word(main);
            if (i == s && mw != null && !QUERY_START.contains(mw)) {
              c.base = mw; // WITH ... INSERT/UPDATE/DELETE/MERGE
            }
            continue;
          }
          case "insert", "update", "delete", "merge" -> {
            int next = dml(c, i, to, v);
            if (!v.equals("insert")) {
              cur.select = true;
              cur.using = !v.equals("update");
            }
            if (next < 0) {
              c.strong.add(UNKNOWN);
              c.unparsed = true;
              return;
            }
            i = next - 1;
            continue;
          }
          case "table" -> {
            i = tableCommand(c, i, to) - 1;
            continue;
          }
          default -> {}
        }
      }
      if (cur.expectItem) {
        if (tok.isName() && (v == null || !NOT_A_TABLE.contains(v))) {
          int next = fromItem(c, i, to);
          cur.expectItem = false;
          i = next - 1;
          continue;
        }
        if (v != null && (v.equals("only") || v.equals("lateral"))) {
          if (v.equals("lateral")) {
            c.complex = true;
          }
          continue;
        }
        if (v != null && v.equals("rows")) {
          c.complex = true;
        }
        cur.expectItem = false;
      }
      if (v == null) {
        continue;
      }
      switch (v) {
        case "select" -> {
          cur.select = true;
          cur.inFrom = false;
          cur.expectItem = false;
        }
        case "from" -> {
          if (cur.select
              && !(c.isWord(i - 1, "distinct") && (c.isWord(i - 2, "is") || c.isWord(i - 2, "not")))
              && !c.isWord(i - 1, "delete")) {
            cur.inFrom = true;
            cur.expectItem = true;
          }
        }
        case "join" -> {
          if (cur.select) {
            cur.inFrom = true;
            cur.expectItem = true;
          }
        }
        case "using" -> {
          if (cur.select && cur.using && !cur.inFrom) {
            // DELETE ... USING a, b / MERGE ... USING src|(subquery); not JOIN ... USING (cols)
            cur.inFrom = true;
            cur.expectItem = true;
          } else {
            cur.expectItem = false;
          }
        }
        case "for" -> {
          if (isLockingClause(c, i + 1)) {
            c.rowLock = true;
            c.weak.add(LOCK);
          }
          cur.inFrom = false;
          cur.expectItem = false;
        }
        case "into" -> {
          if (cur.select && !c.isWord(i - 1, "insert") && !c.isWord(i - 1, "merge")) {
            i = selectInto(c, i, to) - 1;
          }
          cur.inFrom = false;
          cur.expectItem = false;
        }
        case "table" -> {
          if (isSetOp(c, i - 1)) {
            i = tableCommand(c, i, to) - 1;
          }
        }
        default -> {
          if (CLAUSE_END.contains(v)) {
            if (!v.equals("on")) {
              cur.inFrom = false;
            }
            cur.expectItem = false;
          }
        }
      }
    }
  }

  private static boolean isSetOp(Ctx c, int i) {
    String w = c.word(i);
    if (w == null) {
      return false;
    }
    if (w.equals("all") || w.equals("distinct")) {
      w = c.word(i - 1);
    }
    return "union".equals(w) || "intersect".equals(w) || "except".equals(w);
  }

  /**
   * FOR UPDATE | FOR NO KEY UPDATE | FOR SHARE | FOR KEY SHARE
   * (sql-select.html#SQL-FOR-UPDATE-SHARE).
   */
  private static boolean isLockingClause(Ctx c, int i) {
    return c.isWord(i, "update")
        || c.isWord(i, "share")
        || (c.isWord(i, "no") && c.isWord(i + 1, "key"))
        || (c.isWord(i, "key") && c.isWord(i + 1, "share"));
  }

  /** A table (or function) in a FROM list; returns the index after the item and its alias. */
  private static int fromItem(Ctx c, int i, int to) {
    int[] end = new int[1];
    String name = qualifiedName(c, i, end);
    int j = end[0];
    if (name == null) {
      c.complex = true;
      return i + 1;
    }
    if (c.is(j, "(")) {
      // A function in FROM (functionScan reports it). Its arguments may hold sub-selects
      // (generate_series(1, (SELECT max(a) FROM t)), XMLTABLE ... PASSING (SELECT ...)): the scan
      // goes on into them, and skips the alias and column list after the closing parenthesis.
      c.functionInFrom.set(j);
      return j;
    }
    addTable(c, name, c.read, i);
    if (c.is(j, "*")) {
      j++;
    }
    return skipAlias(c, j);
  }

  /** Skips {@code [AS] alias [(col, ...)]}, marking the column list as not a function call. */
  private static int skipAlias(Ctx c, int j) {
    if (c.isWord(j, "as")) {
      j++;
    }
    PgToken a = j < c.t.size() ? c.t.get(j) : null;
    if (a != null
        && (a.kind() == Kind.QUOTED_IDENT
            || (a.kind() == Kind.IDENT
                && !CLAUSE_END.contains(a.value())
                && !isJoinWord(a.value())))) {
      j++;
      if (c.is(j, "(")) {
        c.nonCall.set(j);
      }
    }
    return j;
  }

  private static boolean isJoinWord(String w) {
    return switch (w) {
      case "join",
          "left",
          "right",
          "full",
          "inner",
          "outer",
          "cross",
          "natural",
          "using",
          "tablesample",
          "for",
          "limit",
          "offset",
          "fetch",
          "window",
          "group",
          "having",
          "order",
          "where",
          "union",
          "intersect",
          "except",
          "returning",
          "set",
          "do",
          "on" ->
          true;
      default -> false;
    };
  }

  /**
   * Adds a table referenced at token {@code at}, unless it is a reference to a CTE in scope there.
   * A non-recursive CTE is visible only after its own definition (in later CTEs and the main
   * query), a WITH RECURSIVE one in the whole WITH; both only inside the parenthesis level of their
   * WITH (queries-with.html, sql-select.html#SQL-WITH). So in {@code WITH secret AS (SELECT * FROM
   * secret) ...} the inner {@code secret} is the table. {@code at} &lt; 0 (a name found by
   * JSqlParser, position unknown): any CTE of that name hides it, since the token scan saw the FROM
   * items and reported those out of scope itself.
   */
  private static void addTable(Ctx c, String name, Set<String> into, int at) {
    if (name.indexOf('.') < 0) {
      for (CteScope sc : c.cteScopes) {
        if (sc.name().equals(name) && (at < 0 || (at >= sc.from() && at < sc.to()))) {
          return; // a reference to a CTE of this statement, not a table
        }
      }
    }
    into.add(name);
    String simple = PgLexer.foldCase(name.substring(name.lastIndexOf('.') + 1));
    if (into == c.read && FILE_VIEWS.contains(simple)) {
      c.strong.add(COPY_PROGRAM);
    }
  }

  /** {@code TABLE name} (the TABLE command, also after UNION). */
  private static int tableCommand(Ctx c, int i, int to) {
    int j = i + 1;
    if (c.isWord(j, "only")) {
      j++;
    }
    int[] end = new int[1];
    String name = qualifiedName(c, j, end);
    if (name == null) {
      c.unparsed = true;
      return j;
    }
    addTable(c, name, c.read, j);
    return end[0];
  }

  /**
   * {@code SELECT ... INTO [TEMP|UNLOGGED] [TABLE] name}: creates a table (sql-selectinto.html).
   */
  private static int selectInto(Ctx c, int i, int to) {
    int j = i + 1;
    while (c.isWord(j, "temp")
        || c.isWord(j, "temporary")
        || c.isWord(j, "unlogged")
        || c.isWord(j, "local")
        || c.isWord(j, "global")
        || c.isWord(j, "table")) {
      j++;
    }
    int[] end = new int[1];
    String name = qualifiedName(c, j, end);
    c.strong.add(CREATE);
    if (c.objectType == null) {
      c.objectType = "table";
    }
    if (name == null) {
      c.unparsed = true;
      return j;
    }
    c.written.add(name);
    return end[0];
  }

  /**
   * INSERT INTO / UPDATE [ONLY] / DELETE FROM [ONLY] / MERGE INTO [ONLY] target at a statement
   * start. Records the written table, the kind as an effect and whether UPDATE/DELETE has a WHERE
   * at its own level. Returns the index after the target (and its alias), or -1.
   */
  private static int dml(Ctx c, int i, int to, String kind) {
    int j = i + 1;
    if ((kind.equals("insert") || kind.equals("merge")) && !c.isWord(j++, "into")) {
      return -1;
    }
    if (kind.equals("delete") && !c.isWord(j++, "from")) {
      return -1;
    }
    if (c.isWord(j, "only")) {
      j++;
    }
    int[] end = new int[1];
    String name = qualifiedName(c, j, end);
    if (name == null) {
      return -1;
    }
    c.written.add(name);
    c.strong.add(kind);
    if (PgLexer.foldCase(name.substring(name.lastIndexOf('.') + 1)).equals("pg_settings")) {
      // The view's rules turn UPDATE pg_settings into set_config() of whatever settings the
      // WHERE clause selects (view-pg-settings.html), client_encoding and
      // standard_conforming_strings included, with values we cannot see: unknown.
      c.strong.add(UNKNOWN);
    }
    j = end[0];
    if (c.is(j, "*")) {
      j++;
    }
    if (kind.equals("update") || kind.equals("delete")) {
      c.updateDeleteCount++;
      if (!hasWhereAtLevel(c, j, to)) {
        c.updateDeleteWithoutWhere++;
      }
    }
    if (kind.equals("merge")) {
      mergeActions(c, j);
    }
    if (kind.equals("insert")) {
      upsert(c, j);
      if (c.isWord(j, "as")) {
        j += 2;
      }
      if (c.is(j, "(")) {
        c.nonCall.set(j);
      }
      // The source query starts after the column list and OVERRIDING {SYSTEM|USER} VALUE
      // (sql-insert.html); there TABLE x and WITH start a query like at the start of a statement.
      // Before, `INSERT INTO t TABLE payments` copied payments without naming it as read.
      int k = c.is(j, "(") ? matching(c, j, to) + 1 : j;
      if (k > 0 && c.isWord(k, "overriding")) {
        k += 3;
        if (c.is(k, "(")) {
          c.nonCall.set(k); // VALUE (query): a parenthesised source, not a call of value()
        }
      }
      if (k > 0 && (c.isWord(k, "table") || c.isWord(k, "with"))) {
        c.mainStarts.set(k);
      }
      return j;
    }
    return skipAlias(c, j);
  }

  /**
   * {@code INSERT ... ON CONFLICT [target] DO UPDATE SET ... [WHERE cond]} updates the existing row
   * instead of inserting (sql-insert.html#SQL-ON-CONFLICT), and PostgreSQL requires UPDATE
   * privilege on the target for it: it is an UPDATE too (an effect, so the kind is update and
   * {@code kinds} lists both), and its WHERE is the one after DO UPDATE, not the conflict target's
   * index predicate ({@code ON CONFLICT (a) WHERE p DO UPDATE}). Looks only at the INSERT's own
   * parenthesis level, which ends at the {@code )} closing a CTE or sub-statement.
   */
  private static void upsert(Ctx c, int from) {
    int d = 0;
    boolean conflict = false;
    for (int k = from; k < c.t.size(); k++) {
      PgToken tok = c.t.get(k);
      if (tok.is("(")) {
        d++;
      } else if (tok.is(")") && --d < 0) {
        return;
      } else if (d == 0 && !c.is(k - 1, ".") && !c.isWord(k - 1, "as")) {
        if (tok.isWord("returning")) {
          return;
        }
        if (tok.isWord("on") && c.isWord(k + 1, "conflict")) {
          conflict = true;
        } else if (conflict && tok.isWord("do") && c.isWord(k + 1, "update")) {
          c.strong.add(UPDATE);
          c.updateDeleteCount++;
          if (!hasWhereAtLevel(c, k + 2, c.t.size())) {
            c.updateDeleteWithoutWhere++;
          }
          return;
        }
      }
    }
  }

  /**
   * The actions of MERGE's WHEN clauses ({@code THEN UPDATE / DELETE / INSERT}, sql-merge.html),
   * for {@code kinds}: PostgreSQL requires the privilege of each action on the target, and a policy
   * that denies delete must see the DELETE of a MERGE. The kind stays merge. The ON condition
   * selects the rows a MERGE updates or deletes, so it counts as their WHERE.
   */
  private static void mergeActions(Ctx c, int from) {
    int d = 0;
    for (int k = from; k + 1 < c.t.size(); k++) {
      PgToken tok = c.t.get(k);
      if (tok.is("(")) {
        d++;
      } else if (tok.is(")") && --d < 0) {
        return;
      } else if (d == 0 && tok.isWord("then")) {
        String action = c.word(k + 1);
        if (action != null
            && (action.equals(UPDATE) || action.equals(DELETE) || action.equals(INSERT))) {
          c.also.add(action);
          if (!action.equals(INSERT)) {
            c.updateDeleteCount++;
          }
        }
      }
    }
  }

  /**
   * True when the UPDATE/DELETE whose target ends at {@code from} has its own WHERE clause: the key
   * word WHERE at parenthesis depth 0, before RETURNING. After {@code .} or {@code AS} a key word,
   * even a reserved one, is a column name or label (gram.y {@code attr_name} and {@code AS
   * ColLabel}; sql-syntax-lexical.html §4.1.1), so {@code UPDATE t SET a = u.where FROM u} and
   * {@code DELETE FROM t RETURNING id AS where} have no WHERE clause.
   */
  private static boolean hasWhereAtLevel(Ctx c, int from, int to) {
    int d = 0;
    for (int k = from; k < to; k++) {
      PgToken tok = c.t.get(k);
      if (tok.is("(")) {
        d++;
      } else if (tok.is(")")) {
        if (--d < 0) {
          return false;
        }
      } else if (d == 0 && !c.is(k - 1, ".") && !c.isWord(k - 1, "as")) {
        // After "." or AS the word is a column name or a label (u.where, AS returning).
        if (tok.isWord("returning")) {
          return false;
        }
        if (tok.isWord("where")) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * {@code WITH [RECURSIVE] name [(cols)] AS [[NOT] MATERIALIZED] (body) [SEARCH|CYCLE ...], ...}
   * (queries-with.html). Returns the index of the main statement, or -1 when malformed.
   */
  private static int parseWith(Ctx c, int i, int to, int levelEnd) {
    int j = i + 1;
    boolean recursive = c.isWord(j, "recursive");
    if (recursive) {
      j++;
    }
    while (j < to) {
      PgToken n = c.t.get(j);
      if (!n.isName()) {
        return -1;
      }
      String name = part(n.value());
      c.cteNames.add(n.value());
      j++;
      if (c.is(j, "(")) {
        c.nonCall.set(j);
        j = matching(c, j, to) + 1;
        if (j <= 0) {
          return -1;
        }
      }
      if (!c.isWord(j++, "as")) {
        return -1;
      }
      if (c.isWord(j, "not")) {
        j++;
      }
      if (c.isWord(j, "materialized")) {
        j++;
      }
      if (!c.is(j, "(")) {
        return -1;
      }
      j = matching(c, j, to) + 1;
      if (j <= 0) {
        return -1;
      }
      // Non-recursive: visible after its own body; RECURSIVE: in the whole WITH.
      c.cteScopes.add(new CteScope(name, recursive ? i : j, levelEnd));
      if (c.isWord(j, "search") || c.isWord(j, "cycle")) {
        while (j < to && !c.is(j, ",") && !isStatementWord(c.word(j), j, c)) {
          if (c.is(j, "(")) {
            j = matching(c, j, to);
            if (j < 0) {
              return -1;
            }
          }
          j++;
        }
      }
      if (c.is(j, ",")) {
        j++;
        continue;
      }
      return j < to ? j : -1;
    }
    return -1;
  }

  private static boolean isStatementWord(String w, int j, Ctx c) {
    return w != null
        && (w.equals("select")
            || w.equals("insert")
            || w.equals("update")
            || w.equals("delete")
            || w.equals("merge")
            || w.equals("values")
            || w.equals("table"))
        && !c.isWord(j - 1, "set");
  }

  /** Index of the parenthesis closing the one at {@code open}, or -1. */
  private static int matching(Ctx c, int open, int to) {
    int d = 0;
    for (int k = open; k < to; k++) {
      if (c.is(k, "(")) {
        d++;
      } else if (c.is(k, ")") && --d == 0) {
        return k;
      }
    }
    return -1;
  }

  // ---------------------------------------------------------------------------------------------
  // Names

  /**
   * A possibly qualified name {@code a.b.c} at {@code i}; parts normalised as PostgreSQL does
   * (unquoted folded, quoted kept). Returns null when there is no name; end[0] = index after it.
   *
   * <p>A name of exactly three parts is {@code database.schema.object}: the server accepts the
   * database only when it is the current one (otherwise 0A000 "cross-database references are not
   * implemented", makeRangeVarFromNameList and DeconstructQualifiedName), so {@code
   * app.public.payments} is {@code public.payments} and is reported as such; a deny rule on {@code
   * public.payments} must not miss it. Four or more parts are a syntax error there.
   */
  private static String qualifiedName(Ctx c, int i, int[] end) {
    if (i >= c.t.size() || !c.t.get(i).isName()) {
      return null;
    }
    StringBuilder b = new StringBuilder(part(c.t.get(i).value()));
    int parts = 1;
    int afterFirst = -1;
    int j = i + 1;
    while (c.is(j, ".") && j + 1 < c.t.size() && c.t.get(j + 1).isName()) {
      if (parts == 1) {
        afterFirst = b.length() + 1;
      }
      b.append('.').append(part(c.t.get(j + 1).value()));
      parts++;
      j += 2;
    }
    end[0] = j;
    return parts == 3 ? b.substring(afterFirst) : b.toString();
  }

  /**
   * One name part; a part that itself contains a dot or a double quote (only possible when quoted)
   * is re-quoted, so that {@code "public.payments"} (one table) is not reported like {@code
   * public.payments} (table payments in schema public).
   */
  /** One part of a reported name: quoted when it holds a dot or a quote (see names above). */
  static String part(String v) {
    if (v.indexOf('.') < 0 && v.indexOf('"') < 0) {
      return v;
    }
    return '"' + v.replace("\"", "\"\"") + '"';
  }

  private static String nameValue(Ctx c, int i) {
    return i < c.t.size() && c.t.get(i).isName() ? c.t.get(i).value() : null;
  }

  /** {@code [IF EXISTS] [ONLY] name [*] [, ...]} into {@code into}. */
  private static int nameList(Ctx c, int i, Set<String> into) {
    if (c.isWord(i, "if") && c.isWord(i + 1, "exists")) {
      i += 2;
    }
    int[] end = new int[1];
    while (true) {
      if (c.isWord(i, "only")) {
        i++;
      }
      String name = qualifiedName(c, i, end);
      if (name == null) {
        if (into.isEmpty()) {
          c.unparsed = true;
        }
        return i;
      }
      into.add(name);
      i = end[0];
      if (c.is(i, "*")) {
        i++;
      }
      if (c.is(i, "(")) { // VACUUM t (cols)
        int m = matching(c, i, c.t.size());
        if (m < 0) {
          return i;
        }
        i = m + 1;
      }
      if (!c.is(i, ",")) {
        return i;
      }
      i++;
    }
  }

  /** A regclass literal such as {@code 'public.seq'} or {@code '"My Seq"'}: parse as a name. */
  static String regclassLiteral(String literal) {
    PgLexer.Result r = PgLexer.lex(literal, true);
    if (!r.ok() || r.tokens().isEmpty()) {
      return null;
    }
    Ctx c = new Ctx(literal, r.tokens());
    int[] end = new int[1];
    String name = qualifiedName(c, 0, end);
    return name != null && end[0] == r.tokens().size() ? name : null;
  }

  // ---------------------------------------------------------------------------------------------
  // Function calls

  /** Names that are followed by '(' but are syntax, not calls. */
  private static final Set<String> NOT_FUNCTIONS =
      Set.of(
          "in",
          "operator",
          "exists",
          "any",
          "all",
          "some",
          "values",
          "array",
          "row",
          "over",
          "filter",
          "within",
          "using",
          "on",
          "and",
          "or",
          "not",
          "as",
          "select",
          "from",
          "where",
          "join",
          "lateral",
          "then",
          "else",
          "when",
          "case",
          "is",
          "materialized",
          "returning",
          "set",
          "window",
          "partition",
          "by",
          "between",
          "like",
          "ilike",
          "group",
          "having",
          "distinct",
          "union",
          "except",
          "intersect",
          "limit",
          "offset",
          "order",
          "rows",
          "range",
          "groups",
          "table",
          "default",
          "primary",
          "key",
          "unique",
          "check",
          "foreign",
          "references",
          "constraint",
          "include",
          "tablesample",
          "do",
          "conflict",
          "into",
          "only",
          "of",
          "to",
          "rollup",
          "cube",
          "sets",
          "with",
          "recursive",
          "return",
          "analyze",
          "analyse",
          "verbose",
          "explain",
          "execute",
          "call",
          "cast",
          "exclude",
          "inherits",
          "sequence",
          "view",
          "index",
          "concurrently",
          "if",
          "for",
          "update",
          "delete",
          "insert",
          "merge",
          "generated",
          "identity",
          "collate",
          "escape",
          "zone",
          "similar");

  /** Type names with a type modifier look like calls ({@code varchar(10)}). */
  private static final Set<String> TYPE_NAMES =
      Set.of(
          "varchar",
          "char",
          "character",
          "numeric",
          "decimal",
          "dec",
          "bit",
          "varbit",
          "timestamp",
          "timestamptz",
          "time",
          "timetz",
          "interval",
          "float",
          "nchar",
          "varying",
          "national");

  /** After these, a name followed by '(' is a definition or reference, not a call. */
  private static final Set<String> DEFINITION_PREFIX =
      Set.of("function", "procedure", "routine", "aggregate");

  private static final Set<String> NAME_PREFIX =
      Set.of(
          "into",
          "table",
          "view",
          "index",
          "references",
          "type",
          "sequence",
          "with",
          "recursive",
          "trigger",
          "domain",
          "as",
          "only",
          "update",
          "exists");

  /**
   * Finds function calls: a (qualified) name directly followed by '('. Every call is checked
   * against the hidden-effect list (liberally: only definitions are excluded, so that a dangerous
   * call cannot hide behind an unusual context); reporting in {@code functions} skips syntax and
   * type names.
   */
  private static void functionScan(Ctx c, int from, int to) {
    List<PgToken> t = c.t;
    boolean ddl = c.base != null && (c.base.equals(CREATE) || c.base.equals(ALTER));
    for (int i = from; i < to; i++) {
      PgToken tok = t.get(i);
      if (!tok.isName() || c.is(i - 1, ".")) {
        continue;
      }
      int[] end = new int[1];
      String name = qualifiedName(c, i, end);
      int j = end[0];
      if (j >= to || !c.is(j, "(")) {
        continue;
      }
      String prev = c.word(i - 1);
      if (prev != null && DEFINITION_PREFIX.contains(prev)) {
        continue;
      }
      String lower = PgLexer.foldCase(name);
      int dot = lower.lastIndexOf('.');
      String simple = lower.substring(dot + 1);
      boolean effect = hiddenEffect(c, simple, j);
      if (c.nonCall.get(j)
          || c.is(i - 1, "::")
          || (prev != null && NAME_PREFIX.contains(prev))
          || (ddl && "on".equals(prev))
          || (ddl && isColumnTypePosition(c, i))
          || (tok.kind() == Kind.IDENT && dot < 0 && NOT_FUNCTIONS.contains(simple))
          || (dot < 0 && TYPE_NAMES.contains(simple))
          || isCteColumnList(c, name, j, to)) {
        if (!effect) {
          continue;
        }
      }
      c.functions.add(lower);
      if (!lower.equals(name)) {
        c.quotedCalls.add(lower);
      }
    }
  }

  /**
   * PostgreSQL built-in functions (functions-*.html) that only compute a value from their arguments
   * or read catalog/session state: calling them changes nothing, and they run no code the statement
   * does not show. Unqualified or pg_catalog-qualified only. Not exhaustive: a built-in missing
   * here is merely reported as opaque. Left out because they can run user-written code: those that
   * turn a value into JSON (to_json, json_agg, json_build_object, ...), which use a cast to json
   * that the type's owner may have created WITH FUNCTION (functions-json.html), those that read a
   * value into a type named at run time or in a column list (json_populate_record, json_to_record,
   * json_table, xmltable, pg_input_is_valid), whose domain CHECK constraints may call any function,
   * and quote_literal/quote_nullable(anyelement), SQL functions casting their argument to text.
   * Kept: format, concat, array_to_string, xmlelement, which print a value with its type's output
   * function, written in C (only a superuser can create a base type's I/O functions, CREATE TYPE),
   * and the conversions written like calls (text(x), date(x)), which are the cast {@code x::text}
   * the statement shows; see {@link #classifiedFunction} for the known built-ins that are not
   * read-only.
   */
  private static final Set<String> READ_ONLY_BUILTINS =
      Set.of(
          // aggregates and window functions (functions-aggregate.html, functions-window.html)
          "count",
          "sum",
          "avg",
          "min",
          "max",
          "array_agg",
          "string_agg",
          "bool_and",
          "bool_or",
          "every",
          "bit_and",
          "bit_or",
          "bit_xor",
          "stddev",
          "stddev_pop",
          "stddev_samp",
          "variance",
          "var_pop",
          "var_samp",
          "corr",
          "covar_pop",
          "covar_samp",
          "regr_slope",
          "regr_intercept",
          "regr_count",
          "regr_r2",
          "regr_avgx",
          "regr_avgy",
          "regr_sxx",
          "regr_sxy",
          "regr_syy",
          "percentile_cont",
          "percentile_disc",
          "mode",
          "any_value",
          "xmlagg",
          "range_agg",
          "range_intersect_agg",
          "row_number",
          "rank",
          "dense_rank",
          "percent_rank",
          "cume_dist",
          "ntile",
          "lag",
          "lead",
          "first_value",
          "last_value",
          "nth_value",
          "grouping",
          // conditional (functions-conditional.html)
          "coalesce",
          "nullif",
          "greatest",
          "least",
          "num_nulls",
          "num_nonnulls",
          // math (functions-math.html)
          "abs",
          "cbrt",
          "ceil",
          "ceiling",
          "degrees",
          "div",
          "exp",
          "factorial",
          "floor",
          "gcd",
          "lcm",
          "ln",
          "log",
          "log10",
          "min_scale",
          "mod",
          "pi",
          "power",
          "pow",
          "radians",
          "round",
          "scale",
          "sign",
          "sqrt",
          "trim_scale",
          "trunc",
          "width_bucket",
          "random",
          "random_normal",
          "acos",
          "asin",
          "atan",
          "atan2",
          "cos",
          "cot",
          "sin",
          "tan",
          "sinh",
          "cosh",
          "tanh",
          "asinh",
          "acosh",
          "atanh",
          "acosd",
          "asind",
          "atand",
          "cosd",
          "sind",
          "tand",
          // strings and binary strings (functions-string.html, functions-binarystring.html)
          "ascii",
          "bit_length",
          "btrim",
          "char_length",
          "character_length",
          "chr",
          "concat",
          "concat_ws",
          "format",
          "initcap",
          "left",
          "length",
          "lower",
          "lpad",
          "ltrim",
          "md5",
          "normalize",
          "octet_length",
          "overlay",
          "position",
          "quote_ident",
          "regexp_count",
          "regexp_instr",
          "regexp_like",
          "regexp_match",
          "regexp_matches",
          "regexp_replace",
          "regexp_split_to_array",
          "regexp_split_to_table",
          "regexp_substr",
          "repeat",
          "replace",
          "reverse",
          "right",
          "rpad",
          "rtrim",
          "split_part",
          "starts_with",
          "string_to_array",
          "string_to_table",
          "strpos",
          "substr",
          "substring",
          "to_ascii",
          "to_hex",
          "translate",
          "trim",
          "unistr",
          "upper",
          "encode",
          "decode",
          "sha224",
          "sha256",
          "sha384",
          "sha512",
          "get_byte",
          "get_bit",
          "set_byte",
          "set_bit",
          "convert",
          "convert_from",
          "convert_to",
          "casefold",
          // formatting, date/time (functions-formatting.html, functions-datetime.html)
          "to_char",
          "to_date",
          "to_number",
          "to_timestamp",
          "age",
          "clock_timestamp",
          "current_date",
          "current_time",
          "current_timestamp",
          "date_add",
          "date_bin",
          "date_part",
          "date_subtract",
          "date_trunc",
          "extract",
          "isfinite",
          "justify_days",
          "justify_hours",
          "justify_interval",
          "localtime",
          "localtimestamp",
          "make_date",
          "make_interval",
          "make_time",
          "make_timestamp",
          "make_timestamptz",
          "now",
          "statement_timestamp",
          "timeofday",
          "transaction_timestamp",
          "timezone",
          // arrays, ranges (functions-array.html, functions-range.html)
          "array_append",
          "array_cat",
          "array_dims",
          "array_fill",
          "array_length",
          "array_lower",
          "array_ndims",
          "array_position",
          "array_positions",
          "array_prepend",
          "array_remove",
          "array_replace",
          "array_to_string",
          "array_upper",
          "cardinality",
          "trim_array",
          "unnest",
          "generate_series",
          "generate_subscripts",
          "lower_inc",
          "upper_inc",
          "lower_inf",
          "upper_inf",
          "isempty",
          "range_merge",
          "multirange",
          "int4range",
          "int8range",
          "numrange",
          "tsrange",
          "tstzrange",
          "daterange",
          // JSON and XML (functions-json.html, functions-xml.html)
          "jsonb_object",
          "json_array_elements",
          "jsonb_array_elements",
          "json_array_elements_text",
          "jsonb_array_elements_text",
          "json_array_length",
          "jsonb_array_length",
          "json_each",
          "jsonb_each",
          "json_each_text",
          "jsonb_each_text",
          "json_extract_path",
          "jsonb_extract_path",
          "json_extract_path_text",
          "jsonb_extract_path_text",
          "json_object_keys",
          "jsonb_object_keys",
          "json_strip_nulls",
          "jsonb_strip_nulls",
          "jsonb_set",
          "jsonb_set_lax",
          "jsonb_insert",
          "jsonb_pretty",
          "json_typeof",
          "jsonb_typeof",
          "jsonb_path_exists",
          "jsonb_path_match",
          "jsonb_path_query",
          "jsonb_path_query_array",
          "jsonb_path_query_first",
          "json_serialize",
          "xmlelement",
          "xmlforest",
          "xmlconcat",
          "xmlparse",
          "xmlserialize",
          "xmlpi",
          "xmlroot",
          "xpath",
          "xpath_exists",
          "xmlexists",
          "xml_is_well_formed",
          // text search (functions-textsearch.html)
          "to_tsvector",
          "to_tsquery",
          "plainto_tsquery",
          "phraseto_tsquery",
          "websearch_to_tsquery",
          "ts_rank",
          "ts_rank_cd",
          "ts_headline",
          "setweight",
          "strip",
          "numnode",
          "querytree",
          "ts_lexize",
          "array_to_tsvector",
          "tsvector_to_array",
          // UUID, network (functions-uuid.html, functions-net.html)
          "gen_random_uuid",
          "uuidv4",
          "uuidv7",
          "host",
          "hostmask",
          "masklen",
          "netmask",
          "network",
          "family",
          "abbrev",
          "broadcast",
          "inet_merge",
          "inet_same_family",
          // session and catalog information (functions-info.html)
          "current_database",
          "current_catalog",
          "current_schema",
          "current_schemas",
          "current_user",
          "current_role",
          "session_user",
          "user",
          "current_query",
          "inet_client_addr",
          "inet_client_port",
          "inet_server_addr",
          "inet_server_port",
          "pg_backend_pid",
          "pg_blocking_pids",
          "pg_conf_load_time",
          "pg_is_in_recovery",
          "pg_postmaster_start_time",
          "pg_jit_available",
          "pg_trigger_depth",
          "version",
          "has_any_column_privilege",
          "has_column_privilege",
          "has_database_privilege",
          "has_foreign_data_wrapper_privilege",
          "has_function_privilege",
          "has_language_privilege",
          "has_parameter_privilege",
          "has_schema_privilege",
          "has_sequence_privilege",
          "has_server_privilege",
          "has_table_privilege",
          "has_tablespace_privilege",
          "has_type_privilege",
          "pg_has_role",
          "row_security_active",
          "pg_collation_is_visible",
          "pg_conversion_is_visible",
          "pg_function_is_visible",
          "pg_opclass_is_visible",
          "pg_operator_is_visible",
          "pg_opfamily_is_visible",
          "pg_statistics_obj_is_visible",
          "pg_table_is_visible",
          "pg_ts_config_is_visible",
          "pg_ts_dict_is_visible",
          "pg_ts_parser_is_visible",
          "pg_ts_template_is_visible",
          "pg_type_is_visible",
          "format_type",
          "pg_get_expr",
          "pg_get_constraintdef",
          "pg_get_functiondef",
          "pg_get_function_arguments",
          "pg_get_function_identity_arguments",
          "pg_get_function_result",
          "pg_get_indexdef",
          "pg_get_keywords",
          "pg_get_ruledef",
          "pg_get_serial_sequence",
          "pg_get_statisticsobjdef",
          "pg_get_statisticsobjdef_columns",
          "pg_get_statisticsobjdef_expressions",
          "pg_relation_is_publishable",
          "pg_get_publication_tables",
          "pg_partition_ancestors",
          "pg_partition_tree",
          "pg_partition_root",
          "pg_get_triggerdef",
          "pg_get_userbyid",
          "pg_get_viewdef",
          "pg_get_partkeydef",
          "pg_get_partition_constraintdef",
          "pg_index_column_has_property",
          "pg_index_has_property",
          "pg_indexam_has_property",
          "pg_options_to_table",
          "pg_tablespace_databases",
          "pg_tablespace_location",
          "pg_typeof",
          "to_regclass",
          "to_regcollation",
          "to_regnamespace",
          "to_regoper",
          "to_regoperator",
          "to_regproc",
          "to_regprocedure",
          "to_regrole",
          "to_regtype",
          "to_regtypemod",
          "col_description",
          "obj_description",
          "shobj_description",
          "pg_describe_object",
          "pg_identify_object",
          "pg_identify_object_as_address",
          "pg_encoding_to_char",
          "pg_char_to_encoding",
          "pg_client_encoding",
          "pg_column_size",
          "pg_column_compression",
          "pg_database_size",
          "pg_indexes_size",
          "pg_relation_size",
          "pg_size_bytes",
          "pg_size_pretty",
          "pg_table_size",
          "pg_tablespace_size",
          "pg_total_relation_size",
          "pg_relation_filenode",
          "pg_relation_filepath",
          "pg_filenode_relation",
          "pg_visible_in_snapshot",
          "pg_current_snapshot",
          "pg_snapshot_xmin",
          "pg_snapshot_xmax",
          "pg_snapshot_xip",
          "pg_xact_status",
          "txid_current_snapshot",
          "txid_snapshot_xmin",
          "txid_snapshot_xmax",
          "txid_visible_in_snapshot",
          "txid_status",
          "pg_current_xact_id_if_assigned",
          "txid_current_if_assigned",
          "pg_last_committed_xact",
          "pg_xact_commit_timestamp",
          "pg_listening_channels",
          "pg_notification_queue_usage",
          "pg_safe_snapshot_blocking_pids",
          "pg_get_object_address",
          "pg_get_catalog_foreign_keys",
          "pg_get_wal_replay_pause_state",
          "pg_is_wal_replay_paused",
          "pg_last_wal_receive_lsn",
          "pg_last_wal_replay_lsn",
          "pg_last_xact_replay_timestamp",
          "pg_current_wal_lsn",
          "pg_current_wal_insert_lsn",
          "pg_current_wal_flush_lsn",
          "pg_wal_lsn_diff",
          "pg_walfile_name",
          "pg_walfile_name_offset",
          "pg_stat_get_activity",
          "pg_stat_get_backend_activity",
          "pg_stat_get_backend_pid",

          // type conversions written like calls
          "text",
          "int2",
          "int4",
          "int8",
          "float4",
          "float8",
          "bool",
          "date",
          "numeric",
          "name",
          "regclass",
          "oid",
          "inet",
          "cidr",
          "uuid",
          "bytea",
          "json",
          "jsonb",
          "xml",
          "interval",
          "timestamptz",
          "money",
          "point",
          "box",
          "circle",
          "line",
          "lseg",
          "path",
          "polygon",
          "area",
          "center",
          "diameter",
          "height",
          "width",
          "radius",
          "npoints",
          "isclosed",
          "isopen");

  /** Functions whose hidden effect (or harmlessness) the classifier already accounts for. */
  private static boolean classifiedFunction(String simple) {
    if (FILE_FUNCTIONS.contains(simple)
        || UNKNOWN_FUNCTIONS.contains(simple)
        || LARGE_OBJECT_WRITES.contains(simple)
        || LARGE_OBJECT_READS.contains(simple)
        || MAINTENANCE_FUNCTIONS.contains(simple)
        || simple.startsWith("pg_advisory_")
        || simple.startsWith("pg_try_advisory_")) {
      return true;
    }
    for (String p : UNKNOWN_PREFIXES) {
      if (simple.startsWith(p)) {
        return true;
      }
    }
    return switch (simple) {
      case "set_config",
          "heap_force_kill",
          "heap_force_freeze",
          "nextval",
          "setval",
          "currval",
          "lastval",
          "txid_current",
          "pg_current_xact_id",
          "pg_notify",
          // known, so not opaque, but no read-only call a review rule may carry along
          // (Attr.SQL_READ_ONLY_FUNCTIONS): pg_sleep* holds the snapshot, locks and connection
          // without bound; current_setting reads custom settings, which often hold secrets
          // (app.jwt_secret); pg_current_logfile names a server file; pg_sequence_last_value
          // reads a sequence
          "pg_sleep",
          "pg_sleep_for",
          "pg_sleep_until",
          "current_setting",
          "pg_current_logfile",
          "pg_sequence_last_value" ->
          true;
      default -> false;
    };
  }

  /**
   * Operators PostgreSQL looks up by name for syntax that writes no operator symbol (gram.y and
   * parse_expr.c): {@code x IN (…)} compares with {@code =} ({@code NOT IN} a list with {@code
   * <>}), {@code BETWEEN} with {@code >=} and {@code <=} ({@code NOT BETWEEN} with {@code <} and
   * {@code >}), {@code [NOT] LIKE} is {@code ~~}/{@code !~~}, {@code ILIKE} {@code ~~*}/{@code
   * !~~*}, {@code SIMILAR TO} {@code ~}/{@code !~}; {@code IS DISTINCT FROM}, {@code NULLIF},
   * {@code CASE x WHEN}, {@code JOIN … USING} and {@code NATURAL JOIN} compare with {@code =}. Each
   * only where the syntax can be that: see {@link #impliesOperators} ({@code FETCH 1 IN c}, {@code
   * SELECT DISTINCT} and a searched CASE compare nothing).
   */
  private static final Map<String, List<String>> IMPLIED_OPERATORS =
      Map.of(
          "in", List.of("=", "<>"),
          "between", List.of(">=", "<=", "<", ">"),
          "like", List.of("~~", "!~~"),
          "ilike", List.of("~~*", "!~~*"),
          "similar", List.of("~", "!~"),
          "distinct", List.of("="),
          "nullif", List.of("="),
          "case", List.of("="),
          "using", List.of("="),
          "natural", List.of("="));

  /**
   * The {@code opaque_functions} entries ({@code operator(schema.op)}) for the operators the
   * statement's tokens use that a user-created operator may stand in for ({@link SqlShadows}): each
   * operator token (PostgreSQL's lexer reads {@code !=} as {@code <>}), {@code OPERATOR(schema.op)}
   * by its schema, and the operators syntax implies ({@link #IMPLIED_OPERATORS}). A {@code *} with
   * no operand after it ({@code SELECT *}, {@code count(*)}, {@code t.*}) is no operator. Operators
   * in a string or dollar-quoted body are not read: a function body runs as the function's own,
   * opaque or trusted, and DO is unknown.
   */
  static List<String> shadowedOperators(List<PgToken> t, SqlShadows shadows) {
    if (!shadows.anyOperator() || t.isEmpty()) {
      return List.of();
    }
    PgToken first = t.get(0);
    if (first.isWord("set") || first.isWord("reset") || first.isWord("show")) {
      // SET name = value (sql-set.html) assigns; its value is a literal or a name, never an
      // expression, so no operator runs (every client's startup sends SET extra_float_digits = 3)
      return List.of();
    }
    Set<String> out = new LinkedHashSet<>();
    for (int i = 0; i < t.size(); i++) {
      PgToken tok = t.get(i);
      if (tok.kind() == Kind.OPERATOR) {
        String symbol = tok.text().equals("!=") ? "<>" : tok.text();
        if (symbol.equals("*") && !operandAt(t, i + 1)) {
          continue;
        }
        String schema = null;
        if (i >= 4
            && t.get(i - 1).is(".")
            && t.get(i - 2).isName()
            && (t.get(i - 3).is("(") || t.get(i - 3).is("."))) {
          schema = t.get(i - 2).value(); // OPERATOR(schema.op): the schema named last
        }
        out.addAll(shadows.operator(schema, symbol));
      } else if (tok.kind() == Kind.IDENT) {
        List<String> implied = IMPLIED_OPERATORS.get(tok.value());
        if (implied != null && impliesOperators(t, i)) {
          for (String symbol : implied) {
            out.addAll(shadows.operator(null, symbol));
          }
        }
      }
    }
    return List.copyOf(out);
  }

  /**
   * Whether the key word at {@code i} is the syntax that compares ({@link #IMPLIED_OPERATORS}):
   * {@code IN}, {@code NULLIF} and {@code JOIN … USING} always take a parenthesis ({@code FETCH 1
   * IN c}, {@code DELETE … USING t} do not compare), {@code IS DISTINCT FROM} a FROM ({@code SELECT
   * DISTINCT a FROM} never), and a simple CASE an operand ({@code CASE WHEN} is searched).
   */
  private static boolean impliesOperators(List<PgToken> t, int i) {
    PgToken next = i + 1 < t.size() ? t.get(i + 1) : null;
    return switch (t.get(i).value()) {
      case "in", "nullif", "using" -> next != null && next.is("(");
      case "distinct" -> next != null && next.isWord("from");
      case "case" -> next != null && !next.isWord("when");
      default -> true;
    };
  }

  /** Whether an operand may start at token {@code i} (not the end, a closing or a clause word). */
  private static boolean operandAt(List<PgToken> t, int i) {
    if (i >= t.size()) {
      return false;
    }
    PgToken n = t.get(i);
    return !(n.is(")")
        || n.is(",")
        || n.is(";")
        || n.is("]")
        || n.isWord("from")
        || n.isWord("into"));
  }

  /** No function called: neither list has any (most statements, so no lists are built). */
  private static final List<List<String>> NO_FUNCTIONS = List.of(List.of(), List.of());

  /**
   * The {@link #ATTR_OPAQUE_FUNCTIONS} and the {@link Attr#SQL_READ_ONLY_FUNCTIONS} of a statement
   * calling {@code functions}, in one pass. A function is in neither when its effect already
   * decides the kind (pg_read_file, set_config) or is otherwise known ({@link #classifiedFunction}:
   * pg_sleep).
   */
  private static List<List<String>> sortFunctions(
      Set<String> functions, Set<String> quoted, boolean catalogFirst, SqlShadows shadows) {
    if (functions.isEmpty()) {
      return NO_FUNCTIONS;
    }
    List<String> opaque = new ArrayList<>();
    List<String> readOnly = new ArrayList<>();
    for (String f : functions) {
      int dot = f.lastIndexOf('.');
      String schema = dot < 0 ? null : f.substring(0, dot);
      String simple = f.substring(dot + 1);
      // An unqualified name may call a function created outside the gateway in front of the
      // built-in (SqlShadows); a qualified one other than pg_catalog's never names a built-in.
      boolean builtin =
          (schema == null
                  ? catalogFirst && (shadows.isEmpty() || !shadows.function(simple))
                  : schema.equals("pg_catalog"))
              && !quoted.contains(f);
      if (builtin && classifiedFunction(simple)) {
        continue;
      }
      boolean known =
          (builtin && READ_ONLY_BUILTINS.contains(simple))
              || ("information_schema".equals(schema)
                  && INFORMATION_SCHEMA_FUNCTIONS.contains(simple)
                  && !quoted.contains(f));
      (known ? readOnly : opaque).add(f);
    }
    return List.of(List.copyOf(opaque), List.copyOf(readOnly));
  }

  /**
   * The SQL functions PostgreSQL defines in {@code information_schema} (information_schema.sql in
   * the server's source) for the standard's views, and that clients call directly (pgjdbc's
   * primary-key and index queries: {@code _pg_expandarray}): they only compute from their arguments
   * and the catalog. Only when qualified with {@code information_schema} (it is not on the default
   * search path), where only a superuser can create functions.
   */
  private static final Set<String> INFORMATION_SCHEMA_FUNCTIONS =
      Set.of(
          "_pg_expandarray",
          "_pg_index_position",
          "_pg_truetypid",
          "_pg_truetypmod",
          "_pg_char_max_length",
          "_pg_char_octet_length",
          "_pg_numeric_precision",
          "_pg_numeric_precision_radix",
          "_pg_numeric_scale",
          "_pg_datetime_precision",
          "_pg_interval_type");

  /** Key words after which a DDL statement has an expression (where a call may start). */
  private static final Set<String> DDL_EXPRESSION_WORDS =
      Set.of(
          "default",
          "check",
          "and",
          "or",
          "not",
          "then",
          "else",
          "when",
          "in",
          "is",
          "by",
          "using",
          "return",
          "select",
          "where",
          "set",
          "values",
          "case",
          "between",
          "like",
          "distinct",
          "exists",
          "array",
          "as");

  /**
   * In CREATE/ALTER, a name after a column name ({@code d my_type(4)}) is a type with a modifier,
   * not a call.
   */
  private static boolean isColumnTypePosition(Ctx c, int i) {
    if (i == 0) {
      return false;
    }
    PgToken p = c.t.get(i - 1);
    return p.kind() == Kind.QUOTED_IDENT
        || (p.kind() == Kind.IDENT && !DDL_EXPRESSION_WORDS.contains(p.value()));
  }

  private static boolean isCteColumnList(Ctx c, String name, int open, int to) {
    if (!c.cteNames.contains(name)) {
      return false;
    }
    int close = matching(c, open, to);
    return close > 0 && c.isWord(close + 1, "as");
  }

  private static final Set<String> FILE_FUNCTIONS =
      Set.of(
          "pg_read_file",
          "pg_read_binary_file",
          "pg_ls_dir",
          "pg_stat_file",
          "pg_ls_logdir",
          "pg_ls_waldir",
          "pg_ls_tmpdir",
          "pg_ls_archive_statusdir",
          "pg_ls_logicalsnapdir",
          "pg_ls_logicalmapdir",
          "pg_ls_replslotdir",
          "pg_ls_summariesdir",
          "lo_import",
          "lo_export",
          "pg_file_write",
          "pg_file_rename",
          "pg_file_unlink",
          "pg_file_sync",
          "pg_logdir_ls",
          // pageinspect reads a relation's data file page by page and pg_walinspect reads the WAL
          // (rows of every table), both bypassing table privileges
          "get_raw_page",
          // pageinspect's B-tree functions read an index's pages by relation name: the key bytes
          // in bt_page_items' data column are column values of the table (a card number index)
          "bt_metap",
          "bt_page_stats",
          "bt_multi_page_stats",
          "bt_page_items",
          "pg_get_wal_record_info",
          "pg_get_wal_records_info",
          "pg_get_wal_records_info_till_end_of_wal",
          "pg_get_wal_block_info",
          "pg_get_wal_stats",
          "pg_get_wal_stats_till_end_of_wal",
          // parse the server's configuration files (postgresql.conf, pg_hba.conf, pg_ident.conf):
          // functions behind the views pg_file_settings, pg_hba_file_rules, pg_ident_file_mappings
          "pg_show_all_file_settings",
          "pg_hba_file_rules",
          "pg_ident_file_mappings");

  /**
   * System views that show the contents of server configuration files (view-pg-file-settings.html,
   * view-pg-hba-file-rules.html, view-pg-ident-file-mappings.html): reading them reads server
   * files.
   */
  private static final Set<String> FILE_VIEWS =
      Set.of("pg_file_settings", "pg_hba_file_rules", "pg_ident_file_mappings");

  private static final Set<String> UNKNOWN_FUNCTIONS =
      Set.of(
          // run SQL given as text, so their table access is invisible to us
          "query_to_xml",
          "query_to_xmlschema",
          "query_to_xml_and_xmlschema",
          "table_to_xml",
          "table_to_xmlschema",
          "table_to_xml_and_xmlschema",
          "schema_to_xml",
          "schema_to_xmlschema",
          "schema_to_xml_and_xmlschema",
          "database_to_xml",
          "database_to_xmlschema",
          "database_to_xml_and_xmlschema",
          "ts_stat",
          "ts_rewrite",
          // fetch from a portal by name, like FETCH: one Bound through the protocol is decided only
          // at its Execute, so this would run it undecided (red team rt16, docs: EXECUTE, FETCH)
          "cursor_to_xml",
          "cursor_to_xmlschema",
          // tablefunc and xml2 extensions: run a query given (or assembled from) text arguments
          "crosstab",
          "crosstab2",
          "crosstab3",
          "crosstab4",
          "connectby",
          "xpath_table",
          // administer the server
          "pg_terminate_backend",
          "pg_cancel_backend",
          "pg_reload_conf",
          "pg_rotate_logfile",
          "pg_promote",
          "pg_switch_wal",
          "pg_create_restore_point",
          "pg_backup_start",
          "pg_backup_stop",
          "pg_start_backup",
          "pg_stop_backup",
          "pg_wal_replay_pause",
          "pg_wal_replay_resume",
          "pg_create_physical_replication_slot",
          "pg_create_logical_replication_slot",
          "pg_drop_replication_slot",
          "pg_copy_physical_replication_slot",
          "pg_copy_logical_replication_slot",
          "pg_replication_slot_advance",
          "pg_sync_replication_slots",
          "pg_logical_emit_message",
          "pg_log_backend_memory_contexts",
          "pg_import_system_collations",
          "pg_truncate_visibility_map",
          "pg_stat_statements_reset",
          "pg_log_standby_snapshot",
          // names before PostgreSQL 10 (functions-admin.html of 9.6)
          "pg_switch_xlog",
          "pg_xlog_replay_pause",
          "pg_xlog_replay_resume");

  private static final List<String> UNKNOWN_PREFIXES =
      List.of(
          "dblink",
          "binary_upgrade_",
          "pg_stat_reset",
          "pg_replication_origin_",
          "pg_logical_slot_get_",
          // reads every change decoded from the WAL, across all tables
          "pg_logical_slot_peek_");

  private static final Set<String> LARGE_OBJECT_WRITES =
      Set.of(
          "lo_create",
          "lo_creat",
          "lo_from_bytea",
          "lo_put",
          "lowrite",
          "lo_truncate",
          "lo_truncate64",
          "lo_unlink");

  /** The catalog that holds every large object's bytes (catalog-pg-largeobject.html). */
  static final String LARGE_OBJECTS = "pg_largeobject";

  /**
   * Server-side large-object functions that read, or only open, position and close descriptors
   * (lo-funcs.html, lo-interfaces.html): {@code lo_get(oid [, offset, length])} and {@code
   * loread(fd, n)} return a large object's bytes, {@code lo_open} opens one. Known, so not opaque:
   * they read {@code pg_largeobject}, where table rules see them (before, red team rt21, {@code
   * lo_get} was an opaque call reading no table). Writes are {@link #LARGE_OBJECT_WRITES}; {@code
   * lo_import}/{@code lo_export} are server-file functions ({@link #FILE_FUNCTIONS}).
   */
  private static final Set<String> LARGE_OBJECT_READS =
      Set.of(
          "lo_get",
          "loread",
          "lo_open",
          "lo_close",
          "lo_lseek",
          "lo_lseek64",
          "lo_tell",
          "lo_tell64");

  private static final Set<String> MAINTENANCE_FUNCTIONS =
      Set.of(
          "brin_summarize_new_values",
          "brin_summarize_range",
          "brin_desummarize_range",
          "gin_clean_pending_list",
          // PostgreSQL 18 (functions-admin.html#FUNCTIONS-ADMIN-STATSMOD): overwrite or clear the
          // planner statistics of a table (pg_class, pg_statistic) like ANALYZE does; the table's
          // owner (MAINTAIN privilege) may call them, and they work in a READ ONLY transaction
          // (checked on 18.1), so the read_only obligation does not stop them
          "pg_restore_relation_stats",
          "pg_restore_attribute_stats",
          "pg_clear_relation_stats",
          "pg_clear_attribute_stats");

  /**
   * Records the hidden effect of calling {@code simple} (open paren at {@code open}); returns true
   * when the function has one.
   */
  private static boolean hiddenEffect(Ctx c, String simple, int open) {
    if (FILE_FUNCTIONS.contains(simple)) {
      c.strong.add(COPY_PROGRAM);
      // lo_import(file) writes the file into a new large object, lo_export(oid, file) writes a
      // large object's bytes to a server file (lo-funcs.html): pg_largeobject is written or read
      if (simple.equals("lo_import")) {
        c.written.add(LARGE_OBJECTS);
      } else if (simple.equals("lo_export")) {
        c.read.add(LARGE_OBJECTS);
      }
      return true;
    }
    if (LARGE_OBJECT_READS.contains(simple)) {
      c.read.add(LARGE_OBJECTS);
      return false;
    }
    if (UNKNOWN_FUNCTIONS.contains(simple)) {
      c.strong.add(UNKNOWN);
      return true;
    }
    for (String p : UNKNOWN_PREFIXES) {
      if (simple.startsWith(p)) {
        c.strong.add(UNKNOWN);
        return true;
      }
    }
    switch (simple) {
      case "set_config" -> {
        // set_config('role', ...) is SET ROLE; a non-literal setting name could be anything.
        PgToken a = open + 1 < c.t.size() ? c.t.get(open + 1) : null;
        if (PgSetConfig.isPgDumpRestrict(c.t)) {
          // pg_dump's SELECT set_config(name, …) FROM pg_settings WHERE name =
          // 'restrict_nonsystem_relation_kind': that one ordinary setting (PgSetConfig). Like any
          // call, set_config is in opaque_functions when pg_catalog is not first, and a shadowed
          // = is there too: the read-only and masking guards then refuse it.
          c.weak.add(SET);
          return true;
        }
        if (a != null && a.isString() && c.is(open + 2, ",") && !isRoleSetting(a.value())) {
          PgToken b = open + 3 < c.t.size() ? c.t.get(open + 3) : null;
          String value = b != null && b.isString() && c.is(open + 4, ",") ? b.value() : null;
          if ((lexingSetting(a.value()) && !keepsLexing(c, a.value(), value))
              || (isSearchPath(a.value())
                  && (value == null || !PgStartupParams.safeSearchPath(value)))) {
            c.strong.add(UNKNOWN);
          } else {
            c.weak.add(SET);
            if (isSearchPath(a.value())) {
              c.setsSearchPath(PgStartupParams.splitIdentifiers(value));
              // set_config(name, value, is_local): only a literal false sets it for the session
              c.localSearchPath |= !(c.isWord(open + 5, "false") && c.is(open + 6, ")"));
            }
          }
        } else {
          c.strong.add(SET_ROLE);
          if (a == null || !a.isString() || !c.is(open + 2, ",")) {
            // A name we cannot read (an expression, named notation) may also be client_encoding,
            // standard_conforming_strings or search_path, which are unknown when set to values
            // we cannot check: the role change stays in kinds, the kind is unknown.
            c.strong.add(UNKNOWN);
          }
        }
        return true;
      }
      case "nextval", "setval" -> {
        c.weak.add(UPDATE);
        c.written.add(relationArgument(c, open));
        return true;
      }
      case "currval" -> {
        c.read.add(relationArgument(c, open));
        return false;
      }
      case "heap_force_kill", "heap_force_freeze" -> {
        // pg_surgery (pgsurgery.html): kill makes the given tuples dead (a DELETE that bypasses
        // privileges, triggers and constraints), freeze rewrites them; the first argument is the
        // table. A table we cannot read here cannot be judged by table rules: unparsed.
        c.strong.add(simple.equals("heap_force_kill") ? DELETE : UPDATE);
        PgToken a = open + 1 < c.t.size() ? c.t.get(open + 1) : null;
        String rel = a != null && a.isString() ? regclassLiteral(a.value()) : null;
        if (rel != null) {
          c.written.add(rel);
        } else {
          c.unparsed = true;
        }
        return true;
      }
      case "txid_current", "pg_current_xact_id" -> {
        // Force assignment of a transaction ID (a write to the WAL/commit log).
        c.weak.add(UPDATE);
        return true;
      }
      case "pg_notify" -> {
        c.weak.add(NOTIFY);
        return true;
      }
      default -> {}
    }
    if (LARGE_OBJECT_WRITES.contains(simple)) {
      c.weak.add(UPDATE);
      c.written.add(LARGE_OBJECTS);
      return true;
    }
    if (MAINTENANCE_FUNCTIONS.contains(simple)) {
      c.weak.add(MAINTENANCE);
      statsTarget(c, simple, open);
      return true;
    }
    if (simple.startsWith("pg_advisory_") || simple.startsWith("pg_try_advisory_")) {
      c.weak.add(LOCK);
      return true;
    }
    return false;
  }

  /**
   * The table whose statistics pg_clear_*_stats (positional schema and relation name) or
   * pg_restore_*_stats (variadic pairs {@code 'schemaname', s, 'relname', r}) write, when both are
   * literals: added to tables_written. The arguments are names as stored, not identifiers.
   */
  private static void statsTarget(Ctx c, String simple, int open) {
    String schema = null;
    String rel = null;
    if (simple.startsWith("pg_clear_")) {
      PgToken a = open + 1 < c.t.size() ? c.t.get(open + 1) : null;
      PgToken b = open + 3 < c.t.size() ? c.t.get(open + 3) : null;
      if (a != null && a.isString() && c.is(open + 2, ",") && b != null && b.isString()) {
        schema = a.value();
        rel = b.value();
      }
    } else if (simple.startsWith("pg_restore_")) {
      int close = matching(c, open, c.t.size());
      for (int k = open + 1; close > 0 && k + 2 < close; k++) {
        PgToken key = c.t.get(k);
        PgToken val = c.t.get(k + 2);
        if (key.isString()
            && c.is(k + 1, ",")
            && val.isString()
            && (k - 1 == open || c.is(k - 1, ","))) {
          if (key.value().equals("schemaname")) {
            schema = val.value();
          } else if (key.value().equals("relname")) {
            rel = val.value();
          }
        }
      }
    }
    // Names we cannot read here (a column, an expression): every table, as for nextval
    c.written.add(schema != null && rel != null ? part(schema) + "." + part(rel) : Attr.ANY_TABLE);
  }

  /**
   * The relation the first argument of the call opened at {@code open} names, when that argument is
   * one whole literal ({@code 's'}, {@code 's'::regclass}, {@code 's'::pg_catalog.text}), else
   * {@link Attr#ANY_TABLE}: an OID ({@code nextval(16400)}), a parenthesised literal, an expression
   * ({@code 'payments' || '_id_seq'}, whose first literal is not the sequence) or a column could
   * name any sequence, and a table rule must not be passed by writing it so (red team rt19: {@code
   * setval(('public.payments_id_seq'), 1)} wrote no table, so a deny of the sequence did not match,
   * and an allow rule for {@code update} of {@code scratch.*} admitted it).
   */
  private static String relationArgument(Ctx c, int open) {
    PgToken a = open + 1 < c.t.size() ? c.t.get(open + 1) : null;
    if (a == null || !a.isString()) {
      return Attr.ANY_TABLE;
    }
    int k = open + 2;
    while (c.is(k, "::") && k + 1 < c.t.size() && c.t.get(k + 1).isName()) {
      k += 2; // a cast to a type name, perhaps qualified
      while (c.is(k, ".") && k + 1 < c.t.size() && c.t.get(k + 1).isName()) {
        k += 2;
      }
    }
    String rel = c.is(k, ",") || c.is(k, ")") ? regclassLiteral(a.value()) : null;
    return rel == null ? Attr.ANY_TABLE : rel;
  }

  /**
   * Settings that change how later statements must be lexed: standard_conforming_strings (whether a
   * backslash escapes in '...', sql-syntax-lexical.html §4.1.2.1) and client_encoding (in SJIS,
   * BIG5, GBK, GB18030, UHC and JOHAB the second byte of a character can be an ASCII backslash,
   * multibyte.html §24.3.1). The gateway learns the server's new value only from a later
   * ParameterStatus message, so a statement sent right behind the change could be split at
   * different places by the gateway and by the server.
   */
  private static boolean lexingSetting(String name) {
    String n = PgLexer.foldCase(name.strip());
    return n.equals("standard_conforming_strings") || n.equals("client_encoding");
  }

  /**
   * True when setting {@code name} (a {@link #lexingSetting}) to {@code value} keeps the lexical
   * rules the gateway applies: standard_conforming_strings to its current value, or a
   * client_encoding whose characters never contain ASCII bytes after the first. A null (not a
   * literal) value does not.
   */
  private static boolean keepsLexing(Ctx c, String name, String value) {
    if (value == null) {
      return false;
    }
    if (PgLexer.foldCase(name.strip()).equals("client_encoding")) {
      return PgStartupParams.safeClientEncoding(value);
    }
    Boolean b = PgStartupParams.parseBool(value);
    return b != null && b == c.scs;
  }

  /** GUC names that change the current role (GUC names compare case-insensitively). */
  private static boolean isRoleSetting(String name) {
    if (name == null) {
      return false;
    }
    String n = PgLexer.foldCase(name.strip());
    return n.equals("role") || n.equals("session_authorization");
  }

  // ---------------------------------------------------------------------------------------------
  // Utility statements

  /**
   * COPY (sql-copy.html): FROM STDIN → copy_in, TO STDOUT → copy_out, a file name or PROGRAM →
   * copy_program (runs on the server with the server's privileges).
   */
  private static void copy(Ctx c) {
    int i = 1;
    if (c.isWord(i, "binary")) {
      i++;
    }
    boolean isQuery = false;
    String table = null;
    if (c.is(i, "(")) {
      int close = matching(c, i, c.t.size());
      if (close < 0) {
        c.unknown();
        return;
      }
      isQuery = true;
      Ctx inner = analyze(c.sql, c.t.subList(i + 1, close), 1, c.scs);
      merge(c, inner);
      i = close + 1;
    } else {
      int[] end = new int[1];
      table = qualifiedName(c, i, end);
      if (table == null) {
        c.unknown();
        return;
      }
      i = end[0];
      if (c.is(i, "(")) {
        int close = matching(c, i, c.t.size());
        if (close < 0) {
          c.unknown();
          return;
        }
        i = close + 1;
      }
    }
    boolean from = c.isWord(i, "from");
    if (!from && !c.isWord(i, "to")) {
      c.unknown();
      return;
    }
    i++;
    if (c.isWord(i, "program") || (i < c.t.size() && c.t.get(i).isString())) {
      c.base = COPY_PROGRAM;
    } else if (from && c.isWord(i, "stdin")) {
      c.base = COPY_IN;
    } else if (!from && c.isWord(i, "stdout")) {
      c.base = COPY_OUT;
    } else {
      c.unknown();
      return;
    }
    if (table != null) {
      (from ? c.written : c.read).add(table);
    } else if (from && isQuery) {
      c.unknown();
    }
    copyOptionLists(c, i + 1);
    // after STDIN/STDOUT/PROGRAM/'file': options, and COPY FROM's WHERE condition
    functionScan(c, i + 1, c.t.size());
  }

  /**
   * In COPY's parenthesised option list (gram.y copy_generic_opt_list: {@code [WITH] ( name [arg]
   * [, ...] )}), an option name followed by a parenthesised column list ({@code FORCE_QUOTE (a)},
   * {@code FORCE_NOT_NULL (a)}, {@code FORCE_NULL (a)}) is not a call: marks those '(' so that
   * {@link #functionScan} does not report {@code force_quote} as a function. Only the option-name
   * position of each top-level element is marked: anything nested inside an argument is still
   * scanned (PostgreSQL accepts only names and strings there, so a call-like shape is reported,
   * fail closed), as is COPY FROM's WHERE condition after the list. The old-style options ({@code
   * WITH CSV FORCE QUOTE a, b}, {@code FORCE NOT NULL a}) take bare column lists, no '('.
   */
  private static void copyOptionLists(Ctx c, int i) {
    if (c.isWord(i, "with")) {
      i++;
    }
    if (!c.is(i, "(")) {
      return;
    }
    int close = matching(c, i, c.t.size());
    if (close < 0) {
      return;
    }
    int k = i + 1;
    while (k < close) {
      if (c.t.get(k).isName() && c.is(k + 1, "(")) {
        c.nonCall.set(k + 1);
      }
      while (k < close && !c.is(k, ",")) { // to the next top-level comma
        int next = c.is(k, "(") ? matching(c, k, close) : k;
        if (next < 0) {
          return;
        }
        k = next + 1;
      }
      k++;
    }
  }

  /** Copies an inner statement's findings into {@code c} (kind handled by the caller). */
  private static void merge(Ctx c, Ctx inner) {
    c.read.addAll(inner.read);
    c.written.addAll(inner.written);
    c.functions.addAll(inner.functions);
    c.quotedCalls.addAll(inner.quotedCalls);
    for (String k : inner.kinds()) {
      if (!k.equals(SELECT)) {
        c.strong.add(k);
      }
    }
    c.rowLock |= inner.rowLock;
    c.unparsed |= inner.unparsed;
    if (inner.searchPath != null) {
      c.setsSearchPath(List.copyOf(inner.searchPath));
    }
    c.localSearchPath |= inner.localSearchPath;
    c.updateDeleteCount += inner.updateDeleteCount;
    c.updateDeleteWithoutWhere += inner.updateDeleteWithoutWhere;
    if (c.objectType == null) {
      c.objectType = inner.objectType;
    }
  }

  /**
   * EXPLAIN without ANALYZE only plans: kind explain, the inner statement's tables as read. EXPLAIN
   * ANALYZE executes the statement, so the inner statement's classification is the answer
   * (sql-explain.html). {@code ANALYZE false/off/0/no} in the option list is not ANALYZE.
   */
  private static Ctx explain(Ctx c, int wrapping) {
    int i = 1;
    boolean analyze = false;
    if (c.is(i, "(")) {
      int close = matching(c, i, c.t.size());
      if (close < 0) {
        c.unknown();
        return c;
      }
      for (int k = i + 1; k < close; k++) {
        // Option names are identifiers: ("analyze") is the ANALYZE option too.
        String opt = c.t.get(k).isName() ? PgLexer.foldCase(c.t.get(k).value()) : "";
        if ((opt.equals("analyze") || opt.equals("analyse")) && !isFalse(c, k + 1)) {
          analyze = true;
        }
      }
      i = close + 1;
    } else {
      while (c.isWord(i, "analyze") || c.isWord(i, "analyse") || c.isWord(i, "verbose")) {
        analyze |= !c.isWord(i, "verbose");
        i++;
      }
    }
    Ctx inner = analyze(c.sql, c.t.subList(i, c.t.size()), wrapping + 1, c.scs);
    if (analyze) {
      inner.explainAnalyze = true;
      return inner;
    }
    c.base = EXPLAIN;
    c.read.addAll(inner.read);
    c.read.addAll(inner.written);
    c.functions.addAll(inner.functions);
    c.quotedCalls.addAll(inner.quotedCalls);
    c.unparsed = inner.unparsed;
    c.searchPath = inner.searchPath; // not run, but tracking more schemas only matches more
    return c;
  }

  private static boolean isFalse(Ctx c, int i) {
    if (i >= c.t.size()) {
      return false;
    }
    PgToken v = c.t.get(i);
    return (v.kind() == Kind.IDENT || v.kind() == Kind.STRING || v.kind() == Kind.NUMBER)
        && Boolean.FALSE.equals(PgStartupParams.parseBool(v.value()));
  }

  /**
   * PREPARE TRANSACTION 'gid' is two-phase commit; PREPARE name [(types)] AS stmt is classified by
   * the statement it prepares, since EXECUTE later runs it without showing it (sql-prepare.html).
   */
  private static Ctx prepare(Ctx c, int wrapping) {
    if (c.isWord(1, "transaction") && c.t.size() > 2 && c.t.get(2).isString()) {
      c.base = PREPARED_TRANSACTION;
      // The session's transaction ends here, like at COMMIT: its cursors without HOLD close and a
      // SET LOCAL ends (sql-prepare-transaction.html).
      c.endsTransaction = true;
      return c;
    }
    String name = nameValue(c, 1);
    int i = 2;
    if (c.is(i, "(")) {
      i = matching(c, i, c.t.size()) + 1;
      if (i <= 0) {
        c.unknown();
        return c;
      }
    }
    if (name == null || !c.isWord(i, "as")) {
      c.unknown();
      return c;
    }
    Ctx inner = analyze(c.sql, c.t.subList(i + 1, c.t.size()), wrapping + 1, c.scs);
    inner.preparedName = name;
    return inner;
  }

  /** DECLARE name ... CURSOR ... FOR query: a cursor over the query (sql-declare.html). */
  private static Ctx declare(Ctx c, int wrapping) {
    int i = 2;
    while (i < c.t.size() && !c.isWord(i, "cursor")) {
      i++;
    }
    while (i < c.t.size() && !c.isWord(i, "for")) {
      i++;
    }
    if (i >= c.t.size()) {
      c.unknown();
      return c;
    }
    Ctx inner = analyze(c.sql, c.t.subList(i + 1, c.t.size()), wrapping + 1, c.scs);
    c.base = CURSOR;
    c.declares = nameValue(c, 1);
    // [WITH | WITHOUT] HOLD between CURSOR and FOR (sql-declare.html)
    c.withHold = findWordAtDepth0(c, 2, i, "with") >= 0;
    merge(c, inner);
    return c;
  }

  private static void set(Ctx c) {
    int i = 1;
    boolean local = false;
    while ((c.isWord(i, "session") || c.isWord(i, "local"))
        && !c.isWord(i + 1, "authorization")
        && !c.isWord(i + 1, "characteristics")) {
      local |= c.isWord(i, "local");
      i++;
    }
    if (c.isWord(i, "session") && c.isWord(i + 1, "authorization")) {
      c.base = SET_ROLE;
    } else if (c.isWord(i, "session") && c.isWord(i + 1, "characteristics")) {
      c.base = TRANSACTION;
    } else if (c.isWord(i, "transaction")) {
      c.base = TRANSACTION;
    } else if (c.isWord(i, "role") || isRoleSetting(nameValue(c, i))) {
      // SET ROLE x, SET role = x, SET "Role" TO x: all change the current role.
      c.base = SET_ROLE;
    } else if (c.isWord(i, "names")
        || (nameValue(c, i) != null && lexingSetting(nameValue(c, i)))) {
      // SET NAMES 'x' is SET client_encoding TO 'x' (sql-set.html). A value given by DEFAULT
      // (the database encoding, never a client-only one) or by RESET is safe.
      String name = c.isWord(i, "names") ? "client_encoding" : nameValue(c, i);
      int v = i + 1;
      if (!c.isWord(i, "names") && (c.is(v, "=") || c.isWord(v, "to"))) {
        v++;
      }
      boolean single = v + 1 == c.t.size();
      PgToken val = v < c.t.size() ? c.t.get(v) : null;
      boolean dflt = val != null && val.isWord("default") && name.equals("client_encoding");
      String literal =
          val != null && single && (val.isString() || val.kind() == Kind.IDENT || isNumber(val))
              ? val.value()
              : null;
      boolean namesDefault = c.isWord(i, "names") && v == c.t.size(); // SET NAMES = DEFAULT
      if (namesDefault || (single && (dflt || keepsLexing(c, name, literal)))) {
        c.base = SET;
      } else {
        c.unknown();
      }
    } else if (c.isWord(i, "schema") && !c.is(i + 1, "=") && !c.isWord(i + 1, "to")) {
      // SET SCHEMA 'value' is an alias for SET search_path TO value, one schema only
      // (sql-set.html); the server quotes the string as one name, as in SET search_path.
      PgToken val = i + 1 < c.t.size() ? c.t.get(i + 1) : null;
      if (val != null && val.isString() && i + 2 == c.t.size()) {
        c.base = SET;
        c.setsSearchPath(List.of(val.value()));
        c.localSearchPath = local;
      } else {
        c.unknown();
      }
    } else if (isSearchPath(nameValue(c, i))) {
      List<String> schemas = new ArrayList<>();
      if (keepsCatalogFirst(c, i + 1, schemas)) {
        c.base = SET;
        c.localSearchPath = local;
        if (!schemas.isEmpty()) {
          c.setsSearchPath(schemas);
        } else if (c.isWord(c.t.size() - 1, "default")) {
          c.resetsSearchPath = true;
        }
      } else {
        c.unknown();
      }
    } else if (nameValue(c, i) != null) {
      c.base = SET;
    } else {
      c.unknown();
    }
  }

  private static boolean isSearchPath(String name) {
    return name != null && PgLexer.foldCase(name.strip()).equals("search_path");
  }

  /**
   * The value of {@code SET [LOCAL] search_path} or {@code ALTER ... SET search_path}, starting at
   * {@code v} (the {@code =} or TO): true when it is DEFAULT or a list of names (identifiers or
   * strings, each string one schema name, as the server quotes it) that keeps pg_catalog in front
   * ({@link PgStartupParams#catalogFirst}). A path that names pg_catalog after another schema makes
   * an unqualified built-in name ({@code lower}, {@code now}) call a function of that name in the
   * other schema, which can do anything, while the gateway still reports the read-only built-in
   * (ddl-schemas.html#DDL-SCHEMAS-CATALOG). Anything else (FROM CURRENT, other tokens) is not known
   * to keep it. The names are added to {@code schemas} (none for DEFAULT).
   */
  private static boolean keepsCatalogFirst(Ctx c, int v, List<String> schemas) {
    if (c.is(v, "=") || c.isWord(v, "to")) {
      v++;
    }
    if (c.isWord(v, "default") && v + 1 == c.t.size()) {
      return true;
    }
    for (int k = v; k < c.t.size(); k += 2) {
      PgToken tok = c.t.get(k);
      if (!tok.isName() && !tok.isString()) {
        return false;
      }
      schemas.add(tok.value());
      if (k + 1 < c.t.size() && !c.is(k + 1, ",")) {
        return false;
      }
    }
    return !schemas.isEmpty() && PgStartupParams.catalogFirst(schemas);
  }

  private static boolean isNumber(PgToken t) {
    return t.kind() == Kind.NUMBER;
  }

  private static void grant(Ctx c, String w) {
    c.base = w.equals("grant") ? GRANT : REVOKE;
    int on = -1;
    for (int i = 1; i < c.t.size(); i++) {
      if (c.isWord(i, "on")) {
        on = i;
        break;
      }
      if (c.isWord(i, "to") || c.isWord(i, "from")) {
        break;
      }
    }
    if (on < 0) {
      c.objectType = "role"; // GRANT role TO role
      return;
    }
    int i = on + 1;
    String ot = c.word(i);
    if (ot == null) {
      c.objectType = "table";
      nameList(c, i, c.written);
      return;
    }
    switch (ot) {
      case "table" -> {
        c.objectType = "table";
        nameList(c, i + 1, c.written);
      }
      case "all" -> {
        c.objectType = c.word(i + 1) == null ? "all" : "all_" + c.word(i + 1);
        // ON ALL TABLES/SEQUENCES IN SCHEMA s: every table there, none named (sql-grant.html)
        c.unparsed |=
            !c.objectType.equals("all_functions")
                && !c.objectType.equals("all_procedures")
                && !c.objectType.equals("all_routines");
      }
      case "sequence",
          "database",
          "domain",
          "function",
          "procedure",
          "routine",
          "language",
          "schema",
          "tablespace",
          "type",
          "parameter",
          "server" ->
          c.objectType = ot;
      case "foreign" -> c.objectType = "foreign_" + c.word(i + 1);
      case "large" -> c.objectType = "large_object";
      default -> {
        c.objectType = "table";
        nameList(c, i, c.written);
      }
    }
  }

  private static void maintenance(Ctx c, String w) {
    c.base = MAINTENANCE;
    int i = 1;
    if (c.is(i, "(")) {
      i = matching(c, i, c.t.size()) + 1;
      if (i <= 0) {
        c.unknown();
        return;
      }
    }
    switch (w) {
      case "vacuum", "analyze", "analyse", "cluster" -> {
        while (c.isWord(i, "full")
            || c.isWord(i, "freeze")
            || c.isWord(i, "verbose")
            || c.isWord(i, "analyze")
            || c.isWord(i, "analyse")) {
          i++;
        }
        if (i < c.t.size()) {
          nameList(c, i, c.written);
        } else {
          // VACUUM [FULL], ANALYZE, CLUSTER without a name process every table of the database
          // (sql-vacuum.html, sql-analyze.html, sql-cluster.html): VACUUM FULL rewrites each under
          // an exclusive lock, ANALYZE rewrites every table's statistics. It named none, so an
          // allow rule for maintenance of scratch.* was met trivially (red team rt21).
          c.written.add(Attr.ANY_TABLE);
        }
      }
      case "reindex" -> {
        if (c.isWord(i, "table") || c.isWord(i, "index")) {
          i++;
          if (c.isWord(i, "concurrently")) {
            i++;
          }
          nameList(c, i, c.written);
        } else if (c.isWord(i, "schema") || c.isWord(i, "database") || c.isWord(i, "system")) {
          c.written.add(Attr.ANY_TABLE); // every index of a schema or the database (see above)
        }
      }
      case "refresh" -> {
        c.objectType = "materialized_view";
        i = 3;
        if (c.isWord(i, "concurrently")) {
          i++;
        }
        nameList(c, i, c.written);
      }
      default -> {}
    }
  }

  // ---------------------------------------------------------------------------------------------
  // CREATE / ALTER / DROP

  private static final Set<String> CREATE_MODIFIERS =
      Set.of(
          "or",
          "replace",
          "temp",
          "temporary",
          "local",
          "global",
          "unlogged",
          "unique",
          "default",
          "trusted",
          "procedural",
          "constraint",
          "recursive",
          "concurrently");

  /** Relation-like objects whose name is a table name for policy purposes. */
  private static final Set<String> RELATIONS =
      Set.of("table", "view", "materialized_view", "sequence", "foreign_table", "index");

  /** Objects whose body is stored, not run, when created: no hidden effects at creation. */
  private static final Set<String> DEFINITIONS =
      Set.of(
          "function",
          "procedure",
          "rule",
          "view",
          "trigger",
          "event_trigger",
          "policy",
          "aggregate",
          "operator",
          "type",
          "domain",
          "cast",
          "language",
          "transform",
          "schema");

  /**
   * Reads the object type at {@code i} (after CREATE/ALTER/DROP and modifiers); multi-word types
   * are joined with '_' (materialized_view, foreign_table, text_search_configuration...). Returns
   * the index after it.
   */
  private static int objectType(Ctx c, int i) {
    String a = c.word(i);
    String b = c.word(i + 1);
    if (a == null) {
      c.objectType = null;
      return i;
    }
    switch (a) {
      case "materialized", "foreign", "event", "access", "operator", "large", "user", "default" -> {
        boolean two =
            switch (a) {
              case "operator" -> "class".equals(b) || "family".equals(b);
              case "user" -> "mapping".equals(b);
              case "foreign" -> "table".equals(b) || "data".equals(b);
              default -> b != null;
            };
        if (!two) {
          c.objectType = a;
          return i + 1;
        }
        if (a.equals("foreign") && "data".equals(b)) {
          c.objectType = "foreign_data_wrapper";
          return i + 3;
        }
        c.objectType = a + "_" + b;
        return i + 2;
      }
      case "text" -> {
        String d = c.word(i + 2);
        c.objectType = "text_search_" + d;
        return i + 3;
      }
      default -> {
        c.objectType = a;
        return i + 1;
      }
    }
  }

  /**
   * Whether the routine named at token {@code i} (CREATE FUNCTION/PROCEDURE/AGGREGATE name, or a
   * RENAME TO target) has the name of a built-in the classifier trusts unqualified, outside
   * pg_catalog. PostgreSQL chooses among overloads by argument type across the whole search_path,
   * so {@code public.lower(varchar)} wins over {@code pg_catalog.lower(text)} for a varchar
   * argument although pg_catalog is searched first (the CVE-2018-1058 pattern; checked on 17:
   * {@code SELECT lower('A'::varchar)} ran such a function, which updated a table, as a read). Such
   * a statement is unknown: it makes later reads that call the name run the new function. Red team
   * rt16; one created outside the gateway is found in the catalog ({@link SqlShadows}).
   */
  private static boolean shadowsBuiltin(Ctx c, int i) {
    String name = qualifiedName(c, i, new int[1]);
    if (name == null) {
      return false;
    }
    int dot = name.lastIndexOf('.');
    String simple = name.substring(dot + 1);
    if (dot >= 0 && name.substring(0, dot).equals("pg_catalog")) {
      return false; // only a superuser creates there, and a qualified call names it
    }
    return trustedName(simple);
  }

  /**
   * Whether the classifier trusts a pg_catalog function of this name (lower case, as PostgreSQL
   * folds it): read-only, or its effect accounted for. A function of the name elsewhere can take
   * its place ({@link SqlShadows}).
   */
  static boolean trustedName(String simple) {
    return READ_ONLY_BUILTINS.contains(simple) || classifiedFunction(simple);
  }

  private static void create(Ctx c) {
    c.base = CREATE;
    int i = 1;
    while (c.word(i) != null && CREATE_MODIFIERS.contains(c.word(i))) {
      i++;
    }
    i = objectType(c, i);
    if (c.objectType == null) {
      c.unknown();
      return;
    }
    String ot = c.objectType;
    c.definition = DEFINITIONS.contains(ot);
    if (DEFINITION_PREFIX.contains(ot) && shadowsBuiltin(c, i)) {
      c.unknown();
      return;
    }
    if (DEFINITION_PREFIX.contains(ot) && c.isWord(1, "or") && c.isWord(2, "replace")) {
      // CREATE OR REPLACE FUNCTION f …: a new body for the calls of an existing f, which rules
      // allowing or denying f by name judge without seeing it; so f is reported, as ALTER
      // FUNCTION reports the routine it changes (see alteredRoutine; red team rt21)
      addFunctionName(c, i, new int[1]);
    }
    if (ot.equals("operator") && !c.isWord(i, "pg_catalog")) {
      // An operator outside pg_catalog: PostgreSQL picks operators by argument type across the
      // search_path as it does functions, and every operator name is a built-in's for some types
      // (CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = f) runs f in a
      // later "read" comparing varchars; review of the sixteenth session): unknown, as a function
      // shadowing a trusted built-in is (see shadowsBuiltin).
      c.unknown();
      return;
    }
    if (c.isWord(i, "concurrently")) {
      i++;
    }
    if (c.isWord(i, "if") && c.isWord(i + 1, "not") && c.isWord(i + 2, "exists")) {
      i += 3;
    }
    int[] end = new int[1];
    int n = c.t.size();
    switch (ot) {
      case "table", "view", "materialized_view", "sequence", "foreign_table" -> {
        String name = qualifiedName(c, i, end);
        if (name == null) {
          c.unparsed = true;
          return;
        }
        c.written.add(name);
        parents(c, end[0], n);
        referencedTables(c, end[0], n);
        likeTables(c, end[0], n);
        int as = findWordAtDepth0(c, end[0], n, "as");
        if (as >= 0 && !ot.equals("sequence")) {
          // CREATE TABLE AS / MATERIALIZED VIEW run the query now; a VIEW only stores it.
          if (c.is(end[0], "(")) {
            c.nonCall.set(end[0]);
          }
          Ctx inner = analyze(c.sql, c.t.subList(as + 1, n), 1, c.scs);
          merge(c, inner);
          // CREATE TABLE t AS EXECUTE name [(args)] [WITH [NO] DATA] runs the prepared statement
          // (gram.y ExecuteStmt; prepare.c ExecuteQuery takes any one planned as a SELECT, a
          // writing WITH included, and runs it WITH NO DATA too): the session decides it as that
          // statement, like EXECUTE (red team rt19: it was only a create of t, so a reviewed write
          // prepared once ran again and again, and a read ran past a reloaded policy).
          c.executedName = inner.executedName;
          return;
        }
        functionScan(c, end[0], n);
      }
      case "index", "trigger", "policy", "rule" -> {
        end[0] = i;
        int on = findWordAtDepth0(c, i, n, "on");
        if (on >= 0) {
          int at = on + 1;
          if (ot.equals("rule")) {
            at = findWordAtDepth0(c, on, n, "to") + 1;
          }
          if (c.isWord(at, "only")) {
            at++;
          }
          String name = at > 0 ? qualifiedName(c, at, end) : null;
          if (name != null) {
            c.written.add(name);
            if (c.is(end[0], "(")) {
              c.nonCall.set(end[0]);
            }
          }
        }
        if (ot.equals("rule")) {
          ruleActions(c, end[0], n);
          return;
        }
        if (ot.equals("trigger")) {
          // CREATE CONSTRAINT TRIGGER … FROM referenced_table (sql-createtrigger.html): the table
          // a foreign-key-like trigger looks rows up in
          int from = findWordAtDepth0(c, i, n, "from");
          String referenced = from < 0 ? null : qualifiedName(c, from + 1, new int[1]);
          if (referenced != null) {
            addTable(c, referenced, c.read, from + 1);
          }
          triggerFunction(c, i, n);
        }
        functionScan(c, i, n);
      }
      case "event_trigger" -> {
        // CREATE EVENT TRIGGER name ON event … EXECUTE FUNCTION f() (sql-createeventtrigger.html)
        triggerFunction(c, i, n);
        functionScan(c, i, n);
      }
      case "schema" -> schemaElements(c, i, n);
      case "publication", "subscription" -> publicationTables(c, i);
      case "statistics" -> {
        // CREATE STATISTICS s ON a, b FROM t: only t's owner may; ANALYZE of t then fills it
        int from = findWordAtDepth0(c, i, n, "from");
        String name = from < 0 ? null : qualifiedName(c, from + 1, end);
        if (name != null) {
          c.written.add(name);
        }
        functionScan(c, i, n);
      }
      default -> {
        boundFunctions(c, i, n);
        functionScan(c, i, n);
      }
    }
  }

  /**
   * The function a trigger runs: {@code EXECUTE {FUNCTION | PROCEDURE} name(args)}
   * (sql-createtrigger.html, sql-createeventtrigger.html). The function scan passes over it (a name
   * after FUNCTION is a definition's, as in DROP FUNCTION f()), but the trigger calls it on every
   * later event, in statements that do not show it: {@code CREATE TRIGGER … ON scratch.t … EXECUTE
   * FUNCTION purge()} and then an allowed {@code INSERT INTO scratch.t} ran purge although a rule
   * denied it or admitted only statements without opaque functions (red team rt20). So it is in
   * {@code functions} (and opaque unless a read-only built-in) as a policy's or a CHECK's is. A
   * name that cannot be read is unparsed.
   */
  private static void triggerFunction(Ctx c, int from, int n) {
    int exec = findWordAtDepth0(c, from, n, "execute");
    if (exec < 0) {
      return;
    }
    if (!c.isWord(exec + 1, "function") && !c.isWord(exec + 1, "procedure")) {
      c.unparsed = true;
      return;
    }
    int[] end = new int[1];
    String name = qualifiedName(c, exec + 2, end);
    if (name == null || !c.is(end[0], "(")) {
      c.unparsed = true;
      return;
    }
    String lower = PgLexer.foldCase(name);
    c.functions.add(lower);
    if (!lower.equals(name)) {
      c.quotedCalls.add(lower);
    }
  }

  /**
   * The tables a foreign key of {@code CREATE TABLE} / {@code ALTER TABLE … ADD} references ({@code
   * a int REFERENCES customers (id)}, {@code FOREIGN KEY (a) REFERENCES customers}), from {@code
   * from}: each insert into the new table looks the key up in the referenced one (ri_triggers.c
   * runs {@code SELECT 1 FROM ONLY customers x WHERE id = $1 FOR KEY SHARE OF x}), which tells
   * whether a row with that key exists, and the foreign key adds triggers to the referenced table
   * that refuse or cascade its deletes and updates
   * (sql-createtable.html#SQL-CREATETABLE-PARMS-REFERENCES). So the referenced table is read;
   * before (red team rt20) it was in neither list, and a deny of customers did not match.
   */
  private static void referencedTables(Ctx c, int from, int n) {
    int[] end = new int[1];
    for (int k = from; k + 1 < n; k++) {
      if (!c.isWord(k, "references")) {
        continue;
      }
      String name = qualifiedName(c, k + 1, end);
      if (name == null) {
        c.unparsed = true;
        return;
      }
      addTable(c, name, c.read, k + 1);
      addTable(c, name, c.written, k + 1);
      if (c.is(end[0], "(")) {
        c.nonCall.set(end[0]);
      }
    }
  }

  /**
   * {@code CREATE TABLE x (LIKE source [INCLUDING … | EXCLUDING …], …)} (sql-createtable.html
   * #SQL-CREATETABLE-PARMS-LIKE) copies the definition of {@code source}: it is read (its columns,
   * and what the options copy). INCLUDING DEFAULTS, GENERATED, CONSTRAINTS, INDEXES, STATISTICS or
   * ALL also copy expressions (column defaults, generated columns, CHECK constraints, expression
   * indexes and statistics) that may call any function, and that then run on every insert into x
   * (or its ANALYZE) in statements that do not show them, as a trigger's function does (red team
   * rt21). Which functions they are is in the catalog, not in the statement: unparsed, so that
   * every deny rule about SQL matches it (as for DROP … CASCADE). COMMENTS, COMPRESSION, IDENTITY
   * (a new sequence) and STORAGE copy no expression.
   */
  private static void likeTables(Ctx c, int from, int n) {
    if (!c.is(from, "(")) {
      return;
    }
    int close = matching(c, from, n);
    if (close < 0) {
      return;
    }
    int[] end = new int[1];
    int d = 0;
    for (int k = from + 1; k < close; k++) {
      if (c.is(k, "(")) {
        d++;
      } else if (c.is(k, ")")) {
        d--;
      } else if (d == 0 && c.isWord(k, "like") && (c.is(k - 1, "(") || c.is(k - 1, ","))) {
        String name = qualifiedName(c, k + 1, end);
        if (name == null) {
          c.unparsed = true;
          return;
        }
        addTable(c, name, c.read, k + 1);
        for (int j = end[0]; j < close && !c.is(j, ","); j++) {
          if (c.isWord(j, "including") && !LIKE_WITHOUT_EXPRESSIONS.contains(c.word(j + 1))) {
            c.unparsed = true;
          }
        }
      }
    }
  }

  /** LIKE options that copy no expression (sql-createtable.html, PostgreSQL 17). */
  private static final Set<String> LIKE_WITHOUT_EXPRESSIONS =
      Set.of("comments", "compression", "identity", "storage");

  /**
   * {@code ALTER FUNCTION | PROCEDURE | ROUTINE | AGGREGATE name [(args)] …}: the routine is in
   * {@code functions} (and {@code opaque_functions} unless a read-only built-in), as if called.
   * Every form changes what later calls of the name do, in statements that do not show it, and
   * RENAME TO and SET SCHEMA hand the function to a name no rule about it knows (red team rt21:
   * with {@code deny { functions: [purge_ledger] }} and {@code allow ddl}, {@code ALTER FUNCTION
   * purge_ledger() RENAME TO p2} was allowed, and {@code SELECT p2()} was then only an opaque
   * call). So a rule about the function matches the statement that renames, moves, re-owns or
   * redefines its settings. A name that cannot be read is unparsed.
   */
  private static void alteredRoutine(Ctx c, int i) {
    if (!addFunctionName(c, i, new int[1])) {
      c.unparsed = true;
    }
  }

  /**
   * Adds the (qualified, perhaps quoted) function name at {@code i} to {@code functions}, as a call
   * is; {@code end[0]} is set to the index after it. False when no name is there.
   */
  private static boolean addFunctionName(Ctx c, int i, int[] end) {
    String name = qualifiedName(c, i, end);
    if (name == null) {
      return false;
    }
    String lower = PgLexer.foldCase(name);
    c.functions.add(lower);
    if (!lower.equals(name)) {
      c.quotedCalls.add(lower);
    }
    return true;
  }

  /**
   * {@code ALTER … name OWNER TO role} (every object type that has it: table, schema, function,
   * database, type, large object…): the new owner may do anything with the object, grant it to
   * others and drop it, so this is a GRANT of every privilege as well as an alter ({@code kinds}
   * [alter, grant]): a rule denying or reviewing {@code privileges} matches it, and one allowing
   * {@code ddl} alone no longer admits it (red team rt21: {@code ALTER TABLE customers OWNER TO
   * other} passed as an alter where {@code GRANT ALL ON customers TO other} was denied). {@code
   * RENAME [COLUMN | CONSTRAINT | ATTRIBUTE] owner TO x} is a rename.
   */
  private static void ownerTo(Ctx c, int from) {
    int owner = findWordAtDepth0(c, from, c.t.size(), "owner");
    while (owner > 0) {
      if (c.isWord(owner + 1, "to")
          && !c.isWord(owner - 1, "rename")
          && !c.isWord(owner - 1, "column")
          && !c.isWord(owner - 1, "constraint")
          && !c.isWord(owner - 1, "attribute")
          && !c.is(owner - 1, ".")) {
        c.also.add(GRANT);
        return;
      }
      owner = findWordAtDepth0(c, owner + 1, c.t.size(), "owner");
    }
  }

  /**
   * Option names whose value is a function the object calls later (sql-createaggregate.html,
   * sql-createoperator.html, sql-createtype.html, sql-createtsparser.html,
   * sql-createtstemplate.html), in {@code (name = value, …)} lists.
   */
  private static final Set<String> FUNCTION_OPTIONS =
      Set.of(
          "sfunc",
          "sfunc1",
          "finalfunc",
          "finalfunc1",
          "combinefunc",
          "serialfunc",
          "deserialfunc",
          "msfunc",
          "minvfunc",
          "mfinalfunc",
          "function",
          "procedure",
          "restrict",
          "join",
          "subtype_diff",
          "canonical",
          "input",
          "output",
          "receive",
          "send",
          "typmod_in",
          "typmod_out",
          "analyze",
          "subscript",
          "start",
          "gettoken",
          "end",
          "lextypes",
          "headline",
          "init",
          "lexize");

  /** Objects with {@code HANDLER f}, {@code VALIDATOR f}, {@code INLINE f} clauses. */
  private static final Set<String> HANDLER_TYPES =
      Set.of("language", "foreign_data_wrapper", "access_method");

  /** Object types whose definitions bind functions by name (see {@link #boundFunctions}). */
  private static final Set<String> BINDING_TYPES =
      Set.of(
          "aggregate",
          "operator",
          "type",
          "cast",
          "transform",
          "language",
          "foreign_data_wrapper",
          "conversion",
          "access_method",
          "operator_class",
          "operator_family",
          "text_search_parser",
          "text_search_template");

  /**
   * The functions a CREATE or ALTER of an aggregate, operator, type, cast, transform, language,
   * foreign-data wrapper, conversion, access method, operator class or family, or text search
   * parser or template binds: {@code SFUNC = f}, {@code FUNCTION = f}, {@code RESTRICT = f}, {@code
   * WITH FUNCTION f(…)}, {@code HANDLER f}, {@code VALIDATOR f}, {@code INLINE f}, {@code FROM f}
   * (conversion), {@code FUNCTION n [(types)] f(…)} (operator class). They run later, whenever the
   * aggregate, operator, cast or type is used, in statements that name only the object (an implicit
   * cast in {@code WHERE a = 1} names nothing at all), so they are reported now, in {@code
   * functions} and {@code opaque_functions}, as a trigger's function is (red team rt21: a deny of
   * purge_ledger did not match {@code CREATE AGGREGATE a(int) (SFUNC = purge_ledger, STYPE = int)},
   * after which {@code SELECT a(1)} ran it as an opaque call of a). A value that is no name is
   * unparsed.
   */
  private static void boundFunctions(Ctx c, int from, int n) {
    if (c.objectType == null || !BINDING_TYPES.contains(c.objectType)) {
      return;
    }
    String ot = c.objectType;
    int[] end = new int[1];
    int language = ot.equals("transform") ? findWordAtDepth0(c, from, n, "language") : -1;
    if (language > 0 && c.is(language + 2, "(")) {
      c.nonCall.set(language + 2); // TRANSFORM FOR type LANGUAGE lang (…): no call of lang
    }
    for (int k = from; k < n; k++) {
      String w = c.word(k);
      if (w == null) {
        continue;
      }
      if (FUNCTION_OPTIONS.contains(w)
          && c.is(k + 1, "=")
          && (c.is(k - 1, "(") || c.is(k - 1, ","))) {
        PgToken v = k + 2 < n ? c.t.get(k + 2) : null;
        if (v != null && v.isString()) {
          String name = regclassLiteral(v.value()); // a function named by a string: 'int4pl'
          if (name == null) {
            c.unparsed = true;
          } else if (!name.equals("none")) {
            String lower = PgLexer.foldCase(name);
            c.functions.add(lower);
            if (!lower.equals(name)) {
              c.quotedCalls.add(lower);
            }
          }
        } else if (!c.isWord(k + 2, "none") && !addFunctionName(c, k + 2, end)) {
          c.unparsed = true;
        }
        continue;
      }
      boolean named =
          (w.equals("function") && c.isWord(k - 1, "with"))
              || ((w.equals("handler") || w.equals("validator") || w.equals("inline"))
                  && HANDLER_TYPES.contains(ot)
                  && !c.isWord(k - 1, "no"))
              || (w.equals("from") && ot.equals("conversion"));
      if (named) {
        if (!addFunctionName(c, k + 1, end)) {
          c.unparsed = true;
        }
        continue;
      }
      if (w.equals("function")
          && (ot.equals("operator_class") || ot.equals("operator_family"))
          && k + 1 < n
          && isNumber(c.t.get(k + 1))) {
        // FUNCTION support_number [(op_type [, op_type])] name(argument_type, …)
        int j = k + 2;
        if (c.is(j, "(")) {
          j = matching(c, j, n) + 1;
        }
        if (j <= 0 || !addFunctionName(c, j, end)) {
          c.unparsed = true;
        }
      }
    }
  }

  /**
   * {@code IMPORT FOREIGN SCHEMA remote [LIMIT TO (t, …) | EXCEPT (…)] FROM SERVER s INTO local}
   * (sql-importforeignschema.html) creates a foreign table in {@code local} for each table of the
   * remote schema: with LIMIT TO, {@code local.t} for each name; otherwise tables the statement
   * does not name, reported as {@link Attr#ANY_TABLE}. Before (red team rt20) nothing was written,
   * so an allow rule for creates with {@code tables: ["scratch.*"]} admitted an import into any
   * schema. An INTO that cannot be read is unparsed.
   */
  private static void importedTables(Ctx c) {
    int n = c.t.size();
    int into = findWordAtDepth0(c, 1, n, "into");
    int[] end = new int[1];
    String schema = into < 0 ? null : qualifiedName(c, into + 1, end);
    if (schema == null
        || (end[0] != n && !(c.isWord(end[0], "options") && c.is(end[0] + 1, "(")))
        || schema.indexOf('.') >= 0) {
      c.unparsed = true;
      return;
    }
    int limit = findWordAtDepth0(c, 1, into, "limit");
    if (limit < 0 || !c.isWord(limit + 1, "to") || !c.is(limit + 2, "(")) {
      c.written.add(Attr.ANY_TABLE);
      return;
    }
    int close = matching(c, limit + 2, into);
    if (close < 0) {
      c.unparsed = true;
      return;
    }
    for (int k = limit + 3; k < close; k++) {
      PgToken tok = c.t.get(k);
      if (tok.is(",")) {
        continue;
      }
      if (!tok.isName()) {
        c.unparsed = true;
        return;
      }
      c.written.add(part(schema) + "." + part(tok.value()));
    }
  }

  /**
   * The condition and commands of {@code CREATE RULE ... ON event TO table [WHERE condition] DO
   * [ALSO | INSTEAD] {NOTHING | command | (command; command ...)}} (sql-createrule.html), from
   * {@code from} (after the table's name): the tables and functions they name join the CREATE's, as
   * a view's query does, although they run only later, on the table's events and with its owner's
   * rights. So {@code ... DO ALSO DELETE FROM customers} has customers in {@code tables_written},
   * where rules with tables about customers see it; the kind stays {@code create} (a definition). A
   * body we cannot delimit is unparsed.
   */
  private static void ruleActions(Ctx c, int from, int n) {
    int doAt = findWordAtDepth0(c, from, n, "do");
    if (doAt < 0) {
      c.unparsed = true;
      return;
    }
    int where = findWordAtDepth0(c, from, doAt, "where");
    if (where >= 0) {
      scan(c, where + 1, doAt);
      functionScan(c, where + 1, doAt);
    }
    int k = doAt + 1;
    if (c.isWord(k, "also") || c.isWord(k, "instead")) {
      k++;
    }
    if (c.isWord(k, "nothing") && k + 1 == n) {
      return;
    }
    if (!c.is(k, "(")) {
      merge(c, analyze(c.sql, c.t.subList(k, n), 1, c.scs));
      return;
    }
    int close = matching(c, k, n);
    if (close != n - 1) {
      c.unparsed = true;
      return;
    }
    // (command; command ...): split at the semicolons between the parentheses
    int start = k + 1;
    int d = 0;
    for (int j = k + 1; j <= close; j++) {
      if (c.is(j, "(")) {
        d++;
      } else if (c.is(j, ")") && j < close) {
        d--;
      } else if (d == 0 && (c.is(j, ";") || j == close)) {
        if (j > start) {
          merge(c, analyze(c.sql, c.t.subList(start, j), 1, c.scs));
        }
        start = j + 1;
      }
    }
  }

  /**
   * CREATE/ALTER PUBLICATION ... TABLE [ONLY] t [*] [(cols)] [WHERE (...)] [, ...]
   * (sql-createpublication.html): every row of t, and every later change, goes to the publication's
   * subscribers, outside the gateway. So t is read. {@code FOR ALL TABLES} and {@code TABLES IN
   * SCHEMA s} name no table: unparsed. CREATE/ALTER SUBSCRIPTION writes local tables named like the
   * publisher's, which the statement does not name either: unparsed.
   */
  private static void publicationTables(Ctx c, int from) {
    if (c.objectType.equals("subscription")) {
      c.unparsed = true;
      return;
    }
    if (!c.objectType.equals("publication")) {
      return;
    }
    int[] end = new int[1];
    int d = 0;
    boolean inTables = false;
    boolean itemStart = false;
    for (int k = from; k < c.t.size(); k++) {
      if (c.is(k, "(")) {
        d++;
      } else if (c.is(k, ")")) {
        d--;
      } else if (d != 0) {
        continue;
      } else if (c.isWord(k, "tables")) {
        c.unparsed = true;
        inTables = false;
        itemStart = false;
      } else if (c.isWord(k, "table")) {
        inTables = true;
        itemStart = true;
      } else if (c.isWord(k, "with")) {
        inTables = false;
      } else if (c.is(k, ",")) {
        itemStart = inTables;
      } else if (itemStart) {
        itemStart = false;
        String name = qualifiedName(c, c.isWord(k, "only") ? k + 1 : k, end);
        if (name != null) {
          c.read.add(name);
          k = end[0] - 1;
        }
      }
    }
  }

  /**
   * {@code ALTER FUNCTION|PROCEDURE|ROUTINE ... SET role|session_authorization = r}
   * (sql-alterfunction.html): every later call of an existing function, perhaps one a policy allows
   * by name, runs its body as r, a SET ROLE for the call's duration (checked on 18.1: after {@code
   * ALTER FUNCTION g() SET role = 'adm'}, {@code SELECT g()} returned adm to a member of adm), so
   * the statement is set_role too, like ALTER ROLE ... SET role. CREATE FUNCTION is a definition
   * whose body is opaque anyway (it may run SET ROLE itself). Only SET at parenthesis depth 0
   * before a {@code BEGIN ATOMIC} body counts.
   */
  private static void routineRoleSetting(Ctx c, int from, int n) {
    int d = 0;
    for (int k = from; k + 1 < n; k++) {
      if (c.is(k, "(")) {
        d++;
      } else if (c.is(k, ")")) {
        d--;
      } else if (d == 0 && c.isWord(k, "begin") && c.isWord(k + 1, "atomic")) {
        return;
      } else if (d == 0
          && c.isWord(k, "set")
          && (isRoleSetting(nameValue(c, k + 1))
              || c.isWord(k + 1, "role")
              || (c.isWord(k + 1, "session") && c.isWord(k + 2, "authorization")))) {
        // also the grammar's set_rest_more forms: SET ROLE r, SET SESSION AUTHORIZATION r
        c.strong.add(SET_ROLE);
      }
    }
  }

  /**
   * CREATE TABLE x PARTITION OF parent / INHERITS (parent, ...) (sql-createtable.html): the
   * parent's scans then return x's rows and its inserts may land in x, and only the parent's owner
   * may do it (checked on 18.1), so the parents are written too.
   */
  private static void parents(Ctx c, int from, int n) {
    int[] end = new int[1];
    if (c.isWord(from, "partition") && c.isWord(from + 1, "of")) {
      String parent = qualifiedName(c, from + 2, end);
      if (parent != null) {
        c.written.add(parent);
      }
    }
    int inherits = findWordAtDepth0(c, from, n, "inherits");
    if (inherits >= 0 && c.is(inherits + 1, "(")) {
      nameList(c, inherits + 2, c.written);
    }
  }

  /**
   * {@code CREATE SCHEMA s [AUTHORIZATION r] element ...}: each element (CREATE TABLE, VIEW, INDEX,
   * SEQUENCE, TRIGGER, GRANT; sql-createschema.html) is a statement that runs now, so each is
   * classified like one and merged. A GRANT element may grant on any existing object, not only on
   * the new schema's (checked on PostgreSQL 18: {@code CREATE SCHEMA s GRANT SELECT ON
   * public.payments TO app} grants it), so the statement is a grant too. An element starts at
   * CREATE or GRANT at parenthesis depth 0 (both are reserved words); a reserved word used as a
   * label inside a view's query only splits an element into pieces that are then unknown.
   */
  private static void schemaElements(Ctx c, int i, int n) {
    int from = -1;
    int depth = 0;
    for (int k = i; k <= n; k++) {
      boolean start = k < n && depth == 0 && (c.isWord(k, "create") || c.isWord(k, "grant"));
      if (start || k == n) {
        if (from >= 0) {
          c.definition = false; // the elements run now
          merge(c, analyze(c.sql, c.t.subList(from, k), 1, c.scs));
        }
        from = k;
      }
      if (c.is(k, "(")) {
        depth++;
      } else if (c.is(k, ")")) {
        depth--;
      }
    }
  }

  private static int findWordAtDepth0(Ctx c, int from, int to, String w) {
    int d = 0;
    for (int k = from; k < to; k++) {
      if (c.is(k, "(")) {
        d++;
      } else if (c.is(k, ")")) {
        d--;
      } else if (d == 0 && c.isWord(k, w)) {
        return k;
      }
    }
    return -1;
  }

  private static void alter(Ctx c) {
    c.base = ALTER;
    int i = objectType(c, 1);
    if (c.objectType == null) {
      c.unknown();
      return;
    }
    if (DEFINITION_PREFIX.contains(c.objectType)) {
      // ALTER FUNCTION f(varchar) RENAME TO lower, ALTER FUNCTION app.lower(varchar) SET SCHEMA
      // public: a shadow of a built-in made from an existing function (see shadowsBuiltin)
      int to = findWordAtDepth0(c, i, c.t.size(), "rename");
      boolean renamed = to >= 0 && c.isWord(to + 1, "to") && shadowsBuiltin(c, to + 2);
      int schema = findWordAtDepth0(c, i, c.t.size(), "schema");
      boolean moved =
          schema > 0
              && c.isWord(schema - 1, "set")
              && shadowsBuiltin(c, i)
              && !c.isWord(schema + 1, "pg_catalog");
      if (renamed || moved) {
        c.unknown();
        return;
      }
      alteredRoutine(c, i);
    }
    ownerTo(c, i);
    boundFunctions(c, i, c.t.size());
    if (c.objectType.equals("operator")) {
      // ALTER OPERATOR … SET SCHEMA public moves one in front of a built-in (see create)
      int schema = findWordAtDepth0(c, i, c.t.size(), "schema");
      if (schema > 0 && c.isWord(schema - 1, "set") && !c.isWord(schema + 1, "pg_catalog")) {
        c.unknown();
        return;
      }
    }
    if (RELATIONS.contains(c.objectType)) {
      if (c.isWord(i, "if") && c.isWord(i + 1, "exists")) {
        i += 2;
      }
      if (c.isWord(i, "only")) {
        i++;
      }
      int[] end = new int[1];
      String name = qualifiedName(c, i, end);
      if (name != null && !(name.equals("all") && c.isWord(end[0], "in"))) {
        c.written.add(name);
      } else {
        c.unparsed = true; // ALTER TABLE ALL IN TABLESPACE t: every table there, none named
      }
      // ALTER TABLE x [NO] INHERIT parent: the parent's scans and inserts change (sql-altertable)
      int inherit = findWordAtDepth0(c, i, c.t.size(), "inherit");
      String parent = inherit < 0 ? null : qualifiedName(c, inherit + 1, end);
      if (parent != null) {
        c.written.add(parent);
      }
      // Statements after which x's rows are read under another name (sql-altertable): ALTER …
      // x RENAME TO y, ALTER … x SET SCHEMA s, ALTER TABLE x INHERIT p (a scan of p returns x's
      // rows; ddl-inherit.html). Like CREATE TABLE y AS TABLE x they hand x's rows to later
      // statements that do not name x, so x is read too, and a deny of reading x matches them
      // (red team rt20: a principal allowed ddl renamed the denied customers and read the result).
      int rename = findWordAtDepth0(c, i, c.t.size(), "rename");
      int schema = findWordAtDepth0(c, i, c.t.size(), "schema");
      if (name != null
          && ((rename >= 0 && c.isWord(rename + 1, "to"))
              || (schema > 0 && c.isWord(schema - 1, "set"))
              || (parent != null && !c.isWord(inherit - 1, "no")))) {
        c.read.add(name);
      }
      // ALTER TABLE parent ATTACH|DETACH PARTITION child (sql-altertable): the child's rows become
      // (or stop being) rows of the parent's scans, and only the child's owner may do it
      for (String w : new String[] {"attach", "detach"}) {
        int at = findWordAtDepth0(c, i, c.t.size(), w);
        String child =
            at >= 0 && c.isWord(at + 1, "partition") ? qualifiedName(c, at + 2, end) : null;
        if (child != null) {
          c.written.add(child);
          if (w.equals("attach")) {
            c.read.add(child); // a scan of the parent returns its rows (see RENAME above)
          }
        }
      }
    }
    if (c.objectType.equals("table") || c.objectType.equals("foreign_table")) {
      referencedTables(c, i, c.t.size());
    }
    if (c.objectType.equals("default_privileges")) {
      defaultPrivileges(c, i);
      return;
    }
    if (c.objectType.equals("schema")) {
      // ALTER SCHEMA s RENAME TO t (sql-alterschema.html): every table of s is read and written as
      // t.* afterwards, names no rule about s.* knows; the statement names none of them, so every
      // table (red team rt20: a deny of billing.* passed it, then b2.ledger was read).
      int rename = findWordAtDepth0(c, i, c.t.size(), "rename");
      if (rename >= 0 && c.isWord(rename + 1, "to")) {
        c.read.add(Attr.ANY_TABLE);
        c.written.add(Attr.ANY_TABLE);
      }
    }
    publicationTables(c, i);
    onTable(c, i);
    // ALTER TABLE ... ADD COLUMN c DEFAULT f() / ALTER COLUMN TYPE ... USING f() evaluate f now.
    functionScan(c, i, c.t.size());
    serverCodeSettings(c, i);
    // ALTER ROLE/USER/DATABASE/SYSTEM ... SET client_encoding: later sessions would start in an
    // encoding whose characters can hide a backslash from the gateway (see lexingSetting).
    // ALTER ROLE/DATABASE/SYSTEM ... SET search_path behind pg_catalog: later sessions would
    // call user functions for unqualified built-in names (see keepsCatalogFirst).
    for (int k = i; k + 1 < c.t.size(); k++) {
      String setting = c.isWord(k, "set") ? nameValue(c, k + 1) : null;
      // ALTER ROLE/DATABASE ... SET SCHEMA 'x' is SET search_path TO 'x' (SET's alias)
      boolean schemaAlias =
          c.isWord(k + 1, "schema") && k + 2 < c.t.size() && c.t.get(k + 2).isString();
      if (isSearchPath(setting) || schemaAlias) {
        if (!keepsCatalogFirst(c, k + 2, new ArrayList<>())) {
          c.unknown();
        }
        return;
      }
      if (setting != null && PgLexer.foldCase(setting).equals("client_encoding")) {
        int v = k + 2;
        if (c.is(v, "=") || c.isWord(v, "to")) {
          v++;
        }
        PgToken val = v < c.t.size() ? c.t.get(v) : null;
        boolean ok =
            val != null
                && v + 1 == c.t.size()
                && (val.isWord("default")
                    || ((val.isString() || val.kind() == Kind.IDENT)
                        && PgStartupParams.safeClientEncoding(val.value())));
        if (!ok) {
          c.unknown();
        }
        return;
      }
    }
  }

  /**
   * {@code ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s] {GRANT | REVOKE} … ON {TABLES |
   * SEQUENCES | FUNCTIONS | ROUTINES | TYPES | SCHEMAS} …} (sql-alterdefaultprivileges.html) grants
   * or revokes privileges on every object of that type the role creates later: it is a GRANT or
   * REVOKE as well as an alter ({@code kinds} [alter, grant]), so that a rule denying or reviewing
   * {@code privileges} matches it and one allowing {@code ddl} alone does not (red team rt20:
   * {@code ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO PUBLIC} passed as an alter, and every
   * table the upstream role created afterwards was everyone's). On tables and sequences it names
   * none of them: every table ({@link Attr#ANY_TABLE}) is written, as a GRANT on it writes a table.
   */
  private static void defaultPrivileges(Ctx c, int from) {
    int n = c.t.size();
    int grant = findWordAtDepth0(c, from, n, "grant");
    int revoke = findWordAtDepth0(c, from, n, "revoke");
    int at = grant < 0 ? revoke : revoke < 0 ? grant : Math.min(grant, revoke);
    if (at < 0) {
      c.unknown();
      return;
    }
    c.also.add(at == grant ? GRANT : REVOKE);
    int on = findWordAtDepth0(c, at, n, "on");
    String what = on < 0 ? null : c.word(on + 1);
    if (what == null) {
      c.unparsed = true;
    } else if (what.equals("tables") || what.equals("sequences")) {
      c.written.add(Attr.ANY_TABLE);
    }
  }

  /**
   * Settings whose value is a shell command the server runs (runtime-config-wal.html
   * #GUC-ARCHIVE-COMMAND, #GUC-RESTORE-COMMAND, runtime-config-connection.html
   * #GUC-SSL-PASSPHRASE-COMMAND): setting one with ALTER SYSTEM is COPY ... PROGRAM with a delay.
   */
  private static final Set<String> COMMAND_SETTINGS =
      Set.of(
          "archive_command",
          "restore_command",
          "archive_cleanup_command",
          "recovery_end_command",
          "ssl_passphrase_command");

  /**
   * Settings that name shared libraries the server loads into later sessions or at start
   * (runtime-config-client.html#RUNTIME-CONFIG-CLIENT-PRELOAD, archive_library, jit_provider): LOAD
   * with a delay, so unknown like LOAD.
   */
  private static final Set<String> LIBRARY_SETTINGS =
      Set.of(
          "shared_preload_libraries",
          "session_preload_libraries",
          "local_preload_libraries",
          "archive_library",
          "dynamic_library_path",
          "jit_provider");

  /**
   * {@code ALTER SYSTEM/ROLE/USER/DATABASE ... SET} of a {@link #COMMAND_SETTINGS} setting is
   * copy_program, of a {@link #LIBRARY_SETTINGS} one unknown, of role or session_authorization
   * set_role (GUC names compare case-insensitively, quoted or not).
   */
  private static void serverCodeSettings(Ctx c, int i) {
    switch (c.objectType) {
      case "system", "role", "user", "database" -> {}
      case "function", "procedure", "routine" -> {
        routineRoleSetting(c, i, c.t.size());
        return;
      }
      default -> {
        return;
      }
    }
    for (int k = i; k + 1 < c.t.size(); k++) {
      String setting = c.isWord(k, "set") ? nameValue(c, k + 1) : null;
      if (setting != null) {
        String n = PgLexer.foldCase(setting);
        if (COMMAND_SETTINGS.contains(n)) {
          c.strong.add(COPY_PROGRAM);
        } else if (LIBRARY_SETTINGS.contains(n)) {
          c.strong.add(UNKNOWN);
        } else if (isRoleSetting(n)) {
          // ALTER ROLE app SET role = 'adm': app's later sessions start as adm (checked on 18.1)
          c.strong.add(SET_ROLE);
        }
      }
    }
  }

  private static void drop(Ctx c) {
    c.base = DROP;
    int i = 1;
    int j = objectType(c, i);
    if (c.objectType == null) {
      c.unknown();
      return;
    }
    if (c.isWord(j, "concurrently")) {
      j++;
    }
    if (RELATIONS.contains(c.objectType)) {
      nameList(c, j, c.written);
    }
    onTable(c, j);
    if (c.objectType.equals("owned") || cascades(c)) {
      // DROP OWNED drops every table the role owns. CASCADE also drops what depends on the object,
      // table columns included (checked on 18.1: DROP TYPE mood CASCADE drops every column of type
      // mood, DROP SCHEMA s CASCADE its tables; a table's row type can be a column type too). Which
      // tables lose data is not known here, so table rules cannot judge it: unparsed.
      c.unparsed = true;
    }
  }

  /**
   * DROP/ALTER POLICY|TRIGGER|RULE name ON table (sql-droppolicy.html, sql-altertrigger.html...):
   * the table whose row security, triggers or rules change is written, as for CREATE.
   */
  private static void onTable(Ctx c, int from) {
    switch (c.objectType) {
      case "policy", "trigger", "rule" -> {}
      default -> {
        return;
      }
    }
    int on = findWordAtDepth0(c, from, c.t.size(), "on");
    int[] end = new int[1];
    String name = on < 0 ? null : qualifiedName(c, on + 1, end);
    if (name != null) {
      c.written.add(name);
    } else {
      c.unparsed = true;
    }
  }

  /**
   * DROP/TRUNCATE ... CASCADE (sql-droptable.html, sql-truncate.html: "automatically truncate all
   * tables that have foreign-key references to any of the named tables").
   */
  private static boolean cascades(Ctx c) {
    return findWordAtDepth0(c, 1, c.t.size(), "cascade") >= 0;
  }

  // ---------------------------------------------------------------------------------------------
  // JSqlParser enrichment

  /**
   * Adds JSqlParser's view of tables and functions for the query in [from, to). Returns false when
   * JSqlParser could not parse it. Parsed directly on this thread (no executor, unlike
   * CCJSqlParserUtil.parse): bounded by {@link #MAX_PARSER_INPUT} and {@link #MAX_PARSER_NESTING}.
   */
  private static boolean enrich(Ctx c, int from, int to) {
    if (from >= to) {
      return false;
    }
    String text = parserText(c, from, to);
    if (text.length() > MAX_PARSER_INPUT || maxDepth(c.t, from, to) > MAX_PARSER_NESTING) {
      return false;
    }
    Statement st = parse(text, false);
    if (st == null) {
      st = parse(text, true);
    }
    if (st == null) {
      return false;
    }
    String parserKind = parserKind(st);
    if (parserKind != null) {
      // Cross-check: if JSqlParser sees a write we did not, believe the more dangerous reading.
      c.strong.add(parserKind);
    }
    try {
      Finder f = new Finder();
      Set<String> tables = f.getTables(st);
      for (String name : tables) {
        if (name != null && !c.written.contains(name) && !f.dmlItems.contains(name)) {
          addTable(c, name, c.read, -1);
        }
      }
      for (String fn : f.functions) {
        String simple = fn.substring(fn.lastIndexOf('.') + 1);
        if (fn.indexOf('.') >= 0
            || (!NOT_FUNCTIONS.contains(simple) && !TYPE_NAMES.contains(simple))) {
          c.functions.add(fn);
        }
      }
      return true;
    } catch (RuntimeException | StackOverflowError e) {
      return false;
    }
  }

  /**
   * The statement's text for JSqlParser, without two PostgreSQL spellings it cannot read and that
   * name no table: {@code OPERATOR(schema.op)} becomes {@code =} and {@code COLLATE name} is
   * dropped
   * (https://www.postgresql.org/docs/current/sql-expressions.html#SQL-EXPRESSIONS-OPERATOR-CALLS,
   * #SQL-SYNTAX-COLLATE-EXPRS). psql's catalog queries use both inside derived tables (\dd), which
   * would otherwise be unparsed. The token scan, not this text, decides the kind and sees the
   * operator's schema.
   */
  private static String parserText(Ctx c, int from, int to) {
    int start = c.t.get(from).start();
    int end = c.t.get(to - 1).end();
    StringBuilder b = null;
    int copied = start;
    for (int i = from; i < to; i++) {
      PgToken tok = c.t.get(i);
      int skipTo = -1;
      String with = null;
      if (tok.isWord("operator") && c.is(i + 1, "(")) {
        int close = matching(c, i + 1, to);
        if (close > 0) {
          skipTo = close;
          with = " = ";
        }
      } else if (tok.isWord("collate") && i + 1 < to && c.t.get(i + 1).isName()) {
        int j = i + 1;
        while (j + 2 < to && c.is(j + 1, ".") && c.t.get(j + 2).isName()) {
          j += 2;
        }
        skipTo = j;
        with = " ";
      }
      if (skipTo < 0) {
        continue;
      }
      if (b == null) {
        b = new StringBuilder(end - start);
      }
      b.append(c.sql, copied, tok.start()).append(with);
      copied = c.t.get(skipTo).end();
      i = skipTo;
    }
    if (b == null) {
      return c.sql.substring(start, end);
    }
    return b.append(c.sql, copied, end).toString();
  }

  /**
   * The kind JSqlParser's tree implies, when it is a write (or not a query at all: unknown); null
   * for a plain query. Data-modifying WITH items count.
   */
  private static String parserKind(Statement st) {
    if (st instanceof Select sel) {
      List<WithItem<?>> with = sel.getWithItemsList();
      String k = null;
      if (with != null) {
        for (WithItem<?> w : with) {
          Object p = w.getParenthesedStatement();
          String wk =
              p instanceof ParenthesedInsert
                  ? INSERT
                  : p instanceof ParenthesedUpdate
                      ? UPDATE
                      : p instanceof ParenthesedDelete ? DELETE : null;
          if (wk != null) {
            k = k == null ? wk : worse(k, wk);
          }
        }
      }
      return k;
    }
    if (st instanceof Insert) {
      return INSERT;
    }
    if (st instanceof Update) {
      return UPDATE;
    }
    if (st instanceof Delete) {
      return DELETE;
    }
    if (st instanceof Merge) {
      return MERGE;
    }
    return UNKNOWN;
  }

  private static Statement parse(String text, boolean complex) {
    try {
      CCJSqlParser p = CCJSqlParserUtil.newParser(text).withAllowComplexParsing(complex);
      return p.Statement();
    } catch (Exception | StackOverflowError e) {
      return null;
    } catch (Error e) {
      if (e instanceof VirtualMachineError) {
        throw e;
      }
      return null; // javacc TokenMgrError
    }
  }

  /** Normalises a name as JSqlParser prints it ({@code "My".tab}) the way PostgreSQL would. */
  static String normalizeName(String printed) {
    if (printed == null) {
      return null;
    }
    PgLexer.Result r = PgLexer.lex(printed, true);
    if (r.ok() && !r.tokens().isEmpty()) {
      Ctx c = new Ctx(printed, r.tokens());
      int[] end = new int[1];
      String name = qualifiedName(c, 0, end);
      if (name != null && end[0] == r.tokens().size()) {
        return name;
      }
    }
    return PgLexer.foldCase(printed);
  }

  private static final class Finder extends TablesNamesFinder<Void> {
    final Set<String> functions = new LinkedHashSet<>();

    /** The names of data-modifying WITH items, which name no table (as a SELECT item's do not). */
    final Set<String> dmlItems = new HashSet<>();

    /**
     * A data-modifying WITH item ({@code WITH d AS (DELETE … RETURNING *) SELECT …}): JSqlParser
     * 5.3 parses it, but TablesNamesFinder's visit casts every item to a select and throws
     * (ClassCastException in WithItem.getSelect), which left every such statement unparsed, so that
     * a review rule for writes could not hold it (red team rt19, fixed rt20). Its statement is
     * visited as a statement instead; its name is left out of the tables afterwards, as the finder
     * leaves out a SELECT item's name. The token scan, which reads the item's scope by position,
     * still reports a table of that name read where the name is not yet the item's.
     */
    @Override
    public <S> Void visit(WithItem<?> item, S context) {
      Object p = item.getParenthesedStatement();
      if (p instanceof ParenthesedDelete
          || p instanceof ParenthesedInsert
          || p instanceof ParenthesedUpdate) {
        if (item.getAlias() == null || item.getAlias().getName() == null) {
          throw new IllegalStateException("a WITH item without a name");
        }
        String name = normalizeName(item.getAlias().getName());
        dmlItems.add(name == null ? PgLexer.foldCase(item.getAlias().getName()) : name);
        ((Statement) p).accept(this, context);
        return null;
      }
      return super.visit(item, context);
    }

    @Override
    public <S> Void visit(Function function, S context) {
      String n = function.getName();
      if (n != null) {
        String name = normalizeName(n);
        functions.add(name == null ? PgLexer.foldCase(n) : PgLexer.foldCase(name));
      }
      return super.visit(function, context);
    }

    @Override
    protected String extractTableName(Table table) {
      String printed = table.getFullyQualifiedName();
      // JSqlParser reads MERGE ... USING (TABLE x) as a table called TABLE aliased x. TABLE is a
      // reserved key word in PostgreSQL (sql-keywords-appendix.html): unquoted it is never a table
      // name, and the token scan reports x.
      if (printed != null && printed.equalsIgnoreCase("table")) {
        return null;
      }
      return normalizeName(printed);
    }
  }
}
