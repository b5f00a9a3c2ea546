package dev.gatehouse.policy;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's policy engine: the current {@link PolicySet} snapshot, swapped atomically when the
 * files change.
 *
 * <p>An invalid file never replaces a valid policy: the error is logged (with file:line) and the
 * old snapshot keeps deciding. A successful swap is first appended to the audit log as {@code
 * config.change}; if that append fails, the new policy is not used either (nothing changes
 * unrecorded). {@link #generation()} increases with every swap so that a protocol that decided
 * under an older policy can decide again.
 *
 * <p>The optional watcher polls the files every interval: it re-resolves the globs (so new and
 * deleted files count) and compares a hash of names and contents. Polling costs a few file reads
 * per interval and works on every file system, including bind-mounted Kubernetes ConfigMaps where
 * file watch events are unreliable.
 */
public final class ReloadingPolicyEngine implements PolicyEngine, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReloadingPolicyEngine.class);

  private final List<String> fileGlobs;
  private final AuditLog audit;
  // One reference for both, so that a reader never pairs a snapshot with another's generation.
  private final AtomicReference<Snapshot> current = new AtomicReference<>();
  private final Object reloadLock = new Object();
  private volatile String lastFingerprint;
  private volatile PolicyException lastError;
  private ScheduledExecutorService watcher;

  private ReloadingPolicyEngine(List<String> fileGlobs, AuditLog audit, PolicySet initial) {
    this.fileGlobs = List.copyOf(fileGlobs);
    this.audit = audit;
    this.current.set(new Snapshot(initial, 1));
    this.lastFingerprint = fingerprint(fileGlobs);
  }

  /**
   * Loads the policy files; the gateway refuses to start when they are invalid.
   *
   * @param fileGlobs files, directories or globs such as {@code policies/*.yaml}
   * @param audit where successful reloads are recorded; null for none (tests, CLI)
   * @throws PolicyException with every problem as file:line
   */
  public static ReloadingPolicyEngine load(List<String> fileGlobs, AuditLog audit)
      throws PolicyException {
    Objects.requireNonNull(fileGlobs, "fileGlobs");
    return new ReloadingPolicyEngine(fileGlobs, audit, PolicySet.load(fileGlobs));
  }

  /**
   * Starts polling the files for changes every {@code interval} (1-2 s is a good value) on a daemon
   * thread. Calling it again has no effect.
   */
  public synchronized ReloadingPolicyEngine watch(Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval: " + interval + " (expected: > 0)");
    }
    if (watcher == null) {
      watcher =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "policy-reload");
                t.setDaemon(true);
                return t;
              });
      long ms = interval.toMillis();
      watcher.scheduleWithFixedDelay(this::poll, ms, ms, TimeUnit.MILLISECONDS);
    }
    return this;
  }

  @Override
  public Decision decide(PolicyRequest request) {
    return current.get().policy().decide(request);
  }

  @Override
  public List<String> pathArguments(String rule, Action action) {
    return current.get().policy().pathArguments(rule, action);
  }

  @Override
  public List<String> pathArguments(String rule, Action action, long generation) {
    Snapshot s = current.get();
    return s.generation() == generation ? s.policy().pathArguments(rule, action) : null;
  }

  @Override
  public long generation() {
    return current.get().generation();
  }

  /** The snapshot deciding right now. */
  public PolicySet current() {
    return current.get().policy();
  }

  /** The error of the last failed reload, or null when the last reload succeeded. */
  public PolicyException lastError() {
    return lastError;
  }

  /**
   * Re-reads the files now and swaps the snapshot when they are valid.
   *
   * @return true when a new snapshot was swapped in; false when the files are invalid (logged, see
   *     {@link #lastError()}) or the change could not be audited
   */
  public boolean reload() {
    synchronized (reloadLock) {
      lastFingerprint = fingerprint(fileGlobs);
      PolicySet next;
      try {
        next = PolicySet.load(fileGlobs);
      } catch (PolicyException e) {
        lastError = e;
        log.error(
            "policy reload rejected; the previous policy (generation {}) stays in force:\n  {}",
            current.get().generation(),
            String.join("\n  ", e.problems()));
        return false;
      } catch (RuntimeException e) {
        lastError = new PolicyException(List.of("reload failed: " + e));
        log.error("policy reload failed; the previous policy stays in force", e);
        return false;
      }
      PolicySet previous = current.get().policy();
      long nextGeneration = current.get().generation() + 1;
      if (audit != null) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("component", "policy");
        data.put("generation", nextGeneration);
        data.put("files", next.files());
        data.put("rules", next.size());
        data.put("digest", next.digest());
        data.put("previous_digest", previous.digest());
        try {
          audit.append(new AuditEvent("config.change", "system", null, null, data));
        } catch (RuntimeException e) {
          lastError = new PolicyException(List.of("reload not audited: " + e));
          log.error("cannot audit the policy change; keeping the previous policy", e);
          return false;
        }
      }
      current.set(new Snapshot(next, nextGeneration));
      lastError = null;
      log.info(
          "policy reloaded: generation {}, {} rules from {} file(s), digest {}",
          nextGeneration,
          next.size(),
          next.files().size(),
          next.digest());
      return true;
    }
  }

  /** One watcher tick: reload only when the resolved files or their contents changed. */
  void poll() {
    try {
      String fp = fingerprint(fileGlobs);
      if (!fp.equals(lastFingerprint)) {
        reload();
      }
    } catch (RuntimeException e) {
      log.warn("policy file check failed; will retry", e);
    }
  }

  private static String fingerprint(List<String> globs) {
    List<String> errors = new ArrayList<>();
    List<Path> paths = PolicyFiles.resolve(globs, errors);
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    for (PolicyFiles.Source s : PolicyFiles.read(paths, errors)) {
      sha.update(s.name().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(s.text().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
    }
    for (String e : errors) {
      sha.update(e.getBytes(StandardCharsets.UTF_8));
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  @Override
  public synchronized void close() {
    if (watcher != null) {
      watcher.shutdownNow();
      watcher = null;
    }
  }

  /** A policy snapshot and the generation it was swapped in as. */
  private record Snapshot(PolicySet policy, long generation) {}
}
