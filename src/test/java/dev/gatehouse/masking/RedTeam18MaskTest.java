package dev.gatehouse.masking;

import static dev.gatehouse.masking.DetectionGapsTest.assertMasked;
import static dev.gatehouse.masking.DetectionGapsTest.assertNotMasked;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The masking red team rt18mask's findings F2, F4, F5 and F6 (eighteenth session, issue #4), with
 * the values from its report: secrets in JSON escaped twice over were not read; lot numbers {@code
 * ddd/ddd/dddd} and NANP-shaped numbers with a 0/1 exchange were masked as phone numbers; cards
 * were read inside 22-digit USPS tracking numbers; and a 16-digit number in fours was masked after
 * a tab (a COPY row) but not alone. Each test fails on the code before the fix.
 */
class RedTeam18MaskTest {
  @BeforeAll
  static void engine() {
    DetectionGapsTest.engine(); // the red team's engine and pii profile
  }

  /** {@code body} held in a JSON string {@code depth} times over (RFC 8259 section 7). */
  static String nest(String body, int depth) {
    for (int i = 0; i < depth; i++) {
      body = "{\"n\": \"" + body.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
    }
    return body;
  }

  static final String KEY_ID = "a4617ddbc73e5fcab08ec690201f6a9f2186d09f";

  static final String GCP =
      "export TOKEN_X={\"type\": \"service_account\", \"project_id\": \"billing-prod-3121\","
          + " \"private_key_id\": \""
          + KEY_ID
          + "\"}";

  @Test
  void secretsInJsonEscapedTwiceOverAreRead() throws Exception {
    // F2: the red team's rows 687 and 937/963 as its nested jsonb column held them (two levels:
    // the members' quotes escaped by three backslashes), and one level deeper (seven)
    assertMasked(
        new String[][] {
          {nest(GCP, 2), KEY_ID},
          {nest(GCP, 3), KEY_ID},
          {nest("\"password\": \"Pa55w0rd_wLQAy\"", 2), "Pa55w0rd_wLQAy"},
          {nest("{\"password\": \"Tr0ub4dor&300\"}", 2), "Tr0ub4dor&300"},
          {
            nest("{\"user\": \"bob\", \"password\": \"Summer2024!91\", \"ok\": true}", 3), "2024!91"
          },
          {nest("{\"apiKey\": \"k3yV4lue_9Qz7Lp2Xw\"}", 2), "k3yV4lue_9Qz7Lp2Xw"},
          {nest("{\"password\": \"Tr0ub4dor&300\"}", 4), "Tr0ub4dor&300"},
          // as before: one level, and CSV's doubled quotes
          {nest(GCP, 1), KEY_ID},
          {"\"{\"\"private_key_id\"\": \"\"" + KEY_ID + "\"\"}\"", KEY_ID}
        });
    // The masked text is still JSON whose nested strings are JSON, with the secret gone.
    ObjectMapper json = new ObjectMapper();
    for (int depth = 1; depth <= 3; depth++) {
      String masked = DetectionGapsTest.engine.redact("pii", nest(GCP, depth));
      String inner = masked;
      for (int k = 0; k < depth; k++) {
        inner = json.readTree(inner).get("n").asText();
      }
      assertThat(inner).doesNotContain(KEY_ID).contains("\"private_key_id\": \"[REDACTED");
    }
    // An empty value does not reach to the next quote; the escapes of a member's quotes must
    // agree (a run of three before the key's, of one before the value's: not one member).
    assertNotMasked(
        nest("{\"password\": \"\", \"user\": \"bob\"}", 2),
        nest("{\"password\": \"${DB_PASSWORD}\"}", 2),
        nest("{\"password\":null}", 3),
        "{\\\\\\\"private_key_id\": \\\\\\\"" + KEY_ID + "\"}");
    // more backslashes than four levels of escaping: not read, and no scan over the run
    String deep = "\\".repeat(16) + "\"private_key_id" + "\\".repeat(16) + "\": \"" + KEY_ID;
    assertNotMasked(deep);
  }

  @Test
  void slashesJoinOnlyTheDocumentedPhoneLayouts() {
    // F4: three groups joined by slashes are a lot, batch or date number
    assertNotMasked(
        "batch 826/265/3386",
        "batch 291/867/2971",
        "batch 288/035/7162",
        "lot 914/052/5055",
        "lot 459/545/3454",
        "415/555/0132",
        "030/123/4567");
    assertMasked(
        new String[][] {
          {"415/555-0132", "415/555-01"},
          {"call 415/555-0132", "415/555-01"},
          {"030 / 1234567", "12345"},
          {"0151/2345678", "0151/23456"},
          {"030/1234567", "030/12345"},
          {"+49 151/2345678", "151/23456"}
        });
  }

