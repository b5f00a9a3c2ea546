package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Values a red team read back through {@code gatehouse demo} as alice ({@code pii} profile) in the
 * eleventh session: each is masked by the real engine on the String path and on the UTF-8 row path
 * ({@link ColumnMasker#maskUtf8Bytes}, as a DataRow value is masked), with look-alikes that stay.
 */
class ReadBackFindingsTest {
  static MaskingEngine engine;
  static Profile pii;
  static ColumnMasker column;

  @BeforeAll
  static void engine() {
    MaskingRedTeamTest.engine();
    engine = MaskingRedTeamTest.engine;
    pii = MaskingRedTeamTest.pii;
    column = engine.columnMasker("pii", "c", "public", "t", "note");
  }

  /** The value as the row path masks it. */
  static String row(String text) {
    byte[] in = text.getBytes(StandardCharsets.UTF_8);
    byte[] out = column.maskUtf8Bytes(in, 0, in.length);
    return out == null ? text : new String(out, StandardCharsets.UTF_8);
  }

  /** Each {text, parts that must not survive...}: masked on both paths. */
  static void assertMasked(String[]... cases) {
    List<String> leaks = new ArrayList<>();
    for (String[] c : cases) {
      for (String masked : new String[] {engine.redact("pii", c[0]), row(c[0])}) {
        for (int k = 1; k < c.length; k++) {
          if (masked.contains(c[k])) {
            leaks.add(c[0] + " => " + masked + " (kept " + c[k] + ")");
          }
        }
      }
    }
    assertThat(leaks).as("values that leak").isEmpty();
  }

  static void assertNotMasked(String... texts) {
    List<String> fps = new ArrayList<>();
    for (String t : texts) {
      if (!pii.scanner.scan(t).isEmpty() || !row(t).equals(t)) {
        fps.add(t + " => " + pii.scanner.scan(t));
      }
    }
    assertThat(fps).as("look-alikes masked").isEmpty();
  }

  /**
   * A quoted value whose closing quote is missing on its line (cut, mistyped, or the rest of a
   * decoded string constant) is masked to the line's end (review 13: {@code password="Hunter2xyz}
   * came back unchanged, and so was recorded from {@code E'pass\\x77ord="Hunter2xyz'}).
   */
  @Test
  void aQuotedValueWithoutItsClosingQuoteIsMasked() {
    assertMasked(
        new String[] {"password=\"Hunter2xyz", "Hunter2xyz"},
        new String[] {"db_password: 'Kx9vQ2mWp\nnext line", "Kx9vQ2mWp"},
        new String[] {"export API_TOKEN=\"ghx_8f3KqZ27vLmN4pRt", "8f3KqZ27vLmN4pRt"});
    assertThat(engine.redact("pii", "db_password: 'Kx9vQ2mWp\nnext line")).endsWith("\nnext line");
    assertNotMasked("password=\"", "the password: \"\" was empty");
  }

  /**
   * A card grouped by en dashes (a word processor's dash for a typed one) is masked on both paths;
   * ranges and Luhn-invalid numbers written with the en dash stay.
   */
  @Test
  void aCardGroupedByEnDashesIsMasked() {
    assertMasked(
        new String[] {"card 4111\u20131111\u20131111\u20131111", "4111\u20131111\u20131111"},
        new String[] {"4526\u20130181\u20135908\u20133012", "0181\u20135908"},
        new String[] {"paid with 5105\u20131051\u20130510\u20135100 on", "1051\u20130510"});
    assertNotMasked(
        "pages 1998\u20132004 and 2019\u20132023",
        "4111\u20131111\u20131111\u20131112",
        "ISBN 978\u20133\u201316\u2013148410\u20130");
  }

  /**
   * A phone number grouped by en dashes is masked like one grouped by dashes; ranges, dates and
   * version strings written with the en dash stay.
   */
  @Test
  void aPhoneGroupedByEnDashesIsMasked() {
    assertMasked(
        new String[] {"call 415\u2013555\u20130100 today", "555\u20130100"},
        new String[] {"+1 415\u2013555\u20130100", "415\u2013555"},
        new String[] {"+49 30\u20131234\u20135678", "1234\u20135678"},
        new String[] {"+33 1\u201323\u201345\u201367\u201389", "45\u201367"});
    assertNotMasked(
        "years 1990\u20132000\u20132010",
        "rows 1000\u20132000\u20133000\u20134000",
        "ISO 8601 2024\u201305\u201301",
        "build 4.2.1\u201320240501\u20131234",
        "ids 10001\u201310050");
  }

  @Test
  void aCardRightAfterAnotherCardIsMasked() {
    String a = "4526018159083012";
    String b = "5105105105105100";
    assertMasked(
        new String[] {a + " " + b, "3012 5105", "5105105105"},
        new String[] {"4526 0181 5908 3012 5105 1051 0510 5100", "5105 1051 0510"},
        new String[] {a + "-" + b, "5105105105"},
        new String[] {a + "/" + b, "5105105105"},
        new String[] {a + "_" + b, "5105105105"},
        new String[] {a + "  " + b, "5105105105"},
        new String[] {"4526-0181-5908-3012-5105-1051-0510-5100", "5105-1051-0510"},
        new String[] {b + " " + a + " 12/27", "4526018159"});
    // string_agg(card, ' ') over 3,000 cards: every one is masked, and the scan stays linear
    String agg = String.join(" ", java.util.Collections.nCopies(3000, a));
    long t0 = System.nanoTime();
    String masked = engine.redact("pii", agg);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(masked).doesNotContain("45260181").doesNotContain("0181 5908");
    assertThat(row(agg)).doesNotContain("45260181");
    assertThat(ms).as("ms for 3,000 cards").isLessThan(5_000);
    // a long run of single digits and spaces (each restart moves one group on)
    String digits = "1 ".repeat(50_000);
    t0 = System.nanoTime();
    assertThat(engine.redact("pii", digits)).isEqualTo(digits);
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000);
  }

  @Test
  void numbersAfterACardThatAreNotCardsStay() {
    assertNotMasked(
        "order 4526018159083013 5105105105105101 shipped",
        "ids 1234567890123456 6543210987654321",
        "range 4111111111111112-4111111111111113");
    // the card goes, the number after it stays
    assertThat(engine.redact("pii", "4526018159083012 1234567890123456"))
        .endsWith(" 1234567890123456");
    assertThat(engine.redact("pii", "4526018159083012 12/27 cvv")).contains(" 12/27");
  }

  @Test
  void aPasswordWithSpacesIsMaskedToTheEndOfItsValue() {
    assertMasked(
        new String[] {"password: correct horse battery staple", "horse", "staple"},
        new String[] {"Password: Summer 2024!", "Summer", "2024"},
        new String[] {"new password: Tr0ub4dor&3", "Tr0ub4dor", "&3"},
        new String[] {"Kennwort: mein geheimes Wort", "geheimes", "Wort"},
        new String[] {"db_pass: open sesame", "sesame"});
    // it stops at a structural delimiter or the next key
    assertThat(engine.redact("pii", "password: correct horse, user: bob")).endsWith(", user: bob");
    assertThat(engine.redact("pii", "password: correct horse user: bob")).endsWith(" user: bob");
    assertThat(engine.redact("pii", "password: correct horse\nnext line")).endsWith("\nnext line");
    assertThat(engine.redact("pii", "password: hunter2 (changed)")).endsWith(" (changed)");
    assertThat(engine.redact("pii", "{password: abc def; mode: x}")).endsWith("; mode: x}");
    // '=' assignments keep their one-word value: a command line goes on after the space
    assertThat(engine.redact("pii", "password=hunter2 --verbose")).endsWith(" --verbose");
    assertThat(engine.redact("pii", "token: abc123def456 from vault")).endsWith(" from vault");
    assertNotMasked("Password: required for login", "password: ******** (hidden)");
  }

  @Test
  void cardsSplitByOtherSeparatorsAreMasked() {
    assertMasked(
        new String[] {"paid 4526\u30000181\u30005908\u30003012 ok", "0181"},
        new String[] {"paid 4526\t0181\t5908\t3012 ok", "0181"},
        new String[] {"paid 4526#0181#5908#3012 ok", "0181"},
        new String[] {"4526018159083012\u30005105105105105100", "5105105105", "4526018159"});
    assertNotMasked("year\t2019\t2020\t2021", "ticket #4526#0181", "cols 4526\t0181\t5908\t3013");
  }

  static final String PNG =
      "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAABHklEQVR4nGNgZGJmYWVj5+Dk4ubh5eMXEBQSFhEVE5eQ"
          + "lJKWkZWTV1BUUlZRVVPX0NTS1tHV0zcwNDI2MTUzt7C0sraxtbN3cHRydnF1c/fw9PL28fXzDwgMCg4JDQuPiIyK"
          + "jomNi09ITEpOSU1Lz8jMys7JzcsvKCwqLiktK6+orKquqa2rb2hsam5pbWvv6Ozq7unt658wcdLkKVOnTZ8xc9bs"
          + "OXPnzV+wcNHiJUuXLV+xctXqNWvXrd+wcdPmLVu3bd+xc9fuPXv37T9w8NDhI0ePHT9x8tTpM2fPnb9w8dLlK1evX"
          + "b9x89btO3fv3X/w8NHjJ0+fPX/x8tXrN2/fvf/w8dPnL1+/ff/x89fvP3///WcY9f+o/0ew/wHkyf4QS9ynHQAAAA"
          + "BJRU5ErkJggg==";

  @Test
  void publicDataIsNotReadAsASecret() {
    assertNotMasked(
        PNG,
        "Digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "Content-Digest: sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
        "to 0x52908400098527886E0F7030069857D2E4169EE7",
        "to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        "to 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
        "route 192.168.0.0/16 via",
        "allow 10.0.0.0/8, 172.16.0.0/12 and 203.0.113.0/24");
    // secrets of the same shapes stay masked: a 32-byte key (WireGuard, Fernet) is a bare
    // 44-character base64 value like a digest; an Ethereum private key has 64 hex digits; a
    // base58 string with a wrong checksum is no address; host addresses and public networks
    assertMasked(
        new String[] {"key yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", "yAnz5TF"},
        new String[] {
          "k 0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318", "4c0883a691"
        },
        new String[] {"to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "1A1zP1eP5QGefi2"},
        new String[] {"host 192.168.1.17/24", "192.168.1.17"},
        new String[] {"net 81.2.69.0/24", "81.2.69.0"},
        new String[] {"host 192.168.1.17", "192.168.1.17"},
        new String[] {"iVBORx" + PNG.substring(6, 60), PNG.substring(6, 40)});
  }

  @Test
  void cookieValuesAreMasked() {
    String sid = "8f14e45fceea167a5a36dedd4bea2543";
    assertMasked(
        new String[] {"Cookie: sessionid=" + sid, sid},
        new String[] {"cookie: theme=dark; sessionid=" + sid + "; csrftoken=Zx9", sid, "Zx9"},
        new String[] {"Set-Cookie: session=\"" + sid + "\"; Path=/; HttpOnly", sid},
        new String[] {"select 'Cookie: sid=" + sid + "'", sid});
    assertThat(engine.redact("pii", "Set-Cookie: session=" + sid + "; Path=/; HttpOnly"))
        .endsWith("; Path=/; HttpOnly");
    assertNotMasked("cookie: none", "cookie consent = accepted", "the cookie jar is empty");
    // _PW and -PW under their shared keyword
    assertMasked(
        new String[] {"DB_PW=hunter2x", "hunter2x"}, new String[] {"smtp-pw: s3cr3t!", "s3cr3t"});
  }
}
