package dev.gatehouse.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.api.GatewayFixture.Resp;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** The REST API over real HTTPS, in front of a real PostgreSQL and a real OIDC provider. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayApiHttpTest {
  static final String EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
  static final String JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";

  @TempDir static Path dir;
  static GatewayFixture gw;
  static String alice;
  static String dana;
  static String audrey;

  @BeforeAll
  static void start() throws Exception {
    gw = new GatewayFixture(dir);
    alice = gw.tokenFor("alice");
    dana = gw.tokenFor("dana");
    audrey = gw.tokenFor("audrey");
  }

  @AfterAll
  static void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  static Map<String, String> exchangeForm(String subjectToken) {
    return Map.of(
        "grant_type",
        EXCHANGE_GRANT,
        "subject_token_type",
        JWT_TYPE,
        "subject_token",
        subjectToken);
  }

  static String ciJwt(String ref) {
    return gw.idpToken(
        "corp", "repo:org/repo:ref:" + ref, Map.of("repository", "org/repo", "ref", ref));
  }

  @Test
  @Order(1)
  void healthReadinessMetricsAndOpenApiArePublic() throws Exception {
    Resp health = gw.get("/healthz", null);
    assertThat(health.status()).isEqualTo(200);
    assertThat(gw.get("/readyz", null).status()).isEqualTo(200);
    Resp metrics = gw.get("/metrics", null);
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.body()).contains("gatehouse_sessions_live");
    Resp openapi = gw.get("/api/v1/openapi.json", null);
    assertThat(openapi.status()).isEqualTo(200);
    JsonNode doc = openapi.json();
    assertThat(doc.path("openapi").asText()).isEqualTo("3.1.0");
    assertThat(doc.path("paths").has("/api/v1/tokens/exchange")).isTrue();
  }

  @Test
  @Order(2)
  void ciTokenExchangeYieldsAShortLivedServiceTokenForApiAndPostgres() throws Exception {
    Resp r = gw.postForm("/api/v1/tokens/exchange", exchangeForm(ciJwt("refs/heads/main")));
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonNode b = r.json();
    String token = b.path("access_token").asText();
    assertThat(token).startsWith("ght_");
    assertThat(b.path("token_type").asText()).isEqualTo("Bearer");
    assertThat(b.path("issued_token_type").asText())
        .isEqualTo("urn:ietf:params:oauth:token-type:access_token");
    assertThat(b.path("expires_in").asLong()).isPositive().isLessThanOrEqualTo(900);

    JsonNode me = gw.get("/api/v1/whoami", token).json();
    assertThat(me.path("subject").asText()).isEqualTo("ci:org/repo");
    assertThat(me.path("kind").asText()).isEqualTo("service");
    assertThat(me.path("groups").size()).isEqualTo(1);
    assertThat(me.path("groups").get(0).asText()).isEqualTo("ci");

    try (Connection c = gw.pg("ci:org/repo", token);
        Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM payments")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(2);
      }
      try (ResultSet rs = st.executeQuery("SHOW default_transaction_read_only")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("on");
      }
      SQLException e =
          catchThrowableOfType(
              SQLException.class, () -> st.executeUpdate("DELETE FROM payments WHERE id = 1"));
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState()).isEqualTo("42501");
    }
  }

  @Test
  @Order(3)
  void tokenExchangeErrorsAreOAuthErrorObjects() throws Exception {
    Resp wrongRef =
        gw.postForm("/api/v1/tokens/exchange", exchangeForm(ciJwt("refs/heads/feature")));
    assertThat(wrongRef.status()).isEqualTo(400);
    assertThat(wrongRef.json().path("error").asText()).isEqualTo("invalid_grant");

    Resp missing =
        gw.postForm(
            "/api/v1/tokens/exchange",
            Map.of("grant_type", EXCHANGE_GRANT, "subject_token_type", JWT_TYPE));
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.json().path("error").asText()).isEqualTo("invalid_request");

    Map<String, String> wrongGrant =
        new java.util.HashMap<>(exchangeForm(ciJwt("refs/heads/main")));
    wrongGrant.put("grant_type", "client_credentials");
    Resp unsupported = gw.postForm("/api/v1/tokens/exchange", wrongGrant);
    assertThat(unsupported.status()).isEqualTo(400);
    assertThat(unsupported.json().path("error").asText()).isEqualTo("unsupported_grant_type");
  }

  @Test
  @Order(4)
  void loginTradesAnIdTokenForAHumanGatewayToken() throws Exception {
    Resp providers = gw.get("/api/v1/login/providers", null);
    assertThat(providers.status()).isEqualTo(200);
    assertThat(providers.json().size()).isEqualTo(1);
    assertThat(providers.json().get(0).path("issuer").asText()).isEqualTo(gw.issuerUrl());
    assertThat(providers.json().get(0).path("client_id").asText()).isEqualTo("gatehouse");

    String idToken = gw.idpToken("corp", "erin", Map.of("groups", List.of("engineering")));
    Resp login = gw.post("/api/v1/login", null, "{\"id_token\":\"" + idToken + "\"}");
    assertThat(login.status()).as(login.body()).isEqualTo(200);
    String token = login.json().path("token").asText();
    assertThat(token).startsWith("ght_");
    JsonNode me = gw.get("/api/v1/whoami", token).json();
    assertThat(me.path("subject").asText()).isEqualTo("erin");
    assertThat(me.path("kind").asText()).isEqualTo("human");
    assertThat(me.path("groups").get(0).asText()).isEqualTo("engineering");

    String foreign = gw.idpToken("elsewhere", "erin", Map.of("groups", List.of("dba")));
    gw.post("/api/v1/login", null, "{\"id_token\":\"" + foreign + "\"}").assertProblem(401);
  }

  @Test
  @Order(5)
  void rolesGateAdminAndAuditorEndpoints() throws Exception {
    gw.post("/api/v1/api-keys", alice, "{\"name\":\"k1\",\"subject\":\"svc\"}").assertProblem(403);
    gw.post("/api/v1/keys/rotate", alice, "{}").assertProblem(403);
    gw.get("/api/v1/audit/verify", alice).assertProblem(403);

    assertThat(gw.get("/api/v1/audit/verify", audrey).status()).isEqualTo(200);
    assertThat(gw.get("/api/v1/audit/export", audrey).status()).isEqualTo(200);
    gw.post("/api/v1/api-keys", audrey, "{\"name\":\"k2\",\"subject\":\"svc\"}").assertProblem(403);

    Resp key = gw.post("/api/v1/api-keys", dana, "{\"name\":\"k3\",\"subject\":\"svc\"}");
    assertThat(key.status()).as(key.body()).isEqualTo(200);
    assertThat(key.json().path("token").asText()).startsWith("ghk_");
    assertThat(gw.get("/api/v1/audit/verify", dana).status()).isEqualTo(200);
    assertThat(gw.get("/api/v1/audit/export", dana).status()).isEqualTo(200);
    Resp rotate = gw.post("/api/v1/keys/rotate", dana, "{}");
    assertThat(rotate.status()).as(rotate.body()).isEqualTo(200);
  }

  @Test
  @Order(6)
  void usersIssueTokensOnlyForThemselvesAndListingsHoldNoSecrets() throws Exception {
    Resp own = gw.post("/api/v1/tokens", alice, "{}");
    assertThat(own.status()).as(own.body()).isEqualTo(200);
    String secret = own.json().path("token").asText();
    assertThat(secret).startsWith("ght_");
    assertThat(gw.get("/api/v1/whoami", secret).json().path("subject").asText()).isEqualTo("alice");

    gw.post("/api/v1/tokens", alice, "{\"subject\":\"dana\"}").assertProblem(403);

    Resp list = gw.get("/api/v1/tokens", alice);
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.json().size()).isPositive();
    List<String> ids = new ArrayList<>();
    for (JsonNode t : list.json()) {
      assertThat(t.path("subject").asText()).isEqualTo("alice");
      ids.add(t.path("id").asText());
    }
    assertThat(ids).contains(own.json().path("id").asText());
    assertThat(list.body()).doesNotContain(secret, alice).doesNotContainIgnoringCase("hash");
    // Any ght_ value in the listing must be an id, never a secret.
    var m = java.util.regex.Pattern.compile("ght_[A-Za-z0-9_\\-]+").matcher(list.body());
    while (m.find()) {
      assertThat(ids).contains(m.group());
    }
  }

  @Test
  @Order(7)
  void revokingATokenEndsItsLivePostgresSessionAndBlocksNewOnes() throws Exception {
    Resp issued = gw.post("/api/v1/tokens", dana, "{\"subject\":\"alice\"}");
    assertThat(issued.status()).as(issued.body()).isEqualTo(200);
    String id = issued.json().path("id").asText();
    String secret = issued.json().path("token").asText();
    try (Connection c = gw.pg("alice", secret);
        Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT 1")) {
        assertThat(rs.next()).isTrue();
      }
      Resp revoke = gw.delete("/api/v1/tokens/" + id, dana);
      assertThat(revoke.status()).as(revoke.body()).isBetween(200, 204);
      SQLException ended = null;
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (ended == null && System.nanoTime() < deadline) {
        try (ResultSet rs = st.executeQuery("SELECT 1")) {
          rs.next();
          Thread.sleep(100);
        } catch (SQLException e) {
          ended = e;
        }
      }
      assertThat((Throwable) ended).as("the session ended within 5 s of revocation").isNotNull();
      assertThat(c.isClosed() || "57P01".equals(ended.getSQLState()))
          .as("SQLState %s: %s", ended.getSQLState(), ended.getMessage())
          .isTrue();
    }
    SQLException refused = catchThrowableOfType(SQLException.class, () -> gw.pg("alice", secret));
    assertThat((Throwable) refused).isNotNull();
    assertThat(refused.getSQLState()).isEqualTo("28P01");
  }

  @Test
  @Order(8)
  void keyRotationResealsCredentialsThatStillOpen() throws Exception {
    Resp r = gw.post("/api/v1/keys/rotate", dana, "{}");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().path("resealed").asInt()).isGreaterThanOrEqualTo(1);
    try (Connection c = gw.pg("dana", dana);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT note FROM payments WHERE id = 1")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("first");
    }
  }

  @Test
  @Order(9)
  void auditExportStreamsJsonLinesInSeqOrder() throws Exception {
    String since = Instant.now().minus(1, ChronoUnit.HOURS).toString();
    Resp all =
        gw.get(
            "/api/v1/audit/export?since=" + URLEncoder.encode(since, StandardCharsets.UTF_8),
            audrey);
    assertThat(all.status()).isEqualTo(200);
    String[] lines = all.body().split("\n");
    assertThat(lines).hasSizeGreaterThan(1);
    long prev = 0;
    for (String line : lines) {
      JsonNode n = GatewayFixture.JSON.readTree(line);
      assertThat(n.isObject()).as(line).isTrue();
      assertThat(n.path("seq").asLong()).isGreaterThan(prev);
      prev = n.path("seq").asLong();
    }

    String future = Instant.now().plus(1, ChronoUnit.DAYS).toString();
    Resp none =
        gw.get(
            "/api/v1/audit/export?since=" + URLEncoder.encode(future, StandardCharsets.UTF_8),
            audrey);
    assertThat(none.status()).isEqualTo(200);
    assertThat(none.body()).isEmpty();

    gw.get("/api/v1/audit/export?since=yesterday", audrey).assertProblem(400);
  }

  @Test
  @Order(10)
  void policyCheckExplainsEachStatementAndRejectsBadInput() throws Exception {
    Resp r =
        gw.post(
            "/api/v1/policy/check",
            dana,
            """
            {"connection":"payments-db","principal":{"subject":"alice"},
             "action":{"kind":"sql","sql":"SELECT 1; DROP TABLE payments"}}
            """);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().path("effect").asText()).isEqualTo("deny");
    JsonNode ds = r.json().path("decisions");
    assertThat(ds.size()).isEqualTo(2);
    assertThat(ds.get(0).path("effect").asText()).isEqualTo("allow");
    assertThat(ds.get(1).path("effect").asText()).isEqualTo("deny");

    gw.post(
            "/api/v1/policy/check",
            dana,
            "{\"connection\":\"nope-db\",\"action\":{\"kind\":\"connect\"}}")
        .assertProblem(404);
    gw.post("/api/v1/policy/check", dana, "{\"connection\": ").assertProblem(400);
  }

  @Test
  @Order(11)
  void malformedParametersAreBadRequestsNotServerErrors() throws Exception {
    gw.get("/api/v1/audit/export?after=ten", audrey).assertProblem(400);
    gw.get("/api/v1/audit/export?format=csv", audrey).assertProblem(400);
    gw.get("/api/v1/sessions?limit=lots", dana).assertProblem(400);
    gw.post("/api/v1/tokens", alice, "{\"ttl\":\"forever\"}").assertProblem(400);
    gw.post("/api/v1/tokens", dana, "{\"subject\":\"alice\",\"ttl\":\"0s\"}").assertProblem(400);
    gw.post("/api/v1/tokens", dana, "{\"subject\":\"nobody\"}").assertProblem(400);
    gw.post("/api/v1/policy/check", dana, "{\"action\":{\"kind\":\"sql\",\"sql\":\"SELECT 1\"}}")
        .assertProblem(404);
    gw.post(
            "/api/v1/policy/check",
            dana,
            "{\"connection\":\"payments-db\",\"action\":{\"kind\":\"teleport\"}}")
        .assertProblem(400);
  }

  @Test
  @Order(12)
  void usersCannotRevokeOrDryRunForOthers() throws Exception {
    Resp danas = gw.get("/api/v1/tokens", dana);
    String danaTokenId = null;
    for (JsonNode t : danas.json()) {
      if (t.path("subject").asText().equals("dana")) {
        danaTokenId = t.path("id").asText();
      }
    }
    assertThat(danaTokenId).isNotNull();
    gw.delete("/api/v1/tokens/" + danaTokenId, alice).assertProblem(403);
    gw.delete("/api/v1/tokens/nope", alice).assertProblem(404);
    gw.post(
            "/api/v1/policy/check",
            alice,
            "{\"connection\":\"payments-db\",\"principal\":{\"subject\":\"dana\"},"
                + "\"action\":{\"kind\":\"connect\"}}")
        .assertProblem(403);
    gw.post(
            "/api/v1/policy/check",
            alice,
            "{\"connection\":\"payments-db\",\"principal\":{\"subject\":\"alice\","
                + "\"groups\":[\"dba\"]},\"action\":{\"kind\":\"sql\",\"sql\":\"DROP TABLE payments\"}}")
        .assertProblem(403);
    Resp own =
        gw.post(
            "/api/v1/policy/check",
            alice,
            "{\"connection\":\"payments-db\",\"principal\":{\"subject\":\"alice\"},"
                + "\"action\":{\"kind\":\"sql\",\"sql\":\"SELECT 1\"}}");
    assertThat(own.status()).as(own.body()).isEqualTo(200);
    assertThat(own.json().path("effect").asText()).isEqualTo("allow");
    assertThat(own.json().path("decisions").get(0).path("rule").asText())
        .isEqualTo("engineering-read");
  }

  @Test
  @Order(13)
  void aRejectedRequestWithABodyLeavesTheConnectionUsable() throws Exception {
    // The client reuses one keep-alive connection; a 403 sent before the body was read must not
    // leave the next request on it waiting for the server's idle timeout.
    for (int i = 0; i < 20; i++) {
      Resp denied =
          gw.send(
              gw.request("/api/v1/keys/rotate", alice)
                  .timeout(java.time.Duration.ofSeconds(5))
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"pad\":\"" + "x".repeat(i * 97) + "\"}")));
      assertThat(denied.status()).isEqualTo(403);
      Resp next =
          gw.send(gw.request("/healthz", null).timeout(java.time.Duration.ofSeconds(5)).GET());
      assertThat(next.status()).isEqualTo(200);
    }
  }

  @Test
  @Order(14)
  void bearerKindsAndScopesAreHonoured() throws Exception {
    String idToken = gw.idpToken("corp", "frank", Map.of("groups", List.of("engineering")));
    JsonNode viaIdToken = gw.get("/api/v1/whoami", idToken).json();
    assertThat(viaIdToken.path("subject").asText()).isEqualTo("frank");

    Resp key =
        gw.post("/api/v1/api-keys", dana, "{\"name\":\"deploy\",\"subject\":\"svc-deploy\"}");
    assertThat(key.status()).as(key.body()).isEqualTo(200);
    JsonNode viaKey = gw.get("/api/v1/whoami", key.json().path("token").asText()).json();
    assertThat(viaKey.path("subject").asText()).isEqualTo("svc-deploy");
    assertThat(viaKey.path("kind").asText()).isEqualTo("service");

    Resp narrow = gw.post("/api/v1/tokens", alice, "{\"ttl\":\"1m\",\"scope\":[\"payments-db\"]}");
    assertThat(narrow.status()).as(narrow.body()).isEqualTo(200);
    assertThat(Instant.parse(narrow.json().path("expires_at").asText()))
        .isBefore(Instant.now().plusSeconds(61));
    String narrowToken = narrow.json().path("token").asText();
    gw.post("/api/v1/tokens", narrowToken, "{\"scope\":[\"orders-db\"]}").assertProblem(403);
    Resp child = gw.post("/api/v1/tokens", narrowToken, "{\"ttl\":\"7d\"}");
    assertThat(child.status()).as(child.body()).isEqualTo(200);
    assertThat(Instant.parse(child.json().path("expires_at").asText()))
        .isBefore(Instant.now().plusSeconds(61));

    Resp elsewhere =
        gw.post("/api/v1/tokens", dana, "{\"subject\":\"alice\",\"scope\":[\"orders-db\"]}");
    assertThat(elsewhere.status()).as(elsewhere.body()).isEqualTo(200);
    SQLException outOfScope =
        catchThrowableOfType(
            SQLException.class, () -> gw.pg("alice", elsewhere.json().path("token").asText()));
    assertThat((Throwable) outOfScope)
        .as("a token scoped to orders-db opens payments-db")
        .isNotNull();

    gw.get("/api/v1/whoami", "ght_nope_" + "x".repeat(43)).assertProblem(401);
  }

  @Test
  @Order(15)
  void sessionsAreVisibleToTheirOwnerAndAuditorsOnly() throws Exception {
    try (Connection c = gw.pg("dana", dana);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM payments")) {
      assertThat(rs.next()).isTrue();
    }
    Resp all = gw.get("/api/v1/sessions?subject=dana", audrey);
    assertThat(all.status()).as(all.body()).isEqualTo(200);
    String id = null;
    for (JsonNode n : all.json()) {
      assertThat(n.toString()).contains("dana");
      id = id == null ? n.path("id").asText(null) : id;
    }
    assertThat(id).as(all.body()).isNotNull();
    assertThat(gw.get("/api/v1/sessions/" + id, audrey).status()).isEqualTo(200);
    Resp timeline = gw.get("/api/v1/sessions/" + id + "/timeline", dana);
    assertThat(timeline.status()).isEqualTo(200);
    assertThat(timeline.body()).contains("payments");
    gw.get("/api/v1/sessions/" + id, alice).assertProblem(404);
    gw.get("/api/v1/sessions/" + id + "/timeline", alice).assertProblem(404);
    for (JsonNode n : gw.get("/api/v1/sessions?subject=dana", alice).json()) {
      assertThat(n.toString()).doesNotContain("\"dana\"");
    }
  }

  @Test
  @Order(16)
  void loginRejectsMissingAndWrongAudienceTokens() throws Exception {
    gw.post("/api/v1/login", null, "{}").assertProblem(400);
    String otherAudience =
        gw.idp
            .issueToken("corp", "erin", "someone-else", Map.of("groups", List.of("dba")))
            .serialize();
    gw.post("/api/v1/login", null, "{\"id_token\":\"" + otherAudience + "\"}").assertProblem(401);
    Resp exchanged = gw.postForm("/api/v1/tokens/exchange", exchangeForm(otherAudience));
    assertThat(exchanged.status()).isEqualTo(400);
    assertThat(exchanged.json().path("error").asText()).isEqualTo("invalid_grant");
  }

  @Test
  @Order(17)
  void everyOperationInTheOpenApiDocumentEnforcesItsDeclaredRole() throws Exception {
    JsonNode paths = gw.get("/api/v1/openapi.json", null).json().path("paths");
    int checked = 0;
    for (var path : paths.properties()) {
      String url =
          path.getKey().replace("{id}", "does-not-exist").replace("{fingerprint}", "SHA256:none");
      for (var op : path.getValue().properties()) {
        String method = op.getKey().toUpperCase();
        if (!List.of("GET", "POST", "DELETE").contains(method)) {
          continue;
        }
        String role = op.getValue().path("x-gatehouse-role").asText("public");
        HttpRequest.BodyPublisher body =
            method.equals("POST")
                ? HttpRequest.BodyPublishers.ofString("{}")
                : HttpRequest.BodyPublishers.noBody();
        String what = method + " " + url + " (" + role + ")";
        Resp anonymous =
            gw.send(
                gw.request(url, null)
                    .header("Content-Type", "application/json")
                    .method(method, body));
        if (role.equals("public")) {
          assertThat(anonymous.status()).as(what).isNotIn(401, 403, 404, 405);
        } else {
          assertThat(anonymous.status()).as(what).isEqualTo(401);
          Resp asAlice =
              gw.send(
                  gw.request(url, alice)
                      .header("Content-Type", "application/json")
                      .method(method, body));
          if (role.equals("user")) {
            assertThat(asAlice.status()).as(what).isNotIn(401, 405);
          } else {
            asAlice.assertProblem(403);
          }
        }
        checked++;
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(20);
  }

  @Test
  @Order(100)
  void upstreamPasswordNeverReachesClients() {
    assertThat(gw.everythingClientsSaw).isNotEmpty();
    assertThat(String.join("\n", gw.everythingClientsSaw))
        .doesNotContain(GatewayFixture.APP_PASSWORD);
  }
}
