package dev.gatehouse.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.runner.RunnerKit.Result;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets printed by tools, through the real runner with the default masking profile: a real
 * process writes each in two parts with a pause longer than the idle flush between them ({@code
 * sleep 0.05}, twice {@link OutputPump#IDLE_FLUSH_MILLIS}), and neither the caller nor the
 * recording gets any part of the secret.
 */
class ToolOutputMaskingRunnerTest {
  @TempDir static Path dir;
  static RunnerKit kit;

  static final String KEY_PEM =
      "-----BEGIN RSA PRIVATE KEY-----\n"
          + "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
          + "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
          + "-----END RSA PRIVATE KEY-----\n";
  static final String KEY_B64 = Base64.getEncoder().encodeToString(KEY_PEM.getBytes());
  static final String DOCKER_AUTH =
      Base64.getEncoder().encodeToString("builder:hunter2-registry".getBytes());

  @BeforeAll
  static void start() throws Exception {
    kit = new RunnerKit(dir);
    kit.connection("masked", kit.exec("none", true, Duration.ofSeconds(30), 1 << 20));
  }

  @AfterAll
  static void stop() {
    if (kit != null) {
      kit.close();
    }
  }

  /** Runs {@code sh} printing {@code first}, pausing, then printing {@code second}. */
  static Result printInTwoParts(String first, String second) throws Exception {
    Result r =
        kit.run(
            "masked",
            List.of(
                "sh",
                "-c",
                "printf '%s' \"$1\"; sleep 0.05; printf '%s' \"$2\"",
                "sh",
                first,
                second));
    assertThat(r.status()).as(r.err()).isZero();
    return r;
  }

  static void assertMasked(Result r, String mustStay, String... secrets) {
    String recorded = kit.recorder.stream(r.sessionId(), 'o');
    assertThat(r.out()).contains(mustStay).contains("REDACTED");
    assertThat(recorded).isEqualTo(r.out());
    for (String s : secrets) {
      assertThat(r.out()).doesNotContain(s);
    }
  }

  @Test
  void kubeconfigClientKeyIsMaskedAcrossAPause() throws Exception {
    String all =
        "users:\n- name: admin\n  user:\n    client-key-data: "
            + KEY_B64
            + "\n    token: kube-3f9a2c71e8b04d56\n";
    int cut = all.indexOf(KEY_B64) + 30;
    Result r = printInTwoParts(all.substring(0, cut), all.substring(cut));
    assertMasked(
        r,
        "    client-key-data: [REDACTED:private_key]\n",
        KEY_B64.substring(30, 60),
        KEY_B64.substring(KEY_B64.length() - 40),
        "kube-3f9a2c71e8b04d56");
  }

  @Test
  void terraformSensitiveValueIsMaskedAcrossAPause() throws Exception {
    String all =
        "{\n  \"db_password\": {\n    \"sensitive\": true,\n    \"type\": \"string\",\n"
            + "    \"value\": \"s3cret-value\"\n  }\n}\n";
    int cut = all.indexOf("cret-value");
    Result r = printInTwoParts(all.substring(0, cut), all.substring(cut));
    assertMasked(r, "\"value\": \"[REDACTED:assignment]\"\n", "s3cret", "cret-value");
  }

  @Test
  void dockerRegistryAuthIsMaskedAcrossAPause() throws Exception {
    String all =
        "{\n  \"auths\": {\n    \"registry.example.com\": {\n      \"auth\": \""
            + DOCKER_AUTH
            + "\"\n    }\n  }\n}\n";
    int cut = all.indexOf(DOCKER_AUTH) + 8;
    Result r = printInTwoParts(all.substring(0, cut), all.substring(cut));
    assertMasked(
        r,
        "\"auth\": \"[REDACTED:assignment]\"",
        DOCKER_AUTH.substring(0, 8),
        DOCKER_AUTH.substring(8));
  }

  @Test
  void passwordAndTokenAssignmentsAreMaskedAcrossAPause() throws Exception {
    Result r = printInTwoParts("db_password = \"correct-ho", "rse-battery\"\n");
    assertMasked(r, "db_password = \"[REDACTED:assignment]\"\n", "correct", "battery");
    Result t = printInTwoParts("DEPLOY_TOKEN=h", "unter2hunter2\ndone\n");
    assertMasked(t, "DEPLOY_TOKEN=[REDACTED:assignment]\ndone\n", "unter2", "hunter2");
  }
}
