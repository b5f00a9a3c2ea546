package dev.gatehouse.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyLoadErrorsTest {
  @TempDir Path dir;

  /** The problems of policy text {@code yaml} loaded as p.yaml; fails when it loads. */
  static List<String> problems(String yaml) {
    PolicyException e =
        catchThrowableOfType(PolicyException.class, () -> PolicySet.parse("p.yaml", yaml));
    assertThat(e).as("expected a PolicyException").isNotNull();
    return e.problems();
  }

  @Test
  void unknownKeyNamesFileLineAndSuggestsTheFix() {
    assertThat(
            problems(
                """
                rules:
                  - id: a
                    efect: allow
                """))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("p.yaml:3: rules[0] (a): unknown key \"efect\"")
                    .contains("did you mean \"effect\"?"));
  }

  @Test
  void wrongTypeAndBadValueNameTheExpectation() {
    List<String> problems =
        problems(
            """
            rules:
              - id: a
                effect: maybe
                subjects: { groups: { eng: true } }
                obligations: { read_only: perhaps, max_session: forever }
            """);

    assertThat(problems)
        .anyMatch(
            p ->
                p.startsWith("p.yaml:3:")
                    && p.contains("\"maybe\" (expected allow, deny or review)"))
        .anyMatch(
            p ->
                p.startsWith("p.yaml:4:")
                    && p.contains("subjects.groups: a mapping (expected a list"))
        .anyMatch(
            p ->
                p.startsWith("p.yaml:5:") && p.contains("perhaps (expected true or false)")
                    || p.contains("\"perhaps\" (expected true or false)"))
        .anyMatch(p -> p.startsWith("p.yaml:5:") && p.contains("duration: forever"));
  }

  @Test
  void celThatDoesNotCompileIsReportedWithItsLine() {
    assertThat(
            problems(
                """
                rules:
                  - id: a
                    effect: allow
                    when: principal.kind ==
                """))
        .singleElement()
        .asString()
        .startsWith("p.yaml:4: rules[0] (a).when: CEL does not compile:");
    assertThat(
            problems(
                """
                rules:
                  - id: a
                    effect: allow
                    when: '"not a bool"'
                """))
        .singleElement()
        .asString()
        .contains("CEL does not compile");
    assertThat(
            problems(
                """
                rules:
                  - id: a
                    effect: allow
                    when: undeclared.x == 1
                """))
        .singleElement()
        .asString()
        .contains("undeclared");
  }

  @Test
  void duplicateRuleIdsAcrossFilesNameBothPlaces() throws Exception {
    Files.writeString(dir.resolve("a.yaml"), "rules:\n  - id: same\n    effect: allow\n");
    Files.writeString(
        dir.resolve("b.yaml"),
        "rules:\n  - id: other\n    effect: deny\n  - id: same\n    effect: deny\n");

    assertThatThrownBy(() -> PolicySet.load(List.of(dir + "/*.yaml")))
        .isInstanceOf(PolicyException.class)
        .hasMessageContaining("b.yaml:4: rule id \"same\" is already used at ")
        .hasMessageContaining("a.yaml:2");
  }

  @Test
  void badGlobsAndRegexesAreReported() {
    List<String> problems =
        problems(
            """
            rules:
              - id: a
                effect: allow
                connections: { names: ["db-[0-9"] }
                command: { args: ["re:(unclosed"] }
            """);

    assertThat(problems)
        .anyMatch(p -> p.startsWith("p.yaml:4:") && p.contains("unclosed ["))
        .anyMatch(p -> p.startsWith("p.yaml:5:") && p.contains("regex: (unclosed is not valid"));
  }

  @Test
  void ruleShapeMistakesAreReported() {
    List<String> problems =
        problems(
            """
            rules:
              - id: a
                effect: review
              - effect: allow
              - id: c
                effect: deny
                sql: { statements: [selcet], require_where: true }
                command: { env: [X] }
                obligations: { masking: pii }
            """);

    assertThat(problems)
        .anyMatch(p -> p.startsWith("p.yaml:2:") && p.contains("needs a review block"))
        .anyMatch(p -> p.startsWith("p.yaml:4:") && p.contains("missing key \"id\""))
        .anyMatch(p -> p.contains("\"selcet\" (expected"))
        .anyMatch(p -> p.contains("require_where: not allowed on a deny rule"))
        .anyMatch(p -> p.contains("env: not allowed on a deny rule"))
        .anyMatch(p -> p.contains("a deny rule has nothing to oblige"));
  }

  @Test
  void yamlSyntaxErrorsAndEmptyFilesAreReported() {
    assertThat(problems("rules:\n  - id: a\n    effect: [allow\n"))
        .singleElement()
        .asString()
        .matches("p\\.yaml:\\d+: not valid YAML: .*");
    assertThat(problems(""))
        .containsExactly("p.yaml:1: the file is empty (expected a mapping with a rules: list)");
  }

  @Test
  void globMatchingNothingIsAnError() {
    assertThatThrownBy(() -> PolicySet.load(List.of(dir + "/none-*.yaml")))
        .isInstanceOf(PolicyException.class)
        .hasMessageContaining("matches no files");
  }

  @Test
  void validFilesLoadInGlobOrder() throws Exception {
    Files.writeString(dir.resolve("b.yaml"), "rules: [{ id: b, effect: allow }]\n");
    Files.writeString(dir.resolve("a.yaml"), "rules: [{ id: a, effect: allow }]\n");

    PolicySet p = PolicySet.load(List.of(dir + "/*.yaml"));

    assertThat(p.ruleIds()).containsExactly("a", "b");
    assertThat(p.files()).hasSize(2);
    assertThat(p.digest()).hasSize(64);
  }
}
