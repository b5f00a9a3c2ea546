package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.audit.AuditExporter;
import dev.gatehouse.audit.SessionAction;
import dev.gatehouse.audit.SessionQueries;
import dev.gatehouse.audit.SessionSummary;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Open SSH sessions follow a policy reload (docs/policy.md, "Hot reload"): the real OpenSSH client
 * through the gateway to the real sshd, and the gateway's policy file rewritten and reloaded under
 * an interactive shell, a long exec on the target and a long command on an exec connection. A
 * reload that no longer lets the principal connect, or changes the session's masking, ends the
 * session within about a second (the gate's sweeper; the client is idle) with the reason on the
 * client's stderr and exit status 255 (ssh(1): an error); one that leaves its terms as they were
 * does not disturb it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshSessionTermsTest {
  /** A Luhn-valid card number the {@code pii} profile masks and {@code none} leaves. */
  static final String CARD = "4111 1111 1111 1111";

  static final String POLICY =
      """
      version: 1
      rules:
        - id: work-shell
          subjects: { groups: [eng] }
          connections: { names: [box] }
          effect: allow
          shell: {}
          obligations: { masking: none }
        - id: work-commands
          subjects: { groups: [eng] }
          connections: { names: [box, runner-long] }
          effect: allow
          command: { binary: [echo, sleep] }
          obligations: { masking: none }
      """;

  /** A rule about something else: it grants and refuses nothing of alice's sessions on box. */
  static final String UNRELATED =
      """
        - id: visitors-echo
          subjects: { groups: [visitors] }
          connections: { names: [box-dest] }
          effect: allow
          command: { binary: [echo] }
      """;

  static final String REVOKED = POLICY.replace("groups: [eng]", "groups: [former-eng]");

  static final String NO_CONNECT = "the policy no longer lets \"alice\" connect to \"box\"";

  /** How long a session may outlive the reload that ends it: the sweeper runs every second. */
  static final long PROMPT_SECONDS = 5;

  SshFixture gw;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    assumeTrue(SshFixture.available(), "OpenSSH client/server not installed");
    gw =
        new SshFixture(
            dir,
            POLICY,
            """
            - name: runner-long
              type: exec
              exec: { binaries: [/usr/bin/echo, /usr/bin/sleep] }
            """);
  }

  @AfterEach
  void restore() throws Exception {
    if (gw != null) {
      gw.reload(POLICY);
    }
  }

  @AfterAll
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  @Test
  void aReloadThatRevokesTheConnectionEndsAnIdleShell() throws Exception {
    Process shell = shell();
    type(shell, "echo ready $((6*7))");
    awaitOut(shell, "ready 42");
    gw.reload(REVOKED);
    // Nothing more is typed: the sweeper ends the idle session.
    var r = ended(shell);
    assertThat(r.exit()).as(r.err()).isEqualTo(255);
    assertThat(reasonLine(r.err()))
        .contains("gatehouse: session ended: " + NO_CONNECT)
        .contains("(rule default-deny)");
    assertThat(lastSession().endReason()).startsWith(NO_CONNECT);
    // and a new session is refused
    var again = gw.ssh(gw.aliceKey, "alice+box", null, "echo", "hi");
    assertThat(again.exit()).isNotZero();
    assertThat(again.out()).doesNotContain("hi");
  }

  @Test
  void aReloadThatTurnsMaskingOnEndsTheUnmaskedShell() throws Exception {
    Process shell = shell();
    type(shell, "echo card $((1+1)) " + CARD);
    awaitOut(shell, "card 2 " + CARD); // masking none: the shell shows it as it is
    gw.reload(POLICY.replace("masking: none", "masking: pii"));
    var r = ended(shell);
    assertThat(r.exit()).as(r.err()).isEqualTo(255);
    assertThat(reasonLine(r.err()))
        .contains(
            "gatehouse: session ended: the policy changed this session's terms (masking pii, was"
                + " none); reconnect to continue under the new ones");
    assertThat(lastSession().endReason()).contains("masking pii, was none");
    // The new session has the new terms.
    var masked = gw.ssh(gw.aliceKey, "alice+box", null, "echo", CARD);
    assertThat(masked.exit()).as(masked.err()).isZero();
    assertThat(masked.out()).doesNotContain(CARD).contains("1111");
  }

  @Test
  void aReloadThatKeepsTheTermsKeepsTheShell() throws Exception {
    Process shell = shell();
    type(shell, "echo before $((2+3))");
    awaitOut(shell, "before 5");
    gw.reload(POLICY + UNRELATED);
    Thread.sleep(2_500); // the sweeper decides the CONNECT again at least twice
    assertThat(shell.isAlive()).as(gw.errSoFar(shell)).isTrue();
    type(shell, "echo after $((3+4))");
    awaitOut(shell, "after 7");
    type(shell, "exit 3");
    var r = gw.finish(shell);
    assertThat(r.exit()).as(r.err()).isEqualTo(3);
    assertThat(r.err()).doesNotContain("session ended");
    assertThat(lastSession().endReason()).isEqualTo("closed");
  }

  @Test
  void aReloadThatRevokesTheConnectionEndsALongCommandAndRecordsWhy() throws Exception {
    Process p = gw.start(command("alice+box", "sleep", "30.5151"), Map.of());
    p.getOutputStream().close();
    awaitStarted("30.5151");
    gw.reload(REVOKED);
    var r = ended(p);
    assertThat(r.exit()).as(r.err()).isEqualTo(255);
    assertThat(reasonLine(r.err())).contains("gatehouse: session ended: " + NO_CONNECT);
    stoppedOnTarget("30.5151");
    SessionSummary s = lastSession();
    assertThat(s.endReason()).startsWith(NO_CONNECT);
    assertThat(lastAction(s).summary())
        .startsWith("stopped: the session ended: " + NO_CONNECT)
        .matches(".*\\((killed by signal TERM|cut off before it ended)\\)");
    assertThat(audit())
        .contains("\"session.end\"")
        .contains("the policy no longer lets \\\"alice\\\" connect to \\\"box\\\"");
  }

  @Test
  void aReloadThatRevokesTheConnectionEndsACommandOnAnExecConnection() throws Exception {
    Process p = gw.start(command("alice+runner-long", "sleep", "30.6161"), Map.of());
    p.getOutputStream().close();
    awaitStarted("30.6161");
    gw.reload(REVOKED);
    var r = ended(p);
    assertThat(r.exit()).as(r.err()).isNotZero();
    String why = "the policy no longer lets \"alice\" connect to \"runner-long\"";
    assertThat(reasonLine(r.err())).contains("gatehouse: session ended: " + why);
    awaitGone("30.6161");
    assertThat(lastAction(lastSession()).summary()).contains("(killed: the session ended: " + why);
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** An interactive shell on box with a terminal (ssh -tt), its input kept open. */
  private Process shell() throws IOException {
    return gw.start(gw.sshCommand(gw.aliceKey, "alice+box", List.of("-tt")), Map.of());
  }

  /** ssh LOGIN@gateway COMMAND... */
  private List<String> command(String login, String... command) {
    List<String> cmd = gw.sshCommand(gw.aliceKey, login, List.of());
    cmd.addAll(List.of(command));
    return cmd;
  }

  private static void type(Process p, String line) throws IOException {
    OutputStream in = p.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  private void awaitOut(Process p, String text) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!gw.outSoFar(p).contains(text)) {
      assertThat(p.isAlive()).as(gw.errSoFar(p)).isTrue();
      assertThat(System.nanoTime()).as("output " + text).isLessThan(end);
      Thread.sleep(50);
    }
  }

  /** The client's end, which must come within {@link #PROMPT_SECONDS} of the reload. */
  private SshFixture.Run ended(Process p) throws Exception {
    boolean done = p.waitFor(PROMPT_SECONDS, TimeUnit.SECONDS);
    if (!done) {
      String err = gw.errSoFar(p);
      p.destroyForcibly();
      throw new AssertionError("the session outlived the reload; stderr: " + err);
    }
    return gw.finish(p);
  }

  /** The one line of the client's stderr that gives the gateway's reason. */
  private static String reasonLine(String err) {
    return err.lines()
        .filter(l -> l.contains("gatehouse:"))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no reason on stderr: " + err));
  }

  private SessionSummary lastSession() throws Exception {
    gw.server.awaitRecorded();
    SessionQueries q = new SessionQueries(gw.server.database());
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    SessionSummary s = q.list("alice", null, 1).get(0);
    while (s.endedAt() == null && System.nanoTime() < end) {
      Thread.sleep(50);
      s = q.list("alice", null, 1).get(0);
    }
    assertThat(s.endedAt()).isNotNull();
    return s;
  }

  /**
   * The command is gone from the target: the gateway sent SIGTERM to its process group from a
   * second exec channel (SshTargetJob), which works on a root login too, where sshd refuses {@code
   * signal} requests (session.c, session_signal_req) and this test used to see only that the
   * request arrived.
   */
  private void stoppedOnTarget(String marker) throws Exception {
    awaitGone(marker);
  }

  /** The last action of a session, once its outcome is recorded. */
  private SessionAction lastAction(SessionSummary s) throws Exception {
    SessionQueries q = new SessionQueries(gw.server.database());
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
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

  private String audit() {
    StringWriter w = new StringWriter();
    gw.server.awaitRecorded();
    new AuditExporter(gw.server.database()).export(w, null, 0);
    return w.toString();
  }

  /**
   * Whether a {@code sleep MARKER} runs (on the target or the exec runner: both are this host).
   * Only sleep's own command line: the ssh client's holds the marker too.
   */
  private static boolean running(String marker) throws Exception {
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

  private static void awaitStarted(String marker) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!running(marker)) {
      assertThat(System.nanoTime()).as("sleep " + marker + " started").isLessThan(end);
      Thread.sleep(100);
    }
  }

  private void awaitGone(String marker) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (running(marker)) {
      assertThat(System.nanoTime())
          .as("sleep " + marker + " ended; target sshd: " + Files.readString(gw.sshdLog()))
          .isLessThan(end);
      Thread.sleep(100);
    }
  }
}
