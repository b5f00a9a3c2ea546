package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.server.GatehouseServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenSSH {@code sshd} as the target (own host key, accepts only the key the gateway holds),
 * and a whole gateway in front of it with its SSH listener on a free port. Tests drive it with the
 * real OpenSSH {@code ssh} client.
 */
final class SshFixture implements AutoCloseable {
  static final String SSHD = "/usr/sbin/sshd";
  static final String SSH = "/usr/bin/ssh";
  static final String KEYGEN = "/usr/bin/ssh-keygen";

  static final String DEFAULT_POLICY =
      """
      version: 1
      rules:
        - id: eng-commands
          subjects: { groups: [eng] }
          connections: { names: ["box*"] }
          effect: allow
          command: { binary: [echo, cat, printf, sh, "true", "false", sleep, id, uname, head] }
        - id: eng-shell-pipes
          subjects: { groups: [eng] }
          connections: { names: ["box*"] }
          effect: allow
          command: { binary: [ls], shell: true }
        - id: no-rm
          subjects: { groups: [eng] }
          connections: { names: ["box*"] }
          effect: deny
          command: { binary: [rm] }
          reason: Deleting files on box is not allowed.
        - id: eng-shell
          subjects: { groups: [eng] }
          connections: { names: ["box*"] }
          effect: allow
          shell: {}
        - id: raw-commands
          subjects: { groups: [eng] }
          connections: { names: [raw] }
          effect: allow
          command: { binary: [printf] }
          obligations: { masking: none }
        - id: eng-date-review
          subjects: { groups: [eng] }
          connections: { names: ["box*"] }
          effect: review
          review: { groups: [leads], approvals: 1, require_justification: true }
          command: { binary: [date], env: [GH_X] }
        - id: eng-runner
          subjects: { groups: [eng] }
          connections: { names: [runner] }
          effect: allow
          command: { binary: [echo] }
        - id: eng-forward
          subjects: { groups: [eng] }
          connections: { names: [box-fwd] }
          effect: allow
          forward: { types: [local] }
        - id: eng-files
          subjects: { groups: [eng] }
          connections: { names: ["box*"] }
          effect: allow
          file: { paths: ["FILES/shared"] }
        - id: eng-drop
          subjects: { groups: [eng] }
          connections: { names: ["box*"] }
          effect: allow
          file: { paths: ["FILES/drop"], ops: [write] }
      """;

  final Path dir;
  final Path aliceKey;
  final Path bobKey;
  final Path gatewayKey;
  final Path targetHostKey;
  final Path otherHostKey;
  final int sshdPort;
  final Path files;
  final Process sshd;
  final Process noSftpSshd; // null unless extra connections name NOSFTP_PORT
  final GatehouseServer server;

  static boolean available() {
    Path privsep = Path.of("/run/sshd"); // sshd refuses to start without it
    if (!Files.isDirectory(privsep)) {
      try {
        Files.createDirectories(privsep);
      } catch (IOException e) {
        return false;
      }
    }
    return Files.isExecutable(Path.of(SSHD))
        && Files.isExecutable(Path.of(SSH))
        && Files.isExecutable(Path.of(KEYGEN));
  }

  SshFixture(Path dir) throws Exception {
    this(dir, DEFAULT_POLICY);
  }

  SshFixture(Path dir, String policy) throws Exception {
    this(dir, policy, "");
  }

  /**
   * @param extraConnections YAML list items appended to the gateway's connections, with {@code
   *     SSHD_PORT}, {@code USER} and {@code TARGET_KEY} standing for the target's port, login and
   *     host key; {@code NOSFTP_PORT} for a second sshd, started only then, with the same keys and
   *     no sftp subsystem
   */
  SshFixture(Path dir, String policy, String extraConnections) throws Exception {
    this.dir = dir;
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    Path keys = Files.createDirectories(dir.resolve("keys"));
    aliceKey = keygen(keys.resolve("alice"));
    bobKey = keygen(keys.resolve("bob"));
    gatewayKey = keygen(keys.resolve("gateway"));
    targetHostKey = keygen(keys.resolve("target_host"));
    otherHostKey = keygen(keys.resolve("other_host"));

    files = Files.createDirectories(dir.resolve("files"));
    Files.createDirectories(files.resolve("shared"));
    Files.createDirectories(files.resolve("drop"));
    Files.createDirectories(files.resolve("private"));
    sshdPort = freePort();
    sshd = startSshd(dir.resolve("sshd"), sshdPort, true);
    Process second = null;
    try {
      awaitPort(sshdPort);
      String extra = extraConnections;
      if (extra.contains("NOSFTP_PORT")) {
        int port = freePort();
        second = startSshd(dir.resolve("sshd-nosftp"), port, false);
        awaitPort(port);
        extra = extra.replace("NOSFTP_PORT", String.valueOf(port));
      }
      noSftpSshd = second;
      server =
          startGateway(
              policy,
              extra
                  .replace("SSHD_PORT", String.valueOf(sshdPort))
                  .replace("USER", System.getProperty("user.name"))
                  .replace("TARGET_KEY", pubLine(targetHostKey)));
    } catch (Exception | Error e) {
      sshd.destroy(); // the constructor failed: close() will not run
      if (second != null) {
        second.destroy();
      }
      throw e;
    }
  }

