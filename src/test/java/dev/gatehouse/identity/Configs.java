package dev.gatehouse.identity;

import dev.gatehouse.config.GatehouseConfig.IdentityConfig;
import dev.gatehouse.config.GatehouseConfig.OidcIssuerConfig;
import dev.gatehouse.config.GatehouseConfig.TokenExchangeConfig;
import dev.gatehouse.config.GatehouseConfig.UserConfig;
import java.time.Duration;
import java.util.List;

/** Config records for tests, with the defaults a parsed minimal file would have. */
final class Configs {
  private Configs() {}

  static IdentityConfig identity(List<UserConfig> users) {
    return new IdentityConfig(null, null, null, users, List.of(), List.of());
  }

  static IdentityConfig identity(
      List<UserConfig> users, List<OidcIssuerConfig> oidc, List<TokenExchangeConfig> exchange) {
    return new IdentityConfig(null, null, null, users, oidc, exchange);
  }

  static OidcIssuerConfig issuer(String name, String issuerUrl, String audience) {
    return new OidcIssuerConfig(
        name,
        issuerUrl,
        List.of(audience),
        null,
        null,
        List.of(),
        Duration.ofSeconds(30),
        null,
        null,
        null,
        List.of("platform-admins"),
        List.of("security"));
  }
}
