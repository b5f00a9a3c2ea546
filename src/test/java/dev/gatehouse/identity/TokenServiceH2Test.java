package dev.gatehouse.identity;

import dev.gatehouse.store.Database;
import java.util.UUID;

/** {@link TokenServiceContract} on the embedded store (H2 in PostgreSQL mode). */
class TokenServiceH2Test extends TokenServiceContract {
  @Override
  Database freshDatabase() {
    return Database.inMemory("identity-" + UUID.randomUUID());
  }

  @Override
  void release(Database db) {
    db.close();
  }
}
