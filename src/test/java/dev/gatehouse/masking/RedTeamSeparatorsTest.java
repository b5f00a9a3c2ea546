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
    "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\uff0d", "\ufe63"
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
}
