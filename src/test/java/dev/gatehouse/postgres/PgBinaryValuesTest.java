package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgRowMaskerTest.dataRow;
import static dev.gatehouse.postgres.PgRowMaskerTest.raw;
import static dev.gatehouse.postgres.PgRowMaskerTest.rowDescription;
import static dev.gatehouse.postgres.PgRowMaskerTest.utf8;
import static dev.gatehouse.postgres.PgRowMaskerTest.writeInt;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.postgres.PgRowMaskerTest.Col;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Binary-format values in {@link PgRowMasker}: arrays (array_send) and records (record_send) built
 * by hand are masked element by element and re-encoded with the new lengths; NULL elements,
 * dimensions and lower bounds are kept; malformed or too deeply nested values become NULL; types
 * that are not built in are read by their send function ({@link PgCatalog}), and a type whose
 * binary form cannot be read is NULL.
 */
class PgBinaryValuesTest {
  static final int INT4 = 23;
  static final int TEXT = 25;
  static final int INET = 869;
  static final int INT4_ARRAY = 1007;
  static final int TEXT_ARRAY = 1009;
  static final int VARCHAR = 1043;
  static final int VARCHAR_ARRAY = 1015;
  static final int JSONB = 3802;
  static final int JSONB_ARRAY = 3807;
  static final int RECORD = 2249;
  static final int ENUM = 16_400;
  static final int DOMAIN = 16_401;
  static final int CITEXT = 16_402;
  static final int HSTORE = 16_403;
  static final int ENUM_ARRAY = 16_404;
  static final int COMPOSITE = 16_405;
  static final int COMPOSITE_ARRAY = 16_406;
  static final int UNRESOLVABLE = 16_999;

  static final String EMAIL = "ann.smith@example.com";
  static final String EMAIL_MASKED = "a****@example.com";
  static final String CARD = "4111111111111111";

  static final PgCatalog CATALOG =
      PgCatalog.fixed(
          Map.of(),
          Map.of(
              ENUM, "pg_catalog.enum_send",
              DOMAIN, "pg_catalog.textsend",
              CITEXT, "ext.citextsend",
              HSTORE, "public.hstore_send",
              ENUM_ARRAY, "pg_catalog.array_send",
              COMPOSITE, "pg_catalog.record_send",
              COMPOSITE_ARRAY, "pg_catalog.array_send"));

  static MaskingEngine engine;

  @BeforeAll
  static void createEngine(@TempDir Path dir) throws IOException {
    engine = PgRowMaskerTest.rulesEngine(dir);
  }

  // ---- building and reading array_send / record_send values ----

