package dev.gatehouse.masking;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Not a test: prints the stream masker's throughput on a 4 MB line (java -cp ... main). */
final class StreamThroughput {
  private StreamThroughput() {}

  public static void main(String[] args) {
    MaskingEngine engine = MaskingEngine.create(null);
    String unit =
        args.length > 0 && args[0].equals("json")
            ? "{\"level\":\"info\",\"msg\":\"request_served\",\"status\":200,\"path\":\"/api/v1/items\"},"
            : "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod ";
    byte[] text = unit.repeat(4_000_000 / unit.length()).getBytes(StandardCharsets.UTF_8);
    for (int size : new int[] {4095, 256, 16}) {
      int len = size == 16 ? text.length / 8 : text.length;
      for (int round = 0; round < 2; round++) {
        StreamMasker m = engine.streamMasker("pii");
        long t0 = System.nanoTime();
        long outBytes = 0;
        for (int i = 0; i < len; i += size) {
          outBytes += m.feed(Arrays.copyOfRange(text, i, Math.min(len, i + size))).length;
        }
        outBytes += m.flush().length;
        double s = (System.nanoTime() - t0) / 1e9;
        if (round == 1) {
          System.out.printf(
              "chunks of %d: %.2f MB/s (%d bytes out)%n", size, len / 1e6 / s, outBytes);
        }
      }
    }
  }
}
