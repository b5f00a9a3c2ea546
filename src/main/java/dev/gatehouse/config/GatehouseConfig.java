package dev.gatehouse.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The whole validated configuration, parsed once from {@code gatehouse.yaml} into immutable
 * records. Secrets are already resolved from {@code ${env:…}}/{@code ${file:…}} references and are
 * held as {@link Secret}, whose {@code toString} never shows the value.
 *
 * <p>Every record here has a default so that a minimal file (or none, for {@code gatehouse demo})
 * works. The YAML key of each component is its snake_case name; see docs/configuration.md.
 */
public record GatehouseConfig(
    Path source,
    ServerConfig server,
    StoreConfig store,
    IdentityConfig identity,
    List<ConnectionConfig> connections,
    PolicyConfig policy,
    AuditConfig audit,
    ApprovalsConfig approvals,
    MaskingConfig masking,
    LoggingConfig logging) {

  public GatehouseConfig {
    connections = List.copyOf(connections);
  }

  public ConnectionConfig connection(String name) {
    for (ConnectionConfig c : connections) {
      if (c.name().equals(name)) {
        return c;
      }
    }
    return null;
  }

  /** {@code server:} data directory, master key, TLS material and listeners. */
  public record ServerConfig(
      Path dataDir,
      Secret masterKey,
      TlsConfig tls,
      ListenerConfig api,
      ListenerConfig postgres,
      ListenerConfig ssh) {}

  /**
   * A listener. {@code enabled: false} turns it off; {@code plaintext: true} allows clients without
   * TLS (loudly logged).
   */
  public record ListenerConfig(boolean enabled, String host, int port, boolean plaintext) {}

  /**
   * Certificate and key in PEM. When both are null a self-signed pair is generated on first start.
   */
  public record TlsConfig(Path certFile, Path keyFile) {}

  /** {@code store:} {@code embedded} (H2 file in the data directory) or {@code postgres}. */
  public record StoreConfig(
      String type, String url, String username, Secret password, int poolSize) {
    public boolean embedded() {
      return "embedded".equals(type);
    }
  }

  /** {@code identity:} token lifetimes, static users, OIDC issuers and token-exchange mappings. */
  public record IdentityConfig(
      Duration humanTokenTtl,
      Duration serviceTokenTtl,
      Duration agentTokenTtl,
      List<UserConfig> users,
      List<OidcIssuerConfig> oidc,
      List<TokenExchangeConfig> tokenExchange) {
    public IdentityConfig {
      users = List.copyOf(users);
      oidc = List.copyOf(oidc);
      tokenExchange = List.copyOf(tokenExchange);
    }
  }

  /**
   * A locally declared identity. {@code role} is the API role: admin, auditor or user. Humans from
   * OIDC get their API role from {@code admin_groups}/{@code auditor_groups} in the issuer config.
   */
  public record UserConfig(String subject, String kind, List<String> groups, String role) {
    public UserConfig {
      groups = List.copyOf(groups);
    }
  }

  /**
   * An OIDC issuer. Discovery at {@code issuer + /.well-known/openid-configuration}; JWKS from the
   * discovered {@code jwks_uri} unless {@code jwks_uri} is given.
   */
  public record OidcIssuerConfig(
      String name,
      String issuer,
      List<String> audiences,
      String clientId,
      String jwksUri,
      List<String> algorithms,
      Duration clockSkew,
      String subjectClaim,
      String groupsClaim,
      String kind,
      List<String> adminGroups,
      List<String> auditorGroups) {
    public OidcIssuerConfig {
      audiences = List.copyOf(audiences);
      algorithms = List.copyOf(algorithms);
      adminGroups = List.copyOf(adminGroups);
      auditorGroups = List.copyOf(auditorGroups);
    }
  }

  /**
   * RFC 8693 mapping: an IdP token from {@code issuer} (an OIDC issuer name) whose claims match
   * {@code match} (claim name to glob) becomes a gateway token. {@code subject} is a template with
   * {@code {claim}} placeholders.
   */
  public record TokenExchangeConfig(
      String name,
      String issuer,
      Map<String, String> match,
      String subject,
      List<String> groups,
      String kind,
      Duration ttl,
      List<String> scope) {
    public TokenExchangeConfig {
      match = Map.copyOf(match);
      groups = List.copyOf(groups);
      scope = List.copyOf(scope);
    }
  }

  /**
   * {@code connections:} a target. {@code type} is postgres, mysql, ssh or exec. Credentials are
   * sealed into the store at start and only opened when an upstream connection is made.
   */
  public record ConnectionConfig(
      String name,
      String type,
      String host,
      int port,
      String database,
      String username,
      Secret password,
      Map<String, String> labels,
      UpstreamTlsConfig tls,
      Map<String, Object> options) {
    public ConnectionConfig {
      labels = Map.copyOf(labels);
      options = Map.copyOf(options);
    }
  }

  /** Upstream TLS: mode disable, prefer, require or verify-full; {@code ca} for verify-full. */
  public record UpstreamTlsConfig(String mode, Path ca) {}

  /** {@code policy:} rule files (globs allowed) and whether to watch them for hot reload. */
  public record PolicyConfig(List<String> files, boolean watch) {
    public PolicyConfig {
      files = List.copyOf(files);
    }

    /**
     * The files the {@code files} globs match now, sorted and without duplicates. The loader stores
     * the globs as absolute patterns, so this does not depend on the working directory; call it
     * again on reload to pick up new files.
     */
    public List<Path> matchingFiles() throws java.io.IOException {
      return Globs.matchAll(files);
    }
  }

  /** {@code audit:} checkpoint interval and export sinks. */
  public record AuditConfig(Duration checkpointInterval, List<AuditSinkConfig> sinks) {
    public AuditConfig {
      sinks = List.copyOf(sinks);
    }
  }

  /** An export sink: {@code file} (JSON Lines, {@code path}) or {@code webhook} ({@code url}). */
  public record AuditSinkConfig(String type, Path path, String url, Secret authorization) {}

  /** {@code approvals:} waiting limits and notification webhooks. */
  public record ApprovalsConfig(
      Duration maxWait, Duration defaultExpiry, String publicUrl, List<WebhookConfig> webhooks) {
    public ApprovalsConfig {
      webhooks = List.copyOf(webhooks);
    }
  }

  /** A review notification webhook: format {@code json} or {@code slack}. */
  public record WebhookConfig(String format, String url) {}

  /**
   * {@code masking:} extra rule files (profiles, column rules, custom detectors; gitleaks TOML
   * allowed), the HMAC key for deterministic hashing, and the entropy threshold for high-entropy
   * token detection.
   */
  public record MaskingConfig(List<String> files, Secret hmacKey, double entropyThreshold) {
    public MaskingConfig {
      files = List.copyOf(files);
    }

    /** The files the {@code files} globs match now; see {@link PolicyConfig#matchingFiles()}. */
    public List<Path> matchingFiles() throws java.io.IOException {
      return Globs.matchAll(files);
    }
  }

  /** {@code logging:} format text or json, and the root level. */
  public record LoggingConfig(String format, String level) {}
}
