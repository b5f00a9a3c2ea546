package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigException.Problem;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code exec.runner}: it names an ssh connection, and local-only settings are refused with it. */
class ExecRunnerConfigTest {
  @TempDir Path dir;

  static final String BOX =
      """
      connections:
        - name: box
          type: ssh
          host: build.internal
          username: ci
          ssh: { host_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE"] }
        - name: db
          type: postgres
          host: db
          username: u
      """;

  private Problem only(String exec) {
    return ConfigTesting.onlyProblem(BOX + exec, dir, Map.of());
  }

  @Test
  void runnerNamingAnSshConnectionIsAccepted() throws Exception {
    GatehouseConfig c =
        ConfigTesting.parse(
            BOX
                + """
                  - name: remote
                    type: exec
                    exec:
                      binaries: [/usr/bin/make]
                      runner: box
                      workspace: fixed
                      workdir: /srv/build
                      memory: 1g
                      cpu: 10m
                      processes: 256
                      sandbox: none
                """,
            dir,
            Map.of());
    var exec = c.connection("remote").exec();
    assertThat(exec.runner()).isEqualTo("box");
    assertThat(exec.workdir()).isEqualTo(Path.of("/srv/build"));
    assertThat(exec.memory()).isEqualTo(1L << 30);
  }

  @Test
  void unknownRunnerSuggestsAnSshConnection() {
    Problem p =
        only(
            """
              - name: remote
                type: exec
                exec: { binaries: [/usr/bin/make], runner: bx }
            """);
    assertThat(p.line()).isEqualTo(13);
    assertThat(p.path()).isEqualTo("connections[2].exec.runner");
    assertThat(p.message()).isEqualTo("no connection named \"bx\"");
    assertThat(p.fix()).isEqualTo("did you mean `box`?");
  }

  @Test
  void runnerMustBeAnSshConnection() {
    Problem p =
        only(
            """
              - name: remote
                type: exec
                exec: { binaries: [/usr/bin/make], runner: db }
            """);
    assertThat(p.message())
        .isEqualTo("\"db\" is a postgres connection; a runner is an ssh connection");
    assertThat(p.fix()).isEqualTo("ssh connections: box");
  }

  @Test
  void runnerWithoutPinnedHostKeysIsAnErrorNamingTheFix() {
    // The relay refuses a target whose host key is not pinned (no trust on first use), so such a
    // runner could never run anything: config check says so instead of the first run.
    Problem p =
        only(
            """
              - name: bastion
                type: ssh
                host: bastion.internal
                username: ops
              - name: remote
                type: exec
                exec: { binaries: [/usr/bin/make], runner: bastion }
            """);
    // Reported at the ssh connection (every ssh connection needs pins), not at the runner.
    assertThat(p.line()).isEqualTo(11);
    assertThat(p.path()).isEqualTo("connections[2].ssh.host_keys");
    assertThat(p.message())
        .isEqualTo(
            "ssh connection \"bastion\" pins no host keys; the gateway never trusts a target's key"
                + " on first use, so every session and every run on it would be refused");
    assertThat(p.fix())
        .isEqualTo(
            "pin the target's key in ssh.host_keys: run `ssh-keyscan -t ed25519 bastion.internal`"
                + " (from a network you trust) and add the key part, \"ssh-ed25519 AAAA...\","
                + " without the host name");
    assertThat(
            only("""
                      - name: bastion
                        type: ssh
                        host: bastion.internal
                        username: ops
                        ssh: { host_keys: [] }
                      - name: remote
                        type: exec
                        exec: { binaries: [/usr/bin/make], runner: bastion }
                    """)
                .message())
        .startsWith("ssh connection \"bastion\" pins no host keys");
  }

  @Test
  void localOnlySettingsAreRefusedWithARunner() {
    ConfigException e =
        ConfigTesting.failure(
            BOX
                + """
                  - name: remote
                    type: exec
                    exec:
                      binaries: [/usr/bin/make]
                      runner: box
                      sandbox: bubblewrap
                      network: false
                      run_as: builder
                      workdir: builds
                      env: { "A;B": x }
                """,
            dir,
            Map.of());
    assertThat(e.problems())
        .extracting(Problem::path)
        .containsExactlyInAnyOrder(
            "connections[2].exec.sandbox",
            "connections[2].exec.network",
            "connections[2].exec.run_as",
            "connections[2].exec.workdir",
            "connections[2].exec.env");
    assertThat(e.getMessage())
        .contains("sandbox: bubblewrap applies to the gateway host only")
        .contains("run_as applies to the gateway host only")
        .contains("network: false needs the gateway's sandbox")
        .contains("\"builds\" is relative; with a runner, workdir is a path on the target");
  }

  /** {@code signals_allow} opts in USR1/USR2 only; the defaults and the rest cannot be listed. */
  @Test
  void signalsAllowTakesOnlyUsr1AndUsr2() throws Exception {
    GatehouseConfig c =
        ConfigTesting.parse(
            BOX
                + """
                  - name: local
                    type: exec
                    exec: { binaries: [/usr/bin/make], signals_allow: [sigusr1, USR2] }
                  - name: plain
                    type: exec
                    exec: { binaries: [/usr/bin/make] }
                """,
            dir,
            Map.of());
    assertThat(c.connection("local").exec().signalsAllow()).containsExactly("USR1", "USR2");
    assertThat(c.connection("plain").exec().signalsAllow()).isEmpty();

    Problem p =
        only(
            """
              - name: local
                type: exec
                exec: { binaries: [/usr/bin/make], signals_allow: [USR1, STOP] }
            """);
    assertThat(p.path()).isEqualTo("connections[2].exec.signals_allow[1]");
    assertThat(p.message()).isEqualTo("\"STOP\" cannot be opted in");
    assertThat(p.fix()).startsWith("list only USR1 and USR2");
  }

  /**
   * {@code ssh.signals_allow} gives an {@code ssh} connection the same opt-in, checked the same
   * way: USR1 and USR2 only, any other name a problem at its item.
   */
  @Test
  void sshSignalsAllowTakesOnlyUsr1AndUsr2() throws Exception {
    GatehouseConfig c =
        ConfigTesting.parse(
            BOX
                + """
                  - name: node-box
                    type: ssh
                    host: node.internal
                    username: ci
                    ssh:
                      host_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE"]
                      signals_allow: [SIGUSR1]
                """,
            dir,
            Map.of());
    assertThat(c.connection("node-box").ssh().signalsAllow()).containsExactly("USR1");
    assertThat(c.connection("box").ssh().signalsAllow()).isEmpty();

    Problem p =
        only(
            """
              - name: node-box
                type: ssh
                host: node.internal
                username: ci
                ssh:
                  host_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE"]
                  signals_allow: [USR2, TERM]
            """);
    assertThat(p.path()).isEqualTo("connections[2].ssh.signals_allow[1]");
    assertThat(p.message()).isEqualTo("\"TERM\" cannot be opted in");
    assertThat(p.fix()).startsWith("list only USR1 and USR2");
  }
}
