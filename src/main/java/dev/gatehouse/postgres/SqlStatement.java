package dev.gatehouse.postgres;

import dev.gatehouse.policy.Action;
import java.util.Objects;

/**
 * One statement of a query string and what the gateway decided it does.
 *
 * @param text the statement's source text, trimmed, without the terminating semicolon
 * @param action an {@link dev.gatehouse.policy.ActionKind#SQL} action whose attributes are
 *     described in docs/sql-classification.md
 */
record SqlStatement(String text, Action action) {

  SqlStatement {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(action, "action");
  }

  /** The statement kind ({@link Action.Attr#SQL_KIND}). */
  String kind() {
    return action.string(Action.Attr.SQL_KIND);
  }
}
