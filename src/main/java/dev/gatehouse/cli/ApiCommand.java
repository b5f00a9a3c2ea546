package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Base of every command that talks to the API: output format, client, exit codes. */
abstract class ApiCommand implements Callable<Integer> {

  enum Format {
    table,
    json
  }

  @Spec CommandSpec spec;

  @Option(
      names = {"-o", "--output"},
      description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
      defaultValue = "table")
  Format output;

  private ApiClient client;

  ApiClient api() {
    if (client == null) {
      client = new ApiClient(CliConfig.resolve(System.getenv()));
    }
    return client;
  }

  PrintStream out() {
    return new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true);
  }

  boolean json() {
    return output == Format.json;
  }

  /** Prints a list either as JSON or as a table of the given columns. */
  void list(JsonNode rows, String... columns) {
    if (json()) {
      Output.json(spec.commandLine().getOut() == null ? System.out : System.out, rows);
    } else {
      Output.table(System.out, rows, columns);
    }
  }

  void show(JsonNode obj) {
    if (json()) {
      Output.json(System.out, obj);
    } else {
      Output.fields(System.out, obj);
    }
  }

  @Override
  public final Integer call() throws Exception {
    return run();
  }

  abstract int run() throws Exception;
}
