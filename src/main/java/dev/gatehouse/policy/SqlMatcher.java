package dev.gatehouse.policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * {@code sql:} matcher: statement kinds (and named groups of kinds), object types, tables,
 * functions and WHERE clauses.
 *
 * <p>An {@code unknown} or {@code unparsed} statement is the most dangerous kind: an allow or
 * review rule matches it only when it lists {@code unknown} or {@code "*"} (and has no table or
 * function constraints, since nobody knows what it touches); every deny rule with an {@code sql:}
 * matcher matches it.
 */
final class SqlMatcher implements KindMatcher {
  static final List<String> KEYS =
      List.of(
          "statements", "object_types", "tables", "tables_written", "functions", "require_where");

  /** Statement kinds produced by the SQL classifier ({@link Action.Attr#SQL_KIND}). */
  static final Set<String> KINDS =
      Set.of(
          "select",
          "insert",
          "update",
          "delete",
          "merge",
          "create",
          "alter",
          "drop",
          "truncate",
          "grant",
          "revoke",
          "copy_in",
          "copy_out",
          "copy_program",
          "set",
          "reset",
          "set_role",
          "transaction",
          "prepared_transaction",
          "explain",
          "prepare",
          "execute",
          "deallocate",
          "do",
          "call",
          "maintenance",
          "lock",
          "listen",
          "notify",
          "unlisten",
          "show",
          "discard",
          "cursor",
          "comment",
          "unknown");

  /**
   * Named groups usable in {@code statements:}. They contain only kinds whose effect is what the
   * name says; {@code copy_program}, {@code do}, {@code call}, {@code execute} run arbitrary code
   * and belong to no group, nor does {@code prepared_transaction} (COMMIT/ROLLBACK PREPARED finish
   * another session's transaction).
   */
  static final Map<String, List<String>> GROUPS = groups();

  private static Map<String, List<String>> groups() {
    Map<String, List<String>> g = new LinkedHashMap<>();
    g.put("read", List.of("select", "show", "explain", "copy_out", "cursor"));
    g.put("write", List.of("insert", "update", "delete", "merge", "copy_in", "truncate"));
    g.put("ddl", List.of("create", "alter", "drop", "comment"));
    g.put("privileges", List.of("grant", "revoke", "set_role"));
    g.put(
        "session",
        List.of("set", "reset", "transaction", "discard", "deallocate", "prepare", "show"));
    return Map.copyOf(g);
  }

  private static final Set<String> WITH_OBJECT_TYPE = Set.of("create", "alter", "drop");
  private static final Set<String> WITH_WHERE = Set.of("update", "delete");

  private final boolean all;
  private final Set<String> statements; // null = any known kind
  private final String statementsText;
  private final Set<String> objectTypes;
  private final List<Glob> tables;
  private final List<Glob> tablesWritten;
  private final List<Glob> functions;
  private final boolean requireWhere;

  // For deny and review rules: what a bare name must match to be, in some schema, a name of the
  // rule (see anySchema); null where the rule has no such constraint.
  private final List<Glob> tablesAnySchema;
  private final List<Glob> tablesWrittenAnySchema;
  private final List<Glob> functionsAnySchema;

  private SqlMatcher(
      boolean all,
      Set<String> statements,
      String statementsText,
      Set<String> objectTypes,
      List<Glob> tables,
      List<Glob> tablesWritten,
      List<Glob> functions,
      boolean requireWhere) {
    this.all = all;
    this.statements = statements;
    this.statementsText = statementsText;
    this.objectTypes = objectTypes;
    this.tables = tables;
    this.tablesWritten = tablesWritten;
    this.functions = functions;
    this.requireWhere = requireWhere;
    this.tablesAnySchema = anySchema(tables);
    this.tablesWrittenAnySchema = anySchema(tablesWritten);
    this.functionsAnySchema = anySchema(functions);
  }

