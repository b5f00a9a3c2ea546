package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The {@code upstream_role} obligation: which of a connection's logins a session uses. */
class UpstreamRoleObligationTest {
  static final String POLICY =
      """
      rules:
        - id: eng-read
          subjects: { groups: [eng] }
          effect: allow
          sql: { statements: [read] }
          obligations: { masking: pii, upstream_role: writer }
        - id: eng-write
          subjects: { groups: [eng] }
          effect: review
          review: { groups: [dba] }
          sql: { statements: [write] }
        - id: ci-read
          subjects: { groups: [ci] }
          effect: allow
          sql: { statements: [read] }
          obligations: { read_only: true, upstream_role: reader }
        - id: oncall
          subjects: { groups: [oncall] }
          effect: allow
          when: principal.subject != ""
          obligations: { upstream_role: writer }
        - id: dba
          subjects: { groups: [dba] }
          effect: allow
      """;

  @Test
  void aRuleWithoutARoleHasNoSayInIt() {
    Decision d = decide(policy(POLICY), human("alice", "eng"), target("db"), Action.connect());
    assertThat(d.effect()).isEqualTo(Effect.ALLOW);
    assertThat(d.obligations().upstreamRole()).isEqualTo("writer");
    assertThat(d.obligations().upstreamRoleConflict()).isFalse();
  }

  @Test
  void noRoleMeansTheConnectionsOwnLogin() {
    Decision d = decide(policy(POLICY), human("dana", "dba"), target("db"), Action.connect());
    assertThat(d.obligations().upstreamRole()).isNull();
  }

  @Test
  void rulesNamingDifferentRolesRefuseTheConnection() {
    Decision d = decide(policy(POLICY), human("eve", "eng", "ci"), target("db"), Action.connect());
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(PolicySet.UPSTREAM_ROLE_CONFLICT);
    assertThat(d.reason())
        .contains("eng-read (writer)")
        .contains("ci-read (reader)")
        .contains("different upstream roles");
  }

  @Test
  void aConditionalRuleIsNotSkippedWhenItsRoleWouldChangeTheMerge() {
    // ci-read grants reader; oncall (with a condition) names writer. Skipping oncall's condition
    // because the connection is already allowed would hide the conflict.
    Decision d =
        decide(policy(POLICY), human("olga", "ci", "oncall"), target("db"), Action.connect());
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(PolicySet.UPSTREAM_ROLE_CONFLICT);
  }

  @Test
  void aStatementDecisionCarriesTheRuleRoleButOnlyConnectCounts() {
    Decision d =
        decide(
            policy(POLICY),
            human("alice", "eng"),
            target("db"),
            Fixtures.sql("select", "payments"));
    assertThat(d.effect()).isEqualTo(Effect.ALLOW);
    assertThat(d.obligations().upstreamRole()).isEqualTo("writer");
  }

  @Test
  void aRoleNameWithACommaIsRefusedAtLoad() {
    assertThatThrownBy(
            () ->
                policy(
                    """
                    rules:
                      - id: r
                        subjects: { groups: [eng] }
                        effect: allow
                        obligations: { upstream_role: "a,b" }
                    """))
        .hasMessageContaining("upstream_role")
        .hasMessageContaining("expected the name of one of the connection's roles");
  }

  @Test
  void theCheckCommandAndTheApiShowTheRole() {
    Decision d = decide(policy(POLICY), human("bot", "ci"), target("db"), Action.connect());
    assertThat(PolicyCheck.toMap(d).get("obligations").toString()).contains("upstream_role=reader");
  }
}
