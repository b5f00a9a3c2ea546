package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.ConfigException.Problem;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigExceptionTest {

  @Test
  void messageHasOneLinePerProblemInCompilerStyle() {
    ConfigException e =
        new ConfigException(
            List.of(
                new Problem(
                    "gatehouse.yaml",
                    3,
                    "server.dta_dir",
                    "unknown key",
                    "did you mean `data_dir`?"),
                new Problem("gatehouse.yaml", 0, "", "file not found", null)));

    assertThat(e.getMessage())
        .isEqualTo(
            "gatehouse.yaml:3: server.dta_dir: unknown key (did you mean `data_dir`?)\n"
                + "gatehouse.yaml: file not found");
  }

  @Test
  void problemsAreImmutable() {
    ConfigException e = new ConfigException(List.of(new Problem("f", 1, "p", "m", null)));

    assertThatThrownBy(() -> e.problems().clear())
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void anExceptionWithoutProblemsIsABug() {
    assertThatThrownBy(() -> new ConfigException(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
