package dev.gatehouse.postgres;

/**
 * The seam where result masking plugs into the relay loop, without the relay knowing about it.
 * Called on the relay thread only, in wire order: a RowDescription, then the DataRows it describes.
 * Bodies are raw message bodies (without type byte and length), see the protocol's message formats.
 * The default passes everything through unchanged.
 */
interface RowFilter {

  /**
   * The columns of the DataRows that follow: each RowDescription ('T') passed to the client, and
   * before the first row of each Execute the description of that portal's rows with their actual
   * formats (which the client may never have been sent again: a statement described once is then
   * bound with binary result formats). Null when those rows were never described in this session: a
   * filter that masks must not trust any column of them.
   */
  void onRowDescription(byte[] body);

  /** Returns the DataRow ('D') body to send instead of {@code body}; may return it unchanged. */
  byte[] filterDataRow(byte[] body);

  /** A CopyOutResponse ('H'): the CopyData messages that follow are rows of a COPY TO STDOUT. */
  default void onCopyOut(byte[] body) {}

  /** Returns the CopyData ('d') body from the target to send instead of {@code body}. */
  default byte[] filterCopyData(byte[] body) {
    return body;
  }

  RowFilter IDENTITY =
      new RowFilter() {
        @Override
        public void onRowDescription(byte[] body) {}

        @Override
        public byte[] filterDataRow(byte[] body) {
          return body;
        }
      };
}
