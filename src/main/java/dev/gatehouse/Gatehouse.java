package dev.gatehouse;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code gatehouse} command. */
@Command(
    name = "gatehouse",
    mixinStandardHelpOptions = true,
    version = "gatehouse 0.1.0",
    description = "Identity-aware gateway for code execution and data access.")
public final class Gatehouse implements Runnable {

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The full command tree: server commands plus the API client commands. */
  public static CommandLine commandLine() {
    CommandLine root = new CommandLine(new Gatehouse());
    root.addSubcommand(new CommandLine(new dev.gatehouse.server.ServeCommand()));
    root.addSubcommand(new CommandLine(new dev.gatehouse.demo.DemoCommand()));
    dev.gatehouse.cli.Cli.register(root);
    return root;
  }

  @Override
  public void run() {
    commandLine().usage(System.out);
  }
}
