package dev.gatehouse.cli;

import picocli.CommandLine;

/**
 * The client side of the {@code gatehouse} command. Every command here talks to the REST API
 * ({@code GATEHOUSE_API}, {@code GATEHOUSE_TOKEN}, or the stored login) and never touches the
 * store; the few that work on local files ({@code config check}, {@code policy test}) read only
 * those files.
 */
public final class Cli {
  private Cli() {}

  /** Adds the client commands to the root command and installs the exit-code mapping. */
  public static void register(CommandLine root) {
    root.addSubcommand(new CommandLine(new TokenCommands()));
    root.addSubcommand(new CommandLine(new SshKeyCommands()));
    root.addSubcommand(new CommandLine(new AuditCommands()));
    root.addSubcommand(new CommandLine(new SessionCommands()));
    root.addSubcommand(new CommandLine(new MiscCommands.Keys()));
    root.addSubcommand(new CommandLine(new MiscCommands.WhoAmI()));
    root.addSubcommand(new CommandLine(new MiscCommands.Connections()));
    root.addSubcommand(new CommandLine(new ConnectCommand()));
    root.addSubcommand(new CommandLine(new ExecCommand()));
    root.addSubcommand(new CommandLine(new ConfigCommands()));
    root.addSubcommand(new CommandLine(new LoginCommand()));
    root.addSubcommand(new CommandLine(new PolicyCommands()));
    ReviewCommands.register(root);
    root.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          if (ex instanceof CliException ce) {
            cmd.getErr().println("gatehouse: " + ce.getMessage());
            return ce.exitCode();
          }
          cmd.getErr().println("gatehouse: " + ex);
          return CliException.FAILED;
        });
  }

  /** Exit code for a usage or configuration error, for commands outside this package. */
  public static final int EXIT_USAGE = CliException.USAGE;
}
