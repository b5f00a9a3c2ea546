package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gatehouse reviews list|show|approve|deny} and {@code gatehouse access request|grants}:
 * just-in-time approvals from the terminal. See docs/approvals.md.
 */
final class ReviewCommands {
  private ReviewCommands() {}

  /** Adds {@code reviews} and {@code access} to the root command. */
  static void register(CommandLine root) {
    root.addSubcommand(new CommandLine(new Reviews()));
    root.addSubcommand(new CommandLine(new Access()));
  }

  @Command(
      name = "reviews",
      description = "List, show, approve and deny requests held for review.",
      mixinStandardHelpOptions = true,
      subcommands = {ListReviews.class, Show.class, Approve.class, Deny.class})
  static final class Reviews {}

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List reviews you can see (yours, those you may vote on; auditors: all).")
  static final class ListReviews extends ApiCommand {
    @Option(
        names = "--state",
        defaultValue = "pending",
        description = "pending, approved, denied, expired or all (default: ${DEFAULT-VALUE}).")
    String state;

    @Option(names = "--limit", defaultValue = "50", description = "At most this many (1..500).")
    int limit;

    @Override
    int run() {
      list(
          api().get("/api/v1/reviews?state=" + encode(state) + "&limit=" + limit),
          "id",
          "state",
          "requester",
          "connection",
          "statement",
          "reviewers",
          "approvals",
          "approvals_required",
          "expires_at");
      return 0;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Show one review: the full statement, who asked, the rule, votes, state.")
  static final class Show extends ApiCommand {
    @Parameters(paramLabel = "ID", description = "Review id (rv_…).")
    String id;

    @Override
    int run() {
      print(this, api().get("/api/v1/reviews/" + encode(id)));
      return 0;
    }
  }

  @Command(
      name = "approve",
      mixinStandardHelpOptions = true,
      description = {
        "Approve a review as yourself. You must be in one of its reviewer groups;",
        "your own requests never count."
      })
  static final class Approve extends ApiCommand {
    @Parameters(paramLabel = "ID", description = "Review id (rv_…).")
    String id;

    @Option(names = "--reason", description = "Why (recorded in the audit log).")
    String reason;

    @Override
    int run() {
      JsonNode r = vote(this, id, "approve", reason);
      if (!json()) {
        System.err.println(
            r.get("state").asText().equals("approved")
                ? "approved " + id + "; the held request runs now (or on its re-run)"
                : "vote recorded; "
                    + r.get("approvals").asText()
                    + " of "
                    + r.get("approvals_required").asText()
                    + " approvals so far");
      }
      return 0;
    }
  }

  @Command(
      name = "deny",
      mixinStandardHelpOptions = true,
      description = "Deny a review; the requester sees your reason.")
  static final class Deny extends ApiCommand {
    @Parameters(paramLabel = "ID", description = "Review id (rv_…).")
    String id;

    @Option(names = "--reason", description = "Why (shown to the requester).")
    String reason;

    @Override
    int run() {
      vote(this, id, "deny", reason);
      if (!json()) {
        System.err.println("denied " + id);
      }
      return 0;
    }
  }

  @Command(
      name = "access",
      description = "Ask for time-boxed access to a role on a connection, and list grants.",
      mixinStandardHelpOptions = true,
      subcommands = {Request.class, Grants.class})
  static final class Access {}

  @Command(
      name = "request",
      mixinStandardHelpOptions = true,
      description = {
        "Ask for a role on a connection for a while. Once approved, the role is active until",
        "the duration has passed, even in sessions already open."
      })
  static final class Request extends ApiCommand {
    @Parameters(paramLabel = "CONNECTION", description = "Connection name.")
    String connection;

    @Option(names = "--role", required = true, description = "Role to ask for.")
    String role;

    @Option(
        names = "--for",
        required = true,
        description = "How long, from approval: 30m, 2h, 1h30m (at most 1d).")
    String duration;

    @Option(names = "--reason", description = "Why you need it (a ticket, an incident).")
    String reason;

    @Override
    int run() {
      ObjectNode body = api().json().createObjectNode();
      body.put("connection", connection);
      body.put("role", role);
      body.put("duration", duration);
      if (reason != null) {
        body.put("reason", reason);
      }
      JsonNode r = api().post("/api/v1/access/requests", body);
      if (json()) {
        Output.json(System.out, r);
      } else {
        System.out.println(r.get("review_id").asText());
        System.err.println(
            "requested role "
                + role
                + " on "
                + connection
                + " for "
                + duration
                + "; waiting for approval of review "
                + r.get("review_id").asText());
      }
      return 0;
    }
  }

  @Command(name = "grants", mixinStandardHelpOptions = true, description = "List grants.")
  static final class Grants extends ApiCommand {
    @Option(names = "--all", description = "Everyone's grants (auditors and admins).")
    boolean all;

    @Override
    int run() {
      list(
          api().get("/api/v1/access/grants" + (all ? "?all=true" : "")),
          "review_id",
          "state",
          "subject",
          "connection",
          "role",
          "duration",
          "starts_at",
          "ends_at");
      return 0;
    }
  }

  private static JsonNode vote(ApiCommand cmd, String id, String verdict, String reason) {
    ObjectNode body = cmd.api().json().createObjectNode();
    if (reason != null) {
      body.put("reason", reason);
    }
    JsonNode r = cmd.api().post("/api/v1/reviews/" + encode(id) + "/" + verdict, body);
    if (cmd.json()) {
      Output.json(System.out, r);
    }
    return r;
  }

  /** Fields first, then the votes as a table (a nested array reads badly as one cell). */
  private static void print(ApiCommand cmd, JsonNode review) {
    if (cmd.json()) {
      Output.json(System.out, review);
      return;
    }
    ObjectNode fields = review.deepCopy();
    JsonNode votes = fields.remove("votes");
    Output.fields(System.out, fields);
    if (votes != null && !votes.isEmpty()) {
      System.out.println();
      Output.table(System.out, votes, "reviewer", "vote", "reason", "at");
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
