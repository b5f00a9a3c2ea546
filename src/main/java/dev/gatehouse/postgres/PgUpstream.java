package dev.gatehouse.postgres;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.postgres.PgCodec.Message;
import dev.gatehouse.postgres.PgCodec.Reader;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's own client connection to the target PostgreSQL, opened with credentials the caller
 * never sees. Handles upstream TLS (disable, prefer, require, verify-full) and authentication
 * (trust, cleartext, md5, SCRAM-SHA-256). Failures are worded without the target's own message,
 * which can name the upstream role; the full message is only logged.
 */
final class PgUpstream implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(PgUpstream.class);

  /** How long to wait for the target's TCP connect and authentication. */
  static final int CONNECT_TIMEOUT_MILLIS = 10_000;

  final Socket socket;
  final PgInput in;
  final OutputStream out;

  /** ParameterStatus frames received during startup, to relay to the client verbatim. */
  final List<byte[]> parameterStatus = new ArrayList<>();

  /** NoticeResponse frames received during startup. */
  final List<byte[]> notices = new ArrayList<>();

  final Map<String, String> parameters = new LinkedHashMap<>();
  int pid;
  int secretKey;
  char transactionStatus = 'I';

  private PgUpstream(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new PgInput(socket.getInputStream(), 1 << 16, socket instanceof SSLSocket);
    this.out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
  }

  /**
   * Connects, negotiates TLS per the connection's mode and authenticates as {@code user}.
   *
   * @param params startup parameters already filtered by {@link PgStartupParams}
   */
  static PgUpstream connect(
      ConnectionConfig conn, String user, String password, Map<String, String> params)
      throws PgErrors.Fatal {
    Socket s = null;
    // Connect, TLS and authentication within CONNECT_TIMEOUT_MILLIS (see Deadline: a socket that
    // ever had SO_TIMEOUT costs three system calls per read for the rest of the session).
    Deadline deadline = Deadline.after(CONNECT_TIMEOUT_MILLIS);
    try {
      s = open(conn, deadline);
      PgUpstream up = new PgUpstream(s);
      Map<String, String> startup = new LinkedHashMap<>();
      startup.put("user", user);
      startup.put("database", conn.database());
      startup.putAll(params);
      up.out.write(PgMessages.startupMessage(startup));
      up.out.flush();
      up.authenticate(conn, user, password);
      deadline.close();
      if (deadline.expired()) {
        // It fired between the last read and close(): the socket is closed.
        throw deadline.explain(new IOException("closed by the connect deadline"));
      }
      return up;
    } catch (IOException | GeneralSecurityException e) {
      closeQuietly(s);
      Exception cause = e instanceof IOException io ? deadline.explain(io) : e;
      log.warn("cannot connect to target of connection {}: {}", conn.name(), cause.toString());
      throw new PgErrors.Fatal(
          PgErrors.CANNOT_CONNECT,
          "cannot connect to the target of connection \"" + conn.name() + "\": " + safe(cause));
    } catch (PgErrors.Fatal e) {
      closeQuietly(s);
      throw e;
    } finally {
      deadline.close();
    }
  }

  private void authenticate(ConnectionConfig conn, String user, String password)
      throws IOException, GeneralSecurityException, PgErrors.Fatal {
    PgScram scram = null;
    while (true) {
      Message m = PgCodec.readMessage(in, PgCodec::serverLimit);
      if (m == null) {
        throw new IOException("the target closed the connection during startup");
      }
      Reader r = new Reader(m.body());
      switch (m.kind()) {
        case 'R' -> {
          int code = r.int32();
          switch (code) {
            case 0 -> {} // AuthenticationOk
            case 3 -> send(PgMessages.passwordMessage(need(password, conn)));
            case 5 -> send(PgMessages.passwordMessage(md5(need(password, conn), user, r.bytes(4))));
            case 10 -> {
              List<String> mechanisms = new ArrayList<>();
              for (String mech = r.cstring(); !mech.isEmpty(); mech = r.cstring()) {
                mechanisms.add(mech);
              }
              if (!mechanisms.contains(PgScram.MECHANISM)) {
                throw new GeneralSecurityException(
                    "the target offers no supported SASL mechanism " + mechanisms);
              }
              scram = new PgScram(need(password, conn));
              send(PgMessages.saslInitialResponse(PgScram.MECHANISM, scram.clientFirst()));
            }
            case 11 -> {
              if (scram == null) {
                throw new GeneralSecurityException("unexpected SASL continue");
              }
              send(PgMessages.saslResponse(scram.clientFinal(r.bytes(r.remaining()))));
            }
            case 12 -> {
              if (scram == null) {
                throw new GeneralSecurityException("unexpected SASL final");
              }
              scram.verifyServerFinal(r.bytes(r.remaining()));
            }
            default ->
                throw new GeneralSecurityException(
                    "the target asks for an unsupported authentication method (code " + code + ")");
          }
        }
        case 'S' -> {
          parameterStatus.add(frame(m));
          parameters.put(r.cstring(), r.cstring());
        }
        case 'K' -> {
          pid = r.int32();
          secretKey = r.int32();
        }
        case 'N' -> notices.add(frame(m));
        case 'v' -> {} // NegotiateProtocolVersion: we asked for 3.0 without options
        case 'E' -> {
          Map<Character, String> f = PgMessages.parseFields(m.body());
          log.warn(
              "target of connection {} refused the gateway: {} {}",
              conn.name(),
              f.get('C'),
              f.get('M'));
          throw new PgErrors.Fatal(
              PgErrors.CANNOT_CONNECT,
              "the target of connection \""
                  + conn.name()
                  + "\" refused the gateway's connection (SQLSTATE "
                  + f.getOrDefault('C', "?")
                  + ")");
        }
        case 'Z' -> {
          transactionStatus = (char) r.int8();
          return;
        }
        default -> throw new IOException("unexpected message '" + m.kind() + "' during startup");
      }
    }
  }

  private void send(byte[] frame) throws IOException {
    out.write(frame);
    out.flush();
  }

  private static String need(String password, ConnectionConfig conn)
      throws GeneralSecurityException {
    if (password == null) {
      throw new GeneralSecurityException(
          "the target asks for a password and none is stored for connection " + conn.name());
    }
    return password;
  }

  /** {@code "md5" + md5(md5(password + user) + salt)}, as the md5 method expects. */
  static String md5(String password, String user, byte[] salt) throws GeneralSecurityException {
    MessageDigest md = MessageDigest.getInstance("MD5");
    String inner =
        HexFormat.of().formatHex(md.digest((password + user).getBytes(StandardCharsets.UTF_8)));
    md.update(inner.getBytes(StandardCharsets.US_ASCII));
    md.update(salt);
    return "md5" + HexFormat.of().formatHex(md.digest());
  }

  static byte[] frame(Message m) {
    byte[] f = new byte[m.body().length + 5];
    f[0] = m.type();
    int len = m.body().length + 4;
    f[1] = (byte) (len >>> 24);
    f[2] = (byte) (len >>> 16);
    f[3] = (byte) (len >>> 8);
    f[4] = (byte) len;
    System.arraycopy(m.body(), 0, f, 5, m.body().length);
    return f;
  }

  /**
   * Opens TCP and negotiates TLS. {@code prefer} and {@code require} encrypt without verifying the
   * certificate, exactly like libpq's modes of the same name; only {@code verify-full}
   * authenticates the target (CA from the connection's {@code tls.ca}, host name checked).
   */
  /**
   * Connects and negotiates TLS; {@code deadline} closes the socket if that takes too long (no
   * connect or read timeout is set on the socket itself, see {@link Deadline}).
   */
  static Socket open(ConnectionConfig conn, Deadline deadline)
      throws IOException, GeneralSecurityException {
    String mode =
        conn.tls() == null || conn.tls().mode() == null
            ? "prefer"
            : conn.tls().mode().toLowerCase(Locale.ROOT);
    if (!List.of("disable", "prefer", "require", "verify-full").contains(mode)) {
      throw new GeneralSecurityException("unsupported upstream TLS mode " + mode);
    }
    Socket s = deadline.watch(new Socket());
    try {
      s.connect(new InetSocketAddress(conn.host(), conn.port()));
      s.setTcpNoDelay(true);
      s.setKeepAlive(true);
      if (mode.equals("disable")) {
        return s;
      }
      OutputStream o = s.getOutputStream();
      o.write(PgMessages.sslRequest());
      o.flush();
      int answer = s.getInputStream().read();
      if (answer == 'N') {
        if (mode.equals("prefer")) {
          return s;
        }
        throw new GeneralSecurityException("the target does not offer TLS (mode " + mode + ")");
      }
      if (answer != 'S') {
        throw new IOException("unexpected answer to SSLRequest: " + answer);
      }
      boolean verify = mode.equals("verify-full");
      SSLContext ctx = verify ? verifyingContext(conn) : encryptOnlyContext();
      SSLSocket ssl =
          (SSLSocket) ctx.getSocketFactory().createSocket(s, conn.host(), conn.port(), true);
      ssl.setUseClientMode(true);
      if (verify) {
        SSLParameters p = ssl.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        ssl.setSSLParameters(p);
      }
      ssl.startHandshake();
      return ssl;
    } catch (IOException | GeneralSecurityException e) {
      closeQuietly(s);
      throw e;
    }
  }

  private static SSLContext verifyingContext(ConnectionConfig conn)
      throws IOException, GeneralSecurityException {
    Path ca = conn.tls().ca();
    if (ca == null) {
      throw new GeneralSecurityException("verify-full needs tls.ca for connection " + conn.name());
    }
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(ca)) {
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        ks.setCertificateEntry("ca" + i++, c);
      }
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  private static SSLContext encryptOnlyContext() throws GeneralSecurityException {
    TrustManager trustAll =
        new X509TrustManager() {
          @Override
          public void checkClientTrusted(X509Certificate[] chain, String authType) {}

          @Override
          public void checkServerTrusted(X509Certificate[] chain, String authType) {}

          @Override
          public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
          }
        };
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {trustAll}, null);
    return ctx;
  }

  /** Sends a CancelRequest for the target backend {@code pid} on a new connection. */
  static void cancel(ConnectionConfig conn, int pid, int key) {
    try (Deadline deadline = Deadline.after(CONNECT_TIMEOUT_MILLIS);
        Socket s = open(conn, deadline)) {
      OutputStream o = s.getOutputStream();
      o.write(PgMessages.cancelRequest(pid, key));
      o.flush();
      // The target closes the connection without answering; wait for that so the request is
      // processed before we report back.
      s.getInputStream().read();
    } catch (IOException | GeneralSecurityException e) {
      log.warn("cannot forward cancel request to connection {}: {}", conn.name(), e.toString());
    }
  }

  private static String safe(Exception e) {
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m;
  }

  static void closeQuietly(Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  @Override
  public void close() {
    closeQuietly(socket);
  }
}
