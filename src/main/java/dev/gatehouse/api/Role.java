package dev.gatehouse.api;

import dev.gatehouse.identity.Principal;

/**
 * API roles. {@code admin} manages tokens, keys and policy; {@code auditor} reads audit and
 * sessions; {@code user} manages its own tokens and checks policy. The role travels in the
 * principal's {@code role} attribute, set by the identity package.
 */
enum Role {
  USER,
  AUDITOR,
  ADMIN;

  static Role of(Principal p) {
    String r = p.attributes().getOrDefault("role", "user");
    return switch (r) {
      case "admin" -> ADMIN;
      case "auditor" -> AUDITOR;
      default -> USER;
    };
  }

  /** Admins can do what auditors can; auditors cannot do what users do for others. */
  boolean atLeast(Role needed) {
    if (this == ADMIN) {
      return true;
    }
    return this == needed || needed == USER;
  }
}
