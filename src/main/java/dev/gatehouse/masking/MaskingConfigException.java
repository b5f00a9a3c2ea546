package dev.gatehouse.masking;

/**
 * A masking rule file is invalid. The message names the file and line and says what was expected,
 * for example {@code rules.yaml:12: unknown style 'partal' (expected one of redact, partial, …)}.
 */
public final class MaskingConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public MaskingConfigException(String message) {
    super(message);
  }

  public MaskingConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
