package dev.gatehouse.masking;

import static dev.gatehouse.masking.DetectionGapsTest.assertMasked;
import static dev.gatehouse.masking.DetectionGapsTest.assertNotMasked;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The detection gaps closed in the eleventh session (issue #4): card security codes, SQL password
 * syntax and {@code .netrc} lines in results, checksummed blockchain addresses, the UK NI word,
 * stored texts of profiles without secret detectors. Every value is masked by the real engine on
 * the String path and on the UTF-8 byte path, with look-alikes that must stay unmasked.
 */
class DetectionGaps11Test {
  static Profile pii;

  @BeforeAll
  static void engine() {
    DetectionGapsTest.engine(); // the red team's engine and pii profile
    pii = DetectionGapsTest.pii;
  }

  @Test
  void theKeywordTableGrowsPastOneHundredTwentyEightLetterSets() {
    assertThat(pii.scanner.presenceTables).isNotNull();
    assertThat(pii.scanner.keywordLetterSets).isGreaterThan(128);
    // Every detector's gates with the four-word table agree with the loop over its keywords.
    List<Detector> many = new ArrayList<>(pii.scanner.detectors());
    Scanner s = new Scanner(many);
    for (String v :
        List.of(
            "cvv: 123",
            "contraseña: x9",
            "sig=abcdefgh12",
            "PIN: 4921",
            "hello world 1234",
            "machine h login u password p")) {
      assertThat(s.scan(v)).as(v).isEqualTo(s.scanUngated(v));
    }
  }

  @Test
  void cardSecurityCodes() {
    assertMasked(
        new String[][] {
          {"cvv: 123", "123"},
          {"{\"cvc\":\"1234\"}", "1234"},
          {"CVV2=123", "123"},
          {"card 4111111111111111 exp 12/27 CVV: 737", "737"},
          {"security code: 042", "042"},
          {"Card Security Code = 9120", "9120"},
          {"cvc2: 551 ok", "551"},
          {"security_code=7781", "7781"}
        });
    assertNotMasked(
        "CSC 2024 annual meeting",
        "cvv: required",
        "CVC 4.0 release",
        "security code 2024-05-01 rotated",
        "cvv_length=3",
        "the cvv field holds 3 or 4 digits",
        "security code review 12345",
        "csc=318");
  }

  @Test
  void sqlPasswordSyntaxAndNetrcInResults() {
    assertMasked(
        new String[][] {
          {"ALTER ROLE app WITH ENCRYPTED PASSWORD 'N3w-R0le-pw' VALID UNTIL 'infinity'", "R0le"},
          {"CREATE ROLE r LOGIN PASSWORD 'Tr0ub4dor'", "Tr0ub4dor"},
          {"CREATE USER 'u'@'%' IDENTIFIED BY 'my-sql-pw9'", "sql-pw9"},
          {"ALTER USER u IDENTIFIED WITH mysql_native_password BY 'Nat1ve!pw'", "Nat1ve"},
          {"CREATE ROLE x WITH PASSWORD = 'Eq-pw-77'", "Eq-pw-77"},
          {"OPTIONS (user 'x', password 'Fdw-S3cret-99')", "S3cret"},
          {"machine api.example.com login alice password s3cr3tNetrc", "s3cr3tNetrc"},
          {"machine ftp.example.org\n  login bob\n  password Hunter2xyz\n", "Hunter2xyz"},
          {"default\nmachine git.example.com password tok3nValue9", "tok3nValue9"},
          {"machine localhost login me password L0calPw!", "L0calPw!"}
        });
    assertNotMasked(
        "ALTER ROLE app PASSWORD NULL",
        "SELECT password_reset FROM users",
        "the machine asked for a password again",
        "Machine learning password strength estimator",
        "reset your password before Monday",
        "identified by the customer as damaged",
        "written by 'Anna' in 2021");
  }

  @Test
  void blockchainAddressesAreExemptOnlyWithTheirChecksum() {
    assertNotMasked(
        "to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "to 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "to 0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "to 0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        "to 0x52908400098527886e0f7030069857d2e4169ee7",
        "to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "to BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ",
        "to bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297");
    assertMasked(
        new String[][] {
          // one letter's case changed: the EIP-55 checksum fails
          {"to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "5aAeb6053F3E94C9"},
          // one character changed: the bech32 checksum fails
          {"to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr", "ar0srrr7xfkvy5l643"},
          {"to bc1qz7kf9wm4xv2hn8c3rt5yd6gj0ps4la9eu3wq7x", "z7kf9wm4xv2hn8c3"}
        });
  }

  @Test
  void theNiWordNamesTheNumberOnlyAsAWordInCapitals() {
    assertMasked(
        new String[][] {
          {"NI AB123456C", "AB123456C"},
          {"NI: QQ 12 34 56 C", "12 34 56"},
          {"employee NINO AB123456C", "123456"},
          {"National Insurance number AB 12 34 56 C", "12 34 56"}
        });
    assertNotMasked(
        "Giovanni AB123456C", "order for Bellini: AB123456C", "mini AB123456C", "ni AB123456C");
  }

  @Test
  void storedTextsMaskCredentialsWhateverTheProfile(@TempDir Path dir) throws Exception {
    Path rules = dir.resolve("rules.yaml");
    Files.writeString(
        rules,
        """
        profiles:
          emails_only:
            detectors: [email]
          no_entropy:
            extends: secrets
            exclude: [high_entropy]
        """);
    MaskingEngine e =
        MaskingEngine.create(
            new MaskingConfig(List.of(rules.toString()), new Secret("k", "test"), 0));
    String text =
        "psql postgres://app:Sup3r-S3cret-pw@db:5432/app; key AKIAIOSFODNN7EXAMPLE;"
            + " mail ann@example.com; ALTER ROLE a PASSWORD 'R0le-pw-42'";
    for (String profile : List.of("emails_only", "no_entropy", "pii", "none")) {
      String stored = e.redactStored(profile, text);
      assertThat(stored)
          .as(profile)
          .doesNotContain("Sup3r-S3cret-pw")
          .doesNotContain("AKIAIOSFODNN7EXAMPLE")
          .doesNotContain("R0le-pw-42");
    }
    // what the principal sees is the profile's own business
    assertThat(e.redact("emails_only", text)).contains("Sup3r-S3cret-pw");
    assertThat(e.redactStored("emails_only", text)).doesNotContain("ann@example.com");
  }

  @Test
  void formatGaps() {
    assertMasked(
        new String[][] {
          {"card 45320151 12830366 ok", "45320151 1283"},
          {"card 45320151-12830366", "45320151-1283"},
          {"IBAN DE89_3704_0044_0532_0130_00", "3704_0044_0532"},
          {"SSN 536/22/1234", "536/22/1234"},
          {"звоните 8-800-555-35-35", "555-35"},
          {"call +44 (0)20 7946 0958", "7946"},
          {"office (0)20 7946 0958", "7946"},
          {"+971 50 123 4567", "123 4567"},
          {"mobile: 050 123 4567", "123 4567"},
          {"+55 11 91234-5678", "91234"},
          {"(11) 91234-5678", "91234"}
        });
    assertNotMasked(
        "range 20240101 20241231",
        "ids 12345678 87654321",
        "1234\n5678\n9012\n3456",
        "45320151\n12830366",
        "4532\n0151\n1283\n0366",
        "DE89_3704_0044_0532_0130_01",
        "ref 536/22/12345",
        "date 12/22/1234",
        "version 8-800-555",
        "qty (0)20");
  }
}