  /** An OpenSSH sshd on {@code port} accepting only the gateway's key; with or without sftp. */
  private Process startSshd(Path sshdDir, int port, boolean sftp) throws IOException {
    Files.createDirectories(sshdDir);
    Files.copy(pub(gatewayKey), sshdDir.resolve("authorized_keys"));
    Files.writeString(
        sshdDir.resolve("sshd_config"),
        """
        Port %d
        ListenAddress 127.0.0.1
        HostKey %s
        AuthorizedKeysFile %s
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PermitRootLogin prohibit-password
        UsePAM no
        StrictModes no
        PidFile %s
        %s
        AcceptEnv LANG LC_* GH_*
        X11Forwarding yes
        """
            .formatted(
                port,
                targetHostKey,
                sshdDir.resolve("authorized_keys"),
                sshdDir.resolve("sshd.pid"),
                sftp ? "Subsystem sftp internal-sftp" : ""));
    return new ProcessBuilder(SSHD, "-D", "-e", "-f", sshdDir.resolve("sshd_config").toString())
        .redirectErrorStream(true)
        .redirectOutput(sshdDir.resolve("log").toFile())
        .start();
  }

  private GatehouseServer startGateway(String policy, String extraConnections) throws Exception {

    Path policies = Files.createDirectories(dir.resolve("policies"));
    Files.writeString(policies.resolve("ssh.yaml"), policy.replace("FILES", files.toString()));
    String user = System.getProperty("user.name");
    String yaml =
        """
        server:
          data_dir: data
          api: { enabled: false }
          postgres: { enabled: false }
          ssh: { host: 127.0.0.1, port: 0 }
        identity:
          users:
            - { subject: alice, kind: human, groups: [eng], role: user, ssh_keys: ["%s"] }
            - { subject: bob, kind: human, groups: [visitors], role: user, ssh_keys: ["%s"] }
        connections:
          - name: box
            type: ssh
            host: 127.0.0.1
            port: %d
            username: %s
            ssh: { host_keys: ["%s"], private_key: "${env:GATEWAY_KEY}" }
          - name: box-fwd
            type: ssh
            host: 127.0.0.1
            port: %d
            username: %s
            ssh: { host_keys: ["%s"], private_key: "${env:GATEWAY_KEY}" }
          - name: box-dest
            type: ssh
            host: 127.0.0.1
            port: %d
            username: %s
            ssh: { host_keys: ["%s"], private_key: "${env:GATEWAY_KEY}" }
          - name: raw
            type: ssh
            host: 127.0.0.1
            port: %d
            username: %s
            ssh: { host_keys: ["%s"], private_key: "${env:GATEWAY_KEY}" }
          - name: box-badkey
            type: ssh
            host: 127.0.0.1
            port: %d
            username: %s
            ssh: { host_keys: ["%s"], private_key: "${env:BAD_KEY}" }
          - name: box-changed
            type: ssh
            host: 127.0.0.1
            port: %d
            username: %s
            ssh: { host_keys: ["%s"], private_key: "${env:GATEWAY_KEY}" }
          - name: box-unguarded
            type: ssh
            host: 127.0.0.1
            port: %d
            username: %s
            ssh: { host_keys: ["%s"], private_key: "${env:GATEWAY_KEY}", pager_guard: off }
          - name: box-tty
            type: ssh
            host: 127.0.0.1
            port: %d
            username: %s
            ssh: { host_keys: ["%s"], private_key: "${env:GATEWAY_KEY}", pager_guard: tty }
          - name: box-usr1
            type: ssh
            host: 127.0.0.1
            port: %d
            username: %s
            ssh: { host_keys: ["%s"], private_key: "${env:GATEWAY_KEY}", signals_allow: [USR1] }
          - name: runner
            type: exec
            exec: { binaries: [/bin/echo] }
        %s
        policy:
          files: [policies/*.yaml]
        """
            .formatted(
                pubLine(aliceKey),
                pubLine(bobKey),
                sshdPort,
                user,
                pubLine(targetHostKey),
                sshdPort,
                user,
                pubLine(targetHostKey),
                sshdPort,
                user,
                pubLine(targetHostKey),
                sshdPort,
                user,
                pubLine(targetHostKey),
                sshdPort,
                user,
                pubLine(targetHostKey),
                sshdPort,
                user,
                pubLine(otherHostKey),
                sshdPort,
                user,
                pubLine(targetHostKey),
                sshdPort,
                user,
                pubLine(targetHostKey),
                sshdPort,
                user,
                pubLine(targetHostKey),
                extraConnections.strip().indent(2).stripTrailing());
    GatehouseConfig cfg =
        ConfigLoader.parse(
            yaml,
            "ssh-test.yaml",
            dir,
            Map.of(
                "GATEWAY_KEY",
                Files.readString(gatewayKey),
                "BAD_KEY",
                Files.readString(bobKey))); // not authorized on the target
    return GatehouseServer.start(cfg);
  }

