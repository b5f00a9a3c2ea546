package dev.gatehouse.masking;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The second red team's findings on separators (F11): cards, SSNs, phones, IBANs and emails written
 * with Unicode spaces, dashes, at signs and full stops other than the ASCII ones. Masked by the
 * real engine on the String path and on the UTF-8 byte path, with look-alikes that must stay
 * unmasked.
 */
class RedTeamSeparatorsTest {

  @BeforeAll
  static void engine() {
    DetectionGapsTest.engine();
  }

  static final String[] SPACES = {
    "\u2007", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2008", "\u200a", "\u205f",
    "\u1680", "\u0085", "\u2028", "\u2029"
  };

  static final String[] DASHES = {
    "\u2010", "\u2011", "\u2012", "\u2014", "\u2015", "\u2212", "\uff0d", "\ufe63"
  };

  @Test
  void unicodeSpacesAndDashesBetweenGroups() {
    List<String[]> cases = new ArrayList<>();
    List<String> seps = new ArrayList<>(List.of(SPACES));
    seps.addAll(List.of(DASHES));
    for (String x : seps) {
      cases.add(new String[] {"card 4111" + x + "1111" + x + "1111" + x + "1111 ok", "1111" + x});
      cases.add(new String[] {"ssn 536" + x + "22" + x + "1234", "22" + x + "1234"});
      cases.add(new String[] {"call +1" + x + "415" + x + "555" + x + "0100", "415" + x + "555"});
      cases.add(new String[] {"v: 5500" + x + "0055" + x + "5555" + x + "5559", "0055" + x});
    }
    cases.add(
        new String[] {
          "iban DE89\u20073704\u20070044\u20070532\u20070130\u200700", "0044\u20070532"
        });
    DetectionGapsTest.assertMasked(cases.toArray(String[][]::new));
  }

  @Test
  void fullWidthAtAndFullStopsInEmails() {
    DetectionGapsTest.assertMasked(
        new String[][] {
          {"mail bob.smith\ufe6bexample.com", "smith"},
          {"mail bob.smith\uff20example\uff0ecom", "smith"},
          {"mail bob.smith@example\u3002com", "smith"},
          {"mail bob.smith@example\uff61com", "smith"},
          {"mail bob.smith@example\uff0ecom", "smith"},
        });
  }

  @Test
  void dashesAndSpacesInProseAreNotValues() {
    DetectionGapsTest.assertNotMasked(
        "pages 12\u201334 of the 2010\u20132015 report",
        "room 4\u2007B, floor \u22122",
        "price 1\u2009200 \u2014 see p.\u200712",
        "会议在三点。明天见。",
        "temperature \u221212 to \u22125 degrees",
        "ISBN 978\u20110\u2011306\u201140615\u20117 (not a card)");
  }

  /**
   * F12: colour codes inside a value of a result row (the terminal path reads them through, the row
   * path read them as text): masked by the String path and by the UTF-8 row path of the engine.
   */
  @Test
  void ansiColourCodesInsideValues() {
    String[][] cases = {
      {"card 4111\u001b[1;31m1111\u001b[0m11111111", "11111111"},
      {"ssn 536-\u001b[1m22\u001b[0m-1234", "1234"},
      {"mail bob.\u001b[1msmith\u001b[0m@example.com", "smith"},
      {"\u001b[32mphone +1 415 555 0100\u001b[0m", "555 0100"},
    };
    List<String> leaks = new ArrayList<>();
    for (String[] c : cases) {
      String masked = DetectionGapsTest.engine.redact("pii", c[0]);
      if (masked.contains(c[1])) {
        leaks.add(c[0] + " => " + masked);
      }
      byte[] b = c[0].getBytes(StandardCharsets.UTF_8);
      String viaBytes = new String(DetectionGapsTest.engine.redactUtf8("pii", b), UTF_8);
      if (viaBytes.contains(c[1])) {
        leaks.add("(bytes) " + c[0] + " => " + viaBytes);
      }
    }
    assertThat(leaks).as("values that leak").isEmpty();
    // Colour codes around ordinary text change nothing.
    String plain = "\u001b[1;31mERROR\u001b[0m build 1234 took 56 s";
    assertThat(DetectionGapsTest.engine.redact("pii", plain)).isEqualTo(plain);
  }

  /** F8: a bare value cut inside its token by {@code & < " ;} runs on to the token's end. */
  @Test
  void assignmentValuesRunToTheEndOfTheirToken() {
    DetectionGapsTest.assertMasked(
        new String[][] {
          {"password=Tr0ub4dor&3xyz", "3xyz"},
          {"DB_PASSWORD=Pa55w0rd&Rest99", "Rest99"},
          {"secret=Ab12<Cd34>Ef56", "Ef56"},
          {"password=Ab12\"Cd34Ef", "Cd34Ef"},
          {"export API_KEY=Zq81;Xw77Lm03 && run", "Xw77Lm03"},
        });
    // Where the character separates: query parameters, another assignment, JSON, markup.
    String[][] kept = {
      {"https://x.example/login?password=Tr0ub4dor&user=bob", "&user=bob"},
      {"?password=Hunter2x&lang=en", "&lang=en"},
      {"password=Tr0ub4dor&user=bob", "&user=bob"},
      {"Pwd=S3cr3tPw;Uid=bob;Server=db1", ";Uid=bob"},
      {"{\"password\":\"Tr0ub4dor\",\"user\":\"bob\"}", "\",\"user\":\"bob\"}"},
      {"{\"cmd\":\"password=Tr0ub4dor\",\"user\":\"bob\"}", "\",\"user\":\"bob\"}"},
      {"<p>password=Tr0ub4dor</p>", "</p>"},
      {"api_key=Tr0ub4dor9<br>next", "<br>next"},
      {"<td>secret=Tr0ub4dor9</td>", "</td>"},
    };
    List<String> lost = new ArrayList<>();
    for (String[] c : kept) {
      String masked = DetectionGapsTest.engine.redact("pii", c[0]);
      if (masked.equals(c[0]) || !masked.contains(c[1])) {
        lost.add(c[0] + " => " + masked);
      }
    }
    assertThat(lost).as("values not masked, or structure masked").isEmpty();
  }
}
