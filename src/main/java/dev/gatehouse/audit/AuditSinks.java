package dev.gatehouse.audit;

import dev.gatehouse.config.GatehouseConfig.AuditConfig;
import dev.gatehouse.config.GatehouseConfig.AuditSinkConfig;
import dev.gatehouse.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background tailers that copy the audit log to the configured sinks ({@code file}, {@code
 * webhook}). Each sink has its own virtual thread and its own offset in {@code audit_sink_offsets},
 * moved only after a batch was delivered: a crash re-sends at most one batch and loses nothing. A
 * failing sink is logged and retried with growing pauses; it never blocks the gateway. What this
 * does not do: coordinate replicas; with several replicas, run the sinks on one of them, or expect
 * duplicates.
 */
public final class AuditSinks implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditSinks.class);
  private static final int BATCH = 500;
  private static final Duration MAX_PAUSE = Duration.ofMinutes(1);

  private final Database db;
  private final AuditExporter exporter;
  private final Duration poll;
  private final List<Thread> threads = new ArrayList<>();
  private final List<AuditSink> sinks;
  private volatile boolean closed;

  AuditSinks(Database db, List<AuditSink> sinks, Duration poll) {
    this.db = Objects.requireNonNull(db, "db");
    this.exporter = new AuditExporter(db);
    this.poll = poll;
    this.sinks = List.copyOf(sinks);
    for (AuditSink s : sinks) {
      threads.add(Thread.ofVirtual().name("audit-sink " + s.id()).start(() -> tail(s)));
    }
  }

  /** Starts one tailer per sink in {@code config.sinks()}. */
  public static AuditSinks start(Database db, AuditConfig config) {
    List<AuditSink> sinks = new ArrayList<>();
    for (AuditSinkConfig sc : config.sinks()) {
      sinks.add(sink(sc, Duration.ofMillis(500)));
    }
    return new AuditSinks(db, sinks, Duration.ofSeconds(1));
  }

  static AuditSink sink(AuditSinkConfig sc, Duration webhookBackoff) {
    return switch (sc.type() == null ? "" : sc.type()) {
      case "file" -> {
        if (sc.path() == null) {
          throw new IllegalArgumentException("audit sink file: path is missing (expected: a path)");
        }
        yield new FileSink(sc.path());
      }
      case "webhook" -> {
        if (sc.url() == null) {
          throw new IllegalArgumentException(
              "audit sink webhook: url is missing (expected: a URL)");
        }
        yield new WebhookSink(sc.url(), sc.authorization(), webhookBackoff);
      }
      default ->
          throw new IllegalArgumentException(
              "audit sink type: " + sc.type() + " (expected: file or webhook)");
    };
  }

  private void tail(AuditSink sink) {
    long pause = poll.toMillis();
    while (!closed) {
      try {
        long offset = offset(sink.id());
        List<AuditExporter.Exported> page = exporter.page(offset, BATCH);
        if (page.isEmpty()) {
          Thread.sleep(poll.toMillis());
          continue;
        }
        List<String> lines = new ArrayList<>(page.size());
        page.forEach(e -> lines.add(e.json()));
        sink.deliver(lines);
        saveOffset(sink.id(), page.get(page.size() - 1).seq());
        pause = poll.toMillis();
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        log.warn("audit sink {} failed; retrying in {} ms: {}", sink.id(), pause, e.toString());
        try {
          Thread.sleep(pause);
        } catch (InterruptedException stop) {
          return;
        }
        pause = Math.min(pause * 2, MAX_PAUSE.toMillis());
      }
    }
  }

  long offset(String sink) {
    return db.transaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT last_seq FROM audit_sink_offsets WHERE sink = ?")) {
            ps.setString(1, sink);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? rs.getLong(1) : 0L;
            }
          }
        });
  }

  private void saveOffset(String sink, long seq) {
    db.transaction(
        c -> {
          try (PreparedStatement up =
              c.prepareStatement(
                  "UPDATE audit_sink_offsets SET last_seq = ?, updated_at = ? WHERE sink = ?")) {
            up.setLong(1, seq);
            up.setLong(2, System.currentTimeMillis());
            up.setString(3, sink);
            if (up.executeUpdate() == 1) {
              return null;
            }
          }
          try (PreparedStatement in =
              c.prepareStatement(
                  "INSERT INTO audit_sink_offsets (sink, last_seq, updated_at) VALUES (?, ?, ?)")) {
            in.setString(1, sink);
            in.setLong(2, seq);
            in.setLong(3, System.currentTimeMillis());
            in.executeUpdate();
          }
          return null;
        });
  }

  /**
   * Stops the tailers, letting a delivery in progress finish (and its offset be saved) for a short
   * while before interrupting it; what was not delivered is sent after the next start.
   */
  @Override
  public void close() {
    closed = true;
    long grace = poll.toMillis() + 2_000;
    for (Thread t : threads) {
      try {
        if (!t.join(Duration.ofMillis(grace))) {
          t.interrupt();
          t.join(Duration.ofSeconds(5));
        }
      } catch (InterruptedException e) {
        threads.forEach(Thread::interrupt);
        Thread.currentThread().interrupt();
        return;
      }
    }
    sinks.forEach(AuditSink::close);
  }
}
