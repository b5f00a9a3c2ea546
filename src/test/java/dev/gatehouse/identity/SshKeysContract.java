package dev.gatehouse.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.GatehouseConfig.UserConfig;
import dev.gatehouse.store.Database;
import dev.gatehouse.store.StoreException;
import dev.gatehouse.testing.MovingClock;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Behaviour of {@link SshKeys} that must hold on every store; subclasses supply the database. */
abstract class SshKeysContract {
  /** A real key from ssh-keygen, with the fingerprint ssh-keygen -l prints for it. */
  static final String KNOWN_KEY =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIERZNJiEauTqFGwdVuAOx65+7qRY6OAcPN1/WemHYGLT"
          + " alice@laptop";

  static final String KNOWN_FINGERPRINT = "SHA256:4hmF+6/LJYRxcSmEv8X43je/dStaAYbAqyO2G20vmTA";

  static final KeyPair CONFIGURED = generate("ssh-ed25519", 256);

  Database db;
  MovingClock clock;
  ListAuditLog audit;
  SshKeys keys;

  abstract Database freshDatabase();

  abstract void release(Database db);

  static KeyPair generate(String type, int bits) {
    try {
      return KeyUtils.generateKeyPair(type, bits);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static String line(PublicKey k, String comment) {
    return PublicKeyEntry.toString(k) + " " + comment;
  }

  @BeforeEach
  void setUp() {
    db = freshDatabase();
    clock = MovingClock.now();
    audit = new ListAuditLog();
    List<UserConfig> users =
        List.of(
            new UserConfig(
                "dana",
                "human",
                List.of("dba"),
                "admin",
                List.of(line(CONFIGURED.getPublic(), "dana@desk"))),
            new UserConfig("ci-bot", "service", List.of("ci"), null));
    keys = new SshKeys(db, Configs.identity(users), audit, clock);
  }

  @AfterEach
  void tearDown() {
    release(db);
  }

  @Test
  void parsesAnOpenSshLineWithTheFingerprintSshKeygenPrints() {
    SshKeys.ParsedKey k = SshKeys.parse("  " + KNOWN_KEY + "\n");

    assertThat(k.type()).isEqualTo("ssh-ed25519");
    assertThat(k.fingerprint()).isEqualTo(KNOWN_FINGERPRINT);
    assertThat(k.comment()).isEqualTo("alice@laptop");
    assertThat(k.publicKey()).isEqualTo(KNOWN_KEY.substring(0, KNOWN_KEY.lastIndexOf(' ')));
  }

  @Test
  void refusesWhatIsNotAnAcceptablePublicKey() {
    assertThatThrownBy(() -> SshKeys.parse("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> SshKeys.parse("-----BEGIN OPENSSH PRIVATE KEY-----"))
        .hasMessageContaining("private key");
    assertThatThrownBy(() -> SshKeys.parse("ssh-dss AAAAB3NzaC1kc3MAAACBAP== old"))
        .hasMessageContaining("ssh-dss")
        .hasMessageContaining("not accepted");
    assertThatThrownBy(() -> SshKeys.parse("ssh-ed25519 AAAAnotbase64!!"))
        .hasMessageContaining("not a valid ssh-ed25519 public key");
    assertThatThrownBy(() -> SshKeys.parse("from=\"10.0.0.1\" " + KNOWN_KEY))
        .hasMessageContaining("options");
    assertThatThrownBy(() -> SshKeys.parse(line(generate("ssh-rsa", 1024).getPublic(), "weak")))
        .hasMessageContaining("at least 2048");
    assertThatThrownBy(() -> SshKeys.parse(KNOWN_KEY + "\n" + KNOWN_KEY))
        .hasMessageContaining("several lines");
  }

  @Test
  void configuredKeyLogsInWithTheConfiguredGroupsAndRole() {
    Principal p = keys.authenticate("dana", CONFIGURED.getPublic());

    assertThat(p).isNotNull();
    assertThat(p.subject()).isEqualTo("dana");
    assertThat(p.groups()).containsExactly("dba");
    assertThat(p.kind()).isEqualTo(PrincipalKind.HUMAN);
    assertThat(p.tokenId()).isNull();
    assertThat(p.expiresAt()).isNull();
    assertThat(p.attributes()).containsEntry("role", "admin").containsEntry("auth", "ssh-key");
    assertThat(keys.authenticate("ci-bot", CONFIGURED.getPublic())).as("other subject").isNull();
    assertThat(keys.authenticate("dana", generate("ssh-ed25519", 256).getPublic())).isNull();
  }

  @Test
  void registeredKeyLogsInWithItsSnapshotAndIsAudited() {
    KeyPair kp = generate("ecdsa-sha2-nistp256", 256);
    SshKeys.Key k =
        keys.add(
            "erin",
            PrincipalKind.HUMAN,
            Set.of("engineering", "oncall"),
            line(kp.getPublic(), "erin@laptop"),
            null,
            "erin");

    assertThat(k.fingerprint()).startsWith("SHA256:");
    assertThat(k.type()).isEqualTo("ecdsa-sha2-nistp256");
    Principal p = keys.authenticate("erin", kp.getPublic());
    assertThat(p).isNotNull();
    assertThat(p.groups()).containsExactlyInAnyOrder("engineering", "oncall");
    assertThat(p.tokenId()).isEqualTo(SshKeys.TOKEN_ID_PREFIX + k.id());
    assertThat(p.attributes())
        .containsEntry("role", "user")
        .containsEntry("ssh_key", k.fingerprint());
    assertThat(keys.authenticate("mallory", kp.getPublic())).isNull();
    assertThat(audit.ofType("ssh_key.added"))
        .singleElement()
        .satisfies(e -> assertThat(e.data()).containsEntry("fingerprint", k.fingerprint()));
  }

  @Test
  void aConfiguredUsersRegisteredKeyUsesTheCurrentConfiguredGroups() {
    KeyPair kp = generate("ssh-ed25519", 256);
    keys.add(
        "ci-bot", PrincipalKind.SERVICE, Set.of("stale"), line(kp.getPublic(), "x"), null, "dana");

    Principal p = keys.authenticate("ci-bot", kp.getPublic());

    assertThat(p.groups()).containsExactly("ci");
    assertThat(p.kind()).isEqualTo(PrincipalKind.SERVICE);
  }

  @Test
  void registeringTheSameKeyTwiceIsAConflict() {
    keys.add("erin", PrincipalKind.HUMAN, Set.of(), KNOWN_KEY, null, "erin");

    assertThatThrownBy(
            () -> keys.add("erin", PrincipalKind.HUMAN, Set.of(), KNOWN_KEY, null, "erin"))
        .isInstanceOf(SshKeys.SshKeyException.class)
        .hasMessageContaining("already registered");
    assertThatThrownBy(
            () ->
                keys.add(
                    "dana",
                    PrincipalKind.HUMAN,
                    Set.of(),
                    line(CONFIGURED.getPublic(), "again"),
                    null,
                    "dana"))
        .hasMessageContaining("already configured");
    // another subject may register the same public key (it proves nothing about who holds it)
    keys.add("frank", PrincipalKind.HUMAN, Set.of(), KNOWN_KEY, null, "frank");
    assertThat(keys.list(null)).extracting(SshKeys.Key::subject).contains("erin", "frank", "dana");
  }

  @Test
  void expiredKeysNoLongerLogIn() {
    KeyPair kp = generate("ssh-ed25519", 256);
    SshKeys.Key k =
        keys.add(
            "erin",
            PrincipalKind.HUMAN,
            Set.of(),
            line(kp.getPublic(), "x"),
            clock.instant().plus(Duration.ofHours(1)),
            "erin");
    assertThat(keys.authenticate("erin", kp.getPublic()).expiresAt()).isEqualTo(k.expiresAt());

    clock.advance(Duration.ofHours(1));

    assertThat(keys.authenticate("erin", kp.getPublic())).isNull();
    assertThat(keys.list("erin"))
        .singleElement()
        .satisfies(x -> assertThat(x.expired(clock.instant())).isTrue());
    assertThatThrownBy(
            () ->
                keys.add("erin", PrincipalKind.HUMAN, Set.of(), KNOWN_KEY, clock.instant(), "erin"))
        .hasMessageContaining("already have expired");
  }

  @Test
  void removedKeysNoLongerLogInAndTheirSessionsAreEnded() {
    KeyPair kp = generate("ssh-ed25519", 256);
    SshKeys.Key k =
        keys.add("erin", PrincipalKind.HUMAN, Set.of(), line(kp.getPublic(), "x"), null, "erin");
    List<String> ended = new ArrayList<>();
    keys.onRemove(ended::add);

    // as typed, URL-safe or without the prefix: all name the same key
    keys.remove("erin", SshKeys.urlSafeFingerprint(k.fingerprint()).substring(7), "erin");

    assertThat(keys.authenticate("erin", kp.getPublic())).isNull();
    assertThat(ended).containsExactly(SshKeys.TOKEN_ID_PREFIX + k.id());
    assertThat(audit.ofType("ssh_key.removed")).hasSize(1);
    assertThatThrownBy(() -> keys.remove("erin", k.fingerprint(), "erin"))
        .isInstanceOf(SshKeys.SshKeyException.class)
        .hasMessageContaining("no registered key");
    String configured = keys.list("dana").get(0).fingerprint();
    assertThatThrownBy(() -> keys.remove("dana", configured, "dana"))
        .hasMessageContaining("configuration");
  }

  @Test
  void revokingTheRegisteringTokenDisablesItsKeysEvenLongerLivedOnes() {
    TokenService tokens = new TokenService(db, Configs.identity(List.of()), audit, clock);
    IssuedToken stolen =
        tokens.issue(
            "erin", Set.of(), PrincipalKind.HUMAN, Duration.ofHours(1), Set.of(), Map.of(), "t");
    IssuedToken other =
        tokens.issue(
            "erin", Set.of(), PrincipalKind.HUMAN, Duration.ofHours(1), Set.of(), Map.of(), "t");
    KeyPair bound = generate("ssh-ed25519", 256);
    KeyPair longer = generate("ssh-ed25519", 256);
    KeyPair unrelated = generate("ssh-ed25519", 256);
    KeyPair cli = generate("ssh-ed25519", 256);
    var day = clock.instant().plus(Duration.ofDays(1));
    SshKeys.Key k =
        keys.add(
            "erin",
            PrincipalKind.HUMAN,
            Set.of(),
            line(bound.getPublic(), "a"),
            stolen.expiresAt(),
            "erin",
            stolen.id());
    keys.add(
        "erin",
        PrincipalKind.HUMAN,
        Set.of(),
        line(longer.getPublic(), "b"),
        day,
        "dana",
        stolen.id());
    keys.add(
        "erin",
        PrincipalKind.HUMAN,
        Set.of(),
        line(unrelated.getPublic(), "c"),
        null,
        "erin",
        other.id());
    keys.add("erin", PrincipalKind.HUMAN, Set.of(), line(cli.getPublic(), "d"), null, "cli");
    assertThat(k.tokenId()).isEqualTo(stolen.id());
    assertThat(audit.ofType("ssh_key.added").get(0).data()).containsEntry("token_id", stolen.id());
    assertThat(keys.authenticate("erin", bound.getPublic())).isNotNull();
    List<String> ended = new ArrayList<>();
    keys.onRemove(ended::add);

    assertThat(tokens.revoke(stolen.id(), "dana")).isTrue();
    keys.tokenRevoked(stolen.id()); // what GatehouseServer wires to TokenService.onRevoke

    // Checked at login against the store: no listener needed, any replica's revocation counts.
    assertThat(keys.authenticate("erin", bound.getPublic())).isNull();
    assertThat(keys.authenticate("erin", longer.getPublic())).isNull();
    assertThat(keys.authenticate("erin", unrelated.getPublic())).isNotNull();
    assertThat(keys.authenticate("erin", cli.getPublic())).isNotNull();
    assertThat(ended).hasSize(2).allMatch(id -> id.startsWith(SshKeys.TOKEN_ID_PREFIX));
    assertThat(ended).contains(SshKeys.TOKEN_ID_PREFIX + k.id());
    assertThat(keys.list("erin").stream().filter(SshKeys.Key::tokenRevoked))
        .extracting(SshKeys.Key::comment)
        .containsExactlyInAnyOrder("a", "b");
  }

  @Test
  void listsConfiguredThenRegisteredKeys() {
    keys.add("dana", PrincipalKind.HUMAN, Set.of("dba"), KNOWN_KEY, null, "dana");

    List<SshKeys.Key> l = keys.list("dana");

    assertThat(l).extracting(SshKeys.Key::source).containsExactly("config", "registered");
    assertThat(l.get(1).fingerprint()).isEqualTo(KNOWN_FINGERPRINT);
    assertThat(l.get(1).comment()).isEqualTo("alice@laptop");
    assertThat(keys.list("nobody")).isEmpty();
  }

  @Test
  void nothingIsRegisteredWhenTheAuditLogFails() {
    audit.failing = true;

    assertThatThrownBy(
            () -> keys.add("erin", PrincipalKind.HUMAN, Set.of(), KNOWN_KEY, null, "erin"))
        .isInstanceOf(StoreException.class);
    audit.failing = false;
    assertThat(keys.list("erin")).isEmpty();
  }

  @Test
  void anInvalidConfiguredKeyStopsStartUp() {
    List<UserConfig> users =
        List.of(new UserConfig("x", "human", List.of(), null, List.of("ssh-ed25519 AAAAbroken")));

    assertThatThrownBy(() -> new SshKeys(db, Configs.identity(users), audit, clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("identity.users[x].ssh_keys[0]");
  }

  static Principal grantor(PrincipalKind kind, java.time.Instant tokenExpiry) {
    return new Principal("dana", Set.of("dba"), kind, "t1", tokenExpiry, Set.of(), Map.of());
  }

  @Test
  void aRegisteredKeyExpiresWithTheTokenThatRegistersIt() {
    var tokenEnd = clock.instant().plus(Duration.ofMinutes(15));
    Principal user = grantor(PrincipalKind.HUMAN, tokenEnd);

    assertThat(keys.expiryFor(user, false, null)).isEqualTo(tokenEnd);
    assertThat(keys.expiryFor(user, false, Duration.ofMinutes(10)))
        .isEqualTo(clock.instant().plus(Duration.ofMinutes(10)));
    assertThatThrownBy(() -> keys.expiryFor(user, false, Duration.ofMinutes(16)))
        .isInstanceOfSatisfying(
            SshKeys.SshKeyException.class,
            e -> assertThat(e.kind()).isEqualTo(SshKeys.SshKeyException.Kind.FORBIDDEN))
        .hasMessageContaining("expires_in: 16m would outlive the token registering the key")
        .hasMessageContaining(tokenEnd.toString());
  }

  @Test
  void anAdminMayGrantUpToMaxTtlButNotAMachineAdmin() {
    var tokenEnd = clock.instant().plus(Duration.ofMinutes(15));

    assertThat(keys.expiryFor(grantor(PrincipalKind.HUMAN, tokenEnd), true, Duration.ofDays(90)))
        .isEqualTo(clock.instant().plus(Duration.ofDays(90)));
    assertThat(keys.expiryFor(grantor(PrincipalKind.HUMAN, tokenEnd), true, null))
        .isEqualTo(tokenEnd);
    assertThatThrownBy(
            () -> keys.expiryFor(grantor(PrincipalKind.HUMAN, tokenEnd), true, Duration.ofDays(91)))
        .isInstanceOfSatisfying(
            SshKeys.SshKeyException.class,
            e -> assertThat(e.kind()).isEqualTo(SshKeys.SshKeyException.Kind.INVALID))
        .hasMessageContaining("at most 90d, identity.ssh_keys.max_ttl");
    for (PrincipalKind machine : List.of(PrincipalKind.SERVICE, PrincipalKind.AGENT)) {
      assertThatThrownBy(
              () -> keys.expiryFor(grantor(machine, tokenEnd), true, Duration.ofMinutes(16)))
          .hasMessageContaining("cannot register longer ones");
      assertThat(keys.expiryFor(grantor(machine, tokenEnd), true, null)).isEqualTo(tokenEnd);
    }
  }

  @Test
  void aCredentialWithoutExpiryGrantsAtMostMaxTtl() {
    Principal forever = grantor(PrincipalKind.HUMAN, null);

    assertThat(keys.expiryFor(forever, false, null))
        .isEqualTo(clock.instant().plus(Duration.ofDays(90)));
    assertThatThrownBy(() -> keys.expiryFor(forever, false, Duration.ofDays(91)))
        .hasMessageContaining("max_ttl");
  }

  @Test
  void maxTtlComesFromTheConfiguration() {
    var config =
        new dev.gatehouse.config.GatehouseConfig.IdentityConfig(
            null,
            null,
            null,
            List.of(),
            List.of(),
            List.of(),
            new dev.gatehouse.config.GatehouseConfig.SshKeysConfig(Duration.ofDays(7)));
    SshKeys limited = new SshKeys(db, config, audit, clock);
    Principal admin = grantor(PrincipalKind.HUMAN, clock.instant().plus(Duration.ofHours(1)));

    assertThat(limited.expiryFor(admin, true, Duration.ofDays(7)))
        .isEqualTo(clock.instant().plus(Duration.ofDays(7)));
    assertThatThrownBy(() -> limited.expiryFor(admin, true, Duration.ofDays(8)))
        .hasMessageContaining("at most 7d");
  }
}
