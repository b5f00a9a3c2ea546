package dev.gatehouse.ssh;

import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forwarding state of one client connection: its remote forwards ({@code ssh -R}, RFC 4254
 * section 7.1, on a port, or OpenSSH's streamlocal, PROTOCOL section 2.4, on a socket) and whether
 * agent forwarding ({@code ssh -A}) was allowed on it. Both live on the upstream session the
 * connection holds ({@link SshConnection#upstreamWithState}), which is therefore closed, never
 * pooled, when the connection ends; the recorded actions are completed then with their connection
 * and byte counts.
 */
final class SshForwards {
  private static final Logger log = LoggerFactory.getLogger(SshForwards.class);

  /**
   * Where a remote forward listens on the target: a TCP address and port ({@code tcpip-forward},
   * RFC 4254 section 7.1), or a Unix socket path ({@code streamlocal-forward@openssh.com}, OpenSSH
   * PROTOCOL section 2.4; then {@code address} is null and {@code port} 0).
   */
  record Listen(String address, int port, String path) {
    static Listen tcp(String address, int port) {
      return new Listen(address, port, null);
    }

    static Listen socket(String path) {
      return new Listen(null, 0, path);
    }

    boolean isSocket() {
      return path != null;
    }

    /** The same listener on the port the target bound. */
    Listen bound(int p) {
      return new Listen(address, p, path);
    }

    /**
     * What identifies the listener among one session's: the bound port (a target binds a port once,
     * whatever the address), or the socket path.
     */
    String key() {
      return isSocket() ? "unix:" + path : "tcp:" + port;
    }

    /** The global request that asks for (or cancels) this listener. */
    String request(boolean cancel) {
      String r = isSocket() ? SshForwarding.STREAMLOCAL_FORWARD : "tcpip-forward";
      return cancel ? "cancel-" + r : r;
    }

    /** The {@code forward} action of type {@code remote} that decides it. */
    Action action() {
      return isSocket()
          ? SshForwarding.socketAction("remote", path)
          : SshForwarding.action("remote", address, port);
    }

    /** The global request on the target's session, want-reply set. */
    Buffer write(ClientSession up, boolean cancel) {
      String name = request(cancel);
      String where = isSocket() ? path : address;
      Buffer b = up.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST, where.length() + 64);
      b.putString(name);
      b.putBoolean(true);
      b.putString(where);
      if (!isSocket()) {
        b.putUInt(port);
      }
      return b;
    }

    /**
     * As audited: {@code ADDRESS:PORT} or {@code unix:PATH} (cut, {@link
     * SshForwarding#auditedPath}).
     */
    @Override
    public String toString() {
      return isSocket() ? "unix:" + SshForwarding.auditedPath(path) : address + ":" + port;
    }
  }

  /** One remote forward: the listener on the target and the decision that allowed it. */
  static final class Remote {
    // As the client asked (it expects the address or path back in forwarded-tcpip or
    // forwarded-streamlocal), with the port bound on the target (allocated when the client asked
    // for 0).
    final Listen listen;
    final ClientSession upstream;
    final AuthorizedAction authorized;

    /** False while the target has not answered the request (registered early, see listen). */
    volatile boolean confirmed = true;

    private int connections; // guarded by this
    private long bytes; // guarded by this

    Remote(Listen listen, ClientSession upstream, AuthorizedAction authorized) {
      this.listen = listen;
      this.upstream = upstream;
      this.authorized = authorized;
    }

    /** A connection to the listener is being relayed to the client. */
    synchronized void opened() {
      connections++;
    }

    /** A relayed connection ended after {@code n} bytes. */
    synchronized void relayed(long n) {
      bytes += n;
    }

    synchronized String summary(String how) {
      return how + " after " + connections + " connection" + (connections == 1 ? "" : "s");
    }

    synchronized long bytes() {
      return bytes;
    }
  }

  private final SshConnection conn;
  private final Map<String, Remote> remotes = new HashMap<>(); // by Listen.key(); guarded by this
  private final Channels agent = new Channels("agent", "agent"); // guarded by this
  private final Channels x11 = new Channels("x11", "X11"); // guarded by this
  private ExecutorService requests; // guarded by this
  private int pending; // forwarding requests not answered yet; guarded by this
  private boolean closed; // guarded by this

  SshForwards(SshConnection conn) {
    this.conn = conn;
  }

  /**
   * A {@code tcpip-forward} or {@code streamlocal-forward@openssh.com} global request from the
   * client, or its {@code cancel-}. Deciding and asking the target may block, so they run off the
   * I/O thread, one at a time: replies to global requests go in the order of the requests (RFC 4254
   * section 4).
   */
  void globalRequest(Listen listen, boolean cancel, boolean wantReply) {
    Runnable work =
        () -> {
          try {
            int bound = cancel ? cancel(listen) : listen(listen);
            // Only a tcpip-forward for port 0 gets the port back (a socket's reply is empty).
            reply(wantReply, bound, !cancel && !listen.isSocket() && listen.port() == 0);
          } finally {
            synchronized (this) {
              pending--;
            }
          }
        };
    synchronized (this) {
      if (!closed) {
        if (requests == null) {
          requests =
              Executors.newSingleThreadExecutor(Thread.ofVirtual().name("ssh-fwd").factory());
        }
        try {
          pending++;
          requests.execute(work);
          return;
        } catch (RejectedExecutionException e) {
          pending--; // closing: fall through to the refusal
        }
      }
    }
    reply(wantReply, -1, false);
  }

  /**
   * Another global request that wants a reply (a client keepalive) while forwarding requests are
   * still unanswered: answered with SSH_MSG_REQUEST_FAILURE, as OpenSSH's sshd answers requests it
   * does not know, after them, so that the client pairs every reply with its request (RFC 4254
   * section 4). False when nothing is pending: the request is handled as usual.
   */
  synchronized boolean replyInOrder() {
    if (closed || pending == 0) {
      return false;
    }
    try {
      requests.execute(() -> reply(true, -1, false));
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  /**
   * SSH_MSG_REQUEST_SUCCESS, with the bound port when the client asked for port 0 (RFC 4254 section
   * 7.1), or SSH_MSG_REQUEST_FAILURE when {@code bound} is negative.
   */
  private void reply(boolean wantReply, int bound, boolean withPort) {
    if (!wantReply) {
      return;
    }
    ServerSession s = conn.ssh();
    try {
      Buffer b =
          s.createBuffer(
              bound < 0
                  ? SshConstants.SSH_MSG_REQUEST_FAILURE
                  : SshConstants.SSH_MSG_REQUEST_SUCCESS,
              Integer.BYTES);
      if (bound >= 0 && withPort) {
        b.putUInt(bound);
      }
      s.writePacket(b);
    } catch (IOException | RuntimeException e) {
      log.debug("cannot answer a forwarding request", e);
    }
  }

  /**
   * Decides a remote forward as a {@code forward} action of type {@code remote} and, when allowed,
   * asks the target for the same listener. Returns the port bound on the target (0 for a socket),
   * or -1. A socket path the policy cannot judge is refused first ({@link
   * SshForwarding#socketPathProblem}).
   */
  private int listen(Listen listen) {
    GateSession gate = conn.gate();
    if (listen.isSocket()) {
      String problem = SshForwarding.socketPathProblem(listen.path());
      if (problem != null) {
        SshForwarding.refused(
            conn, "remote", "remote unix:" + SshForwarding.auditedPath(listen.path()), problem);
        return -1;
      }
    }
    Action action = listen.action();
    AuthorizedAction authorized;
    try {
      authorized = SshForwarding.authorize(gate, action, "remote", action.raw());
    } catch (GateException e) {
      return -1;
    }
    int port = listen.port();
    int bound;
    ClientSession up;
    // A listener whose key is known before the target answers (a fixed port, a socket) is
    // registered first: the target accepts connections as soon as it has bound, and one that
    // arrived before the registration would be refused (the client saw a reset, not its data).
    // A forward that replaces one of this connection's own keeps the old one until the target
    // has answered, as before.
    boolean early = listen.isSocket() || port != 0;
    Remote registered = null;
    Remote old = null;
    try {
      up = conn.upstreamWithState().session();
      if (early) {
        synchronized (this) {
          if (closed) {
            gate.completed(authorized, false, "the session ended", 0);
            return -1;
          }
          if (remotes.containsKey(listen.key())) {
            early = false;
          } else {
            registered = new Remote(listen, up, authorized);
            registered.confirmed = false;
            remotes.put(listen.key(), registered);
          }
        }
      }
      Buffer r =
          up.request(listen.request(false), listen.write(up, false), SshUpstream.CONNECT_TIMEOUT);
      if (r == null) {
        if (unregister(listen, registered)) {
          gate.completed(authorized, false, "the target refused the forward", 0);
        }
        return -1;
      }
      bound =
          !listen.isSocket() && port == 0 && r.available() >= Integer.BYTES
              ? (int) r.getUInt()
              : port;
    } catch (GateException | IOException | RuntimeException e) {
      log.warn("remote forward through the target failed: {}", e.toString());
      if (unregister(listen, registered)) {
        gate.completed(authorized, false, "the target refused the forward", 0);
      }
      return -1;
    }
    if (registered != null) {
      registered.confirmed = true;
    }
    if (!early) {
      synchronized (this) {
        if (closed) {
          // The connection ended while the target answered; its session is closed with it.
          gate.completed(authorized, false, "the session ended", 0);
          return -1;
        }
        Remote added = new Remote(listen.bound(bound), up, authorized);
        old = remotes.put(added.listen.key(), added);
      }
    }
    if (old != null) {
      gate.completed(old.authorized, true, old.summary("replaced"), old.bytes());
    }
    return bound;
  }

  /**
   * Takes back an early registration whose request failed. Returns whether the caller still owns
   * the decision's outcome: false when {@link #close} took the registration meanwhile and recorded
   * the outcome itself (as not confirmed).
   */
  private synchronized boolean unregister(Listen listen, Remote registered) {
    if (registered == null) {
      return true;
    }
    if (remotes.get(listen.key()) != registered) {
      return false;
    }
    remotes.remove(listen.key());
    return true;
  }

  /**
   * Ends a remote forward of this connection ({@code cancel-tcpip-forward}, {@code
   * cancel-streamlocal-forward@openssh.com}): not decided, giving up a permission is always
   * allowed. Returns the port (0 for a socket), or -1 when there is no such forward.
   */
  private int cancel(Listen listen) {
    Remote r;
    synchronized (this) {
      r = remotes.get(listen.key());
      if (r == null || !Objects.equals(r.listen.address(), listen.address())) {
        return -1;
      }
      remotes.remove(listen.key());
    }
    boolean ok = false;
    String request = listen.request(true);
    try {
      ok =
          r.upstream.request(request, r.listen.write(r.upstream, true), SshUpstream.CONNECT_TIMEOUT)
              != null;
    } catch (IOException | RuntimeException e) {
      log.debug("{} on the target failed: {}", request, e.toString());
    }
    conn.gate().completed(r.authorized, true, r.summary("cancelled"), r.bytes());
    return ok ? listen.port() : -1;
  }

  /**
   * The remote forward a {@code forwarded-tcpip} or {@code forwarded-streamlocal@openssh.com}
   * channel from {@code upstream} belongs to ({@code at}: its bound port or socket path), or null:
   * the target may only open connections for listeners this connection asked for.
   */
  synchronized Remote remote(ClientSession upstream, Listen at) {
    Remote r = remotes.get(at.key());
    return r != null && r.upstream == upstream ? r : null;
  }

  /**
   * A forwarding whose channels the target opens back towards the client (agent, X11): its grants
   * (one per allowed request), and the connections and bytes relayed, for the outcome record.
   */
  private static final class Channels {
    final String type;
    final String noun;
    final List<AuthorizedAction> grants = new ArrayList<>();
    int connections;
    long bytes;

    Channels(String type, String noun) {
      this.type = type;
      this.noun = noun;
    }

    String summary() {
      return "session ended after "
          + connections
          + " "
          + noun
          + " connection"
          + (connections == 1 ? "" : "s");
    }
  }

  /**
   * A channel request for {@code c}'s forwarding, decided as a {@code forward} action of its type.
   * True when allowed: the caller then asks the target for the same on the channel's upstream twin,
   * and the target's channels come back to the client ({@link SshAgentChannel}, {@link
   * SshX11Channel}).
   */
  private boolean requested(Channels c, String request) {
    GateSession gate = conn.gate();
    Action action =
        new Action(ActionKind.FORWARD, c.type, Map.of(Action.Attr.FORWARD_TYPE, c.type));
    AuthorizedAction authorized;
    try {
      authorized = SshForwarding.authorize(gate, action, c.type, request);
    } catch (GateException e) {
      return false;
    }
    synchronized (this) {
      if (!closed) {
        c.grants.add(authorized);
        return true;
      }
    }
    gate.completed(authorized, false, "the session ended", 0);
    return false;
  }

  /** An {@code auth-agent-req@openssh.com} channel request (OpenSSH PROTOCOL.agent). */
  boolean agentRequested(String request) {
    return requested(agent, request);
  }

  /** True when agent forwarding was allowed on this connection: a target's agent channel opens. */
  synchronized boolean agentAllowed() {
    return !closed && !agent.grants.isEmpty();
  }

  synchronized void agentRelayed(long bytes) {
    agent.connections++;
    agent.bytes += bytes;
  }

  /** An {@code x11-req} channel request (RFC 4254 section 6.3.1). */
  boolean x11Requested(String request) {
    return requested(x11, request);
  }

  /** True when X11 forwarding was allowed on this connection: a target's x11 channel opens. */
  synchronized boolean x11Allowed() {
    return !closed && !x11.grants.isEmpty();
  }

  synchronized void x11Relayed(long bytes) {
    x11.connections++;
    x11.bytes += bytes;
  }

  /** The connection ended: its forwards end with the upstream session; their outcomes recorded. */
  void close() {
    List<Remote> rs;
    List<Runnable> outcomes = new ArrayList<>();
    GateSession gate = conn.gate();
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      rs = new ArrayList<>(remotes.values());
      remotes.clear();
      for (Channels c : List.of(agent, x11)) {
        String summary = c.summary();
        long total = c.bytes;
        for (AuthorizedAction a : c.grants) {
          outcomes.add(() -> gate.completed(a, true, summary, total));
        }
        c.grants.clear();
      }
      if (requests != null) {
        requests.shutdownNow();
      }
    }
    for (Remote r : rs) {
      if (r.confirmed) {
        gate.completed(r.authorized, true, r.summary("session ended"), r.bytes());
      } else {
        gate.completed(r.authorized, false, "the session ended before the target answered", 0);
      }
    }
    outcomes.forEach(Runnable::run);
  }
}
