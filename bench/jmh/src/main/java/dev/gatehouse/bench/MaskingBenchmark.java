package dev.gatehouse.bench;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.masking.ColumnMasker;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.postgres.PgRowMaskerBench;
import java.io.ByteArrayOutputStream;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Masking cost per result row, single thread (= per core). One operation masks {@link #ROWS} rows
 * of a {@link #dataset}; the dataset's UTF-8 size is printed at setup:
 * MB/s = ops/s × bytes / 10^6.
 *
 * <p>Datasets:
 *
 * <ul>
 *   <li>{@code orders}: 8 columns, an email and a phone number in every row, a free-text note
 *       (about 145 bytes per row). Content detection finds something in 2-3 of 8 values per row.
 *   <li>{@code customers}: a wider, more typical table (14 columns: ids, order number, name, email,
 *       country, city, SKU, quantity, amount, currency, status, two timestamps, an optional note);
 *       most values are short words, numbers and timestamps with nothing to mask.
 *   <li>{@code notes}: the table of bench/pg-compare's large result (an integer id and a note of
 *       about 170 bytes with an email address in angle brackets, a phone number and filler text).
 * </ul>
 *
 * <p>Benchmarks, each on the same data:
 *
 * <ul>
 *   <li>{@code columnRulesOnly}: column rules mask the email (and phone) columns, other columns
 *       pass through untouched; {@code contentDetection}: the {@code pii} profile scans every
 *       value.
 *   <li>{@code pg*}: the same through the PostgreSQL DataRow path ({@code PgRowMasker}), from wire
 *       bytes to wire bytes, with realistic column types (numbers and timestamps are not text, so
 *       content detection skips them, as the gateway does). This is the like-for-like comparison of
 *       what the gateway does per row.
 *   <li>{@code pgCopy*}: the same rows as COPY TO STDOUT text output (one CopyData per row,
 *       tab-separated, escaped), through {@code PgRowMasker.filterCopyData}.
 * </ul>
 *
 * <p>{@code compare-baseline.sh REF} runs the same data through the masking package of an older
 * revision in the same JVM (before/after in one run).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class MaskingBenchmark {
  static final int ROWS = 1000;

  // Type OIDs (pg_type.dat).
  static final int INT8 = 20;
  static final int INT4 = 23;
  static final int TEXT = 25;
  static final int VARCHAR = 1043;
  static final int NUMERIC = 1700;
  static final int TIMESTAMPTZ = 1184;

  static final String[] ORDER_COLUMNS = {
    "id", "customer", "email", "phone", "city", "status", "created_at", "note"
  };
  static final int[] ORDER_TYPES = {
    INT8, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, TIMESTAMPTZ, TEXT
  };

  static final String[] CUSTOMER_COLUMNS = {
    "id", "order_no", "name", "email", "country", "city", "sku", "quantity", "amount", "currency",
    "status", "created_at", "shipped_at", "note"
  };
  static final int[] CUSTOMER_TYPES = {
    INT8, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, INT4, NUMERIC, VARCHAR, VARCHAR,
    TIMESTAMPTZ, TIMESTAMPTZ, TEXT
  };

  static final String[] NOTE_COLUMNS = {"id", "note"};
  static final int[] NOTE_TYPES = {INT4, TEXT};

  @Param({"orders", "customers", "notes"})
  public String dataset;

  String[][] rows;
  ColumnMasker[] ruleMaskers;
  ColumnMasker[] contentMaskers;
  byte[][] dataRows;
  byte[][] copyRows;
  PgRowMaskerBench pgRules;
  PgRowMaskerBench pgContent;
  PgRowMaskerBench pgCopyContent;
  long bytes;
  MaskingConfig config;
  String[] columns;
  byte[] rowDescription;

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
              - {connection: "*", table: "*", column: email, style: partial}
              - {connection: "*", table: "*", column: phone, style: partial}
        """);
    config = new MaskingConfig(List.of(rules.toString()), new Secret("bench-key", "bench"), 0);
    MaskingEngine engine = MaskingEngine.create(config);
    boolean orders = dataset.equals("orders");
    boolean notes = dataset.equals("notes");
    columns = orders ? ORDER_COLUMNS : notes ? NOTE_COLUMNS : CUSTOMER_COLUMNS;
    int[] types = orders ? ORDER_TYPES : notes ? NOTE_TYPES : CUSTOMER_TYPES;
    ruleMaskers = new ColumnMasker[columns.length];
    contentMaskers = new ColumnMasker[columns.length];
    for (int c = 0; c < columns.length; c++) {
      ruleMaskers[c] = engine.columnMasker("columns-only", "shop", "public", "orders", columns[c]);
      contentMaskers[c] = engine.columnMasker("pii", "shop", "public", "orders", columns[c]);
    }
    rows =
        orders ? orders(new Random(42)) : notes ? notes(new Random(42)) : customers(new Random(42));
    for (String[] r : rows) {
      for (String v : r) {
        bytes += v.getBytes(StandardCharsets.UTF_8).length;
      }
    }
    byte[] desc = rowDescription(columns, types);
    rowDescription = desc;
    pgRules = new PgRowMaskerBench(engine, "columns-only");
    pgRules.onRowDescription(desc);
    pgContent = new PgRowMaskerBench(engine, "pii");
    pgContent.onRowDescription(desc);
    pgCopyContent = new PgRowMaskerBench(engine, "pii");
    pgCopyContent.onCopyOut(columns.length);
    dataRows = new byte[rows.length][];
    copyRows = new byte[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      dataRows[i] = dataRow(rows[i]);
      copyRows[i] = copyRow(rows[i]);
    }
    System.out.printf("%n[masking-bench] dataset %s: %d rows, %d bytes%n", dataset, ROWS, bytes);
  }

  static String[][] orders(Random r) {
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
            String.format(
                "2024-%02d-%02d 10:%02d:%02d",
                1 + r.nextInt(12),
                1 + r.nextInt(28),
                r.nextInt(60),
                r.nextInt(60)),
            note
          };
    }
    return out;
  }

  static String[][] customers(Random r) {
    String[] first = {"Ann", "Bo", "Chen", "Dana", "Émile", "Farah", "Greta", "Hiro", "Ines"};
    String[] last = {"Smith", "Okafor", "Müller", "Tanaka", "Silva", "Novak", "García"};
    String[] countries = {"DE", "NG", "BR", "JP", "CA", "PL", "US", "GB"};
    String[] cities = {"Berlin", "Lagos", "São Paulo", "Osaka", "Toronto", "Kraków", "Austin"};
    String[] currencies = {"EUR", "NGN", "BRL", "JPY", "CAD", "PLN", "USD", "GBP"};
    String[] status = {"pending", "paid", "shipped", "delivered", "returned", "cancelled"};
    String[] notes = {
      "", "", "", "", "", "gift wrap", "leave at door", "fragile", "express",
      "Customer asked to leave the parcel with the neighbour.",
      "Refund approved by support after call.",
    };
    String[][] out = new String[ROWS][];
    for (int i = 0; i < ROWS; i++) {
      String f = first[r.nextInt(first.length)];
      String l = last[r.nextInt(last.length)];
      int country = r.nextInt(countries.length);
      String created =
          String.format(
              "2024-%02d-%02d %02d:%02d:%02d.%06d+00",
              1 + r.nextInt(12),
              1 + r.nextInt(28),
              r.nextInt(24),
              r.nextInt(60),
              r.nextInt(60),
              r.nextInt(1000000));
      String note = notes[r.nextInt(notes.length)];
      if (r.nextInt(50) == 0) {
        note = "Call back on +1 415 555 01" + (10 + r.nextInt(89));
      }
      out[i] =
          new String[] {
            String.valueOf(1000000 + i),
            String.format("ORD-2024-%06d", r.nextInt(1000000)),
            f + " " + l,
            f.toLowerCase() + "." + l.toLowerCase() + (i % 97) + "@example.com",
            countries[country],
            cities[country % cities.length],
            "SKU-" + (10000 + r.nextInt(90000)),
            String.valueOf(1 + r.nextInt(5)),
            (1 + r.nextInt(500)) + "." + (10 + r.nextInt(90)),
            currencies[country],
            status[r.nextInt(status.length)],
            created,
            r.nextInt(4) == 0 ? "" : created.replace("2024-", "2025-"),
            note
          };
    }
    return out;
  }

  /** The pg-compare large-result table: {@code i} and its note (see bench/pg-compare/run.sh). */
  static String[][] notes(Random r) {
    String[][] out = new String[ROWS][];
    for (int k = 0; k < ROWS; k++) {
      int i = 1 + r.nextInt(6_000_000);
      out[k] =
          new String[] {
            String.valueOf(i),
            "customer "
                + i
                + " <user"
                + i
                + "@example.com> +1 415 555 "
                + String.format("%04d", i % 100)
                + " "
                + "lorem ipsum ".repeat(8)
          };
    }
    return out;
  }

  /**
   * A row of COPY TO STDOUT text output: values separated by tabs, backslash, tab, newline and
   * carriage return escaped, a newline at the end
   * (https://www.postgresql.org/docs/current/sql-copy.html, File Formats, Text Format).
   */
  static byte[] copyRow(String[] row) {
    StringBuilder b = new StringBuilder();
    for (int c = 0; c < row.length; c++) {
      if (c > 0) {
        b.append('\t');
      }
      b.append(
          row[c]
              .replace("\\", "\\\\")
              .replace("\t", "\\t")
              .replace("\n", "\\n")
              .replace("\r", "\\r"));
    }
    return b.append('\n').toString().getBytes(StandardCharsets.UTF_8);
  }

  static byte[] rowDescription(String[] columns, int[] types) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(columns.length >>> 8);
    b.write(columns.length);
    for (int c = 0; c < columns.length; c++) {
      b.writeBytes(columns[c].getBytes(StandardCharsets.UTF_8));
      b.write(0);
      writeInt(b, 0); // table OID: not resolved
      b.write(0);
      b.write(c + 1);
      writeInt(b, types[c]);
      b.write(0xff);
      b.write(0xff);
      writeInt(b, -1);
      b.write(0);
      b.write(0); // text format
    }
    return b.toByteArray();
  }

  static byte[] dataRow(String[] row) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(row.length >>> 8);
    b.write(row.length);
    for (String v : row) {
      byte[] u = v.getBytes(StandardCharsets.UTF_8);
      writeInt(b, u.length);
      b.writeBytes(u);
    }
    return b.toByteArray();
  }

  static void writeInt(ByteArrayOutputStream o, int v) {
    o.write(v >>> 24);
    o.write(v >>> 16);
    o.write(v >>> 8);
    o.write(v);
  }

  private void mask(ColumnMasker[] maskers, Blackhole bh) {
    for (String[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        ColumnMasker m = maskers[c];
        bh.consume(m.isIdentity() ? row[c] : m.mask(row[c]).value());
      }
    }
  }

  @Benchmark
  public void columnRulesOnly(Blackhole bh) {
    mask(ruleMaskers, bh);
  }

  @Benchmark
  public void contentDetection(Blackhole bh) {
    mask(contentMaskers, bh);
  }

  @Benchmark
  public void pgColumnRulesOnly(Blackhole bh) {
    for (byte[] row : dataRows) {
      bh.consume(pgRules.filterDataRow(row));
    }
  }

  @Benchmark
  public void pgContentDetection(Blackhole bh) {
    for (byte[] row : dataRows) {
      bh.consume(pgContent.filterDataRow(row));
    }
  }

  @Benchmark
  public void pgCopyContentDetection(Blackhole bh) {
    for (byte[] row : copyRows) {
      bh.consume(pgCopyContent.filterCopyData(row));
    }
  }
}
