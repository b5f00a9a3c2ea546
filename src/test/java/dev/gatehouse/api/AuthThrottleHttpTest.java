package dev.gatehouse.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.audit.AuditExporter;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.server.GatehouseServer;
import dev.gatehouse.testing.MovingClock;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bearer-token failures slow down the API: a whole gateway configured with {@code server.auth} (3
 * failures per address, 30 s back-off) on a clock the test moves, driven by the JDK's client.
 */
class AuthThrottleHttpTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String WRONG = "ght_" + "a".repeat(20) + "_" + "b".repeat(43);

  @TempDir Path dir;
  MovingClock clock;
  GatehouseServer server;
  final HttpClient http = HttpClient.newHttpClient();

  void start(String auth) throws Exception {
    String yaml =
        """
        server:
          data_dir: data
          api: { host: 127.0.0.1, port: 0, plaintext: true }
          postgres: { enabled: false }
          ssh: { enabled: false }
          auth: %s
        identity:
          users:
            - { subject: alice, kind: human, groups: [eng], role: user }
          oidc:
            - { name: corp, issuer: "https://login.example.invalid/realms/corp", client_id: gh }
        """
            .formatted(auth);
    clock = MovingClock.now();
    server =
        GatehouseServer.start(ConfigLoader.parse(yaml, "auth-test.yaml", dir, Map.of()), clock);
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  HttpResponse<String> whoami(String token) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(server.apiUrl() + "/api/v1/whoami"))
            .header("Authorization", "Bearer " + token)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void wrongTokensGet429WithRetryAfterEvenForTheRightTokenUntilTheBackOffEnds() throws Exception {
    start("{ address_failures: 3, backoff: 30s }");
    String alice = server.tokens().issueForUser("alice", null, Set.of(), "test").secret();

    for (int i = 0; i < 3; i++) {
      assertThat(whoami(WRONG).statusCode()).isEqualTo(401);
    }
    HttpResponse<String> throttled = whoami(alice);

    assertThat(throttled.statusCode()).isEqualTo(429);
    assertThat(throttled.headers().firstValue("Retry-After")).hasValue("30");
    assertThat(throttled.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    JsonNode problem = JSON.readTree(throttled.body());
    assertThat(problem.path("status").asInt()).isEqualTo(429);
    assertThat(problem.path("title").asText()).isEqualTo("Too Many Requests");
    assertThat(problem.path("type").asText()).endsWith("/too-many-requests");
    assertThat(problem.path("detail").asText())
        .isEqualTo("too many failed authentication attempts from this address; try again in 30 s");
    assertThat(throttled.body()).doesNotContain(alice);

    clock.advance(Duration.ofSeconds(10));
    assertThat(whoami(alice).headers().firstValue("Retry-After")).hasValue("20");
    clock.advance(Duration.ofSeconds(20));
    HttpResponse<String> allowed = whoami(alice);
    assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
    assertThat(JSON.readTree(allowed.body()).path("subject").asText()).isEqualTo("alice");

    server.awaitRecorded();
    StringWriter w = new StringWriter();
    new AuditExporter(server.database()).export(w, null, 0);
    assertThat(w.toString().split("\"auth.throttled\"", -1)).hasSize(2); // one period, one record
    assertThat(w.toString()).contains("\"protocol\":\"api\"");
  }

  HttpResponse<String> login(String idToken) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(server.apiUrl() + "/api/v1/login"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"id_token\":\"" + idToken + "\"}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void failedOidcLoginsCountLikeBearerTokens() throws Exception {
    start("{ address_failures: 3 }");
    String alice = server.tokens().issueForUser("alice", null, Set.of(), "test").secret();

    assertThat(whoami(WRONG).statusCode()).isEqualTo(401);
    assertThat(login("not.a.jwt").statusCode()).isEqualTo(401);
    assertThat(login("not.a.jwt").statusCode()).isEqualTo(401);

    HttpResponse<String> throttled = login("not.a.jwt");
    assertThat(throttled.statusCode()).isEqualTo(429);
    assertThat(throttled.headers().firstValue("Retry-After")).hasValue("60");
    assertThat(whoami(alice).statusCode()).isEqualTo(429);
  }

  @Test
  void aSuccessDoesNotResetTheAddressCount() throws Exception {
    start("{ address_failures: 3 }");
    String alice = server.tokens().issueForUser("alice", null, Set.of(), "test").secret();

    // Two guesses, one good request, one more guess: the third failure in the window.
    assertThat(whoami(WRONG).statusCode()).isEqualTo(401);
    assertThat(whoami(WRONG).statusCode()).isEqualTo(401);
    assertThat(whoami(alice).statusCode()).isEqualTo(200);
    assertThat(whoami(WRONG).statusCode()).isEqualTo(401);

    assertThat(whoami(alice).statusCode()).isEqualTo(429);
  }

  @Test
  void throttlingCanBeTurnedOff() throws Exception {
    start("{ enabled: false, address_failures: 1 }");
    String alice = server.tokens().issueForUser("alice", null, Set.of(), "test").secret();

    for (int i = 0; i < 5; i++) {
      assertThat(whoami(WRONG).statusCode()).isEqualTo(401);
    }

    assertThat(whoami(alice).statusCode()).isEqualTo(200);
  }
}
