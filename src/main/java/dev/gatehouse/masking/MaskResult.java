package dev.gatehouse.masking;

/**
 * The outcome of masking one value: the value to send, or SQL NULL ({@link #isNull()}) when the
 * column's style is {@code null}. A protocol sends NULL in its own way for a null result.
 */
public final class MaskResult {
  private static final MaskResult NULL_UNCHANGED = new MaskResult(null, false);
  private static final MaskResult NULL_MASKED = new MaskResult(null, true);

  private final String value;
  private final boolean masked;

  private MaskResult(String value, boolean masked) {
    this.value = value;
    this.masked = masked;
  }

  static MaskResult unchanged(String value) {
    return value == null ? NULL_UNCHANGED : new MaskResult(value, false);
  }

  static MaskResult masked(String value) {
    return value == null ? NULL_MASKED : new MaskResult(value, true);
  }

  /** The value to send; null when {@link #isNull()}. */
  public String value() {
    return value;
  }

  /** True when the value must be sent as SQL NULL. */
  public boolean isNull() {
    return value == null;
  }

  /** True when the value differs from the input (it was masked, replaced or nulled). */
  public boolean masked() {
    return masked;
  }

  @Override
  public String toString() {
    return masked ? "MaskResult[masked]" : "MaskResult[unchanged]";
  }
}
