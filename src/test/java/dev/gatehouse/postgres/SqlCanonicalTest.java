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

  /**
   * Review 13, F3: N'abc' was written {@code s4:Nabc}, the form of 'Nabc', so the approval of a
   * statement matching nothing ({@code code = 'Nabc'}) ran the one matching the 'abc' rows. No
   * value of one kind or spelling is the form of another: each of these is its own request.
   */
  @Test
  void noValueSpellsTheFormOfAnotherKindOrType() {
    java.util.List<String> distinct =
        java.util.List.of(
            "SELECT N'abc'",
            "SELECT 'Nabc'",
            "SELECT $$Nabc$$",
            "SELECT \"Nabc\"",
            "SELECT Nabc",
            "SELECT N 'abc'",
            "SELECT N'b101'",
            "SELECT B'101'",
            "SELECT 'b101'",
            "SELECT X'101'",
            "SELECT 'x101'",
            "SELECT 101",
            "SELECT '101'",
            "SELECT $1",
            "SELECT '$1'");
    java.util.Map<String, String> forms = new java.util.HashMap<>();
    for (String sql : distinct) {
      assertThat(forms.put(of(sql), sql)).as(sql).isNull();
    }
    assertThat(of("DELETE FROM accounts WHERE code = N'abc'"))
        .isNotEqualTo(of("DELETE FROM accounts WHERE code = 'Nabc'"))
        .isNotEqualTo(of("DELETE FROM accounts WHERE code = n'Nabc'"));
    assertThat(SqlCanonical.of("SELECT N'abc'", false))
        .isNotEqualTo(SqlCanonical.of("SELECT 'Nabc'", false));
  }

  @Test
  void spellingsOfOneValueAndTypeShareOneForm() {
    assertThat(of("SELECT $$abc$$")).isEqualTo(of("SELECT $N$abc$N$"));
    assertThat(of("SELECT 'Nabc'"))
        .isEqualTo(of("SELECT E'Nabc'"))
        .isEqualTo(of("SELECT U&'Nabc'"));
    assertThat(of("SELECT 'abc'"))
        .isEqualTo(of("SELECT U&'\\0061bc'"))
        .isEqualTo(of("SELECT U&'!0061bc' UESCAPE '!'"));
    assertThat(of("SELECT N'abc'")).isEqualTo(of("SELECT n'ab'\n'c'"));
    assertThat(of("SELECT \"abc\"")).isEqualTo(of("SELECT U&\"\\0061bc\""));
  }
}
