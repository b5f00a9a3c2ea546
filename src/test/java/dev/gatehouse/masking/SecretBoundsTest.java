package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Where an exemption or a value ends: the public PEM exemption covers the block's base64 lines
 * only, a command-line password in single quotes is literal and runs to its closing quote, and an
 * assignment's value may be on the next line only when that line is indented more (YAML).
 */
class SecretBoundsTest {
  static final Profile PII =
      Builtins.profiles(3.5, new Style.Redact(null), List.of(), List.of()).get("pii").build();

  static final String TOKEN = "9fK2mQ7xZp4LwR8vT1nB6cY3hJ5dG0sAeUiOq";
  static final String LINE = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAERUxUWaLQ5II5WUF6DLRMxH8m98NQ";

  static boolean isPublic(String text, String token) {
    int st = text.lastIndexOf(token);
    return SecretDetectors.Entropy.isPublic(text, st, st + token.length());
  }

  @Test
  void onlyTheBase64LinesOfAPublicBlockAreExempt() {
    String begin = "-----BEGIN PUBLIC KEY-----\n";
    assertThat(isPublic(begin + LINE + "\n" + TOKEN + "\n-----END PUBLIC KEY-----", TOKEN))
        .isTrue();
    assertThat(isPublic(begin + LINE + "\n" + TOKEN, TOKEN)).as("truncated block").isTrue();
    assertThat(isPublic("  " + begin.replace("\n", "\r\n") + "  " + LINE + "\r\n  " + TOKEN, TOKEN))
        .as("indented, CRLF")
        .isTrue();
    assertThat(isPublic("-----BEGIN PUBLIC KEY----- truncated\nlater: " + TOKEN, TOKEN)).isFalse();
    assertThat(isPublic(begin + LINE + "\nlog line\n" + TOKEN, TOKEN)).isFalse();
    assertThat(isPublic(begin + LINE + "\n-----END PUBLIC KEY-----\n" + TOKEN, TOKEN)).isFalse();
    assertThat(isPublic(begin + LINE + " " + TOKEN, TOKEN)).as("a word after base64").isFalse();
    assertThat(isPublic("-----BEGIN PRIVATE KEY-----\n" + LINE + "\n" + TOKEN, TOKEN)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "db_password:\r\n  hunter2secret",
        "db_password:\n\thunter2secret",
        "  db_password:\n    hunter2secret\n  host: db",
        "db_password: \n  \"hunter2secret\""
      })
  void aValueOnTheNextMoreIndentedLineIsMasked(String text) {
    assertThat(PII.redact(text)).doesNotContain("hunter2secret");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Password: \r\nLogin successful",
        "Password:\nLogin successful",
        "  password:\n  successful",
        "    password:\n  successful",
        "password:\n  successful: true",
        "password:\n  - successful",
        "password:\n  # successful"
      })
  void aNextLineThatIsNotMoreIndentedOrIsAKeyIsNotAValue(String text) {
    assertThat(PII.scanner.scan(text)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "mysql -u root -p\"$MYSQL_PWD\" shop",
        "mysql -u root -p${MYSQL_PWD} shop",
        "mysql -u root -p$(cat /run/secrets/db) shop",
        "curl -u \"$U:${P}\" https://api.example.com",
        "curl -u admin:\"$P\" https://api.example.com",
        "smbclient //fs/s -U bob%$SMB_PW",
        "sqlplus scott/$ORACLE_PW@orcl"
      })
  void aShellReferenceOutsideSingleQuotesIsNotTheSecret(String text) {
    assertThat(PII.scanner.scan(text)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "mysql -u root -p'$MYSQL_PWD' shop|$MYSQL_PWD",
        "mysql -u root -p\"$MYSQL_PWD-x\" shop|$MYSQL_PWD-x",
        "curl -u admin:'pa ss' https://api.example.com|pa ss",
        "curl -U 'proxy:$x y' https://api.example.com|$x y",
        "smbclient //fs/s --user='bob%$mb pw'|$mb pw",
        "curl -u \"admin:cut0ff pw|cut0ff pw",
        "curl -u 'admin:cut0ff pw\nnext line|cut0ff pw"
      })
  void aSingleQuotedOrLongerValueIsMaskedToItsClosingQuote(String row) {
    String[] r = row.split("\\|");
    String masked = PII.redact(r[0]);
    assertThat(masked).doesNotContain(r[1]).contains("[REDACTED:connection_password]");
  }
}
