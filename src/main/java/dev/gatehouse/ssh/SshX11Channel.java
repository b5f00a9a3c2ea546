package dev.gatehouse.ssh;

import java.util.Map;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * An {@code x11} channel the target opens on the gateway's session (RFC 4254 section 6.3.2): an X
 * client on the target connected to the display sshd set up for an allowed {@code x11-req}. It is
 * relayed, unchanged, to the client as the same channel (originator address and port included),
 * only for the client connection holding the session and only when X11 forwarding was allowed on it
 * ({@link SshForwards#x11Requested}). The client checks the X authorisation and connects to its
 * display; the gateway never does. Each connection is audited as {@code ssh.forward_connection};
 * the X protocol is neither parsed nor recorded.
 */
final class SshX11Channel extends SshRelayChannel {
  static final String TYPE = "x11";

  /** RFC 4254 leaves the originator address unbounded; an address fits in far less. */
  private static final int MAX_ADDRESS = 255;

  static final ChannelFactory FACTORY = factory(TYPE, SshX11Channel::new);

  private SshX11Channel() {
    super(TYPE);
  }

  @Override
  String otherSide() {
    return "the client";
  }

  @Override
  Opener parse(Buffer buffer) {
    String address = buffer.getString();
    long port = buffer.getUInt();
    ClientSession upstream = (ClientSession) getSession();
    return () -> {
      SshConnection conn = upstream.getAttribute(SshForwarding.OWNER);
      if (conn == null || !conn.forwards().x11Allowed() || address.length() > MAX_ADDRESS) {
        throw refusedForward(conn, "x11", TYPE, "X11 forwarding was not allowed on this session");
      }
      SshForwarding.audit(
          conn.gate(), "ssh.forward_connection", Map.of("forward", "x11", "channel", TYPE));
      SshForwards f = conn.forwards();
      return new Leg(
          SshOpeningChannel.on(
              conn.ssh(),
              TYPE,
              b -> {
                b.putString(address);
                b.putUInt(port);
              }),
          () -> {},
          f::x11Relayed);
    };
  }
}
