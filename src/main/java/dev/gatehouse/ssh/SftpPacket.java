package dev.gatehouse.ssh;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * One SFTP packet in a reusable buffer: {@code uint32 length, byte type, payload}
 * (draft-ietf-secsh-filexfer-02 section 3). The buffer is allocated once per direction at the
 * largest size OpenSSH accepts, so relaying a file never allocates per packet and never holds more
 * than one packet per direction.
 */
final class SftpPacket {
  /**
   * Largest {@code length} value accepted, OpenSSH's {@code SFTP_MAX_MSG_LENGTH} (256 KiB, sftp.h /
   * sftp-common.h): sftp-server and the sftp client both drop the connection on anything longer, so
   * no conforming peer sends more, and a claim above it is refused before any allocation.
   */
  static final int MAX_LENGTH = 256 * 1024;

  final byte[] buf = new byte[4 + MAX_LENGTH];

  /** Value of the length field: bytes after the 4-byte length. */
  int length;

  /** Read cursor into {@link #buf}, for the {@code next*} accessors. */
  int pos;

  /**
   * Reads the next packet. Returns false on a clean end of stream before the first byte of a
   * packet; a stream that ends inside a packet is an {@link EOFException}.
   */
  boolean read(InputStream in) throws IOException {
    int n = readFully(in, buf, 0, 4, true);
    if (n == 0) return false;
    long len = Integer.toUnsignedLong(getInt(buf, 0));
    if (len < 1 || len > MAX_LENGTH) {
      throw new ProtocolException(
          "SFTP packet length " + len + " outside 1.." + MAX_LENGTH + " (SFTP_MAX_MSG_LENGTH)");
    }
    length = (int) len;
    readFully(in, buf, 4, length, false);
    pos = 5;
    return true;
  }

  int type() {
    return buf[4] & 0xff;
  }

  /** Total bytes on the wire, length field included. */
  int wireLength() {
    return 4 + length;
  }

  void writeTo(OutputStream out) throws IOException {
    out.write(buf, 0, 4 + length);
  }

  int nextInt() throws ProtocolException {
    need(4);
    int v = getInt(buf, pos);
    pos += 4;
    return v;
  }

  long nextLong() throws ProtocolException {
    long hi = Integer.toUnsignedLong(nextInt());
    long lo = Integer.toUnsignedLong(nextInt());
    return (hi << 32) | lo;
  }

  /**
   * Skips a {@code string} and returns the offset of its first byte; its length is {@link #last}.
   */
  int nextString() throws ProtocolException {
    long len = Integer.toUnsignedLong(nextInt());
    if (len > 4 + length - pos) throw new ProtocolException("SFTP string runs past its packet");
    int start = pos;
    last = (int) len;
    pos += last;
    return start;
  }

  /** Length of the string most recently returned by {@link #nextString()}. */
  int last;

  /** Handles are opaque bytes (section 7); a Latin-1 string is a lossless map key. */
  String nextHandle() throws ProtocolException {
    int start = nextString();
    return new String(buf, start, last, StandardCharsets.ISO_8859_1);
  }

  /**
   * A file name. Returns null when the bytes are not valid UTF-8 or contain NUL: sftp-server hands
   * names to C system calls, which stop at the first NUL, so "/etc/passwd\0/../ok" would be checked
   * as one path and opened as another. Such names are refused rather than guessed at.
   */
  String nextPath() throws ProtocolException {
    int start = nextString();
    String path = decodePath(buf, start, last);
    if (path == null) {
      refusedName = escape(buf, start, last);
    }
    return path;
  }

  /** Longest prefix of a refused name kept for the audit record, in bytes. */
  static final int REFUSED_NAME_LIMIT = 512;

  /**
   * The last name {@link #nextPath()} refused, escaped for the audit record ({@link #escape}); null
   * when none was.
   */
  String refusedName;

  /**
   * A name that is not UTF-8 or contains NUL, as printable ASCII: bytes 0x20-0x7e as they are
   * (except backslash), every other byte as {@code \xNN}, cut at {@link #REFUSED_NAME_LIMIT} bytes.
   * Unambiguous and, up to the cut, lossless: the record shows exactly the bytes that were sent.
   */
  static String escape(byte[] b, int off, int len) {
    int n = Math.min(len, REFUSED_NAME_LIMIT);
    StringBuilder out = new StringBuilder(n + 16);
    for (int i = off; i < off + n; i++) {
      int c = b[i] & 0xff;
      if (c >= 0x20 && c < 0x7f && c != '\\') {
        out.append((char) c);
      } else {
        out.append(String.format("\\x%02x", c));
      }
    }
    if (len > n) {
      out.append("... (").append(len).append(" bytes)");
    }
    return out.toString();
  }

  static String decodePath(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (b[i] == 0) return null;
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b, off, len))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private void need(int n) throws ProtocolException {
    if (pos + n > 4 + length) throw new ProtocolException("SFTP packet too short");
  }

  /** Starts building a packet of the given type in this buffer. */
  SftpPacket start(int type) {
    buf[4] = (byte) type;
    pos = 5;
    return this;
  }

  SftpPacket putInt(int v) {
    putIntAt(buf, pos, v);
    pos += 4;
    return this;
  }

  SftpPacket putBytes(byte[] b, int off, int len) {
    putInt(len);
    System.arraycopy(b, off, buf, pos, len);
    pos += len;
    return this;
  }

  SftpPacket putString(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return putBytes(b, 0, b.length);
  }

  /** Ends a packet started with {@link #start(int)}: fills in the length field. */
  SftpPacket finish() {
    length = pos - 4;
    putIntAt(buf, 0, length);
    return this;
  }

  static int getInt(byte[] b, int off) {
    return ((b[off] & 0xff) << 24)
        | ((b[off + 1] & 0xff) << 16)
        | ((b[off + 2] & 0xff) << 8)
        | (b[off + 3] & 0xff);
  }

  static void putIntAt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  private static int readFully(InputStream in, byte[] b, int off, int len, boolean eofOk)
      throws IOException {
    // readNBytes: an SshChannelInput then wakes the relay once per packet, not once per SSH packet.
    int done = in.readNBytes(b, off, len);
    if (done < len) {
      if (done == 0 && eofOk) return 0;
      throw new EOFException("SFTP stream ended inside a packet");
    }
    return done;
  }
}
