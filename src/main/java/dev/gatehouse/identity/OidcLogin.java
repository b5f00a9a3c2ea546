package dev.gatehouse.identity;

import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.AuthorizationGrant;
import com.nimbusds.oauth2.sdk.AuthorizationResponse;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.GeneralException;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenErrorResponse;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.device.DeviceAuthorizationGrantError;
import com.nimbusds.oauth2.sdk.device.DeviceAuthorizationRequest;
import com.nimbusds.oauth2.sdk.device.DeviceAuthorizationResponse;
import com.nimbusds.oauth2.sdk.device.DeviceAuthorizationSuccessResponse;
import com.nimbusds.oauth2.sdk.device.DeviceCodeGrant;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.config.GatehouseConfig.OidcIssuerConfig;
import dev.gatehouse.config.Secret;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The client side of {@code gatehouse login}: obtains an ID token from the organisation's OIDC
 * provider, which the CLI then presents to the gateway (directly, or exchanged for a gateway
 * token).
 *
 * <p>Two flows:
 *
 * <ul>
 *   <li>{@link #authorizationCode}: authorization code with PKCE S256 (RFC 7636) and a loopback
 *       redirect listener on {@code 127.0.0.1} at a random port, as RFC 8252 §7.3 recommends for
 *       native apps. {@code state} and {@code nonce} are checked.
 *   <li>{@link #deviceCode}: the device authorization grant (RFC 8628) for machines without a
 *       browser; polls at the server's interval and backs off on {@code slow_down} (§3.5).
 * </ul>
 *
 * <p>The ID token is taken straight from the token endpoint over the connection the CLI opened, so
 * it is not signature-checked here (OIDC Core §3.1.3.7 allows TLS server authentication instead);
 * the gateway verifies it fully on every use. Nothing secret is logged.
 */
public final class OidcLogin {
  static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

  /** RFC 8628 §3.5: add 5 seconds to the polling interval on every slow_down. */
  static final Duration SLOW_DOWN_STEP = Duration.ofSeconds(5);

  /** RFC 8628 §3.2: the interval to use when the server gives none. */
  static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(5);

  private static final int HTTP_TIMEOUT_MILLIS = 10_000;

  private final Issuer issuer;
  private final ClientID clientId;
  private final Secret clientSecret;
  private final Scope scope;
  private final Duration timeout;
  private OIDCProviderMetadata metadata;

  /**
   * @param issuer the OIDC issuer URL
   * @param clientId the (usually public) client registered for the CLI
   * @param clientSecret for providers that insist on one even for native apps; null otherwise
   * @param scopes requested scopes; {@code openid} is always added
   * @param timeout how long to wait for the user to finish in the browser or on the device
   */
  public OidcLogin(
      String issuer, String clientId, Secret clientSecret, List<String> scopes, Duration timeout) {
    if (issuer == null || issuer.isBlank()) {
      throw new IllegalArgumentException("issuer: blank (expected: the OIDC issuer URL)");
    }
    if (clientId == null || clientId.isBlank()) {
      throw new IllegalArgumentException("clientId: blank (expected: the CLI's OIDC client id)");
    }
    this.issuer = new Issuer(issuer);
    this.clientId = new ClientID(clientId);
    this.clientSecret = clientSecret;
    Scope s = new Scope("openid");
    for (String name : scopes) {
      s.add(name);
    }
    this.scope = s;
    this.timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
  }

  /** A login against a configured issuer, asking for {@code openid profile email}. */
  public static OidcLogin of(OidcIssuerConfig c) {
    return new OidcLogin(
        c.issuer(), c.clientId(), null, List.of("profile", "email"), DEFAULT_TIMEOUT);
  }

  /**
   * Runs the authorization code flow with PKCE and returns the ID token.
   *
   * @param browser opens the given authorization URL for the user (or prints it)
   */
  public String authorizationCode(Consumer<URI> browser) throws AuthenticationException {
    OIDCProviderMetadata md = metadata();
    State state = new State();
    Nonce nonce = new Nonce();
    CodeVerifier verifier = new CodeVerifier();
    CompletableFuture<AuthorizationResponse> callback = new CompletableFuture<>();
    HttpServer listener;
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try {
      // RFC 8252 §7.3/§8.3: the loopback IP literal, not "localhost", and any free port.
      listener = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      executor.shutdownNow();
      throw new AuthenticationException("cannot open a loopback listener: " + e.getMessage(), e);
    }
    URI redirect = URI.create("http://127.0.0.1:" + listener.getAddress().getPort() + "/callback");
    listener.createContext("/callback", exchange -> handleCallback(exchange, redirect, callback));
    listener.setExecutor(executor);
    listener.start();
    try {
      AuthenticationRequest request =
          new AuthenticationRequest.Builder(new ResponseType("code"), scope, clientId, redirect)
              .endpointURI(md.getAuthorizationEndpointURI())
              .state(state)
              .nonce(nonce)
              .codeChallenge(verifier, CodeChallengeMethod.S256)
              .build();
      browser.accept(request.toURI());
      AuthorizationResponse response;
      try {
        response = callback.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        throw new AuthenticationException("login not completed within " + timeout);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AuthenticationException("login interrupted");
      } catch (ExecutionException e) {
        throw new AuthenticationException(
            "invalid authorization response: " + e.getCause().getMessage());
      }
      if (!state.equals(response.getState())) {
        // RFC 6749 §10.12: a response we did not ask for (CSRF).
        throw new AuthenticationException("authorization response state does not match");
      }
      if (!response.indicatesSuccess()) {
        throw new AuthenticationException(
            "authorization failed: " + describe(response.toErrorResponse().getErrorObject()));
      }
      AuthorizationCode code = response.toSuccessResponse().getAuthorizationCode();
      if (code == null) {
        throw new AuthenticationException("authorization response has no code");
      }
      String idToken = redeem(md, new AuthorizationCodeGrant(code, redirect, verifier));
      checkNonce(idToken, nonce);
      return idToken;
    } finally {
      listener.stop(0);
      executor.shutdownNow();
    }
  }

  private static void handleCallback(
      HttpExchange exchange, URI redirect, CompletableFuture<AuthorizationResponse> callback)
      throws IOException {
    try {
      String query = exchange.getRequestURI().getRawQuery();
      URI full = URI.create(redirect + (query == null ? "" : "?" + query));
      callback.complete(AuthorizationResponse.parse(full));
    } catch (ParseException e) {
      callback.completeExceptionally(e);
    }
    byte[] body =
        "<!doctype html><title>Gatehouse</title><p>Login complete. You can close this window."
            .getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
    exchange.getResponseHeaders().add("Cache-Control", "no-store");
    exchange.sendResponseHeaders(200, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  /** What to show the user during the device flow (RFC 8628 §3.3). */
  public record DevicePrompt(
      String userCode, URI verificationUri, URI verificationUriComplete, Duration expiresIn) {}

  /**
   * Runs the device authorization grant and returns the ID token.
   *
   * @param prompt shows the user code and verification URL to the user
   */
  public String deviceCode(Consumer<DevicePrompt> prompt) throws AuthenticationException {
    OIDCProviderMetadata md = metadata();
    URI endpoint = md.getDeviceAuthorizationEndpointURI();
    if (endpoint == null) {
      throw new AuthenticationException(
          "issuer " + issuer + " does not offer the device authorization grant");
    }
    DeviceAuthorizationSuccessResponse started;
    try {
      HTTPRequest req = new DeviceAuthorizationRequest(endpoint, clientId, scope).toHTTPRequest();
      DeviceAuthorizationResponse r = DeviceAuthorizationResponse.parse(send(req));
      if (!r.indicatesSuccess()) {
        throw new AuthenticationException(
            "device authorization failed: " + describe(r.toErrorResponse().getErrorObject()));
      }
      started = r.toSuccessResponse();
    } catch (ParseException | IOException e) {
      throw new AuthenticationException("device authorization failed: " + e.getMessage(), e);
    }
    prompt.accept(
        new DevicePrompt(
            started.getUserCode().getValue(),
            started.getVerificationURI(),
            started.getVerificationURIComplete(),
            Duration.ofSeconds(started.getLifetime())));

    Duration interval =
        started.getInterval() > 0
            ? Duration.ofSeconds(started.getInterval())
            : DEFAULT_POLL_INTERVAL;
    Instant deadline = Instant.now().plus(timeout);
    if (started.getLifetime() > 0) {
      Instant codeExpiry = Instant.now().plusSeconds(started.getLifetime());
      deadline = codeExpiry.isBefore(deadline) ? codeExpiry : deadline;
    }
    DeviceCodeGrant grant = new DeviceCodeGrant(started.getDeviceCode());
    while (true) {
      if (Instant.now().plus(interval).isAfter(deadline)) {
        throw new AuthenticationException("device login not completed in time");
      }
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AuthenticationException("login interrupted");
      }
      TokenResponse r = tokenResponse(md, grant);
      if (r.indicatesSuccess()) {
        return idToken(r);
      }
      ErrorObject error = ((TokenErrorResponse) r).getErrorObject();
      if (DeviceAuthorizationGrantError.AUTHORIZATION_PENDING.getCode().equals(error.getCode())) {
        continue;
      }
      if (DeviceAuthorizationGrantError.SLOW_DOWN.getCode().equals(error.getCode())) {
        interval = interval.plus(SLOW_DOWN_STEP);
        continue;
      }
      throw new AuthenticationException("device login failed: " + describe(error));
    }
  }

  private String redeem(OIDCProviderMetadata md, AuthorizationGrant grant)
      throws AuthenticationException {
    TokenResponse r = tokenResponse(md, grant);
    if (!r.indicatesSuccess()) {
      throw new AuthenticationException(
          "token request failed: " + describe(((TokenErrorResponse) r).getErrorObject()));
    }
    return idToken(r);
  }

  private TokenResponse tokenResponse(OIDCProviderMetadata md, AuthorizationGrant grant)
      throws AuthenticationException {
    TokenRequest request =
        clientSecret == null
            ? new TokenRequest(md.getTokenEndpointURI(), clientId, grant, null)
            : new TokenRequest(
                md.getTokenEndpointURI(),
                new ClientSecretBasic(
                    clientId, new com.nimbusds.oauth2.sdk.auth.Secret(clientSecret.reveal())),
                grant,
                null);
    try {
      return OIDCTokenResponseParser.parse(send(request.toHTTPRequest()));
    } catch (ParseException | IOException e) {
      throw new AuthenticationException("token request failed: " + e.getMessage(), e);
    }
  }

  private static String idToken(TokenResponse r) throws AuthenticationException {
    if (r instanceof OIDCTokenResponse oidc && oidc.getOIDCTokens().getIDTokenString() != null) {
      return oidc.getOIDCTokens().getIDTokenString();
    }
    throw new AuthenticationException(
        "token response has no id_token (expected: the openid scope to be honoured)");
  }

  private static void checkNonce(String idToken, Nonce nonce) throws AuthenticationException {
    try {
      JWT jwt = JWTParser.parse(idToken);
      Object claim = jwt.getJWTClaimsSet().getClaim("nonce");
      // OIDC Core §3.1.3.7 step 11: the nonce must be the one we sent (replay protection).
      if (!nonce.getValue().equals(claim)) {
        throw new AuthenticationException("id_token nonce does not match the request");
      }
    } catch (java.text.ParseException e) {
      throw new AuthenticationException("id_token is not a JWT");
    }
  }

  private static HTTPResponse send(HTTPRequest req) throws IOException {
    req.setConnectTimeout(HTTP_TIMEOUT_MILLIS);
    req.setReadTimeout(HTTP_TIMEOUT_MILLIS);
    return req.send();
  }

  private synchronized OIDCProviderMetadata metadata() throws AuthenticationException {
    if (metadata == null) {
      try {
        metadata = OIDCProviderMetadata.resolve(issuer, HTTP_TIMEOUT_MILLIS, HTTP_TIMEOUT_MILLIS);
      } catch (GeneralException | IOException e) {
        throw new AuthenticationException(
            "discovery for " + issuer + " failed: " + e.getMessage(), e);
      }
    }
    return metadata;
  }

  private static String describe(ErrorObject e) {
    String code = Objects.requireNonNullElse(e.getCode(), "error");
    return e.getDescription() == null
        ? code
        : code + " (" + OidcVerifier.printable(e.getDescription()) + ")";
  }
}
