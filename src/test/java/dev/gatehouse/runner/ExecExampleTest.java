package dev.gatehouse.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import dev.gatehouse.policy.CommandLine;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.PolicyRequest;
import dev.gatehouse.policy.ReloadingPolicyEngine;
import dev.gatehouse.policy.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** examples/exec/ loads, and its policies decide what its comments say. */
class ExecExampleTest {
  @TempDir Path dir;

  @Test
  void exampleLoadsAndItsPoliciesDecideAsDocumented() throws Exception {
    Path exec = Files.createDirectories(dir.resolve("exec/policies"));
    Files.createDirectories(dir.resolve("policies"));
    Files.createDirectories(dir.resolve("exec/secrets"));
    Files.copy(Path.of("examples/policies/ci.yaml"), dir.resolve("policies/ci.yaml"));
    Files.copy(Path.of("examples/exec/policies/exec-demo.yaml"), exec.resolve("exec-demo.yaml"));
    Files.writeString(dir.resolve("exec/secrets/kubeconfig"), "apiVersion: v1\n");
    String yaml = Files.readString(Path.of("examples/exec/gatehouse.yaml"));

    GatehouseConfig c =
        ConfigLoader.parse(
            yaml, "gatehouse.yaml", dir.resolve("exec"), Map.of("NPM_TOKEN", "npm_abc"));

    ExecConfig e = c.connection("build-runner").exec();
    assertThat(e.binaries()).contains("/usr/bin/npm", "/bin/sh");
    assertThat(e.sandbox()).isEqualTo("bubblewrap");
    assertThat(e.timeout()).isEqualTo(Duration.ofMinutes(20));
    assertThat(e.secrets())
        .extracting(s -> s.name() + ":" + s.as())
        .containsExactly("NPM_TOKEN:env", "KUBECONFIG:file");

    List<String> files = new ArrayList<>();
    for (String f : c.policy().files()) {
      files.add(f);
    }
    ReloadingPolicyEngine policy = ReloadingPolicyEngine.load(files, ev -> 1);
    Target runner = new Target("build-runner", "exec", Map.of("env", "ci"));
    Principal ci =
        new Principal("ci-bot", Set.of("ci"), PrincipalKind.SERVICE, "t", null, Set.of(), Map.of());
    Principal alice =
        new Principal(
            "alice", Set.of("engineering"), PrincipalKind.HUMAN, "t", null, Set.of(), Map.of());
    assertThat(decide(policy, ci, runner, "npm test", "/usr/bin/npm")).isEqualTo(Effect.ALLOW);
    assertThat(decide(policy, ci, runner, "npm publish", "/usr/bin/npm")).isEqualTo(Effect.DENY);
    assertThat(decide(policy, alice, runner, "echo hi", "/usr/bin/echo")).isEqualTo(Effect.ALLOW);
    // a line that needs a shell matches only rules with shell: true
    assertThat(decide(policy, alice, runner, "echo hi | tee x", "/usr/bin/echo"))
        .isEqualTo(Effect.DENY);
    assertThat(decide(policy, alice, runner, "npm test 2>&1 | tee log", "/usr/bin/npm"))
        .isEqualTo(Effect.REVIEW);
  }

  private static Effect decide(
      ReloadingPolicyEngine p, Principal who, Target t, String line, String binary) {
    return p.decide(
            new PolicyRequest(
                who, t, CommandLine.parse(line).toAction(binary, Map.of(), null), Instant.now()))
        .effect();
  }
}
