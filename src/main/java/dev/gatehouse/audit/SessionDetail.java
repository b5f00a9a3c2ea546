package dev.gatehouse.audit;

import java.util.List;

/** A session with its actions in the order they were decided. */
public record SessionDetail(SessionSummary session, String details, List<SessionAction> actions) {
  public SessionDetail {
    actions = List.copyOf(actions);
  }
}
