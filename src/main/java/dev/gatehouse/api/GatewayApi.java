package dev.gatehouse.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.audit.AuditExporter;
import dev.gatehouse.audit.AuditVerifier;
import dev.gatehouse.audit.SessionQueries;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.credential.TinkCredentialVault;
import dev.gatehouse.identity.IssuedToken;
import dev.gatehouse.identity.OAuthException;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import dev.gatehouse.identity.TokenExchange;
import dev.gatehouse.identity.TokenInfo;
import dev.gatehouse.identity.TokenService;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.PolicyEngine;
import dev.gatehouse.policy.PolicyRequest;
import dev.gatehouse.policy.Target;
import dev.gatehouse.store.Database;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.OutputStreamWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/** The {@code /api/v1} endpoints, health and metrics. See docs/api.md and the OpenAPI document. */
public final class GatewayApi implements ApiServer.Endpoints {
  private final GatehouseConfig config;
  private final Database db;
  private final TokenService tokens;
  private final TokenExchange exchange;
  private final PolicyEngine policy;
  private final AuditVerifier verifier;
  private final AuditExporter exporter;
  private final TinkCredentialVault vault;
  private final SessionQueries sessions;
  private final PrometheusMeterRegistry metrics;
  private final Function<String, List<Action>> sqlDescriber;
  private final Function<String, Action> commandDescriber;

  public GatewayApi(
      GatehouseConfig config,
      Database db,
      TokenService tokens,
      TokenExchange exchange,
      PolicyEngine policy,
      AuditVerifier verifier,
      AuditExporter exporter,
      TinkCredentialVault vault,
      SessionQueries sessions,
      PrometheusMeterRegistry metrics,
      Function<String, List<Action>> sqlDescriber,
      Function<String, Action> commandDescriber) {
    this.config = config;
    this.db = db;
    this.tokens = tokens;
    this.exchange = exchange;
    this.policy = policy;
    this.verifier = verifier;
    this.exporter = exporter;
    this.vault = vault;
    this.sessions = sessions;
    this.metrics = metrics;
    this.sqlDescriber = sqlDescriber;
    this.commandDescriber = commandDescriber;
  }

  @Override
  public void register(ApiServer api) {
    var A = ApiServer.Access.class;
    api.route("GET", "/healthz", ApiServer.Access.PUBLIC, r -> text(200, "ok\n"));
    api.route("GET", "/readyz", ApiServer.Access.PUBLIC, r -> ready());
    api.route(
        "GET",
        "/metrics",
        ApiServer.Access.PUBLIC,
        r -> ApiServer.Response.text(200, "text/plain; version=0.0.4", metrics.scrape()));
    api.route("GET", "/api/v1/openapi.json", ApiServer.Access.PUBLIC, r -> openapi());
    api.route("GET", "/api/v1/whoami", ApiServer.Access.USER, r -> whoami(api, r.principal()));
    api.route("GET", "/api/v1/connections", ApiServer.Access.USER, r -> connections(api));

    api.route("POST", "/api/v1/tokens", ApiServer.Access.USER, r -> issue(api, r, false));
    api.route("POST", "/api/v1/api-keys", ApiServer.Access.ADMIN, r -> issue(api, r, true));
    api.route("GET", "/api/v1/tokens", ApiServer.Access.USER, r -> listTokens(api, r));
    api.route("DELETE", "/api/v1/tokens/{id}", ApiServer.Access.USER, r -> revoke(r));
    api.route("POST", "/api/v1/tokens/exchange", ApiServer.Access.PUBLIC, r -> exchange(api, r));
    api.route("GET", "/api/v1/login/providers", ApiServer.Access.PUBLIC, r -> providers(api));
    api.route("POST", "/api/v1/login", ApiServer.Access.PUBLIC, r -> login(api, r));

    api.route("POST", "/api/v1/policy/check", ApiServer.Access.USER, r -> check(api, r));

    api.route("GET", "/api/v1/audit/verify", ApiServer.Access.AUDITOR, r -> verify(api));
    api.route("GET", "/api/v1/audit/export", ApiServer.Access.AUDITOR, r -> export(r));
    api.route("POST", "/api/v1/keys/rotate", ApiServer.Access.ADMIN, r -> rotate(api));

    api.route("GET", "/api/v1/sessions", ApiServer.Access.USER, r -> listSessions(api, r));
    api.route("GET", "/api/v1/sessions/{id}", ApiServer.Access.USER, r -> showSession(api, r));
    api.route("GET", "/api/v1/sessions/{id}/timeline", ApiServer.Access.USER, r -> timeline(r));
    api.route("GET", "/api/v1/sessions/{id}/asciicast", ApiServer.Access.USER, r -> asciicast(r));
  }

