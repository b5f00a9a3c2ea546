package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gatehouse sessions list|show|replay}. */
@Command(
    name = "sessions",
    description = "List recorded sessions, show one as a timeline, or replay it.",
    mixinStandardHelpOptions = true,
    subcommands = {
      SessionCommands.ListSessions.class,
      SessionCommands.Show.class,
      SessionCommands.Replay.class
    })
final class SessionCommands {

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List recent sessions.")
  static final class ListSessions extends ApiCommand {
    @Option(names = "--user", description = "Only this subject's sessions.")
    String user;

    @Option(names = "--connection", description = "Only sessions on this connection.")
    String connection;

    @Option(names = "--limit", defaultValue = "50", description = "At most this many (default 50).")
    int limit;

    @Override
    int run() {
      StringBuilder q = new StringBuilder("/api/v1/sessions?limit=" + limit);
      if (user != null) {
        q.append("&subject=").append(java.net.URLEncoder.encode(user, StandardCharsets.UTF_8));
      }
      if (connection != null) {
        q.append("&connection=")
            .append(java.net.URLEncoder.encode(connection, StandardCharsets.UTF_8));
      }
      list(
          api().get(q.toString()),
          "id",
          "subject",
          "connection",
          "protocol",
          "started_at",
          "ended_at",
          "actions");
      return 0;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Show a session: every action, its decision and outcome.")
  static final class Show extends ApiCommand {
    @Parameters(paramLabel = "ID")
    String id;

    @Override
    int run() throws Exception {
      if (json()) {
        Output.json(System.out, api().get("/api/v1/sessions/" + id));
        return 0;
      }
      try (InputStream in = api().stream("/api/v1/sessions/" + id + "/timeline")) {
        in.transferTo(System.out);
      }
      return 0;
    }
  }

  @Command(
      name = "replay",
      mixinStandardHelpOptions = true,
      description = {
        "Replay a session in the terminal: terminal sessions play back with their timing;",
        "SQL sessions print their timeline. --asciicast writes asciicast v2 for asciinema."
      })
  static final class Replay extends ApiCommand {
    @Parameters(paramLabel = "ID")
    String id;

    @Option(names = "--speed", defaultValue = "1.0", description = "Playback speed factor.")
    double speed;

    @Option(names = "--asciicast", description = "Print the raw asciicast v2 instead of playing.")
    boolean raw;

    @Override
    int run() throws Exception {
      try (InputStream in = api().stream("/api/v1/sessions/" + id + "/asciicast")) {
        if (raw) {
          in.transferTo(System.out);
          return 0;
        }
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        r.readLine(); // header
        double last = 0;
        String line;
        while ((line = r.readLine()) != null) {
          JsonNode ev = api().json().readTree(line);
          double t = ev.get(0).asDouble();
          long waitMs = (long) Math.min(2000, Math.max(0, (t - last) * 1000 / speed));
          last = t;
          if (waitMs > 0) {
            Thread.sleep(waitMs);
          }
          if ("o".equals(ev.get(1).asText())) {
            System.out.print(ev.get(2).asText());
            System.out.flush();
          }
        }
      }
      System.out.println();
      return 0;
    }
  }
}
