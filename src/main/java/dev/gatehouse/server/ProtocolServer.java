package dev.gatehouse.server;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A protocol listener (PostgreSQL, MySQL, SSH, ...). Each protocol package has exactly one public
 * class implementing this; the server starts and stops them and wraps them once for metrics.
 */
public interface ProtocolServer extends AutoCloseable {

  /** Short protocol name, also the connection type it serves ({@code postgres}, {@code ssh}). */
  String protocol();

  /** Binds and starts accepting; fails with a clear message when the port is taken. */
  void start() throws IOException;

  /** The bound address (useful when configured with port 0). */
  InetSocketAddress address();

  /** Stops accepting and closes live sessions. */
  @Override
  void close();
}
