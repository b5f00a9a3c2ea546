package dev.gatehouse.postgres;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Frame reader and writer for the PostgreSQL v3 wire protocol. Every frame is bounded by a named
 * limit taken from the PostgreSQL sources; a violation is a protocol error that closes the
 * connection (SQLSTATE 08P01), never an allocation of whatever length a peer claims.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html">Message
 *     formats</a>
 */
final class PgCodec {
  private PgCodec() {}

  /** Longest startup packet the postmaster accepts ({@code MAX_STARTUP_PACKET_LENGTH}). */
  static final int MAX_STARTUP_PACKET = 10_000;

  /**
   * Limit for messages that only carry names and small fields (Describe, Close, Execute, Sync,
   * Flush, Terminate, CopyDone, CopyFail): PostgreSQL's {@code PQ_SMALL_MESSAGE_LIMIT}.
   */
  static final int MAX_SMALL_MESSAGE = 10_000;

  /** Password and SASL messages: PostgreSQL's {@code PG_MAX_AUTH_TOKEN_LENGTH}. */
  static final int MAX_AUTH_MESSAGE = 65_535;

  /**
   * Query and Parse text. PostgreSQL accepts up to 1 GiB, but the gateway must hold the whole text
   * in memory (as bytes and as a decoded String, about three times its size) to classify it before
   * anything is forwarded. 64 MiB keeps one session from exhausting the heap while staying far
   * above any realistic hand-written or generated statement.
   */
  static final int MAX_SQL_TEXT_MESSAGE = 64 << 20;

  /**
   * Data-carrying messages (Bind, CopyData, FunctionCall from clients; everything from the target):
   * PostgreSQL's {@code PQ_LARGE_MESSAGE_LIMIT}, i.e. {@code MaxAllocSize - 1}. One such message
   * per direction is in memory at a time.
   */
  static final int MAX_DATA_MESSAGE = (1 << 30) - 1;

  /** Protocol version 3.0 as sent in a StartupMessage. */
  static final int PROTOCOL_3_0 = 3 << 16;

  static final int SSL_REQUEST = 80877103;
  static final int GSSENC_REQUEST = 80877104;
  static final int CANCEL_REQUEST = 80877102;

  /** The peer broke the protocol (bad length, unknown type, truncated field). */
  static class ProtocolViolation extends IOException {
    ProtocolViolation(String message) {
      super(message);
    }
  }

  /** A startup-phase packet: a request code (or protocol version) and the rest of the body. */
  record Startup(int code, byte[] body) {
    boolean isProtocol3() {
      return (code >>> 16) == 3;
    }

    int minorVersion() {
      return code & 0xFFFF;
    }

    /** Parameters of a StartupMessage, in order. */
    Map<String, String> parameters() throws ProtocolViolation {
      Reader r = new Reader(body);
      Map<String, String> params = new LinkedHashMap<>();
      while (true) {
        String name = r.cstring();
        if (name.isEmpty()) {
          break;
        }
        if (params.put(name, r.cstring()) != null) {
          throw new ProtocolViolation("startup parameter \"" + name + "\" given twice");
        }
      }
      if (r.remaining() != 0) {
        throw new ProtocolViolation("trailing bytes after startup parameters");
      }
      return params;
    }
  }

  /** A typed message: one type byte and its body (without the length word). */
  record Message(byte type, byte[] body) {
    char kind() {
      return (char) (type & 0xFF);
    }
  }

  /**
   * Reads a startup-phase packet (untyped, length-prefixed). Returns null on a clean EOF before the
   * first byte.
   */
  static Startup readStartup(InputStream in) throws IOException {
    byte[] head = in.readNBytes(4);
    if (head.length == 0) {
      return null;
    }
    if (head.length < 4) {
      throw new EOFException("connection closed inside a startup packet");
    }
    int len = int32(head, 0);
    if (len < 8 || len > MAX_STARTUP_PACKET) {
      throw new ProtocolViolation(
          "invalid startup packet length: " + len + " (expected: 8.." + MAX_STARTUP_PACKET + ")");
    }
    byte[] rest = readFully(in, len - 4);
    byte[] body = new byte[rest.length - 4];
    System.arraycopy(rest, 4, body, 0, body.length);
    return new Startup(int32(rest, 0), body);
  }

