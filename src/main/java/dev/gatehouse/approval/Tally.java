package dev.gatehouse.approval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts approvals against a review's rules. People, not group memberships, are counted: one person
 * in two reviewer groups is one approval. With {@code allGroups}, every group needs its own
 * approver, and one person can stand for only one group (a two-person rule cannot be met by one
 * person who happens to be in both groups), so such a review needs at least as many distinct
 * approvers as it has groups.
 */
final class Tally {
  private Tally() {}

  /** True when the approvals given (voter → the voter's groups at vote time) suffice. */
  static boolean satisfied(
      List<String> reviewerGroups, int approvals, boolean allGroups, Map<String, List<String>> by) {
    if (by.size() < Math.max(1, approvals)) {
      return false;
    }
    if (!allGroups) {
      return true;
    }
    return maxDistinctRepresentatives(reviewerGroups, by) == reviewerGroups.size();
  }

  /** Size of the largest assignment of distinct approvers to distinct groups (Kuhn's matching). */
  private static int maxDistinctRepresentatives(List<String> groups, Map<String, List<String>> by) {
    List<String> people = new ArrayList<>(by.keySet());
    Map<String, String> personOfGroup = new HashMap<>();
    int matched = 0;
    for (String g : groups) {
      if (augment(g, groups, people, by, personOfGroup, new HashMap<>())) {
        matched++;
      }
    }
    return matched;
  }

  private static boolean augment(
      String group,
      List<String> groups,
      List<String> people,
      Map<String, List<String>> by,
      Map<String, String> personOfGroup,
      Map<String, Boolean> seen) {
    for (String p : people) {
      if (!by.get(p).contains(group) || seen.containsKey(p)) {
        continue;
      }
      seen.put(p, true);
      String heldBy = null;
      for (Map.Entry<String, String> e : personOfGroup.entrySet()) {
        if (e.getValue().equals(p)) {
          heldBy = e.getKey();
        }
      }
      if (heldBy == null || augment(heldBy, groups, people, by, personOfGroup, seen)) {
        personOfGroup.put(group, p);
        return true;
      }
    }
    return false;
  }

  /** What a review still needs, in words: {@code 1 approval from dba}. */
  static String describe(List<String> groups, int approvals, boolean allGroups) {
    int n = Math.max(1, approvals);
    if (allGroups && groups.size() > 1) {
      int people = Math.max(n, groups.size());
      return people
          + " approvals from distinct people, at least one from each of "
          + String.join(", ", groups);
    }
    return n
        + (n == 1 ? " approval" : " approvals from distinct people")
        + " from "
        + String.join(" or ", groups);
  }

  /** Approving voters in vote order, each with their groups. */
  static Map<String, List<String>> approvers(List<ReviewStore.VoteRow> votes) {
    Map<String, List<String>> by = new LinkedHashMap<>();
    for (ReviewStore.VoteRow v : votes) {
      if (v.verdict().equals("approve")) {
        by.put(v.voter(), v.voterGroups());
      }
    }
    return by;
  }
}
