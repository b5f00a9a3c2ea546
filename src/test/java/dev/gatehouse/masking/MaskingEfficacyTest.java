package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Recall and false-positive rate of the {@code pii} profile on the generated corpus (see {@link
 * CorpusGenerator}). A sensitive value counts as detected when its secret part no longer appears in
 * the masked text; a look-alike counts as a false positive for every detector that fires on it.
 * Prints a table and fails below 99.5% recall or above 1% false positives, overall and per
 * detector.
 */
class MaskingEfficacyTest {
  static final Path DIR = Path.of("src/test/resources/masking");
  static final double MIN_RECALL = 0.995;
  static final double MAX_FPR = 0.01;

  static MaskingEngine engine;
  static Profile pii;

  @BeforeAll
  static void engine() {
    engine = MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "test"), 0));
    pii =
        Builtins.profiles(
                Builtins.DEFAULT_ENTROPY_THRESHOLD, new Style.Redact(null), List.of(), List.of())
            .get("pii")
            .build();
  }

  record Row(int total, int hit) {
    double rate() {
      return total == 0 ? 0 : (double) hit / total;
    }
  }

  @Test
  void recallAndFalsePositivesMeetTargets() throws IOException {
    List<String[]> sensitive = CorpusGenerator.read(DIR.resolve(CorpusGenerator.SENSITIVE));
    List<String[]> looks = CorpusGenerator.read(DIR.resolve(CorpusGenerator.LOOKALIKES));
    assertThat(sensitive).hasSizeGreaterThanOrEqualTo(2000);
    assertThat(looks).hasSizeGreaterThanOrEqualTo(2000);

    Map<String, int[]> recall = new TreeMap<>();
    List<String> misses = new ArrayList<>();
    for (String[] s : sensitive) {
      String masked = engine.redact("pii", s[1]);
      boolean hit = !masked.equals(s[1]) && !masked.contains(s[2]);
      int[] c = recall.computeIfAbsent(s[0], k -> new int[2]);
      c[0]++;
      if (hit) {
        c[1]++;
      } else if (misses.size() < 40) {
        misses.add(s[0] + "\t" + s[1].replace("\n", "\\n") + "\t=> " + masked);
      }
    }
    Map<String, Integer> fpByDetector = new TreeMap<>();
    Map<String, Integer> fpByKind = new TreeMap<>();
    List<String> fps = new ArrayList<>();
    int flagged = 0;
    for (String[] l : looks) {
      List<Finding> f = pii.scanner.scan(l[1]);
      if (!f.isEmpty()) {
        flagged++;
        fpByKind.merge(l[2], 1, Integer::sum);
        f.stream()
            .map(Finding::type)
            .distinct()
            .forEach(t -> fpByDetector.merge(t, 1, Integer::sum));
        if (fpByKind.get(l[2]) <= 5) {
          fps.add(l[2] + "\t" + l[1] + "\t" + f);
        }
      }
    }
    for (Detector d : pii.scanner.detectors()) {
      fpByDetector.putIfAbsent(d.type, 0);
    }

    StringBuilder t = new StringBuilder();
    t.append(String.format("%-22s %8s %8s %9s%n", "type (recall)", "values", "masked", "recall"));
    int total = 0;
    int hits = 0;
    for (var e : recall.entrySet()) {
      int[] c = e.getValue();
      total += c[0];
      hits += c[1];
      t.append(
          String.format("%-22s %8d %8d %8.2f%%%n", e.getKey(), c[0], c[1], 100.0 * c[1] / c[0]));
    }
    t.append(String.format("%-22s %8d %8d %8.2f%%%n%n", "ALL", total, hits, 100.0 * hits / total));
    t.append(String.format("%-22s %8s %8s %9s%n", "detector (FP)", "lookalk", "fired", "FPR"));
    for (var e : fpByDetector.entrySet()) {
      t.append(
          String.format(
              "%-22s %8d %8d %8.2f%%%n",
              e.getKey(), looks.size(), e.getValue(), 100.0 * e.getValue() / looks.size()));
    }
    t.append(
        String.format(
            "%-22s %8d %8d %8.2f%%%n%n",
            "ALL", looks.size(), flagged, 100.0 * flagged / looks.size()));
    t.append("false positives by look-alike kind: ").append(fpByKind).append('\n');
    misses.forEach(m -> t.append("MISS ").append(m).append('\n'));
    fps.forEach(m -> t.append("FP   ").append(m).append('\n'));
    String table = t.toString();
    System.out.println(table);
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target/masking-efficacy.txt"), table);

    assertThat((double) hits / total).as(table).isGreaterThanOrEqualTo(MIN_RECALL);
    for (var e : recall.entrySet()) {
      assertThat((double) e.getValue()[1] / e.getValue()[0])
          .as("recall " + e.getKey() + "\n" + table)
          .isGreaterThanOrEqualTo(MIN_RECALL);
    }
    assertThat((double) flagged / looks.size()).as(table).isLessThanOrEqualTo(MAX_FPR);
    for (var e : fpByDetector.entrySet()) {
      assertThat((double) e.getValue() / looks.size())
          .as("FPR " + e.getKey() + "\n" + table)
          .isLessThanOrEqualTo(MAX_FPR);
    }
  }

  @Test
  void committedCorpusMatchesGenerator() throws IOException {
    assertThat(Files.readAllLines(DIR.resolve(CorpusGenerator.SENSITIVE)))
        .containsExactlyElementsOf(CorpusGenerator.sensitive());
    assertThat(Files.readAllLines(DIR.resolve(CorpusGenerator.LOOKALIKES)))
        .containsExactlyElementsOf(CorpusGenerator.lookalikes());
  }
}
