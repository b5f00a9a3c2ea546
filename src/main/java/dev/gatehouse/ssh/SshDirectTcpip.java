package dev.gatehouse.ssh;

import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelOutputStream;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.channel.AbstractServerChannel;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code direct-tcpip} channel (RFC 4254 section 7.2: {@code ssh -L}, {@code ssh -W}, and {@code
 * ssh -D}, whose SOCKS proxy runs in the client and opens the same channel), decided as a {@code
 * forward} action of type {@code local} and, when allowed, opened again on the target's session:
 * the TCP connection starts from the target, as it would without the gateway, never from the
 * gateway host. The bytes are relayed unchanged and not recorded; the decision and the byte count
 * are.
 *
 * <p>The gateway cannot tell {@code -L} from {@code -D}: both arrive as this channel, so a rule for
 * {@code dynamic} is not consulted (document it in the policy as {@code local}).
 */
final class SshDirectTcpip extends AbstractServerChannel {
  private static final Logger log = LoggerFactory.getLogger(SshDirectTcpip.class);

  static final ChannelFactory FACTORY =
      new ChannelFactory() {
        @Override
        public String getName() {
          return "direct-tcpip";
        }

        @Override
        public Channel createChannel(Session session) {
          return new SshDirectTcpip();
        }
      };

  private volatile ChannelDirectTcpip upstream;
  private volatile OutputStream toUpstream;
  private final AtomicLong bytes = new AtomicLong();

  private SshDirectTcpip() {
    super("direct-tcpip", List.of(), null);
  }

  @Override
  protected OpenFuture doInit(Buffer buffer) {
    DefaultOpenFuture future = new DefaultOpenFuture(this, null);
    String host = buffer.getString();
    int port = buffer.getInt();
    String originHost = buffer.getString();
    int originPort = buffer.getInt();
    SshConnection conn = SshConnection.of((ServerSession) getSession());
    // Deciding and connecting may block (durable record, upstream login): not on an I/O thread.
    Thread.ofVirtual()
        .name("ssh-direct-tcpip")
        .start(
            () -> {
              try {
                if (conn == null || !"ssh".equals(conn.type())) {
                  throw new GateException(
                      GateException.Reason.FORBIDDEN,
                      "port forwarding is only offered on ssh connections");
                }
                open(conn, new SshdSocketAddress(host, port), originHost, originPort, future);
              } catch (GateException e) {
                fail(future, "gatehouse: " + e.getMessage());
              } catch (IOException | RuntimeException e) {
                log.warn("direct-tcpip through the target failed: {}", e.toString());
                fail(future, "gatehouse: the target refused the forwarded connection");
              }
            });
    return future;
  }

  private void open(
      SshConnection conn,
      SshdSocketAddress target,
      String originHost,
      int originPort,
      DefaultOpenFuture future)
      throws GateException, IOException {
    GateSession gate = conn.gate();
    String raw = "local " + target.getHostName() + ":" + target.getPort();
    Action action =
        new Action(
            ActionKind.FORWARD,
            raw,
            Map.of(
                Action.Attr.FORWARD_TYPE,
                "local",
                "host",
                target.getHostName(),
                "port",
                (long) target.getPort()));
    AuthorizedAction authorized = gate.authorize(action, null);
    ChannelDirectTcpip ch;
    try {
      SshUpstream up = conn.upstream();
      ch =
          up.session()
              .createDirectTcpipChannel(new SshdSocketAddress(originHost, originPort), target);
      upstream = ch;
      ch.open().verify(SshUpstream.CONNECT_TIMEOUT);
    } catch (GateException | IOException e) {
      gate.completed(authorized, false, "the target refused the forwarded connection", 0);
      throw e;
    }
    toUpstream = ch.getInvertedIn();
    InputStream fromUpstream = ch.getInvertedOut();
    signalChannelOpenSuccess();
    future.setOpened();
    Thread.ofVirtual()
        .name("ssh-direct-tcpip-pump")
        .start(
            () -> {
              try (OutputStream toClient =
                  new ChannelOutputStream(
                      this, getRemoteWindow(), log, SshConstants.SSH_MSG_CHANNEL_DATA, true)) {
                byte[] buf = new byte[SshStreams.CHUNK];
                int n;
                while ((n = fromUpstream.read(buf)) >= 0) {
                  if (n > 0) {
                    toClient.write(buf, 0, n);
                    toClient.flush();
                    bytes.addAndGet(n);
                  }
                }
              } catch (IOException e) {
                log.debug("direct-tcpip relay ended: {}", e.toString());
              } finally {
                gate.completed(authorized, true, "closed", bytes.get());
                close(false);
              }
            });
  }

  private void fail(DefaultOpenFuture future, String message) {
    SshChannelOpenException e =
        new SshChannelOpenException(
            getChannelId(), SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, message);
    signalChannelOpenFailure(e);
    future.setException(e);
  }

  @Override
  protected void doWriteData(byte[] data, int off, long len) throws IOException {
    OutputStream to = toUpstream;
    if (to == null) {
      throw new IOException("direct-tcpip: the target channel is not open");
    }
    to.write(data, off, (int) len);
    to.flush();
    bytes.addAndGet(len);
    getLocalWindow().release(len);
  }

  @Override
  protected void doWriteExtendedData(byte[] data, int off, long len) throws IOException {
    throw new IOException("direct-tcpip carries no extended data");
  }

  @Override
  public void handleEof() throws IOException {
    super.handleEof();
    OutputStream to = toUpstream;
    if (to != null) {
      to.close();
    }
  }

  @Override
  protected void preClose() {
    ChannelDirectTcpip ch = upstream;
    if (ch != null) {
      ch.close(false);
    }
    super.preClose();
  }
}
