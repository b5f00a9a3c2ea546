package dev.gatehouse.ssh;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.gate.AuthAttempt;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.SshKeyAuthenticator;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.masking.StreamMasker;
import dev.gatehouse.runner.CommandRunner;
import dev.gatehouse.server.ProtocolServer;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.UserAuth;
import org.apache.sshd.server.auth.UserAuthFactory;
import org.apache.sshd.server.auth.password.UserAuthPassword;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKey;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SSH listener: OpenSSH clients ({@code ssh}, {@code scp}, {@code sftp}) log in as {@code
 * IDENTITY+CONNECTION} with a registered public key or a gateway token as password; every exec
 * request, shell, file transfer and forwarding request goes through the shared {@link Gate} before
 * it reaches the target, which the gateway logs in to with credentials the caller never sees. See
 * {@code package-info.java} and docs/ssh.md.
 */
public final class SshProtocolServer implements ProtocolServer {
  private static final Logger log = LoggerFactory.getLogger(SshProtocolServer.class);

  /**
   * Authentication requests per connection (OpenSSH's {@code MaxAuthTries} default is 6; a client
   * with several keys in its agent offers each one).
   */
  static final int MAX_AUTH_REQUESTS = 10;

  /**
   * Time to log in (OpenSSH's {@code LoginGraceTime} is 120 s; ours also bounds pre-auth state).
   */
  static final Duration AUTH_TIMEOUT = Duration.ofSeconds(60);

