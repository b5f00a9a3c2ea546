package dev.gatehouse.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.gatehouse.store.Database;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Exports the audit log as JSON Lines, one record per line, in seq order:
 *
 * <pre>{"seq":1,"at":"2026-01-01T00:00:00Z","type":"decision","actor":"alice","session_id":"…",
 * "connection":"prod","data":{…},"prev_hash":"…","hash":"…"}</pre>
 *
 * Hashes are included so that a receiver can verify the chain on its own. Streams from the store.
 */
public final class AuditExporter {
  private static final int FETCH_SIZE = 1000;

  private final Database db;

  private Runnable beforeRead = () -> {};

  /** Waits for this replica's journaled records before each export (see SessionQueries). */
  public AuditExporter readingOwnWrites(Runnable beforeRead) {
    this.beforeRead = Objects.requireNonNull(beforeRead, "beforeRead");
    return this;
  }

  public AuditExporter(Database db) {
    this.db = Objects.requireNonNull(db, "db");
  }

  /**
   * Writes every record with seq greater than {@code afterSeq} and, when {@code since} is given, at
   * or after it. Returns the number of lines written.
   */
  public long export(Writer out, Instant since, long afterSeq) {
    beforeRead.run();
    return db.transaction(
        c -> {
          String sql =
              "SELECT "
                  + AuditRecord.COLUMNS
                  + " FROM audit_log WHERE seq > ?"
                  + (since == null ? "" : " AND at >= ?")
                  + " ORDER BY seq";
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setFetchSize(FETCH_SIZE);
            ps.setLong(1, afterSeq);
            if (since != null) {
              ps.setLong(2, since.toEpochMilli());
            }
            long n = 0;
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.write(line(AuditRecord.read(rs)));
                out.write('\n');
                n++;
              }
            } catch (IOException e) {
              throw new UncheckedIOException("audit export: cannot write", e);
            }
            out.flush();
            return n;
          } catch (IOException e) {
            throw new UncheckedIOException("audit export: cannot flush", e);
          }
        });
  }

  /** Up to {@code limit} records after {@code afterSeq}, for the sink tailer. */
  List<Exported> page(long afterSeq, int limit) {
    return db.transaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + AuditRecord.COLUMNS
                      + " FROM audit_log WHERE seq > ? ORDER BY seq LIMIT "
                      + limit)) {
            ps.setLong(1, afterSeq);
            List<Exported> page = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                AuditRecord r = AuditRecord.read(rs);
                page.add(new Exported(r.seq(), line(r)));
              }
            }
            return page;
          }
        });
  }

  /** One exported record: its seq and its JSON line (without the newline). */
  record Exported(long seq, String json) {}

  static String line(AuditRecord r) {
    StringWriter w = new StringWriter(256 + r.data().length());
    try (JsonGenerator g = CanonicalJson.MAPPER.getFactory().createGenerator(w)) {
      g.writeStartObject();
      g.writeNumberField("seq", r.seq());
      g.writeStringField("at", Instant.ofEpochMilli(r.at()).toString());
      g.writeStringField("type", r.type());
      g.writeStringField("actor", r.actor());
      g.writeStringField("session_id", r.sessionId());
      g.writeStringField("connection", r.connection());
      g.writeFieldName("data");
      g.writeRawValue(r.data());
      g.writeStringField("prev_hash", r.prevHash());
      g.writeStringField("hash", r.hash());
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }
}
