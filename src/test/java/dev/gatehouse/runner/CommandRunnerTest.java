package dev.gatehouse.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.runner.RunnerKit.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real processes through the whole exec flow: resolve, authorize, sandbox, mask, record. */
class CommandRunnerTest {
  @TempDir static Path dir;
  static RunnerKit kit;

  @BeforeAll
  static void start() throws Exception {
    kit = new RunnerKit(dir);
    kit.connection("tools", kit.exec("none", true, Duration.ofSeconds(30), 1 << 20));
    kit.connection("tools-fast", kit.exec("none", true, Duration.ofSeconds(2), 1 << 20));
    kit.connection("tools-small", kit.exec("none", true, Duration.ofSeconds(30), 64 * 1024));
    kit.connection("tools-boxed", kit.exec("bubblewrap", false, Duration.ofSeconds(30), 1 << 20));
    ExecConfig base = kit.exec("none", true, Duration.ofSeconds(30), 1 << 20);
    kit.connection(
        "tools-limited",
        new ExecConfig(
            base.binaries(),
            "fresh",
            null,
            base.env(),
            base.envAllow(),
            base.secrets(),
            base.timeout(),
            base.maxOutput(),
            512L << 20,
            Duration.ofSeconds(7),
            4096,
            "none",
            true,
            null,
            null,
            List.of()));
    // a fixed workspace is the operator's: here writable by anyone, so also by run_as nobody
    Files.createDirectories(dir.resolve("fixed/sub"));
    Files.setPosixFilePermissions(
        dir.resolve("fixed/sub"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    kit.connection(
        "tools-fixed",
        new ExecConfig(
            base.binaries(),
            "fixed",
            dir.resolve("fixed"),
            base.env(),
            base.envAllow(),
            base.secrets(),
            base.timeout(),
            base.maxOutput(),
            0,
            Duration.ZERO,
            0,
            "none",
            true,
            null,
            null,
            List.of()));
  }

  /** A fixed workdir in bubblewrap: the job's HOME is bound into the sandbox writable. */
  /**
   * Each command registers a hook to stop it when its session ends; a finished command's hook is
   * removed, so a long-lived session (an SSH connection on an exec connection) does not collect one
   * per command (noticed in the nineteenth session).
   */
  @Test
  void aFinishedCommandLeavesNoTerminationHookBehind() throws Exception {
    try (GateSession s = kit.gate.open(RunnerKit.ALICE, "tools", "exec", "127.0.0.1")) {
      int before = s.terminateHooks();
      for (int k = 0; k < 5; k++) {
        int status =
            kit.runner.run(
                s,
                new ExecRequest(List.of("echo", "run " + k), null, Map.of(), null, null),
                null,
                new java.io.ByteArrayOutputStream(),
                new java.io.ByteArrayOutputStream(),
                e -> {});
        assertThat(status).isZero();
      }
      assertThat(s.terminateHooks()).isEqualTo(before);
    }
  }

  @Test
  void aFixedWorkspaceHomeIsWritableInBubblewrap() throws Exception {
    assumeTrue(Sandbox.bubblewrapAvailable(), "bubblewrap cannot create namespaces here");
    Path fixed = Files.createDirectories(dir.resolve("fixed-boxed"));
    Files.setPosixFilePermissions(
        fixed, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    ExecConfig boxed = kit.exec("bubblewrap", false, Duration.ofSeconds(30), 1 << 20);
    kit.connection(
        "tools-fixed-boxed",
        new ExecConfig(
            boxed.binaries(),
            "fixed",
            fixed,
            boxed.env(),
            boxed.envAllow(),
            boxed.secrets(),
            boxed.timeout(),
            boxed.maxOutput(),
            0,
            Duration.ZERO,
            0,
            "bubblewrap",
            false,
            null,
            null,
            List.of()));
    Result r =
        kit.run("tools-fixed-boxed", List.of("sh", "-c", "cd && pwd && echo hi > .x && cat .x"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("hi\n");
    assertThat(Path.of(r.out().lines().findFirst().orElseThrow())).doesNotExist();
    assertThat(fixed.resolve(".x")).doesNotExist();
  }

  @AfterAll
  static void stop() {
    if (kit != null) {
      kit.close();
    }
  }

  @Test
  void echoStreamsOutputAndRecordsTheOutcome() throws Exception {
    Result r = kit.run("tools", List.of("echo", "hello", "world"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("hello world\n");
    assertThat(kit.recorder.stream(r.sessionId(), 'o')).isEqualTo("hello world\n");
    assertThat(kit.recorder.decided).contains("ALLOW dev-tools echo hello world");
    assertThat(kit.recorder.completed).contains("ok exit 0");
  }

  @Test
  void metadataRecordingKeepsTheOutcomeButNotTheOutput() throws Exception {
    Result r = kit.run("tools", List.of("printenv", "APP_MODE"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("test\n");
    assertThat(kit.recorder.decided).contains("ALLOW quiet-printenv printenv APP_MODE");
    assertThat(kit.recorder.stream(r.sessionId(), 'o')).isEmpty();
  }

  @Test
  void catForwardsStdinAndRecordsIt() throws Exception {
    Result r =
        kit.run(
            "tools",
            new ExecRequest(List.of("cat"), null, Map.of(), null, null),
            "line one\nline two\n".getBytes(StandardCharsets.UTF_8),
            e -> {});
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("line one\nline two\n");
    assertThat(kit.recorder.stream(r.sessionId(), 'i')).isEqualTo("line one\nline two\n");
  }

  @Test
  void anInjectedSecretTypedIntoStdinIsNotRecorded() throws Exception {
    Result r =
        kit.run(
            "tools",
            new ExecRequest(List.of("cat"), null, Map.of(), null, null),
            ("pasted " + RunnerKit.TOKEN + "\nbye\n").getBytes(StandardCharsets.UTF_8),
            e -> {});
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(kit.recorder.stream(r.sessionId(), 'i'))
        .startsWith("pasted ")
        .endsWith("bye\n")
        .doesNotContain(RunnerKit.TOKEN);
  }

  @Test
  void exitStatusIsPreserved() throws Exception {
    Result r = kit.run("tools", List.of("sh", "-c", "echo oops >&2; exit 3"));
    assertThat(r.status()).isEqualTo(3);
    assertThat(r.err()).isEqualTo("oops\n");
    assertThat(kit.recorder.stream(r.sessionId(), 'e')).isEqualTo("oops\n");
    assertThat(kit.recorder.completed).contains("error exit 3");
  }

  @Test
  void environmentIsCleanPlusConnectionCallerAndSecrets() throws Exception {
    Result r =
        kit.run(
            "tools",
            new ExecRequest(List.of("env"), null, Map.of("CI", "1", "TERM", "xterm"), null, null),
            null,
            e -> {});
    assertThat(r.status()).as(r.err()).isZero();
    Set<String> names =
        r.out().lines().map(l -> l.substring(0, l.indexOf('='))).collect(Collectors.toSet());
    assertThat(names)
        .containsExactlyInAnyOrder(
            "PATH",
            "HOME",
            "LANG",
            "TERM",
            "APP_MODE",
            "CI",
            "API_TOKEN",
            "KUBECONFIG",
            "LESSSECURE",
            "PAGER",
            "MANPAGER",
            "GIT_PAGER",
            "SYSTEMD_PAGER",
            "SYSTEMD_PAGERSECURE",
            "PSQL_PAGER",
            "AWS_PAGER",
            "EDITOR",
            "VISUAL",
            "GIT_EDITOR",
            "GIT_SEQUENCE_EDITOR",
            "KUBE_EDITOR",
            "SYSTEMD_EDITOR",
            "SUDO_EDITOR");
    assertThat(r.out()).contains("PATH=/usr/local/bin:/usr/bin:/bin\n", "CI=1\n", "TERM=xterm\n");
    // no pager, and less in secure mode (a lesskey file in HOME could set LESSOPEN)
    assertThat(r.out()).contains("LESSSECURE=1\n", "PAGER=cat\n", "GIT_PAGER=cat\n");
    // the injected secret is in the environment, but never in what the caller sees or the record
    assertThat(r.out()).contains("API_TOKEN=").doesNotContain(RunnerKit.TOKEN);
    assertThat(kit.recorder.stream(r.sessionId(), 'o')).doesNotContain(RunnerKit.TOKEN);
  }

  @Test
  void aReviewIsBoundToTheExactArgvEnvironmentValuesAndCwd() throws Exception {
    ExecConfig cfg = kit.exec("none", true, Duration.ofSeconds(30), 1 << 20);
    Action action = new Action(ActionKind.COMMAND, "env", Map.of());
    java.util.function.Function<ExecRequest, String> exact =
        r -> {
          try {
            return CommandRunner.waiting(r, CommandRunner.describe(cfg, "tools", r))
                .exactly(action);
          } catch (Refusal e) {
            throw new AssertionError(e);
          }
        };
    dev.gatehouse.gate.ReviewGate.Waiting holder = (id, message) -> {};
    String approved =
        exact.apply(new ExecRequest(List.of("env"), null, Map.of("CI", "1"), null, holder));
    assertThat(exact.apply(new ExecRequest(List.of("env"), null, Map.of("CI", "1"), null, holder)))
        .isEqualTo(approved)
        .as("the action has the variable's name only: its value is bound here")
        .isNotEqualTo(
            exact.apply(new ExecRequest(List.of("env"), null, Map.of("CI", "2"), null, holder)))
        .isNotEqualTo(
            exact.apply(new ExecRequest(List.of("env"), null, Map.of("CI", "1"), "sub", holder)))
        .isNotEqualTo(
            exact.apply(
                new ExecRequest(List.of("env", "-0"), null, Map.of("CI", "1"), null, holder)));
    assertThat(
            CommandRunner.waiting(
                new ExecRequest(List.of("env"), null, Map.of(), null, null),
                CommandRunner.describe(
                    cfg, "tools", new ExecRequest(List.of("env"), null, Map.of(), null, null))))
        .as("no holder: a review decision is refused, not held")
        .isNull();
  }

  @Test
  void secretsAreMaskedOnStdoutStderrAndInTheRecording() throws Exception {
    Result r =
        kit.run(
            "tools",
            List.of("sh", "-c", "echo \"token=$API_TOKEN\"; printf '%s' \"$API_TOKEN\" >&2"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("token=").doesNotContain(RunnerKit.TOKEN);
    assertThat(r.err()).isNotEmpty().doesNotContain(RunnerKit.TOKEN);
    assertThat(kit.recorder.stream(r.sessionId(), 'o'))
        .startsWith("token=")
        .doesNotContain(RunnerKit.TOKEN);
    assertThat(kit.recorder.stream(r.sessionId(), 'e')).doesNotContain(RunnerKit.TOKEN);
  }

  @Test
  void fileSecretIsPrivateAndRemovedAfterwards() throws Exception {
    Result r =
        kit.run(
            "tools",
            List.of(
                "sh",
                "-c",
                "echo \"$KUBECONFIG\"; stat -c '%a' \"$KUBECONFIG\"; stat -c '%a'"
                    + " \"$(dirname \"$KUBECONFIG\")\"; cat \"$KUBECONFIG\""));
    assertThat(r.status()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    Path file = Path.of(lines.get(0));
    assertThat(lines.get(1)).isEqualTo("600");
    assertThat(lines.get(2)).isEqualTo("700");
    // the whole file is the secret: the caller sees it masked, never its content
    assertThat(lines.get(3)).contains("REDACTED");
    assertThat(r.out()).doesNotContain(RunnerKit.KUBE_SECRET).doesNotContain("apiVersion");
    assertThat(file).doesNotExist();
    assertThat(file.getParent()).doesNotExist();
    assertThat(file.startsWith(dir)).as("outside the workspace").isFalse();
  }

  @Test
  void freshWorkspaceIsTheHomeAndIsRemoved() throws Exception {
    Result r = kit.run("tools", List.of("sh", "-c", "pwd; echo \"$HOME\"; echo x > made"));
    assertThat(r.status()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.get(0)).isEqualTo(lines.get(1));
    Path ws = Path.of(lines.get(0));
    assertThat(ws.startsWith(dir.resolve("data/workspaces/tools").toRealPath())).isTrue();
    assertThat(ws).doesNotExist();
  }

  @Test
  void timeoutKillsTheWholeProcessGroup() throws Exception {
    long started = System.nanoTime();
    String m = marker(); // unique: another test run on this machine must not be counted
    Result r = kit.run("tools-fast", List.of("sh", "-c", "sleep 30." + m + " & sleep 31." + m));
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
    assertThat(r.status()).isIn(128 + 15, 128 + 9);
    assertThat(r.err()).contains("gatehouse: command killed: timeout");
    assertThat(survivors("." + m)).as("no sleep survives, not even the background one").isEmpty();
  }

  @Test
  void aProcessThatLeavesTheGroupDoesNotHoldTheRunOpen() throws Exception {
    // Without bubblewrap, setsid(2) escapes the group kill (documented); the run still ends when
    // the command does, and what the escaped process writes afterwards is not relayed.
    long started = System.nanoTime();
    String m = "30." + marker();
    Result r =
        kit.run("tools", List.of("sh", "-c", "setsid sleep " + m + " & sleep 0.5; echo bye"));
    try {
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
      assertThat(r.status()).isZero();
      assertThat(r.out()).isEqualTo("bye\n");
      assertThat(kit.recorder.completed).contains("ok exit 0");
      assertThat(survivors(m)).as("the escaped sleep is the documented limit").hasSize(1);
    } finally {
      killMarked(m);
    }
  }

  @Test
  void insideBubblewrapNothingOutlivesTheCommand() throws Exception {
    assumeTrue(Sandbox.bubblewrapAvailable(), "bubblewrap cannot create namespaces here");
    String m = "30." + marker();
    Result r =
        kit.run("tools-boxed", List.of("sh", "-c", "setsid sleep " + m + " & sleep 0.5; echo bye"));
    assertThat(r.status()).isZero();
    assertThat(r.out()).isEqualTo("bye\n");
    assertThat(survivors(m)).as("the pid namespace ended with the command").isEmpty();
  }

  @Test
  void resourceLimitsAreSetWithSetrlimit() throws Exception {
    // /proc/PID/limits (proc(5)): soft and hard limit per resource, as the kernel holds them
    Result r = kit.run("tools-limited", List.of("cat", "/proc/self/limits"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(limit(r.out(), "Max address space")).isEqualTo(List.of("536870912", "536870912"));
    assertThat(limit(r.out(), "Max cpu time")).isEqualTo(List.of("7", "8"));
    assertThat(limit(r.out(), "Max processes")).isEqualTo(List.of("4096", "4096"));
    Result unlimited = kit.run("tools", List.of("cat", "/proc/self/limits"));
    assertThat(limit(unlimited.out(), "Max cpu time")).isEqualTo(List.of("unlimited", "unlimited"));
  }

  private static List<String> limit(String limits, String name) {
    String line = limits.lines().filter(l -> l.startsWith(name)).findFirst().orElseThrow();
    String[] f = line.substring(name.length()).trim().split("\\s+");
    return List.of(f[0], f[1]);
  }

  @Test
  void fixedWorkspaceIsKeptAndCwdMayBeASubdirectory() throws Exception {
    Result r =
        kit.run(
            "tools-fixed",
            new ExecRequest(
                List.of("sh", "-c", "pwd; echo kept > kept.txt"), null, Map.of(), "sub", null),
            null,
            e -> {});
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out().trim()).isEqualTo(dir.resolve("fixed/sub").toRealPath().toString());
    assertThat(dir.resolve("fixed/sub/kept.txt")).hasContent("kept");
  }

  @Test
  void aFixedWorkspaceJobGetsAHomeOfItsOwnSoDotfilesLeftThereAreNotRead() throws Exception {
    // job 1 plants a git configuration where HOME used to be: the shared fixed workdir (made
    // writable for run_as here)
    Files.setPosixFilePermissions(
        dir.resolve("fixed"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    Result planted =
        kit.run(
            "tools-fixed",
            List.of(
                "sh",
                "-c",
                "printf '[core]\\n\\tpager = touch pwned\\n' > .gitconfig; echo $HOME"));
    assertThat(planted.status()).as(planted.err()).isZero();
    assertThat(dir.resolve("fixed/.gitconfig")).content().contains("pager = touch pwned");
    Path home1 = Path.of(planted.out().trim());
    assertThat(home1).isNotEqualTo(dir.resolve("fixed").toRealPath());
    assertThat(home1.startsWith(dir.resolve("fixed").toRealPath())).isFalse();
    assertThat(home1).doesNotExist(); // removed with the job
    // job 2: a real git reads ~/.gitconfig; it must not find job 1's
    Result r =
        kit.run(
            "tools-fixed",
            List.of(
                "sh", "-c", "echo $HOME; git config --global --get core.pager; echo status=$?"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).doesNotContain("touch pwned").contains("status=1");
    assertThat(Path.of(r.out().lines().findFirst().orElseThrow())).isNotEqualTo(home1);
    Files.delete(dir.resolve("fixed/.gitconfig"));
  }

  @Test
  void maxOutputKillsTheCommand() throws Exception {
    Result r = kit.run("tools-small", List.of("yes", "spam"));
    assertThat(r.status()).isIn(128 + 15, 128 + 9, 128 + 13);
    assertThat(r.out().length()).isLessThanOrEqualTo(64 * 1024);
    assertThat(r.out()).startsWith("spam\nspam\n");
    assertThat(r.err()).contains("output limit of 65536 bytes reached");
  }

  @Test
  void callerThatGoesAwayKillsTheCommand() throws Exception {
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    java.io.OutputStream gone =
        new java.io.OutputStream() {
          @Override
          public void write(int b) throws java.io.IOException {
            throw new java.io.IOException("broken pipe");
          }
        };
    int status;
    long started = System.nanoTime();
    try (var s = kit.gate.open(RunnerKit.ALICE, "tools", "exec", "127.0.0.1")) {
      status =
          kit.runner.run(
              s,
              new ExecRequest(
                  List.of("sh", "-c", "while true; do echo tick; sleep 0.1; done"),
                  null,
                  Map.of(),
                  null,
                  null),
              null,
              gone,
              err,
              e -> {});
    }
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    assertThat(status).isIn(128 + 15, 128 + 9);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("the caller disconnected");
  }

  @Test
  void deniedCommandExits126WithOneLineNamingTheRule() throws Exception {
    Result r = kit.run("tools", List.of("rm", "-rf", "/"));
    assertThat(r.status()).isEqualTo(CommandRunner.DENIED);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("gatehouse: denied by rule no-rm: Nobody deletes files here.\n");
    assertThat(kit.recorder.decided).contains("DENY no-rm rm -rf /");
  }

  @Test
  void binariesResolveOnlyAgainstTheConnection() throws Exception {
    for (String bin : List.of("python3", "./echo", "bin/echo", "../usr/bin/echo", "/opt/echo")) {
      Result r = kit.run("tools", List.of(bin, "hi"));
      assertThat(r.status()).as(bin).isEqualTo(CommandRunner.DENIED);
      assertThat(r.err())
          .as(bin)
          .startsWith("gatehouse: binary " + bin + " not offered by connection tools")
          .endsWith("\n")
          .hasLineCount(1);
    }
    // an absolute path is compared after normalisation
    Result r = kit.run("tools", List.of("/usr/bin/../bin//echo", "ok"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("ok\n");
    assertThat(kit.audit.stream().filter(e -> e.type().equals("exec.refused")).count())
        .isGreaterThanOrEqualTo(5);
  }

  @Test
  void aWorkspaceThatCannotBePreparedIsRefusedAndAudited() throws Exception {
    // A fixed workdir below a regular file: createDirectories fails before the policy is asked.
    Path file = Files.writeString(dir.resolve("not-a-directory"), "x");
    ExecConfig base = kit.exec("none", true, Duration.ofSeconds(30), 1 << 20);
    kit.connection(
        "tools-broken",
        new ExecConfig(
            base.binaries(),
            "fixed",
            file.resolve("ws"),
            base.env(),
            base.envAllow(),
            base.secrets(),
            base.timeout(),
            base.maxOutput(),
            0,
            Duration.ZERO,
            0,
            "none",
            true,
            null,
            null,
            List.of()));

    Result r = kit.run("tools-broken", List.of("echo", "never"));

    assertThat(r.status()).isEqualTo(CommandRunner.NOT_STARTED);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("gatehouse: cannot prepare the workspace: ").hasLineCount(1);
    assertThat(kit.audit)
        .filteredOn(
            e ->
                e.type().equals("exec.refused")
                    && "tools-broken".equals(e.connection())
                    && r.sessionId().equals(e.sessionId()))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.data()).containsEntry("command", "echo never");
              assertThat((String) e.data().get("reason"))
                  .startsWith("cannot prepare the workspace: ")
                  .isEqualTo(r.err().substring("gatehouse: ".length()).strip());
            });
  }

  @Test
  void listedBinaryMissingOnTheHostExits127() throws Exception {
    Result r = kit.run("tools", List.of("gatehouse-not-installed"));
    assertThat(r.status()).isEqualTo(CommandRunner.NOT_STARTED);
    assertThat(r.err()).contains("gatehouse-not-installed");
    assertThat(kit.recorder.completed).contains("error exit 127");
  }

  @Test
  void callerVariablesOutsideEnvAllowAreRefused() throws Exception {
    Result r =
        kit.run(
            "tools",
            new ExecRequest(List.of("env"), null, Map.of("LD_PRELOAD", "/x.so"), null, null),
            null,
            e -> {});
    assertThat(r.status()).isEqualTo(CommandRunner.DENIED);
    assertThat(r.err()).startsWith("gatehouse: variable LD_PRELOAD may not be set");
  }

  /**
   * Red team F3: npm expands {@code ${NAME}} in settings read from the environment, so a caller's
   * variable that names a secret sends it wherever the caller chose. Refused before anything
   * starts, in any of the syntaxes and cases tools expand.
   */
  @Test
  void callerVariableNamingASecretIsRefused() throws Exception {
    String script = "printf '%s\\n' \"$APP_URL\"";
    for (String value :
        List.of(
            "http://127.0.0.1:9/${API_TOKEN}/",
            "$API_TOKEN",
            "${api_token:-x}",
            "%Api_Token%",
            "${env.API_TOKEN}",
            "$(KUBECONFIG)")) {
      Result r =
          kit.run(
              "tools",
              new ExecRequest(
                  List.of("sh", "-c", script), null, Map.of("APP_URL", value), null, null),
              null,
              e -> {});
      assertThat(r.status()).as(value).isEqualTo(CommandRunner.DENIED);
      assertThat(r.err())
          .as(value)
          .startsWith("gatehouse: variable APP_URL names secret ")
          .doesNotContain(RunnerKit.TOKEN);
      assertThat(r.out()).as(value).isEmpty();
    }
    // a value that only contains a longer name, or none, runs
    Result ok =
        kit.run(
            "tools",
            new ExecRequest(
                List.of("sh", "-c", script),
                null,
                Map.of("APP_URL", "http://r.example/${API_TOKENS}/x"),
                null,
                null),
            null,
            e -> {});
    assertThat(ok.status()).as(ok.err()).isZero();
    assertThat(ok.out()).isEqualTo("http://r.example/${API_TOKENS}/x\n");
  }

  @Test
  void argumentReferencingASecretIsRefusedExceptForAShell() throws Exception {
    for (String arg : List.of("${API_TOKEN}", "x=$Api_Token", "%API_TOKEN%", "$env:API_TOKEN")) {
      Result r = kit.run("tools", List.of("echo", arg));
      assertThat(r.status()).as(arg).isEqualTo(CommandRunner.DENIED);
      assertThat(r.err()).as(arg).startsWith("gatehouse: an argument references secret API_TOKEN");
    }
    Result word = kit.run("tools", List.of("echo", "API_TOKEN", "$API_TOKENS"));
    assertThat(word.status()).as(word.err()).isZero();
    assertThat(word.out()).isEqualTo("API_TOKEN $API_TOKENS\n");
    // a script is how a job uses its secret: sh's arguments are not checked
    Result sh = kit.run("tools", List.of("sh", "-c", "test -n \"$API_TOKEN\" && echo set"));
    assertThat(sh.status()).as(sh.err()).isZero();
    assertThat(sh.out()).isEqualTo("set\n");
  }

  @Test
  void cwdMustStayInsideTheWorkspace() throws Exception {
    for (String cwd : List.of("..", "/etc", "../../..")) {
      Result r =
          kit.run(
              "tools", new ExecRequest(List.of("echo"), null, Map.of(), cwd, null), null, e -> {});
      assertThat(r.status()).as(cwd).isEqualTo(CommandRunner.DENIED);
      assertThat(r.err()).as(cwd).startsWith("gatehouse: cwd " + cwd);
    }
  }

  @Test
  void linesThatNeedAShellRunOnlyWhenARuleAllowsIt() throws Exception {
    Result piped =
        kit.run(
            "tools",
            new ExecRequest(List.of(), "echo hi | cat", Map.of(), null, null),
            null,
            e -> {});
    assertThat(piped.status()).as(piped.err()).isZero();
    assertThat(piped.out()).isEqualTo("hi\n");

    Result denied =
        kit.run(
            "tools",
            new ExecRequest(List.of(), "cat /etc/hostname | cat", Map.of(), null, null),
            null,
            e -> {});
    assertThat(denied.status()).isEqualTo(CommandRunner.DENIED);
    assertThat(denied.out()).isEmpty();
    assertThat(denied.err()).startsWith("gatehouse: denied by rule ").hasLineCount(1);

    Result plain =
        kit.run(
            "tools",
            new ExecRequest(List.of(), "echo 'a  b'", Map.of(), null, null),
            null,
            e -> {});
    assertThat(plain.out()).isEqualTo("a  b\n");
  }

  @Test
  void signalReachesTheCommand() throws Exception {
    AtomicReference<Execution> ex = new AtomicReference<>();
    CountDownLatch started = new CountDownLatch(1);
    CompletableFuture<Result> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return kit.run(
                    "tools",
                    new ExecRequest(List.of("sleep", "30"), null, Map.of(), null, null),
                    null,
                    e -> {
                      ex.set(e);
                      started.countDown();
                    });
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    // Wait until the wrappers have exec'd sleep: before env resets the signal dispositions, an
    // INT inherited as ignored (a test runner in the background) would be lost.
    Path cmdline =
        Path.of("/proc", String.valueOf(((ProcessExecution) ex.get()).process().pid()), "cmdline");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!Files.readString(cmdline).startsWith("/usr/bin/sleep")) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(20);
    }
    ex.get().signal("INT");
    Result r = run.get(10, TimeUnit.SECONDS);
    assertThat(r.status()).isEqualTo(130);
  }

  /**
   * SIGUSR1 is not forwarded unless the connection opts in (exec.signals_allow): Node.js opens its
   * inspector on it. A real shell's USR1 trap shows whether it arrived.
   */
  @Test
  void usr1ReachesTheCommandOnlyWhereTheConnectionAllowsIt() throws Exception {
    kit.connection(
        "tools-usr1",
        kit.exec("none", true, Duration.ofSeconds(30), 1 << 20).withSignalsAllow(List.of("USR1")));
    AtomicReference<String> refused = new AtomicReference<>();
    Result denied = trapUsr1("tools", refused);
    assertThat(refused.get()).contains("USR1").contains("signals_allow");
    assertThat(denied.status()).as(denied.err()).isZero();
    assertThat(denied.out()).isEqualTo("end\n");

    refused.set(null);
    Result allowed = trapUsr1("tools-usr1", refused);
    assertThat(refused.get()).isNull();
    assertThat(allowed.out()).contains("fired\n");
  }

  /** Runs a shell that traps USR1, sends it USR1 once the trap is set; what it printed. */
  private static Result trapUsr1(String conn, AtomicReference<String> refused) throws Exception {
    return kit.run(
        conn,
        new ExecRequest(
            List.of("sh", "-c", "trap 'echo fired' USR1; sleep 2; echo end"),
            null,
            Map.of(),
            null,
            null),
        null,
        e -> {
          long pid = ((ProcessExecution) e).process().pid();
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      awaitCaught(pid, 10); // SIGUSR1 is signal 10 on Linux
                      e.signal("SIGUSR1");
                    } catch (IllegalArgumentException x) {
                      refused.set(x.getMessage());
                    } catch (Exception x) {
                      refused.set("failed: " + x);
                    }
                  });
        });
  }

  /** Waits until process {@code pid} catches signal {@code n} (proc(5), SigCgt). */
  private static void awaitCaught(long pid, int n) throws Exception {
    Path status = Path.of("/proc", String.valueOf(pid), "status");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      String caught =
          Files.readString(status)
              .lines()
              .filter(l -> l.startsWith("SigCgt:"))
              .findFirst()
              .orElseThrow()
              .substring(7)
              .trim();
      if ((Long.parseUnsignedLong(caught, 16) & (1L << (n - 1))) != 0) {
        return;
      }
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void heldCommandRunsOnlyAfterApproval() throws Exception {
    CompletableFuture<String> heldMessage = new CompletableFuture<>();
    CompletableFuture<Boolean> verdict = new CompletableFuture<>();
    CompletableFuture<Object> filedJustification = new CompletableFuture<>();
    kit.reviews =
        (sessionId, principal, target, action, decision, waiting) -> {
          filedJustification.complete(action.attributes().get("justification"));
          waiting.held("rv_1", "held for review rv_1: " + decision.reason());
          boolean ok = verdict.join();
          return new ReviewGate.Outcome(ok, "rv_1", ok ? "approved" : "no reason given");
        };
    try {
      CompletableFuture<Result> run =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return kit.run(
                      "tools",
                      new ExecRequest(
                          List.of("touch", "approved-file"),
                          null,
                          Map.of(),
                          null,
                          (id, msg) -> heldMessage.complete(msg),
                          "  INC-42: clean up  "),
                      null,
                      e -> {});
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      assertThat(heldMessage.get(10, TimeUnit.SECONDS)).contains("rv_1");
      assertThat(filedJustification.get(10, TimeUnit.SECONDS)).isEqualTo("INC-42: clean up");
      Thread.sleep(200);
      assertThat(run).isNotDone();
      verdict.complete(true);
      Result r = run.get(10, TimeUnit.SECONDS);
      assertThat(r.status()).as(r.err()).isZero();

      // without a way to wait, a review decision is a refusal
      Result noWait = kit.run("tools", List.of("touch", "x"));
      assertThat(noWait.status()).isEqualTo(CommandRunner.DENIED);
      assertThat(noWait.err()).contains("needs approval").contains("touch-needs-ops");
    } finally {
      kit.reviews = ReviewGate.NONE;
    }
  }

  @Test
  void bubblewrapGivesAReadOnlyRootAPrivateTmpAndNoNetwork() throws Exception {
    assumeTrue(Sandbox.bubblewrapAvailable(), "bubblewrap cannot create namespaces here");
    Result r =
        kit.run(
            "tools-boxed",
            List.of(
                "sh",
                "-c",
                "touch /usr/gatehouse-probe 2>&1; echo \"root=$?\"; touch /tmp/t && echo tmp-ok;"
                    + " echo x > ws && echo ws-ok; id -u; cat /proc/net/dev | tail -n +3 | cut"
                    + " -d: -f1 | tr -d ' '; cat \"$KUBECONFIG\" >/dev/null && echo secret-ok;"
                    + " ls "
                    + dir.resolve("data")
                    + " | wc -l"));
    assertThat(r.status()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(r.out()).contains("Read-only file system", "root=1", "tmp-ok", "ws-ok", "secret-ok");
    assertThat(lines).contains("lo");
    assertThat(lines).doesNotContain("eth0");
    if (Sandbox.ROOT) {
      assertThat(lines).contains("65534");
    }
    // the data directory is hidden; only the workspace is bound back below it
    assertThat(lines.getLast()).isEqualTo("1");
    assertThat(Path.of("/usr/gatehouse-probe")).doesNotExist();
  }

  @Test
  void withoutSandboxRootDropsToNobody() throws Exception {
    assumeTrue(Sandbox.ROOT, "only root can change user");
    Result r = kit.run("tools", List.of("id", "-u"));
    assertThat(r.out().trim()).isEqualTo("65534");
  }

  /** Digits that mark this run's sleeps (a fractional number of seconds nobody else uses). */
  static String marker() {
    return String.valueOf(
        100000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(899999));
  }

  static void killMarked(String marker) throws Exception {
    for (String s : survivors(marker)) {
      ProcessHandle.of(Long.parseLong(s.substring(0, s.indexOf(':'))))
          .ifPresent(ProcessHandle::destroy);
    }
  }

  /** Processes whose command line contains {@code marker}. */
  static List<String> survivors(String marker) throws Exception {
    Thread.sleep(300);
    List<String> found = new java.util.ArrayList<>();
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(x -> x.getFileName().toString().matches("\\d+")).toList()) {
        try {
          byte[] cmd = Files.readAllBytes(p.resolve("cmdline"));
          String s = new String(cmd, StandardCharsets.UTF_8).replace('\0', ' ');
          if (s.contains(marker) && !s.contains("surefire")) {
            found.add(p.getFileName() + ": " + s);
          }
        } catch (java.io.IOException e) {
          // gone
        }
      }
    }
    return found;
  }

  static Set<String> sorted(String... s) {
    return new TreeSet<>(Arrays.asList(s));
  }
}
