package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.audit.AuditExporter;
import dev.gatehouse.gate.AuthAttempt;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.GateException;
import java.io.StringWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Wrong passwords from the real OpenSSH client get the address throttled by the shared gate (the
 * default: 10 failures a minute): then the right token and a registered key are refused too, and
 * the client is disconnected rather than left to try more methods. An identity's throttle, by
 * contrast, refuses neither the right token nor a key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshAuthThrottleTest {
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
  void wrongPasswordsThrottleTheAddressForEveryMethodAndDisconnect() throws Exception {
    String wrong = "ght_" + "x".repeat(20) + "_" + "y".repeat(43);
    var first = withAskpass(wrong, 5);
    assertThat(first.exit()).isEqualTo(255);
    assertThat(first.err()).contains("Permission denied").doesNotContain("too many");
    var second = withAskpass(wrong, 5); // failures 6-10: the tenth starts the throttling

    assertThat(second.exit()).isEqualTo(255);
    var right = withAskpass(gw.tokenFor("alice"), 1);
    assertThat(right.exit()).isEqualTo(255);
    assertThat(right.err())
        .contains("too many failed authentication attempts from this address")
        .contains("disconnect");
    var key = gw.ssh(gw.aliceKey, "alice+box", null, "echo", "in");
    assertThat(key.exit()).isEqualTo(255);
    assertThat(key.out()).doesNotContain("in");
    assertThat(key.err()).contains("too many failed authentication attempts");

    String audit = audit();
    assertThat(audit.split("\"auth.throttled\"", -1)).hasSize(2); // exactly one period started
    assertThat(audit).contains("\"protocol\":\"ssh\"");
  }

  /**
   * Strangers failing as alice from other addresses get her identity throttled (the default: 20
   * failures a minute), yet she still logs in with her key and with her token: the identity is a
   * name anyone can claim, so its throttle only refuses failures. A gateway of its own, as this
   * class's is left with its address throttled.
   */
  @Test
  void strangersFailingAsAliceKeepNeitherHerKeyNorHerTokenOut() throws Exception {
    try (SshFixture own = new SshFixture(Files.createDirectories(dir.resolve("identity")))) {
      Gate gate = own.server.gate();
      for (int i = 1; i <= 20; i++) {
        // what many addresses sending alice's login with junk passwords amount to
        AuthAttempt stranger =
            new AuthAttempt("ssh", InetAddress.getByName("192.0.2." + i), "alice");
        assertThatThrownBy(() -> gate.authenticate("ght_junk", stranger))
            .isInstanceOf(GateException.class);
      }
      String wrong = "ght_" + "x".repeat(20) + "_" + "y".repeat(43);
      var refused = withAskpass(own, wrong, 1);
      assertThat(refused.exit()).isEqualTo(255);
      assertThat(refused.err())
          .contains("too many failed authentication attempts for this identity");

      var key = own.ssh(own.aliceKey, "alice+box", null, "echo", "in");
      assertThat(key.exit()).as(key.err()).isZero();
      assertThat(key.out()).contains("in");
      var right = withAskpass(own, own.tokenFor("alice"), 1);
      assertThat(right.exit()).as(right.err()).isZero();
    }
  }

  private SshFixture.Run withAskpass(String secret, int prompts) throws Exception {
    return withAskpass(gw, secret, prompts);
  }

  private SshFixture.Run withAskpass(SshFixture gw, String secret, int prompts) throws Exception {
    Path f = Files.createTempFile(dir, "askpass", ".sh");
    Path s = Files.createTempFile(dir, "secret", ".txt");
    Files.writeString(s, secret);
    Files.writeString(f, "#!/bin/sh\ncat '" + s + "'\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwx------"));
    List<String> cmd =
        gw.sshCommand(
            null,
            "alice+box",
            List.of(
                "-o",
                "PreferredAuthentications=password",
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "NumberOfPasswordPrompts=" + prompts));
    cmd.add("true");
    return gw.run(
        cmd,
        Map.of("SSH_ASKPASS", f.toString(), "SSH_ASKPASS_REQUIRE", "force", "DISPLAY", ":0"),
        null);
  }

  private String audit() {
    StringWriter w = new StringWriter();
    gw.server.awaitRecorded();
    new AuditExporter(gw.server.database()).export(w, null, 0);
    return w.toString();
  }
}
