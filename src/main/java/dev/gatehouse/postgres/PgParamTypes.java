package dev.gatehouse.postgres;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * The parameter type OIDs a Parse message declares, for reviews: the same Bind bytes mean other
 * values under other types (the eight bytes {@code 40 00 00 00 00 00 00 00} are 2.0 as float8 and
 * 4611686018427387904 as int8), so they are bound into a review's fingerprint, and reviewers see a
 * binary value decoded by its declared type. Types are read by their send functions
 * (src/backend/utils/adt: int2send, int4send, int8send, float4send, float8send, boolsend, oidsend,
 * date_send, timestamp_send, timestamptz_send); built-in OIDs from pg_type.dat, which do not change
 * between versions. Any other type is shown by its OID and its value as hex only.
 */
final class PgParamTypes {
  private PgParamTypes() {}

  static final int[] NONE = new int[0];

  /** The declared types as the fingerprint binds them ({@code T23,0,701}); empty when none. */
  static String exact(int[] types) {
    if (types.length == 0) {
      return "";
    }
    StringBuilder sb = new StringBuilder(2 + 6 * types.length).append('T');
    for (int i = 0; i < types.length; i++) {
      sb.append(i == 0 ? "" : ",").append(Integer.toUnsignedString(types[i]));
    }
    return sb.toString();
  }

  /** A type's name for reviewers: built-in ones by name, others by OID; 0 is "unspecified". */
  static String name(int oid) {
    return switch (oid) {
      case 0 -> "unspecified";
      case 16 -> "bool";
      case 17 -> "bytea";
      case 20 -> "int8";
      case 21 -> "int2";
      case 23 -> "int4";
      case 25 -> "text";
      case 26 -> "oid";
      case 114 -> "json";
      case 700 -> "float4";
      case 701 -> "float8";
      case 705 -> "unknown";
      case 1042 -> "bpchar";
      case 1043 -> "varchar";
      case 1082 -> "date";
      case 1114 -> "timestamp";
      case 1184 -> "timestamptz";
      case 1700 -> "numeric";
      case 2950 -> "uuid";
      case 3802 -> "jsonb";
      default -> "oid " + Integer.toUnsignedString(oid);
    };
  }

  /** 2000-01-01, the epoch of PostgreSQL's binary dates and timestamps. */
  private static final LocalDateTime PG_EPOCH = LocalDateTime.of(2000, 1, 1, 0, 0);

  /**
   * A binary value {@code b[off, off+len)} of type {@code oid} as text, for the types whose binary
   * form is a number (no text: nothing to mask); null for any other type or a length that type does
   * not have (the server refuses such a Bind).
   */
  static String decode(int oid, byte[] b, int off, int len) {
    return switch (oid) {
      case 16 -> len == 1 ? (b[off] != 0 ? "true" : "false") : null;
      case 21 ->
          len == 2 ? Short.toString((short) (((b[off] & 0xff) << 8) | (b[off + 1] & 0xff))) : null;
      case 23 -> len == 4 ? Integer.toString(PgCodec.int32(b, off)) : null;
      case 26 -> len == 4 ? Integer.toUnsignedString(PgCodec.int32(b, off)) : null;
      case 20 -> len == 8 ? Long.toString(int64(b, off)) : null;
      case 700 -> len == 4 ? Float.toString(Float.intBitsToFloat(PgCodec.int32(b, off))) : null;
      case 701 -> len == 8 ? Double.toString(Double.longBitsToDouble(int64(b, off))) : null;
      case 1082 -> len == 4 ? date(PgCodec.int32(b, off)) : null;
      case 1114 -> len == 8 ? timestamp(int64(b, off)) : null;
      case 1184 -> len == 8 ? timestamp(int64(b, off)) + "+00" : null;
      default -> null;
    };
  }

  /**
   * What reviewers are told about parameter {@code i} beside its recorded value: its declared type
   * and, for a binary value of a type {@link #decode} reads, the value ({@code (float8, binary:
   * 2.0)}); empty when no type was declared for it. {@code exactParams} is the Bind's parameter
   * part as the session keeps it for the fingerprint (tag {@code R}: the bytes; {@code D}: their
   * digest, nothing to decode).
   */
  static String note(int[] types, byte[] exactParams, int i) {
    int oid = i < types.length ? types[i] : 0;
    if (oid == 0) {
      return "";
    }
    String value = null;
    try {
      value = binaryValue(exactParams, i, oid);
    } catch (RuntimeException e) {
      // a date or timestamp out of java.time's range, or a Bind the target refuses: type only
    }
    return " (" + name(oid) + (value == null ? ")" : ", binary: " + value + ")");
  }

  /** Parameter {@code i} of a kept Bind parameter part, decoded if binary; else null. */
  private static String binaryValue(byte[] x, int i, int oid) {
    if (x == null || x.length < 5 || x[0] != 'R') {
      return null;
    }
    int p = 1;
    int nFormats = int16(x, p);
    p += 2;
    int formatsAt = p;
    p += 2 * nFormats;
    if (p + 2 > x.length) {
      return null;
    }
    int n = int16(x, p);
    p += 2;
    if (i >= n) {
      return null;
    }
    int format = nFormats == 0 ? 0 : int16(x, formatsAt + 2 * (nFormats == 1 ? 0 : i));
    if (nFormats > 1 && i >= nFormats || format != 1) {
      return null;
    }
    for (int k = 0; k <= i; k++) {
      if (p + 4 > x.length) {
        return null;
      }
      int len = PgCodec.int32(x, p);
      p += 4;
      if (len > x.length - p) {
        return null;
      }
      if (k == i) {
        return len < 0 ? null : decode(oid, x, p, len);
      }
      p += Math.max(len, 0);
    }
    return null;
  }

  private static int int16(byte[] b, int off) {
    if (off + 2 > b.length) {
      throw new IndexOutOfBoundsException(off);
    }
    return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
  }

  private static long int64(byte[] b, int off) {
    return ((long) PgCodec.int32(b, off) << 32) | (PgCodec.int32(b, off + 4) & 0xffffffffL);
  }

  private static String date(int days) {
    if (days == Integer.MAX_VALUE) {
      return "infinity";
    }
    if (days == Integer.MIN_VALUE) {
      return "-infinity";
    }
    return LocalDate.of(2000, 1, 1).plusDays(days).toString();
  }

  private static String timestamp(long micros) {
    if (micros == Long.MAX_VALUE) {
      return "infinity";
    }
    if (micros == Long.MIN_VALUE) {
      return "-infinity";
    }
    Instant at = PG_EPOCH.toInstant(ZoneOffset.UTC).plus(micros, ChronoUnit.MICROS);
    return LocalDateTime.ofInstant(at, ZoneOffset.UTC).toString().replace('T', ' ');
  }
}
