package dev.gatehouse.postgres;

import dev.gatehouse.masking.ColumnMasker;
import dev.gatehouse.masking.MaskResult;
import dev.gatehouse.masking.MaskingEngine;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;

/**
 * Masks result values on their way to the client: the {@link RowFilter} installed per session when
 * the session's masking profile is not {@code none}.
 *
 * <p>On each RowDescription it builds one {@link ColumnMasker} per column (column rules may name
 * the connection, schema, table and column; table names come from {@link PgCatalog}). Each DataRow
 * is then parsed and only rewritten when a value actually changes, so unmasked rows cost one scan.
 *
 * <p>Formats (https://www.postgresql.org/docs/current/protocol-message-formats.html): text-format
 * values are UTF-8 text of any type. Binary-format values of text-like types (text, varchar,
 * bpchar, name, json, xml, unknown) are the same UTF-8 bytes; jsonb's binary form is a version byte
 * (1) followed by the text. Binary values of other types cannot be rewritten as text, so a column
 * rule that masks such a column sends SQL NULL (a valid value of every type) instead.
 *
 * <p>Content detection runs on every text-format value except those of the number, boolean, date
 * and time and uuid types ({@link #NOT_TEXT}); every other type, also one this class does not know
 * (a domain, an enum, an extension type such as citext, an array or record), is scanned, so an
 * unknown type fails closed. Binary-format values are scanned only for the text-like types, whose
 * binary form is text. Limit, stated plainly: a card number stored in a {@code numeric} or {@code
 * bigint} column is masked by a column rule, not by detection.
 *
 * <p>Per row the work is per-column plan lookups and, for scanned values, the masker's first pass
 * over the bytes: a value that arms no detector is neither decoded nor copied, and an email value
 * is masked on its bytes ({@link ColumnMasker#maskUtf8Bytes}). A row is rebuilt only when a value
 * changed, into one array (no stream, no per-value buffer).
 */
final class PgRowMasker implements RowFilter {
  // Type OIDs from pg_type.dat.
  private static final int BPCHAR = 1042;
  private static final int JSONB = 3802;
  private static final Set<Integer> TEXT_LIKE =
      Set.of(
          25 /*text*/,
          1043 /*varchar*/,
          BPCHAR,
          19 /*name*/,
          114 /*json*/,
          JSONB,
          142 /*xml*/,
          705 /*unknown*/,
          18 /*char*/,
          1009 /*text[]*/,
          1015 /*varchar[]*/);

  /**
   * Types whose text form is a number, a boolean, a date or time, an interval or a uuid: int2,
   * int4, int8, oid, float4, float8, numeric, bool, date, time, timetz, timestamp, timestamptz,
   * interval, uuid. Content detection skips them. The only finding such a value could hold is a
   * card number stored as a number, which is left to column rules (the limit in the class comment).
   * The non-text types are listed, not the text types, so that a type missing here (one this class
   * does not know) is scanned: fail closed.
   */
  static final Set<Integer> NOT_TEXT =
      Set.of(21, 23, 20, 26, 700, 701, 1700, 16, 1082, 1083, 1266, 1114, 1184, 1186, 2950);

  /** Per-column plan: what filterDataRow does with a value of the column. */
  private static final byte PASS = 0;

  private static final byte RULE = 1;
  private static final byte CONTENT = 2;
  private static final byte NULL_VALUE = 3;

  private final MaskingEngine engine;
  private final String profile;
  private final String connection;
  private final PgCatalog catalog;

  private ColumnMasker[] maskers = new ColumnMasker[0];
  private boolean[] binary = new boolean[0];
  private boolean[] textLike = new boolean[0];
  private int[] types = new int[0];
  private byte[] plan = new byte[0];
  private boolean active;
  private boolean failClosed;

  PgRowMasker(MaskingEngine engine, String profile, String connection, PgCatalog catalog) {
    this.engine = engine;
    this.profile = profile;
    this.connection = connection;
    this.catalog = catalog;
  }

