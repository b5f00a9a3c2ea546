package dev.gatehouse.audit;

import java.io.IOException;
import java.util.List;

/** A destination for exported audit records. Delivery is at least once, in seq order. */
interface AuditSink extends AutoCloseable {
  /** Stable name under which the sink's offset is stored; never contains a secret. */
  String id();

  /** Delivers JSON lines (without newlines); throws so the tailer retries the same batch. */
  void deliver(List<String> lines) throws IOException, InterruptedException;

  /** Releases what the sink holds (an HTTP client); the default holds nothing. */
  @Override
  default void close() {}
}
