package dev.gatehouse.postgres;

import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * TEMPORARY PLACEHOLDER for the SQL classifier, replaced on merge by the real lexer-based one with
 * the same API. It splits naively on {@code ;} and uses the first keyword as the statement kind. Do
 * not rely on it for anything but wiring the protocol code.
 */
final class SqlClassifier {
  private SqlClassifier() {}

  private static final Set<String> KINDS =
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
          "set",
          "reset",
          "explain",
          "prepare",
          "execute",
          "deallocate",
          "do",
          "call",
          "lock",
          "listen",
          "notify",
          "unlisten",
          "show",
          "discard",
          "comment");

  static List<SqlStatement> classify(String sql, boolean standardConformingStrings) {
    List<SqlStatement> out = new ArrayList<>();
    for (String part : sql.split(";")) {
      String text = part.strip();
      if (text.isEmpty()) {
        continue;
      }
      String lower = text.toLowerCase(Locale.ROOT);
      String first = lower.split("[^a-z_]", 2)[0];
      String kind =
          switch (first) {
            case "begin", "start", "commit", "rollback", "end", "abort", "savepoint", "release" ->
                "transaction";
            case "with", "values", "table" -> "select";
            case "vacuum", "analyze", "cluster", "reindex", "checkpoint" -> "maintenance";
            case "declare", "fetch", "move", "close" -> "cursor";
            case "copy" ->
                lower.contains("program")
                    ? "copy_program"
                    : lower.contains("from stdin")
                        ? "copy_in"
                        : lower.contains("to stdout") ? "copy_out" : "copy_program";
            case "set" ->
                lower.matches("set\\s+(session\\s+|local\\s+)?role\\b.*") ? "set_role" : "set";
            default -> KINDS.contains(first) ? first : "unknown";
          };
      out.add(
          new SqlStatement(
              text,
              new Action(
                  ActionKind.SQL,
                  text,
                  Map.of(
                      Action.Attr.SQL_KIND, kind,
                      Action.Attr.SQL_TABLES_READ, List.of(),
                      Action.Attr.SQL_TABLES_WRITTEN, List.of(),
                      Action.Attr.SQL_FUNCTIONS, List.of(),
                      Action.Attr.SQL_HAS_WHERE, lower.contains(" where "),
                      Action.Attr.SQL_UNPARSED, kind.equals("unknown")))));
    }
    return out;
  }
}

/** One classified statement: its text and the action the policy decides on. */
record SqlStatement(String text, Action action) {}
