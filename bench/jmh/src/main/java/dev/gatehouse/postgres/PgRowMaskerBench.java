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
}
