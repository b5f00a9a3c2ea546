package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.postgres.PgToken.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgLexerTest {

  private static List<PgToken> lex(String sql) {
    return lex(sql, true);
  }

  private static List<PgToken> lex(String sql, boolean scs) {
    PgLexer.Result r = PgLexer.lex(sql, scs);
    assertThat(r.error()).as("lexer error for %s", sql).isNull();
    return r.tokens();
  }

  private static String error(String sql, boolean scs) {
    return PgLexer.lex(sql, scs).error();
  }

  private static List<String> values(String sql) {
    return lex(sql).stream().map(PgToken::value).toList();
  }

  private static List<String> texts(List<PgLexer.Segment> segs) {
    return segs.stream().map(PgLexer.Segment::text).toList();
  }

  @Test
  void keywordsAndIdentifiersAreFoldedToLowerCase() {
    List<PgToken> t = lex("SeLeCt Foo_1$x FROM Ünïcode");
    assertThat(t).extracting(PgToken::kind).containsOnly(Kind.IDENT);
    assertThat(t)
        .extracting(PgToken::value)
        .containsExactly("select", "foo_1$x", "from", "Ünïcode");
    assertThat(t.get(1).text()).isEqualTo("Foo_1$x");
  }

  @Test
  void offsetsPointIntoTheInput() {
    List<PgToken> t = lex("  select  x");
    assertThat(t.get(0).start()).isEqualTo(2);
    assertThat(t.get(0).end()).isEqualTo(8);
    assertThat(t.get(1).start()).isEqualTo(10);
  }

  @Test
  void longIdentifiersAreTruncatedTo63Bytes() {
    String longName = "a".repeat(70);
    assertThat(lex(longName).get(0).value()).isEqualTo("a".repeat(63));
    // multi-byte characters are not split
    String wide = "é".repeat(40); // 80 bytes
    assertThat(lex(wide).get(0).value()).isEqualTo("é".repeat(31));
  }

  @Test
  void quotedIdentifiersKeepCaseAndUnescapeDoubledQuotes() {
    PgToken t = lex("\"My \"\"Table\"\"\"").get(0);
    assertThat(t.kind()).isEqualTo(Kind.QUOTED_IDENT);
    assertThat(t.value()).isEqualTo("My \"Table\"");
  }

  @Test
  void zeroLengthQuotedIdentifierIsAnError() {
    assertThat(error("select \"\"", true)).contains("zero-length");
  }

  @Test
  void unicodeQuotedIdentifierDecodesEscapes() {
    assertThat(lex("U&\"d\\0061t\\+000061\"").get(0).value()).isEqualTo("data");
    assertThat(lex("u&\"d!0061t!+000061\" UESCAPE '!'").get(0).value()).isEqualTo("data");
    assertThat(lex("U&\"d!0061t\" /* c */ uescape '!' x")).hasSize(2);
  }

  @Test
  void invalidUnicodeEscapeIsAnError() {
    assertThat(error("U&\"\\00zz\"", true)).contains("Unicode");
    assertThat(error("U&'x' UESCAPE 'a'", true)).contains("escape");
  }

  @Test
  void stringConstantsWithDoubledQuotes() {
    PgToken t = lex("'it''s'").get(0);
    assertThat(t.kind()).isEqualTo(Kind.STRING);
    assertThat(t.value()).isEqualTo("it's");
  }

  @Test
  void backslashIsLiteralWithStandardConformingStrings() {
    List<PgToken> t = lex("'a\\' , 'b'", true);
    assertThat(t).extracting(PgToken::value).containsExactly("a\\", ",", "b");
  }

  @Test
  void backslashEscapesWhenStandardConformingStringsOff() {
    List<PgToken> t = lex("'a\\' , ''b'", false);
    assertThat(t).hasSize(1);
    assertThat(t.get(0).value()).isEqualTo("a' , 'b");
    assertThat(lex("'\\n\\x41\\101'", false).get(0).value()).isEqualTo("\nAA");
  }

  @Test
  void escapeStringsAlwaysProcessBackslashes() {
    assertThat(lex("E'a\\'b'", true).get(0).value()).isEqualTo("a'b");
    assertThat(lex("e'\\t\\u00e9\\U0001F600\\q'", true).get(0).value())
        .isEqualTo("\té\uD83D\uDE00q");
    assertThat(lex("E'\\xc3\\xa9'", true).get(0).value()).isEqualTo("é");
  }

  @Test
  void escapeStringWithInvalidUtf8BytesIsAnError() {
    assertThat(error("E'\\xff'", true)).contains("byte sequence");
  }

  @Test
  void unicodeStringConstants() {
    assertThat(lex("U&'\\0041b' UESCAPE '\\'", true)).hasSize(1);
    assertThat(lex("U&'#0041b' UESCAPE '#'", true).get(0).value()).isEqualTo("Ab");
    assertThat(error("U&'x'", false)).contains("standard_conforming_strings");
  }

  @Test
  void bitAndHexAndNationalStrings() {
    List<PgToken> t = lex("B'1010' X'1F' N'abc'");
    assertThat(t)
        .extracting(PgToken::kind)
        .containsExactly(Kind.BIT_STRING, Kind.BIT_STRING, Kind.STRING);
    assertThat(t).extracting(PgToken::value).containsExactly("1010", "1F", "abc");
    assertThat(error("B'102'", true)).contains("bit string");
  }

  @Test
  void adjacentStringsSeparatedByNewlineAreConcatenated() {
    List<PgToken> t = lex("'foo'\n  'bar' 'baz'");
    assertThat(t).extracting(PgToken::value).containsExactly("foobar", "baz");
    assertThat(lex("'a' -- c\n 'b'")).extracting(PgToken::value).containsExactly("ab");
    assertThat(lex("'a' -- c")).hasSize(1);
    assertThat(lex("'a'\n-- c\n'b'")).extracting(PgToken::value).containsExactly("ab");
    assertThat(lex("'a'\n/* c */'b'")).hasSize(2); // block comments do not continue
  }

  @Test
  void continuationKeepsTheEscapeModeOfTheFirstPart() {
    assertThat(lex("E'a'\n'\\''", true).get(0).value()).isEqualTo("a'");
  }

  @Test
  void dollarQuotedStrings() {
    List<PgToken> t = lex("$$it's; DROP$$ $tag$a $$ b$tag$ $Tag_1$x$Tag_1$");
    assertThat(t).extracting(PgToken::kind).containsOnly(Kind.DOLLAR_STRING);
    assertThat(t).extracting(PgToken::value).containsExactly("it's; DROP", "a $$ b", "x");
  }

  @Test
  void dollarInsideIdentifierIsNotAQuote() {
    List<PgToken> t = lex("a$$b$$");
    assertThat(t).hasSize(1);
    assertThat(t.get(0).kind()).isEqualTo(Kind.IDENT);
  }

  @Test
  void positionalParametersAreNotDollarTags() {
    List<PgToken> t = lex("$1 + $23");
    assertThat(t).extracting(PgToken::kind).containsExactly(Kind.PARAM, Kind.OPERATOR, Kind.PARAM);
    assertThat(error("$1abc", true)).contains("junk");
  }

  @Test
  void unterminatedConstructsAreErrors() {
    assertThat(error("select 'abc", true)).contains("unterminated");
    assertThat(error("select \"abc", true)).contains("unterminated");
    assertThat(error("select $q$abc$Q$", true)).contains("unterminated");
    assertThat(error("select /* a /* b */", true)).contains("unterminated");
    assertThat(error("select E'abc\\'", true)).contains("unterminated");
  }

  @Test
  void blockCommentsNest() {
    List<PgToken> t = lex("select /* a /* b */ drop table x */ 1");
    assertThat(t).extracting(PgToken::value).containsExactly("select", "1");
  }

  @Test
  void lineCommentsEndAtNewline() {
    assertThat(values("select 1 -- drop table x\n, 2")).containsExactly("select", "1", ",", "2");
    assertThat(values("select 1--2")).containsExactly("select", "1");
  }

  @Test
  void numericConstants() {
    List<PgToken> t = lex("42 3.5 .5 5. 1e5 1.5E-3 0x1F 0o17 0b101 1_000_000");
    assertThat(t).extracting(PgToken::kind).containsOnly(Kind.NUMBER);
    assertThat(t)
        .extracting(PgToken::text)
        .containsExactly(
            "42", "3.5", ".5", "5.", "1e5", "1.5E-3", "0x1F", "0o17", "0b101", "1_000_000");
  }

  @Test
  void numberFollowedByIdentifierIsTrailingJunk() {
    assertThat(error("select 123abc", true)).contains("junk");
    assertThat(error("select 0x", true)).isNotNull();
    assertThat(error("select 1e+", true)).contains("junk");
  }

  @Test
  void rangeDotsAfterInteger() {
    assertThat(lex("1..2")).extracting(PgToken::text).containsExactly("1", "..", "2");
  }

  @Test
  void operatorsStopBeforeCommentStarts() {
    assertThat(lex("a+/*x*/b")).extracting(PgToken::text).containsExactly("a", "+", "b");
    assertThat(lex("a*--x\nb")).extracting(PgToken::text).containsExactly("a", "*", "b");
  }

  @Test
  void trailingPlusMinusIsSplitFromOperator() {
    assertThat(lex("a=-1")).extracting(PgToken::text).containsExactly("a", "=", "-", "1");
    assertThat(lex("a@-1")).extracting(PgToken::text).containsExactly("a", "@-", "1");
    assertThat(lex("a<>b")).extracting(PgToken::text).containsExactly("a", "<>", "b");
  }

  @Test
  void punctuation() {
    assertThat(lex("a::int[1:2];x := y.z"))
        .extracting(PgToken::text)
        .containsExactly("a", "::", "int", "[", "1", ":", "2", "]", ";", "x", ":=", "y", ".", "z");
  }

  @Test
  void nulCharacterIsAnError() {
    assertThat(error("select 1\0; drop table x", true)).contains("NUL");
    assertThat(error("select 'a\0'; drop table x", true)).contains("NUL");
  }

  @Test
  void splitsAtTopLevelSemicolons() {
    assertThat(texts(PgLexer.split("select 1; select ';' ; ;  drop table x ;", true)))
        .containsExactly("select 1", "select ';'", "drop table x");
  }

  @Test
  void splitIgnoresSemicolonsInCommentsAndDollarQuotesAndParens() {
    assertThat(PgLexer.split("select /* ; */ $$;$$, (1;2) -- ;\n", true)).hasSize(1);
  }

  @Test
  void splitKeepsBeginAtomicBodyTogether() {
    String fn =
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1"
            + " END; SELECT 2; END";
    assertThat(texts(PgLexer.split(fn + "; DROP TABLE x", true)))
        .containsExactly(fn, "DROP TABLE x");
  }

  @Test
  void functionNamedBeginDoesNotGlueStatements() {
    List<PgLexer.Segment> s =
        PgLexer.split(
            "CREATE FUNCTION begin() RETURNS int AS 'select 1' LANGUAGE sql; DROP TABLE x", true);
    assertThat(texts(s))
        .containsExactly(
            "CREATE FUNCTION begin() RETURNS int AS 'select 1' LANGUAGE sql", "DROP TABLE x");
  }

  @Test
  void labelsNamedCaseOrEndInsideAtomicBodyDoNotGlueStatements() {
    String fn =
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 AS case; SELECT 2 end;"
            + " END";
    assertThat(texts(PgLexer.split(fn + "; DROP TABLE x", true)))
        .containsExactly(fn, "DROP TABLE x");
  }

  @Test
  void columnsNamedBeginAtomicInsideBodyDoNotReopenIt() {
    String fn = "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT begin atomic FROM t; END";
    assertThat(texts(PgLexer.split(fn + "; DROP TABLE x", true)))
        .containsExactly(fn, "DROP TABLE x");
  }

  @Test
  void emptyAtomicBody() {
    assertThat(
            texts(
                PgLexer.split(
                    "CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC END; DELETE FROM t", true)))
        .containsExactly("CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC END", "DELETE FROM t");
  }

  @Test
  void splitDependsOnStandardConformingStrings() {
    String sql = "select 'a\\'; drop table x; --'";
    assertThat(PgLexer.split(sql, true)).hasSize(2);
    assertThat(PgLexer.split(sql, false)).hasSize(1);
  }

  @Test
  void lexErrorLeavesEarlierStatementsAndMarksTheRest() {
    List<PgLexer.Segment> s = PgLexer.split("select 1; select 'x", true);
    assertThat(s).hasSize(2);
    assertThat(s.get(0).error()).isNull();
    assertThat(s.get(1).error()).contains("unterminated");
  }
}
