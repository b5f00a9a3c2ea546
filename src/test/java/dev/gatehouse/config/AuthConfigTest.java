package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigException.Problem;
import dev.gatehouse.config.GatehouseConfig.AuthConfig;
import dev.gatehouse.config.GatehouseConfig.SshKeysConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code server.auth} and {@code identity.ssh_keys}: defaults, values, and what is refused. */
class AuthConfigTest {
  @TempDir Path dir;

  @Test
  void defaultsThrottleAndCapRegisteredKeys() throws Exception {
    GatehouseConfig c = ConfigTesting.parse("server: {}\n", dir, Map.of());

    assertThat(c.server().auth()).isEqualTo(AuthConfig.DEFAULT);
    assertThat(c.server().auth().enabled()).isTrue();
    assertThat(c.server().auth().addressFailures()).isEqualTo(10);
    assertThat(c.server().auth().identityFailures()).isEqualTo(20);
    assertThat(c.server().auth().maxBackoff()).isEqualTo(Duration.ofMinutes(15));
    assertThat(c.identity().sshKeys().maxTtl()).isEqualTo(Duration.ofDays(90));
  }

  @Test
  void everyKeyIsRead() throws Exception {
    GatehouseConfig c =
        ConfigTesting.parse(
            """
            server:
              auth:
                enabled: false
                address_failures: 5
                identity_failures: 50
                window: 5m
                backoff: 30s
                max_backoff: 1h
                max_tracked: 500
            identity:
              ssh_keys: { max_ttl: 7d }
            """,
            dir,
            Map.of());

    assertThat(c.server().auth())
        .isEqualTo(
            new AuthConfig(
                false,
                5,
                50,
                Duration.ofMinutes(5),
                Duration.ofSeconds(30),
                Duration.ofHours(1),
                500));
    assertThat(c.identity().sshKeys()).isEqualTo(new SshKeysConfig(Duration.ofDays(7)));
  }

  @Test
  void maxBackoffShorterThanBackoffIsAProblemAtItsLine() {
    Problem p =
        ConfigTesting.onlyProblem(
            "server:\n  auth:\n    backoff: 10m\n    max_backoff: 1m\n", dir, Map.of());

    assertThat(p.line()).isEqualTo(4);
    assertThat(p.path()).isEqualTo("server.auth.max_backoff");
    assertThat(p.message()).contains("shorter than backoff");
  }

  @Test
  void zeroFailuresAndUnknownKeysAreRefused() {
    Problem zero =
        ConfigTesting.onlyProblem("server:\n  auth: { address_failures: 0 }\n", dir, Map.of());
    assertThat(zero.path()).isEqualTo("server.auth.address_failures");

    Problem unknown =
        ConfigTesting.onlyProblem("identity:\n  ssh_keys: { max_tll: 7d }\n", dir, Map.of());
    assertThat(unknown.path()).isEqualTo("identity.ssh_keys.max_tll");
    assertThat(unknown.fix()).contains("max_ttl");
  }
}
