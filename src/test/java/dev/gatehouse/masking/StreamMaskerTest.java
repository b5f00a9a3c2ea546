package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamMaskerTest {
  static final MaskingEngine ENGINE = MaskingEngine.create(null);

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Feeds the byte chunks and then flushes; returns everything emitted. */
  static String run(StreamMasker m, byte[]... chunks) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] c : chunks) {
      out.writeBytes(m.feed(c));
    }
    out.writeBytes(m.flush());
    return out.toString(StandardCharsets.UTF_8);
  }

  static byte[][] split(byte[] all, int at) {
    return new byte[][] {Arrays.copyOfRange(all, 0, at), Arrays.copyOfRange(all, at, all.length)};
  }

  @Test
  void cardSplitAtEveryPositionAcrossTwoChunksIsMasked() {
    String text = "order paid with 4532 0151 1283 0366 today\n";
    byte[] all = utf8(text);
    for (int at = 0; at <= all.length; at++) {
      byte[][] parts = split(all, at);
      StreamMasker m = ENGINE.streamMasker("pii");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(m.feed(parts[0]));
      out.writeBytes(m.feed(parts[1]));
      out.writeBytes(m.flush());
      assertThat(out.toString(StandardCharsets.UTF_8))
          .as("split at %d", at)
          .isEqualTo("order paid with **** **** **** 0366 today\n");
    }
  }

  @Test
  void noBreakSpaceGroupsEncodedAddressesAndOtherLanguagesAreMaskedAtEverySplit() {
    String text =
        "paid 4532\u00a00151\u202f1283\u20090366 and 625033 5974782423062,"
            + " reply-to=carol%40example.net, Kennwort = Geheim2024!\n";
    String expected =
        "paid ****\u00a0****\u202f****\u20090366 and ****** *********3062,"
            + " reply-to=c****%40example.net, Kennwort = [REDACTED:assignment]\n";
    byte[] all = utf8(text);
    for (int at = 0; at <= all.length; at++) {
      byte[][] p = split(all, at);
      assertThat(run(ENGINE.streamMasker("pii"), p[0], p[1]))
          .as("split at %d", at)
          .isEqualTo(expected);
    }
  }

  @Test
  void cardArrivingOneByteAtATimeIsMasked() {
    byte[] all = utf8("pay 4532015112830366 now\n");
    StreamMasker m = ENGINE.streamMasker("pii");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte b : all) {
      out.writeBytes(m.feed(new byte[] {b}));
    }
    out.writeBytes(m.flush());
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("pay ************0366 now\n");
  }

  @Test
  void passwordAssignmentSplitAcrossChunksIsMasked() {
    byte[] all = utf8("export DB_PASSWORD=Sup3rS3cretValue\n");
    for (int at = 0; at <= all.length; at++) {
      byte[][] p = split(all, at);
      assertThat(run(ENGINE.streamMasker("default"), p[0], p[1]))
          .as("split at %d", at)
          .isEqualTo("export DB_PASSWORD=[REDACTED:assignment]\n");
    }
  }

  @Test
  void aNameBeforeASpacedAssignmentIsHeldWithItsValueAtEverySplitAndChunkSize() {
    // The name was emitted on its own ("db_password" is not a joinable word), so the value that
    // followed in the next chunk was no longer an assignment.
    for (String[] c :
        new String[][] {
          {
            "db_password = \"correct-horse-battery\"\n", "db_password = \"[REDACTED:assignment]\"\n"
          },
          {
            "SPRING_DATASOURCE_PASSWORD : correct-horse-battery\n",
            "SPRING_DATASOURCE_PASSWORD : [REDACTED:assignment]\n"
          },
          {
            "  \"api_key\" => 'correct horse battery'\n",
            "  \"api_key\" => '[REDACTED:assignment]'\n"
          }
        }) {
      byte[] all = utf8(c[0]);
      for (int at = 0; at <= all.length; at++) {
        byte[][] p = split(all, at);
        assertThat(run(ENGINE.streamMasker("default"), p[0], p[1]))
            .as("%s split at %d", c[0], at)
            .isEqualTo(c[1]);
      }
      for (int size = 1; size <= 12; size++) {
        StreamMasker m = ENGINE.streamMasker("default");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < all.length; i += size) {
          out.writeBytes(m.feed(Arrays.copyOfRange(all, i, Math.min(all.length, i + size))));
        }
        out.writeBytes(m.flush());
        assertThat(out.toString(StandardCharsets.UTF_8))
            .as("%s in chunks of %d", c[0], size)
            .isEqualTo(c[1]);
      }
    }
  }

  @Test
  void multiByteUtf8SplitAcrossChunksComesOutIntact() {
    String text = "Grüße 日本語 😀 naïve\n";
    byte[] all = utf8(text);
    for (int at = 0; at <= all.length; at++) {
      byte[][] p = split(all, at);
      StreamMasker m = ENGINE.streamMasker("pii");
      byte[] first = m.feed(p[0]);
      // Whatever is emitted early must itself be valid UTF-8 (no split sequence).
      assertThat(new String(first, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8))
          .as("split at %d", at)
          .isEqualTo(first);
      byte[] rest = m.feed(p[1]);
      byte[] tail = m.flush();
      assertThat(
              new String(first, StandardCharsets.UTF_8)
                  + new String(rest, StandardCharsets.UTF_8)
                  + new String(tail, StandardCharsets.UTF_8))
          .isEqualTo(text);
    }
  }

  @Test
  void ansiEscapeSequencesSplitAcrossChunksAreNeverSplitInOutput() {
    String text =
        "\u001b[1;31mERROR\u001b[0m done \u001b]0;title bar\u0007 ok \u001b]8;;http://x\u001b\\link\n";
    byte[] all = utf8(text);
    for (int at = 0; at <= all.length; at++) {
      byte[][] p = split(all, at);
      StreamMasker m = ENGINE.streamMasker("pii");
      String first = new String(m.feed(p[0]), StandardCharsets.UTF_8);
      assertThat(endsInsideEscape(first)).as("split at %d: %s", at, first).isFalse();
      String rest = new String(m.feed(p[1]), StandardCharsets.UTF_8);
      String tail = new String(m.flush(), StandardCharsets.UTF_8);
      assertThat(first + rest + tail).as("split at %d", at).isEqualTo(text);
    }
  }

  /** What grep --color prints for a match: the matched part between SGR and erase-line codes. */
  static String highlighted(String before, String match, String after) {
    return before + "\u001b[01;31m\u001b[K" + match + "\u001b[m\u001b[K" + after;
  }

  static String visible(String s) {
    return s.replaceAll("\u001b\\[[0-9;]*[A-Za-z]", "");
  }

  @Test
  void aValueSplitByColourCodesIsMaskedAtEveryChunkBoundaryAndKeepsItsColours() {
    String[] lines = {
      highlighted("", "4532", " 0151 1283 0366\n"),
      highlighted("alice.smith", "@example.com", " wrote\n"),
      highlighted("ssn 536-", "22", "-1234\n"),
      highlighted("", "DB_PASSWORD=", "Sup3rS3cret\n")
    };
    String[] leaks = {"4532 0151 1283", "alice.smith", "536-22-1234", "Sup3rS3cret"};
    for (int k = 0; k < lines.length; k++) {
      byte[] all = utf8(lines[k]);
      for (int at = 0; at <= all.length; at++) {
        String out = run(ENGINE.streamMasker("pii"), split(all, at));
        assertThat(visible(out)).as("line %d split at %d: %s", k, at, out).doesNotContain(leaks[k]);
        assertThat(out).as("colours kept").contains("\u001b[01;31m\u001b[K").contains("\u001b[m");
      }
    }
  }

  @Test
  void valuesInsideEscapeSequencesAreMaskedToo() {
    String secret = "s3cr3t-V4lue-9x";
    String[] lines = {
      "\u001b]0;" + secret + "\u0007 title\n", // window title (OSC)
      "\u001b" + secret + " lone escape\n", // ESC swallows the next character
      "\u001b[4532 0151 1283 0366\n", // CSI parameter bytes
      "\u001b]8;;https://x.example/?token=" + secret + "\u001b\\link\u001b]8;;\u001b\\\n"
    };
    for (String line : lines) {
      byte[] all = utf8(line);
      for (int at = 0; at <= all.length; at++) {
        String out = run(ENGINE.streamMasker("pii", List.of(secret)), split(all, at));
        assertThat(out).as("%s split at %d", line, at).doesNotContain(secret.substring(1));
        assertThat(out).doesNotContain("0151 1283");
      }
    }
  }

  @Test
  void colouredCardKeepsTheLastFourAndTheCodesInPlace() {
    String out =
        run(ENGINE.streamMasker("pii"), utf8(highlighted("", "4532", " 0151 1283 0366 ok\n")));
    assertThat(out).isEqualTo("\u001b[01;31m\u001b[K****\u001b[m\u001b[K **** **** 0366 ok\n");
  }

  /** True when the text ends in an unterminated CSI or OSC sequence or a lone ESC. */
  static boolean endsInsideEscape(String s) {
    int esc = s.lastIndexOf('\u001b');
    if (esc < 0) {
      return false;
    }
    if (esc == s.length() - 1) {
      return true;
    }
    char k = s.charAt(esc + 1);
    if (k == '\\') {
      return false;
    }
    if (k == '[') {
      for (int i = esc + 2; i < s.length(); i++) {
        if (s.charAt(i) >= 0x40 && s.charAt(i) <= 0x7e) {
          return false;
        }
      }
      return true;
    }
    if (k == ']') {
      return s.indexOf('\u0007', esc) < 0;
    }
    return false;
  }

  @Test
  void textWithoutAnythingSensitiveIsEmittedPromptlyUpToTheUnfinishedLine() {
    // The unfinished line is held (its words decide what a value in it is), and goes out when it
    // ends or on an idle flush.
    StreamMasker m = ENGINE.streamMasker("pii");
    String out =
        new String(m.feed(utf8("total 42\ndrwxr-xr-x 2 root root ")), StandardCharsets.UTF_8);
    assertThat(out).isEqualTo("total 42\n");
    assertThat(new String(m.flushIdle(0), StandardCharsets.UTF_8))
        .isEqualTo("drwxr-xr-x 2 root root ");
  }

  @Test
  void heldBackTailIsBounded() {
    StreamMasker m = ENGINE.streamMasker("pii");
    byte[] word = utf8("x".repeat(3 * TextStreamMasker.MAX_HOLD));
    int emitted = m.feed(word).length;
    assertThat(word.length - emitted).isLessThanOrEqualTo(TextStreamMasker.MAX_HOLD);
  }

  @Test
  void exactSecretsAreRemovedEvenWhenSplitAtEveryPosition() {
    String secret = "pl4in-w0rd"; // not something any detector would find
    String text = "login ok: pl4in-w0rd used by pl4in-w0rd\n";
    byte[] all = utf8(text);
    for (int at = 0; at <= all.length; at++) {
      byte[][] p = split(all, at);
      String out = run(ENGINE.streamMasker("none", List.of(secret)), p[0], p[1]);
      assertThat(out)
          .as("split at %d", at)
          .isEqualTo("login ok: [REDACTED:secret] used by [REDACTED:secret]\n");
    }
  }

  @Test
  void exactSecretsAreRemovedWhenFedByteByByte() {
    StreamMasker m = ENGINE.streamMasker("none", List.of("correct horse battery staple"));
    byte[] all = utf8("pw is correct horse battery staple!\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte b : all) {
      out.writeBytes(m.feed(new byte[] {b}));
    }
    out.writeBytes(m.flush());
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("pw is [REDACTED:secret]!\n");
  }

  @Test
  void privateKeyBlockAcrossManyChunksIsDroppedUntilItsEndLine() {
    String key =
        "-----BEGIN RSA PRIVATE KEY-----\n"
            + "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n".repeat(30)
            + "-----END RSA PRIVATE KEY-----\n";
    String text = "$ cat id_rsa\n" + key + "$ ls\n";
    byte[] all = utf8(text);
    StreamMasker m = ENGINE.streamMasker("default");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < all.length; i += 7) {
      out.writeBytes(m.feed(Arrays.copyOfRange(all, i, Math.min(all.length, i + 7))));
    }
    out.writeBytes(m.flush());
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo("$ cat id_rsa\n[REDACTED:private_key]\n$ ls\n");
  }

  @Test
  void truncatedPrivateKeyDoesNotSilenceTheSessionForever() {
    StreamMasker m = ENGINE.streamMasker("default");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(m.feed(utf8("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n")));
    byte[] filler = utf8("x".repeat(1000) + "\n");
    for (int i = 0; i < 80; i++) {
      out.writeBytes(m.feed(filler));
    }
    out.writeBytes(m.feed(utf8("$ echo back\n")));
    out.writeBytes(m.flush());
    String s = out.toString(StandardCharsets.UTF_8);
    assertThat(s).startsWith("[REDACTED:private_key]").doesNotContain("MIIEvQIBADANBg");
    assertThat(s).endsWith("$ echo back\n");
  }

  @Test
  void flushEmitsEverythingHeldAndTheStreamContinues() {
    StreamMasker m = ENGINE.streamMasker("pii");
    assertThat(m.feed(utf8("prompt> "))).isEmpty();
    assertThat(m.feed(utf8("4532"))).isEmpty();
    assertThat(new String(m.flush(), StandardCharsets.UTF_8)).isEqualTo("prompt> 4532");
    assertThat(run(m, utf8("mail jane@example.com\n"))).isEqualTo("mail j****@example.com\n");
  }

  @Test
  void profileNoneKeepsBinaryOutputButRemovesExactSecretsAcrossChunks() {
    byte[] binary = {(byte) 0xff, (byte) 0xfe, 0x00, 0x01, 0x1b, 'x'};
    StreamMasker none = ENGINE.streamMasker("none", List.of("aba-s3cret"));
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    got.writeBytes(none.feed(binary));
    got.writeBytes(none.flush());
    assertThat(got.toByteArray()).containsExactly(binary);

    byte[] all = utf8("key=aba-s3cret; again aba-aba-s3cret!");
    for (int at = 0; at <= all.length; at++) {
      String out = run(ENGINE.streamMasker("none", List.of("aba-s3cret")), split(all, at));
      assertThat(out).as("split at %d", at).doesNotContain("s3cret").startsWith("key=");
      assertThat(out).as("split at %d", at).endsWith("!").contains("again aba-");
    }
  }
}
