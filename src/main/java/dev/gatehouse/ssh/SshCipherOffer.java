package dev.gatehouse.ssh;

import dev.gatehouse.config.GatehouseConfig.ListenerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.io.IoSession;
import org.apache.sshd.common.kex.KexProposalOption;
import org.apache.sshd.common.kex.extension.DefaultServerKexExtensionHandler;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.ServerFactoryManager;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.session.ServerSessionImpl;
import org.apache.sshd.server.session.SessionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cipher offer to clients, per connection. The client's order of preference decides (RFC 4253
 * section 7.1), and OpenSSH lists aes128-ctr before the AES-GCM ciphers, so from the listener's
 * full list ({@link SshProtocolServer#CLIENT_CIPHERS}) it picks aes128-ctr with hmac-sha2-256-etm,
 * about 0.8 CPU s/GB on the gateway against 0.28 for aes128-gcm (docs/benchmarks.md). Dropping CTR
 * from the list would lock out clients without AES-GCM (older libssh2 and JSch, paramiko), so the
 * offer depends on the client:
 *
 * <ul>
 *   <li>Each side sends its KEXINIT independently of the other's (section 7.1), and most clients
 *       (OpenSSH, PuTTY, paramiko, JSch, MINA) send theirs right after the version exchange. The
 *       gateway holds its own KEXINIT until the client's has arrived, at most the listener's {@code
 *       server.ssh.kexinit_wait} (default {@link #KEXINIT_WAIT}) after the client's identification
 *       line. A wait of zero sends it at once, with the full list.
 *   <li>A client that lists an AES-GCM cipher (in a direction) is offered only the AES-GCM ciphers
 *       in that direction, and picks the one it prefers among them. Every other client, and any
 *       client whose KEXINIT is later than the wait, gets the full list as before. The offer is
 *       never more than the full list, so nothing weaker is offered to anyone.
 * </ul>
 *
 * <p>The cost: for a client that sends its KEXINIT at once, the gateway's KEXINIT leaves one
 * one-way trip later than it would have (it is sent on arrival of the client's instead of after its
 * identification line); for a client that waits for the server's KEXINIT first, the wait once per
 * connection. MINA supports a peer's KEXINIT arriving before its own is sent (it negotiates once
 * both are there), so the wait needs no change to the key exchange itself: the session ({@link
 * OfferSession}) only delays its first {@code sendKexInit()}, through the documented {@link
 * SessionFactory} extension point, and this handler narrows the proposal through {@link
 * #handleKexInitProposal}, which MINA calls on the proposal it is about to send.
 */
final class SshCipherOffer extends DefaultServerKexExtensionHandler {
  private static final Logger log = LoggerFactory.getLogger(SshCipherOffer.class);

  /**
   * Default longest wait for the client's KEXINIT after its identification line ({@code
   * server.ssh.kexinit_wait}). A client that sends its KEXINIT at once has it arrive about one
   * one-way trip after its identification line (it sends it on reading the server's
   * identification), so 200 ms covers round trips up to about 400 ms; a later one only means the
   * full offer.
   */
  static final Duration KEXINIT_WAIT = ListenerConfig.KEXINIT_WAIT;

  /** The AEAD ciphers: no separate MAC, and AES-GCM is a JDK intrinsic (AES-NI, CLMUL). */
  static final Set<String> AEAD =
      Set.of(BuiltinCiphers.aes128gcm.getName(), BuiltinCiphers.aes256gcm.getName());

  /** The client's first cipher lists, client to server and server to client. */
  private static final AttributeKey<List<String>> CLIENT_CIPHERS = new AttributeKey<>();

  private static final KexProposalOption[] DIRECTIONS = {
    KexProposalOption.C2SENC, KexProposalOption.S2CENC
  };

  /**
   * Installs the offer on a listener (before it starts), holding the gateway's KEXINIT at most
   * {@code wait} for the client's; zero sends it at once (the full list).
   */
  static void install(SshServer server, Duration wait) {
    if (wait.isNegative()) {
      throw new IllegalArgumentException("kexinit wait: " + wait + " (expected: 0 or more)");
    }
    server.setKexExtensionHandler(new SshCipherOffer());
    server.setSessionFactory(
        new SessionFactory(server) {
          @Override
          protected ServerSessionImpl doCreateSession(IoSession io) throws Exception {
            return new OfferSession(getServer(), io, wait.toMillis());
          }
        });
  }

  @Override
  public void handleKexInitProposal(
      Session session, boolean initiator, Map<KexProposalOption, String> proposal)
      throws Exception {
    super.handleKexInitProposal(session, initiator, proposal); // ext-info (RFC 8308)
    if (!initiator) {
      if (session.getAttribute(CLIENT_CIPHERS) == null) { // the first KEXINIT, not a re-exchange
        session.setAttribute(
            CLIENT_CIPHERS,
            List.of(
                nullToEmpty(proposal.get(KexProposalOption.C2SENC)),
                nullToEmpty(proposal.get(KexProposalOption.S2CENC))));
      }
      return;
    }
    // MINA builds the proposal once per session (the first KEXINIT) and reuses it on re-exchanges.
    List<String> client = session.getAttribute(CLIENT_CIPHERS);
    if (client == null) {
      log.debug("ssh: no client KEXINIT within the wait; offering every cipher");
      return;
    }
    for (int i = 0; i < DIRECTIONS.length; i++) {
      String narrowed = narrow(proposal.get(DIRECTIONS[i]), client.get(i));
      if (narrowed != null) {
        proposal.put(DIRECTIONS[i], narrowed);
      }
    }
  }

  /**
   * The AEAD ciphers of {@code ours} (in our order) when {@code theirs} lists at least one of them,
   * else null (keep the full list).
   */
  static String narrow(String ours, String theirs) {
    List<String> aead = new ArrayList<>();
    for (String c : split(ours)) {
      if (AEAD.contains(c)) {
        aead.add(c);
      }
    }
    for (String c : split(theirs)) {
      if (aead.contains(c)) {
        return String.join(",", aead);
      }
    }
    return null;
  }

  @Override
  public void handleKexExtensionNegotiation(
      Session session,
      KexProposalOption option,
      String negotiated,
      Map<KexProposalOption, String> c2sOptions,
      String clientValue,
      Map<KexProposalOption, String> s2cOptions,
      String serverValue)
      throws Exception {
    super.handleKexExtensionNegotiation(
        session, option, negotiated, c2sOptions, clientValue, s2cOptions, serverValue);
    if (log.isDebugEnabled()
        && (option == KexProposalOption.C2SENC
            || option == KexProposalOption.S2CENC
            || option == KexProposalOption.C2SMAC
            || option == KexProposalOption.S2CMAC)) {
      log.debug("ssh: {} negotiated {}: {}", session, option.getDescription(), negotiated);
    }
  }

  private static List<String> split(String list) {
    return list == null || list.isEmpty() ? List.of() : Arrays.asList(list.split(","));
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }

  /** A server session that sends its first KEXINIT once the client's is in, or after the wait. */
  static final class OfferSession extends ServerSessionImpl {
    private static final int NEW = 0;
    private static final int WAITING = 1;
    private static final int SENT = 2;

    private final AtomicInteger first;
    private final long waitMillis;
    private volatile ScheduledFuture<?> timer;

    /** {@code waitMillis} zero: no wait, the first KEXINIT goes out as MINA sends it. */
    OfferSession(ServerFactoryManager server, IoSession io, long waitMillis) throws Exception {
      super(server, io);
      this.waitMillis = waitMillis;
      this.first = new AtomicInteger(waitMillis == 0 ? SENT : NEW);
    }

    /**
     * The first call comes from reading the client's identification line (MINA's {@code
     * readIdentification}, which set the exchange's state to INIT): held. Later ones (a
     * re-exchange) go out at once.
     */
    @Override
    protected byte[] sendKexInit() throws Exception {
      if (first.compareAndSet(NEW, WAITING)) {
        timer =
            getFactoryManager()
                .getScheduledExecutorService()
                .schedule(this::sendHeld, waitMillis, TimeUnit.MILLISECONDS);
        return null; // the caller does not use it; the seed is kept by the real send
      }
      return super.sendKexInit();
    }

    /**
     * The client's KEXINIT: MINA records it and, while ours is still held, waits for ours before it
     * negotiates; ours then goes out, built with the client's lists at hand.
     */
    @Override
    protected void handleKexInit(Buffer buffer) throws Exception {
      super.handleKexInit(buffer);
      if (first.compareAndSet(WAITING, SENT)) {
        ScheduledFuture<?> t = timer;
        if (t != null) {
          t.cancel(false);
        }
        super.sendKexInit();
      }
    }

    /** The wait is over without the client's KEXINIT: the full offer. */
    private void sendHeld() {
      if (!first.compareAndSet(WAITING, SENT) || !isOpen()) {
        return;
      }
      try {
        super.sendKexInit();
      } catch (Exception e) {
        exceptionCaught(e);
      }
    }
  }
}
