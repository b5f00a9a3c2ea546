package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The field-by-field path for tab-separated rows ({@link Profile#redactUtf8Fields}, used for COPY
 * TO STDOUT output) gives the same bytes as scanning the whole row ({@link
 * Profile#redactUtf8Bytes}): on rows of efficacy-corpus values, on findings whose context or
 * characters reach across a tab, and on random text with tabs, for every built-in profile and one
 * with an expression rule. Also checks that the field path is taken where it should be (so the
 * comparison is not of the whole-row path with itself).
 */
class FieldsPathTest {
  static final Map<String, ProfileBuilder> BUILT_INS =
      Builtins.profiles(3.5, new Style.Redact(null), List.of(), List.of());

  static List<Profile> profiles() {
    List<Profile> out = new ArrayList<>();
    for (ProfileBuilder b : BUILT_INS.values()) {
      out.add(b.build());
    }
    // An expression rule, which may match across a tab: never field-local.
    ProfileBuilder custom = BUILT_INS.get("pii").copyAs("custom");
    custom.add(RegexDetector.simple("employee_id", 50, "emp\\s+\\d{4}", 0));
    out.add(custom.build());
    return out;
  }

  private static byte[] sent(byte[] masked, byte[] value) {
    return masked == null ? value : masked;
  }

  /**
   * Compares the paths on {@code row} and on it after three more fields (rows of fewer than four
   * fields are scanned whole, see {@link Profile#redactUtf8Fields}).
   */
  private static void check(Profile p, String row, List<String> diffs) {
    compare(p, row, diffs);
    compare(p, "1\tx\t\t" + row, diffs);
  }

  private static void compare(Profile p, String row, List<String> diffs) {
    byte[] u = row.getBytes(StandardCharsets.UTF_8);
    byte[] whole = sent(p.redactUtf8Bytes(u, 0, u.length), u);
    byte[] fields = sent(p.redactUtf8Fields(u, 0, u.length), u);
    if (!Arrays.equals(whole, fields)) {
      diffs.add(
          p.name
              + ": "
              + row
              + "\n  whole:  "
              + new String(whole, StandardCharsets.UTF_8)
              + "\n  fields: "
              + new String(fields, StandardCharsets.UTF_8));
    }
    // Inside a larger array too (COPY bodies are whole arrays, but the offsets must be right).
    byte[] padded = new byte[u.length + 6];
    System.arraycopy(u, 0, padded, 3, u.length);
    padded[0] = '\t';
    padded[padded.length - 1] = '\t';
    byte[] inside = sent(p.redactUtf8Fields(padded, 3, u.length), u);
    if (!Arrays.equals(whole, inside)) {
      diffs.add(p.name + " (offset): " + row);
    }
  }

  static List<String> corpusRows(long seed) throws IOException {
    List<String> values = new ArrayList<>(Utf8PathTest.texts());
    Collections.shuffle(values, new Random(seed));
    Random r = new Random(seed);
    List<String> rows = new ArrayList<>();
    for (int i = 0; i < values.size(); ) {
      int n = 1 + r.nextInt(14);
      List<String> row = values.subList(i, Math.min(values.size(), i + n));
      rows.add(String.join("\t", row) + "\n");
      i += n;
    }
    return rows;
  }

  /** Findings and contexts around a tab: what the whole-row scan finds must still be found. */
  static final List<String> SEAMS =
      List.of(
          "ssn\t123456789\n",
          "SSN:\t078051120\n",
          "social security\t219099999\tx\n",
          "Social Security No\t078-05-1120\n",
          "1\tssn\t\t536-22-1234\n",
          "name\tpassword:\thunter2\n",
          "password\t=\thunter2\n",
          "db_password =\t's3cr3t-Value'\n",
          "Authorization: Bearer\tabcdefghijklmnop\n",
          "<password>\thunter2</password>\n",
          "--password\thunter2\n",
          "token\tghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\n",
          "a@\texample.com\n",
          "ann\t@example.com\n",
          "ann@example\t.com\n",
          "ann@example.com\t:path\n",
          "ann@example.com:\tx\n",
          "https:\t//ann@example.com\n",
          "carol%40example.net\t%40x\n",
          "carol%4\t0example.net\n",
          "+1 415\t555 0100\n",
          "+1\t415 555 0100\n",
          "(415)\t555-0100\n",
          "415-555-0100\t415-555-0100\n",
          "4111 1111\t1111 1111\n",
          "4111111111111111\t12/27\n",
          "4111 1111 1111 1111\t\n",
          "DE89 3704\t0044 0532 0130 00\n",
          "DE89370400440532013000\tDE89370400440532013000\n",
          "version\t1.2.3.4\n",
          "v\t10.0.0.1\n",
          "10.0.0\t.1\n",
          "10.0.0.1\t-beta\n",
          "fe80::1\t::1\n",
          "2001:db8::\t1\n",
          "emp\t1234\n",
          "emp 1234\tx\n",
          "-----BEGIN PRIVATE KEY-----\tMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\t-----END PRIVATE KEY-----\n",
          "eyJhbGciOiJIUzI1NiJ9\t.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\n",
          "\t\t\t\n",
          "\t",
          "");

  @Test
  void fieldsPathEqualsWholeRowOnCorpusRows() throws IOException {
    List<String> diffs = new ArrayList<>();
    for (Profile p : profiles()) {
      for (long seed = 1; seed <= 3; seed++) {
        for (String row : corpusRows(seed)) {
          check(p, row, diffs);
        }
      }
    }
    assertThat(diffs).isEmpty();
  }

  @Test
  void fieldsPathEqualsWholeRowAcrossTabs() {
    List<String> diffs = new ArrayList<>();
    for (Profile p : profiles()) {
      for (String row : SEAMS) {
        check(p, row, diffs);
      }
    }
    assertThat(diffs).isEmpty();
  }

  @Test
  void fieldsPathEqualsWholeRowOnRandomText() {
    List<String> texts = new ArrayList<>(TriageTest.random(5_000, 23));
    // Rows of random fields: more tabs than the random alphabet gives.
    List<String> fields = TriageTest.random(6_000, 29);
    for (int i = 0; i + 6 <= fields.size(); i += 6) {
      texts.add(String.join("\t", fields.subList(i, i + 6)) + "\n");
    }
    List<String> diffs = new ArrayList<>();
    for (Profile p : profiles()) {
      for (String s : texts) {
        check(p, s, diffs);
      }
    }
    assertThat(diffs).isEmpty();
  }

  @Test
  void contextAcrossATabIsStillUsed() {
    Profile pii = BUILT_INS.get("pii").build();
    // Nine plain digits are an SSN only after the word: in a COPY row it is often the previous
    // field, and the whole-row scan it replaces found it there.
    byte[] row = "1\tx\tssn\t078051120\n".getBytes(StandardCharsets.UTF_8);
    assertThat(new String(pii.redactUtf8Fields(row, 0, row.length), StandardCharsets.UTF_8))
        .doesNotContain("078051120");
    byte[] assignment = "1\tx\tpassword:\thunter2\n".getBytes(StandardCharsets.UTF_8);
    assertThat(
            new String(
                pii.redactUtf8Fields(assignment, 0, assignment.length), StandardCharsets.UTF_8))
        .doesNotContain("hunter2");
  }

  @Test
  void typicalRowsAreScannedFieldByField() {
    Profile pii = BUILT_INS.get("pii").build();
    Scanner s = pii.scanner;
    for (String row :
        List.of(
            "1000005\tORD-2024-501140\tAnn Novak\tann.novak5@example.com\tNG\tLagos\tSKU-87532\t5"
                + "\t484.41\tNGN\tdelivered\t2024-04-04 15:09:36.945476+00\t\t\n",
            "17\tcustomer 17 <user17@example.com> +1 415 555 0017 lorem ipsum lorem ipsum\n")) {
      byte[] u = row.getBytes(StandardCharsets.UTF_8);
      assertThat(s.fieldDetectors(u, 0, u.length)).as(row).isNotZero();
    }
    byte[] ssn = "ssn\t078051120\n".getBytes(StandardCharsets.UTF_8);
    assertThat(s.fieldDetectors(ssn, 0, ssn.length)).isZero();
  }
}
