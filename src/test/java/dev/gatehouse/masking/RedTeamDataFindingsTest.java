package dev.gatehouse.masking;

import static dev.gatehouse.masking.DetectionGapsTest.assertMasked;
import static dev.gatehouse.masking.DetectionGapsTest.assertNotMasked;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The data-side red team's eleventh-session findings on content detection (and the exec side's
 * control characters and env paths): every leaked value is masked by the real engine on the String
 * path and on the UTF-8 byte path, and the look-alikes they reported stay unmasked. The COPY rows
 * are tested through PgRowMasker in {@code PgRowMaskerTest}.
 */
class RedTeamDataFindingsTest {
  static MaskingEngine engine;
  static Profile pii;

  @BeforeAll
  static void engine() {
    DetectionGapsTest.engine(); // the red team's engine and pii profile
    engine = DetectionGapsTest.engine;
    pii = DetectionGapsTest.pii;
  }

  @Test
  void groupedCardsFollowedByAnExpiryCvvTimeOrFourDigits() {
    assertMasked(
        new String[][] {
          {"4166 1318 6091 3909 12/27", "1318 6091"},
          {"4166 1318 6091 3909 123", "1318 6091"},
          {"4166 1318 6091 3909 10:45", "1318 6091"},
          {"3782 822463 10005 12/27", "822463"},
          {"3782 822463 10005 1234", "822463"},
          {"4166\u00a01318\u00a06091\u00a03909 12/27", "1318\u00a06091"},
          {"5018\u00a01919\u00a03859\u00a02140 12/29", "1919\u00a03859"},
          {"6011\u00a02510\u00a06799\u00a09089 12/29", "2510\u00a06799"},
          {"card: 4111 1111 1111 1111 04/28 exp", "1111 1111 1111"}
        });
    // the short group stays, so an expiry alone is not hidden; a longer number is not a card
    assertThat(engine.redact("pii", "4166 1318 6091 3909 12/27")).endsWith("3909 12/27");
    assertNotMasked("4166 1318 6091 3908 12/27", "1234 5678 9012 3456 12/27");
  }

  @Test
  void overlappingAssignmentsAreAllMasked() {
    assertMasked(
        new String[][] {
          {"secret: Abc123Xyz9|secret: Def456Uvw8|secret: Ghi789Rst7", "Def456Uvw8"},
          {"PASSWORD: Abc123Xyz9/PASSWORD: Def456Uvw8/PASSWORD: Ghi789Rst7", "Def456Uvw8"},
          {"token=fVISqP*7DhPj|token=Ab3dEf9hIj|token=Zz9yXx8wVv", "Ab3dEf9hIj"},
          {"api_key: 9nEHr5@4Vyzw;api_key: Qq1wEe2rTt", "Qq1wEe2rTt"}
        });
    for (String v :
        List.of(
            "secret: Abc123Xyz9|secret: Def456Uvw8|secret: Ghi789Rst7",
            "PASSWORD: Abc123Xyz9/PASSWORD: Def456Uvw8/PASSWORD: Ghi789Rst7")) {
      assertThat(engine.redact("pii", v))
          .doesNotContain("Abc123Xyz9")
          .doesNotContain("Def456Uvw8")
          .doesNotContain("Ghi789Rst7");
    }
  }

  @Test
  void valuesJoinedToAnIdByATabDashOrSlash() {
    assertMasked(
        new String[][] {
          {"17\t4017440016962", "4017440016962"},
          {"100017\t6304774760739563974", "6304774760739563974"},
          {"17\t6759239322368147 12/29", "6759239322368147"},
          {"row-17-6304774760739563974", "6304774760739563974"},
          {"row-17-sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ", "abcdefghijklm"},
          {"row-17-8.8.8.8", "8.8.8.8"},
          {"row-17-203.0.114.7", "203.0.114.7"},
          {"row-17---password 9LwIih@2sSas", "9LwIih@2sSas"}
        });
    assertNotMasked("release-1.2.3.4", "x---password");
  }

  @Test
  void phonesFollowedByACsvField() {
    assertMasked(
        new String[][] {
          {"móvil: 01 23 45 67 89,151", "45 67"},
          {"WhatsApp 612 34 56 78,154", "34 56"},
          {"Tel: +7 495 123-45-67,160", "123-45"},
          {"fax: 8 (495) 123-45-67,161", "123-45"},
          {"141,415.555.0177", "555.01"}
        });
    // the partial style keeps the last two digits, whatever follows
    assertThat(engine.redact("pii", "móvil: 01 23 45 67 89,151"))
        .isEqualTo("móvil: ** ** ** ** 89,151");
    assertNotMasked("1,234.567", "12,345.67 total", "qty 1,250,000");
  }

  @Test
  void quotedLocalPartsAfterCsvOrJsonEscaping() {
    assertMasked(
        new String[][] {
          {"\"\"\"john.smith\"\"@example.com\",5", "john.smith"},
          {"{\"v\":\"\\\"john.smith\\\"@example.com\"}", "john.smith"}
        });
    // the opening escape stays whole: still CSV, still JSON
    assertThat(engine.redact("pii", "\"\"\"john.smith\"\"@example.com\",5"))
        .isEqualTo("\"\"\"j****@example.com\",5");
    assertThat(engine.redact("pii", "{\"v\":\"\\\"john.smith\\\"@example.com\"}"))
        .isEqualTo("{\"v\":\"\\\"j****@example.com\"}");
  }

