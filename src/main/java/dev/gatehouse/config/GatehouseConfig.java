package dev.gatehouse.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
      ListenerConfig ssh,
      AuthConfig auth) {
    public ServerConfig {
      auth = auth == null ? AuthConfig.DEFAULT : auth;
    }

    /** The listeners and key material, with the default {@link AuthConfig}. */
    public ServerConfig(
        Path dataDir,
        Secret masterKey,
        TlsConfig tls,
        ListenerConfig api,
        ListenerConfig postgres,
        ListenerConfig ssh) {
      this(dataDir, masterKey, tls, api, postgres, ssh, AuthConfig.DEFAULT);
    }
  }

  /**
   * {@code server.auth:} throttling of failed authentication on every listener. After {@code
   * addressFailures} failures from one client address within {@code window}, its attempts are
   * refused without checking the credential for {@code backoff}, doubling with each further
   * throttling period up to {@code maxBackoff}; {@code addressFailures} is also the number of
   * checks one address may have in flight. After {@code identityFailures} failures for one claimed
   * identity, that identity's credentials are still checked (a valid one gets in, so strangers
   * cannot lock a user out) but its failures are refused as throttled. At most {@code maxTracked}
   * addresses and identities are remembered (the least recently seen go first).
   */
  public record AuthConfig(
      boolean enabled,
      int addressFailures,
      int identityFailures,
      Duration window,
      Duration backoff,
      Duration maxBackoff,
      int maxTracked) {
    public static final AuthConfig DEFAULT =
        new AuthConfig(
            true,
            10,
            20,
            Duration.ofMinutes(1),
            Duration.ofMinutes(1),
            Duration.ofMinutes(15),
            10_000);

    public AuthConfig {
      if (addressFailures < 1 || identityFailures < 1 || maxTracked < 1) {
        throw new IllegalArgumentException(
            "auth limits: failures and max_tracked must be at least 1");
      }
      if (window.isNegative()
          || window.isZero()
          || backoff.isNegative()
          || backoff.isZero()
          || maxBackoff.compareTo(backoff) < 0) {
        throw new IllegalArgumentException(
            "auth limits: window "
                + window
                + ", backoff "
                + backoff
                + ", max_backoff "
                + maxBackoff
                + " (expected: positive, max_backoff >= backoff)");
      }
    }
  }

  /**
   * A listener. {@code enabled: false} turns it off; {@code plaintext: true} allows clients without
   * TLS (loudly logged). {@code kexinitWait} is the SSH listener's only: how long it holds its
   * KEXINIT for the client's (docs/ssh.md, "Ciphers"), zero to send it at once; null on the others.
   */
  public record ListenerConfig(
      boolean enabled, String host, int port, boolean plaintext, Duration kexinitWait) {
    /** The SSH listener's default {@code kexinit_wait}. */
    public static final Duration KEXINIT_WAIT = Duration.ofMillis(200);

    /** Longest {@code kexinit_wait}: every client that waits for the server's KEXINIT pays it. */
    public static final Duration MAX_KEXINIT_WAIT = Duration.ofSeconds(5);

    public ListenerConfig {
      if (kexinitWait != null
          && (kexinitWait.isNegative() || kexinitWait.compareTo(MAX_KEXINIT_WAIT) > 0)) {
        throw new IllegalArgumentException(
            "kexinit_wait: " + kexinitWait + " (expected: 0 to " + MAX_KEXINIT_WAIT + ")");
      }
    }

    /** A listener without SSH settings (the API and PostgreSQL listeners). */
    public ListenerConfig(boolean enabled, String host, int port, boolean plaintext) {
      this(enabled, host, port, plaintext, null);
    }
  }

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
      List<TokenExchangeConfig> tokenExchange,
      SshKeysConfig sshKeys) {
    public IdentityConfig {
      users = List.copyOf(users);
      oidc = List.copyOf(oidc);
      tokenExchange = List.copyOf(tokenExchange);
      sshKeys = sshKeys == null ? SshKeysConfig.DEFAULT : sshKeys;
    }

    /** Identities and lifetimes, with the default {@link SshKeysConfig}. */
    public IdentityConfig(
        Duration humanTokenTtl,
        Duration serviceTokenTtl,
        Duration agentTokenTtl,
        List<UserConfig> users,
        List<OidcIssuerConfig> oidc,
        List<TokenExchangeConfig> tokenExchange) {
      this(
          humanTokenTtl,
          serviceTokenTtl,
          agentTokenTtl,
          users,
          oidc,
          tokenExchange,
          SshKeysConfig.DEFAULT);
    }
  }

  /**
   * {@code identity.ssh_keys:} keys registered at run time. {@code maxTtl} is the longest expiry an
   * admin may give a key; everyone else's keys expire with the token that registered them.
   */
  public record SshKeysConfig(Duration maxTtl) {
    public static final SshKeysConfig DEFAULT = new SshKeysConfig(Duration.ofDays(90));
  }

  /**
   * A locally declared identity. {@code role} is the API role: admin, auditor or user. Humans from
   * OIDC get their API role from {@code admin_groups}/{@code auditor_groups} in the issuer config.
   */
  public record UserConfig(
      String subject, String kind, List<String> groups, String role, List<String> sshKeys) {
    public UserConfig {
      groups = List.copyOf(groups);
      sshKeys = List.copyOf(sshKeys);
    }

    public UserConfig(String subject, String kind, List<String> groups, String role) {
      this(subject, kind, groups, role, List.of());
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
   *
   * @param maxSessions sessions open at once on this connection, all principals together; 0 for no
   *     limit
   * @param maxSessionsPerPrincipal sessions one principal (subject) may have open at once on this
   *     connection; 0 for no limit. Each session may hold a connection of the target (a PostgreSQL
   *     backend), so without a cap one principal can use up the target's {@code max_connections}
   *     and lock everyone else out.
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
      Map<String, Object> options,
      ExecConfig exec,
      SshTargetConfig ssh,
      int maxSessions,
      int maxSessionsPerPrincipal,
      Map<String, UpstreamRole> roles) {
    /** {@link #maxSessions()} unless configured: no limit of its own (the target's applies). */
    public static final int DEFAULT_MAX_SESSIONS = 0;

    /**
     * {@link #maxSessionsPerPrincipal()} unless configured: well below PostgreSQL's default {@code
     * max_connections} (100), so that one principal leaves room for the others.
     */
    public static final int DEFAULT_MAX_SESSIONS_PER_PRINCIPAL = 20;

    public ConnectionConfig {
      labels = Map.copyOf(labels);
      options = Map.copyOf(options);
      roles = roles == null ? Map.of() : Map.copyOf(roles);
      if (maxSessions < 0 || maxSessionsPerPrincipal < 0) {
        throw new IllegalArgumentException("session limits must be 0 (none) or more");
      }
    }

    /** With the default session limits. */
    public ConnectionConfig(
        String name,
        String type,
        String host,
        int port,
        String database,
        String username,
        Secret password,
        Map<String, String> labels,
        UpstreamTlsConfig tls,
        Map<String, Object> options,
        ExecConfig exec,
        SshTargetConfig ssh) {
      this(
          name,
          type,
          host,
          port,
          database,
          username,
          password,
          labels,
          tls,
          options,
          exec,
          ssh,
          DEFAULT_MAX_SESSIONS,
          DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
          Map.of());
    }

    /** This connection with other session limits. */
    public ConnectionConfig withSessionLimits(int max, int perPrincipal) {
      return with(max, perPrincipal, roles);
    }

    /** This connection with other {@link #roles}. */
    public ConnectionConfig withRoles(Map<String, UpstreamRole> r) {
      return with(maxSessions, maxSessionsPerPrincipal, r);
    }

    private ConnectionConfig with(int max, int perPrincipal, Map<String, UpstreamRole> r) {
      return new ConnectionConfig(
          name,
          type,
          host,
          port,
          database,
          username,
          password,
          labels,
          tls,
          options,
          exec,
          ssh,
          max,
          perPrincipal,
          r);
    }

    /** A connection without exec or ssh settings (postgres and mysql). */
    public ConnectionConfig(
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
      this(name, type, host, port, database, username, password, labels, tls, options, null, null);
    }
  }

  /**
   * {@code exec:} on an exec connection: the binaries it offers (absolute paths; the gateway never
   * searches the caller's PATH), where processes run, their environment, injected secrets and
   * limits.
   *
   * @param workspace {@code fresh} (a new empty directory per process, removed afterwards) or
   *     {@code fixed} ({@code workdir} itself)
   * @param workdir the fixed working directory, or the parent of fresh ones (default {@code
   *     DATA_DIR/workspaces/CONNECTION})
   * @param env variables the gateway sets for every process
   * @param envAllow names (globs) of variables callers may set; the policy must allow them too
   * @param sandbox {@code auto} (bubblewrap when installed, a loud warning otherwise), {@code
   *     bubblewrap} (required) or {@code none}
   * @param runAs the unprivileged user processes run as when the gateway runs as root
   * @param runner name of an {@code ssh} connection whose target runs the commands instead of the
   *     gateway host (docs/exec.md, "Running on an SSH target"); null runs locally. With one,
   *     {@code workdir} is a path on the target and the local-only sandbox settings are refused
   * @param signalsAllow signals callers may send besides the default ones (USR1, USR2; {@link
   *     dev.gatehouse.runner.ForwardedSignals})
   */
  public record ExecConfig(
      List<String> binaries,
      String workspace,
      Path workdir,
      Map<String, String> env,
      List<String> envAllow,
      List<ExecSecretConfig> secrets,
      Duration timeout,
      long maxOutput,
      long memory,
      Duration cpu,
      int processes,
      String sandbox,
      boolean network,
      String runAs,
      String runner,
      List<String> signalsAllow) {
    /**
     * The signals {@code signals_allow} may list: programs give them their own meanings, some of
     * them dangerous (Node.js opens its inspector on SIGUSR1).
     */
    public static final Set<String> OPT_IN_SIGNALS = Set.of("USR1", "USR2");

    /**
     * The signals forwarded on every connection: "stop" or "resume" for every program
     * (dev.gatehouse.runner.ForwardedSignals).
     */
    public static final Set<String> DEFAULT_SIGNALS =
        Set.of("INT", "TERM", "HUP", "QUIT", "KILL", "WINCH", "CONT", "ALRM");

    /** A signal's name without {@code SIG}, upper case ({@code sigusr1} is {@code USR1}). */
    public static String signalName(String signal) {
      String sig = signal == null ? "" : signal.toUpperCase(java.util.Locale.ROOT);
      return sig.startsWith("SIG") ? sig.substring(3) : sig;
    }

    public ExecConfig {
      binaries = List.copyOf(binaries);
      env = Map.copyOf(env);
      envAllow = List.copyOf(envAllow);
      secrets = List.copyOf(secrets);
      // One place that checks them, for the binder, the demo and withSignalsAllow alike
      signalsAllow = optedInSignals(signalsAllow);
    }

    /**
     * {@code signals} as canonical names ({@code sigusr1} is {@code USR1}), each one of {@link
     * #OPT_IN_SIGNALS}; checked for {@code exec.signals_allow} and {@code ssh.signals_allow}.
     */
    public static List<String> optedInSignals(List<String> signals) {
      List<String> names = signals.stream().map(ExecConfig::signalName).toList();
      for (String sig : names) {
        if (!OPT_IN_SIGNALS.contains(sig)) {
          throw new IllegalArgumentException("signals_allow: " + sig + " (expected USR1 or USR2)");
        }
      }
      return names;
    }

    /** This configuration with {@code signals_allow} set to {@code signals}. */
    public ExecConfig withSignalsAllow(List<String> signals) {
      return new ExecConfig(
          binaries, workspace, workdir, env, envAllow, secrets, timeout, maxOutput, memory, cpu,
          processes, sandbox, network, runAs, runner, signals);
    }
  }

  /**
   * A secret injected into each process of an exec connection: as the environment variable {@code
   * name}, or ({@code as: file}) as a 0600 file that exists for the lifetime of the process, whose
   * path is in {@code name}. Sealed in the vault at start; exact-value masked in all output.
   */
  public record ExecSecretConfig(String name, Secret value, String as) {}

  /**
   * One of a connection's {@code roles}: another login to the same target, chosen for a session by
   * the {@code upstream_role} obligation of the rules that grant the connection (docs/policy.md),
   * so that the database or host enforces what a principal may do too, not only the gateway. It
   * replaces the connection's {@code username}, {@code password} and {@code ssh.private_key} as a
   * whole: a role without a password logs in without one (trust, peer), never with the
   * connection's.
   */
  public record UpstreamRole(String username, Secret password, Secret privateKey) {
    /**
     * A role's name, in {@code roles} and in a rule's {@code upstream_role} alike: never a comma,
     * which the policy's CONNECT merge uses to report rules that name different roles.
     */
    public static final java.util.regex.Pattern NAME =
        java.util.regex.Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}");

    @Override
    public String toString() {
      return "UpstreamRole[username=" + username + "]";
    }
  }

  /**
   * {@code ssh:} on an ssh connection. {@code host_keys} pins the target's host keys (OpenSSH
   * public key lines, as {@code ssh-keyscan} prints them without the host name); an unknown or
   * changed key refuses the connection. {@code private_key} is an OpenSSH private key the gateway
   * logs in with (else the connection's password). {@code pager_guard} says when an exec request
   * relayed to the target runs under the pager guard (docs/ssh.md, "Pagers and editors"): {@code
   * always} (the default), {@code tty} (only with a terminal: an editor that reads its commands
   * from the channel, {@code :!sh}, stays possible without one) or {@code off} (never: the target
   * receives the decided command as such, for restricted targets such as git-shell, gitolite,
   * rrsync or a ForceCommand that reads SSH_ORIGINAL_COMMAND). {@code resolve_command_paths}
   * (default true) checks an allowed command's path arguments again where the target resolves them
   * (docs/ssh.md, "Where path arguments lead"); false skips that, for targets without an sftp
   * subsystem. {@code signalsAllow}: USR1 and USR2, which a caller's {@code signal} request may
   * then send to the target besides the default ones, as {@code exec.signals_allow} does on exec
   * connections ({@link ExecConfig#OPT_IN_SIGNALS}; dev.gatehouse.runner.ForwardedSignals).
   */
  public record SshTargetConfig(
      List<String> hostKeys,
      Secret privateKey,
      String pagerGuard,
      boolean resolveCommandPaths,
      List<String> signalsAllow) {
    public static final String ALWAYS = "always";
    public static final String TTY = "tty";
    public static final String OFF = "off";
    public static final List<String> PAGER_GUARDS = List.of(ALWAYS, TTY, OFF);

    public SshTargetConfig {
      hostKeys = List.copyOf(hostKeys);
      pagerGuard = pagerGuard == null ? ALWAYS : pagerGuard;
      if (!PAGER_GUARDS.contains(pagerGuard)) {
        throw new IllegalArgumentException(
            "pager_guard " + pagerGuard + " (expected always, tty or off)");
      }
      signalsAllow = ExecConfig.optedInSignals(signalsAllow == null ? List.of() : signalsAllow);
    }

    public SshTargetConfig(List<String> hostKeys, Secret privateKey) {
      this(hostKeys, privateKey, ALWAYS);
    }

    public SshTargetConfig(List<String> hostKeys, Secret privateKey, String pagerGuard) {
      this(hostKeys, privateKey, pagerGuard, true, List.of());
    }

    /** Whether an exec request with or without a terminal runs under the pager guard. */
    public boolean guards(boolean pty) {
      return switch (pagerGuard) {
        case OFF -> false;
        case TTY -> pty;
        default -> true;
      };
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

  /**
   * {@code audit:} checkpoints, export sinks, and how records are made durable before the action
   * they describe goes ahead: {@code fsync} (the default: the local journal, fdatasync per group
   * commit), {@code os} (the local journal, written to the operating system without waiting for the
   * disk: survives the gateway's crash, not the host's), or {@code store} (no journal: committed
   * and synced in the store).
   */
  public record AuditConfig(
      Duration checkpointInterval, List<AuditSinkConfig> sinks, String durability) {
    public static final String FSYNC = "fsync";
    public static final String OS = "os";
    public static final String STORE = "store";
    public static final List<String> DURABILITIES = List.of(FSYNC, OS, STORE);

    public AuditConfig {
      sinks = List.copyOf(sinks);
      durability = durability == null ? FSYNC : durability;
      if (!DURABILITIES.contains(durability)) {
        throw new IllegalArgumentException(
            "audit durability " + durability + " (expected fsync, os or store)");
      }
    }

    public AuditConfig(Duration checkpointInterval, List<AuditSinkConfig> sinks) {
      this(checkpointInterval, sinks, FSYNC);
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

    /**
     * The rule files to load, in the order configured: each glob's matches (sorted), each plain
     * path as it is, so that a missing one fails to load with its name rather than being skipped.
     */
    public List<Path> ruleFiles() throws java.io.IOException {
      java.util.LinkedHashSet<Path> out = new java.util.LinkedHashSet<>();
      for (String f : files) {
        if (Globs.isGlob(f)) {
          out.addAll(Globs.match(f));
        } else {
          out.add(Path.of(f));
        }
      }
      return List.copyOf(out);
    }
  }

  /** {@code logging:} format text or json, and the root level. */
  public record LoggingConfig(String format, String level) {}
}
