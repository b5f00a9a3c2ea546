package dev.gatehouse.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.api.GatewayFixture.Resp;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import dev.gatehouse.identity.SshKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /api/v1/ssh-keys} over real HTTPS, against a whole gateway. */
class SshKeyApiHttpTest {
  @TempDir static Path dir;
  static GatewayFixture gw;
  static String alice;
  static String dana;

  @BeforeAll
  static void start() throws Exception {
    gw = new GatewayFixture(dir);
    alice = gw.tokenFor("alice");
    dana = gw.tokenFor("dana");
  }

  @AfterAll
  static void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  static KeyPair generate() throws Exception {
    return KeyUtils.generateKeyPair("ssh-ed25519", 256);
  }

  static String body(PublicKey k, String comment, String... more) {
    ObjectNode n = GatewayFixture.JSON.createObjectNode();
    n.put("public_key", PublicKeyEntry.toString(k) + " " + comment);
    for (int i = 0; i < more.length; i += 2) {
      n.put(more[i], more[i + 1]);
    }
    return n.toString();
  }

  @Test
  void aUserRegistersListsLogsInWithAndRemovesTheirKey() throws Exception {
    var token = gw.server.tokens().issueForUser("alice", null, Set.of(), "test");
    KeyPair kp = generate();
    Resp added = gw.post("/api/v1/ssh-keys", token.secret(), body(kp.getPublic(), "alice@laptop"));

    assertThat(added.status()).as(added.body()).isEqualTo(201);
    JsonNode k = added.json();
    String fp = k.path("fingerprint").asText();
    assertThat(fp).isEqualTo(KeyUtils.getFingerPrint(kp.getPublic())).startsWith("SHA256:");
    assertThat(k.path("subject").asText()).isEqualTo("alice");
    assertThat(k.path("groups").toString()).contains("engineering");
    assertThat(k.path("source").asText()).isEqualTo("registered");
    // a key never outlives the token that registered it
    assertThat(Instant.parse(k.path("expires_at").asText())).isEqualTo(token.expiresAt());

    JsonNode list = gw.get("/api/v1/ssh-keys", alice).json();
    assertThat(list.findValuesAsText("fingerprint")).contains(fp);
    assertThat(list.findValuesAsText("comment")).contains("alice@laptop");

    Principal p = gw.server.sshKeys().authenticate("alice", kp.getPublic());
    assertThat(p).isNotNull();
    assertThat(p.groups()).containsExactly("engineering");
    assertThat(gw.server.sshKeys().authenticate("dana", kp.getPublic())).isNull();

    gw.post("/api/v1/ssh-keys", alice, body(kp.getPublic(), "again")).assertProblem(409);

    Resp removed = gw.delete("/api/v1/ssh-keys/" + SshKeys.urlSafeFingerprint(fp), alice);
    assertThat(removed.status()).as(removed.body()).isEqualTo(204);
    assertThat(gw.server.sshKeys().authenticate("alice", kp.getPublic())).isNull();
    gw.delete("/api/v1/ssh-keys/" + SshKeys.urlSafeFingerprint(fp), alice).assertProblem(404);
    assertThat(gw.get("/api/v1/ssh-keys", alice).json().findValuesAsText("fingerprint"))
        .doesNotContain(fp);
  }

  @Test
  void revokingTheTokenThatRegisteredAKeyDisablesTheKey() throws Exception {
    var stolen = gw.server.tokens().issueForUser("alice", null, Set.of(), "test");
    KeyPair kp = generate();
    Resp added = gw.post("/api/v1/ssh-keys", stolen.secret(), body(kp.getPublic(), "thief"));
    assertThat(added.status()).as(added.body()).isEqualTo(201);
    assertThat(added.json().path("token_id").asText()).isEqualTo(stolen.id());
    assertThat(added.json().path("token_revoked").asBoolean()).isFalse();
    assertThat(gw.server.sshKeys().authenticate("alice", kp.getPublic())).isNotNull();

    assertThat(gw.server.tokens().revoke(stolen.id(), "alice")).isTrue();

    // The key's own expiry (the token's) has not come: the revocation alone disables it.
    assertThat(gw.server.sshKeys().authenticate("alice", kp.getPublic())).isNull();
    String fp = added.json().path("fingerprint").asText();
    JsonNode listed = null;
    for (JsonNode k : gw.get("/api/v1/ssh-keys", alice).json()) {
      if (k.path("fingerprint").asText().equals(fp)) {
        listed = k;
      }
    }
    assertThat(listed).isNotNull();
    assertThat(listed.path("token_revoked").asBoolean()).isTrue();
    assertThat(listed.path("expired").asBoolean()).isFalse();
    Resp removed = gw.delete("/api/v1/ssh-keys/" + SshKeys.urlSafeFingerprint(fp), alice);
    assertThat(removed.status()).as(removed.body()).isEqualTo(204);
  }

