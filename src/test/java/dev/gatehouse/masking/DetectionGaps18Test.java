package dev.gatehouse.masking;

import static dev.gatehouse.masking.DetectionGapsTest.assertMasked;
import static dev.gatehouse.masking.DetectionGapsTest.assertNotMasked;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The detection gaps closed in the eighteenth session (issue #4): a card security code after its
 * longer names and a space ({@code security code 1234}, {@code card verification value 123}, {@code
 * Sicherheitscode 123}, {@code code de sécurité 123}, {@code CID 1234} on an Amex), and addresses
 * written to escape harvesters ({@code ana(at)example(dot)com}, {@code ana at example dot com},
 * {@code ana@example[.]com}). Values are masked by the real engine on the String path and on the
 * UTF-8 byte path, with look-alikes that must stay unmasked; the parts' byte gates are checked
 * never to stop a value their detector finds something in.
 */
class DetectionGaps18Test {
  static final PiiDetectors.Cvv.Worded WORDED = new PiiDetectors.Cvv.Worded();

  /** The parts of the obfuscated address: the at in brackets, a dot as a word, a defanged dot. */
  static final List<Detector> OBFUSCATED = new PiiDetectors.Email().parts().subList(2, 5);

  @BeforeAll
  static void engine() {
    DetectionGapsTest.engine(); // the red team's engine and pii profile
  }

  @Test
  void aCardSecurityCodeAfterItsLongerNamesIsRead() {
    assertMasked(
        new String[][] {
          {"security code 1234", "1234"},
          {"Security Code 123", "123"},
          {"SECURITY CODE 123", "123"},
          {"card security code 0421", "0421"},
          {"security-code 737", "737"},
          {"security code #737", "737"},
          {"security code no. 737", "737"},
          {"security code: 123", "123"}, // as before
          {"card verification value 123", "123"},
          {"Card Verification Code: 4821", "4821"},
          {"card validation number 123", "123"},
          {"CVV code 123", "123"},
          {"cvc number: 1234", "1234"},
          {"CVC 123", "123"}, // as before (sixteenth session)
          {"cvv2 456", "456"},
          {"Sicherheitscode 123", "123"},
          {"SICHERHEITSCODE 123", "123"},
          {"Sicherheitscode: 123", "123"},
          {"Kartenprüfnummer 123", "123"},
          {"Kartenpruefnummer 123", "123"},
          {"code de sécurité 123", "123"},
          {"Code de Sécurité 123", "123"},
          {"CODE DE SÉCURITÉ 123", "123"},
          {"code de securite 123", "123"},
          {"code de sécurité : 123", "123"}, // the French space before a colon
          {"cryptogramme visuel 123", "123"},
          {"código de seguridad 123", "123"},
          {"codice di sicurezza 123", "123"},
          {"Amex 3782 822463 10005, CID 1234", "1234"},
          {"card: amex, cid: 1234", "1234"},
          {"American Express CID 4321 exp 12/27", "4321"},
          {"paid by card, security code 2024", "2024"}, // a year-like code at the end
          {"security code\u00a0737", "737"}, // a no-break space: not judged by the byte gate
          {"security code 737, thanks", "737"}
        });
    assertNotMasked(
        "security code review",
        "security code review 2024",
        "security code 2024 rotation", // a year before more words
        "error code 1234",
        "zip code 12345",
        "code 1234", // a product, discount, error or area code
        "promo code 1234",
        "security code 12345", // runs on
        "security code 12",
        "security code 4.0",
        "security code 12/27",
        "security code 1234abc",
        "Sicherheitscode-Generator 2000",
        "code de sécurité sociale 123",
        "CID 1234", // a customer's, caller's or connection's id
        "cid: 1234",
        "customer CID 4321 opened a ticket",
        "amex CID 123", // an Amex code has 4 digits
        "acid 1234 card",
        "cvv codes 2024 policy");
  }

  @Test
  void obfuscatedAddressesAreRead() {
    assertMasked(
        new String[][] {
          {"ana(at)example(dot)com", "ana"},
          {"ana [at] example [dot] com", "ana"},
          {"ana {at} example {dot} com", "ana"},
          {"ana <at> example <dot> com", "ana"},
          {"ana(AT)example(DOT)com", "ana"},
          {"ana[at]example.com", "ana"},
          {"ana.silva(at)mail.example.co.uk", "ana.silva"},
          {"ana at example dot com", "ana"},
          {"ANA AT EXAMPLE DOT COM", "ANA"},
          {"ana AT example DOT com", "ana"},
          {"write to ana.silva at example dot org for the files", "ana.silva"},
          {"john dot doe at example dot com", "john dot doe"},
          {"ana at example(dot)com", "ana"},
          {"ana@example[.]com", "ana"},
          {"ana@example(.)com", "ana"},
          {"ana@example{.}com", "ana"},
          {"ana@mail[.]example[.]com", "ana"},
          {"ana@example[dot]com", "ana"},
          {"ana＠example[.]com", "ana"}, // the full-width at, read as @
          {"ana＠example.com", "ana"}, // as before
          {"contact: ana (at) example (dot) com.", "ana"}
        });
    assertNotMasked(
        "meet at noon dot",
        "look at example.com",
        "look at example dot com",
        "at the end",
        "Put a dot at the end of the sentence",
        "the red dot at the top right",
        "Meet at the Dot Com Cafe",
        "He worked at a dot com startup",
        "we met at the dot com bubble",
        "find us at example dot com",
        "email me at example dot com",
        "ana at example.com", // prose as often ("we're at example.com")
        "ana AT example dot com", // the words in two cases
        "see (at) noon", // no domain
        "price (at) cost",
        "list [.] item",
        "user@localhost[.]",
        "v1.2 (dot) release",
        "x(at)y",
        "dot at 5");
  }

  @Test
  void theObfuscatedAddressIsMaskedInThePartialEmailStyle() {
    assertThat(DetectionGapsTest.engine.redact("pii", "ana(at)example(dot)com"))
        .isEqualTo("a****(at)example(dot)com");
    assertThat(DetectionGapsTest.engine.redact("pii", "mail ana [at] example [dot] com today"))
        .isEqualTo("mail a**** [at] example [dot] com today");
    assertThat(DetectionGapsTest.engine.redact("pii", "ana at example dot com"))
        .isEqualTo("a**** at example dot com");
    assertThat(DetectionGapsTest.engine.redact("pii", "ana@example[.]com"))
        .isEqualTo("a****@example[.]com");
    assertThat(new Style.Partial(-1).apply("ana.matt AT example DOT com", "email"))
        .isEqualTo("a**** AT example DOT com");
  }

  /**
   * Every address with the letters of the markers arms the parts for addresses written out; such a
   * value is still masked on its bytes (the email column's path), and one with a marker goes to the
   * String path: both give what the String path gives.
   */
  @Test
  void anEmailValueStaysOnTheBytePathAndOneWithAMarkerIsReadAsOnTheStringPath() {
    Profile pii = DetectionGapsTest.pii;
    for (String v :
        List.of(
            "greta.tanaka@example.com",
            "dana.otto@example.com",
            "ann@example.com, ana(at)example.com",
            "ann@example.com or ana at example dot com",
            "ana@example[.]com",
            "ann@example.com <ann@example.com>",
            "x@example.com (dot)")) {
      byte[] b = v.getBytes(StandardCharsets.UTF_8);
      byte[] viaBytes = pii.redactUtf8Bytes(b, 0, b.length);
      assertThat(viaBytes).as(v).isNotNull();
      assertThat(new String(viaBytes, StandardCharsets.UTF_8)).as(v).isEqualTo(pii.redact(v));
    }
    byte[] plain = "greta.tanaka@example.com".getBytes(StandardCharsets.UTF_8);
    long armed = pii.scanner.armedUtf8(plain, 0, plain.length);
    assertThat(armed & pii.scanner.emailWrittenOut).as("armed by the letters").isNotZero();
    assertThat(pii.scanner.email.findAscii(plain, 0, plain.length, new ArrayList<>())).isTrue();
    byte[] marked = "ann@example.com, ana(at)example.com".getBytes(StandardCharsets.UTF_8);
    assertThat(pii.scanner.email.findAscii(marked, 0, marked.length, new ArrayList<>())).isFalse();
    assertThat(pii.redact("ann@example.com, ana(at)example.com"))
        .isEqualTo("a****@example.com, a****(at)example.com");
  }

  @Test
  void theGatesStopSentencesWithoutTheMarkersBeforeTheKeywordSearch() {
    for (String v :
        List.of(
            "Order 5521 shipped to 221B Baker Street.",
            "Refund of 12.34 EUR approved by support after call.",
            "Customer asked to leave the parcel with the neighbour at no. 23.",
            "Customer asked to leave the parcel with the neighbour at no. 123.", // no name before
            "2024-06-11 10:02:36",
            "security code review")) {
      assertThat(gate(WORDED, v)).as(v).isFalse();
    }
    for (String v :
        List.of(
            "Meet at noon at the station, the dotted line marks the route.",
            "look at example.com",
            "see (attached) file [a] and {x}",
            "anecdote at 5 dots")) {
      for (Detector d : OBFUSCATED) {
        assertThat(gate(d, v)).as(v).isFalse();
      }
    }
    // names, streets, statuses and timestamps arm none of the address parts in the first pass
    for (String v : List.of("Main Street", "delivered", "2024-09-27 13:45:12.123456+00", "Anna")) {
      byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
      assertThat(DetectionGapsTest.pii.scanner.armedUtf8(bytes, 0, bytes.length)).as(v).isZero();
    }
    byte[] b = "Order 5521 shipped to 221B Baker Street.".getBytes(StandardCharsets.UTF_8);
    long armed = DetectionGapsTest.pii.scanner.armedUtf8(b, 0, b.length);
    assertThat(DetectionGapsTest.pii.scanner.keywordsPresentUtf8(armed, b, 0, b.length)).isZero();
    for (String v : List.of("security code 123", "CID 1234", "code no.123", "secure é 123")) {
      assertThat(gate(WORDED, v)).as(v).isTrue();
    }
    String[] marks = {"a(at)b", "a DOT b", "a [.] b"};
    for (int k = 0; k < 3; k++) {
      assertThat(gate(OBFUSCATED.get(k), marks[k])).as(marks[k]).isTrue();
      assertThat(gate(OBFUSCATED.get(k), "a＠b")).isTrue(); // not judged on the bytes
    }
    assertThat(gate(OBFUSCATED.get(1), "a{dot}b")).isTrue();
  }

  private static boolean gate(Detector d, String value) {
    byte[] b = value.getBytes(StandardCharsets.UTF_8);
    return d.mayFindAscii(b, 0, b.length);
  }

  /**
   * Random text over what the gates read, in segments of a name or junk, separators and digits: a
   * stop of the gate means the detector finds nothing.
   */
  @Test
  void theGatesNeverStopAValueTheirDetectorFindsSomethingIn() {
    String[] cvvWords = {
      "security code",
      "CID",
      "card CID",
      "Sicherheitscode",
      "Kartenpruefnummer",
      "code de securite",
      "code de sécurité",
      "cvv code",
      "CVC NUMBER",
      "card verification value",
      "codice di sicurezza",
      "Order",
      "code",
      "x",
      ""
    };
    String[] cvvSeps = {
      " ", "  ", " no. ", " nr", "no", ":", " : ", "=", "#", "\t", "\"", "'", ".", "", "\u00a0",
      "\u200b", "-"
    };
    String[] cvvDigits = {"123", "1234", "12345", "2024", "12", "737 ", "0421.", ""};
    String[] mailWords = {
      "ana", "example", "com", "john", "me", "the", "at", "dot", "x", "mail", "AT", "DOT", ""
    };
    String[] mailMarks = {
      "(at)", "[.]", " at ", " dot ", " AT ", " DOT ", "{dot}", "<at>", "@", ".", " ", "\t", "(",
      ")", "[", "\u200b", "＠", "(AT)", " [at] ", ""
    };
    Scanner wordedAlone = new Scanner(List.of(WORDED));
    List<Scanner> obfuscatedAlone = OBFUSCATED.stream().map(d -> new Scanner(List.of(d))).toList();
    Random r = new Random(18);
    List<String> misses = new ArrayList<>();
    int cvvFound = 0;
    int mailFound = 0;
    for (int i = 0; i < 200_000; i++) {
      boolean cvv = (i & 1) == 0;
      StringBuilder s = new StringBuilder();
      for (int k = 1 + r.nextInt(cvv ? 3 : 6); k > 0; k--) {
        if (cvv) {
          s.append(pick(r, cvvWords)).append(pick(r, cvvSeps)).append(pick(r, cvvDigits));
        } else {
          s.append(pick(r, mailWords)).append(pick(r, mailMarks));
        }
      }
      String v = s.toString();
      boolean found = false;
      if (cvv) {
        found = !wordedAlone.scanUngated(v).isEmpty();
        if (found && !gate(WORDED, v)) {
          misses.add(v);
        }
      } else {
        for (int k = 0; k < OBFUSCATED.size(); k++) {
          boolean part = !obfuscatedAlone.get(k).scanUngated(v).isEmpty();
          if (part && !gate(OBFUSCATED.get(k), v)) {
            misses.add(k + ": " + v);
          }
          found |= part;
        }
      }
      cvvFound += cvv && found ? 1 : 0;
      mailFound += !cvv && found ? 1 : 0;
    }
    assertThat(misses).as("values the gate stopped and the detector finds something in").isEmpty();
    assertThat(cvvFound).as("the random text exercises the code part").isGreaterThan(2000);
    assertThat(mailFound).as("and the address part").isGreaterThan(2000);
  }

  private static String pick(Random r, String[] xs) {
    return xs[r.nextInt(xs.length)];
  }
}
