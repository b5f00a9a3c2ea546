package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gatehouse audit verify|export}. */
@Command(
    name = "audit",
    description = "Verify and export the tamper-evident audit log.",
    mixinStandardHelpOptions = true,
    subcommands = {AuditCommands.Verify.class, AuditCommands.Export.class})
final class AuditCommands {

  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Recompute the hash chain and check signed checkpoints.",
        "Exit 0 when intact; 1 naming the first modified, deleted or reordered record."
      })
  static final class Verify extends ApiCommand {
    @Override
    int run() {
      JsonNode r = api().get("/api/v1/audit/verify");
      if (json()) {
        Output.json(System.out, r);
      } else if (r.path("ok").asBoolean()) {
        System.out.println(
            "audit log intact: "
                + r.path("records").asLong()
                + " records, "
                + r.path("checkpoints").asLong()
                + " signed checkpoints");
      } else {
        System.out.println("audit log TAMPERED: " + r.path("problem").asText());
      }
      return r.path("ok").asBoolean() ? 0 : CliException.FAILED;
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description = "Export audit records as JSON Lines (for SIEMs) to standard output.")
  static final class Export extends ApiCommand {
    @Option(names = "--format", defaultValue = "jsonl", description = "Only jsonl for now.")
    String format;

    @Option(names = "--since", description = "ISO-8601 instant, e.g. 2026-11-01T00:00:00Z.")
    String since;

    @Option(names = "--after-seq", description = "Only records after this sequence number.")
    Long afterSeq;

    @Override
    int run() throws Exception {
      if (!"jsonl".equals(format)) {
        throw new CliException(CliException.USAGE, "--format " + format + " (expected: jsonl)");
      }
      StringBuilder q = new StringBuilder("/api/v1/audit/export?format=jsonl");
      if (since != null) {
        q.append("&since=").append(URLEncoder.encode(since, StandardCharsets.UTF_8));
      }
      if (afterSeq != null) {
        q.append("&after=").append(afterSeq);
      }
      try (InputStream in = api().stream(q.toString())) {
        in.transferTo(System.out);
      }
      System.out.flush();
      return 0;
    }
  }
}
