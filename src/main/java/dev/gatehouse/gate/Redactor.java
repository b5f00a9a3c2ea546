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
   * or a review request), where the masking engine also masks SQL's password syntax.
   */
  default String redactStored(String profile, String text) {
    return redact(profile, text);
  }

  Redactor NONE = (profile, text) -> text;
}
