package dev.gatehouse.postgres;

import dev.gatehouse.masking.ColumnMasker;
import dev.gatehouse.masking.MaskResult;
import dev.gatehouse.masking.MaskingEngine;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
 * <p>Limit, stated plainly: content detection runs on text-like columns only. A card number stored
 * in a {@code numeric} or {@code bigint} column is masked by a column rule, not by detection.
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

  private final MaskingEngine engine;
  private final String profile;
  private final String connection;
  private final PgCatalog catalog;

  private ColumnMasker[] maskers = new ColumnMasker[0];
  private boolean[] binary = new boolean[0];
  private boolean[] textLike = new boolean[0];
  private int[] types = new int[0];
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
      // Content detection only makes sense on text; a whole-column rule applies to any type.
      if (m.isIdentity() || (!m.masksAll() && !textLike[i])) {
        m = null;
      }
      maskers[i] = m;
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
    ByteBuffer b = ByteBuffer.wrap(body);
    int n = b.getShort() & 0xffff;
    if (failClosed || n != maskers.length) {
      // A DataRow that does not match its RowDescription: refuse to guess, mask every value.
      return nullRow(n);
    }
    ByteArrayOutputStream out = null;
    int copiedUpTo = 0;
    for (int i = 0; i < n; i++) {
      int start = b.position();
      int len = b.getInt();
      if (len < 0) {
        continue;
      }
      int valueStart = b.position();
      b.position(valueStart + len);
      ColumnMasker m = maskers[i];
      if (m == null) {
        continue;
      }
      byte[] replacement = mask(i, m, body, valueStart, len);
      if (replacement == null) {
        continue; // unchanged
      }
      if (out == null) {
        out = new ByteArrayOutputStream(body.length + 16);
      }
      out.write(body, copiedUpTo, start - copiedUpTo);
      if (replacement == NULL) {
        writeInt(out, -1);
      } else {
        writeInt(out, replacement.length);
        out.write(replacement, 0, replacement.length);
      }
      copiedUpTo = valueStart + len;
    }
    if (out == null) {
      return body;
    }
    out.write(body, copiedUpTo, body.length - copiedUpTo);
    return out.toByteArray();
  }

  private static final byte[] NULL = new byte[0];

  /** The new bytes for one value, {@link #NULL} for SQL NULL, or null when unchanged. */
  private byte[] mask(int i, ColumnMasker m, byte[] body, int off, int len) {
    boolean jsonbBinary = binary[i] && types[i] == JSONB;
    if (binary[i] && !textLike[i]) {
      return NULL; // a whole-column rule on a binary non-text value: see the class comment
    }
    int textOff = jsonbBinary ? off + 1 : off;
    int textLen = jsonbBinary ? len - 1 : len;
    // Content detection runs its pre-filter over the bytes: a value that arms no detector (most
    // numbers, timestamps and short words) is neither decoded nor re-encoded.
    MaskResult r = m.maskUtf8(body, textOff, Math.max(0, textLen));
    if (r == null) {
      return null;
    }
    if (r.isNull()) {
      return NULL;
    }
    String masked = r.value();
    if (types[i] == JSONB || types[i] == 114) {
      // Keep json valid: a masked json document becomes a JSON string.
      if (!masked.startsWith("{") && !masked.startsWith("[") && !masked.startsWith("\"")) {
        masked = "\"" + masked.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
      }
    }
    byte[] text = masked.getBytes(StandardCharsets.UTF_8);
    if (!jsonbBinary) {
      return text;
    }
    byte[] withVersion = new byte[text.length + 1];
    withVersion[0] = 1;
    System.arraycopy(text, 0, withVersion, 1, text.length);
    return withVersion;
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
