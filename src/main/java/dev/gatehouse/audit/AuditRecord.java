package dev.gatehouse.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;

/**
 * One row of {@code audit_log} and the rule that chains it: {@code hash = hex(SHA-256(prevHash +
 * "\n" + canonical()))}, where {@link #canonical()} is the JSON object of every field but the
 * hashes, with sorted keys and {@code data} inlined exactly as stored.
 */
record AuditRecord(
    long seq,
    long at,
    String type,
    String actor,
    String sessionId,
    String connection,
    String data,
    String prevHash,
    String hash) {

  /** The prev_hash of the first record. */
  static final String GENESIS = "0".repeat(64);

  static final String COLUMNS =
      "seq, at, type, actor, session_id, connection, data, prev_hash, hash";

  /** A new record chained after {@code prevHash}. */
  static AuditRecord chain(
      long seq,
      long at,
      String type,
      String actor,
      String sessionId,
      String connection,
      String data,
      String prevHash) {
    AuditRecord unhashed =
        new AuditRecord(seq, at, type, actor, sessionId, connection, data, prevHash, null);
    return new AuditRecord(
        seq, at, type, actor, sessionId, connection, data, prevHash, unhashed.computeHash());
  }

  static AuditRecord read(ResultSet rs) throws SQLException {
    return new AuditRecord(
        rs.getLong(1),
        rs.getLong(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getString(6),
        rs.getString(7),
        rs.getString(8),
        rs.getString(9));
  }

  String canonical() {
    return "{\"actor\":"
        + CanonicalJson.string(actor)
        + ",\"at\":"
        + at
        + ",\"connection\":"
        + CanonicalJson.string(connection)
        + ",\"data\":"
        + data
        + ",\"seq\":"
        + seq
        + ",\"session_id\":"
        + CanonicalJson.string(sessionId)
        + ",\"type\":"
        + CanonicalJson.string(type)
        + "}";
  }

  String computeHash() {
    return sha256Hex(prevHash + "\n" + canonical());
  }

  static String sha256Hex(String text) {
    // digest() resets the instance, so each thread (the store thread for every record, the
    // verifier) reuses one instead of a provider look-up per record.
    return HexFormat.of().formatHex(SHA256.get().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("SHA-256 is missing from this JVM", e);
            }
          });
}
