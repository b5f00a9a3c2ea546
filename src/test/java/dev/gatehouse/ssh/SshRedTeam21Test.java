package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.audit.AuditExporter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.EnumSet;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.AbstractClientChannel;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ChannelSubsystem;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Twenty-first-session red team (ssh21), through the whole gateway to a real OpenSSH {@code sshd}
 * and its {@code scp}: legacy scp lines the relay read as one line and the target's scp as two;
 * requests the gateway refused without a record ({@code ssh -w}, subsystems other than sftp).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshRedTeam21Test {
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

  /**
   * scp.c's sink reads a line into 2048 bytes and stops after 2047; a {@code \1} message (which the
   * sink does not answer) longer than that carried {@code D0755 0 outside} into the target's {@code
   * scp -r -t}, which entered {@code shared/outside}, a link to the private directory, that the
   * relay never checked; the next file, checked and recorded as {@code shared/pwned}, was written
   * there.
   */
  @Test
  void anScpMessageLongerThanScpReadsCannotCarryAHeaderOutOfTheAllowedPath() throws Exception {
    Path shared = gw.files.resolve("shared").toRealPath();
    Path secret = gw.files.resolve("private").toRealPath();
    Files.createSymbolicLink(shared.resolve("outside"), secret);
    String stream = "\1" + "x".repeat(2046) + "D0755 0 outside\n" + "C0644 6 pwned\nPWNED!\0E\n";

    try (ClientSession s = login("alice+box")) {
      ChannelExec ch = s.createExecChannel("scp -r -t " + shared + "/");
      ch.setIn(new ByteArrayInputStream(stream.getBytes(StandardCharsets.UTF_8)));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ch.setOut(out);
      ch.setErr(new ByteArrayOutputStream());
      ch.open().verify(20_000);
      ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), 30_000);
    }
    assertThat(secret.resolve("pwned")).doesNotExist();
    assertThat(shared.resolve("pwned")).hasContent("PWNED!");
  }

  /**
   * {@code ssh -w} opens a {@code tun@openssh.com} channel (OpenSSH PROTOCOL section 2.3). MINA
   * refused it as an unknown channel type, and nothing recorded that someone asked for a tunnel.
   */
  @Test
  void aTunnelChannelIsRefusedAndAudited() throws Exception {
    try (ClientSession s = login("alice+box")) {
      AbstractClientChannel tun =
          new AbstractClientChannel("tun@openssh.com") {
            @Override
            protected void doOpen() {}

            @Override
            protected void doWriteData(byte[] data, int off, long len) {}
          };
      s.getService(ConnectionService.class).registerChannel(tun);
      assertThatThrownBy(() -> tun.open().verify(20_000))
          .hasMessageContaining("Unsupported channel type");
      assertThat(s.executeRemoteCommand("echo alive")).isEqualTo("alive\n");
    }
    assertThat(audit()).contains("ssh.forward_refused").contains("tun@openssh.com");
  }

  /**
   * Only the sftp subsystem is relayed; another name (an sftp-server path, a target's own
   * subsystem) was refused by MINA without a record.
   */
  @Test
  void aSubsystemOtherThanSftpIsRefusedAndAudited() throws Exception {
    try (ClientSession s = login("alice+box")) {
      ChannelSubsystem sub = s.createSubsystemChannel("gatehouse-probe-subsystem");
      sub.open().verify(20_000);
      sub.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), 5_000);
      assertThat(sub.getExitStatus()).isNull();
      assertThat(s.executeRemoteCommand("echo alive")).isEqualTo("alive\n");
    }
    assertThat(audit())
        .contains("ssh.request_refused")
        .contains("gatehouse-probe-subsystem")
        .contains("only the sftp subsystem is relayed");
  }

  private String audit() {
    StringWriter w = new StringWriter();
    gw.server.awaitRecorded();
    new AuditExporter(gw.server.database()).export(w, null, 0);
    return w.toString();
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
