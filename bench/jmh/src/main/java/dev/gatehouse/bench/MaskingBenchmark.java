package dev.gatehouse.bench;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.masking.ColumnMasker;
import dev.gatehouse.masking.MaskingEngine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Masking cost per result row, single thread (= per core). One operation masks {@link #ROWS}
 * realistic order rows of eight columns (about 150 bytes of UTF-8 per row; the exact size is
 * printed at setup): MB/s = ops/s × dataset bytes / 10^6.
 *
 * <ul>
 *   <li>{@code columnRulesOnly}: a profile with column rules (email, phone) and no content
 *       detection; other columns pass through.
 *   <li>{@code contentDetection}: the {@code pii} profile, every value scanned by all detectors.
 *   <li>{@code *WithEncoding}: the same plus UTF-8 encoding of every value, which a protocol does
 *       anyway when it writes the row: the cost of masking relative to a minimal real pipeline.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class MaskingBenchmark {
  static final int ROWS = 1000;
  static final String[] COLUMNS = {
    "id", "customer", "email", "phone", "city", "status", "created_at", "note"
  };

  String[][] rows;
  ColumnMasker[] ruleMaskers;
  ColumnMasker[] contentMaskers;
  long bytes;

  @Setup
  public void setup() throws IOException {
    Path rules = Files.createTempFile("masking-bench", ".yaml");
    Files.writeString(
        rules,
        """
        profiles:
          columns-only:
            extends: none
            columns:
              - {connection: "*", table: orders, column: email, style: partial}
              - {connection: "*", table: orders, column: phone, style: partial}
        """);
    MaskingEngine engine =
        MaskingEngine.create(
            new MaskingConfig(List.of(rules.toString()), new Secret("bench-key", "bench"), 0));
    ruleMaskers = new ColumnMasker[COLUMNS.length];
    contentMaskers = new ColumnMasker[COLUMNS.length];
    for (int c = 0; c < COLUMNS.length; c++) {
      ruleMaskers[c] = engine.columnMasker("columns-only", "shop", "public", "orders", COLUMNS[c]);
      contentMaskers[c] = engine.columnMasker("pii", "shop", "public", "orders", COLUMNS[c]);
    }
    rows = rows(new Random(42));
    for (String[] r : rows) {
      for (String v : r) {
        bytes += v.getBytes(StandardCharsets.UTF_8).length;
      }
    }
    System.out.printf("%n[masking-bench] dataset: %d rows, %d bytes%n", ROWS, bytes);
  }

  static String[][] rows(Random r) {
    String[] first = {"Ann", "Bo", "Chen", "Dana", "Émile", "Farah", "Greta", "Hiro"};
    String[] last = {"Smith", "Okafor", "Müller", "Tanaka", "Silva", "Novak"};
    String[] cities = {"Berlin", "Lagos", "São Paulo", "Osaka", "Toronto", "Kraków"};
    String[] status = {"pending", "shipped", "delivered", "returned"};
    String[] notes = {
      "Customer asked to leave the parcel with the neighbour at no. %d.",
      "Delivery window %d:00-%d:00, ring twice.",
      "Refund of %d.%d EUR approved by support after call.",
      "Gift wrap requested; card message: Happy birthday! (%d/%d)",
      "Order split into %d shipments, tracking follows by mail (%d).",
    };
    String[][] out = new String[ROWS][];
    for (int i = 0; i < ROWS; i++) {
      String f = first[r.nextInt(first.length)];
      String l = last[r.nextInt(last.length)];
      String note = String.format(notes[r.nextInt(notes.length)], r.nextInt(100), r.nextInt(100));
      if (r.nextInt(20) == 0) {
        note += " Call back on +1 415 555 01" + (10 + r.nextInt(89)) + ".";
      }
      out[i] =
          new String[] {
            String.valueOf(100000 + i),
            f + " " + l,
            f.toLowerCase() + "." + l.toLowerCase() + "@example.com",
            "+44 20 7946 " + (1000 + r.nextInt(8999)),
            cities[r.nextInt(cities.length)],
            status[r.nextInt(status.length)],
            String.format("2024-%02d-%02d 10:%02d:%02d", 1 + r.nextInt(12), 1 + r.nextInt(28),
                r.nextInt(60), r.nextInt(60)),
            note
          };
    }
    return out;
  }

  private void mask(ColumnMasker[] maskers, Blackhole bh, boolean encode) {
    for (String[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        ColumnMasker m = maskers[c];
        String v = m.isIdentity() ? row[c] : m.mask(row[c]).value();
        if (encode) {
          bh.consume(v.getBytes(StandardCharsets.UTF_8));
        } else {
          bh.consume(v);
        }
      }
    }
  }

  @Benchmark
  public void columnRulesOnly(Blackhole bh) {
    mask(ruleMaskers, bh, false);
  }

  @Benchmark
  public void contentDetection(Blackhole bh) {
    mask(contentMaskers, bh, false);
  }

  @Benchmark
  public void columnRulesOnlyWithEncoding(Blackhole bh) {
    mask(ruleMaskers, bh, true);
  }

  @Benchmark
  public void contentDetectionWithEncoding(Blackhole bh) {
    mask(contentMaskers, bh, true);
  }
}
