package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The recorded statement text with SQL's own password syntax: the constant after {@code PASSWORD}
 * or a {@code password} option is a password however it is spelled (red team, eleventh session:
 * seven of eighteen spellings were recorded in clear).
 */
class PgStoredTextTest {
  private static final UnaryOperator<String> NOTHING = UnaryOperator.identity();

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ALTER ROLE r PASSWORD $$PwSecret2!xyz$$",
        "ALTER ROLE r PASSWORD $q$PwSecret2!xyz$q$",
        "ALTER ROLE r PASSWORD /* c */ 'PwSecret2!xyz'",
        "ALTER ROLE r PASSWORD--c\n'PwSecret2!xyz'",
        "ALTER ROLE r PASSWORD U&'PwSecret2!xyz'",
        "create user u with encrypted password 'PwSecret2!xyz' valid until 'infinity'",
        "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password $$PwSecret2!xyz$$)",
        "ALTER SERVER s OPTIONS (SET \"password\" 'PwSecret2!xyz')",
        "ALTER ROLE r PASSWORD E'PwSecret2\\x21xyz'",
        // Review 13, F4: a Unicode-escaped option name does not hold the word password.
        "CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (user 'u',"
            + " U&\"p\\0061ssword\" 'PwSecret2!xyz')",
        "ALTER SERVER s OPTIONS (SET U&\"\\0070\\0061ssword\" 'PwSecret2!xyz')",
        "ALTER SERVER s OPTIONS (ADD U&\"p!0061ssword\" UESCAPE '!' 'PwSecret2!xyz')",
        "ALTER SERVER s OPTIONS (ADD u&\"P!0041SSWORD\" /* c */ UESCAPE '!' $$PwSecret2!xyz$$)"
      })
  void aPasswordConstantIsRecordedRedactedHoweverItIsSpelled(String sql) {
    String recorded = PgStoredText.decodeEscapes(sql, true, NOTHING);
    assertThat(recorded).doesNotContain("PwSecret2").contains(PgStoredText.PASSWORD_MARK);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT * FROM users WHERE password = 'not-a-secret-literal'",
        "SELECT 'keep me' AS password",
        "UPDATE t SET note = 'password reset sent'"
      })
  void otherConstantsStayAsTyped(String sql) {
    assertThat(PgStoredText.decodeEscapes(sql, true, NOTHING)).isEqualTo(sql);
  }
}
