package dev.gatehouse.ssh;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Layer-7 relay for the legacy scp protocol ("rcp over ssh"), the one {@code scp -O} and OpenSSH
 * before 9.0 use. There is no specification; this follows OpenSSH's scp.c ({@code source()}, {@code
 * sink()}, {@code response()}).
 *
 * <h2>Protocol</h2>
 *
 * The remote end runs {@code scp -t PATH} (sink: the client uploads) or {@code scp -f PATH}
 * (source: the client downloads). The source sends header lines, the sink answers every one:
 *
 * <ul>
 *   <li>{@code C<mode> <size> <name>\n}, then, if the sink acknowledged it, {@code size} bytes of
 *       content and one status byte ({@code \0}, or {@code \1message\n} if the source failed to
 *       read the file); the sink answers again.
 *   <li>{@code D<mode> 0 <name>\n}: enter (and create) a directory, {@code -r}; {@code E\n}: leave
 *       it.
 *   <li>{@code T<mtime> 0 <atime> 0\n}: times of the next C or D, {@code -p}.
 *   <li>{@code \1message\n} (warning) and {@code \2message\n} (fatal) from the source; no answer.
 * </ul>
 *
 * The sink speaks first ({@code \0}: ready) and answers {@code \0} (ok), {@code \1message\n} (that
 * entry failed, the source skips it) or {@code \2message\n} (fatal). The exchange is lock-step, so
 * the relay runs it in one thread: read a header from the source, decide, forward, relay the sink's
 * answer, and only then relay content, which it streams in 64 KiB chunks while hashing.
 *
 * <h2>Policy</h2>
 *
 * Source mode asks {@code read} for PATH before anything is relayed, then {@code read} for every
 * file and {@code list} for every directory the server sends. Sink mode asks {@code write} for
 * every file and {@code mkdir} for every directory the client sends. A denial sends {@code \2} and
 * {@link SftpRelay#DENIED} to the client (which prints it and exits) and closes both sides; nothing
 * of the denied entry reaches the server. Every path refusal sends the same line, whatever the
 * reason (the policy denied the name, or where it really leads, or the target could not place it),
 * as SFTP's do: the reason and the rule are in the audit record. Names containing "/", NUL, or
 * equal to "." or ".." are refused, as scp.c's sink refuses them. Lines are passed on only as scp
 * reads them, as one line ({@link #SCP_LINE}); in source mode a name the target sends must exist
 * there, and one it encoded ({@link #unvis}) is checked both ways.
 *
 * <h2>Paths</h2>
 *
 * {@code scp -t PATH} writes a top-level entry to PATH itself, or to PATH/NAME when PATH is an
 * existing directory, which the relay cannot know. Both readings are checked (and for entries below
 * a top-level directory both parents), so a policy cannot be bypassed either way; the recording
 * uses PATH/NAME when PATH can only be a directory (ends in "/", ".", ".." or "~"), else PATH. In
 * source mode PATH is the file or directory sent (or, if it contains a glob, its directory plus
 * each NAME). PATH is relative to the login directory when it does not start with "/", which the
 * relay does not know: it is normalized and passed on relative, so policies should use absolute
 * prefixes.
 *
 * <h2>Recording</h2>
 *
 * Each file that crossed is recorded as {@code (write|read, path, size, sha256)} once its content
 * has been relayed; the hash is null when the source reported an error instead of the closing
 * {@code \0}, because the content is then padding.
 */
final class ScpRelay {
  private static final Logger log = LoggerFactory.getLogger(ScpRelay.class);

  /**
   * Longest header line. scp.c's sink reads headers into a 2048-byte buffer and reports longer ones
   * as errors; 8 KiB leaves room for long UTF-8 names and still bounds memory.
   */
  static final int MAX_LINE = 8192;

  /**
   * Longest line, after its type or status byte and before its newline, that OpenSSH's scp reads as
   * one line: sink() and response() read into 2048-byte buffers and stop after 2047 bytes, the type
   * byte and the newline included (scp.c). What is left of a longer line stays in the stream and is
   * read as the next header, which the relay never checked (red team, ssh21: a 2 KiB {@code T} or
   * {@code \1} line carrying {@code D0755 0 link} took the target's scp into a link out of the
   * allowed tree). Headers longer than this are refused; error messages are cut to it.
   */
  static final int SCP_LINE = 2045;

  private static final int CHUNK = 64 * 1024;

  private final boolean sinkMode;
  private final String targetPath;
  private final InputStream fromClient;
  private final OutputStream toClient;
  private final InputStream fromServer;
  private final OutputStream toServer;
  private final SftpRelay.PathPolicy policy;
  private final SftpRelay.Recorder recorder;
  private final SftpPathResolver resolver;

  /**
   * Source mode: PATH and where it really is, placed before the transfer began; the source's header
   * for PATH itself (no glob) names the same path, which is not walked again.
   */
  private Name top;

  private List<String> topReals;

  // The side sending headers and content, and the side answering them.
  private final InputStream srcIn;
  private final OutputStream srcOut;
  private final InputStream snkIn;
  private final OutputStream snkOut;

  ScpRelay(
      String mode,
      String targetPath,
      InputStream fromClient,
      OutputStream toClient,
      InputStream fromServer,
      OutputStream toServer,
      SftpRelay.PathPolicy policy,
      SftpRelay.Recorder recorder,
      SftpPathResolver resolver) {
    if (!mode.equals("t") && !mode.equals("f")) {
      throw new IllegalArgumentException("scp mode must be t or f, not " + mode);
    }
    this.sinkMode = mode.equals("t");
    this.targetPath = targetPath;
    this.fromClient = new BufferedInputStream(fromClient, CHUNK);
    this.toClient = new BufferedOutputStream(toClient, CHUNK);
    this.fromServer = new BufferedInputStream(fromServer, CHUNK);
    this.toServer = new BufferedOutputStream(toServer, CHUNK);
    this.policy = policy;
    this.recorder = recorder;
    this.resolver = resolver;
    srcIn = sinkMode ? this.fromClient : this.fromServer;
    srcOut = sinkMode ? this.toClient : this.toServer;
    snkIn = sinkMode ? this.fromServer : this.fromClient;
    snkOut = sinkMode ? this.toServer : this.toClient;
  }

  /**
   * Relays until the source ends or an entry is denied, then closes toServer and toClient. Throws
   * {@link ProtocolException} (after closing) on a malformed header.
   */
  void run() throws IOException {
    try {
      relay();
    } finally {
      SftpRelay.closeQuietly(toServer);
      SftpRelay.closeQuietly(toClient);
    }
  }

  private void relay() throws IOException {
    String target = SftpRelay.normalize(null, targetPath);
    if (target == null || targetPath.isEmpty() || targetPath.indexOf('\0') >= 0) {
      String op = sinkMode ? "write" : "read";
      byte[] name = targetPath.getBytes(StandardCharsets.UTF_8);
      refuse(op, SftpPacket.escape(name, 0, name.length), "no usable path");
      return;
    }
    if (!sinkMode) {
      top = new Name(target, targetPath);
      if (placed("read", List.of(top), false) == null) return;
    }

    // A stack of candidate paths for the directory being filled; see the class comment.
    Deque<List<Name>> dirs = new ArrayDeque<>();
    if (answer() < 0) return; // the sink's first "\0": ready
    while (true) {
      int c = srcIn.read();
      if (c < 0) return;
      switch (c) {
        case 'T' -> {
          forwardLine(c, times(header(c)));
          if (answer() < 0) return;
        }
        case 'C', 'D' -> {
          String line = header(c);
          Header h = Header.parse((char) c, line);
          List<Name> paths = paths(dirs, h.name, target);
          String op = c == 'C' ? (sinkMode ? "write" : "read") : (sinkMode ? "mkdir" : "list");
          String real = placed(op, paths, !sinkMode);
          if (real == null) return;
          forwardLine(c, line);
          int answer = answer();
          if (answer < 0) return;
          if (answer > 0) continue; // the sink refused it; the source skips this entry
          if (c == 'D') {
            dirs.push(paths);
          } else if (!content(op, real, h.size)) {
            return;
          }
        }
        case 'E' -> {
          forwardLine(c, header(c));
          if (!dirs.isEmpty()) dirs.pop();
          if (answer() < 0) return;
        }
        // The source's own error; the sink does not answer.
        case 1, 2 -> forwardLine(c, cut(line().getBytes(StandardCharsets.UTF_8)));
        default -> throw new ProtocolException("scp: unexpected header byte " + c);
      }
    }
  }

  /** Streams one file's content and its closing status byte; records it. */
  private boolean content(String op, String path, long size) throws IOException {
    MessageDigest sha = SftpRelay.sha256();
    byte[] buf = new byte[(int) Math.min(CHUNK, Math.max(size, 1))];
    long left = size;
    while (left > 0) {
      int n = srcIn.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) throw new EOFException("scp: stream ended inside " + path);
      snkOut.write(buf, 0, n);
      sha.update(buf, 0, n);
      left -= n;
    }
    int status = srcIn.read();
    if (status < 0) throw new EOFException("scp: stream ended after " + path);
    if (status == 0) {
      snkOut.write(0);
    } else if (status == 1 || status == 2) {
      forwardLine(status, cut(line().getBytes(StandardCharsets.UTF_8)));
    } else {
      throw new ProtocolException("scp: unexpected status byte " + status + " after " + path);
    }
    snkOut.flush();
    recorder.file(op, path, size, status == 0 ? HexFormat.of().formatHex(sha.digest()) : null);
    return answer() >= 0;
  }

  /**
   * Relays the sink's answer to the source: 0 for ok, 1 or 2 for an error (message relayed), -1
   * when the sink is gone.
   */
  private int answer() throws IOException {
    int c = snkIn.read();
    if (c < 0) return -1;
    if (c == 0) {
      srcOut.write(0);
      srcOut.flush();
      return 0;
    }
    if (c != 1 && c != 2) throw new ProtocolException("scp: unexpected answer byte " + c);
    byte[] msg = lineBytes(snkIn);
    srcOut.write(c);
    srcOut.write(cut(msg));
    srcOut.write('\n');
    srcOut.flush();
    return c;
  }

  private void forwardLine(int first, String line) throws IOException {
    forwardLine(first, line.getBytes(StandardCharsets.UTF_8));
  }

  private void forwardLine(int first, byte[] line) throws IOException {
    snkOut.write(first);
    snkOut.write(line);
    snkOut.write('\n');
    snkOut.flush();
  }

  /**
   * A C, D, T or E line from the source; refused when the receiving scp would not read it as one
   * line ({@link #SCP_LINE}): the rest would be its next header, unchecked.
   */
  private String header(int type) throws IOException {
    String line = line();
    if (line.length() > SCP_LINE || line.getBytes(StandardCharsets.UTF_8).length > SCP_LINE) {
      throw new ProtocolException(
          "scp: " + (char) type + " line longer than scp reads as one line (" + SCP_LINE + ")");
    }
    return line;
  }

  /**
   * A {@code T} line as scp.c's sink parses it, {@code <mtime.sec> <mtime.usec> <atime.sec>
   * <atime.usec>} in decimal digits, microseconds below 1,000,000; anything else is refused, so the
   * sink sees the line the relay saw.
   */
  private static String times(String line) throws ProtocolException {
    if (!line.matches("[0-9]{1,20} [0-9]{1,6} [0-9]{1,20} [0-9]{1,6}")) {
      throw new ProtocolException("scp: bad T header: " + line);
    }
    return line;
  }

  /**
   * An error message cut to what scp reads as one line ({@link #SCP_LINE}), not inside a UTF-8
   * sequence: the rest of a longer one would be read as the next header or answer.
   */
  static byte[] cut(byte[] msg) {
    if (msg.length <= SCP_LINE) return msg;
    int n = SCP_LINE;
    while (n > 0 && (msg[n] & 0xC0) == 0x80) n--;
    return Arrays.copyOf(msg, n);
  }

  private String line() throws IOException {
    byte[] b = lineBytes(srcIn);
    String s = SftpPacket.decodePath(b, 0, b.length);
    if (s == null) {
      // The header carries a name the policy cannot be asked about: recorded as a refusal (the
      // relay ends here, before anything of the entry was relayed), as SFTP's are.
      String reason = "scp: header is not UTF-8 or contains NUL";
      try {
        policy.refused(sinkMode ? "write" : "read", SftpPacket.escape(b, 0, b.length), reason);
      } catch (RuntimeException e) {
        log.warn("scp refusal could not be recorded", e);
      }
      throw new ProtocolException(reason);
    }
    return s;
  }

  private static byte[] lineBytes(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64);
    while (true) {
      int c = in.read();
      if (c < 0) throw new EOFException("scp: stream ended inside a line");
      if (c == '\n') return out.toByteArray();
      if (out.size() >= MAX_LINE) throw new ProtocolException("scp: line longer than " + MAX_LINE);
      out.write(c);
    }
  }

  /**
   * A path as checked (lexically normalized) and as the target's scp will use it (PATH as sent,
   * names appended), which {@link SftpPathResolver} places after the target's symbolic links.
   */
  private record Name(String path, String raw) {
    Name child(String name) {
      return new Name(SftpRelay.normalize(path, name), raw + "/" + name);
    }
  }

  /** Candidate paths of an entry, the one to record first. */
  private List<Name> paths(Deque<List<Name>> dirs, String name, String target) {
    List<Name> out = new ArrayList<>(2);
    Name top = new Name(target, targetPath);
    // The name the source really opened: OpenSSH's scp sends a name containing a newline
    // strnvis(3)-encoded (source(): VIS_NL), so "a\nb" arrives as "a\\^Jb". Both readings are
    // checked; a name that is no such encoding has only itself.
    List<String> names = new ArrayList<>(2);
    names.add(name);
    if (!sinkMode) {
      String decoded = unvis(name);
      if (decoded != null && !decoded.equals(name)) names.add(decoded);
    }
    if (!dirs.isEmpty()) {
      for (Name d : dirs.peek()) {
        for (String n : names) out.add(d.child(n));
      }
    } else if (!sinkMode) {
      // scp -f sends PATH itself under its base name, or, for a glob, each match in its directory.
      if (hasGlob(targetPath)) {
        String rawDir = SftpRelay.parent(targetPath);
        for (String n : names) {
          out.add(new Name(SftpRelay.normalize(SftpRelay.parent(target), n), rawDir + "/" + n));
        }
      } else {
        out.add(top);
      }
    } else {
      Name inDir = top.child(name);
      if (namesDirectory(targetPath)) {
        out.add(inDir);
      } else {
        out.add(top);
        out.add(inDir);
      }
    }
    return out;
  }

  /**
   * Whether PATH can only be a directory: it ends in "/", or its last segment is ".", ".." or "~"
   * ({@code scp file host:} sends {@code scp -t .}).
   */
  static boolean namesDirectory(String p) {
    String last = p.substring(p.lastIndexOf('/') + 1);
    return p.endsWith("/") || last.equals(".") || last.equals("..") || last.equals("~");
  }

  /**
   * The name strnvis(3) encoded as {@code name} with OpenSSH's flags (VIS_NL, default style; the
   * encoder of openbsd-compat/vis.c): {@code \\} for a backslash, {@code \^X} for a control
   * character ({@code \^?} for DEL), {@code \M-X} and {@code \M^X} for bytes with the high bit set,
   * {@code \ooo} for 0xA0. Null when {@code name} is no such encoding or the bytes it stands for
   * are not a usable name (not UTF-8, NUL, "/"): then only the name as sent is checked.
   */
  static String unvis(String name) {
    if (name.indexOf('\\') < 0) return null;
    byte[] in = name.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
    for (int i = 0; i < in.length; i++) {
      int c = in[i] & 0xff;
      if (c != '\\') {
        out.write(c);
        continue;
      }
      if (++i >= in.length) return null;
      int meta = 0;
      c = in[i] & 0xff;
      if (c == '\\') {
        out.write('\\');
        continue;
      }
      if (c >= '0' && c <= '3' && i + 2 < in.length && octal(in[i + 1]) && octal(in[i + 2])) {
        out.write((c - '0') << 6 | (in[i + 1] - '0') << 3 | (in[i + 2] - '0'));
        i += 2;
        continue;
      }
      if (c == 'M') {
        meta = 0x80;
        if (++i >= in.length) return null;
        c = in[i] & 0xff;
        if (c == '-') {
          if (++i >= in.length) return null;
          out.write((in[i] & 0x7f) | meta);
          continue;
        }
      }
      if (c != '^' || ++i >= in.length) return null;
      c = in[i] & 0xff;
      if (c == '?') out.write(0x7f | meta);
      else if (c >= '@' && c <= '_') out.write((c - '@') | meta);
      else return null;
    }
    byte[] b = out.toByteArray();
    String decoded = SftpPacket.decodePath(b, 0, b.length);
    if (decoded == null
        || decoded.indexOf('/') >= 0
        || decoded.equals(".")
        || decoded.equals("..")) {
      return null;
    }
    return decoded;
  }

  private static boolean octal(byte b) {
    return b >= '0' && b <= '7';
  }

  private static boolean hasGlob(String p) {
    return p.indexOf('*') >= 0 || p.indexOf('?') >= 0 || p.indexOf('[') >= 0;
  }

  /**
   * Checks every candidate, then where each really is on the target ({@link SftpPathResolver}: scp
   * opens, creates and lists through symbolic links, so a final link is followed). Returns the real
   * path of the first candidate (the one recorded); on a denial tells the client and returns null.
   * Fails closed: a path the target cannot place is refused, except a candidate that cannot exist
   * now (a directory on the way is missing or not a directory: the reading of {@code scp -t PATH}
   * as {@code PATH/NAME} when PATH is no directory) while another candidate was placed. With {@code
   * sent} (an entry the source of {@code scp -f} sends) a candidate must exist, for the same
   * reason: the source opened it.
   */
  private String placed(String op, List<Name> paths, boolean sent) throws IOException {
    if (paths.size() == 1 && paths.get(0).equals(top) && topReals != null) {
      // PATH itself, sent by the source: placed before the transfer began. As a file it is the
      // same check again (read, the same name, the same places): done. As a directory it is
      // asked for list, on the places already found.
      if (op.equals("read")) return topReals.get(0);
      return allowed(op, top.path) && allowedWhereItIs(op, top.path, topReals)
          ? topReals.get(0)
          : null;
    }
    for (Name n : paths) {
      if (!allowed(op, n.path)) return null;
    }
    if (resolver == null) return paths.get(0).path;
    String first = null;
    SftpPathResolver.Unresolved absent = null;
    for (Name n : paths) {
      List<String> reals;
      try {
        // What the source sends, it has opened: a name it sends that does not exist on the target
        // is not the file it read (an encoded name, or a line it never meant as a header), and
        // would be placed in the allowed directory as a file to create would.
        reals = sent ? resolver.resolveExisting(n.raw) : resolver.resolve(n.raw, true);
      } catch (SftpPathResolver.Unresolved e) {
        if (e.absent && paths.size() > 1) {
          absent = e;
          continue;
        }
        refuse(op, n.path, "cannot tell where it is: " + e.getMessage());
        return null;
      } catch (IOException e) {
        log.warn("scp path check on the target failed: {}", e.toString());
        refuse(op, n.path, "cannot tell where it is on the target");
        return null;
      }
      if (!allowedWhereItIs(op, n.path, reals)) return null;
      if (n.equals(top)) topReals = reals;
      if (first == null) first = reals.get(0);
    }
    if (first == null) {
      refuse(op, paths.get(0).path, "cannot tell where it is: " + absent.getMessage());
    }
    return first;
  }

  /** Asks the policy about each real place of {@code path} that differs from it. */
  private boolean allowedWhereItIs(String op, String path, List<String> reals) throws IOException {
    for (String real : reals) {
      if (!real.equals(path) && !allowed(op, real)) return false;
    }
    return true;
  }

  /**
   * A refusal the policy was not asked about (a path the target cannot place, one that is no usable
   * path): the reason (what failed, and where) goes to the audit record only, through {@link
   * SftpRelay.PathPolicy#refused}; the client gets the line every refusal gets (issue #6: with a
   * link it made, the detail would tell it what exists outside the allowed tree).
   */
  private void refuse(String op, String path, String reason) throws IOException {
    try {
      policy.refused(op, path, reason);
    } catch (RuntimeException e) {
      log.warn("scp refusal of {} could not be recorded", op, e);
    }
    log.debug("scp {} {} refused: {}", op, path, reason);
    fail(SftpRelay.DENIED);
  }

  /** Asks the policy, which records its decision (rule and reason); a denial ends the transfer. */
  private boolean allowed(String op, String path) throws IOException {
    String reason = SftpRelay.ask(policy, "scp", op, path);
    if (reason != null) {
      log.debug("scp {} {} denied: {}", op, path, reason);
      fail(SftpRelay.DENIED);
      return false;
    }
    return true;
  }

  /** Ends the transfer with a fatal error ({@code \2}) that tells the client {@code message}. */
  private void fail(String message) throws IOException {
    String msg = message.replaceAll("[\r\n]", " ");
    // Nothing more goes to the server: closing its input ends its scp.
    SftpRelay.closeQuietly(toServer);
    toClient.write(2);
    toClient.write(msg.getBytes(StandardCharsets.UTF_8));
    toClient.write('\n');
    toClient.flush();
  }

  /** A C or D header: {@code <mode> <size> <name>}, mode four octal digits (scp.c sink()). */
  private record Header(long size, String name) {
    static Header parse(char kind, String line) throws ProtocolException {
      if (line.length() < 7 || line.charAt(4) != ' ') throw bad(kind, line);
      for (int i = 0; i < 4; i++) {
        char m = line.charAt(i);
        if (m < '0' || m > '7') throw bad(kind, line);
      }
      int sp = line.indexOf(' ', 5);
      if (sp < 0) throw bad(kind, line);
      long size;
      String digits = line.substring(5, sp);
      if (digits.isEmpty() || !digits.chars().allMatch(d -> d >= '0' && d <= '9')) {
        throw bad(kind, line); // Long.parseLong takes "+5", scp.c's strtoull check does not
      }
      try {
        size = Long.parseLong(digits);
      } catch (NumberFormatException e) {
        throw bad(kind, line);
      }
      String name = line.substring(sp + 1);
      if (size < 0
          || name.isEmpty()
          || name.indexOf('/') >= 0
          || name.equals(".")
          || name.equals("..")) {
        throw bad(kind, line);
      }
      return new Header(size, name);
    }

    private static ProtocolException bad(char kind, String line) {
      return new ProtocolException("scp: bad " + kind + " header: " + line);
    }
  }
}
