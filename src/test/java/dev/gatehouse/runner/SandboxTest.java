package dev.gatehouse.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.runner.RunnerKit.Result;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a job in bubblewrap sees of the host: other jobs' workspaces, other connections' workdirs,
 * host sockets under /run and files in /var/tmp. Real bwrap, real processes.
 */
class SandboxTest {
  @TempDir static Path dir;

  /** Outside /tmp and /var/tmp, which are private in the sandbox whatever this class tests. */
  static Path outside;

  static RunnerKit kit;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Sandbox.bubblewrapAvailable(), "bubblewrap cannot create namespaces here");
    outside = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "sandbox-test-");
    Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rwxr-xr-x"));
    // a parent run_as cannot search: mvn walks up from its working directory with cd ..
    Path locked = Files.createDirectory(outside.resolve("locked"));
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
    Path fw = Files.createDirectories(locked.resolve("tools-fw"));
    Files.setPosixFilePermissions(fw, PosixFilePermissions.fromString("rwx------"));
    // another job's fresh workspace, and another connection's fixed workdir: world-readable, so
    // only the sandbox keeps them out of sight (every job runs as the same run_as user)
    Path peer = Files.createDirectories(fw.resolve("ci-bot-0123"));
    Files.writeString(peer.resolve("creds.txt"), "peer-secret\n");
    Path other = Files.createDirectories(outside.resolve("other"));
    Files.writeString(other.resolve("creds.txt"), "other-secret\n");
    for (Path p : List.of(peer, other)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.setPosixFilePermissions(
          p.resolve("creds.txt"), PosixFilePermissions.fromString("rw-r--r--"));
    }
    kit = new RunnerKit(dir, k -> null, List.of(fw, other));
    kit.connection(
        "tools-fw",
        withWorkdir(kit.exec("bubblewrap", false, Duration.ofSeconds(30), 1 << 20), fw));
    kit.connection(
        "tools-boxed-net",
        withPython(kit.exec("bubblewrap", true, Duration.ofSeconds(30), 1 << 20)));
    kit.connection(
        "tools-boxed", withPython(kit.exec("bubblewrap", false, Duration.ofSeconds(30), 1 << 20)));
    // F2: a sandboxed connection and an unsandboxed one with the same run_as (nobody), the
    // sandboxed one's workdir reachable by nobody on the host
    Path openWs = Files.createDirectories(outside.resolve("open-ws"));
    Files.setPosixFilePermissions(openWs, PosixFilePermissions.fromString("rwxr-xr-x"));
    kit.connection(
        "tools-boxed-open",
        withWorkdir(kit.exec("bubblewrap", false, Duration.ofSeconds(30), 1 << 20), openWs));
    // no secrets of its own: whatever it prints was read from the other job
    ExecConfig host = kit.exec("none", true, Duration.ofSeconds(30), 1 << 20);
    kit.connection(
        "tools-host",
        new ExecConfig(
            host.binaries(),
            "fresh",
            null,
            host.env(),
            host.envAllow(),
            List.of(),
            host.timeout(),
            host.maxOutput(),
            0,
            Duration.ZERO,
            0,
            "none",
            true,
            null,
            null,
            List.of()));
  }

  private static ExecConfig withWorkdir(ExecConfig b, Path workdir) {
    return with(b, b.binaries(), workdir);
  }

  /** python3 as a Unix socket client (the kit's policy lets it run probe.py scripts only). */
  private static ExecConfig withPython(ExecConfig b) {
    return with(
        b,
        Stream.concat(b.binaries().stream(), Stream.of("/usr/bin/python3")).toList(),
        b.workdir());
  }

  private static ExecConfig with(ExecConfig b, List<String> binaries, Path workdir) {
    return new ExecConfig(
        binaries,
        b.workspace(),
        workdir,
        b.env(),
        b.envAllow(),
        b.secrets(),
        b.timeout(),
        b.maxOutput(),
        b.memory(),
        b.cpu(),
        b.processes(),
        b.sandbox(),
        b.network(),
        b.runAs(),
        b.runner(),
        List.of());
  }

  @AfterAll
  static void stop() throws Exception {
    if (kit != null) {
      kit.close();
    }
    if (outside != null) {
      try (Stream<Path> s = Files.walk(outside)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  @Test
  void aJobSeesNeitherOtherJobsWorkspacesNorOtherWorkdirs() throws Exception {
    Path fw = outside.resolve("locked/tools-fw");
    Result r =
        kit.run(
            "tools-fw",
            List.of(
                "sh",
                "-c",
                "echo \"entries=$(ls -A "
                    + fw
                    + " | wc -l)\"; cat "
                    + fw.resolve("ci-bot-0123/creds.txt")
                    + " "
                    + outside.resolve("other/creds.txt")
                    + " 2>/dev/null; ls "
                    + outside
                    + "; cd \"$HOME/../..\" && echo up-ok; touch \"$HOME/w\" && echo ws-ok"));
    assertThat(r.status()).as(r.err()).isZero();
    // only its own workspace is in the workdir
    assertThat(r.out()).contains("entries=1", "up-ok", "ws-ok");
    assertThat(r.out()).doesNotContain("peer-secret", "other-secret");
    // the host still has them: the sandbox hid them, nothing removed them
    assertThat(fw.resolve("ci-bot-0123/creds.txt")).exists();
  }

  /**
   * Red team F2: a job on a connection without bubblewrap, running as the same run_as user, can
   * neither read nor replace a sandboxed job's file secret or workspace while it runs (both sit in
   * a root-only directory on the host; the sandbox gives the job a way in).
   */
  @Test
  void anUnsandboxedJobWithTheSameRunAsCannotReachASandboxedJobsSecretsOrWorkspace()
      throws Exception {
    assumeTrue(Sandbox.ROOT, "run_as needs a root gateway");
    Path openWs = outside.resolve("open-ws");
    java.util.concurrent.CompletableFuture<Result> victim =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                return kit.run(
                    "tools-boxed-open",
                    List.of(
                        "sh",
                        "-c",
                        "echo mine > mine.txt; sleep 4; cat \"$HOME/mine.txt\""
                            + " \"$KUBECONFIG\""));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Path mine = null;
    for (int i = 0; i < 100 && mine == null; i++) {
      Thread.sleep(50);
      try (Stream<Path> s = Files.walk(openWs)) {
        mine = s.filter(p -> p.endsWith("mine.txt")).findFirst().orElse(null);
      }
    }
    if (mine == null) {
      Result failed = victim.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(mine).as("the victim's workspace: " + failed.out() + failed.err()).isNotNull();
    }
    // this runner's secret files only (other gateways on this host have their own)
    String ownerId = openWs.relativize(mine).getName(0).toString().split("-")[0];
    List<Path> targets = new java.util.ArrayList<>(List.of(mine));
    try (Stream<Path> s = Files.walk(Path.of(System.getProperty("java.io.tmpdir")), 3)) {
      s.filter(p -> p.getFileName().toString().equals("KUBECONFIG"))
          .filter(p -> p.toString().contains(WorkspaceOwner.SECRETS_PREFIX + ownerId + "-"))
          .forEach(targets::add);
    }
    assertThat(targets).as("the victim's secret file exists on the host").hasSizeGreaterThan(1);
    // the paths as the red team found them by globbing; read, then replace
    StringBuilder script = new StringBuilder();
    for (Path t : targets) {
      script.append("cat ").append(t).append(" 2>/dev/null; ");
      script.append("echo tampered 2>/dev/null > ").append(t).append("; ");
    }
    Result attacker = kit.run("tools-host", List.of("sh", "-c", script + "echo checked"));
    Result v = victim.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(attacker.status()).as(attacker.err()).isZero();
    assertThat(attacker.out()).isEqualTo("checked\n");
    assertThat(v.status()).as(v.err()).isZero();
    // its own file and its secret, unchanged (the secret masked: the whole file is the value)
    assertThat(v.out()).startsWith("mine\n").contains("REDACTED").doesNotContain("tampered");
  }

  @Test
  void withoutNetworkHostSocketsUnderRunAndVarTmpFilesAreOutOfReach() throws Exception {
    String name = "gatehouse-sbx-" + UUID.randomUUID().toString().substring(0, 8);
    Path sock = Path.of("/run", name + ".sock");
    Path varTmp = Path.of("/var/tmp", name);
    Files.writeString(varTmp, "x");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(sock));
      String probe =
          "[ -S "
              + sock
              + " ] && echo run-visible; [ -e "
              + varTmp
              + " ] && echo vartmp-visible;"
              + " echo done";
      Result boxed = kit.run("tools-boxed", List.of("sh", "-c", probe));
      Result withNet = kit.run("tools-boxed-net", List.of("sh", "-c", probe));
      assertThat(boxed.out()).as(boxed.err()).contains("done").doesNotContain("visible");
      // network: true keeps the host's /run (name resolution, nscd), /var/tmp is private always
      assertThat(withNet.out()).as(withNet.err()).contains("run-visible", "done");
      assertThat(withNet.out()).doesNotContain("vartmp-visible");
    } finally {
      Files.deleteIfExists(sock);
      Files.deleteIfExists(varTmp);
    }
  }

  /**
   * A host service's Unix socket outside /run and /tmp, on a path every job can read: network:
   * false refuses socket(AF_UNIX) with EACCES (the seccomp filter), network: true reaches it.
   */
  @Test
  void withoutNetworkNoUnixSocketAnywhereWithNetworkTheHostsSocket() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    assumeTrue(Files.isExecutable(python), "python3 is not installed");
    Path sockDir = Files.createDirectories(outside.resolve("srv"));
    Path sock = sockDir.resolve("svc.sock");
    String probe =
        """
        import os, socket
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(os.environ["APP_TARGET"])
            print("connected", s.recv(5).decode())
        except OSError as e:
            print("unix-refused", e.errno)
        a, b = socket.socketpair()
        a.send(b"x")
        print("stream-pair", b.recv(1).decode())
        try:
            socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            print("dgram-pair")
        except OSError as e:
            print("dgram-pair-refused", e.errno)
        socket.socket(socket.AF_INET).close()
        print("inet-socket")
        print("fd9-open" if os.path.exists("/proc/self/fd/9") else "fd9-closed")
        """;
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(sock));
      // connect(2) needs write permission on the socket file: open to run_as (nobody), so only
      // the filter stands in the way
      Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rwxrwxrwx"));
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  while (true) {
                    try (var c = server.accept()) {
                      c.write(java.nio.ByteBuffer.wrap("hello".getBytes()));
                    }
                  }
                } catch (java.io.IOException e) {
                  // closed at the end of the test
                }
              });
      Path script = Files.writeString(sockDir.resolve("probe.py"), probe);
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
      ExecRequest req =
          new ExecRequest(
              List.of(python.toString(), script.toString()),
              null,
              Map.of("APP_TARGET", sock.toString()),
              null,
              null);
      Result boxed = kit.run("tools-boxed", req, null, e -> {});
      Result withNet = kit.run("tools-boxed-net", req, null, e -> {});
      assertThat(boxed.status()).as(boxed.err()).isZero();
      assertThat(boxed.out())
          .contains(
              "unix-refused 13",
              "stream-pair x",
              "dgram-pair-refused 13",
              "inet-socket",
              // bwrap closed the descriptor it read the filter from
              "fd9-closed")
          .doesNotContain("connected");
      assertThat(withNet.status()).as(withNet.err()).isZero();
      assertThat(withNet.out()).contains("connected hello", "dgram-pair", "inet-socket");
      // ordinary tools still run under the filter
      Result stat = kit.run("tools-boxed", List.of("stat", "-c", "%F", sock.toString()));
      assertThat(stat.status()).as(stat.err()).isZero();
      assertThat(stat.out()).isEqualTo("socket\n");
    } finally {
      Files.deleteIfExists(sock);
    }
  }

  @Test
  void hiddenDropsNestedMissingAndSystemPathsAndFindsALockedParent() throws Exception {
    // JUnit makes its temporary directory 0700: searchable by nobody only once opened up
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path data = Files.createDirectories(dir.resolve("h/data"));
    Path inner = Files.createDirectories(data.resolve("workspaces/c"));
    Path locked = Files.createDirectories(dir.resolve("h/locked/deep/ws"));
    Files.setPosixFilePermissions(
        dir.resolve("h/locked"), PosixFilePermissions.fromString("rwx------"));
    List<Path> h =
        Sandbox.hidden(
            data,
            List.of(inner, dir.resolve("h/missing"), Path.of("/usr"), data),
            locked,
            new int[] {65534, 65534});
    assertThat(h).containsExactly(data.toRealPath(), dir.resolve("h/locked").toRealPath());
    // root can search everything; without run_as the gateway's own user runs the job
    assertThat(Sandbox.hidden(data, List.of(), locked, new int[] {0, 0}))
        .containsExactly(data.toRealPath());
    assertThat(Sandbox.hidden(data, List.of(), locked, null)).containsExactly(data.toRealPath());
    // the data directory is hidden even where a workdir would not be (a system path)
    for (String system : List.of("/srv", "/opt", "/home", "/var")) {
      Path d = Path.of(system);
      Path real = Files.exists(d) ? d.toRealPath() : d;
      assertThat(Sandbox.hidden(d, List.of(d), locked, null)).as(system).containsExactly(real);
    }
  }
}
