package dev.gatehouse.identity;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** An in-memory audit log for tests; {@link #failing} makes every append throw. */
final class ListAuditLog implements AuditLog {
  final List<AuditEvent> events = new CopyOnWriteArrayList<>();
  volatile boolean failing;

  @Override
  public long append(AuditEvent event) {
    if (failing) {
      throw new IllegalStateException("audit store unavailable");
    }
    events.add(event);
    return events.size();
  }

  List<AuditEvent> ofType(String type) {
    return events.stream().filter(e -> e.type().equals(type)).toList();
  }
}
