package dev.gatehouse.audit;

import dev.gatehouse.config.GatehouseConfig.AuditConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.credential.MasterKey;
import dev.gatehouse.store.Database;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Small helpers shared by the audit tests. */
final class AuditTestSupport {
  private AuditTestSupport() {}

  /** No periodic checkpoints: tests take them on demand. */
  static final AuditConfig NO_SCHEDULE = new AuditConfig(Duration.ZERO, List.of());

  static MasterKey newMasterKey() {
    return MasterKey.fromSecret(new Secret(MasterKey.generate(), "test"));
  }

  static AuditEvent event(int i) {
    return new AuditEvent(
        "test.event", "alice", "s-" + (i % 3), "prod", Map.of("i", (long) i, "note", "n" + i));
  }

  /** Runs one SQL statement directly, as an attacker with store access would. */
  static int sql(Database db, String statement, Object... args) {
    return db.transaction(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(statement)) {
            for (int i = 0; i < args.length; i++) {
              ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
          }
        });
  }

  static long count(Database db, String query) {
    return db.transaction(
        c -> {
          try (var rs = c.createStatement().executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }
}
