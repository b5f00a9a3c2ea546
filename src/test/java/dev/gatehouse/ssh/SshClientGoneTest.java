package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.audit.SessionAction;
import dev.gatehouse.audit.SessionQueries;
import dev.gatehouse.audit.SessionSummary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command on the target ends with the client (twentieth session, ssh20): the real OpenSSH client
 * through the gateway to the real sshd, the client killed or its channel closed while the command
 * runs, and the target's process table read. Without a terminal sshd only closes the command's
 * pipes, and refuses {@code signal} requests on a root login (as the test's target account usually
 * is), so before the fix {@code sleep} ran on and the marker file appeared.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshClientGoneTest {
  static final String POLICY =
      """
      version: 1
      rules:
        - id: work
          subjects: { groups: [eng] }
          connections: { names: [box, box-unguarded] }
          effect: allow
          command: { binary: [sh, sleep, echo] }
          obligations: { masking: none }
        - id: lines
          subjects: { groups: [eng] }
          connections: { names: [box] }
          effect: allow
          command: { binary: [sleep, touch], shell: true }
          obligations: { masking: none }
      """;

  SshFixture gw;
  Path dir;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    assumeTrue(SshFixture.available(), "OpenSSH client/server not installed");
    this.dir = dir;
    gw = new SshFixture(dir, POLICY);
  }

  @AfterAll
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  @Test
  void killingTheClientStopsACommandWithoutATerminal() throws Exception {
    Path marker = dir.resolve("touched-1");
    Process p =
        gw.start(
            command("alice+box", List.of(), "sh", "-c", "'sleep 40.7171; touch " + marker + "'"),
            Map.of());
    p.getOutputStream().close();
    awaitStarted(p, "40.7171");
    p.destroy(); // SIGTERM: ssh exits at once and its connection drops
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    awaitGone("40.7171");
    Thread.sleep(1_000); // the shell that would touch went with it
    assertThat(marker).doesNotExist();
    assertThat(lastAction(lastSession()).summary())
        .startsWith(
            "not finished: the client closed the channel before the command ended; the gateway"
                + " sent SIGTERM to its process group on the target, and SIGKILL 10 s later to"
                + " what was left");
  }

  @Test
  void aChannelClosedOnAConnectionThatStaysStopsItsCommand() throws Exception {
    // ControlMaster: killing the multiplexing client closes its channel; the master's connection
    // (and the gateway's upstream session) stay up.
    Path sock = dir.resolve("mux.sock");
    List<String> master = gw.sshCommand(gw.aliceKey, "alice+box", muxOptions(sock, "-M", "-N"));
    Process m = gw.start(master, Map.of());
    try {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (!Files.exists(sock)) {
        assertThat(System.nanoTime()).as(gw.errSoFar(m)).isLessThan(end);
        Thread.sleep(50);
      }
      Process c = gw.start(command("alice+box", muxOptions(sock), "sleep", "300.8181"), Map.of());
      c.getOutputStream().close();
      awaitStarted(c, "300.8181");
      c.destroy();
      assertThat(c.waitFor(10, TimeUnit.SECONDS)).isTrue();
      awaitGone("300.8181");
      assertThat(m.isAlive()).as("the master connection stays").isTrue();
      // and the connection still runs commands
      var again =
          gw.run(command("alice+box", muxOptions(sock), "echo", "still-here"), Map.of(), "");
      assertThat(again.out()).as(again.err()).isEqualTo("still-here\n");
    } finally {
      m.destroy();
      m.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void killingTheClientHangsUpACommandWithATerminal() throws Exception {
    Process p = gw.start(command("alice+box", List.of("-tt"), "sleep", "300.9191"), Map.of());
    awaitStarted(p, "300.9191");
    p.destroy();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    awaitGone("300.9191");
  }

  @Test
  void aShellLineIsStoppedWhole() throws Exception {
    // sh -c 'LINE' as a shell line: the report is one more line before it, in the same shell
    Path marker = dir.resolve("touched-2");
    Process p =
        gw.start(command("alice+box", List.of(), "sleep 40.4141 && touch " + marker), Map.of());
    p.getOutputStream().close();
    awaitStarted(p, "40.4141");
    p.destroy();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    awaitGone("40.4141");
    Thread.sleep(1_000);
    assertThat(marker).doesNotExist();
  }

  // ---- helpers ----------------------------------------------------------------------------

  private static List<String> muxOptions(Path sock, String... more) {
    List<String> o =
        new ArrayList<>(List.of("-o", "ControlPath=" + sock, "-o", "ControlPersist=no"));
    o.addAll(List.of(more));
    return o;
  }

  private List<String> command(String login, List<String> options, String... command) {
    List<String> cmd = gw.sshCommand(gw.aliceKey, login, options);
    cmd.addAll(List.of(command));
    return cmd;
  }

  private SessionSummary lastSession() throws Exception {
    gw.server.awaitRecorded();
    SessionQueries q = new SessionQueries(gw.server.database());
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    SessionSummary s = q.list("alice", null, 1).get(0);
    while (s.endedAt() == null && System.nanoTime() < end) {
      Thread.sleep(50);
      s = q.list("alice", null, 1).get(0);
    }
    assertThat(s.endedAt()).isNotNull();
    return s;
  }

  private SessionAction lastAction(SessionSummary s) throws Exception {
    SessionQueries q = new SessionQueries(gw.server.database());
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      gw.server.awaitRecorded();
      List<SessionAction> actions = q.show(s.id()).orElseThrow().actions();
      assertThat(actions).isNotEmpty();
      SessionAction a = actions.get(actions.size() - 1);
      if (a.completedAt() != null || System.nanoTime() > end) {
        assertThat(a.completedAt()).as("outcome recorded").isNotNull();
        return a;
      }
      Thread.sleep(50);
    }
  }

  /** Whether {@code sleep MARKER} runs on the target (this host): sleep's own command line only. */
  static boolean running(String marker) throws Exception {
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(x -> x.getFileName().toString().matches("\\d+")).toList()) {
        try {
          String s = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
          if (s.matches("(/usr/bin/)?sleep\0" + java.util.regex.Pattern.quote(marker) + "\0")) {
            return true;
          }
        } catch (IOException e) {
          // gone
        }
      }
    }
    return false;
  }

  private void awaitStarted(Process p, String marker) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!running(marker)) {
      assertThat(System.nanoTime())
          .as("sleep " + marker + " started; client: " + gw.errSoFar(p))
          .isLessThan(end);
      Thread.sleep(50);
    }
  }

  /** Within 15 s (a few on an idle machine; these tests run beside others' builds). */
  private void awaitGone(String marker) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (running(marker)) {
      assertThat(System.nanoTime())
          .as("sleep " + marker + " ended; target sshd: " + Files.readString(gw.sshdLog()))
          .isLessThan(end);
      Thread.sleep(100);
    }
  }
}
