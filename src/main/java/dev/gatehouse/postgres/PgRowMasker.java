package dev.gatehouse.postgres;

import dev.gatehouse.masking.ColumnMasker;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.postgres.PgBinaryValues.Form;
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
 * <p>Which description applies: {@link RowFilter#onRowDescription} is called for every
 * RowDescription relayed and, by the session, before the first row of each Execute with that
 * portal's own description and its Bind's result formats, because a client that server-prepares a
 * statement (pgjdbc with {@code prepareThreshold}, asyncpg) describes it once, with text formats,
 * and then receives its rows in binary without another RowDescription. Rows of an Execute that was
 * never described are all NULL. An unchanged description is not planned again.
 *
 * <p>Formats (https://www.postgresql.org/docs/current/protocol-message-formats.html): text-format
 * values are UTF-8 text of any type. Binary-format values are read by their type's binary form
 * ({@link PgBinaryValues}): text-like types (text, varchar, bpchar, name, xml, json, enums, citext,
 * domains over them) are the same UTF-8 bytes, jsonb has a version byte first; arrays and records
 * are parsed (bounded), masked element by element and re-encoded with the new lengths; types whose
 * binary form is not read (hstore, tsvector, PostGIS, …) are sent as SQL NULL in a masked column,
 * and so is every binary value of a column a rule masks that holds no text (a number, a date).
 * Non-built-in type OIDs are resolved through {@link PgCatalog}; a failed lookup fails the row
 * closed like a failed table lookup.
 *
 * <p>Content detection runs on every text-format value except those of the number, boolean, date
 * and time and uuid types ({@link #NOT_TEXT}); every other type, also one this class does not know
 * (a domain, an enum, an extension type such as citext, an array or record), is scanned, so an
 * unknown type fails closed. Binary-format values are scanned where their binary form holds text,
 * and NULL where it cannot be read. Limits, stated plainly: a card number stored in a {@code
 * numeric} or {@code bigint} column is masked by a column rule, not by detection; a masked enum
 * value is text that is not one of the enum's labels. {@code bytea} is read as text in both forms:
 * its binary form is the bytes ({@link PgBinaryValues#bytes}), its text form the {@code \\x} hex of
 * them, which is decoded wherever it appears in a text value, also inside an array, a record or
 * JSON ({@link PgBinaryValues#hexRuns}), and in COPY rows.
 *
 * <p>Per row the work is per-column plan lookups and, for scanned values, the masker's first pass
 * over the bytes: a value that arms no detector is neither decoded nor copied, and an email value
 * is masked on its bytes ({@link ColumnMasker#maskUtf8Bytes}). A row is rebuilt only when a value
 * changed, into one array (no stream, no per-value buffer).
 */
final class PgRowMasker implements RowFilter {
  // Type OIDs from pg_type.dat.
  private static final int JSON = 114;
  private static final int JSONB = 3802;

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

  /** A text-format value: content detection or the column rule on its text. */
  private static final byte TEXT = 1;

  private static final byte NULL_VALUE = 2;

  /** A binary-format value: read by its type's binary form ({@link PgBinaryValues}). */
  private static final byte BINARY = 3;

  private final MaskingEngine engine;
  private final String profile;
  private final String connection;
  private final PgCatalog catalog;

  private ColumnMasker[] maskers = new ColumnMasker[0];
  private Form[] forms = new Form[0];
  private boolean[] json = new boolean[0];
  private byte[] plan = new byte[0];
  private boolean active;
  private boolean failClosed;

  PgRowMasker(MaskingEngine engine, String profile, String connection, PgCatalog catalog) {
    this.engine = engine;
    this.profile = profile;
    this.connection = connection;
    this.catalog = catalog;
  }

  /** The RowDescription the current plan was made for (null: none, or it failed closed). */
  private byte[] planned;

  @Override
  public void onRowDescription(byte[] body) {
    PgCatalog.forgetMisses(); // a new result: a type missing before may be committed now
    if (body == null) {
      // Rows whose description this session never saw: no column can be trusted.
      failClosed = true;
      active = true;
      planned = null;
      return;
    }
    if (body == planned || Arrays.equals(body, planned)) {
      return; // the same columns again (each Execute of a prepared statement announces its own)
    }
    planned = null;
    boolean sticky = true;
    ByteBuffer b = ByteBuffer.wrap(body);
    int n = b.getShort() & 0xffff;
    maskers = new ColumnMasker[n];
    forms = new Form[n];
    json = new boolean[n];
    plan = new byte[n];
    active = false;
    failClosed = false;
    boolean rules = engine.hasColumnRules(profile);
    for (int i = 0; i < n; i++) {
      String name = cstring(b);
      int tableOid = b.getInt();
      int attnum = b.getShort();
      int typeOid = b.getInt();
      b.getShort(); // typlen
      b.getInt(); // typmod
      int format = b.getShort();
      String[] qualified;
      String column;
      try {
        qualified = tableOid == 0 ? null : catalog.table(tableOid);
        // Only a column rule can care about the name: a profile without any asks no catalog.
        column = qualified == null || !rules ? null : catalog.column(tableOid, attnum);
      } catch (IllegalStateException e) {
        failClosed = true; // cannot tell which rules apply: send every value as NULL
        active = true;
        return;
      }
      String schema = qualified == null ? null : qualified[0];
      String table = qualified == null ? null : qualified[1];
      // Rules name table columns: the catalog's name of a plain column reference decides, so that
      // "SELECT ssn AS s" meets the rule on ssn; without a rule on it, one on the output name.
      ColumnMasker m =
          engine.columnMasker(
              profile, connection, schema, table, column == null ? name : column, name);
      boolean binary = format == 1;
      json[i] = typeOid == JSON || typeOid == JSONB;
      Form form = null;
      if (binary && !m.isIdentity()) {
        try {
          form = PgBinaryValues.form(typeOid, catalog);
        } catch (IllegalStateException e) {
          failClosed = true; // cannot tell how to read the column: send every value as NULL
          active = true;
          return;
        }
      }
      forms[i] = form;
      // Content detection only makes sense on text: a text-format value of any type that can hold
      // text (unknown types included), a binary one whose form holds text (PgBinaryValues). A
      // whole-column rule applies to any type.
      boolean scannable = binary ? form != Form.PLAIN : !NOT_TEXT.contains(typeOid);
      if (m.isIdentity() || (!m.masksAll() && !scannable)) {
        m = null;
      }
      maskers[i] = m;
      plan[i] =
          m == null
              ? PASS
              : binary
                  ? form == Form.UNREADABLE
                          || (m.masksAll() && (form == Form.PLAIN || nullStyle(m)))
                      ? NULL_VALUE
                      : BINARY
                  : TEXT;
      active |= m != null;
      // A type the catalog cannot read now, or a table it cannot find, may be one created in the
      // client's open transaction: plan again next time, after the commit it may be found.
      sticky &=
          (form != Form.UNREADABLE || typeExists(typeOid))
              && (tableOid == 0 || qualified != null)
              && (!rules || tableOid == 0 || attnum <= 0 || column != null);
    }
    planned = sticky ? body : null;
  }

  /**
   * Whether the catalog knows the type (hstore, PostGIS: found, but not readable in binary), so a
   * plan with it can be kept; only a type not found at all may appear after a commit. A cached
   * answer once the type was found.
   */
  private boolean typeExists(int typeOid) {
    try {
      return catalog != null && catalog.typeSend(typeOid) != null;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  /**
   * True when a column rule sends SQL NULL for every value: a binary array or record of the column
   * is then NULL as a whole, not an array of NULLs.
   */
  private static boolean nullStyle(ColumnMasker rule) {
    return rule.mask("").isNull();
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
    byte[] masked = engine.redactUtf8(profile, body);
    // bytea columns are written as \\x hex (COPY doubles the backslash): decoded and masked too.
    byte[] hex = PgBinaryValues.hexRuns(copyMasker, masked, 0, masked.length);
    return hex == null ? masked : hex;
  }

  /** Content detection for the bytea hex inside a COPY row ({@link PgBinaryValues#hexRuns}). */
  private final PgBinaryValues.BytesMasker copyMasker = this::maskCopyBytes;

  private byte[] maskCopyBytes(byte[] b, int off, int len) {
    return PgBinaryValues.bytes(text -> engine.redact(profile, text), b, off, len);
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
          switch (kind) {
            case NULL_VALUE -> NULL;
            case BINARY ->
                PgBinaryValues.mask(maskers[i], catalog, forms[i], body, valueStart, len);
            default -> PgBinaryValues.text(maskers[i], json[i], body, valueStart, len);
          };
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

  /** The replacement meaning SQL NULL (compared by identity). */
  private static final byte[] NULL = PgBinaryValues.NULL;

  private static int readInt(byte[] b, int p) {
    return PgBinaryValues.readInt(b, p);
  }

  private static int writeInt(byte[] b, int o, int v) {
    return PgBinaryValues.writeInt(b, o, v);
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
