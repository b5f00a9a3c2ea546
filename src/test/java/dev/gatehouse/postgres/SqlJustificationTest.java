package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.Action;
import org.junit.jupiter.api.Test;

/**
 * The justification a psql user gives in a leading comment, as the classifier reads it into the
 * action's {@code justification} attribute (which the approval service files with a review): the
 * comment ends where PostgreSQL ends it.
 */
class SqlJustificationTest {
  private static String justification(String sql) {
    return SqlClassifier.classify(sql, true).get(0).action().string(Action.Attr.JUSTIFICATION);
  }

  @Test
  void theJustificationCommentEndsWherePostgreSqlEndsIt() {
    assertThat(justification("/* Justification: INC-2 */ DROP TABLE x")).isEqualTo("INC-2");
    assertThat(justification("-- justification: INC-1\nDROP TABLE orders")).isEqualTo("INC-1");
    assertThat(justification("DROP TABLE x /* justification: late */")).isNull();
    // Block comments nest (sql-syntax-lexical.html 4.1.5): the first */ does not end this one, so
    // everything up to the second is what the server skips, and the reviewer is shown that.
    assertThat(
            justification(
                "/* justification: /* */ UPDATE payments SET status = 'refunded' WHERE id ="
                    + " 42 -- */ DELETE FROM payments WHERE id > 0"))
        .isEqualTo("/* */ UPDATE payments SET status = 'refunded' WHERE id = 42 --");
    assertThat(justification("/* justification: /* open */ DROP TABLE x"))
        .as("unterminated: the server rejects it")
        .isNull();
    assertThat(justification("-- justification: A\rDROP TABLE x")).isEqualTo("A");
  }

  @Test
  void anExecuteKeepsItsOwnJustificationNotThePrepares() {
    Action prepared =
        SqlClassifier.classify("/* justification: P */ PREPARE p AS DELETE FROM t", true)
            .get(0)
            .action();
    Action execute =
        SqlClassifier.classify("/* justification: E */ EXECUTE p", true).get(0).action();
    assertThat(SqlClassifier.executing(execute, prepared).string(Action.Attr.JUSTIFICATION))
        .isEqualTo("E");
    Action bare = SqlClassifier.classify("EXECUTE p", true).get(0).action();
    assertThat(SqlClassifier.executing(bare, prepared).string(Action.Attr.JUSTIFICATION)).isNull();
  }
}
