package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SQL's password syntax in stored statement texts ({@link MaskingEngine#redactStored}): the red
 * team read a user mapping's password back verbatim, and a DBA's ALTER ROLE was recorded in clear.
 */
class StoredStatementMaskingTest {
  static final MaskingEngine ENGINE =
      MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "test"), 0));

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "ALTER ROLE app WITH ENCRYPTED PASSWORD 'N3w-R0le-pw' VALID UNTIL 'infinity'|N3w-R0le-pw",
        "CREATE USER MAPPING FOR x SERVER s OPTIONS (user 'x', password 'Fdw-S3cret-99')|S3cret",
        "CREATE USER 'u'@'%' IDENTIFIED BY 'my''sql pw'|sql pw",
        "ALTER USER u IDENTIFIED WITH mysql_native_password BY 'Nat1ve!pw'|Nat1ve!pw",
        "create role r login password E'esc\\'d-pw9'|d-pw9"
      })
  void sqlPasswordsAreMaskedInStoredTexts(String sql, String secret) {
    for (String profile : List.of("secrets", "pii", "none")) {
      assertThat(ENGINE.redactStored(profile, sql)).as(profile).doesNotContain(secret);
    }
    assertThat(ENGINE.redactStored("pii", sql)).contains("[REDACTED:assignment]");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ALTER ROLE app PASSWORD NULL",
        "SELECT password_reset FROM users",
        "Customer asked to leave the parcel with the neighbour at no. 23."
      })
  void otherTextIsLeftAsTheProfileLeavesIt(String text) {
    assertThat(ENGINE.redactStored("pii", text)).isEqualTo(ENGINE.redact("pii", text));
  }
}
