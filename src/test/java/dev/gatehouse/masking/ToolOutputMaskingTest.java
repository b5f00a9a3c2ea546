package dev.gatehouse.masking;

import static dev.gatehouse.masking.StreamMaskerTest.ENGINE;
import static dev.gatehouse.masking.StreamMaskerTest.run;
import static dev.gatehouse.masking.StreamMaskerTest.split;
import static dev.gatehouse.masking.StreamMaskerTest.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Secrets as tools print them (the red team's findings for the default profile): kubeconfig from
 * {@code kubectl config view --raw}, {@code terraform output -json}, a Docker {@code config.json},
 * and a password assignment, whole, in chunks of every size and split at every position; and the
 * idle flush that keeps the start of a secret while the rest is still being written.
 */
class ToolOutputMaskingTest {
  static String pem;
  static String keyB64;
  static String certB64;

  @BeforeAll
  static void key() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    byte[] der = g.generateKeyPair().getPrivate().getEncoded();
    pem =
        "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
            + "\n-----END PRIVATE KEY-----\n";
    keyB64 = Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
    String cert =
        "-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIIZ7xKfL0x0TQwDQYJKoZIhvcNAQELBQAw\n"
            + "-----END CERTIFICATE-----\n";
    certB64 = Base64.getEncoder().encodeToString(cert.getBytes(StandardCharsets.US_ASCII));
  }

  static String kubeconfig() {
    return "apiVersion: v1\nusers:\n- name: admin\n  user:\n    client-certificate-data: "
        + certB64
        + "\n    client-key-data: "
        + keyB64
        + "\n    token: kube-3f9a2c71e8b04d56\ncurrent-context: admin\n";
  }

  static final String TERRAFORM =
      """
      {
        "db_password": {
          "sensitive": true,
          "type": "string",
          "value": "s3cret-value"
        },
        "region": {
          "sensitive": false,
          "type": "string",
          "value": "eu-west-1"
        },
        "admin": {
          "sensitive": true,
          "type": ["object", {"user": "string", "password": "string"}],
          "value": {"user": "root", "password": "Tr0ub4dor-3"}
        }
      }
      """;

  static final String DOCKER_AUTH =
      Base64.getEncoder().encodeToString("builder:hunter2-registry".getBytes());

  static final String DOCKER =
      "{\n  \"auths\": {\n    \"registry.example.com\": {\n      \"auth\": \""
          + DOCKER_AUTH
          + "\"\n    },\n    \"https://index.docker.io/v1/\": {}\n  },\n  \"credsStore\": \"desktop\"\n}\n";

  /** Parts of the secrets that must not survive, per output. */
  static List<String> leaks(String text) {
    List<String> l = new ArrayList<>();
    if (text.contains("client-key-data")) {
      // any 24 characters of the key's base64, past its well-known header
      for (int i = 40; i + 24 < keyB64.length(); i += 200) {
        l.add(keyB64.substring(i, i + 24));
      }
      l.add("kube-3f9a2c71e8b04d56");
    }
    if (text.contains("sensitive")) {
      l.addAll(List.of("s3cret", "Tr0ub4dor"));
    }
    if (text.contains("auths")) {
      l.add(DOCKER_AUTH.substring(0, 12));
      l.add(DOCKER_AUTH.substring(12));
    }
    return l;
  }

  @Test
  void kubeconfigClientKeyAndTokenAreMaskedAndTheCertificateIsKept() {
    String out = ENGINE.redact("default", kubeconfig());
    assertThat(out)
        .contains("client-key-data: [REDACTED:private_key]\n")
        .contains("    token: [REDACTED:assignment]\n")
        .contains("client-certificate-data: " + certB64 + "\n")
        .endsWith("current-context: admin\n");
    leaks(kubeconfig()).forEach(s -> assertThat(out).doesNotContain(s));
  }

  @Test
  void aWrappedBase64KeyIsMaskedToItsLastLine() {
    String wrapped =
        "$ base64 key.pem\n"
            + Base64.getMimeEncoder(76, new byte[] {'\n'}).encodeToString(utf8(pem))
            + "\n$ ";
    String expected = "$ base64 key.pem\n[REDACTED:private_key]\n$ ";
    assertThat(ENGINE.redact("default", wrapped)).isEqualTo(expected);
    for (int chunk : new int[] {1, 7, 76, 77, 500}) {
      assertThat(run(ENGINE.streamMasker("default"), chunks(utf8(wrapped), chunk)))
          .as("chunks of %d", chunk)
          .isEqualTo(expected);
    }
  }

  @Test
  void terraformSensitiveOutputsAreMaskedAndTheJsonStaysWellFormed() throws Exception {
    String out = ENGINE.redact("default", TERRAFORM);
    JsonNode j = new ObjectMapper().readTree(out);
    assertThat(j.at("/db_password/value").asText()).isEqualTo("[REDACTED:assignment]");
    assertThat(j.at("/db_password/sensitive").asBoolean()).isTrue();
    assertThat(j.at("/region/value").asText()).isEqualTo("eu-west-1");
    assertThat(j.at("/admin/value/password").asText()).isEqualTo("[REDACTED:assignment]");
    assertThat(j.at("/admin/type/1/password").asText()).isEqualTo("string");
    // the one-line form the red team used: the value is masked, the object is left in place
    assertThat(
            ENGINE.redact(
                "default",
                "{\"db_password\": {\"sensitive\": true, \"type\": \"string\","
                    + " \"value\": \"s3cret-value\"}}"))
        .isEqualTo(
            "{\"db_password\": {\"sensitive\": true, \"type\": \"string\","
                + " \"value\": \"[REDACTED:assignment]\"}}");
  }

  @Test
  void dockerRegistryAuthIsMaskedButOtherAuthValuesAreNot() {
    String out = ENGINE.redact("default", DOCKER);
    assertThat(out).contains("\"auth\": \"[REDACTED:assignment]\"").contains("\"desktop\"");
    String noColon = Base64.getEncoder().encodeToString("just-a-name".getBytes());
    for (String v : List.of("none", "oauth2", noColon)) {
      String s = "{\"auth\": \"" + v + "\"}";
      assertThat(ENGINE.redact("default", s)).isEqualTo(s);
    }
  }

  @Test
  void eachOutputIsMaskedTheSameInChunksOfEverySizeAndSplitAtEveryPosition() {
    for (String text :
        List.of(kubeconfig(), TERRAFORM, DOCKER, "db_password = \"correct-horse-battery\"\n")) {
      byte[] all = utf8(text);
      String whole = run(ENGINE.streamMasker("default"), all);
      List<String> leaks = new ArrayList<>(leaks(text));
      if (text.startsWith("db_password")) {
        leaks.add("horse");
      }
      assertThat(leaks).isNotEmpty();
      leaks.forEach(s -> assertThat(whole).doesNotContain(s));
      for (int chunk = 1; chunk <= 16; chunk++) {
        assertThat(run(ENGINE.streamMasker("default"), chunks(all, chunk)))
            .as("chunks of %d", chunk)
            .isEqualTo(whole);
      }
      for (int at = 0; at <= all.length; at++) {
        assertThat(run(ENGINE.streamMasker("default"), split(all, at)))
            .as("split at %d", at)
            .isEqualTo(whole);
      }
    }
  }

  @Test
  void anIdleFlushKeepsTheStartOfASecretAndLetsPromptsGo() {
    for (String start :
        List.of(
            "DEPLOY_TOKEN=h",
            "export GITHUB_TOKEN=ghp_12",
            "password: \"correct horse",
            "    client-key-data: " + keyB64.substring(0, 30),
            "      \"auth\": \"" + DOCKER_AUTH.substring(0, 8),
            TERRAFORM.substring(0, TERRAFORM.indexOf("s3cret")),
            "token ghp_1a2B",
            "user=bob pass=h", // a bare pass (nineteenth session)
            "the password is h")) {
      StreamMasker m = ENGINE.streamMasker("default");
      String early = new String(m.feed(utf8(start)), StandardCharsets.UTF_8);
      assertThat(new String(m.flushIdle(30), StandardCharsets.UTF_8)).as(start).isEmpty();
      assertThat(m.holding()).as(start).isTrue();
      String rest = new String(m.feed(utf8("0123456789abcdefXYZW\n")), StandardCharsets.UTF_8);
      assertThat(early + rest + new String(m.flush(), StandardCharsets.UTF_8))
          .as(start)
          .doesNotContain("0123456789abcdef");
    }
    // held no longer than the bound: then everything goes, masked as far as it can be
    StreamMasker m = ENGINE.streamMasker("default");
    String early = new String(m.feed(utf8("DEPLOY_TOKEN=hunter2")), StandardCharsets.UTF_8);
    String late =
        new String(m.flushIdle(TextStreamMasker.MAX_SECRET_WAIT_MILLIS), StandardCharsets.UTF_8);
    assertThat(early + late).isEqualTo("DEPLOY_TOKEN=[REDACTED:assignment]");
    assertThat(m.holding()).isFalse();
    // a prompt, a shell prompt, ordinary output and a completed value are not held
    for (String prompt :
        List.of("Password: ", "Enter token:", "$ ", "user@host:~$ ", "Building", "KEY=\"x\"")) {
      StreamMasker p = ENGINE.streamMasker("default");
      String got =
          new String(p.feed(utf8(prompt)), StandardCharsets.UTF_8)
              + new String(p.flushIdle(30), StandardCharsets.UTF_8);
      assertThat(got).as(prompt).isNotEmpty();
      assertThat(p.holding()).as(prompt).isFalse();
    }
  }

  static byte[][] chunks(byte[] all, int size) {
    List<byte[]> l = new ArrayList<>();
    for (int i = 0; i < all.length; i += size) {
      l.add(Arrays.copyOfRange(all, i, Math.min(all.length, i + size)));
    }
    return l.toArray(byte[][]::new);
  }
}
