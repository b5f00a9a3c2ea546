package dev.gatehouse.bench;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Content detection of an older revision of the masking package (copied by compare-baseline.sh
 * into {@code dev.gatehouse.bench.baseline}), on the same data as {@link MaskingBenchmark}, so that
 * before and after run in one JVM and one run. Not compiled in the normal benchmark build.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class MaskingBaselineBenchmark {
  @Param({"orders", "customers", "notes"})
  public String dataset;

  String[][] rows;
  byte[][] dataRows;
  byte[][] copyRows;
  dev.gatehouse.bench.baseline.PgRowMasker pgCopy;
  dev.gatehouse.bench.baseline.ColumnMasker[] maskers;
  dev.gatehouse.bench.baseline.ColumnMasker[] ruleMaskers;
  dev.gatehouse.bench.baseline.PgRowMasker pg;
  dev.gatehouse.bench.baseline.PgRowMasker pgRules;

  @Setup
  public void setup() throws IOException {
    MaskingBenchmark b = new MaskingBenchmark();
    b.dataset = dataset;
    b.setup();
    rows = b.rows;
    dataRows = b.dataRows;
    copyRows = b.copyRows;
    dev.gatehouse.bench.baseline.MaskingEngine engine =
        dev.gatehouse.bench.baseline.MaskingEngine.create(b.config);
    String[] columns = b.columns;
    maskers = new dev.gatehouse.bench.baseline.ColumnMasker[columns.length];
    ruleMaskers = new dev.gatehouse.bench.baseline.ColumnMasker[columns.length];
    for (int c = 0; c < columns.length; c++) {
      maskers[c] = engine.columnMasker("pii", "shop", "public", "orders", columns[c]);
      ruleMaskers[c] = engine.columnMasker("columns-only", "shop", "public", "orders", columns[c]);
    }
    pg = new dev.gatehouse.bench.baseline.PgRowMasker(engine, "pii", "shop", null);
    pg.onRowDescription(b.rowDescription);
    pgRules = new dev.gatehouse.bench.baseline.PgRowMasker(engine, "columns-only", "shop", null);
    pgRules.onRowDescription(b.rowDescription);
    pgCopy = new dev.gatehouse.bench.baseline.PgRowMasker(engine, "pii", "shop", null);
    pgCopy.onCopyOut(dev.gatehouse.postgres.PgRowMaskerBench.copyOutResponse(columns.length));
  }

  /**
   * The same loop as {@code MaskingBenchmark.mask}, shared by the baseline's column-rule and
   * content benchmarks, so that in one JVM (MaskingAb) the baseline's call sites see the same mix
   * of masker types as the current ones (identity, rule, content). With content maskers only they
   * would be monomorphic and inlined, which favoured the baseline.
   */
  private void mask(dev.gatehouse.bench.baseline.ColumnMasker[] ms, Blackhole bh) {
    for (String[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        var m = ms[c];
        bh.consume(m.isIdentity() ? row[c] : m.mask(row[c]).value());
      }
    }
  }

  @Benchmark
  public void contentDetectionBaseline(Blackhole bh) {
    mask(maskers, bh);
  }

  /** Column rules through the baseline code (unchanged), for the call-site mix; see mask. */
  @Benchmark
  public void columnRulesOnlyBaseline(Blackhole bh) {
    mask(ruleMaskers, bh);
  }

  @Benchmark
  public void pgContentDetectionBaseline(Blackhole bh) {
    for (byte[] row : dataRows) {
      bh.consume(pg.filterDataRow(row));
    }
  }

  @Benchmark
  public void pgCopyContentDetectionBaseline(Blackhole bh) {
    for (byte[] row : copyRows) {
      bh.consume(pgCopy.filterCopyData(row));
    }
  }

  @Benchmark
  public void pgColumnRulesOnlyBaseline(Blackhole bh) {
    for (byte[] row : dataRows) {
      bh.consume(pgRules.filterDataRow(row));
    }
  }
}
