package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Values written the way people and tools write them rather than the way the generated corpus
 * ({@link MaskingEfficacyTest}) does: cards followed by an expiry date or grouped with slashes and
 * doubled spaces, IBANs in lower case, phone numbers from twenty countries, credentials of SaaS
 * products the corpus does not name, passwords under names in other languages, and look-alikes such
 * as Stripe object ids, ULIDs, EAN-13 barcodes and epoch milliseconds. Every sensitive value must
 * be masked except the rows that name a known limit (docs/masking.md), and those must still leak: a
 * limit that is fixed has its row updated.
 */
class MaskingRedTeamTest {
  static final Path DIR = Path.of("src/test/resources/masking");

  static MaskingEngine engine;
  static Profile pii;

  @BeforeAll
  static void engine() {
    engine = MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "test"), 0));
    pii =
        Builtins.profiles(
                Builtins.DEFAULT_ENTROPY_THRESHOLD, new Style.Redact(null), List.of(), List.of())
            .get("pii")
            .build();
  }

  /** Tab-separated rows, without comment lines, with {@code \n}, {@code \t} and {@code \\}. */
  static List<String[]> rows(String file) throws IOException {
    List<String[]> out = new ArrayList<>();
    for (String line : Files.readAllLines(DIR.resolve(file), StandardCharsets.UTF_8)) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t", -1);
      for (int i = 0; i < f.length; i++) {
        f[i] = CorpusGenerator.unescape(f[i]);
      }
      out.add(f);
    }
    return out;
  }

  @Test
  void everySensitiveValueIsMaskedExceptTheKnownLimits() throws IOException {
    List<String[]> rows = rows("redteam-sensitive.tsv");
    assertThat(rows).hasSizeGreaterThan(150);
    List<String> leaks = new ArrayList<>();
    List<String> limitsFixed = new ArrayList<>();
    for (String[] r : rows) {
      String masked = engine.redact("pii", r[1]);
      boolean masks = !masked.equals(r[1]) && !masked.contains(r[2]);
      boolean limit = r.length > 3 && !r[3].isEmpty();
      if (!masks && !limit) {
        leaks.add(r[0] + ": " + r[1] + " => " + masked);
      } else if (masks && limit) {
        limitsFixed.add(r[0] + ": " + r[1] + " (" + r[3] + ")");
      }
    }
    assertThat(leaks).as("sensitive values that leak").isEmpty();
    assertThat(limitsFixed).as("known limits now masked: update their rows and docs").isEmpty();
  }

  @Test
  void noLookalikeIsMasked() throws IOException {
    List<String[]> rows = rows("redteam-lookalikes.tsv");
    assertThat(rows).hasSizeGreaterThan(200);
    List<String> flagged = new ArrayList<>();
    for (String[] r : rows) {
      List<Finding> found = pii.scanner.scan(r[0]);
      if (!found.isEmpty()) {
        flagged.add(r[1] + ": " + r[0] + " " + found);
      }
    }
    assertThat(flagged).as("look-alikes masked").isEmpty();
  }

  /**
   * The PostgreSQL path (a DataRow value masked on its UTF-8 bytes, as {@code PgRowMasker} does)
   * gives what the String path gives for every red-team value, and a profile with more than 64
   * detectors (whose gates are the exact pre-filter, not the bit masks) finds what {@code pii}
   * finds: it missed the SSN and card layouts grouped by dots, en dashes and {@code " - "}.
   */
  @Test
  void theRowPathAndAProfileWithMoreThan64DetectorsMaskWhatPiiMasks() throws IOException {
    Profile big = piiWithMoreThan64Detectors();
    ColumnMasker column = engine.columnMasker("pii", "c", "public", "t", "note");
    List<String> differ = new ArrayList<>();
    for (String[] r : rows("redteam-sensitive.tsv")) {
      if (!big.scanner.scan(r[1]).equals(pii.scanner.scan(r[1]))) {
        differ.add("over 64 detectors: " + r[1] + " " + big.scanner.scan(r[1]));
      }
      byte[] in = r[1].getBytes(StandardCharsets.UTF_8);
      byte[] out = column.maskUtf8Bytes(in, 0, in.length);
      String row = out == null ? r[1] : new String(out, StandardCharsets.UTF_8);
      if (!row.equals(engine.redact("pii", r[1]))) {
        differ.add("row path: " + r[1] + " => " + row);
      }
    }
    assertThat(differ).isEmpty();
  }

  /** The pii profile with 60 dictionary detectors more: its gates are the exact pre-filter. */
  static Profile piiWithMoreThan64Detectors() {
    List<Detector> extra = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      extra.add(new DictionaryDetector("dict" + i, List.of("zzqqword" + i)));
    }
    Profile big =
        Builtins.profiles(
                Builtins.DEFAULT_ENTROPY_THRESHOLD, new Style.Redact(null), List.of(), extra)
            .get("pii")
            .build();
    assertThat(big.scanner.detectors()).hasSizeGreaterThan(64);
    return big;
  }

  @Test
  void aCardFollowedByItsExpiryIsMaskedAndTheDateIsKept() {
    String masked = engine.redact("pii", "4111111111111111 12/27");
    assertThat(masked).doesNotContain("41111111").endsWith(" 12/27");
  }

  @Test
  void aSpacedIbanWithOneCapitalIsNotReadAsPrintFormAnywhere() {
    // the detector and the first passes agree: print form (spaces) only with both capitals
    assertThat(engine.redact("pii", "iban De89 3704 0044 0532 0130 00"))
        .isEqualTo("iban De89 3704 0044 0532 0130 00");
    assertThat(engine.redact("pii", "iban DE89 3704 0044 0532 0130 00")).doesNotContain("3704");
  }

  @Test
  void aLowerCaseIbanIsMaskedButAnInvalidOneIsNot() {
    assertThat(engine.redact("pii", "iban de89370400440532013000")).doesNotContain("3704004405");
    assertThat(engine.redact("pii", "ref de89370400440532013001"))
        .contains("de89370400440532013001");
  }
}