  /**
   * Per-type limits for messages sent by clients (see the constants above); -1 for a type no client
   * sends, which is refused before its length is read, as PostgreSQL does ("invalid frontend
   * message type", postgres.c SocketBackend). An untyped packet sent mid-session (an SSLRequest,
   * whose first byte is 0) would otherwise be read as a 2 KiB message, and the client would wait
   * for an answer that never comes.
   */
  static int clientLimit(byte type) {
    return switch ((char) type) {
      case 'Q', 'P' -> MAX_SQL_TEXT_MESSAGE;
      case 'B', 'd', 'F' -> MAX_DATA_MESSAGE;
      case 'p' -> MAX_AUTH_MESSAGE;
      case 'E', 'D', 'C', 'S', 'H', 'c', 'f', 'X' -> MAX_SMALL_MESSAGE;
      default -> -1;
    };
  }

  /** Messages from the target are bounded only by PostgreSQL's own allocation limit. */
  static int serverLimit(byte type) {
    return MAX_DATA_MESSAGE;
  }

  /** Maximum body length per message type. */
  interface Limits {
    int maxBody(byte type);
  }

  /** Reads one typed message; null on a clean EOF between messages. */
  static Message readMessage(InputStream in, Limits limits) throws IOException {
    return readMessage(in, limits, null);
  }

  /**
   * Reads one typed message, its body counted against the gateway's budget for large messages
   * through {@code hold} (see {@link PgLargeMessages}); null on a clean EOF between messages.
   */
  static Message readMessage(InputStream in, Limits limits, PgLargeMessages.Hold hold)
      throws IOException {
    int type = in.read();
    if (type < 0) {
      return null;
    }
    int max = limits.maxBody((byte) type);
    if (max < 0) {
      throw new ProtocolViolation("invalid frontend message type '" + printable(type) + "'");
    }
    byte[] lenBytes = in.readNBytes(4);
    if (lenBytes.length < 4) {
      throw new EOFException("connection closed inside a message header");
    }
    int len = int32(lenBytes, 0);
    if (len < 4 || len - 4 > max) {
      throw new ProtocolViolation(
          "invalid length "
              + Integer.toUnsignedString(len)
              + " for message type '"
              + printable(type)
              + "' (expected: 4.."
              + ((long) max + 4)
              + ")");
    }
    if (hold != null) {
      hold.next(len - 4);
    }
    return new Message((byte) type, readFully(in, len - 4));
  }

  static void writeMessage(OutputStream out, byte type, byte[] body) throws IOException {
    out.write(type);
    writeInt(out, body.length + 4);
    out.write(body);
  }

  static void writeInt(OutputStream out, int v) throws IOException {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }

  static int int32(byte[] b, int off) {
    return ((b[off] & 0xFF) << 24)
        | ((b[off + 1] & 0xFF) << 16)
        | ((b[off + 2] & 0xFF) << 8)
        | (b[off + 3] & 0xFF);
  }

