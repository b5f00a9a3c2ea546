package dev.gatehouse.masking;

import java.util.Locale;

/**
 * Masks every value of the columns whose connection, schema, table and column names match the
 * globs. {@code type} names the data for the style (a partial style keeps the last 4 of a {@code
 * card} but the first letter and domain of an {@code email}); it defaults to the column name.
 */
record ColumnRule(
    Glob connection,
    Glob schema,
    Glob table,
    Glob column,
    Style style,
    String type,
    String origin) {

  boolean matches(String conn, String sch, String tab, String col) {
    return column.matches(col)
        && table.matches(tab)
        && schema.matches(sch)
        && connection.matches(conn);
  }

  String typeFor(String col) {
    if (type != null) {
      return type;
    }
    return col == null ? "column" : col.toLowerCase(Locale.ROOT);
  }
}