  static SqlMatcher parse(YamlReader r, Node node, String path, Effect effect) {
    Map<String, Node> m = r.mapping(node, path, KEYS);
    if (m == null) {
      return null;
    }
    boolean all = false;
    Set<String> statements = null;
    String statementsText = "any known kind";
    if (m.containsKey("statements")) {
      List<String> names = r.strings(m.get("statements"), path + ".statements");
      if (names != null) {
        statements = new LinkedHashSet<>();
        statementsText = names.toString();
        for (String raw : names) {
          String name = raw.trim().toLowerCase(Locale.ROOT);
          if (name.equals("*")) {
            all = true;
          } else if (GROUPS.containsKey(name)) {
            statements.addAll(GROUPS.get(name));
          } else if (KINDS.contains(name)) {
            statements.add(name);
          } else {
            r.error(
                m.get("statements"),
                path + ".statements",
                "\""
                    + raw
                    + "\" (expected \"*\", a group ("
                    + String.join(", ", GROUPS.keySet())
                    + ") or a statement kind such as select, insert, update, delete, create,"
                    + " drop, unknown)");
          }
        }
        if (names.isEmpty()) {
          r.error(m.get("statements"), path + ".statements", "empty list (expected kinds or *)");
        }
      }
    }
    Set<String> objectTypes = null;
    if (m.containsKey("object_types")) {
      List<String> types = r.strings(m.get("object_types"), path + ".object_types");
      if (types != null) {
        objectTypes = new LinkedHashSet<>();
        for (String t : types) {
          objectTypes.add(t.toLowerCase(Locale.ROOT));
        }
      }
    }
    boolean requireWhere = false;
    if (m.containsKey("require_where")) {
      Boolean b = r.bool(m.get("require_where"), path + ".require_where");
      requireWhere = Boolean.TRUE.equals(b);
      if (requireWhere && effect == Effect.DENY) {
        r.error(
            m.get("require_where"),
            path + ".require_where",
            "not allowed on a deny rule (it would exempt statements without WHERE from the"
                + " deny; put it on the allow or review rule, then UPDATE/DELETE without WHERE"
                + " falls to the default deny)");
      }
    }
    return new SqlMatcher(
        all,
        statements == null ? null : Set.copyOf(statements),
        statementsText,
        objectTypes == null ? null : Set.copyOf(objectTypes),
        globs(r, m.get("tables"), path + ".tables"),
        globs(r, m.get("tables_written"), path + ".tables_written"),
        globs(r, m.get("functions"), path + ".functions"),
        requireWhere);
  }

  static List<Glob> globs(YamlReader r, Node n, String path) {
    if (n == null) {
      return null;
    }
    List<String> items = r.strings(n, path);
    if (items == null) {
      return null;
    }
    List<Glob> out = new ArrayList<>();
    for (String s : items) {
      try {
        out.add(Glob.compile(s, false, true));
      } catch (IllegalArgumentException e) {
        r.error(n, path, e.getMessage());
      }
    }
    return List.copyOf(out);
  }

  @Override
  public ActionKind kind() {
    return ActionKind.SQL;
  }

  /** True when the rule names {@code unknown} or {@code *}, the only way to allow such SQL. */
  boolean allowsUnknown() {
    return all || (statements != null && statements.contains("unknown"));
  }

  @Override
  public String mismatch(Action action, Effect effect) {
    return mismatch(action, effect, null);
  }

  /** Whether {@code statements:} names {@code kind} (or every kind). */
  boolean lists(String kind) {
    return all || statements == null || statements.contains(kind);
  }

  /**
   * Whether this (deny or review) rule is about reading tables, and {@code action} reads some: the
   * rule lists select (as the group read does) and has {@code tables}.
   */
  private boolean readsHere(Action action) {
    return tables != null
        && statements != null
        && statements.contains("select")
        && !action.list(Action.Attr.SQL_TABLES_READ).isEmpty();
  }

  /** {@code action} as the read it does: a select of its read tables, writing nothing. */
  private static Action readPart(Action action) {
    return action
        .with(Action.Attr.SQL_KIND, "select")
        .with(Action.Attr.SQL_KINDS, List.of("select"))
        .with(Action.Attr.SQL_TABLES_WRITTEN, List.of());
  }

