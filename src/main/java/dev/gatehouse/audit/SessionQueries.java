package dev.gatehouse.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.gatehouse.policy.DisplayText;
import dev.gatehouse.store.Database;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/** Reads session recordings for {@code gatehouse sessions list|show|replay} and the API. */
public final class SessionQueries {
  private static final int FETCH_SIZE = 500;
  private static final int MAX_LIMIT = 10_000;

  /** Terminal size in asciicast headers; the recording does not know the client's window. */
  static final int CAST_WIDTH = 120;

  static final int CAST_HEIGHT = 40;

  private static final String SUMMARY_COLUMNS =
      "s.id, s.subject, s.connection, s.protocol, s.client_address, s.started_at, s.ended_at,"
          + " s.end_reason,"
          + " (SELECT COUNT(*) FROM session_actions a WHERE a.session_id = s.id),"
          + " (SELECT COUNT(*) FROM session_actions a WHERE a.session_id = s.id"
          + " AND a.effect = 'deny'), s.details";

  private final Database db;

  /** Runs before each read: waits for this replica's journaled records to reach the store. */
  private final Runnable beforeRead;

  public SessionQueries(Database db) {
    this(db, () -> {});
  }

  /**
   * @param beforeRead called before every query, typically {@link ChainedAuditLog#awaitStored}, so
   *     that a caller reads what it just did
   */
  public SessionQueries(Database db, Runnable beforeRead) {
    this.db = Objects.requireNonNull(db, "db");
    this.beforeRead = Objects.requireNonNull(beforeRead, "beforeRead");
  }