  @Test
  void badKeysAreProblemsThatSayWhy() throws Exception {
    Resp missing = gw.post("/api/v1/ssh-keys", alice, "{}");
    missing.assertProblem(400);
    assertThat(missing.json().path("detail").asText()).contains("public_key: missing");

    Resp dsa = gw.post("/api/v1/ssh-keys", alice, "{\"public_key\":\"ssh-dss AAAAB3Nz x\"}");
    dsa.assertProblem(400);
    assertThat(dsa.json().path("detail").asText()).contains("ssh-dss").contains("not accepted");

    Resp broken =
        gw.post("/api/v1/ssh-keys", alice, "{\"public_key\":\"ssh-ed25519 AAAAC3Nza!!\"}");
    broken.assertProblem(400);
    assertThat(broken.json().path("detail").asText()).contains("not a valid ssh-ed25519");

    Resp priv =
        gw.post(
            "/api/v1/ssh-keys", alice, "{\"public_key\":\"-----BEGIN OPENSSH PRIVATE KEY-----\"}");
    priv.assertProblem(400);
    assertThat(priv.json().path("detail").asText()).contains("private key");

    KeyPair kp = generate();
    gw.post("/api/v1/ssh-keys", alice, body(kp.getPublic(), "x", "expires_in", "soon"))
        .assertProblem(400);
  }

  @Test
  void onlyAdminsManageOtherSubjectsKeys() throws Exception {
    KeyPair kp = generate();
    gw.post("/api/v1/ssh-keys", alice, body(kp.getPublic(), "x", "subject", "dana"))
        .assertProblem(403);
    gw.get("/api/v1/ssh-keys?subject=dana", alice).assertProblem(403);
    gw.get("/api/v1/ssh-keys?all=true", alice).assertProblem(403);

    Resp forErin =
        gw.post(
            "/api/v1/ssh-keys",
            dana,
            "{\"public_key\":\""
                + PublicKeyEntry.toString(kp.getPublic())
                + " erin\",\"subject\":\"erin\",\"groups\":[\"support\"],\"expires_in\":\"30d\"}");
    assertThat(forErin.status()).as(forErin.body()).isEqualTo(201);
    assertThat(forErin.json().path("expires_at").asText()).isNotEmpty();
    String fp = forErin.json().path("fingerprint").asText();
    assertThat(gw.get("/api/v1/ssh-keys?subject=erin", dana).json().findValuesAsText("fingerprint"))
        .containsExactly(fp);
    assertThat(gw.get("/api/v1/ssh-keys?all=true", dana).json().findValuesAsText("subject"))
        .contains("erin");
    Principal erin = gw.server.sshKeys().authenticate("erin", kp.getPublic());
    assertThat(erin.groups()).isEqualTo(Set.of("support"));
    assertThat(erin.expiresAt()).isNotNull();

    gw.delete("/api/v1/ssh-keys/" + SshKeys.urlSafeFingerprint(fp), alice).assertProblem(404);
    gw.delete("/api/v1/ssh-keys/" + SshKeys.urlSafeFingerprint(fp) + "?subject=erin", alice)
        .assertProblem(403);
    assertThat(
            gw.delete("/api/v1/ssh-keys/" + SshKeys.urlSafeFingerprint(fp) + "?subject=erin", dana)
                .status())
        .isEqualTo(204);
  }

  @Test
  void scopedTokensMayNotRegisterKeys() throws Exception {
    String scoped =
        gw.server.tokens().issueForUser("alice", null, Set.of("payments-db"), "test").secret();
    KeyPair kp = generate();

    Resp r = gw.post("/api/v1/ssh-keys", scoped, body(kp.getPublic(), "x"));

    r.assertProblem(403);
    assertThat(r.json().path("detail").asText()).contains("limited to");
  }

  /** Registers a fresh key with {@code token}; {@code more} are extra body fields. */
  static Resp register(String token, String... more) throws Exception {
    return gw.post("/api/v1/ssh-keys", token, body(generate().getPublic(), "k", more));
  }

  static Instant expiresAt(Resp r) {
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return Instant.parse(r.json().path("expires_at").asText());
  }

