package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.sql;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrecedenceTest {
  @Test
  void denyWinsOverEarlierAllowAndReview() {
    PolicySet p =
        policy(
            """
            rules:
              - id: allow-all
                effect: allow
              - id: review-select
                effect: review
                review: { groups: [dba] }
                sql: { statements: [select] }
              - id: deny-secrets
                effect: deny
                sql: { tables: ["secret.*"] }
                reason: Secrets are off limits.
            """);

    Decision d = decide(p, human("alice"), target("db"), sql("select", "secret.keys"));

    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo("deny-secrets");
    assertThat(d.reason()).isEqualTo("Secrets are off limits.");
    assertThat(d.explanation())
        .anyMatch(l -> l.startsWith("rule allow-all (allow, test.yaml:2): matches"))
        .last()
        .asString()
        .startsWith("decision: deny by deny-secrets");
  }

  @Test
  void reviewWinsOverAllow() {
    PolicySet p =
        policy(
            """
            rules:
              - id: allow-all
                effect: allow
              - id: review-select
                effect: review
                review: { groups: [dba], approvals: 2, all_groups: false, expires_after: 15m }
                sql: { statements: [select] }
            """);

    Decision d = decide(p, human("alice"), target("db"), sql("select", "public.t"));

    assertThat(d.effect()).isEqualTo(Effect.REVIEW);
    assertThat(d.rule()).isEqualTo("review-select");
    assertThat(d.review().reviewerGroups()).containsExactly("dba");
    assertThat(d.review().approvals()).isEqualTo(2);
    assertThat(d.review().expiresAfter()).hasMinutes(15);
    assertThat(d.reason()).contains("dba");
  }

  @Test
  void firstAllowInFileOrderDecidesAndBringsItsObligations() {
    PolicySet p =
        policy(
            """
            rules:
              - id: first
                effect: allow
                sql: { statements: [select] }
                obligations: { masking: pii, max_rows: 100 }
              - id: second
                effect: allow
                obligations: { masking: none }
            """);

    Decision d = decide(p, human("alice"), target("db"), sql("select"));

    assertThat(d.rule()).isEqualTo("first");
    assertThat(d.obligations().maskingProfile()).isEqualTo("pii");
    assertThat(d.obligations().maxRows()).isEqualTo(100);
  }

  @Test
  void nothingMatchingIsDefaultDenyNamingPrincipalConnectionAndAction() {
    PolicySet p =
        policy(
            """
            rules:
              - id: bob-only
                subjects: { users: [bob] }
                effect: allow
              - id: alice-selects
                subjects: { users: [alice] }
                effect: allow
                sql: { statements: [select] }
            """);

    Decision d = decide(p, human("alice"), target("payments-db"), sql("delete"));

    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(Decision.DEFAULT_DENY);
    assertThat(d.reason()).isEqualTo("no rule allows alice to run sql delete on payments-db");
    assertThat(d.explanation())
        .containsExactly(
            "rule alice-selects (allow, test.yaml:5): no match: statement delete is not in"
                + " [select]",
            "decision: deny by default-deny: no rule allows alice to run sql delete on"
                + " payments-db");
  }

  @Test
  void subjectsMatchUserOrGroupAndKindRestricts() {
    PolicySet p =
        policy(
            """
            rules:
              - id: eng-humans
                subjects: { users: [carol], groups: [engineering], kinds: [human] }
                effect: allow
            """);

    assertThat(decide(p, human("carol"), target("db"), sql("select")).allowed()).isTrue();
    assertThat(decide(p, human("dan", "engineering"), target("db"), sql("select")).allowed())
        .isTrue();
    assertThat(decide(p, human("erin", "sales"), target("db"), sql("select")).allowed()).isFalse();
    assertThat(
            decide(
                    p,
                    Fixtures.principal(
                        "bot", dev.gatehouse.identity.PrincipalKind.SERVICE, "engineering"),
                    target("db"),
                    sql("select"))
                .allowed())
        .isFalse();
  }

  @Test
  void connectionsMatchNameGlobsTypesAndLabels() {
    PolicySet p =
        policy(
            """
            rules:
              - id: prod-payments
                connections: { names: ["payments-*"], types: [postgres], labels: { env: prod } }
                effect: allow
            """);

    assertThat(
            decide(
                    p,
                    human("a"),
                    Fixtures.target("payments-eu", java.util.Map.of("env", "prod")),
                    sql("select"))
                .allowed())
        .isTrue();
    assertThat(
            decide(
                    p,
                    human("a"),
                    Fixtures.target("payments-eu", java.util.Map.of("env", "dev")),
                    sql("select"))
                .allowed())
        .isFalse();
    assertThat(
            decide(
                    p,
                    human("a"),
                    Fixtures.target("billing", java.util.Map.of("env", "prod")),
                    sql("select"))
                .allowed())
        .isFalse();
  }

  @Test
  void ruleWithoutPerKindMatchersAppliesToEveryKindButUnknownSql() {
    PolicySet p =
        policy(
            """
            rules:
              - id: everything
                effect: allow
            """);

    assertThat(decide(p, human("a"), target("db"), Fixtures.command("ls -l")).allowed()).isTrue();
    assertThat(decide(p, human("a"), target("db"), Fixtures.attrs(ActionKind.SHELL)).allowed())
        .isTrue();
    Decision unknown = decide(p, human("a"), target("db"), sql("unknown"));
    assertThat(unknown.effect()).isEqualTo(Effect.DENY);
    assertThat(unknown.explanation().get(0)).contains("unknown or unparsed");
  }

  @Test
  void ruleWithOnlyOtherKindsMatchersNeverMatches() {
    PolicySet p =
        policy(
            """
            rules:
              - id: shells-only
                effect: allow
                shell: {}
            """);

    assertThat(decide(p, human("a"), target("db"), sql("select")).effect()).isEqualTo(Effect.DENY);
    assertThat(decide(p, human("a"), target("db"), Fixtures.attrs(ActionKind.SHELL)).allowed())
        .isTrue();
  }

  @Test
  void incompleteRequestIsDenied() {
    PolicySet p = policy("rules: [{ id: all, effect: allow }]");

    Decision d = p.decide(new PolicyRequest(null, target("db"), sql("select"), null));

    assertThat(d.effect()).isEqualTo(Effect.DENY);
  }
}
