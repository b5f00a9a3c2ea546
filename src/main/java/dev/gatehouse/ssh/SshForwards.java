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
 * section 7.1) and whether agent forwarding ({@code ssh -A}) was allowed on it. Both live on the
 * upstream session the connection holds ({@link SshConnection#upstreamWithState}), which is
 * therefore closed, never pooled, when the connection ends; the recorded actions are completed then
 * with their connection and byte counts.
 */
final class SshForwards {
  private static final Logger log = LoggerFactory.getLogger(SshForwards.class);

  /** One remote forward: the listener on the target and the decision that allowed it. */
  static final class Remote {
    final String address; // as the client asked: it expects it back in forwarded-tcpip
    final int port; // as bound on the target (allocated when the client asked for 0)
    final ClientSession upstream;
    final AuthorizedAction authorized;
    private int connections; // guarded by this
    private long bytes; // guarded by this

    Remote(String address, int port, ClientSession upstream, AuthorizedAction authorized) {
      this.address = address;
      this.port = port;
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
  private final Map<Integer, Remote> remotes = new HashMap<>(); // by bound port; guarded by this
  private final Channels agent = new Channels("agent", "agent"); // guarded by this
  private final Channels x11 = new Channels("x11", "X11"); // guarded by this
  private ExecutorService requests; // guarded by this
  private int pending; // forwarding requests not answered yet; guarded by this
  private boolean closed; // guarded by this

  SshForwards(SshConnection conn) {
    this.conn = conn;
  }

  /**
   * A {@code tcpip-forward} or {@code cancel-tcpip-forward} global request from the client.
   * Deciding and asking the target may block, so they run off the I/O thread, one at a time:
   * replies to global requests go in the order of the requests (RFC 4254 section 4).
   */
  void globalRequest(String request, String address, int port, boolean wantReply) {
    Runnable work =
        () -> {
          try {
            int bound =
                "tcpip-forward".equals(request) ? listen(address, port) : cancel(address, port);
            reply(wantReply, bound, port == 0 && "tcpip-forward".equals(request));
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
   * asks the target for the same listener. Returns the port bound on the target, or -1.
   */
  private int listen(String address, int port) {
    GateSession gate = conn.gate();
    String raw = "remote " + address + ":" + port;
    Action action =
        new Action(
            ActionKind.FORWARD,
            raw,
            Map.of(
                Action.Attr.FORWARD_TYPE,
                "remote",
                Action.Attr.FORWARD_HOST,
                address,
                Action.Attr.FORWARD_PORT,
                (long) port));
    AuthorizedAction authorized;
    try {
      authorized = SshForwarding.authorize(gate, action, "remote", raw);
    } catch (GateException e) {
      return -1;
    }
    int bound;
    ClientSession up;
    try {
      up = conn.upstreamWithState().session();
      Buffer b = up.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST, address.length() + 32);
      b.putString("tcpip-forward");
      b.putBoolean(true);
      b.putString(address);
      b.putUInt(port);
      Buffer r = up.request("tcpip-forward", b, SshUpstream.CONNECT_TIMEOUT);
      if (r == null) {
        gate.completed(authorized, false, "the target refused the forward", 0);
        return -1;
      }
      bound = port == 0 && r.available() >= Integer.BYTES ? (int) r.getUInt() : port;
    } catch (GateException | IOException | RuntimeException e) {
      log.warn("remote forward through the target failed: {}", e.toString());
      gate.completed(authorized, false, "the target refused the forward", 0);
      return -1;
    }
    Remote old;
    synchronized (this) {
      if (closed) {
        // The connection ended while the target answered; its session is closed with it.
        gate.completed(authorized, false, "the session ended", 0);
        return -1;
      }
      old = remotes.put(bound, new Remote(address, bound, up, authorized));
    }
    if (old != null) {
      gate.completed(old.authorized, true, old.summary("replaced"), old.bytes());
    }
    return bound;
  }

  /**
   * Ends a remote forward of this connection ({@code cancel-tcpip-forward}): not decided, giving up
   * a permission is always allowed. Returns the port, or -1 when there is no such forward.
   */
  private int cancel(String address, int port) {
    Remote r;
    synchronized (this) {
      r = remotes.get(port);
      if (r == null || !r.address.equals(address)) {
        return -1;
      }
      remotes.remove(port);
    }
    boolean ok = false;
    try {
      Buffer b =
          r.upstream.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST, address.length() + 32);
      b.putString("cancel-tcpip-forward");
      b.putBoolean(true);
      b.putString(r.address);
      b.putUInt(r.port);
      ok = r.upstream.request("cancel-tcpip-forward", b, SshUpstream.CONNECT_TIMEOUT) != null;
    } catch (IOException | RuntimeException e) {
      log.debug("cancel-tcpip-forward on the target failed: {}", e.toString());
    }
    conn.gate().completed(r.authorized, true, r.summary("cancelled"), r.bytes());
    return ok ? port : -1;
  }

  /**
   * The remote forward a {@code forwarded-tcpip} channel from {@code upstream} belongs to, or null:
   * the target may only open connections for listeners this connection asked for.
   */
  synchronized Remote remote(ClientSession upstream, int port) {
    Remote r = remotes.get(port);
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
      gate.completed(r.authorized, true, r.summary("session ended"), r.bytes());
    }
    outcomes.forEach(Runnable::run);
  }
}