  @Test
  void aKeyRegisteredWithAShortLivedTokenExpiresWithIt() throws Exception {
    var token = gw.server.tokens().issueForUser("alice", Duration.ofMinutes(15), Set.of(), "test");

    assertThat(expiresAt(register(token.secret()))).isEqualTo(token.expiresAt());
    Resp longer = register(token.secret(), "expires_in", "30d");
    longer.assertProblem(403);
    assertThat(longer.json().path("detail").asText())
        .contains("expires_in: 30d would outlive the token registering the key")
        .contains(token.expiresAt().toString());
    assertThat(expiresAt(register(token.secret(), "expires_in", "10m")))
        .isBefore(token.expiresAt());
  }

  @Test
  void anAdminMayGrantLongerKeysUpToTheConfiguredMaximum() throws Exception {
    var token = gw.server.tokens().issueForUser("dana", Duration.ofMinutes(15), Set.of(), "test");

    assertThat(expiresAt(register(token.secret(), "expires_in", "30d", "subject", "frank")))
        .isAfter(Instant.now().plus(Duration.ofDays(29)));
    Resp tooLong = register(token.secret(), "expires_in", "91d");
    tooLong.assertProblem(400);
    assertThat(tooLong.json().path("detail").asText())
        .contains("at most 90d")
        .contains("identity.ssh_keys.max_ttl");
    assertThat(expiresAt(register(token.secret()))).isEqualTo(token.expiresAt());
  }

  @Test
  void machineIdentitiesNeverRegisterKeysLongerThanTheirToken() throws Exception {
    // A CI job's token (service kind), even one carrying the admin role.
    var ci =
        gw.server
            .tokens()
            .issue(
                "ci:example/app",
                Set.of("ci"),
                PrincipalKind.SERVICE,
                Duration.ofMinutes(10),
                Set.of(),
                Map.of("role", "admin"),
                "test");

    Resp longer = register(ci.secret(), "expires_in", "1h");
    longer.assertProblem(403);
    assertThat(longer.json().path("detail").asText()).contains("a service cannot register");
    assertThat(expiresAt(register(ci.secret()))).isEqualTo(ci.expiresAt());
  }

  static GatewayFixture.Run cli(String token, Path home, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-Duser.home=" + home);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.gatehouse.Gatehouse");
    cmd.add("ssh-keys");
    cmd.addAll(List.of(args));
    return gw.run(
        Map.of(
            "GATEHOUSE_API", gw.server.apiUrl(),
            "GATEHOUSE_CACERT", gw.server.tls().certificateFile().toString(),
            "GATEHOUSE_TOKEN", token,
            "HOME", home.toString()),
        cmd);
  }

  @Test
  void cliAddsTheDefaultKeyListsAndRemovesIt() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home-cli"));
    Path ssh = Files.createDirectories(home.resolve(".ssh"));
    KeyPair kp = generate();
    String fp = KeyUtils.getFingerPrint(kp.getPublic());
    Files.writeString(
        ssh.resolve("id_ed25519.pub"), PublicKeyEntry.toString(kp.getPublic()) + " dana@cli\n");
    Files.writeString(ssh.resolve("id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");

    GatewayFixture.Run added = cli(dana, home, "add", "--expires-in", "90d");
    assertThat(added.exit()).as(added.err()).isZero();
    assertThat(added.out().strip()).isEqualTo(fp);
    assertThat(added.err()).contains("registered ssh-ed25519 key for dana").contains("expires");

    GatewayFixture.Run listed = cli(dana, home, "list");
    assertThat(listed.exit()).as(listed.err()).isZero();
    assertThat(listed.out()).contains(fp).contains("dana@cli");
    GatewayFixture.Run asJson = cli(dana, home, "list", "-o", "json");
    assertThat(GatewayFixture.JSON.readTree(asJson.out()).findValuesAsText("fingerprint"))
        .contains(fp);

    GatewayFixture.Run dup = cli(dana, home, "add", ssh.resolve("id_ed25519.pub").toString());
    assertThat(dup.exit()).isNotZero();
    assertThat(dup.err()).contains("already registered");

    GatewayFixture.Run priv = cli(dana, home, "add", ssh.resolve("id_ed25519").toString());
    assertThat(priv.exit()).isEqualTo(2);
    assertThat(priv.err()).contains("public key");

    GatewayFixture.Run missing = cli(dana, home, "add", home.resolve("nope.pub").toString());
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("no such file");

    GatewayFixture.Run removed = cli(dana, home, "remove", fp);
    assertThat(removed.exit()).as(removed.err()).isZero();
    assertThat(gw.server.sshKeys().authenticate("dana", kp.getPublic())).isNull();
    assertThat(cli(dana, home, "remove", fp).exit()).isNotZero();
  }
}
