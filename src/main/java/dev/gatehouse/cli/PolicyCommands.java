package dev.gatehouse.cli;

import dev.gatehouse.api.GatewayApi;
import dev.gatehouse.policy.PolicyEngine;
import dev.gatehouse.policy.PolicyException;
import dev.gatehouse.policy.PolicyTestRunner;
import dev.gatehouse.policy.ReloadingPolicyEngine;
import dev.gatehouse.postgres.PgProtocolServer;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gatehouse policy check|test}. */
@Command(
    name = "policy",
    description = "Dry-run decisions on the gateway, or run policy tests locally.",
    mixinStandardHelpOptions = true,
    subcommands = {MiscCommands.PolicyCheck.class, PolicyCommands.Test.class})
final class PolicyCommands {

  @Command(
      name = "test",
      mixinStandardHelpOptions = true,
      description = {
        "Run *.policytest.yaml files against policy files, locally (no gateway needed), so",
        "policies can be tested in CI. SQL and command lines are classified as the gateway does.",
        "Exit 0 when every test passes, 1 when any fails, 2 when a file is invalid."
      })
  static final class Test implements Callable<Integer> {
    @Parameters(paramLabel = "TESTS", arity = "1..*", description = "Test files or globs.")
    List<String> tests;

    @Option(
        names = {"-p", "--policy"},
        description = "Policy files or globs (default: those named in each test file).")
    List<String> policies;

    @Override
    public Integer call() {
      try {
        PolicyEngine engine = policies == null ? null : ReloadingPolicyEngine.load(policies, null);
        PolicyTestRunner runner =
            new PolicyTestRunner(
                engine, PgProtocolServer::describeSql, GatewayApi::describeCommand);
        List<PolicyTestRunner.Result> results = runner.run(tests);
        System.out.print(PolicyTestRunner.report(results));
        return results.stream().allMatch(PolicyTestRunner.Result::passed) ? 0 : CliException.FAILED;
      } catch (PolicyException e) {
        System.err.println(e.getMessage());
        return CliException.USAGE;
      }
    }
  }
}