  /** array_send: dimensions with lower bound 1 each, then the elements (null: SQL NULL). */
  static byte[] array(int elementType, int[] dims, byte[]... elements) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    writeInt(b, dims.length);
    writeInt(b, Arrays.stream(elements).anyMatch(e -> e == null) ? 1 : 0);
    writeInt(b, elementType);
    for (int d : dims) {
      writeInt(b, d);
      writeInt(b, 1);
    }
    for (byte[] e : elements) {
      item(b, e);
    }
    return b.toByteArray();
  }

  static byte[] array(int elementType, byte[]... elements) {
    return array(elementType, new int[] {elements.length}, elements);
  }

  /** record_send: {type OID, value} pairs. */
  static byte[] record(Object... typeAndValue) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    writeInt(b, typeAndValue.length / 2);
    for (int i = 0; i < typeAndValue.length; i += 2) {
      writeInt(b, (Integer) typeAndValue[i]);
      item(b, (byte[]) typeAndValue[i + 1]);
    }
    return b.toByteArray();
  }

  private static void item(ByteArrayOutputStream b, byte[] v) {
    if (v == null) {
      writeInt(b, -1);
    } else {
      writeInt(b, v.length);
      b.writeBytes(v);
    }
  }

  static byte[] int4(int v) {
    return ByteBuffer.allocate(4).putInt(v).array();
  }

  record Arr(int flags, int elementType, int[] dims, int[] lowerBounds, List<String> elements) {}

  /** Reads an array_send value whose elements are text; checks that it is consumed exactly. */
  static Arr readArray(byte[] v) {
    ByteBuffer b = ByteBuffer.wrap(v);
    int ndim = b.getInt();
    int flags = b.getInt();
    int type = b.getInt();
    int[] dims = new int[ndim];
    int[] lbs = new int[ndim];
    int count = ndim == 0 ? 0 : 1;
    for (int d = 0; d < ndim; d++) {
      dims[d] = b.getInt();
      lbs[d] = b.getInt();
      count *= dims[d];
    }
    List<String> elements = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      elements.add(text(b, b.getInt()));
    }
    assertThat(b.remaining()).as("bytes after the last element").isZero();
    return new Arr(flags, type, dims, lbs, elements);
  }

  /** The fields of a record_send value: {type OID, raw bytes or null} per field. */
  static List<Object[]> readRecord(byte[] v) {
    ByteBuffer b = ByteBuffer.wrap(v);
    int n = b.getInt();
    List<Object[]> fields = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int type = b.getInt();
      int len = b.getInt();
      byte[] value = null;
      if (len >= 0) {
        value = new byte[len];
        b.get(value);
      }
      fields.add(new Object[] {type, value});
    }
    assertThat(b.remaining()).as("bytes after the last field").isZero();
    return fields;
  }

  private static String text(ByteBuffer b, int len) {
    if (len < 0) {
      return null;
    }
    byte[] v = new byte[len];
    b.get(v);
    return new String(v, StandardCharsets.UTF_8);
  }

  static PgRowMasker masker(String profile, PgCatalog catalog, Col... cols) {
    PgRowMasker m = new PgRowMasker(engine, profile, "db", catalog);
    m.onRowDescription(rowDescription(cols));
    return m;
  }

  /** The single value of a one-column binary row of {@code type}, masked with {@code profile}. */
  static byte[] maskOne(String profile, String column, int type, byte[] value) {
    PgRowMasker m = masker(profile, CATALOG, new Col(column, type, 1));
    return raw(m.filterDataRow(dataRow(value))).get(0);
  }

  // ---- bytea ----

  /** Invalid UTF-8 bytes are carried through masking as escapes and written back as they were. */
  @Test
  void byteEscapesRoundTripEveryByteSequence() {
    java.util.Random random = new java.util.Random(11);
    for (int i = 0; i < 2000; i++) {
      byte[] b = new byte[random.nextInt(40)];
      random.nextBytes(b);
      String escaped = PgBinaryValues.escapedUtf8(b, 0, b.length);
      String text = escaped == null ? new String(b, StandardCharsets.UTF_8) : escaped;
      assertThat(PgBinaryValues.unescapedUtf8(text)).isEqualTo(b);
    }
  }

  @Test
  void byteaElementsOfABinaryArrayAreReadAsText() {
    byte[] glued = Arrays.copyOf(utf8("mail " + EMAIL), EMAIL.length() + 6);
    glued[glued.length - 1] = (byte) 0xff;
    byte[] value = array(17, utf8(EMAIL), glued, new byte[] {0, 1, (byte) 0x80});
    Arr a = readArray(maskOne("pii", "b", 1001, value));
    assertThat(a.elements().get(0)).isEqualTo(EMAIL_MASKED);
    assertThat(a.elements().get(1)).startsWith("mail " + EMAIL_MASKED).doesNotContain(EMAIL);
    assertThat(maskOne("pii", "b", 17, new byte[] {0, 1, (byte) 0x80})).containsExactly(0, 1, 0x80);
  }

  // ---- arrays ----

  @Test
  void textArrayElementsAreMaskedAndReencodedWithTheirNewLengths() {
    byte[] value =
        array(TEXT, utf8(EMAIL), null, utf8("card " + CARD + " on file"), utf8("plain"), utf8(""));
    PgRowMasker m = masker("pii", CATALOG, new Col("tags", TEXT_ARRAY, 1), new Col("n", INT4, 1));
    byte[] out = m.filterDataRow(dataRow(value, int4(7)));
    List<byte[]> row = raw(out);
    Arr a = readArray(row.get(0));
    assertThat(a.flags()).isEqualTo(1);
    assertThat(a.elementType()).isEqualTo(TEXT);
    assertThat(a.dims()).containsExactly(5);
    assertThat(a.lowerBounds()).containsExactly(1);
    assertThat(a.elements().get(0)).isEqualTo(EMAIL_MASKED);
    assertThat(a.elements().get(1)).isNull();
    assertThat(a.elements().get(2))
        .startsWith("card ")
        .endsWith("1111 on file")
        .doesNotContain(CARD);
    assertThat(a.elements().subList(3, 5)).containsExactly("plain", "");
    assertThat(row.get(1)).isEqualTo(int4(7));
  }

  @Test
  void multiDimensionalVarcharArrayKeepsItsShapeAndLowerBounds() {
    byte[] value =
        array(
            VARCHAR,
            new int[] {2, 2},
            utf8("bob@example.com"),
            utf8("x"),
            utf8("y"),
            utf8("mail: carol@example.org"));
    // Lower bounds other than 1 ('[0:1][5:6]={...}') survive the re-encoding.
    ByteBuffer.wrap(value).putInt(16, 0).putInt(24, 5);
    Arr a = readArray(maskOne("pii", "v", VARCHAR_ARRAY, value));
    assertThat(a.flags()).isZero();
    assertThat(a.dims()).containsExactly(2, 2);
    assertThat(a.lowerBounds()).containsExactly(0, 5);
    assertThat(a.elements())
        .containsExactly(
            engine.redact("pii", "bob@example.com"), "x", "y", "mail: c****@example.org");
  }

  @Test
  void arraysThatChangeNothingAreSentAsTheyAre() {
    PgRowMasker m =
        masker(
            "pii",
            CATALOG,
            new Col("t", TEXT_ARRAY, 1),
            new Col("i", INT4_ARRAY, 1),
            new Col("e", TEXT_ARRAY, 1));
    byte[] row =
        dataRow(
            array(TEXT, utf8("Émile"), null, utf8("")),
            array(INT4, int4(1), int4(2)),
            array(TEXT, new int[0]));
    assertThat(m.filterDataRow(row)).isSameAs(row);
  }

  @Test
  void jsonbArrayElementsKeepTheirVersionByte() {
    byte[] value = array(JSONB, utf8("\u0001{\"mail\": \"ann@example.com\"}"), utf8("\u00012"));
    Arr a = readArray(maskOne("pii", "docs", JSONB_ARRAY, value));
    assertThat(a.elements()).containsExactly("\u0001{\"mail\": \"a****@example.com\"}", "\u00012");
  }

  @Test
  void columnRuleStyleAppliesToEachElementAndNullStyleNullsTheValue() {
    Arr a = readArray(maskOne("rules", "email", TEXT_ARRAY, array(TEXT, utf8(EMAIL), null)));
    assertThat(a.elements()).containsExactly(EMAIL_MASKED, null);
    assertThat(maskOne("rules", "secret_id", TEXT_ARRAY, array(TEXT, utf8("s1"), utf8("s2"))))
        .isNull();
    // A rule on a column whose elements hold no text: each element is replaced by NULL.
    Arr numbers = readArray(maskOne("rules", "email", INT4_ARRAY, array(INT4, int4(1), int4(2))));
    assertThat(numbers.flags()).isEqualTo(1);
    assertThat(numbers.elements()).containsExactly(null, null);
  }

  @Test
  void malformedArraysUnderMaskingAreNull() {
    byte[] good = array(TEXT, utf8(EMAIL), utf8("x"));
    List<byte[]> bad = new ArrayList<>();
    bad.add(Arrays.copyOf(good, good.length - 1)); // element past the end
    byte[] trailing = Arrays.copyOf(good, good.length + 1); // a byte after the last element
    bad.add(trailing);
    bad.add(Arrays.copyOf(good, 10)); // header cut short
    byte[] sevenDims = good.clone();
    ByteBuffer.wrap(sevenDims).putInt(0, 7); // MAXDIM is 6
    bad.add(sevenDims);
    byte[] negativeDim = good.clone();
    ByteBuffer.wrap(negativeDim).putInt(12, -2);
    bad.add(negativeDim);
    byte[] badFlags = good.clone();
    ByteBuffer.wrap(badFlags).putInt(4, 2);
    bad.add(badFlags);
    byte[] badLength = good.clone();
    ByteBuffer.wrap(badLength).putInt(20, -5); // only -1 means NULL
    bad.add(badLength);
    // Six dimensions of 65536: the product overflows an int and dwarfs the value.
    ByteBuffer huge = ByteBuffer.allocate(12 + 6 * 8 + 4);
    huge.putInt(6).putInt(0).putInt(TEXT);
    for (int d = 0; d < 6; d++) {
      huge.putInt(65_536).putInt(1);
    }
    bad.add(huge.array());
    for (byte[] v : bad) {
      PgRowMasker m = masker("pii", CATALOG, new Col("t", TEXT_ARRAY, 1), new Col("u", TEXT, 0));
      List<byte[]> row = raw(m.filterDataRow(dataRow(v, utf8("kept"))));
      assertThat(row.get(0)).as(Arrays.toString(v)).isNull();
      assertThat(row.get(1)).isEqualTo(utf8("kept"));
    }
  }

  @Test
  void sixDimensionsAreRead() {
    int[] dims = {1, 1, 1, 1, 1, 2};
    Arr a = readArray(maskOne("pii", "t", TEXT_ARRAY, array(TEXT, dims, utf8(EMAIL), null)));
    assertThat(a.dims()).containsExactly(dims);
    assertThat(a.elements()).containsExactly(EMAIL_MASKED, null);
  }

  // ---- records ----

  @Test
  void recordFieldsAreMaskedByTheirOwnTypesAndNestedArraysToo() {
    byte[] value =
        record(
            INT4, int4(42),
            TEXT, utf8(EMAIL),
            TEXT, null,
            TEXT_ARRAY, array(TEXT, utf8("x"), utf8(CARD)),
            RECORD, record(VARCHAR, utf8("bob@example.com")));
    List<Object[]> f = readRecord(maskOne("pii", "r", RECORD, value));
    assertThat(f).extracting(x -> x[0]).containsExactly(INT4, TEXT, TEXT, TEXT_ARRAY, RECORD);
    assertThat((byte[]) f.get(0)[1]).isEqualTo(int4(42));
    assertThat(new String((byte[]) f.get(1)[1], StandardCharsets.UTF_8)).isEqualTo(EMAIL_MASKED);
    assertThat(f.get(2)[1]).isNull();
    Arr nested = readArray((byte[]) f.get(3)[1]);
    assertThat(nested.elements().get(0)).isEqualTo("x");
    assertThat(nested.elements().get(1)).endsWith("1111").isNotEqualTo(CARD);
    List<Object[]> inner = readRecord((byte[]) f.get(4)[1]);
    assertThat(new String((byte[]) inner.get(0)[1], StandardCharsets.UTF_8))
        .isEqualTo(engine.redact("pii", "bob@example.com"));
  }

  @Test
  void arrayOfRecordsIsMasked() {
    byte[] value =
        array(
            COMPOSITE,
            record(INT4, int4(1), TEXT, utf8(EMAIL)),
            null,
            record(INT4, int4(2), TEXT, utf8("none")));
    Arr a = readArray(maskOne("pii", "rs", COMPOSITE_ARRAY, value));
    assertThat(a.elements().get(1)).isNull();
    List<Object[]> first = readRecord(utf8(a.elements().get(0)));
    assertThat(new String((byte[]) first.get(1)[1], StandardCharsets.UTF_8))
        .isEqualTo(EMAIL_MASKED);
    assertThat(utf8(a.elements().get(2))).isEqualTo(record(INT4, int4(2), TEXT, utf8("none")));
  }

  @Test
  void nestingIsBoundedAndMalformedRecordsAreNull() {
    byte[] deep = record(TEXT, utf8(EMAIL));
    for (int i = 1; i < PgBinaryValues.MAX_DEPTH; i++) {
      deep = record(RECORD, deep);
    }
    byte[] atLimit = maskOne("pii", "r", RECORD, deep);
    assertThat(atLimit).isNotNull().isNotEqualTo(deep);
    assertThat(new String(atLimit, StandardCharsets.UTF_8)).contains(EMAIL_MASKED);
    assertThat(maskOne("pii", "r", RECORD, record(RECORD, deep))).isNull();

    byte[] good = record(TEXT, utf8(EMAIL));
    byte[] tooMany = good.clone();
    ByteBuffer.wrap(tooMany).putInt(0, PgBinaryValues.MAX_RECORD_FIELDS + 1);
    byte[] missingField = good.clone();
    ByteBuffer.wrap(missingField).putInt(0, 2);
    byte[] cut = Arrays.copyOf(good, good.length - 3);
    for (byte[] v : List.of(tooMany, missingField, cut)) {
      assertThat(maskOne("pii", "r", RECORD, v)).isNull();
    }
  }

  // ---- types that are not built in ----

  @Test
  void enumDomainAndCitextAreReadAsTextByTheirSendFunction() {
    PgRowMasker m =
        masker(
            "pii",
            CATALOG,
            new Col("e", ENUM, 1),
            new Col("d", DOMAIN, 1),
            new Col("c", CITEXT, 1),
            new Col("ea", ENUM_ARRAY, 1));
    byte[] row = dataRow(utf8(EMAIL), utf8(CARD), utf8(EMAIL), array(ENUM, utf8("x"), utf8(EMAIL)));
    List<byte[]> v = raw(m.filterDataRow(row));
    assertThat(v.get(0)).isEqualTo(utf8(EMAIL_MASKED));
    assertThat(new String(v.get(1), StandardCharsets.UTF_8)).endsWith("1111").isNotEqualTo(CARD);
    assertThat(v.get(2)).isEqualTo(utf8(EMAIL_MASKED));
    assertThat(readArray(v.get(3)).elements()).containsExactly("x", EMAIL_MASKED);
  }

  @Test
  void unreadableTypesAreNullAndUnresolvableOnesFailTheRowClosed() {
    PgRowMasker m = masker("pii", CATALOG, new Col("h", HSTORE, 1), new Col("t", TEXT, 0));
    List<byte[]> v = raw(m.filterDataRow(dataRow(utf8("opaque"), utf8("kept"))));
    assertThat(v.get(0)).isNull();
    assertThat(v.get(1)).isEqualTo(utf8("kept"));
    // The same type in text format is scanned as text, not nulled.
    PgRowMasker text = masker("pii", CATALOG, new Col("h", HSTORE, 0));
    assertThat(raw(text.filterDataRow(dataRow(utf8("\"k\"=>\"x\"")))).get(0))
        .isEqualTo(utf8("\"k\"=>\"x\""));
    // A lookup that fails: no column can be trusted, every value is NULL.
    PgRowMasker failing =
        masker("pii", CATALOG, new Col("u", UNRESOLVABLE, 1), new Col("t", TEXT, 0));
    assertThat(raw(failing.filterDataRow(dataRow(utf8("x"), utf8("kept")))))
        .containsExactly(null, null);
    // An element or field of a type that cannot be resolved: that value is NULL.
    assertThat(maskOne("pii", "a", TEXT_ARRAY, array(UNRESOLVABLE, utf8("x")))).isNull();
    List<Object[]> f =
        readRecord(maskOne("pii", "r", RECORD, record(HSTORE, utf8("x"), INT4, int4(3))));
    assertThat(f.get(0)[1]).isNull();
    assertThat((byte[]) f.get(1)[1]).isEqualTo(int4(3));
    // Without content detection or a rule, nothing is read or looked up.
    PgRowMasker none = masker("none", CATALOG, new Col("u", UNRESOLVABLE, 1));
    byte[] row = dataRow(utf8(EMAIL));
    assertThat(none.filterDataRow(row)).isSameAs(row);
  }

  @Test
  void binaryInetIsNullWhenItsAddressWouldBeMasked() {
    byte[] v4 = {2, 32, 0, 4, (byte) 192, 0, 2, 10};
    assertThat(maskOne("pii", "ip", INET, v4)).isNull();
    assertThat(maskOne("default", "ip", INET, v4)).isEqualTo(v4);
    byte[] v6 = new byte[20];
    v6[0] = 3;
    v6[1] = (byte) 128;
    v6[3] = 16;
    v6[4] = 0x20;
    v6[5] = 0x01;
    v6[6] = 0x0d;
    v6[7] = (byte) 0xb8;
    v6[19] = 1;
    assertThat(maskOne("pii", "ip", INET, v6)).isNull();
    assertThat(maskOne("pii", "ip", INET, Arrays.copyOf(v4, 7))).isNull(); // malformed
  }

  @Test
  void sendFunctionsAreClassified() {
    assertThat(PgBinaryValues.ofSend("pg_catalog.enum_send")).isEqualTo(PgBinaryValues.Form.TEXT);
    assertThat(PgBinaryValues.ofSend("public.citextsend")).isEqualTo(PgBinaryValues.Form.TEXT);
    // A function named like a built-in one outside pg_catalog is not trusted to send text.
    assertThat(PgBinaryValues.ofSend("public.textsend")).isEqualTo(PgBinaryValues.Form.UNREADABLE);
    assertThat(PgBinaryValues.ofSend("public.hstore_send"))
        .isEqualTo(PgBinaryValues.Form.UNREADABLE);
    assertThat(PgBinaryValues.ofSend(null)).isEqualTo(PgBinaryValues.Form.UNREADABLE);
  }

  /**
   * The {@code \\x} search reads eight bytes at a time and the tail as one overlapping word: it
   * agrees with a plain search at every length, offset and place of the mark (across word
   * boundaries and in the last bytes), and a value of exactly one shortest run is still decoded.
   */
  @Test
  void hexMarkSearchAgreesWithAPlainSearch() {
    java.util.Random r = new java.util.Random(7);
    for (int n = 0; n < 40; n++) {
      for (int off = 0; off < 3; off++) {
        for (int trial = 0; trial < 200; trial++) {
          byte[] b = new byte[off + n + 2];
          for (int i = 0; i < b.length; i++) {
            b[i] = (byte) "ab\\x0 ".charAt(r.nextInt(6));
          }
          boolean plain = false;
          for (int i = off; i + 1 < off + n; i++) {
            plain |= b[i] == '\\' && b[i + 1] == 'x';
          }
          assertThat(PgBinaryValues.hasHexMark(b, off, n)).as("%d %d", n, off).isEqualTo(plain);
        }
      }
    }
    String hex = "\\x" + java.util.HexFormat.of().formatHex(utf8(CARD)); // 32 hex digits
    byte[] masked =
        PgBinaryValues.hexRuns(engine.columnMasker("pii", "c", "s", "t", "v"), utf8(hex), 0, 34);
    assertThat(masked).isNotNull();
    assertThat(new String(masked, StandardCharsets.UTF_8)).doesNotContain(hex.substring(2));
  }

  /**
   * A masked json value is still one JSON document: a finding that took the backslash of an escaped
   * quote into its mask left text that began with a quote but was no document (red team rt18mask
   * F1); such a value now becomes a JSON string of the masked text.
   */
  @Test
  void maskedJsonStaysADocument() throws Exception {
    com.fasterxml.jackson.databind.ObjectMapper mapper =
        new com.fasterxml.jackson.databind.ObjectMapper();
    String body =
        "{\"key\": \"https://stg9609.blob.core.windows.net/c/f.csv?sv=2022-11-02&ss=b&srt=o"
            + "&sp=r&se=2026-12-01T00:00:00Z&sig=lJu5Dt52LSIjU7pz1dWgXlWwwgUywTx8DOVNxGSeDCb%3D\"}";
    for (String value :
        List.of(
            mapper.writeValueAsString(body), // to_jsonb(body): JSON in a JSON string
            mapper.writeValueAsString(java.util.Map.of("n", mapper.writeValueAsString(body))),
            mapper.writeValueAsString("REDIS_PASSWORD=\"Summer2024!86\""),
            mapper.writeValueAsString(
                "{\"key\": \"TWILIO_API_KEY=SK290b9037689f9c340d6fbecf9f7e96c6\"}"))) {
      byte[] in = utf8(value);
      byte[] out =
          PgBinaryValues.text(
              engine.columnMasker("pii", "c", "s", "t", "v"), true, in, 0, in.length);
      assertThat(out).as(value).isNotNull();
      String masked = new String(out, StandardCharsets.UTF_8);
      assertThat(masked)
          .doesNotContain("lJu5Dt52")
          .doesNotContain("Summer2024")
          .doesNotContain("SK290b");
      mapper.readTree(masked); // throws when the masked text is no JSON document
      assertThat(PgBinaryValues.json(out)).as(masked).isTrue();
    }
    assertThat(PgBinaryValues.json(utf8("{\"a\": \"x\\q\"}"))).isFalse(); // a bad escape
    assertThat(PgBinaryValues.json(utf8("\"a\" \"b\""))).isFalse(); // two documents
    assertThat(PgBinaryValues.json(utf8("{\"a\": [1, \"b\"]}"))).isTrue();
  }
}
