package dev.gatehouse.ssh;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.runner.RemoteHosts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ssh connections as exec runners: each run leases a session logged in with {@link
 * SshUpstream#connect} (the pinned host key check and vault credentials of the relay, unchanged)
 * from a pool of its own ({@link SshUpstreamPool}: one run at a time per session, returned only
 * with no channel left open, never after a channel had to be cut), and runs its steps in exec
 * channels on it. A run sends no session-wide request, so a session carries nothing from one run to
 * the next.
 */
final class SshRemoteHosts implements RemoteHosts {
  private static final Logger log = LoggerFactory.getLogger(SshRemoteHosts.class);

  private final Function<String, ConnectionConfig> connections;
  private final Function<String, Map<String, String>> credentials;
  private SshClient client;
  private SshUpstreamPool pool;
  private boolean closed;

  SshRemoteHosts(
      Function<String, ConnectionConfig> connections,
      Function<String, Map<String, String>> credentials) {
    this.connections = connections;
    this.credentials = credentials;
  }

  /** The pool, and its client, started at the first run (a gateway without runners has none). */
  private synchronized SshUpstreamPool pool() {
    if (closed) {
      throw new IllegalStateException("the gateway is shutting down");
    }
    if (pool == null) {
      client = SshUpstream.newClient();
      pool = new SshUpstreamPool(client);
    }
    return pool;
  }

  @Override
  public Host open(String name, GateSession session) throws GateException {
    ConnectionConfig conn = connections.apply(name);
    if (conn == null || !"ssh".equals(conn.type())) {
      throw new GateException(
          GateException.Reason.UNAVAILABLE,
          "runner \"" + name + "\" is not an ssh connection of this gateway");
    }
    Map<String, String> creds;
    try {
      creds = credentials.apply(name);
    } catch (RuntimeException e) {
      log.error("cannot open credentials for {}", name, e);
      throw new GateException(
          GateException.Reason.UNAVAILABLE,
          "the gateway cannot open the credentials of runner \"" + name + "\"");
    }
    SshUpstreamPool p = pool();
    return new SshHost(p, p.acquire(conn, creds, session::audit));
  }

  @Override
  public void close() {
    SshClient c;
    SshUpstreamPool p;
    synchronized (this) {
      closed = true;
      c = client;
      p = pool;
    }
    if (p != null) {
      p.close();
    }
    if (c != null) {
      c.stop();
    }
  }

  /** One leased session; back to the pool when the run is done, unless a channel was cut. */
  private static final class SshHost implements Host {
    /** How long a session may take to forget its closed channels before it is not reused. */
    static final java.time.Duration RELEASE_WAIT = java.time.Duration.ofSeconds(1);

    private final SshUpstreamPool pool;
    private final SshUpstreamPool.Pooled lease;
    private volatile boolean cut;
    private boolean released;

    SshHost(SshUpstreamPool pool, SshUpstreamPool.Pooled lease) {
      this.pool = pool;
      this.lease = lease;
    }

    @Override
    public Command start(String command) throws IOException {
      ChannelExec ch = lease.up.session().createExecChannel(command);
      try {
        ch.open().verify(SshUpstream.CONNECT_TIMEOUT);
      } catch (IOException | RuntimeException e) {
        cut = true;
        ch.close(true);
        throw new IOException("the runner refused the channel: " + e.getMessage(), e);
      }
      return new SshCommand(this, ch);
    }

    @Override
    public List<String> secrets() {
      return lease.up.secrets();
    }

    @Override
    public synchronized void close() {
      if (released) {
        return;
      }
      released = true;
      if (cut || SshUpstreamPool.noChannels(lease.up.session())) {
        pool.release(lease, !cut);
        return;
      }
      // A closed channel leaves the session's table a moment after its close completed; the pool
      // takes back only a session without channels. In the background: the run has ended.
      Thread.ofVirtual()
          .name("exec-runner-release")
          .start(
              () -> {
                long end = System.nanoTime() + RELEASE_WAIT.toNanos();
                while (!SshUpstreamPool.noChannels(lease.up.session()) && System.nanoTime() < end) {
                  try {
                    Thread.sleep(5);
                  } catch (InterruptedException e) {
                    break;
                  }
                }
                pool.release(lease, true);
              });
    }
  }

  private record SshCommand(SshHost host, ChannelExec ch) implements Command {
    private static final Set<ClientChannelEvent> ENDED =
        EnumSet.of(
            ClientChannelEvent.EXIT_STATUS,
            ClientChannelEvent.EXIT_SIGNAL,
            ClientChannelEvent.CLOSED);

    @Override
    public OutputStream stdin() {
      return ch.getInvertedIn();
    }

    @Override
    public InputStream stdout() {
      return ch.getInvertedOut();
    }

    @Override
    public InputStream stderr() {
      return ch.getInvertedErr();
    }

    @Override
    public boolean awaitExit(long millis) {
      return !java.util.Collections.disjoint(ch.waitFor(ENDED, Math.max(1, millis)), ENDED);
    }

    @Override
    public boolean awaitClosed(long millis) {
      return ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), Math.max(1, millis))
          .contains(ClientChannelEvent.CLOSED);
    }

    @Override
    public Integer exitStatus() {
      return ch.getExitStatus();
    }

    @Override
    public String exitSignal() {
      return ch.getExitSignal();
    }

    @Override
    public void close() {
      if (!ch.isClosing()) {
        host.cut = true; // closed before the target did: the session is not reused
      }
      ch.close(true);
    }
  }
}
