package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.server.GatehouseServer;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.kex.KexProposalOption;
import org.apache.sshd.common.kex.extension.KexExtensionHandler;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.SshServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-connection cipher offer ({@link SshCipherOffer}) with real clients: OpenSSH's defaults
 * get AES-GCM, a client without AES-GCM still gets AES-CTR, and a client that waits for the
 * server's KEXINIT before sending its own is not left waiting for more than the bounded wait.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshCipherOfferTest {
  SshFixture gw;

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    assumeTrue(SshFixture.available(), "OpenSSH client/server not installed");
    gw = new SshFixture(tmp);
  }

  @AfterAll
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  /** {@code ssh -v} prints one "kex: client->server cipher: ... MAC: ..." line per direction. */
  private SshFixture.Run verbose(String... options) throws Exception {
    List<String> cmd = gw.sshCommand(gw.aliceKey, "alice+box", List.of(options));
    cmd.add(1, "-v");
    cmd.add("true");
    return gw.run(cmd, Map.of(), null);
  }

  @Test
  void openSshDefaultsNegotiateAesGcmInBothDirections() throws Exception {
    var r = verbose();
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err())
        .contains("kex: client->server cipher: aes128-gcm@openssh.com MAC: <implicit>")
        .contains("kex: server->client cipher: aes128-gcm@openssh.com MAC: <implicit>");
  }

  @Test
  void openSshPreferringAes256GcmGetsIt() throws Exception {
    var r = verbose("-o", "Ciphers=aes256-gcm@openssh.com,aes128-ctr,aes128-gcm@openssh.com");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).contains("kex: client->server cipher: aes256-gcm@openssh.com");
  }

  @Test
  void openSshWithoutGcmStillConnectsWithCtr() throws Exception {
    var r = verbose("-o", "Ciphers=aes128-ctr");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err())
        .contains("kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256-etm@openssh.com")
        .contains("kex: server->client cipher: aes128-ctr MAC: hmac-sha2-256-etm@openssh.com");
  }

  @Test
  void aClientOfferingOnlyWeakerCiphersIsStillRefused() throws Exception {
    var r = verbose("-o", "Ciphers=aes128-cbc,chacha20-poly1305@openssh.com");
    assertThat(r.exit()).isEqualTo(255);
    assertThat(r.err()).contains("no matching cipher found");
  }

  /**
   * MINA's client lists aes128-ctr before AES-GCM, like OpenSSH. It holds its KEXINIT until the
   * server's has arrived when its KEX extension handler says extensions are available before the
   * exchange ({@code AvailabilityPhase.PREKEX}, to read the server's RFC 8308 flag first), which
   * the interface's default does.
   */
  private static SshClient minaClient(boolean waitForServerKexInit) {
    SshClient client = SshClient.setUpDefaultClient();
    client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
    if (waitForServerKexInit) {
      client.setKexExtensionHandler(new KexExtensionHandler() {});
    }
    client.start();
    return client;
  }

  private String[] negotiatedWith(SshClient client) throws Exception {
    try (ClientSession s =
        client.connect("alice+box", "127.0.0.1", gw.port()).verify(20_000).getSession()) {
      s.addPasswordIdentity(gw.tokenFor("alice"));
      s.auth().verify(20_000);
      assertThat(s.executeRemoteCommand("echo ok")).isEqualTo("ok\n");
      return new String[] {
        s.getNegotiatedKexParameter(KexProposalOption.C2SENC),
        s.getNegotiatedKexParameter(KexProposalOption.S2CENC)
      };
    }
  }

  @Test
  void aClientSendingItsKexInitAtOnceGetsGcm() throws Exception {
    try (SshClient client = minaClient(false)) {
      assertThat(negotiatedWith(client))
          .containsExactly("aes128-gcm@openssh.com", "aes128-gcm@openssh.com");
    }
  }

  @Test
  void aClientWaitingForTheServersKexInitGetsTheFullOfferAfterTheWait() throws Exception {
    try (SshClient client = minaClient(true)) {
      long t0 = System.nanoTime();
      String[] negotiated = negotiatedWith(client);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      // No client KEXINIT to look at: the whole list, from which MINA picks aes128-ctr.
      assertThat(negotiated).containsExactly("aes128-ctr", "aes128-ctr");
      assertThat(ms).isGreaterThanOrEqualTo(SshCipherOffer.KEXINIT_WAIT.toMillis());
    }
  }

  /**
   * At the protocol level: a client that sends its identification line and then nothing gets the
   * gateway's KEXINIT after the bounded wait, with every cipher of the listener's list.
   */
  @Test
  void silentClientReceivesTheFullKexInitAfterTheWait() throws Exception {
    try (Socket s = new Socket("127.0.0.1", gw.port())) {
      s.setSoTimeout(10_000);
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      assertThat(line(in)).startsWith("SSH-2.0-");
      long t0 = System.nanoTime();
      out.write("SSH-2.0-SilentTest_1.0\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // RFC 4253 section 6: uint32 packet_length, byte padding_length, payload, padding.
      DataInputStream data = new DataInputStream(in);
      int length = data.readInt();
      assertThat(length).isBetween(16, 35_000);
      byte[] packet = new byte[length];
      data.readFully(packet);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(packet[1]).isEqualTo((byte) 20); // SSH_MSG_KEXINIT
      List<String> lists = nameLists(packet, 2 + 16, 4); // after the cookie
      assertThat(lists.get(2).split(","))
          .containsExactlyElementsOf(
              SshProtocolServer.CLIENT_CIPHERS.stream().map(c -> c.getName()).toList());
      assertThat(lists.get(3)).isEqualTo(lists.get(2));
      assertThat(ms).isGreaterThanOrEqualTo(SshCipherOffer.KEXINIT_WAIT.toMillis() - 20);
    }
  }

  /**
   * A bare listener with the gateway's cipher list and offer, holding its KEXINIT at most {@code
   * wait} ({@code server.ssh.kexinit_wait}). It authenticates no one: the key exchange is enough.
   */
  private SshServer offerServer(Duration wait) throws Exception {
    SshServer s = SshServer.setUpDefaultServer();
    s.setHost("127.0.0.1");
    s.setPort(0);
    s.setKeyPairProvider(
        KeyPairProvider.wrap(SshHostKey.loadOrGenerate(Files.createTempDirectory(gw.dir, "hk"))));
    s.setCipherFactories(SshProtocolServer.CLIENT_CIPHERS);
    SshCipherOffer.install(s, wait);
    s.start();
    return s;
  }

  /** The first packet a client that sends only its identification line gets, within 1 s. */
  private static byte[] firstPacketWithinASecond(int port) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(1000);
      InputStream in = s.getInputStream();
      assertThat(line(in)).startsWith("SSH-2.0-");
      s.getOutputStream().write("SSH-2.0-SilentTest_1.0\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      DataInputStream data = new DataInputStream(in);
      byte[] packet = new byte[data.readInt()];
      data.readFully(packet);
      return packet;
    }
  }

  @Test
  void aZeroKexinitWaitSendsTheFullListAtOnce() throws Exception {
    // a gateway configured with server.ssh.kexinit_wait: 0s, and a listener holding it 5 s
    Path data = Files.createTempDirectory(gw.dir, "zero");
    GatehouseServer zero =
        GatehouseServer.start(
            ConfigLoader.parse(
                """
                server:
                  data_dir: data
                  api: { enabled: false }
                  postgres: { enabled: false }
                  ssh: { host: 127.0.0.1, port: 0, kexinit_wait: 0s }
                """,
                "zero.yaml",
                data,
                Map.of()));
    SshServer slow = offerServer(Duration.ofSeconds(5));
    try {
      // a silent client: the KEXINIT comes at once with every cipher, where a 5 s wait sends none
      byte[] packet = firstPacketWithinASecond(zero.sshPort());
      assertThat(packet[1]).isEqualTo((byte) 20); // SSH_MSG_KEXINIT
      assertThat(nameLists(packet, 2 + 16, 3).get(2).split(","))
          .containsExactlyElementsOf(
              SshProtocolServer.CLIENT_CIPHERS.stream().map(c -> c.getName()).toList());
      assertThatThrownBy(() -> firstPacketWithinASecond(slow.getPort()))
          .isInstanceOf(java.net.SocketTimeoutException.class);
      // OpenSSH sends its KEXINIT at once, but no longer narrows the offer: it takes aes128-ctr
      List<String> cmd = gw.sshCommand(null, "nobody", List.of("-v", "-o", "BatchMode=yes"));
      cmd.set(cmd.indexOf(String.valueOf(gw.port())), String.valueOf(zero.sshPort()));
      cmd.add("true");
      var r = gw.run(cmd, Map.of(), null);
      assertThat(r.err()).contains("kex: client->server cipher: aes128-ctr");
    } finally {
      zero.close();
      slow.stop(true);
    }
  }

  /** The gateway's own leg to the target: it asks for AES-GCM first, and OpenSSH's sshd agrees. */
  @Test
  void upstreamToOpenSshNegotiatesAesGcm() throws Exception {
    var conn =
        new GatehouseConfig.ConnectionConfig(
            "box",
            "ssh",
            "127.0.0.1",
            gw.sshdPort,
            null,
            System.getProperty("user.name"),
            null,
            Map.of(),
            null,
            Map.of(),
            null,
            new GatehouseConfig.SshTargetConfig(
                List.of(SshFixture.pubLine(gw.targetHostKey)), null));
    String key = Files.readString(gw.gatewayKey);
    SshClient client = SshUpstream.newClient();
    try (SshUpstream up =
        SshUpstream.connect(client, conn, () -> Map.of("private_key", key), (type, data) -> {})) {
      assertThat(up.session().getNegotiatedKexParameter(KexProposalOption.C2SENC))
          .isEqualTo("aes128-gcm@openssh.com");
      assertThat(up.session().getNegotiatedKexParameter(KexProposalOption.S2CENC))
          .isEqualTo("aes128-gcm@openssh.com");
    } finally {
      client.stop();
    }
  }

  @Test
  void narrowKeepsOnlyAeadAndOnlyForClientsThatListOne() {
    String ours = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes256-ctr";
    assertThat(
            SshCipherOffer.narrow(
                ours, "chacha20-poly1305@openssh.com,aes128-ctr,aes256-gcm@openssh.com"))
        .isEqualTo("aes128-gcm@openssh.com,aes256-gcm@openssh.com");
    assertThat(SshCipherOffer.narrow(ours, "aes128-ctr,aes256-ctr")).isNull();
    assertThat(SshCipherOffer.narrow(ours, "")).isNull();
    assertThat(SshCipherOffer.narrow("aes128-ctr", "aes128-gcm@openssh.com,aes128-ctr")).isNull();
  }

  private static String line(InputStream in) throws Exception {
    StringBuilder b = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      assertThat(c).isNotNegative();
      assertThat(b.length()).isLessThan(255);
      b.append((char) c);
    }
    return b.toString().strip();
  }

  /** {@code n} SSH name-lists (uint32 length, then ASCII) from {@code at}. */
  private static List<String> nameLists(byte[] p, int at, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int len =
          ((p[at] & 0xff) << 24)
              | ((p[at + 1] & 0xff) << 16)
              | ((p[at + 2] & 0xff) << 8)
              | (p[at + 3] & 0xff);
      out.add(new String(p, at + 4, len, StandardCharsets.US_ASCII));
      at += 4 + len;
    }
    return out;
  }
}
