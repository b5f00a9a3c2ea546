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

  /**
   * Makes a PostgreSQL store unreachable (its connections killed, new ones refused) or reachable
   * again: a store outage.
   */
  public synchronized void refuseConnections(Database db, boolean refuse) {
    String url = ((com.zaxxer.hikari.HikariDataSource) db.dataSource()).getJdbcUrl();
    String name = url.substring(url.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
    try (Connection c = postgres().getPostgresDatabase().getConnection();
        Statement st = c.createStatement()) {
      st.execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS " + !refuse);
      if (refuse) {
        st.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
                + name
                + "'");
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot change connections to " + name, e);
    }
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
