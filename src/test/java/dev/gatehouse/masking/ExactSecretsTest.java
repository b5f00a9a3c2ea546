package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Injected secrets in the forms tools print them without meaning to (red team rt17x): hex, base64
 * inside a longer encoded text, one line of a file secret, and a value interrupted by a pause, in
 * both the detecting stream masker and the byte-exact one of profile {@code none}.
 */
class ExactSecretsTest {
  static final MaskingEngine ENGINE = MaskingEngine.create(null);
  static final String TOKEN = "npm_Zq8rT3vX9kLm2Pw7Yb4Nc6Hd1Jf5Gs0QaEe";

  static String masked(String profile, List<String> secrets, String... chunks) {
    StreamMasker m = ENGINE.streamMasker(profile, secrets);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String c : chunks) {
      out.writeBytes(m.feed(c.getBytes(StandardCharsets.UTF_8)));
    }
    out.writeBytes(m.flush());
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void hexAndBase64OfTheSecretAreMaskedInEveryProfile() {
    String hex = HexFormat.of().formatHex(TOKEN.getBytes(StandardCharsets.UTF_8));
    for (String profile : List.of("none", "default", "secrets")) {
      for (String leak :
          List.of(
              hex,
              hex.toUpperCase(),
              Base64.getEncoder().encodeToString(TOKEN.getBytes(StandardCharsets.UTF_8)),
              // an HTTP Basic header: the token at each of the three offsets inside the text
              "Authorization: Basic " + b64("ci:" + TOKEN),
              "Authorization: Basic " + b64("c:" + TOKEN),
              "Authorization: Basic " + b64("bot1:" + TOKEN),
              Base64.getUrlEncoder().encodeToString(("x" + TOKEN + "y").getBytes()))) {
        String out = masked(profile, List.of(TOKEN), "out: " + leak + "\n");
        assertThat(out)
            .as(profile + " " + leak)
            .doesNotContain(leak.replace("Authorization: Basic ", ""));
        assertThat(out).as(profile).contains("REDACTED");
      }
    }
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void oneLineOfAFileSecretIsMaskedButItsNamesAreNot() {
    String kubeconfig =
        """
        apiVersion: v1
        contexts:
        - name: gke_prod-project_us-central1_main
        users:
        - name: deployer
          user:
            token: qwerTY7u8i9o0pAsDfGhJkL1z2x3c4v5
        """;
    String out =
        masked("none", List.of(kubeconfig), "    token: qwerTY7u8i9o0pAsDfGhJkL1z2x3c4v5\n");
    assertThat(out).doesNotContain("qwerTY7u8i9o0pAsDfGhJkL1z2x3c4v5").contains("token: ");
    String names = masked("none", List.of(kubeconfig), "gke_prod-project_us-central1_main\n");
    assertThat(names).isEqualTo("gke_prod-project_us-central1_main\n");
  }

  @Test
  void aValueInterruptedByAPauseIsMaskedWholeWithProfileNone() {
    // the idle flush comes between the chunks (IdleFlushingWriter calls flush after a pause)
    StreamMasker m = ENGINE.streamMasker("none", List.of(TOKEN));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(m.feed(("slow: " + TOKEN.substring(0, 20)).getBytes(StandardCharsets.UTF_8)));
    out.writeBytes(m.flush());
    out.writeBytes(m.feed((TOKEN.substring(20) + " done\n").getBytes(StandardCharsets.UTF_8)));
    out.writeBytes(m.flush());
    String s = out.toString(StandardCharsets.UTF_8);
    assertThat(s).doesNotContain(TOKEN.substring(0, 8)).doesNotContain(TOKEN.substring(20));
    assertThat(s).startsWith("slow: ").endsWith(" done\n").contains("REDACTED");
  }

  @Test
  void aShortTailThatOnlyStartsLikeTheSecretIsKept() {
    StreamMasker m = ENGINE.streamMasker("none", List.of(TOKEN));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(m.feed("run npm".getBytes(StandardCharsets.UTF_8)));
    out.writeBytes(m.flush());
    out.writeBytes(m.feed(" ci\n".getBytes(StandardCharsets.UTF_8)));
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("run npm ci\n");
  }

  @Test
  void shortValuesGetNoEncodedForms() {
    assertThat(ExactSecrets.expand(List.of("pw1234"))).containsExactly("pw1234");
    assertThat(ExactSecrets.expand(List.of(TOKEN))).hasSizeGreaterThan(5).contains(TOKEN);
  }
}
