import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Iterator;

/**
 * A plain TCP relay in Java, in the two I/O models a relay can have, for run.sh's {@code
 * java-threads} and {@code java-loop} rows: it does no protocol work at all, so the difference
 * between its two rows, and between each and haproxy, is the cost of the I/O model and the JVM
 * alone, apart from anything Gatehouse does per statement.
 *
 * <ul>
 *   <li>{@code threads}: Gatehouse's model: two platform threads per connection, each in a blocking
 *       {@code read} then {@code write} loop, so every message wakes a sleeping thread;
 *   <li>{@code loop}: haproxy's model: one thread and one {@link Selector} for every connection,
 *       non-blocking sockets, reading whichever socket is ready.
 * </ul>
 *
 * <p>Usage: {@code java JavaRelay.java threads|loop LISTEN_PORT TARGET_PORT} (127.0.0.1). TCP_NODELAY
 * on every socket, as the gateway and haproxy set it.
 */
public class JavaRelay {
  static final int BUFFER = 64 * 1024;

  public static void main(String[] args) throws IOException {
    String mode = args[0];
    int listen = Integer.parseInt(args[1]);
    InetSocketAddress target = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[2]));
    switch (mode) {
      case "threads" -> threads(listen, target);
      case "loop" -> loop(listen, target);
      default -> throw new IllegalArgumentException("mode: threads or loop");
    }
  }

  static void threads(int listen, InetSocketAddress target) throws IOException {
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress("127.0.0.1", listen), 1024);
      while (true) {
        Socket client = server.accept();
        Socket up = new Socket();
        up.connect(target);
        client.setTcpNoDelay(true);
        up.setTcpNoDelay(true);
        pump(client, up);
        pump(up, client);
      }
    }
  }

  static void pump(Socket from, Socket to) {
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              byte[] buf = new byte[BUFFER];
              try (from;
                  to) {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buf)) >= 0; ) out.write(buf, 0, n);
              } catch (IOException e) {
                // one side closed: closing both ends the other pump too
              }
            });
  }

  /** One direction of a connection in the event loop: what was read and not yet written. */
  static final class Leg {
    final SocketChannel from;
    final SocketChannel to;
    final ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
    SelectionKey fromKey;
    SelectionKey toKey;
    Leg peer;

    Leg(SocketChannel from, SocketChannel to) {
      this.from = from;
      this.to = to;
    }
  }

  static void loop(int listen, InetSocketAddress target) throws IOException {
    Selector selector = Selector.open();
    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress("127.0.0.1", listen), 1024);
    server.configureBlocking(false);
    server.register(selector, SelectionKey.OP_ACCEPT);
    while (true) {
      selector.select();
      Iterator<SelectionKey> it = selector.selectedKeys().iterator();
      while (it.hasNext()) {
        SelectionKey k = it.next();
        it.remove();
        try {
          if (k.isAcceptable()) {
            accept(selector, server, target);
          } else {
            // A key belongs to one socket; its attachment holds both legs that use that socket:
            // the leg reading from it (readable) and the leg writing to it (writable).
            Leg[] legs = (Leg[]) k.attachment();
            if (k.isValid() && k.isWritable()) flush(legs[1]);
            if (k.isValid() && k.isReadable()) read(legs[0]);
          }
        } catch (IOException e) {
          Leg[] legs = (Leg[]) k.attachment();
          if (legs != null) {
            legs[0].from.close();
            legs[0].to.close();
          }
        }
      }
    }
  }

  static void accept(Selector selector, ServerSocketChannel server, InetSocketAddress target)
      throws IOException {
    SocketChannel client = server.accept();
    if (client == null) return;
    SocketChannel up = SocketChannel.open(target);
    for (SocketChannel c : new SocketChannel[] {client, up}) {
      c.setOption(StandardSocketOptions.TCP_NODELAY, true);
      c.configureBlocking(false);
    }
    Leg toUp = new Leg(client, up);
    Leg toClient = new Leg(up, client);
    toUp.peer = toClient;
    toClient.peer = toUp;
    SelectionKey ck = client.register(selector, SelectionKey.OP_READ, new Leg[] {toUp, toClient});
    SelectionKey uk = up.register(selector, SelectionKey.OP_READ, new Leg[] {toClient, toUp});
    toUp.fromKey = ck;
    toUp.toKey = uk;
    toClient.fromKey = uk;
    toClient.toKey = ck;
  }

  /** Reads what is ready and writes it on; a write that cannot finish waits for OP_WRITE. */
  static void read(Leg leg) throws IOException {
    int n = leg.from.read(leg.buf);
    if (n < 0) throw new IOException("closed");
    leg.buf.flip();
    leg.to.write(leg.buf);
    if (leg.buf.hasRemaining()) {
      // Backpressure: stop reading this side until the other has taken what is buffered.
      leg.fromKey.interestOps(leg.fromKey.interestOps() & ~SelectionKey.OP_READ);
      leg.toKey.interestOps(leg.toKey.interestOps() | SelectionKey.OP_WRITE);
      leg.buf.compact();
      leg.buf.flip();
    } else {
      leg.buf.clear();
    }
  }

  static void flush(Leg leg) throws IOException {
    leg.to.write(leg.buf);
    if (!leg.buf.hasRemaining()) {
      leg.buf.clear();
      leg.toKey.interestOps(leg.toKey.interestOps() & ~SelectionKey.OP_WRITE);
      leg.fromKey.interestOps(leg.fromKey.interestOps() | SelectionKey.OP_READ);
    }
  }
}
