package dev.gatehouse.audit;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * One write to the store, as data: what the audit writer applies in its batch transaction, and what
 * the {@link Journal} holds until then. Each op writes its rows and may return an entry to chain
 * into the audit log in the same transaction.
 *
 * <p>Encoding (journal payloads): a type byte, the time, then the fields in order; strings as a
 * length (-1 for null) and UTF-8 bytes. Versioned by the type byte: a new field means a new type.
 */
sealed interface JournalOp {

  /** When the op was submitted (epoch ms): the audit record's time. */
  long at();

  /** Writes the op in {@code batch}'s transaction; returns what to chain, or null. */
  Chained apply(ChainedAuditLog.Batch batch) throws SQLException;

  /** An audit log entry to chain: {@code data} is canonical JSON. */
  record Chained(String type, String actor, String sessionId, String connection, String data) {}

  /** Longest statement text copied into the audit event; the full text is in session_actions. */
  int AUDIT_TEXT_LIMIT = 4096;

  String INSERT_SESSION =
      "INSERT INTO sessions (id, subject, connection, protocol, client_address, details,"
          + " started_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
  String INSERT_ACTION =
      "INSERT INTO session_actions (id, session_id, at, kind, raw, attributes, effect, rule,"
          + " reason, review_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  String INSERT_COMPLETED_ACTION =
      "INSERT INTO session_actions (id, session_id, at, kind, raw, attributes, effect, rule,"
          + " reason, review_id, status, summary, row_count, duration_ms, completed_at)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  String COMPLETE_ACTION =
      "UPDATE session_actions SET status = ?, summary = ?, row_count = ?, duration_ms = ?,"
          + " completed_at = ? WHERE id = ?";
  String INSERT_CHUNK =
      "INSERT INTO session_streams (session_id, seq, at, direction, data) VALUES (?, ?, ?, ?, ?)";
  String END_SESSION =
      "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL";

  record SessionStart(
      long at,
      String sessionId,
      String subject,
      String connection,
      String protocol,
      String clientAddress,
      String details)
      implements JournalOp {
    @Override
    public Chained apply(ChainedAuditLog.Batch batch) throws SQLException {
      PreparedStatement ps = batch.statement(INSERT_SESSION);
      ps.setString(1, sessionId);
      ps.setString(2, subject);
      ps.setString(3, connection);
      ps.setString(4, protocol);
      ps.setString(5, clientAddress);
      ps.setString(6, details);
      ps.setLong(7, at);
      ps.executeUpdate();
      return null;
    }
  }

  /** A decided action: its session_actions row and its {@code decision} audit record. */
  record Action(
      long at,
      long id,
      String sessionId,
      String subject,
      String connection,
      String kind,
      String raw,
      String attributes,
      String effect,
      String rule,
      String reason,
      String reviewId,
      String statement,
      String binary)
      implements JournalOp {
    @Override
    public Chained apply(ChainedAuditLog.Batch batch) throws SQLException {
      PreparedStatement ps = batch.statement(INSERT_ACTION);
      bind(ps);
      ps.executeUpdate();
      return decision();
    }

    /** Binds the first ten columns of INSERT_ACTION and INSERT_COMPLETED_ACTION. */
    void bind(PreparedStatement ps) throws SQLException {
      ps.setLong(1, id);
      ps.setString(2, sessionId);
      ps.setLong(3, at);
      ps.setString(4, kind);
      ps.setString(5, raw);
      ps.setString(6, attributes);
      ps.setString(7, effect);
      ps.setString(8, rule);
      ps.setString(9, reason);
      ps.setString(10, reviewId);
    }

    Chained decision() {
      return new Chained("decision", subject, sessionId, connection, decisionJson());
    }

    /**
     * {@code CanonicalJson.write(event())} written straight from the fields, without the map and
     * its sort (on the store thread for every statement): the keys in their sorted order, absent
     * values left out as {@link #event} leaves them out. JournalOpTest compares the two.
     */
    String decisionJson() {
      String text =
          raw.length() <= AUDIT_TEXT_LIMIT ? raw : raw.substring(0, AUDIT_TEXT_LIMIT) + "…";
      StringBuilder out = new StringBuilder(160 + text.length());
      out.append("{\"action_id\":").append(id);
      optional(out, "binary", binary);
      out.append(",\"effect\":");
      CanonicalJson.append(effect, out);
      out.append(",\"kind\":");
      CanonicalJson.append(kind, out);
      optional(out, "reason", reason);
      optional(out, "review_id", reviewId);
      optional(out, "rule", rule);
      optional(out, "statement", statement);
      out.append(",\"text\":");
      CanonicalJson.append(text, out);
      return out.append('}').toString();
    }

    private static void optional(StringBuilder out, String key, String value) {
      if (value != null) {
        out.append(",\"").append(key).append("\":");
        CanonicalJson.append(value, out);
      }
    }

    /** The {@code decision} audit event's data. */
    Map<String, Object> event() {
      Map<String, Object> data = new HashMap<>();
      data.put("action_id", id);
      data.put("kind", kind);
      data.put(
          "text",
          raw.length() <= AUDIT_TEXT_LIMIT ? raw : raw.substring(0, AUDIT_TEXT_LIMIT) + "…");
      put(data, "statement", statement);
      put(data, "binary", binary);
      data.put("effect", effect);
      put(data, "rule", rule);
      put(data, "reason", reason);
      put(data, "review_id", reviewId);
      return data;
    }

    private static void put(Map<String, Object> data, String key, Object value) {
      if (value != null) {
        data.put(key, value);
      }
    }
  }

