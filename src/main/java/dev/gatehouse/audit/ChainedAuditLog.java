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
import java.util.concurrent.locks.LockSupport;
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

  /** Most unapplied journal bytes before new records are refused (the store is down or slow). */
  static final long MAX_BACKLOG = 512L << 20;

  private final Database db;
  private final Clock clock;
  private final PublicKeySign signer;
  private final String signingKeyId;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final BlockingQueue<List<Pending>> applyQueue = new LinkedBlockingQueue<>();
  private final Journal journal;
  private final Thread writer;
  private final Thread applier;
  private final ScheduledExecutorService checkpointer;
  private volatile boolean closed;
  private volatile boolean applierStopping;

  /** Journal position the store has applied (journal mode). */
  private volatile long applied;

  private final java.util.concurrent.atomic.AtomicLong skipped =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * Opens the log without a journal ({@code audit.durability: store}): every record is committed
   * (and, on the embedded store, synced) before its caller proceeds. Creates the signing keyset on
   * first use and starts the writer thread and the checkpoint schedule.
   *
   * @param config checkpoint interval (null or zero: only on demand and at close)
   * @throws dev.gatehouse.credential.MasterKeyMismatchException when the master key does not open
   *     the stored signing keyset
   */
  public ChainedAuditLog(Database db, MasterKey masterKey, AuditConfig config) {
    this(db, masterKey, config, null, Clock.systemUTC());
  }

  /**
   * Opens the log with the local journal in {@code journalDir} when {@code config.durability()} is
   * {@code fsync} or {@code os}, first applying to the store whatever the journal holds past the
   * store's applied position (records confirmed before a crash).
   *
   * @throws StoreException when the journal cannot be opened or replayed
   */
  public ChainedAuditLog(
      Database db, MasterKey masterKey, AuditConfig config, java.nio.file.Path journalDir) {
    this(db, masterKey, config, journalDir, Clock.systemUTC());
  }

  ChainedAuditLog(Database db, MasterKey masterKey, AuditConfig config, Clock clock) {
    this(db, masterKey, config, null, clock);
  }

  ChainedAuditLog(
      Database db,
      MasterKey masterKey,
      AuditConfig config,
      java.nio.file.Path journalDir,
      Clock clock) {
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
    String durability = config == null ? AuditConfig.STORE : config.durability();
    if (journalDir != null && !AuditConfig.STORE.equals(durability)) {
      this.journal = openJournal(journalDir, AuditConfig.FSYNC.equals(durability));
      this.writer = new Thread(this::flushLoop, "audit-journal");
      this.applier = new Thread(this::applyLoop, "audit-writer");
      applier.setDaemon(true);
      applier.start();
    } else {
      this.journal = null;
      this.writer = new Thread(this::writeLoop, "audit-writer");
      this.applier = null;
    }
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
   * Opens the journal and applies what it holds past the store's position, before anything new is
   * accepted, so that the chain keeps the order in which records were confirmed.
   */
  private Journal openJournal(java.nio.file.Path dir, boolean fsync) {
    List<Pending> replay = new ArrayList<>();
    Journal j;
    try {
      j =
          Journal.open(
              dir,
              fsync,
              Journal.SEGMENT_BYTES,
              this::appliedPosition,
              (payload, lsn) -> {
                Pending p = new Pending(JournalOp.decode(payload));
                p.lsn = lsn;
                replay.add(p);
              });
    } catch (java.io.IOException e) {
      throw new StoreException("audit journal: " + e.getMessage(), e);
    }
    this.applied = appliedPosition(j.id());
    for (int from = 0; from < replay.size(); from += MAX_BATCH) {
      List<Pending> batch = replay.subList(from, Math.min(replay.size(), from + MAX_BATCH));
      applyOrSkip(batch, j);
    }
    if (!replay.isEmpty()) {
      log.warn(
          "audit journal: applied {} record(s) confirmed before the last stop and not yet in the"
              + " store",
          replay.size());
    }
    retireApplied(j, true);
    dropWriterConnection();
    return j;
  }

  /** The store's applied position for journal {@code id}, creating its row at 0. */
  private long appliedPosition(String id) {
    return db.transaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT applied FROM audit_journal WHERE journal_id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              if (rs.next()) {
                return rs.getLong(1);
              }
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO audit_journal (journal_id, applied, created_at) VALUES (?, 0, ?)")) {
            ps.setString(1, id);
            ps.setLong(2, clock.millis());
            ps.executeUpdate();
          }
          return 0L;
        });
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
    Pending p = new Pending(JournalOp.Event.of(clock.millis(), event));
    p.awaited = true;
    enqueue(p);
    if (journal != null) {
      writeJournalGroup(journal.fsync());
    }
    return await(p.result);
  }

  /**
   * Records {@code op} durably: in the journal when there is one (the store follows within
   * milliseconds), else committed in the store. Returns once it is durable.
   *
   * @throws StoreException when it could not be made durable (the caller must fail closed)
   */
  void record(JournalOp op) {
    Pending p = new Pending(op);
    enqueue(p);
    if (journal != null) {
      writeJournalGroup(journal.fsync());
    }
    await(p.durable);
  }

  /**
   * Queues {@code op} without waiting. For records written after the fact (an action's outcome):
   * the pre-execution record is the one the gateway waits for. A failure is passed to {@code
   * onFailure} on a writer thread.
   */
  void recordAsync(JournalOp op, java.util.function.Consumer<Throwable> onFailure) {
    Pending p = new Pending(op);
    p.result.whenComplete(
        (seq, error) -> {
          if (error != null) {
            onFailure.accept(error);
          }
        });
    enqueue(p);
    if (journal != null) {
      flushSignal.release();
    }
  }

  /**
   * Waits until every record confirmed before this call is in the store, so that a reader on this
   * replica sees its own writes (the API's session and audit views). Gives up after a few seconds
   * with the store behind, and returns anyway: readers then see a slightly older state.
   */
  public void awaitStored() {
    if (closed) {
      return;
    }
    Pending barrier = new Pending(null);
    barrier.awaited = true;
    enqueue(barrier);
    if (journal != null) {
      writeJournalGroup(false);
    }
    try {
      barrier.result.get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.debug("audit: store not caught up with the journal: {}", e.toString());
    }
  }

  /** Bytes of journaled records not yet in the store (0 without a journal). */
  public long journalBacklog() {
    return journal == null ? 0 : Math.max(0, journal.end() - applied);
  }

  /** Outcomes applied as an update of their action's row, not folded into its insert. */
  private volatile long outcomesAlone;

  /** For tests: outcomes the store thread could not fold into their action's insert. */
  long outcomesAppliedAlone() {
    return outcomesAlone;
  }

  /** Journal records the store refused for good (see the log); normally 0. */
  public long skippedRecords() {
    return skipped.get();
  }

  /** Whether records reach a local journal first (durability fsync or os). */
  public boolean journaled() {
    return journal != null;
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

  private void enqueue(Pending p) {
    if (closed) {
      throw new IllegalStateException("audit log is closed; cannot append");
    }
    long backlog = journalBacklog();
    if (journal != null && p.op != null && backlog > MAX_BACKLOG) {
      // Fail closed rather than grow the journal without bound while the store is unreachable.
      throw new StoreException(
          "audit: the store is "
              + (backlog >> 20)
              + " MB behind the journal (store down or too slow); refusing new records");
    }
    if (journal != null && p.op != null) {
      keepPaceWithStore();
      p.frame = JournalOp.encode(p.op);
      p.queuedNanos = System.nanoTime();
    }
    queue.add(p);
    if (closed && !writer.isAlive() && queue.remove(p)) {
      throw new IllegalStateException("audit log is closed; cannot append");
    }
  }

  /**
   * Above this many journal bytes not yet in the store (some 10,000 statements, a second or two of
   * the store's work), new records wait for the store while it is up. Without it, a load the store
   * cannot sustain grows the lag without bound: records are safe in the journal, but whoever waits
   * for the store (a session start, an audit read) waits behind all of it and times out. With it,
   * the load is held to what the store sustains and the lag stays short. While the store is down,
   * nothing waits here: the journal carries on up to MAX_BACKLOG, then refuses.
   */
  static final long PACE_BACKLOG = 4L << 20;

  /** The longest a record waits for the store to catch up before it goes ahead anyway. */
  private static final long PACE_MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final Object storeProgress = new Object();
  private volatile boolean storeUp = true;
  private final java.util.concurrent.atomic.AtomicInteger pacing =
      new java.util.concurrent.atomic.AtomicInteger();

  private void keepPaceWithStore() {
    if (journalBacklog() <= PACE_BACKLOG
        || !storeUp
        || Thread.currentThread() == applier
        || Thread.currentThread() == writer) {
      return;
    }
    long deadline = System.nanoTime() + PACE_MAX_WAIT_NANOS;
    pacing.incrementAndGet();
    try {
      synchronized (storeProgress) {
        // Down to half, so that waiting threads go on together rather than one record at a time.
        while (journalBacklog() > PACE_BACKLOG / 2 && storeUp && !closed) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return;
          }
          storeProgress.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      pacing.decrementAndGet();
    }
  }

  /** Called by the store thread after each batch (applied or refused). */
  private void storeProgressed(boolean up) {
    storeUp = up;
    if (pacing.get() > 0) {
      synchronized (storeProgress) {
        storeProgress.notifyAll();
      }
    }
  }

  private static long await(CompletableFuture<Long> f) {
    try {
      return f.get(APPEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
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

  // ---- without a journal: one thread, store commit per batch ----

  private void writeLoop() {
    List<Pending> batch = new ArrayList<>(MAX_BATCH);
    while (!closed || !queue.isEmpty()) {
      if (!take(batch)) {
        continue;
      }
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
              p.fail(single);
            }
          }
        } else {
          log.error("audit: cannot write {} record(s)", batch.size(), e);
          batch.forEach(p -> p.fail(e));
        }
      } catch (Error e) {
        batch.forEach(p -> p.fail(e));
        throw e;
      } finally {
        batch.clear();
      }
    }
    dropWriterConnection();
    failLeftovers();
  }

  /** Waits briefly for work; fills {@code batch} with what is queued. */
  private boolean take(List<Pending> batch) {
    Pending first;
    try {
      first = queue.poll(100, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      return false; // closing: the loop condition drains what is left
    }
    if (first == null) {
      return false;
    }
    batch.add(first);
    queue.drainTo(batch, MAX_BATCH - 1);
    return true;
  }

  private void failLeftovers() {
    Pending left;
    while ((left = queue.poll()) != null) {
      left.fail(new IllegalStateException("audit log is closed"));
    }
  }

  /** Only the store-writing thread uses this. */
  private Batch writerConnection;

  private void writeBatch(List<Pending> batch) {
    boolean reused = writerConnection != null;
    long[] seqs;
    try {
      seqs = writeOnce(batch, null);
    } catch (SQLException | RuntimeException first) {
      dropWriterConnection();
      if (!reused) {
        throw wrap(first);
      }
      // The kept connection may have gone stale (killed by the server, network blip): one more
      // try on a fresh one.
      try {
        seqs = writeOnce(batch, null);
      } catch (SQLException | RuntimeException second) {
        dropWriterConnection();
        second.addSuppressed(first);
        throw wrap(second);
      }
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).durable.complete(seqs[i]);
      batch.get(i).result.complete(seqs[i]);
    }
    if (writerConnection != null && writerConnection.old()) {
      dropWriterConnection();
    }
  }

  // ---- with a journal: journal thread, then store thread ----

  /** Held by whoever writes the journal: a session thread (the group's leader) or the flusher. */
  private final java.util.concurrent.locks.ReentrantLock journalLock =
      new java.util.concurrent.locks.ReentrantLock();

  /** Wakes the flusher for records nobody waits for (outcomes). */
  private final java.util.concurrent.Semaphore flushSignal = new java.util.concurrent.Semaphore(0);

  /**
   * Group commit without a hand-off: the caller takes the journal lock and writes everything queued
   * (its own record and any that arrived meanwhile) with one write and one fdatasync; callers that
   * queued while it held the lock find their record written when they get the lock. With one client
   * this costs the write itself, not two thread wake-ups; under load a group grows to whatever
   * arrived during the previous sync, as in PostgreSQL's WAL flush.
   *
   * <p>Without fdatasync ({@code audit.durability: os}) a write takes microseconds, and waiting in
   * line for the lock cost more than the write: each waiter was woken in turn only to find its
   * record already written (a convoy of context switches, one per statement under load). There a
   * caller that finds the lock taken leaves its record to the holder and waits for the record alone
   * ({@link #combineJournalGroups}).
   *
   * @param sync whether to sync (false: the flusher writing outcomes; the next sync covers them)
   */
  private void writeJournalGroup(boolean sync) {
    if (!sync && !journal.fsync()) {
      combineJournalGroups();
    } else {
      writeJournalGroupWaiting(sync);
    }
  }

  /**
   * Takes the lock, waiting for it, and writes the queue: every record queued before is written.
   */
  private void writeJournalGroupWaiting(boolean sync) {
    journalLock.lock();
    List<Pending> written;
    try {
      written = writeQueuedLocked(sync);
    } finally {
      journalLock.unlock();
    }
    completeDurable(written);
  }

  /** Most groups one holder of the lock writes for others before it goes back to its own work. */
  private static final int MAX_COMBINED_GROUPS = 16;

  /**
   * Writes the queue without waiting for the lock (journal without fdatasync). Whoever holds the
   * lock looks at the queue again after letting go of it, so a record queued by a caller that found
   * the lock taken is always written: that caller's failed tryLock came before the holder's unlock,
   * hence its enqueue before the holder's last look. After {@link #MAX_COMBINED_GROUPS} groups the
   * holder returns to its own session and leaves what is left to the flusher.
   */
  private void combineJournalGroups() {
    for (int groups = 0; !queue.isEmpty(); ) {
      if (!journalLock.tryLock()) {
        return; // the holder writes it (see above)
      }
      List<Pending> written;
      try {
        written = writeQueuedLocked(false);
      } finally {
        journalLock.unlock();
      }
      completeDurable(written);
      if (++groups >= MAX_COMBINED_GROUPS) {
        flushSignal.release();
        return;
      }
    }
  }

  /**
   * Writes every queued record to the journal and hands the group to the store thread, in journal
   * order (hence under the lock). Returns the group, to be completed after the lock is released
   * (waking its waiters is no work for the lock's holder).
   */
  private List<Pending> writeQueuedLocked(boolean sync) {
    List<Pending> batch = new ArrayList<>();
    queue.drainTo(batch);
    if (batch.isEmpty()) {
      return batch;
    }
    try {
      List<byte[]> frames = new ArrayList<>(batch.size());
      List<Pending> ops = new ArrayList<>(batch.size());
      for (Pending p : batch) {
        if (p.frame != null) {
          frames.add(p.frame);
          ops.add(p);
        }
      }
      if (!frames.isEmpty()) {
        long[] lsns = journal.append(frames, sync);
        for (int i = 0; i < ops.size(); i++) {
          ops.get(i).lsn = lsns[i];
        }
      }
      for (Pending p : batch) {
        p.frame = null;
      }
      applyQueue.add(batch);
      for (Pending p : batch) {
        if (p.awaited) {
          // Someone waits for the store: end the store thread's gathering pause now.
          LockSupport.unpark(applier);
          break;
        }
      }
      return batch;
    } catch (java.io.IOException | RuntimeException e) {
      log.error("audit: cannot write {} record(s) to the journal", batch.size(), e);
      batch.forEach(p -> p.fail(e));
      return List.of();
    }
  }

  private static void completeDurable(List<Pending> written) {
    for (Pending p : written) {
      p.durable.complete(0L);
    }
  }

  /**
   * Writes records nobody waits for (outcomes) when no leader came by to take them: after a short
   * pause, so that the next statement's group usually carries them, without a sync of their own.
   */
  private void flushLoop() {
    while (!closed) {
      try {
        flushSignal.acquire();
        Thread.sleep(2);
      } catch (InterruptedException e) {
        continue;
      }
      flushSignal.drainPermits();
      if (!queue.isEmpty()) {
        writeJournalGroup(false);
      }
    }
  }

  /** Store thread: applies journaled groups in order, many per transaction under load. */
  private void applyLoop() {
    // Actions held back from the last batch for their outcomes (see carryFrom), applied first.
    List<Pending> carried = new ArrayList<>();
    while (!abandoned && (!applierStopping || !applyQueue.isEmpty() || !carried.isEmpty())) {
      if (pausedForTest) {
        try {
          Thread.sleep(5);
        } catch (InterruptedException ignored) {
          // Check again.
        }
        continue;
      }
      List<Pending> batch = new ArrayList<>(carried);
      carried.clear();
      if (batch.isEmpty()) {
        List<Pending> first;
        try {
          first = applyQueue.poll(100, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          continue;
        }
        if (first == null) {
          continue;
        }
        batch.addAll(first);
      }
      // Let a few milliseconds of records gather: one store transaction for many statements, and
      // most outcomes then arrive with their action (folded into its insert, see fold). Someone
      // waiting for the store (an append, a reader) ends the wait at once.
      boolean hurry = applierStopping || anyAwaited(batch);
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(APPLY_GATHER_MS);
      // The pause is a park, not a wait on the queue: a queue wait would be woken by every group
      // that arrives (a futex wake and a context switch per statement under load). Groups that
      // someone waits for unpark this thread (writeQueuedLocked), and so does close.
      while (batch.size() < MAX_BATCH) {
        List<Pending> more = applyQueue.poll();
        if (more != null) {
          batch.addAll(more);
          hurry |= anyAwaited(more);
          continue;
        }
        long left = deadline - System.nanoTime();
        if (hurry || applierStopping || left <= 0) {
          break;
        }
        LockSupport.parkNanos(this, left);
      }
      fold(batch);
      while (pausedForTest && !abandoned) {
        try {
          Thread.sleep(5);
        } catch (InterruptedException ignored) {
          // Check again.
        }
      }
      if (abandoned) {
        break;
      }
      if (!hurry && !applierStopping) {
        int cut = carryFrom(batch, System.nanoTime());
        if (cut < batch.size()) {
          carried.addAll(batch.subList(cut, batch.size()));
          batch = new ArrayList<>(batch.subList(0, cut));
          if (batch.isEmpty()) {
            continue;
          }
        }
      }
      applyWithRetry(batch);
      retireApplied(journal, false);
    }
    dropWriterConnection();
  }

  /**
   * How long an action may wait in the store thread for its outcome. At the end of every batch are
   * the statements still running (at 32 clients, a third of a 20 ms batch): applied then, each
   * costs an insert now and an UPDATE of its row when its outcome comes (an update of the row and
   * of its index entries, and their commit: 9 % of the store thread's CPU, JFR). Held back to the
   * next batch, most meet their outcome and are one insert. A statement that runs longer than this
   * is applied without its outcome, as before.
   */
  static final long CARRY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /**
   * Where to cut {@code batch} (folded): before its first action still waiting for its outcome and
   * journaled less than {@link #CARRY_NANOS} ago, or at its end. The part from the cut on is
   * applied with the next batch, so the store applies records in journal order as before (the
   * chain's order) and the journal position committed with a batch never passes a record that is
   * not in the store; a carried record is in the journal, and a crash replays it.
   */
  private static int carryFrom(List<Pending> batch, long nowNanos) {
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      if (p.op instanceof JournalOp.Action
          && p.queuedNanos != 0
          && nowNanos - p.queuedNanos < CARRY_NANOS) {
        return i;
      }
    }
    return batch.size();
  }

  private static boolean anyAwaited(List<Pending> group) {
    for (int i = 0; i < group.size(); i++) {
      if (group.get(i).awaited) {
        return true;
      }
    }
    return false;
  }

  /**
   * How long the store thread lets records gather before a transaction (journal mode). Longer means
   * fewer transactions (each locks and moves the chain head and the journal position) and, above
   * all, more outcomes folded into their action's insert: at 32 clients a statement takes a few
   * milliseconds, so with 5 ms most outcomes missed their action's batch and cost an UPDATE of its
   * row. Nothing waits for this: the records are durable in the journal, and a caller that waits
   * for the store (an append, a reader) ends the pause at once.
   */
  private static final long APPLY_GATHER_MS = 20;

  /**
   * Folds an outcome into its action's insert when both are in one batch: one row write instead of
   * an insert and an update (the store's cost per statement is mostly row writes).
   */
  private static void fold(List<Pending> batch) {
    Map<Long, Pending> actions = null;
    for (Pending p : batch) {
      if (p.op instanceof JournalOp.Action a) {
        if (actions == null) {
          actions = new HashMap<>();
        }
        actions.put(a.id(), p);
      } else if (p.op instanceof JournalOp.Outcome o && actions != null) {
        Pending action = actions.remove(o.actionId());
        if (action != null) {
          action.op = new JournalOp.Completed((JournalOp.Action) action.op, o);
          p.op = null;
        }
      }
    }
  }

  /**
   * Applies a group; while the store is unreachable, retries with backoff (the records are safe in
   * the journal), failing the callers that wait for the store so that they fail closed.
   */
  private void applyWithRetry(List<Pending> batch) {
    long backoff = 100;
    int attempts = 0;
    while (true) {
      try {
        applyOrSkip(batch, journal);
        storeProgressed(true);
        return;
      } catch (RuntimeException e) {
        storeProgressed(false);
        attempts++;
        dropWriterConnection();
        for (Pending p : batch) {
          if (p.awaited) {
            // Its caller waits for the store and must fail closed now; the others are safe in the
            // journal and complete when the retry succeeds.
            p.result.completeExceptionally(e);
          }
        }
        if (applierStopping && attempts >= 3) {
          log.error(
              "audit: stopping with {} record(s) not yet in the store; they stay in the journal"
                  + " and are applied at the next start",
              batch.size(),
              e);
          return;
        }
        log.error("audit: the store refused a group of {} record(s); retrying", batch.size(), e);
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ignored) {
          // Retry now.
        }
        backoff = Math.min(5_000, backoff * 2);
      }
    }
  }

  /**
   * Applies {@code batch} in one transaction. When the store refuses it for a reason other than a
   * lost connection, applies the records one by one, skipping (and logging) one that the store
   * refuses three times: it can never be written, and must not hold back the rest.
   *
   * @throws RuntimeException when the store is unreachable
   */
  private void applyOrSkip(List<Pending> batch, Journal j) {
    try {
      commitApplied(batch, j);
      return;
    } catch (RuntimeException e) {
      dropWriterConnection();
      if (connectionLost(e)) {
        throw e;
      }
      if (batch.size() == 1) {
        Pending p = batch.get(0);
        for (int attempt = 1; attempt < 3; attempt++) {
          try {
            commitApplied(batch, j);
            return;
          } catch (RuntimeException again) {
            dropWriterConnection();
            if (connectionLost(again)) {
              throw again;
            }
          }
        }
        skipped.incrementAndGet();
        log.error(
            "audit: the store refuses journal record at {} ({}); skipped, it stays only in the"
                + " journal until the segment is retired",
            p.lsn,
            p.op == null ? "barrier" : p.op.getClass().getSimpleName(),
            e);
        p.fail(e);
        commitApplied(List.of(new Pending(null, p.lsn)), j);
        return;
      }
    }
    for (Pending p : batch) {
      applyOrSkip(List.of(p), j);
    }
  }

  private void commitApplied(List<Pending> batch, Journal j) {
    long[] seqs;
    try {
      seqs = writeOnce(batch, j);
    } catch (SQLException e) {
      throw wrap(e);
    }
    long last = applied;
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      last = Math.max(last, p.lsn);
      p.result.complete(seqs[i]);
    }
    applied = last;
    if (writerConnection != null && writerConnection.old()) {
      dropWriterConnection();
    }
  }

  /**
   * Deletes journal segments the store holds, once the store itself is durable: the embedded H2
   * store writes commits to its file within {@code WRITE_DELAY}, so it is checkpointed first.
   */
  private void retireApplied(Journal j, boolean always) {
    if (!always && !j.hasClosedSegments()) {
      return;
    }
    try {
      if (writerConnection == null) {
        writerConnection = Batch.owning(db.dataSource().getConnection());
      }
      if (writerConnection.flushAfterCommit) {
        writerConnection.statement("CHECKPOINT SYNC").execute();
      }
      j.retire(applied);
    } catch (SQLException | RuntimeException e) {
      dropWriterConnection();
      if (closed && String.valueOf(e.getMessage()).contains("Database is already closed")) {
        // JVM shutdown with H2's own hook first (see close): the segments are retired at the
        // next start, nothing is lost, and an operator pressing Ctrl-C need not be warned.
        log.info("audit: journal segments left for the next start (store closed at JVM exit)");
        return;
      }
      log.warn("audit: cannot retire applied journal segments yet: {}", e.toString());
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

  private long[] writeOnce(List<Pending> batch, Journal j) throws SQLException {
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
    long lastLsn = 0;
    PreparedStatement ins = null;
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      lastLsn = Math.max(lastLsn, p.lsn);
      if (p.op instanceof JournalOp.Outcome) {
        outcomesAlone++;
      }
      JournalOp.Chained e = p.op == null ? null : p.op.apply(work);
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
              ++seq, p.op.at(), e.type(), e.actor(), e.sessionId(), e.connection(), e.data(), hash);
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
    if (j != null && lastLsn > 0) {
      // The position commits with the records: after a crash, replay starts exactly past them.
      PreparedStatement pos =
          work.statement("UPDATE audit_journal SET applied = ? WHERE journal_id = ?");
      pos.setLong(1, lastLsn);
      pos.setString(2, j.id());
      pos.executeUpdate();
    }
    work.connection.commit();
    if (j == null && work.flushAfterCommit) {
      // H2 writes committed changes to its file in the background (WRITE_DELAY, default 500 ms):
      // a crash could lose records already confirmed. CHECKPOINT SYNC writes them and forces them
      // to the disk, once per batch like PostgreSQL's WAL flush at commit (a plain CHECKPOINT only
      // writes them to the operating system). With a journal, the journal is what is synced, and
      // the store is synced only before journal segments are deleted.
      work.statement("CHECKPOINT SYNC").execute();
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
    storeProgressed(storeUp); // records waiting for the store to catch up go ahead
    // No shutdownNow: interrupting a thread inside H2 file I/O closes the store's file channel.
    checkpointer.shutdown();
    try {
      checkpointer.awaitTermination(APPEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (journal != null) {
        flushSignal.release();
        writer.join(APPEND_TIMEOUT.toMillis());
        writeJournalGroupWaiting(journal.fsync());
      } else {
        writer.join(APPEND_TIMEOUT.toMillis());
      }
      if (applier != null) {
        applierStopping = true;
        LockSupport.unpark(applier);
        applier.join(APPEND_TIMEOUT.toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (journal != null) {
      closeJournal();
    }
    try {
      checkpoint();
    } catch (RuntimeException e) {
      if (String.valueOf(e.getMessage()).contains("Database is already closed")) {
        // The JVM is exiting and H2's own shutdown hook closed the embedded store first (it cannot
        // be turned off with AUTO_SERVER). Every record is committed; the next checkpoint after a
        // restart covers them.
        log.info("audit: the store closed before the final checkpoint (JVM shutdown)");
      } else {
        log.error("audit: final checkpoint at shutdown failed", e);
      }
    }
  }

  /**
   * On a clean stop with everything applied, the store is made durable and the journal emptied; a
   * record not yet applied keeps its segment for the next start.
   */
  private void closeJournal() {
    try {
      journal.close();
    } catch (java.io.IOException e) {
      log.warn("audit journal: close failed: {}", e.toString());
    }
    if (abandoned) {
      return;
    }
    try {
      if (applied >= journal.end()) {
        Thread t = Thread.currentThread();
        // On the closing thread: the store threads have stopped.
        journal.closeCurrent();
        retireApplied(journal, true);
        dropWriterConnection();
        log.debug("audit journal emptied at stop ({})", t.getName());
      } else {
        log.warn(
            "audit journal: {} byte(s) of records not yet in the store at stop; applied at the"
                + " next start",
            journal.end() - applied);
      }
    } catch (RuntimeException e) {
      if (!String.valueOf(e.getMessage()).contains("already closed")) {
        log.warn("audit journal: cannot empty it at stop: {}", e.toString());
      }
    }
  }

  private volatile boolean abandoned;
  private volatile boolean pausedForTest;

  /** For tests: holds records in the journal, not applying them to the store. */
  void pauseStoreForTest(boolean paused) {
    pausedForTest = paused;
  }

  /**
   * For crash tests: stops without applying anything still queued for the store, as if the process
   * had died after the journal write.
   */
  void abandonForTest() {
    abandoned = true;
    close();
  }

  /** A queued op (null: a barrier) and who waits for it. */
  private static final class Pending {
    /** Set by the caller; replaced only by the store thread when it folds (see fold). */
    JournalOp op;

    /** Completes once the op is durable: in the journal, or committed without one. */
    final CompletableFuture<Long> durable = new CompletableFuture<>();

    /** Completes with the audit seq (0: none) once the op is committed in the store. */
    final CompletableFuture<Long> result = new CompletableFuture<>();

    /** Journal position just past the op's frame (0 before it is written). */
    long lsn;

    /** Someone waits for the store commit (an append, a reader): no gathering delay. */
    volatile boolean awaited;

    /** The op's journal payload, encoded on the caller's thread (journal mode only). */
    byte[] frame;

    /** When it was queued ({@link System#nanoTime}; 0 for records replayed from the journal). */
    long queuedNanos;

    Pending(JournalOp op) {
      this.op = op;
    }

    Pending(JournalOp op, long lsn) {
      this.op = op;
      this.lsn = lsn;
    }

    void fail(Throwable e) {
      durable.completeExceptionally(e);
      result.completeExceptionally(e);
    }
  }
}
