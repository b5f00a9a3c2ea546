package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.masking.MaskingEngine;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Stored and reviewed statement texts are masked within each token (red team rt12, finding 2): a
 * mask never eats a comment's end or a literal's quote and the SQL behind it.
 */
class PgStoredTextTokensTest {
  static final MaskingEngine ENGINE =
      MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "test"), 0));
  static final UnaryOperator<String> PII = t -> ENGINE.redactStored("pii", t);

  static String masked(String sql) {
    return PgStoredText.maskTokens(sql, true, PII);
  }

  @Test
  void aPasswordKeywordInACommentDoesNotEatTheCommentsEndAndTheWhereClause() {
    String sql = "UPDATE payments SET status = 'rt8' WHERE id = 1 /* password: */ OR id <= 50";
    // What masking the whole text made of it: the reviewer read one row.
    assertThat(PII.apply(sql)).doesNotContain("*/ OR id");
    assertThat(masked(sql))
        .startsWith("UPDATE payments SET status = 'rt8' WHERE id = 1 /*")
        .endsWith("*/ OR id <= 50");
    String line = "UPDATE t SET a = 1 -- password:\nOR true";
    assertThat(masked(line)).endsWith("\nOR true").startsWith("UPDATE t SET a = 1 --");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "UPDATE users SET password = 'hunter2' WHERE id = 1|hunter2",
        "SELECT 1 WHERE token = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'|ghp_16C7e4",
        "SELECT 4111111111111111, '536-22-1234'|536-22-1234",
        "SELECT 1 /* card 4526018159083012 */ WHERE x = 1|4526018159083012",
        "SELECT 4111 1111 1111 1111|4111 1111",
        "refund for card 4526018159083012, contraseña: Hunter2xyz|Hunter2xyz",
      })
  void secretsAreStillMaskedEachWithinItsToken(String sqlAndSecret) {
    String sql = sqlAndSecret.substring(0, sqlAndSecret.indexOf('|'));
    String secret = sqlAndSecret.substring(sqlAndSecret.indexOf('|') + 1);
    String out = masked(sql);
    assertThat(out).doesNotContain(secret);
    // Every token but the masked values is where it was: the text still lexes.
    assertThat(PgLexer.lex(out, true).ok()).as(out).isTrue();
  }

  /**
   * Hex literals ({@code 0x…}: PostgreSQL 16's hex integers, MySQL's strings; {@code X'…'}) are
   * read as the text they stand for by the stored-text masking (sixteenth session), also within a
   * PostgreSQL statement masked by token.
   */
  @Test
  void hexLiteralsAreMaskedWithinTheirTokens() {
    String hex =
        java.util.HexFormat.of()
            .formatHex("john@example.com".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    for (String sql :
        List.of("SELECT 0x" + hex + " AS a, 'ok' AS b", "SELECT X'" + hex + "' AS a, 'ok' AS b")) {
      String out = masked(sql);
      assertThat(out)
          .as(sql)
          .doesNotContain(hex)
          .startsWith("SELECT ")
          .endsWith(" AS a, 'ok' AS b");
      assertThat(PgLexer.lex(out, true).ok()).as(out).isTrue();
    }
  }

  @Test
  void freeTextKeepsWhatTheWholeTextMaskingKeeps() {
    String text = "refund for card 4526018159083012, contraseña: Hunter2xyz";
    assertThat(masked(text)).isEqualTo("refund for card ************3012, contraseña: [REDACTED]");
  }

  @Test
  void aStringEndIsKept() {
    String sql = "UPDATE t SET note = 'password: Hunter2xyz' WHERE id = 1 OR id > 9";
    assertThat(masked(sql)).endsWith("' WHERE id = 1 OR id > 9").doesNotContain("Hunter2xyz");
  }

  @Test
  void textWithoutFindingsIsLeftAsItIs() {
    String sql = "SELECT a, 'b' /* c */ FROM t WHERE d = $$e$$ -- f";
    assertThat(masked(sql)).isSameAs(sql).isEqualTo(PII.apply(sql));
  }

  /** The text as PgSession stores it and shows it to reviewers. */
  static String stored(String sql, boolean scs) {
    return PgStoredText.maskTokens(PgStoredText.decodeEscapes(sql, scs, PII), scs, PII);
  }

  /** The tokens but string constants, as the server reads them: the live SQL around the values. */
  static List<String> liveSql(String sql, boolean scs) {
    PgLexer.Result r = PgLexer.lex(sql, scs);
    assertThat(r.ok()).as(sql).isTrue();
    return r.tokens().stream()
        .map(t -> t.kind() == PgToken.Kind.STRING ? "'…'" : t.text())
        .toList();
  }

  /**
   * Review 13, F5: a constant masked on its decoded value was written back as '…' even when the
   * value held a backslash. With standard_conforming_strings off, a value ending in {@code \}
   * escaped the closing quote: the constant ran on over the live SQL behind it, up to the quote of
   * the comment, in what was masked next and shown to the reviewer.
   */
  @Test
  void aMaskedValueEndingInABackslashEndsWhereItDidWithStandardConformingStringsOff() {
    String sql =
        "UPDATE payments SET status = 'pass\\x77ord=Hunter2xyz \\\\' WHERE id = 1 OR id <= 50"
            + " -- '";
    String out = stored(sql, false);
    assertThat(out).doesNotContain("Hunter2xyz").contains("' WHERE id = 1 OR id <= 50 -- '");
    assertThat(liveSql(out, false)).isEqualTo(liveSql(sql, false));
    String value = PgLexer.lex(out, false).tokens().get(5).value();
    assertThat(value).startsWith("password=").endsWith(" \\").doesNotContain("Hunter2xyz");
    // The same text with the setting on: the backslash is the value's, and stays one.
    String on = "UPDATE t SET a = E'pass\\x77ord=Hunter2xyz \\\\' WHERE id = 1 -- '";
    assertThat(liveSql(stored(on, true), true)).isEqualTo(liveSql(on, true));
    assertThat(liveSql(stored(on, false), false)).isEqualTo(liveSql(on, false));
  }

  /**
   * Review 13, F6: N'…' is no escape string, so a masked national constant written back with its
   * backslash doubled read as another value (two backslashes) with standard_conforming_strings on.
   */
  @Test
  void aMaskedNationalConstantWithABackslashKeepsItsValue() {
    String sql = "SELECT N'C:\\dir password: Hunter2xyz' AS p";
    String out = stored(sql, true);
    assertThat(out).doesNotContain("Hunter2xyz");
    PgToken constant = PgLexer.lex(out, true).tokens().get(1);
    assertThat(constant.value()).startsWith("C:\\dir password").doesNotStartWith("C:\\\\");
    assertThat(liveSql(out, true)).isEqualTo(liveSql(sql, true));
    // Without a backslash it stays national.
    assertThat(stored("SELECT N'password: Hunter2xyz' AS p", true)).startsWith("SELECT N'");
  }

  /**
   * Review 13, F7: text the lexer fails on. The constants before the error are read as the server
   * reads them and masked on their value; the rest is masked whole, as text the server rejects.
   */
  @Test
  void textTheLexerRejectsIsStillMaskedOnTheDecodedValuesBeforeTheError() {
    String sql = "SELECT E'pass\\x77ord=Hunter2xyz', 'unterminated";
    assertThat(PgLexer.lex(sql, true).ok()).isFalse();
    assertThat(stored(sql, true)).doesNotContain("Hunter2xyz").endsWith(", 'unterminated");
  }

  @Test
  void binaryParametersAreShownDecodedByTheirDeclaredType() {
    byte[] bind = {'R', 0, 1, 0, 1, 0, 1, 0, 0, 0, 8, 0x40, 0, 0, 0, 0, 0, 0, 0};
    assertThat(PgParamTypes.note(new int[] {701}, bind, 0)).isEqualTo(" (float8, binary: 2.0)");
    assertThat(PgParamTypes.note(new int[] {20}, bind, 0))
        .isEqualTo(" (int8, binary: 4611686018427387904)");
    assertThat(PgParamTypes.note(new int[] {0}, bind, 0)).isEmpty();
    assertThat(PgParamTypes.exact(new int[] {701}))
        .isNotEqualTo(PgParamTypes.exact(new int[] {20}));
  }
}
