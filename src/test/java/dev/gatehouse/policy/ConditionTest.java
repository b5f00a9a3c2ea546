package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.sql;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConditionTest {
  static final String OFFICE_HOURS =
      """
      rules:
        - id: office-hours
          effect: allow
          when: >-
            request.time.getHours("Europe/Berlin") >= 8 &&
            request.time.getHours("Europe/Berlin") < 18 &&
            request.time.getDayOfWeek("Europe/Berlin") >= 1 &&
            request.time.getDayOfWeek("Europe/Berlin") <= 5
      """;

  private static Decision at(PolicySet p, String instant) {
    return p.decide(
        new PolicyRequest(human("alice"), target("db"), sql("select"), Instant.parse(instant)));
  }

  @Test
  void timeWindowIsEvaluatedInTheGivenZone() {
    PolicySet p = policy(OFFICE_HOURS);

    // 07:30 UTC on a Monday in January is 08:30 in Berlin
    assertThat(at(p, "2026-01-05T07:30:00Z").effect()).isEqualTo(Effect.ALLOW);
    // 06:30 UTC is 07:30 in Berlin: too early
    assertThat(at(p, "2026-01-05T06:30:00Z").effect()).isEqualTo(Effect.DENY);
    // 17:30 UTC is 18:30 in Berlin: too late
    assertThat(at(p, "2026-01-05T17:30:00Z").effect()).isEqualTo(Effect.DENY);
    // Saturday
    assertThat(at(p, "2026-01-10T10:00:00Z").effect()).isEqualTo(Effect.DENY);
    assertThat(at(p, "2026-01-05T06:30:00Z").explanation().get(0)).contains("when is false");
  }

  @Test
  void zoneAwareAccessorsFollowCelConventions() {
    PolicySet p =
        policy(
            """
            rules:
              - id: saturday-evening-in-tokyo
                effect: allow
                when: >-
                  request.time.getDayOfWeek("Asia/Tokyo") == 6 &&
                  request.time.getHours("Asia/Tokyo") == 19 &&
                  request.time.getMinutes("+09:00") == 45 &&
                  request.time.getHours() == 10
            """);

    // 10:45 UTC on Saturday 2026-01-10 is 19:45 in Tokyo; CEL counts days from Sunday = 0
    assertThat(at(p, "2026-01-10T10:45:00Z").effect()).isEqualTo(Effect.ALLOW);
    assertThat(at(p, "2026-01-10T10:46:00Z").effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void principalConnectionAndActionAttributesAreAvailable() {
    PolicySet p =
        policy(
            """
            rules:
              - id: ci-main
                effect: allow
                when: >-
                  principal.kind == "service" && "ci" in principal.groups &&
                  principal.attributes.repo == "acme/payments" &&
                  connection.labels.env == "staging" &&
                  action.kind == "sql" && action.attributes.statement == "select"
            """);
    Principal ci =
        new Principal(
            "ci-bot",
            Set.of("ci"),
            PrincipalKind.SERVICE,
            "t",
            null,
            Set.of(),
            Map.of("repo", "acme/payments"));
    Principal other =
        new Principal(
            "ci-bot",
            Set.of("ci"),
            PrincipalKind.SERVICE,
            "t",
            null,
            Set.of(),
            Map.of("repo", "acme/web"));
    Target staging = Fixtures.target("db", Map.of("env", "staging"));

    assertThat(p.decide(new PolicyRequest(ci, staging, sql("select"), Fixtures.NOON_UTC)).effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(
            p.decide(new PolicyRequest(other, staging, sql("select"), Fixtures.NOON_UTC)).effect())
        .isEqualTo(Effect.DENY);
    assertThat(p.decide(new PolicyRequest(ci, staging, sql("delete"), Fixtures.NOON_UTC)).effect())
        .isEqualTo(Effect.DENY);
  }

  @Test
  void runtimeErrorMeansNoMatchForAllowAndReview() {
    PolicySet p =
        policy(
            """
            rules:
              - id: needs-ticket
                effect: allow
                when: principal.attributes.ticket.startsWith("OPS-")
            """);

    Decision d = Fixtures.decide(p, human("alice"), target("db"), sql("select"));

    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(Decision.DEFAULT_DENY);
    assertThat(d.explanation().get(0)).contains("when failed").contains("does not apply");
  }

  @Test
  void runtimeErrorMeansMatchForDeny() {
    PolicySet p =
        policy(
            """
            rules:
              - id: all
                effect: allow
              - id: deny-outside-zone
                effect: deny
                when: request.time.getHours("Mars/Olympus_Mons") < 0
            """);

    Decision d = Fixtures.decide(p, human("alice"), target("db"), sql("select"));

    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo("deny-outside-zone");
    assertThat(d.explanation()).anyMatch(l -> l.contains("fail closed"));
  }

  @Test
  void sharedFailingConditionFailsClosedPerRuleEffect() {
    PolicySet p =
        policy(
            """
            rules:
              - id: allow-with-ticket
                effect: allow
                when: principal.attributes.ticket != ""
              - id: deny-with-ticket
                effect: deny
                when: principal.attributes.ticket != ""
            """);

    Decision d = Fixtures.decide(p, human("alice"), target("db"), sql("select"));

    assertThat(d.rule()).isEqualTo("deny-with-ticket");
    assertThat(d.explanation().get(0)).contains("allow-with-ticket").contains("does not apply");
    assertThat(d.explanation().get(1)).contains("deny-with-ticket").contains("fail closed");
  }

  @Test
  void conditionIsEvaluatedOnlyAfterTheRuleOtherwiseMatches() {
    PolicySet p =
        policy(
            """
            rules:
              - id: selects-with-attr
                effect: allow
                sql: { statements: [select] }
                when: principal.attributes.missing == "x"
            """);

    Decision d = Fixtures.decide(p, human("alice"), target("db"), sql("delete"));

    assertThat(d.explanation().get(0)).contains("statement delete").doesNotContain("when");
  }
}
