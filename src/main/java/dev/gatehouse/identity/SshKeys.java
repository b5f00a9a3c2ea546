package dev.gatehouse.identity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import dev.gatehouse.config.Durations;
import dev.gatehouse.config.GatehouseConfig.IdentityConfig;
import dev.gatehouse.config.GatehouseConfig.UserConfig;
import dev.gatehouse.store.Database;
import dev.gatehouse.store.StoreException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.RSAPublicKey;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SSH public keys registered to identities: the SSH listener's public-key login.
 *
 * <p>Keys come from two places. Keys in {@code identity.users[].ssh_keys} log in with that user's
 * configured groups and kind; they change only with the configuration. Keys registered at run time
 * ({@link #add}: {@code gatehouse ssh-keys add}, {@code POST /api/v1/ssh-keys}) are stored in the
 * {@code ssh_keys} table with a snapshot of the owner's kind and groups; a configured user's key
 * logs in with the user's current configured groups instead. Registered keys may expire and can be
 * removed; both are audited ({@code ssh_key.added}, {@code ssh_key.removed}).
 *
 * <p>Keys are compared by the decoded key ({@link KeyUtils#compareKeys}), looked up by their
 * SHA-256 fingerprint as {@code ssh-keygen -l} prints it. A principal from a registered key carries
 * the token id {@code sshk_<id>} (so removing the key ends its live sessions on this replica, see
 * {@link #onRemove}) and the key's expiry; one from a configured key has no token id and no expiry.
 * Its attributes are {@code auth=ssh-key}, {@code ssh_key=<fingerprint>} and the configured user's
 * API {@code role} (otherwise {@code user}).
 *
 * <p>A key registered with a gateway token or API key records that token's id and authenticates
 * only while the token is not revoked: revoking a stolen token disables the keys it registered,
 * even one an admin gave a longer life (a revocation says the token's use cannot be trusted).
 * Checked at every login against {@code identity_tokens}, so a revocation on another replica counts
 * at once; {@link #tokenRevoked} also ends the sessions such keys opened here. A token's plain
 * expiry does not disable its keys: a key's own expiry covers that ({@link #expiryFor}). Keys from
 * the configuration and keys stored without a caller token have none.
 */
public final class SshKeys implements SshKeyAuthenticator {
  private static final Logger log = LoggerFactory.getLogger(SshKeys.class);

  /** Key types accepted; DSA and RSA under 2048 bits are refused. */
  public static final Set<String> KEY_TYPES =
      Set.of(
          "ssh-ed25519",
          "ecdsa-sha2-nistp256",
          "ecdsa-sha2-nistp384",
          "ecdsa-sha2-nistp521",
          "ssh-rsa",
          "sk-ssh-ed25519@openssh.com",
          "sk-ecdsa-sha2-nistp256@openssh.com");

  /** Token id prefix of principals from registered keys. */
  public static final String TOKEN_ID_PREFIX = "sshk_";

  static final int MAX_KEY_CHARS = 16_000;

  /** Longest registering token id recorded (ssh_keys.token_id, V8__ssh_key_token.sql). */
  static final int MAX_TOKEN_ID_CHARS = 512;

  private static final int MIN_RSA_BITS = 2048;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<List<String>> STRING_LIST = new TypeReference<>() {};
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Database db;
  private final IdentityConfig config;
  private final AuditLog audit;
  private final Clock clock;
  private final Map<String, List<ConfiguredKey>> configured; // subject -> keys
  private final List<Consumer<String>> removeListeners = new CopyOnWriteArrayList<>();

  /** One parsed OpenSSH public key line. */
  public record ParsedKey(
      PublicKey key, String type, String fingerprint, String publicKey, String comment) {}

  /**
   * A key as listed.
   *
   * @param id store id, or null for a key from the configuration
   * @param source {@code config} or {@code registered}
   */
  public record Key(
      String id,
      String source,
      String subject,
      PrincipalKind kind,
      List<String> groups,
      String type,
      String fingerprint,
      String publicKey,
      String comment,
      Instant createdAt,
      Instant expiresAt,
      String createdBy,
      String tokenId,
      boolean tokenRevoked) {
    public boolean expired(Instant now) {
      return expiresAt != null && !now.isBefore(expiresAt);
    }
  }

  private record ConfiguredKey(UserConfig user, ParsedKey key) {}

  /** A refusal of {@link #add} or {@link #remove} that is the caller's to fix. */
  public static final class SshKeyException extends RuntimeException {
    /** What went wrong, for the API's status code. */
    public enum Kind {
      INVALID,
      CONFLICT,
      NOT_FOUND,
      /** The caller may not grant what it asked for (a key outliving its own token). */
      FORBIDDEN
    }

    private final Kind kind;

    public SshKeyException(Kind kind, String message) {
      super(message);
      this.kind = kind;
    }

    public Kind kind() {
      return kind;
    }
  }

  /**
   * @throws IllegalArgumentException if a configured key cannot be decoded (the gateway must not
   *     start with a key it would silently ignore)
   */
  public SshKeys(Database db, IdentityConfig config, AuditLog audit, Clock clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.config = Objects.requireNonNull(config, "config");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.clock = Objects.requireNonNull(clock, "clock");
    Map<String, List<ConfiguredKey>> m = new HashMap<>();
    for (UserConfig u : config.users()) {
      for (int i = 0; i < u.sshKeys().size(); i++) {
        ParsedKey k;
        try {
          k = parse(u.sshKeys().get(i));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "identity.users[" + u.subject() + "].ssh_keys[" + i + "]: " + e.getMessage(), e);
        }
        m.computeIfAbsent(u.subject(), s -> new ArrayList<>()).add(new ConfiguredKey(u, k));
      }
    }
    m.replaceAll((s, l) -> List.copyOf(l));
    this.configured = Map.copyOf(m);
  }

  // ------------------------------------------------------------------------------------ parsing

  /**
   * Parses one OpenSSH public key line ({@code ssh-ed25519 AAAA... comment}, as in {@code
   * ~/.ssh/id_ed25519.pub}).
   *
   * @throws IllegalArgumentException with a message for people when it is not an acceptable key
   */
  public static ParsedKey parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(
          "empty (expected one line of ~/.ssh/id_ed25519.pub: ssh-ed25519 AAAA... comment)");
    }
    String line = text.strip();
    if (line.length() > MAX_KEY_CHARS) {
      throw new IllegalArgumentException(
          line.length()
              + " characters (expected an OpenSSH public key line, at most "
              + MAX_KEY_CHARS
              + ")");
    }
    if (line.contains("PRIVATE KEY")) {
      throw new IllegalArgumentException(
          "this is a private key; give the public key (the .pub file) and keep the private key"
              + " secret");
    }
    if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
      throw new IllegalArgumentException(
          "several lines (expected one OpenSSH public key line; register keys one at a time)");
    }
    String type = line.split("\\s+", 2)[0];
    if (!KEY_TYPES.contains(type)) {
      throw new IllegalArgumentException(
          "key type \""
              + abbreviate(type)
              + "\" is not accepted (expected one of "
              + new TreeSet<>(KEY_TYPES)
              + "; authorized_keys options such as from=\"...\" are not supported)");
    }
    PublicKeyEntry entry;
    PublicKey key;
    try {
      entry = PublicKeyEntry.parsePublicKeyEntry(line);
      key = entry.resolvePublicKey(null, Map.of(), PublicKeyEntryResolver.FAILING);
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "not a valid " + type + " public key (" + e.getMessage() + ")", e);
    }
    if (key == null) {
      throw new IllegalArgumentException("not a valid " + type + " public key");
    }
    if (key instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() < MIN_RSA_BITS) {
      throw new IllegalArgumentException(
          "RSA key of "
              + rsa.getModulus().bitLength()
              + " bits (expected at least "
              + MIN_RSA_BITS
              + "; ed25519 keys are preferred)");
    }
    String[] parts = line.split("\\s+", 3);
    String comment = parts.length > 2 ? parts[2].strip() : null;
    if (comment != null && comment.length() > 1000) {
      comment = comment.substring(0, 1000);
    }
    return new ParsedKey(key, type, KeyUtils.getFingerPrint(key), type + " " + parts[1], comment);
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }

  /**
   * Normalises a fingerprint as typed or as it travels in a URL path: {@code SHA256:} prefix
   * optional, URL-safe base64 ({@code -_}) accepted, a {@code +} decoded to a space restored.
   */
  public static String normalizeFingerprint(String fp) {
    if (fp == null) {
      return null;
    }
    String s = fp.strip().replace(' ', '+').replace('-', '+').replace('_', '/');
    if (s.regionMatches(true, 0, "SHA256:", 0, 7)) {
      s = s.substring(7);
    }
    while (s.endsWith("=")) {
      s = s.substring(0, s.length() - 1);
    }
    return "SHA256:" + s;
  }

  /** The fingerprint in URL-safe form, for paths: {@code SHA256:abc-def_gh}. */
  public static String urlSafeFingerprint(String fp) {
    return fp.replace('+', '-').replace('/', '_');
  }

  // ---------------------------------------------------------------------------------- registry

  /**
   * When a key that {@code grantor} registers at run time expires. A registered key is a standing
   * credential, so it must not outlive the credential that minted it: by default it expires with
   * the grantor's token (a key registered with a 15-minute token lasts 15 minutes). Only an {@code
   * operator} (an admin) that is a human may ask for longer, up to {@code
   * identity.ssh_keys.max_ttl} from now; a service or agent never gets a key longer than its token,
   * whatever its role.
   *
   * @param requested the asked-for lifetime from now, or null for the default
   * @return the expiry to store, never null (nor later than now + {@code max_ttl})
   * @throws SshKeyException FORBIDDEN if {@code requested} would outlive what the grantor may
   *     grant, INVALID if it exceeds {@code max_ttl} or is not positive
   */
  public Instant expiryFor(Principal grantor, boolean operator, Duration requested) {
    Instant now = clock.instant();
    Duration maxTtl = config.sshKeys().maxTtl();
    Instant longest = now.plus(maxTtl);
    Instant tokenEnd = grantor.expiresAt();
    Instant own = tokenEnd == null || tokenEnd.isAfter(longest) ? longest : tokenEnd;
    if (requested == null) {
      return own;
    }
    if (requested.isNegative() || requested.isZero()) {
      throw new SshKeyException(
          SshKeyException.Kind.INVALID,
          "expires_in: " + requested + " (expected a positive duration such as 30d)");
    }
    if (requested.compareTo(maxTtl) > 0) {
      throw new SshKeyException(
          SshKeyException.Kind.INVALID,
          "expires_in: "
              + Durations.format(requested)
              + " (expected: at most "
              + Durations.format(maxTtl)
              + ", identity.ssh_keys.max_ttl)");
    }
    Instant asked = now.plus(requested);
    boolean mayExceedToken = operator && grantor.kind() == PrincipalKind.HUMAN;
    if (!mayExceedToken && asked.isAfter(own)) {
      throw new SshKeyException(
          SshKeyException.Kind.FORBIDDEN,
          "expires_in: "
              + Durations.format(requested)
              + " would outlive the token registering the key (it expires at "
              + own
              + "); a key lives at most as long as the credential that registers it"
              + (grantor.kind() == PrincipalKind.HUMAN
                  ? ": leave expires_in out, or ask an admin for a longer-lived key"
                  : ", and a " + grantor.kind().wireName() + " cannot register longer ones"));
    }
    return asked;
  }

  /** {@code 90d}, {@code 12h}, {@code 15m} or {@code 30s}, for messages. */

  /**
   * Registers a key for {@code subject}.
   *
   * @param kind and {@code groups}: the owner's, snapshotted (a configured user's current groups
   *     are used at login instead)
   * @param expiresAt null: until removed
   * @throws SshKeyException INVALID if the key is not acceptable (message for people), CONFLICT if
   *     the key is already registered to this subject
   * @throws StoreException if it could not be stored or audited; then it was not registered
   */
  public Key add(
      String subject,
      PrincipalKind kind,
      Set<String> groups,
      String publicKeyLine,
      Instant expiresAt,
      String createdBy) {
    return add(subject, kind, groups, publicKeyLine, expiresAt, createdBy, null);
  }

  /**
   * Registers a key for {@code subject} on behalf of a caller that proved itself with the token
   * {@code tokenId}: the key authenticates only while that token is not revoked.
   *
   * @param tokenId the registering credential's {@link Principal#tokenId()}, or null for none
   *     (in-process callers; the CLI goes through the API, so its keys carry its token)
   */
  public Key add(
      String subject,
      PrincipalKind kind,
      Set<String> groups,
      String publicKeyLine,
      Instant expiresAt,
      String createdBy,
      String tokenId) {
    if (tokenId != null && tokenId.length() > MAX_TOKEN_ID_CHARS) {
      // Cannot be recorded, so the key could not be disabled with it: refuse (fail closed).
      throw new SshKeyException(
          SshKeyException.Kind.INVALID,
          "the token registering the key has an id longer than "
              + MAX_TOKEN_ID_CHARS
              + " characters; register the key with a gateway token");
    }
    if (subject == null || subject.isBlank() || subject.length() > 512) {
      throw new IllegalArgumentException("subject: blank or too long (expected a name)");
    }
    Objects.requireNonNull(kind, "kind");
    ParsedKey k;
    try {
      k = parse(publicKeyLine);
    } catch (IllegalArgumentException e) {
      throw new SshKeyException(SshKeyException.Kind.INVALID, "public_key: " + e.getMessage());
    }
    Instant now = clock.instant();
    if (expiresAt != null && !expiresAt.isAfter(now)) {
      throw new IllegalArgumentException("expires_in: the key would already have expired");
    }
    for (ConfiguredKey c : configured.getOrDefault(subject, List.of())) {
      if (KeyUtils.compareKeys(c.key().key(), k.key())) {
        throw new SshKeyException(
            SshKeyException.Kind.CONFLICT,
            "key "
                + k.fingerprint()
                + " is already configured for "
                + subject
                + " (identity.users)");
      }
    }
    List<String> groupList = List.copyOf(new TreeSet<>(groups == null ? Set.of() : groups));
    String groupsJson = json(groupList);
    String id = HexFormat.of().formatHex(randomBytes(12));
    long created = now.toEpochMilli();
    String by = createdBy == null || createdBy.isBlank() ? subject : createdBy;
    return db.transaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT 1 FROM ssh_keys WHERE subject = ? AND fingerprint = ?")) {
            ps.setString(1, subject);
            ps.setString(2, k.fingerprint());
            try (ResultSet rs = ps.executeQuery()) {
              if (rs.next()) {
                throw new SshKeyException(
                    SshKeyException.Kind.CONFLICT,
                    "key " + k.fingerprint() + " is already registered for " + subject);
              }
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO ssh_keys (id, subject, kind, groups_json, key_type, fingerprint,"
                      + " public_key, comment, created_at, expires_at, created_by, token_id)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, subject);
            ps.setString(3, kind.wireName());
            ps.setString(4, groupsJson);
            ps.setString(5, k.type());
            ps.setString(6, k.fingerprint());
            ps.setString(7, k.publicKey());
            ps.setString(8, k.comment());
            ps.setLong(9, created);
            if (expiresAt == null) {
              ps.setNull(10, Types.BIGINT);
            } else {
              ps.setLong(10, expiresAt.toEpochMilli());
            }
            ps.setString(11, by);
            ps.setString(12, tokenId);
            ps.executeUpdate();
          }
          Map<String, Object> data = new LinkedHashMap<>();
          data.put("subject", subject);
          data.put("fingerprint", k.fingerprint());
          data.put("key_type", k.type());
          data.put("kind", kind.wireName());
          data.put("groups", groupList);
          data.put("expires_at", expiresAt == null ? "never" : expiresAt.toString());
          if (tokenId != null) {
            data.put("token_id", tokenId);
          }
          appendAudit(new AuditEvent("ssh_key.added", by, null, null, data));
          return new Key(
              id,
              "registered",
              subject,
              kind,
              groupList,
              k.type(),
              k.fingerprint(),
              k.publicKey(),
              k.comment(),
              Instant.ofEpochMilli(created),
              expiresAt == null ? null : Instant.ofEpochMilli(expiresAt.toEpochMilli()),
              by,
              tokenId,
              false);
        });
  }

  /**
   * Keys of {@code subject} (configured first, then registered, oldest first), or of everyone when
   * {@code subject} is null. Expired registered keys are listed (see {@link Key#expired}).
   */
  public List<Key> list(String subject) {
    List<Key> out = new ArrayList<>();
    for (UserConfig u : config.users()) {
      if (subject != null && !u.subject().equals(subject)) {
        continue;
      }
      for (ConfiguredKey c : configured.getOrDefault(u.subject(), List.of())) {
        out.add(
            new Key(
                null,
                "config",
                u.subject(),
                TokenService.kindOf(u),
                List.copyOf(u.groups()),
                c.key().type(),
                c.key().fingerprint(),
                c.key().publicKey(),
                c.key().comment(),
                null,
                null,
                "config",
                null,
                false));
      }
    }
    out.addAll(
        db.transaction(
            c -> {
              List<Key> rows = new ArrayList<>();
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT "
                          + COLUMNS
                          + " FROM ssh_keys"
                          + (subject == null ? "" : " WHERE subject = ?")
                          + " ORDER BY created_at, id")) {
                if (subject != null) {
                  ps.setString(1, subject);
                }
                try (ResultSet rs = ps.executeQuery()) {
                  while (rs.next()) {
                    rows.add(row(rs));
                  }
                }
              }
              return rows;
            }));
    return out;
  }

  /**
   * Removes the registered key with this fingerprint from {@code subject}, audits it and tells the
   * {@link #onRemove} listeners (which end the sessions it opened on this replica).
   *
   * @throws SshKeyException NOT_FOUND if no such registered key exists; CONFLICT if the key is in
   *     the configuration (remove it there)
   */
  public Key remove(String subject, String fingerprint, String by) {
    String fp = normalizeFingerprint(fingerprint);
    Key removed =
        db.transaction(
            c -> {
              Key k = null;
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT "
                          + COLUMNS
                          + " FROM ssh_keys WHERE subject = ? AND fingerprint = ?")) {
                ps.setString(1, subject);
                ps.setString(2, fp);
                try (ResultSet rs = ps.executeQuery()) {
                  if (rs.next()) {
                    k = row(rs);
                  }
                }
              }
              if (k == null) {
                return null;
              }
              try (PreparedStatement ps = c.prepareStatement("DELETE FROM ssh_keys WHERE id = ?")) {
                ps.setString(1, k.id());
                if (ps.executeUpdate() != 1) {
                  return null; // removed concurrently
                }
              }
              appendAudit(
                  new AuditEvent(
                      "ssh_key.removed",
                      by,
                      null,
                      null,
                      Map.of("subject", subject, "fingerprint", fp, "key_type", k.type())));
              return k;
            });
    if (removed == null) {
      for (ConfiguredKey c : configured.getOrDefault(subject, List.of())) {
        if (c.key().fingerprint().equals(fp)) {
          throw new SshKeyException(
              SshKeyException.Kind.CONFLICT,
              "key "
                  + fp
                  + " of "
                  + subject
                  + " comes from the configuration (identity.users[].ssh_keys); remove it there");
        }
      }
      throw new SshKeyException(
          SshKeyException.Kind.NOT_FOUND, "no registered key " + fp + " for " + subject);
    }
    log.info("removed SSH key {} of {} (by {})", fp, subject, by);
    notifyRemoved(removed.id());
    return removed;
  }

  /**
   * Registers a listener told the token id ({@code sshk_<id>}) of every key removed on this
   * replica, so that sessions opened with it can be ended ({@code Gate::revoked}).
   */
  public void onRemove(Consumer<String> tokenIdListener) {
    removeListeners.add(Objects.requireNonNull(tokenIdListener, "tokenIdListener"));
  }

  /**
   * The token {@code tokenId} was revoked (here or on another replica): tells the {@link #onRemove}
   * listeners the ids of the keys it registered, so the sessions they opened here end as the
   * token's own do. New logins with those keys are refused by {@link #authenticate} in any case.
   */
  public void tokenRevoked(String tokenId) {
    if (tokenId == null) {
      return;
    }
    List<String> ids;
    try {
      ids =
          db.transaction(
              c -> {
                List<String> out = new ArrayList<>();
                try (PreparedStatement ps =
                    c.prepareStatement("SELECT id FROM ssh_keys WHERE token_id = ?")) {
                  ps.setString(1, tokenId);
                  try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                      out.add(rs.getString(1));
                    }
                  }
                }
                return out;
              });
    } catch (StoreException e) {
      log.warn("could not look up the SSH keys registered by revoked token {}", tokenId, e);
      return;
    }
    for (String id : ids) {
      log.info("SSH key {} disabled: the token {} that registered it was revoked", id, tokenId);
      notifyRemoved(id);
    }
  }

  private void notifyRemoved(String keyId) {
    for (Consumer<String> l : removeListeners) {
      try {
        l.accept(TOKEN_ID_PREFIX + keyId);
      } catch (RuntimeException e) {
        log.warn("SSH key removal listener failed", e);
      }
    }
  }

  // ------------------------------------------------------------------------------ authenticate

  @Override
  public Principal authenticate(String subject, PublicKey key) {
    if (subject == null || subject.isBlank() || key == null) {
      return null;
    }
    UserConfig user = null;
    for (UserConfig u : config.users()) {
      if (u.subject().equals(subject)) {
        user = u;
        break;
      }
    }
    for (ConfiguredKey c : configured.getOrDefault(subject, List.of())) {
      if (KeyUtils.compareKeys(c.key().key(), key)) {
        return principal(
            subject,
            Set.copyOf(user.groups()),
            TokenService.kindOf(user),
            null,
            null,
            user,
            c.key().fingerprint());
      }
    }
    String fp;
    try {
      fp = KeyUtils.getFingerPrint(key);
    } catch (RuntimeException e) {
      return null;
    }
    if (fp == null || !fp.startsWith("SHA256:")) {
      return null;
    }
    Instant now = clock.instant();
    Key k;
    try {
      k =
          db.transaction(
              c -> {
                try (PreparedStatement ps =
                    c.prepareStatement(
                        "SELECT "
                            + COLUMNS
                            + " FROM ssh_keys WHERE subject = ? AND fingerprint = ?")) {
                  ps.setString(1, subject);
                  ps.setString(2, fp);
                  try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? row(rs) : null;
                  }
                }
              });
    } catch (StoreException e) {
      log.warn("SSH key lookup failed; refusing the key", e);
      return null; // fail closed
    }
    if (k == null || k.expired(now)) {
      return null;
    }
    if (k.tokenRevoked()) {
      log.info(
          "SSH key {} of {} refused: the token {} that registered it was revoked",
          k.fingerprint(),
          subject,
          k.tokenId());
      return null;
    }
    ParsedKey stored;
    try {
      stored = parse(k.publicKey());
    } catch (IllegalArgumentException e) {
      log.warn("stored SSH key {} of {} cannot be decoded; refusing it", k.fingerprint(), subject);
      return null;
    }
    if (!KeyUtils.compareKeys(stored.key(), key)) {
      return null;
    }
    Set<String> groups = user == null ? Set.copyOf(k.groups()) : Set.copyOf(user.groups());
    PrincipalKind kind = user == null ? k.kind() : TokenService.kindOf(user);
    return principal(
        subject, groups, kind, TOKEN_ID_PREFIX + k.id(), k.expiresAt(), user, k.fingerprint());
  }

  private static Principal principal(
      String subject,
      Set<String> groups,
      PrincipalKind kind,
      String tokenId,
      Instant expiresAt,
      UserConfig user,
      String fingerprint) {
    String role = user == null || user.role() == null ? "user" : user.role();
    return new Principal(
        subject,
        groups,
        kind,
        tokenId,
        expiresAt,
        Set.of(),
        Map.of(TokenService.ROLE_ATTRIBUTE, role, "auth", "ssh-key", "ssh_key", fingerprint));
  }

  // ------------------------------------------------------------------------------------ helpers

  // The registering token's revocation time comes with every row (null: not revoked, no token, or
  // a token this store does not know, such as an OIDC ID token's), read in the same query as the
  // key so no replica can miss a revocation.
  private static final String COLUMNS =
      "id, subject, kind, groups_json, key_type, fingerprint, public_key, comment, created_at,"
          + " expires_at, created_by, token_id, (SELECT t.revoked_at FROM identity_tokens t"
          + " WHERE t.id = ssh_keys.token_id) AS token_revoked_at";

  private static Key row(ResultSet rs) throws SQLException {
    long exp = rs.getLong("expires_at");
    boolean noExpiry = rs.wasNull();
    List<String> groups;
    try {
      groups = JSON.readValue(rs.getString("groups_json"), STRING_LIST);
    } catch (JsonProcessingException e) {
      throw new SQLException("corrupt JSON list in ssh_keys", e);
    }
    return new Key(
        rs.getString("id"),
        "registered",
        rs.getString("subject"),
        PrincipalKind.parse(rs.getString("kind")),
        List.copyOf(groups),
        rs.getString("key_type"),
        rs.getString("fingerprint"),
        rs.getString("public_key"),
        rs.getString("comment"),
        Instant.ofEpochMilli(rs.getLong("created_at")),
        noExpiry ? null : Instant.ofEpochMilli(exp),
        rs.getString("created_by"),
        rs.getString("token_id"),
        rs.getObject("token_revoked_at") != null);
  }

  private static String json(List<String> groups) {
    try {
      String s = JSON.writeValueAsString(groups);
      if (s.length() > 16_000) {
        throw new IllegalArgumentException("groups: too many to store");
      }
      return s;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("groups: not serialisable", e);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  private void appendAudit(AuditEvent event) {
    try {
      audit.append(event);
    } catch (RuntimeException e) {
      throw new StoreException(
          "audit: could not record " + event.type() + ": " + e.getMessage(), e);
    }
  }
}
