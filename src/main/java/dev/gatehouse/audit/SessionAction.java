package dev.gatehouse.audit;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * One decided action of a session, with its outcome when it ran.
 *
 * @param raw the statement or command text, masked
 * @param effect allow, deny or review
 * @param status ok or error once completed; null when denied or not completed
 * @param rows rows or bytes, null until completed
 * @param duration null until completed
 */
public record SessionAction(
    long id,
    Instant at,
    String kind,
    String raw,
    Map<String, Object> attributes,
    String effect,
    String rule,
    String reason,
    String reviewId,
    String status,
    String summary,
    Long rows,
    Duration duration,
    Instant completedAt) {
  public SessionAction {
    attributes = Map.copyOf(attributes);
  }
}
