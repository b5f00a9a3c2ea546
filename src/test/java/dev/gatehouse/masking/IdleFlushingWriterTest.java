package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class IdleFlushingWriterTest {
  static final MaskingEngine ENGINE = StreamMaskerTest.ENGINE;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void theEndOfTheStreamFlushesWhatTheMaskerHolds() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    IdleFlushingWriter w =
        new IdleFlushingWriter(ENGINE.streamMasker("default"), out::write, 25).start("t");
    w.feed(utf8("build ok\nDEPLOY_TOKEN=hunt"));
    w.feed(utf8("er2hunter2xyz\n"));
    w.finish();
    String seen = out.toString(StandardCharsets.UTF_8);
    assertThat(seen).startsWith("build ok\n").contains("DEPLOY_TOKEN=").endsWith("\n");
    assertThat(seen).doesNotContain("hunter2");
  }

  @Test
  void aQuietStreamGetsItsPromptAndNothingIsWrittenTwice() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    IdleFlushingWriter w =
        new IdleFlushingWriter(ENGINE.streamMasker("default"), out::write, 25).start("t");
    w.feed(utf8("Password: "));
    // The prompt goes out on an idle flush, while the stream stays open.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (out.size() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    synchronized (w) {
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("Password: ");
    }
    w.feed(utf8("\nok\n"));
    w.finish();
    w.finish(); // a second end writes nothing more
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("Password: \nok\n");
  }
}
