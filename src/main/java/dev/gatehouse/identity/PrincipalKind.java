package dev.gatehouse.identity;

import java.util.Locale;

/** What kind of caller a principal is. Token lifetimes and policy rules can differ per kind. */
public enum PrincipalKind {
  HUMAN,
  SERVICE,
  AGENT;

  /** Parses {@code human|service|agent}, case-insensitive. */
  public static PrincipalKind parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "kind: " + text + " (expected: human, service or agent)", e);
    }
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
