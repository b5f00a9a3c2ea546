package dev.gatehouse.ssh;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;

/**
 * Where on the target a path really is: the file relays' second opinion after their lexical check.
 *
 * <p>The relays normalize a client's path lexically ({@code a/b/../c} is {@code a/c}) and decide on
 * that, but the target's kernel resolves symbolic links first: with {@code up -> .} inside an
 * allowed directory, {@code allowed/up/../secret} is {@code allowed/secret} to the relay and {@code
 * secret} (outside) to the kernel (POSIX.1-2017, 4.13 "Pathname Resolution": ".." names the parent
 * of the directory the preceding components resolved to). A link that points elsewhere ({@code
 * allowed/data -> /srv}) escapes without any "..". So every path a request names is also resolved
 * here, on the target, and the policy is asked again when the real location differs.
 *
 * <p>It speaks SFTP version 3 (draft-ietf-secsh-filexfer-02) on a channel of its own to an SFTP
 * server on the target: REALPATH (section 6.11), which OpenSSH's sftp-server answers with
 * realpath(3) semantics (every symbolic link followed, a missing last component tolerated), and
 * LSTAT (section 6.8). Its own channel, not the client's: no request id of the client's can clash
 * with its own, and the legacy scp relay, which has no SFTP channel, can use it too. The channel is
 * opened on first use. One thread at a time (each relay asks from one thread).
 *
 * <p>What it cannot close: the check and the client's request are two steps, so someone who can
 * change links in the allowed tree between them (another session with the {@code symlink} or {@code
 * rename} operation, or a shell on the target) can still race it. docs/ssh.md says so.
 */
final class SftpPathResolver implements Closeable {
  /** Opens the SFTP channel; called once, on first use. */
  interface Opener {
    Channel open() throws IOException;
  }

  /** An SFTP server's streams, and what to close when done. */
  record Channel(InputStream in, OutputStream out, Closeable close) {}

  private static final int INIT = 1, VERSION = 2, LSTAT = 7, REALPATH = 16, NAME = 104;
  private static final int ATTRS = 105;

  private final Opener opener;
  private Channel channel;
  private SftpPacket packet;
  private int nextId = 1;

  SftpPathResolver(Opener opener) {
    this.opener = opener;
  }

  /**
   * Where the server will act on {@code raw} (a path as the client sent it, relative to the
   * server's working directory like the client's): with {@code follow}, the file a final symbolic
   * link points to (OPEN, STAT, OPENDIR, SETSTAT); without, the last component itself in its real
   * parent directory (LSTAT, REMOVE, RENAME, SYMLINK, MKDIR, RMDIR). A path that does not exist is
   * placed in its parent's real location, as a create would be. Returns null when the server cannot
   * say where (a missing parent, a dangling link whose target cannot be resolved): the caller
   * refuses.
   */
  String resolve(String raw, boolean follow) throws IOException {
    String path = stripTrailingSlashes(raw);
    String name = name(path);
    if (follow || name.equals(".") || name.equals("..") || name.equals("/")) {
      String real = realpath(path);
      if (real != null) return real;
      // Missing: a create puts it in the real parent. Present but unresolvable (a link to nowhere
      // that the server still would follow on open): refused.
      if (exists(path)) return null;
      if (name.equals(".") || name.equals("..") || name.equals("/")) return null;
    }
    String parent = realpath(parent(path));
    if (parent == null) return null;
    return parent.equals("/") ? "/" + name : parent + "/" + name;
  }

  /** REALPATH; null when the server answers with a status (no such file, permission). */
  String realpath(String path) throws IOException {
    SftpPacket p = request(REALPATH, path);
    if (p.type() != NAME || p.nextInt() < 1) return null;
    String real = p.nextPath();
    return real != null && real.startsWith("/") ? real : null;
  }

  /** LSTAT: whether the name exists (a dangling link does). */
  boolean exists(String path) throws IOException {
    return request(LSTAT, path).type() == ATTRS;
  }

  private SftpPacket request(int type, String path) throws IOException {
    start();
    int id = nextId++;
    SftpPacket p = packet;
    p.start(type).putInt(id).putString(path).finish();
    p.writeTo(channel.out());
    channel.out().flush();
    if (!p.read(channel.in())) throw new IOException("SFTP server for path checks went away");
    if (p.nextInt() != id) throw new ProtocolException("SFTP server answered another request");
    return p;
  }

  private void start() throws IOException {
    if (channel != null) return;
    channel = opener.open();
    packet = new SftpPacket();
    packet.start(INIT).putInt(3).finish();
    packet.writeTo(channel.out());
    channel.out().flush();
    if (!packet.read(channel.in()) || packet.type() != VERSION || packet.nextInt() != 3) {
      throw new ProtocolException("SFTP server for path checks does not speak version 3");
    }
  }

  @Override
  public void close() {
    Channel c = channel;
    if (c != null) SftpRelay.closeQuietly(c.close());
  }

  private static String stripTrailingSlashes(String p) {
    int end = p.length();
    while (end > 1 && p.charAt(end - 1) == '/') end--;
    return p.substring(0, end);
  }

  /** Last component; "/" for the root, "." for the empty path. */
  private static String name(String p) {
    if (p.equals("/")) return "/";
    if (p.isEmpty()) return ".";
    return p.substring(p.lastIndexOf('/') + 1);
  }

  private static String parent(String p) {
    int i = p.lastIndexOf('/');
    if (i < 0) return ".";
    return i == 0 ? "/" : p.substring(0, i);
  }
}
