package dev.gatehouse.ssh;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

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
 * <p>The resolution is done here, component by component, as the kernel does it
 * (path_resolution(7)), not left to the server's REALPATH: the SFTP drafts do not say whether
 * REALPATH follows links, OpenSSH's does (realpath(3)) but Apache MINA's only normalizes the text,
 * and a check that trusts it lets {@code up/../} through on such a server. Each component is looked
 * at with LSTAT (draft-ietf-secsh-filexfer-02 section 6.8); a link is read with READLINK (6.12),
 * its text put in place of the component (an absolute target restarts at "/", a relative one is
 * taken from the link's directory) and the walk goes on, so a ".." after a link names the parent of
 * where the link led. At most {@value #MAX_LINKS} links per path (Linux's MAXSYMLINKS; a loop ends
 * there) and {@value #MAX_PATH} characters of path still to walk (PATH_MAX). The components up to
 * the next link are asked in one pipelined batch (section 7 lets a client send requests without
 * waiting), so a path without links costs one round trip, and each link two more (READLINK, then
 * the batch for the rest). Relative paths start at the server's start directory: REALPATH(".") once
 * per channel (the only way SFTP version 3 tells it), itself walked like any path.
 *
 * <p>Anything it cannot place is refused ({@link Unresolved}, with the reason for the client and
 * the audit): a component that is missing (other than the last one, which a create would make in
 * its real parent), not a directory, or that the server will not show; attributes without the file
 * type; an unreadable link; too many links; too long a path.
 *
 * <p>It speaks SFTP version 3 on a channel of its own to an SFTP server on the target. Its own
 * channel, not the client's: no request id of the client's can clash with its own, and the legacy
 * scp relay, which has no SFTP channel, can use it too. The channel is opened on first use. One
 * thread at a time (each relay asks from one thread).
 *
 * <p>What it cannot close: the check and the client's request are two steps, so someone who can
 * change links in the allowed tree between them (another session with the {@code symlink} or {@code
 * rename} operation, or a shell on the target) can still race it. The same client cannot: {@link
 * SftpRelay} holds back paths until the target has answered its changes to the tree.
 * docs/ssh-file-transfer.md says so.
 */
final class SftpPathResolver implements Closeable {
  /** Opens the SFTP channel; called once, on first use. */
  interface Opener {
    Channel open() throws IOException;
  }

  /** An SFTP server's streams, and what to close when done. */
  record Channel(InputStream in, OutputStream out, Closeable close) {}

  /** A path the resolver cannot place on the target; the message says why. */
  static final class Unresolved extends IOException {
    /** A directory on the way is missing or not a directory: nothing can be at the path now. */
    final boolean absent;

    Unresolved(String message) {
      this(message, false);
    }

    Unresolved(String message, boolean absent) {
      super(message);
      this.absent = absent;
    }
  }

  /** Linux's MAXSYMLINKS (include/linux/namei.h): links followed while resolving one path. */
  static final int MAX_LINKS = 40;

  /** Linux's PATH_MAX: longest path accepted, and longest left to walk after links are put in. */
  static final int MAX_PATH = 4096;

  /** LSTATs in flight at once; OpenSSH's sftp client keeps 64 requests outstanding. */
  private static final int BATCH = 64;

  private static final int INIT = 1, VERSION = 2, LSTAT = 7, REALPATH = 16, READLINK = 19;
  private static final int STATUS = 101, NAME = 104, ATTRS = 105;
  private static final int FX_NO_SUCH_FILE = 2;

  // Attribute flags (section 5) and the file type bits of st_mode (POSIX sys/stat.h).
  private static final int ATTR_SIZE = 0x1, ATTR_UIDGID = 0x2, ATTR_PERMISSIONS = 0x4;
  private static final int S_IFMT = 0170000, S_IFDIR = 0040000, S_IFLNK = 0120000;

  /** LSTAT outcomes other than a file type. */
  private static final int MISSING = -1, UNKNOWN_TYPE = -2;

  private final Opener opener;
  private Channel channel;
  private SftpPacket packet;
  private int nextId = 1;

  /** The start directory's real components; null until a relative path needs it. */
  private List<String> start;

  /** Whether the last component of the path resolved last did not exist (it was placed). */
  private boolean lastMissing;

  /** Requests this resolver has sent and batches it has waited for (round trips), for tests. */
  int requests, roundTrips;

  SftpPathResolver(Opener opener) {
    this.opener = opener;
  }

  /**
   * Where the server will act on {@code raw} (a path as the client sent it, relative to the
   * server's start directory like the client's): with {@code follow}, the file a final symbolic
   * link points to (OPEN, STAT, OPENDIR, SETSTAT); without, the last component itself in its real
   * parent directory (LSTAT, REMOVE, RENAME, SYMLINK, MKDIR, RMDIR). A last component that does not
   * exist is placed in its parent's real location, as a create would be.
   *
   * <p>Usually one path. Two when {@code follow} is false, the last component is a link and the
   * name ends in "/" or "/.": the kernel then follows the link (path_resolution(7), "Trailing
   * slashes") and a server that goes through java.nio (MINA) drops the slash and acts on the link;
   * both places are returned, the followed one first, and the caller checks both.
   *
   * @throws Unresolved when the path cannot be placed (see the class comment): the caller refuses
   * @throws IOException when the server cannot be asked
   */
  List<String> resolve(String raw, boolean follow) throws IOException {
    boolean slash = trailingSlash(raw);
    return resolve(raw, follow || slash, !follow && slash);
  }

  /**
   * As {@link #resolve} with a final link followed, for a file that must exist (what the source of
   * {@code scp -f} sends it has opened): a last component that does not exist is {@link Unresolved}
   * ({@code absent}) instead of being placed in its parent.
   */
  List<String> resolveExisting(String raw) throws IOException {
    List<String> reals = resolve(raw, true);
    if (lastMissing) throw new Unresolved(reals.get(0) + " does not exist", true);
    return reals;
  }

  /** "lnk/" and "lnk/." both make the kernel follow a final link (path_resolution(7)). */
  static boolean trailingSlash(String raw) {
    return raw.length() > 1 && (raw.endsWith("/") || raw.endsWith("/."));
  }

  /**
   * Both places a program may act on for {@code raw} when it is not known whether it follows a
   * final link (a command's path argument: {@code cat} follows it, {@code rm} and {@code ls -l} act
   * on the link itself): where the link leads, first, and the link in its real directory when the
   * last component is one. One walk, as {@link #resolve}.
   */
  List<String> resolveEither(String raw) throws IOException {
    return resolve(raw, true, true);
  }

  private List<String> resolve(String raw, boolean follow, boolean keepLink) throws IOException {
    if (raw.length() > MAX_PATH) throw new Unresolved("path longer than " + MAX_PATH);
    if (raw.isEmpty()) raw = ".";
    List<String> done = raw.startsWith("/") ? new ArrayList<>() : new ArrayList<>(start());
    Deque<String> todo = new ArrayDeque<>();
    push(todo, raw, done);
    lastMissing = false;
    String link = walk(done, todo, follow, keepLink);
    String real = join(done);
    return link == null ? List.of(real) : List.of(real, link);
  }

  /**
   * Resolves {@code todo} onto {@code done} (components of a real directory, no links in it).
   * Returns the link itself (its real path) when {@code keepLink} and the last component was a link
   * that was followed; else null.
   */
  private String walk(List<String> done, Deque<String> todo, boolean follow, boolean keepLink)
      throws IOException {
    int links = 0;
    String finalLink = null;
    while (!todo.isEmpty()) {
      // The next components as if none were a link, one LSTAT each, sent together.
      List<String> spec = new ArrayList<>(done);
      List<String> asked = new ArrayList<>();
      for (String c : todo) {
        if (asked.size() == BATCH) break;
        if (c.equals("..")) {
          if (!spec.isEmpty()) spec.removeLast();
        } else {
          spec.add(c);
          asked.add(join(spec));
        }
      }
      int[] types = lstat(asked);
      // The answers in order, up to the first link (after it, the batch guessed wrong).
      int i = 0;
      while (!todo.isEmpty()) {
        String c = todo.peekFirst();
        if (c.equals("..")) {
          todo.removeFirst();
          if (!done.isEmpty()) done.removeLast();
          continue;
        }
        if (i == types.length) break; // past the batch: plan the next one
        String path = asked.get(i);
        int type = types[i++];
        todo.removeFirst();
        boolean last = todo.isEmpty();
        if (type == MISSING) {
          if (!last) throw new Unresolved(path + " does not exist", true);
          lastMissing = true;
          done.add(c);
          return finalLink;
        }
        if (type == UNKNOWN_TYPE) {
          throw new Unresolved("the target does not say what " + path + " is");
        }
        if (type == S_IFLNK && (!last || follow)) {
          if (++links > MAX_LINKS) {
            throw new Unresolved("more than " + MAX_LINKS + " symbolic links in " + path);
          }
          if (last && keepLink && finalLink == null) finalLink = path; // the name as sent
          String target = readlink(path);
          if (target == null || target.isEmpty()) {
            throw new Unresolved("cannot read the symbolic link " + path);
          }
          push(todo, target, done);
          break;
        }
        if (!last && type != S_IFDIR) throw new Unresolved(path + " is not a directory", true);
        done.add(c);
      }
    }
    return finalLink;
  }

  /**
   * Puts the components of {@code path} in front of {@code todo} ("." and empty ones dropped); an
   * absolute one restarts at the root. Bounded: the path left to walk stays within {@link
   * #MAX_PATH}.
   */
  private static void push(Deque<String> todo, String path, List<String> done) throws Unresolved {
    long left = path.length();
    for (String c : todo) left += c.length() + 1;
    if (left > MAX_PATH) throw new Unresolved("path longer than " + MAX_PATH + " after links");
    if (path.startsWith("/")) done.clear();
    String[] parts = path.split("/");
    for (int i = parts.length - 1; i >= 0; i--) {
      if (!parts[i].isEmpty() && !parts[i].equals(".")) todo.addFirst(parts[i]);
    }
  }

  private static String join(List<String> components) {
    return "/" + String.join("/", components);
  }

  /** The start directory: REALPATH(".") once, then walked like any path (links followed). */
  private List<String> start() throws IOException {
    if (start != null) return start;
    SftpPacket p = send(REALPATH, ".");
    flush();
    receive(p, nextId - 1);
    String dir = p.type() == NAME && p.nextInt() >= 1 ? p.nextPath() : null;
    if (dir == null || !dir.startsWith("/") || dir.length() > MAX_PATH) {
      throw new Unresolved("the target does not say where relative paths start");
    }
    List<String> done = new ArrayList<>();
    Deque<String> todo = new ArrayDeque<>();
    push(todo, dir, done);
    walk(done, todo, true, false);
    start = List.copyOf(done);
    return start;
  }

  /** LSTAT of every path in one round trip: the file type bits, {@link #MISSING} or unknown. */
  private int[] lstat(List<String> paths) throws IOException {
    int[] types = new int[paths.size()];
    if (paths.isEmpty()) return types;
    int first = nextId;
    SftpPacket p = null;
    for (String path : paths) p = send(LSTAT, path);
    flush();
    // Every answer is read before a problem is thrown: one left unread would be taken for the
    // answer to the next request, and every later path check would fail.
    IOException problem = null;
    for (int i = 0; i < paths.size(); i++) {
      receive(p, first + i);
      if (problem == null) {
        try {
          types[i] = type(p, paths.get(i));
        } catch (IOException e) {
          problem = e;
        }
      }
    }
    if (problem != null) throw problem;
    return types;
  }

  private static int type(SftpPacket p, String path) throws IOException {
    if (p.type() == STATUS) {
      int code = p.nextInt();
      if (code == FX_NO_SUCH_FILE) return MISSING;
      throw new Unresolved("the target will not show " + path + " (SFTP status " + code + ")");
    }
    if (p.type() != ATTRS)
      throw new ProtocolException("SFTP server answered LSTAT with " + p.type());
    int flags = p.nextInt();
    if ((flags & ATTR_SIZE) != 0) p.nextLong();
    if ((flags & ATTR_UIDGID) != 0) {
      p.nextInt();
      p.nextInt();
    }
    if ((flags & ATTR_PERMISSIONS) == 0) return UNKNOWN_TYPE;
    int type = p.nextInt() & S_IFMT;
    return type == 0 ? UNKNOWN_TYPE : type;
  }

  /** READLINK: the link's text, or null when the server will not say. */
  private String readlink(String path) throws IOException {
    SftpPacket p = send(READLINK, path);
    flush();
    receive(p, nextId - 1);
    if (p.type() != NAME || p.nextInt() < 1) return null;
    return p.nextPath();
  }

  private SftpPacket send(int type, String path) throws IOException {
    open();
    int id = nextId++;
    packet.start(type).putInt(id).putString(path).finish();
    packet.writeTo(channel.out());
    requests++;
    return packet;
  }

  /** Sends what {@link #send} wrote: one round trip. */
  private void flush() throws IOException {
    channel.out().flush();
    roundTrips++;
  }

  /** Reads the answer to request {@code id} into {@code p}. */
  private void receive(SftpPacket p, int id) throws IOException {
    try {
      if (!p.read(channel.in())) throw new IOException("SFTP server for path checks went away");
      if (p.nextInt() != id) throw new ProtocolException("SFTP server answered another request");
    } catch (IOException e) {
      // Out of step with the server: the next check opens a new channel.
      Channel c = channel;
      channel = null;
      if (c != null) SftpRelay.closeQuietly(c.close());
      throw e;
    }
  }

  private void open() throws IOException {
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
}
