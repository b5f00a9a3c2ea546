package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.audit.AuditExporter;
import dev.gatehouse.audit.SessionAction;
import dev.gatehouse.audit.SessionQueries;
import dev.gatehouse.audit.SessionSummary;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.server.forward.AcceptAllForwardingFilter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote ({@code ssh -R}), Unix-socket ({@code ssh -L PORT:/path}, {@code ssh -R /path:…}), agent
 * ({@code ssh -A}) and X11 forwarding end to end: real OpenSSH client → gateway → real OpenSSH
 * sshd, decided by the policy's {@code forward} rules.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshForwardingTest {
  static final String AGENT = "/usr/bin/ssh-agent";
  static final String ADD = "/usr/bin/ssh-add";

  /** box-fwd allows remote, agent and X11 forwarding; box none. */
  static final String POLICY =
      SshFixture.DEFAULT_POLICY
          + """
            - id: eng-remote-agent
              subjects: { groups: [eng] }
              connections: { names: [box-fwd] }
              effect: allow
              forward: { types: [remote, agent, x11] }
            - id: eng-ssh-add
              subjects: { groups: [eng] }
              connections: { names: ["box*"] }
              effect: allow
              command: { binary: [ssh-add] }
            - id: raw-dynamic
              subjects: { groups: [eng] }
              connections: { names: [raw] }
              effect: allow
              forward: { types: [dynamic] }
            - id: dest-local
              subjects: { groups: [eng] }
              connections: { names: [box-dest] }
              effect: allow
              forward:
                types: [local]
                destinations:
                  - { host: 127.0.0.1, ports: [ECHO_PORT] }
                  - { path: "SOCKETS/allowed-*.sock" }
            - id: no-secret-socket
              subjects: { groups: [eng] }
              connections: { names: [box-dest] }
              effect: deny
              forward:
                types: [local]
                destinations: [{ path: SOCKETS/allowed-secret.sock }]
            - id: fwd-sockets
              subjects: { groups: [eng] }
              connections: { names: [box-fwd] }
              effect: allow
              forward:
                types: [local, remote]
                destinations: [{ path: "SOCKETS/echo-*.sock" }]
                listen: [{ path: SOCKETS/cancelled.sock }]
            - id: dest-remote
              subjects: { groups: [eng] }
              connections: { names: [box-dest] }
              effect: allow
              forward:
                types: [remote]
                listen:
                  - { address: localhost, ports: ["1024-65535"] }
                  - { path: "SOCKETS/remote-*.sock" }
          """;

  Path dir;
  Path sockets; // short: a socket path must fit sun_path
  SshFixture gw;
  ServerSocket echo;

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    assumeTrue(SshFixture.available(), "OpenSSH client/server not installed");
    dir = tmp;
    // A line echo server on the client's side: what a remote forward leads back to (and, as the
    // target runs on this host too, what box-dest's local forwards may reach).
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    sockets = Files.createDirectories(dir.resolve("s"));
    gw =
        new SshFixture(
            dir,
            POLICY
                .replace("ECHO_PORT", String.valueOf(echo.getLocalPort()))
                .replace("SOCKETS", sockets.toString()));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!echo.isClosed()) {
                try {
                  Socket s = echo.accept();
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (s) {
                              s.getInputStream().transferTo(s.getOutputStream());
                            } catch (IOException e) {
                              // the peer went away
                            }
                          });
                } catch (IOException e) {
                  return;
                }
              }
            });
  }

  @AfterAll
  void stop() throws Exception {
    if (echo != null) {
      echo.close();
    }
    if (gw != null) {
      gw.close();
    }
  }

  /** {@code ssh -R remote:127.0.0.1:echo} as {@code login}, kept open for 30 s. */
  private Process remoteForward(String login, int remote) throws Exception {
    return gw.start(
        command(
            login,
            List.of(
                "-o",
                "ExitOnForwardFailure=yes",
                "-R",
                remote + ":127.0.0.1:" + echo.getLocalPort()),
            "sleep",
            "30"),
        Map.of());
  }

  @Test
  void allowedRemoteForwardRelaysAConnectionOnTheTargetBackToTheClient() throws Exception {
    int remote = SshFixture.freePort();
    Process ssh = remoteForward("alice+box-fwd", remote);
    try {
      // The listener is the target's (sshd, on this host): connecting to it is connecting on the
      // target's side.
      awaitListening(remote, ssh);
      assertThat(roundTrip(remote, "hello through -R\n")).isEqualTo("hello through -R\n");
      assertThat(roundTrip(remote, "second\n")).isEqualTo("second\n");
      assertThat(audit())
          .contains("remote localhost:" + remote)
          .contains("ssh.forward_connection")
          .contains("\"originator\"");
    } finally {
      ssh.destroy();
      gw.finish(ssh);
    }
    // The client connection ended: the upstream session and its listener with it.
    awaitClosed(remote);
  }

  @Test
  void remoteForwardOfPortZeroReportsThePortTheTargetAllocated() throws Exception {
    Process ssh =
        gw.start(
            command(
                "alice+box-fwd",
                List.of(
                    "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:" + echo.getLocalPort()),
                "sleep",
                "30"),
            Map.of());
    try {
      Pattern allocated = Pattern.compile("Allocated port (\\d+) for remote forward");
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      Matcher m = allocated.matcher("");
      while (System.nanoTime() < end && !(m = allocated.matcher(gw.errSoFar(ssh))).find()) {
        assertThat(ssh.isAlive()).as(gw.errSoFar(ssh)).isTrue();
        Thread.sleep(50);
      }
      assertThat(m.find(0)).as(gw.errSoFar(ssh)).isTrue();
      int port = Integer.parseInt(m.group(1));
      assertThat(port).isPositive();
      awaitListening(port, ssh);
      assertThat(roundTrip(port, "allocated\n")).isEqualTo("allocated\n");
    } finally {
      ssh.destroy();
      gw.finish(ssh);
    }
  }

  @Test
  void cancelledRemoteForwardStopsListeningOnTheTargetWhileTheSessionGoesOn() throws Exception {
    try (SshClient client = SshClient.setUpDefaultClient()) {
      client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
      // MINA's client connects forwarded-tcpip channels to the local address of its -R.
      client.setForwardingFilter(AcceptAllForwardingFilter.INSTANCE);
      client.start();
      try (ClientSession s = login(client, "alice+box-fwd")) {
        SshdSocketAddress bound =
            s.startRemotePortForwarding(
                new SshdSocketAddress("localhost", 0),
                new SshdSocketAddress("127.0.0.1", echo.getLocalPort()));
        assertThat(bound.getPort()).isPositive();
        assertThat(roundTrip(bound.getPort(), "before cancel\n")).isEqualTo("before cancel\n");

        s.stopRemotePortForwarding(bound); // cancel-tcpip-forward
        awaitClosed(bound.getPort());
        // The client connection is still usable after the cancel.
        assertThat(s.executeRemoteCommand("echo after")).isEqualTo("after\n");
        // The forward's action completes with the cancel, counting relayed connections (the
        // probes of awaitClosed may add some: the cancel was sent without waiting for a reply).
        assertThat(awaitOutcome("remote localhost:0"))
            .matches("cancelled after [1-9][0-9]* connections?");
      }
    }
  }

  @Test
  void remoteForwardWithoutAnAllowingRuleIsRefusedAndAudited() throws Exception {
    int remote = SshFixture.freePort();
    var r =
        gw.run(
            command(
                "alice+box",
                List.of("-o", "ExitOnForwardFailure=yes", "-R", remote + ":127.0.0.1:1"),
                "true"),
            Map.of(),
            "");
    assertThat(r.exit()).isEqualTo(255);
    assertThat(r.err()).contains("remote port forwarding failed");
    assertThat(audit()).contains("ssh.forward_refused").contains("remote localhost:" + remote);
    assertThat(listening(remote)).isFalse();
  }

  @Test
  void refusedRemoteForwardLeavesTheSessionUsable() throws Exception {
    int remote = SshFixture.freePort();
    var r =
        gw.run(
            command("alice+box", List.of("-R", remote + ":127.0.0.1:1"), "echo", "still here"),
            Map.of(),
            "");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("still here\n");
    assertThat(r.err()).contains("remote port forwarding failed");
  }

  @Test
  void allowedAgentForwardingLetsTheTargetUseTheCallersAgent() throws Exception {
    assumeTrue(Files.isExecutable(Path.of(AGENT)) && Files.isExecutable(Path.of(ADD)));
    Path key = SshFixture.keygen(dir.resolve("keys/agent-key"));
    Path sock = dir.resolve("agent.sock");
    Process agent =
        new ProcessBuilder(AGENT, "-D", "-a", sock.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("agent.log").toFile())
            .start();
    try {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!Files.exists(sock) && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      var add = gw.run(List.of(ADD, key.toString()), Map.of("SSH_AUTH_SOCK", sock.toString()), "");
      assertThat(add.exit()).as(add.err()).isZero();
      // ssh-add -l on the target lists the key by its comment, here the file it was added from
      // (the fingerprint itself is masked as a high-entropy value on its way back).
      String listed = key + " (ED25519)";

      var allowed = gw.run(withAgent(sock, "alice+box-fwd", "ssh-add", "-l"), Map.of(), "");
      assertThat(allowed.exit()).as(allowed.err()).isZero();
      assertThat(allowed.out()).contains(listed);
      assertThat(audit()).contains("ssh.forward_connection").contains("\"agent\"");

      var denied = gw.run(withAgent(sock, "alice+box", "ssh-add", "-l"), Map.of(), "");
      assertThat(denied.exit()).isNotZero(); // 2: no agent on the target
      assertThat(denied.out()).doesNotContain(listed);
      assertThat(audit()).contains("ssh.forward_refused").contains("auth-agent-req@openssh.com");
    } finally {
      agent.destroy();
      agent.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /**
   * An X client on the target reaches the caller's display: ssh -Y, the gateway passes the x11-req
   * to the target's sshd, whose x11 channel comes back through the gateway to the client, which
   * connects to its DISPLAY (here a fake X server that answers the connection setup).
   */
  @Test
  void x11IsRelayedToTheCallersDisplayWhenARuleAllowsIt() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/xauth")), "xauth not installed");
    ServerSocket display = null;
    int number = 0;
    for (int n = 40; n < 90 && display == null; n++) {
      try {
        display = new ServerSocket(6000 + n, 5, InetAddress.getLoopbackAddress());
        number = n;
      } catch (IOException busy) {
        // try the next display number
      }
    }
    assumeTrue(display != null, "no free X display port");
    ServerSocket x = display;
    java.util.concurrent.CompletableFuture<byte[]> setup =
        new java.util.concurrent.CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try (Socket s = x.accept()) {
                byte[] head = s.getInputStream().readNBytes(12); // X11 connection setup
                setup.complete(head);
                s.getOutputStream().write("X-SERVER-REPLY\n".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
              } catch (IOException e) {
                setup.completeExceptionally(e);
              }
            });
    Path client = dir.resolve("xclient.py");
    Files.writeString(
        client,
        """
        import os, socket, struct, subprocess
        d = os.environ.get("DISPLAY", "")
        print("display=" + d)
        num = int(d.rsplit(":", 1)[1].split(".")[0])
        words = subprocess.run(["xauth", "list", d], capture_output=True, text=True).stdout.split()
        cookie = bytes.fromhex(words[2]) if len(words) >= 3 else b""
        name = b"MIT-MAGIC-COOKIE-1" if cookie else b""
        pad = lambda b: b + bytes((4 - len(b) % 4) % 4)
        req = b"l\\0" + struct.pack("<HHHH", 11, 0, len(name), len(cookie)) + b"\\0\\0"
        s = socket.create_connection(("127.0.0.1", 6000 + num))
        s.sendall(req + pad(name) + pad(cookie))
        print(s.recv(100).decode(errors="replace").strip())
        """);
    try {
      var r =
          gw.run(
              command("alice+box-fwd", List.of("-Y")),
              Map.of("DISPLAY", "127.0.0.1:" + number),
              "python3 " + client + "\nexit\n");
      assertThat(r.out()).as(r.err()).contains("display=localhost:").contains("X-SERVER-REPLY");
      assertThat(setup.get(10, TimeUnit.SECONDS)[0]).isEqualTo((byte) 'l');
      assertThat(audit()).contains("ssh.forward_connection").contains("\"forward\":\"x11\"");
    } finally {
      display.close();
    }
  }

  @Test
  void trustedX11WithoutARuleIsRefusedAndAuditedAndTheCommandStillRuns() throws Exception {
    int before = audit().split("x11-req", -1).length;
    var r =
        gw.run(
            command("alice+box", List.of("-Y"), "echo", "still here"),
            Map.of("DISPLAY", "127.0.0.1:98"),
            "");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("still here\n");
    assertThat(r.err()).contains("X11 forwarding request failed");
    // no DISPLAY reached the target: the refusal is the gateway's, not the target's
    var env =
        gw.run(
            command("alice+box", List.of("-X"), "sh", "-c", "'echo [$DISPLAY]'"),
            Map.of("DISPLAY", "127.0.0.1:98"),
            "");
    assertThat(env.out()).isEqualTo("[]\n");
    assertThat(audit().split("x11-req", -1).length - before).isGreaterThanOrEqualTo(1);
  }

  @Test
  void aDynamicRuleAllowsDirectTcpipWhichCannotBeToldApartFromLocal() throws Exception {
    String to = "127.0.0.1:" + gw.sshdPort;
    var r = gw.run(gw.sshCommand(gw.aliceKey, "alice+raw", List.of("-W", to)), Map.of(), "");
    assertThat(r.out()).startsWith("SSH-2.0-OpenSSH");
  }

  @Test
  void localForwardsReachOnlyTheDestinationsTheRuleNames() throws Exception {
    int allowed = SshFixture.freePort();
    int otherPort = SshFixture.freePort();
    int otherHost = SshFixture.freePort();
    int e = echo.getLocalPort();
    Process ssh =
        gw.start(
            command(
                "alice+box-dest",
                List.of(
                    "-L",
                    "127.0.0.1:" + allowed + ":127.0.0.1:" + e,
                    "-L",
                    "127.0.0.1:" + otherPort + ":127.0.0.1:" + gw.sshdPort,
                    "-L",
                    "127.0.0.1:" + otherHost + ":localhost:" + e),
                "sleep",
                "30"),
            Map.of());
    try {
      // ssh -L listens on the client's side; the channel is decided when a connection arrives.
      awaitListening(allowed, ssh);
      assertThat(roundTrip(allowed, "to the echo\n")).isEqualTo("to the echo\n");
      // Not the named port, and not the named host spelled otherwise: the channel open fails
      // (RFC 4254 section 7.2) and the client closes the connection it accepted.
      awaitListening(otherPort, ssh);
      assertThat(closedWithoutReply(otherPort)).isTrue();
      awaitListening(otherHost, ssh);
      assertThat(closedWithoutReply(otherHost)).isTrue();
      String audit = audit();
      assertThat(audit)
          .contains("ssh.forward_refused")
          .contains("\"request\":\"local 127.0.0.1:" + gw.sshdPort + "\"")
          .contains("\"host\":\"127.0.0.1\",\"port\":" + gw.sshdPort)
          .contains("\"host\":\"localhost\",\"port\":" + e)
          .doesNotContain("\"request\":\"local 127.0.0.1:" + e + "\",\"rule");
    } finally {
      ssh.destroy();
      gw.finish(ssh);
    }
  }

  @Test
  void remoteForwardsBindOnlyTheAddressesAndPortsTheRuleNames() throws Exception {
    int remote = SshFixture.freePort();
    Process ssh = remoteForward("alice+box-dest", remote);
    try {
      awaitListening(remote, ssh);
      assertThat(roundTrip(remote, "back\n")).isEqualTo("back\n");
    } finally {
      ssh.destroy();
      gw.finish(ssh);
    }

    // Another bind address (127.0.0.1 is not the localhost the rule names), and port 0 (the
    // target's choice, outside 1024-65535): refused (RFC 4254 section 7.1 request failure).
    int other = SshFixture.freePort();
    var byAddress =
        gw.run(
            command(
                "alice+box-dest",
                List.of(
                    "-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:" + other + ":127.0.0.1:1"),
                "true"),
            Map.of(),
            "");
    assertThat(byAddress.exit()).isEqualTo(255);
    assertThat(byAddress.err()).contains("remote port forwarding failed");
    var anyPort =
        gw.run(
            command(
                "alice+box-dest",
                List.of("-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:1"),
                "true"),
            Map.of(),
            "");
    assertThat(anyPort.exit()).isEqualTo(255);
    assertThat(listening(other)).isFalse();
    assertThat(audit())
        .contains("\"request\":\"remote 127.0.0.1:" + other + "\"")
        .contains("\"host\":\"127.0.0.1\",\"port\":" + other)
        .contains("\"request\":\"remote localhost:0\"");
  }

  @Test
  void allowedLocalForwardReachesAUnixSocketOnTheTarget() throws Exception {
    Path sock = sockets.resolve("echo-any.sock");
    int local = SshFixture.freePort();
    try (ServerSocketChannel server = unixEcho(sock)) {
      // box-fwd's eng-forward allows TCP forwards anywhere; a socket needs fwd-sockets' path.
      Process ssh = keptOpen("alice+box-fwd", List.of("-L", "127.0.0.1:" + local + ":" + sock));
      try {
        awaitListening(local, ssh);
        assertThat(roundTrip(local, "to a socket\n")).isEqualTo("to a socket\n");
        assertThat(roundTrip(local, "again\n")).isEqualTo("again\n");
      } finally {
        ssh.destroy();
        gw.finish(ssh);
      }
    }
    // The recorded raw form is masked where the temporary directory's name looks random; this
    // session's only socket forwards are the two connections above.
    assertThat(awaitOutcome(".sock")).isEqualTo("closed");
    assertThat(audit())
        .contains("\"rule\":\"fwd-sockets\",\"text\":\"local unix:/")
        .doesNotContain("\"request\":\"local unix:" + sock + "\",\"rule");
  }

  @Test
  void localForwardToAUnixSocketWithoutAnAllowingRuleIsRefusedAndAudited() throws Exception {
    Path sock = sockets.resolve("echo-denied.sock");
    int local = SshFixture.freePort();
    try (ServerSocketChannel server = unixEcho(sock)) {
      Process ssh = keptOpen("alice+box", List.of("-L", "127.0.0.1:" + local + ":" + sock));
      try {
        awaitListening(local, ssh);
        // The channel open fails (administratively prohibited): the client closes the connection.
        assertThat(closedWithoutReply(local)).isTrue();
        // The connection goes on: the forward's failure ends only that channel.
        assertThat(ssh.isAlive()).as(gw.errSoFar(ssh)).isTrue();
      } finally {
        ssh.destroy();
        gw.finish(ssh);
      }
    }
    assertThat(audit())
        .contains("ssh.forward_refused")
        .contains("\"path\":\"" + sock + "\",\"reason\"")
        .contains("\"request\":\"local unix:" + sock + "\",\"rule\":\"default-deny\"");
  }

  @Test
  void localSocketForwardsReachOnlyThePathsTheRuleNames() throws Exception {
    Path allowed = sockets.resolve("allowed-echo.sock");
    Path other = sockets.resolve("other.sock");
    Path secret = sockets.resolve("allowed-secret.sock");
    // The glob allowed-*.sock stops at a slash; the gateway refuses .. before any rule reads it.
    String dotted = sockets + "/allowed-x/../other.sock";
    int[] ports = new int[4];
    List<String> options = new ArrayList<>();
    String[] to = {allowed.toString(), other.toString(), secret.toString(), dotted};
    for (int i = 0; i < ports.length; i++) {
      ports[i] = SshFixture.freePort();
      options.addAll(List.of("-L", "127.0.0.1:" + ports[i] + ":" + to[i]));
    }
    try (ServerSocketChannel a = unixEcho(allowed);
        ServerSocketChannel o = unixEcho(other);
        ServerSocketChannel s = unixEcho(secret)) {
      Process ssh = keptOpen("alice+box-dest", options);
      try {
        awaitListening(ports[0], ssh);
        assertThat(roundTrip(ports[0], "named\n")).isEqualTo("named\n");
        for (int i = 1; i < ports.length; i++) {
          awaitListening(ports[i], ssh);
          assertThat(closedWithoutReply(ports[i])).as(to[i]).isTrue();
        }
      } finally {
        ssh.destroy();
        gw.finish(ssh);
      }
    }
    assertThat(audit())
        .contains("\"request\":\"local unix:" + other + "\",\"rule\":\"default-deny\"")
        .contains("\"request\":\"local unix:" + secret + "\",\"rule\":\"no-secret-socket\"")
        .contains("socket path is not normal")
        .contains("\"request\":\"local unix:" + dotted + "\"")
        .doesNotContain("\"request\":\"local unix:" + allowed + "\",\"rule");
  }

  @Test
  void allowedRemoteForwardOnAUnixSocketRelaysConnectionsBackToTheClient() throws Exception {
    Path sock = sockets.resolve("remote-echo.sock");
    Process ssh =
        keptOpen(
            "alice+box-dest",
            List.of(
                "-o",
                "ExitOnForwardFailure=yes",
                "-R",
                sock + ":127.0.0.1:" + echo.getLocalPort()));
    try {
      // The socket is the target's sshd's (on this host): connecting to it is connecting there.
      awaitSocket(sock, ssh);
      assertThat(roundTrip(sock, "through a remote socket\n"))
          .isEqualTo("through a remote socket\n");
      assertThat(audit())
          .contains("\"rule\":\"dest-remote\",\"text\":\"remote unix:/")
          .contains("\"listen\":\"unix:" + sock + "\"");
    } finally {
      ssh.destroy();
      gw.finish(ssh);
    }
  }

  @Test
  void remoteForwardOnAUnixSocketIsRefusedWithoutAnAllowingRuleAndAudited() throws Exception {
    // box has no forward rule; box-dest's listen names remote-*.sock only.
    Path none = sockets.resolve("remote-unruled.sock");
    Path unnamed = sockets.resolve("elsewhere.sock");
    for (var c : List.of(Map.entry("alice+box", none), Map.entry("alice+box-dest", unnamed))) {
      var r =
          gw.run(
              command(
                  c.getKey(),
                  List.of("-o", "ExitOnForwardFailure=yes", "-R", c.getValue() + ":127.0.0.1:1"),
                  "true"),
              Map.of(),
              "");
      assertThat(r.exit()).as(r.err()).isEqualTo(255);
      assertThat(r.err()).contains("remote port forwarding failed");
      assertThat(Files.exists(c.getValue())).isFalse();
    }
    assertThat(audit())
        .contains("ssh.forward_refused")
        .contains("\"request\":\"remote unix:" + none + "\",\"rule\":\"default-deny\"")
        .contains("\"request\":\"remote unix:" + unnamed + "\",\"rule\":\"default-deny\"");
  }

  @Test
  void cancelledRemoteSocketForwardStopsListeningOnTheTargetWhileTheSessionGoesOn()
      throws Exception {
    Path sock = sockets.resolve("cancelled.sock");
    try (SshClient client = SshClient.setUpDefaultClient()) {
      client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
      client.start();
      try (ClientSession s = login(client, "alice+box-fwd")) {
        assertThat(socketForward(s, "streamlocal-forward@openssh.com", sock)).isNotNull();
        awaitSocket(sock, null);
        assertThat(socketForward(s, "cancel-streamlocal-forward@openssh.com", sock)).isNotNull();
        awaitSocketClosed(sock);
        // Not this connection's forward any more: a second cancel fails.
        assertThat(socketForward(s, "cancel-streamlocal-forward@openssh.com", sock)).isNull();
        assertThat(s.executeRemoteCommand("echo after")).isEqualTo("after\n");
        // The forward's action completes with the cancel, not with the session. (The probes of
        // awaitSocket may or may not have come back as channels before it: sshd accepts them
        // asynchronously, and MINA's client, with no socket forward of its own, refuses them.)
        assertThat(awaitOutcome(".sock")).matches("cancelled after [0-9]+ connections?");
      }
    }
  }

  @Test
  void socketPathsThePolicyCannotJudgeAreRefusedBeforeAnyRule() {
    assertThat(SshForwarding.socketPathProblem("/run/app.sock")).isNull();
    // sun_path holds 108 bytes with the NUL: 107 bytes of path fit, 108 do not, counted in UTF-8
    assertThat(SshForwarding.socketPathProblem("/" + "a".repeat(106))).isNull();
    assertThat(SshForwarding.socketPathProblem("/" + "a".repeat(107))).contains("longer than 107");
    assertThat(SshForwarding.socketPathProblem("/" + "é".repeat(54))).contains("longer than 107");
    assertThat(SshForwarding.socketPathProblem("app.sock")).contains("not absolute");
    for (String p : List.of("/run/../x.sock", "/run/./x.sock", "/run//x.sock", "/run/", "/")) {
      assertThat(SshForwarding.socketPathProblem(p)).as(p).contains("not normal");
    }
    assertThat(SshForwarding.socketPathProblem("/run/x\n.sock")).contains("control character");
    assertThat(SshForwarding.auditedPath("/" + "a".repeat(500))).hasSize(108).endsWith("…");
  }

  /** {@code ssh OPTIONS sleep 30} as {@code login}: the forwards of {@code options} stay open. */
  private Process keptOpen(String login, List<String> options) throws Exception {
    return gw.start(command(login, options, "sleep", "30"), Map.of());
  }

  /** A Unix-socket echo server at {@code path} (each connection echoes until the peer closes). */
  private static ServerSocketChannel unixEcho(Path path) throws IOException {
    Files.deleteIfExists(path);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    Thread.ofVirtual()
        .start(
            () -> {
              while (server.isOpen()) {
                try {
                  SocketChannel c = server.accept();
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (c;
                                InputStream in = Channels.newInputStream(c);
                                OutputStream out = Channels.newOutputStream(c)) {
                              in.transferTo(out);
                            } catch (IOException e) {
                              // the peer went away
                            }
                          });
                } catch (IOException e) {
                  return;
                }
              }
            });
    return server;
  }

  private static String roundTrip(Path socket, String line) throws IOException {
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      c.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)));
      ByteBuffer buf = ByteBuffer.allocate(line.length());
      // Blocking reads; the echo answers or the relay closes (then the line comes back short).
      while (buf.hasRemaining() && c.read(buf) >= 0) {
        // keep reading
      }
      return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
    }
  }

  private static boolean listening(Path socket) {
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Waits for the target to listen on {@code socket}; {@code ssh}, when given, must stay up. */
  private void awaitSocket(Path socket, Process ssh) throws Exception {
    await(() -> listening(socket), ssh, "the target never listened on " + socket);
  }

  private void awaitSocketClosed(Path socket) throws Exception {
    await(() -> !listening(socket), null, "the target still listens on " + socket);
  }

  /** A streamlocal-forward@openssh.com or its cancel (OpenSSH PROTOCOL section 2.4), answered. */
  private static Buffer socketForward(ClientSession s, String request, Path socket)
      throws IOException {
    Buffer b = s.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST);
    b.putString(request);
    b.putBoolean(true);
    b.putString(socket.toString());
    return s.request(request, b, Duration.ofSeconds(20));
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

  private List<String> command(String login, List<String> options, String... remote) {
    List<String> cmd = new ArrayList<>(gw.sshCommand(gw.aliceKey, login, options));
    cmd.addAll(List.of(remote));
    return cmd;
  }

  /**
   * ssh -A with {@code sock} as the client's agent: the fixture's {@code IdentityAgent=none} would
   * unset SSH_AUTH_SOCK, and OpenSSH then drops -A, so it names the agent instead. The agent's key
   * is not alice's, so IdentitiesOnly keeps it out of the login.
   */
  private List<String> withAgent(Path sock, String login, String... remote) {
    List<String> cmd = command(login, List.of("-A"), remote);
    cmd.replaceAll(o -> o.equals("IdentityAgent=none") ? "IdentityAgent=" + sock : o);
    assertThat(cmd).contains("IdentityAgent=" + sock);
    return cmd;
  }

  private static String roundTrip(int port, String line) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(line.getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[line.length()];
      int n = 0;
      while (n < buf.length) {
        int k = in.read(buf, n, buf.length - n);
        if (k < 0) {
          break;
        }
        n += k;
      }
      return new String(buf, 0, n, StandardCharsets.UTF_8);
    }
  }

  /** True when a connection to {@code port} is closed (or reset) without a byte of reply. */
  private static boolean closedWithoutReply(int port) throws IOException {
    try {
      return roundTrip(port, "anyone there?\n").isEmpty();
    } catch (java.net.SocketException e) {
      return true; // reset: ssh closed the accepted connection with unread input
    }
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private void awaitListening(int port, Process ssh) throws Exception {
    await(() -> listening(port), ssh, "the target never listened on " + port);
  }

  /**
   * Polls {@code done} for up to 20 s; {@code ssh}, when given, must stay up meanwhile. Fails with
   * {@code otherwise} (and the client's stderr).
   */
  private void await(BooleanSupplier done, Process ssh, String otherwise) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < end) {
      if (done.getAsBoolean()) {
        return;
      }
      if (ssh != null) {
        assertThat(ssh.isAlive()).as(gw.errSoFar(ssh)).isTrue();
      }
      Thread.sleep(50);
    }
    throw new AssertionError(otherwise + (ssh == null ? "" : ": " + gw.errSoFar(ssh)));
  }

  private void awaitClosed(int port) throws Exception {
    await(() -> !listening(port), null, "the target still listens on " + port);
  }

  /**
   * The outcome summary of the latest box-fwd session's action whose raw form ends with {@code
   * raw}, once recorded.
   */
  private String awaitOutcome(String raw) throws Exception {
    gw.server.awaitRecorded();
    SessionQueries q = new SessionQueries(gw.server.database());
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String summary = null;
    while (summary == null && System.nanoTime() < end) {
      List<SessionSummary> l = q.list("alice", "box-fwd", 1);
      assertThat(l).isNotEmpty();
      summary =
          q.show(l.get(0).id()).orElseThrow().actions().stream()
              .filter(a -> a.raw().endsWith(raw) && a.summary() != null)
              .map(SessionAction::summary)
              .findFirst()
              .orElse(null);
      if (summary == null) {
        Thread.sleep(50);
      }
    }
    return summary;
  }

  private String audit() {
    StringWriter w = new StringWriter();
    gw.server.awaitRecorded();
    new AuditExporter(gw.server.database()).export(w, null, 0);
    return w.toString();
  }
}