  /**
   * The most recent sessions first, optionally only those of {@code subject} and/or on {@code
   * connection}.
   */
  public List<SessionSummary> list(String subject, String connection, int limit) {
    beforeRead.run();
    if (limit <= 0 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit: " + limit + " (expected: 1.." + MAX_LIMIT + ")");
    }
    StringBuilder sql = new StringBuilder("SELECT " + SUMMARY_COLUMNS + " FROM sessions s");
    List<String> args = new ArrayList<>();
    if (subject != null) {
      sql.append(" WHERE s.subject = ?");
      args.add(subject);
    }
    if (connection != null) {
      sql.append(args.isEmpty() ? " WHERE" : " AND").append(" s.connection = ?");
      args.add(connection);
    }
    sql.append(" ORDER BY s.started_at DESC, s.id LIMIT ").append(limit);
    return db.transaction(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
              ps.setString(i + 1, args.get(i));
            }
            List<SessionSummary> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(summary(rs));
              }
            }
            return out;
          }
        });
  }

  /** The session and its actions in order; empty when no session has that id. */
  public Optional<SessionDetail> show(String id) {
    beforeRead.run();
    return db.transaction(
        c -> {
          SessionSummary s;
          String details;
          try (PreparedStatement ps =
              c.prepareStatement("SELECT " + SUMMARY_COLUMNS + " FROM sessions s WHERE s.id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              s = summary(rs);
              details = rs.getString(11);
            }
          }
          return Optional.of(new SessionDetail(s, details, actions(c, id)));
        });
  }

  private static List<SessionAction> actions(Connection c, String id) throws SQLException {
    List<SessionAction> out = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT id, at, kind, raw, attributes, effect, rule, reason, review_id, status,"
                + " summary, row_count, duration_ms, completed_at FROM session_actions"
                + " WHERE session_id = ? ORDER BY id")) {
      ps.setString(1, id);
      ps.setFetchSize(FETCH_SIZE);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Long rows = rs.getObject(12, Long.class);
          Long ms = rs.getObject(13, Long.class);
          Long done = rs.getObject(14, Long.class);
          out.add(
              new SessionAction(
                  rs.getLong(1),
                  Instant.ofEpochMilli(rs.getLong(2)),
                  rs.getString(3),
                  rs.getString(4),
                  CanonicalJson.readMap(rs.getString(5)),
                  rs.getString(6),
                  rs.getString(7),
                  rs.getString(8),
                  rs.getString(9),
                  rs.getString(10),
                  rs.getString(11),
                  rows,
                  ms == null ? null : Duration.ofMillis(ms),
                  done == null ? null : Instant.ofEpochMilli(done)));
        }
      }
    }
    return out;
  }

  private static SessionSummary summary(ResultSet rs) throws SQLException {
    Long ended = rs.getObject(7, Long.class);
    return new SessionSummary(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        Instant.ofEpochMilli(rs.getLong(6)),
        ended == null ? null : Instant.ofEpochMilli(ended),
        rs.getString(8),
        rs.getLong(9),
        rs.getLong(10));
  }

  /**
   * Writes the session as human-readable text: a header, then one line per action with its offset
   * from the session start, decision and outcome.
   *
   * @throws IllegalArgumentException when no session has that id
   */
  public void writeTimeline(String id, Writer out) {
    beforeRead.run();
    SessionDetail d =
        show(id)
            .orElseThrow(
                () -> new IllegalArgumentException("session: " + id + " (no such session)"));
    SessionSummary s = d.session();
    try {
      out.write(
          "session "
              + s.id()
              + "\n  "
              + s.subject()
              + " on "
              + s.connection()
              + " ("
              + s.protocol()
              + (s.clientAddress() == null ? "" : " from " + s.clientAddress())
              + ")\n  started "
              + s.startedAt()
              + "\n  "
              + (s.endedAt() == null
                  ? "not ended"
                  : "ended " + s.endedAt() + " (" + s.endReason() + ")")
              + "\n  "
              + s.actions()
              + " action(s), "
              + s.denied()
              + " denied\n\n");
      for (SessionAction a : d.actions()) {
        long offset = a.at().toEpochMilli() - s.startedAt().toEpochMilli();
        StringBuilder line = new StringBuilder();
        line.append(
            String.format(
                Locale.ROOT,
                "+%9.3fs  #%-6d %-7s %-6s",
                offset / 1000.0,
                a.id(),
                a.kind(),
                a.effect().toUpperCase(Locale.ROOT)));
        line.append(" rule=").append(a.rule());
        if (a.reviewId() != null) {
          line.append(" review=").append(a.reviewId());
        }
        line.append("\n            ").append(oneLine(a.raw())).append('\n');
        if (a.attributes().get("parameters") instanceof List<?> params && !params.isEmpty()) {
          // Bind parameters, as recorded (already masked): $1='…', $2=NULL
          StringBuilder p = new StringBuilder("            params:");
          for (int i = 0; i < params.size(); i++) {
            Object v = params.get(i);
            p.append(i == 0 ? " $" : ", $").append(i + 1).append('=');
            p.append(v == null ? "NULL" : "'" + oneLine(v.toString()).replace("'", "''") + "'");
          }
          line.append(p).append('\n');
        }
        if (!"allow".equals(a.effect())) {
          line.append("            reason: ").append(oneLine(a.reason())).append('\n');
        } else if (a.status() != null) {
          line.append("            -> ")
              .append(a.status())
              .append(": ")
              .append(oneLine(a.summary()))
              .append(" (")
              .append(a.rows())
              .append(" rows, ")
              .append(a.duration() == null ? "?" : a.duration().toMillis())
              .append(" ms)\n");
        } else {
          line.append("            -> no outcome recorded\n");
        }
        out.write(line.toString());
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("timeline of session " + id + ": cannot write", e);
    }
  }

  /** The requester's text on one line, its control and bidi characters visible (F8). */
  private static String oneLine(String s) {
    return DisplayText.oneLine(s);
  }

  /**
   * Writes the session's stream recording as asciicast v2: a header line, then one {@code [seconds,
   * "o"|"i", text]} line per chunk. Error output is written as "o" (a terminal shows both).
   * Multi-byte characters split across chunks are decoded correctly.
   *
   * @throws IllegalArgumentException when no session has that id
   */
  public void writeAsciicast(String id, Writer out) {
    beforeRead.run();
    db.transaction(
        c -> {
          long started;
          String title;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT started_at, subject, connection FROM sessions WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                throw new IllegalArgumentException("session: " + id + " (no such session)");
              }
              started = rs.getLong(1);
              title = rs.getString(2) + "@" + rs.getString(3) + " " + id;
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT at, direction, data FROM session_streams WHERE session_id = ?"
                      + " ORDER BY seq")) {
            ps.setString(1, id);
            ps.setFetchSize(FETCH_SIZE);
            try (ResultSet rs = ps.executeQuery()) {
              writeCast(rs, started, title, out);
            }
          } catch (IOException e) {
            throw new UncheckedIOException("asciicast of session " + id + ": cannot write", e);
          }
          return null;
        });
  }

  private static void writeCast(ResultSet rs, long started, String title, Writer out)
      throws SQLException, IOException {
    var factory = CanonicalJson.MAPPER.getFactory();
    try (JsonGenerator g = factory.createGenerator(out)) {
      g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      g.setRootValueSeparator(null);
      g.writeStartObject();
      g.writeNumberField("version", 2);
      g.writeNumberField("width", CAST_WIDTH);
      g.writeNumberField("height", CAST_HEIGHT);
      g.writeNumberField("timestamp", started / 1000);
      g.writeStringField("title", title);
      g.writeEndObject();
      g.flush();
      out.write('\n');
      CharsetDecoder outDecoder = decoder();
      CharsetDecoder inDecoder = decoder();
      ByteBuffer outPending = ByteBuffer.allocate(0);
      ByteBuffer inPending = ByteBuffer.allocate(0);
      while (rs.next()) {
        long at = rs.getLong(1);
        boolean input = "i".equals(rs.getString(2));
        byte[] data = rs.getBytes(3);
        ByteBuffer pending = input ? inPending : outPending;
        ByteBuffer buf = ByteBuffer.allocate(pending.remaining() + data.length);
        buf.put(pending).put(data).flip();
        CharBuffer chars = CharBuffer.allocate(data.length + 4);
        (input ? inDecoder : outDecoder).decode(buf, chars, false);
        chars.flip();
        // Bytes of a character cut by the chunk boundary wait for the next chunk.
        ByteBuffer rest = ByteBuffer.allocate(buf.remaining()).put(buf).flip();
        if (input) {
          inPending = rest;
        } else {
          outPending = rest;
        }
        if (chars.hasRemaining()) {
          g.writeStartArray();
          g.writeNumber(Math.max(0, at - started) / 1000.0);
          g.writeString(input ? "i" : "o");
          g.writeString(chars.toString());
          g.writeEndArray();
          g.flush();
          out.write('\n');
        }
      }
    }
    out.flush();
  }

  private static CharsetDecoder decoder() {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE);
  }
}