  /**
   * As {@link #mismatch(Action, Effect)}, but when {@code onlyKind} is not null the statement's
   * kinds are checked only for that one: whether this rule admits that part of a statement that
   * does several things, everything else (tables, functions, object types, require_where) checked
   * as for the whole statement (see {@link PolicySet}, a review rule holds a statement only when
   * every kind it performs is admitted by some allow or review rule).
   */
  String mismatch(Action action, Effect effect, String onlyKind) {
    String kind = action.string(Action.Attr.SQL_KIND);
    boolean dangerous =
        kind == null
            || kind.equals("unknown")
            || action.flag(Action.Attr.SQL_UNPARSED)
            || !KINDS.contains(kind);
    boolean deny = effect == Effect.DENY;
    if (dangerous) {
      if (deny) {
        return null; // the most dangerous kind falls under every deny rule about SQL
      }
      if (!allowsUnknown()) {
        return "statement is "
            + (kind == null ? "missing" : kind)
            + (action.flag(Action.Attr.SQL_UNPARSED) ? " (unparsed)" : "")
            + ": only a rule listing unknown or \"*\" can "
            + (effect == Effect.REVIEW ? "review" : "allow")
            + " it";
      }
      if (tables != null || tablesWritten != null || functions != null) {
        return "the tables and functions of an unparsed statement are not known";
      }
      return null;
    }
    List<String> kinds = kinds(action, kind);
    if (onlyKind != null) {
      if (!lists(onlyKind)) {
        return "statement kind " + onlyKind + " is not in " + statementsText;
      }
    } else if (!all && statements != null) {
      // Allow: every kind the statement performs must be listed (an upsert needs insert and
      // update). Deny and review: any one is enough, so that an upsert falls under a rule that
      // denies or reviews update, whatever else allows inserts (deny > review > allow). A review
      // rule that matches so holds the statement only if its other kinds are admitted too
      // (PolicySet#otherParts); otherwise it is denied by default.
      boolean anyKind = deny || effect == Effect.REVIEW;
      String missing = null;
      boolean anyListed = false;
      for (String k : kinds) {
        if (statements.contains(k)) {
          anyListed = true;
        } else if (missing == null) {
          missing = k;
        }
      }
      if (anyKind ? !anyListed : missing != null) {
        if (anyKind && readsHere(action)) {
          // A deny or review of reading a table matches every statement that reads it, whatever
          // its kind: CREATE TABLE x AS SELECT … FROM t ([create]) and INSERT INTO s.x SELECT …
          // FROM t ([insert]) copy t's rows where a later SELECT reads them (red team rt19 for
          // deny, rt20 for review). Judged as the read alone: its read tables, not what it
          // writes. A review rule that matches so holds the statement only if its kinds (which
          // the rule does not list) and the tables it does not name are admitted by other rules
          // (PolicySet#otherParts), as for any part it is not about.
          return mismatch(readPart(action), effect, null);
        }
        return "statement "
            + (anyKind || missing.equals(kind) ? kind : kind + " (also " + missing + ")")
            + " is not in "
            + statementsText;
      }
    }
    if (objectTypes != null && anyOf(kinds, WITH_OBJECT_TYPE)) {
      String type = action.string(Action.Attr.SQL_OBJECT_TYPE);
      boolean in = type != null && objectTypes.contains(type.toLowerCase(Locale.ROOT));
      // A deny rule still matches when the classifier could not tell the type (fail closed).
      if (!in && (!deny || type != null)) {
        return "object type " + type + " is not in " + objectTypes;
      }
    }
    // Tables and functions, like kinds: an allow rule must cover all of them; a deny or review
    // rule matches on any one, so that joining a reviewed table with another does not skip the
    // review and fall through to a broader allow rule. A review rule that matches so holds the
    // statement only if the tables and functions it does not cover are admitted too
    // (PolicySet#otherParts).
    boolean any = deny || effect == Effect.REVIEW;
    List<String> path =
        any && (tables != null || tablesWritten != null || functions != null)
            ? action.list(Action.Attr.SQL_SEARCH_PATH)
            : List.of();
    if (tables != null) {
      List<String> read = action.list(Action.Attr.SQL_TABLES_READ);
      List<String> written = action.list(Action.Attr.SQL_TABLES_WRITTEN);
      String why =
          any
              ? anyMatch(tables, tablesAnySchema, path, read, written)
              : allMatch(tables, read, written);
      if (why != null) {
        return why.isEmpty()
            ? "no table matches " + tables
            : "table " + why + " is not in " + tables;
      }
    }
    if (tablesWritten != null) {
      List<String> written = action.list(Action.Attr.SQL_TABLES_WRITTEN);
      String why =
          any
              ? anyMatch(tablesWritten, tablesWrittenAnySchema, path, written, List.of())
              : allMatch(tablesWritten, written, List.of());
      if (why != null) {
        return why.isEmpty()
            ? "no written table matches " + tablesWritten
            : "written table " + why + " is not in " + tablesWritten;
      }
    }
    if (functions != null) {
      List<String> fns = action.list(Action.Attr.SQL_FUNCTIONS);
      String why =
          any
              ? anyMatch(functions, functionsAnySchema, path, fns, List.of())
              : allMatch(functions, fns, List.of());
      if (why != null) {
        return why.isEmpty()
            ? "no function matches " + functions
            : "function " + why + " is not in " + functions;
      }
    }
    if (requireWhere && anyOf(kinds, WITH_WHERE) && !action.flag(Action.Attr.SQL_HAS_WHERE)) {
      return kind + " without WHERE (the rule has require_where: true)";
    }
    return null;
  }