  /**
   * An action and its outcome applied as one insert (the store thread folds them when both are in
   * one batch). Never journaled: the journal holds the two ops.
   */
  record Completed(Action action, Outcome outcome) implements JournalOp {
    @Override
    public long at() {
      return action.at();
    }

    @Override
    public Chained apply(ChainedAuditLog.Batch batch) throws SQLException {
      PreparedStatement ps = batch.statement(INSERT_COMPLETED_ACTION);
      action.bind(ps);
      ps.setString(11, outcome.status());
      ps.setString(12, outcome.summary());
      ps.setLong(13, outcome.rows());
      ps.setLong(14, outcome.ms());
      ps.setLong(15, outcome.at());
      ps.executeUpdate();
      return action.decision();
    }
  }

  record Outcome(long at, long actionId, String status, String summary, long rows, long ms)
      implements JournalOp {
    @Override
    public Chained apply(ChainedAuditLog.Batch batch) throws SQLException {
      PreparedStatement ps = batch.statement(COMPLETE_ACTION);
      ps.setString(1, status);
      ps.setString(2, summary);
      ps.setLong(3, rows);
      ps.setLong(4, ms);
      ps.setLong(5, at);
      ps.setLong(6, actionId);
      if (ps.executeUpdate() != 1) {
        throw new SQLException(
            "action " + actionId + " does not exist (expected: an id from actionDecided)");
      }
      return null;
    }
  }

  record Chunk(long at, String sessionId, long seq, char direction, byte[] data)
      implements JournalOp {
    @Override
    public Chained apply(ChainedAuditLog.Batch batch) throws SQLException {
      PreparedStatement ps = batch.statement(INSERT_CHUNK);
      ps.setString(1, sessionId);
      ps.setLong(2, seq);
      ps.setLong(3, at);
      ps.setString(4, String.valueOf(direction));
      ps.setBytes(5, data);
      ps.executeUpdate();
      return null;
    }
  }

  record SessionEnd(long at, String sessionId, String reason) implements JournalOp {
    @Override
    public Chained apply(ChainedAuditLog.Batch batch) throws SQLException {
      PreparedStatement ps = batch.statement(END_SESSION);
      ps.setLong(1, at);
      ps.setString(2, reason);
      ps.setString(3, sessionId);
      ps.executeUpdate();
      return null;
    }
  }

  /** An audit event on its own ({@link AuditLog#append}). */
  record Event(long at, String type, String actor, String sessionId, String connection, String data)
      implements JournalOp {
    static Event of(long at, AuditEvent e) {
      return new Event(
          at, e.type(), e.actor(), e.sessionId(), e.connection(), CanonicalJson.write(e.data()));
    }

    @Override
    public Chained apply(ChainedAuditLog.Batch batch) {
      return new Chained(type, actor, sessionId, connection, data);
    }
  }

  // ---- encoding ----

