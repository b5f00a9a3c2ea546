package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.audit.AuditExporter;
import dev.gatehouse.audit.SessionQueries;
import dev.gatehouse.audit.SessionSummary;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ChannelShell;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The SSH listener end to end: real OpenSSH client → gateway → real OpenSSH sshd. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshGatewayTest {
  /** A GitHub token shape the default masking profile removes. */
  static final String SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

  Path dir;
  SshFixture gw;

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    assumeTrue(SshFixture.available(), "OpenSSH client/server not installed");
    dir = tmp;
    gw = new SshFixture(dir);
  }

  @AfterAll
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  @Test
  void allowedCommandRunsOnTheTargetWithItsExitStatus() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+box", null, "sh -c 'echo hello from $0; exit 3'");
    assertThat(r.out()).contains("hello from sh");
    assertThat(r.exit()).as(r.err()).isEqualTo(3);
  }

  @Test
  void argvIsRequotedSoTheTargetShellCannotReadMoreIntoIt() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+box", null, "echo", "'a;", "id'");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().trim()).isEqualTo("a; id");
  }

  @Test
  void deniedCommandExits126NamingTheRule() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+box", null, "rm -rf /tmp/nothing");
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.err())
        .contains("gatehouse: denied by rule no-rm: Deleting files on box is not allowed.");
  }

  @Test
  void lineThatNeedsAShellIsDeniedUnlessARuleAllowsIt() throws Exception {
    var denied = gw.ssh(gw.aliceKey, "alice+box", null, "echo hi | cat");
    assertThat(denied.exit()).isEqualTo(126);
    assertThat(denied.err()).contains("gatehouse: denied");
    var allowed = gw.ssh(gw.aliceKey, "alice+box", null, "ls / | head -1");
    assertThat(allowed.exit()).as(allowed.err()).isZero();
  }

  @Test
  void stdinReachesTheCommand() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+box", "line one\nline two\n", "cat");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("line one\nline two\n");
  }

  @Test
  void secretPrintedByTheTargetIsMaskedAndRecordedMasked() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+box", null, "echo token " + SECRET + " end");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).doesNotContain(SECRET).contains("token").contains("end");
    String cast = lastCast("box");
    assertThat(cast).doesNotContain(SECRET).contains("token");
  }

  @Test
  void aSecretSplitByColourCodesIsMaskedToo() throws Exception {
    // What grep --color=always prints when the search matched the token's first characters.
    String head = SECRET.substring(0, 8);
    String tail = SECRET.substring(8);
    var r =
        gw.ssh(
            gw.aliceKey,
            "alice+box",
            null,
            "printf 'token \\033[01;31m\\033[K" + head + "\\033[m\\033[K" + tail + " end\\n'");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("token").contains("end").contains("\u001b[01;31m");
    assertThat(r.out().replaceAll("\u001b\\[[0-9;]*[A-Za-z]", ""))
        .doesNotContain(SECRET)
        .doesNotContain(tail);
  }

  @Test
  void aSecretPrintedWithAPauseInsideIsMaskedWhole() throws Exception {
    // Longer than the idle flush (40 ms): the masker keeps the token's start until the rest comes.
    String head = SECRET.substring(0, 10);
    String tail = SECRET.substring(10);
    var r =
        gw.ssh(
            gw.aliceKey,
            "alice+box",
            null,
            "sh -c 'printf \"token " + head + "\"; sleep 0.3; printf \"" + tail + " end\\n\"'");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("token").contains("end").doesNotContain(head).doesNotContain(tail);
    assertThat(lastCast("box")).doesNotContain(head).doesNotContain(tail);
  }

  @Test
  void utf8AndAnsiOutputPassesUnchanged() throws Exception {
    // printf turns \\033 into ESC on the target (a raw ESC in an argument is refused by policy)
    var r = gw.ssh(gw.aliceKey, "alice+box", null, "printf 'grüße 日本 \\033[31mred\\033[0m ok\\n'");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("grüße 日本 \u001b[31mred\u001b[0m ok\n");
  }

  @Test
  void outputIsByteExactWithoutMasking() throws Exception {
    String cmd = "printf '\\377\\376\\000\\001'";
    var raw = gw.ssh(gw.aliceKey, "alice+raw", null, cmd);
    assertThat(raw.exit()).as(raw.err()).isZero();
    assertThat(raw.outBytes()).containsExactly(0xff, 0xfe, 0x00, 0x01);
    var masked = gw.ssh(gw.aliceKey, "alice+box", null, cmd);
    assertThat(masked.exit()).as(masked.err()).isZero();
    assertThat(masked.out()).contains("\uFFFD"); // a masked session reads output as text
  }

  @Test
  void sessionEndsWhenTheClientDisconnects() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+box", null, "uname");
    assertThat(r.exit()).isZero();
    gw.server.awaitRecorded();
    SessionQueries q = new SessionQueries(gw.server.database());
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    SessionSummary s = q.list("alice", "box", 1).get(0);
    while (s.endedAt() == null && System.nanoTime() < end) {
      Thread.sleep(50);
      s = q.list("alice", "box", 1).get(0);
    }
    assertThat(s.protocol()).isEqualTo("ssh");
    assertThat(s.endedAt()).isNotNull();
    assertThat(s.actions()).isEqualTo(1);
  }

  @Test
  void windowChangesReachTheTargetTerminal() throws Exception {
    try (SshClient client = SshClient.setUpDefaultClient()) {
      client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
      client.start();
      try (ClientSession s = login(client, "alice+box")) {
        try (ChannelShell shell = s.createShellChannel()) {
          shell.setPtyColumns(80);
          shell.setPtyLines(24);
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          shell.setOut(out);
          shell.setErr(out);
          shell.open().verify(20_000);
          OutputStream keys = shell.getInvertedIn();
          keys.write("stty size\n".getBytes(StandardCharsets.UTF_8));
          keys.flush();
          awaitOutput(out, "24 80");
          shell.sendWindowChange(132, 43);
          Thread.sleep(300);
          keys.write("stty size; exit\n".getBytes(StandardCharsets.UTF_8));
          keys.flush();
          shell.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), 20_000);
          assertThat(out.toString(StandardCharsets.UTF_8)).contains("24 80").contains("43 132");
        }
      }
    }
  }

  /**
   * TERM is forwarded, USR1 is not (Node.js opens its inspector on it). OpenSSH's sshd logs each
   * signal request it gets, without its name (a session of root started this way is refused:
   * "session signalling requires privilege separation"); requests on a channel are handled in
   * order, so once the last TERM is logged, a forwarded USR1 would have been too.
   */
  @Test
  void signalRequestsAreForwardedToTheTarget() throws Exception {
    assertThat(signalsRelayed("alice+box", "sleep 31", "TERM", "USR1", "USR2", "TERM"))
        .isEqualTo(2);
  }

  /**
   * {@code ssh.signals_allow: [USR1]} (connection box-usr1) relays USR1 too, and still not USR2,
   * which it does not list.
   */
  @Test
  void signalsAllowOptsInUsr1OnAnSshConnection() throws Exception {
    assertThat(signalsRelayed("alice+box-usr1", "sleep 32", "TERM", "USR2", "USR1", "TERM"))
        .isEqualTo(3);
  }

  /**
   * How many of {@code signals} sent to {@code command} (which runs until the signals are sent) the
   * target's sshd logged; the last one must be relayed, so that, requests on a channel being
   * handled in order, every earlier one that is relayed has been logged once it is.
   */
  private long signalsRelayed(String user, String command, String... signals) throws Exception {
    try (SshClient client = SshClient.setUpDefaultClient()) {
      client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
      client.start();
      try (ClientSession s = login(client, user);
          ChannelExec exec = s.createExecChannel(command)) {
        exec.setOut(new ByteArrayOutputStream());
        exec.setErr(new ByteArrayOutputStream());
        long before = signalRequestsLogged();
        exec.open().verify(20_000);
        // the upstream channel is open (and signals are relayed) once the target runs the command
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (ProcessHandle.allProcesses()
            .noneMatch(p -> p.info().commandLine().orElse("").endsWith(command))) {
          assertThat(System.nanoTime()).isLessThan(end);
          Thread.sleep(50);
        }
        Thread.sleep(300);
        for (String name : signals) {
          signal(s, exec, name);
        }
        // at least the two TERMs (the defaults) are relayed; wait for them, then a little more
        while (signalRequestsLogged() < before + 2 && System.nanoTime() < end) {
          Thread.sleep(100);
        }
        Thread.sleep(500);
        return signalRequestsLogged() - before;
      }
    }
  }

  private long signalRequestsLogged() throws IOException {
    return Files.readString(gw.sshdLog())
        .lines()
        .filter(l -> l.contains("session_signal_req"))
        .count();
  }

  /** A {@code signal} request (RFC 4254 section 6.9); MINA's client has no call for it. */
  private static void signal(ClientSession s, ChannelExec exec, String name) throws Exception {
    Buffer b = s.createBuffer(SshConstants.SSH_MSG_CHANNEL_REQUEST);
    b.putUInt(exec.getRecipient());
    b.putString("signal");
    b.putBoolean(false);
    b.putString(name);
    exec.writePacket(b);
  }

  private ClientSession login(SshClient client, String user) throws Exception {
    ClientSession s = client.connect(user, "127.0.0.1", gw.port()).verify(20_000).getSession();
    try (var in = Files.newInputStream(gw.aliceKey)) {
      for (KeyPair kp :
          SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName("alice"), in, null)) {
        s.addPublicKeyIdentity(kp);
      }
    }
    s.auth().verify(20_000);
    return s;
  }

  private static void awaitOutput(ByteArrayOutputStream out, String text) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!out.toString(StandardCharsets.UTF_8).contains(text) && System.nanoTime() < end) {
      Thread.sleep(50);
    }
  }

  @Test
  void interactiveShellWithPtyIsRelayedAndRecorded() throws Exception {
    List<String> cmd = gw.sshCommand(gw.aliceKey, "alice+box", List.of("-tt"));
    var shell = gw.run(cmd, Map.of(), "echo the answer is $((6*7))\nexit 5\n");
    assertThat(shell.out()).contains("the answer is 42");
    assertThat(shell.exit()).as(shell.err()).isEqualTo(5);
    String cast = lastCast("box");
    assertThat(cast).contains("the answer is 42").contains("\"i\"");
    assertThat(audit()).contains("ssh.shell_input").contains("echo the answer is $((6*7))");
  }

  @Test
  void unknownOrChangedHostKeyIsRefused() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+box-changed", null, "true");
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.err()).contains("not pinned").contains("SHA256:");
    assertThat(audit()).contains("ssh.host_key_rejected");
    // An ssh connection without host_keys is a configuration error (ConfigValidationTest).
  }

  @Test
  void targetRefusingTheGatewaysKeyIsReportedWithoutTheTargetsText() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+box-badkey", null, "true");
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.err())
        .contains("gatehouse: cannot open connection \"box-badkey\"")
        .contains("refused the gateway's credentials");
  }

  @Test
  void loginWithoutConnectionOrWithSomeoneElsesKeyFails() throws Exception {
    var noPlus = gw.ssh(gw.aliceKey, "alice", null, "true");
    assertThat(noPlus.exit()).isEqualTo(255);
    assertThat(noPlus.err()).contains("IDENTITY+CONNECTION");
    var wrongKey = gw.ssh(gw.bobKey, "alice+box", null, "true");
    assertThat(wrongKey.exit()).isEqualTo(255);
    assertThat(wrongKey.err()).contains("Permission denied");
  }

  @Test
  void connectRefusedByPolicyFailsTheLoginWithTheReason() throws Exception {
    var r = gw.ssh(gw.bobKey, "bob+box", null, "true");
    assertThat(r.exit()).isEqualTo(255);
    assertThat(r.err()).contains("gatehouse:").contains("may not connect");
    var unknown = gw.ssh(gw.aliceKey, "alice+nowhere", null, "true");
    assertThat(unknown.exit()).isEqualTo(255);
    assertThat(unknown.err()).contains("does not exist");
  }

  @Test
  void localForwardingIsDeniedUnlessARuleAllowsIt() throws Exception {
    String to = "127.0.0.1:" + gw.sshdPort;
    var denied = gw.run(gw.sshCommand(gw.aliceKey, "alice+box", List.of("-W", to)), Map.of(), "");
    assertThat(denied.exit()).isEqualTo(255);
    // MINA's connection service sends its own description with the refusal; the rule is audited.
    assertThat(denied.err()).contains("administratively prohibited");
    assertThat(denied.out()).isEmpty();
    assertThat(audit()).contains("local 127.0.0.1:" + gw.sshdPort);
  }

  @Test
  void allowedLocalForwardingConnectsFromTheTarget() throws Exception {
    String to = "127.0.0.1:" + gw.sshdPort;
    var r = gw.run(gw.sshCommand(gw.aliceKey, "alice+box-fwd", List.of("-W", to)), Map.of(), "");
    assertThat(r.out()).startsWith("SSH-2.0-OpenSSH");
  }

  @Test
  void agentAndRemoteForwardingAreRefused() throws Exception {
    List<String> cmd =
        gw.sshCommand(
            gw.aliceKey,
            "alice+box-fwd",
            List.of("-A", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:1"));
    cmd.add("true");
    var r = gw.run(cmd, Map.of(), "");
    assertThat(r.exit()).isEqualTo(255);
    assertThat(r.err()).contains("remote port forwarding failed");
    assertThat(audit()).contains("ssh.forward_refused");
  }

  @Test
  void passwordIsAGatewayTokenOfTheSameIdentity() throws Exception {
    String token = gw.tokenFor("alice");
    var ok = withAskpass(token, "alice+box", "echo", "via-token");
    assertThat(ok.exit()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("via-token");
    String bobs = gw.tokenFor("bob");
    var other = withAskpass(bobs, "alice+box", "true");
    assertThat(other.exit()).isEqualTo(255);
  }

  @Test
  void revokingTheTokenEndsTheSession() throws Exception {
    var issued = gw.server.tokens().issueForUser("alice", null, java.util.Set.of(), "test");
    Path askpass = askpass(issued.secret());
    List<String> cmd = passwordCommand("alice+box", "sleep", "30");
    Process p = gw.start(cmd, askpassEnv(askpass));
    p.getOutputStream().close();
    Thread.sleep(2500);
    assertThat(p.isAlive()).isTrue();
    gw.server.tokens().revoke(issued.id(), "test");
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    var r = gw.finish(p);
    assertThat(r.exit()).isEqualTo(255);
    assertThat(r.err()).contains("session ended");
  }

  @Test
  void commandKilledBySignalReportsTheSignal() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+box", null, "sh -c 'kill -TERM $$'");
    assertThat(r.exit()).as(r.err()).isEqualTo(128 + 15);
  }

  @Test
  void aCommandOnATerminalGetsNoPagerAndLessInSecureMode() throws Exception {
    // With a PTY, an allowed command that pages would start less, whose !command is a shell.
    List<String> cmd = gw.sshCommand(gw.aliceKey, "alice+box", List.of("-tt"));
    cmd.add("sh -c 'echo \"pager=$PAGER/$LESSSECURE/$SYSTEMD_PAGER\"'");
    var r = gw.run(cmd, Map.of(), "");
    assertThat(r.exit()).as(r.err()).isEqualTo(0);
    assertThat(r.out()).contains("pager=cat/1/cat");
  }

  @Test
  void pagerGuardOffSendsTheCommandAsDecidedAndTtyGuardsOnlyATerminal() throws Exception {
    String show = "sh -c 'echo \"pager=${PAGER-unset}/${EDITOR-unset}\"'";
    // always (the default): with or without a terminal
    assertThat(gw.ssh(gw.aliceKey, "alice+box", null, show).out()).contains("pager=cat/false");
    // off: what a restricted target (git-shell, rrsync, ForceCommand) expects, no env(1) first
    var off = gw.ssh(gw.aliceKey, "alice+box-unguarded", null, show);
    assertThat(off.exit()).as(off.err()).isZero();
    assertThat(off.out()).contains("pager=unset/unset");
    List<String> offTty = gw.sshCommand(gw.aliceKey, "alice+box-unguarded", List.of("-tt"));
    offTty.add(show);
    assertThat(gw.run(offTty, Map.of(), "").out()).contains("pager=unset/unset");
    // tty: only with a terminal
    assertThat(gw.ssh(gw.aliceKey, "alice+box-tty", null, show).out())
        .contains("pager=unset/unset");
    List<String> tty = gw.sshCommand(gw.aliceKey, "alice+box-tty", List.of("-tt"));
    tty.add(show);
    assertThat(gw.run(tty, Map.of(), "").out()).contains("pager=cat/false");
  }

  @Test
  void ctrlCOnATerminalInterruptsTheRemoteCommand() throws Exception {
    List<String> cmd = gw.sshCommand(gw.aliceKey, "alice+box", List.of("-tt"));
    cmd.add("sleep 30");
    Process p = gw.start(cmd, Map.of());
    Thread.sleep(1500);
    p.getOutputStream().write(3); // ^C, turned into SIGINT by the target's terminal
    p.getOutputStream().flush();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    p.getOutputStream().close();
    assertThat(gw.finish(p).exit()).isEqualTo(128 + 2);
  }

  @Test
  void heldCommandWaitsForApprovalThenRuns() throws Exception {
    Process p = heldDate("GATEHOUSE_JUSTIFICATION=INC-42");
    assertThat(p.isAlive()).isTrue();
    var pending = gw.server.reviews().list("pending", 10);
    assertThat(pending).hasSize(1);
    assertThat(pending.get(0).toString()).contains("INC-42");
    gw.server.reviews().approve(pending.get(0).id(), lee(), "ok");
    var r = gw.finish(p);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isNotBlank();
  }

  /** Starts {@code date} on box with {@code setEnv}; returns it once it is held for review. */
  private Process heldDate(String setEnv) throws Exception {
    List<String> cmd = gw.sshCommand(gw.aliceKey, "alice+box", List.of("-o", "SetEnv=" + setEnv));
    cmd.add("date");
    Process p = gw.start(cmd, Map.of());
    p.getOutputStream().close();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!gw.errSoFar(p).contains("held for review") && System.nanoTime() < end) {
      Thread.sleep(100);
    }
    assertThat(gw.errSoFar(p)).contains("gatehouse: held for review rv_");
    return p;
  }

  @Test
  void anApprovalIsBoundToEnvironmentValuesAndAKilledClientRunsNothing() throws Exception {
    Process first = heldDate("GATEHOUSE_JUSTIFICATION=INC-43 GH_X=1");
    String id =
        gw.server.reviews().list("pending", 10).stream()
            .filter(v -> v.justification().equals("INC-43"))
            .findFirst()
            .orElseThrow()
            .id();
    first.destroyForcibly();
    first.waitFor(10, TimeUnit.SECONDS);
    Thread.sleep(1500); // the held channel is seen closed within the poll interval
    gw.server.reviews().approve(id, lee(), "ok");
    Thread.sleep(1500);
    assertThat(gw.server.reviews().show(id).orElseThrow().consumedAt())
        .as("the killed client's command did not run")
        .isNull();

    Process other =
        heldDate(
            "GATEHOUSE_JUSTIFICATION=INC-43 GH_X=2"); // another value: another request, held again
    other.destroyForcibly();
    other.waitFor(10, TimeUnit.SECONDS);

    List<String> same =
        gw.sshCommand(
            gw.aliceKey, "alice+box", List.of("-o", "SetEnv=GATEHOUSE_JUSTIFICATION=x GH_X=1"));
    same.add("date");
    Process p = gw.start(same, Map.of());
    p.getOutputStream().close();
    var r = gw.finish(p);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).doesNotContain("held for review");
    assertThat(gw.server.reviews().show(id).orElseThrow().consumedAt()).isNotNull();
    for (var v : gw.server.reviews().list("pending", 10)) {
      if (v.justification().equals("INC-43")) {
        gw.server.reviews().deny(v.id(), lee(), "the other tests count pending reviews");
      }
    }
  }

  private static dev.gatehouse.identity.Principal lee() {
    return new dev.gatehouse.identity.Principal(
        "lee",
        java.util.Set.of("leads"),
        dev.gatehouse.identity.PrincipalKind.HUMAN,
        null,
        null,
        java.util.Set.of(),
        Map.of());
  }

  @Test
  void execRequestOnAnExecConnectionGoesToTheRunner() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+runner", null, "echo hello from the runner");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("hello from the runner\n");
    var refused = gw.ssh(gw.aliceKey, "alice+runner", null, "rm -rf /");
    assertThat(refused.exit()).isEqualTo(126);
    assertThat(refused.err()).contains("gatehouse: binary rm not offered by connection runner");
  }

  @Test
  void shellOnAnExecConnectionIsRefused() throws Exception {
    List<String> cmd = gw.sshCommand(gw.aliceKey, "alice+runner", List.of("-tt"));
    var r = gw.run(cmd, Map.of(), "");
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.out() + r.err()).contains("runs commands, not interactive shells");
  }

  /**
   * What an exec connection does not offer (a shell, the sftp subsystem, port forwarding) is
   * refused and audited with the reason (red team, issue #6: only session.start and session.end
   * were recorded).
   */
  @Test
  void requestsAnExecConnectionDoesNotOfferAreAudited() throws Exception {
    assertThat(
            gw.run(gw.sshCommand(gw.aliceKey, "alice+runner", List.of("-tt")), Map.of(), "").exit())
        .isEqualTo(126);
    List<String> sftp = gw.sshCommand(gw.aliceKey, "alice+runner", List.of("-s"));
    sftp.add("sftp");
    assertThat(gw.run(sftp, Map.of(), "").exit()).isNotZero();
    String to = "127.0.0.1:" + gw.sshdPort;
    assertThat(
            gw.run(gw.sshCommand(gw.aliceKey, "alice+runner", List.of("-W", to)), Map.of(), "")
                .exit())
        .isEqualTo(255);
    String audit = audit();
    assertThat(audit)
        .contains("exec.refused")
        .contains("\"request\":\"shell\"")
        .contains("\"request\":\"sftp\"")
        .contains("file transfer is not offered on exec connections")
        .contains("ssh.forward_refused")
        .contains("port forwarding is only offered on ssh connections")
        .contains(to);
  }

  /**
   * Review: a command line the gateway cannot send (too long once quoted for the target's shell)
   * was refused on an ssh connection without an audit event, unlike the runner's refusals
   * (exec.refused).
   */
  @Test
  void aCommandLineTooLongToSendIsRefusedAndAudited() throws Exception {
    var r = gw.ssh(gw.aliceKey, "alice+box", null, "echo \"" + "'".repeat(40_000) + "\"");
    assertThat(r.exit()).isEqualTo(126);
    assertThat(audit()).contains("exec.refused").contains("command line too long");
  }

  @Test
  void removingARegisteredKeyEndsItsSessions() throws Exception {
    Path key = SshFixture.keygen(dir.resolve("registered"));
    var k =
        gw.server
            .sshKeys()
            .add(
                "alice",
                dev.gatehouse.identity.PrincipalKind.HUMAN,
                java.util.Set.of("eng"),
                SshFixture.pubLine(key),
                null,
                "test");
    List<String> cmd = gw.sshCommand(key, "alice+box", List.of());
    cmd.add("sleep 30");
    Process p = gw.start(cmd, Map.of());
    p.getOutputStream().close();
    Thread.sleep(2500);
    assertThat(p.isAlive()).as(gw.errSoFar(p)).isTrue();
    gw.server.sshKeys().remove("alice", k.fingerprint(), "test");
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    var r = gw.finish(p);
    assertThat(r.exit()).isEqualTo(255);
    assertThat(r.err()).contains("session ended");
  }

  // ---- helpers ----

  private SshFixture.Run withAskpass(String secret, String login, String... command)
      throws Exception {
    Path askpass = askpass(secret);
    List<String> cmd = passwordCommand(login, command);
    return gw.run(cmd, askpassEnv(askpass), null);
  }

  private List<String> passwordCommand(String login, String... command) {
    List<String> cmd =
        gw.sshCommand(
            null,
            login,
            List.of(
                "-o",
                "PreferredAuthentications=password",
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "NumberOfPasswordPrompts=1"));
    cmd.addAll(List.of(command));
    return cmd;
  }

  private Path askpass(String secret) throws Exception {
    Path f = Files.createTempFile(dir, "askpass", ".sh");
    Path s = Files.createTempFile(dir, "secret", ".txt");
    Files.writeString(s, secret);
    Files.writeString(f, "#!/bin/sh\ncat '" + s + "'\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwx------"));
    return f;
  }

  private static Map<String, String> askpassEnv(Path askpass) {
    return Map.of(
        "SSH_ASKPASS", askpass.toString(), "SSH_ASKPASS_REQUIRE", "force", "DISPLAY", ":0");
  }

  private String lastCast(String connection) {
    gw.server.awaitRecorded();
    SessionQueries q = new SessionQueries(gw.server.database());
    List<SessionSummary> l = q.list("alice", connection, 1);
    assertThat(l).isNotEmpty();
    StringWriter w = new StringWriter();
    q.writeAsciicast(l.get(0).id(), w);
    return w.toString();
  }

  private String audit() {
    StringWriter w = new StringWriter();
    gw.server.awaitRecorded();
    new AuditExporter(gw.server.database()).export(w, null, 0);
    return w.toString();
  }
}
