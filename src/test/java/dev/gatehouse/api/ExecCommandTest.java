package dev.gatehouse.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.approval.ReviewView;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gate.AuthAttempt;
import dev.gatehouse.server.GatehouseServer;
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
 * {@code gatehouse exec} end to end: a real gateway with an exec connection, the CLI in its own
 * process (stdin, streamed output, exit status, Ctrl-C), and the frame API directly.
 */
class ExecCommandTest {
  static final String SECRET = "tok_exec_91c2d7e4a8b3f605";

  static final String POLICY =
      """
    version: 1
    rules:
      - id: no-rm
        subjects: { groups: [dev] }
        effect: deny
        command: { binary: rm }
        reason: Nobody deletes files here.
      - id: dev-tools
        subjects: { groups: [dev] }
        connections: { names: [tools] }
        effect: allow
        command: { binary: [echo, cat, sh, sleep], env: [CI] }
      - id: no-npm-publish
        subjects: { groups: [dev] }
        effect: deny
        command: { binary: npm, args: [publish] }
        reason: Packages are published by the release pipeline.
      - id: npm-test
        subjects: { groups: [dev] }
        connections: { names: [tools] }
        effect: allow
        command: { binary: npm, subcommand: [test], flags: { allowed: [--ignore-scripts, --silent] } }
      - id: touch-needs-ops
        subjects: { groups: [dev] }
        connections: { names: [tools] }
        effect: review
        review: { groups: [ops] }
        command: { binary: touch }
    """;

  @TempDir static Path dir;
  static GatehouseServer server;
  static HttpClient http;
  static String alice;
  static String bob;

