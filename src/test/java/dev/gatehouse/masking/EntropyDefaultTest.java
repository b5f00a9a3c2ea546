package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway masks at the entropy threshold whose recall and false-positive rate the efficacy and
 * red-team tests measure (they build their profiles at {@link Builtins#DEFAULT_ENTROPY_THRESHOLD}):
 * a gateway default of 4.0 against the engine's 3.5 let two keys of redteam-sensitive.tsv through.
 */
class EntropyDefaultTest {
  @TempDir Path dir;

  @Test
  void theGatewaysDefaultThresholdIsTheOneTheEfficacyTestsMeasure() {
    assertThat(ConfigLoader.defaults(dir).masking().entropyThreshold())
        .isEqualTo(Builtins.DEFAULT_ENTROPY_THRESHOLD);
  }
}