  /**
   * Writes {@code policy} to the gateway's policy file and reloads it now, as the watcher would on
   * its next round (PgTestSupport.reload for the PostgreSQL tests); asserts a new generation is in
   * force.
   */
  void reload(String policy) throws Exception {
    long before = server.policy().generation();
    Files.writeString(dir.resolve("policies/ssh.yaml"), policy.replace("FILES", files.toString()));
    assertThat(server.policy().reload()).as("the policy is valid").isTrue();
    assertThat(server.policy().generation()).isGreaterThan(before);
  }

  /** The target sshd's log (-e). */
  Path sshdLog() {
    return dir.resolve("sshd/log");
  }

  int port() {
    return server.sshPort();
  }

  String tokenFor(String user) {
    return server.tokens().issueForUser(user, null, Set.of(), "test").secret();
  }

  static Path keygen(Path file) throws Exception {
    Process p =
        new ProcessBuilder(KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file.toString())
            .redirectErrorStream(true)
            .start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    return file;
  }

  static Path pub(Path key) {
    return Path.of(key + ".pub");
  }

  /** "TYPE BASE64" of a key's .pub file. */
  static String pubLine(Path key) throws IOException {
    String[] parts = Files.readString(pub(key)).trim().split(" ");
    return parts[0] + " " + parts[1];
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static void awaitPort(int port) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < end) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new AssertionError("port " + port + " never opened");
  }

  record Run(int exit, String out, String err, byte[] outBytes) {}

  /** Common options: no config, no known_hosts, no agent, only the given key. */
  List<String> sshCommand(Path key, String login, List<String> extra) {
    List<String> cmd = clientCommand(SSH, "-p", key, extra);
    cmd.add(login + "@127.0.0.1");
    return cmd;
  }

  /** scp/sftp with the same options; the destination is part of {@code args}. */
  List<String> fileCommand(String program, Path key, List<String> args) {
    return clientCommand(program, "-P", key, args);
  }

  private List<String> clientCommand(
      String program, String portFlag, Path key, List<String> extra) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                program,
                "-F",
                "/dev/null",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "IdentityAgent=none",
                "-o",
                "ConnectTimeout=20",
                portFlag,
                String.valueOf(port())));
    if (key != null) {
      cmd.addAll(List.of("-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", key.toString()));
    }
    cmd.addAll(extra);
    return cmd;
  }

  Run ssh(Path key, String login, String stdin, String... command) throws Exception {
    List<String> cmd = sshCommand(key, login, List.of());
    cmd.addAll(List.of(command));
    return run(cmd, Map.of(), stdin);
  }

  Run run(List<String> cmd, Map<String, String> env, String stdin) throws Exception {
    Process p = start(cmd, env);
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // the process may exit before reading its input
    }
    return finish(p);
  }

  private final Map<Process, Path[]> outputs = new HashMap<>();

  Process start(List<String> cmd, Map<String, String> env) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    outputs.put(p, new Path[] {out, err});
    return p;
  }

  /** What a running process has written to stdout so far. */
  String outSoFar(Process p) throws IOException {
    return Files.readString(outputs.get(p)[0]);
  }

  /** What a running process has written to stderr so far. */
  String errSoFar(Process p) throws IOException {
    return Files.readString(outputs.get(p)[1]);
  }

  Run finish(Process p) throws Exception {
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("ssh did not finish");
    }
    Path[] o = outputs.remove(p);
    byte[] out = Files.readAllBytes(o[0]);
    return new Run(
        p.exitValue(),
        new String(out, StandardCharsets.UTF_8),
        new String(Files.readAllBytes(o[1]), StandardCharsets.UTF_8),
        out);
  }

  @Override
  public void close() throws Exception {
    if (server != null) {
      server.close();
    }
    for (Process p : new Process[] {sshd, noSftpSshd}) {
      if (p != null) {
        p.destroy();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
