package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.attrs;
import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code forward:}: {@code dynamic} stands for {@code local}, which it cannot be told from. */
class ForwardMatcherTest {
  private static Effect effect(PolicySet p, String type) {
    return decide(p, human("a"), target("host"), attrs(ActionKind.FORWARD, "forward", type))
        .effect();
  }

  @Test
  void aDynamicAllowRuleAllowsLocalActionsButNothingElse() {
    PolicySet p = policy("rules: [{ id: d, effect: allow, forward: { types: [dynamic] } }]");

    assertThat(effect(p, "local")).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "dynamic")).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "remote")).isEqualTo(Effect.DENY);
    assertThat(effect(p, "agent")).isEqualTo(Effect.DENY);
  }

  @Test
  void aDynamicDenyRuleRefusesLocalToo() {
    PolicySet p =
        policy(
            """
            rules:
              - { id: all, effect: allow, forward: {} }
              - { id: no-socks, effect: deny, forward: { types: [dynamic] } }
            """);

    assertThat(effect(p, "local")).isEqualTo(Effect.DENY);
    assertThat(effect(p, "remote")).isEqualTo(Effect.ALLOW);
  }

  @Test
  void aLocalRuleDoesNotAllowTheOtherTypes() {
    PolicySet p = policy("rules: [{ id: l, effect: allow, forward: { types: [LOCAL] } }]");

    assertThat(effect(p, "local")).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "dynamic")).isEqualTo(Effect.DENY);
    assertThat(effect(p, "remote")).isEqualTo(Effect.DENY);
  }
}
