package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Boolean settings read as PostgreSQL's parse_bool reads them. */
class PgBoolTest {
  @Test
  void prefixesAndSpellingsAsTheServerTakesThem() {
    for (String on : new String[] {"on", "ON", " true ", "t", "tr", "y", "yes", "1"}) {
      assertThat(PgStartupParams.parseBool(on)).as(on).isTrue();
    }
    for (String off : new String[] {"off", "of", "OFF", "f", "fal", "false", "n", "no", "0"}) {
      assertThat(PgStartupParams.parseBool(off)).as(off).isFalse();
    }
    for (String bad : new String[] {"o", "", "2", "onn", "yess", "maybe", null}) {
      assertThat(PgStartupParams.parseBool(bad)).as(String.valueOf(bad)).isNull();
    }
    assertThat(PgStartupParams.isOn("tru")).isTrue();
    assertThat(PgStartupParams.isOn("o")).isFalse();
  }
}
