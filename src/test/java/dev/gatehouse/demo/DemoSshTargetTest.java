package dev.gatehouse.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's embedded SSH target, driven by the real OpenSSH client. */
class DemoSshTargetTest {
  @TempDir Path dir;

  @Test
  void acceptsOnlyTheGatewayKeyAndRunsCommandsInItsHome() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh")), "OpenSSH client not installed");
    Path home = dir.resolve("home");
    try (DemoSshTarget target = DemoSshTarget.start(home)) {
      Path key = key(target);
      Path knownHosts = knownHosts(target);

      Result ok = ssh(key, knownHosts, target.port(), "echo hello; pwd; exit 3");
      assertThat(ok.status).isEqualTo(3);
      assertThat(ok.out).contains("hello").contains(home.toString());

      // SFTP starts in the home directory, with real absolute paths
      Files.writeString(home.resolve("hello.txt"), "hi\n");
      Path batch = dir.resolve("batch");
      // REALPATH follows links as OpenSSH's does: "up/.." is the home's parent, not the home.
      Files.createSymbolicLink(home.resolve("up"), Path.of("."));
      Files.writeString(
          batch, "pwd\nget hello.txt " + dir.resolve("got.txt") + "\ncd up/..\npwd\n");
      Process sftp =
          new ProcessBuilder(
                  "sftp",
                  "-F",
                  "/dev/null",
                  "-o",
                  "BatchMode=yes",
                  "-o",
                  "UserKnownHostsFile=" + knownHosts,
                  "-i",
                  key.toString(),
                  "-P",
                  String.valueOf(target.port()),
                  "-b",
                  batch.toString(),
                  DemoSshTarget.USER + "@127.0.0.1")
              .redirectErrorStream(true)
              .start();
      String sftpOut = new String(sftp.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(sftp.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(sftp.exitValue()).as(sftpOut).isZero();
      assertThat(sftpOut).contains(home.toAbsolutePath().toString());
      assertThat(sftpOut)
          .contains("Remote working directory: " + dir.toRealPath() + "\n")
          .doesNotContain("Remote working directory: " + home.toRealPath() + "/up");
      assertThat(dir.resolve("got.txt")).hasContent("hi");

      Path otherKey = dir.resolve("other");
      new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", otherKey.toString())
          .start()
          .waitFor(30, TimeUnit.SECONDS);
      Result denied = ssh(otherKey, knownHosts, target.port(), "true");
      assertThat(denied.status).isEqualTo(255);
    }
  }

  /**
   * Red team, issue #6: a shell approved on the demo host read demo.env and master.key, which sit
   * in the data directory around the host's home. Where bubblewrap works, host processes see an
   * empty directory there, the home mounted back, and nothing of the gateway's processes.
   */
  @Test
  void hostProcessesDoNotSeeTheDataDirectoryWhereBubblewrapWorks() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh")), "OpenSSH client not installed");
    assumeTrue(dev.gatehouse.runner.CommandRunner.sandboxAvailable(), "bubblewrap not usable here");
    Path data = dir.resolve("data");
    Path home = data.resolve("host");
    Files.createDirectories(home);
    Files.writeString(data.resolve("demo.env"), "GATEHOUSE_ADMIN_TOKEN=secret-admin-token\n");
    try (DemoSshTarget target = DemoSshTarget.start(home, data)) {
      assertThat(target.confined()).isTrue();
      Path key = key(target);
      Path knownHosts = knownHosts(target);
      Result r =
          ssh(
              key,
              knownHosts,
              target.port(),
              "cat ../demo.env "
                  + data
                  + "/demo.env 2>&1; echo made > here.txt; pwd;"
                  + " echo procs=$(ls /proc | grep -c '^[0-9]')");
      assertThat(r.out).doesNotContain("secret-admin-token").contains(home.toString());
      assertThat(home.resolve("here.txt")).hasContent("made");
      // Only the shell and its children are in its pid namespace, not the gateway's JVM.
      java.util.regex.Matcher procs =
          java.util.regex.Pattern.compile("procs=(\\d+)").matcher(r.out);
      assertThat(procs.find()).as(r.out).isTrue();
      assertThat(Integer.parseInt(procs.group(1))).isLessThan(10);
    }
  }

  /** The gateway-held key, as a file the OpenSSH client accepts. */
  private Path key(DemoSshTarget target) throws Exception {
    Path key = dir.resolve("key");
    Files.writeString(key, target.clientPrivateKey());
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    return key;
  }

  /** A known_hosts file pinning the target's host key. */
  private Path knownHosts(DemoSshTarget target) throws Exception {
    Path knownHosts = dir.resolve("known_hosts");
    Files.writeString(
        knownHosts, "[127.0.0.1]:" + target.port() + " " + target.hostKeyLine() + "\n");
    return knownHosts;
  }

  record Result(int status, String out) {}

  private static Result ssh(Path key, Path knownHosts, int port, String command) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "ssh",
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "UserKnownHostsFile=" + knownHosts,
                "-i",
                key.toString(),
                "-p",
                String.valueOf(port),
                DemoSshTarget.USER + "@127.0.0.1",
                command));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }
}
