package dev.gatehouse.ssh;

import java.io.IOException;
import java.util.function.Consumer;
import org.apache.sshd.client.channel.AsyncCapableClientChannel;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.channel.LocalWindow;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * A channel the gateway opens towards the SSH client (RFC 4254 section 5.1): {@code
 * forwarded-tcpip} (section 7.2), {@code forwarded-streamlocal@openssh.com} (OpenSSH PROTOCOL
 * section 2.4) and {@code auth-agent@openssh.com} (OpenSSH PROTOCOL.agent), the client leg of a
 * {@link SshRelayChannel} opened by the target; and towards the target, {@code
 * direct-streamlocal@openssh.com} ({@link SshDirectTcpip}). MINA ships a channel class only for
 * {@code direct-tcpip}; this one writes any type with its type-specific data and relays with the
 * same piped streams.
 */
final class SshOpeningChannel extends AsyncCapableClientChannel {
  private final Consumer<Buffer> data;

  private SshOpeningChannel(String type, Consumer<Buffer> data) {
    super(type, false);
    this.data = data;
  }

  /** A channel of {@code type} registered on {@code session}; {@link #open()} sends the request. */
  static SshOpeningChannel on(Session session, String type, Consumer<Buffer> data)
      throws IOException {
    SshOpeningChannel ch = new SshOpeningChannel(type, data);
    ConnectionService service = session.getService(ConnectionService.class);
    if (service == null) {
      throw new SshException("the session has no connection service");
    }
    service.registerChannel(ch);
    return ch;
  }

  @Override
  public synchronized OpenFuture open() throws IOException {
    if (closeFuture.isClosed()) {
      throw new SshException("the session has been closed");
    }
    openFuture = new DefaultOpenFuture(getChannelType(), futureLock);
    Session session = getSession();
    LocalWindow w = getLocalWindow();
    Buffer b = session.createBuffer(SshConstants.SSH_MSG_CHANNEL_OPEN, 64);
    b.putString(getChannelType());
    b.putUInt(getChannelId());
    b.putUInt(w.getSize());
    b.putUInt(w.getPacketSize());
    data.accept(b);
    writePacket(b);
    return openFuture;
  }
}
