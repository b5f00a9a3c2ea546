package dev.gatehouse.cli;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.policy.PolicyException;
import dev.gatehouse.policy.ReloadingPolicyEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code gatehouse config check FILE}. */
@Command(
    name = "config",
    description = "Work with configuration files.",
    mixinStandardHelpOptions = true,
    subcommands = ConfigCommands.Check.class)
final class ConfigCommands {

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Validate a configuration file, and the policy files it names, without starting anything.",
        "Prints every problem as FILE:LINE: path: message (fix); exit 0 valid, 2 invalid."
      })
  static final class Check implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "The gatehouse.yaml to check.")
    Path file;

    @Override
    public Integer call() {
      if (!Files.isRegularFile(file)) {
        System.err.println(file + ": no such file");
        return CliException.USAGE;
      }
      try {
        GatehouseConfig cfg = ConfigLoader.load(file);
        if (!cfg.policy().files().isEmpty()) {
          // The same loading as at start-up and on reload: a rule the gateway would refuse to load
          // (a bad glob, port or CEL condition) is reported here with its file and line.
          ReloadingPolicyEngine.load(cfg.policy().files(), null);
        }
        System.out.printf(
            "%s: valid (%d connections, %d users, %d OIDC issuers, %d policy file patterns)%n",
            file,
            cfg.connections().size(),
            cfg.identity().users().size(),
            cfg.identity().oidc().size(),
            cfg.policy().files().size());
        return 0;
      } catch (ConfigException | PolicyException e) {
        System.err.println(e.getMessage());
        return CliException.USAGE;
      }
    }
  }
}
