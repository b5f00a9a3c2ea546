package dev.gatehouse.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.runner.RunnerKit.Result;
import dev.gatehouse.ssh.SshProtocolServer;
import dev.gatehouse.testing.TargetSshd;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exec connections whose runner is an SSH target: the whole flow against a real OpenSSH sshd,
 * logged in through the SSH package's runner hosts (pinned host key, vault key). The target is this
 * host, so the tests can look at its file system and processes.
 */
class RemoteRunnerTest {
  @TempDir static Path dir;
  static TargetSshd sshd;
  static RunnerKit kit;

  /** Every command string sent to the target, and how many logins were made. */
  static final List<String> sent = new CopyOnWriteArrayList<>();

  static final AtomicInteger logins = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(TargetSshd.available(), "OpenSSH server not installed");
    sshd = new TargetSshd(dir.resolve("sshd"));
    kit =
        new RunnerKit(
            dir,
            k ->
                recording(
                    SshProtocolServer.runners(
                        k.connections::get, name -> k.vault.fields.getOrDefault(name, Map.of()))));
    kit.sshConnection("target", sshd.port, sshd.user, sshd.hostKeyLine(), sshd.privateKey());
    kit.sshConnection(
        "target-changed", sshd.port, sshd.user, sshd.otherHostKeyLine(), sshd.privateKey());
    ExecConfig base = kit.exec("none", true, Duration.ofSeconds(30), 1 << 20);
    kit.connection("tools-remote", on(base, "target", "fresh", null, base.timeout(), 0, 0));
    kit.connection(
        "tools-remote-fast", on(base, "target", "fresh", null, Duration.ofSeconds(2), 0, 0));
    ExecConfig small = kit.exec("none", true, Duration.ofSeconds(30), 64 * 1024);
    kit.connection("tools-remote-small", on(small, "target", "fresh", null, small.timeout(), 0, 0));
    kit.connection(
        "tools-remote-changed", on(base, "target-changed", "fresh", null, base.timeout(), 0, 0));
    Files.createDirectories(dir.resolve("fixed/sub"));
    Files.createSymbolicLink(dir.resolve("fixed/out"), dir);
    kit.connection(
        "tools-remote-fixed",
        on(base, "target", "fixed", dir.resolve("fixed"), base.timeout(), 0, 0));
    kit.connection(
        "tools-remote-limited",
        on(base, "target", "fresh", null, base.timeout(), 512L << 20, 4096));
  }

  /** {@code base} on runner {@code runner}. */
  static ExecConfig on(
      ExecConfig base,
      String runner,
      String workspace,
      Path workdir,
      Duration timeout,
      long memory,
      int processes) {
    return new ExecConfig(
        base.binaries(),
        workspace,
        workdir,
        base.env(),
        base.envAllow(),
        base.secrets(),
        timeout,
        base.maxOutput(),
        memory,
        memory > 0 ? Duration.ofSeconds(7) : Duration.ZERO,
        processes,
        "auto",
        true,
        null,
        runner,
        List.of());
  }

  @AfterAll
  static void stop() throws Exception {
    if (kit != null) {
      kit.close();
    }
    if (sshd != null) {
      sshd.close();
    }
  }

  @BeforeEach
  void clear() {
    sent.clear();
    logins.set(0);
  }

  @Test
  void runsOnTheTargetWithStdoutStderrAndExitStatus() throws Exception {
    Result r = kit.run("tools-remote", List.of("sh", "-c", "echo out; echo err >&2; exit 3"));
    assertThat(r.status()).as(r.err()).isEqualTo(3);
    assertThat(r.out()).isEqualTo("out\n");
    assertThat(r.err()).isEqualTo("err\n");
    assertThat(logins.get()).isEqualTo(1);
    assertThat(sent).anySatisfy(c -> assertThat(c).startsWith("/usr/bin/env -i /bin/sh -c"));
    assertThat(kit.recorder.completed).anyMatch(c -> c.endsWith(" exit 3"));
  }

  @Test
  void consecutiveRunsReuseOneLogin() throws Exception {
    assertThat(kit.run("tools-remote", List.of("echo", "warm")).status()).isZero();
    long before = acceptedLogins();
    for (int i = 0; i < 3; i++) {
      Result r = kit.run("tools-remote", List.of("echo", "run" + i));
      assertThat(r.status()).as(r.err()).isZero();
      assertThat(r.out()).isEqualTo("run" + i + "\n");
    }
    assertThat(acceptedLogins() - before).isZero();
  }

  /** Logins the target accepted so far (sshd -e logs each one). */
  static long acceptedLogins() throws IOException {
    return sshd.log().lines().filter(l -> l.contains("Accepted publickey")).count();
  }

  @Test
  void argvReachesTheTargetWordForWord() throws Exception {
    // through the login shell and the gateway's /bin/sh: nothing is expanded, split or globbed
    Result r =
        kit.run(
            "tools-remote",
            List.of(
                "sh",
                "-c",
                "printf '[%s]' \"$@\"",
                "sh",
                "a'b",
                "$(id)",
                "x;y",
                "*",
                "~",
                "a  b",
                "l1\nl2",
                "-n"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("[a'b][$(id)][x;y][*][~][a  b][l1\nl2][-n]");
  }

  @Test
  void deniedCommandExits126BeforeAnythingReachesTheTarget() throws Exception {
    Result r = kit.run("tools-remote", List.of("rm", "-rf", "/tmp/nothing"));
    assertThat(r.status()).isEqualTo(126);
    assertThat(r.err()).isEqualTo("gatehouse: denied by rule no-rm: Nobody deletes files here.\n");
    assertThat(logins.get()).isZero();
    assertThat(sent).isEmpty();
    Result notOffered = kit.run("tools-remote", List.of("/usr/bin/python3", "-c", "1"));
    assertThat(notOffered.status()).isEqualTo(126);
    assertThat(notOffered.err()).contains("binary /usr/bin/python3 not offered");
    assertThat(logins.get()).isZero();
  }

  @Test
  void secretsAreMaskedInOutputAndRecording() throws Exception {
    Result r =
        kit.run(
            "tools-remote",
            List.of("sh", "-c", "echo token=$API_TOKEN; cat \"$KUBECONFIG\"; echo $API_TOKEN >&2"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("token=");
    assertThat(r.out() + r.err())
        .doesNotContain(RunnerKit.TOKEN)
        .doesNotContain(RunnerKit.KUBE_SECRET);
    String recorded =
        kit.recorder.stream(r.sessionId(), 'o') + kit.recorder.stream(r.sessionId(), 'e');
    assertThat(recorded).contains("token=").doesNotContain(RunnerKit.TOKEN);
  }

  @Test
  void secretsNeverAppearOnATargetCommandLine() throws Exception {
    // The process list while the command runs must not show the values; since every step execs
    // the next, the strings the gateway sent are checked too (they are what ps showed before).
    Result r =
        kit.run(
            "tools-remote",
            List.of(
                "sh",
                "-c",
                "ps -eo args > ps.txt; grep -c -F -e \"$API_TOKEN\" ps.txt;"
                    + " grep -c gatehouse-runner- ps.txt"));
    String[] counts = r.out().trim().split("\n");
    assertThat(counts[0]).as(r.out() + r.err()).isEqualTo("0");
    assertThat(Integer.parseInt(counts[1])).as("the run itself is in the list").isPositive();
    assertThat(sent).isNotEmpty();
    for (String command : sent) {
      assertThat(command).doesNotContain(RunnerKit.TOKEN).doesNotContain(RunnerKit.KUBE_SECRET);
    }
  }

  @Test
  void environmentIsCleanAndFileSecretsArePrivate() throws Exception {
    Result r =
        kit.run(
            "tools-remote",
            new ExecRequest(
                List.of(
                    "sh",
                    "-c",
                    "env | sort; stat -c %a \"$KUBECONFIG\" \"${KUBECONFIG%/*}\" \"$TMPDIR\""),
                null,
                Map.of("CI", "1"),
                null,
                null),
            null,
            x -> {});
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out())
        .contains(
            "APP_MODE=test\n", "CI=1\n", "PATH=/usr/local/bin:/usr/bin:/bin\n", "LANG=C.UTF-8")
        .contains("LESSSECURE=1\n", "PAGER=cat\n", "GIT_PAGER=cat\n")
        .contains("HOME=/")
        .doesNotContain("SSH_CONNECTION")
        .doesNotContain("SSH_CLIENT");
    // the secret file, its directory, and a private temporary directory in the job directory
    assertThat(r.out().trim()).endsWith("600\n700\n700");
    assertThat(r.out())
        .containsPattern("\nTMPDIR=[^\n]*/gatehouse-runner-[0-9]+/job-[^/\n]+/tmp\n");
  }

  @Test
  void freshWorkspaceAndSecretFilesAreRemovedAfterwards() throws Exception {
    Result r =
        kit.run(
            "tools-remote",
            List.of("sh", "-c", "pwd; echo \"$KUBECONFIG\"; echo data > left-behind"));
    assertThat(r.status()).as(r.err()).isZero();
    String[] lines = r.out().trim().split("\n");
    Path workspace = Path.of(lines[0]);
    Path secret = Path.of(lines[1]);
    assertThat(workspace.getParent().getFileName().toString()).startsWith("job-");
    assertThat(workspace.getParent().getParent().getFileName().toString())
        .startsWith("gatehouse-runner-");
    assertThat(secret.getFileName().toString()).isEqualTo("KUBECONFIG");
    assertThat(workspace).doesNotExist();
    assertThat(secret).doesNotExist();
    assertThat(secret.getParent().getParent()).doesNotExist(); // the job directory
  }

  @Test
  void timeoutKillsTheRemoteCommand() throws Exception {
    long t0 = System.nanoTime();
    Result r = kit.run("tools-remote-fast", List.of("sleep", "3019"));
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
    assertThat(r.status()).isEqualTo(128 + 15);
    assertThat(r.err()).contains("gatehouse: command killed: timeout of PT2S reached");
    assertThat(seconds).isLessThan(15);
    assertThat(running("sleep 3019")).isFalse();
    assertThat(kit.recorder.completed).anyMatch(c -> c.contains("killed: timeout"));
  }

  @Test
  void maxOutputKillsTheRemoteCommand() throws Exception {
    Result r = kit.run("tools-remote-small", List.of("yes", "3041"));
    assertThat(r.status()).isEqualTo(128 + 15);
    assertThat(r.err()).contains("gatehouse: command killed: output limit of 65536 bytes reached");
    assertThat(r.out().length()).isEqualTo(64 * 1024);
    assertThat(running("yes 3041")).isFalse();
  }

  @Test
  void callerSignalReachesTheRemoteCommand() throws Exception {
    Result r =
        kit.run(
            "tools-remote",
            new ExecRequest(List.of("sleep", "3023"), null, Map.of(), null, null),
            null,
            x ->
                Thread.ofVirtual()
                    .start(
                        () -> {
                          try {
                            Thread.sleep(500);
                          } catch (InterruptedException e) {
                            return;
                          }
                          x.signal("INT");
                        }));
    assertThat(r.status()).as(r.err() + sshd.log()).isEqualTo(128 + 2);
    assertThat(running("sleep 3023")).isFalse();
  }

  @Test
  void aChannelThatEndsWithoutAStatusIs255AndSaysSo() throws Exception {
    try {
      Result r =
          kit.run(
              "tools-remote",
              new ExecRequest(List.of("sleep", "3049"), null, Map.of(), null, null),
              null,
              x ->
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try {
                              Thread.sleep(700);
                            } catch (InterruptedException e) {
                              return;
                            }
                            sshd.dropConnections();
                          }));
      assertThat(r.status()).isEqualTo(255);
      assertThat(r.err())
          .isEqualTo("gatehouse: the channel to runner target ended without an exit status\n");
      assertThat(kit.recorder.completed).anyMatch(c -> c.contains("exit 255 (the channel"));
    } finally {
      CommandRunnerTest.killMarked("sleep 3049"); // the target lost its session, not the command
    }
  }

  @Test
  void stdinIsForwarded() throws Exception {
    Result r =
        kit.run(
            "tools-remote",
            new ExecRequest(List.of("cat"), null, Map.of(), null, null),
            "one\ntwo\n".getBytes(StandardCharsets.UTF_8),
            x -> {});
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("one\ntwo\n");
  }

  @Test
  void changedHostKeyRefusesTheRunAndIsAudited() throws Exception {
    int before = kit.audit.size();
    Result r = kit.run("tools-remote-changed", List.of("echo", "hi"));
    assertThat(r.status()).isEqualTo(127);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("not pinned").contains("refusing to connect");
    assertThat(kit.audit.subList(before, kit.audit.size()))
        .anyMatch(e -> e.type().equals("ssh.host_key_rejected"));
    assertThat(kit.recorder.completed).anyMatch(c -> c.contains("not started"));
    assertThat(sent).isEmpty();
  }

  @Test
  void fixedWorkspaceKeepsCwdInside() throws Exception {
    Result sub =
        kit.run(
            "tools-remote-fixed",
            new ExecRequest(List.of("sh", "-c", "pwd"), null, Map.of(), "sub", null),
            null,
            x -> {});
    assertThat(sub.status()).as(sub.err()).isZero();
    assertThat(sub.out().trim()).isEqualTo(dir.resolve("fixed/sub").toRealPath().toString());
    Result up =
        kit.run(
            "tools-remote-fixed",
            new ExecRequest(List.of("sh", "-c", "pwd"), null, Map.of(), "../..", null),
            null,
            x -> {});
    assertThat(up.status()).isEqualTo(126);
    assertThat(up.err()).contains("is outside the workspace");
    // a symbolic link out of the workspace is only seen on the target, after cd
    Result link =
        kit.run(
            "tools-remote-fixed",
            new ExecRequest(List.of("sh", "-c", "pwd"), null, Map.of(), "out", null),
            null,
            x -> {});
    assertThat(link.status()).isEqualTo(126);
    assertThat(link.out()).isEmpty();
    assertThat(link.err()).contains("gatehouse: cwd out is outside the workspace");
    assertThat(dir.resolve("fixed/sub")).isDirectory(); // a fixed workspace is kept
  }

  @Test
  void aFixedWorkspaceJobGetsAHomeOfItsOwnOnTheTarget() throws Exception {
    Result planted =
        kit.run(
            "tools-remote-fixed",
            List.of(
                "sh",
                "-c",
                "printf '[core]\\n\\tpager = touch pwned\\n' > .gitconfig; echo $HOME"));
    assertThat(planted.status()).as(planted.err()).isZero();
    assertThat(dir.resolve("fixed/.gitconfig")).exists();
    Path home1 = Path.of(planted.out().trim());
    assertThat(home1.startsWith(dir.resolve("fixed").toRealPath())).isFalse();
    assertThat(home1).doesNotExist(); // removed with the job directory
    Result r =
        kit.run(
            "tools-remote-fixed",
            List.of("sh", "-c", "git config --global --get core.pager; echo status=$?"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).doesNotContain("touch pwned").contains("status=1");
    Files.delete(dir.resolve("fixed/.gitconfig"));
  }

  @Test
  void limitsAreSetWithUlimitOnTheTarget() throws Exception {
    Result r =
        kit.run(
            "tools-remote-limited",
            List.of(
                "sh",
                "-c",
                "ulimit -v; ulimit -t; ulimit -H -t; ulimit -p 2>/dev/null || ulimit -u"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("524288\n7\n8\n4096\n");
  }

  @Test
  void missingBinaryOnTheTargetExits127() throws Exception {
    Result r = kit.run("tools-remote", List.of("gatehouse-not-installed"));
    assertThat(r.status()).isEqualTo(127);
    assertThat(r.err())
        .contains("gatehouse: cannot start the command (/usr/bin/gatehouse-not-installed)");
  }

  @Test
  void aNewGatewaySweepsJobDirectoriesOfDeadOnesButNotLiveJobs() throws Exception {
    // The runner's root on the target (this host): above a fresh job's workspace.
    Result where = kit.run("tools-remote", List.of("sh", "-c", "pwd -P"));
    assertThat(where.status()).as(where.err()).isZero();
    Path root = Path.of(where.out().trim()).getParent().getParent();
    assertThat(root.getFileName().toString()).startsWith("gatehouse-runner-");
    long now = java.time.Instant.now().getEpochSecond();
    // A gateway that died long ago (its lease and its job are hours old), with a file secret.
    String dead = "0123456789abcdef";
    Path stale = root.resolve("job-" + dead + "-1000.AAAAAAAAAA");
    Files.createDirectories(stale.resolve("secrets"));
    Files.writeString(stale.resolve("secrets/KUBECONFIG"), "secret");
    Files.writeString(root.resolve("lease-" + dead), "1000\n");
    // A gateway alive elsewhere: an hour-old job, but a fresh lease.
    String alive = "fedcba9876543210";
    Path other = Files.createDirectories(root.resolve("job-" + alive + "-" + (now - 3600) + ".B"));
    Files.writeString(root.resolve("lease-" + alive), now + "\n");
    // Never touched: names that are not jobs, and a link named like a stale job.
    Path unrelated = Files.createDirectories(root.resolve("unrelated"));
    Path badName = Files.createDirectories(root.resolve("job-nothex-1000.C"));
    Path outside = Files.createDirectories(dir.resolve("outside-root"));
    Files.writeString(outside.resolve("keep"), "x");
    Path link = root.resolve("job-0000000000000bad-1001.D"); // no lease: stale, but a link
    Files.createSymbolicLink(link, outside);
    try (RunnerKit gw =
        new RunnerKit(
            Files.createDirectories(dir.resolve("gateway-2")),
            k ->
                SshProtocolServer.runners(
                    k.connections::get, name -> k.vault.fields.getOrDefault(name, Map.of())))) {
      gw.sshConnection("target", sshd.port, sshd.user, sshd.hostKeyLine(), sshd.privateKey());
      ExecConfig base = gw.exec("none", true, Duration.ofSeconds(30), 1 << 20);
      gw.connection("tools-remote", on(base, "target", "fresh", null, base.timeout(), 0, 0));
      String owner = gw.runner.remoteJobs().owner();

      // First use after start: the dead gateway's job (secrets first) and lease are gone.
      Result r = gw.run("tools-remote", List.of("echo", "hi"));
      assertThat(r.status()).as(r.err()).isZero();
      assertThat(stale).doesNotExist();
      assertThat(root.resolve("lease-" + dead)).doesNotExist();
      assertThat(other).isDirectory();
      assertThat(root.resolve("lease-" + alive)).exists();
      assertThat(unrelated).isDirectory();
      assertThat(badName).isDirectory();
      assertThat(link).isSymbolicLink();
      assertThat(outside.resolve("keep")).exists();
      assertThat(root.resolve("lease-" + owner)).exists();

      // A later sweep spares this gateway's running job, and removes one of its own that no
      // live job owns (a cleanup that never reached the target) and a new stale one.
      var running = new java.util.concurrent.atomic.AtomicReference<Execution>();
      Thread job =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      gw.run(
                          "tools-remote",
                          new ExecRequest(List.of("sleep", "3031"), null, Map.of(), null, null),
                          null,
                          running::set);
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  });
      Path live = null;
      for (int i = 0; i < 100 && live == null; i++) {
        Thread.sleep(100);
        try (var list = Files.list(root)) {
          live =
              list.filter(p -> p.getFileName().toString().startsWith("job-" + owner + "-"))
                  .findFirst()
                  .orElse(null);
        }
      }
      assertThat(live).as("the running job's directory").isNotNull();
      Path orphan = Files.createDirectories(root.resolve("job-" + owner + "-" + now + ".E"));
      Path stale2 = Files.createDirectories(root.resolve("job-" + dead + "-1000.F/secrets"));
      gw.runner.remoteJobs().sweepAgain();
      Result again = gw.run("tools-remote", List.of("echo", "again"));
      assertThat(again.status()).as(again.err()).isZero();
      assertThat(live).isDirectory();
      assertThat(orphan).doesNotExist();
      assertThat(stale2.getParent()).doesNotExist();
      assertThat(other).isDirectory();
      running.get().kill();
      job.join(10_000);
      assertThat(live).doesNotExist(); // removed by its own cleanup
    } finally {
      Files.deleteIfExists(link);
      for (Path p : List.of(other, unrelated, badName)) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(root.resolve("lease-" + alive));
    }
  }

  /** Whether a process with {@code args} in its command line runs (pgrep -f). */
  static boolean running(String args) throws Exception {
    for (int i = 0; i < 50; i++) {
      Process p = new ProcessBuilder("pgrep", "-f", "^" + args).start();
      if (p.waitFor() != 0) {
        return false;
      }
      Thread.sleep(100);
    }
    return true;
  }

  /** Counts logins and keeps every command string sent to the target. */
  static RemoteHosts recording(RemoteHosts real) {
    return new RemoteHosts() {
      @Override
      public Host open(String connection, GateSession session) throws GateException {
        Host h = real.open(connection, session);
        logins.incrementAndGet();
        return new Host() {
          @Override
          public Command start(String command) throws IOException {
            sent.add(command);
            return h.start(command);
          }

          @Override
          public List<String> secrets() {
            return h.secrets();
          }

          @Override
          public void close() {
            h.close();
          }
        };
      }

      @Override
      public void close() {
        real.close();
      }
    };
  }
}
