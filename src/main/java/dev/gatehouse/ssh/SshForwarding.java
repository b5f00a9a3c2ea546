package dev.gatehouse.ssh;

import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.forward.ForwardingFilter;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Port, Unix-socket, agent and X11 forwarding (RFC 4254 sections 7 and 6.3; socket forwarding is
 * OpenSSH's streamlocal, PROTOCOL section 2.4; agent forwarding is OpenSSH's {@code
 * auth-agent-req@openssh.com}, PROTOCOL.agent). Every request is decided as a {@code forward}
 * action and carried out on the target's session, never on the gateway host: the gateway opens no
 * listener, socket or agent of its own on a caller's behalf, and never uses the caller's agent.
 *
 * <ul>
 *   <li>{@code direct-tcpip} (local, {@code -L}/{@code -W}/{@code -D}) and {@code
 *       direct-streamlocal@openssh.com} (local to a socket, {@code -L PORT:/path}): {@link
 *       SshDirectTcpip}.
 *   <li>{@code tcpip-forward}/{@code cancel-tcpip-forward} (remote, {@code -R}) and {@code
 *       streamlocal-forward@openssh.com}/{@code cancel-streamlocal-forward@openssh.com} (remote on
 *       a socket, {@code -R /path:…}): {@link #GLOBAL_REQUESTS}, then {@link SshForwards}; the
 *       target's {@code forwarded-tcpip} and {@code forwarded-streamlocal@openssh.com} channels
 *       come back through {@link SshForwardedTcpip}.
 *   <li>{@code auth-agent-req@openssh.com} ({@code -A}): {@link #CHANNEL_REQUESTS} decides; the
 *       exec or shell asks the target for the same ({@link SshTargetCommand}); the target's {@code
 *       auth-agent@openssh.com} channels come back through {@link SshAgentChannel}.
 *   <li>{@code x11-req} ({@code -X}/{@code -Y}): {@link #CHANNEL_REQUESTS} decides; the exec or
 *       shell passes the same request to the target ({@link SshTargetCommand}); the target's {@code
 *       x11} channels come back through {@link SshX11Channel}.
 * </ul>
 *
 * A refusal is the protocol's failure for that request (SSH_MSG_REQUEST_FAILURE, channel failure,
 * channel open failure) and is audited as {@code ssh.forward_refused} with the rule; the connection
 * goes on. MINA's own forwarding paths, which would act from the gateway host, are not installed;
 * as a backstop this filter refuses them all.
 */
final class SshForwarding implements ForwardingFilter {
  private static final Logger log = LoggerFactory.getLogger(SshForwarding.class);

  static final String DIRECT_STREAMLOCAL = "direct-streamlocal@openssh.com";
  static final String FORWARDED_STREAMLOCAL = "forwarded-streamlocal@openssh.com";
  static final String STREAMLOCAL_FORWARD = "streamlocal-forward@openssh.com";
  static final String CANCEL_STREAMLOCAL_FORWARD = "cancel-streamlocal-forward@openssh.com";

  /**
   * Longest socket path, in bytes: {@code sockaddr_un.sun_path} is 108 bytes on Linux and holds the
   * path with its terminating NUL (unix(7)); OpenSSH refuses longer paths too. Also bounds what a
   * request's path costs in the audit log.
   */
  static final int MAX_SOCKET_PATH = 107;

  /** On an upstream session: the client connection holding its lease. */
  static final AttributeRepository.AttributeKey<SshConnection> OWNER =
      new AttributeRepository.AttributeKey<>();

  /**
   * An allowed {@code x11-req} of a client session channel, passed on to the target unchanged: the
   * cookie is the client's (fake, under {@code ssh -X}/{@code -Y}, which the client swaps for the
   * real one), so the gateway never holds a display credential of its own.
   */
  record X11Request(boolean singleConnection, String protocol, String cookie, int screen) {}

  /** On a client session channel: X11 forwarding was allowed for it. */
  static final AttributeRepository.AttributeKey<X11Request> X11 =
      new AttributeRepository.AttributeKey<>();

  /** On a client session channel: agent forwarding was allowed for it. */
  static final AttributeRepository.AttributeKey<Boolean> AGENT =
      new AttributeRepository.AttributeKey<>();