  /**
   * The tables {@code action} touches that this (review) rule's table constraints do not cover,
   * each as the action narrowed to that table ({@link #only}); empty when the rule has no table
   * constraint. A read table is covered by {@code tables}; a written one by {@code tables} and
   * {@code tables_written} (a constraint the rule lacks covers every table, as on an allow rule).
   * Names are read as {@link #anyTable} reads them, so a single-table statement that the rule
   * matches is covered; {@link Action.Attr#ANY_TABLE} (every table) only by a glob matching {@code
   * *}, as on an allow rule. See {@link PolicySet}: a review rule holds a statement only when
   * another rule admits every table it does not cover.
   */
  List<Action> uncoveredTables(Action action) {
    if (tables == null && tablesWritten == null) {
      return List.of();
    }
    List<String> path = action.list(Action.Attr.SQL_SEARCH_PATH);
    List<String> read = action.list(Action.Attr.SQL_TABLES_READ);
    List<String> written = action.list(Action.Attr.SQL_TABLES_WRITTEN);
    List<Action> out = new ArrayList<>(2);
    Set<String> seen = new LinkedHashSet<>();
    for (List<String> names : List.of(read, written)) {
      for (int i = 0; i < names.size(); i++) {
        String t = names.get(i);
        if (!seen.add(t)) {
          continue;
        }
        boolean r = read.contains(t);
        boolean w = written.contains(t);
        boolean covered =
            covers(tables, tablesAnySchema, path, t)
                && (!w || covers(tablesWritten, tablesWrittenAnySchema, path, t));
        if (!covered) {
          out.add(only(action, t, r, w));
        }
      }
    }
    return out;
  }

  private static boolean covers(
      List<Glob> globs, List<Glob> anySchema, List<String> path, String t) {
    if (globs == null) {
      return true;
    }
    return t.equals(Action.Attr.ANY_TABLE) ? any(globs, t) : anyTable(globs, anySchema, path, t);
  }

  /** {@code action} as if it touched only table {@code t} (read and/or written as it does). */
  private static Action only(Action action, String t, boolean read, boolean written) {
    return action
        .with(Action.Attr.SQL_TABLES_READ, read ? List.of(t) : List.of())
        .with(Action.Attr.SQL_TABLES_WRITTEN, written ? List.of(t) : List.of());
  }

  /** The one table of an action built by {@link #uncoveredTables}. */
  static String onlyTable(Action only) {
    List<String> read = only.list(Action.Attr.SQL_TABLES_READ);
    return read.isEmpty() ? only.list(Action.Attr.SQL_TABLES_WRITTEN).get(0) : read.get(0);
  }

  /**
   * The functions {@code action} calls that this (review) rule's {@code functions} do not cover,
   * each as the action calling only that function (its {@code functions} attribute, which is what
   * matchers read; {@link #onlyFunction}); empty when the rule has no {@code functions}. Names are
   * read as {@link #anyTable} reads them, so a statement calling one function the rule matches is
   * covered. Read-only built-ins are parts too, but {@link PolicySet} counts them as admitted
   * ({@link #readOnly}): they change nothing, and {@code SELECT my_fn(), now()} needs no rule
   * allowing now; yet a review rule naming now still reviews its part, so that which of two review
   * rules comes first in the file does not decide whose reviewers the statement gets. A function
   * whose effect decides the kind ({@code lo_export}, {@code pg_read_file}) is no read-only one: a
   * rule reviewing my_fn without {@code statements} lists copy_program, but is no rule about server
   * files. See {@link PolicySet}: a review rule holds a statement only when another rule admits
   * every function it does not cover.
   */
  List<Action> uncoveredFunctions(Action action) {
    if (functions == null) {
      return List.of();
    }
    List<String> path = action.list(Action.Attr.SQL_SEARCH_PATH);
    List<Action> out = new ArrayList<>(2);
    for (String f : new LinkedHashSet<>(action.list(Action.Attr.SQL_FUNCTIONS))) {
      if (!anyTable(functions, functionsAnySchema, path, f)) {
        out.add(action.with(Action.Attr.SQL_FUNCTIONS, List.of(f)));
      }
    }
    return out;
  }

