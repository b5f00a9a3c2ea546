package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.masking.MaskingEngine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DataRow masking by column type: types whose text cannot hold a finding pass untouched, text and
 * unknown types are scanned (fail closed), emails are masked on their bytes, rows that do not
 * change are returned as they are, and json stays valid.
 */
class PgRowMaskerTest {
  static final int BOOL = 16;
  static final int INT8 = 20;
  static final int INT4 = 23;
  static final int TEXT = 25;
  static final int JSON = 114;
  static final int INET = 869;
  static final int VARCHAR = 1043;
  static final int TIMESTAMPTZ = 1184;
  static final int NUMERIC = 1700;
  static final int UUID = 2950;
  static final int JSONB = 3802;
  static final int UNKNOWN_EXTENSION_TYPE = 16_385; // e.g. citext: its OID is not fixed

  static MaskingEngine engine;

  @BeforeAll
  static void createEngine(@TempDir Path dir) throws IOException {
    engine = rulesEngine(dir);
  }

  /** The built-in profiles plus {@code rules}: column rules only, no content detection. */
  static MaskingEngine rulesEngine(Path dir) throws IOException {
    Path rules = dir.resolve("rules.yaml");
    Files.writeString(
        rules,
        """
        profiles:
          rules:
            extends: none
            columns:
              - {column: email, style: partial}
              - {column: secret_id, style: "null"}
        """);
    return MaskingEngine.create(
        new MaskingConfig(List.of(rules.toString()), new Secret("k", "test"), 0));
  }

  record Col(String name, int type, int format) {}