  private static ApiServer.Response text(int status, String body) {
    return ApiServer.Response.text(status, "text/plain; charset=utf-8", body);
  }

  private Object ready() {
    try {
      db.transaction(c -> c.isValid(2));
      return text(200, "ready\n");
    } catch (RuntimeException e) {
      throw ApiException.unavailable("store unavailable");
    }
  }

  private Object openapi() throws Exception {
    try (var in = GatewayApi.class.getResourceAsStream("/api/openapi.json")) {
      if (in == null) {
        throw ApiException.notFound("openapi document missing from the build");
      }
      return new ApiServer.Response(200, "application/json", in.readAllBytes());
    }
  }

  private ObjectNode whoami(ApiServer api, Principal p) {
    ObjectNode n = api.json().createObjectNode();
    n.put("subject", p.subject());
    n.put("kind", p.kind().wireName());
    n.putPOJO("groups", p.groups());
    n.put("role", Role.of(p).name().toLowerCase());
    n.put("token_id", p.tokenId());
    n.put("expires_at", p.expiresAt() == null ? null : p.expiresAt().toString());
    n.putPOJO("scope", p.scope());
    return n;
  }

  private ArrayNode connections(ApiServer api) {
    ArrayNode a = api.json().createArrayNode();
    for (ConnectionConfig c : config.connections()) {
      ObjectNode n = a.addObject();
      n.put("name", c.name());
      n.put("type", c.type());
      n.put("address", c.host() == null ? null : c.host() + ":" + c.port());
      n.putPOJO("labels", c.labels());
    }
    return a;
  }

  private ObjectNode issue(ApiServer api, ApiRequest r, boolean apiKey) throws Exception {
    try {
      return issueToken(api, r, apiKey);
    } catch (IllegalArgumentException e) {
      // TokenService rejects unknown subjects and non-positive lifetimes: the caller's mistake.
      throw ApiException.badRequest(e.getMessage());
    }
  }

  private ObjectNode issueToken(ApiServer api, ApiRequest r, boolean apiKey) throws Exception {
    JsonNode b = r.json();
    Principal caller = r.principal();
    boolean admin = Role.of(caller) == Role.ADMIN;
    String subject = b.path("subject").asText(caller.subject());
    Duration ttl = b.hasNonNull("ttl") ? parseDuration(b.get("ttl").asText()) : null;
    Set<String> scope = strings(b.get("scope"));
    IssuedToken t;
    if (apiKey) {
      String name = b.path("name").asText(subject);
      Set<String> groups = strings(b.get("groups"));
      t = tokens.issueApiKey(name, subject, groups, ttl, caller.subject());
    } else if (admin && !subject.equals(caller.subject())) {
      t = tokens.issueForUser(subject, ttl, scope, caller.subject());
    } else if (!subject.equals(caller.subject())) {
      throw ApiException.forbidden("only admins may issue tokens for other subjects");
    } else {
      // A caller may mint a token for itself, never with more than it has: same groups and kind,
      // a scope within its own, and no longer than its own token lives.
      if (!caller.scope().isEmpty() && !caller.scope().containsAll(scope)) {
        throw ApiException.forbidden("requested scope is wider than your token's scope");
      }
      Set<String> effectiveScope = scope.isEmpty() ? caller.scope() : scope;
      Duration max =
          caller.expiresAt() == null ? null : Duration.between(Instant.now(), caller.expiresAt());
      if (ttl == null || (max != null && ttl.compareTo(max) > 0)) {
        ttl = max;
      }
      t =
          tokens.issue(
              caller.subject(),
              caller.groups(),
              caller.kind(),
              ttl,
              effectiveScope,
              caller.attributes(),
              caller.subject());
    }
    ObjectNode n = api.json().createObjectNode();
    n.put("id", t.id());
    n.put("token", t.secret());
    n.put("expires_at", t.expiresAt().toString());
    return n;
  }

