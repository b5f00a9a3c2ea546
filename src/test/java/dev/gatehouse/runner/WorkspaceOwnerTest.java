package dev.gatehouse.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start-up clean-up of what a gateway that died left on its host: a real second JVM claims an owner
 * and makes directories, is killed with SIGKILL, and the next sweep removes exactly its
 * directories.
 */
class WorkspaceOwnerTest {
  @TempDir Path tmp;

  /** The other gateway: claims an owner, leaves one of each directory, prints its id, waits. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      Path data = Path.of(args[0]);
      WorkspaceOwner owner = WorkspaceOwner.claim(data);
      String id = owner.id();
      Path ws = Files.createDirectories(data.resolve("workspaces/tools/" + id + "-aaaa/src"));
      Files.writeString(ws.resolve("main.c"), "int main;");
      Files.createDirectories(Path.of(args[1]).resolve(id + "-bbbb"));
      Path secrets =
          Files.createDirectories(Path.of(args[2]).resolve("gatehouse-secrets-" + id + "-1"));
      Files.writeString(secrets.resolve("KUBECONFIG"), "key: secret");
      System.out.println(id);
      System.out.flush();
      Thread.sleep(120_000);
    }
  }

  @Test
  void whatAKilledGatewayLeftIsRemovedAtStartAndNothingElse() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path workdir = Files.createDirectories(tmp.resolve("builds"));
    Path tmpdir = Files.createDirectories(tmp.resolve("tmp"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                Child.class.getName(),
                data.toString(),
                workdir.toString(),
                tmpdir.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String id;
    try {
      id =
          new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))
              .readLine();
      assertThat(id).as("the child's owner id").matches("[0-9a-f]{16}");
      Path ws = data.resolve("workspaces/tools/" + id + "-aaaa");
      Path custom = workdir.resolve(id + "-bbbb");
      Path secrets = tmpdir.resolve("gatehouse-secrets-" + id + "-1");

      // Not ours to remove: another gateway's id (no lock file here), a name from before owner
      // ids, and a link named like the dead owner's that points elsewhere.
      Path foreign = Files.createDirectories(workdir.resolve("0123456789abcdef-cccc"));
      Path legacy = Files.createDirectories(data.resolve("workspaces/tools/" + "ab".repeat(12)));
      Path outside = Files.createDirectories(tmp.resolve("outside"));
      Files.writeString(outside.resolve("keep"), "keep");
      Path link = Files.createSymbolicLink(workdir.resolve(id + "-link"), outside);

      // Alive: its lock is held by the child, so nothing of it is touched.
      assertThat(WorkspaceOwner.sweep(data, List.of(workdir), tmpdir)).isZero();
      assertThat(ws.resolve("src/main.c")).exists();
      assertThat(custom).exists();
      assertThat(secrets.resolve("KUBECONFIG")).exists();

      child.destroyForcibly(); // SIGKILL: no shutdown hook, no close
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();

      assertThat(WorkspaceOwner.sweep(data, List.of(workdir), tmpdir)).isEqualTo(3);
      assertThat(ws).doesNotExist();
      assertThat(custom).doesNotExist();
      assertThat(secrets).doesNotExist();
      assertThat(data.resolve(WorkspaceOwner.OWNERS + "/" + id + ".lock")).doesNotExist();
      assertThat(foreign).exists();
      assertThat(legacy).exists();
      assertThat(Files.exists(link, LinkOption.NOFOLLOW_LINKS)).isTrue();
      assertThat(outside.resolve("keep")).hasContent("keep");
      // Nothing left to do the next time.
      assertThat(WorkspaceOwner.sweep(data, List.of(workdir), tmpdir)).isZero();
    } finally {
      child.destroyForcibly();
    }
  }

  @Test
  void anOwnerInThisProcessIsAliveUntilItIsReleased() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path tmpdir = Files.createDirectories(tmp.resolve("tmp"));
    WorkspaceOwner owner = WorkspaceOwner.claim(data);
    Path ws = Files.createDirectories(data.resolve("workspaces/tools/" + owner.id() + "-x"));

    // Checking our own lock must not drop it (POSIX drops a process's locks on any close).
    assertThat(WorkspaceOwner.sweep(data, List.of(), tmpdir)).isZero();
    assertThat(WorkspaceOwner.sweep(data, List.of(), tmpdir)).isZero();
    assertThat(ws).exists();

    owner.close(); // as at the end of the process: the lock goes, the file stays for the sweep
    assertThat(WorkspaceOwner.sweep(data, List.of(), tmpdir)).isEqualTo(1);
    assertThat(ws).doesNotExist();
  }

  @Test
  void theRunnerNamesItsFreshWorkspacesAfterItsOwner() throws Exception {
    try (RunnerKit kit = new RunnerKit(tmp)) {
      kit.connection("tools", kit.exec("none", true, java.time.Duration.ofSeconds(30), 1 << 20));
      RunnerKit.Result r = kit.run("tools", List.of("printenv", "HOME", "KUBECONFIG"));
      assertThat(r.status()).as(r.err()).isZero();
      String[] lines = r.out().split("\n");
      Path lock;
      try (var s = Files.list(tmp.resolve("data").resolve(WorkspaceOwner.OWNERS))) {
        lock = s.findFirst().orElseThrow();
      }
      String id = lock.getFileName().toString().replace(".lock", "");
      assertThat(Path.of(lines[0]).getFileName().toString()).startsWith(id + "-");
      assertThat(Path.of(lines[1]).getParent().getFileName().toString())
          .startsWith(WorkspaceOwner.SECRETS_PREFIX + id + "-");
    }
  }
}
