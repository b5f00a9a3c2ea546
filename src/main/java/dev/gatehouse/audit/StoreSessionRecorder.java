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
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Session recordings in the store (tables {@code sessions}, {@code session_actions}, {@code
 * session_streams}), each durable on return.
 *
 * <p>{@link #actionDecided} is on the path of every statement. With a {@link ChainedAuditLog} on
 * the same store, each record is a {@link JournalOp} queued to the audit writer: the action row and
 * its {@code decision} record commit together, and share one group commit (and, with a journal, one
 * journal write) with every other session's records. With another {@link AuditLog}, the row is
 * inserted in its own transaction and the event appended after.
 *
 * <p>Action ids are chosen here, from blocks reserved in the store ({@code id_blocks}), because
 * with a journal the row reaches the store after the caller has gone on.
 */
public final class StoreSessionRecorder implements SessionRecorder {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(StoreSessionRecorder.class);

  /** Column sizes of session_actions (V4): a record that cannot fit is refused up front. */
  private static final int RAW_LIMIT = 1_000_000;

  private static final int RULE_LIMIT = 255;
  private static final int REASON_LIMIT = 4096;
  private static final int SUMMARY_LIMIT = 65536;

  /**
   * Ids reserved per store round trip. Every session waits while one reserves (a store transaction
   * next to the busy audit writer); 16,384 makes that about once every two seconds at 9,000
   * statements a second instead of ten times. A restart skips at most one block of ids.
   */
  private static final int ID_BLOCK = 16_384;

  private final Database db;
  private final AuditLog audit;
  private final ChainedAuditLog chained;
  private final Clock clock;
  private final Map<String, Live> live = new ConcurrentHashMap<>();
  private long nextId;
  private long blockEnd;

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
    write(
        new JournalOp.SessionStart(
            clock.millis(), sessionId, subject, connection, protocol, clientAddress, details));
    live.put(sessionId, new Live(subject, connection, new AtomicLong()));
  }

  @Override
  public long actionDecided(
      String sessionId, Action action, String maskedRaw, Decision decision, String reviewId) {
    Objects.requireNonNull(decision, "decision");
    Live s = session(sessionId);
    String text = maskedRaw == null ? "" : maskedRaw;
    if (text.length() > RAW_LIMIT) {
      throw new StoreException(
          "statement of " + text.length() + " characters is over the recording limit " + RAW_LIMIT);
    }
    String attributes = CanonicalJson.write(action.attributes());
    if (attributes.length() > RAW_LIMIT) {
      throw new StoreException("action attributes are over the recording limit " + RAW_LIMIT);
    }
    JournalOp.Action op =
        new JournalOp.Action(
            clock.millis(),
            nextActionId(),
            sessionId,
            s.subject(),
            s.connection(),
            action.kind().wireName(),
            text,
            attributes,
            EFFECTS[decision.effect().ordinal()],
            clip(decision.rule(), RULE_LIMIT),
            clip(decision.reason(), REASON_LIMIT),
            reviewId,
            action.string(Action.Attr.SQL_KIND),
            action.string(Action.Attr.CMD_BINARY));
    write(op);
    return op.id();
  }

  /** Effects as recorded (lower case), computed once rather than per statement. */
  private static final String[] EFFECTS =
      java.util.Arrays.stream(dev.gatehouse.policy.Effect.values())
          .map(e -> e.name().toLowerCase(java.util.Locale.ROOT))
          .toArray(String[]::new);

  private static String clip(String s, int limit) {
    return s == null || s.length() <= limit ? s : s.substring(0, limit - 1) + "…";
  }

  /** The next action id, reserving a new block in the store when this one is used up. */
  private synchronized long nextActionId() {
    if (nextId >= blockEnd) {
      long end =
          db.transaction(
              c -> {
                try (PreparedStatement up =
                    c.prepareStatement(
                        "UPDATE id_blocks SET next_id = next_id + ? WHERE name = ?")) {
                  up.setLong(1, ID_BLOCK);
                  up.setString(2, "session_actions");
                  if (up.executeUpdate() != 1) {
                    throw new SQLException("id_blocks has no session_actions row (V7 not run?)");
                  }
                }
                try (PreparedStatement q =
                        c.prepareStatement("SELECT next_id FROM id_blocks WHERE name = ?");
                    ResultSet rs = bind(q, "session_actions").executeQuery()) {
                  rs.next();
                  return rs.getLong(1);
                }
              });
      nextId = end - ID_BLOCK;
      blockEnd = end;
    }
    return nextId++;
  }

  private static PreparedStatement bind(PreparedStatement ps, String value) throws SQLException {
    ps.setString(1, value);
    return ps;
  }

  @Override
  public void actionCompleted(
      long actionId, String status, String summary, long rows, Duration duration) {
    long ms = duration == null ? 0 : duration.toMillis();
    JournalOp op =
        new JournalOp.Outcome(
            clock.millis(), actionId, status, clip(summary, SUMMARY_LIMIT), rows, ms);
    if (chained == null) {
      write(op);
      return;
    }
    // Not waited for: outcomes describe what already happened, and the client must not wait a
    // second time per statement. Ordering is kept: they are applied after the action's own row.
    chained.recordAsync(
        op,
        error -> {
          outcomeFailures.incrementAndGet();
          log.error("could not record an action outcome", error);
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
    write(new JournalOp.Chunk(clock.millis(), sessionId, seq, direction, maskedData.clone()));
  }

  private final AtomicLong outcomeFailures = new AtomicLong();

  /** Outcome records that could not be written (they are written asynchronously). */
  public long outcomeFailures() {
    return outcomeFailures.get();
  }

  /** Durable on return: through the audit writer, or in a transaction of its own. */
  private void write(JournalOp op) {
    if (chained != null) {
      chained.record(op);
      return;
    }
    db.transaction(
        c -> {
          try (ChainedAuditLog.Batch own = ChainedAuditLog.Batch.borrowing(c)) {
            return op.apply(own);
          }
        });
    if (op instanceof JournalOp.Action a) {
      audit.append(
          new AuditEvent("decision", a.subject(), a.sessionId(), a.connection(), a.event()));
    }
  }

  @Override
  public void sessionEnded(String sessionId, String reason) {
    write(new JournalOp.SessionEnd(clock.millis(), sessionId, reason));
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