  /** Installs the forwarding handlers on the listener and on the client for targets. */
  static void install(SshServer server, SshClient client) {
    // direct-tcpip is ours, opened through the target (MINA's own would connect from the gateway).
    server.setChannelFactories(
        List.of(SESSIONS, SshDirectTcpip.FACTORY, SshDirectTcpip.STREAMLOCAL_FACTORY, TUN));
    List<RequestHandler<ConnectionService>> global = new ArrayList<>();
    global.add(GLOBAL_REQUESTS); // before MINA's tcpip-forward handler, which would listen here
    global.addAll(server.getGlobalRequestHandlers());
    server.setGlobalRequestHandlers(global);
    server.setForwardingFilter(new SshForwarding());
    // What targets may open towards the gateway: only relays to the owning client connection
    // (MINA's default forwarded-tcpip factory would connect from the gateway host).
    client.setChannelFactories(
        List.of(
            SshForwardedTcpip.FACTORY,
            SshForwardedTcpip.STREAMLOCAL_FACTORY,
            SshAgentChannel.FACTORY,
            SshX11Channel.FACTORY));
  }

  /** Session channels that decide agent and X11 requests before MINA's own handling. */
  private static final ChannelFactory SESSIONS =
      new ChannelFactory() {
        @Override
        public String getName() {
          return "session";
        }

        @Override
        public Channel createChannel(Session session) {
          ChannelSession c = new ChannelSession();
          c.addRequestHandler(CHANNEL_REQUESTS);
          return c;
        }
      };

  /**
   * {@code tun@openssh.com} ({@code ssh -w}, OpenSSH PROTOCOL section 2.3): layer 2 and 3 tunnels
   * are not relayed. Refused as MINA refuses a channel type it does not know (no channel: open
   * failure, SSH_OPEN_UNKNOWN_CHANNEL_TYPE), and audited as the other forwards' refusals are;
   * before (red team, ssh21) nothing recorded the attempt.
   */
  static final String TUN_CHANNEL = "tun@openssh.com";

  private static final ChannelFactory TUN =
      new ChannelFactory() {
        @Override
        public String getName() {
          return TUN_CHANNEL;
        }

        @Override
        public Channel createChannel(Session session) {
          refused(connection(session), "tun", TUN_CHANNEL, "tunnel forwarding is not relayed");
          return null;
        }
      };

  /**
   * {@code auth-agent-req@openssh.com} (and the draft's {@code auth-agent-req}) and {@code x11-req}
   * on a session channel. OpenSSH sends the agent request without want-reply before the exec or
   * shell, so it is decided here, on the I/O thread, as the refusal audit always was: a forward
   * cannot wait for review, so this is a policy evaluation and one durable record. An allowed
   * request marks the channel ({@link #AGENT}); nothing is opened until the target asks.
   */
  static final RequestHandler<Channel> CHANNEL_REQUESTS =
      (channel, request, wantReply, buffer) -> {
        switch (request) {
          case "auth-agent-req@openssh.com", "auth-agent-req" -> {
            SshConnection c = connection(channel.getSession());
            if (c == null || !"ssh".equals(c.type())) {
              refused(c, "agent", request, "agent forwarding is only offered on ssh connections");
              return RequestHandler.Result.ReplyFailure;
            }
            if (!c.forwards().agentRequested(request)) {
              return RequestHandler.Result.ReplyFailure;
            }
            channel.setAttribute(AGENT, Boolean.TRUE);
            return RequestHandler.Result.ReplySuccess;
          }
          case "x11-req" -> {
            // RFC 4254 section 6.3.1: single connection, auth protocol, auth cookie, screen.
            X11Request x11 =
                new X11Request(
                    buffer.getBoolean(),
                    buffer.getString(),
                    buffer.getString(),
                    (int) buffer.getUInt());
            SshConnection c = connection(channel.getSession());
            if (c == null || !"ssh".equals(c.type())) {
              refused(c, "x11", request, "X11 forwarding is only offered on ssh connections");
              return RequestHandler.Result.ReplyFailure;
            }
            if (x11.protocol().length() > 64 || x11.cookie().length() > 512) {
              // An X authorisation is a short name and a 16-byte cookie in hex (Xsecurity(7)).
              refused(c, "x11", request, "X11 authorisation data too long");
              return RequestHandler.Result.ReplyFailure;
            }
            if (!c.forwards().x11Requested(request)) {
              return RequestHandler.Result.ReplyFailure;
            }
            channel.setAttribute(X11, x11);
            return RequestHandler.Result.ReplySuccess;
          }
          case "subsystem" -> {
            // RFC 4254 section 6.5: only "sftp" is relayed (SshTransferCommand.Factory); MINA
            // refuses other names without a record. Audited here, the request left for MINA.
            int at = buffer.rpos();
            String name = buffer.getString();
            buffer.rpos(at);
            if (!"sftp".equals(name)) {
              SshConnection c = connection(channel.getSession());
              if (c != null) {
                Map<String, Object> data = new LinkedHashMap<>();
                data.put("request", request);
                data.put("name", name.length() > 256 ? name.substring(0, 256) + "…" : name);
                data.put("reason", "only the sftp subsystem is relayed");
                audit(c.gate(), "ssh.request_refused", data);
              }
              return RequestHandler.Result.ReplyFailure;
            }
            return RequestHandler.Result.Unsupported;
          }
          default -> {
            return RequestHandler.Result.Unsupported;
          }
        }
      };

