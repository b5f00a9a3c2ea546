package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gatehouse exec CONNECTION [--env K=V]... [--cwd DIR] -- ARGV...}: runs a command on an
 * exec connection through the gateway, streams its stdout and stderr, forwards stdin and Ctrl-C,
 * and exits with the command's exit status (126 when the gateway refused it).
 *
 * <p>Speaks the frame stream of {@code POST /api/v1/exec} (see docs/exec.md).
 */
@Command(
    name = "exec",
    mixinStandardHelpOptions = true,
    description = {
      "Run a command on an exec connection; exits with the command's status.",
      "126: refused by the gateway (the reason is on stderr), 127: could not start,",
      "128+N: killed by signal N, 255: the gateway could not be asked.",
      "Example: gatehouse exec build-runner --env CI=1 -- npm test"
    })
final class ExecCommand extends ApiCommand {
  /** Exit status when the gateway itself failed (unreachable, not logged in), as ssh(1) does. */
  static final int GATEWAY_FAILED = 255;

  /** The gateway's frames are at most a few KiB; anything this large is a broken stream. */
  static final int MAX_FRAME = 16 << 20;

  @Parameters(index = "0", paramLabel = "CONNECTION", description = "Exec connection name.")
  String connection;

  @Parameters(
      index = "1..*",
      arity = "1..*",
      paramLabel = "ARGV",
      description = "The command and its arguments (put -- before them).")
  List<String> argv = new ArrayList<>();

  @Option(
      names = {"-e", "--env"},
      paramLabel = "NAME=VALUE",
      description = "Set a variable (only those the connection's env_allow and the policy allow).")
  List<String> env = new ArrayList<>();

  @Option(names = "--cwd", paramLabel = "DIR", description = "Working directory in the workspace.")
  String cwd;

  @Option(
      names = {"-j", "--justification"},
      paramLabel = "TEXT",
      description = "Why you run it; shown to reviewers when the command is held for approval.")
  String justification;

  @Option(
      names = {"-n", "--no-stdin"},
      description = "Do not forward stdin (the command reads end-of-file).")
  boolean noStdin;

  private volatile String execId;
  private volatile boolean interruptPending;

  @Override
  int run() throws Exception {
    Map<String, String> vars = new LinkedHashMap<>();
    for (String kv : env) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new CliException(CliException.USAGE, "--env " + kv + " (expected NAME=VALUE)");
      }
      vars.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("connection", connection);
    body.put("argv", argv);
    body.put("env", vars);
    if (cwd != null) {
      body.put("cwd", cwd);
    }
    if (justification != null) {
      body.put("justification", justification);
    }
    body.put("stdin", !noStdin);
    ApiClient api = api();
    // Before the request: a Ctrl-C while the gateway starts the command must reach it too.
    forwardInterrupts(api);
    InputStream stream;
    try {
      stream = api.postStream("/api/v1/exec", body);
    } catch (CliException e) {
      System.err.println("gatehouse: " + e.getMessage());
      return e.exitCode() == CliException.AUTH && e.getMessage().contains("HTTP 403")
          ? 126
          : GATEWAY_FAILED;
    }
    try (DataInputStream in = new DataInputStream(stream)) {
      return relay(api, in);
    }
  }

  private int relay(ApiClient api, DataInputStream in) throws IOException {
    OutputStream out = new FileOutputStream(FileDescriptor.out);
    OutputStream err = new FileOutputStream(FileDescriptor.err);
    while (true) {
      int type;
      byte[] data;
      try {
        type = in.readUnsignedByte();
        int len = in.readInt();
        if (len < 0 || len > MAX_FRAME) {
          throw new IOException("frame of " + len + " bytes (at most " + MAX_FRAME + ")");
        }
        data = in.readNBytes(len);
        if (data.length < len) {
          throw new EOFException();
        }
      } catch (EOFException e) {
        System.err.println("gatehouse: the gateway ended the stream before the command ended");
        return GATEWAY_FAILED;
      }
      switch (type) {
        case 0 -> started(api, data);
        case 1 -> {
          try {
            out.write(data);
            out.flush();
          } catch (IOException e) {
            // Our stdout is gone (gatehouse exec ... | head -1): end as a pipeline would, with
            // SIGPIPE's status; closing the stream tells the gateway to kill the command.
            return 128 + 13;
          }
        }
        case 2 -> {
          err.write(data);
          err.flush();
        }
        case 3 -> {
          return java.nio.ByteBuffer.wrap(data).getInt();
        }
        case 4, 5 -> {
          err.write(
              ("gatehouse: " + new String(data, StandardCharsets.UTF_8) + "\n")
                  .getBytes(StandardCharsets.UTF_8));
          err.flush();
        }
        default -> {
          // 6 keepalive, and frame types of newer gateways: ignore
        }
      }
    }
  }

  private void started(ApiClient api, byte[] data) throws IOException {
    JsonNode j = api.json().readTree(data);
    execId = j.path("exec_id").asText();
    if (interruptPending) {
      sendInterrupt(api);
    }
    if (!noStdin) {
      Thread t = new Thread(() -> forwardStdin(api), "gatehouse-exec-stdin");
      t.setDaemon(true);
      t.start();
    }
  }

  private void forwardStdin(ApiClient api) {
    String path = "/api/v1/exec/" + execId + "/stdin";
    byte[] buf = new byte[64 * 1024];
    try {
      int n;
      while ((n = System.in.read(buf)) > 0) {
        api.postBytes(path, java.util.Arrays.copyOf(buf, n));
      }
      api.postBytes(path + "?eof=true", new byte[0]);
    } catch (IOException | CliException e) {
      // the command ended (or stopped reading); its exit frame tells the rest
    }
  }

  private void sendInterrupt(ApiClient api) {
    String id = execId;
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                api.post("/api/v1/exec/" + id + "/signal", Map.of("signal", "INT"));
              } catch (CliException e) {
                // already ended
              }
            });
  }

  /** Ctrl-C is sent to the command (SIGINT to its process group), not acted on here. */
  @SuppressWarnings("sunapi")
  private void forwardInterrupts(ApiClient api) {
    try {
      sun.misc.Signal.handle(
          new sun.misc.Signal("INT"),
          sig -> {
            if (execId == null) {
              interruptPending = true; // sent as soon as the gateway says which command it is
            } else {
              sendInterrupt(api);
            }
          });
    } catch (IllegalArgumentException e) {
      // INT is ignored by whoever started us (a background job): nothing to forward
    }
  }
}
