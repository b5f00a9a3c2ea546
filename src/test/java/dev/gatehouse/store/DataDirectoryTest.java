package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data directory and the store's files are made owner-only, and start-up stops when they cannot
 * be: a real directory the kernel does not let anyone chmod (/proc/sys) and a real file made
 * immutable with chattr(1).
 */
class DataDirectoryTest {
  @TempDir Path tmp;

  @Test
  void aDirectoryOpenToOthersIsMadeOwnerOnly() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("data"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    DataDirectory.ownerOnly(dir);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
  }

  @Test
  void aDirectoryOpenToOthersThatCannotBeMadeOwnerOnlyStopsStartUp() {
    // procfs refuses every chmod (proc_sys_setattr: EPERM), for root too
    Path dir = Path.of("/proc/sys");
    assumeTrue(Files.isDirectory(dir), "Linux /proc");
    assertThatThrownBy(() -> DataDirectory.ownerOnly(dir))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("data directory /proc/sys is r-xr-xr-x")
        .hasMessageContaining("refusing to start")
        .hasMessageContaining("chmod 700");
  }

  /** chmod that returns without error and changes nothing (vfat, CIFS, FUSE with fixed modes). */
  private static final DataDirectory.Chmod IGNORED = (p, mode) -> {};

  @Test
  void aDirectoryWhoseChmodHasNoEffectStopsStartUp() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("data"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThatThrownBy(() -> DataDirectory.ownerOnly(dir, IGNORED))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("data directory " + dir + " is rwxr-xr-x")
        .hasMessageContaining("the file system kept it rwxr-xr-x after chmod")
        .hasMessageContaining("refusing to start");
  }

  @Test
  void aNewDirectoryWhoseChmodHasNoEffectStopsStartUp() throws Exception {
    Path dir = tmp.resolve("new");
    // the file system's fixed mode: created open whatever was asked (as vfat's umask=022)
    DataDirectory.Chmod fixedMode =
        (p, mode) -> Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThatThrownBy(() -> DataDirectory.ownerOnly(dir, fixedMode))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("data directory " + dir + " was created")
        .hasMessageContaining("refusing to start");
  }

  @Test
  void aStoreFileWhoseChmodHasNoEffectStopsStartUp() throws Exception {
    Path f = Files.createFile(tmp.resolve("gatehouse.mv.db"));
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> DataDirectory.ownerOnlyFiles(tmp, "gatehouse", false, IGNORED))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("store file " + f + " is rw-r--r--")
        .hasMessageContaining("the file system kept it rw-r--r-- after chmod");
  }

  @Test
  void aStoreFileOpenToOthersIsMadeOwnerOnly() throws Exception {
    Path f = Files.createFile(tmp.resolve("gatehouse.mv.db"));
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    DataDirectory.ownerOnlyFiles(tmp, "gatehouse", true);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
        .isEqualTo("rw-------");
  }

  @Test
  void aStoreFileOpenToOthersThatCannotBeMadeOwnerOnlyStopsStartUp() throws Exception {
    Path f = Files.createFile(tmp.resolve("gatehouse.trace.db"));
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    // an immutable file (chattr +i, root on ext4/xfs/btrfs): chmod fails with EPERM
    assumeTrue(chattr("+i", f), "chattr +i needs root and a file system with attributes");
    try {
      assertThatThrownBy(() -> DataDirectory.ownerOnlyFiles(tmp, "gatehouse", true))
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("store file " + f + " is rw-r--r--")
          .hasMessageContaining("refusing to start")
          .hasMessageContaining("chmod 600");
    } finally {
      chattr("-i", f);
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
        .isEqualTo("rw-r--r--");
  }

  private static boolean chattr(String change, Path f) {
    try {
      Process p =
          new ProcessBuilder("chattr", change, f.toString())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return p.waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }
}
