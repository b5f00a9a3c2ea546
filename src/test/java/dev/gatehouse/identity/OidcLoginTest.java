package dev.gatehouse.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code gatehouse login} flows. The authorization code flow runs against mock-oauth2-server (which
 * completes it without user interaction and checks PKCE); that server has no device authorization
 * endpoint, so the device flow runs against a minimal RFC 8628 endpoint served from the test.
 */
class OidcLoginTest {
  static MockOAuth2Server server;
  static final HttpClient BROWSER =
      HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build();

  @BeforeAll
  static void startIdp() {
    server = new MockOAuth2Server();
    server.start();
  }

  @AfterAll
  static void stopIdp() {
    server.shutdown();
  }

  static OidcLogin login(String issuer, Duration timeout) {
    return new OidcLogin(issuer, "gatehouse-cli", null, List.of("profile"), timeout);
  }

  static void open(URI uri) {
    try {
      BROWSER.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Map<String, String> query(URI uri) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : uri.getRawQuery().split("&")) {
      String[] kv = pair.split("=", 2);
      out.put(kv[0], URLDecoder.decode(kv.length > 1 ? kv[1] : "", StandardCharsets.UTF_8));
    }
    return out;
  }

  @Test
  void authorizationCodeFlowWithPkceReturnsAVerifiableIdToken() throws Exception {
    server.enqueueCallback(
        new DefaultOAuth2TokenCallback(
            "corp", "alice", "JWT", List.of("gatehouse-cli"), Map.of("groups", List.of("dba"))));
    AtomicReference<URI> authorizationUrl = new AtomicReference<>();

    String idToken =
        login(server.issuerUrl("corp").toString(), Duration.ofSeconds(30))
            .authorizationCode(
                uri -> {
                  authorizationUrl.set(uri);
                  open(uri);
                });

    Map<String, String> q = query(authorizationUrl.get());
    assertThat(q)
        .containsEntry("response_type", "code")
        .containsEntry("client_id", "gatehouse-cli")
        .containsEntry("code_challenge_method", "S256")
        .containsKeys("code_challenge", "state", "nonce");
    assertThat(q.get("scope").split(" ")).contains("openid", "profile");
    assertThat(q.get("redirect_uri")).matches("http://127\\.0\\.0\\.1:\\d+/callback");
    OidcVerifier verifier =
        new OidcVerifier(
            List.of(Configs.issuer("corp", server.issuerUrl("corp").toString(), "gatehouse-cli")),
            Clock.systemUTC());
    Principal p = verifier.toPrincipal(verifier.verify(idToken));
    assertThat(p.subject()).isEqualTo("alice");
    assertThat(p.groups()).containsExactly("dba");
  }

  @Test
  void callbackWithAForeignStateIsRejected() {
    assertThatThrownBy(
            () ->
                login(server.issuerUrl("corp").toString(), Duration.ofSeconds(30))
                    .authorizationCode(
                        uri -> {
                          String redirect = query(uri).get("redirect_uri");
                          open(URI.create(redirect + "?code=stolen&state=attacker"));
                        }))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("authorization response state does not match");
  }

  @Test
  void errorFromTheAuthorizationServerIsReported() {
    assertThatThrownBy(
            () ->
                login(server.issuerUrl("corp").toString(), Duration.ofSeconds(30))
                    .authorizationCode(
                        uri -> {
                          Map<String, String> q = query(uri);
                          open(
                              URI.create(
                                  q.get("redirect_uri")
                                      + "?error=access_denied&state="
                                      + q.get("state")));
                        }))
        .hasMessage("authorization failed: access_denied");
  }

  @Test
  void unfinishedBrowserLoginTimesOut() {
    assertThatThrownBy(
            () ->
                login(server.issuerUrl("corp").toString(), Duration.ofMillis(300))
                    .authorizationCode(uri -> {}))
        .hasMessage("login not completed within PT0.3S");
  }

