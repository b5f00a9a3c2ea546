package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

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
}
