package dev.gatehouse.masking;

/**
 * Masks the values of one result column. Obtained once per column from {@link
 * MaskingEngine#columnMasker}; {@link #mask} is then called for every row, on any thread.
 */
public interface ColumnMasker {
  /** The value to send for {@code value} (which may be null for SQL NULL). */
  MaskResult mask(String value);

  /**
   * True when a column rule masks every value of this column. A protocol that receives this column
   * in a binary format must either request text format or replace the value with a valid binary
   * value (or NULL) itself.
   */
  boolean masksAll();

  /** True when no value of this column is ever changed; callers may skip {@link #mask}. */
  boolean isIdentity();

  /**
   * False when {@link #mask} is certain to return the value unchanged for a value with these UTF-8
   * bytes, so a protocol that holds the value as bytes may pass them on without decoding; true when
   * it may change (then decode and call {@link #mask}). For content detection this is the
   * detectors' pre-filter run over the bytes: most values (numbers, timestamps, short words) arm no
   * detector and are never turned into Strings.
   */
  default boolean mayChange(byte[] utf8, int off, int len) {
    return !isIdentity();
  }

  /**
   * Masks a value held as UTF-8 bytes: null when the value is unchanged (send the bytes as they
   * are), otherwise what {@link #mask} returns for the decoded value. Content detection decides
   * from the bytes whether anything can be found and decodes only then, without pre-filtering the
   * decoded text a second time.
   */
  default MaskResult maskUtf8(byte[] utf8, int off, int len) {
    if (!mayChange(utf8, off, len)) {
      return null;
    }
    MaskResult r = mask(new String(utf8, off, len, java.nio.charset.StandardCharsets.UTF_8));
    return r.masked() ? r : null;
  }

  /**
   * {@link #maskUtf8} as UTF-8 bytes: null when the value is unchanged, otherwise the masked value
   * encoded as UTF-8. For maskers that never send SQL NULL, i.e. content detection ({@code
   * !masksAll()}); a column rule that sends NULL must be applied with {@link #maskUtf8}. Content
   * detection masks an email value on its bytes here, without a String in between.
   *
   * @throws IllegalStateException when the result is SQL NULL
   */
  default byte[] maskUtf8Bytes(byte[] utf8, int off, int len) {
    MaskResult r = maskUtf8(utf8, off, len);
    if (r == null) {
      return null;
    }
    if (r.isNull()) {
      throw new IllegalStateException("maskUtf8Bytes: the result is SQL NULL; use maskUtf8");
    }
    return r.value().getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }
}
