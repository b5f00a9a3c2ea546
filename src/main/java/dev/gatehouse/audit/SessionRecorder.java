package dev.gatehouse.audit;

import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Decision;
import java.time.Duration;

/**
 * Records sessions and the actions in them, for {@code gatehouse sessions list|show|replay}. Every
 * method is durable on return and throws on failure, so callers fail closed.
 */
public interface SessionRecorder {

  /** Records the start of a session and returns its id. */
  void sessionStarted(
      String sessionId,
      String subject,
      String connection,
      String protocol,
      String clientAddress,
      String details);

  /**
   * Records an action before it runs (or its denial). Returns the action's id. The raw text must
   * already be masked per the session's obligations.
   */
  long actionDecided(
      String sessionId, Action action, String maskedRaw, Decision decision, String reviewId);

  /**
   * Records what came of an allowed action.
   *
   * @param status {@code ok} or {@code error}
   * @param summary command tag, exit status or error message (masked)
   */
  void actionCompleted(long actionId, String status, String summary, long rows, Duration duration);

  /** Appends output or input to the session's stream recording (masked), for terminal replay. */
  void streamChunk(String sessionId, char direction, byte[] maskedData);

  void sessionEnded(String sessionId, String reason);
}
