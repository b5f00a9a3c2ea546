package dev.gatehouse.audit;

import java.util.Map;

/**
 * A security-relevant event to append to the hash-chained audit log.
 *
 * @param type dotted type, for example {@code token.issued}, {@code decision}, {@code
 *     session.start}, {@code review.vote}, {@code config.change}, {@code keys.rotated}
 * @param actor subject of whoever caused it ({@code system} for the gateway itself)
 * @param sessionId session the event belongs to, or null
 * @param connection connection name, or null
 * @param data event details; values must already be masked and never contain secrets
 */
public record AuditEvent(
    String type, String actor, String sessionId, String connection, Map<String, Object> data) {
  public AuditEvent {
    data = Map.copyOf(data);
  }
}
