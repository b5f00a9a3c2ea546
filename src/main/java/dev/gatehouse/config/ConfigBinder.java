package dev.gatehouse.config;

import static dev.gatehouse.config.ParseContext.isNull;
import static dev.gatehouse.config.ParseContext.item;
import static dev.gatehouse.config.ParseContext.line;
import static dev.gatehouse.config.ParseContext.show;

import dev.gatehouse.config.GatehouseConfig.ApprovalsConfig;
import dev.gatehouse.config.GatehouseConfig.AuditConfig;
import dev.gatehouse.config.GatehouseConfig.AuditSinkConfig;
import dev.gatehouse.config.GatehouseConfig.AuthConfig;
import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.config.GatehouseConfig.ExecSecretConfig;
import dev.gatehouse.config.GatehouseConfig.IdentityConfig;
import dev.gatehouse.config.GatehouseConfig.ListenerConfig;
import dev.gatehouse.config.GatehouseConfig.LoggingConfig;
import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.GatehouseConfig.OidcIssuerConfig;
import dev.gatehouse.config.GatehouseConfig.PolicyConfig;
import dev.gatehouse.config.GatehouseConfig.ServerConfig;
import dev.gatehouse.config.GatehouseConfig.SshKeysConfig;
import dev.gatehouse.config.GatehouseConfig.SshTargetConfig;
import dev.gatehouse.config.GatehouseConfig.StoreConfig;
import dev.gatehouse.config.GatehouseConfig.TlsConfig;
import dev.gatehouse.config.GatehouseConfig.TokenExchangeConfig;
import dev.gatehouse.config.GatehouseConfig.UpstreamRole;
import dev.gatehouse.config.GatehouseConfig.UpstreamTlsConfig;
import dev.gatehouse.config.GatehouseConfig.UserConfig;
import dev.gatehouse.config.GatehouseConfig.WebhookConfig;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Binds the YAML tree to {@link GatehouseConfig}: one method per section, each applying the
 * defaults and checks documented in docs/configuration.md. Every problem goes to the {@link
 * ParseContext}; binding always runs to the end so that all problems are reported together.
 */
final class ConfigBinder {
  static final List<String> TOP_KEYS = Keys.of(GatehouseConfig.class, "source");
  static final List<String> SERVER_KEYS = Keys.of(ServerConfig.class);
  static final List<String> TLS_KEYS = Keys.of(TlsConfig.class);
  static final List<String> SSH_LISTENER_KEYS = Keys.of(ListenerConfig.class);
  static final List<String> LISTENER_KEYS = Keys.of(ListenerConfig.class, "kexinit_wait");
  static final List<String> STORE_KEYS = Keys.of(StoreConfig.class);
  static final List<String> IDENTITY_KEYS = Keys.of(IdentityConfig.class);
  static final List<String> USER_KEYS = Keys.of(UserConfig.class);
  static final List<String> AUTH_KEYS = Keys.of(AuthConfig.class);
  static final List<String> SSH_KEYS_KEYS = Keys.of(SshKeysConfig.class);
  static final List<String> OIDC_KEYS = Keys.of(OidcIssuerConfig.class);
  static final List<String> EXCHANGE_KEYS = Keys.of(TokenExchangeConfig.class);
  static final List<String> CONNECTION_KEYS = Keys.of(ConnectionConfig.class);
  static final List<String> UPSTREAM_TLS_KEYS = Keys.of(UpstreamTlsConfig.class);
  static final List<String> EXEC_KEYS = Keys.of(ExecConfig.class);
  static final List<String> EXEC_SECRET_KEYS = Keys.of(ExecSecretConfig.class);
  static final List<String> ROLE_KEYS = List.of("name", "username", "password", "private_key");
  static final List<String> SSH_TARGET_KEYS = Keys.of(SshTargetConfig.class);
  static final List<String> WORKSPACES = List.of("fresh", "fixed");
  static final List<String> SANDBOXES = List.of("auto", "bubblewrap", "none");
  static final List<String> SECRET_FORMS = List.of("env", "file");
  static final Duration EXEC_TIMEOUT = Duration.ofMinutes(30);
  static final long EXEC_MAX_OUTPUT = 256L << 20;
  static final List<String> POLICY_KEYS = Keys.of(PolicyConfig.class);
  static final List<String> AUDIT_KEYS = Keys.of(AuditConfig.class);
  static final List<String> SINK_KEYS = Keys.of(AuditSinkConfig.class);
  static final List<String> APPROVALS_KEYS = Keys.of(ApprovalsConfig.class);
  static final List<String> WEBHOOK_KEYS = Keys.of(WebhookConfig.class);
  static final List<String> MASKING_KEYS = Keys.of(MaskingConfig.class);
  static final List<String> LOGGING_KEYS = Keys.of(LoggingConfig.class);

  static final List<String> STORE_TYPES = List.of("embedded", "postgres");
  static final List<String> CONNECTION_TYPES = List.of("postgres", "mysql", "ssh", "exec");
  static final List<String> TLS_MODES = List.of("disable", "prefer", "require", "verify-full");
  static final List<String> KINDS = List.of("human", "service", "agent");
  static final List<String> ROLES = List.of("admin", "auditor", "user");
  static final List<String> SINK_TYPES = List.of("file", "webhook");
  static final List<String> WEBHOOK_FORMATS = List.of("json", "slack");
  static final List<String> LOG_FORMATS = List.of("text", "json");
  static final List<String> LOG_LEVELS = List.of("trace", "debug", "info", "warn", "error");

  /** Asymmetric JWS algorithms only: {@code none} and shared-secret HS* are never accepted. */
  static final List<String> JWS_ALGORITHMS =
      List.of(
          "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA");

