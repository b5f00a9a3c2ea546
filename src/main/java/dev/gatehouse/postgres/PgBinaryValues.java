package dev.gatehouse.postgres;

import dev.gatehouse.masking.ColumnMasker;
import dev.gatehouse.masking.MaskResult;
import dev.gatehouse.masking.Utf8Escapes;
import java.io.ByteArrayOutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Masks one binary-format result value by its type, for {@link PgRowMasker}. A type's binary form
 * is the output of its send function (https://www.postgresql.org/docs/current/xtypes.html; the
 * functions are in src/backend/utils/adt), so a type is read by what its send function is:
 *
 * <ul>
 *   <li>{@link Form#TEXT}: textsend, varcharsend, bpcharsend, namesend, unknownsend, xml_send,
 *       enum_send and citext's citextsend send the value's text as it is (UTF-8, the gateway's
 *       client encoding); json_send too ({@link Form#JSON}); jsonb_send sends a version byte (1)
 *       and the text ({@link Form#JSONB}). Content detection and column styles apply to the text.
 *   <li>{@link Form#ARRAY}: array_send (arrayfuncs.c): int32 ndim (at most {@link
 *       #MAX_DIMENSIONS}), int32 has-null flag, int32 element type OID, per dimension int32 length
 *       and int32 lower bound, then per element int32 length (-1 for NULL) and the element's own
 *       binary form. Each element is masked by its type and the array re-encoded with the new
 *       lengths.
 *   <li>{@link Form#RECORD}: record_send (rowtypes.c), used by every composite type: int32 field
 *       count, then per field int32 type OID, int32 length (-1 for NULL) and the field's binary
 *       form. Masked field by field, like an array.
 *   <li>{@link Form#INET}: inet_send and cidr_send (network.c): family, bits, is_cidr, address
 *       length, address. The address is written as text and scanned; when the profile would mask it
 *       the value is sent as NULL (a valid value of every type).
 *   <li>{@link Form#BYTEA}: byteasend sends the bytes themselves, which a client such as psql shows
 *       as they are ({@code DECLARE … BINARY CURSOR FOR SELECT convert_to(secret, 'UTF8')}):
 *       content detection reads them as text ({@link #bytes}); a column rule replaces them with
 *       NULL.
 *   <li>{@link Form#PLAIN}: types whose binary form holds no text: numbers, booleans, dates and
 *       times, uuid, geometry, bit strings, MAC addresses, the reg* OID aliases, ranges over these.
 *       Content detection passes them; a column rule replaces them with NULL.
 *   <li>{@link Form#UNREADABLE}: every other send function (hstore_send, tsvectorsend, PostGIS, a
 *       range over a user type, …): the value cannot be read here, so in a masked column it is sent
 *       as NULL. Fail closed.
 * </ul>
 *
 * <p>A domain has its base type's send function, so a domain over text is {@link Form#TEXT}.
 * Built-in type OIDs (pg_type.dat) are classified without a lookup; any other OID is resolved by
 * {@link PgCatalog#typeSend}. Parsing is bounded: dimensions, field counts and nesting are capped,
 * every length is checked against the enclosing value, and an array or record that does not parse
 * exactly is sent as NULL.
 */
final class PgBinaryValues {
  private PgBinaryValues() {}

  /** How a type's binary form is read. */
  enum Form {
    PLAIN,
    TEXT,
    BYTEA,
    JSON,
    JSONB,
    INET,
    ARRAY,
    RECORD,
    UNREADABLE
  }

  /** MAXDIM in src/include/utils/array.h: array_recv refuses more dimensions. */
  static final int MAX_DIMENSIONS = 6;

  /** MaxTupleAttributeNumber in src/include/access/htup_details.h: most fields in a record. */
  static final int MAX_RECORD_FIELDS = 1664;

  /**
   * Arrays and records nested within one value (an array of records holding arrays is three). The
   * server has no fixed limit; a deeper value is sent as NULL rather than read with unbounded
   * recursion.
   */
  static final int MAX_DEPTH = 16;

  /** The replacement meaning SQL NULL (compared by identity). */
  static final byte[] NULL = new byte[0];

  /** Built-in type OIDs (src/include/catalog/pg_type.dat), fixed in every database. */
  private static final Map<Integer, Form> BUILTIN = new HashMap<>();

  /** Send functions in pg_catalog, by name; citextsend is accepted in any schema. */
  private static final Map<String, Form> SEND = new HashMap<>();

  static {
    builtin(
        Form.PLAIN,
        16,
        18,
        20,
        21,
        22,
        23,
        24,
        26,
        27,
        28,
        29,
        30,
        600,
        601,
        602,
        603,
        604,
        628,
        700,
        701,
        718,
        774,
        790,
        829,
        1082,
        1083,
        1114,
        1184,
        1186,
        1266,
        1560,
        1562,
        1700,
        2202,
        2203,
        2204,
        2205,
        2206,
        2950,
        3220,
        3734,
        3769,
        4089,
        4096,
        4191,
        5069);
    // Ranges and multiranges of numbers, dates and times: int4, num, ts, tstz, date, int8.
    builtin(Form.PLAIN, 3904, 3906, 3908, 3910, 3912, 3926, 4451, 4532, 4533, 4534, 4535, 4536);
    builtin(Form.TEXT, 19, 25, 142, 705, 1042, 1043);
    builtin(Form.BYTEA, 17);
    builtin(Form.JSON, 114);
    builtin(Form.JSONB, 3802);
    builtin(Form.INET, 650, 869);
    builtin(Form.RECORD, 2249);
    // Arrays of the types above (their typarray): the element type is read from the value.
    builtin(
        Form.ARRAY,
        143,
        199,
        651,
        1000,
        1001,
        1002,
        1003,
        1005,
        1006,
        1007,
        1008,
        1009,
        1010,
        1011,
        1012,
        1013,
        1014,
        1015,
        1016,
        1017,
        1018,
        1019,
        1020,
        1021,
        1022,
        1027,
        1028,
        1040,
        1041,
        1115,
        1182,
        1183,
        1185,
        1187,
        1231,
        1270,
        1561,
        1563,
        2201,
        2207,
        2211,
        2287,
        2951,
        3221,
        3807,
        3905,
        3907,
        3909,
        3911,
        3913,
        3927);
    send(Form.TEXT, "textsend", "varcharsend", "bpcharsend", "namesend", "unknownsend");
    send(Form.TEXT, "xml_send", "enum_send");
    send(Form.BYTEA, "byteasend");
    send(Form.JSON, "json_send");
    send(Form.JSONB, "jsonb_send");
    send(Form.INET, "inet_send", "cidr_send");
    send(Form.ARRAY, "array_send");
    send(Form.RECORD, "record_send");
    send(
        Form.PLAIN,
        "boolsend",
        "charsend",
        "int2send",
        "int4send",
        "int8send",
        "oidsend",
        "float4send",
        "float8send",
        "numeric_send",
        "cash_send",
        "date_send",
        "time_send",
        "timetz_send",
        "timestamp_send",
        "timestamptz_send",
        "interval_send",
        "uuid_send",
        "bit_send",
        "varbit_send",
        "macaddr_send",
        "macaddr8_send",
        "point_send",
        "lseg_send",
        "line_send",
        "box_send",
        "path_send",
        "poly_send",
        "circle_send",
        "tidsend",
        "xidsend",
        "xid8send",
        "cidsend",
        "pg_lsn_send",
        "int2vectorsend",
        "oidvectorsend",
        "regprocsend",
        "regproceduresend",
        "regopersend",
        "regoperatorsend",
        "regclasssend",
        "regtypesend",
        "regconfigsend",
        "regdictionarysend",
        "regnamespacesend",
        "regrolesend",
        "regcollationsend");
  }

  /** The built-in OIDs this class classifies without a lookup (for a test against pg_type). */
  static Map<Integer, Form> builtins() {
    return Map.copyOf(BUILTIN);
  }

  private static void builtin(Form form, int... oids) {
    for (int oid : oids) {
      BUILTIN.put(oid, form);
    }
  }

  private static void send(Form form, String... names) {
    for (String name : names) {
      SEND.put("pg_catalog." + name, form);
    }
  }

  /**
   * How values of type {@code oid} are read in binary format. Built-in OIDs are known; others are
   * looked up in {@code catalog} (none: {@link Form#UNREADABLE}).
   *
   * @throws IllegalStateException when the catalog lookup fails
   */
  static Form form(int oid, PgCatalog catalog) {
    Form known = BUILTIN.get(oid);
    if (known != null) {
      return known;
    }
    return catalog == null ? Form.UNREADABLE : ofSend(catalog.typeSend(oid));
  }

  /** The form for a schema-qualified send function name; null (no such type) is unreadable. */
  static Form ofSend(String qualifiedSend) {
    if (qualifiedSend == null) {
      return Form.UNREADABLE;
    }
    Form f = SEND.get(qualifiedSend);
    if (f != null) {
      return f;
    }
    // The citext extension may be installed in any schema (CREATE EXTENSION ... SCHEMA).
    return qualifiedSend.endsWith(".citextsend") ? Form.TEXT : Form.UNREADABLE;
  }

  /** A value that does not parse as its type's binary form says it does. */
  private static final class Malformed extends Exception {
    Malformed() {
      super(null, null, false, false);
    }
  }

  private static final Malformed MALFORMED = new Malformed();

  /**
   * The replacement for one binary value of a column masked by {@code m}: null when unchanged,
   * {@link #NULL} for SQL NULL, otherwise the new bytes. Content detection ({@code !m.masksAll()})
   * scans the text inside the value; a column rule applies its style to each text inside it (a
   * value, an array element, a record field) and replaces what holds no text with NULL. A value
   * that does not parse, nests too deep, or needs a type lookup that fails, is NULL.
   */
  static byte[] mask(ColumnMasker m, PgCatalog catalog, Form form, byte[] b, int off, int len) {
    try {
      return value(m, catalog, form, b, off, len, 0);
    } catch (Malformed | IllegalStateException e) {
      return NULL;
    }
  }

  private static byte[] value(
      ColumnMasker m, PgCatalog catalog, Form form, byte[] b, int off, int len, int depth)
      throws Malformed {
    return switch (form) {
      case PLAIN -> m.masksAll() ? NULL : null;
      case UNREADABLE -> NULL;
      case TEXT -> text(m, false, b, off, len);
      case BYTEA -> m.masksAll() ? NULL : bytes(m, b, off, len);
      case JSON -> text(m, true, b, off, len);
      case JSONB -> {
        if (len < 1 || b[off] != 1) {
          throw MALFORMED; // jsonb_send writes version 1
        }
        byte[] t = text(m, true, b, off + 1, len - 1);
        yield t == null || t == NULL ? t : withVersion(t);
      }
      case INET -> m.masksAll() || inetMasked(m, b, off, len) ? NULL : null;
      case ARRAY -> array(m, catalog, b, off, len, depth + 1);
      case RECORD -> record(m, catalog, b, off, len, depth + 1);
    };
  }

  /**
   * Masks UTF-8 text: content detection on the bytes, or the column rule's style. Null when
   * unchanged, {@link #NULL} for SQL NULL. {@code json}: the result stays a JSON document.
   */
  static byte[] text(ColumnMasker m, boolean json, byte[] b, int off, int len) {
    byte[] text;
    if (m.masksAll()) {
      MaskResult r = m.maskUtf8(b, off, len);
      if (r != null && r.isNull()) {
        return NULL;
      }
      text = r == null ? null : r.value().getBytes(StandardCharsets.UTF_8);
    } else {
      text = m.maskUtf8Bytes(b, off, len);
      byte[] hex = text == null ? hexRuns(m, b, off, len) : hexRuns(m, text, 0, text.length);
      if (hex != null) {
        text = hex;
      }
    }
    if (text == null) {
      return null;
    }
    return json ? jsonText(text) : text;
  }

  /**
   * Masks bytes that may or may not be UTF-8 text (a bytea value) by content detection: null when
   * unchanged, otherwise the masked bytes. Valid UTF-8 is masked as it is; otherwise each byte that
   * is not part of a valid UTF-8 sequence is read as the lone surrogate U+DC80..U+DCFF (PEP 383's
   * "surrogateescape") and written back as the same byte, so the text around invalid bytes is
   * scanned ({@code convert_to(secret, 'UTF8') || '\xff'}) and the bytes without a finding are
   * returned unchanged. Detectors see those surrogates as characters that are no letter, digit or
   * separator.
   */
  static byte[] bytes(ColumnMasker m, byte[] b, int off, int len) {
    if (!m.mayChange(b, off, len)) {
      return null;
    }
    String escaped = escapedUtf8(b, off, len);
    if (escaped == null) {
      return m.maskUtf8Bytes(b, off, len); // valid UTF-8
    }
    MaskResult r = m.mask(escaped);
    return r.masked() && !r.isNull() ? unescapedUtf8(r.value()) : null;
  }

  /** {@link #bytes} with a masker of text ({@code redact} returns its input when unchanged). */
  static byte[] bytes(UnaryOperator<String> redact, byte[] b, int off, int len) {
    return Utf8Escapes.masked(redact, b, off, len);
  }

  /** Masks the bytes of a value: null when unchanged. */
  @FunctionalInterface
  interface BytesMasker {
    byte[] mask(byte[] b, int off, int len);
  }

  /** The bytes decoded as UTF-8 with invalid bytes escaped ({@link Utf8Escapes#escaped}). */
  static String escapedUtf8(byte[] b, int off, int len) {
    return Utf8Escapes.escaped(b, off, len);
  }

  /** {@link #escapedUtf8}'s inverse ({@link Utf8Escapes#unescaped}). */
  static byte[] unescapedUtf8(String s) {
    return Utf8Escapes.unescaped(s);
  }

  /**
   * Fewest hex digits after {@code \x} read as bytea text: four bytes, shorter than any finding.
   */
  static final int MIN_HEX_DIGITS = 8;

  /**
   * Masks bytea in its text form inside text: each {@code \x} followed by at least {@link
   * #MIN_HEX_DIGITS} hex digits (bytea's hex output, also as an element of an array, a field of a
   * record or a JSON string, where the backslash before it is doubled) is decoded, masked by {@link
   * #bytes}, and written back as the hex of the masked bytes. Null when nothing changed. The hex of
   * a secret is the secret to anyone who decodes it, so it must not pass where the secret would be
   * masked.
   */
  static byte[] hexRuns(ColumnMasker m, byte[] b, int off, int len) {
    // a value shorter than one run (most of a table's short text: codes, names, statuses) has none
    return len >= 2 + MIN_HEX_DIGITS && hasHexMark(b, off, len)
        ? hexRuns((x, o, l) -> bytes(m, x, o, l), b, off, len)
        : null;
  }

  /** True when {@code \x} occurs: most values have no backslash, and cost this one pass. */
  static boolean hasHexMark(byte[] b, int off, int len) {
    int end = off + len;
    int i = off;
    // Eight bytes at a time up to the first word holding a backslash (the "has a zero byte" test
    // on the word XOR backslashes, which is exact), then byte by byte; the bytes after the last
    // whole word as one more word ending at the value's end (overlapping the one before).
    for (; i + 8 <= end; i += 8) {
      if (hasBackslash(b, i)) {
        break;
      }
    }
    if (i + 8 > end && len >= 8) {
      if (!hasBackslash(b, end - 8)) {
        return false;
      }
      i = end - 8;
    }
    for (; i < end - 1; i++) {
      if (b[i] == '\\' && b[i + 1] == 'x') {
        return true;
      }
    }
    return false;
  }

  private static boolean hasBackslash(byte[] b, int i) {
    long w = (long) LONGS.get(b, i) ^ 0x5C5C5C5C5C5C5C5CL;
    return ((w - 0x0101010101010101L) & ~w & 0x8080808080808080L) != 0;
  }

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /** {@link #hexRuns(ColumnMasker, byte[], int, int)} with any masker of bytes. */
  static byte[] hexRuns(BytesMasker m, byte[] b, int off, int len) {
    int end = off + len;
    ByteArrayOutputStream out = null;
    int copied = off;
    for (int i = off; i + 1 < end; i++) {
      if (b[i] != '\\' || b[i + 1] != 'x') {
        continue;
      }
      int start = i + 2;
      int j = start;
      while (j < end && Character.digit(b[j], 16) >= 0) {
        j++;
      }
      int digits = (j - start) & ~1;
      if (digits >= MIN_HEX_DIGITS) {
        byte[] raw = HEX.parseHex(new String(b, start, digits, StandardCharsets.ISO_8859_1));
        byte[] masked = m.mask(raw, 0, raw.length);
        if (masked != null) {
          if (out == null) {
            out = new ByteArrayOutputStream(len + 16);
          }
          out.write(b, copied, start - copied);
          out.writeBytes(HEX.formatHex(masked).getBytes(StandardCharsets.ISO_8859_1));
          copied = start + digits;
        }
      }
      i = Math.max(i, j - 1);
    }
    if (out == null) {
      return null;
    }
    out.write(b, copied, end - copied);
    return out.toByteArray();
  }

  private static final HexFormat HEX = HexFormat.of();

  /**
   * Keeps json valid: a masked json document that is no longer one becomes a JSON string. Checked
   * by parsing it (Jackson's streaming parser, no tree), only for values masking changed: a finding
   * can end inside an escape, taking the backslash of a {@code \"} into its mask, so a document
   * that still began with a brace was not always one (red team rt18mask F1: JSON held in a JSON
   * string, 21 of 1,771 rows, broke every client that parses jsonb).
   */
  static byte[] jsonText(byte[] text) {
    if (text.length > 0 && (text[0] == '{' || text[0] == '[' || text[0] == '"') && json(text)) {
      return text;
    }
    String masked = new String(text, StandardCharsets.UTF_8);
    return ("\"" + masked.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static final com.fasterxml.jackson.core.JsonFactory JSON =
      com.fasterxml.jackson.core.JsonFactory.builder().build();

  /** Whether {@code text} is exactly one JSON document (RFC 8259). */
  static boolean json(byte[] text) {
    try (com.fasterxml.jackson.core.JsonParser p = JSON.createParser(text)) {
      if (p.nextToken() == null) {
        return false;
      }
      p.skipChildren();
      return p.nextToken() == null;
    } catch (java.io.IOException | RuntimeException e) {
      return false;
    }
  }

  private static byte[] withVersion(byte[] text) {
    byte[] withVersion = new byte[text.length + 1];
    withVersion[0] = 1;
    System.arraycopy(text, 0, withVersion, 1, text.length);
    return withVersion;
  }

  /**
   * True when content detection would change the text form of an inet or cidr value (network.c
   * inet_send: family 2 for IPv4 or 3 for IPv6, bits, is_cidr, address length, address bytes).
   */
  private static boolean inetMasked(ColumnMasker m, byte[] b, int off, int len) throws Malformed {
    if (len < 4) {
      throw MALFORMED;
    }
    int family = b[off];
    int bits = b[off + 1] & 0xff;
    int nb = b[off + 3] & 0xff;
    int expected = family == 2 ? 4 : family == 3 ? 16 : -1;
    if (nb != expected || len != 4 + nb || bits > 8 * nb) {
      throw MALFORMED;
    }
    byte[] addr = new byte[nb];
    System.arraycopy(b, off + 4, addr, 0, nb);
    String text;
    try {
      text = InetAddress.getByAddress(addr).getHostAddress() + "/" + bits; // no name lookup
    } catch (UnknownHostException e) {
      throw MALFORMED;
    }
    byte[] utf8 = text.getBytes(StandardCharsets.US_ASCII);
    return m.maskUtf8(utf8, 0, utf8.length) != null;
  }

  /** array_send's form; see the class comment. */
  private static byte[] array(
      ColumnMasker m, PgCatalog catalog, byte[] b, int off, int len, int depth) throws Malformed {
    if (depth > MAX_DEPTH) {
      throw MALFORMED;
    }
    int end = off + len;
    need(off, 12, end);
    int ndim = readInt(b, off);
    int flags = readInt(b, off + 4);
    int elementType = readInt(b, off + 8);
    if (ndim < 0 || ndim > MAX_DIMENSIONS || (flags != 0 && flags != 1)) {
      throw MALFORMED;
    }
    int p = off + 12;
    need(p, 8 * ndim, end);
    // Each element takes at least its 4-byte length, which bounds the product of the dimensions.
    long count = ndim == 0 ? 0 : 1;
    for (int d = 0; d < ndim; d++) {
      int n = readInt(b, p + 8 * d);
      if (n < 0) {
        throw MALFORMED;
      }
      count *= n;
      if (count > len / 4) {
        throw MALFORMED;
      }
    }
    p += 8 * ndim;
    Form element = form(elementType, catalog);
    if (element == Form.PLAIN && !m.masksAll()) {
      return null; // no text to scan in any element
    }
    byte[][] replaced = elements(m, catalog, element, b, p, end, (int) count, depth);
    if (replaced == null) {
      return null;
    }
    int headerEnd = p;
    int size = headerEnd - off + sizeOf(replaced, b, p, end, false);
    byte[] out = new byte[size];
    System.arraycopy(b, off, out, 0, headerEnd - off);
    boolean hasNull = flags == 1;
    for (byte[] r : replaced) {
      hasNull |= r == NULL;
    }
    writeInt(out, 4, hasNull ? 1 : 0);
    write(replaced, b, p, end, false, out, headerEnd - off);
    return out;
  }

  /** record_send's form; see the class comment. */
  private static byte[] record(
      ColumnMasker m, PgCatalog catalog, byte[] b, int off, int len, int depth) throws Malformed {
    if (depth > MAX_DEPTH) {
      throw MALFORMED;
    }
    int end = off + len;
    need(off, 4, end);
    int n = readInt(b, off);
    if (n < 0 || n > MAX_RECORD_FIELDS) {
      throw MALFORMED;
    }
    byte[][] replaced = elements(m, catalog, null, b, off + 4, end, n, depth);
    if (replaced == null) {
      return null;
    }
    byte[] out = new byte[4 + sizeOf(replaced, b, off + 4, end, true)];
    writeInt(out, 0, n);
    write(replaced, b, off + 4, end, true, out, 4);
    return out;
  }

  /**
   * Masks {@code n} items from {@code p}, each an int32 length (-1: NULL) and bytes, preceded by an
   * int32 type OID when {@code form} is null (record fields). Returns the replacements by index, or
   * null when none changed. The items must end exactly at {@code end}.
   */
  private static byte[][] elements(
      ColumnMasker m, PgCatalog catalog, Form form, byte[] b, int p, int end, int n, int depth)
      throws Malformed {
    byte[][] replaced = null;
    for (int i = 0; i < n; i++) {
      Form f = form;
      if (form == null) {
        need(p, 4, end);
        f = form(readInt(b, p), catalog);
        p += 4;
      }
      need(p, 4, end);
      int len = readInt(b, p);
      p += 4;
      if (len < 0) {
        if (len != -1) {
          throw MALFORMED;
        }
        continue;
      }
      need(p, len, end);
      byte[] r = value(m, catalog, f, b, p, len, depth);
      if (r != null) {
        if (replaced == null) {
          replaced = new byte[n][];
        }
        replaced[i] = r;
      }
      p += len;
    }
    if (p != end) {
      throw MALFORMED;
    }
    return replaced;
  }

  /** Size of the items from {@code p} to {@code end} with the replacements applied. */
  private static int sizeOf(byte[][] replaced, byte[] b, int p, int end, boolean typed) {
    int size = 0;
    for (int i = 0; p < end; i++) {
      int head = typed ? 8 : 4;
      int len = readInt(b, p + head - 4);
      p += head + Math.max(len, 0);
      byte[] r = replaced[i];
      size += head + (r == null ? Math.max(len, 0) : r == NULL ? 0 : r.length);
    }
    return size;
  }

  /** Writes the items from {@code p} to {@code end} with the replacements applied, at {@code o}. */
  private static void write(
      byte[][] replaced, byte[] b, int p, int end, boolean typed, byte[] out, int o) {
    for (int i = 0; p < end; i++) {
      if (typed) {
        System.arraycopy(b, p, out, o, 4); // the field's type OID
        p += 4;
        o += 4;
      }
      int len = readInt(b, p);
      p += 4;
      byte[] r = replaced[i];
      if (r == null) {
        writeInt(out, o, len);
        o += 4;
        if (len > 0) {
          System.arraycopy(b, p, out, o, len);
          o += len;
        }
      } else if (r == NULL) {
        writeInt(out, o, -1);
        o += 4;
      } else {
        writeInt(out, o, r.length);
        o += 4;
        System.arraycopy(r, 0, out, o, r.length);
        o += r.length;
      }
      p += Math.max(len, 0);
    }
  }

  private static void need(int p, long n, int end) throws Malformed {
    if (n < 0 || p + n > end) {
      throw MALFORMED;
    }
  }

  static int readInt(byte[] b, int p) {
    return (b[p] & 0xff) << 24
        | (b[p + 1] & 0xff) << 16
        | (b[p + 2] & 0xff) << 8
        | (b[p + 3] & 0xff);
  }

  static int writeInt(byte[] b, int o, int v) {
    b[o] = (byte) (v >>> 24);
    b[o + 1] = (byte) (v >>> 16);
    b[o + 2] = (byte) (v >>> 8);
    b[o + 3] = (byte) v;
    return o + 4;
  }
}
