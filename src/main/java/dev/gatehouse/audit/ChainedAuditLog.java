package dev.gatehouse.audit;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.PublicKeySign;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.signature.PredefinedSignatureParameters;
import com.zaxxer.hikari.HikariDataSource;
import dev.gatehouse.config.GatehouseConfig.AuditConfig;
import dev.gatehouse.credential.KeysetStore;
import dev.gatehouse.credential.MasterKey;
import dev.gatehouse.store.Database;
import dev.gatehouse.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hash-chained audit log in the store (table {@code audit_log}).
 *
 * <p><b>Group commit.</b> Every SQL statement through the gateway appends a {@code decision} event,
 * so appends are batched: callers enqueue and block; one writer thread drains the queue and writes
 * everything waiting in one transaction, then releases each caller with its sequence number or the
 * failure. Under load a batch holds many events and costs one commit.
 *
 * <p><b>One chain across replicas.</b> Each batch first locks the single row of {@code
 * audit_chain_head} ({@code SELECT ... FOR UPDATE}, the same on H2 and PostgreSQL), reads the
 * head's seq and hash, chains its records after them and moves the head, all in one transaction.
 * Writers on other replicas wait for the lock, so there is one chain with no gaps.
 *
 * <p><b>Checkpoints.</b> Every {@code audit.checkpoint_interval}, on {@link #checkpoint()} and at
 * {@link #close()}, the head's (seq, hash) is signed with the Ed25519 keyset {@code audit-signing}
 * (sealed under the master key in the store) and stored in {@code audit_checkpoints}. What they do
 * not guarantee: someone with write access to the store and the master key can rewrite history and
 * re-sign; export the public keyset and checkpoints off the host to detect that.
 */
public final class ChainedAuditLog implements AuditLog, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ChainedAuditLog.class);

  static final String SIGNING_KEYSET = "audit-signing";

  /** Most events written in one transaction; bounds transaction size and lock hold time. */
  private static final int MAX_BATCH = 512;

  /** How long a caller waits for its batch before giving up (and failing closed). */
  private static final Duration APPEND_TIMEOUT = Duration.ofSeconds(30);

  private static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofMinutes(5);

  private final Database db;
  private final Clock clock;
  private final PublicKeySign signer;
  private final String signingKeyId;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private final ScheduledExecutorService checkpointer;
  private volatile boolean closed;

  /**
   * Opens the log, creating the signing keyset on first use, and starts the writer thread and the
   * checkpoint schedule.
   *
   * @param config checkpoint interval (null or zero: only on demand and at close)
   * @throws dev.gatehouse.credential.MasterKeyMismatchException when the master key does not open
   *     the stored signing keyset
   */
  public ChainedAuditLog(Database db, MasterKey masterKey, AuditConfig config) {
    this(db, masterKey, config, Clock.systemUTC());
  }

  ChainedAuditLog(Database db, MasterKey masterKey, AuditConfig config, Clock clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.clock = Objects.requireNonNull(clock, "clock");
    KeysetHandle signing =
        new KeysetStore(db, Objects.requireNonNull(masterKey, "masterKey"))
            .loadOrCreate(SIGNING_KEYSET, PredefinedSignatureParameters.ED25519);
    try {
      this.signer = signing.getPrimitive(RegistryConfiguration.get(), PublicKeySign.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "keyset " + SIGNING_KEYSET + " does not hold signing keys (expected: Ed25519)", e);
    }
    this.signingKeyId = Integer.toUnsignedString(signing.getPrimary().getId());
    this.writer = new Thread(this::writeLoop, "audit-writer");
    writer.setDaemon(true);
    writer.start();
    this.checkpointer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "audit-checkpoint");
              t.setDaemon(true);
              return t;
            });
    Duration every =
        config == null || config.checkpointInterval() == null
            ? DEFAULT_CHECKPOINT_INTERVAL
            : config.checkpointInterval();
    if (!every.isZero() && !every.isNegative()) {
      checkpointer.scheduleWithFixedDelay(
          this::scheduledCheckpoint, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Appends and returns the new record's seq once its transaction has committed.
   *
   * @throws StoreException when the record could not be written (the caller must fail closed)
   * @throws IllegalStateException when the log is closed
   */
  @Override
  public long append(AuditEvent event) {
    Objects.requireNonNull(event, "event");
    return submit(new Pending(event, null));
  }

  /**
   * Appends an event produced by {@code prelude} inside the batch transaction, so that a row the
   * event refers to (a session action) commits together with its audit record.
   */
  long appendWith(Prelude prelude) {
    return submit(new Pending(null, prelude));
  }

  /**
   * Work run inside the writer's transaction before the record is chained. Returning null appends
   * nothing: the work alone then rides on the group commit (a session action's outcome, a stream
   * chunk), and {@link #appendWith} returns 0.
   */
  @FunctionalInterface
  interface Prelude {
    AuditEvent run(Batch batch) throws SQLException;
  }

  /**
   * The writer's connection and its prepared statements, kept across batches so that a batch costs
   * statement executions and one commit, not connection checkout and statement preparation. Only
   * the writer thread touches it.
   */
  static final class Batch implements AutoCloseable {
    /** Give the connection back to the pool now and then, so the pool can retire it. */
    private static final long MAX_AGE_NANOS = Duration.ofMinutes(5).toNanos();

    private final Connection connection;
    private final boolean owned;
    private final long openedNanos = System.nanoTime();
    private final Map<String, PreparedStatement> statements = new HashMap<>();

    private final boolean flushAfterCommit;

    private Batch(Connection connection, boolean owned) throws SQLException {
      this.connection = connection;
      this.owned = owned;
      this.flushAfterCommit =
          owned && connection.getMetaData().getURL().startsWith("jdbc:h2:file:");
    }

    /** Takes over a connection from the pool: closing the batch rolls back and returns it. */
    static Batch owning(Connection connection) throws SQLException {
      connection.setAutoCommit(false);
      return new Batch(connection, true);
    }

    /** Uses someone else's transaction: closing the batch only closes its statements. */
    static Batch borrowing(Connection connection) throws SQLException {
      return new Batch(connection, false);
    }

    PreparedStatement statement(String sql) throws SQLException {
      PreparedStatement ps = statements.get(sql);
      if (ps == null) {
        ps = connection.prepareStatement(sql);
        statements.put(sql, ps);
      }
      return ps;
    }

    PreparedStatement insertReturningId(String sql) throws SQLException {
      PreparedStatement ps = statements.get(sql);
      if (ps == null) {
        ps = connection.prepareStatement(sql, new String[] {"id"});
        statements.put(sql, ps);
      }
      return ps;
    }

    boolean old() {
      return System.nanoTime() - openedNanos > MAX_AGE_NANOS;
    }

    @Override
    public void close() {
      if (!owned) {
        for (PreparedStatement ps : statements.values()) {
          try {
            ps.close();
          } catch (SQLException ignored) {
            // The owner's connection closes them anyway.
          }
        }
        return;
      }
      try {
        connection.rollback();
      } catch (SQLException ignored) {
        // Broken connections are why we close; the pool will discard it.
      }
      try {
        connection.close();
      } catch (SQLException ignored) {
        // Same.
      }
    }
  }

  Database database() {
    return db;
  }

  /**
   * Queues {@code prelude} for the next group commit without waiting for it. For records written
   * after the fact (an action's outcome): the pre-execution record is the durable one the gateway
   * waits for; making the client also wait for the outcome's commit would double the latency of
   * every statement. A failure is passed to {@code onFailure} on the writer thread.
   */
  void appendWithAsync(Prelude prelude, java.util.function.Consumer<Throwable> onFailure) {
    if (closed) {
      throw new IllegalStateException("audit log is closed; cannot append");
    }
    Pending p = new Pending(null, prelude);
    p.result.whenComplete(
        (seq, error) -> {
          if (error != null) {
            onFailure.accept(error);
          }
        });
    queue.add(p);
  }

  private long submit(Pending p) {
    if (closed) {
      throw new IllegalStateException("audit log is closed; cannot append");
    }
    queue.add(p);
    if (closed && !writer.isAlive() && queue.remove(p)) {
      throw new IllegalStateException("audit log is closed; cannot append");
    }
    try {
      return p.result.get(APPEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("audit: interrupted while waiting for the record to commit", e);
    } catch (TimeoutException e) {
      throw new StoreException(
          "audit: record not committed within " + APPEND_TIMEOUT + " (store too slow or down)", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      // Wrapped again so the stack trace shows the caller as well as the writer thread.
      throw new StoreException("audit: cannot append: " + cause.getMessage(), cause);
    }
  }

  private void writeLoop() {
    List<Pending> batch = new ArrayList<>(MAX_BATCH);
    while (!closed || !queue.isEmpty()) {
      Pending first;
      try {
        first = queue.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        if (closed) {
          continue; // drain what is left, then stop
        }
        Thread.currentThread().interrupt();
        break;
      }
      if (first == null) {
        continue;
      }
      batch.add(first);
      queue.drainTo(batch, MAX_BATCH - 1);
      try {
        writeBatch(batch);
      } catch (RuntimeException e) {
        if (batch.size() > 1 && !connectionLost(e)) {
          // One bad event (say, a value too long for its column) must not fail its neighbours:
          // write each on its own.
          for (Pending p : batch) {
            try {
              writeBatch(List.of(p));
            } catch (RuntimeException single) {
              p.result.completeExceptionally(single);
            }
          }
        } else {
          log.error("audit: cannot write {} record(s)", batch.size(), e);
          batch.forEach(p -> p.result.completeExceptionally(e));
        }
      } catch (Error e) {
        batch.forEach(p -> p.result.completeExceptionally(e));
        throw e;
      } finally {
        batch.clear();
      }
    }
    dropWriterConnection();
    Pending left;
    while ((left = queue.poll()) != null) {
      left.result.completeExceptionally(new IllegalStateException("audit log is closed"));
    }
  }

  /** Only the writer thread uses this. */
  private Batch writerConnection;

  private void writeBatch(List<Pending> batch) {
    boolean reused = writerConnection != null;
    long[] seqs;
    try {
      seqs = writeOnce(batch);
    } catch (SQLException | RuntimeException first) {
      dropWriterConnection();
      if (!reused) {
        throw wrap(first);
      }
      // The kept connection may have gone stale (killed by the server, network blip): one more
      // try on a fresh one.
      try {
        seqs = writeOnce(batch);
      } catch (SQLException | RuntimeException second) {
        dropWriterConnection();
        second.addSuppressed(first);
        throw wrap(second);
      }
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).result.complete(seqs[i]);
    }
    if (writerConnection != null && writerConnection.old()) {
      dropWriterConnection();
    }
  }

  private static StoreException wrap(Exception e) {
    return e instanceof StoreException se ? se : new StoreException("store: " + e.getMessage(), e);
  }

  private void dropWriterConnection() {
    if (writerConnection != null) {
      writerConnection.close();
      writerConnection = null;
    }
  }

  private long[] writeOnce(List<Pending> batch) throws SQLException {
    if (db.dataSource() instanceof HikariDataSource pool && pool.isClosed()) {
      // The kept connection may outlive a closed store; writing through it would be a surprise.
      dropWriterConnection();
      throw new SQLException("the store has been closed");
    }
    if (writerConnection == null) {
      writerConnection = Batch.owning(db.dataSource().getConnection());
    }
    Batch work = writerConnection;
    // The chain head is locked at the first record, not before: a batch of outcomes and stream
    // chunks alone never touches the lock that other replicas wait on.
    boolean locked = false;
    long seq = 0;
    String hash = null;
    long[] assigned = new long[batch.size()];
    PreparedStatement ins = null;
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      AuditEvent e = p.prelude == null ? p.event : p.prelude.run(work);
      if (e == null) {
        continue;
      }
      if (!locked) {
        try (ResultSet rs =
            work.statement("SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE")
                .executeQuery()) {
          if (!rs.next()) {
            throw new SQLException("audit_chain_head has no row 1 (migration V3 not run?)");
          }
          seq = rs.getLong(1);
          hash = rs.getString(2);
        }
        ins =
            work.statement(
                "INSERT INTO audit_log ("
                    + AuditRecord.COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        locked = true;
      }
      AuditRecord r =
          AuditRecord.chain(
              ++seq,
              p.at,
              e.type(),
              e.actor(),
              e.sessionId(),
              e.connection(),
              CanonicalJson.write(e.data()),
              hash);
      bind(ins, r);
      ins.addBatch();
      hash = r.hash();
      assigned[i] = seq;
    }
    if (locked) {
      ins.executeBatch();
      PreparedStatement head =
          work.statement("UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1");
      head.setLong(1, seq);
      head.setString(2, hash);
      head.executeUpdate();
    }
    work.connection.commit();
    if (work.flushAfterCommit) {
      // H2 writes committed changes to its file in the background (WRITE_DELAY, default 500 ms):
      // a crash could lose records already confirmed. CHECKPOINT writes and syncs them now, once
      // per batch like PostgreSQL's WAL flush at commit.
      work.statement("CHECKPOINT").execute();
    }
    return assigned;
  }

  private static void bind(PreparedStatement ps, AuditRecord r) throws SQLException {
    ps.setLong(1, r.seq());
    ps.setLong(2, r.at());
    ps.setString(3, r.type());
    ps.setString(4, r.actor());
    ps.setString(5, r.sessionId());
    ps.setString(6, r.connection());
    ps.setString(7, r.data());
    ps.setString(8, r.prevHash());
    ps.setString(9, r.hash());
  }

  private static boolean connectionLost(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException
          || t instanceof SQLNonTransientConnectionException
          || (t.getMessage() != null && t.getMessage().contains("has been closed"))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Signs the current head of the chain and stores the checkpoint. Returns the seq it covers (0
   * when the log is empty); does nothing new when the last checkpoint already covers the head.
   */
  public long checkpoint() {
    return db.transaction(
        c -> {
          long seq;
          String hash;
          try (PreparedStatement ps =
                  c.prepareStatement("SELECT seq, hash FROM audit_chain_head WHERE id = 1");
              ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
              throw new SQLException("audit_chain_head has no row 1 (migration V3 not run?)");
            }
            seq = rs.getLong(1);
            hash = rs.getString(2);
          }
          if (seq == 0) {
            return 0L;
          }
          try (PreparedStatement ps = c.prepareStatement("SELECT MAX(seq) FROM audit_checkpoints");
              ResultSet rs = ps.executeQuery()) {
            if (rs.next() && rs.getLong(1) >= seq) {
              return seq;
            }
          }
          long at = clock.millis();
          byte[] signature;
          try {
            signature = signer.sign(checkpointPayload(seq, hash, at));
          } catch (GeneralSecurityException e) {
            throw new SQLException("audit: cannot sign checkpoint at seq " + seq, e);
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO audit_checkpoints (seq, hash, at, signature, key_id)"
                      + " VALUES (?, ?, ?, ?, ?)")) {
            ps.setLong(1, seq);
            ps.setString(2, hash);
            ps.setLong(3, at);
            ps.setBytes(4, signature);
            ps.setString(5, signingKeyId);
            ps.executeUpdate();
          }
          return seq;
        });
  }

  /** What a checkpoint signature covers. */
  static byte[] checkpointPayload(long seq, String hash, long at) {
    return ("gatehouse-audit-checkpoint-v1\n" + seq + "\n" + hash + "\n" + at)
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The public half of the checkpoint signing keyset (Tink JSON, no secret), to keep off the host
   * and pass to {@link AuditVerifier}.
   */
  public String publicSigningKeyset() {
    return KeysetStore.publicKeysetJson(db, SIGNING_KEYSET);
  }

  private void scheduledCheckpoint() {
    try {
      checkpoint();
    } catch (RuntimeException e) {
      log.error("audit: scheduled checkpoint failed; will retry at the next interval", e);
    }
  }

  /** Writes what is queued, takes a final checkpoint and stops. Appends after this throw. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    // No shutdownNow: interrupting a thread inside H2 file I/O closes the store's file channel.
    checkpointer.shutdown();
    try {
      checkpointer.awaitTermination(APPEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      writer.join(APPEND_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      checkpoint();
    } catch (RuntimeException e) {
      if (String.valueOf(e.getMessage()).contains("Database is already closed")) {
        // The JVM is exiting and H2's own shutdown hook closed the embedded store first (it cannot
        // be turned off with AUTO_SERVER). Every record is committed; the next checkpoint after a
        // restart covers them.
        log.warn("audit: the store closed before the final checkpoint (JVM shutdown)");
      } else {
        log.error("audit: final checkpoint at shutdown failed", e);
      }
    }
  }

  private final class Pending {
    final AuditEvent event;
    final Prelude prelude;
    final long at = clock.millis();
    final CompletableFuture<Long> result = new CompletableFuture<>();

    Pending(AuditEvent event, Prelude prelude) {
      this.event = event;
      this.prelude = prelude;
    }
  }
}
