package dev.gatehouse.ssh;

import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import java.io.IOException;
import java.util.Map;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.session.ServerSession;

/**
 * A {@code direct-tcpip} channel (RFC 4254 section 7.2: {@code ssh -L}, {@code ssh -W}, and {@code
 * ssh -D}, whose SOCKS proxy runs in the client and opens the same channel), decided as a {@code
 * forward} action of type {@code local} and, when allowed, opened again on the target's session:
 * the TCP connection starts from the target, as it would without the gateway, never from the
 * gateway host. The bytes are relayed unchanged and not recorded; the decision and the byte count
 * are.
 *
 * <p>The gateway cannot tell {@code -L} from {@code -D}: both arrive as this channel, so the action
 * is always {@code local}; a rule that lists {@code dynamic} matches it too ({@code
 * dev.gatehouse.policy.ForwardMatcher}).
 */
final class SshDirectTcpip extends SshRelayChannel {
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

  private SshDirectTcpip() {
    super("direct-tcpip");
  }

  @Override
  String otherSide() {
    return "the target";
  }

  @Override
  Opener parse(Buffer buffer) {
    String host = buffer.getString();
    int port = buffer.getInt();
    String originHost = buffer.getString();
    int originPort = buffer.getInt();
    SshConnection conn = SshConnection.of((ServerSession) getSession());
    return () -> {
      if (conn == null || !"ssh".equals(conn.type())) {
        throw new GateException(
            GateException.Reason.FORBIDDEN, "port forwarding is only offered on ssh connections");
      }
      return open(conn, new SshdSocketAddress(host, port), originHost, originPort);
    };
  }

  private static Leg open(
      SshConnection conn, SshdSocketAddress target, String originHost, int originPort)
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
                Action.Attr.FORWARD_HOST,
                target.getHostName(),
                Action.Attr.FORWARD_PORT,
                (long) target.getPort()));
    AuthorizedAction authorized = SshForwarding.authorize(gate, action, "local", raw);
    ChannelDirectTcpip ch;
    try {
      ch =
          conn.upstream()
              .session()
              .createDirectTcpipChannel(new SshdSocketAddress(originHost, originPort), target);
    } catch (GateException | IOException e) {
      gate.completed(authorized, false, "the target refused the forwarded connection", 0);
      throw e;
    }
    return new Leg(
        ch,
        () -> gate.completed(authorized, false, "the target refused the forwarded connection", 0),
        bytes -> gate.completed(authorized, true, "closed", bytes));
  }
}
