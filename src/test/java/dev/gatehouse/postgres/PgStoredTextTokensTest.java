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
