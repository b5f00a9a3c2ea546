package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Values made of findings (red team rt18pg F1: {@code repeat('password=', 80000)} cost minutes of
 * gateway CPU): overlaps are resolved in O(n log n) with the same answer as before, and past {@link
 * Scanner#MAX_FINDINGS} the whole value is masked with the profile's fallback style.
 */
class FindingLimitsTest {
  static final MaskingEngine ENGINE =
      MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "limits"), 0));

  @Test
  void aValueOfTooManyFindingsIsMaskedWhole() {
    for (String unit : List.of("password=", "219-68-7824 ", "a@b.co ", "AKIAIOSFODNN7EXAMPLE ")) {
      String value = unit.repeat(Scanner.MAX_FINDINGS + 10);
      String masked = ENGINE.redact("pii", value);
      assertThat(masked).as(unit).isEqualTo("[REDACTED:" + Scanner.TOO_MANY + "]");
      byte[] bytes = ENGINE.redactUtf8("pii", value.getBytes(StandardCharsets.UTF_8));
      assertThat(new String(bytes, StandardCharsets.UTF_8)).as(unit).isEqualTo(masked);
    }
  }

  @Test
  void belowTheLimitEachFindingKeepsItsOwnMask() {
    String value = "a@b.co ".repeat(Scanner.MAX_FINDINGS - 24);
    String masked = ENGINE.redact("pii", value);
    assertThat(masked).startsWith("*****@b.co *****@b.co").doesNotContain(Scanner.TOO_MANY);
    assertThat(masked.split("@b.co", -1)).hasSize(Scanner.MAX_FINDINGS - 24 + 1);
  }

  /**
   * Past {@code SMALL} findings resolve uses a tree map; its answer is the pairwise one ({@link
   * Scanner#resolveSmall}, the resolution as it was before), on random overlapping sets.
   */
  @Test
  void overlapsResolveAsTheyDidBefore() {
    Random r = new Random(18);
    String[] types = {"assignment", "email", "card", "phone"};
    for (int trial = 0; trial < 5_000; trial++) {
      List<Finding> found = new ArrayList<>();
      int n = 17 + r.nextInt(60);
      for (int i = 0; i < n; i++) {
        int start = r.nextInt(60);
        int end = start + 1 + r.nextInt(r.nextBoolean() ? 6 : 40);
        found.add(new Finding(start, end, types[r.nextInt(4)], 50 + 10 * r.nextInt(4)));
      }
      List<Finding> sorted = new ArrayList<>(found);
      sorted.sort(
          Comparator.comparingInt(Finding::priority)
              .reversed()
              .thenComparing(Comparator.comparingInt((Finding f) -> f.end() - f.start()).reversed())
              .thenComparingInt(Finding::start));
      List<Finding> expected = Scanner.resolveSmall(sorted);
      assertThat(Scanner.resolve(new ArrayList<>(found))).as(found.toString()).isEqualTo(expected);
    }
  }
}
