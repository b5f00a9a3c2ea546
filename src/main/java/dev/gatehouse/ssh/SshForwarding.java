package dev.gatehouse.ssh;

import dev.gatehouse.gate.GateException;
import java.util.Map;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.forward.ForwardingFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Port, agent and X11 forwarding (RFC 4254 sections 7 and 6.3; agent forwarding is OpenSSH's {@code
 * auth-agent-req@openssh.com}). The gateway does not open sockets or agents of its own on a
 * caller's behalf: remote forwarding, agent and X11 requests are refused and audited as {@code
 * ssh.forward_refused}.
 */
final class SshForwarding implements ForwardingFilter {
  private static final Logger log = LoggerFactory.getLogger(SshForwarding.class);

  @Override
  public boolean canForwardAgent(Session session, String requestType) {
    return refused(session, "agent", requestType);
  }

  @Override
  public boolean canForwardX11(Session session, String requestType) {
    return refused(session, "x11", requestType);
  }

  @Override
  public boolean canListen(SshdSocketAddress address, Session session) {
    return refused(session, "remote", String.valueOf(address));
  }

  @Override
  public boolean canConnect(Type type, SshdSocketAddress address, Session session) {
    return refused(session, "local", String.valueOf(address));
  }

  private static boolean refused(Session session, String type, String what) {
    SshConnection c =
        session instanceof org.apache.sshd.server.session.ServerSession s
            ? SshConnection.of(s)
            : null;
    if (c != null) {
      try {
        c.gate().audit("ssh.forward_refused", Map.of("forward", type, "request", what));
      } catch (GateException e) {
        log.warn("cannot audit refused forwarding: {}", e.getMessage());
      }
    }
    return false;
  }
}
