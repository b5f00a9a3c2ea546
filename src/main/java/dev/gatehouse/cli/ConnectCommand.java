package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gatehouse connect CONNECTION}: a local PostgreSQL listener on 127.0.0.1 that logs in to
 * the gateway with the stored token, so {@code psql -h 127.0.0.1 -p N} needs no password. Each
 * local client gets its own gateway session; the listener keeps running across client reconnects.
 *
 * <p>Only the start-up exchange is interpreted (protocol 3.0 StartupMessage and the cleartext
 * password request,
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP); everything
 * after authentication is relayed byte for byte.
 */
@Command(
    name = "connect",
    mixinStandardHelpOptions = true,
    description = {
      "Open a local PostgreSQL listener that forwards to the gateway with your stored token.",
      "Then: psql -h 127.0.0.1 -p PORT (no password needed). Ctrl-C stops it."
    })
final class ConnectCommand extends ApiCommand {
  /** PostgreSQL's own bound on a startup packet (postmaster.c MAX_STARTUP_PACKET_LENGTH). */
  private static final int MAX_STARTUP = 10_000;

  /** Bound on any message we read before relaying (auth messages are tiny). */
  private static final int MAX_AUTH_MESSAGE = 64 * 1024;

  private static final int SSL_REQUEST = 80877103;
  private static final int GSSENC_REQUEST = 80877104;
  private static final int PROTOCOL_3 = 196608;

  @Parameters(paramLabel = "CONNECTION", description = "Connection name, e.g. payments-db.")
  String connection;

  @Option(names = "--port", defaultValue = "0", description = "Local port (default: a free one).")
  int port;

  @Option(
      names = "--pg-address",
      description = "Gateway PostgreSQL address host:port (default: API host, port 15432).")
  String pgAddress;

  @Override
  int run() throws Exception {
    JsonNode me = api().get("/api/v1/whoami");
    String subject = me.path("subject").asText();
    InetSocketAddress gateway = gatewayAddress();
    SSLContext tls = tlsContext(api().config().caCert());
    try (ServerSocket ss = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      System.err.printf(
          "gatehouse: %s as %s on 127.0.0.1:%d → %s:%d%n  psql \"host=127.0.0.1 port=%d"
              + " dbname=%s user=%s\"%n",
          connection,
          subject,
          ss.getLocalPort(),
          gateway.getHostString(),
          gateway.getPort(),
          ss.getLocalPort(),
          connection,
          subject);
      while (true) {
        Socket client = ss.accept();
        pool.submit(() -> serve(client, gateway, tls, subject));
      }
    }
  }

  private InetSocketAddress gatewayAddress() {
    if (pgAddress != null) {
      int c = pgAddress.lastIndexOf(':');
      if (c < 0) {
        throw new CliException(
            CliException.USAGE, "--pg-address " + pgAddress + " (expected host:port)");
      }
      return InetSocketAddress.createUnresolved(
          pgAddress.substring(0, c), Integer.parseInt(pgAddress.substring(c + 1)));
    }
    String env = System.getenv("GATEHOUSE_PG_PORT");
    URI api = URI.create(api().config().api());
    return InetSocketAddress.createUnresolved(
        api.getHost(), env == null ? 15432 : Integer.parseInt(env));
  }

