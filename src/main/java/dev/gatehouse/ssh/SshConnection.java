package dev.gatehouse.ssh;

import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.masking.StreamMasker;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
    // Revocation, expiry, the end of the session's maximum duration, or a policy reload that no
    // longer grants its terms end the SSH connection at once; the client sees the reason in the
    // disconnect message (RFC 4253 section 11.1), which OpenSSH's ssh prints on stderr as
    // "Received disconnect from HOST port N:11: gatehouse: session ended: REASON" and exits 255.
    // The hook runs on the gate's single sweeper thread: never block it on this connection.
    gate.onTerminate(
        () ->
            Thread.ofVirtual()
                .name("ssh-terminate")
                .start(
                    () -> {
                      stopOnTarget();
                      disconnect("session ended: " + gate.endedBecause());
                    }));
  }

  /** Exec and shell channels open on the target for this connection ({@link #stopOnTarget}). */
  private final Set<SshTargetJob> onTarget = ConcurrentHashMap.newKeySet();

  /** Stops under way ({@link #stop}), which {@link #closed} waits for. */
  private final Set<CompletableFuture<String>> stopping = ConcurrentHashMap.newKeySet();

  /** How long the end of a session or connection waits for its commands to be stopped. */
  static final Duration SIGNAL_WRITE = SshTargetJob.STOP_WAIT.plusSeconds(1);

  /** {@code job} runs a command or shell on the target until {@link #offTarget}. */
  void onTarget(SshTargetJob job) {
    onTarget.add(job);
  }

  void offTarget(SshTargetJob job) {
    onTarget.remove(job);
  }

  /** Stops {@code job} on the target ({@link SshTargetJob#stop}); the connection waits for it. */
  CompletableFuture<String> stop(SshTargetJob job) {
    CompletableFuture<String> f = job.stop();
    if (!f.isDone()) {
      stopping.add(f);
      f.whenComplete((how, e) -> stopping.remove(f));
    }
    return f;
  }

  private void awaitStops() {
    CompletableFuture<?>[] all = stopping.toArray(new CompletableFuture<?>[0]);
    try {
      CompletableFuture.allOf(all).get(SIGNAL_WRITE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.debug("stopping commands on the target did not finish", e);
    }
  }

  /**
   * Stops what this connection runs on the target, before the session's channels and upstream
   * session are closed. Closing them alone does not stop a command: OpenSSH's sshd ends a session's
   * command only by hanging up its terminal, so a command without a PTY ({@code ssh host 'sleep
   * 600'}) would go on running on the target after the session was ended. {@link SshTargetJob#stop}
   * sends SIGTERM to the command's process group (a guarded command without a terminal, root logins
   * included), or a {@code signal} request (RFC 4254 section 6.9; sshd refuses it on root logins).
   * Waits at most {@link #SIGNAL_WRITE}.
   */
  void stopOnTarget() {
    for (SshTargetJob job : onTarget) {
      stop(job);
    }
    awaitStops();
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
    // Commands still running on the target are stopped (the client left: its channels may be
    // destroyed after this runs), on the upstream session, which is not closed (or leased to
    // another client) under them.
    for (SshTargetJob job : onTarget) {
      stop(job);
    }
    awaitStops();
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