  /**
   * Whether the one function of {@code only} ({@link #uncoveredFunctions}) is a read-only built-in
   * of the statement ({@link Action.Attr#SQL_READ_ONLY_FUNCTIONS}, and not opaque).
   */
  static boolean readOnly(Action only) {
    String f = onlyFunction(only);
    return only.list(Action.Attr.SQL_READ_ONLY_FUNCTIONS).contains(f)
        && !only.list(Action.Attr.SQL_OPAQUE_FUNCTIONS).contains(f);
  }

  /** Whether this rule's {@code functions} name the one function of {@code only}. */
  boolean names(Action only) {
    return functions != null
        && anyTable(
            functions,
            functionsAnySchema,
            only.list(Action.Attr.SQL_SEARCH_PATH),
            onlyFunction(only));
  }

  /** The one function of an action built by {@link #uncoveredFunctions}. */
  static String onlyFunction(Action only) {
    return only.list(Action.Attr.SQL_FUNCTIONS).get(0);
  }

  /** Every table the statement reads or writes, each once, in the order reported. */
  static List<String> tables(Action action) {
    Set<String> all = new LinkedHashSet<>(action.list(Action.Attr.SQL_TABLES_READ));
    all.addAll(action.list(Action.Attr.SQL_TABLES_WRITTEN));
    return List.copyOf(all);
  }

  /**
   * The kinds the statement performs: the classifier's {@link Action.Attr#SQL_KINDS} list (an
   * upsert is [update, insert]), or just the kind for actions that do not carry it (policy tests,
   * other protocols).
   */
  static List<String> kinds(Action action) {
    return kinds(action, action.string(Action.Attr.SQL_KIND));
  }

  private static List<String> kinds(Action action, String kind) {
    List<String> listed = action.list(Action.Attr.SQL_KINDS);
    if (listed.isEmpty()) {
      return List.of(kind);
    }
    if (listed.contains(kind)) {
      return listed;
    }
    List<String> all = new ArrayList<>(listed.size() + 1);
    all.add(kind);
    all.addAll(listed);
    return all;
  }

  private static boolean anyOf(List<String> kinds, Set<String> set) {
    for (int i = 0; i < kinds.size(); i++) {
      if (set.contains(kinds.get(i))) {
        return true;
      }
    }
    return false;
  }

  /** Null when every name matches some glob; otherwise the first name that does not. */
  private static String allMatch(List<Glob> globs, List<String> a, List<String> b) {
    for (int i = 0; i < a.size(); i++) {
      if (!any(globs, a.get(i))) {
        return a.get(i);
      }
    }
    for (int i = 0; i < b.size(); i++) {
      if (!any(globs, b.get(i))) {
        return b.get(i);
      }
    }
    return null;
  }

  /** Null when some name matches; "" otherwise. */
  private static String anyMatch(
      List<Glob> globs, List<Glob> anySchema, List<String> path, List<String> a, List<String> b) {
    for (int i = 0; i < a.size(); i++) {
      if (anyTable(globs, anySchema, path, a.get(i))) {
        return null;
      }
    }
    for (int i = 0; i < b.size(); i++) {
      if (anyTable(globs, anySchema, path, b.get(i))) {
        return null;
      }
    }
    return "";
  }