  @Override
  public void onRowDescription(byte[] body) {
    ByteBuffer b = ByteBuffer.wrap(body);
    int n = b.getShort() & 0xffff;
    maskers = new ColumnMasker[n];
    binary = new boolean[n];
    textLike = new boolean[n];
    types = new int[n];
    plan = new byte[n];
    active = false;
    failClosed = false;
    for (int i = 0; i < n; i++) {
      String name = cstring(b);
      int tableOid = b.getInt();
      b.getShort(); // column attribute number
      int typeOid = b.getInt();
      b.getShort(); // typlen
      b.getInt(); // typmod
      int format = b.getShort();
      String[] qualified;
      try {
        qualified = tableOid == 0 ? null : catalog.table(tableOid);
      } catch (IllegalStateException e) {
        failClosed = true; // cannot tell which rules apply: send every value as NULL
        active = true;
        return;
      }
      ColumnMasker m =
          engine.columnMasker(
              profile,
              connection,
              qualified == null ? null : qualified[0],
              qualified == null ? null : qualified[1],
              name);
      types[i] = typeOid;
      binary[i] = format == 1;
      textLike[i] = TEXT_LIKE.contains(typeOid);
      // Content detection only makes sense on text: a text-format value of any type that can hold
      // text (unknown types included), a binary one of a text-like type. A whole-column rule
      // applies to any type.
      boolean scannable = binary[i] ? textLike[i] : !NOT_TEXT.contains(typeOid);
      if (m.isIdentity() || (!m.masksAll() && !scannable)) {
        m = null;
      }
      maskers[i] = m;
      plan[i] =
          m == null
              ? PASS
              : m.masksAll() ? (binary[i] && !textLike[i] ? NULL_VALUE : RULE) : CONTENT;
      active |= m != null;
    }
  }

  /** COPY TO STDOUT in binary format cannot be scanned as text; see {@link #filterCopyData}. */
  private boolean copyBinary;

  @Override
  public void onCopyOut(byte[] body) {
    copyBinary = body.length > 0 && body[0] == 1;
  }

  /**
   * COPY TO STDOUT rows (text or CSV: PostgreSQL sends one row per CopyData message) are masked by
   * content detection; column rules cannot apply because CopyOutResponse names no columns. Binary
   * COPY output cannot be scanned, so in a masked session each of its messages is replaced by an
   * empty one, which ends the client's COPY with a format error rather than leak (fail closed).
   */
  @Override
  public byte[] filterCopyData(byte[] body) {
    if (copyBinary) {
      return new byte[0];
    }
    // Rows that arm no detector are neither decoded nor re-encoded.
    return engine.redactUtf8(profile, body);
  }

  @Override
  public byte[] filterDataRow(byte[] body) {
    if (!active) {
      return body;
    }
    int n = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
    if (failClosed || n != maskers.length) {
      // A DataRow that does not match its RowDescription: refuse to guess, mask every value.
      return nullRow(n);
    }
    byte[] out = null;
    int o = 0;
    int copiedUpTo = 0;
    int p = 2;
    for (int i = 0; i < n; i++) {
      int start = p;
      int len = readInt(body, p);
      p += 4;
      if (len < 0) {
        continue;
      }
      int valueStart = p;
      p += len;
      if (p > body.length) {
        throw new IllegalArgumentException("DataRow value past the end of the message");
      }
      byte kind = plan[i];
      if (kind == PASS) {
        continue;
      }
      byte[] replacement =
          kind == CONTENT
              ? replacement(i, maskers[i], true, body, valueStart, len)
              : kind == NULL_VALUE
                  ? NULL
                  : replacement(i, maskers[i], false, body, valueStart, len);
      if (replacement == null) {
        continue; // unchanged
      }
      int size = replacement == NULL ? 4 : 4 + replacement.length;
      if (out == null) {
        out = new byte[body.length + Math.max(64, size)];
      }
      int gap = start - copiedUpTo;
      out = room(out, o, gap + size);
      System.arraycopy(body, copiedUpTo, out, o, gap);
      o += gap;
      if (replacement == NULL) {
        o = writeInt(out, o, -1);
      } else {
        o = writeInt(out, o, replacement.length);
        System.arraycopy(replacement, 0, out, o, replacement.length);
        o += replacement.length;
      }
      copiedUpTo = valueStart + len;
    }
    if (out == null) {
      return body;
    }
    int rest = body.length - copiedUpTo;
    out = room(out, o, rest);
    System.arraycopy(body, copiedUpTo, out, o, rest);
    o += rest;
    return o == out.length ? out : Arrays.copyOf(out, o);
  }

