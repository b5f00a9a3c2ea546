package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigException.Problem;
import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code connections[].roles}: other logins to a target, for the upstream_role obligation. */
class UpstreamRolesConfigTest {
  @TempDir Path dir;

  static final Map<String, String> ENV = Map.of("RW", "rw-secret-1", "RO", "ro-secret-2");

  @Test
  void rolesAreReadWithTheirSecretsHidden() throws Exception {
    GatehouseConfig c =
        ConfigTesting.parse(
            """
            connections:
              - name: db
                type: postgres
                host: 127.0.0.1
                username: owner
                roles:
                  - { name: writer, username: app_rw, password: "${env:RW}" }
                  - { name: reader, username: app_ro, password: "${env:RO}" }
                  - { name: trusted, username: app_trust }
            """,
            dir,
            ENV);
    ConnectionConfig db = c.connection("db");
    assertThat(db.roles()).containsOnlyKeys("writer", "reader", "trusted");
    assertThat(db.roles().get("writer").username()).isEqualTo("app_rw");
    assertThat(db.roles().get("writer").password().reveal()).isEqualTo("rw-secret-1");
    assertThat(db.roles().get("trusted").password()).isNull();
    assertThat(db.toString()).doesNotContain("rw-secret-1").doesNotContain("ro-secret-2");
  }

  @Test
  void aConnectionWithoutRolesHasNone() throws Exception {
    GatehouseConfig c =
        ConfigTesting.parse(
            """
            connections:
              - { name: db, type: postgres, host: 127.0.0.1, username: owner }
            """,
            dir,
            ENV);
    assertThat(c.connection("db").roles()).isEmpty();
  }

  @Test
  void badRolesAreReportedWhereTheyAre() {
    ConfigException e =
        ConfigTesting.failure(
            """
            connections:
              - name: db
                type: postgres
                host: 127.0.0.1
                username: owner
                roles:
                  - { name: "a,b", username: x }
                  - { name: writer }
                  - { name: w2, username: y, private_key: "${env:RW}" }
                  - { name: w3, username: z }
                  - { name: w3, username: z2 }
              - name: runner
                type: exec
                exec: { binaries: [/usr/bin/true] }
                roles:
                  - { name: r, username: u }
            """,
            dir,
            ENV);
    assertThat(e.problems())
        .extracting(Problem::path)
        .containsExactlyInAnyOrder(
            "connections[0].roles[0].name",
            "connections[0].roles[1].username",
            "connections[0].roles[2].private_key",
            "connections[0].roles[4].name",
            "connections[1].roles");
    assertThat(e.getMessage())
        .contains("is not a role name")
        .contains("private_key applies only to ssh connections")
        .contains("roles apply only to postgres, mysql and ssh connections");
  }

  @Test
  void anSshConnectionsRoleMayHoldAKey() throws Exception {
    GatehouseConfig c =
        ConfigTesting.parse(
            """
            connections:
              - name: host
                type: ssh
                host: 127.0.0.1
                username: deploy
                ssh: { host_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"] }
                roles:
                  - { name: readonly, username: auditor, private_key: "${env:RO}" }
            """,
            dir,
            ENV);
    assertThat(c.connection("host").roles().get("readonly").privateKey().reveal())
        .isEqualTo("ro-secret-2");
  }
}
