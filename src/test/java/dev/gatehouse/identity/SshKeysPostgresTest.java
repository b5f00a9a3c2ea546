package dev.gatehouse.identity;

import dev.gatehouse.store.Database;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link SshKeysContract} on PostgreSQL, the HA store. */
class SshKeysPostgresTest extends SshKeysContract {
  private static EmbeddedPostgres pg;
  private static Database shared;

  @BeforeAll
  static void startPostgres() throws IOException {
    pg = EmbeddedPostgres.builder().start();
    shared = Database.postgres(pg.getJdbcUrl("postgres", "postgres"), "postgres", "postgres", 4);
  }

  @AfterAll
  static void stopPostgres() throws IOException {
    if (shared != null) {
      shared.close();
    }
    if (pg != null) {
      pg.close();
    }
  }

  @Override
  Database freshDatabase() {
    shared.transaction(
        c -> {
          try (Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM ssh_keys");
          }
          return null;
        });
    return shared;
  }

  @Override
  void release(Database db) {
    // shared across tests; closed once in stopPostgres
  }
}