  static final Duration HUMAN_TTL = Duration.ofHours(12);
  static final Duration SERVICE_TTL = Duration.ofMinutes(15);
  static final Duration AGENT_TTL = Duration.ofMinutes(15);
  static final Duration MAX_TOKEN_TTL = Duration.ofDays(30);
  static final Duration MAX_SSH_KEY_TTL = Duration.ofDays(3650);
  static final Duration CLOCK_SKEW = Duration.ofSeconds(60);
  static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);
  static final Duration CHECKPOINT_INTERVAL = Duration.ofMinutes(5);
  static final Duration MAX_WAIT = Duration.ofMinutes(15);
  static final Duration DEFAULT_EXPIRY = Duration.ofHours(1);
  static final int DEFAULT_POOL_SIZE = 8;

  /**
   * The masking engine's own default (masking.Builtins.DEFAULT_ENTROPY_THRESHOLD), at which the
   * efficacy and red-team corpora measure its recall and false-positive rate; at 4.0 a Twilio and a
   * Mailgun key of redteam-sensitive.tsv leaked. EntropyDefaultTest pins that the two agree.
   */
  static final double ENTROPY_THRESHOLD = 3.5;

  /** Names appear in CLI arguments, policy rules and protocol login strings: keep them plain. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  private static final int MAX_OPTION_DEPTH = 16;

  private static final Duration ONE_SECOND = Duration.ofSeconds(1);

  private final ParseContext ctx;

  ConfigBinder(ParseContext ctx) {
    this.ctx = ctx;
  }

  GatehouseConfig bind(Node root, Path source) {
    YamlMap top = YamlMap.of(ctx, root, "", TOP_KEYS);
    ServerConfig server = server(top.map("server", SERVER_KEYS));
    StoreConfig store = store(top.map("store", STORE_KEYS));
    IdentityConfig identity = identity(top.map("identity", IDENTITY_KEYS));
    List<ConnectionConfig> connections = connections(top);
    PolicyConfig policy = policy(top.map("policy", POLICY_KEYS));
    AuditConfig audit = audit(top.map("audit", AUDIT_KEYS));
    ApprovalsConfig approvals = approvals(top.map("approvals", APPROVALS_KEYS));
    MaskingConfig masking = masking(top.map("masking", MASKING_KEYS));
    LoggingConfig logging = logging(top.map("logging", LOGGING_KEYS));
    return new GatehouseConfig(
        source, server, store, identity, connections, policy, audit, approvals, masking, logging);
  }

  // ---- server --------------------------------------------------------------------------------

  private ServerConfig server(YamlMap m) {
    Path dataDir = m.path("data_dir", ctx.baseDir.resolve("data"));
    Secret masterKey = m.secret("master_key");
    TlsConfig tls = serverTls(m.map("tls", TLS_KEYS));
    YamlMap apiMap = m.map("api", LISTENER_KEYS);
    YamlMap pgMap = m.map("postgres", LISTENER_KEYS);
    YamlMap sshMap = m.map("ssh", SSH_LISTENER_KEYS);
    ListenerConfig api = listener(apiMap, 8443, null);
    ListenerConfig postgres = listener(pgMap, 15432, null);
    // docs/ssh.md, "Ciphers": how long the SSH listener holds its KEXINIT for the client's
    Duration kexinitWait =
        sshMap.duration(
            "kexinit_wait",
            ListenerConfig.KEXINIT_WAIT,
            Duration.ZERO,
            ListenerConfig.MAX_KEXINIT_WAIT);
    ListenerConfig ssh = listener(sshMap, 2222, kexinitWait);
    checkPortConflicts(List.of(apiMap, pgMap, sshMap), List.of(api, postgres, ssh));
    AuthConfig auth = auth(m.map("auth", AUTH_KEYS));
    return new ServerConfig(dataDir, masterKey, tls, api, postgres, ssh, auth);
  }

  /** {@code server.auth}: throttling of failed authentication (docs/operations.md, Security). */
  private AuthConfig auth(YamlMap m) {
    AuthConfig d = AuthConfig.DEFAULT;
    boolean enabled = m.bool("enabled", d.enabled());
    int address = m.integer("address_failures", d.addressFailures(), 1, 1_000_000);
    int identity = m.integer("identity_failures", d.identityFailures(), 1, 1_000_000);
    Duration day = Duration.ofDays(1);
    Duration window = m.duration("window", d.window(), ONE_SECOND, day);
    Duration backoff = m.duration("backoff", d.backoff(), ONE_SECOND, day);
    Duration maxBackoff = m.duration("max_backoff", d.maxBackoff(), ONE_SECOND, day);
    int maxTracked = m.integer("max_tracked", d.maxTracked(), 1, 10_000_000);
    if (maxBackoff.compareTo(backoff) < 0) {
      ctx.problem(
          m.value("max_backoff") == null ? m.line() : line(m.value("max_backoff")),
          m.path("max_backoff"),
          "max_backoff " + maxBackoff + " is shorter than backoff " + backoff,
          "make max_backoff at least backoff");
      maxBackoff = backoff;
    }
    return new AuthConfig(enabled, address, identity, window, backoff, maxBackoff, maxTracked);
  }

  private TlsConfig serverTls(YamlMap m) {
    boolean hasCert = m.present("cert_file");
    boolean hasKey = m.present("key_file");
    Path cert = hasCert ? m.existingFile("cert_file", "certificate file") : null;
    Path key = hasKey ? m.existingFile("key_file", "key file") : null;
    if (hasCert != hasKey) {
      String set = hasCert ? "cert_file" : "key_file";
      String other = hasCert ? "key_file" : "cert_file";
      ctx.problem(
          m.keyNode(set),
          m.path(set),
          "cert_file and key_file must be set together",
          "set "
              + other
              + " too, or remove "
              + set
              + " to use a generated self-signed certificate");
    }
    return new TlsConfig(cert, key);
  }

  /** A listener; {@code kexinitWait} is the SSH listener's (null for the others). */
  private ListenerConfig listener(YamlMap m, int defaultPort, Duration kexinitWait) {
    boolean enabled = m.bool("enabled", true);
    String host = m.string("host", "127.0.0.1");
    if (host.isBlank()) {
      ctx.problem(
          m.value("host"),
          m.path("host"),
          "host is empty",
          "use an address such as 127.0.0.1 or 0.0.0.0");
      host = "127.0.0.1";
    }
    int port = m.port("port", defaultPort, true);
    boolean plaintext = m.bool("plaintext", false);
    return new ListenerConfig(enabled, host.trim(), port, plaintext, kexinitWait);
  }

  /** Two enabled listeners on one port would fail at start; say so now, at the port's line. */
  private void checkPortConflicts(List<YamlMap> maps, List<ListenerConfig> listeners) {
    for (int i = 0; i < listeners.size(); i++) {
      for (int j = 0; j < i; j++) {
        ListenerConfig a = listeners.get(j);
        ListenerConfig b = listeners.get(i);
        boolean overlap = a.host().equals(b.host()) || isWildcard(a.host()) || isWildcard(b.host());
        if (a.enabled() && b.enabled() && a.port() != 0 && a.port() == b.port() && overlap) {
          // Point at the port that was written down; the other one is usually a default.
          boolean laterExplicit = maps.get(i).present("port") || !maps.get(j).present("port");
          YamlMap at = laterExplicit ? maps.get(i) : maps.get(j);
          YamlMap other = laterExplicit ? maps.get(j) : maps.get(i);
          Node node = at.value("port");
          ctx.problem(
              node == null ? at.line() : line(node),
              at.path("port"),
              "port " + b.port() + " is also used by " + other.path(),
              "give each listener its own port");
        }
      }
    }
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  // ---- store ---------------------------------------------------------------------------------

  private StoreConfig store(YamlMap m) {
    String type = m.choice("type", "embedded", "store type", STORE_TYPES);
    String url = null;
    String username = null;
    Secret password = null;
    if (type.equals("postgres")) {
      url =
          m.requiredString("url", "store type postgres needs url: jdbc:postgresql://HOST:5432/DB");
      if (url != null && !url.startsWith("jdbc:postgresql://")) {
        ctx.problem(
            m.value("url"),
            m.path("url"),
            ParseContext.show(m.value("url")) + " is not a PostgreSQL JDBC URL",
            "expected jdbc:postgresql://HOST[:PORT]/DATABASE");
        url = null;
      }
      username = m.string("username", null);
      password = m.secret("password");
    } else {
      for (String key : List.of("url", "username", "password")) {
        m.notApplicable(key, key + " applies only to store type postgres");
      }
    }
    int poolSize = m.integer("pool_size", DEFAULT_POOL_SIZE, 1, 1000);
    return new StoreConfig(type, url, username, password, poolSize);
  }

  // ---- identity ------------------------------------------------------------------------------

  private IdentityConfig identity(YamlMap m) {
    Duration human = m.duration("human_token_ttl", HUMAN_TTL, ONE_SECOND, MAX_TOKEN_TTL);
    Duration service = m.duration("service_token_ttl", SERVICE_TTL, ONE_SECOND, MAX_TOKEN_TTL);
    Duration agent = m.duration("agent_token_ttl", AGENT_TTL, ONE_SECOND, MAX_TOKEN_TTL);
    Map<String, Duration> ttlByKind = Map.of("human", human, "service", service, "agent", agent);

    List<UserConfig> users = new ArrayList<>();
    Unique subjects = new Unique("user subject");
    forEachItem(
        m,
        "users",
        USER_KEYS,
        (u, index) -> {
          String subject =
              u.requiredString("subject", "give the user's subject, for example alice@example.com");
          subjects.check(subject, u.value("subject"), u.path("subject"));
          String kind = u.choice("kind", "human", "principal kind", KINDS);
          List<String> groups = u.strings("groups", List.of());
          String role = u.choice("role", "user", "user role", ROLES);
          List<String> sshKeys = u.strings("ssh_keys", List.of());
          for (int i = 0; i < sshKeys.size(); i++) {
            String k = sshKeys.get(i).trim();
            if (!k.matches(
                "(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+.*")) {
              ctx.problem(
                  u.value("ssh_keys"),
                  ParseContext.item(u.path("ssh_keys"), i),
                  "is not an OpenSSH public key",
                  "paste one line of ~/.ssh/id_ed25519.pub (ssh-ed25519 AAAA... comment)");
            }
          }
          if (subject != null) {
            users.add(new UserConfig(subject, kind, groups, role, sshKeys));
          }
        });

    List<OidcIssuerConfig> issuers = new ArrayList<>();
    Unique issuerNames = new Unique("oidc issuer name");
    forEachItem(
        m,
        "oidc",
        OIDC_KEYS,
        (o, index) -> {
          OidcIssuerConfig issuer = oidcIssuer(o);
          issuerNames.check(issuer.name(), o.value("name"), o.path("name"));
          if (issuer.name() != null) {
            issuers.add(issuer);
          }
        });

    List<TokenExchangeConfig> exchanges = new ArrayList<>();
    Unique exchangeNames = new Unique("token exchange name");
    List<String> known = issuers.stream().map(OidcIssuerConfig::name).toList();
    forEachItem(
        m,
        "token_exchange",
        EXCHANGE_KEYS,
        (t, index) -> {
          TokenExchangeConfig exchange = tokenExchange(t, known, ttlByKind);
          exchangeNames.check(exchange.name(), t.value("name"), t.path("name"));
          if (exchange.name() != null) {
            exchanges.add(exchange);
          }
        });
    YamlMap keys = m.map("ssh_keys", SSH_KEYS_KEYS);
    SshKeysConfig sshKeys =
        new SshKeysConfig(
            keys.duration("max_ttl", SshKeysConfig.DEFAULT.maxTtl(), ONE_SECOND, MAX_SSH_KEY_TTL));
    return new IdentityConfig(human, service, agent, users, issuers, exchanges, sshKeys);
  }

  private OidcIssuerConfig oidcIssuer(YamlMap o) {
    String name = name(o, "issuer name, for example corp-sso");
    String issuer = null;
    if (o.present("issuer")) {
      issuer = url(o, "issuer", true);
    } else {
      o.missing("issuer", "give the issuer URL, for example https://login.example.com/realms/corp");
    }
    List<String> audiences = o.strings("audiences", List.of());
    String clientId = o.string("client_id", null);
    if (audiences.isEmpty()) {
      if (clientId != null) {
        // The usual OIDC setup: ID tokens carry the client id as audience.
        audiences = List.of(clientId);
      } else {
        o.missing(
            "audiences",
            "list the audiences to accept (or set client_id), so tokens issued for other applications are rejected");
      }
    }
    String jwksUri = o.present("jwks_uri") ? url(o, "jwks_uri", true) : null;
    List<String> algorithms = List.of("RS256", "ES256");
    if (o.present("algorithms")) {
      List<Node> nodes = o.items("algorithms");
      List<String> listed = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        // Asymmetric algorithms only: "none" and shared-secret HS* are never accepted.
        String alg =
            ctx.choice(
                nodes.get(i), item(o.path("algorithms"), i), "signature algorithm", JWS_ALGORITHMS);
        if (alg != null) {
          listed.add(alg);
        }
      }
      if (nodes.isEmpty() && o.value("algorithms") instanceof SequenceNode) {
        ctx.problem(
            o.value("algorithms"),
            o.path("algorithms"),
            "no algorithms listed",
            "remove the key for the default [RS256, ES256]");
      }
      algorithms = listed;
    }
    Duration clockSkew = o.duration("clock_skew", CLOCK_SKEW, Duration.ZERO, MAX_CLOCK_SKEW);
    String subjectClaim = nonBlank(o, "subject_claim", "sub");
    String groupsClaim = nonBlank(o, "groups_claim", "groups");
    String kind = o.choice("kind", "human", "principal kind", KINDS);
    List<String> adminGroups = o.strings("admin_groups", List.of());
    List<String> auditorGroups = o.strings("auditor_groups", List.of());
    return new OidcIssuerConfig(
        name,
        issuer,
        audiences,
        clientId,
        jwksUri,
        algorithms,
        clockSkew,
        subjectClaim,
        groupsClaim,
        kind,
        adminGroups,
        auditorGroups);
  }

  private TokenExchangeConfig tokenExchange(
      YamlMap t, List<String> issuers, Map<String, Duration> ttlByKind) {
    String name = name(t, "mapping name, for example github-actions");
    String issuer = t.requiredString("issuer", "name one of the identity.oidc issuers");
    if (issuer != null && !issuers.contains(issuer)) {
      String guess = Suggestions.closest(issuer, issuers);
      ctx.problem(
          t.value("issuer"),
          t.path("issuer"),
          "no oidc issuer named \"" + issuer + "\"",
          guess != null
              ? "did you mean `" + guess + "`?"
              : issuers.isEmpty()
                  ? "declare it under identity.oidc"
                  : "configured issuers: " + String.join(", ", issuers));
    }
    Map<String, String> match = t.stringMap("match");
    String subject = t.string("subject", "{sub}");
    checkTemplate(t, subject);
    List<String> groups = t.strings("groups", List.of());
    String kind = t.choice("kind", "service", "principal kind", KINDS);
    Duration ttl = t.duration("ttl", ttlByKind.get(kind), ONE_SECOND, MAX_TOKEN_TTL);
    List<String> scope = t.strings("scope", List.of());
    return new TokenExchangeConfig(name, issuer, match, subject, groups, kind, ttl, scope);
  }

  private void checkTemplate(YamlMap t, String subject) {
    if (subject.isBlank()) {
      ctx.problem(
          t.value("subject"),
          t.path("subject"),
          "must not be empty",
          "use a template such as {sub} or ci:{repository}");
      return;
    }
    int depth = 0;
    for (char c : subject.toCharArray()) {
      depth += c == '{' ? 1 : c == '}' ? -1 : 0;
      if (depth < 0 || depth > 1) {
        break;
      }
    }
    if (depth != 0) {
      ctx.problem(
          t.value("subject"),
          t.path("subject"),
          ParseContext.show(t.value("subject")) + " has unbalanced braces",
          "placeholders are {claim}, for example ci:{repository}");
    }
  }

  // ---- connections ---------------------------------------------------------------------------

  private List<ConnectionConfig> connections(YamlMap top) {
    List<ConnectionConfig> out = new ArrayList<>();
    Unique names = new Unique("connection name");
    forEachItem(
        top,
        "connections",
        CONNECTION_KEYS,
        (c, index) -> {
          ConnectionConfig conn = connection(c);
          names.check(conn.name(), c.value("name"), c.path("name"));
          if (conn.name() != null && conn.type() != null) {
            out.add(conn);
          }
        });
    checkRunners(out);
    return out;
  }

  /** An {@code exec.runner} as written, checked once every connection is known. */
  private record RunnerRef(String name, Node at, String path) {}

  private final List<RunnerRef> runnerRefs = new ArrayList<>();

  /** Each {@code exec.runner} must name an ssh connection. */
  private void checkRunners(List<ConnectionConfig> connections) {
    Map<String, String> types = new HashMap<>();
    connections.forEach(c -> types.put(c.name(), c.type()));
    List<String> ssh =
        connections.stream()
            .filter(c -> "ssh".equals(c.type()))
            .map(ConnectionConfig::name)
            .toList();
    for (RunnerRef r : runnerRefs) {
      String type = types.get(r.name());
      if ("ssh".equals(type)) {
        continue; // its host keys are checked with the connection itself
      }
      String guess = Suggestions.closest(r.name(), ssh);
      ctx.problem(
          r.at(),
          r.path(),
          type == null
              ? "no connection named \"" + r.name() + "\""
              : "\"" + r.name() + "\" is a " + type + " connection; a runner is an ssh connection",
          guess != null
              ? "did you mean `" + guess + "`?"
              : ssh.isEmpty()
                  ? "declare the target as a connection of type ssh (host, username, ssh.host_keys)"
                  : "ssh connections: " + String.join(", ", ssh));
    }
  }

  private ConnectionConfig connection(YamlMap c) {
    String name = name(c, "connection name, for example orders-db");
    String type = null;
    if (c.present("type")) {
      type = c.choice("type", null, "connection type", CONNECTION_TYPES);
    } else {
      c.missing("type", "one of " + String.join(", ", CONNECTION_TYPES));
    }
    // With an unknown type, type-specific requirements would only add noise to the real error.
    boolean needsTarget = type != null && !type.equals("exec");
    boolean database = "postgres".equals(type) || "mysql".equals(type);
    String host =
        !needsTarget
            ? c.string("host", null)
            : c.requiredString("host", "give the target's host name or address");
    int defaultPort =
        type == null
            ? 0
            : switch (type) {
              case "postgres" -> 5432;
              case "mysql" -> 3306;
              case "ssh" -> 22;
              default -> 0;
            };
    int port = c.port("port", defaultPort, false);
    String db = null;
    UpstreamTlsConfig tls = null;
    if (database) {
      db = c.string("database", null);
      tls = upstreamTls(c.map("tls", UPSTREAM_TLS_KEYS));
    } else if (type != null) {
      c.notApplicable("database", "database applies only to postgres and mysql connections");
      c.notApplicable("tls", "tls applies only to postgres and mysql connections");
    }
    String username =
        !needsTarget
            ? c.string("username", null)
            : c.requiredString("username", "give the user the gateway logs in as on the target");
    Secret password = c.secret("password");
    Map<String, String> labels = c.stringMap("labels");
    Map<String, Object> options = options(c);
    ExecConfig exec = null;
    SshTargetConfig ssh = null;
    if ("exec".equals(type)) {
      exec = exec(c.map("exec", EXEC_KEYS), name);
    } else if (type != null) {
      c.notApplicable("exec", "exec applies only to exec connections");
    }
    if ("ssh".equals(type)) {
      YamlMap sshMap = c.map("ssh", SSH_TARGET_KEYS);
      ssh = sshTarget(sshMap);
      if (ssh.hostKeys().isEmpty()) {
        // SshUpstream never trusts a host key on first use (an unpinned key could be anyone's,
        // RFC 4251 section 4.1), so every session and every run on this connection would be
        // refused at run time: say so now, at the connection, with the command that pins it.
        noHostKeys(c, sshMap, name, host);
      }
    } else if (type != null) {
      c.notApplicable("ssh", "ssh applies only to ssh connections");
    }
    int maxSessions =
        c.integer("max_sessions", ConnectionConfig.DEFAULT_MAX_SESSIONS, 0, 1_000_000);
    int maxPerPrincipal =
        c.integer(
            "max_sessions_per_principal",
            ConnectionConfig.DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
            0,
            1_000_000);
    Map<String, UpstreamRole> roles = roles(c, type);
    return new ConnectionConfig(
            name, type, host, port, db, username, password, labels, tls, options, exec, ssh)
        .withSessionLimits(maxSessions, maxPerPrincipal)
        .withRoles(roles);
  }

  /**
   * {@code roles}: other logins to the same target, for the {@code upstream_role} obligation
   * (postgres, mysql and ssh; an exec connection logs in nowhere). Names as policy rules write them
   * ({@link UpstreamRole#NAME}).
   */
  private Map<String, UpstreamRole> roles(YamlMap c, String type) {
    Map<String, UpstreamRole> out = new LinkedHashMap<>();
    if (type == null) {
      return out;
    }
    if (type.equals("exec")) {
      c.notApplicable("roles", "roles apply only to postgres, mysql and ssh connections");
      return out;
    }
    Unique names = new Unique("role name");
    forEachItem(
        c,
        "roles",
        ROLE_KEYS,
        (r, index) -> {
          String n = r.requiredString("name", "the name policy rules give as upstream_role");
          if (n != null && !UpstreamRole.NAME.matcher(n).matches()) {
            ctx.problem(
                r.value("name"),
                r.path("name"),
                show(n) + " is not a role name",
                "use letters, digits, _, - and . (at most 63), such as reader");
            n = null;
          }
          names.check(n, r.value("name"), r.path("name"));
          String user =
              r.requiredString("username", "give the user this role logs in as on the target");
          Secret pw = r.secret("password");
          Secret key = null;
          if (type.equals("ssh")) {
            key = r.secret("private_key");
          } else {
            r.notApplicable("private_key", "private_key applies only to ssh connections");
          }
          if (n != null && user != null) {
            out.put(n, new UpstreamRole(user, pw, key));
          }
        });
    return out;
  }

  private ExecConfig exec(YamlMap e, String connection) {
    List<String> binaries = e.strings("binaries", List.of());
    for (int i = 0; i < binaries.size(); i++) {
      String b = binaries.get(i);
      if (!b.startsWith("/") || b.contains("/../") || b.endsWith("/..") || b.contains("/./")) {
        ctx.problem(
            e.value("binaries"),
            ParseContext.item(e.path("binaries"), i),
            show(b) + " is not an absolute, normalized path",
            "give the full path, such as /usr/bin/npm (the gateway never searches PATH)");
      }
    }
    String workspace = e.choice("workspace", "fresh", "workspace mode", WORKSPACES);
    Path workdir = e.path("workdir", null);
    if ("fixed".equals(workspace) && workdir == null) {
      e.missing("workdir", "a fixed workspace needs workdir, the directory processes run in");
    }
    Map<String, String> env = e.stringMap("env");
    List<String> envAllow = e.strings("env_allow", List.of());
    List<ExecSecretConfig> secrets = new ArrayList<>();
    Unique secretNames = new Unique("secret name");
    forEachItem(
        e,
        "secrets",
        EXEC_SECRET_KEYS,
        (s, index) -> {
          String n = s.requiredString("name", "the environment variable, such as NPM_TOKEN");
          if (n != null && !n.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            ctx.problem(
                s.value("name"),
                s.path("name"),
                show(n) + " is not an environment variable name",
                "use letters, digits and _, such as NPM_TOKEN");
          }
          secretNames.check(n, s.value("name"), s.path("name"));
          Secret value = s.secret("value");
          if (value == null && !s.present("value")) {
            s.missing("value", "give the secret as ${env:NAME} or ${file:PATH}");
          }
          String as = s.choice("as", "env", "secret form", SECRET_FORMS);
          if (n != null && value != null) {
            secrets.add(new ExecSecretConfig(n, value, as));
          }
        });
    Duration timeout =
        e.duration("timeout", EXEC_TIMEOUT, Duration.ofSeconds(1), Duration.ofDays(1));
    long maxOutput = bytes(e, "max_output", EXEC_MAX_OUTPUT);
    long memory = bytes(e, "memory", 0);
    Duration cpu = e.duration("cpu", Duration.ZERO, Duration.ZERO, Duration.ofDays(1));
    int processes = e.integer("processes", 0, 0, 1_000_000);
    String sandbox = e.choice("sandbox", "auto", "sandbox", SANDBOXES);
    boolean network = e.bool("network", true);
    String runAs = e.string("run_as", null);
    String runner = e.string("runner", null);
    if (runner != null) {
      runnerRefs.add(new RunnerRef(runner, e.value("runner"), e.path("runner")));
      onRunner(e, runner, sandbox, network, env);
    }
    List<String> signalsAllow = signalsAllow(e);
    return new ExecConfig(
        binaries,
        workspace,
        workdir,
        env,
        envAllow,
        secrets,
        timeout,
        maxOutput,
        memory,
        cpu,
        processes,
        sandbox,
        network,
        runAs,
        runner,
        signalsAllow);
  }

  /**
   * {@code signals_allow} of an {@code exec} or {@code ssh} block: USR1 and USR2 only; any other
   * name is a problem at its item (the default signals are always forwarded, the rest never).
   */
  private List<String> signalsAllow(YamlMap m) {
    List<String> signalsAllow = new ArrayList<>();
    List<String> asked = m.strings("signals_allow", List.of());
    for (int i = 0; i < asked.size(); i++) {
      String sig = ExecConfig.signalName(asked.get(i));
      if (ExecConfig.OPT_IN_SIGNALS.contains(sig)) {
        signalsAllow.add(sig);
      } else {
        ctx.problem(
            m.value("signals_allow"),
            ParseContext.item(m.path("signals_allow"), i),
            show(asked.get(i)) + " cannot be opted in",
            "list only "
                + String.join(" and ", new java.util.TreeSet<>(ExecConfig.OPT_IN_SIGNALS))
                + "; "
                + String.join(", ", new java.util.TreeSet<>(ExecConfig.DEFAULT_SIGNALS))
                + " are always forwarded, other signals never");
      }
    }
    return signalsAllow;
  }

  /**
   * Settings that only the gateway host can apply are errors with a runner: there is no bubblewrap,
   * run_as or network namespace on the target (commands run as the ssh connection's user). Limits
   * apply there too (ulimit); workdir is a path on the target, so it must be absolute.
   */
  private void onRunner(
      YamlMap e, String runner, String sandbox, boolean network, Map<String, String> env) {
    String where = "commands run on runner " + runner + " as its ssh user";
    for (String name : env.keySet()) {
      // exported by a shell on the target: the name must be one a shell accepts
      if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        ctx.problem(
            e.value("env"),
            e.path("env"),
            show(name) + " is not an environment variable name",
            "use letters, digits and _, such as NODE_ENV");
      }
    }
    if ("bubblewrap".equals(sandbox)) {
      ctx.problem(
          e.value("sandbox"),
          e.path("sandbox"),
          "sandbox: bubblewrap applies to the gateway host only; " + where,
          "remove it (isolate the target itself: a dedicated user, host or container)");
    }
    if (!network) {
      ctx.problem(
          e.value("network"),
          e.path("network"),
          "network: false needs the gateway's sandbox; " + where,
          "remove it, or restrict the target's network (firewall)");
    }
    e.notApplicable("run_as", "run_as applies to the gateway host only; " + where);
    String workdir = e.string("workdir", null);
    if (workdir != null && !workdir.trim().startsWith("/")) {
      ctx.problem(
          e.value("workdir"),
          e.path("workdir"),
          show(workdir) + " is relative; with a runner, workdir is a path on the target",
          "give an absolute path, such as /srv/builds");
    }
  }

  /** A byte size: an integer, optionally followed by k, m or g (powers of 1024). */
  private long bytes(YamlMap m, String key, long def) {
    String text = m.string(key, null);
    if (text == null) {
      return def;
    }
    var match =
        java.util.regex.Pattern.compile("(\\d{1,12})\\s*([kKmMgG]?)[bB]?").matcher(text.trim());
    if (!match.matches()) {
      ctx.problem(
          m.value(key),
          m.path(key),
          show(text) + " is not a size",
          "expected bytes such as 65536, 512k, 64m or 2g");
      return def;
    }
    long n = Long.parseLong(match.group(1));
    return switch (match.group(2).toLowerCase(java.util.Locale.ROOT)) {
      case "k" -> n << 10;
      case "m" -> n << 20;
      case "g" -> n << 30;
      default -> n;
    };
  }

  /** An ssh connection without {@code ssh.host_keys}: where to add them and how to get them. */
  private void noHostKeys(YamlMap c, YamlMap s, String name, String host) {
    String message =
        "ssh connection \""
            + name
            + "\" pins no host keys; the gateway never trusts a target's key on first use, so"
            + " every session and every run on it would be refused";
    String fix =
        "pin the target's key in ssh.host_keys: run `ssh-keyscan -t ed25519 "
            + (host == null ? "HOST" : host)
            + "` (from a network you trust) and add the key part, \"ssh-ed25519 AAAA...\","
            + " without the host name";
    if (s.present("host_keys")) {
      ctx.problem(s.value("host_keys"), s.path("host_keys"), message, fix);
    } else if (c.present("ssh")) {
      ctx.problem(s.line(), s.path("host_keys"), message, fix);
    } else {
      ctx.problem(c.line(), c.path("ssh") + ".host_keys", message, fix);
    }
  }

  private SshTargetConfig sshTarget(YamlMap s) {
    List<String> hostKeys = s.strings("host_keys", List.of());
    for (int i = 0; i < hostKeys.size(); i++) {
      if (!hostKeys.get(i).trim().matches("[a-z0-9@.-]+ [A-Za-z0-9+/=]+( .*)?")) {
        ctx.problem(
            s.value("host_keys"),
            ParseContext.item(s.path("host_keys"), i),
            "is not an OpenSSH public key line",
            "expected \"TYPE BASE64\" as ssh-keyscan prints it, such as \"ssh-ed25519 AAAA...\"");
      }
    }
    Secret privateKey = s.secret("private_key");
    String pagerGuard =
        s.choice(
            "pager_guard", SshTargetConfig.ALWAYS, "pager guard", SshTargetConfig.PAGER_GUARDS);
    return new SshTargetConfig(
        hostKeys, privateKey, pagerGuard, s.bool("resolve_command_paths", true), signalsAllow(s));
  }

  private UpstreamTlsConfig upstreamTls(YamlMap t) {
    String mode = t.choice("mode", "prefer", "tls mode", TLS_MODES);
    Path ca = t.present("ca") ? t.existingFile("ca", "CA certificate file") : null;
    if (mode.equals("verify-full") && !t.present("ca")) {
      Node at = t.value("mode");
      ctx.problem(
          at == null ? t.line() : line(at),
          t.path("mode"),
          "verify-full needs `ca`",
          "set ca to the PEM file of the CA that signed the target's certificate");
    }
    if (mode.equals("disable")) {
      t.notApplicable("ca", "ca is not used when mode is disable");
    }
    return new UpstreamTlsConfig(mode, ca);
  }

  /**
   * Protocol-specific settings, kept as plain Java values: String, Integer/Long/BigInteger, Double,
   * Boolean, List, Map. Only plain (unquoted) scalars are typed; quoted ones are strings.
   */
  private Map<String, Object> options(YamlMap c) {
    Node v = c.value("options");
    if (isNull(v)) {
      return Map.of();
    }
    if (!(v instanceof MappingNode)) {
      ctx.problem(
          v, c.path("options"), "expected a mapping, found " + ParseContext.kindOf(v), null);
      return Map.of();
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) plain(v, c.path("options"), 0);
    return m == null ? Map.of() : m;
  }

  private Object plain(Node n, String path, int depth) {
    // An alias can point back at its own anchor; a depth bound turns that into an error.
    if (depth > MAX_OPTION_DEPTH) {
      ctx.problem(
          n,
          path,
          "nested more than " + MAX_OPTION_DEPTH + " levels deep",
          "flatten the value; a recursive alias (*name inside &name) cannot be used here");
      return null;
    }
    if (isNull(n)) {
      ctx.problem(n, path, "null values are not allowed here", "give a value or remove the key");
      return null;
    }
    if (n instanceof SequenceNode seq) {
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < seq.getValue().size(); i++) {
        Object o = plain(seq.getValue().get(i), item(path, i), depth + 1);
        if (o != null) {
          out.add(o);
        }
      }
      return Collections.unmodifiableList(out);
    }
    if (n instanceof MappingNode mapping) {
      Map<String, Object> out = new LinkedHashMap<>();
      Map<String, Node> seen = new HashMap<>();
      for (NodeTuple t : mapping.getValue()) {
        if (!(t.getKeyNode() instanceof ScalarNode k)) {
          ctx.problem(
              t.getKeyNode(),
              path,
              "keys must be plain names, found " + ParseContext.kindOf(t.getKeyNode()),
              null);
          continue;
        }
        String at = ParseContext.child(path, k.getValue());
        Node first = seen.putIfAbsent(k.getValue(), k);
        if (first != null) {
          ctx.problem(
              k, at, "duplicate key (first set on line " + line(first) + ")", "keep one of them");
          continue;
        }
        Object o = plain(t.getValueNode(), at, depth + 1);
        if (o != null) {
          out.put(k.getValue(), o);
        }
      }
      return Collections.unmodifiableMap(out);
    }
    ScalarNode s = (ScalarNode) n;
    String text = ctx.text(s, path, "a value");
    if (text == null) {
      return null;
    }
    if (s.getScalarStyle() != DumperOptions.ScalarStyle.PLAIN || s.getValue().contains("${")) {
      return text;
    }
    if (text.equals("true") || text.equals("false")) {
      return Boolean.valueOf(text);
    }
    if (text.matches("[+-]?\\d+")) {
      BigInteger big = new BigInteger(text);
      if (big.bitLength() < 32) {
        return big.intValue();
      }
      return big.bitLength() < 64 ? (Object) big.longValue() : big;
    }
    if (text.matches("[+-]?(\\d+\\.\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
      return Double.valueOf(text);
    }
    return text;
  }

  // ---- policy, audit, approvals, masking, logging --------------------------------------------

  private PolicyConfig policy(YamlMap m) {
    List<String> files = globs(m, "files", "policy file");
    boolean watch = m.bool("watch", true);
    return new PolicyConfig(files, watch);
  }

  /** Each entry made absolute, and each must match at least one file now. */
  private List<String> globs(YamlMap m, String key, String what) {
    List<String> raw = m.strings(key, List.of());
    List<Node> nodes = m.items(key);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      String pattern = raw.get(i).trim();
      Node at = i < nodes.size() ? nodes.get(i) : m.value(key);
      String abs = Globs.absolute(pattern, ctx.baseDir);
      out.add(abs);
      try {
        if (Globs.match(abs).isEmpty()) {
          ctx.problem(
              at,
              item(m.path(key), i),
              (Globs.isGlob(pattern) ? "no " + what + " matches " : what + " not found: ") + abs,
              "fix the path; relative paths resolve against " + ctx.baseDir);
        }
      } catch (IOException | RuntimeException e) {
        ctx.problem(
            at,
            item(m.path(key), i),
            "cannot list files for " + abs + " (" + e.getClass().getSimpleName() + ")",
            "check the path and its permissions");
      }
    }
    return out;
  }

  private AuditConfig audit(YamlMap m) {
    Duration checkpoint =
        m.duration("checkpoint_interval", CHECKPOINT_INTERVAL, ONE_SECOND, Duration.ofDays(1));
    List<AuditSinkConfig> sinks = new ArrayList<>();
    forEachItem(
        m,
        "sinks",
        SINK_KEYS,
        (s, index) -> {
          String type = null;
          if (s.present("type")) {
            type = s.choice("type", null, "sink type", SINK_TYPES);
          } else {
            s.missing("type", "one of " + String.join(", ", SINK_TYPES));
          }
          Path path = null;
          String url = null;
          Secret authorization = null;
          if ("file".equals(type)) {
            if (s.present("path")) {
              path = s.path("path", null);
            } else {
              s.missing("path", "a file sink needs path: the JSON Lines file to append to");
            }
            s.notApplicable("url", "url applies only to webhook sinks");
            s.notApplicable("authorization", "authorization applies only to webhook sinks");
          } else if ("webhook".equals(type)) {
            if (s.present("url")) {
              url = url(s, "url", false);
            } else {
              s.missing("url", "a webhook sink needs url: where to POST audit events");
            }
            authorization = s.secret("authorization");
            s.notApplicable("path", "path applies only to file sinks");
          }
          if (type != null) {
            sinks.add(new AuditSinkConfig(type, path, url, authorization));
          }
        });
    String durability =
        m.choice("durability", AuditConfig.FSYNC, "audit durability", AuditConfig.DURABILITIES);
    return new AuditConfig(checkpoint, sinks, durability);
  }

  private ApprovalsConfig approvals(YamlMap m) {
    Duration maxWait = m.duration("max_wait", MAX_WAIT, ONE_SECOND, Duration.ofDays(7));
    Duration defaultExpiry =
        m.duration("default_expiry", DEFAULT_EXPIRY, ONE_SECOND, Duration.ofDays(90));
    String publicUrl = m.present("public_url") ? url(m, "public_url", false) : null;
    List<WebhookConfig> webhooks = new ArrayList<>();
    forEachItem(
        m,
        "webhooks",
        WEBHOOK_KEYS,
        (w, index) -> {
          String format = w.choice("format", "json", "webhook format", WEBHOOK_FORMATS);
          String url = null;
          if (w.present("url")) {
            url = url(w, "url", false);
          } else {
            w.missing("url", "where to POST review notifications");
          }
          if (url != null) {
            webhooks.add(new WebhookConfig(format, url));
          }
        });
    return new ApprovalsConfig(maxWait, defaultExpiry, publicUrl, webhooks);
  }

  private MaskingConfig masking(YamlMap m) {
    List<String> files = globs(m, "files", "masking rule file");
    Secret hmacKey = m.secret("hmac_key");
    double threshold =
        m.decimal(
            "entropy_threshold",
            ENTROPY_THRESHOLD,
            0.0,
            8.0,
            "bits per character, above 0 and at most 8");
    return new MaskingConfig(files, hmacKey, threshold);
  }

  private LoggingConfig logging(YamlMap m) {
    return new LoggingConfig(
        m.choice("format", "text", "logging format", LOG_FORMATS),
        m.choice("level", "info", "logging level", LOG_LEVELS));
  }

  // ---- shared checks -------------------------------------------------------------------------

  interface ItemBinder {
    void bind(YamlMap item, int index);
  }

  private void forEachItem(YamlMap parent, String key, List<String> keys, ItemBinder binder) {
    List<Node> items = parent.items(key);
    for (int i = 0; i < items.size(); i++) {
      Node n = items.get(i);
      String at = item(parent.path(key), i);
      if (isNull(n)) {
        ctx.problem(n, at, "empty list item", "remove the `-` or fill in the entry");
        continue;
      }
      YamlMap m = YamlMap.of(ctx, n, at, keys);
      if (n instanceof MappingNode) {
        binder.bind(m, i);
      }
    }
  }

  private String name(YamlMap m, String fix) {
    String name = m.requiredString("name", "give a " + fix);
    if (name != null && !NAME.matcher(name).matches()) {
      ctx.problem(
          m.value("name"),
          m.path("name"),
          ParseContext.show(m.value("name")) + " is not a valid name",
          "use up to 63 letters, digits, '.', '_' or '-', starting with a letter or digit");
      return null;
    }
    return name;
  }

  private String nonBlank(YamlMap m, String key, String def) {
    String v = m.string(key, def);
    if (v.isBlank()) {
      ctx.problem(
          m.value(key), m.path(key), "must not be empty", "remove the key for the default " + def);
      return def;
    }
    return v;
  }

  /**
   * An absolute http(s) URL. With {@code httpsUnlessLoopback} plain http is accepted only for
   * loopback hosts: key material fetched over plain http could be swapped in transit.
   */
  private String url(YamlMap m, String key, boolean httpsUnlessLoopback) {
    String text = m.string(key, null);
    if (text == null) {
      return null;
    }
    Node at = m.value(key);
    URI uri;
    try {
      uri = new URI(text.trim());
    } catch (URISyntaxException e) {
      ctx.problem(
          at,
          m.path(key),
          ParseContext.show(at) + " is not a URL",
          "expected an http(s) URL such as https://example.com/path");
      return null;
    }
    String scheme =
        uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!(scheme.equals("https") || scheme.equals("http")) || uri.getHost() == null) {
      ctx.problem(
          at,
          m.path(key),
          ParseContext.show(at) + " is not an http(s) URL",
          "expected an http(s) URL such as https://example.com/path");
      return null;
    }
    if (httpsUnlessLoopback && scheme.equals("http") && !isLoopback(uri.getHost())) {
      ctx.problem(
          at,
          m.path(key),
          ParseContext.show(at) + " uses plain http",
          "use https://; plain http is accepted only for localhost");
      return null;
    }
    return text.trim();
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
  }

  /** Reports the second and later uses of a name, pointing at the first. */
  private final class Unique {
    private final String what;
    private final Map<String, Node> seen = new HashMap<>();

    Unique(String what) {
      this.what = what;
    }

    void check(String value, Node at, String path) {
      if (value == null) {
        return;
      }
      Node first = seen.putIfAbsent(value, at);
      if (first != null) {
        ctx.problem(
            at,
            path,
            "duplicate " + what + " \"" + value + "\" (first defined on line " + line(first) + ")",
            "names must be unique; rename or remove one");
      }
    }
  }
}
