package dev.gatehouse.policy;

/**
 * The outcome of a decision. Precedence when several rules match: DENY, then REVIEW, then ALLOW.
 */
public enum Effect {
  ALLOW,
  DENY,
  REVIEW
}
