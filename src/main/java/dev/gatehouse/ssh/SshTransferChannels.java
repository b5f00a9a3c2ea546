package dev.gatehouse.ssh;

import java.io.IOException;
import java.util.Collections;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ChannelSubsystem;
import org.apache.sshd.client.channel.ClientChannel;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.channel.AbstractChannel;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelListener;
import org.apache.sshd.common.session.ConnectionService;

/**
 * The upstream end of a file transfer: an {@code sftp} subsystem or a legacy {@code scp -t|-f} exec
 * channel whose data (SSH_MSG_CHANNEL_DATA from the target, RFC 4254 section 5.2) reaches the relay
 * through an {@link SshChannelInput} ({@link #input}) instead of MINA's pipe. A download is where
 * the target sends window after window, and the pipe compacts its one array on nearly every read
 * (see {@link SshChannelInput}); here a read only copies out what it returns, and a relay reading a
 * whole SFTP packet is woken once. The window is reopened as the relay reads, as with the pipe.
 * Stderr (extended data) still goes through MINA's own stream.
 */
final class SshTransferChannels {
  private SshTransferChannels() {}

  private static final AttributeKey<SshChannelInput> INPUT = new AttributeKey<>();

  static ClientChannel sftp(ClientSession session) throws IOException {
    return register(session, new Sftp());
  }

  static ClientChannel exec(ClientSession session, String command) throws IOException {
    return register(session, new Exec(command));
  }

  /** The target's data on a channel made here. */
  static SshChannelInput input(ClientChannel ch) {
    return ch.getAttribute(INPUT);
  }

  /** What {@code ClientSession.createSubsystemChannel} does, for a channel of our own class. */
  private static ClientChannel register(ClientSession session, ClientChannel ch)
      throws IOException {
    SshChannelInput input = SshChannelInput.reopening(ch::getLocalWindow);
    ch.setAttribute(INPUT, input);
    ch.addChannelListener(
        new ChannelListener() {
          /** SSH_MSG_CHANNEL_EOF (RFC 4254 section 5.3): what arrived is read, then the end. */
          @Override
          public void channelStateChanged(Channel c, String hint) {
            if (((AbstractChannel) c).isEofSignalled()) {
              input.close();
            }
          }

          /** The target closed the channel, or the connection dropped: no more data comes. */
          @Override
          public void channelClosed(Channel c, Throwable reason) {
            input.close();
          }
        });
    session.getService(ConnectionService.class).registerChannel(ch);
    return ch;
  }

  /**
   * The target's data for the relay. What arrives after the relay closed the input is dropped: the
   * channel is closing, and an exception here would end the pooled upstream session, other clients'
   * channels with it.
   */
  private static void data(ClientChannel ch, byte[] data, int off, long len) {
    if (!ch.isClosing()) {
      input(ch).receive(data, off, (int) len); // len <= the local packet size
    }
  }

  private static final class Sftp extends ChannelSubsystem {
    Sftp() {
      super("sftp");
    }

    @Override
    protected void doWriteData(byte[] data, int off, long len) {
      data(this, data, off, len);
    }
  }

  private static final class Exec extends ChannelExec {
    Exec(String command) {
      super(command, null, Collections.emptyMap());
    }

    @Override
    protected void doWriteData(byte[] data, int off, long len) {
      data(this, data, off, len);
    }
  }
}
