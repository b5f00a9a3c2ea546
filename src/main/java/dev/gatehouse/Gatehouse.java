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
    System.exit(new CommandLine(new Gatehouse()).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