  private Void serve(Socket client, InetSocketAddress gateway, SSLContext tls, String subject) {
    try (client) {
      DataInputStream cin = new DataInputStream(new BufferedInputStream(client.getInputStream()));
      OutputStream cout = client.getOutputStream();
      byte[] startup = readStartup(cin, cout);
      if (startup == null) {
        return null;
      }
      try (Socket up = new Socket(gateway.getHostString(), gateway.getPort())) {
        DataOutputStream uout =
            new DataOutputStream(new BufferedOutputStream(up.getOutputStream()));
        DataInputStream uin = new DataInputStream(up.getInputStream());
        uout.writeInt(8);
        uout.writeInt(SSL_REQUEST);
        uout.flush();
        if (uin.read() != 'S') {
          throw new IOException("the gateway does not offer TLS");
        }
        SSLSocket ssl =
            (SSLSocket)
                tls.getSocketFactory()
                    .createSocket(up, gateway.getHostString(), gateway.getPort(), true);
        SSLParameters p = ssl.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        ssl.setSSLParameters(p);
        ssl.startHandshake();
        DataOutputStream sout =
            new DataOutputStream(new BufferedOutputStream(ssl.getOutputStream()));
        DataInputStream sin = new DataInputStream(new BufferedInputStream(ssl.getInputStream()));
        sout.write(startupFor(subject));
        sout.flush();
        // Answer the gateway's password request with the token; pass everything else through.
        while (true) {
          int type = sin.readUnsignedByte();
          int len = sin.readInt();
          if (len < 4 || len > MAX_AUTH_MESSAGE) {
            throw new IOException("gateway sent a message of length " + len);
          }
          byte[] body = sin.readNBytes(len - 4);
          if (type == 'R' && body.length >= 4 && readInt(body) == 3) {
            String token = api().config().token();
            byte[] pw = (token + "\0").getBytes(StandardCharsets.UTF_8);
            sout.writeByte('p');
            sout.writeInt(4 + pw.length);
            sout.write(pw);
            sout.flush();
            continue;
          }
          cout.write(type);
          writeInt(cout, len);
          cout.write(body);
          if (type == 'R' && readInt(body) == 0) {
            cout.flush();
            break;
          }
          if (type == 'E') {
            cout.flush();
            return null;
          }
        }
        Thread pump = Thread.ofVirtual().start(() -> copy(sin, cout, client));
        copy(cin, sout, ssl);
        pump.join();
      }
    } catch (IOException | InterruptedException e) {
      System.err.println("gatehouse: connection ended: " + e.getMessage());
    }
    return null;
  }

  /** Reads the client's startup, refusing SSL/GSS requests (the local hop is loopback only). */
  private static byte[] readStartup(DataInputStream in, OutputStream out) throws IOException {
    while (true) {
      int len;
      try {
        len = in.readInt();
      } catch (EOFException e) {
        return null;
      }
      if (len < 8 || len > MAX_STARTUP) {
        throw new IOException("startup packet length " + len + " out of range 8.." + MAX_STARTUP);
      }
      byte[] body = in.readNBytes(len - 4);
      int code = readInt(body);
      if (code == SSL_REQUEST || code == GSSENC_REQUEST) {
        out.write('N');
        out.flush();
        continue;
      }
      if (code != PROTOCOL_3) {
        throw new IOException("unsupported protocol " + code);
      }
      return body;
    }
  }

  private byte[] startupFor(String subject) throws IOException {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(b);
    d.writeInt(0);
    d.writeInt(PROTOCOL_3);
    for (String[] kv :
        new String[][] {
          {"user", subject}, {"database", connection}, {"application_name", "gatehouse-connect"}
        }) {
      d.write(kv[0].getBytes(StandardCharsets.UTF_8));
      d.write(0);
      d.write(kv[1].getBytes(StandardCharsets.UTF_8));
      d.write(0);
    }
    d.write(0);
    byte[] out = b.toByteArray();
    int n = out.length;
    out[0] = (byte) (n >>> 24);
    out[1] = (byte) (n >>> 16);
    out[2] = (byte) (n >>> 8);
    out[3] = (byte) n;
    return out;
  }

  private static void copy(InputStream in, OutputStream out, Socket closeOnEnd) {
    byte[] buf = new byte[64 * 1024];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        if (in.available() == 0) {
          out.flush();
        }
      }
      out.flush();
    } catch (IOException ignored) {
      // one side closed: close the other below
    } finally {
      try {
        closeOnEnd.close();
      } catch (IOException ignored) {
        // already closed
      }
    }
  }

  private static int readInt(byte[] b) {
    return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
  }

  private static void writeInt(OutputStream o, int v) throws IOException {
    o.write(v >>> 24);
    o.write(v >>> 16);
    o.write(v >>> 8);
    o.write(v);
  }

  private static SSLContext tlsContext(String caCert) throws Exception {
    return caCert == null ? SSLContext.getDefault() : ApiClient.trusting(Path.of(caCert));
  }
}
