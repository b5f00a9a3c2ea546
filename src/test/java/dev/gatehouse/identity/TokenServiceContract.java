package dev.gatehouse.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.config.GatehouseConfig.IdentityConfig;
import dev.gatehouse.config.GatehouseConfig.UserConfig;
import dev.gatehouse.store.Database;
import dev.gatehouse.store.StoreException;
import dev.gatehouse.testing.MovingClock;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Behaviour of {@link TokenService} that must hold on every store; subclasses supply the database.
 */
abstract class TokenServiceContract {
  static final List<UserConfig> USERS =
      List.of(
          new UserConfig("alice", "human", List.of("dba", "oncall"), "admin"),
          new UserConfig("ci-bot", "service", List.of("ci"), "auditor"),
          new UserConfig("bob", null, List.of("dev"), null));

  Database db;
  MovingClock clock;
  ListAuditLog audit;
  TokenService tokens;

  /** A database with migrations applied and no identity_tokens rows. */
  abstract Database freshDatabase();

  /** Called after each test with the database from {@link #freshDatabase()}. */
  abstract void release(Database db);

  @BeforeEach
  void setUp() {
    db = freshDatabase();
    clock = MovingClock.now();
    audit = new ListAuditLog();
    tokens = new TokenService(db, Configs.identity(USERS), audit, clock);
  }

  @AfterEach
  void tearDown() {
    release(db);
  }

  IssuedToken issueAlice(Duration ttl) {
    return tokens.issue(
        "alice",
        Set.of("dba"),
        PrincipalKind.HUMAN,
        ttl,
        Set.of("orders-db"),
        Map.of("ticket", "OPS-1"),
        "admin");
  }

  @Test
  void issuedTokenAuthenticatesToItsPrincipal() throws Exception {
    IssuedToken t = issueAlice(Duration.ofHours(1));

    assertThat(t.secret()).matches("ght_[0-9a-f]{20}_[A-Za-z0-9_-]{43}");
    assertThat(t.secret()).startsWith("ght_" + t.id() + "_");
    Principal p = tokens.authenticate(t.secret());
    assertThat(p.subject()).isEqualTo("alice");
    assertThat(p.groups()).containsExactly("dba");
    assertThat(p.kind()).isEqualTo(PrincipalKind.HUMAN);
    assertThat(p.tokenId()).isEqualTo(t.id());
    assertThat(p.expiresAt()).isEqualTo(t.expiresAt());
    assertThat(p.scope()).containsExactly("orders-db");
    assertThat(p.attributes()).containsEntry("ticket", "OPS-1").containsEntry("role", "admin");
    assertThat(tokens.stillValid(p, clock.instant())).isTrue();
    assertThat(audit.ofType("token.issued")).hasSize(1);
    assertThat(audit.ofType("token.issued").get(0).data()).containsEntry("token_id", t.id());
  }

