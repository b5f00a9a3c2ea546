package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pre-filter gates are an optimisation only: on the efficacy corpus and on typical table
 * values, the gated scan finds exactly what running every detector on the whole text finds, and the
 * byte-level pre-filter (used to skip decoding PostgreSQL values) agrees with the String one.
 */
class ScannerGatesTest {
  static final Path DIR = Path.of("src/test/resources/masking");

  static final Profile PII =
      Builtins.profiles(3.5, new Style.Redact(null), List.of(), List.of()).get("pii").build();

  static List<String> texts() throws IOException {
    List<String> t = new ArrayList<>();
    for (String f : List.of(CorpusGenerator.SENSITIVE, CorpusGenerator.LOOKALIKES)) {
      for (String[] row : CorpusGenerator.read(DIR.resolve(f))) {
        t.add(row[1]);
      }
    }
    // The red team's values and look-alikes: no-break spaces, URL-encoded addresses, passwords
    // under names in other languages.
    for (String[] row : MaskingRedTeamTest.rows("redteam-sensitive.tsv")) {
      t.add(row[1]);
    }
    for (String[] row : MaskingRedTeamTest.rows("redteam-lookalikes.tsv")) {
      t.add(row[0]);
    }
    t.addAll(
        List.of(
            "2024-09-27 13:45:12.123456+00",
            "2024-06-11 10:22:33",
            "ORD-2024-067123",
            "SKU-55276",
            "477.42",
            "Kraków",
            "São Paulo +44 20 7946 0958",
            "Émile é+44 20 7946 0958",
            "tel. 020 7946 0958 or (020) 7946 0958",
            "+(44) 20 7946 0958",
            "1 +44 2079 46",
            "call 0044 20 7946 0958",
            "::1",
            "fe80::1%eth0",
            "1:2:3:4:5:6:7:8",
            "10.0.0.1",
            "v1.2.3",
            "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
            "ab-----BEGIN RSA PRIVATE KEY-----",
            "DE89 3704 0044 0532 0130 00",
            "müller DE89370400440532013000",
            "Bearer: abcdefghijklmnop",
            "password=hunter2",
            "4111 1111 1111 1111",
            "123-45-6789",
            "123 45 6789",
            "SSN 123456789",
            "ssn: 078051120",
            "(415) 555-0100",
            "(415)555-0100",
            "415.555.0100",
            "1-415-555-0100",
            "call 415 555 0100 now",
            "2024 415-555-0100",
            "12 123-45-6789",
            // An address and a URL-encoded one: not the byte-level email path.
            "bob@example.com, carol%40example.net",
            "carol%40example.net bob@example.com"));
    return t;
  }

  @Test
  void gatedScanFindsWhatEveryDetectorFinds() throws IOException {
    List<String> diffs = new ArrayList<>();
    for (String s : texts()) {
      List<Finding> gated = PII.scanner.scan(s);
      List<Finding> all = PII.scanner.scanUngated(s);
      if (!gated.equals(all)) {
        diffs.add(s + " gated=" + gated + " all=" + all);
      }
    }
    assertThat(diffs).isEmpty();
  }

  @Test
  void bytePrefilterAgreesWithStringPrefilter() throws IOException {
    for (String s : texts()) {
      byte[] b = ("xx" + s + "yy").getBytes(StandardCharsets.UTF_8);
      byte[] exact = s.getBytes(StandardCharsets.UTF_8);
      long viaString = Scanner.prefilter(s);
      assertThat(Scanner.prefilter(exact, 0, exact.length)).as(s).isEqualTo(viaString);
      assertThat(Scanner.prefilter(b, 2, exact.length)).as(s).isEqualTo(viaString);
      if (!PII.scanner.scan(s).isEmpty()) {
        assertThat(PII.scanner.mayMatch(exact, 0, exact.length)).as(s).isTrue();
      }
    }
  }

  @Test
  void byteEntryPointsMaskLikeTheStringOnes() throws IOException {
    MaskingEngine engine =
        MaskingEngine.create(
            new dev.gatehouse.config.GatehouseConfig.MaskingConfig(
                List.of(), new dev.gatehouse.config.Secret("k", "test"), 0));
    ColumnMasker column = engine.columnMasker("pii", "c", "s", "t", "note");
    for (String s : texts()) {
      byte[] b = ("[" + s + "]").getBytes(StandardCharsets.UTF_8);
      byte[] exact = s.getBytes(StandardCharsets.UTF_8);
      String expected = engine.redact("pii", s);
      assertThat(new String(engine.redactUtf8("pii", exact), StandardCharsets.UTF_8))
          .as(s)
          .isEqualTo(expected);
      if (expected.equals(s)) {
        assertThat(engine.redactUtf8("pii", exact)).isSameAs(exact);
      }
      MaskResult r = column.maskUtf8(b, 1, exact.length);
      MaskResult viaString = column.mask(s);
      assertThat(r == null ? s : r.value()).as(s).isEqualTo(viaString.value());
      assertThat(r != null).as(s).isEqualTo(viaString.masked());
    }
  }

  @Test
  void theBuiltInKeywordGatesFitTheTableLookups() {
    // Above 128 distinct keyword letter sets the gates fall back to a loop per detector and
    // keyword: the words for password in other languages must not push the pii profile there.
    assertThat(PII.scanner.presenceTables).isNotNull();
    assertThat(PII.scanner.detectors()).hasSizeLessThanOrEqualTo(64);
  }

  @Test
  void plainValuesNeedNoDecoding() {
    for (String s :
        List.of(
            "1000042",
            "Kraków",
            "delivered",
            "2024-09-27T13:45:12",
            "2024-09-27 13:45:12.123456+00",
            "2024-06-11 10:22:33",
            "ORD-2024-067123",
            "SKU-55276",
            "477.42",
            "12.123456+00",
            "")) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      assertThat(PII.scanner.mayMatch(b, 0, b.length)).as(s).isFalse();
    }
    // Since the eighteenth session a value with the letters of "dot", a space and 10 characters
    // arms the part that reads an address with the word "dot" (ana at example dot com): no class
    // of the first pass tells the word apart. Its byte gate stops the value before the keyword
    // search, so it is still not decoded on the row path.
    byte[] b = "leave at door".getBytes(StandardCharsets.UTF_8);
    long armed = PII.scanner.armedUtf8(b, 0, b.length);
    assertThat(PII.scanner.keywordsPresentUtf8(armed, b, 0, b.length)).isZero();
  }
}