  private ArrayNode listTokens(ApiServer api, ApiRequest r) {
    boolean all = "true".equals(r.query().get("all"));
    Principal caller = r.principal();
    boolean admin = Role.of(caller) == Role.ADMIN;
    ArrayNode a = api.json().createArrayNode();
    for (TokenInfo t : tokens.list(all)) {
      if (!admin && !t.subject().equals(caller.subject())) {
        continue;
      }
      a.addPOJO(t);
    }
    return a;
  }

  private Object revoke(ApiRequest r) {
    String id = r.path("id");
    Principal caller = r.principal();
    boolean admin = Role.of(caller) == Role.ADMIN;
    TokenInfo t =
        tokens.list(true).stream()
            .filter(x -> x.id().equals(id))
            .findFirst()
            .orElseThrow(() -> ApiException.notFound("no token with id " + id));
    if (!admin && !t.subject().equals(caller.subject())) {
      throw ApiException.forbidden("only admins may revoke other subjects' tokens");
    }
    tokens.revoke(id, caller.subject());
    return null;
  }

  /** Issuers the CLI can log in with: those with a client id for the CLI. */
  private ArrayNode providers(ApiServer api) {
    ArrayNode a = api.json().createArrayNode();
    for (var o : config.identity().oidc()) {
      if (o.clientId() != null && !o.clientId().isBlank()) {
        ObjectNode n = a.addObject();
        n.put("name", o.name());
        n.put("issuer", o.issuer());
        n.put("client_id", o.clientId());
      }
    }
    return a;
  }

  /** {@code gatehouse login}: an ID token from a configured issuer for a human gateway token. */
  private ObjectNode login(ApiServer api, ApiRequest r) throws Exception {
    String idToken = r.json().path("id_token").asText(null);
    if (idToken == null || idToken.isBlank()) {
      throw ApiException.badRequest("id_token is required");
    }
    var verifier =
        tokens.oidc().orElseThrow(() -> ApiException.badRequest("no OIDC issuer is configured"));
    // Under the same throttle as bearer tokens: a failed login counts against the address.
    Principal p = api.checkCredential(r, () -> verifier.toPrincipal(verifier.verify(idToken)));
    IssuedToken t =
        tokens.issue(
            p.subject(), p.groups(), p.kind(), null, Set.of(), p.attributes(), "oidc-login");
    ObjectNode n = api.json().createObjectNode();
    n.put("subject", p.subject());
    n.put("token", t.secret());
    n.put("id", t.id());
    n.put("expires_at", t.expiresAt().toString());
    return n;
  }

  /** RFC 8693 §2.1: form-encoded request; §2.2.2 errors are RFC 6749 JSON, not problem+json. */
  /**
   * RFC 8693 token exchange. Deliberately outside the gate's authentication throttle: the subject
   * token is a JWT whose signature is verified against the issuer's keys, which no one can guess,
   * so a failure is not counted and an address's throttling period does not refuse an exchange
   * (docs/operations.md, "Authentication throttling").
   */
  private Object exchange(ApiServer api, ApiRequest r) throws Exception {
    Map<String, String> f = r.form();
    ObjectNode n = api.json().createObjectNode();
    try {
      if (!"urn:ietf:params:oauth:grant-type:token-exchange".equals(f.get("grant_type"))) {
        throw new OAuthException(
            "unsupported_grant_type",
            "grant_type must be urn:ietf:params:oauth:grant-type:token-exchange");
      }
      if (exchange == null) {
        throw new OAuthException(
            OAuthException.INVALID_REQUEST,
            "token exchange is not configured on this gateway (identity.oidc, identity.token_exchange)");
      }
      return exchange
          .exchange(f.get("subject_token"), f.get("subject_token_type"), f.get("scope"))
          .toResponse();
    } catch (OAuthException e) {
      n.put("error", e.error());
      n.put("error_description", e.description());
      return new ApiServer.Response(400, "application/json", api.json().writeValueAsBytes(n));
    }
  }

