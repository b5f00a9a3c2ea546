package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.EnumSet;
import java.util.Map;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.PtyChannelConfiguration;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Twentieth-session red team (ssh20): channel requests a client sends after its exec request. RFC
 * 4254 section 6.4 says {@code env} (and 6.2 {@code pty-req}) come before the shell or command
 * starts, but MINA's server channel accepts them at any time and adds them to the same environment
 * the command reads. The gateway decides on what the channel carried when the exec request came;
 * what arrives later must not reach the target.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshRedTeam20Test {
  SshFixture gw;
  SshClient client;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    assumeTrue(SshFixture.available(), "OpenSSH client/server not installed");
    gw = new SshFixture(dir);
    client = SshClient.setUpDefaultClient();
    client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
    client.start();
  }

  @AfterAll
  void stop() throws Exception {
    if (client != null) {
      client.stop();
    }
    if (gw != null) {
      gw.close();
    }
  }

  @Test
  void anEnvRequestAfterTheExecDoesNotReachTheTarget() throws Exception {
    // Decided with GH_X, the command is refused (no rule lists it); sent after the exec, while the
    // gateway decides and connects to the target, it used to be passed to the target as well
    // (the target's sshd accepts GH_*).
    String out =
        execThen(
            "alice+box",
            "sh -c 'echo \"[${GH_X-unset}]\"'",
            (ch, b) -> {
              b.putString("env");
              b.putBoolean(false);
              b.putString("GH_X");
              b.putString("late-value");
            });
    assertThat(out).isEqualTo("[unset]\n");
  }

  @Test
  void aPtyRequestAfterTheExecGetsNoTerminalAroundTheGuard() throws Exception {
    // box-tty guards only requests with a terminal (pager_guard: tty): decided without one, the
    // command ran unguarded, and a late pty-req gave it a terminal, where a pager pages into less
    // and its !command runs a shell.
    String out =
        execThen(
            "alice+box-tty",
            "sh -c 'if [ -t 1 ]; then echo tty; else echo no-tty; fi'",
            (ch, b) -> {
              b.putString("pty-req");
              b.putBoolean(false);
              b.putString("xterm");
              b.putUInt(80);
              b.putUInt(24);
              b.putUInt(0);
              b.putUInt(0);
              b.putBytes(new byte[] {0}); // TTY_OP_END
            });
    assertThat(out).isEqualTo("no-tty\n");
  }

  interface Late {
    void write(ChannelExec ch, Buffer b) throws IOException;
  }

  /** Runs {@code command} on a fresh connection and sends one more request right after the exec. */
  private String execThen(String login, String command, Late late) throws Exception {
    try (ClientSession s = login(login)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      ChannelExec ch =
          new ChannelExec(command, new PtyChannelConfiguration(), Map.of()) {
            @Override
            protected void doOpen() throws IOException {
              super.doOpen(); // sends the exec request
              Buffer b = getSession().createBuffer(SshConstants.SSH_MSG_CHANNEL_REQUEST);
              b.putUInt(getRecipient());
              late.write(this, b);
              writePacket(b);
            }
          };
      s.getService(ConnectionService.class).registerChannel(ch);
      ch.setOut(out);
      ch.setErr(err);
      ch.open().verify(20_000);
      ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), 30_000);
      assertThat(ch.getExitStatus()).as(err.toString(StandardCharsets.UTF_8)).isZero();
      return out.toString(StandardCharsets.UTF_8);
    }
  }

  private ClientSession login(String user) throws Exception {
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
}
