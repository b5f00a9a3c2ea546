package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Small commands: whoami, connections, keys rotate, policy check. */
final class MiscCommands {
  private MiscCommands() {}

  @Command(name = "whoami", mixinStandardHelpOptions = true, description = "Show who the API sees.")
  static final class WhoAmI extends ApiCommand {
    @Override
    int run() {
      show(api().get("/api/v1/whoami"));
      return 0;
    }
  }

  @Command(
      name = "connections",
      mixinStandardHelpOptions = true,
      description = "List connections (names, types, labels; never credentials).")
  static final class Connections extends ApiCommand {
    @Override
    int run() {
      list(api().get("/api/v1/connections"), "name", "type", "address", "labels");
      return 0;
    }
  }

  @Command(
      name = "keys",
      mixinStandardHelpOptions = true,
      description = "Manage the keys that seal credentials at rest.",
      subcommands = Rotate.class)
  static final class Keys {}

  @Command(
      name = "rotate",
      mixinStandardHelpOptions = true,
      description = "Add a new data key and re-seal every stored credential under it (admin).")
  static final class Rotate extends ApiCommand {
    @Override
    int run() {
      JsonNode r = api().post("/api/v1/keys/rotate", api().json().createObjectNode());
      if (json()) {
        Output.json(System.out, r);
      } else {
        System.out.println("re-sealed " + r.path("resealed").asLong() + " credentials");
      }
      return 0;
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Dry-run a decision on the gateway: what would happen if this identity did this?",
        "Exit 0 for allow, 1 for deny, 0 for review (the decision is printed)."
      })
  static final class PolicyCheck extends ApiCommand {
    @Option(names = "--connection", required = true, description = "Connection name.")
    String connection;

    @Option(names = "--user", description = "Subject (default: yourself).")
    String user;

    @Option(names = "--groups", split = ",", description = "Groups of --user.")
    List<String> groups;

    @Option(names = "--kind", description = "Principal kind of --user: human, service, agent.")
    String kind;

    @Option(names = "--sql", description = "A SQL statement (classified as the gateway would).")
    String sql;

    @Option(names = "--command", description = "A command line for exec/SSH connections.")
    String command;

    @Option(names = "--action", description = "Action kind when neither --sql nor --command.")
    String action;

    @Override
    int run() {
      ObjectNode body = api().json().createObjectNode();
      body.put("connection", connection);
      if (user != null) {
        ObjectNode p = body.putObject("principal");
        p.put("subject", user);
        if (groups != null) {
          p.putPOJO("groups", groups);
        }
        if (kind != null) {
          p.put("kind", kind);
        }
      }
      ObjectNode a = body.putObject("action");
      if (sql != null) {
        a.put("kind", "sql");
        a.put("sql", sql);
      } else if (command != null) {
        a.put("kind", "command");
        a.put("command", command);
      } else {
        a.put("kind", action == null ? "connect" : action);
      }
      JsonNode r = api().post("/api/v1/policy/check", body);
      if (json()) {
        Output.json(System.out, r);
      } else {
        for (JsonNode d : r.path("decisions")) {
          System.out.println(
              d.path("effect").asText().toUpperCase()
                  + "  rule="
                  + d.path("rule").asText()
                  + (d.hasNonNull("statement")
                      ? "  statement=" + Output.cell(d.get("statement"))
                      : "")
                  + (d.hasNonNull("reason") ? "  reason=" + Output.cell(d.get("reason")) : ""));
          for (JsonNode line : d.path("explanation")) {
            System.out.println("  " + Output.cell(line));
          }
        }
      }
      return "deny".equals(r.path("effect").asText()) ? CliException.FAILED : 0;
    }
  }
}
