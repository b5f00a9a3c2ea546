package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gates of their own of the card security code and the SQL/{@code .netrc} password syntax
 * ({@link Detector#mayFindAscii}, twelfth session of issue #4): a value that only just passes a
 * gate is masked on the byte path the PostgreSQL row masker takes ({@link Profile#redactUtf8Bytes},
 * which applies them) and on the String path; values the gates stop leave before the keyword
 * search; and on random text over the characters the gates read, a gate never stops a value its
 * detector finds something in.
 */
class AsciiGatesTest {
  static Profile pii;
  static final PiiDetectors.Cvv CVV = new PiiDetectors.Cvv();
  static final SecretDetectors.PasswordSyntax SYNTAX = new SecretDetectors.PasswordSyntax();

  @BeforeAll
  static void engine() {
    DetectionGapsTest.engine();
    pii = DetectionGapsTest.pii;
  }

  /** Masked on the byte path and on the String path, the secret gone from both. */
  private static void assertMaskedBothWays(String value, String secret) {
    byte[] b = value.getBytes(StandardCharsets.UTF_8);
    byte[] viaBytes = pii.redactUtf8Bytes(b, 0, b.length);
    assertThat(viaBytes).as("byte path: %s", value).isNotNull();
    assertThat(new String(viaBytes, StandardCharsets.UTF_8)).as(value).doesNotContain(secret);
    assertThat(pii.redact(value)).as("String path: %s", value).doesNotContain(secret);
  }

  private static boolean gate(Detector d, String value) {
    byte[] b = value.getBytes(StandardCharsets.UTF_8);
    return d.mayFindAscii(b, 0, b.length);
  }

  @Test
  void cardSecurityCodesThatOnlyJustPassTheGateAreMasked() {
    String[][] cases = {
      {"cvv:123", "123"}, // no space, the code ends the value
      {"cvv= \t 1234", "1234"}, // three spaces or tabs, four digits
      {"CVV2:\t\t\t'999'", "999"}, // three tabs and a quote
      {"{\"cvc\":\"042\"}", "042"}, // the quote after the colon
      {"security code =  \"7781\", exp 12/27", "7781"},
      {"ref 10:00 cvv: 555", "555"}, // a time before it fails the test, the code passes
      {"cvv:\u200b123", "123"}, // an invisible character: not judged on the bytes
      {"cvv:\u0000123", "123"}, // NUL, read as invisible on the String path
    };
    for (String[] c : cases) {
      assertThat(gate(CVV, c[0])).as(c[0]).isTrue();
      assertMaskedBothWays(c[0], c[1]);
    }
  }

  @Test
  void valuesWithoutACodeAfterAColonLeaveBeforeTheKeywordSearch() {
    for (String v :
        List.of(
            "cvv: 12345",
            "cvv:    123", // four spaces: not a reading of the detector
            "cvv: 12",
            "Delivery window 10:00-12:00, ring twice.",
            "2024-06-11 10:02:36",
            "Gift wrap requested; card message: Happy birthday! (84/70)")) {
      assertThat(gate(CVV, v)).as(v).isFalse();
      assertThat(findAll(CVV, v)).as(v).isEmpty();
    }
    byte[] b = "Delivery window 10:00-12:00, ring twice.".getBytes(StandardCharsets.UTF_8);
    long armed = pii.scanner.armedUtf8(b, 0, b.length);
    assertThat(armed).isNotZero(); // the CVV detector is armed by the first pass ...
    assertThat(pii.scanner.keywordsPresentUtf8(armed, b, 0, b.length)).isZero(); // ... not after
  }

  @Test
  void passwordSyntaxThatOnlyJustPassesTheGateIsMasked() {
    String[][] cases = {
      {"machine h.example.com login u password s3cr3t-pw", "s3cr3t-pw"}, // no quote: the word
      {"MACHINE h.example.com LOGIN u PASSWORD S3cr3t-pw", "S3cr3t-pw"},
      {"ALTER ROLE app PASSWORD 'N3w-R0le-pw'", "N3w-R0le-pw"}, // no machine: the quote
      {"CREATE USER u IDENTIFIED BY 'Tr0ub4dor'", "Tr0ub4dor"},
      {"machine h.example.com login u password \u200bs3cr3t-pw", "s3cr3t-pw"},
    };
    for (String[] c : cases) {
      assertThat(gate(SYNTAX, c[0])).as(c[0]).isTrue();
      assertMaskedBothWays(c[0], c[1]);
    }
    for (String v :
        List.of(
            "Customer asked to leave the parcel with the neighbour.",
            "Order split into 3 shipments, tracking follows by mail (5).",
            "reset password by mail",
            "password identified by support")) {
      assertThat(gate(SYNTAX, v)).as(v).isFalse();
      assertThat(findAll(SYNTAX, v)).as(v).isEmpty();
    }
  }

  /** Random text over what the gates read: a stop of the gate means the detector finds nothing. */
  @Test
  void theGatesNeverStopAValueTheirDetectorFindsSomethingIn() {
    String[] cvvParts = {
      "cvv",
      "CVC2",
      "security code",
      "#",
      " no. ",
      ":",
      "=",
      " ",
      "\t",
      "\"",
      "'",
      "1",
      "12",
      "123",
      "1234",
      "12345",
      "-",
      ".",
      "/",
      "x",
      "\u00a0",
      "\u200b",
      "\u0000",
      "\b"
    };
    String[] syntaxParts = {
      "password",
      "PASSWORD",
      "identified",
      " by ",
      "machine",
      "MaChInE",
      " h.example.com",
      " login ",
      "u",
      " ",
      "\t",
      "\n",
      "'",
      "''",
      "pw",
      "E",
      "with",
      "\u200b",
      "\r",
      "x"
    };
    Random r = new Random(12);
    List<String> misses = new ArrayList<>();
    int passedAndFound = 0;
    int spacedFound = 0;
    for (int i = 0; i < 200_000; i++) {
      boolean cvv = (i & 1) == 0;
      String[] parts = cvv ? cvvParts : syntaxParts;
      StringBuilder s = new StringBuilder();
      for (int k = 1 + r.nextInt(12); k > 0; k--) {
        // the first parts (the detector's words) more often, so that many values have a finding
        s.append(parts[r.nextInt(2) == 0 ? r.nextInt(WORDS) : r.nextInt(parts.length)]);
      }
      String v = s.toString();
      Detector d = cvv ? CVV : SYNTAX;
      boolean found = !(cvv ? CVV_ALONE : SYNTAX_ALONE).scanUngated(v).isEmpty();
      if (found && !gate(d, v)) {
        misses.add(v);
      }
      passedAndFound += found ? 1 : 0;
      if (cvv) {
        // the part after the word and a space, # or no. (sixteenth session), gated on its own
        boolean spaced = !SPACED_ALONE.scanUngated(v).isEmpty();
        if (spaced && !gate(SPACED, v)) {
          misses.add("(spaced) " + v);
        }
        spacedFound += spaced ? 1 : 0;
      }
    }
    assertThat(misses).as("values the gate stopped and the detector finds something in").isEmpty();
    assertThat(passedAndFound).as("the random text exercises the detectors").isGreaterThan(500);
    assertThat(spacedFound).as("and the part after a space").isGreaterThan(500);
  }

  /**
   * The word tests the written-out-address parts' marker test skips bytes with (nineteenth
   * session): exact about whether eight bytes hold a given byte, or a control character, DEL or a
   * byte from 0x80 on, for every byte value at every place among letters, and on random words.
   */
  @Test
  void theEightByteTestsFindEveryByteTheyLookFor() {
    byte[] b = new byte[8];
    for (int at = 0; at < 8; at++) {
      for (int v = 0; v < 256; v++) {
        java.util.Arrays.fill(b, (byte) 'e');
        b[at] = (byte) v;
        long x = Checks.word(b, 0);
        assertThat(Checks.hasControlOrNonAscii(x))
            .as("byte %x at %d", v, at)
            .isEqualTo(qualifies(v));
        assertThat(Checks.hasByte(x, ')')).as("byte %x at %d", v, at).isEqualTo(v == ')');
      }
    }
    Random r = new Random(19);
    for (int i = 0; i < 1_000_000; i++) {
      boolean any = false;
      boolean paren = false;
      for (int k = 0; k < 8; k++) {
        // mostly printable ASCII, so that many words have none of the bytes looked for
        int v = r.nextInt(10) == 0 ? r.nextInt(256) : 0x20 + r.nextInt(0x5f);
        b[k] = (byte) v;
        any |= qualifies(v);
        paren |= v == ')';
      }
      long x = Checks.word(b, 0);
      assertThat(Checks.hasControlOrNonAscii(x)).as(java.util.Arrays.toString(b)).isEqualTo(any);
      assertThat(Checks.hasByte(x, ')')).as(java.util.Arrays.toString(b)).isEqualTo(paren);
    }
  }

  /**
   * The written-out-address parts' marker test, which reads eight bytes at a time where none can
   * end a marker: a marker at every place of a value, a byte it cannot judge at every place.
   */
  @Test
  void theMarkerTestFindsMarkersAndUnjudgedBytesAtEveryPlace() {
    for (String m :
        List.of("(at)", "[AT]", "{dot}", "<Dot>", "[.]", "(.)", "{.}", " dot ", " DOT ")) {
      for (int at = 0; at + m.length() <= 24; at++) {
        assertThat(marker("e".repeat(at) + m + "e".repeat(24 - at - m.length())))
            .as("%s at %d", m, at)
            .isTrue();
      }
    }
    for (String m :
        List.of("(at", "at)", "<user@example.com>", " dog ", " do t", "(a t)", "[..]")) {
      for (int at = 0; at + m.length() <= 24; at++) {
        assertThat(marker("e".repeat(at) + m + "e".repeat(24 - at - m.length())))
            .as("%s at %d", m, at)
            .isFalse();
      }
    }
    byte[] b = new byte[24];
    for (int at = 0; at < 24; at++) {
      for (int v = 0; v < 256; v++) {
        java.util.Arrays.fill(b, (byte) 'e');
        b[at] = (byte) v;
        boolean unjudged = v < 0x20 ? v != '\t' && v != '\n' : v >= 0x7f;
        assertThat(PiiDetectors.Email.Obfuscated.anyMarker(b, 0, b.length))
            .as("byte %x at %d", v, at)
            .isEqualTo(unjudged);
      }
    }
  }

  private static boolean marker(String v) {
    byte[] b = v.getBytes(StandardCharsets.US_ASCII);
    return PiiDetectors.Email.Obfuscated.anyMarker(b, 0, b.length);
  }

  private static boolean qualifies(int v) {
    return v < 0x20 || v >= 0x7f;
  }

  /**
   * The worded security code's gate never stops a value the detector finds something in, and the
   * written-out-address parts' marker test agrees with a marker's forward test at every byte, on
   * random ASCII text over what they read.
   */
  @Test
  void theWordedCodeAndWrittenOutAddressGatesStopNoFinding() {
    Detector worded = CVV.parts().get(2);
    Scanner wordedAlone = new Scanner(List.of(worded));
    String[] parts =
        ("security code|card verification value|CID| no. | nr |Sicherheitscode|123|1234|12345"
                + "|(at)|[DOT]| dot |[.]|<at>|{.}| at |@|.|:|=| |\t|\"|'|#|ana|example|com"
                + "|lorem ipsum |7|x")
            .split("\\|");
    Random r = new Random(1919);
    List<String> misses = new ArrayList<>();
    int found = 0;
    int markers = 0;
    for (int i = 0; i < 200_000; i++) {
      StringBuilder s = new StringBuilder();
      for (int k = 1 + r.nextInt(14); k > 0; k--) {
        s.append(parts[r.nextInt(parts.length)]);
      }
      String v = s.toString();
      byte[] b = v.getBytes(StandardCharsets.US_ASCII);
      boolean onBytes = worded.mayFindAscii(b, 0, b.length);
      if (((Scanner.digitRuns(b, 0, b.length) & Scanner.CODE_AFTER_NAME) != 0) != onBytes) {
        misses.add("(worded, read with the digit runs) " + v);
      }
      boolean finds = !wordedAlone.scanUngated(v).isEmpty();
      found += finds ? 1 : 0;
      if (finds && !onBytes) {
        misses.add("(worded) " + v);
      }
      boolean marker = false; // the reference: a marker's forward test at every byte
      for (int k = 0; k < b.length; k++) {
        marker |= PiiDetectors.Email.Obfuscated.markerAt(b, k, b.length);
      }
      if (PiiDetectors.Email.Obfuscated.anyMarker(b, 0, b.length) != marker) {
        misses.add("(markers on bytes) " + v);
      }
      markers += marker ? 1 : 0;
    }
    assertThat(misses).as("values the gates judged differently or stopped wrongly").isEmpty();
    assertThat(found).as("the random text exercises the detector").isGreaterThan(500);
    assertThat(markers).as("and the markers").isGreaterThan(500);
  }

  /**
   * Review 13, F2: a control character the String path reads through (NUL, lone CR, backspace, ESC
   * of a colour code) inside a keyword made the byte-level keyword search drop the detector, so the
   * row path sent the value unscanned. Such a value keeps every armed detector and is masked on the
   * byte path as on the String path. F9: {@link Scanner#scanUngated}, the reference of the gate
   * tests, reads such a value as {@link Scanner#scan} does (both backspace readings).
   */
  @Test
  void controlCharactersInsideAKeywordKeepTheValueOnTheFullPath() {
    String secret = "Qz7vHb2mWk"; // no keyword in it (hunter2Secret has "secret")
    for (String v :
        List.of(
            "DB_\0PW=" + secret,
            "DB_\rPW=" + secret,
            "DB_x\bPW=" + secret,
            "pass\bword=" + secret, // only the reading without the backspace has the keyword
            "\u200bpass\bword=" + secret,
            "pass\u001b[0mword=" + secret)) {
      byte[] b = v.getBytes(StandardCharsets.UTF_8);
      long armed = pii.scanner.armedUtf8(b, 0, b.length);
      assertThat(armed).as(v).isNotZero();
      assertThat(pii.scanner.keywordsPresentUtf8(armed, b, 0, b.length)).as(v).isEqualTo(armed);
      assertMaskedBothWays(v, secret);
      assertThat(new String(pii.redactUtf8Bytes(b, 0, b.length), StandardCharsets.UTF_8))
          .as(v)
          .isEqualTo(pii.redact(v));
      if (v.indexOf('\u001b') < 0) { // colour codes are read by Profile#redact, not the scanner
        assertThat(pii.scanner.scanUngated(v)).as(v).isNotEmpty().isEqualTo(pii.scanner.scan(v));
      }
    }
    // CR LF is a line break on both paths: the keyword search on the bytes still decides.
    byte[] crlf = "note\r\nDelivery window 10:00-12:00".getBytes(StandardCharsets.UTF_8);
    long armed = pii.scanner.armedUtf8(crlf, 0, crlf.length);
    assertThat(pii.scanner.keywordsPresentUtf8(armed, crlf, 0, crlf.length)).isZero();
  }

  /** The first parts of each list above, drawn more often. */
  private static final int WORDS = 8;

  /** Scanners of one detector each: what it finds, read as the String path reads a value. */
  /** The colon part of the card security code alone (its parts include {@link #SPACED}). */
  static final Scanner CVV_ALONE = new Scanner(List.of(alone(CVV)));

  static final Detector SPACED = CVV.parts().get(1);
  static final Scanner SPACED_ALONE = new Scanner(List.of(SPACED));

  /** {@code d} without its other parts. */
  private static Detector alone(Detector d) {
    return new Detector(d.type, d.priority) {
      @Override
      void find(String text, List<Finding> out) {
        d.find(text, out);
      }
    };
  }

  static final Scanner SYNTAX_ALONE = new Scanner(List.of(SYNTAX));

  private static List<Finding> findAll(Detector d, String v) {
    return (d == CVV ? CVV_ALONE : SYNTAX_ALONE).scanUngated(v);
  }
}
