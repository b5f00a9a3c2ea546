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
}
