package dev.gatehouse.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyCheckTest {
  static final PolicySet POLICY =
      Fixtures.policy(
          """
          rules:
            - id: writes-need-review
              subjects: { groups: [eng] }
              effect: review
              review: { groups: [dba], approvals: 1, require_justification: true, expires_after: 1h }
              sql: { statements: [write] }
              reason: Writes need a DBA.
            - id: reads
              subjects: { groups: [eng] }
              effect: allow
              sql: { statements: [read] }
              obligations: { masking: pii, max_rows: 100 }
          """);

  static Map<String, Object> body(Map<String, Object> action) {
    return Map.of(
        "principal",
        Map.of("subject", "alice", "groups", List.of("eng")),
        "connection",
        Map.of("name", "payments-db", "type", "postgres"),
        "action",
        action,
        "at",
        "2026-01-05T09:00:00Z");
  }

  @Test
  void rendersReviewDecisionWithRequirementAndExplanation() {
    Decision d =
        PolicyCheck.check(POLICY, body(Map.of("kind", "sql", "statement", "update")), null, null);

    String text = PolicyCheck.render(d);

    assertThat(text)
        .contains("decision:    review")
        .contains("rule:        writes-need-review")
        .contains("reason:      Writes need a DBA.")
        .contains("review:      1 approval(s) from dba, justification required, expires after 1h")
        .contains("  1. rule writes-need-review (review, test.yaml:2): matches");
  }

  @Test
  @SuppressWarnings("unchecked")
  void mapFormCarriesObligationsForTheApi() {
    Decision d =
        PolicyCheck.check(POLICY, body(Map.of("kind", "sql", "statement", "select")), null, null);

    Map<String, Object> json = PolicyCheck.toMap(d);

    assertThat(json).containsEntry("effect", "allow").containsEntry("rule", "reads");
    assertThat((Map<String, Object>) json.get("obligations"))
        .containsEntry("masking", "pii")
        .containsEntry("max_rows", 100L);
    assertThat((List<String>) json.get("explanation")).isNotEmpty();
  }

  @Test
  void malformedBodyNamesTheFieldAndTheExpectation() {
    assertThatThrownBy(
            () ->
                PolicyCheck.check(
                    POLICY, body(Map.of("kind", "sql", "statment", "select")), null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("action.statment: unknown for kind sql");
    assertThatThrownBy(
            () -> PolicyCheck.check(POLICY, body(Map.of("kind", "teleport")), null, null))
        .hasMessageContaining("action kind: teleport (expected one of");
  }
}
