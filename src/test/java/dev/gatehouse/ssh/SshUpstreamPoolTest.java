package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.config.GatehouseConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upstream sessions are reused across client connections ({@link SshUpstreamPool}): counted by the
 * logins the target's sshd logs ("Accepted publickey").
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshUpstreamPoolTest {
  SshFixture gw;

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    assumeTrue(SshFixture.available(), "OpenSSH client/server not installed");
    gw = new SshFixture(tmp);
  }

  @AfterAll
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  private long logins() throws Exception {
    return Files.readString(gw.sshdLog())
        .lines()
        .filter(l -> l.contains("Accepted publickey"))
        .count();
  }

  /** Waits until the target has logged {@code n} logins (the log is written asynchronously). */
  private long awaitLogins(long atLeast) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    long n = logins();
    while (n < atLeast && System.nanoTime() < end) {
      Thread.sleep(50);
      n = logins();
    }
    return n;
  }

  @Test
  void sequentialCommandsReuseOneUpstreamLogin() throws Exception {
    long before = logins();
    for (int i = 0; i < 4; i++) {
      var r = gw.ssh(gw.aliceKey, "alice+box", null, "echo", "run" + i);
      assertThat(r.exit()).isZero();
      assertThat(r.out()).isEqualTo("run" + i + "\n");
    }
    // At most one new login for four client connections (none when an earlier test left one).
    assertThat(awaitLogins(before) - before).isLessThanOrEqualTo(1);
  }

  @Test
  void upstreamClosedByTheTargetIsReplaced() throws Exception {
    assertThat(gw.ssh(gw.aliceKey, "alice+box", null, "true").exit()).isZero();
    long before = logins();
    // The target ends every connection it has (sshd's per-connection children).
    gw.sshd.toHandle().children().forEach(ProcessHandle::destroy);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (gw.sshd.toHandle().children().findAny().isPresent() && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    Thread.sleep(200); // the gateway sees the pooled session close
    var r = gw.ssh(gw.aliceKey, "alice+box", null, "echo", "again");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("again\n");
    assertThat(awaitLogins(before + 1)).isEqualTo(before + 1);
  }

  @Test
  void aPooledSessionNeverBypassesTheHostKeyPins() throws Exception {
    assertThat(gw.ssh(gw.aliceKey, "alice+box", null, "true").exit()).isZero();
    // Same target, same credential, other pins: a session of its own, verified, refused.
    var r = gw.ssh(gw.aliceKey, "alice+box-changed", null, "true");
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.err()).contains("not pinned");
    var again = gw.ssh(gw.aliceKey, "alice+box-changed", null, "true");
    assertThat(again.exit()).isEqualTo(126);
  }

  @Test
  void keyCoversConnectionPinsAndCredentialButNeverHoldsTheSecret() {
    var cfg =
        new GatehouseConfig.ConnectionConfig(
            "box",
            "ssh",
            "127.0.0.1",
            22,
            null,
            "me",
            null,
            Map.of(),
            null,
            Map.of(),
            null,
            new GatehouseConfig.SshTargetConfig(List.of("ssh-ed25519 AAAA"), null));
    var repinned =
        new GatehouseConfig.ConnectionConfig(
            "box",
            "ssh",
            "127.0.0.1",
            22,
            null,
            "me",
            null,
            Map.of(),
            null,
            Map.of(),
            null,
            new GatehouseConfig.SshTargetConfig(List.of("ssh-ed25519 BBBB"), null));
    assertThat(SshUpstreamPool.key(repinned, Map.of("private_key", "secret-one")))
        .isNotEqualTo(SshUpstreamPool.key(cfg, Map.of("private_key", "secret-one")));
    String a = SshUpstreamPool.key(cfg, Map.of("private_key", "secret-one"));
    String b = SshUpstreamPool.key(cfg, Map.of("private_key", "secret-two"));
    assertThat(a).isNotEqualTo(b).doesNotContain("secret-one");
    assertThat(SshUpstreamPool.key(cfg, Map.of("private_key", "secret-one"))).isEqualTo(a);
  }
}
