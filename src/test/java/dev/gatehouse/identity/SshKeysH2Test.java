package dev.gatehouse.identity;

import dev.gatehouse.store.Database;
import java.util.UUID;

/** {@link SshKeysContract} on the embedded store (H2 in PostgreSQL mode). */
class SshKeysH2Test extends SshKeysContract {
  @Override
  Database freshDatabase() {
    return Database.inMemory("sshkeys-" + UUID.randomUUID());
  }

  @Override
  void release(Database db) {
    db.close();
  }
}
