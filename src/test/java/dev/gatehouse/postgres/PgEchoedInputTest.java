package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link PgEchoedInput}: which quoted parts of an error text stay. */
class PgEchoedInputTest {
  @Test
  void quotedPartsTheStatementHoldsStayIgnoringCase() {
    String sent = "SELECT * FROM Orders o JOIN lines l USING (id)";
    assertThat(PgEchoedInput.redact("relation \"orders\" does not exist", sent))
        .isEqualTo("relation \"orders\" does not exist");
    assertThat(PgEchoedInput.redact("column \"id\" of relation \"lines\" does not exist", sent))
        .isEqualTo("column \"id\" of relation \"lines\" does not exist");
  }

  @Test
  void aPartTheStatementDoesNotHoldIsRedactedToTheLastQuote() {
    assertThat(PgEchoedInput.redact("schema \"noor@qq\" does not exist", "SELECT e::regclass"))
        .isEqualTo("schema \"[REDACTED]\" does not exist");
    // A quote inside the value is not escaped: everything to the last quote may be value.
    assertThat(
            PgEchoedInput.redact(
                "invalid input syntax for type integer: \"a\"078-05-1120\"", "SELECT n::int"))
        .isEqualTo("invalid input syntax for type integer: \"[REDACTED]\"");
    assertThat(PgEchoedInput.redact("unterminated \"078-05-1120", "SELECT 1"))
        .isEqualTo("unterminated \"[REDACTED]");
    assertThat(PgEchoedInput.redact("relation \"x\" does not exist", null))
        .isEqualTo("relation \"[REDACTED]\" does not exist");
  }

  @Test
  void namesAfterTooManyDotsAreCheckedToo() {
    assertThat(
            PgEchoedInput.redact(
                "cross-database references are not implemented: a.noor@mail.example.com",
                "SELECT e::regclass"))
        .isEqualTo("cross-database references are not implemented: [REDACTED]");
    assertThat(
            PgEchoedInput.redact(
                "improper qualified name (too many dotted names): a.b.c.d",
                "SELECT 'a.b.c.d'::regclass"))
        .isEqualTo("improper qualified name (too many dotted names): a.b.c.d");
  }

  @Test
  void onlyCodesThatQuoteInput() {
    assertThat(PgEchoedInput.applies("22P02")).isTrue();
    assertThat(PgEchoedInput.applies("42P01")).isTrue();
    assertThat(PgEchoedInput.applies("23505")).isFalse(); // its DETAIL is masked by content
    assertThat(PgEchoedInput.applies("42501")).isFalse();
    assertThat(PgEchoedInput.applies(null)).isFalse();
  }
}
