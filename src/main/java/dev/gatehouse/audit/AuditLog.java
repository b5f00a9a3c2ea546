package dev.gatehouse.audit;

/**
 * Append-only, hash-chained audit log. {@link #append} returns only once the record is durable; if
 * it throws, the action that caused the event must not happen (fail closed).
 */
public interface AuditLog {
  /** Appends and returns the sequence number of the new record. */
  long append(AuditEvent event);
}