  private static byte[] readFully(InputStream in, int n) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length < n) {
      throw new EOFException("connection closed inside a message body");
    }
    return b;
  }

  private static String printable(int type) {
    return type >= 0x20 && type < 0x7F
        ? String.valueOf((char) type)
        : "\\x" + Integer.toHexString(type);
  }

  /** Sequential reader over a message body. */
  static final class Reader {
    private final byte[] b;
    private int pos;

    Reader(byte[] b) {
      this.b = b;
    }

    int remaining() {
      return b.length - pos;
    }

    byte int8() throws ProtocolViolation {
      need(1);
      return b[pos++];
    }

    int int16() throws ProtocolViolation {
      need(2);
      int v = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
      pos += 2;
      return v;
    }

    int int32() throws ProtocolViolation {
      need(4);
      int v = PgCodec.int32(b, pos);
      pos += 4;
      return v;
    }

    byte[] bytes(int n) throws ProtocolViolation {
      if (n < 0) {
        throw new ProtocolViolation("negative field length " + n);
      }
      need(n);
      byte[] out = new byte[n];
      System.arraycopy(b, pos, out, 0, n);
      pos += n;
      return out;
    }

    /** A NUL-terminated string, decoded as UTF-8. */
    String cstring() throws ProtocolViolation {
      return cstring(StandardCharsets.UTF_8);
    }

    /** A NUL-terminated string in the given encoding (the session's client_encoding). */
    String cstring(Charset cs) throws ProtocolViolation {
      return new String(cstringBytes(), cs);
    }

    /** The raw bytes of a NUL-terminated string (the encoding is the client's). */
    byte[] cstringBytes() throws ProtocolViolation {
      int end = pos;
      while (end < b.length && b[end] != 0) {
        end++;
      }
      if (end >= b.length) {
        throw new ProtocolViolation("unterminated string in message");
      }
      byte[] out = new byte[end - pos];
      System.arraycopy(b, pos, out, 0, out.length);
      pos = end + 1;
      return out;
    }

    /**
     * Checks that the whole body was read, as the server's {@code pq_getmsgend} does: bytes after
     * the last field would be read one way here and refused (or read another way) upstream.
     */
    void end() throws ProtocolViolation {
      if (pos != b.length) {
        throw new ProtocolViolation(
            "invalid message format: " + (b.length - pos) + " bytes after the last field");
      }
    }

    /**
     * Skips {@code n} bytes and returns where they start in {@link #array()}: a view for callers
     * that only need a bounded preview of a possibly large field.
     */
    int skip(int n) throws ProtocolViolation {
      if (n < 0) {
        throw new ProtocolViolation("negative field length " + n);
      }
      need(n);
      int at = pos;
      pos += n;
      return at;
    }

    /** The message body this reader reads. */
    byte[] array() {
      return b;
    }

    private void need(int n) throws ProtocolViolation {
      if (remaining() < n) {
        throw new ProtocolViolation("message too short");
      }
    }
  }

  /** Builds one frame. */
  static final class Builder {
    private final ByteArrayOutputStream body = new ByteArrayOutputStream(64);
    private final int type;

    /** A typed message. */
    Builder(char type) {
      this.type = type;
    }

    /** An untyped startup-phase packet. */
    Builder() {
      this.type = -1;
    }

    Builder int8(int v) {
      body.write(v);
      return this;
    }

    Builder int16(int v) {
      body.write(v >>> 8);
      body.write(v);
      return this;
    }

    Builder int32(int v) {
      body.write(v >>> 24);
      body.write(v >>> 16);
      body.write(v >>> 8);
      body.write(v);
      return this;
    }

    Builder bytes(byte[] v) {
      body.writeBytes(v);
      return this;
    }

    Builder cstring(String v) {
      return cstring(v, StandardCharsets.UTF_8);
    }

    Builder cstring(String v, Charset cs) {
      body.writeBytes(v.getBytes(cs));
      body.write(0);
      return this;
    }

    byte[] body() {
      return body.toByteArray();
    }

    byte[] frame() {
      byte[] b = body.toByteArray();
      int head = type < 0 ? 4 : 5;
      byte[] f = new byte[b.length + head];
      int len = b.length + 4;
      int i = 0;
      if (type >= 0) {
        f[i++] = (byte) type;
      }
      f[i++] = (byte) (len >>> 24);
      f[i++] = (byte) (len >>> 16);
      f[i++] = (byte) (len >>> 8);
      f[i++] = (byte) len;
      System.arraycopy(b, 0, f, head, b.length);
      return f;
    }
  }
}
