package dev.gatehouse.audit;

import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.store.Database;
import dev.gatehouse.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Session recordings in the store (tables {@code sessions}, {@code session_actions}, {@code
 * session_streams}), each durable on return.
 *
 * <p>{@link #actionDecided} is on the path of every statement. With a {@link ChainedAuditLog} on
 * the same store, the action row is inserted inside the audit writer's batch transaction, so the
 * row and its {@code decision} record commit together and share one group commit with every other
 * session's actions. With another {@link AuditLog}, the row is inserted first and the event
 * appended after.
 */
public final class StoreSessionRecorder implements SessionRecorder {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(StoreSessionRecorder.class);

  /** Longest statement text copied into the audit event; the full text is in session_actions. */
  static final int AUDIT_TEXT_LIMIT = 4096;

  private static final String INSERT_ACTION =
      "INSERT INTO session_actions (session_id, at, kind, raw, attributes, effect, rule, reason,"
          + " review_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

  private static final String INSERT_SESSION =
      "INSERT INTO sessions (id, subject, connection, protocol, client_address, details,"
          + " started_at) VALUES (?, ?, ?, ?, ?, ?, ?)";

  private static final String END_SESSION =
      "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL";

  private static final String COMPLETE_ACTION =
      "UPDATE session_actions SET status = ?, summary = ?, row_count = ?, duration_ms = ?,"
          + " completed_at = ? WHERE id = ?";

  private static final String INSERT_CHUNK =
      "INSERT INTO session_streams (session_id, seq, at, direction, data) VALUES (?, ?, ?, ?, ?)";

  private final Database db;
  private final AuditLog audit;
  private final ChainedAuditLog chained;
  private final Clock clock;
  private final Map<String, Live> live = new ConcurrentHashMap<>();

  public StoreSessionRecorder(Database db, AuditLog audit) {
    this(db, audit, Clock.systemUTC());
  }

  StoreSessionRecorder(Database db, AuditLog audit, Clock clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.chained = audit instanceof ChainedAuditLog c && c.database() == db ? c : null;
  }

  /** What the hot path needs about a session without a query. */
  private record Live(String subject, String connection, AtomicLong streamSeq) {}

  @Override
  public void sessionStarted(
      String sessionId,
      String subject,
      String connection,
      String protocol,
      String clientAddress,
      String details) {
    long now = clock.millis();
    inBatch(
        batch -> {
          PreparedStatement ps = batch.statement(INSERT_SESSION);
          ps.setString(1, sessionId);
          ps.setString(2, subject);
          ps.setString(3, connection);
          ps.setString(4, protocol);
          ps.setString(5, clientAddress);
          ps.setString(6, details);
          ps.setLong(7, now);
          ps.executeUpdate();
        });
    live.put(sessionId, new Live(subject, connection, new AtomicLong()));
  }

  @Override
  public long actionDecided(
      String sessionId, Action action, String maskedRaw, Decision decision, String reviewId) {
    Objects.requireNonNull(decision, "decision");
    Live s = session(sessionId);
    long at = clock.millis();
    String text = maskedRaw == null ? "" : maskedRaw;
    String attributes = CanonicalJson.write(action.attributes());
    if (chained != null) {
      long[] id = new long[1];
      chained.appendWith(
          batch -> {
            PreparedStatement ps = batch.insertReturningId(INSERT_ACTION);
            id[0] = insertAction(ps, sessionId, at, action, text, attributes, decision, reviewId);
            return decisionEvent(s, sessionId, action, text, decision, reviewId, id[0]);
          });
      return id[0];
    }
    long id =
        db.transaction(
            c -> {
              try (PreparedStatement ps = c.prepareStatement(INSERT_ACTION, new String[] {"id"})) {
                return insertAction(
                    ps, sessionId, at, action, text, attributes, decision, reviewId);
              }
            });
    audit.append(decisionEvent(s, sessionId, action, text, decision, reviewId, id));
    return id;
  }

  private static long insertAction(
      PreparedStatement ps,
      String sessionId,
      long at,
      Action action,
      String text,
      String attributes,
      Decision decision,
      String reviewId)
      throws SQLException {
    ps.setString(1, sessionId);
    ps.setLong(2, at);
    ps.setString(3, action.kind().wireName());
    ps.setString(4, text);
    ps.setString(5, attributes);
    ps.setString(6, decision.effect().name().toLowerCase(java.util.Locale.ROOT));
    ps.setString(7, decision.rule());
    ps.setString(8, decision.reason());
    ps.setString(9, reviewId);
    ps.executeUpdate();
    try (ResultSet keys = ps.getGeneratedKeys()) {
      if (!keys.next()) {
        throw new SQLException("session_actions insert returned no id");
      }
      return keys.getLong(1);
    }
  }

  private static AuditEvent decisionEvent(
      Live s,
      String sessionId,
      Action action,
      String text,
      Decision decision,
      String reviewId,
      long actionId) {
    Map<String, Object> data = new HashMap<>();
    data.put("action_id", actionId);
    data.put("kind", action.kind().wireName());
    data.put(
        "text",
        text.length() <= AUDIT_TEXT_LIMIT ? text : text.substring(0, AUDIT_TEXT_LIMIT) + "…");
    putIfPresent(data, "statement", action.string(Action.Attr.SQL_KIND));
    putIfPresent(data, "binary", action.string(Action.Attr.CMD_BINARY));
    data.put("effect", decision.effect().name().toLowerCase(java.util.Locale.ROOT));
    putIfPresent(data, "rule", decision.rule());
    putIfPresent(data, "reason", decision.reason());
    putIfPresent(data, "review_id", reviewId);
    return new AuditEvent("decision", s.subject(), sessionId, s.connection(), data);
  }

  private static void putIfPresent(Map<String, Object> data, String key, Object value) {
    if (value != null) {
      data.put(key, value);
    }
  }

  @Override
  public void actionCompleted(
      long actionId, String status, String summary, long rows, Duration duration) {
    long now = clock.millis();
    long ms = duration == null ? 0 : duration.toMillis();
    inBatchAsync(
        batch -> {
          PreparedStatement ps = batch.statement(COMPLETE_ACTION);
          ps.setString(1, status);
          ps.setString(2, summary);
          ps.setLong(3, rows);
          ps.setLong(4, ms);
          ps.setLong(5, now);
          ps.setLong(6, actionId);
          if (ps.executeUpdate() != 1) {
            throw new SQLException(
                "action " + actionId + " does not exist (expected: an id from actionDecided)");
          }
        });
  }

  @Override
  public void streamChunk(String sessionId, char direction, byte[] maskedData) {
    if (direction != 'i' && direction != 'o' && direction != 'e') {
      throw new IllegalArgumentException(
          "stream direction: '" + direction + "' (expected: 'i', 'o' or 'e')");
    }
    if (maskedData == null || maskedData.length == 0) {
      return;
    }
    Live s = session(sessionId);
    long seq = s.streamSeq().incrementAndGet();
    long now = clock.millis();
    inBatch(
        batch -> {
          PreparedStatement ps = batch.statement(INSERT_CHUNK);
          ps.setString(1, sessionId);
          ps.setLong(2, seq);
          ps.setLong(3, now);
          ps.setString(4, String.valueOf(direction));
          ps.setBytes(5, maskedData);
          ps.executeUpdate();
        });
  }

  /** Statements run in the writer's batch, or in their own transaction without a chained log. */
  @FunctionalInterface
  private interface BatchWork {
    void run(ChainedAuditLog.Batch batch) throws SQLException;
  }

  /**
   * Runs {@code work} durably. With a chained log on this store it shares the audit writer's group
   * commit (and its flush to disk on an H2 file store): under load, outcomes and stream chunks of
   * all sessions commit together instead of one commit each (measured: the separate commit per
   * outcome was the recorder's bottleneck).
   */
  /**
   * Like {@link #inBatch} but without waiting for the commit (outcomes only: they describe what
   * already happened, and the client must not wait a second commit per statement). Ordering is
   * kept: the writer commits in queue order, after the action's own row.
   */
  private final java.util.concurrent.atomic.AtomicLong outcomeFailures =
      new java.util.concurrent.atomic.AtomicLong();

  /** Outcome records that could not be written (they are written asynchronously). */
  public long outcomeFailures() {
    return outcomeFailures.get();
  }

  private void inBatchAsync(BatchWork work) {
    if (chained == null) {
      inBatch(work);
      return;
    }
    chained.appendWithAsync(
        batch -> {
          work.run(batch);
          return null;
        },
        error -> {
          outcomeFailures.incrementAndGet();
          log.error("could not record an action outcome", error);
        });
  }

  private void inBatch(BatchWork work) {
    if (chained != null) {
      chained.appendWith(
          batch -> {
            work.run(batch);
            return null;
          });
      return;
    }
    db.transaction(
        c -> {
          try (ChainedAuditLog.Batch own = ChainedAuditLog.Batch.borrowing(c)) {
            work.run(own);
          }
          return null;
        });
  }

  @Override
  public void sessionEnded(String sessionId, String reason) {
    long now = clock.millis();
    inBatch(
        batch -> {
          PreparedStatement ps = batch.statement(END_SESSION);
          ps.setLong(1, now);
          ps.setString(2, reason);
          ps.setString(3, sessionId);
          ps.executeUpdate();
        });
    live.remove(sessionId);
  }

  /** The live session, or (after a restart of this recorder) the one in the store. */
  private Live session(String sessionId) {
    Live s = live.get(sessionId);
    if (s != null) {
      return s;
    }
    Live loaded = db.transaction(c -> load(c, sessionId));
    if (loaded == null) {
      throw new StoreException(
          "session " + sessionId + " was not started (expected: sessionStarted first)");
    }
    Live raced = live.putIfAbsent(sessionId, loaded);
    return raced == null ? loaded : raced;
  }

  private static Live load(Connection c, String sessionId) throws SQLException {
    String subject;
    String connection;
    try (PreparedStatement ps =
        c.prepareStatement("SELECT subject, connection FROM sessions WHERE id = ?")) {
      ps.setString(1, sessionId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        subject = rs.getString(1);
        connection = rs.getString(2);
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement("SELECT MAX(seq) FROM session_streams WHERE session_id = ?")) {
      ps.setString(1, sessionId);
      try (ResultSet rs = ps.executeQuery()) {
        long max = rs.next() ? rs.getLong(1) : 0;
        return new Live(subject, connection, new AtomicLong(max));
      }
    }
  }
}