  /**
   * {@code tcpip-forward} and {@code cancel-tcpip-forward} (RFC 4254 section 7.1: address, port),
   * {@code streamlocal-forward@openssh.com} and {@code cancel-streamlocal-forward@openssh.com}
   * (OpenSSH PROTOCOL section 2.4: socket path): answered later, in order, by {@link
   * SshForwards#globalRequest}. Other global requests go on to MINA's handlers, unless forwarding
   * requests are still unanswered ({@link SshForwards#replyInOrder}).
   */
  static final RequestHandler<ConnectionService> GLOBAL_REQUESTS =
      (service, request, wantReply, buffer) -> {
        SshForwards.Listen listen =
            switch (request) {
              case "tcpip-forward", "cancel-tcpip-forward" ->
                  SshForwards.Listen.tcp(buffer.getString(), (int) buffer.getUInt());
              case STREAMLOCAL_FORWARD, CANCEL_STREAMLOCAL_FORWARD ->
                  SshForwards.Listen.socket(buffer.getString());
              default -> null;
            };
        SshConnection c = connection(service.getSession());
        if (listen == null) {
          return wantReply && c != null && c.forwards().replyInOrder()
              ? RequestHandler.Result.Replied
              : RequestHandler.Result.Unsupported;
        }
        boolean cancel = request.startsWith("cancel-");
        if (c == null || !"ssh".equals(c.type())) {
          if (!cancel) {
            refused(
                c,
                "remote",
                listen.toString(),
                "remote forwarding is only offered on ssh connections");
          }
          return RequestHandler.Result.ReplyFailure;
        }
        c.forwards().globalRequest(listen, cancel, wantReply);
        return RequestHandler.Result.Replied;
      };

  /**
   * The {@code forward} action of {@code type} ({@code local} or {@code remote}) to or on a TCP
   * host and port; its raw form is {@code TYPE HOST:PORT}.
   */
  static Action action(String type, String host, int port) {
    return new Action(
        ActionKind.FORWARD,
        type + " " + host + ":" + port,
        Map.of(
            Action.Attr.FORWARD_TYPE,
            type,
            Action.Attr.FORWARD_HOST,
            host,
            Action.Attr.FORWARD_PORT,
            (long) port));
  }

  /**
   * The {@code forward} action of {@code type} to or on a Unix socket; its raw form is {@code TYPE
   * unix:PATH}, which no TCP forward's {@code HOST:PORT} can spell (the port is digits).
   */
  static Action socketAction(String type, String path) {
    return new Action(
        ActionKind.FORWARD,
        type + " unix:" + path,
        Map.of(Action.Attr.FORWARD_TYPE, type, Action.Attr.FORWARD_PATH, path));
  }

