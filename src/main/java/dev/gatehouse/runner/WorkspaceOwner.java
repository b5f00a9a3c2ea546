package dev.gatehouse.runner;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which gateway process a fresh workspace or secret directory on the gateway host belongs to, so
 * that the ones a gateway left behind when it died (kill -9, a crash, a power cut: its runs' {@code
 * close} never ran) are removed when the next one starts, and nobody else's are.
 *
 * <p>Each runner claims an owner id: 16 random hex digits, and an exclusive lock on {@code
 * DATA_DIR/exec-owners/ID.lock}, held until the process ends. Its fresh workspaces are named {@code
 * ID-RANDOM} and its secret directories {@code gatehouse-secrets-ID-…}. The kernel releases a
 * record lock (fcntl(2) F_SETLK, which FileChannel.lock uses on Linux) when its process dies,
 * however it died, so a lock file that can be locked names a dead owner; a pid could have been
 * reused by then, a lock cannot. At start-up ({@link #sweep}), every dead owner's directories are
 * removed from the places this gateway puts them, then its lock file. Directories of ids without a
 * lock file here (another gateway's, sharing a workdir, or from before owner ids) are never
 * touched, nor are fixed workspaces, which are the operator's.
 *
 * <p>Not covered: job directories on SSH runners ({@code exec.runner}), which live on the target
 * and are swept there with a lease ({@link RemoteJobs}, named after the same id); and a data
 * directory on a file system without working record locks (some NFS set-ups), where a live owner
 * could look dead: keep DATA_DIR local, as the embedded store already requires.
 */
final class WorkspaceOwner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WorkspaceOwner.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Directory under DATA_DIR holding one lock file per runner that ever ran there. */
  static final String OWNERS = "exec-owners";

  /** Prefix of secret directories in java.io.tmpdir; the owner id and a dash follow. */
  static final String SECRETS_PREFIX = "gatehouse-secrets-";

  private static final Pattern ID = Pattern.compile("[0-9a-f]{16}");

  /**
   * Ids locked by this JVM. Their lock files are never opened by {@link #sweep}: closing any
   * descriptor of a file drops every record lock the process holds on it (POSIX fcntl(2)), so
   * merely checking our own lock would release it.
   */
  private static final Set<String> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final String id;
  private final FileChannel channel;
  private final FileLock lock;

  private WorkspaceOwner(String id, FileChannel channel, FileLock lock) {
    this.id = id;
    this.channel = channel;
    this.lock = lock;
  }

  /** The owner id, for directory names. */
  String id() {
    return id;
  }

  /**
   * Claims a new owner id under {@code dataDir}. When the lock cannot be taken (a read-only data
   * directory) the id is still unique, but has no lock file: its directories are never swept.
   */
  static WorkspaceOwner claim(Path dataDir) {
    byte[] b = new byte[8];
    RANDOM.nextBytes(b);
    String id = HexFormat.of().formatHex(b);
    FileChannel ch = null;
    try {
      Path dir = dataDir.resolve(OWNERS);
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      ch =
          FileChannel.open(
              dir.resolve(id + ".lock"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      FileLock lock = ch.lock();
      HELD.add(id);
      // For whoever looks: the lock is what counts, not the pid.
      ch.write(
          ByteBuffer.wrap(
              ("pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)));
      return new WorkspaceOwner(id, ch, lock);
    } catch (IOException | RuntimeException e) {
      log.warn("exec: cannot claim a workspace owner in {}: {}", dataDir, e.toString());
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // already failing
        }
      }
      return new WorkspaceOwner(id, null, null);
    }
  }

  /**
   * Removes the directories of every dead owner from {@code bases} (the parents of fresh
   * workspaces: {@code DATA_DIR/workspaces/*} and configured workdirs) and {@code tmp} (secret
   * directories), then its lock file. An owner whose lock is held, by another process or this one,
   * is alive and left alone. Returns the number of directories removed.
   */
  static int sweep(Path dataDir, Collection<Path> bases, Path tmp) {
    Path owners = dataDir.resolve(OWNERS);
    if (!Files.isDirectory(owners, LinkOption.NOFOLLOW_LINKS)) {
      return 0;
    }
    Set<Path> places = new LinkedHashSet<>(bases);
    Path defaults = dataDir.resolve("workspaces");
    places.addAll(children(defaults, p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)));
    int removed = 0;
    for (Path lockFile : children(owners, p -> p.getFileName().toString().endsWith(".lock"))) {
      String name = lockFile.getFileName().toString();
      String dead = name.substring(0, name.length() - ".lock".length());
      if (!ID.matcher(dead).matches() || HELD.contains(dead)) {
        continue;
      }
      try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
        FileLock l;
        try {
          l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
          continue; // held in this JVM: alive
        }
        if (l == null) {
          continue; // held by another process: alive
        }
        // Held by us now, so a second gateway starting at the same time skips it.
        int n = 0;
        for (Path base : places) {
          n += removeChildren(base, dead + "-");
        }
        n += removeChildren(tmp, SECRETS_PREFIX + dead + "-");
        Files.deleteIfExists(lockFile);
        l.release();
        if (n > 0) {
          log.info("exec: removed {} directories left by a gateway that stopped uncleanly", n);
        }
        removed += n;
      } catch (NoSuchFileException e) {
        // swept by another gateway meanwhile
      } catch (IOException | RuntimeException e) {
        log.warn("exec: cannot check workspace owner {}: {}", lockFile, e.toString());
      }
    }
    return removed;
  }

  /** Removes the directories (never a link, never a file) in {@code dir} named PREFIX…. */
  private static int removeChildren(Path dir, String prefix) {
    int n = 0;
    for (Path p :
        children(
            dir,
            c ->
                c.getFileName().toString().startsWith(prefix)
                    && Files.isDirectory(c, LinkOption.NOFOLLOW_LINKS))) {
      Workspace.delete(p);
      n += Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? 0 : 1;
    }
    return n;
  }

  private static List<Path> children(Path dir, DirectoryStream.Filter<Path> filter) {
    List<Path> out = new ArrayList<>();
    if (dir == null || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return out;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, filter)) {
      s.forEach(out::add);
    } catch (IOException e) {
      log.warn("exec: cannot list {}: {}", dir, e.toString());
    }
    return out;
  }

  /**
   * Releases the lock. The lock file stays: a run cut short by the shutdown may have left a
   * directory behind, and the next start sweeps it with the file.
   */
  @Override
  public void close() {
    if (channel == null) {
      return;
    }
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      log.debug("exec: cannot release the workspace owner lock", e);
    }
    HELD.remove(id);
  }
}