  private ObjectNode check(ApiServer api, ApiRequest r) throws Exception {
    JsonNode b = r.json();
    Principal caller = r.principal();
    Principal subject = caller;
    if (b.hasNonNull("principal")) {
      JsonNode p = b.get("principal");
      String s = p.path("subject").asText(null);
      if (s == null) {
        throw ApiException.badRequest("principal.subject is required");
      }
      if (Role.of(caller) != Role.ADMIN && !s.equals(caller.subject())) {
        throw ApiException.forbidden("only admins may check decisions for other subjects");
      }
      if (Role.of(caller) != Role.ADMIN && (p.hasNonNull("groups") || p.hasNonNull("kind"))) {
        // Otherwise a user could dry-run as "itself in group dba", i.e. for someone else.
        throw ApiException.forbidden("only admins may check decisions for other groups or kinds");
      }
      Set<String> groups = strings(p.get("groups"));
      PrincipalKind kind = PrincipalKind.HUMAN;
      var user = tokens.user(s);
      if (user.isPresent() && groups.isEmpty()) {
        groups = new HashSet<>(user.get().groups());
        kind = PrincipalKind.parse(user.get().kind());
      }
      if (p.hasNonNull("kind")) {
        kind = PrincipalKind.parse(p.get("kind").asText());
      }
      subject = new Principal(s, groups, kind, "dry-run", null, Set.of(), Map.of());
    }
    String connName = b.path("connection").asText(null);
    ConnectionConfig conn = connName == null ? null : config.connection(connName);
    if (conn == null) {
      throw ApiException.notFound("connection \"" + connName + "\" does not exist");
    }
    Target target = new Target(conn.name(), conn.type(), conn.labels());
    JsonNode a = b.path("action");
    List<Action> actions = new ArrayList<>();
    ActionKind kind;
    try {
      kind = ActionKind.parse(a.path("kind").asText("connect"));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    if (kind == ActionKind.SQL && a.hasNonNull("sql")) {
      actions.addAll(sqlDescriber.apply(a.get("sql").asText()));
    } else if ((kind == ActionKind.COMMAND) && a.hasNonNull("command")) {
      actions.add(commandDescriber.apply(a.get("command").asText()));
    } else if (kind == ActionKind.CONNECT) {
      actions.add(Action.connect());
    } else {
      Map<String, Object> attrs =
          a.hasNonNull("attributes")
              ? api.json().convertValue(a.get("attributes"), Map.class)
              : Map.of();
      actions.add(new Action(kind, a.path("raw").asText(""), attrs));
    }
    ObjectNode out = api.json().createObjectNode();
    ArrayNode ds = out.putArray("decisions");
    Effect worst = Effect.ALLOW;
    for (Action act : actions) {
      Decision d = policy.decide(new PolicyRequest(subject, target, act, Instant.now()));
      ObjectNode dn = ds.addObject();
      dn.put("effect", d.effect().name().toLowerCase());
      dn.put("rule", d.rule());
      dn.put("reason", d.reason());
      dn.put("statement", act.string(Action.Attr.SQL_KIND));
      dn.put("raw", act.raw());
      dn.putPOJO("obligations", d.obligations());
      if (d.review() != null) {
        dn.putPOJO("review", d.review());
      }
      dn.putPOJO("explanation", d.explanation());
      if (d.effect() == Effect.DENY || (d.effect() == Effect.REVIEW && worst == Effect.ALLOW)) {
        worst = d.effect();
      }
    }
    out.put("effect", worst.name().toLowerCase());
    return out;
  }

  private ObjectNode verify(ApiServer api) {
    var res = verifier.verify();
    return api.json().valueToTree(res);
  }

  private Object export(ApiRequest r) throws Exception {
    Map<String, String> q = r.query();
    String format = q.getOrDefault("format", "jsonl");
    if (!"jsonl".equals(format)) {
      throw ApiException.badRequest("format: " + format + " (expected: jsonl)");
    }
    Instant since;
    try {
      since = q.containsKey("since") ? Instant.parse(q.get("since")) : null;
    } catch (java.time.format.DateTimeParseException e) {
      throw ApiException.badRequest(
          "since: " + q.get("since") + " (expected an ISO-8601 instant like 2026-11-01T00:00:00Z)");
    }
    long after = q.containsKey("after") ? longParam("after", q.get("after")) : 0;
    return ApiServer.Response.stream(
        "application/jsonl",
        os -> {
          Writer w = new OutputStreamWriter(os, StandardCharsets.UTF_8);
          exporter.export(w, since, after);
          w.flush();
        });
  }

  private ObjectNode rotate(ApiServer api) {
    int n = vault.rotate(null);
    ObjectNode o = api.json().createObjectNode();
    o.put("resealed", n);
    return o;
  }

  private Object listSessions(ApiServer api, ApiRequest r) {
    Map<String, String> q = r.query();
    Principal caller = r.principal();
    String subject = q.get("subject");
    if (Role.of(caller) == Role.USER) {
      subject = caller.subject();
    }
    int limit = (int) Math.min(1000, longParam("limit", q.getOrDefault("limit", "50")));
    return api.json().valueToTree(sessions.list(subject, q.get("connection"), limit));
  }

  private Object sessionVisible(ApiRequest r) {
    var s =
        sessions
            .show(r.path("id"))
            .orElseThrow(() -> ApiException.notFound("no session " + r.path("id")));
    Principal caller = r.principal();
    if (Role.of(caller) == Role.USER && !s.session().subject().equals(caller.subject())) {
      throw ApiException.notFound("no session " + r.path("id"));
    }
    return s;
  }

  private Object showSession(ApiServer api, ApiRequest r) {
    return api.json().valueToTree(sessionVisible(r));
  }

  private Object timeline(ApiRequest r) throws Exception {
    sessionVisible(r);
    StringWriter w = new StringWriter();
    sessions.writeTimeline(r.path("id"), w);
    return text(200, w.toString());
  }

  private Object asciicast(ApiRequest r) throws Exception {
    sessionVisible(r);
    StringWriter w = new StringWriter();
    sessions.writeAsciicast(r.path("id"), w);
    return ApiServer.Response.text(200, "application/x-asciicast", w.toString());
  }

  /**
   * Describes a command line for policy checks: POSIX shell words, argv[0] as the binary. The exec
   * gateway resolves binaries against its connection; a dry run only sees what was typed.
   */
  public static Action describeCommand(String line) {
    return dev.gatehouse.policy.CommandLine.parse(line).toAction();
  }

  /** The same duration grammar as access requests ({@code 30m}, {@code 1h30m}, {@code PT2H}). */
  static Duration parseDuration(String s) {
    try {
      return dev.gatehouse.approval.Durations.parse(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("ttl: " + e.getMessage());
    }
  }

  /** A non-negative integer query parameter; anything else is a 400, not a 500. */
  private static long longParam(String name, String value) {
    try {
      long v = Long.parseLong(value);
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw ApiException.badRequest(name + ": " + value + " (expected a non-negative integer)");
  }

  private static Set<String> strings(JsonNode n) {
    Set<String> s = new LinkedHashSet<>();
    if (n != null && n.isArray()) {
      n.forEach(x -> s.add(x.asText()));
    } else if (n != null && n.isTextual()) {
      for (String part : n.asText().split(",")) {
        if (!part.isBlank()) {
          s.add(part.trim());
        }
      }
    }
    return s;
  }
}
