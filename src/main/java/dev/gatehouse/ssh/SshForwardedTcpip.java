package dev.gatehouse.ssh;

import dev.gatehouse.gate.GateException;
import java.util.Map;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * A {@code forwarded-tcpip} channel the target opens on the gateway's session (RFC 4254 section
 * 7.2): someone connected to the listener of a remote forward ({@code ssh -R}) that a client
 * connection asked for and the gate allowed ({@link SshForwards}). It is relayed to the client as a
 * {@code forwarded-tcpip} channel with the address the client asked for and the port bound on the
 * target, which is how OpenSSH matches it to its {@code -R}. A channel for a listener that no
 * client connection holds on this session is refused. Each relayed connection is audited as {@code
 * ssh.forward_connection} with its originator; its bytes count towards the forward's outcome.
 */
final class SshForwardedTcpip extends SshRelayChannel {
  static final ChannelFactory FACTORY =
      new ChannelFactory() {
        @Override
        public String getName() {
          return "forwarded-tcpip";
        }

        @Override
        public Channel createChannel(Session session) {
          return new SshForwardedTcpip();
        }
      };

  private SshForwardedTcpip() {
    super("forwarded-tcpip");
  }

  @Override
  String otherSide() {
    return "the client";
  }

  @Override
  Opener parse(Buffer buffer) {
    String address = buffer.getString();
    int port = (int) buffer.getUInt();
    String originHost = buffer.getString();
    int originPort = (int) buffer.getUInt();
    ClientSession upstream = (ClientSession) getSession();
    return () -> {
      SshConnection conn = upstream.getAttribute(SshForwarding.OWNER);
      SshForwards.Remote r = conn == null ? null : conn.forwards().remote(upstream, port);
      if (r == null) {
        if (conn != null) {
          SshForwarding.audit(
              conn.gate(),
              "ssh.forward_refused",
              Map.of(
                  "forward",
                  "remote",
                  "request",
                  "forwarded-tcpip " + address + ":" + port,
                  "reason",
                  "no remote forward of this session listens there"));
        }
        throw new GateException(
            GateException.Reason.FORBIDDEN, "no remote forward of this session listens there");
      }
      SshForwarding.audit(
          conn.gate(),
          "ssh.forward_connection",
          Map.of(
              "forward",
              "remote",
              "listen",
              r.address + ":" + r.port,
              "originator",
              originHost + ":" + originPort));
      r.opened();
      SshOpeningChannel ch =
          SshOpeningChannel.on(
              conn.ssh(),
              "forwarded-tcpip",
              b -> {
                b.putString(r.address);
                b.putUInt(r.port);
                b.putString(originHost);
                b.putUInt(originPort);
              });
      return new Leg(ch, () -> {}, r::relayed);
    };
  }
}
