package dev.gatehouse.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.server.GatehouseServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * A whole gateway (embedded store, demo policy, one PostgreSQL connection, one OIDC issuer backed
 * by an in-process {@link MockOAuth2Server}, one token-exchange mapping for CI jobs) for API tests.
 * Records every body a client saw so tests can assert that secrets never leak.
 */
public final class GatewayFixture implements AutoCloseable {
  static final String APP_PASSWORD = "app-Secret-7d1e04b9c";
  static final ObjectMapper JSON = new ObjectMapper();

  final Path dir;
  final EmbeddedPostgres target;
  final MockOAuth2Server idp;
  final GatehouseServer server;
  final HttpClient http;
  final List<String> everythingClientsSaw = Collections.synchronizedList(new ArrayList<>());

  GatewayFixture(Path dir) throws Exception {
    this.dir = dir;
    target =
        EmbeddedPostgres.builder().setServerConfig("password_encryption", "scram-sha-256").start();
    try (Connection c = target.getPostgresDatabase().getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE ROLE app LOGIN PASSWORD '" + APP_PASSWORD + "'");
      st.execute("CREATE DATABASE payments OWNER app");
    }
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + target.getPort() + "/payments",
                "app",
                APP_PASSWORD);
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE payments (id int PRIMARY KEY, amount numeric, note text)");
      st.execute("INSERT INTO payments VALUES (1, 10.00, 'first'), (2, 20.00, 'second')");
    }
    idp = new MockOAuth2Server();
    idp.start();
    Path policies = Files.createDirectories(dir.resolve("policies"));
    try (var in = GatewayFixture.class.getResourceAsStream("/examples/policies/demo.yaml")) {
      Files.copy(in, policies.resolve("demo.yaml"));
    }
    String yaml =
        """
        server:
          data_dir: data
          api: { host: 127.0.0.1, port: 0 }
          postgres: { host: 127.0.0.1, port: 0 }
          ssh: { enabled: false }
        identity:
          users:
            - { subject: alice, kind: human, groups: [engineering], role: user }
            - { subject: dana, kind: human, groups: [dba], role: admin }
            - { subject: audrey, kind: human, groups: [auditors], role: auditor }
          oidc:
            - name: corp
              issuer: %s
              client_id: gatehouse
              groups_claim: groups
              kind: human
          token_exchange:
            - name: ci-main
              issuer: corp
              match:
                repository: org/*
                ref: refs/heads/main
              subject: "ci:{repository}"
              groups: [ci]
              kind: service
              scope: [payments-db]
        connections:
          - name: payments-db
            type: postgres
            host: 127.0.0.1
            port: %d
            database: payments
            username: app
            password: ${env:PAYMENTS_PASSWORD}
            # demo.yaml's upstream_role: the same login here (the test is about the gateway)
            roles:
              - { name: writer, username: app, password: "${env:PAYMENTS_PASSWORD}" }
              - { name: reader, username: app, password: "${env:PAYMENTS_PASSWORD}" }
            tls: { mode: disable }
        policy:
          files: [policies/*.yaml]
        """
            .formatted(issuerUrl(), target.getPort());
    GatehouseConfig cfg =
        ConfigLoader.parse(yaml, "api-test.yaml", dir, Map.of("PAYMENTS_PASSWORD", APP_PASSWORD));
    server = GatehouseServer.start(cfg);
    http = trustingClient(server.tls().certificateFile());
  }

  String issuerUrl() {
    return idp.issuerUrl("corp").toString();
  }

  /** A JWT signed by the mock issuer, audience {@code gatehouse}. */
  String idpToken(String issuerId, String subject, Map<String, Object> claims) {
    return idp.issueToken(issuerId, subject, "gatehouse", claims).serialize();
  }

  String tokenFor(String user) {
    return server.tokens().issueForUser(user, null, Set.of(), "test").secret();
  }

  @Override
  public void close() throws IOException {
    if (server != null) {
      server.close();
    }
    if (idp != null) {
      idp.shutdown();
    }
    if (target != null) {
      target.close();
    }
  }

  record Resp(int status, String contentType, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    void assertProblem(int expected) {
      assertThat(status).as(body).isEqualTo(expected);
      assertThat(contentType).isEqualTo("application/problem+json");
      assertThat(json().path("status").asInt()).isEqualTo(expected);
    }
  }

  Resp send(HttpRequest.Builder b) throws Exception {
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    everythingClientsSaw.add(r.body());
    return new Resp(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
  }

  HttpRequest.Builder request(String path, String bearer) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.apiUrl() + path));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return b;
  }

  Resp get(String path, String bearer) throws Exception {
    return send(request(path, bearer).GET());
  }

  Resp post(String path, String bearer, String json) throws Exception {
    return send(
        request(path, bearer)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  Resp delete(String path, String bearer) throws Exception {
    return send(request(path, bearer).DELETE());
  }

  Resp postForm(String path, Map<String, String> form) throws Exception {
    String body =
        form.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    return send(
        request(path, null)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  /** A pgjdbc connection through the gateway with TLS required. */
  Connection pg(String user, String password) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("sslmode", "require");
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + server.postgresPort() + "/payments-db", props);
  }

  record Run(int exit, String out, String err) {}

  Run run(Map<String, String> env, List<String> cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("process finished: %s", cmd).isTrue();
    Run r = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    everythingClientsSaw.add(r.out());
    everythingClientsSaw.add(r.err());
    return r;
  }

  /** An HTTP client that trusts the gateway's own certificate {@code cert}. */
  public static HttpClient trustingClient(Path cert) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (var in = Files.newInputStream(cert)) {
      ks.setCertificateEntry("gh", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ctx).build();
  }
}
