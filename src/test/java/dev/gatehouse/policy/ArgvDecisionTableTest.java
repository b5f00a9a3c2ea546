package dev.gatehouse.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The argv decision table (examples/policies/argv-evasions.policytest.yaml): at least 80 command
 * lines against the example policies, evasion attempts included, each naming the expected effect
 * and deciding rule. Raw lines go through {@link CommandLine}, as SSH exec requests do.
 */
class ArgvDecisionTableTest {
  static final Path TABLE = Path.of("examples/policies/argv-evasions.policytest.yaml");

  private static List<PolicyTestRunner.Result> run() throws Exception {
    return new PolicyTestRunner(null, null, line -> CommandLine.parse(line).toAction())
        .runFile(TABLE);
  }

  @TestFactory
  Stream<DynamicTest> everyCaseDecidesAsExpected() throws Exception {
    return run().stream()
        .map(
            r ->
                DynamicTest.dynamicTest(
                    "line " + r.line() + ": " + r.name(),
                    () -> assertThat(r.passed()).as(r.message()).isTrue()));
  }

  @Test
  void tableHasAtLeastEightyCasesEachNamingEffectAndRule() throws Exception {
    List<PolicyTestRunner.Result> results = run();
    assertThat(results).hasSizeGreaterThanOrEqualTo(80);
    String text = Files.readString(TABLE);
    long expects = text.lines().filter(l -> l.contains("expect: {")).count();
    long withRule =
        text.lines()
            .filter(l -> l.contains("expect: {") && l.contains("effect: ") && l.contains("rule: "))
            .count();
    assertThat(expects).isEqualTo(results.size());
    assertThat(withRule).isEqualTo(expects);
  }
}
