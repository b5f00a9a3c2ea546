package dev.gatehouse.ssh;

import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.policy.Action;
import java.io.IOException;
import org.apache.sshd.client.channel.AbstractClientChannel;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.session.ServerSession;

/**
 * A {@code direct-tcpip} channel (RFC 4254 section 7.2: {@code ssh -L}, {@code ssh -W}, and {@code
 * ssh -D}, whose SOCKS proxy runs in the client and opens the same channel) or a {@code
 * direct-streamlocal@openssh.com} channel (OpenSSH PROTOCOL section 2.4: {@code ssh -L PORT:/path},
 * {@code ssh -L /local.sock:/path}), decided as a {@code forward} action of type {@code local} and,
 * when allowed, opened again on the target's session: the TCP or Unix-socket connection starts from
 * the target, as it would without the gateway, never from the gateway host. The bytes are relayed
 * unchanged and not recorded; the decision and the byte count are.
 *
 * <p>The gateway cannot tell {@code -L} from {@code -D}: both arrive as {@code direct-tcpip}, so
 * the action is always {@code local}; a rule that lists {@code dynamic} matches it too ({@code
 * dev.gatehouse.policy.ForwardMatcher}). A socket forward's action names the socket path instead of
 * a host and port; only a normal absolute path of at most {@link SshForwarding#MAX_SOCKET_PATH}
 * bytes is decided, anything else is refused first ({@link SshForwarding#socketPathProblem}).
 */
final class SshDirectTcpip extends SshRelayChannel {
  static final ChannelFactory FACTORY =
      factory("direct-tcpip", () -> new SshDirectTcpip("direct-tcpip"));

  static final ChannelFactory STREAMLOCAL_FACTORY =
      factory(
          SshForwarding.DIRECT_STREAMLOCAL,
          () -> new SshDirectTcpip(SshForwarding.DIRECT_STREAMLOCAL));

  /** Opens the channel to the destination on the target's session, not yet confirmed. */
  private interface Upstream {
    AbstractClientChannel open(ClientSession target) throws IOException;
  }

  private final String type;

  private SshDirectTcpip(String type) {
    super(type);
    this.type = type;
  }

  @Override
  String otherSide() {
    return "the target";
  }

  @Override
  Opener parse(Buffer buffer) {
    SshConnection conn = SshConnection.of((ServerSession) getSession());
    if (SshForwarding.DIRECT_STREAMLOCAL.equals(type)) {
      // PROTOCOL section 2.4: socket path, then a reserved string and uint32 (not read: OpenSSH
      // sends an empty originator and 0, and the target's sshd gets the same).
      String path = buffer.getString();
      return () -> {
        check(conn, "local unix:" + SshForwarding.auditedPath(path));
        String problem = SshForwarding.socketPathProblem(path);
        if (problem != null) {
          SshForwarding.refused(
              conn, "local", "local unix:" + SshForwarding.auditedPath(path), problem);
          throw new GateException(GateException.Reason.FORBIDDEN, problem);
        }
        return open(
            conn,
            SshForwarding.socketAction("local", path),
            target ->
                SshOpeningChannel.on(
                    target,
                    SshForwarding.DIRECT_STREAMLOCAL,
                    b -> {
                      b.putString(path);
                      b.putString("");
                      b.putUInt(0);
                    }));
      };
    }
    String host = buffer.getString();
    int port = buffer.getInt();
    String originHost = buffer.getString();
    int originPort = buffer.getInt();
    return () -> {
      check(conn, host + ":" + port);
      return open(
          conn,
          SshForwarding.action("local", host, port),
          target ->
              target.createDirectTcpipChannel(
                  new SshdSocketAddress(originHost, originPort),
                  new SshdSocketAddress(host, port)));
    };
  }

  /** Forwarding is an ssh connection's; elsewhere refused, and audited as on ssh connections. */
  private static void check(SshConnection conn, String what) throws GateException {
    if (conn == null || !"ssh".equals(conn.type())) {
      String reason = "port forwarding is only offered on ssh connections";
      SshForwarding.refused(conn, "local", what, reason);
      throw new GateException(GateException.Reason.FORBIDDEN, reason);
    }
  }

  private static Leg open(SshConnection conn, Action action, Upstream upstream)
      throws GateException, IOException {
    GateSession gate = conn.gate();
    AuthorizedAction authorized = SshForwarding.authorize(gate, action, "local", action.raw());
    AbstractClientChannel ch;
    try {
      ch = upstream.open(conn.upstream().session());
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
