package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.Database;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The audit tables' indexes after every migration, on both store engines. */
class StoreMigrationTest {
  private static final TestStores STORES = new TestStores();

  @AfterAll
  static void closeStores() {
    STORES.close();
  }

  private static Set<String> indexes(Database db, String table) throws Exception {
    Set<String> names = new HashSet<>();
    try (Connection c = db.dataSource().getConnection()) {
      DatabaseMetaData md = c.getMetaData();
      try (ResultSet rs = md.getIndexInfo(null, null, table, false, false)) {
        while (rs.next()) {
          String name = rs.getString("INDEX_NAME");
          if (name != null) {
            names.add(name.toLowerCase(java.util.Locale.ROOT));
          }
        }
      }
    }
    return names;
  }

  /**
   * The indexes the readers need: audit_log by time ({@code export --since} filters on {@code at};
   * dropping it would make that a scan of the whole log), session_actions by (session_id, id) for
   * the session views, sessions by start time.
   */
  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void auditLogKeepsItsTimeIndexAndActionsTheirSessionIndex(TestStores.Kind kind) throws Exception {
    Database db = STORES.open(kind);
    assertThat(indexes(db, "audit_log")).contains("audit_log_at");
    assertThat(indexes(db, "session_actions")).contains("session_actions_session");
    assertThat(indexes(db, "sessions")).contains("sessions_started");
  }
}