  /**
   * A socket path as audited: cut at {@link #MAX_SOCKET_PATH} characters, so that a refused path as
   * long as a packet cannot fill the audit log.
   */
  static String auditedPath(String path) {
    return path.length() <= MAX_SOCKET_PATH ? path : path.substring(0, MAX_SOCKET_PATH) + "…";
  }

  /**
   * Why a socket path from a client is refused before any decision, or null. Only normal absolute
   * paths are decided: a relative one the target's sshd resolves against a directory the gateway
   * does not know, and {@code .}, {@code ..} or {@code //} would let a path spell a socket that a
   * rule's pattern does not read as the one named (the target resolves them, not the policy).
   */
  static String socketPathProblem(String path) {
    if (path.getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
      return "socket path longer than "
          + MAX_SOCKET_PATH
          + " bytes (sun_path holds 108 with the terminating NUL)";
    }
    if (!path.startsWith("/")) {
      return "socket path is not absolute";
    }
    if (path.chars().anyMatch(ch -> ch < ' ' || ch == 0x7f)) {
      return "socket path has a control character";
    }
    for (String seg : path.substring(1).split("/", -1)) {
      if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
        return "socket path is not normal (expected no ., .. or empty segments)";
      }
    }
    return null;
  }

  /** The X11 request allowed on this client channel, or null. */
  static X11Request x11(Channel channel) {
    return channel == null ? null : channel.getAttribute(X11);
  }

  /** True when agent forwarding was allowed on this client channel. */
  static boolean agentAllowed(Channel channel) {
    return channel != null && Boolean.TRUE.equals(channel.getAttribute(AGENT));
  }

  /**
   * Decides a forwarding action ({@code gate.authorize} without waiting: a forward cannot be held
   * for review); a refusal is audited as {@code ssh.forward_refused} with the rule and rethrown.
   */
  static AuthorizedAction authorize(GateSession gate, Action action, String type, String request)
      throws GateException {
    try {
      return gate.authorize(action, null);
    } catch (GateException e) {
      Map<String, Object> data = new LinkedHashMap<>();
      data.put("forward", type);
      data.put("request", request);
      // Where the forward led, as fields (the raw request has them as text): the destination of a
      // local forward (RFC 4254 section 7.2), the bind address of a remote one (section 7.1).
      Object host = action.attributes().get(Action.Attr.FORWARD_HOST);
      Object port = action.attributes().get(Action.Attr.FORWARD_PORT);
      Object path = action.attributes().get(Action.Attr.FORWARD_PATH);
      if (host != null && port != null) {
        data.put("host", host);
        data.put("port", port);
      } else if (path != null) {
        data.put("path", path); // a socket forward's (OpenSSH PROTOCOL section 2.4)
      }
      if (e.decision() != null && e.decision().rule() != null) {
        data.put("rule", e.decision().rule());
      }
      data.put("reason", e.getMessage());
      audit(gate, "ssh.forward_refused", data);
      throw e;
    }
  }

  static void audit(GateSession gate, String type, Map<String, Object> data) {
    try {
      gate.audit(type, data);
    } catch (GateException | RuntimeException e) {
      log.warn("cannot audit {}: {}", type, e.getMessage());
    }
  }

  private static SshConnection connection(Session session) {
    return session instanceof ServerSession s ? SshConnection.of(s) : null;
  }

  @Override
  public boolean canForwardAgent(Session session, String requestType) {
    return refused(connection(session), "agent", requestType, "not relayed by the gateway");
  }

  @Override
  public boolean canForwardX11(Session session, String requestType) {
    return refused(connection(session), "x11", requestType, "not relayed by the gateway");
  }

  @Override
  public boolean canListen(SshdSocketAddress address, Session session) {
    return refused(
        connection(session), "remote", String.valueOf(address), "not relayed by the gateway");
  }

  @Override
  public boolean canConnect(Type type, SshdSocketAddress address, Session session) {
    return refused(
        connection(session), "local", String.valueOf(address), "not relayed by the gateway");
  }

  static boolean refused(SshConnection c, String type, String what, String reason) {
    if (c != null) {
      audit(
          c.gate(),
          "ssh.forward_refused",
          Map.of("forward", type, "request", what, "reason", reason));
    }
    return false;
  }
}
