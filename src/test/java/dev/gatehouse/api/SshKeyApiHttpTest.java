package dev.gatehouse.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.api.GatewayFixture.Resp;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.SshKeys;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
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
    KeyPair kp = generate();
    Resp added = gw.post("/api/v1/ssh-keys", alice, body(kp.getPublic(), "alice@laptop"));

    assertThat(added.status()).as(added.body()).isEqualTo(201);
    JsonNode k = added.json();
    String fp = k.path("fingerprint").asText();
    assertThat(fp).isEqualTo(KeyUtils.getFingerPrint(kp.getPublic())).startsWith("SHA256:");
    assertThat(k.path("subject").asText()).isEqualTo("alice");
    assertThat(k.path("groups").toString()).contains("engineering");
    assertThat(k.path("source").asText()).isEqualTo("registered");
    assertThat(k.path("expires_at").isNull()).isTrue();

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
}
