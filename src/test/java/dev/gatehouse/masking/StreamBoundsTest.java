package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The stream masker's held text stays bounded after an unfinished escape sequence and on long
 * lines, and the rows of a key-value table are masked when its header went out long before.
 */
class StreamBoundsTest {
  static final MaskingEngine ENGINE = StreamWholeTextTest.ENGINE;

  /** Feeds {@code text} in chunks of {@code size} bytes; returns the largest held length. */
  static int maxHeld(TextStreamMasker m, byte[] text, int size, ByteArrayOutputStream out) {
    int max = 0;
    for (int i = 0; i < text.length; i += size) {
      out.writeBytes(m.feed(Arrays.copyOfRange(text, i, Math.min(text.length, i + size))));
      max = Math.max(max, m.heldLength());
    }
    return max;
  }

  static TextStreamMasker masker() {
    return (TextStreamMasker) ENGINE.streamMasker("pii");
  }

  @Test
  void anUnfinishedOscDoesNotHoldTheTextAfterIt() {
    StringBuilder b = new StringBuilder("\u001b]0;title");
    String line = "the quick brown fox jumps over the lazy dog and keeps on running ok\n";
    while (b.length() < 200_000) {
      b.append(line);
    }
    byte[] text = b.toString().getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TextStreamMasker m = masker();
    assertThat(maxHeld(m, text, 4095, out)).isLessThanOrEqualTo(TextStreamMasker.MAX_HOLD + 64);
    assertThat(out.size()).isGreaterThan(text.length - TextStreamMasker.MAX_HOLD - 4096);

    // No newline at all: the text still goes out.
    String words = "lorem ipsum dolor sit amet ".repeat(8000);
    byte[] t2 = ("\u001b]0;title" + words).getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out2 = new ByteArrayOutputStream();
    assertThat(maxHeld(masker(), t2, 4095, out2))
        .isLessThanOrEqualTo(TextStreamMasker.MAX_HOLD + 64);
    assertThat(out2.size()).isGreaterThan(t2.length - TextStreamMasker.MAX_HOLD - 4096);
  }

  @Test
  void aLongLineOfWordsIsNotHeldWhole() {
    String words = "lorem ipsum dolor sit amet, consectetur adipiscing elit ".repeat(200);
    byte[] text = words.getBytes(StandardCharsets.UTF_8);
    for (int size : new int[] {4095, 256, 16}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      TextStreamMasker m = masker();
      assertThat(maxHeld(m, text, size, out))
          .as("chunks of %d", size)
          .isLessThanOrEqualTo(TextStreamMasker.LINE_WINDOW + size + 64);
      out.writeBytes(m.flush());
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(words);
    }
  }

  @Test
  void aSecretAfterALongLineIsStillMaskedAsInTheWholeText() {
    String prefix = "lorem ipsum dolor sit amet ".repeat(40);
    for (String tail :
        new String[] {
          "IBAN DE89 3704 0044 0532 0130 00 paid\n",
          "DB_PASSWORD=Sup3rS3cretValue\n",
          "password: \"correct horse battery staple\" ok\n",
          "card 4350 3359 7478 2425 ok\n",
        }) {
      assertThat(StreamWholeTextTest.mismatches(java.util.List.of(prefix + tail))).isEmpty();
    }
  }

  static String mysqlTable(int rows) {
    StringBuilder b = new StringBuilder();
    b.append("+-----------------+------------------+\n");
    b.append("| Variable_name   | Value            |\n");
    b.append("+-----------------+------------------+\n");
    for (int i = 0; i < rows; i++) {
      b.append(String.format("| setting_%02d      | plain_value_%02d   |%n", i, i));
    }
    return b.toString();
  }

  static String vaultTable(int rows) {
    StringBuilder b = new StringBuilder("====== Data ======\nKey                Value\n");
    b.append("---                -----\n");
    for (int i = 0; i < rows; i++) {
      b.append(String.format("setting_%02d         plain_value_%02d%n", i, i));
    }
    return b.toString();
  }

  @Test
  void tableRowsAreMaskedWhenTheHeaderWentOutLongBefore() {
    String[][] cases = {
      {mysqlTable(20), "| smtp_password   | Xq7pLm2Zr9Tw     |\n", "+----+\n"},
      {vaultTable(12), "db_password        Xq7pLm2Zr9Tw\n", "\n"},
    };
    for (String[] c : cases) {
      String text = c[0] + c[1] + c[2];
      String want = ENGINE.redact("pii", text);
      assertThat(want).doesNotContain("Xq7pLm2Zr9Tw");
      byte[] all = text.getBytes(StandardCharsets.UTF_8);
      int row = c[0].getBytes(StandardCharsets.UTF_8).length;
      int rowEnd = row + c[1].length();
      for (int at = row; at <= rowEnd; at++) {
        String got =
            StreamWholeTextTest.run(
                masker(), Arrays.copyOfRange(all, 0, at), Arrays.copyOfRange(all, at, all.length));
        assertThat(got).as("split at %d", at).isEqualTo(want);
      }
      // Every split into two chunks, and one-byte chunks.
      assertThat(StreamWholeTextTest.mismatches(java.util.List.of(text))).isEmpty();
      // The header and the rows in separate chunks, after an idle flush.
      TextStreamMasker m = masker();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(m.feed(Arrays.copyOfRange(all, 0, row)));
      out.writeBytes(m.flushIdle(TextStreamMasker.MAX_SECRET_WAIT_MILLIS));
      out.writeBytes(m.feed(Arrays.copyOfRange(all, row, all.length)));
      out.writeBytes(m.flush());
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(want);
    }
  }

  @Test
  void aRowAfterTheTableEndedIsNotReadAsOne() {
    // After a blank line the table is over: a later "name  value" line is ordinary text, as long
    // as no header comes again (the whole text reads it after its header anywhere: the stream
    // is at most as strict as the whole text within the context).
    String text = vaultTable(2) + "\n" + "x".repeat(300) + "\nplain text here\n";
    String want = ENGINE.redact("pii", text);
    assertThat(StreamWholeTextTest.mismatches(java.util.List.of(text))).isEmpty();
    assertThat(want).isEqualTo(text);
  }
}
