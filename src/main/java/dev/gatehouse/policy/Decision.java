package dev.gatehouse.policy;

import java.util.List;

/**
 * The policy's answer for one request.
 *
 * @param effect allow, deny or review
 * @param rule id of the rule that decided, or {@code default-deny}
 * @param reason one line for the caller: why it was denied or held (never contains secrets)
 * @param review set when {@code effect == REVIEW}
 * @param obligations what must be enforced while executing
 * @param explanation human-readable trace: which rules matched and why, in evaluation order
 */
public record Decision(
    Effect effect,
    String rule,
    String reason,
    ReviewRequirement review,
    Obligations obligations,
    List<String> explanation) {

  public static final String DEFAULT_DENY = "default-deny";

  public Decision {
    explanation = List.copyOf(explanation);
    obligations = obligations == null ? Obligations.NONE : obligations;
  }

  public static Decision deny(String rule, String reason, List<String> explanation) {
    return new Decision(Effect.DENY, rule, reason, null, Obligations.NONE, explanation);
  }

  public boolean allowed() {
    return effect == Effect.ALLOW;
  }
}
