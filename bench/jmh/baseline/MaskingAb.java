package dev.gatehouse.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Interleaved A/B measurement for a loaded machine: every variant runs one operation (1,000 rows)
 * in turn, round after round, and each operation is timed by the thread's CPU time, not wall time,
 * so that other processes on the machine (which take the CPU away, not add instructions) distort
 * the comparison far less than consecutive JMH runs do. Reports the median per variant. GC work
 * on other threads is not counted. Usage: java -cp benchmarks.jar dev.gatehouse.bench.MaskingAb
 * [rounds [datasets]], datasets a comma-separated list (default {@code orders,customers,notes}).
 */
public final class MaskingAb {
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Blackhole bh =
        new Blackhole(
            "Today's password is swordfish. I understand instantiating Blackholes directly is"
                + " dangerous.");
    List<String> datasets =
        List.of((args.length > 1 ? args[1] : "orders,customers,notes").split(","));
    for (String ds : datasets) {
      MaskingBenchmark b = new MaskingBenchmark();
      b.dataset = ds;
      b.setup();
      MaskingBaselineBenchmark base = new MaskingBaselineBenchmark();
      base.dataset = ds;
      base.setup();
      Map<String, Consumer<Blackhole>> v = new LinkedHashMap<>();
      // The baseline's column-rule variants run too, so that its call sites see the same mix of
      // masker types as the current code's (see MaskingBaselineBenchmark.mask).
      v.put("columnRulesOnly", b::columnRulesOnly);
      v.put("contentDetection", b::contentDetection);
      v.put("columnRulesOnlyBaseline", base::columnRulesOnlyBaseline);
      v.put("contentDetectionBaseline", base::contentDetectionBaseline);
      v.put("pgColumnRulesOnly", b::pgColumnRulesOnly);
      v.put("pgContentDetection", b::pgContentDetection);
      v.put("pgColumnRulesOnlyBaseline", base::pgColumnRulesOnlyBaseline);
      v.put("pgContentDetectionBaseline", base::pgContentDetectionBaseline);
      v.put("pgCopyContentDetection", b::pgCopyContentDetection);
      v.put("pgCopyContentDetectionBaseline", base::pgCopyContentDetectionBaseline);
      List<String> names = new ArrayList<>(v.keySet());
      long[][] ns = new long[names.size()][rounds];
      for (int r = -rounds / 2; r < rounds; r++) { // first half-rounds: warm-up
        for (int k = 0; k < names.size(); k++) {
          Consumer<Blackhole> op = v.get(names.get(k));
          long t0 = mx.getCurrentThreadCpuTime();
          op.accept(bh);
          long t = mx.getCurrentThreadCpuTime() - t0;
          if (r >= 0) {
            ns[k][r] = t;
          }
        }
      }
      System.out.printf(
          "%n%s (%d bytes per op, %d rounds, thread CPU time):%n", ds, b.bytes, rounds);
      for (int k = 0; k < names.size(); k++) {
        long[] a = ns[k].clone();
        Arrays.sort(a);
        double med = a[a.length / 2];
        System.out.printf(
            "  %-28s %9.0f ops/s  %7.1f MB/s  (p25-p75 %.0f-%.0f ops/s)%n",
            names.get(k),
            1e9 / med,
            b.bytes / med * 1e3,
            1e9 / a[a.length * 3 / 4],
            1e9 / a[a.length / 4]);
      }
    }
  }
}
