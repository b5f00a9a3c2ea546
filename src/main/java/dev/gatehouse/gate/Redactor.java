package dev.gatehouse.gate;

/**
 * Masks text before it is recorded or shown (implemented by the masking package). The identity
 * redactor is used only until masking is configured.
 */
@FunctionalInterface
public interface Redactor {
  /** Returns {@code text} with sensitive values masked per the named profile. */
  String redact(String profile, String text);

  /**
   * {@link #redact} for text that is stored or shown to other people (a statement in the recording
   * or a review request), where the masking engine also masks SQL's password syntax. Credentials
   * are masked whatever the profile: this default adds the {@code secrets} profile to {@code none},
   * so a redactor that does not override it does not store them in clear.
   */
  default String redactStored(String profile, String text) {
    String masked = redact(profile, text);
    return "none".equals(profile) ? redact("secrets", masked) : masked;
  }

  Redactor NONE = (profile, text) -> text;

  /** A redactor from the masking engine's two methods (the gate does not depend on masking). */
  static Redactor of(
      java.util.function.BinaryOperator<String> redact,
      java.util.function.BinaryOperator<String> redactStored) {
    return new Redactor() {
      @Override
      public String redact(String profile, String text) {
        return redact.apply(profile, text);
      }

      @Override
      public String redactStored(String profile, String text) {
        return redactStored.apply(profile, text);
      }
    };
  }
}
