package dev.gatehouse.ssh;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Layer-7 relay for the SFTP subsystem, protocol version 3 as OpenSSH speaks it
 * (draft-ietf-secsh-filexfer-02 plus the OpenSSH extensions in OpenSSH's PROTOCOL file). It sits
 * between an SFTP client and an upstream SFTP server, decides every request that names a path, and
 * records every file transfer and change.
 *
 * <h2>Operations handed to {@link PathPolicy#check}</h2>
 *
 * <ul>
 *   <li>{@code read}: OPEN with only SSH_FXF_READ; also checked for OPEN with READ and a write
 *       flag.
 *   <li>{@code write}: OPEN with SSH_FXF_WRITE, APPEND, CREAT or TRUNC.
 *   <li>{@code list}: OPENDIR.
 *   <li>{@code stat}: STAT, LSTAT, REALPATH, READLINK, statvfs@openssh.com,
 *       expand-path@openssh.com. FSTAT works on a handle that was already checked and is not asked
 *       again.
 *   <li>{@code remove}: REMOVE. {@code rmdir}: RMDIR. {@code mkdir}: MKDIR.
 *   <li>{@code rename}: RENAME and posix-rename@openssh.com, asked for both the old and the new
 *       path.
 *   <li>{@code setstat}: SETSTAT, FSETSTAT (path of the handle), lsetstat@openssh.com (for the link
 *       and where it leads).
 *   <li>{@code symlink}: SYMLINK and hardlink@openssh.com (any new name for an existing file),
 *       asked for both the link and its target, because reading through a link is only checked
 *       against the link's path.
 * </ul>
 *
 * A denied request is not forwarded: the relay answers it with SSH_FXP_STATUS
 * SSH_FX_PERMISSION_DENIED and {@link #DENIED} as message, under the request's own id (section 7).
 * Every refusal of a path looks the same to the client, whether the policy denied the name as sent,
 * where it really leads, or the target could not place it: a rule's reason for a link's real
 * destination, set against "cannot tell where it is" for a path that leads nowhere, would tell the
 * client that the destination exists (issue #6). The policy's decision (rule and reason) or the
 * relay's own reason is in the audit record.
 *
 * <h2>Paths</h2>
 *
 * Right after version negotiation the relay asks the server for REALPATH(".") (section 6.11), the
 * directory relative names are resolved against (SFTP v3 has no chdir), and hands the policy
 * absolute, lexically normalized paths ({@code //}, {@code .} and {@code ..} collapsed). If the
 * server will not say, relative paths are passed normalized but relative. Then each path is
 * resolved on the server by {@link SftpPathResolver} (symbolic links followed component by
 * component, by the relay itself, not by the server's REALPATH) and the policy is asked again for
 * the resolved path when it differs. Names that are not UTF-8 or contain NUL are denied (see {@link
 * SftpPacket#nextPath()}).
 *
 * <h2>Changes to the tree</h2>
 *
 * The second check runs on its own channel, so it sees the target as it is when it asks, not as it
 * will be when the client's earlier requests have run. A client that pipelines {@code RENAME a/g
 * a/q} (a link whose relative target leads out of the tree from its new place) and {@code OPEN a/q}
 * would have the OPEN placed before the target renamed anything (red team, issue #6). So after
 * forwarding a request that changes which file a name leads to (RENAME, posix-rename, SYMLINK,
 * hardlink, REMOVE, MKDIR, RMDIR) no request that names a path is checked or forwarded until the
 * target's reply to the change has come back (section 7: the server replies once it has done it);
 * requests on handles (READ, WRITE, CLOSE, FSTAT, FSETSTAT, READDIR) go on meanwhile. SETSTAT and
 * its kin change who may reach a name, never where it leads: the check then fails closed, or the
 * target refuses. The wait is bounded ({@value #CHANGE_WAIT_MILLIS} ms); a request that waited in
 * vain, or met a closed target, is answered SSH_FX_FAILURE and not forwarded.
 *
 * <h2>Recording</h2>
 *
 * When a file handle is closed (or left open when the session ends) the {@link Recorder} is told
 * {@code (read|write, path, bytes, sha256)}, the path as resolved on the server. The hash covers
 * the data as it passed the relay and is only computed while the offsets are sequential from 0; a
 * seek, a resumed transfer, a short read followed by a re-request or copy-data gives {@code null}.
 * REMOVE, RENAME, MKDIR, RMDIR, SETSTAT/FSETSTAT, SYMLINK and their extended forms are recorded on
 * their SSH_FX_OK reply with bytes 0 and hash null; for rename and symlink the path is {@code "from
 * -> to"}.
 *
 * <h2>Extensions</h2>
 *
 * Only extensions whose arguments the relay understands are relayed; the server's VERSION packet is
 * rewritten to advertise just those, and any other SSH_FXP_EXTENDED request is answered with
 * SSH_FX_OP_UNSUPPORTED (section 8 lets a server refuse an extension it does not know), because an
 * unknown extension could carry a path the policy would never see.
 *
 * <h2>Streaming</h2>
 *
 * Two pumps, one per direction, each holding one packet (at most {@link SftpPacket#MAX_LENGTH}) at
 * a time; output is flushed only when no more input is already waiting, so pipelined requests (the
 * OpenSSH client keeps 64 in flight) travel in batches. Backpressure is the peers' windows.
 */
final class SftpRelay {
  private static final Logger log = LoggerFactory.getLogger(SftpRelay.class);

  /** Decides one file operation; returns null when allowed, else the reason it is denied. */
  interface PathPolicy {
    String check(String op, String path);

    /**
     * Told of a request refused before the policy could see it: a name that is not UTF-8 or
     * contains NUL, {@code name} escaped ({@link SftpPacket#escape}). It must be recorded as the
     * policy's refusals are: someone tried, and nothing reached the server.
     */
    void refused(String op, String name, String reason);
  }

  /**
   * Told of each completed file transfer or change. sha256 is lowercase hex, or null when not
   * computable (non-sequential writes/reads).
   */
  interface Recorder {
    void file(String op, String path, long bytes, String sha256);
  }

  // Packet types, draft-ietf-secsh-filexfer-02 section 3.
  static final int INIT = 1, VERSION = 2, OPEN = 3, CLOSE = 4, READ = 5, WRITE = 6, LSTAT = 7;
  static final int FSTAT = 8, SETSTAT = 9, FSETSTAT = 10, OPENDIR = 11, READDIR = 12, REMOVE = 13;
  static final int MKDIR = 14, RMDIR = 15, REALPATH = 16, STAT = 17, RENAME = 18, READLINK = 19;
  static final int SYMLINK = 20, STATUS = 101, HANDLE = 102, DATA = 103, NAME = 104, ATTRS = 105;
  static final int EXTENDED = 200, EXTENDED_REPLY = 201;

  // Status codes, section 7.
  static final int FX_OK = 0, FX_PERMISSION_DENIED = 3, FX_FAILURE = 4, FX_BAD_MESSAGE = 5;
  static final int FX_OP_UNSUPPORTED = 8;

  // OPEN pflags, section 6.3.
  static final int FXF_READ = 0x01, FXF_WRITE = 0x02, FXF_APPEND = 0x04, FXF_CREAT = 0x08;
  static final int FXF_TRUNC = 0x10;

  /** Extensions relayed (OpenSSH PROTOCOL, section 4 and later); all others are refused. */
  static final Set<String> EXTENSIONS =
      Set.of(
          "posix-rename@openssh.com",
          "hardlink@openssh.com",
          "statvfs@openssh.com",
          "fstatvfs@openssh.com",
          "fsync@openssh.com",
          "lsetstat@openssh.com",
          "limits@openssh.com",
          "expand-path@openssh.com",
          "copy-data",
          "users-groups-by-id@openssh.com");

  /** Id of the relay's own REALPATH("."), sent before the client may send anything. */
  private static final int CWD_REQUEST_ID = 0;

  /** How long a request naming a path waits for the target to answer an earlier change. */
  static final long CHANGE_WAIT_MILLIS = 30_000;

  /** How long to wait for the other pump once one direction has ended. */
  private static final long DRAIN_MILLIS = 30_000;

  private final InputStream fromClient;
  private final OutputStream toClient;
  private final InputStream fromServer;
  private final OutputStream toServer;
  private final PathPolicy policy;
  private final Recorder recorder;
  private final SftpPathResolver resolver;

  /** Requests awaiting a reply that the relay must see (by request id). */
  private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();

  /**
   * Ids of the requests forwarded and not answered yet: a request reusing one is refused, so a
   * reply's id names one request, and the reply that lifts the wait for a change is the change's.
   */
  private final Set<Integer> inFlight = ConcurrentHashMap.newKeySet();

  /** Id of the request {@link #request} decided last (the client pump's thread only). */
  private int lastId;

  /** Open file handles (not directory handles) by handle bytes. */
  private final Map<String, OpenFile> files = new ConcurrentHashMap<>();

  /** The request's first name that was not UTF-8 or held NUL, escaped; client pump thread only. */
  private String refusedName;

  /** Guards {@link #change}; notified when it is answered or the target goes away. */
  private final Object changeLock = new Object();

  /** Id of the forwarded change to the tree the target has not answered yet, or null. */
  private Integer change;

  private final CountDownLatch negotiated = new CountDownLatch(1);
  private volatile boolean serverReady;
  private volatile String cwd;
  private volatile boolean closing;
  private final AtomicReference<IOException> failure = new AtomicReference<>();

  /** {@link #CHANGE_WAIT_MILLIS}, shorter in tests of the timeout. */
  private long changeWaitMillis = CHANGE_WAIT_MILLIS;

  SftpRelay(
      InputStream fromClient,
      OutputStream toClient,
      InputStream fromServer,
      OutputStream toServer,
      PathPolicy policy,
      Recorder recorder,
      SftpPathResolver resolver) {
    this.fromClient = buffered(fromClient);
    this.toClient = new BufferedOutputStream(toClient, 64 * 1024);
    this.fromServer = buffered(fromServer);
    this.toServer = new BufferedOutputStream(toServer, 64 * 1024);
    this.policy = policy;
    this.recorder = recorder;
    this.resolver = resolver;
  }

  /** Bounds the wait for the target's answer to a change (tests of the timeout). */
  SftpRelay changeWait(long millis) {
    this.changeWaitMillis = millis;
    return this;
  }

  /**
   * A packet is read with two calls (length, then the rest), so a source that is not buffered
   * already gets a buffer. An {@link SshChannelInput} (both channels in the gateway) is one:
   * another layer would only copy a quarter of every 255 KiB packet once more.
   */
  private static InputStream buffered(InputStream in) {
    return in instanceof SshChannelInput ? in : new BufferedInputStream(in, 64 * 1024);
  }

  /**
   * Pumps until either side ends; closes toServer/toClient appropriately. Throws {@link
   * ProtocolException} (after closing both sides) when a peer broke the protocol, e.g. a packet
   * longer than {@link SftpPacket#MAX_LENGTH}.
   */
  void run() throws IOException {
    Thread server = Thread.ofVirtual().name("sftp-relay-server").start(this::serverPump);
    try {
      clientPump();
    } catch (IOException | RuntimeException e) {
      fail(e);
    }
    // The client is done: the server sees end of stream and answers what is outstanding.
    closeQuietly(toServer);
    join(server);
    recordLeftovers();
    IOException e = failure.get();
    if (e != null) throw e;
  }

  private void clientPump() throws IOException {
    SftpPacket p = new SftpPacket();
    if (!p.read(fromClient)) return;
    if (p.type() != INIT) throw new ProtocolException("SFTP client did not start with INIT");
    synchronized (toServer) {
      p.writeTo(toServer);
      toServer.flush();
    }
    try {
      negotiated.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (!serverReady) return;
    SftpPacket reply = new SftpPacket();
    while (p.read(fromClient)) {
      boolean forward = request(p, reply);
      synchronized (toServer) {
        if (forward) {
          inFlight.add(lastId); // before the target can answer it
          p.writeTo(toServer);
        }
        // Also after a request answered here: the batch before it must not wait in the buffer
        // for a next request the client, waiting for replies, will not send.
        if (fromClient.available() == 0) toServer.flush();
      }
    }
  }

  /** Decides one client request; returns true to forward it, false when answered here. */
  private boolean request(SftpPacket p, SftpPacket reply) throws IOException {
    int type = p.type();
    if (type == INIT) throw new ProtocolException("SFTP INIT sent twice");
    int id = p.nextInt();
    refusedName = null;
    lastId = id;
    if (inFlight.contains(id)) {
      // Replies are matched by id (section 4): a reused id's reply could be taken for another
      // request's, a change's among them, and lift the wait for it early.
      status(reply, id, FX_FAILURE, "gatehouse: request id still in use");
      return false;
    }
    if (namesPaths(type) && !settled(reply, id)) return false;
    switch (type) {
      case OPEN -> {
        String raw = rawPath(p);
        String path = absolute(raw);
        int flags = p.nextInt();
        boolean writes = (flags & (FXF_WRITE | FXF_APPEND | FXF_CREAT | FXF_TRUNC)) != 0;
        String op = writes ? "write" : "read";
        if (deny(reply, id, op, path)) return false;
        boolean reads = writes && (flags & FXF_READ) != 0;
        if (reads && deny(reply, id, "read", path)) return false;
        // open(2) follows a final link, also when it creates (O_CREAT without O_EXCL).
        String[] ops = reads ? new String[] {op, "read"} : new String[] {op};
        String real = real(reply, id, raw, path, Place.FOLLOWED, ops);
        if (real == null) return false;
        pending.put(id, Pending.open(real, op));
      }
      case OPENDIR -> {
        String raw = rawPath(p);
        String path = absolute(raw);
        if (deny(reply, id, "list", path)) return false;
        String real = real(reply, id, raw, path, Place.FOLLOWED, "list");
        if (real == null) return false;
        pending.put(id, Pending.open(real, "list")); // tracked so FSETSTAT on it is checked
      }
      case CLOSE -> {
        // Forgotten now, not on the reply: sftp-server hands the freed handle to the next OPEN,
        // so "CLOSE h; OPEN other; FSETSTAT h" pipelined would otherwise be checked against the
        // closed file and run on the other one.
        String handle = p.nextHandle();
        if (unknown(reply, id, handle)) return false;
        pending.put(id, Pending.file(Kind.CLOSE, files.remove(handle), 0));
      }
      case READ -> {
        String handle = p.nextHandle();
        if (unknown(reply, id, handle)) return false;
        pending.put(id, Pending.file(Kind.READ, files.get(handle), p.nextLong()));
      }
      case WRITE -> {
        String handle = p.nextHandle();
        if (unknown(reply, id, handle)) return false;
        long offset = p.nextLong();
        int start = p.nextString();
        files.get(handle).wrote(offset, p.buf, start, p.last);
      }
      case STAT, LSTAT, REALPATH, READLINK -> {
        String raw = rawPath(p);
        String path = absolute(raw);
        boolean follow = type == STAT || type == REALPATH; // LSTAT and READLINK read the link
        if (deny(reply, id, "stat", path)
            || real(reply, id, raw, path, Place.of(follow), "stat") == null) {
          return false;
        }
      }
      case SETSTAT -> {
        if (checkAndRecord(reply, id, "setstat", rawPath(p), true)) return false;
      }
      case FSETSTAT -> {
        String handle = p.nextHandle();
        if (unknown(reply, id, handle)) return false;
        // The handle's path was placed on the target when it was opened.
        String path = files.get(handle).path;
        if (deny(reply, id, "setstat", path)) return false;
        pending.put(id, Pending.record("setstat", path));
      }
      case REMOVE -> {
        if (checkAndRecord(reply, id, "remove", rawPath(p), false)) return false;
        changing(id);
      }
      case MKDIR -> {
        if (checkAndRecord(reply, id, "mkdir", rawPath(p), false)) return false;
        changing(id);
      }
      case RMDIR -> {
        if (checkAndRecord(reply, id, "rmdir", rawPath(p), false)) return false;
        changing(id);
      }
      case RENAME -> {
        if (twoPaths(reply, id, "rename", rawPath(p), rawPath(p), false)) return false;
        changing(id);
      }
      case SYMLINK -> {
        // OpenSSH sends (target, link), the reverse of section 6.10 (OpenSSH PROTOCOL 3.1); the
        // target of a relative link is resolved against the link's directory.
        String target = rawPath(p);
        String link = rawPath(p);
        if (symlink(reply, id, target, link)) return false;
        changing(id);
      }
      case FSTAT, READDIR -> {
        if (unknown(reply, id, p.nextHandle())) return false;
      }
      case EXTENDED -> {
        return extended(p, reply, id);
      }
      default -> {
        status(reply, id, FX_OP_UNSUPPORTED, "gatehouse: unsupported SFTP request " + type);
        return false;
      }
    }
    return true;
  }

  private boolean extended(SftpPacket p, SftpPacket reply, int id) throws IOException {
    int start = p.nextString();
    String name = new String(p.buf, start, p.last, StandardCharsets.UTF_8);
    switch (name) {
      case "posix-rename@openssh.com" -> {
        if (twoPaths(reply, id, "rename", rawPath(p), rawPath(p), false)) return false;
        changing(id);
      }
      case "hardlink@openssh.com" -> {
        // Both are names (Linux's link(2) does not follow a link named as the existing file);
        // the existing one is also checked where it leads (twoPaths).
        String target = rawPath(p);
        String link = rawPath(p);
        if (twoPaths(reply, id, "symlink", target, link, true)) return false;
        changing(id);
      }
      case "lsetstat@openssh.com" -> {
        // Meant for the link itself, but a java.nio server (Apache MINA) sets permissions through
        // Files.setAttribute, which follows a final link (red team, issue #6: lsetstat on a link
        // out of the tree chmodded the file outside). So asked for both: the name, and where it
        // leads, as SETSTAT.
        if (checkAndRecord(reply, id, "setstat", rawPath(p), false, true)) return false;
      }
      case "statvfs@openssh.com" -> {
        String raw = rawPath(p);
        String path = absolute(raw);
        if (deny(reply, id, "stat", path)
            || real(reply, id, raw, path, Place.FOLLOWED, "stat") == null) {
          return false;
        }
      }
      case "expand-path@openssh.com" -> {
        // OpenSSH PROTOCOL section 4.10: the server expands a leading "~" and answers with the
        // canonical path, as REALPATH does, so the name is checked the same way, where it really
        // is. "~" is the login directory (where the relay's REALPATH(".") landed): the request
        // is forwarded with that directory in its place, so the target expands nothing the
        // relay did not check. "~user" names another account's home, which the relay cannot
        // place: refused.
        String raw = rawPath(p);
        if (raw != null && raw.startsWith("~")) {
          if (cwd == null || !(raw.equals("~") || raw.startsWith("~/"))) {
            refuse(reply, id, "stat", raw, "gatehouse: ~user paths are not relayed");
            return false;
          }
          raw = cwd + raw.substring(1);
          p.start(EXTENDED).putInt(id).putString(name).putString(raw).finish();
        }
        String path = absolute(raw);
        if (deny(reply, id, "stat", path)
            || real(reply, id, raw, path, Place.FOLLOWED, "stat") == null) {
          return false;
        }
      }
      case "copy-data" -> {
        // Both handles were checked when opened; the data never passes the relay, so neither
        // handle can be hashed any more.
        String fromHandle = p.nextHandle();
        p.nextLong();
        p.nextLong();
        String toHandle = p.nextHandle();
        if (unknown(reply, id, fromHandle) || unknown(reply, id, toHandle)) return false;
        files.get(fromHandle).unhashable();
        files.get(toHandle).unhashable();
      }
      case "fstatvfs@openssh.com", "fsync@openssh.com" -> {
        if (unknown(reply, id, p.nextHandle())) return false;
      }
      case "limits@openssh.com" -> {}
      case "users-groups-by-id@openssh.com" -> {}
      default -> {
        status(reply, id, FX_OP_UNSUPPORTED, "gatehouse: SFTP extension " + name + " not relayed");
        return false;
      }
    }
    return true;
  }

  /** Requests that name a path, checked against the tree as it is: all but those on handles. */
  private static boolean namesPaths(int type) {
    return switch (type) {
      case READ, WRITE, CLOSE, FSTAT, FSETSTAT, READDIR -> false;
      default -> true;
    };
  }

  /** A change to the tree is about to be forwarded: later paths wait for its reply. */
  private void changing(int id) {
    synchronized (changeLock) {
      change = id;
    }
  }

  /** The server pump saw the reply to {@code id} (the target has done it), or the target left. */
  private void settle(Integer id) {
    synchronized (changeLock) {
      if (id == null || (change != null && change.equals(id))) {
        change = null;
        changeLock.notifyAll();
      }
    }
  }

  /**
   * Waits until the target has answered the change to the tree forwarded last, so the path check
   * that follows sees the tree as the target will act on it. Returns false, after answering the
   * client, when it did not answer within {@value #CHANGE_WAIT_MILLIS} ms or went away: fail
   * closed.
   */
  private boolean settled(SftpPacket reply, int id) throws IOException {
    synchronized (changeLock) {
      if (change == null) return true;
    }
    // The change may still sit in the buffer, behind nothing the client will send.
    synchronized (toServer) {
      toServer.flush();
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(changeWaitMillis);
    synchronized (changeLock) {
      while (change != null && !closing) {
        long left = deadline - System.nanoTime();
        if (left <= 0) break;
        try {
          TimeUnit.NANOSECONDS.timedWait(changeLock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (change == null && !closing) return true;
    }
    status(reply, id, FX_FAILURE, "gatehouse: the target has not answered an earlier change");
    return false;
  }

  /**
   * Answers a request on a handle the relay has not seen the server hand out (a HANDLE reply to an
   * OPEN or OPENDIR it checked) with SSH_FX_FAILURE, and returns true. Handles are opaque to the
   * client (draft-ietf-secsh-filexfer-02 section 6.2) but predictable (OpenSSH numbers them from
   * 0), and a request pipelined behind its OPEN, before the reply, would otherwise pass unchecked:
   * an FSETSTAT without the setstat decision, a WRITE missing from the file's size and hash.
   */
  private boolean unknown(SftpPacket reply, int id, String handle) throws IOException {
    if (files.containsKey(handle)) return false;
    status(reply, id, FX_FAILURE, "gatehouse: unknown or not yet opened handle");
    return true;
  }

  /**
   * Next path argument as sent; null when refused. The first refused name of the request is kept
   * for the audit record ({@link #deny}).
   */
  private String rawPath(SftpPacket p) throws ProtocolException {
    p.refusedName = null;
    String raw = p.nextPath();
    if (raw == null && refusedName == null) {
      refusedName = p.refusedName;
    }
    return raw;
  }

  /** A path argument absolutized and lexically normalized; null when refused (NUL, not UTF-8). */
  private String absolute(String raw) {
    return normalize(cwd, raw);
  }

  private boolean checkAndRecord(SftpPacket reply, int id, String op, String raw, boolean follow)
      throws IOException {
    return checkAndRecord(reply, id, op, raw, follow, false);
  }

  /**
   * Checks {@code op} on the name, and where it really is ({@code follow}: a final link followed);
   * with {@code followedToo} also where a final link leads. Returns true when refused (answered).
   */
  private boolean checkAndRecord(
      SftpPacket reply, int id, String op, String raw, boolean follow, boolean followedToo)
      throws IOException {
    String path = absolute(raw);
    if (deny(reply, id, op, path)) return true;
    String real =
        real(
            reply,
            id,
            raw,
            path,
            followedToo ? Place.BOTH : follow ? Place.FOLLOWED : Place.NAME,
            op);
    if (real == null) return true;
    pending.put(id, Pending.record(op, real));
    return false;
  }

  /** RENAME and hardlink: both names are checked as names (a final link is not followed). */
  private boolean twoPaths(
      SftpPacket reply, int id, String op, String rawFrom, String rawTo, boolean recordToFirst)
      throws IOException {
    String from = absolute(rawFrom);
    String to = absolute(rawTo);
    if (deny(reply, id, op, from) || deny(reply, id, op, to)) return true;
    // hardlink: link(2) on Linux links a final symbolic link itself, but POSIX lets it follow
    // (linkat without AT_SYMLINK_FOLLOW is the only portable promise): fail closed, and ask for
    // where it leads too.
    String realFrom = real(reply, id, rawFrom, from, recordToFirst ? Place.BOTH : Place.NAME, op);
    if (realFrom == null) return true;
    String realTo = real(reply, id, rawTo, to, Place.NAME, op);
    if (realTo == null) return true;
    pending.put(
        id,
        Pending.record(
            op, recordToFirst ? realTo + " -> " + realFrom : realFrom + " -> " + realTo));
    return false;
  }

  /**
   * SYMLINK: the link is a name; its target, relative to the link's real directory, is checked
   * where it really leads (a link through {@code up/..} would otherwise point where the policy
   * never looked; reading through the link is checked again on use, where it really leads then).
   */
  private boolean symlink(SftpPacket reply, int id, String rawTarget, String rawLink)
      throws IOException {
    String link = absolute(rawLink);
    String target = link == null || rawTarget == null ? null : normalize(parent(link), rawTarget);
    if (deny(reply, id, "symlink", target) || deny(reply, id, "symlink", link)) return true;
    String realLink = real(reply, id, rawLink, link, Place.NAME, "symlink");
    if (realLink == null) return true;
    String physical =
        resolver == null || rawTarget.startsWith("/")
            ? rawTarget
            : parent(realLink) + "/" + rawTarget;
    String realTarget = real(reply, id, physical, target, Place.FOLLOWED, "symlink");
    if (realTarget == null) return true;
    pending.put(id, Pending.record("symlink", realLink + " -> " + realTarget));
    return false;
  }

  /**
   * {@link SftpPathResolver#resolveEither}'s places (where a final link leads, then the link) with
   * the one a request on the name itself acts on first, as {@code resolve(raw, false)} gives it:
   * the link, unless a trailing slash makes the kernel follow it. That one is recorded.
   */
  private static List<String> nameFirst(String raw, List<String> places) {
    return places.size() == 2 && !SftpPathResolver.trailingSlash(raw)
        ? List.of(places.get(1), places.get(0))
        : places;
  }

  /**
   * Which place of a name the server acts on: the name itself (a final link not followed), where a
   * final link leads, or both (checked both ways, one walk: {@link
   * SftpPathResolver#resolveEither}).
   */
  private enum Place {
    NAME,
    FOLLOWED,
    BOTH;

    static Place of(boolean follow) {
      return follow ? FOLLOWED : NAME;
    }
  }

  /**
   * The second check, after the lexical one allowed {@code lexical}: where the target will really
   * act on {@code raw} ({@link SftpPathResolver}: resolved here component by component, symbolic
   * links followed, {@code ..} taken after them, a final link followed as {@code place} says). Each
   * op is asked again for each real path that differs. Returns the real path, the one to record;
   * null when refused, after answering the client. A path the target cannot place is refused: fail
   * closed. Without a resolver (tests with a scripted server) the lexical path is returned.
   */
  private String real(
      SftpPacket reply, int id, String raw, String lexical, Place place, String... ops)
      throws IOException {
    if (resolver == null || raw == null) return lexical;
    List<String> reals;
    try {
      reals =
          place == Place.BOTH
              ? nameFirst(raw, resolver.resolveEither(raw))
              : resolver.resolve(raw, place == Place.FOLLOWED);
    } catch (SftpPathResolver.Unresolved e) {
      // The details (which directory is missing, or no directory) are the audit record's only:
      // with a link the client made, they would tell it what exists outside the allowed tree.
      refuse(reply, id, ops[0], lexical, "cannot tell where it is: " + e.getMessage());
      return null;
    } catch (IOException e) {
      log.warn("SFTP path check on the target failed: {}", e.toString());
      refuse(reply, id, ops[0], lexical, "cannot tell where it is on the target");
      return null;
    }
    for (String real : reals) {
      if (real.equals(lexical)) continue;
      for (String op : ops) {
        if (deny(reply, id, op, real)) return null;
      }
    }
    return reals.get(0);
  }

  /**
   * What the client is told of every path refusal, whatever the reason (see the class comment): the
   * same SSH_FX_PERMISSION_DENIED and message for a denied name, a denied real location, and a path
   * the target cannot place. The reason and the rule are in the audit record.
   */
  static final String DENIED =
      "gatehouse: denied by the file policy (the reason is in the gateway's audit log)";

  /** A refusal the policy was not asked about: recorded as its refusals are, then answered. */
  private void refuse(SftpPacket reply, int id, String op, String path, String reason)
      throws IOException {
    recordRefusal(op, path, reason);
    status(reply, id, FX_PERMISSION_DENIED, DENIED);
  }

  private void recordRefusal(String op, String path, String reason) {
    try {
      policy.refused(op, path, reason);
    } catch (RuntimeException e) {
      log.warn("SFTP refusal of {} could not be recorded", op, e);
    }
  }

  /** Asks the policy; on denial answers the client and returns true. Fails closed. */
  private boolean deny(SftpPacket reply, int id, String op, String path) throws IOException {
    if (path == null) {
      // Not the policy's to decide, so not recorded by it: recorded here, as its refusals are.
      String name = refusedName == null ? "" : refusedName;
      refuse(reply, id, op, name, "file name is not UTF-8 or contains NUL");
      return true;
    }
    String reason = ask(policy, "SFTP", op, path);
    if (reason == null) return false;
    // The policy recorded its decision (rule and reason); the client gets what every refusal gets.
    log.debug("SFTP {} {} denied: {}", op, path, reason);
    status(reply, id, FX_PERMISSION_DENIED, DENIED);
    return true;
  }

  /**
   * The policy's reason to deny {@code op} on {@code path}, or null; a policy that throws denies.
   */
  static String ask(PathPolicy policy, String protocol, String op, String path) {
    try {
      return policy.check(op, path);
    } catch (RuntimeException e) {
      log.warn("{} policy check failed for {} {}", protocol, op, path, e);
      return "policy error";
    }
  }

  private void status(SftpPacket reply, int id, int code, String message) throws IOException {
    reply.start(STATUS).putInt(id).putInt(code).putString(message).putString("").finish();
    synchronized (toClient) {
      reply.writeTo(toClient);
      toClient.flush();
    }
  }

  private void serverPump() {
    try {
      SftpPacket p = new SftpPacket();
      try {
        negotiate(p);
      } finally {
        negotiated.countDown();
      }
      while (p.read(fromServer)) {
        reply(p);
        synchronized (toClient) {
          p.writeTo(toClient);
          if (fromServer.available() == 0) toClient.flush();
        }
      }
    } catch (IOException | RuntimeException e) {
      fail(e);
    } finally {
      closeQuietly(toClient);
      // Unblocks the client pump when the server went away first.
      closing = true;
      settle(null);
      closeQuietly(fromClient);
    }
  }

  /**
   * Reads the server's VERSION, keeps only the extensions in {@link #EXTENSIONS}, learns the
   * working directory with REALPATH("."), then lets the client go on (section 4: the client sends
   * nothing before VERSION, so id {@value #CWD_REQUEST_ID} cannot clash).
   */
  private void negotiate(SftpPacket p) throws IOException {
    if (!p.read(fromServer)) return;
    if (p.type() != VERSION) throw new ProtocolException("SFTP server did not answer VERSION");
    int version = p.nextInt();
    if (version != 3) {
      // The relay parses version 3 packets only; others differ in OPEN, STATUS and attrs.
      throw new ProtocolException("SFTP server speaks version " + version + ", relay needs 3");
    }
    SftpPacket out = new SftpPacket();
    out.start(VERSION).putInt(version);
    while (p.pos < p.wireLength()) {
      int n = p.nextString();
      int nl = p.last;
      int d = p.nextString();
      String name = new String(p.buf, n, nl, StandardCharsets.UTF_8);
      if (EXTENSIONS.contains(name)) out.putBytes(p.buf, n, nl).putBytes(p.buf, d, p.last);
    }
    out.finish();

    SftpPacket q = new SftpPacket();
    q.start(REALPATH).putInt(CWD_REQUEST_ID).putString(".").finish();
    synchronized (toServer) {
      q.writeTo(toServer);
      toServer.flush();
    }
    if (!q.read(fromServer)) return;
    if (q.nextInt() != CWD_REQUEST_ID) {
      throw new ProtocolException("SFTP server answered a request nobody sent");
    }
    if (q.type() == NAME && q.nextInt() >= 1) {
      String dir = q.nextPath();
      if (dir != null && dir.startsWith("/")) cwd = normalize(null, dir);
    }
    if (cwd == null) log.info("SFTP server did not resolve \".\"; relative paths stay relative");
    serverReady = true;
    synchronized (toClient) {
      out.writeTo(toClient);
      toClient.flush();
    }
  }

  /** Looks at a server reply before it is forwarded. */
  private void reply(SftpPacket p) throws IOException {
    int type = p.type();
    if (type == VERSION) throw new ProtocolException("SFTP VERSION sent twice");
    int id = p.nextInt();
    inFlight.remove(id);
    settle(id);
    Pending req = pending.remove(id);
    if (req == null) return;
    switch (req.kind) {
      case OPEN -> {
        if (type == HANDLE) files.put(p.nextHandle(), new OpenFile(req.path, req.op));
      }
      case READ -> {
        if (type == DATA) {
          int start = p.nextString();
          req.file.read(req.offset, p.buf, start, p.last);
        }
      }
      case CLOSE -> req.file.record();
      case RECORD -> {
        if (type == STATUS && p.nextInt() == FX_OK) recorder.file(req.op, req.path, 0, null);
      }
    }
  }

  /** Files whose handles were never closed still moved data: record what passed. */
  private void recordLeftovers() {
    List<OpenFile> left = new ArrayList<>(files.values());
    for (Pending p : pending.values()) {
      if (p.kind == Kind.CLOSE) left.add(p.file); // closing, but the reply never came
    }
    pending.clear();
    for (OpenFile f : left) {
      try {
        f.record();
      } catch (RuntimeException e) {
        log.warn("SFTP recording of {} failed", f.path, e);
      }
    }
    files.clear();
  }

  private void fail(Exception e) {
    if (closing && !(e instanceof ProtocolException)) return;
    IOException io = e instanceof IOException i ? i : new IOException(e.toString(), e);
    if (failure.compareAndSet(null, io)) {
      if (e instanceof ProtocolException) log.info("SFTP relay closed: {}", e.getMessage());
      else log.debug("SFTP relay ended", e);
    }
    if (e instanceof ProtocolException || e instanceof RuntimeException) {
      // Clean close of both sides: a peer that breaks framing cannot be resynchronized.
      closing = true;
      closeQuietly(toServer);
      closeQuietly(toClient);
      closeQuietly(fromClient);
    }
  }

  private void join(Thread t) {
    try {
      t.join(DRAIN_MILLIS);
      if (t.isAlive()) {
        closing = true;
        closeQuietly(fromServer);
        t.join(DRAIN_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException | RuntimeException ignored) {
      // already closed or broken; nothing left to release
    }
  }

  /**
   * Lexical normalization: resolves {@code raw} against {@code base} (when relative and base is
   * known), drops empty and "." segments and applies ".." ("/.." stays "/"). A relative result
   * keeps leading ".." segments, so it cannot be mistaken for a path under an absolute prefix.
   */
  static String normalize(String base, String raw) {
    if (raw == null) return null;
    String p = raw;
    if (!p.startsWith("/") && base != null) p = base + "/" + p;
    boolean abs = p.startsWith("/");
    Deque<String> parts = new ArrayDeque<>();
    for (String s : p.split("/")) {
      if (s.isEmpty() || s.equals(".")) continue;
      if (s.equals("..")) {
        if (!parts.isEmpty() && !parts.peekLast().equals("..")) parts.removeLast();
        else if (!abs) parts.addLast("..");
      } else {
        parts.addLast(s);
      }
    }
    String joined = String.join("/", parts);
    if (abs) return "/" + joined;
    return joined.isEmpty() ? "." : joined;
  }

  static String parent(String path) {
    int i = path.lastIndexOf('/');
    if (i < 0) return ".";
    return i == 0 ? "/" : path.substring(0, i);
  }

  private enum Kind {
    OPEN,
    READ,
    CLOSE,
    RECORD
  }

  /** A request awaiting its reply; READ and CLOSE hold the file itself, not its reusable handle. */
  private record Pending(Kind kind, String op, String path, OpenFile file, long offset) {
    static Pending open(String path, String op) {
      return new Pending(Kind.OPEN, op, path, null, 0);
    }

    static Pending file(Kind kind, OpenFile file, long offset) {
      return new Pending(kind, null, null, file, offset);
    }

    static Pending record(String op, String path) {
      return new Pending(Kind.RECORD, op, path, null, 0);
    }
  }

  /** One open file: what went each way, and the hash while offsets stay sequential. */
  private final class OpenFile {
    final String path;
    final String op;
    final Stream writes = new Stream();
    final Stream reads = new Stream();

    OpenFile(String path, String op) {
      this.path = path;
      this.op = op;
    }

    synchronized void wrote(long offset, byte[] b, int off, int len) {
      writes.add(offset, b, off, len);
    }

    synchronized void read(long offset, byte[] b, int off, int len) {
      reads.add(offset, b, off, len);
    }

    synchronized void unhashable() {
      writes.digest = null;
      reads.digest = null;
    }

    synchronized void record() {
      if (op.equals("list")) return;
      List<Runnable> calls = new ArrayList<>(2);
      if (op.equals("write")) {
        calls.add(() -> recorder.file("write", path, writes.bytes, writes.hex()));
        // A handle opened read-write may also have been read from.
        if (reads.bytes > 0) calls.add(() -> recorder.file("read", path, reads.bytes, reads.hex()));
      } else {
        calls.add(() -> recorder.file("read", path, reads.bytes, reads.hex()));
      }
      calls.forEach(Runnable::run);
    }
  }

  private static final class Stream {
    long bytes;
    long next;
    MessageDigest digest = sha256();

    void add(long offset, byte[] b, int off, int len) {
      bytes += len;
      if (digest == null) return;
      if (offset != next) {
        digest = null; // not sequential (section 6.4 allows any offset): no hash
        return;
      }
      digest.update(b, off, len);
      next += len;
    }

    String hex() {
      return digest == null ? null : HexFormat.of().formatHex(digest.digest());
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }
}
