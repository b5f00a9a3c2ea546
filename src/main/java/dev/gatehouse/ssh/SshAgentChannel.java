package dev.gatehouse.ssh;

import java.util.Map;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * An {@code auth-agent@openssh.com} channel the target opens on the gateway's session (OpenSSH
 * PROTOCOL.agent): a process on the target uses the forwarded agent ({@code SSH_AUTH_SOCK}). It is
 * relayed, unchanged, to the client as the same channel, only for the client connection holding the
 * session and only when agent forwarding was allowed on it ({@link SshForwards#agentRequested}).
 * The gateway itself never talks to the agent. Each connection is audited as {@code
 * ssh.forward_connection}; the agent's messages are neither parsed nor recorded.
 */
final class SshAgentChannel extends SshRelayChannel {
  static final String TYPE = "auth-agent@openssh.com";

  static final ChannelFactory FACTORY = factory(TYPE, SshAgentChannel::new);

  private SshAgentChannel() {
    super(TYPE);
  }

  @Override
  String otherSide() {
    return "the client";
  }

  @Override
  Opener parse(Buffer buffer) {
    ClientSession upstream = (ClientSession) getSession();
    return () -> {
      SshConnection conn = upstream.getAttribute(SshForwarding.OWNER);
      if (conn == null || !conn.forwards().agentAllowed()) {
        throw refusedForward(
            conn, "agent", TYPE, "agent forwarding was not allowed on this session");
      }
      SshForwarding.audit(
          conn.gate(), "ssh.forward_connection", Map.of("forward", "agent", "channel", TYPE));
      SshForwards f = conn.forwards();
      return new Leg(SshOpeningChannel.on(conn.ssh(), TYPE, b -> {}), () -> {}, f::agentRelayed);
    };
  }
}
