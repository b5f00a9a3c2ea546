package dev.gatehouse.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyTestRunnerTest {
  static final String POLICY =
      """
      rules:
        - id: eng-read
          subjects: { groups: [engineering] }
          effect: allow
          sql: { statements: [select] }
      """;

  @TempDir Path dir;

  private Path write(String name, String text) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  @Test
  void reportsPassAndFailWithExpectedAndActual() throws Exception {
    write("p.yaml", POLICY);
    Path tests =
        write(
            "p.policytest.yaml",
            """
            policies: [p.yaml]
            tests:
              - name: select allowed
                principal: { subject: alice, groups: [engineering] }
                connection: { name: db }
                action: { kind: sql, statement: select }
                expect: { effect: allow, rule: eng-read }
              - name: wrong expectation
                principal: { subject: alice, groups: [engineering] }
                connection: { name: db }
                action: { kind: sql, statement: delete }
                expect: { effect: allow }
            """);

    List<PolicyTestRunner.Result> results = new PolicyTestRunner(null, null, null).runFile(tests);

    assertThat(results).extracting(PolicyTestRunner.Result::passed).containsExactly(true, false);
    assertThat(results.get(1).message())
        .contains("expected effect allow")
        .contains("got deny by default-deny");
    assertThat(results.get(1).line()).isEqualTo(8);
    assertThat(PolicyTestRunner.report(results)).contains("FAIL").endsWith("1 passed, 1 failed\n");
  }

  @Test
  void rawSqlWithoutDescriberFailsOnlyThatCase() throws Exception {
    write("p.yaml", POLICY);
    Path tests =
        write(
            "t.policytest.yaml",
            """
            policies: [p.yaml]
            tests:
              - name: raw sql
                principal: { subject: alice, groups: [engineering] }
                connection: { name: db }
                action: { kind: sql, sql: "SELECT 1" }
                expect: { effect: allow }
              - name: described sql
                principal: { subject: alice, groups: [engineering] }
                connection: { name: db }
                action: { kind: sql, statement: select }
                expect: { effect: allow }
            """);

    List<PolicyTestRunner.Result> results = new PolicyTestRunner(null, null, null).runFile(tests);

    assertThat(results.get(0).passed()).isFalse();
    assertThat(results.get(0).message()).contains("raw SQL needs the SQL classifier");
    assertThat(results.get(1).passed()).isTrue();
  }

  @Test
  void rawSqlUsesTheDescriberAndTheMostRestrictiveStatementDecides() throws Exception {
    write("p.yaml", POLICY);
    Path tests =
        write(
            "t.policytest.yaml",
            """
            policies: [p.yaml]
            tests:
              - name: two statements
                principal: { subject: alice, groups: [engineering] }
                connection: { name: db }
                action: { kind: sql, sql: "SELECT 1; DELETE FROM t" }
                expect: { effect: deny }
            """);
    PolicyTestRunner runner =
        new PolicyTestRunner(
            null,
            sql ->
                List.of(sql.split(";")).stream()
                    .map(s -> Fixtures.sql(s.trim().split(" ")[0].toLowerCase()))
                    .toList(),
            null);

    List<PolicyTestRunner.Result> results = runner.runFile(tests);

    assertThat(results.get(0).passed()).as(results.get(0).message()).isTrue();
  }

  @Test
  void runsAgainstAGivenEngineWhenTheFileNamesNoPolicies() throws Exception {
    Path tests =
        write(
            "t.policytest.yaml",
            """
            tests:
              - name: select allowed
                principal: { subject: alice, groups: [engineering] }
                connection: { name: db }
                action: { kind: sql, statement: select }
                expect: { effect: allow }
            """);

    List<PolicyTestRunner.Result> results =
        new PolicyTestRunner(Fixtures.policy(POLICY), null, null).run(List.of(tests.toString()));

    assertThat(results).singleElement().satisfies(r -> assertThat(r.passed()).isTrue());
  }

  @Test
  void malformedTestFileNamesFileAndLine() throws Exception {
    write("p.yaml", POLICY);
    Path tests =
        write(
            "bad.policytest.yaml",
            """
            policies: [p.yaml]
            tests:
              - name: typo
                principal: { subject: alice }
                connection: { name: db }
                action: { kind: connect }
                expekt: { effect: allow }
            """);

    assertThatThrownBy(() -> new PolicyTestRunner(null, null, null).runFile(tests))
        .isInstanceOf(PolicyException.class)
        .hasMessageContaining("bad.policytest.yaml:7")
        .hasMessageContaining("did you mean \"expect\"");
  }
}
