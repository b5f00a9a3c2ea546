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
    assertThat(ExactSecrets.expand(List.of(TOKEN))).hasSizeGreaterThan(4).contains(TOKEN);
  }

  static final String ESC = "\u001b";

  /** Output without its CSI and OSC sequences: what the terminal shows. */
  static String visible(String s) {
    return s.replaceAll("\u001b\\[[0-?]*[ -/]*[@-~]", "")
        .replaceAll("\u001b\\][^\u0007\u001b]*(\u0007|\u001b\\\\)", "")
        .replaceAll("\u001b[ -/]*[0-~]", "");
  }

  @Test
  void aSecretWithColourCodesInsideIsMaskedWithProfileNoneAcrossChunks() {
    String t = TOKEN;
    List<String> leaks =
        List.of(
            // bold start, as a highlighter marks a match
            ESC + "[1m" + t.substring(0, 3) + ESC + "[0m" + t.substring(3),
            // a colour change between every few characters, 24-bit colours included
            t.substring(0, 4)
                + ESC
                + "[38;2;255;0;0m"
                + t.substring(4, 9)
                + ESC
                + "[m"
                + t.substring(9, 20)
                + ESC
                + "[01;34m"
                + t.substring(20),
            // tput sgr0 (ESC ( B then ESC [ m) and an OSC 8 link inside the value
            t.substring(0, 10) + ESC + "(B" + ESC + "[m" + t.substring(10),
            t.substring(0, 10) + ESC + "]8;;https://x.example/" + ESC + "\\" + t.substring(10),
            t.substring(0, 10) + ESC + "]0;title" + (char) 7 + t.substring(10));
    for (String leak : leaks) {
      byte[] all = ("out: " + leak + " done\n").getBytes(StandardCharsets.UTF_8);
      for (int at = 0; at <= all.length; at++) {
        String out =
            masked(
                "none",
                List.of(TOKEN),
                new String(all, 0, at, StandardCharsets.UTF_8),
                new String(all, at, all.length - at, StandardCharsets.UTF_8));
        String shown = visible(out);
        assertThat(shown).as("%s split at %d", leak, at).doesNotContain(t.substring(8, 16));
        assertThat(shown).as("%s split at %d", leak, at).doesNotContain(t.substring(24));
        assertThat(shown).as(leak).isEqualTo("out: [REDACTED:secret] done\n");
      }
    }
    // the colours inside the value still reach the terminal (after the replacement); a control
    // string inside it (a link, a title: any text) does not
    String out = masked("none", List.of(TOKEN), leaks.get(1));
    assertThat(out).contains(ESC + "[38;2;255;0;0m" + ESC + "[m" + ESC + "[01;34m");
    assertThat(masked("none", List.of(TOKEN), leaks.get(3))).doesNotContain("x.example");
  }

  @Test
  void aPauseInsideAColourCodeInsideASecretStillMasksTheRest() {
    StreamMasker m = ENGINE.streamMasker("none", List.of(TOKEN));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(m.feed(("x: " + TOKEN.substring(0, 12) + ESC + "[3").getBytes()));
    out.writeBytes(m.flush());
    out.writeBytes(m.feed(("1m" + TOKEN.substring(12, 20)).getBytes()));
    out.writeBytes(m.flush());
    out.writeBytes(m.feed((ESC + "[0m" + TOKEN.substring(20) + " done\n").getBytes()));
    out.writeBytes(m.flush());
    String s = out.toString(StandardCharsets.UTF_8);
    assertThat(visible(s)).isEqualTo("x: [REDACTED:secret] done\n");
    assertThat(s).contains(ESC + "[31m").contains(ESC + "[0m");
  }

  @Test
  void theSecretAndItsHexInAnotherCaseAreMaskedButBase64IsCaseSensitive() {
    String hex = HexFormat.of().formatHex(TOKEN.getBytes(StandardCharsets.UTF_8));
    String mixedHex = hex.substring(0, 20).toUpperCase() + hex.substring(20);
    for (String profile : List.of("none", "default")) {
      for (String leak :
          List.of(
              TOKEN.toUpperCase(),
              TOKEN.toLowerCase(),
              mixedHex,
              ESC
                  + "[1m"
                  + TOKEN.toUpperCase().substring(0, 5)
                  + ESC
                  + "[0m"
                  + TOKEN.substring(5))) {
        byte[] all = ("env: " + leak + "\n").getBytes(StandardCharsets.UTF_8);
        for (int at = 0; at <= all.length; at += 3) {
          String out =
              masked(
                  profile,
                  List.of(TOKEN),
                  new String(all, 0, at, StandardCharsets.UTF_8),
                  new String(all, at, all.length - at, StandardCharsets.UTF_8));
          assertThat(visible(out))
              .as("%s %s at %d", profile, leak, at)
              .isEqualTo("env: [REDACTED:secret]\n");
        }
      }
    }
    // decided: an upper-cased base64 text is another text (RFC 4648 is case-sensitive)
    String upperB64 = b64(TOKEN).toUpperCase();
    assertThat(masked("none", List.of(TOKEN), upperB64 + "\n")).isEqualTo(upperB64 + "\n");
  }

  @Test
  void outputWithoutSecretsKeepsItsEscapesByteForByteAndIsNotHeld() {
    StreamMasker m = ENGINE.streamMasker("none", List.of(TOKEN));
    byte[] coloured = (ESC + "[1mnpm" + ESC + "[0m ci " + ESC + "[").getBytes();
    // an escape sequence that continues no secret is not held, even unfinished
    assertThat(m.feed(coloured)).containsExactly(coloured);
    // "Npm_Zq8r" could start the secret in another case: held until it is decided
    assertThat(new String(m.feed("32m ok Npm_Zq8r".getBytes()))).isEqualTo("32m ok ");
    assertThat(new String(m.feed("x\n".getBytes()))).isEqualTo("Npm_Zq8rx\n");
  }
}
