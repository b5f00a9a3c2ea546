package dev.gatehouse.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's data directory and the embedded store's files in it, kept owner-only: the store
 * holds the audit log, recordings and review texts, the directory also the journal and the master
 * key. Java cannot set the process umask, so H2 creates its files (the {@code .mv.db}, the {@code
 * .lock.db} of AUTO_SERVER, a {@code .trace.db} on an error, {@code .temp.db} spill files) with the
 * default one, usually 0644; the directory's 0700 is what keeps the files H2 creates later out of
 * other users' reach, and the files there at start-up are set to 0600. On a file system without
 * POSIX permissions nothing is done.
 */
public final class DataDirectory {
  private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);

  static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      PosixFilePermissions.fromString("rwx------");
  static final Set<PosixFilePermission> OWNER_ONLY_FILE =
      PosixFilePermissions.fromString("rw-------");

  private static final Set<PosixFilePermission> GROUP_OR_OTHER =
      EnumSet.complementOf(
          EnumSet.of(
              PosixFilePermission.OWNER_READ,
              PosixFilePermission.OWNER_WRITE,
              PosixFilePermission.OWNER_EXECUTE));

  private DataDirectory() {}

  /**
   * chmod(2) as {@link Files#setPosixFilePermissions} does it; tests give one that succeeds without
   * effect, as some file systems do (vfat, CIFS or FUSE mounts whose modes are fixed by mount
   * options), which no unprivileged test can mount.
   */
  @FunctionalInterface
  interface Chmod {
    Chmod FILES = (p, mode) -> Files.setPosixFilePermissions(p, mode);

    void set(Path p, Set<PosixFilePermission> mode) throws IOException;
  }

  /** chmod that returned without changing the mode: read back after every chmod. */
  private static final class ModeNotApplied extends IOException {
    ModeNotApplied(Set<PosixFilePermission> after) {
      super("the file system kept it " + PosixFilePermissions.toString(after) + " after chmod");
    }
  }

  /**
   * Sets {@code p} to {@code mode} and reads the mode back, failing when group or others still have
   * any bit: a file system may accept chmod and ignore it.
   */
  private static void setOwnerOnly(Chmod chmod, Path p, Set<PosixFilePermission> mode)
      throws IOException {
    chmod.set(p, mode);
    Set<PosixFilePermission> after = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
    if (openToOthers(after)) {
      throw new ModeNotApplied(after);
    }
  }

  private static String why(IOException e) {
    return e instanceof ModeNotApplied ? e.getMessage() : e.getClass().getSimpleName();
  }

  /**
   * Creates {@code dir} (and missing parents) with mode 0700, or, when it exists and others may
   * enter or list it, sets it to 0700 and says so loudly; when that is not allowed (another owner,
   * a read-only or immutable file system), fails closed: start-up stops with a {@link
   * StoreException} that names the directory and its mode, rather than run with the store, journal
   * and key open to others.
   *
   * @throws StoreException when the directory is open to others and cannot be made owner-only
   */
  public static void ownerOnly(Path dir) {
    ownerOnly(dir, Chmod.FILES);
  }

  static void ownerOnly(Path dir, Chmod chmod) {
    try {
      if (!Files.isDirectory(dir)) {
        createOwnerOnly(dir, chmod);
        return;
      }
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
      if (!openToOthers(perms)) {
        return;
      }
      try {
        setOwnerOnly(chmod, dir, OWNER_ONLY_DIR);
        log.warn(
            "data directory {} was {} (group or others could reach the store, journal and key);"
                + " set to rwx------",
            dir,
            PosixFilePermissions.toString(perms));
      } catch (IOException e) {
        throw new StoreException(
            "data directory "
                + dir
                + " is "
                + PosixFilePermissions.toString(perms)
                + ": group or others can reach the store, journal and key, and the gateway cannot"
                + " set it to rwx------ ("
                + why(e)
                + "); refusing to start: make it chmod 700, owned by the user the gateway runs as",
            e);
      }
    } catch (UnsupportedOperationException notPosix) {
      // The file system's own access control applies.
    } catch (IOException e) {
      throw new UncheckedIOException("data directory: cannot create or inspect " + dir, e);
    }
  }

  private static void createOwnerOnly(Path dir, Chmod chmod) throws IOException {
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      Files.createDirectories(parent);
    }
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
    } catch (FileAlreadyExistsException raced) {
      // another process created it first; checked on its next start
    } catch (UnsupportedOperationException notPosix) {
      Files.createDirectories(dir);
    }
    // The umask may have cut the requested mode, never widened it; set it exactly anyway, and
    // read it back: a file system with fixed modes (vfat, CIFS) creates it open whatever was asked.
    try {
      setOwnerOnly(chmod, dir, OWNER_ONLY_DIR);
    } catch (UnsupportedOperationException notPosix) {
      // nothing to set
    } catch (ModeNotApplied e) {
      throw new StoreException(
          "data directory "
              + dir
              + " was created, but "
              + e.getMessage()
              + ": group or others could reach the store, journal and key; refusing to start: put"
              + " the data directory on a file system with POSIX permissions",
          e);
    }
  }

  /**
   * Sets every file of the embedded store {@code name} in {@code dir} ({@code name.mv.db}, {@code
   * name.lock.db}, {@code name.trace.db}, {@code name.*.temp.db}, …) that group or others may read
   * or write to 0600. {@code found}: the files were there before the store was opened (left 0644 by
   * an older version, a copy, an H2 trace), so each is warned about; otherwise H2 has just created
   * them with the process umask, as it does on every start, and they are set quietly. A file that
   * cannot be set fails start-up ({@link StoreException}, naming the file and its mode).
   */
  static void ownerOnlyFiles(Path dir, String name, boolean found) {
    ownerOnlyFiles(dir, name, found, Chmod.FILES);
  }

  static void ownerOnlyFiles(Path dir, String name, boolean found, Chmod chmod) {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, name + ".*")) {
      for (Path f : files) {
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        Set<PosixFilePermission> perms =
            Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS);
        if (!openToOthers(perms)) {
          continue;
        }
        try {
          setOwnerOnly(chmod, f, OWNER_ONLY_FILE);
          if (!found) {
            continue;
          }
          log.warn(
              "store file {} was {} (it holds the audit log, recordings and review texts); set to"
                  + " rw-------",
              f,
              PosixFilePermissions.toString(perms));
        } catch (IOException e) {
          throw new StoreException(
              "store file "
                  + f
                  + " is "
                  + PosixFilePermissions.toString(perms)
                  + ": group or others can read the audit log, recordings and review texts, and"
                  + " the gateway cannot set it to rw------- ("
                  + why(e)
                  + "); refusing to start: make it chmod 600, owned by the user the gateway runs"
                  + " as",
              e);
        }
      }
    } catch (UnsupportedOperationException notPosix) {
      // The file system's own access control applies.
    } catch (IOException e) {
      throw new UncheckedIOException("store: cannot inspect the files in " + dir, e);
    }
  }

  private static boolean openToOthers(Set<PosixFilePermission> perms) {
    return perms.stream().anyMatch(GROUP_OR_OTHER::contains);
  }
}
