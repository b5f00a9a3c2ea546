package dev.gatehouse.postgres;

import dev.gatehouse.masking.MaskingEngine;

/**
 * Benchmark access to the package-private {@link PgRowMasker}: the gateway's real per-DataRow
 * masking path (parse the row, mask or pass each value's bytes, rebuild only when a value changed).
 */
public final class PgRowMaskerBench {
  private final PgRowMasker masker;

  /** A masker for {@code profile}; tables are not resolved (RowDescriptions carry table OID 0). */
  public PgRowMaskerBench(MaskingEngine engine, String profile) {
    masker = new PgRowMasker(engine, profile, "shop", null);
  }

  public void onRowDescription(byte[] body) {
    masker.onRowDescription(body);
  }

  public byte[] filterDataRow(byte[] body) {
    return masker.filterDataRow(body);
  }

  /** Starts a text-format COPY TO STDOUT of {@code columns} columns (a CopyOutResponse body). */
  public void onCopyOut(int columns) {
    masker.onCopyOut(copyOutResponse(columns));
  }

  /** A CopyOutResponse body: overall text format, {@code columns} text columns. */
  public static byte[] copyOutResponse(int columns) {
    byte[] b = new byte[3 + 2 * columns];
    b[1] = (byte) (columns >>> 8);
    b[2] = (byte) columns;
    return b;
  }

  public byte[] filterCopyData(byte[] body) {
    return masker.filterCopyData(body);
  }
}