  @BeforeAll
  static void start() throws Exception {
    Path policies = Files.createDirectories(dir.resolve("policies"));
    Files.writeString(policies.resolve("exec.yaml"), POLICY);
    String yaml =
        """
        server:
          data_dir: data
          api: { host: 127.0.0.1, port: 0 }
          postgres: { enabled: false }
          ssh: { enabled: false }
        identity:
          users:
            - { subject: alice, kind: human, groups: [dev], role: user }
            - { subject: bob, kind: human, groups: [dev], role: user }
            - { subject: olga, kind: human, groups: [ops], role: user }
        connections:
          - name: tools
            type: exec
            exec:
              binaries: [/usr/bin/echo, /usr/bin/cat, /bin/sh, /usr/bin/sleep, /usr/bin/rm, /usr/bin/touch, /usr/bin/npm]
              env_allow: [CI]
              secrets:
                - { name: API_TOKEN, value: "${env:TOOLS_TOKEN}" }
              timeout: 2m
        policy:
          files: [policies/*.yaml]
        """;
    GatehouseConfig cfg =
        ConfigLoader.parse(yaml, "exec-test.yaml", dir, Map.of("TOOLS_TOKEN", SECRET));
    server = GatehouseServer.start(cfg);
    http = GatewayFixture.trustingClient(server.tls().certificateFile());
    alice = server.tokens().issueForUser("alice", null, Set.of(), "test").secret();
    bob = server.tokens().issueForUser("bob", null, Set.of(), "test").secret();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  record Run(int exit, String out, String err) {}

  /** POSTs an exec request as alice; the answer is the frame stream. */
  static HttpResponse<InputStream> startExec(String json) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(server.apiUrl() + "/api/v1/exec"))
            .header("Authorization", "Bearer " + alice)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofInputStream());
  }

  static Run finish(Process p) throws Exception {
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("gatehouse exec finished").isTrue();
    return new Run(p.exitValue(), read(p, true), read(p, false));
  }

  /** stdout and stderr files of each CLI process. */
  private static final Map<Process, Path[]> FILES = new java.util.concurrent.ConcurrentHashMap<>();

  static String read(Process p, boolean out) throws Exception {
    return Files.readString(FILES.get(p)[out ? 0 : 1]);
  }

  /** Starts {@code gatehouse exec ARGS} in its own JVM, with SIGINT at its default disposition. */
  static Process cliWithFiles(List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>();
    // A test runner started in the background ignores SIGINT, and so would the CLI JVM.
    cmd.addAll(List.of("/usr/bin/env", "--default-signal=INT"));
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.gatehouse.Gatehouse"));
    cmd.add("exec");
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("GATEHOUSE_API", server.apiUrl());
    pb.environment().put("GATEHOUSE_CACERT", server.tls().certificateFile().toString());
    pb.environment().put("GATEHOUSE_TOKEN", alice);
    pb.environment().put("XDG_CONFIG_HOME", Files.createDirectories(dir.resolve("xdg")).toString());
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    FILES.put(p, new Path[] {out, err});
    return p;
  }

  @Test
  void stdinIsForwardedAndOutputStreamed() throws Exception {
    Process p = cliWithFiles(List.of("tools", "--", "cat"));
    p.getOutputStream().write("hello through the gate\n".getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    Run r = finish(p);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("hello through the gate\n");
  }

  @Test
  void exitStatusStderrAndMaskedSecretsComeThrough() throws Exception {
    Process p =
        cliWithFiles(
            List.of(
                "tools",
                "-n",
                "--env",
                "CI=yes",
                "--",
                "sh",
                "-c",
                "echo \"ci=$CI token=$API_TOKEN\"; echo oops >&2; exit 7"));
    Run r = finish(p);
    assertThat(r.exit()).isEqualTo(7);
    assertThat(r.out()).startsWith("ci=yes token=").doesNotContain(SECRET);
    assertThat(r.err()).isEqualTo("oops\n");
  }

  @Test
  void deniedCommandExits126WithTheRule() throws Exception {
    Run r = finish(cliWithFiles(List.of("tools", "-n", "--", "rm", "-rf", "/")));
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("gatehouse: denied by rule no-rm: Nobody deletes files here.\n");
  }

  /**
   * npm reads {@code --ignore-scripts=config} as the Boolean {@code --ignore-scripts} and the word
   * {@code config}, its command (nopt; red team rt20exec): before the fix the rule for {@code npm
   * test} let npm 11 run {@code npm config test get ignore-scripts}.
   */
  @Test
  void npmBooleanWithAValueRunsNoOtherCommand() throws Exception {
    Run r =
        finish(
            cliWithFiles(
                List.of(
                    "tools", "--", "npm", "--ignore-scripts=config", "test", "get", "registry")));
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("gatehouse: denied");
    Run publish = finish(cliWithFiles(List.of("tools", "--", "npm", "--silent=publish", "test")));
    assertThat(publish.exit()).isEqualTo(126);
    assertThat(publish.err())
        .isEqualTo(
            "gatehouse: denied by rule no-npm-publish: Packages are published by the release"
                + " pipeline.\n");
  }

  @Test
  void ctrlCInterruptsTheCommand() throws Exception {
    Process p = cliWithFiles(List.of("tools", "-n", "--", "sleep", "30.7771"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!running("30.7771")) {
      assertThat(System.nanoTime()).as("sleep started").isLessThan(deadline);
      assertThat(p.isAlive()).as(read(p, false)).isTrue();
      Thread.sleep(100);
    }
    new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
    Run r = finish(p);
    assertThat(r.exit()).as(r.err()).isEqualTo(130);
    // the exit frame is sent after the command ended, so it is gone by now
    assertThat(running("30.7771")).as("sleep still running").isFalse();
  }

  @Test
  void heldCommandRunsAfterApproval() throws Exception {
    Process p = cliWithFiles(List.of("tools", "-n", "--", "touch", "approved"));
    String id = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (id == null) {
      assertThat(System.nanoTime()).as("review filed").isLessThan(deadline);
      for (ReviewView v : server.reviews().list("pending", 10)) {
        if (v.subject().equals("alice")) {
          id = v.id();
        }
      }
      Thread.sleep(100);
    }
    Thread.sleep(300);
    assertThat(read(p, false)).contains("gatehouse: ").contains(id);
    assertThat(p.isAlive()).isTrue();
    String olga = server.tokens().issueForUser("olga", null, Set.of(), "test").secret();
    server
        .reviews()
        .approve(id, server.gate().authenticate(olga, new AuthAttempt("test", null, null)), "fine");
    Run r = finish(p);
    assertThat(r.exit()).as(r.err()).isZero();
  }

  /** The frame API directly: ids, ownership of signals, the recording. */
  @Test
  void onlyTheStarterMaySignalAndTheRunIsRecorded() throws Exception {
    HttpResponse<InputStream> resp =
        startExec(
            "{\"connection\":\"tools\",\"argv\":[\"sh\",\"-c\",\"echo ready;"
                + " echo $API_TOKEN; sleep 30\"]}");
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.headers().firstValue("Content-Type")).hasValue(ExecApi.MEDIA_TYPE);
    try (DataInputStream in = new DataInputStream(resp.body())) {
      assertThat(in.readUnsignedByte()).isEqualTo(ExecApi.STARTED);
      var started = GatewayFixture.JSON.readTree(in.readNBytes(in.readInt()));
      String execId = started.path("exec_id").asText();
      String sessionId = started.path("session_id").asText();
      assertThat(execId).startsWith("ex_");
      assertThat(in.readUnsignedByte()).isEqualTo(ExecApi.STDOUT);
      StringBuilder out = new StringBuilder(new String(in.readNBytes(in.readInt())));
      assertThat(out.toString()).startsWith("ready");

      assertThat(signal(bob, execId, "TERM").statusCode()).isEqualTo(404);
      assertThat(signal(alice, execId, "STOP").statusCode()).isEqualTo(400);
      assertThat(signal(alice, execId, "TERM").statusCode()).isEqualTo(204);
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
      assertThat(out.toString()).doesNotContain(SECRET);
      HttpResponse<String> cast =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(server.apiUrl() + "/api/v1/sessions/" + sessionId + "/asciicast"))
                  .header("Authorization", "Bearer " + alice)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(cast.statusCode()).isEqualTo(200);
      assertThat(cast.body()).contains("ready").doesNotContain(SECRET);
    }
  }

  /**
   * A credential the caller typed into argv (a GitHub token; a password known as one only by the
   * flag before it) runs as typed but is stored only masked: the recording's text and its argv
   * attribute, which the sessions API serves.
   */
  @Test
  void argvIsRecordedMasked() throws Exception {
    String typed = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
    // A word that is a password only because of the word before it.
    String word = "Zq8vK2mLp4Xw";
    HttpResponse<InputStream> resp =
        startExec(
            "{\"connection\":\"tools\",\"argv\":[\"echo\",\"--token="
                + typed
                + "\",\"--password\",\""
                + word
                + "\"]}");
    assertThat(resp.statusCode()).isEqualTo(200);
    String sessionId;
    try (DataInputStream in = new DataInputStream(resp.body())) {
      assertThat(in.readUnsignedByte()).isEqualTo(ExecApi.STARTED);
      sessionId =
          GatewayFixture.JSON.readTree(in.readNBytes(in.readInt())).path("session_id").asText();
      in.readAllBytes();
    }
    HttpResponse<String> session =
        http.send(
            HttpRequest.newBuilder(URI.create(server.apiUrl() + "/api/v1/sessions/" + sessionId))
                .header("Authorization", "Bearer " + alice)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(session.statusCode()).isEqualTo(200);
    assertThat(session.body())
        .contains("\"argv\"")
        .contains("--token=")
        .contains("--password")
        .doesNotContain(typed)
        .doesNotContain(word);
  }

  @Test
  void aPolicyReloadThatRevokesTheConnectionStopsTheCommandAndSaysWhy() throws Exception {
    Process p = cliWithFiles(List.of("tools", "-n", "--", "sleep", "30.9991"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!running("30.9991")) {
      assertThat(System.nanoTime()).as("sleep started").isLessThan(deadline);
      assertThat(p.isAlive()).as(read(p, false)).isTrue();
      Thread.sleep(100);
    }
    Path file = dir.resolve("policies/exec.yaml");
    try {
      // alice's group no longer gets any rule (a rule that holds an action for review lets its
      // subjects connect too)
      Files.writeString(file, POLICY.replace("groups: [dev]", "groups: [former-dev]"));
      assertThat(server.policy().reload()).isTrue();
      // the gate's sweeper decides the CONNECT again within a second and ends the session
      assertThat(p.waitFor(6, TimeUnit.SECONDS)).as("stopped promptly: " + read(p, false)).isTrue();
    } finally {
      Files.writeString(file, POLICY);
      assertThat(server.policy().reload()).isTrue();
    }
    Run r = finish(p);
    assertThat(r.exit()).as(r.err()).isEqualTo(128 + 15);
    assertThat(r.err())
        .contains(
            "gatehouse: command killed: the session ended: the policy no longer lets \"alice\""
                + " connect to \"tools\"");
    assertThat(running("30.9991")).as("sleep still running").isFalse();
  }

  @Test
  void callerThatVanishesWhileTheCommandIsSilentKillsIt() throws Exception {
    HttpResponse<InputStream> resp =
        startExec("{\"connection\":\"tools\",\"argv\":[\"sleep\",\"30.8881\"]}");
    assertThat(resp.statusCode()).isEqualTo(200);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!running("30.8881")) {
      assertThat(System.nanoTime()).as("sleep started").isLessThan(deadline);
      Thread.sleep(100);
    }
    resp.body().close(); // the caller goes away without a word
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(25);
    while (running("30.8881")) {
      assertThat(System.nanoTime()).as("keepalive noticed the caller is gone").isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  @Test
  void unknownConnectionIsAProblemBeforeTheStream() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(server.apiUrl() + "/api/v1/exec"))
                .header("Authorization", "Bearer " + alice)
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"connection\":\"nope\",\"argv\":[\"echo\"]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
  }

  static HttpResponse<String> signal(String token, String execId, String sig) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(server.apiUrl() + "/api/v1/exec/" + execId + "/signal"))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"signal\":\"" + sig + "\"}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static boolean running(String marker) throws Exception {
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(x -> x.getFileName().toString().matches("\\d+")).toList()) {
        try {
          // argv[0] is the resolved binary; the CLI's own java command line also holds the marker
          String s = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
          if (s.equals("/usr/bin/sleep\0" + marker + "\0")) {
            return true;
          }
        } catch (java.io.IOException e) {
          // gone
        }
      }
    }
    return false;
  }
}
