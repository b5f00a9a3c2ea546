package dev.gatehouse.runner;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * This gateway's job directories on SSH runners, so that those a gateway left behind when it died
 * (kill -9, a crash, a cut connection during the cleanup) are removed later, and nobody's live ones
 * are. The remote equivalent of {@link WorkspaceOwner}, which cannot work there: a lock on the
 * gateway host says nothing about another gateway's jobs on a target, and the target cannot see the
 * gateway's processes.
 *
 * <p>So it is a lease, kept on the target's clock (no clock skew between gateway and target): every
 * job directory is {@code ROOT/job-OWNER-CLOCK.RANDOM} under one private root per target user
 * ({@link RemoteScript#ROOT}); every setup writes the target's clock into {@code ROOT/lease-OWNER},
 * and so does a heartbeat every {@link #HEARTBEAT} while a job of this gateway runs there. A sweep
 * ({@link RemoteScript#sweep}), on a runner's first use after start and then at most every {@link
 * #SWEEP_EVERY}, removes the directories of owners whose lease and directory are both older than
 * {@link #LEASE}, and this gateway's own directories that belong to no live job. While it runs, no
 * setup of this gateway runs (a write lock against the setups' read locks), so a job that exists on
 * the target but is not yet listed here cannot be taken for a leftover. The lock is one for all
 * runners (two runner connections may be the same account on the same target); a sweep is one short
 * command, run rarely, so setups elsewhere wait at most its step timeout.
 *
 * <p>What this does not guarantee: a sweep happens only when a runner is used (a target nobody runs
 * commands on keeps what a dead gateway left, 0700 in the user's temporary directory); a gateway
 * that cannot reach a target for longer than {@link #LEASE} while its command still runs there may
 * lose the job directory to another gateway's sweep (the command keeps running; its cleanup finds
 * nothing); processes a dead gateway left running are not killed.
 */
final class RemoteJobs {
  /** A lease older than this (by the target's clock) belongs to a gateway that is gone. */
  static final Duration LEASE = Duration.ofMinutes(10);

  /** How often a runner with a live job renews this gateway's lease: well within {@link #LEASE}. */
  static final Duration HEARTBEAT = Duration.ofMinutes(1);

  /** How often a runner in use is swept again after its first sweep. */
  static final Duration SWEEP_EVERY = Duration.ofMinutes(10);

  private final String owner;
  private final ReentrantReadWriteLock setups = new ReentrantReadWriteLock();

  /** Base names of this gateway's live job directories, on any runner. */
  private final Set<String> live = ConcurrentHashMap.newKeySet();

  /** Runner → System.nanoTime() of its last sweep, and of its last heartbeat. */
  private final Map<String, Long> swept = new ConcurrentHashMap<>();

  private final Map<String, Long> beats = new ConcurrentHashMap<>();

  RemoteJobs(String owner) {
    this.owner = owner;
  }

  String owner() {
    return owner;
  }

  /** Held while a job is set up, until it is {@link #started}. */
  Lock setupLock() {
    return setups.readLock();
  }

  /** Held while a sweep runs. */
  Lock sweepLock() {
    return setups.writeLock();
  }

  /** Whether {@code runner} is due a sweep; if so, it counts as swept from now. */
  boolean sweepDue(String runner) {
    return due(swept, runner, SWEEP_EVERY);
  }

  /**
   * Whether this gateway's lease on {@code runner} is due a renewal (one second early, so a
   * heartbeat on the minute is not skipped); if so, it counts as renewed from now.
   */
  boolean heartbeatDue(String runner) {
    return due(beats, runner, HEARTBEAT.minusSeconds(1));
  }

  private static boolean due(Map<String, Long> last, String runner, Duration every) {
    long now = System.nanoTime();
    boolean[] due = {false};
    last.compute(
        runner,
        (k, at) -> {
          due[0] = at == null || now - at >= every.toNanos();
          return due[0] ? now : at;
        });
    return due[0];
  }

  /** Makes every runner due a sweep at its next use (tests). */
  void sweepAgain() {
    swept.clear();
  }

  void started(RemoteRun.Job job) {
    live.add(base(job.dir()));
  }

  void ended(RemoteRun.Job job) {
    live.remove(base(job.dir()));
  }

  /** Names of live jobs, for the sweep script. */
  List<String> live() {
    return List.copyOf(live);
  }

  private static String base(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
