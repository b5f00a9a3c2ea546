package dev.gatehouse.ssh;

import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.masking.StreamMasker;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated client connection: its gate session (opened at login) and, for {@code ssh}
 * connections, the upstream session to the target (opened on the first channel that needs it).
 * Stored on the MINA session; ended when either side closes or the gate ends the session.
 */
final class SshConnection {
  private static final Logger log = LoggerFactory.getLogger(SshConnection.class);

  static final AttributeRepository.AttributeKey<SshConnection> KEY =
      new AttributeRepository.AttributeKey<>();

  private final SshProtocolServer server;
  private final ServerSession ssh;
  private final GateSession gate;
  private final String type;
  private final SshForwards forwards = new SshForwards(this);
  private SshUpstreamPool.Pooled upstream;
  private boolean stateful; // the upstream carries session-wide state: never pool it
  private boolean closed;

  SshConnection(SshProtocolServer server, ServerSession ssh, GateSession gate, String type) {
    this.server = server;
    this.ssh = ssh;
    this.gate = gate;
    this.type = type;
    // Revocation, expiry or the end of the session's maximum duration end the SSH connection at
    // once; the client sees the reason in the disconnect message (RFC 4253 section 11.1).
    // The hook runs on the gate's single sweeper thread: never block it on this connection.
    gate.onTerminate(
        () ->
            Thread.ofVirtual()
                .name("ssh-terminate")
                .start(() -> disconnect("session ended: " + gate.endedBecause())));
  }

  static SshConnection of(ServerSession s) {
    return s == null ? null : s.getAttribute(KEY);
  }

  GateSession gate() {
    return gate;
  }

  SshProtocolServer server() {
    return server;
  }

  ServerSession ssh() {
    return ssh;
  }

  /** {@code ssh} or {@code exec}: the type of the connection logged in to. */
  String type() {
    return type;
  }

  /**
   * The upstream session, leased from the server's {@link SshUpstreamPool} on first use (a healthy
   * idle session of the same connection and credential, else a new one) and held until the client
   * connection ends.
   */
  synchronized SshUpstream upstream() throws GateException {
    if (closed) {
      throw new GateException(GateException.Reason.SESSION_ENDED, "the session has ended");
    }
    if (upstream != null && !upstream.up.isOpen()) {
      upstream.up.session().removeAttribute(SshForwarding.OWNER);
      server.pool().release(upstream, false);
      upstream = null;
    }
    if (upstream == null) {
      upstream = server.pool().acquire(gate);
      // Channels the target opens on this session (forwarded-tcpip, agent) belong to this
      // connection, and only while it holds the lease.
      upstream.up.session().setAttribute(SshForwarding.OWNER, this);
    }
    return upstream.up;
  }

  /**
   * The upstream session, about to carry session-wide state (a remote forward's listener, agent
   * forwarding): it is closed when this connection ends, never leased to another one.
   */
  synchronized SshUpstream upstreamWithState() throws GateException {
    SshUpstream up = upstream();
    stateful = true;
    return up;
  }

  /** Remote forwards and agent forwarding of this connection. */
  SshForwards forwards() {
    return forwards;
  }

  /**
   * Appends already masked terminal data to the session's recording, unless the session's {@code
   * recording} obligation is {@code metadata} (decisions and outcomes only, no stream).
   */
  void record(char direction, byte[] masked) {
    if (!"metadata".equals(gate.obligations().recording())) {
      gate.recordStream(direction, masked);
    }
  }

  /** A masker for one output stream of one channel, with the session's profile. */
  StreamMasker masker() {
    List<String> secrets = new ArrayList<>();
    synchronized (this) {
      if (upstream != null) {
        secrets.addAll(upstream.up.secrets());
      }
    }
    return server.masker(gate, secrets);
  }

  void disconnect(String reason) {
    try {
      ssh.disconnect(SshConstants.SSH2_DISCONNECT_BY_APPLICATION, "gatehouse: " + reason);
    } catch (IOException | RuntimeException e) {
      log.debug("disconnect failed", e);
      ssh.close(true);
    }
  }

  /** Called when the client connection has closed. */
  void closed() {
    SshUpstreamPool.Pooled u;
    boolean reusable;
    synchronized (this) {
      closed = true;
      u = upstream;
      upstream = null;
      reusable = !stateful;
    }
    forwards.close();
    if (u != null) {
      u.up.session().removeAttribute(SshForwarding.OWNER);
      // Back to the pool only after a session that ended normally (not revoked or expired),
      // carried no forwarding state and left no channel open upstream; otherwise closed.
      server.pool().release(u, reusable && gate.endedBecause() == null);
    }
    gate.close();
  }
}
