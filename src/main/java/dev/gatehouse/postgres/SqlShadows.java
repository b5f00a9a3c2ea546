package dev.gatehouse.postgres;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a target's catalog holds that PostgreSQL may run in place of a built-in the classifier
 * trusts, created outside the gateway (directly on the database, or before the gateway was put in
 * front): functions, procedures and aggregates outside pg_catalog named like a trusted built-in,
 * and operators outside pg_catalog, that no extension owns. PostgreSQL picks the best match across
 * the search path by argument type (typeconv-func.html, typeconv-oper.html), so with pg_catalog
 * first {@code public.lower(varchar)} still wins over {@code pg_catalog.lower(text)} for a varchar
 * argument, and a user {@code public.= (varchar, varchar)} over the built-in text one. Objects an
 * extension owns (pg_depend deptype {@code 'e'}: citext's {@code regexp_matches} and {@code max},
 * hstore's and pg_trgm's operators) are the extension's fixed script and stay trusted.
 *
 * <p>Read by {@link PgCatalog#shadows} per connection; used by {@link
 * SqlClassifier#classify(String, boolean, boolean, SqlShadows)}: a call of a shadowed name,
 * unqualified or qualified with a schema other than pg_catalog, is in {@code opaque_functions}, and
 * so is every use of an operator symbol that has a user-created one ({@code operator(public.=)}).
 * {@link #NONE} (most databases) changes nothing and costs one comparison per statement; {@link
 * #UNVERIFIED}, when the catalog could not be read, treats every trusted name and every operator as
 * shadowed (fail closed).
 */
final class SqlShadows {
  /** Nothing shadows a trusted built-in. */
  static final SqlShadows NONE = new SqlShadows(Set.of(), Map.of(), false);

  /**
   * The catalog could not be read: every unqualified call of a trusted built-in is opaque, and so
   * is every operator, named without a schema ({@code operator(=)}).
   */
  static final SqlShadows UNVERIFIED = new SqlShadows(Set.of(), Map.of(), true);

  /** Simple names of shadowing functions (as stored: case kept), trusted names only. */
  private final Set<String> functions;

  /** Operator symbol → the schemas that hold a user-created operator of that symbol. */
  private final Map<String, Set<String>> operators;

  private final boolean unverified;

  /** A canonical text of the content, part of the classifier's cache key. */
  private final String key;

  private SqlShadows(
      Set<String> functions, Map<String, Set<String>> operators, boolean unverified) {
    this.functions = functions;
    this.operators = operators;
    this.unverified = unverified;
    this.key = unverified ? "?" : key(functions, operators);
  }

  /** Each name with its length in front, so that no two contents share a key. */
  private static String key(Set<String> functions, Map<String, Set<String>> operators) {
    StringBuilder b = new StringBuilder();
    for (String f : new TreeSet<>(functions)) {
      b.append(f.length()).append(':').append(f);
    }
    b.append('|');
    for (Map.Entry<String, Set<String>> e : new TreeMap<>(operators).entrySet()) {
      b.append(e.getKey().length()).append(':').append(e.getKey()).append('=');
      for (String s : new TreeSet<>(e.getValue())) {
        b.append(s.length()).append(':').append(s);
      }
      b.append(';');
    }
    return b.toString();
  }

  /**
   * The shadows among {@code functionNames} (every non-extension function name outside pg_catalog;
   * only those the classifier trusts are kept) and {@code operators} ({schema, symbol} pairs);
   * {@link #NONE} when there are none.
   */
  static SqlShadows of(Collection<String> functionNames, Collection<String[]> operators) {
    Set<String> f = new TreeSet<>();
    for (String name : functionNames) {
      if (SqlClassifier.trustedName(name)) {
        f.add(name);
      }
    }
    Map<String, Set<String>> o = new TreeMap<>();
    for (String[] op : operators) {
      o.computeIfAbsent(op[1], k -> new TreeSet<>()).add(op[0]);
    }
    if (f.isEmpty() && o.isEmpty()) {
      return NONE;
    }
    o.replaceAll((k, v) -> Set.copyOf(v));
    return new SqlShadows(Set.copyOf(f), Map.copyOf(o), false);
  }

  boolean isEmpty() {
    return this == NONE;
  }

  boolean unverified() {
    return unverified;
  }

  /** Whether an unqualified call of the trusted built-in name {@code simple} may run another. */
  boolean function(String simple) {
    return unverified || functions.contains(simple);
  }

  /**
   * The {@code opaque_functions} entries for a use of operator {@code symbol}: qualified with
   * {@code schema} ({@code OPERATOR(schema.op)}), or unqualified (null), when PostgreSQL may pick a
   * user-created one from any schema on the search path. Empty when none may be picked.
   */
  List<String> operator(String schema, String symbol) {
    if (schema != null && schema.equals("pg_catalog")) {
      return List.of();
    }
    if (unverified) {
      return List.of("operator(" + (schema == null ? "" : schema + ".") + symbol + ")");
    }
    Set<String> in = operators.get(symbol);
    if (in == null) {
      return List.of();
    }
    if (schema != null) {
      return in.contains(schema) ? List.of("operator(" + schema + "." + symbol + ")") : List.of();
    }
    return in.stream().sorted().map(s -> "operator(" + s + "." + symbol + ")").toList();
  }

  /** Whether any user-created operator is known (or the catalog is unread). */
  boolean anyOperator() {
    return unverified || !operators.isEmpty();
  }

  String key() {
    return key;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SqlShadows s && s.key.equals(key);
  }

  @Override
  public int hashCode() {
    return key.hashCode();
  }

  @Override
  public String toString() {
    return key;
  }
}
