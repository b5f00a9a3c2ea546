package dev.gatehouse.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import dev.gatehouse.identity.SshKeys;
import dev.gatehouse.identity.TokenService;
import dev.gatehouse.store.StoreException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * SSH public keys registered to identities.
 *
 * <pre>
 *   GET    /api/v1/ssh-keys                     your keys (admins: ?subject=NAME or ?all=true)
 *   POST   /api/v1/ssh-keys  {public_key, expires_in?, subject?, groups?, kind?}
 *   DELETE /api/v1/ssh-keys/{fingerprint}       SHA256:... in URL-safe form (- for +, _ for /);
 *                                               admins: ?subject=NAME
 * </pre>
 *
 * <p>A key registered by a user logs in as that user with a snapshot of the caller's kind and
 * groups (a configured user's current groups are used instead). Tokens limited to connections
 * ({@code scope}) may not register keys, since a key would not carry the limit. A key expires with
 * the token that registered it unless a human admin asks for longer, up to {@code
 * identity.ssh_keys.max_ttl} (see {@link SshKeys#expiryFor}); asking for more than the caller may
 * grant is a 403, more than {@code max_ttl} a 400. Admins may register and remove keys for any
 * subject.
 */
public final class SshKeyApi implements ApiServer.Endpoints {
  private final SshKeys keys;
  private final TokenService tokens;

  public SshKeyApi(SshKeys keys, TokenService tokens) {
    this.keys = keys;
    this.tokens = tokens;
  }

  @Override
  public void register(ApiServer api) {
    api.route("GET", "/api/v1/ssh-keys", ApiServer.Access.USER, this::list);
    api.route(
        "POST",
        "/api/v1/ssh-keys",
        ApiServer.Access.USER,
        r -> new ApiServer.Response(201, "application/json", api.json().writeValueAsBytes(add(r))));
    api.route("DELETE", "/api/v1/ssh-keys/{fingerprint}", ApiServer.Access.USER, this::remove);
  }

  private Object list(ApiRequest r) {
    Principal caller = r.principal();
    boolean all = "true".equals(r.query().get("all"));
    String subject = subject(caller, r.query().get("subject"));
    if (all && Role.of(caller) != Role.ADMIN) {
      throw ApiException.forbidden("only admins may list everyone's SSH keys");
    }
    Instant now = Instant.now();
    return call(() -> keys.list(all ? null : subject).stream().map(k -> json(k, now)).toList());
  }

  private Map<String, Object> add(ApiRequest r) throws Exception {
    Principal caller = r.principal();
    JsonNode b = r.json();
    String key = text(b, "public_key");
    if (key == null) {
      throw ApiException.badRequest(
          "public_key: missing (expected one line of ~/.ssh/id_ed25519.pub: ssh-ed25519 AAAA...)");
    }
    boolean admin = Role.of(caller) == Role.ADMIN;
    String subject = subject(caller, text(b, "subject"));
    boolean self = subject.equals(caller.subject());
    if (!caller.scope().isEmpty() && !admin) {
      throw ApiException.forbidden(
          "this token is limited to "
              + caller.scope()
              + "; a token limited to connections may not register SSH keys (a key would not carry"
              + " the limit)");
    }
    Duration requested =
        b.hasNonNull("expires_in") ? GatewayApi.parseDuration(b.get("expires_in").asText()) : null;
    // Never later than the caller's own token, unless a human admin asks (up to max_ttl); a
    // duration that is not positive is refused there.
    Instant expiresAt = call(() -> keys.expiryFor(caller, admin, requested));
    PrincipalKind kind;
    Set<String> groups;
    if (self) {
      if (b.hasNonNull("groups") || b.hasNonNull("kind")) {
        throw ApiException.badRequest(
            "groups, kind: a key registered for yourself carries your own groups and kind");
      }
      kind = caller.kind();
      groups = caller.groups();
    } else {
      var user = tokens.user(subject);
      kind =
          b.hasNonNull("kind")
              ? kind(b.get("kind").asText())
              : user.map(u -> u.kind() == null ? PrincipalKind.HUMAN : kind(u.kind()))
                  .orElse(PrincipalKind.HUMAN);
      groups = new LinkedHashSet<>();
      if (b.hasNonNull("groups")) {
        if (!b.get("groups").isArray()) {
          throw ApiException.badRequest("groups: expected a list of group names");
        }
        b.get("groups").forEach(g -> groups.add(g.asText()));
      } else {
        user.ifPresent(u -> groups.addAll(u.groups()));
      }
    }
    return json(
        call(
            () ->
                keys.add(
                    subject, kind, groups, key, expiresAt, caller.subject(), caller.tokenId())),
        Instant.now());
  }

  private Object remove(ApiRequest r) {
    Principal caller = r.principal();
    String subject = subject(caller, r.query().get("subject"));
    String fp = r.path("fingerprint");
    call(() -> keys.remove(subject, fp, caller.subject()));
    return null;
  }

  /** The subject a request is about: the caller, or (admins only) the one named. */
  private static String subject(Principal caller, String asked) {
    if (asked == null || asked.isBlank() || asked.equals(caller.subject())) {
      return caller.subject();
    }
    if (Role.of(caller) != Role.ADMIN) {
      throw ApiException.forbidden(
          "only admins may manage other subjects' SSH keys (\""
              + caller.subject()
              + "\" asked for \""
              + asked
              + "\")");
    }
    return asked;
  }

  private static PrincipalKind kind(String s) {
    try {
      return PrincipalKind.parse(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
  }

  private static <T> T call(Supplier<T> work) {
    try {
      return work.get();
    } catch (SshKeys.SshKeyException e) {
      throw switch (e.kind()) {
        case NOT_FOUND -> ApiException.notFound(e.getMessage());
        case CONFLICT -> new ApiException(409, "conflict", e.getMessage());
        case INVALID -> ApiException.badRequest(e.getMessage());
        case FORBIDDEN -> ApiException.forbidden(e.getMessage());
      };
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    } catch (StoreException e) {
      throw ApiException.unavailable("the key store is unavailable; try again later");
    }
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.get(field);
    return n == null || n.isNull() || n.asText().isBlank() ? null : n.asText();
  }

  static Map<String, Object> json(SshKeys.Key k, Instant now) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("subject", k.subject());
    m.put("fingerprint", k.fingerprint());
    m.put("key_type", k.type());
    m.put("comment", k.comment());
    m.put("source", k.source());
    m.put("kind", k.kind().wireName());
    m.put("groups", k.groups());
    m.put("created_at", k.createdAt() == null ? null : k.createdAt().toString());
    m.put("created_by", k.createdBy());
    m.put("expires_at", k.expiresAt() == null ? null : k.expiresAt().toString());
    m.put("expired", k.expired(now));
    m.put("token_id", k.tokenId());
    m.put("token_revoked", k.tokenRevoked());
    m.put("public_key", k.publicKey());
    return m;
  }
}
