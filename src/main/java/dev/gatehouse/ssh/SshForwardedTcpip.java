package dev.gatehouse.ssh;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * A {@code forwarded-tcpip} channel the target opens on the gateway's session (RFC 4254 section
 * 7.2), or a {@code forwarded-streamlocal@openssh.com} one (OpenSSH PROTOCOL section 2.4): someone
 * connected to the listener of a remote forward ({@code ssh -R}, on a port or a socket) that a
 * client connection asked for and the gate allowed ({@link SshForwards}). It is relayed to the
 * client as the same channel type with the address the client asked for and the port bound on the
 * target, or the socket path, which is how OpenSSH matches it to its {@code -R}. A channel for a
 * listener that no client connection holds on this session is refused. Each relayed connection is
 * audited as {@code ssh.forward_connection} with its originator (a socket has none); its bytes
 * count towards the forward's outcome.
 */
final class SshForwardedTcpip extends SshRelayChannel {
  static final ChannelFactory FACTORY =
      factory("forwarded-tcpip", () -> new SshForwardedTcpip("forwarded-tcpip"));

  static final ChannelFactory STREAMLOCAL_FACTORY =
      factory(
          SshForwarding.FORWARDED_STREAMLOCAL,
          () -> new SshForwardedTcpip(SshForwarding.FORWARDED_STREAMLOCAL));

  private final String type;

  private SshForwardedTcpip(String type) {
    super(type);
    this.type = type;
  }

  @Override
  String otherSide() {
    return "the client";
  }

  @Override
  Opener parse(Buffer buffer) {
    boolean socket = SshForwarding.FORWARDED_STREAMLOCAL.equals(type);
    // PROTOCOL section 2.4: socket path, then a reserved string (not read); RFC 4254 section 7.2:
    // address and port connected, originator address and port.
    SshForwards.Listen at =
        socket
            ? SshForwards.Listen.socket(buffer.getString())
            : SshForwards.Listen.tcp(buffer.getString(), (int) buffer.getUInt());
    String originHost = socket ? null : buffer.getString();
    long originPort = socket ? 0 : buffer.getUInt();
    ClientSession upstream = (ClientSession) getSession();
    return () -> {
      SshConnection conn = upstream.getAttribute(SshForwarding.OWNER);
      SshForwards.Remote r = conn == null ? null : conn.forwards().remote(upstream, at);
      if (r == null) {
        throw refusedForward(
            conn, "remote", type + " " + at, "no remote forward of this session listens there");
      }
      Map<String, Object> audit = new LinkedHashMap<>();
      audit.put("forward", "remote");
      audit.put("listen", r.listen.toString());
      if (!socket) {
        audit.put("originator", originHost + ":" + originPort);
      }
      SshForwarding.audit(conn.gate(), "ssh.forward_connection", audit);
      r.opened();
      SshForwards.Listen l = r.listen;
      SshOpeningChannel ch =
          SshOpeningChannel.on(
              conn.ssh(),
              type,
              b -> {
                if (socket) {
                  b.putString(l.path());
                  b.putString(""); // reserved
                } else {
                  b.putString(l.address());
                  b.putUInt(l.port());
                  b.putString(originHost);
                  b.putUInt(originPort);
                }
              });
      return new Leg(ch, () -> {}, r::relayed);
    };
  }
}