  private static final byte[] NULL = new byte[0];

  /**
   * The new bytes for one value: null when unchanged, {@link #NULL} for SQL NULL (a column rule may
   * ask for it). {@code content}: detection over the bytes, where a value that arms no detector is
   * neither decoded nor copied and an email value is masked on its bytes; otherwise the column's
   * rule.
   */
  private byte[] replacement(
      int i, ColumnMasker m, boolean content, byte[] body, int off, int len) {
    boolean jsonbBinary = binary[i] && types[i] == JSONB;
    int textOff = jsonbBinary ? off + 1 : off;
    int textLen = Math.max(0, jsonbBinary ? len - 1 : len);
    byte[] text;
    if (content) {
      text = m.maskUtf8Bytes(body, textOff, textLen);
    } else {
      MaskResult r = m.maskUtf8(body, textOff, textLen);
      if (r != null && r.isNull()) {
        return NULL;
      }
      text = r == null ? null : r.value().getBytes(StandardCharsets.UTF_8);
    }
    if (text == null) {
      return null;
    }
    if (types[i] == JSONB || types[i] == 114) {
      text = jsonText(text);
    }
    return jsonbBinary ? withVersion(text) : text;
  }

  /** Keeps json valid: a masked json document that is no longer one becomes a JSON string. */
  private static byte[] jsonText(byte[] text) {
    if (text.length > 0 && (text[0] == '{' || text[0] == '[' || text[0] == '"')) {
      return text;
    }
    String masked = new String(text, StandardCharsets.UTF_8);
    return ("\"" + masked.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] withVersion(byte[] text) {
    byte[] withVersion = new byte[text.length + 1];
    withVersion[0] = 1;
    System.arraycopy(text, 0, withVersion, 1, text.length);
    return withVersion;
  }

  private static int readInt(byte[] b, int p) {
    return (b[p] & 0xff) << 24
        | (b[p + 1] & 0xff) << 16
        | (b[p + 2] & 0xff) << 8
        | (b[p + 3] & 0xff);
  }

  private static int writeInt(byte[] b, int o, int v) {
    b[o] = (byte) (v >>> 24);
    b[o + 1] = (byte) (v >>> 16);
    b[o + 2] = (byte) (v >>> 8);
    b[o + 3] = (byte) v;
    return o + 4;
  }

  /** {@code out}, or a larger copy, with room for {@code need} more bytes after {@code o}. */
  private static byte[] room(byte[] out, int o, int need) {
    return o + need <= out.length ? out : Arrays.copyOf(out, Math.max(2 * out.length, o + need));
  }

  private static byte[] nullRow(int n) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(2 + 4 * n);
    out.write(n >>> 8);
    out.write(n);
    for (int i = 0; i < n; i++) {
      writeInt(out, -1);
    }
    return out.toByteArray();
  }

  private static String cstring(ByteBuffer b) {
    int start = b.position();
    while (b.get() != 0) {
      // scan to the terminator
    }
    return new String(b.array(), start, b.position() - start - 1, StandardCharsets.UTF_8);
  }

  private static void writeInt(ByteArrayOutputStream o, int v) {
    o.write(v >>> 24);
    o.write(v >>> 16);
    o.write(v >>> 8);
    o.write(v);
  }
}
