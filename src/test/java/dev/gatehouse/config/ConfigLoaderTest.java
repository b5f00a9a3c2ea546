package dev.gatehouse.config;

import static dev.gatehouse.config.ConfigTesting.parse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.config.GatehouseConfig.OidcIssuerConfig;
import dev.gatehouse.config.GatehouseConfig.TokenExchangeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  static final Map<String, String> EXAMPLE_ENV =
      Map.of(
          "GATEHOUSE_DB_HOST", "db.internal",
          "GATEHOUSE_DB_PASSWORD", "store-pw",
          "ORDERS_DB_HOST", "orders.internal",
          "ORDERS_DB_PASSWORD", "orders-pw",
          "BASTION_PASSWORD", "bastion-pw",
          "SIEM_AUTHORIZATION", "Bearer siem-token",
          "SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T000/B000/XXXX",
          "GATEHOUSE_MASKING_KEY", "masking-key");

  /** The files examples/gatehouse.yaml refers to, as a deployment would have them. */
  private void writeExampleFiles() throws Exception {
    for (String d : List.of("secrets", "tls", "policies", "masking")) {
      Files.createDirectories(dir.resolve(d));
    }
    Files.writeString(dir.resolve("secrets/master.key"), "master-key-value\n");
    Files.writeString(dir.resolve("secrets/analytics.password"), "analytics-pw\n");
    Files.writeString(dir.resolve("tls/gateway.crt"), "-----BEGIN CERTIFICATE-----\n");
    Files.writeString(dir.resolve("tls/gateway.key"), "-----BEGIN PRIVATE KEY-----\n");
    Files.writeString(dir.resolve("tls/orders-ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    Files.writeString(dir.resolve("policies/base.yaml"), "rules: []\n");
    Files.writeString(dir.resolve("masking/custom.toml"), "[[rules]]\n");
  }

  @Test
  void exampleFileLoadsWithEverySectionBound() throws Exception {
    writeExampleFiles();
    String example = Files.readString(Path.of("examples/gatehouse.yaml"));

    GatehouseConfig c = parse(example, dir, EXAMPLE_ENV);

    assertThat(c.source()).isEqualTo(dir.resolve("gatehouse.yaml"));
    assertThat(c.server().dataDir()).isEqualTo(dir.resolve("data"));
    assertThat(c.server().masterKey().reveal()).isEqualTo("master-key-value");
    assertThat(c.server().tls().certFile()).isEqualTo(dir.resolve("tls/gateway.crt"));
    assertThat(c.server().tls().keyFile()).isEqualTo(dir.resolve("tls/gateway.key"));
    assertThat(c.server().api())
        .isEqualTo(new GatehouseConfig.ListenerConfig(true, "0.0.0.0", 8443, false));
    assertThat(c.server().postgres().port()).isEqualTo(15432);
    assertThat(c.server().ssh().port()).isEqualTo(2222);

    assertThat(c.store().embedded()).isFalse();
    assertThat(c.store().url()).isEqualTo("jdbc:postgresql://db.internal:5432/gatehouse");
    assertThat(c.store().username()).isEqualTo("gatehouse");
    assertThat(c.store().password().reveal()).isEqualTo("store-pw");
    assertThat(c.store().poolSize()).isEqualTo(16);

    assertThat(c.identity().agentTokenTtl()).isEqualTo(Duration.ofMinutes(10));
    assertThat(c.identity().users())
        .extracting(u -> u.subject() + "/" + u.kind() + "/" + u.role())
        .containsExactly("admin@example.com/human/admin", "deploy-bot/service/user");
    OidcIssuerConfig sso = c.identity().oidc().get(0);
    assertThat(sso.name()).isEqualTo("corp-sso");
    assertThat(sso.subjectClaim()).isEqualTo("email");
    assertThat(sso.adminGroups()).containsExactly("gatehouse-admins");
    OidcIssuerConfig gha = c.identity().oidc().get(1);
    assertThat(gha.jwksUri())
        .isEqualTo("https://token.actions.githubusercontent.com/.well-known/jwks");
    assertThat(gha.kind()).isEqualTo("service");
    TokenExchangeConfig tx = c.identity().tokenExchange().get(0);
    assertThat(tx.issuer()).isEqualTo("github-actions");
    assertThat(tx.match())
        .containsEntry("repository", "example/*")
        .containsEntry("ref", "refs/heads/main");
    assertThat(tx.subject()).isEqualTo("ci:{repository}");
    assertThat(tx.ttl()).isEqualTo(Duration.ofMinutes(10));
    assertThat(tx.scope()).containsExactly("orders-db");

    assertThat(c.connections())
        .extracting(ConnectionConfig::name)
        .containsExactly("orders-db", "analytics", "bastion", "runner");
    ConnectionConfig orders = c.connection("orders-db");
    assertThat(orders.host()).isEqualTo("orders.internal");
    assertThat(orders.password().reveal()).isEqualTo("orders-pw");
    assertThat(orders.tls().mode()).isEqualTo("verify-full");
    assertThat(orders.tls().ca()).isEqualTo(dir.resolve("tls/orders-ca.pem"));
    assertThat(orders.labels()).containsEntry("team", "payments");
    assertThat(orders.options()).containsEntry("application_name", "gatehouse");
    assertThat(c.connection("analytics").password().reveal()).isEqualTo("analytics-pw");
    assertThat(c.connection("bastion").port()).isEqualTo(22);
    // the runner's ssh connection pins its host key: without one every run would be refused
    assertThat(c.connection("bastion").ssh().hostKeys()).hasSize(1);
    assertThat(c.connection("runner").host()).isNull();

    assertThat(c.policy().files()).containsExactly(dir + "/policies/*.yaml");
    assertThat(c.policy().matchingFiles()).containsExactly(dir.resolve("policies/base.yaml"));
    assertThat(c.audit().sinks()).extracting(s -> s.type()).containsExactly("file", "webhook");
    assertThat(c.audit().sinks().get(0).path()).isEqualTo(dir.resolve("data/audit.jsonl"));
    assertThat(c.audit().sinks().get(1).authorization().reveal()).isEqualTo("Bearer siem-token");
    assertThat(c.approvals().publicUrl()).isEqualTo("https://gatehouse.example.com");
    assertThat(c.approvals().webhooks().get(0).url()).startsWith("https://hooks.slack.com/");
    assertThat(c.masking().hmacKey().origin()).isEqualTo("env:GATEHOUSE_MASKING_KEY");
    assertThat(c.masking().entropyThreshold()).isEqualTo(4.5);
    assertThat(c.masking().ruleFiles()).containsExactly(dir.resolve("masking/custom.toml"));
    assertThat(c.logging()).isEqualTo(new GatehouseConfig.LoggingConfig("json", "info"));
  }

  @Test
  void defaultsAreTheDocumentedValues() {
    GatehouseConfig c = ConfigLoader.defaults(dir.resolve("state"));

    assertThat(c.source()).isNull();
    assertThat(c.server().dataDir()).isEqualTo(dir.resolve("state"));
    assertThat(c.server().masterKey()).isNull();
    assertThat(c.server().tls()).isEqualTo(new GatehouseConfig.TlsConfig(null, null));
    assertThat(c.server().api())
        .isEqualTo(new GatehouseConfig.ListenerConfig(true, "127.0.0.1", 8443, false));
    assertThat(c.server().postgres())
        .isEqualTo(new GatehouseConfig.ListenerConfig(true, "127.0.0.1", 15432, false));
    assertThat(c.server().ssh())
        .isEqualTo(
            new GatehouseConfig.ListenerConfig(
                true, "127.0.0.1", 2222, false, Duration.ofMillis(200)));
    assertThat(c.store())
        .isEqualTo(new GatehouseConfig.StoreConfig("embedded", null, null, null, 8));
    assertThat(c.identity().humanTokenTtl()).isEqualTo(Duration.ofHours(12));
    assertThat(c.identity().serviceTokenTtl()).isEqualTo(Duration.ofMinutes(15));
    assertThat(c.identity().agentTokenTtl()).isEqualTo(Duration.ofMinutes(15));
    assertThat(c.identity().users()).isEmpty();
    assertThat(c.identity().oidc()).isEmpty();
    assertThat(c.identity().tokenExchange()).isEmpty();
    assertThat(c.connections()).isEmpty();
    assertThat(c.policy().files()).isEmpty();
    assertThat(c.policy().watch()).isTrue();
    assertThat(c.audit().checkpointInterval()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.audit().sinks()).isEmpty();
    assertThat(c.approvals().maxWait()).isEqualTo(Duration.ofMinutes(15));
    assertThat(c.approvals().defaultExpiry()).isEqualTo(Duration.ofHours(1));
    assertThat(c.approvals().publicUrl()).isNull();
    assertThat(c.masking().files()).isEmpty();
    assertThat(c.masking().hmacKey()).isNull();
    assertThat(c.masking().entropyThreshold()).isEqualTo(3.5);
    assertThat(c.logging()).isEqualTo(new GatehouseConfig.LoggingConfig("text", "info"));
  }

  @Test
  void minimalFileGetsTheSameDefaultsAsNoFile() throws Exception {
    GatehouseConfig parsed = parse("logging:\n  level: info\n", dir, Map.of());
    GatehouseConfig defaults = ConfigLoader.defaults(dir.resolve("data"));

    assertThat(parsed.server()).isEqualTo(defaults.server());
    assertThat(parsed.store()).isEqualTo(defaults.store());
    assertThat(parsed.identity()).isEqualTo(defaults.identity());
    assertThat(parsed.policy()).isEqualTo(defaults.policy());
    assertThat(parsed.audit()).isEqualTo(defaults.audit());
    assertThat(parsed.approvals()).isEqualTo(defaults.approvals());
    assertThat(parsed.masking()).isEqualTo(defaults.masking());
    assertThat(parsed.logging()).isEqualTo(defaults.logging());
  }

  @Test
  void loadResolvesRelativePathsAgainstTheFilesDirectory() throws Exception {
    Path conf = Files.createDirectories(dir.resolve("etc"));
    Path file = conf.resolve("gatehouse.yaml");
    Files.writeString(file, "server:\n  data_dir: ../var/gatehouse\n");

    GatehouseConfig c = ConfigLoader.load(file);

    assertThat(c.source()).isEqualTo(file.toAbsolutePath());
    assertThat(c.server().dataDir()).isEqualTo(dir.resolve("var/gatehouse"));
  }

  @Test
  void loadNamesTheFileAsGivenInProblems() throws Exception {
    Path file = dir.resolve("gatehouse.yaml");
    Files.writeString(file, "# comment\nserver:\n  api:\n    port: https\n");

    try {
      ConfigLoader.load(file);
      throw new AssertionError("expected ConfigException");
    } catch (ConfigException e) {
      assertThat(e.getMessage())
          .isEqualTo(
              file
                  + ":4: server.api.port: \"https\" is not a number"
                  + " (expected an integer 0-65535, 0 picks a free port)");
    }
  }

  @Test
  void loadReportsAMissingFileWithoutALine() {
    Path missing = dir.resolve("nope.yaml");
    try {
      ConfigLoader.load(missing);
      throw new AssertionError("expected ConfigException");
    } catch (ConfigException e) {
      assertThat(e.getMessage()).startsWith(missing + ": file not found");
      assertThat(e.problems().get(0).line()).isZero();
    }
  }

  @Test
  void connectionDefaultsDependOnType() throws Exception {
    String yaml =
        """
        connections:
          - {name: pg, type: postgres, host: db, username: u}
          - {name: my, type: mysql, host: db, username: u}
          - {name: box, type: ssh, host: box, username: u, ssh: {host_keys: ["ssh-ed25519 AAAAC3Nz"]}}
          - {name: run, type: exec}
        """;
    GatehouseConfig c = parse(yaml, dir, Map.of());

    assertThat(c.connections())
        .extracting(ConnectionConfig::port)
        .containsExactly(5432, 3306, 22, 0);
    assertThat(c.connection("pg").tls())
        .isEqualTo(new GatehouseConfig.UpstreamTlsConfig("prefer", null));
    assertThat(c.connection("my").tls().mode()).isEqualTo("prefer");
    assertThat(c.connection("box").tls()).isNull();
    assertThat(c.connection("pg").labels()).isEmpty();
    assertThat(c.connection("pg").options()).isEmpty();
    assertThat(c.connection("pg").password()).isNull();
    assertThat(c.connection("box").ssh().pagerGuard()).isEqualTo("always");
  }

  @Test
  void sshPagerGuardIsAlwaysTtyOrOff() throws Exception {
    String yaml =
        """
        connections:
          - {name: git, type: ssh, host: g, username: git,
             ssh: {host_keys: ["ssh-ed25519 AAAAC3Nz"], pager_guard: off}}
          - {name: box, type: ssh, host: b, username: u,
             ssh: {host_keys: ["ssh-ed25519 AAAAC3Nz"], pager_guard: tty}}
        """;
    GatehouseConfig c = parse(yaml, dir, Map.of());

    // `off` is a string here, not YAML 1.1's boolean
    assertThat(c.connection("git").ssh().pagerGuard()).isEqualTo("off");
    assertThat(c.connection("git").ssh().guards(true)).isFalse();
    assertThat(c.connection("box").ssh().guards(true)).isTrue();
    assertThat(c.connection("box").ssh().guards(false)).isFalse();
  }

  @Test
  void optionsKeepPlainJavaTypes() throws Exception {
    String yaml =
        """
        connections:
          - name: pg
            type: postgres
            host: db
            username: u
            options:
              application_name: gatehouse
              fetch_size: 500
              big: 10000000000
              ratio: 0.5
              keepalive: true
              quoted: "42"
              hosts: [a, b]
              nested: {x: 1}
        """;
    Map<String, Object> o = parse(yaml, dir, Map.of()).connection("pg").options();

    assertThat(o)
        .containsEntry("application_name", "gatehouse")
        .containsEntry("fetch_size", 500)
        .containsEntry("big", 10_000_000_000L)
        .containsEntry("ratio", 0.5)
        .containsEntry("keepalive", true)
        .containsEntry("quoted", "42")
        .containsEntry("hosts", List.of("a", "b"))
        .containsEntry("nested", Map.of("x", 1));
  }

  @Test
  void oidcIssuerDefaultsAndClientIdAsAudience() throws Exception {
    String yaml =
        """
        identity:
          oidc:
            - name: sso
              issuer: https://sso.example.com
              client_id: gatehouse-web
        """;
    OidcIssuerConfig o = parse(yaml, dir, Map.of()).identity().oidc().get(0);

    assertThat(o.audiences()).containsExactly("gatehouse-web");
    assertThat(o.algorithms()).containsExactly("RS256", "ES256");
    assertThat(o.clockSkew()).isEqualTo(Duration.ofSeconds(60));
    assertThat(o.subjectClaim()).isEqualTo("sub");
    assertThat(o.groupsClaim()).isEqualTo("groups");
    assertThat(o.kind()).isEqualTo("human");
    assertThat(o.jwksUri()).isNull();
  }

  @Test
  void tokenExchangeTtlDefaultsToTheTtlOfItsKind() throws Exception {
    String yaml =
        """
        identity:
          agent_token_ttl: 5m
          oidc:
            - {name: ci, issuer: "http://localhost:8080/default", audiences: [gh]}
          token_exchange:
            - {name: bots, issuer: ci, kind: agent}
            - {name: jobs, issuer: ci}
        """;
    List<TokenExchangeConfig> tx = parse(yaml, dir, Map.of()).identity().tokenExchange();

    assertThat(tx.get(0).ttl()).isEqualTo(Duration.ofMinutes(5));
    assertThat(tx.get(1).kind()).isEqualTo("service");
    assertThat(tx.get(1).ttl()).isEqualTo(Duration.ofMinutes(15));
    assertThat(tx.get(1).subject()).isEqualTo("{sub}");
  }

  @Test
  void envReferencesExpandInPlainFieldsAndDoubleDollarEscapes() throws Exception {
    String yaml =
        """
        server:
          api:
            host: ${env:BIND}
            port: ${env:API_PORT}
        connections:
          - name: pg
            type: postgres
            host: db-${env:REGION}.internal
            username: u
            labels: {note: "costs $${env:X} literally"}
        """;
    GatehouseConfig c =
        parse(yaml, dir, Map.of("BIND", "0.0.0.0", "API_PORT", "9443", "REGION", "eu1"));

    assertThat(c.server().api().host()).isEqualTo("0.0.0.0");
    assertThat(c.server().api().port()).isEqualTo(9443);
    assertThat(c.connection("pg").host()).isEqualTo("db-eu1.internal");
    assertThat(c.connection("pg").labels()).containsEntry("note", "costs ${env:X} literally");
  }

  @Test
  void listenerPortZeroMeansPickAFreePort() throws Exception {
    GatehouseConfig c = parse("server:\n  api:\n    port: 0\n", dir, Map.of());

    assertThat(c.server().api().port()).isZero();
  }

  @Test
  void emptySectionMeansDefaults() throws Exception {
    GatehouseConfig c = parse("server:\nstore:\n", dir, Map.of());

    assertThat(c.server().api().port()).isEqualTo(8443);
    assertThat(c.store().type()).isEqualTo("embedded");
  }

  @Test
  void policyGlobsMatchAcrossDirectoriesWithDoubleStar() throws Exception {
    Files.createDirectories(dir.resolve("rules/team-a"));
    Files.writeString(dir.resolve("rules/team-a/db.yaml"), "");
    Files.writeString(dir.resolve("rules/base.yaml"), "");

    GatehouseConfig c =
        parse("policy:\n  files: [\"rules/**.yaml\"]\n  watch: false\n", dir, Map.of());

    assertThat(c.policy().watch()).isFalse();
    assertThat(c.policy().matchingFiles())
        .containsExactly(dir.resolve("rules/base.yaml"), dir.resolve("rules/team-a/db.yaml"));
  }
}
