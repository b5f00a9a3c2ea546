package dev.gatehouse.ssh;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import java.io.IOException;
import java.net.SocketAddress;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's own SSH session to the target of an {@code ssh} connection: host key pinned against
 * {@code connections[].ssh.host_keys}, logged in with the vault's private key or password. Leased
 * to one client connection at a time by {@link SshUpstreamPool} (opened on the first channel that
 * needs it, kept for reuse when the connection ends cleanly); every client channel gets its own
 * upstream channel on it.
 */
final class SshUpstream implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SshUpstream.class);

  /** Connect plus key exchange plus authentication, each. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(20);

  private final ClientSession session;
  private final List<String> secrets;

  private SshUpstream(ClientSession session, List<String> secrets) {
    this.session = session;
    this.secrets = secrets;
  }

  ClientSession session() {
    return session;
  }

  /** Credential values to remove from everything the client sees (exact-value masking). */
  List<String> secrets() {
    return secrets;
  }

  boolean isOpen() {
    return session.isOpen();
  }

  /**
   * Connects and authenticates. An unpinned or changed host key, or none pinned, is a refusal with
   * a message naming the connection and the presented fingerprint, audited as {@code
   * ssh.host_key_rejected}; other failures say only that the target is unreachable or refused the
   * gateway's credentials (the target's own text never reaches the client).
   */
  static SshUpstream connect(SshClient client, GateSession gate) throws GateException {
    return connect(client, gate.connection(), gate::upstreamCredentials, gate::audit);
  }

  /** Opens the connection's credentials from the vault, only once the host key check can run. */
  interface Credentials {
    Map<String, String> open() throws GateException;
  }

  /** Where a host key refusal is audited: the caller's session. */
  interface Audit {
    void audit(String type, Map<String, Object> data) throws GateException;
  }

  /**
   * {@link #connect(SshClient, GateSession)} for a connection other than the session's own: an ssh
   * connection used as an exec runner, whose refusals are audited on the exec session.
   */
  static SshUpstream connect(
      SshClient client, ConnectionConfig conn, Credentials credentials, Audit gate)
      throws GateException {
    List<PublicKey> pinned = pinnedKeys(conn);
    if (pinned.isEmpty()) {
      gate.audit(
          "ssh.host_key_rejected",
          Map.of("reason", "no host keys pinned", "target", conn.host() + ":" + conn.port()));
      throw new GateException(
          GateException.Reason.UNAVAILABLE,
          "no host keys are pinned for connection \""
              + conn.name()
              + "\" (connections[].ssh.host_keys); refusing to connect");
    }
    Map<String, String> creds = credentials.open();
    String user = creds.getOrDefault("username", conn.username());
    if (user == null || user.isEmpty()) {
      throw new GateException(
          GateException.Reason.UNAVAILABLE,
          "connection \"" + conn.name() + "\" has no username for the target");
    }
    AtomicReference<String> rejected = new AtomicReference<>();
    HostKeyCheck check = new HostKeyCheck(pinned, rejected);
    ClientSession s = null;
    try {
      // The pins travel in the connection context so the verifier sees them during the very first
      // key exchange (setting a verifier on the session after connect() would race with it).
      s =
          client
              .connect(
                  user,
                  conn.host(),
                  conn.port(),
                  AttributeRepository.ofKeyValuePair(HOST_KEY_CHECK, check),
                  null)
              .verify(CONNECT_TIMEOUT)
              .getSession();
      List<String> secrets = new ArrayList<>();
      String privateKey = creds.get("private_key");
      String password = creds.get("password");
      if (privateKey != null && !privateKey.isBlank()) {
        for (KeyPair kp : parsePrivateKey(privateKey)) {
          s.addPublicKeyIdentity(kp);
        }
      }
      if (password != null && !password.isEmpty()) {
        s.addPasswordIdentity(password);
        secrets.add(password);
      }
      s.auth().verify(CONNECT_TIMEOUT);
      return new SshUpstream(s, List.copyOf(secrets));
    } catch (IOException | RuntimeException e) {
      closeQuietly(s);
      if (rejected.get() != null) {
        gate.audit(
            "ssh.host_key_rejected",
            Map.of(
                "reason",
                "host key not pinned",
                "fingerprint",
                rejected.get(),
                "target",
                conn.host() + ":" + conn.port()));
        throw new GateException(
            GateException.Reason.UNAVAILABLE,
            "the target of connection \""
                + conn.name()
                + "\" presented host key "
                + rejected.get()
                + ", which is not pinned in connections[].ssh.host_keys (unknown or changed key);"
                + " refusing to connect");
      }
      log.warn("ssh upstream for {} failed: {}", conn.name(), e.toString());
      throw new GateException(
          GateException.Reason.UNAVAILABLE,
          "cannot open connection \""
              + conn.name()
              + "\": the target is unreachable or refused the gateway's credentials");
    }
  }

  /**
   * A client for upstream sessions: nothing from the gateway host's ~/.ssh (no config file, no
   * default identities, no known_hosts), only the connection's pins ({@link #VERIFIER}) and vault
   * credentials; the listener's settings for ciphers, windows and keepalives. Started.
   */
  static SshClient newClient() {
    SshClient client = SshClient.setUpDefaultClient();
    // Nothing from the gateway host's ~/.ssh may leak into target connections: no config file,
    // no default identities, no known_hosts; only the connection's pins and vault credentials.
    client.setServerKeyVerifier(VERIFIER);
    client.setHostConfigEntryResolver(
        org.apache.sshd.client.config.hosts.HostConfigEntryResolver.EMPTY);
    client.setKeyIdentityProvider(
        org.apache.sshd.common.keyprovider.KeyIdentityProvider.EMPTY_KEYS_PROVIDER);
    client.setPasswordIdentityProvider(
        org.apache.sshd.client.auth.password.PasswordIdentityProvider.EMPTY_PASSWORDS_PROVIDER);
    // Keeps upstream sessions of quiet shells alive through NAT and firewalls; the client side
    // has its own idle timeout, so this cannot keep an abandoned session open.
    org.apache.sshd.core.CoreModuleProperties.HEARTBEAT_INTERVAL.set(
        client, SshProtocolServer.UPSTREAM_HEARTBEAT);
    client.setCipherFactories(SshProtocolServer.UPSTREAM_CIPHERS);
    org.apache.sshd.core.CoreModuleProperties.WINDOW_SIZE.set(
        client, SshProtocolServer.WINDOW_SIZE);
    org.apache.sshd.core.CoreModuleProperties.MAX_PACKET_SIZE.set(
        client, SshProtocolServer.MAX_PACKET);
    org.apache.sshd.core.CoreModuleProperties.NIO2_READ_BUFFER_SIZE.set(
        client, SshProtocolServer.READ_BUFFER);
    // No Nagle on the target leg either (see SshProtocolServer): the relay's writes there are SFTP
    // requests and window adjustments, small packets a delayed acknowledgement would hold.
    org.apache.sshd.core.CoreModuleProperties.TCP_NODELAY.set(client, true);
    client.setIoServiceFactoryFactory(new SshGatheringTransport());
    client.start();
    return client;
  }

  private record HostKeyCheck(List<PublicKey> pinned, AtomicReference<String> rejected) {}

  private static final AttributeRepository.AttributeKey<HostKeyCheck> HOST_KEY_CHECK =
      new AttributeRepository.AttributeKey<>();

  /**
   * The client-wide verifier: accepts exactly the keys pinned for the connection being opened; a
   * session opened without pins (which this class never does) is refused.
   */
  static final ServerKeyVerifier VERIFIER =
      (ClientSession cs, SocketAddress remote, PublicKey key) -> {
        AttributeRepository ctx = cs.getConnectionContext();
        HostKeyCheck check = ctx == null ? null : ctx.getAttribute(HOST_KEY_CHECK);
        if (check == null) {
          return false;
        }
        for (PublicKey p : check.pinned()) {
          if (KeyUtils.compareKeys(p, key)) {
            return true;
          }
        }
        check.rejected().set(KeyUtils.getFingerPrint(key));
        return false;
      };

  private static List<PublicKey> pinnedKeys(ConnectionConfig conn) throws GateException {
    List<PublicKey> keys = new ArrayList<>();
    if (conn.ssh() == null) {
      return keys;
    }
    for (String line : conn.ssh().hostKeys()) {
      try {
        keys.add(
            PublicKeyEntry.parsePublicKeyEntry(line.trim())
                .resolvePublicKey(null, Map.of(), PublicKeyEntryResolver.FAILING));
      } catch (Exception e) {
        throw new GateException(
            GateException.Reason.UNAVAILABLE,
            "a pinned host key of connection \"" + conn.name() + "\" cannot be read");
      }
    }
    return keys;
  }

  private static List<KeyPair> parsePrivateKey(String pem) throws IOException {
    try {
      List<KeyPair> out = new ArrayList<>();
      Iterable<KeyPair> it =
          SecurityUtils.loadKeyPairIdentities(
              null,
              NamedResource.ofName("private_key"),
              new java.io.ByteArrayInputStream(
                  pem.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
              null);
      if (it != null) {
        for (Iterator<KeyPair> i = it.iterator(); i.hasNext(); ) {
          out.add(i.next());
        }
      }
      if (out.isEmpty()) {
        throw new IOException("private_key: no key found");
      }
      return out;
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("private_key: " + e.getMessage(), e);
    }
  }

  private static void closeQuietly(ClientSession s) {
    if (s != null) {
      try {
        s.close(true);
      } catch (RuntimeException e) {
        log.debug("closing upstream", e);
      }
    }
  }

  @Override
  public void close() {
    closeQuietly(session);
  }
}
