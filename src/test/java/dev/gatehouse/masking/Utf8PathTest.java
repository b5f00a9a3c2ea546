package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The byte-level content path ({@link Profile#redactUtf8Bytes}, used by the PostgreSQL row masker
 * and COPY rows) gives the same bytes as the String path ({@link Profile#redact} then UTF-8), on
 * the efficacy corpus, on email-shaped edge cases (non-ASCII around and inside addresses, URLs, scp
 * remotes, several addresses) and on random text, also inside a larger array and with other styles
 * for the email type.
 */
class Utf8PathTest {
  static final Profile PII = ScannerGatesTest.PII;

  static List<String> texts() throws IOException {
    List<String> t = new ArrayList<>(ScannerGatesTest.texts());
    t.addAll(
        List.of(
            "ann.smith@example.com",
            "émile.müller12@example.com",
            "muller@exämple.com",
            "Émile ann@example.com é",
            "ann@example.com:é",
            "ann@example.com:\u2003x",
            "ann@example.com: x",
            "git@github.com:org/repo",
            "https://user@example.com/x",
            "a@b.com@c.org",
            "x a@b.co b@c.de, c@d.io",
            "@example.com",
            "a@",
            "a@b",
            "a.@b.com",
            ".'a@b.com",
            "a@-b.com",
            "a@b..com",
            "a@b.c0m",
            "a@b.123",
            "a@b.com.",
            "a@b.com-",
            "'x@example.org'",
            "\"x@example.org\"",
            "é@example.com",
            "Ωmega.ünïcode@example.com",
            "日本語.名前@example.com",
            "x日本@example.com",
            "\uD835\uDC9Cbc@example.com",
            "a\uD835\uDC9Cbc@example.com",
            "ab\u00adc@example.com",
            "x\u2028y@example.com",
            "\u00e9" + "é".repeat(70) + "@example.com",
            "é".repeat(63) + "@example.com",
            "é".repeat(64) + "@example.com",
            "é".repeat(65) + "@example.com",
            "Émile <émile.müller@example.com>, Zoë <zoë@exämple.de>",
            "ab\u00e9@example.com",
            "x".repeat(70) + "@example.com",
            "a@" + "b".repeat(300) + ".com",
            "a@b." + "c".repeat(30),
            "user@example.com password=hunter2",
            "mail ann@example.com or call +44 20 7946 0958"));
    return t;
  }

  /** What is sent: the masked bytes, or the value itself when the path reports no change. */
  private static byte[] sent(byte[] masked, byte[] value) {
    return masked == null ? value : masked;
  }

  private static void check(Profile p, String s, List<String> diffs) {
    byte[] u = s.getBytes(StandardCharsets.UTF_8);
    byte[] expected = p.redact(s).getBytes(StandardCharsets.UTF_8);
    byte[] direct = sent(p.redactUtf8Bytes(u, 0, u.length), u);
    byte[] padded = new byte[u.length + 7];
    Arrays.fill(padded, (byte) 'x');
    padded[2] = '@';
    System.arraycopy(u, 0, padded, 3, u.length);
    byte[] inside = sent(p.redactUtf8Bytes(padded, 3, u.length), u);
    if (!Arrays.equals(expected, direct) || !Arrays.equals(expected, inside)) {
      diffs.add(
          s
              + " string="
              + new String(expected, StandardCharsets.UTF_8)
              + " bytes="
              + new String(direct, StandardCharsets.UTF_8)
              + " inside="
              + new String(inside, StandardCharsets.UTF_8));
    }
  }

  @Test
  void bytePathEqualsStringPathOnCorpusAndEdgeCases() throws IOException {
    List<String> diffs = new ArrayList<>();
    for (String s : texts()) {
      check(PII, s, diffs);
    }
    assertThat(diffs).isEmpty();
  }

  @Test
  void bytePathEqualsStringPathWithOtherEmailStyles() throws IOException {
    Keyed keyed = Keyed.of("test-key");
    for (Style style :
        List.of(
            new Style.Redact(null),
            new Style.Redact("****"),
            new Style.Hash(keyed, 16),
            new Style.Partial(3),
            Style.Keep.INSTANCE)) {
      ProfileBuilder b =
          Builtins.profiles(3.5, new Style.Redact(null), List.of(), List.of())
              .get("pii")
              .copyAs("t");
      b.styles.put("email", style);
      Profile p = b.build();
      List<String> diffs = new ArrayList<>();
      for (String s : texts()) {
        check(p, s, diffs);
      }
      assertThat(diffs).as(style.describe()).isEmpty();
    }
  }

  @Test
  void bytePathEqualsStringPathOnRandomText() {
    Random r = new Random(7);
    String alphabet = "ab.@-_'+:/ xé0Z1ü日\u00ad";
    List<String> diffs = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      StringBuilder b = new StringBuilder();
      int n = 1 + r.nextInt(30);
      for (int k = 0; k < n; k++) {
        b.append(alphabet.charAt(r.nextInt(alphabet.length())));
      }
      if (r.nextBoolean()) {
        b.insert(r.nextInt(b.length() + 1), "x@ex.com");
      }
      check(PII, b.toString(), diffs);
    }
    assertThat(diffs).isEmpty();
  }

  @Test
  void emailValuesAreMaskedOnTheirBytes() {
    byte[] u = "ann.smith@example.com".getBytes(StandardCharsets.UTF_8);
    assertThat(new String(PII.redactUtf8Bytes(u, 0, u.length), StandardCharsets.UTF_8))
        .isEqualTo(PII.redact("ann.smith@example.com"));
    assertThat(PII.scanner.emailBit).isNotZero();
    // Non-ASCII letters in the local part stay on the byte path; elsewhere the String path decides.
    List<Finding> found = new ArrayList<>();
    byte[] intl = "émile.müller@example.com".getBytes(StandardCharsets.UTF_8);
    assertThat(PII.scanner.email.findAscii(intl, 0, intl.length, found)).isTrue();
    assertThat(found).containsExactly(new Finding(0, intl.length, "email", 70));
    byte[] idn = "a@exämple.com".getBytes(StandardCharsets.UTF_8);
    assertThat(PII.scanner.email.findAscii(idn, 0, idn.length, new ArrayList<>())).isFalse();
    assertThat(PII.redactUtf8Bytes("Berlin".getBytes(StandardCharsets.UTF_8), 0, 6)).isNull();
    // A one-character local part is masked whole on the byte path too, alone and among findings.
    for (String v : List.of("a@example.com", "é@example.com", "to a@example.com, b@example.org")) {
      byte[] b = v.getBytes(StandardCharsets.UTF_8);
      String masked = new String(PII.redactUtf8Bytes(b, 0, b.length), StandardCharsets.UTF_8);
      assertThat(masked).isEqualTo(PII.redact(v)).contains("*****@example.").doesNotContain("a@");
    }
  }
}
