package dev.gatehouse.gate;

/**
 * Masks text before it is recorded or shown (implemented by the masking package). The identity
 * redactor is used only until masking is configured.
 */
@FunctionalInterface
public interface Redactor {
  /** Returns {@code text} with sensitive values masked per the named profile. */
  String redact(String profile, String text);

  Redactor NONE = (profile, text) -> text;
}