  @Test
  void onlyTheHashOfTheSecretIsStoredAndNothingPrintsIt() throws Exception {
    IssuedToken t = issueAlice(null);
    String secretPart = t.secret().substring("ght_".length() + 20 + 1);

    List<String> row =
        db.transaction(
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement("SELECT * FROM identity_tokens WHERE id = ?")) {
                ps.setString(1, t.id());
                try (ResultSet rs = ps.executeQuery()) {
                  rs.next();
                  List<String> values = new ArrayList<>();
                  for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    values.add(String.valueOf(rs.getObject(i)));
                  }
                  values.add("hash=" + rs.getString("secret_hash"));
                  return values;
                }
              }
            });
    String expectedHash =
        HexFormat.of()
            .formatHex(
                MessageDigest.getInstance("SHA-256")
                    .digest(secretPart.getBytes(StandardCharsets.US_ASCII)));
    assertThat(row).contains("hash=" + expectedHash);
    assertThat(String.join("|", row)).doesNotContain(secretPart);
    assertThat(t.toString()).contains(t.id()).doesNotContain(secretPart);
    assertThat(audit.events.toString()).doesNotContain(secretPart);
  }

  @Test
  void wrongSecretIsRejectedWithoutEchoingIt() {
    IssuedToken t = issueAlice(null);
    char last = t.secret().charAt(t.secret().length() - 1);
    String wrong = t.secret().substring(0, t.secret().length() - 1) + (last == 'A' ? 'B' : 'A');

    assertThatThrownBy(() -> tokens.authenticate(wrong))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("invalid token");
    AuditEvent failed = audit.ofType("auth.failed").get(0);
    assertThat(failed.data()).containsEntry("reason", "secret mismatch");
    assertThat(failed.data()).containsEntry("token_id", t.id());
    assertThat(failed.toString()).doesNotContain(wrong.substring(25));
  }

  @Test
  void tamperedIdIsRejected() {
    IssuedToken t = issueAlice(null);
    char c = t.secret().charAt(4);
    String tampered = "ght_" + (c == 'a' ? 'b' : 'a') + t.secret().substring(5);

    assertThatThrownBy(() -> tokens.authenticate(tampered))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("invalid token");
    assertThat(audit.ofType("auth.failed").get(0).data())
        .containsEntry("reason", "unknown token id")
        .doesNotContainKey("token_id");
  }

  @Test
  void malformedOrMislabelledCredentialsAreRejected() {
    IssuedToken t = issueAlice(null);

    assertThatThrownBy(() -> tokens.authenticate("ght_123_abc")).hasMessage("malformed token");
    assertThatThrownBy(() -> tokens.authenticate("ghk_" + t.secret().substring(4)))
        .as("a token presented with the API key prefix")
        .hasMessage("invalid api key");
    assertThatThrownBy(() -> tokens.authenticate("password123"))
        .hasMessageStartingWith("unrecognised credential");
    assertThatThrownBy(() -> tokens.authenticate(" ")).hasMessage("missing credential");
  }

  @Test
  void expiredTokenIsRejected() throws Exception {
    IssuedToken t = issueAlice(Duration.ofMinutes(5));
    Principal p = tokens.authenticate(t.secret());

    clock.advance(Duration.ofMinutes(5));

    assertThat(tokens.stillValid(p, clock.instant())).isFalse();
    assertThatThrownBy(() -> tokens.authenticate(t.secret()))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("token " + t.id() + " expired at " + t.expiresAt());
  }

  @Test
  void revokedTokenIsRejectedAndLiveSessionsAreTold() throws Exception {
    IssuedToken t = issueAlice(null);
    Principal p = tokens.authenticate(t.secret());
    assertThat(tokens.stillValid(p, clock.instant())).isTrue();
    List<String> told = new CopyOnWriteArrayList<>();
    tokens.onRevoke(told::add);

    assertThat(tokens.revoke(t.id(), "security-team")).isTrue();

    assertThat(told).containsExactly(t.id());
    assertThat(tokens.stillValid(p, clock.instant())).as("no refresh needed locally").isFalse();
    assertThatThrownBy(() -> tokens.authenticate(t.secret())).hasMessageContaining("was revoked");
    assertThat(tokens.revoke(t.id(), "security-team")).as("already revoked").isFalse();
    assertThat(tokens.revoke("0123456789abcdef0123", "security-team")).isFalse();
    assertThat(audit.ofType("token.revoked"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.actor()).isEqualTo("security-team");
              assertThat(e.data()).containsEntry("token_id", t.id());
            });
  }

  @Test
  void revocationOnAnotherReplicaEndsSessionsWithinTheRefreshInterval() throws Exception {
    TokenService replicaB = new TokenService(db, Configs.identity(USERS), audit, clock);
    List<String> toldB = new CopyOnWriteArrayList<>();
    replicaB.onRevoke(toldB::add);
    IssuedToken t = issueAlice(null);
    Principal onB = replicaB.authenticate(t.secret());
    assertThat(replicaB.stillValid(onB, clock.instant())).isTrue();

    tokens.revoke(t.id(), "admin");
    clock.advance(TokenService.REVOCATION_REFRESH);

    assertThat(replicaB.stillValid(onB, clock.instant())).isFalse();
    assertThat(toldB).containsExactly(t.id());
  }

  @Test
  void defaultLifetimesDependOnKind() {
    Instant now = clock.instant();

    assertThat(
            tokens
                .issue("alice", Set.of(), PrincipalKind.HUMAN, null, Set.of(), Map.of(), "a")
                .expiresAt())
        .isEqualTo(now.plus(Duration.ofHours(12)));
    assertThat(
            tokens
                .issue("svc", Set.of(), PrincipalKind.SERVICE, null, Set.of(), Map.of(), "a")
                .expiresAt())
        .isEqualTo(now.plus(Duration.ofMinutes(15)));
    assertThat(
            tokens
                .issue("llm", Set.of(), PrincipalKind.AGENT, null, Set.of(), Map.of(), "a")
                .expiresAt())
        .isEqualTo(now.plus(Duration.ofMinutes(15)));
    assertThat(tokens.issueApiKey("deploy", "ci-bot", Set.of(), null, "a").expiresAt())
        .isEqualTo(now.plus(Duration.ofDays(90)));
  }

  @Test
  void configuredLifetimesOverrideTheDefaults() {
    IdentityConfig cfg =
        new IdentityConfig(
            Duration.ofHours(1),
            Duration.ofMinutes(2),
            Duration.ofMinutes(3),
            USERS,
            List.of(),
            List.of());
    TokenService custom = new TokenService(db, cfg, audit, clock);
    Instant now = clock.instant();

    assertThat(
            custom
                .issue("a", Set.of(), PrincipalKind.HUMAN, null, Set.of(), Map.of(), "x")
                .expiresAt())
        .isEqualTo(now.plus(Duration.ofHours(1)));
    assertThat(
            custom
                .issue("b", Set.of(), PrincipalKind.AGENT, null, Set.of(), Map.of(), "x")
                .expiresAt())
        .isEqualTo(now.plus(Duration.ofMinutes(3)));
  }

  @Test
  void apiKeysAreListedRevokedAndCarryTheDirectoryRole() throws Exception {
    IssuedToken key = tokens.issueApiKey("deploy-pipeline", "ci-bot", Set.of("ci"), null, "alice");
    IssuedToken other = issueAlice(null);

    assertThat(key.secret()).matches("ghk_[0-9a-f]{20}_[A-Za-z0-9_-]{43}");
    Principal p = tokens.authenticate(key.secret());
    assertThat(p.kind()).isEqualTo(PrincipalKind.SERVICE);
    assertThat(p.attributes()).containsEntry("role", "auditor");
    assertThat(tokens.list(false))
        .extracting(TokenInfo::id, TokenInfo::type, TokenInfo::name)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(key.id(), "api_key", "deploy-pipeline"),
            org.assertj.core.groups.Tuple.tuple(other.id(), "token", null));

    assertThat(tokens.revoke(key.id(), "alice")).isTrue();

    assertThat(tokens.list(false)).extracting(TokenInfo::id).containsExactly(other.id());
    TokenInfo revokedInfo =
        tokens.list(true).stream().filter(i -> i.id().equals(key.id())).findFirst().orElseThrow();
    assertThat(revokedInfo.revokedAt())
        .isEqualTo(clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    assertThat(revokedInfo.issuedBy()).isEqualTo("alice");
    assertThat(revokedInfo.active(clock.instant())).isFalse();
    assertThatThrownBy(() -> tokens.authenticate(key.secret())).hasMessageContaining("revoked");
  }

  @Test
  void expiredTokensAreListedOnlyWhenAskedFor() {
    IssuedToken t = issueAlice(Duration.ofMinutes(1));
    clock.advance(Duration.ofMinutes(2));

    assertThat(tokens.list(false)).isEmpty();
    assertThat(tokens.list(true)).extracting(TokenInfo::id).containsExactly(t.id());
  }

  @Test
  void auditFailureMeansNoTokenIsIssuedOrRevoked() {
    IssuedToken t = issueAlice(null);
    audit.failing = true;

    assertThatThrownBy(() -> issueAlice(null)).isInstanceOf(StoreException.class);
    assertThatThrownBy(() -> tokens.revoke(t.id(), "admin")).isInstanceOf(StoreException.class);

    audit.failing = false;
    assertThat(tokens.list(true)).extracting(TokenInfo::id).containsExactly(t.id());
    assertThat(tokens.list(false)).extracting(TokenInfo::id).containsExactly(t.id());
  }

  @Test
  void roleComesFromTheDirectoryElseFromIssueElseUser() throws Exception {
    IssuedToken claimsAdmin =
        tokens.issue(
            "bob", Set.of(), PrincipalKind.HUMAN, null, Set.of(), Map.of("role", "admin"), "x");
    IssuedToken outsider =
        tokens.issue(
            "carol", Set.of(), PrincipalKind.HUMAN, null, Set.of(), Map.of("role", "auditor"), "x");
    IssuedToken plain =
        tokens.issue("dave", Set.of(), PrincipalKind.HUMAN, null, Set.of(), Map.of(), "x");

    assertThat(tokens.authenticate(claimsAdmin.secret()).attributes())
        .as("bob is a configured user without a role")
        .containsEntry("role", "user");
    assertThat(tokens.authenticate(outsider.secret()).attributes())
        .containsEntry("role", "auditor");
    assertThat(tokens.authenticate(plain.secret()).attributes()).containsEntry("role", "user");
    assertThatThrownBy(
            () ->
                tokens.issue(
                    "eve",
                    Set.of(),
                    PrincipalKind.HUMAN,
                    null,
                    Set.of(),
                    Map.of("role", "root"),
                    "x"))
        .hasMessage("attributes.role: root (expected: admin, auditor or user)");
  }

  @Test
  void tokensForDirectoryUsersGetTheirGroupsAndKind() throws Exception {
    assertThat(tokens.user("ci-bot")).isPresent();
    assertThat(tokens.user("nobody")).isEmpty();

    IssuedToken t = tokens.issueForUser("ci-bot", null, Set.of(), "alice");

    Principal p = tokens.authenticate(t.secret());
    assertThat(p.groups()).containsExactly("ci");
    assertThat(p.kind()).isEqualTo(PrincipalKind.SERVICE);
    assertThat(t.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(15)));
    assertThatThrownBy(() -> tokens.issueForUser("nobody", null, Set.of(), "alice"))
        .hasMessage("subject: nobody (expected: a user from identity.users)");
  }
}
