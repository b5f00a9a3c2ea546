package dev.gatehouse.audit;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.PublicKeyVerify;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.signature.SignatureConfig;
import dev.gatehouse.credential.KeysetStore;
import dev.gatehouse.store.Database;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;

/**
 * Walks the audit chain in seq order and reports the first record that is not what was written.
 *
 * <p>Detects: a modified record (its content no longer hashes to its hash), a deleted record (a gap
 * in seq, or a prev_hash that does not match the record before), reordered records (prev_hash or
 * hash mismatch, as seq is part of the hash), records rewritten with recomputed hashes up to a
 * checkpoint (checkpoint hash mismatch), a truncated tail (a checkpoint or the chain head beyond
 * the last record), and forged checkpoints (signature). What it cannot detect: a tail cut after the
 * last checkpoint together with a rewound chain head; checkpoints often and exported limit that.
 *
 * <p>Streams the log and the checkpoints side by side; memory does not grow with the log.
 */
public final class AuditVerifier {
  private static final int FETCH_SIZE = 1000;

  private final Database db;
  private final String publicKeysetJson;

  /**
   * Verifies with the public signing keyset stored next to the log. Convenient, but whoever can
   * rewrite the store can replace that too: prefer {@link #AuditVerifier(Database, String)} with a
   * keyset kept elsewhere.
   */
  public AuditVerifier(Database db) {
    this(db, null);
  }

  /**
   * @param publicKeysetJson the checkpoint signing keyset's public half (from {@link
   *     ChainedAuditLog#publicSigningKeyset()}), or null to read it from the store
   */
  public AuditVerifier(Database db, String publicKeysetJson) {
    this.db = Objects.requireNonNull(db, "db");
    this.publicKeysetJson = publicKeysetJson;
  }

  private Runnable beforeRead = () -> {};

  /** Waits for this replica's journaled records before each verification (see SessionQueries). */
  public AuditVerifier readingOwnWrites(Runnable beforeRead) {
    this.beforeRead = Objects.requireNonNull(beforeRead, "beforeRead");
    return this;
  }

  public VerifyResult verify() {
    beforeRead.run();
    PublicKeyVerify verifier = verifier();
    return db.transaction(
        c -> {
          // One snapshot for the records and the chain head: under READ COMMITTED, a replica
          // appending between the two reads would look like a truncated tail. (The pool resets the
          // isolation level when the connection is returned.)
          c.setTransactionIsolation(java.sql.Connection.TRANSACTION_REPEATABLE_READ);
          return walk(c, verifier);
        });
  }

  private PublicKeyVerify verifier() {
    String json = publicKeysetJson;
    if (json == null) {
      json = KeysetStore.publicKeysetJson(db, ChainedAuditLog.SIGNING_KEYSET);
    }
    if (json == null) {
      return null; // no checkpoints can have been signed; a checkpoint present is then reported
    }
    try {
      SignatureConfig.register();
      KeysetHandle h = TinkJsonProtoKeysetFormat.parseKeysetWithoutSecret(json);
      return h.getPrimitive(RegistryConfiguration.get(), PublicKeyVerify.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "audit verify: the public keyset is not a Tink Ed25519 public keyset (expected: the"
              + " output of ChainedAuditLog.publicSigningKeyset())",
          e);
    }
  }

  private static VerifyResult walk(Connection c, PublicKeyVerify verifier) throws SQLException {
    try (PreparedStatement logQ =
            c.prepareStatement("SELECT " + AuditRecord.COLUMNS + " FROM audit_log ORDER BY seq");
        PreparedStatement cpQ =
            c.prepareStatement(
                "SELECT seq, hash, at, signature, key_id FROM audit_checkpoints ORDER BY seq, id")) {
      logQ.setFetchSize(FETCH_SIZE);
      cpQ.setFetchSize(FETCH_SIZE);
      try (ResultSet rows = logQ.executeQuery();
          ResultSet cps = cpQ.executeQuery()) {
        long records = 0;
        long checked = 0;
        long lastSeq = 0;
        String prevHash = AuditRecord.GENESIS;
        Checkpoint cp = Checkpoint.next(cps);
        while (rows.next()) {
          AuditRecord r = AuditRecord.read(rows);
          long expected = lastSeq + 1;
          if (r.seq() != expected) {
            return VerifyResult.failed(
                records,
                checked,
                lastSeq,
                expected,
                "record seq "
                    + expected
                    + " is missing (deleted): the record after seq "
                    + lastSeq
                    + " is seq "
                    + r.seq());
          }
          if (!prevHash.equals(r.prevHash())) {
            return VerifyResult.failed(
                records,
                checked,
                lastSeq,
                r.seq(),
                "record seq "
                    + r.seq()
                    + ": prev_hash does not match the hash of seq "
                    + lastSeq
                    + " (a record was deleted, inserted or reordered)");
          }
          if (!r.computeHash().equals(r.hash())) {
            return VerifyResult.failed(
                records,
                checked,
                lastSeq,
                r.seq(),
                "record seq "
                    + r.seq()
                    + ": content does not match its hash (the record was modified or moved)");
          }
          records++;
          lastSeq = r.seq();
          prevHash = r.hash();
          while (cp != null && cp.seq <= r.seq()) {
            String bad = cp.problem(verifier, r);
            if (bad != null) {
              return VerifyResult.failed(records, checked, lastSeq, cp.seq, bad);
            }
            checked++;
            cp = Checkpoint.next(cps);
          }
        }
        if (cp != null) {
          return VerifyResult.failed(
              records,
              checked,
              lastSeq,
              lastSeq + 1,
              "log truncated: a checkpoint covers seq "
                  + cp.seq
                  + " but the last record is seq "
                  + lastSeq
                  + " (records after "
                  + lastSeq
                  + " were deleted)");
        }
        long headSeq = headSeq(c);
        if (headSeq != lastSeq) {
          return VerifyResult.failed(
              records,
              checked,
              lastSeq,
              Math.min(headSeq, lastSeq) + 1,
              "chain head is at seq "
                  + headSeq
                  + " but the last record is seq "
                  + lastSeq
                  + (headSeq > lastSeq ? " (records at the tail were deleted)" : ""));
        }
        return VerifyResult.passed(records, checked, lastSeq);
      }
    }
  }

  private static long headSeq(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT seq FROM audit_chain_head WHERE id = 1");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  private record Checkpoint(long seq, String hash, long at, byte[] signature, String keyId) {
    static Checkpoint next(ResultSet rs) throws SQLException {
      if (!rs.next()) {
        return null;
      }
      return new Checkpoint(
          rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getBytes(4), rs.getString(5));
    }

    /** Null when the checkpoint is signed and matches {@code r}, the record at or just past it. */
    String problem(PublicKeyVerify verifier, AuditRecord r) {
      if (verifier == null) {
        return "checkpoint at seq " + seq + " exists but no public signing keyset is available";
      }
      try {
        verifier.verify(signature, ChainedAuditLog.checkpointPayload(seq, hash, at));
      } catch (GeneralSecurityException e) {
        return "checkpoint at seq "
            + seq
            + " (key "
            + keyId
            + "): signature does not verify (the checkpoint was forged or altered)";
      }
      if (seq != r.seq()) {
        return "checkpoint at seq " + seq + " names a record that does not exist";
      }
      if (!hash.equals(r.hash())) {
        return "checkpoint at seq "
            + seq
            + ": the record's hash differs from the signed hash (records up to seq "
            + seq
            + " were rewritten)";
      }
      return null;
    }
  }
}
