package dev.gatehouse.approval;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A review as reviewers see it: the full statement or command, who asked, under which rule, the
 * votes so far and what became of it.
 *
 * @param id review id ({@code rv_…})
 * @param kind {@code action} (one-shot: one statement or command, runs once) or {@code grant}
 * @param state pending, approved, denied or expired
 * @param subject the requester
 * @param connection connection name
 * @param actionKind sql, command, shell, … or {@code grant}
 * @param statement the full statement or command as the caller sent it
 * @param rule the policy rule that asked for review
 * @param sessionId the session that filed it (null for grant requests)
 * @param holdReason the rule's reason for holding it
 * @param reviewerGroups groups whose members may vote
 * @param approvalsRequired distinct people who must approve
 * @param allGroups every reviewer group must contribute a (distinct) approver
 * @param justification the requester's justification, or null
 * @param votes votes in the order given
 * @param createdAt when it was filed
 * @param expiresAt pending: when it expires; approved: until when the approval may be used
 * @param decidedAt when it was approved, denied or expired, or null
 * @param decidedBy who decided it (the last approver, the denier, or {@code system}), or null
 * @param decisionReason the deciding reviewer's reason, or null
 * @param consumedAt when the approved one-shot action ran, or null
 * @param consumedSession the session it ran in, or null
 * @param notificationStatus {@code none}, {@code sending}, {@code sent} or {@code failed: …}
 * @param grantRole the requested role (grant requests), or null
 * @param grantDuration how long the grant lasts once approved (grant requests), or null
 */
public record ReviewView(
    String id,
    String kind,
    String state,
    String subject,
    String connection,
    String actionKind,
    String statement,
    String rule,
    String sessionId,
    String holdReason,
    List<String> reviewerGroups,
    int approvalsRequired,
    boolean allGroups,
    String justification,
    List<Vote> votes,
    Instant createdAt,
    Instant expiresAt,
    Instant decidedAt,
    String decidedBy,
    String decisionReason,
    Instant consumedAt,
    String consumedSession,
    String notificationStatus,
    String grantRole,
    Duration grantDuration) {

  public ReviewView {
    reviewerGroups = List.copyOf(reviewerGroups);
    votes = List.copyOf(votes);
  }

  /** One reviewer's vote. */
  public record Vote(String reviewer, String verdict, String reason, Instant at) {}

  /** Number of distinct people who approved so far. */
  public long approvals() {
    return votes.stream().filter(v -> v.verdict().equals("approve")).count();
  }
}
