package dev.gatehouse.policy;

import java.time.Duration;
import java.util.List;

/**
 * What a {@code review} decision asks for.
 *
 * @param reviewerGroups groups whose members may approve
 * @param approvals number of distinct people who must approve
 * @param allGroups when true, every listed group must contribute at least one approval
 * @param requireJustification the requester must give a reason
 * @param expiresAfter how long the request stays pending
 */
public record ReviewRequirement(
    List<String> reviewerGroups,
    int approvals,
    boolean allGroups,
    boolean requireJustification,
    Duration expiresAfter) {
  public ReviewRequirement {
    reviewerGroups = List.copyOf(reviewerGroups);
  }
}
