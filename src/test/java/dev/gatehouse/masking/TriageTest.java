package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The first pass ({@link Triage}) and the digit-run pass ({@link Scanner#digitRuns}) must bound the
 * exact pre-filter in every component the gates compare: a value the bound rejects that the exact
 * pre-filter would arm is a leak. Checked on the efficacy corpus, on adversarial values (triggers
 * at value boundaries, multi-byte UTF-8 around them, lengths and counts exactly at the thresholds,
 * the 255-character blocks of the counting loop) and on random text.
 */
class TriageTest {
  static final Profile PII = ScannerGatesTest.PII;

  /** The worded card security code part, whose gate {@link Scanner#digitRuns} reads. */
  static final Detector WORDED = new PiiDetectors.Cvv().parts().get(2);

  /** {@code bound} is at least {@code exact}: presence and flags supersets, runs no shorter. */
  static boolean dominates(long bound, long exact) {
    int p = Scanner.presentOf(exact);
    int f = Scanner.flagsOf(exact);
    return (Scanner.presentOf(bound) & p) == p
        && (Scanner.flagsOf(bound) & f) == f
        && Scanner.numRunOf(bound) >= Scanner.numRunOf(exact)
        && Scanner.tokenRunOf(bound) >= Scanner.tokenRunOf(exact);
  }

  static List<String> adversarial() {
    List<String> t = new ArrayList<>();
    t.addAll(
        List.of(
            "",
            "@",
            "a@b.co",
            "x@example.com",
            "jane@example.com é",
            "é@example.com",
            "ünïcödé ülrich@exämple.com",
            "1234567",
            "12345678",
            "123456789",
            "+1234567",
            "+12345678",
            "+44 20 7946 0958",
            "€+44 20 7946 0958€",
            "😀415-555-0100😀",
            "415-555-0100",
            "(415) 555-0100",
            "123-45-6789",
            "123-45-67890",
            "é123 45 6789é",
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111é",
            "DE89370400440532013000",
            "xDE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "1.2.3.4",
            "é10.0.0.1é",
            "::",
            "::1",
            "a:b:c:d:e:f:g",
            "1:2:3:4:5:6:7:8",
            "-----",
            "----",
            "--1---",
            "-----BEGIN PRIVATE KEY-----",
            "password=x",
            "PASSWORD: hunter2",
            "token>abc",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
            "aaaaaaaaaaaaaaaaaaa",
            "aaaaaaaaaaaaaaaaaaaa",
            "aaaaaaaaaaaaaaaaaaaaa",
            "Zx9kQ2mN7pL4vB8cR1tY",
            "é Zx9kQ2mN7pL4vB8cR1tY é",
            "postgres://user:secret@db.example.com/app",
            "Server=db;Password=hunter2;",
            // No-break spaces join numeric runs (card groups), other non-ASCII characters do not.
            "4111\u00a01111\u00a01111\u00a01111",
            "4111\u202f1111\u202f1111\u202f1111é",
            "é4111\u2009 1111\u2009\u20091111\u20091111",
            "4111\u20081111\u20081111\u20081111",
            "4111\u00a1\u00a01111\u00c2\u00a01111\u00a0",
            "123\u00a045\u00a06789",
            "123-45\u00a06789",
            "415\u00a0555\u00a00100",
            "+44\u202f20\u202f7946\u202f0958",
            "\u00a0\u00a0\u00a0\u00a0\u00a0\u00a01\u00a02\u00a03",
            "625033 5974782423062",
            // A % arms the email detector (URL-encoded addresses).
            "%",
            "%40",
            "carol%40example.net",
            "a%40b.co %",
            "x@example.com %40"));
    // Counts and runs across the 255-character blocks of the counting loop.
    for (int pad = 240; pad <= 260; pad++) {
      t.add("a".repeat(pad) + " 4111 1111 1111 1111");
      t.add(" ".repeat(pad) + "12345678");
      t.add("x".repeat(pad) + "Zx9kQ2mN7pL4vB8cR1tY");
      t.add("1".repeat(pad));
      t.add("é".repeat(pad / 2) + "123-45-6789");
      t.add(":".repeat(pad % 9) + " ".repeat(pad) + "::");
      t.add("\u00a0".repeat(pad) + "4111\u00a01111\u202f1111\u20091111");
      t.add("é".repeat(pad / 2) + "5544\u00a07906\u00a01205\u00a04286 carol%40example.net");
    }
    // Digits spread over several blocks: only the total counts for the bound.
    StringBuilder spread = new StringBuilder();
    for (int i = 0; i < 9; i++) {
      spread.append("w".repeat(200)).append(i);
    }
    t.add(spread.toString());
    return t;
  }

  static List<String> corpus() throws IOException {
    return ScannerGatesTest.texts();
  }

  static List<String> random(int count, long seed) {
    String alphabet = "0123456789aeiknoprstyzAEKPZ +-.:@=>_/()#,;\"'\n\téß€😀";
    int[] cps = alphabet.codePoints().toArray();
    Random r = new Random(seed);
    List<String> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int len = r.nextInt(i % 50 == 0 ? 400 : 40);
      StringBuilder b = new StringBuilder();
      for (int k = 0; k < len; k++) {
        // Favour digits so that numeric runs of every length occur.
        b.appendCodePoint(r.nextInt(3) == 0 ? '0' + r.nextInt(10) : cps[r.nextInt(cps.length)]);
      }
      out.add(b.toString());
    }
    return out;
  }

  static void checkBounds(String s) {
    long exact = Scanner.prefilter(s);
    byte[] u = s.getBytes(StandardCharsets.UTF_8);
    byte[] framed = ("@1" + s + "9@").getBytes(StandardCharsets.UTF_8);
    long chars = Triage.chars(s);
    long bytes = Triage.bytes(u, 0, u.length);
    assertThat(dominates(chars, exact)).as("chars: %s", s).isTrue();
    assertThat(dominates(bytes, exact)).as("bytes: %s", s).isTrue();
    assertThat(dominates(Triage.exact(chars, s), exact)).as("exact chars: %s", s).isTrue();
    assertThat(dominates(Triage.exact(bytes, framed, 2, u.length), exact))
        .as("exact bytes: %s", s)
        .isTrue();
    // Settling the guessed flags over a String or its bytes gives the same answer (but for the flag
    // of non-ASCII characters, which only the String pass reports; Scanner#withWide looks for it in
    // bytes when a detector needs it).
    long wide = (long) Triage.F_WIDE << 32;
    assertThat(chars & wide)
        .as("wide: %s", s)
        .isEqualTo(s.chars().anyMatch(c -> c >= 0x80) ? wide : 0);
    assertThat(bytes & wide).as("wide bytes: %s", s).isZero();
    // The byte pass counts every lead byte EF as a possible full-width at, colon or equals sign
    // (U+FF20 is EF BC A0, U+FF1A EF BC 9A), so a character from U+F000 on (U+FEFF, a variation
    // selector) may set F_AT, F_COLON and F_EQ there only.
    long efAt =
        s.chars().anyMatch(c -> c >= 0xf000)
            ? (long) (Detector.F_AT | Detector.F_COLON | Detector.F_EQ) << 32
            : 0;
    assertThat(Triage.exact(bytes, u, 0, u.length) & ~efAt)
        .as(s)
        .isEqualTo(Triage.exact(chars, s) & ~wide & ~efAt);
    // Inside a larger array (a DataRow), the neighbouring bytes must not matter.
    assertThat(Triage.bytes(framed, 2, u.length)).as("framed: %s", s).isEqualTo(bytes);
    int runs = Scanner.digitRuns(s);
    int byteRuns = Scanner.digitRuns(framed, 2, u.length);
    assertThat(byteRuns & ~Scanner.CODE_AFTER_NAME).as("digit runs: %s", s).isEqualTo(runs);
    // The worded security code's gate read in the same loop answers as the gate itself.
    assertThat((byteRuns & Scanner.CODE_AFTER_NAME) != 0)
        .as("code after a name: %s", s)
        .isEqualTo(WORDED.mayFindAscii(framed, 2, u.length));
    assertThat(dominates(Scanner.withDigitRuns(chars, runs), exact)).as("runs: %s", s).isTrue();
    // Whatever the exact pre-filter arms, the first passes arm too, except a detector that needs a
    // longer value than this (Detector.minLength: an IBAN has at least 15 characters).
    long mustArm = PII.scanner.armed(exact) & PII.scanner.lengthOk(s.length());
    // The worded security code is armed only when its own gate passes (read with the digit runs
    // on bytes, checked against the gate above, and on an ASCII String's bytes).
    long mustArmBytes =
        WORDED.mayFindAscii(framed, 2, u.length) ? mustArm : mustArm & ~PII.scanner.wordedCode;
    long mustArmChars = s.length() == u.length ? mustArmBytes : mustArm;
    assertThat(PII.scanner.armedChars(s) & mustArmChars).as("armed: %s", s).isEqualTo(mustArmChars);
    assertThat(PII.scanner.armedUtf8(framed, 2, u.length) & mustArmBytes)
        .as("armed utf8: %s", s)
        .isEqualTo(mustArmBytes);
  }

  @Test
  void boundsTheExactPrefilterOnTheCorpus() throws IOException {
    for (String s : corpus()) {
      checkBounds(s);
    }
  }

  @Test
  void boundsTheExactPrefilterOnAdversarialValues() {
    for (String s : adversarial()) {
      checkBounds(s);
    }
  }

  @Test
  void boundsTheExactPrefilterOnRandomText() {
    for (String s : random(20_000, 7)) {
      checkBounds(s);
    }
  }

  @Test
  void everySensitiveCorpusValueIsArmed() throws IOException {
    for (String[] row :
        CorpusGenerator.read(ScannerGatesTest.DIR.resolve(CorpusGenerator.SENSITIVE))) {
      String s = row[1];
      byte[] u = s.getBytes(StandardCharsets.UTF_8);
      assertThat(PII.scanner.armedChars(s)).as(s).isNotZero();
      assertThat(PII.scanner.armedUtf8(u, 0, u.length)).as(s).isNotZero();
    }
  }

  @Test
  void gatedScanFindsWhatEveryDetectorFindsOnRandomAndAdversarialText() {
    List<String> texts = new ArrayList<>(adversarial());
    texts.addAll(random(5_000, 11));
    for (String s : texts) {
      assertThat(PII.scanner.scan(s)).as(s).isEqualTo(PII.scanner.scanUngated(s));
      byte[] u = s.getBytes(StandardCharsets.UTF_8);
      String expected = PII.redact(s);
      String viaBytes = PII.redactUtf8(u, 0, u.length);
      assertThat(viaBytes == null ? s : viaBytes).as(s).isEqualTo(expected);
    }
  }

  @Test
  void typicalTableValuesArmNothing() {
    for (String s :
        List.of(
            "Chen Novak",
            "São Paulo",
            "Kraków",
            "delivered",
            "GBP",
            "1000042",
            "477.42",
            "SKU-55276",
            "ORD-2024-067123",
            "2024-06-11 10:22:33",
            "2024-09-27 13:45:12.123456+00",
            "Delivery window 10:00-12:00, ring twice.",
            "Customer asked to leave the parcel with the neighbour at no. 23.")) {
      byte[] u = s.getBytes(StandardCharsets.UTF_8);
      // A sentence may have the letters of a keyword (c, v and three digits: the security code's
      // gate); the keyword search on its bytes then leaves nothing armed, and it is not decoded.
      long armed = PII.scanner.armedUtf8(u, 0, u.length);
      assertThat(PII.scanner.keywordsPresentUtf8(armed, u, 0, u.length)).as(s).isZero();
      assertThat(PII.scanner.scan(s)).as(s).isEmpty();
    }
  }
}