  @Test
  void htmlEscapedPasswordElements() {
    assertMasked(
        new String[][] {
          {"&lt;password&gt;Ka11q9*xdtIn&lt;/password&gt;", "Ka11q9"},
          {"<v>&lt;password&gt;Ka11q9*xdtIn&lt;/password&gt;</v>", "Ka11q9"},
          {"&lt;db_Kennwort&gt;Wx7-geheim&lt;/db_Kennwort&gt;", "geheim"}
        });
    assertNotMasked("&lt;b&gt;bold&lt;/b&gt;", "&lt;token&gt;&lt;/token&gt;");
  }

  @Test
  void maskedJsonTextStaysValidJson() throws Exception {
    ObjectMapper json = new ObjectMapper();
    for (String doc :
        List.of(
            "{\"v\":\"stripe.api_key = \\\"sk_live_4eC39HqLyjWDarjtT1zdp7dc\\\"\"}",
            "{\"v\":\"db_password: \\\"Xy7#kLm2pQ9z\\\"\"}",
            "[{\"id\":1,\"val\":\"password=\\\"Tr0ub4dor&3\\\"\"},{\"id\":2,\"val\":\"x\"}]",
            "{\"v\":\"token: \\\\\"}")) {
      String masked = engine.redact("pii", doc);
      json.readTree(masked); // throws on invalid JSON
      assertThat(masked)
          .doesNotContain("4eC39Hq")
          .doesNotContain("Xy7#kLm")
          .doesNotContain("Tr0ub");
    }
  }

  @Test
  void controlCharactersInsideAValueDoNotHideIt() {
    assertMasked(
        new String[][] {
          {"card 4111 1111 1111 111X\b1", "1111 1111"},
          {"card 4111 1111\r 1111 1111", "1111\r 1111"},
          {"card 4\u00001\u00001\u00001 1111 1111 1111", "1111 1111"},
          {"password=Hunt\rer2Secret", "er2Secret"},
          {"password=Hun\u0000ter2Secret", "ter2Secret"}
        });
    // a CRLF line end is a line end
    assertThat(engine.redact("pii", "ok\r\nok")).isEqualTo("ok\r\nok");
    // the exec red team's files, through the stream masker as exec output is masked
    StreamMasker stream = engine.streamMasker("pii");
    String out =
        new String(
                stream.feed(
                    "card 4111 1111 1111 111X\b1\ncard 4\u00001\u00001\u00001 1111 1111 1111\n"
                        .concat("password=Hunt\rer2Secret\n")
                        .getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8)
            + new String(stream.flush(), StandardCharsets.UTF_8);
    assertThat(out).doesNotContain("1111 1111 1111").doesNotContain("er2Secret");
  }

  @Test
  void envPathsAndReportedLookAlikesStayUnmasked() {
    assertNotMasked(
        "HOME=/tmp/gatehouse-job-a8Kq2ZxR7mP1",
        "PWD=/tmp/gatehouse-job-a8Kq2ZxR7mP1/work",
        "TMPDIR=/tmp/gatehouse-job-Xk29aPq7LmZ3",
        "EAN 5901234123457",
        "GTIN: 4006381333931",
        "Lottery 04 11 23 35 42 48",
        "PO-2026-813976723542",
        "INV_2024_8139767235427");
    // a password is still one after PWD= when it is not a path, and a random token under /tmp is
    // still read by the credential detectors
    assertMasked(
        new String[][] {
          {"PWD=Xk29aPq7LmZ3", "Xk29aPq7LmZ3"},
          {"Server=db;UID=app;PWD=Sup3r-S3cret;", "Sup3r-S3cret"},
          {"/tmp/ghp_abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnop"},
          {"card 5901234123457", "5901234123457"}
        });
  }

  /**
   * Review: backspaces were read only as a terminal shows them, erasing the character before, so a
   * value followed by as many backspaces and other characters went out unmasked in the bytes (which
   * keep it); read both ways now. And the shell's PWD exemption held after a ';', where {@code
   * PWD=} is an ODBC password.
   */
  @Test
  void erasedValuesAndOdbcPathPasswordsAreMasked() {
    assertMasked(
        new String[][] {
          {"card 4111111111111111" + "\b".repeat(16) + "XXXXXXXXXXXXXXXX", "4111111111111111"},
          {"password=Hunter2Secret" + "\b".repeat(13) + "*************", "Hunter2Secret"},
          {"Driver={x};Server=db;UID=sa;PWD=/Tr0ub/4dorQ;", "Tr0ub/4dorQ"},
          {"Server=db;Uid=sa;Pwd=/Tr0ub/4dorQ", "Tr0ub/4dorQ"}
        });
    assertNotMasked("PWD=/tmp/gatehouse-job-a8Kq2ZxR7m/work", "HOME=/root\nPWD=/home/ci/build/src");
  }

  /** Review: MySQL's {@code IDENTIFIED BY} with two spaces or a tab before the literal. */
  @Test
  void identifiedByWithMoreThanOneSpaceIsMasked() {
    assertMasked(
        new String[][] {
          {"CREATE USER 'u'@'%' IDENTIFIED BY  'Tr0ub4dorXyz'", "Tr0ub4dorXyz"},
          {"ALTER USER u IDENTIFIED BY\t'Tr0ub4dorXyz'", "Tr0ub4dorXyz"}
        });
  }
}
