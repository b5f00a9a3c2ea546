package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {

  /**
   * H2's value cache is off once the store is open (Database sets h2.objectCache before H2 reads
   * it): every recorded statement's text would otherwise be hashed into a process-wide cache.
   */
  @Test
  void h2ValueCacheIsOff() {
    try (Database db = Database.inMemory("object-cache-" + ProcessHandle.current().pid())) {
      boolean valid = db.transaction(c -> c.isValid(1));
      assertThat(valid).isTrue();
      assertThat(System.getProperty(Database.H2_OBJECT_CACHE)).isEqualTo("false");
      assertThat(org.h2.engine.SysProperties.OBJECT_CACHE).isFalse();
    }
  }

  /**
   * The embedded store holds the audit log, recordings and review texts: a new data directory is
   * 0700 and the store's files 0600, whatever the umask (0022 here makes H2's files 0644).
   */
  @Test
  void aNewEmbeddedStoreIsOwnerOnly(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("var").resolve("data");
    try (Database db = Database.embedded(data)) {
      assertThat(db.<Boolean>transaction(c -> c.isValid(1))).isTrue();
      assertThat(mode(data)).isEqualTo("rwx------");
      assertThat(mode(data.resolve("gatehouse.mv.db"))).isEqualTo("rw-------");
      assertThat(mode(data.resolve("gatehouse.lock.db"))).isEqualTo("rw-------");
    }
  }

  /** A store left readable (by an older version, a copy, H2's trace file) is fixed on start-up. */
  @Test
  void anExistingReadableStoreIsMadeOwnerOnlyOnStart(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("data");
    try (Database db = Database.embedded(data)) {
      assertThat(db.<Boolean>transaction(c -> c.isValid(1))).isTrue();
    }
    Path store = data.resolve("gatehouse.mv.db");
    Path trace = Files.writeString(data.resolve("gatehouse.trace.db"), "SELECT 'secret'");
    Path other = Files.writeString(data.resolve("notes.txt"), "not the store's");
    for (Path f : new Path[] {store, trace, other}) {
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    }
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));

    try (Database db = Database.embedded(data)) {
      assertThat(db.<Boolean>transaction(c -> c.isValid(1))).isTrue();
      assertThat(mode(data)).isEqualTo("rwx------");
      assertThat(mode(store)).isEqualTo("rw-------");
      assertThat(mode(trace)).isEqualTo("rw-------");
      assertThat(mode(other)).as("only the store's files").isEqualTo("rw-r--r--");
    }
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }
}