  static byte[] rowDescription(Col... cols) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(cols.length >>> 8);
    b.write(cols.length);
    for (int c = 0; c < cols.length; c++) {
      b.writeBytes(cols[c].name().getBytes(StandardCharsets.UTF_8));
      b.write(0);
      writeInt(b, 0); // table OID: not resolved
      b.write(0);
      b.write(c + 1);
      writeInt(b, cols[c].type());
      b.write(0xff);
      b.write(0xff);
      writeInt(b, -1);
      b.write(0);
      b.write(cols[c].format());
    }
    return b.toByteArray();
  }

  static byte[] dataRow(byte[]... values) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(values.length >>> 8);
    b.write(values.length);
    for (byte[] v : values) {
      if (v == null) {
        writeInt(b, -1);
      } else {
        writeInt(b, v.length);
        b.writeBytes(v);
      }
    }
    return b.toByteArray();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** The values of a DataRow, as text (null for SQL NULL). */
  static List<String> values(byte[] row) {
    List<String> out = new ArrayList<>();
    for (byte[] v : raw(row)) {
      out.add(v == null ? null : new String(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  /** The raw values of a DataRow (null for SQL NULL); the row must end after the last. */
  static List<byte[]> raw(byte[] row) {
    ByteBuffer b = ByteBuffer.wrap(row);
    int n = b.getShort();
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int len = b.getInt();
      byte[] v = null;
      if (len >= 0) {
        v = new byte[len];
        b.get(v);
      }
      out.add(v);
    }
    assertThat(b.remaining()).isZero();
    return out;
  }

  static void writeInt(ByteArrayOutputStream o, int v) {
    o.write(v >>> 24);
    o.write(v >>> 16);
    o.write(v >>> 8);
    o.write(v);
  }

  static PgRowMasker masker(String profile, Col... cols) {
    PgRowMasker m = new PgRowMasker(engine, profile, "db", null);
    m.onRowDescription(rowDescription(cols));
    return m;
  }

  @Test
  void typesThatCannotHoldTextPassUntouchedTextAndUnknownTypesAreScanned() {
    String card = "4111111111111111"; // Luhn-valid: masked wherever it is scanned
    String ip = "192.0.2.10";
    Col[] cols = {
      new Col("a", INT8, 0),
      new Col("b", NUMERIC, 0),
      new Col("c", TEXT, 0),
      new Col("d", VARCHAR, 0),
      new Col("e", UNKNOWN_EXTENSION_TYPE, 0),
      new Col("f", INET, 0),
      new Col("g", TIMESTAMPTZ, 0),
      new Col("h", BOOL, 0),
      new Col("i", UUID, 0),
      new Col("j", INT4, 0),
    };
    PgRowMasker m = masker("pii", cols);
    byte[] row =
        dataRow(
            utf8(card),
            utf8(card),
            utf8(card),
            utf8("ann.smith@example.com"),
            utf8("mail ann@example.com"),
            utf8(ip),
            utf8("2024-01-02 10:11:12+00"),
            utf8("t"),
            utf8("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            null);
    List<String> v = values(m.filterDataRow(row));
    assertThat(v.get(0)).isEqualTo(card);
    assertThat(v.get(1)).isEqualTo(card);
    assertThat(v.get(2)).isNotEqualTo(card).endsWith("1111");
    assertThat(v.get(3)).isEqualTo("a****@example.com");
    assertThat(v.get(4)).isEqualTo("mail a****@example.com");
    assertThat(v.get(5)).isNotEqualTo(ip).doesNotContain("192.0.2");
    assertThat(v.subList(6, 10))
        .containsExactly(
            "2024-01-02 10:11:12+00", "t", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", null);
  }

  @Test
  void unchangedRowIsReturnedAsIs() {
    PgRowMasker m = masker("pii", new Col("name", TEXT, 0), new Col("n", INT8, 0));
    byte[] row = dataRow(utf8("Émile Müller"), utf8("4111111111111111"));
    assertThat(m.filterDataRow(row)).isSameAs(row);
    byte[] empty = dataRow(utf8(""), null);
    assertThat(m.filterDataRow(empty)).isSameAs(empty);
  }

  @Test
  void nonAsciiAndSeveralFindingsInOneRow() {
    PgRowMasker m = masker("pii", new Col("a", TEXT, 0), new Col("b", VARCHAR, 0));
    byte[] row =
        dataRow(
            utf8("émile.müller@example.com"), utf8("Kraków: ann@example.com, +44 20 7946 0958"));
    List<String> v = values(m.filterDataRow(row));
    assertThat(v.get(0)).isEqualTo(engine.redact("pii", "émile.müller@example.com"));
    assertThat(v.get(0)).endsWith("@example.com").doesNotContain("müller");
    assertThat(v.get(1))
        .isEqualTo(engine.redact("pii", "Kraków: ann@example.com, +44 20 7946 0958"));
    assertThat(v.get(1)).startsWith("Kraków: a****@example.com").doesNotContain("7946 0958");
  }

  /**
   * Control characters inside a keyword (review 13, F2): the String path reads NUL and a lone CR as
   * invisible, a backspace as erasing (or dropped) and a colour code as not there, so it finds
   * {@code DB_PW=} and {@code password=} in these values; the row path's keyword search on the
   * bytes did not, and sent them unscanned. Each row value now equals the String path's result, and
   * the secret is gone from the ones the String path masks.
   */
  @Test
  void controlCharactersInsideAKeywordDoNotHideTheValueFromTheRowPath() {
    String secret = "Qz7vHb2mWk"; // no keyword in it (hunter2Secret has "secret")
    List<String> masked =
        List.of(
            "DB_\0PW=" + secret,
            "DB_\rPW=" + secret,
            "DB_x\bPW=" + secret,
            "pass\0word=" + secret,
            "pass\rword: " + secret,
            "pass\u001b[0mword=" + secret,
            "DB_\u001b[1;31mPW\u001b[0m=" + secret);
    PgRowMasker m = masker("secrets", new Col("a", TEXT, 0), new Col("b", VARCHAR, 0));
    for (String v : masked) {
      String viaString = engine.redact("secrets", v);
      assertThat(viaString).as("String path: %s", v).doesNotContain(secret);
      List<String> out = values(m.filterDataRow(dataRow(utf8(v), utf8("x " + v))));
      assertThat(out.get(0)).as("row path: %s", v).isEqualTo(viaString);
      assertThat(out.get(1)).as("row path: x %s", v).isEqualTo(engine.redact("secrets", "x " + v));
      assertThat(out.get(1)).doesNotContain(secret);
    }
    // Controls the String path does not read through, and CR LF, give what the String path gives.
    // pa<NUL>ss=: pass= is no keyword on either path
    for (String v :
        List.of(
            "DB_\u000bPW=" + secret,
            "DB_\fPW=" + secret,
            "DB_\r\nPW=" + secret,
            "pa\0ss=" + secret)) {
      List<String> out = values(m.filterDataRow(dataRow(utf8(v), utf8("x"))));
      assertThat(out.get(0)).as(v).isEqualTo(engine.redact("secrets", v));
    }
  }

  @Test
  void copyRowsAreMaskedAsTheWholeRowWouldBe() {
    PgRowMasker m = new PgRowMasker(engine, "pii", "db", null);
    m.onCopyOut(new byte[] {0, 0, 3, 0, 0, 0, 0, 0, 0}); // text format, three columns
    // The row is scanned as one text: the result is the String path's on the whole row.
    String row = "1\tAnn <ann@example.com>\t+44 20 7946 0958\tKraków\t4111 1111 1111 1111\n";
    byte[] masked = m.filterCopyData(utf8(row));
    assertThat(new String(masked, StandardCharsets.UTF_8))
        .isEqualTo(engine.redact("pii", row))
        .startsWith("1\tAnn <a****@example.com>\t")
        .doesNotContain("7946 0958")
        .doesNotContain("4111 1111 1111 1111")
        .contains("\tKraków\t");
    // Context in another field counts: the word before nine digits, an assignment across a tab.
    assertThat(new String(m.filterCopyData(utf8("1\tx\tssn\t078051120\n")), StandardCharsets.UTF_8))
        .doesNotContain("078051120");
    assertThat(
            new String(
                m.filterCopyData(utf8("1\tx\tpassword:\thunter2\n")), StandardCharsets.UTF_8))
        .doesNotContain("hunter2");
    byte[] clean = utf8("2\tORD-2024-067502\t2024-04-04 15:09:36+00\tdelivered\n");
    assertThat(m.filterCopyData(clean)).isSameAs(clean);
  }

  /**
   * The data red team's COPY rows (eleventh session): an id, a tab, then a card, a key or a phone
   * followed by a CSV field, in text and CSV format; and a CSV-escaped quoted email.
   */
  @Test
  void copyRowsWithAnIdFirstOrACsvFieldAfterAreMasked() {
    PgRowMasker text = new PgRowMasker(engine, "pii", "db", null);
    text.onCopyOut(new byte[] {0, 0, 2, 0, 0, 0, 0});
    String[][] rows = {
      {"100001	4017440016962\n", "4017440016962"},
      {"100002	6304774760739563974\n", "6304774760739563974"},
      {"100003	6759239322368147 12/29\n", "6759239322368147"},
      {"100004	4166 1318 6091 3909 12/27\n", "1318 6091"},
      {"100005	row-17-sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ\n", "abcdefghij"},
      {"100006	secret: Abc123Xyz9|secret: Def456Uvw8|secret: Ghi789Rst7\n", "Def456Uvw8"},
      {"móvil: 01 23 45 67 89,151\n", "45 67"},
      {"WhatsApp 612 34 56 78,154\n", "34 56"},
      {"Tel: +7 495 123-45-67,160\n", "123-45"},
      {"fax: 8 (495) 123-45-67,161\n", "123-45"},
      {"141,415.555.0177\n", "555.01"},
      {"\"\"\"john.smith\"\"@example.com\",5\n", "john.smith"}
    };
    List<String> leaks = new ArrayList<>();
    for (String[] r : rows) {
      String out = new String(text.filterCopyData(utf8(r[0])), StandardCharsets.UTF_8);
      if (out.contains(r[1])) {
        leaks.add(out);
      }
    }
    assertThat(leaks).isEmpty();
    // the partial style of a phone keeps its last two digits in a CSV line too
    assertThat(
            new String(
                text.filterCopyData(utf8("+33 1 23 45 67 89,151\n")), StandardCharsets.UTF_8))
        .isEqualTo(engine.redact("pii", "+33 1 23 45 67 89,151\n"))
        .startsWith("+** * ** ** ** 89,151");
  }

  @Test
  void columnRulesApplyToAnyTypeAndBinaryNonTextBecomesNull() {
    PgRowMasker m =
        masker(
            "rules",
            new Col("email", VARCHAR, 0),
            new Col("secret_id", INT8, 0),
            new Col("email", INT8, 1),
            new Col("other", TEXT, 0));
    byte[] row =
        dataRow(
            utf8("ann@example.com"),
            utf8("42"),
            new byte[] {0, 0, 0, 0, 0, 0, 0, 7},
            utf8("bob@example.com"));
    List<String> v = values(m.filterDataRow(row));
    assertThat(v).containsExactly("a****@example.com", null, null, "bob@example.com");
  }

  @Test
  void maskedJsonStaysJson() {
    PgRowMasker m = masker("pii", new Col("j", JSON, 0), new Col("jb", JSONB, 1));
    byte[] jsonb = utf8("\u0001\"ann@example.com\"");
    byte[] row = dataRow(utf8("{\"mail\": \"ann@example.com\"}"), jsonb);
    byte[] out = m.filterDataRow(row);
    List<String> v = values(out);
    assertThat(v.get(0)).isEqualTo("{\"mail\": \"a****@example.com\"}");
    assertThat(v.get(1)).isEqualTo("\u0001\"a****@example.com\"");
    PgRowMasker text = masker("pii", new Col("j", JSON, 0));
    assertThat(values(text.filterDataRow(dataRow(utf8("ann@example.com")))).get(0))
        .isEqualTo("\"a****@example.com\"");
  }

  @Test
  void rowNotMatchingItsDescriptionIsAllNull() {
    PgRowMasker m = masker("pii", new Col("a", TEXT, 0), new Col("b", TEXT, 0));
    assertThat(values(m.filterDataRow(dataRow(utf8("x"))))).containsExactly((String) null);
  }

  @Test
  void rowsOfAnUndescribedExecuteAreAllNull() {
    PgRowMasker m = masker("pii", new Col("a", INT8, 0));
    m.onRowDescription(null);
    assertThat(values(m.filterDataRow(dataRow(utf8("1"), utf8("x"))))).containsExactly(null, null);
    // A description after that plans again.
    m.onRowDescription(rowDescription(new Col("a", INT8, 0)));
    assertThat(values(m.filterDataRow(dataRow(utf8("1"))))).containsExactly("1");
  }

  @Test
  void bindResultFormatsApplyToTheStatementsDescription() {
    byte[] described = rowDescription(new Col("tags", 1009, 0), new Col("n", INT8, 0));
    byte[] allBinary = PgPipeline.withFormats(described, new short[] {1});
    byte[] perColumn = PgPipeline.withFormats(described, new short[] {1, 0});
    assertThat(allBinary)
        .isEqualTo(rowDescription(new Col("tags", 1009, 1), new Col("n", INT8, 1)));
    assertThat(perColumn)
        .isEqualTo(rowDescription(new Col("tags", 1009, 1), new Col("n", INT8, 0)));
    assertThat(PgPipeline.withFormats(described, new short[0])).isEqualTo(described);
    assertThat(PgPipeline.withFormats(described, new short[] {1, 1, 1})).isNull();
    // The same text[] value is read as array_send once the formats say binary.
    PgRowMasker m = masker("pii", new Col("tags", 1009, 0), new Col("n", INT8, 0));
    m.onRowDescription(perColumn);
    byte[] array = PgBinaryValuesTest.array(TEXT, utf8("ann@example.com"));
    byte[] out = m.filterDataRow(dataRow(array, utf8("1")));
    assertThat(PgBinaryValuesTest.readArray(raw(out).get(0)).elements())
        .containsExactly("a****@example.com");
  }
}
