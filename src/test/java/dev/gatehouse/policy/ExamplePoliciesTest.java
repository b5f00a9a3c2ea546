package dev.gatehouse.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ExamplePoliciesTest {
  @ParameterizedTest
  @ValueSource(strings = {"demo", "demo-exec", "ci", "ops", "readonly-host", "argv-evasions"})
  void examplePolicyPassesItsOwnTests(String name) throws Exception {
    // raw SQL is classified as the PostgreSQL gateway (and `gatehouse policy test`) classifies it;
    // raw command lines are read as the gateway reads SSH exec requests
    PolicyTestRunner runner =
        new PolicyTestRunner(
            null,
            dev.gatehouse.postgres.PgProtocolServer::describeSql,
            line -> CommandLine.parse(line).toAction());

    List<PolicyTestRunner.Result> results =
        runner.runFile(Path.of("examples/policies/" + name + ".policytest.yaml"));

    assertThat(results).isNotEmpty();
    assertThat(results)
        .as(PolicyTestRunner.report(results))
        .allSatisfy(r -> assertThat(r.passed()).isTrue());
  }
}
