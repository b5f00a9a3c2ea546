package dev.gatehouse.audit;

import dev.gatehouse.store.Database;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fresh, migrated stores for tests: an H2 in-memory database, or a new database in one embedded
 * PostgreSQL started lazily per test class (so each test starts from an empty schema).
 */
public final class TestStores implements AutoCloseable {
  /** Which engine a parameterized test runs against. */
  public enum Kind {
    H2,
    POSTGRES
  }

  private static final AtomicInteger COUNTER = new AtomicInteger();

  private EmbeddedPostgres pg;
  private final List<Database> opened = new ArrayList<>();

  public synchronized Database open(Kind kind) {
    String name = "t" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
    Database db =
        switch (kind) {
          case H2 -> Database.inMemory(name);
          case POSTGRES -> {
            EmbeddedPostgres server = postgres();
            try (Connection c = server.getPostgresDatabase().getConnection();
                Statement st = c.createStatement()) {
              st.execute("CREATE DATABASE " + name);
            } catch (SQLException e) {
              throw new IllegalStateException("cannot create test database " + name, e);
            }
            yield Database.postgres(server.getJdbcUrl("postgres", name), "postgres", "postgres", 4);
          }
        };
    opened.add(db);
    return db;
  }

  private EmbeddedPostgres postgres() {
    if (pg == null) {
      try {
        pg = EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
      }
    }
    return pg;
  }

  /** Closes the stores opened since the last call (call after each test). */
  public synchronized void closeOpened() {
    for (Database db : opened) {
      db.close();
    }
    opened.clear();
  }

  @Override
  public synchronized void close() {
    closeOpened();
    if (pg != null) {
      try {
        pg.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      pg = null;
    }
  }
}
