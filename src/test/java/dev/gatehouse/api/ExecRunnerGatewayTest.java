package dev.gatehouse.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.server.GatehouseServer;
import dev.gatehouse.testing.TargetSshd;
import java.io.DataInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole gateway with an exec connection whose runner is an ssh connection to a real sshd: the
 * exec API (frames, signal), the CLI and the SSH listener all run the command on the target.
 */
class ExecRunnerGatewayTest {
  static final String SECRET = "tok_remote_4e8a1c93d70b2f56";

  @TempDir static Path dir;
  static TargetSshd sshd;
  static GatehouseServer server;
  static HttpClient http;
  static String alice;
  static Path aliceKey;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(TargetSshd.available(), "OpenSSH server not installed");
    sshd = new TargetSshd(dir.resolve("sshd"));
    aliceKey = TargetSshd.keygen(dir.resolve("sshd/alice"));
    Path policies = Files.createDirectories(dir.resolve("policies"));
    Files.writeString(
        policies.resolve("exec.yaml"),
        """
        version: 1
        rules:
          - id: no-rm
            subjects: { groups: [dev] }
            effect: deny
            command: { binary: rm }
            reason: Nobody deletes files here.
          - id: dev-remote
            subjects: { groups: [dev] }
            connections: { names: [remote] }
            effect: allow
            command: { binary: [echo, sh, sleep] }
        """);
    String yaml =
        """
        server:
          data_dir: data
          api: { host: 127.0.0.1, port: 0 }
          postgres: { enabled: false }
          ssh: { host: 127.0.0.1, port: 0 }
        identity:
          users:
            - { subject: alice, kind: human, groups: [dev], role: user, ssh_keys: ["%s"] }
        connections:
          - name: build-host
            type: ssh
            host: 127.0.0.1
            port: %d
            username: %s
            ssh: { host_keys: ["%s"], private_key: "${env:RUNNER_KEY}" }
          - name: remote
            type: exec
            exec:
              runner: build-host
              binaries: [/usr/bin/echo, /bin/sh, /usr/bin/sleep, /usr/bin/rm]
              secrets:
                - { name: API_TOKEN, value: "${env:REMOTE_TOKEN}" }
              timeout: 2m
        policy:
          files: [policies/*.yaml]
        """
            .formatted(TargetSshd.pubLine(aliceKey), sshd.port, sshd.user, sshd.hostKeyLine());
    GatehouseConfig cfg =
        ConfigLoader.parse(
            yaml,
            "runner-test.yaml",
            dir,
            Map.of("RUNNER_KEY", sshd.privateKey(), "REMOTE_TOKEN", SECRET));
    server = GatehouseServer.start(cfg);
    http = GatewayFixture.trustingClient(server.tls().certificateFile());
    alice = server.tokens().issueForUser("alice", null, Set.of(), "test").secret();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (sshd != null) {
      sshd.close();
    }
  }

  record Run(int exit, String out, String err) {}

  static Run run(List<String> cmd, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p = pb.start();
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("finished").isTrue();
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  @Test
  void cliRunsTheCommandOnTheTarget() throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.gatehouse.Gatehouse"));
    cmd.addAll(
        List.of(
            "exec",
            "remote",
            "--",
            "sh",
            "-c",
            "echo \"on $(hostname) token=$API_TOKEN\"; exit 4"));
    Run r =
        run(
            cmd,
            Map.of(
                "GATEHOUSE_API", server.apiUrl(),
                "GATEHOUSE_CACERT", server.tls().certificateFile().toString(),
                "GATEHOUSE_TOKEN", alice,
                "XDG_CONFIG_HOME", Files.createDirectories(dir.resolve("xdg")).toString()));
    assertThat(r.exit()).as(r.err()).isEqualTo(4);
    assertThat(r.out()).startsWith("on ").contains("token=").doesNotContain(SECRET);
  }

  @Test
  void sshListenerRunsTheCommandOnTheTarget() throws Exception {
    List<String> ssh =
        List.of(
            "/usr/bin/ssh",
            "-F",
            "/dev/null",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentityAgent=none",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-i",
            aliceKey.toString(),
            "-p",
            String.valueOf(server.sshPort()),
            "alice+remote@127.0.0.1");
    List<String> ok = new ArrayList<>(ssh);
    ok.add("sh -c 'echo through the listener; echo token=$API_TOKEN; exit 5'");
    Run r = run(ok, Map.of());
    assertThat(r.exit()).as(r.err()).isEqualTo(5);
    assertThat(r.out()).startsWith("through the listener\ntoken=").doesNotContain(SECRET);
    List<String> denied = new ArrayList<>(ssh);
    denied.add("rm -rf /tmp/x");
    Run d = run(denied, Map.of());
    assertThat(d.exit()).isEqualTo(126);
    assertThat(d.err()).contains("gatehouse: denied by rule no-rm");
  }

  @Test
  void apiStreamsFramesAndSignalsReachTheTarget() throws Exception {
    HttpResponse<InputStream> resp =
        http.send(
            HttpRequest.newBuilder(URI.create(server.apiUrl() + "/api/v1/exec"))
                .header("Authorization", "Bearer " + alice)
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"connection\":\"remote\",\"argv\":[\"sh\",\"-c\",\"echo ready"
                            + " $API_TOKEN; exec sleep 3037\"]}"))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertThat(resp.statusCode()).isEqualTo(200);
    try (DataInputStream in = new DataInputStream(resp.body())) {
      assertThat(in.readUnsignedByte()).isEqualTo(ExecApi.STARTED);
      var started = GatewayFixture.JSON.readTree(in.readNBytes(in.readInt()));
      String execId = started.path("exec_id").asText();
      StringBuilder out = new StringBuilder();
      while (!out.toString().contains("ready")) {
        int type = in.readUnsignedByte();
        byte[] data = in.readNBytes(in.readInt());
        if (type == ExecApi.STDOUT) {
          out.append(new String(data, StandardCharsets.UTF_8));
        }
      }
      HttpResponse<String> sig =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(server.apiUrl() + "/api/v1/exec/" + execId + "/signal"))
                  .header("Authorization", "Bearer " + alice)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"signal\":\"TERM\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(sig.statusCode()).isEqualTo(204);
      int status = -1;
      while (status < 0) {
        int type = in.readUnsignedByte();
        byte[] data = in.readNBytes(in.readInt());
        if (type == ExecApi.STDOUT) {
          out.append(new String(data, StandardCharsets.UTF_8));
        } else if (type == ExecApi.EXIT) {
          status = java.nio.ByteBuffer.wrap(data).getInt();
        }
      }
      assertThat(status).isEqualTo(128 + 15);
      assertThat(out.toString()).startsWith("ready").doesNotContain(SECRET);
    }
  }
}
