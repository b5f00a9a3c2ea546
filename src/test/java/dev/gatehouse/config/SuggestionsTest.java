package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SuggestionsTest {
  private static final List<String> KEYS = List.of("data_dir", "master_key", "tls", "api");

  @Test
  void typoSuggestsTheClosestKey() {
    assertThat(Suggestions.closest("dta_dir", KEYS)).isEqualTo("data_dir");
    assertThat(Suggestions.closest("mastre_key", KEYS)).isEqualTo("master_key");
  }

  @Test
  void otherCaseConventionsMatchTheirSnakeCaseKey() {
    assertThat(Suggestions.closest("dataDir", KEYS)).isEqualTo("data_dir");
    assertThat(Suggestions.closest("MASTER-KEY", KEYS)).isEqualTo("master_key");
  }

  @Test
  void unrelatedWordSuggestsNothing() {
    assertThat(Suggestions.closest("colour", KEYS)).isNull();
    assertThat(Suggestions.closest("url", KEYS)).isNull();
  }
}
