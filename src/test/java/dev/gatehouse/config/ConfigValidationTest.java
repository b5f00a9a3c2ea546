package dev.gatehouse.config;

import static dev.gatehouse.config.ConfigTesting.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigException.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each class of configuration error, with the exact line it is reported on. */
class ConfigValidationTest {
  @TempDir Path dir;

  /** A host_keys line for an ssh connection, indented as its other keys. */
  private static final String PINNED =
      "    ssh: {host_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE\"]}\n";

  private Problem only(String yaml) {
    return only(yaml, Map.of());
  }

  private Problem only(String yaml, Map<String, String> env) {
    return ConfigTesting.onlyProblem(yaml, dir, env);
  }

  @Test
  void portThatIsNotANumberRendersTheDocumentedLine() {
    String yaml =
        """
        connections:
          - name: pg
            type: postgres
            host: db
            username: u
            port: abc
        """;
    ConfigException e = failure(yaml, dir, Map.of());

    assertThat(e.getMessage())
        .isEqualTo(
            "gatehouse.yaml:6: connections[0].port: \"abc\" is not a number"
                + " (expected an integer 1-65535)");
  }

  @Test
  void unknownKeySuggestsTheClosestValidKey() {
    Problem p = only("server:\n  dta_dir: ./data\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.path()).isEqualTo("server.dta_dir");
    assertThat(p.message()).isEqualTo("unknown key");
    assertThat(p.fix()).isEqualTo("did you mean `data_dir`?");
  }

  @Test
  void camelCaseKeySuggestsItsSnakeCaseSpelling() {
    Problem p = only("identity:\n  humanTokenTtl: 1h\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.fix()).isEqualTo("did you mean `human_token_ttl`?");
  }

  @Test
  void unknownKeyFarFromAnyValidKeyListsTheValidKeys() {
    Problem p = only("logging:\n  colour: true\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.fix()).isEqualTo("valid keys here: format, level");
  }

  @Test
  void unknownTopLevelSectionIsReported() {
    Problem p = only("logging: {}\nconnection: []\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.path()).isEqualTo("connection");
    assertThat(p.fix()).isEqualTo("did you mean `connections`?");
  }

  @Test
  void sectionOfTheWrongTypeIsReported() {
    Problem p = only("logging: {}\nserver: 8443\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.path()).isEqualTo("server");
    assertThat(p.message()).isEqualTo("expected a mapping, found a value");
  }

  @Test
  void listWrittenAsAMappingIsReported() {
    Problem p = only("logging: {}\nconnections:\n  name: pg\n");

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.message()).isEqualTo("expected a list, found a mapping");
  }

  @Test
  void scalarWhereAStringIsExpectedButAListIsGiven() {
    Problem p = only("server:\n  api:\n    host: [a, b]\n");

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.message()).isEqualTo("expected a string, found a list");
  }

  @Test
  void yesIsNotABoolean() {
    Problem p = only("policy:\n  watch: yes\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.message()).isEqualTo("\"yes\" is not a boolean");
    assertThat(p.fix()).isEqualTo("expected true or false");
  }

  @Test
  void missingRequiredKeysAreReportedAtTheirMapping() {
    String yaml =
        """
        connections:
          - name: pg
            type: postgres
            host: db
            username: u
          - type: postgres
            username: u
        """;
    ConfigException e = failure(yaml, dir, Map.of());

    assertThat(e.problems())
        .extracting(Problem::line, Problem::path, Problem::message)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(6, "connections[1].name", "missing required key"),
            org.assertj.core.groups.Tuple.tuple(6, "connections[1].host", "missing required key"));
  }

  @Test
  void keyWithoutValueIsReportedAtTheKey() {
    Problem p =
        only("connections:\n  - name: pg\n    type: ssh\n    username: u\n    host:\n" + PINNED);

    assertThat(p.line()).isEqualTo(5);
    assertThat(p.message()).isEqualTo("missing value");
  }

  @Test
  void sshPagerGuardNamesTheChoices() {
    Problem p =
        only(
            "connections:\n  - {name: a, type: ssh, host: h, username: u,\n"
                + "     ssh: {host_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE\"],"
                + " pager_guard: false}}\n");

    assertThat(p.path()).isEqualTo("connections[0].ssh.pager_guard");
    assertThat(p.message()).isEqualTo("\"false\" is not a valid pager guard");
    assertThat(p.fix()).isEqualTo("expected one of always, tty, off");
  }

  @Test
  void listenerPortOutOfRangeNamesTheRange() {
    Problem p = only("server:\n  postgres:\n    port: 70000\n");

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.message()).isEqualTo("\"70000\" is out of range");
    assertThat(p.fix()).isEqualTo("expected an integer 0-65535, 0 picks a free port");
  }

  @Test
  void sshKexinitWaitIsBoundedAndOnlyOnTheSshListener() throws Exception {
    GatehouseConfig c =
        ConfigTesting.parse("server:\n  ssh:\n    kexinit_wait: 0s\n", dir, Map.of());
    assertThat(c.server().ssh().kexinitWait()).isZero();
    assertThat(
            ConfigTesting.parse("server:\n  ssh:\n    kexinit_wait: 1500ms\n", dir, Map.of())
                .server()
                .ssh()
                .kexinitWait())
        .isEqualTo(java.time.Duration.ofMillis(1500));

    Problem p = only("server:\n  ssh:\n    kexinit_wait: 6s\n");
    assertThat(p.line()).isEqualTo(3);
    assertThat(p.path()).isEqualTo("server.ssh.kexinit_wait");
    assertThat(p.message()).isEqualTo("\"6s\" is out of range");
    assertThat(p.fix()).isEqualTo("expected a duration from 0s to 5s");

    Problem api = only("server:\n  api:\n    kexinit_wait: 0s\n");
    assertThat(api.path()).isEqualTo("server.api.kexinit_wait");
    assertThat(api.message()).isEqualTo("unknown key");
  }

  @Test
  void connectionPortZeroIsRejected() {
    Problem p =
        only(
            "connections:\n  - {name: a, type: ssh, host: h, username: u, port: 0,\n"
                + "     ssh: {host_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE\"]}}\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.fix()).isEqualTo("expected an integer 1-65535");
  }

  @Test
  void twoListenersOnOnePortConflict() {
    Problem p = only("server:\n  api:\n    port: 2222\n");

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.path()).isEqualTo("server.api.port");
    assertThat(p.message()).isEqualTo("port 2222 is also used by server.ssh");
  }

  @Test
  void poolSizeMustBePositive() {
    Problem p = only("store:\n  pool_size: 0\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.fix()).isEqualTo("expected an integer 1-1000");
  }

  @Test
  void durationInAnotherFormIsRejectedWithTheAcceptedForms() {
    Problem p = only("identity:\n  human_token_ttl: 1h30m\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.message()).isEqualTo("\"1h30m\" is not a duration");
    assertThat(p.fix()).isEqualTo("expected a number and a unit: 500ms, 30s, 15m, 12h or 90d");
  }

  @Test
  void durationOutOfRangeIsRejected() {
    Problem p = only("identity:\n  service_token_ttl: 90d\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.fix()).isEqualTo("expected a duration from 1s to 30d");
  }

  @Test
  void everyDurationUnitIsAccepted() throws Exception {
    String yaml =
        """
        approvals: {max_wait: 15m, default_expiry: 90d}
        audit: {checkpoint_interval: 30s}
        identity:
          human_token_ttl: 12h
          oidc:
            - {name: sso, issuer: "https://sso.example", audiences: [x], clock_skew: 500ms}
        """;
    GatehouseConfig c = ConfigTesting.parse(yaml, dir, Map.of());

    assertThat(c.approvals().maxWait()).hasMinutes(15);
    assertThat(c.approvals().defaultExpiry()).hasDays(90);
    assertThat(c.audit().checkpointInterval()).hasSeconds(30);
    assertThat(c.identity().humanTokenTtl()).hasHours(12);
    assertThat(c.identity().oidc().get(0).clockSkew()).hasMillis(500);
  }

  @Test
  void invalidEnumValueSuggestsTheClosestAndListsAll() {
    Problem p =
        only("connections:\n  - name: pg\n    type: postgress\n    host: h\n    username: u\n");

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.path()).isEqualTo("connections[0].type");
    assertThat(p.message()).isEqualTo("\"postgress\" is not a valid connection type");
    assertThat(p.fix())
        .isEqualTo("did you mean `postgres`? expected one of postgres, mysql, ssh, exec");
  }

  @Test
  void unknownConnectionTypeIsTheOnlyProblemReportedForIt() {
    Problem p = only("connections:\n  - name: pg\n    type: oracle\n");

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.path()).isEqualTo("connections[0].type");
  }

  @Test
  void everyEnumIsChecked() {
    String yaml =
        """
        store: {type: sqlite}
        identity:
          users:
            - {subject: a, kind: robot, role: root}
        connections:
          - {name: pg, type: postgres, host: h, username: u, tls: {mode: always}}
        audit:
          sinks:
            - {type: kafka}
        approvals:
          webhooks:
            - {format: teams, url: "https://x.example"}
        logging: {format: xml, level: verbose}
        """;
    ConfigException e = failure(yaml, dir, Map.of());

    assertThat(e.problems())
        .extracting(Problem::line, Problem::message)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1, "\"sqlite\" is not a valid store type"),
            org.assertj.core.groups.Tuple.tuple(4, "\"robot\" is not a valid principal kind"),
            org.assertj.core.groups.Tuple.tuple(4, "\"root\" is not a valid user role"),
            org.assertj.core.groups.Tuple.tuple(6, "\"always\" is not a valid tls mode"),
            org.assertj.core.groups.Tuple.tuple(9, "\"kafka\" is not a valid sink type"),
            org.assertj.core.groups.Tuple.tuple(12, "\"teams\" is not a valid webhook format"),
            org.assertj.core.groups.Tuple.tuple(13, "\"xml\" is not a valid logging format"),
            org.assertj.core.groups.Tuple.tuple(13, "\"verbose\" is not a valid logging level"));
  }

  @Test
  void duplicateNamesPointAtTheFirstDefinition() {
    String yaml =
        """
        identity:
          users:
            - subject: alice
            - subject: alice
          oidc:
            - {name: sso, issuer: "https://a.example", audiences: [x]}
            - {name: sso, issuer: "https://b.example", audiences: [x]}
          token_exchange:
            - {name: ci, issuer: sso}
            - {name: ci, issuer: sso}
        connections:
          - {name: pg, type: exec}
          - {name: pg, type: exec}
        """;
    ConfigException e = failure(yaml, dir, Map.of());

    assertThat(e.problems())
        .extracting(Problem::line, Problem::message)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                4, "duplicate user subject \"alice\" (first defined on line 3)"),
            org.assertj.core.groups.Tuple.tuple(
                7, "duplicate oidc issuer name \"sso\" (first defined on line 6)"),
            org.assertj.core.groups.Tuple.tuple(
                10, "duplicate token exchange name \"ci\" (first defined on line 9)"),
            org.assertj.core.groups.Tuple.tuple(
                13, "duplicate connection name \"pg\" (first defined on line 12)"));
  }

  @Test
  void duplicateKeyInOneMappingIsReported() {
    Problem p = only("server:\n  data_dir: a\n  data_dir: b\n");

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.message()).isEqualTo("duplicate key (first set on line 2)");
  }

  @Test
  void tokenExchangeIssuerMustNameAConfiguredIssuer() {
    String yaml =
        """
        identity:
          oidc:
            - {name: github-actions, issuer: "https://token.actions.githubusercontent.com", audiences: [x]}
          token_exchange:
            - name: deploy
              issuer: github-action
        """;
    Problem p = only(yaml);

    assertThat(p.line()).isEqualTo(6);
    assertThat(p.message()).isEqualTo("no oidc issuer named \"github-action\"");
    assertThat(p.fix()).isEqualTo("did you mean `github-actions`?");
  }

  @Test
  void policyGlobThatMatchesNothingIsReported() throws Exception {
    Files.createDirectories(dir.resolve("policies"));
    Files.writeString(dir.resolve("policies/a.yaml"), "");
    Problem p = only("policy:\n  files:\n    - policies/*.yaml\n    - policy/*.yaml\n");

    assertThat(p.line()).isEqualTo(4);
    assertThat(p.path()).isEqualTo("policy.files[1]");
    assertThat(p.message()).isEqualTo("no policy file matches " + dir + "/policy/*.yaml");
  }

  @Test
  void serverTlsNeedsCertAndKeyTogetherAndExistingFiles() throws Exception {
    Files.writeString(dir.resolve("gw.crt"), "x");
    ConfigException e = failure("server:\n  tls:\n    cert_file: gw.crt\n", dir, Map.of());
    ConfigException missingFile =
        failure("server:\n  tls:\n    cert_file: gw.crt\n    key_file: gw.key\n", dir, Map.of());

    assertThat(e.problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.line()).isEqualTo(3);
              assertThat(p.message()).isEqualTo("cert_file and key_file must be set together");
            });
    assertThat(missingFile.problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.line()).isEqualTo(4);
              assertThat(p.message())
                  .isEqualTo("key file " + dir.resolve("gw.key") + " does not exist");
            });
  }

  @Test
  void verifyFullNeedsACa() {
    String yaml =
        """
        connections:
          - name: pg
            type: postgres
            host: db
            username: u
            tls:
              mode: verify-full
        """;
    Problem p = only(yaml);

    assertThat(p.line()).isEqualTo(7);
    assertThat(p.message()).isEqualTo("verify-full needs `ca`");
  }

  @Test
  void postgresStoreNeedsAUrl() {
    Problem p = only("store:\n  type: postgres\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.path()).isEqualTo("store.url");
    assertThat(p.message()).isEqualTo("missing required key");
  }

  @Test
  void embeddedStoreRejectsPostgresSettings() {
    Problem p = only("store:\n  type: embedded\n  url: jdbc:postgresql://db/gh\n");

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.message()).isEqualTo("url applies only to store type postgres");
  }

  @Test
  void sinksNeedTheirDestination() {
    String yaml =
        """
        audit:
          sinks:
            - type: webhook
            - type: file
              url: https://x.example
        """;
    ConfigException e = failure(yaml, dir, Map.of());

    assertThat(e.problems())
        .extracting(Problem::line, Problem::path, Problem::message)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(3, "audit.sinks[0].url", "missing required key"),
            org.assertj.core.groups.Tuple.tuple(4, "audit.sinks[1].path", "missing required key"),
            org.assertj.core.groups.Tuple.tuple(
                5, "audit.sinks[1].url", "url applies only to webhook sinks"));
  }

  @Test
  void oidcIssuerMustUseHttpsUnlessLoopback() {
    String yaml =
        """
        identity:
          oidc:
            - name: sso
              issuer: http://sso.example.com
              audiences: [gatehouse]
        """;
    Problem p = only(yaml);

    assertThat(p.line()).isEqualTo(4);
    assertThat(p.message()).isEqualTo("\"http://sso.example.com\" uses plain http");
  }

  @Test
  void oidcIssuerWithoutAudienceIsRejected() {
    Problem p = only("identity:\n  oidc:\n    - {name: sso, issuer: \"https://sso.example\"}\n");

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.path()).isEqualTo("identity.oidc[0].audiences");
  }

  @Test
  void symmetricAndNoneAlgorithmsAreRejected() {
    String yaml =
        """
        identity:
          oidc:
            - name: sso
              issuer: https://sso.example.com
              audiences: [gatehouse]
              algorithms:
                - RS256
                - HS256
                - none
        """;
    ConfigException e = failure(yaml, dir, Map.of());

    assertThat(e.problems())
        .extracting(Problem::line, Problem::path)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(8, "identity.oidc[0].algorithms[1]"),
            org.assertj.core.groups.Tuple.tuple(9, "identity.oidc[0].algorithms[2]"));
  }

  @Test
  void sshConnectionWithoutHostKeysIsAnErrorWithTheFileAndTheKeyscanCommand() {
    // As `gatehouse config check` prints it: file, line, path, the connection's name, the fix.
    ConfigException e =
        failure(
            "connections:\n  - name: web-1\n    type: ssh\n    host: web-1.internal\n"
                + "    username: ops\n",
            dir,
            Map.of());

    assertThat(e.problems()).hasSize(1);
    assertThat(e.getMessage())
        .isEqualTo(
            "gatehouse.yaml:2: connections[0].ssh.host_keys: ssh connection \"web-1\" pins no host"
                + " keys; the gateway never trusts a target's key on first use, so every session"
                + " and every run on it would be refused (pin the target's key in ssh.host_keys:"
                + " run `ssh-keyscan -t ed25519 web-1.internal` (from a network you trust) and add"
                + " the key part, \"ssh-ed25519 AAAA...\", without the host name)");
  }

  @Test
  void sshSectionWithoutHostKeysIsReportedAtTheSection() {
    Problem p =
        only(
            "connections:\n  - name: box\n    type: ssh\n    host: h\n    username: u\n"
                + "    ssh:\n      private_key: ${env:KEY}\n",
            Map.of("KEY", "-----BEGIN OPENSSH PRIVATE KEY-----"));

    assertThat(p.line()).isEqualTo(7);
    assertThat(p.path()).isEqualTo("connections[0].ssh.host_keys");
    assertThat(p.message()).startsWith("ssh connection \"box\" pins no host keys");
    assertThat(p.fix()).contains("ssh-keyscan -t ed25519 h`");
  }

  @Test
  void emptyHostKeysListIsReportedAtTheList() {
    Problem p =
        only(
            "connections:\n  - name: box\n    type: ssh\n    host: h\n    username: u\n"
                + "    ssh:\n      host_keys: []\n");

    assertThat(p.line()).isEqualTo(7);
    assertThat(p.path()).isEqualTo("connections[0].ssh.host_keys");
    assertThat(p.message()).startsWith("ssh connection \"box\" pins no host keys");
  }

  @Test
  void pinnedSshConnectionIsValid() throws Exception {
    GatehouseConfig c =
        ConfigTesting.parse(
            "connections:\n  - name: box\n    type: ssh\n    host: h\n    username: u\n" + PINNED,
            dir,
            Map.of());

    assertThat(c.connection("box").ssh().hostKeys()).hasSize(1);
  }

  @Test
  void databaseOnAnSshConnectionIsRejected() {
    Problem p =
        only(
            "connections:\n  - name: box\n    type: ssh\n    host: h\n    username: u\n    database: x\n"
                + PINNED);

    assertThat(p.line()).isEqualTo(6);
    assertThat(p.message()).isEqualTo("database applies only to postgres and mysql connections");
  }

  @Test
  void invalidConnectionNameIsRejected() {
    Problem p = only("connections:\n  - name: \"orders db\"\n    type: exec\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.message()).isEqualTo("\"orders db\" is not a valid name");
  }

  @Test
  void entropyThresholdMustBeAtMostEightBits() {
    Problem p = only("masking:\n  entropy_threshold: 9.5\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.message()).isEqualTo("\"9.5\" is out of range");
  }

  @Test
  void malformedYamlIsMappedToItsLine() {
    String yaml =
        """
        server:
          data_dir: ./data
          api:
            port: 8443
           host: 0.0.0.0
        """;
    Problem p = only(yaml);

    assertThat(p.line()).isEqualTo(5);
    assertThat(p.path()).isEmpty();
    assertThat(p.message()).startsWith("invalid YAML: ");
    assertThat(p.fix()).isNotBlank();
  }

  @Test
  void tabIndentationGetsAHint() {
    Problem p = only("server:\n\tdata_dir: x\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.fix()).isEqualTo("indent with spaces; YAML does not allow tabs");
  }

  @Test
  void secondDocumentIsRejected() {
    Problem p = only("server: {}\n---\nlogging: {}\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.fix()).contains("one document");
  }

  @Test
  void emptyFileIsRejected() {
    ConfigException empty = failure("", dir, Map.of());
    ConfigException commentsOnly = failure("# nothing here\n\n", dir, Map.of());

    assertThat(empty.getMessage()).startsWith("gatehouse.yaml:1: file is empty (");
    assertThat(commentsOnly.getMessage()).startsWith("gatehouse.yaml:1: file is empty (");
  }

  @Test
  void topLevelListIsRejected() {
    Problem p = only("- server\n- store\n");

    assertThat(p.line()).isEqualTo(1);
    assertThat(p.message()).isEqualTo("expected a mapping, found a list");
  }

  @Test
  void mergeKeysAreRejectedWithAnAlternative() {
    Problem p = only("server:\n  <<: {data_dir: x}\n");

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.message()).isEqualTo("YAML merge keys are not supported");
  }

  @Test
  void recursiveAliasInOptionsIsAnErrorNotAStackOverflow() {
    ConfigException e =
        failure(
            "connections:\n  - name: run\n    type: exec\n    options: &o\n      self: *o\n",
            dir,
            Map.of());

    assertThat(e.problems())
        .singleElement()
        .satisfies(
            p -> {
              // An alias is the anchored node itself, so the problem is reported at the anchor.
              assertThat(p.line()).isEqualTo(4);
              assertThat(p.message()).isEqualTo("nested more than 16 levels deep");
            });
  }

  @Test
  void allProblemsAreReportedTogetherInLineOrder() {
    String yaml =
        """
        logging:
          level: loud
        server:
          dta_dir: x
          api:
            port: http
        identity:
          human_token_ttl: forever
        """;
    ConfigException e = failure(yaml, dir, Map.of());

    assertThat(e.problems()).extracting(Problem::line).containsExactly(2, 4, 6, 8);
    assertThat(e.getMessage().lines())
        .hasSize(4)
        .allSatisfy(line -> assertThat(line).startsWith("gatehouse.yaml:"));
  }
}
