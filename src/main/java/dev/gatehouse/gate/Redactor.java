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

  /**
   * True when the profile looks for sensitive content in any text (not only in named columns): this
   * default knows only {@code none}; the masking engine's answer when built with {@link #of(
   * java.util.function.BinaryOperator, java.util.function.BinaryOperator,
   * java.util.function.Predicate)}.
   */
  default boolean detectsContent(String profile) {
    return !"none".equals(profile);
  }

  /**
   * Text someone typed about another person's request (a reviewer's reason for a vote), as it is
   * stored and shown ({@link #redactStored}): with the request's profile and, when that profile
   * detects no content ({@code none}, or column rules only), with {@code fallback} (the masking
   * engine's content profile, {@code pii}) as well. A profile that lets a principal read data
   * unmasked covers what they read, not what reviewers write about it, which goes to the store, the
   * audit log, the notifications and everyone on the review.
   */
  default String redactTyped(String profile, String fallback, String text) {
    String masked = redactStored(profile, text);
    return detectsContent(profile) ? masked : redactStored(fallback, masked);
  }

  Redactor NONE = (profile, text) -> text;

  /** A redactor from the masking engine's two methods (the gate does not depend on masking). */
  static Redactor of(
      java.util.function.BinaryOperator<String> redact,
      java.util.function.BinaryOperator<String> redactStored) {
    return of(redact, redactStored, profile -> !"none".equals(profile));
  }

  /**
   * {@link #of(java.util.function.BinaryOperator, java.util.function.BinaryOperator)} and the
   * engine's {@link #detectsContent}.
   */
  static Redactor of(
      java.util.function.BinaryOperator<String> redact,
      java.util.function.BinaryOperator<String> redactStored,
      java.util.function.Predicate<String> detectsContent) {
    return new Redactor() {
      @Override
      public String redact(String profile, String text) {
        return redact.apply(profile, text);
      }

      @Override
      public String redactStored(String profile, String text) {
        return redactStored.apply(profile, text);
      }

      @Override
      public boolean detectsContent(String profile) {
        return detectsContent.test(profile);
      }
    };
  }
}
