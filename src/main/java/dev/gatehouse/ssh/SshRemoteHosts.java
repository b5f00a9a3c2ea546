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
 * ssh connections as exec runners: each run logs in with {@link SshUpstream#connect} (the pinned
 * host key check and vault credentials of the relay, unchanged) and runs its steps in exec
 * channels. A session per run, not pooled: a run lasts long compared to a login, and its cleanup
 * must not share a session with another caller's command.
 */
final class SshRemoteHosts implements RemoteHosts {
  private static final Logger log = LoggerFactory.getLogger(SshRemoteHosts.class);

  private final Function<String, ConnectionConfig> connections;
  private final Function<String, Map<String, String>> credentials;
  private SshClient client;
  private boolean closed;

  SshRemoteHosts(
      Function<String, ConnectionConfig> connections,
      Function<String, Map<String, String>> credentials) {
    this.connections = connections;
    this.credentials = credentials;
  }

  /** The client, started at the first run (a gateway without runners never starts one). */
  private synchronized SshClient client() {
    if (closed) {
      throw new IllegalStateException("the gateway is shutting down");
    }
    if (client == null) {
      client = SshUpstream.newClient();
    }
    return client;
  }

  @Override
  public Host open(String name, GateSession session) throws GateException {
    ConnectionConfig conn = connections.apply(name);
    if (conn == null || !"ssh".equals(conn.type())) {
      throw new GateException(
          GateException.Reason.UNAVAILABLE,
          "runner \"" + name + "\" is not an ssh connection of this gateway");
    }
    SshUpstream up =
        SshUpstream.connect(
            client(),
            conn,
            () -> {
              try {
                return credentials.apply(name);
              } catch (RuntimeException e) {
                log.error("cannot open credentials for {}", name, e);
                throw new GateException(
                    GateException.Reason.UNAVAILABLE,
                    "the gateway cannot open the credentials of runner \"" + name + "\"");
              }
            },
            session::audit);
    return new SshHost(up);
  }

  @Override
  public void close() {
    SshClient c;
    synchronized (this) {
      closed = true;
      c = client;
    }
    if (c != null) {
      c.stop();
    }
  }

  private record SshHost(SshUpstream up) implements Host {
    @Override
    public Command start(String command) throws IOException {
      ChannelExec ch = up.session().createExecChannel(command);
      try {
        ch.open().verify(SshUpstream.CONNECT_TIMEOUT);
      } catch (IOException | RuntimeException e) {
        ch.close(true);
        throw new IOException("the runner refused the channel: " + e.getMessage(), e);
      }
      return new SshCommand(ch);
    }

    @Override
    public List<String> secrets() {
      return up.secrets();
    }

    @Override
    public void close() {
      up.close();
    }
  }

  private record SshCommand(ChannelExec ch) implements Command {
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
      ch.close(true);
    }
  }
}
