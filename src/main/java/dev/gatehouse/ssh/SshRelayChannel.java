package dev.gatehouse.ssh;

import dev.gatehouse.gate.GateException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.apache.sshd.client.channel.AbstractClientChannel;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.ChannelOutputStream;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.channel.AbstractServerChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A channel one peer opened (RFC 4254 section 5.1) that the gateway relays to a channel it opens on
 * the other leg once the gate allowed it: {@code direct-tcpip} from the client to the target
 * ({@link SshDirectTcpip}), {@code forwarded-tcpip} ({@link SshForwardedTcpip}) and {@code
 * auth-agent@openssh.com} ({@link SshAgentChannel}) from the target to the client. The open is
 * confirmed only when the other leg is open, so a refusal on either side reaches the opener as a
 * channel open failure and nothing else of the connection is affected. The bytes are relayed
 * unchanged and not recorded; the decision and the byte count are.
 */
abstract class SshRelayChannel extends AbstractServerChannel {
  private static final Logger log = LoggerFactory.getLogger(SshRelayChannel.class);

  /**
   * The other leg: a channel registered on the other session but not yet opened; {@code refused}
   * runs when it fails to open, {@code ended} with the byte count when the relay ends.
   */
  record Leg(AbstractClientChannel channel, Runnable refused, LongConsumer ended) {}

  /** Decides and prepares the other leg; runs on a virtual thread, so it may block. */
  interface Opener {
    Leg open() throws GateException, IOException;
  }

  /** The factory MINA uses to create a relay channel of {@code type} on a session. */
  static org.apache.sshd.common.channel.ChannelFactory factory(
      String type, java.util.function.Supplier<SshRelayChannel> create) {
    return new org.apache.sshd.common.channel.ChannelFactory() {
      @Override
      public String getName() {
        return type;
      }

      @Override
      public org.apache.sshd.common.channel.Channel createChannel(
          org.apache.sshd.common.session.Session session) {
        return create.get();
      }
    };
  }

  /**
   * A channel the target opened for a forwarding the client connection {@code conn} (if known) was
   * not allowed: audited as {@code ssh.forward_refused}; the returned exception refuses the open.
   */
  static GateException refusedForward(
      SshConnection conn, String forward, String channelType, String reason) {
    if (conn != null) {
      SshForwarding.audit(
          conn.gate(),
          "ssh.forward_refused",
          java.util.Map.of("forward", forward, "request", channelType, "reason", reason));
    }
    return new GateException(GateException.Reason.FORBIDDEN, reason);
  }

  private final String type;
  private volatile AbstractClientChannel other;
  private volatile OutputStream toOther;
  private final AtomicLong bytes = new AtomicLong();

  SshRelayChannel(String type) {
    super(type, List.of(), null);
    this.type = type;
  }

  /**
   * Reads the type-specific data of the channel open message (synchronously: the buffer is reused
   * after this returns) and returns what decides and opens the other leg.
   */
  abstract Opener parse(Buffer buffer);

  /** Who refused when the other leg fails to open, for the failure message ("the target"). */
  abstract String otherSide();

  @Override
  protected final OpenFuture doInit(Buffer buffer) {
    DefaultOpenFuture future = new DefaultOpenFuture(this, null);
    Opener opener = parse(buffer);
    // Deciding and opening may block (durable record, upstream login): not on an I/O thread.
    Thread.ofVirtual()
        .name("ssh-" + type)
        .start(
            () -> {
              Leg leg;
              try {
                leg = opener.open();
              } catch (GateException e) {
                fail(future, "gatehouse: " + e.getMessage());
                return;
              } catch (IOException | RuntimeException e) {
                log.warn("{} could not be relayed: {}", type, e.toString());
                fail(future, "gatehouse: " + otherSide() + " refused the forwarded connection");
                return;
              }
              relay(leg, future);
            });
    return future;
  }

  private void relay(Leg leg, DefaultOpenFuture future) {
    AbstractClientChannel ch = leg.channel();
    other = ch;
    try {
      ch.open().verify(SshUpstream.CONNECT_TIMEOUT);
    } catch (IOException | RuntimeException e) {
      log.debug("{} refused by {}: {}", type, otherSide(), e.toString());
      ch.close(true);
      leg.refused().run();
      fail(future, "gatehouse: " + otherSide() + " refused the forwarded connection");
      return;
    }
    toOther = ch.getInvertedIn();
    InputStream fromOther = ch.getInvertedOut();
    signalChannelOpenSuccess();
    future.setOpened();
    Thread.ofVirtual()
        .name("ssh-" + type + "-pump")
        .start(
            () -> {
              try (OutputStream toOpener =
                  new ChannelOutputStream(
                      this, getRemoteWindow(), log, SshConstants.SSH_MSG_CHANNEL_DATA, true)) {
                byte[] buf = new byte[SshStreams.CHUNK];
                int n;
                while ((n = fromOther.read(buf)) >= 0) {
                  if (n > 0) {
                    toOpener.write(buf, 0, n);
                    toOpener.flush();
                    count(n);
                  }
                }
              } catch (IOException e) {
                log.debug("{} relay ended: {}", type, e.toString());
              } finally {
                leg.ended().accept(count(0));
                close(false);
              }
            });
  }

  private long count(long n) {
    return bytes.addAndGet(n);
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
    OutputStream to = toOther;
    if (to == null) {
      throw new IOException(type + ": the other leg is not open");
    }
    to.write(data, off, (int) len);
    to.flush();
    count(len);
    getLocalWindow().release(len);
  }

  @Override
  protected void doWriteExtendedData(byte[] data, int off, long len) throws IOException {
    throw new IOException(type + " carries no extended data");
  }

  @Override
  public void handleEof() throws IOException {
    super.handleEof();
    OutputStream to = toOther;
    if (to != null) {
      to.close();
    }
  }

  @Override
  protected void preClose() {
    AbstractClientChannel ch = other;
    if (ch != null) {
      ch.close(false);
    }
    super.preClose();
  }
}