  byte SESSION_START = 1;
  byte ACTION = 2;
  byte OUTCOME = 3;
  byte CHUNK = 4;
  byte SESSION_END = 5;
  byte EVENT = 6;

  static byte[] encode(JournalOp op) {
    // Sized for the statement's text and attributes (ASCII in the usual case), so that the buffer
    // is not grown and copied two or three times per recorded statement.
    ByteArrayOutputStream bytes =
        new ByteArrayOutputStream(
            op instanceof Action a ? 256 + a.raw().length() + a.attributes().length() : 256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      switch (op) {
        case SessionStart s -> {
          out.writeByte(SESSION_START);
          out.writeLong(s.at());
          str(out, s.sessionId());
          str(out, s.subject());
          str(out, s.connection());
          str(out, s.protocol());
          str(out, s.clientAddress());
          str(out, s.details());
        }
        case Action a -> {
          out.writeByte(ACTION);
          out.writeLong(a.at());
          out.writeLong(a.id());
          str(out, a.sessionId());
          str(out, a.subject());
          str(out, a.connection());
          str(out, a.kind());
          str(out, a.raw());
          str(out, a.attributes());
          str(out, a.effect());
          str(out, a.rule());
          str(out, a.reason());
          str(out, a.reviewId());
          str(out, a.statement());
          str(out, a.binary());
        }
        case Outcome o -> {
          out.writeByte(OUTCOME);
          out.writeLong(o.at());
          out.writeLong(o.actionId());
          str(out, o.status());
          str(out, o.summary());
          out.writeLong(o.rows());
          out.writeLong(o.ms());
        }
        case Chunk c -> {
          out.writeByte(CHUNK);
          out.writeLong(c.at());
          str(out, c.sessionId());
          out.writeLong(c.seq());
          out.writeChar(c.direction());
          out.writeInt(c.data().length);
          out.write(c.data());
        }
        case SessionEnd e -> {
          out.writeByte(SESSION_END);
          out.writeLong(e.at());
          str(out, e.sessionId());
          str(out, e.reason());
        }
        case Completed c ->
            throw new IllegalStateException("a folded action is applied, never journaled");
        case Event e -> {
          out.writeByte(EVENT);
          out.writeLong(e.at());
          str(out, e.type());
          str(out, e.actor());
          str(out, e.sessionId());
          str(out, e.connection());
          str(out, e.data());
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot happen: writing to memory", e);
    }
    return bytes.toByteArray();
  }

  static JournalOp decode(byte[] payload) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
    byte type = in.readByte();
    long at = in.readLong();
    JournalOp op =
        switch (type) {
          case SESSION_START ->
              new SessionStart(at, str(in), str(in), str(in), str(in), str(in), str(in));
          case ACTION ->
              new Action(
                  at,
                  in.readLong(),
                  str(in),
                  str(in),
                  str(in),
                  str(in),
                  str(in),
                  str(in),
                  str(in),
                  str(in),
                  str(in),
                  str(in),
                  str(in),
                  str(in));
          case OUTCOME ->
              new Outcome(at, in.readLong(), str(in), str(in), in.readLong(), in.readLong());
          case CHUNK -> {
            String session = str(in);
            long seq = in.readLong();
            char direction = in.readChar();
            int n = in.readInt();
            if (n < 0 || n > payload.length) {
              throw new IOException("journal chunk of " + n + " bytes in a smaller frame");
            }
            yield new Chunk(at, session, seq, direction, in.readNBytes(n));
          }
          case SESSION_END -> new SessionEnd(at, str(in), str(in));
          case EVENT -> new Event(at, str(in), str(in), str(in), str(in), str(in));
          default -> throw new IOException("unknown journal record type " + type);
        };
    if (in.available() != 0) {
      throw new IOException("journal record of type " + type + " has trailing bytes");
    }
    return op;
  }

  private static void str(DataOutputStream out, String s) throws IOException {
    if (s == null) {
      out.writeInt(-1);
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String str(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n == -1) {
      return null;
    }
    if (n < 0 || n > Journal.MAX_FRAME) {
      throw new IOException("journal string of " + n + " bytes");
    }
    return new String(in.readNBytes(n), StandardCharsets.UTF_8);
  }
}
