package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The statement form a review's approval is matched by: what the server reads, nothing else. */
class SqlCanonicalTest {

  private static String of(String sql) {
    return SqlCanonical.of(sql, true);
  }

  @Test
  void aNewlineAfterDoubleDashMakesTheRestCodeAndAnotherStatement() {
    String approved =
        "/* justification: OPS-9 refund payment 42 */ UPDATE payments SET status = 'refunded'"
            + " WHERE id = 42 -- OR id > 0";
    String rerun =
        "/* justification: OPS-9 refund payment 42 */ UPDATE payments SET status = 'refunded'"
            + " WHERE id = 42 --\nOR id > 0";
    assertThat(of(rerun)).isNotEqualTo(of(approved));
    assertThat(of(approved)).isEqualTo(of("UPDATE payments SET status = 'refunded' WHERE id = 42"));
    assertThat(of("UPDATE payments SET status = 'refunded' WHERE id = 42 --\r OR id > 0"))
        .as("a carriage return ends a -- comment too")
        .isNotEqualTo(of(approved));
  }

  @Test
  void blockCommentsNestSoTheFirstCloseDoesNotEndTheJustification() {
    String approved =
        "/* justification: OPS-11 refund 42 */ UPDATE payments SET status = 'refunded' WHERE id"
            + " = 42 -- */ DELETE FROM payments WHERE id > 0";
    String rerun =
        "/* justification: /* */ UPDATE payments SET status = 'refunded' WHERE id = 42 -- */"
            + " DELETE FROM payments WHERE id > 0";
    assertThat(of(rerun)).isNotEqualTo(of(approved));
    assertThat(of(rerun)).isEqualTo(of("DELETE FROM payments WHERE id > 0"));
  }

  @Test
  void whatTheServerReadsAlikeSharesOneForm() {
    assertThat(of("DROP TABLE orders"))
        .isEqualTo(of("  drop\ttable\n  ORDERS  "))
        .isEqualTo(of("-- justification: INC-1\nDROP TABLE orders"))
        .isEqualTo(of("DROP /* a /* nested */ comment */ TABLE orders -- trailing"))
        .isNotEqualTo(of("DROP TABLE \"ORDERS\""))
        .isNotEqualTo(of("DROP TABLE \"drop\""));
    assertThat(of("SELECT 'ab'"))
        .isEqualTo(of("SELECT 'a'\n'b'")) // continuation across a newline (4.1.2.1)
        .isEqualTo(of("SELECT E'\\x61b'"))
        .isNotEqualTo(of("SELECT 'a' 'b'"));
  }

  @Test
  void valuesAndTokenKindsAreKeptApart() {
    assertThat(of("UPDATE t SET a = 'x  y'")).isNotEqualTo(of("UPDATE t SET a = 'x y'"));
    assertThat(of("SELECT B'101'")).isNotEqualTo(of("SELECT X'101'"));
    assertThat(of("SELECT 'a' || 'b'")).isNotEqualTo(of("SELECT 'a'' || ''b'"));
    assertThat(of("SELECT $$x$$")).isNotEqualTo(of("SELECT x"));
    assertThat(of("SELECT $1")).isNotEqualTo(of("SELECT $2"));
    assertThat(of("SELECT 1-1")).isNotEqualTo(of("SELECT 1 - -1"));
    // Dollar quotes hide comment markers and quotes: the body is one value.
    assertThat(of("SELECT $q$ -- $q$, 1")).isNotEqualTo(of("SELECT $q$ -- $q$"));
  }

  @Test
  void standardConformingStringsDecidesWhereAStringEnds() {
    String text = "SELECT 'a\\' OR 1=1 --'";
    assertThat(SqlCanonical.of(text, true)).isNotEqualTo(SqlCanonical.of(text, false));
    assertThat(SqlCanonical.of("SELECT 'unterminated", true))
        .isNotEqualTo(SqlCanonical.of("SELECT  'unterminated", true))
        .isNotEqualTo(SqlCanonical.of("SELECT 'unterminated", false));
  }

  @Test
  void aNationalCharacterConstantIsNotAPlainOne() {
    // N'x' is bpchar (trailing spaces do not count), '' text: other rows match.
    assertThat(of("SELECT 1 WHERE s = N'settled '"))
        .isNotEqualTo(of("SELECT 1 WHERE s = 'settled '"));
    assertThat(of("SELECT n'a'")).isEqualTo(of("SELECT N'a'"));
    assertThat(of("SELECT E'a'")).isEqualTo(of("SELECT 'a'"));
  }
}