  @Test
  void aNationalNanpNumberNeedsAnExchangeOf2To9() {
    // F4: no assigned NANP number has an area code or exchange starting with 0 or 1
    assertNotMasked(
        "ref 929-091-0884",
        "ref 411-138-5158",
        "ref 610-014-7019",
        "ref 843-009-5316",
        "212-035-7162",
        "(212) 035-7162",
        "212.035.7162",
        "212 035 7162",
        "415/055-0132",
        "415 055-0132",
        "1-212-035-7162",
        "555-123-4567");
    assertMasked(
        new String[][] {
          {"415-555-0132", "415-555-01"},
          {"(415) 555-0132", "555-01"},
          {"415 555-0132", "415 555-01"},
          {"1-415-555-0132", "415-555-01"},
          // after +1 or a phone word a 0/1 exchange is still a number someone wrote down
          {"+1 212 035 7162", "212 035 71"},
          {"phone: 212-035-7162", "212-035-71"},
          {"tel (212) 035-7162", "035-71"},
          {"Phone 1-212-035-7162", "212-035-71"},
          // Italian mobiles, 3xx and seven digits written 3-3-4 (the red team's corpus)
          {"320 163 2442", "320 163 24"},
          {"phone 308 032 3696", "308 032 36"}
        });
  }

  /** A USPS tracking number: a real prefix and 18 random digits, printed 4-4-4-4-4-2. */
  static String usps(Random r) {
    String[] prefixes = {"9400", "9405", "9205", "9270", "9361", "9374"};
    StringBuilder n = new StringBuilder(prefixes[r.nextInt(prefixes.length)]);
    for (int i = 0; i < 18; i++) {
      n.append((char) ('0' + r.nextInt(10)));
    }
    StringBuilder b = new StringBuilder();
    for (int k = 0; k < 22; k += 4) {
      b.append(k == 0 ? "" : " ").append(n, k, Math.min(22, k + 4));
    }
    return b.toString();
  }

  @Test
  void cardsAreNotReadInsideLongerGroupedNumbers() {
    // F5: the red team's tracking numbers (9 of 300 with real prefixes were masked)
    assertNotMasked(
        "6218 6675 7166 2102 2237 18",
        "9270 4504 6327 2429 5442 98",
        "9374 3613 1444 6796 7998 82",
        "9361 1478 5714 6972 4868 34",
        "9374 5605 6351 9334 5159 89",
        "9205 5913 3558 9888 8034 55",
        "9205 6466 2010 6683 5811 56",
        "9361 5801 8919 4909 3155 53",
        "9405 7888 5734 0795 7883 81",
        "9270 3601 5986 2825 9175 94",
        // a Luhn-valid Visa after the first group of five groups of four
        "9400 4111 1111 1111 1111",
        "9400 4111 1111 1111 1111 22",
        "9400-4111-1111-1111-1111-22",
        // an 18-digit Maestro 4-4-4-4-2 (short last group, not Diners)
        "6759 6498 2643 8451 02");
    List<String> masked = new ArrayList<>();
    Random r = new Random(18018);
    for (int i = 0; i < 2000; i++) {
      String t = usps(r);
      if (!DetectionGapsTest.pii.scanner.scan(t).isEmpty()) {
        masked.add(t);
      }
    }
    assertThat(masked).as("USPS tracking numbers masked").isEmpty();
    // The layouts that stay: Diners 4-4-4-2, a 13-digit Visa in fours, a card and one more group,
    // two cards back to back, a card after a short number.
    assertMasked(
        new String[][] {
          {"3056 9309 0259 04", "9309"},
          {"3622 720627 1667", "720627"},
          {"4222 2222 2222 2", "2222 2222"},
          {"6011 5548 1668 5580 1234", "5548"},
          {"4166 1318 6091 3909 12/27", "1318"},
          {"4526 0181 5908 3012 5105 1051 0510 5100", "5105 1051 0510"},
          {"7 4111 1111 1111 1111", "4111 1111 1111"},
          {"1564\t4111 1111 1111 1111", "4111 1111 1111"}
        });
  }

  @Test
  void aGroupedNumberReadsTheSameWhateverPrecedesIt() {
    // F6: Luhn-invalid in full; 6878 7744 0549 alone is a Luhn-valid 12-digit Maestro number
    String v = "5634  6878  7744  0549";
    assertNotMasked(
        v, "1564\t" + v, "id 1564\t" + v, "x " + v, "1564 " + v, "5634\t6878  7744  0549");
    for (String before : new String[] {"", "1564\t", "7\t", "row 12\t", "x\t"}) {
      assertThat(DetectionGapsTest.engine.redact("pii", before + v)).isEqualTo(before + v);
    }
    // A 12-digit Maestro number standing alone, or after a card word, is still read
    assertMasked(
        new String[][] {
          {"6878 7744 0549", "6878 7744"},
          {"card 6878 7744 0549", "6878 7744"},
          {"paid\t6878 7744 0549", "6878 7744"},
          {"card 687877440549", "68787744"}
        });
  }
}
