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

  @Test
  void partsBetweenAnOddNumberOfQuotesAreJudgedAsOne() {
    // "ab" is in the statement, but the value was ab"cd: cd must not show
    assertThat(PgEchoedInput.redact("invalid input syntax for type integer: \"ab\"cd\"", "'ab'"))
        .isEqualTo("invalid input syntax for type integer: \"[REDACTED]\"");
  }

  @Test
  void unquotedInputOfTheJsonAndXmlParsersAndTranslatedMessages() {
    java.util.Map<Character, String> json =
        java.util.Map.of(
            'S',
            "ERROR",
            'V',
            "ERROR",
            'C',
            "22P02",
            'M',
            "invalid input syntax for type json",
            'D',
            "Token \"078\" is invalid.",
            'W',
            "JSON data, line 1: {\"a\": 078...");
    java.util.Map<Character, String> out = PgEchoedInput.fields(json, "SELECT n::json");
    assertThat(out.get('W')).isEqualTo("JSON data, line 1: [REDACTED]");
    assertThat(out.get('D')).isEqualTo("Token \"[REDACTED]\" is invalid.");
    assertThat(out.get('M')).isEqualTo("invalid input syntax for type json");

    java.util.Map<Character, String> xml =
        java.util.Map.of(
            'S',
            "ERROR",
            'V',
            "ERROR",
            'C',
            "2200N",
            'M',
            "invalid XML content",
            'D',
            "line 1: Couldn't find end of Start Tag anders.ritchie2");
    assertThat(PgEchoedInput.fields(xml, "SELECT x::xml").get('D')).isEqualTo("line 1: [REDACTED]");

    java.util.Map<Character, String> german =
        java.util.Map.of(
            'S', "FEHLER", 'V', "ERROR", 'C', "3F000", 'M', "Schema »noor@qq« existiert nicht");
    out = PgEchoedInput.fields(german, "SELECT e::regclass");
    assertThat(out.get('M')).doesNotContain("noor");
    assertThat(out.get('C')).isEqualTo("3F000");
  }
}
