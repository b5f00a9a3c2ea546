package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void acceptsOneNumberAndOneUnit() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("15m")).isEqualTo(Duration.ofMinutes(15));
    assertThat(Durations.parse("12h")).isEqualTo(Duration.ofHours(12));
    assertThat(Durations.parse("90d")).isEqualTo(Duration.ofDays(90));
  }

  @Test
  void rejectsOtherSpellings() {
    assertThat(Durations.parse("15")).isNull();
    assertThat(Durations.parse("1h30m")).isNull();
    assertThat(Durations.parse("PT15M")).isNull();
    assertThat(Durations.parse("-5m")).isNull();
    assertThat(Durations.parse("1.5h")).isNull();
    assertThat(Durations.parse("15 m")).isNull();
    assertThat(Durations.parse("2w")).isNull();
  }

  @Test
  void rejectsAbsurdlyLongNumbersInsteadOfOverflowing() {
    assertThat(Durations.parse("9999999999999999999999d")).isNull();
  }

  @Test
  void formatsTheShortestExactSpelling() {
    assertThat(Durations.format(Duration.ofDays(30))).isEqualTo("30d");
    assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("90m");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
  }
}
