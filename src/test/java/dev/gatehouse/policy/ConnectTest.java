package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConnectTest {
  static final String POLICY =
      """
      rules:
        - id: eng-read
          subjects: { groups: [eng] }
          effect: allow
          sql: { statements: [read] }
          obligations: { masking: pii, read_only: true, max_session: 8h, recording: metadata }
        - id: eng-write
          subjects: { groups: [eng] }
          effect: review
          review: { groups: [dba] }
          sql: { statements: [write] }
          obligations: { masking: strict, max_session: 1h, max_rows: 500 }
        - id: ci-read
          subjects: { groups: [ci] }
          effect: allow
          sql: { statements: [read] }
          obligations: { read_only: true, masking: none, recording: metadata }
        - id: dba
          subjects: { groups: [dba] }
          effect: allow
          obligations: { masking: none }
        - id: no-writes-for-ci
          subjects: { groups: [ci] }
          effect: deny
          sql: { statements: [write] }
        - id: banned
          subjects: { users: [mallory] }
          effect: deny
      """;

  @Test
  void connectIsAllowedWhenAnyAllowOrReviewRuleAppliesAndMergesObligations() {
    Decision d = decide(policy(POLICY), human("alice", "eng"), target("db"), Action.connect());

    assertThat(d.effect()).isEqualTo(Effect.ALLOW);
    assertThat(d.rule()).isEqualTo("eng-read");
    assertThat(d.obligations().readOnly()).isFalse(); // eng-write is not read-only
    assertThat(d.obligations().maskingProfile()).isEqualTo("pii"); // first non-none profile
    assertThat(d.obligations().maxSessionDuration()).isEqualTo(Duration.ofHours(1)); // minimum
    assertThat(d.obligations().maxRows()).isEqualTo(500);
    assertThat(d.obligations().recording()).isEqualTo("full"); // strongest
  }

  @Test
  void connectIsReadOnlyOnlyWhenEveryGrantingRuleIs() {
    Decision d = decide(policy(POLICY), human("bot", "ci"), target("db"), Action.connect());

    assertThat(d.effect()).isEqualTo(Effect.ALLOW);
    assertThat(d.obligations().readOnly()).isTrue();
    assertThat(d.obligations().maskingProfile()).isEqualTo("none");
    assertThat(d.obligations().recording()).isEqualTo("metadata");
    // the deny rule with an sql matcher only denies writes, not the connection
    assertThat(d.explanation())
        .anyMatch(l -> l.contains("no-writes-for-ci") && l.contains("not the connection"));
  }

  @Test
  void maskingDefaultsWhenOneGrantingRuleDoesNotSayNone() {
    Decision d = decide(policy(POLICY), human("dora", "dba", "ci"), target("db"), Action.connect());

    assertThat(d.obligations().maskingProfile()).isEqualTo("none");
    Decision mixed =
        decide(
            policy(
                """
                rules:
                  - { id: a, effect: allow, obligations: { masking: none } }
                  - { id: b, effect: allow }
                """),
            human("x"),
            target("db"),
            Action.connect());
    assertThat(mixed.obligations().maskingProfile()).isEqualTo("default");
  }

  @Test
  void conditionsThatCannotChangeTheOutcomeAreNotEvaluatedAtConnect() {
    PolicySet p =
        policy(
            """
            rules:
              - id: base
                effect: allow
                obligations: { masking: pii }
              - id: same-obligations
                effect: allow
                when: principal.attributes.missing == "x"
              - id: shorter-session
                effect: allow
                when: principal.kind == "human"
                obligations: { max_session: 1h }
            """);

    Decision d = decide(p, human("alice"), target("db"), Action.connect());

    assertThat(d.explanation().get(1)).contains("same-obligations").contains("not evaluated");
    assertThat(d.explanation().get(2)).contains("shorter-session").contains("when is true");
    assertThat(d.obligations().maxSessionDuration()).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void denyRuleWithoutMatchersDeniesTheConnection() {
    Decision d = decide(policy(POLICY), human("mallory", "eng"), target("db"), Action.connect());

    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo("banned");
  }

  @Test
  void connectWithNoMatchingRuleIsDefaultDeny() {
    Decision d = decide(policy(POLICY), human("eve", "sales"), target("db"), Action.connect());

    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(Decision.DEFAULT_DENY);
    assertThat(d.reason()).isEqualTo("no rule allows eve to connect to db");
  }
}