  /** A connection without any traffic for this long is closed. */
  static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);

  /**
   * Open channels per connection (OpenSSH multiplexing uses a handful; 10 is {@code MaxSessions}).
   */
  static final int MAX_CHANNELS = 10;

  /** How often the gateway sends a keepalive on its sessions to targets. */
  static final Duration UPSTREAM_HEARTBEAT = Duration.ofSeconds(60);

  /**
   * Channel window the gateway grants on both legs (RFC 4254 section 5.2): how much a peer may send
   * before the gateway has relayed it. Also the most a channel buffers. MINA's default is 2 MiB;
   * more keeps a transfer streaming when a relay thread is briefly descheduled.
   */
  static final long WINDOW_SIZE = 4L * 1024 * 1024;

  /**
   * Largest channel data packet the gateway accepts (section 5.1). Senders use up to this much per
   * packet, so fewer, larger packets need less per-packet work (MAC, window accounting, I/O
   * completions) on the gateway; within MINA's 256 KiB packet decoding limit.
   */
  static final long MAX_PACKET = 128L * 1024;

  /**
   * Bytes MINA's NIO2 transport reads from a socket at once, per session (its default is 32 KiB).
   * OpenSSH sends 32 KiB of data per packet, so a default-sized read held less than one packet
   * (header, padding and MAC come on top) and most packets took two reads, each a system call and
   * an I/O completion. With 256 KiB a read takes whatever the socket holds, several packets when
   * the relay lags: 45-60 % fewer reads per GB on uploads, 15-35 % on downloads
   * (docs/benchmarks.md). Memory: one such array per connection and per upstream session, small
   * beside a channel's 4 MiB window.
   */
  static final int READ_BUFFER = 256 * 1024;

  /** Connections to the listener at once, authenticated or not. */
  static final int MAX_CONNECTIONS = 1000;

  /** Connections per login name at once. */
  static final int MAX_SESSIONS_PER_LOGIN = 20;

  /**
   * Ciphers offered to clients. The client's order wins (RFC 4253 section 7.1), and OpenSSH lists
   * chacha20-poly1305 first, which MINA implements in plain Java at a fraction of the speed of the
   * JDK's AES (AES-NI and carry-less multiply intrinsics): it is not offered, nor CBC. OpenSSH
   * lists aes128-ctr before AES-GCM, so {@link SshCipherOffer} narrows this list to AES-GCM per
   * connection for clients that list it; others get the whole list.
   */
  static final List<NamedFactory<Cipher>> CLIENT_CIPHERS =
      List.of(
          BuiltinCiphers.aes128gcm,
          BuiltinCiphers.aes256gcm,
          BuiltinCiphers.aes128ctr,
          BuiltinCiphers.aes192ctr,
          BuiltinCiphers.aes256ctr);

  /**
   * Ciphers the gateway asks targets for, in order: AES-GCM first (no separate MAC), chacha20 only
   * as the last resort for a target that offers nothing else.
   */
  static final List<NamedFactory<Cipher>> UPSTREAM_CIPHERS =
      List.of(
          BuiltinCiphers.aes128gcm,
          BuiltinCiphers.aes256gcm,
          BuiltinCiphers.aes128ctr,
          BuiltinCiphers.aes192ctr,
          BuiltinCiphers.aes256ctr,
          BuiltinCiphers.cc20p1305_openssh);

  private static final AttributeRepository.AttributeKey<Principal> PRINCIPAL =
      new AttributeRepository.AttributeKey<>();

  private final Gate gate;
  private final String host;
  private final int port;
  private final Path dataDir;
  private final Function<String, ConnectionConfig> connections;
  private final SshKeyAuthenticator keys;
  private final CommandRunner runner;
  private final AtomicInteger live = new AtomicInteger();
  private volatile BiFunction<GateSession, List<String>, StreamMasker> maskers =
      (s, secrets) -> SshStreams.IDENTITY;
  private SshServer server;
  private SshClient client;
  private SshUpstreamPool pool;
  private KeyPair hostKey;

  /**
   * @param gate the shared authorization flow
   * @param host address to bind
   * @param port port to bind; 0 picks a free one (see {@link #address()})
   * @param dataDir where the host key is kept
   * @param connections resolves a connection by name (its type picks ssh relay or exec runner)
   * @param keys public keys registered to identities
   * @param runner runs commands on exec connections (null: exec connections are refused)
   */
  public SshProtocolServer(
      Gate gate,
      String host,
      int port,
      Path dataDir,
      Function<String, ConnectionConfig> connections,
      SshKeyAuthenticator keys,
      CommandRunner runner) {
    this.gate = Objects.requireNonNull(gate, "gate");
    this.host = Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
    }
    this.port = port;
    this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
    this.connections = Objects.requireNonNull(connections, "connections");
    this.keys = Objects.requireNonNull(keys, "keys");
    this.runner = runner;
  }

  /**
   * ssh connections as runners of exec connections ({@code exec.runner}): the runner logs in with
   * the same pinned host key check and held credentials as this listener's relay. Independent of
   * the listener (the exec API uses it too); close it at shutdown.
   *
   * @param connections resolves the runner's ssh connection by name
   * @param credentials opens a connection's credentials from the vault
   */
  public static dev.gatehouse.runner.RemoteHosts runners(
      Function<String, ConnectionConfig> connections,
      Function<String, java.util.Map<String, String>> credentials) {
    return new SshRemoteHosts(connections, credentials);
  }

  @Override
  public String protocol() {
    return "ssh";
  }

  private volatile Duration kexinitWait = SshCipherOffer.KEXINIT_WAIT;

  /**
   * How long the listener holds its KEXINIT for the client's ({@code server.ssh.kexinit_wait},
   * {@link SshCipherOffer}); zero sends it at once with the full cipher list. Before {@link
   * #start}.
   */
  public void kexinitWait(Duration wait) {
    this.kexinitWait = Objects.requireNonNull(wait, "wait");
  }

  /**
   * Masks every session's terminal output with {@code engine}, using the masking profile of the
   * session's obligations, plus the target's credentials as exact values, always. Sessions whose
   * profile is {@code none} get their output byte for byte but for those credentials.
   */
  public void masking(MaskingEngine engine) {
    Objects.requireNonNull(engine, "engine");
    maskers = (s, secrets) -> engine.streamMasker(s.obligations().maskingProfile(), secrets);
  }

  /** The host key's fingerprint, {@code SHA256:...}, for clients to pin. */
  public String hostKeyFingerprint() {
    return hostKey == null ? null : SshHostKey.fingerprint(hostKey);
  }

  @Override
  public void start() throws IOException {
    if (server != null) {
      throw new IllegalStateException("already started");
    }
    hostKey = SshHostKey.loadOrGenerate(dataDir);

    // Nothing from the gateway host's ~/.ssh may leak into target connections; the same client
    // settings as the exec runners' (SshUpstream.newClient).
    client = SshUpstream.newClient();
    pool = new SshUpstreamPool(client);

    SshServer s = SshServer.setUpDefaultServer();
    s.setHost(host);
    s.setPort(port);
    s.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
    s.setCipherFactories(CLIENT_CIPHERS);
    SshCipherOffer.install(s, kexinitWait);
    s.setPublickeyAuthenticator(
        (user, key, session) -> {
          SshLogin login = login(user, session);
          if (login == null) {
            return false;
          }
          if (!admitted(session, login)) {
            return false;
          }
          Principal p;
          try {
            p = keys.authenticate(login.identity(), key);
          } catch (RuntimeException e) {
            log.error("ssh key lookup failed; refusing the key", e); // fail closed
            return false;
          }
          if (p == null || !p.subject().equals(login.identity())) {
            return false;
          }
          session.setAttribute(PRINCIPAL, p);
          return true;
        });
    s.setPasswordAuthenticator(
        (user, password, session) -> {
          SshLogin login = login(user, session);
          if (login == null) {
            return false;
          }
          Principal p;
          try {
            p = gate.authenticate(password, attempt(session, login));
          } catch (GateException e) {
            if (e.throttled()) {
              refuseThrottled(session, e);
            }
            return false;
          }
          session.setAttribute(PRINCIPAL, p);
          return true;
        });
    s.setKeyboardInteractiveAuthenticator(null);
    s.setGSSAuthenticator(null);
    s.setHostBasedAuthenticator(null);
    s.setUserAuthFactories(List.of(new GatedAuth("publickey"), new GatedAuth("password")));

    // Forwarding is decided by the gate and carried out on the target, never from this host.
    SshForwarding.install(s, client);
    s.setCommandFactory((channel, line) -> command(channel.getSession(), line));
    s.setShellFactory(channel -> command(channel.getSession(), null));
    s.setSubsystemFactories(List.of(new SshTransferCommand.Factory()));

    CoreModuleProperties.WINDOW_SIZE.set(s, WINDOW_SIZE);
    CoreModuleProperties.MAX_PACKET_SIZE.set(s, MAX_PACKET);
    CoreModuleProperties.NIO2_READ_BUFFER_SIZE.set(s, READ_BUFFER);
    // Nagle's algorithm off on both legs (MINA leaves it on). The relay writes each SSH packet as
    // it is ready, 32 KiB to an OpenSSH client (channels.h CHAN_SES_PACKET_DEFAULT), less than one
    // loopback segment, and Nagle (RFC 896) holds such a tail until the peer acknowledges what went
    // before, which a receiver may delay (RFC 1122 section 4.2.3.2; Linux up to 40 ms). A relay hop
    // turns that into a stall per burst: SFTP downloads ran at 0.55-0.77 of direct with it and
    // 0.77-1.31 without (docs/benchmarks.md, sixteenth session). Keystrokes wait the same way;
    // OpenSSH sets TCP_NODELAY for interactive sessions, haproxy on every socket.
    CoreModuleProperties.TCP_NODELAY.set(s, true);
    s.setIoServiceFactoryFactory(new SshGatheringTransport());
    CoreModuleProperties.MAX_AUTH_REQUESTS.set(s, MAX_AUTH_REQUESTS);
    CoreModuleProperties.AUTH_TIMEOUT.set(s, AUTH_TIMEOUT);
    CoreModuleProperties.IDLE_TIMEOUT.set(s, IDLE_TIMEOUT);
    CoreModuleProperties.MAX_CONCURRENT_CHANNELS.set(s, MAX_CHANNELS);
    CoreModuleProperties.MAX_CONCURRENT_SESSIONS.set(s, MAX_SESSIONS_PER_LOGIN);
    CoreModuleProperties.SERVER_IDENTIFICATION.set(s, "Gatehouse");
    s.addSessionListener(
        new SessionListener() {
          @Override
          public void sessionCreated(Session session) {
            if (live.incrementAndGet() > MAX_CONNECTIONS) {
              log.warn("ssh: more than {} connections; refusing one", MAX_CONNECTIONS);
              session.close(true);
            }
          }

          @Override
          public void sessionClosed(Session session) {
            live.decrementAndGet();
            SshConnection c = session.getAttribute(SshConnection.KEY);
            if (c != null) {
              // Recording the end is a durable write: not on an I/O thread.
              Thread.ofVirtual().name("ssh-closed").start(c::closed);
            }
          }
        });
    try {
      s.start();
    } catch (BindException e) {
      throw new BindException(
          "ssh listener cannot bind " + host + ":" + port + ": " + e.getMessage());
    }
    server = s;
    log.info(
        "ssh listener on {} (host key {} {})",
        address(),
        KeyPairProvider.SSH_ED25519,
        hostKeyFingerprint());
  }

  /** The shared authentication throttle's view of a login attempt on this connection. */
  private static AuthAttempt attempt(ServerSession session, SshLogin login) {
    InetAddress client =
        session.getClientAddress() instanceof InetSocketAddress i ? i.getAddress() : null;
    return new AuthAttempt("ssh", client, login.identity());
  }

  /**
   * False (after disconnecting the client) if the gate throttles this address. For a public key:
   * the login's identity is not looked at, since strangers' failed passwords for it must not keep
   * its owner's key out, and a key cannot be guessed.
   */
  private boolean admitted(ServerSession session, SshLogin login) {
    try {
      gate.admit(attempt(session, login));
      return true;
    } catch (GateException e) {
      refuseThrottled(session, e);
      return false;
    }
  }

  /**
   * Ends a throttled connection: the reason as a banner (OpenSSH shows it), then SSH_MSG_DISCONNECT
   * with reason 14, "no more auth methods available" (RFC 4253 section 11.1), so the client does
   * not go on trying methods that would be refused unchecked.
   */
  private static void refuseThrottled(ServerSession session, GateException e) {
    banner(session, e.getMessage());
    try {
      session.disconnect(
          SshConstants.SSH2_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE, e.getMessage());
    } catch (IOException | RuntimeException io) {
      log.debug("cannot disconnect a throttled client", io);
      session.close(true);
    }
  }

  /** The parsed login, or null after telling the client the expected form. */
  private SshLogin login(String user, ServerSession session) {
    SshLogin login = SshLogin.parse(user);
    if (login == null) {
      banner(session, "user name \"" + user + "\" has no connection: " + SshLogin.USAGE);
    }
    return login;
  }

  /**
   * After a method succeeded, opens the gate session (connection exists, token scope, CONNECT
   * decision, session recorded). A refusal fails the method, with the reason shown as a banner.
   */
  private boolean openGate(ServerSession session, String user) {
    Principal p = session.removeAttribute(PRINCIPAL);
    SshLogin login = SshLogin.parse(user);
    if (p == null || login == null) {
      return false;
    }
    if (session.getAttribute(SshConnection.KEY) != null) {
      return true; // already open: a second method after partial success
    }
    ConnectionConfig conn = connections.apply(login.connection());
    String type = conn != null && "exec".equals(conn.type()) ? "exec" : "ssh";
    try {
      GateSession g = gate.open(p, login.connection(), type, address(session.getClientAddress()));
      session.setAttribute(SshConnection.KEY, new SshConnection(this, session, g, type));
      return true;
    } catch (GateException e) {
      banner(session, e.getMessage());
      return false;
    }
  }

  private static String address(SocketAddress a) {
    if (a instanceof InetSocketAddress i) {
      return i.getAddress() == null ? i.getHostString() : i.getAddress().getHostAddress();
    }
    return String.valueOf(a);
  }

  /** SSH_MSG_USERAUTH_BANNER (RFC 4252 section 5.4): OpenSSH prints it on the terminal. */
  private static void banner(ServerSession session, String text) {
    try {
      Buffer b = session.createBuffer(SshConstants.SSH_MSG_USERAUTH_BANNER);
      b.putString("gatehouse: " + text + "\r\n");
      b.putString("");
      session.writePacket(b);
    } catch (IOException | RuntimeException e) {
      log.debug("cannot send banner", e);
    }
  }

  private Command command(ServerSession session, String line) throws IOException {
    SshConnection c = SshConnection.of(session);
    if (c == null) {
      throw new IOException("channel on a connection without a gate session");
    }
    if ("exec".equals(c.type())) {
      return new SshRunnerCommand(c, line);
    }
    if (line != null && SshTransferCommand.isScp(line)) {
      return SshTransferCommand.scp(c, line);
    }
    return new SshTargetCommand(c, line);
  }

  /** A method (publickey or password) that opens the gate session once it has succeeded. */
  private final class GatedAuth implements UserAuthFactory {
    private final String name;

    GatedAuth(String name) {
      this.name = name;
    }

    @Override
    public String getName() {
      return name;
    }

    @Override
    public UserAuth createUserAuth(ServerSession session) {
      if (name.equals("publickey")) {
        return new UserAuthPublicKey() {
          @Override
          public Boolean doAuth(Buffer buffer, boolean init) throws Exception {
            Boolean ok = super.doAuth(buffer, init);
            return ok == null ? null : ok && openGate(getServerSession(), getUsername());
          }
        };
      }
      return new UserAuthPassword() {
        @Override
        public Boolean doAuth(Buffer buffer, boolean init) throws Exception {
          Boolean ok = super.doAuth(buffer, init);
          return ok == null ? null : ok && openGate(getServerSession(), getUsername());
        }
      };
    }
  }

  // ---- package-private collaborators ----

  Gate gate() {
    return gate;
  }

  SshClient client() {
    return client;
  }

  SshUpstreamPool pool() {
    return pool;
  }

  CommandRunner runner() {
    return runner;
  }

  StreamMasker masker(GateSession session, List<String> secrets) {
    return maskers.apply(session, secrets);
  }

  @Override
  public InetSocketAddress address() {
    SshServer s = server;
    if (s == null) {
      throw new IllegalStateException("not started");
    }
    for (SocketAddress a : s.getBoundAddresses()) {
      if (a instanceof InetSocketAddress i) {
        return i;
      }
    }
    return new InetSocketAddress(host, s.getPort());
  }

  @Override
  public void close() {
    SshServer s = server;
    if (s != null) {
      try {
        s.stop(true);
      } catch (IOException e) {
        log.debug("stopping ssh listener", e);
      }
    }
    SshUpstreamPool p = pool;
    if (p != null) {
      p.close();
    }
    SshClient c = client;
    if (c != null) {
      c.stop();
    }
  }
}
