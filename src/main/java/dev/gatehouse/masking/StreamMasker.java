package dev.gatehouse.masking;

/**
 * Masks a byte stream of UTF-8 terminal or log output chunk by chunk. Not thread safe: one per
 * stream. The output is what masking the whole text gives, however it is cut into chunks: the
 * masker holds back a bounded tail (the unfinished line) that could hold or decide a sensitive
 * value, and never splits a UTF-8 sequence or an ANSI escape sequence (CSI, OSC) in what it
 * returns. Invalid UTF-8 is replaced by U+FFFD.
 */
public interface StreamMasker {
  /** Masked bytes that are safe to send now (possibly empty). */
  byte[] feed(byte[] chunk);

  /**
   * Emits everything held back, masked. The stream may continue afterwards: an interactive terminal
   * should call this when the upstream has been idle briefly, so a prompt is not delayed. A value
   * split by such a flush can no longer be masked as a whole (its part already sent stays as it
   * was), but what follows is still read after what was sent.
   */
  byte[] flush();

  /**
   * Called when the upstream has been quiet for {@code quietMillis}: returns what may be emitted
   * now. By default everything ({@link #flush}); a masker may keep a tail that looks like the start
   * of a secret still being written for a bounded time, and then {@link #holding} is true and the
   * caller asks again later (until new output arrives).
   */
  default byte[] flushIdle(long quietMillis) {
    return flush();
  }

  /** True while something is held back. */
  default boolean holding() {
    return false;
  }
}
