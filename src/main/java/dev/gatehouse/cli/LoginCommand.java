package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.identity.AuthenticationException;
import dev.gatehouse.identity.OidcLogin;
import java.awt.Desktop;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gatehouse login}: signs in with the gateway's OIDC provider (authorization code with PKCE
 * in a browser, RFC 7636/8252; or the device grant, RFC 8628, when there is no browser), exchanges
 * the ID token for a gateway token, and stores it with 0600 permissions.
 */
@Command(
    name = "login",
    mixinStandardHelpOptions = true,
    description = {
      "Sign in with your identity provider and store a gateway token for later commands.",
      "Uses a browser (authorization code + PKCE) or, with --device or without a display, the",
      "device authorization grant."
    })
final class LoginCommand extends ApiCommand {
  @Option(names = "--api", description = "Gateway API URL (default: GATEHOUSE_API or stored).")
  String apiUrl;

  @Option(
      names = "--cacert",
      description = "The gateway's certificate (PEM), for self-signed set-ups.")
  String caCert;

  @Option(
      names = "--issuer",
      description = "Provider name or issuer URL when several are configured.")
  String issuer;

  @Option(names = "--device", description = "Use the device authorization grant.")
  boolean device;

  @Override
  int run() throws Exception {
    CliConfig base = CliConfig.resolve(System.getenv());
    CliConfig anon =
        new CliConfig(
            apiUrl != null ? apiUrl : base.api(), null, caCert != null ? caCert : base.caCert());
    ApiClient client = new ApiClient(anon);
    JsonNode providers = client.get("/api/v1/login/providers");
    JsonNode chosen = null;
    for (JsonNode p : providers) {
      if (issuer == null
          || issuer.equals(p.path("name").asText())
          || issuer.equals(p.path("issuer").asText())) {
        chosen = p;
        break;
      }
    }
    if (chosen == null) {
      throw new CliException(
          CliException.USAGE,
          issuer == null
              ? "the gateway has no OIDC provider with a client_id configured for login"
              : "no provider named " + issuer + " (see GET /api/v1/login/providers)");
    }
    OidcLogin login =
        new OidcLogin(
            chosen.path("issuer").asText(),
            chosen.path("client_id").asText(),
            null,
            List.of("profile", "email"),
            Duration.ofMinutes(5));
    String idToken;
    try {
      boolean noBrowser =
          java.awt.GraphicsEnvironment.isHeadless()
              || !Desktop.isDesktopSupported()
              || System.getenv("DISPLAY") == null && System.getenv("WAYLAND_DISPLAY") == null;
      idToken =
          device || noBrowser
              ? login.deviceCode(
                  p ->
                      System.err.printf(
                          "Open %s and enter the code %s (expires in %d min)%n",
                          p.verificationUri(),
                          p.userCode(),
                          p.expiresIn() == null ? 5 : p.expiresIn().toMinutes()))
              : login.authorizationCode(LoginCommand::open);
    } catch (AuthenticationException e) {
      throw new CliException(CliException.AUTH, "login failed: " + e.getMessage());
    }
    JsonNode r = client.post("/api/v1/login", Map.of("id_token", idToken));
    CliConfig stored = new CliConfig(anon.api(), r.path("token").asText(), anon.caCert());
    java.nio.file.Path file = CliConfig.file(System.getenv());
    CliConfig.store(file, stored);
    System.err.println(
        "logged in as "
            + r.path("subject").asText()
            + " until "
            + r.path("expires_at").asText()
            + " (token stored in "
            + file
            + ")");
    return 0;
  }

  private static void open(URI uri) {
    System.err.println("Opening your browser; if it does not open, visit:\n  " + uri);
    try {
      if (Desktop.isDesktopSupported() && Desktop.getDesktop().isSupported(Desktop.Action.BROWSE)) {
        Desktop.getDesktop().browse(uri);
        return;
      }
      new ProcessBuilder("xdg-open", uri.toString()).inheritIO().start();
    } catch (Exception e) {
      // the URL is printed above; the user can open it by hand
    }
  }
}
