package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gatehouse token issue|list|revoke}. */
@Command(
    name = "token",
    description = "Issue, list and revoke gateway tokens and API keys.",
    mixinStandardHelpOptions = true,
    subcommands = {
      TokenCommands.Issue.class,
      TokenCommands.ListTokens.class,
      TokenCommands.Revoke.class
    })
final class TokenCommands {

  @Command(
      name = "issue",
      mixinStandardHelpOptions = true,
      description = {
        "Issue a short-lived gateway token (or, with --api-key, an API key for a service account).",
        "Admins may issue for any configured user; others only for themselves."
      })
  static final class Issue extends ApiCommand {
    @Option(names = "--user", description = "Subject to issue for (default: yourself).")
    String user;

    @Option(
        names = "--groups",
        split = ",",
        description = "Groups (admin only; default: the user's).")
    List<String> groups;

    @Option(names = "--kind", description = "human, service or agent (admin only).")
    String kind;

    @Option(names = "--ttl", description = "Lifetime, e.g. 15m, 12h (default per kind).")
    String ttl;

    @Option(names = "--scope", split = ",", description = "Limit the token to these connections.")
    List<String> scope;

    @Option(names = "--api-key", description = "Issue an API key instead (admin only).")
    boolean apiKey;

    @Option(names = "--name", description = "Name of the API key.")
    String name;

    @Override
    int run() {
      ObjectNode body = api().json().createObjectNode();
      if (user != null) {
        body.put("subject", user);
      }
      if (groups != null) {
        body.putPOJO("groups", groups);
      }
      if (kind != null) {
        body.put("kind", kind);
      }
      if (ttl != null) {
        body.put("ttl", ttl);
      }
      if (scope != null) {
        body.putPOJO("scope", scope);
      }
      if (name != null) {
        body.put("name", name);
      }
      JsonNode r = api().post(apiKey ? "/api/v1/api-keys" : "/api/v1/tokens", body);
      if (json()) {
        Output.json(System.out, r);
      } else {
        System.out.println(r.get("token").asText());
        System.err.println(
            "id "
                + r.get("id").asText()
                + ", expires "
                + r.get("expires_at").asText()
                + " (the secret is shown only once)");
      }
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List tokens and API keys.")
  static final class ListTokens extends ApiCommand {
    @Option(names = "--all", description = "Include expired and revoked ones.")
    boolean all;

    @Override
    int run() {
      list(
          api().get("/api/v1/tokens" + (all ? "?all=true" : "")),
          "id",
          "type",
          "subject",
          "kind",
          "groups",
          "scope",
          "expires_at",
          "revoked_at");
      return 0;
    }
  }

  @Command(
      name = "revoke",
      mixinStandardHelpOptions = true,
      description = "Revoke a token or API key; live sessions using it end at once.")
  static final class Revoke extends ApiCommand {
    @Parameters(paramLabel = "ID", description = "Token or API key id.")
    String id;

    @Override
    int run() {
      api().delete("/api/v1/tokens/" + id);
      System.err.println("revoked " + id);
      return 0;
    }
  }
}