  @Test
  void deviceFlowIsRefusedWhenTheIssuerDoesNotOfferIt() {
    assertThatThrownBy(
            () ->
                login(server.issuerUrl("corp").toString(), Duration.ofSeconds(5))
                    .deviceCode(prompt -> {}))
        .hasMessage(
            "issuer "
                + server.issuerUrl("corp")
                + " does not offer the device authorization grant");
  }

  @Test
  void deviceFlowPollsUntilTheUserApproves() throws Exception {
    String idToken = server.issueToken("corp", "bob", "gatehouse-cli").serialize();
    try (DeviceIdp idp = new DeviceIdp(List.of("authorization_pending"), idToken)) {
      List<OidcLogin.DevicePrompt> prompts = new CopyOnWriteArrayList<>();

      String result = login(idp.issuer, Duration.ofSeconds(30)).deviceCode(prompts::add);

      assertThat(result).isEqualTo(idToken);
      assertThat(prompts)
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.userCode()).isEqualTo("WDJB-MJHT");
                assertThat(p.verificationUri()).isEqualTo(URI.create(idp.issuer + "/device"));
              });
      assertThat(idp.tokenPolls).hasValue(2);
      assertThat(idp.tokenRequests.get(1))
          .contains("device_code=dc-123")
          .contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code");
    }
  }

  @Test
  void deniedDeviceLoginFails() throws Exception {
    try (DeviceIdp idp = new DeviceIdp(List.of("access_denied"), "unused")) {
      assertThatThrownBy(() -> login(idp.issuer, Duration.ofSeconds(30)).deviceCode(prompt -> {}))
          .hasMessage("device login failed: access_denied");
    }
  }

  /**
   * A minimal OIDC provider with an RFC 8628 device authorization endpoint: the token endpoint
   * answers with the given errors in turn, then with the ID token.
   */
  static final class DeviceIdp implements AutoCloseable {
    final HttpServer http;
    final String issuer;
    final AtomicInteger tokenPolls = new AtomicInteger();
    final List<String> tokenRequests = new CopyOnWriteArrayList<>();

    DeviceIdp(List<String> errorsFirst, String idToken) throws IOException {
      http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      issuer = "http://127.0.0.1:" + http.getAddress().getPort() + "/idp";
      http.createContext(
          "/idp/.well-known/openid-configuration",
          ex ->
              json(
                  ex,
                  200,
                  """
                  {"issuer":"%1$s","authorization_endpoint":"%1$s/authorize",
                   "token_endpoint":"%1$s/token","jwks_uri":"%1$s/jwks",
                   "device_authorization_endpoint":"%1$s/device_authorization",
                   "response_types_supported":["code"],"subject_types_supported":["public"],
                   "id_token_signing_alg_values_supported":["RS256"]}
                  """
                      .formatted(issuer)));
      http.createContext(
          "/idp/device_authorization",
          ex ->
              json(
                  ex,
                  200,
                  """
                  {"device_code":"dc-123","user_code":"WDJB-MJHT",
                   "verification_uri":"%1$s/device","expires_in":600,"interval":1}
                  """
                      .formatted(issuer)));
      http.createContext(
          "/idp/token",
          ex -> {
            tokenRequests.add(
                new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            int n = tokenPolls.incrementAndGet();
            if (n <= errorsFirst.size()) {
              json(ex, 400, "{\"error\":\"" + errorsFirst.get(n - 1) + "\"}");
            } else {
              json(
                  ex,
                  200,
                  "{\"access_token\":\"at-1\",\"token_type\":\"Bearer\",\"expires_in\":300,"
                      + "\"id_token\":\""
                      + idToken
                      + "\"}");
            }
          });
      http.start();
    }

    private static void json(HttpExchange ex, int status, String body) throws IOException {
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(status, b.length);
      ex.getResponseBody().write(b);
      ex.close();
    }

    @Override
    public void close() {
      http.stop(0);
    }
  }
}
