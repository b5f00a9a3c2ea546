package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigException.Problem;
import java.nio.file.Path;
import java.util.Map;

/** Shared helpers: parse text against a base directory and pull out the problems. */
final class ConfigTesting {
  static final String FILE = "gatehouse.yaml";

  private ConfigTesting() {}

  static GatehouseConfig parse(String yaml, Path baseDir, Map<String, String> env)
      throws ConfigException {
    return ConfigLoader.parse(yaml, FILE, baseDir, env);
  }

  static ConfigException failure(String yaml, Path baseDir, Map<String, String> env) {
    try {
      GatehouseConfig config = ConfigLoader.parse(yaml, FILE, baseDir, env);
      throw new AssertionError("expected a ConfigException, got " + config);
    } catch (ConfigException e) {
      return e;
    }
  }

  /** The single problem the text has; fails when there are none or several. */
  static Problem onlyProblem(String yaml, Path baseDir, Map<String, String> env) {
    ConfigException e = failure(yaml, baseDir, env);
    assertThat(e.problems()).as(e.getMessage()).hasSize(1);
    return e.problems().get(0);
  }
}