  /**
   * For deny and review rules, which fail closed by matching more: an unqualified name is also read
   * in every schema PostgreSQL may resolve it in. Always in {@code pg_catalog} (searched first
   * unless the path names it later) and {@code public} (default search_path {@code "$user",
   * public}), so that a deny of {@code public.payments} catches {@code DELETE FROM payments} and
   * one of {@code pg_catalog.pg_authid} catches {@code SELECT * FROM pg_authid}; and in every
   * schema of the action's {@link Action.Attr#SQL_SEARCH_PATH}, the schemas the session's
   * search_path has named, so that after {@code SET search_path = app, public} a deny of {@code
   * app.payments} catches {@code SELECT * FROM payments} (ddl-schemas.html#DDL-SCHEMAS-PATH). With
   * {@link Action.Attr#ANY_SCHEMA} there, a bare name is read in any schema, as {@code *.NAME}.
   * Allow rules match names as written: reading {@code pg_stat_activity} as {@code
   * public.pg_stat_activity} would let {@code public.*} admit a catalog view, and a session can
   * move its search_path.
   */
  private static boolean anyTable(
      List<Glob> globs, List<Glob> anySchema, List<String> path, String s) {
    if (s.equals(Action.Attr.ANY_TABLE)) {
      return !globs.isEmpty(); // it reads every table, so also one these globs name
    }
    boolean bare = isBare(s);
    for (int i = 0; i < globs.size(); i++) {
      Glob g = globs.get(i);
      if (g.matches(s) || (bare && (qualified(g, "public", s) || qualified(g, "pg_catalog", s)))) {
        return true;
      }
      if (bare) {
        for (int k = 0; k < path.size(); k++) {
          String schema = path.get(k);
          if (!schema.equals(Action.Attr.ANY_SCHEMA) && qualified(g, schema, s)) {
            return true;
          }
        }
      }
    }
    if (bare && path.contains(Action.Attr.ANY_SCHEMA)) {
      for (int i = 0; i < anySchema.size(); i++) {
        if (anySchema.get(i).matches(s)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Whether a reported name has no schema: no dot outside double quotes. The classifier quotes a
   * part that itself holds a dot ({@code "pay.ments"} is one bare name, not schema pay).
   */
  static boolean isBare(String s) {
    int dot = s.indexOf('.');
    if (dot < 0) {
      return true;
    }
    if (s.indexOf('"') < 0) {
      return false;
    }
    boolean quoted = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"') {
        quoted = !quoted; // a doubled quote inside toggles twice
      } else if (c == '.' && !quoted) {
        return false;
      }
    }
    return true;
  }

  /** {@code g.matches(schema + "." + name)}, without building the string for a literal glob. */
  private static boolean qualified(Glob g, String schema, String name) {
    if (!g.isLiteral()) {
      return g.matches(schema + "." + name);
    }
    String lit = g.literal();
    int n = schema.length();
    return lit.length() == n + 1 + name.length()
        && lit.charAt(n) == '.'
        && lit.regionMatches(true, 0, schema, 0, n)
        && lit.regionMatches(true, n + 1, name, 0, name.length());
  }

  /**
   * What a bare name must match to be, in some schema, a name the globs match: for each glob the
   * part after its last dot ({@code app.pay*}: {@code pay*}, since a schema-qualified name has one
   * dot and it must be that one). A glob without a dot can match {@code schema.NAME} only where a
   * wildcard takes the dot: {@code *} followed by the part after its last {@code *} ({@code pg_*}:
   * {@code *}, any name), and the part after each {@code ?} or class. Names with a dot in a schema
   * (quoted) are not considered; for them this matches more, never less. Null when there are no
   * globs.
   */
  static List<Glob> anySchema(List<Glob> globs) {
    if (globs == null) {
      return null;
    }
    List<Glob> out = new ArrayList<>();
    for (Glob g : globs) {
      for (String tail : anySchemaTails(g.toString())) {
        out.add(Glob.compile(tail, false, true));
      }
    }
    return List.copyOf(out);
  }

  /** See {@link #anySchema}: the glob texts, cut where {@link Glob#compile} reads tokens. */
  static List<String> anySchemaTails(String glob) {
    int n = glob.length();
    int lastDot = -1;
    int lastStar = -1;
    List<Integer> afterSingles = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      char c = glob.charAt(i);
      if (c == '\\' && i + 1 < n) {
        i++;
        if (glob.charAt(i) == '.') {
          lastDot = i;
        }
      } else if (c == '[') {
        int end = glob.indexOf(']', i + 2);
        if (end < 0) {
          break;
        }
        i = end;
        afterSingles.add(end + 1);
      } else if (c == '*') {
        lastStar = i;
      } else if (c == '?') {
        afterSingles.add(i + 1);
      } else if (c == '.') {
        lastDot = i;
      }
    }
    List<String> out = new ArrayList<>();
    if (lastDot >= 0) {
      out.add(glob.substring(lastDot + 1));
    } else {
      if (lastStar >= 0) {
        out.add("*" + glob.substring(lastStar + 1));
      }
      for (int end : afterSingles) {
        out.add(glob.substring(end));
      }
    }
    out.removeIf(String::isEmpty);
    return out;
  }

  static boolean any(List<Glob> globs, String s) {
    for (int i = 0; i < globs.size(); i++) {
      if (globs.get(i).matches(s)) {
        return true;
      }
    }
    return false;
  }
}
