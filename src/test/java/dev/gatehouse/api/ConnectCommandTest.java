package dev.gatehouse.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.api.GatewayFixture.Run;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gatehouse connect} in its own process: a local listener that logs psql in to the gateway
 * with the stored token, so psql needs no password.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class ConnectCommandTest {
  @TempDir static Path dir;
  static GatewayFixture gw;
  static Process connect;
  static int localPort;
  static Path connectErr;
  static String aliceTokenId;

  @BeforeAll
  static void start() throws Exception {
    gw = new GatewayFixture(dir);
    var issued = gw.server.tokens().issueForUser("alice", null, java.util.Set.of(), "test");
    String alice = issued.secret();
    aliceTokenId = issued.id();
    try (ServerSocket s = new ServerSocket(0)) {
      localPort = s.getLocalPort();
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.gatehouse.Gatehouse");
    cmd.addAll(
        List.of(
            "connect",
            "payments-db",
            "--port",
            String.valueOf(localPort),
            "--pg-address",
            "127.0.0.1:" + gw.server.postgresPort()));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("GATEHOUSE_API", gw.server.apiUrl());
    pb.environment().put("GATEHOUSE_CACERT", gw.server.tls().certificateFile().toString());
    pb.environment().put("GATEHOUSE_TOKEN", alice);
    pb.environment().put("XDG_CONFIG_HOME", Files.createDirectories(dir.resolve("xdg")).toString());
    pb.environment().remove("PGPASSWORD");
    connectErr = dir.resolve("connect.err");
    pb.redirectOutput(dir.resolve("connect.out").toFile()).redirectError(connectErr.toFile());
    connect = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", localPort), 500);
        break;
      } catch (java.io.IOException e) {
        if (!connect.isAlive() || System.nanoTime() > deadline) {
          throw new AssertionError(
              "gatehouse connect did not listen: " + Files.readString(connectErr), e);
        }
        Thread.sleep(200);
      }
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (connect != null) {
      connect.destroy();
      if (!connect.waitFor(10, TimeUnit.SECONDS)) {
        connect.destroyForcibly();
      }
    }
    if (gw != null) {
      gw.close();
    }
  }

  static Run psql(String sql) throws Exception {
    return gw.run(
        Map.of("PGPASSWORD", ""),
        List.of(
            "psql",
            "host=127.0.0.1 port=" + localPort + " dbname=payments-db user=alice sslmode=disable",
            "-X",
            "-w",
            "-v",
            "VERBOSITY=verbose",
            "-At",
            "-c",
            sql));
  }

  @Test
  @org.junit.jupiter.api.Order(1)
  void psqlNeedsNoPasswordAndTheListenerSurvivesReconnects() throws Exception {
    for (int i = 0; i < 2; i++) {
      Run r = psql("SELECT 1");
      assertThat(r.exit()).as("run %d: %s / %s", i, r.err(), Files.readString(connectErr)).isZero();
      assertThat(r.out().trim()).isEqualTo("1");
    }
    assertThat(connect.isAlive()).isTrue();
  }

  @Test
  @org.junit.jupiter.api.Order(2)
  void deniedStatementThroughTheListenerStillGets42501() throws Exception {
    Run r = psql("DROP TABLE payments");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("42501");
    assertThat(psql("SELECT count(*) FROM payments").out().trim()).isEqualTo("2");
  }

  @Test
  @org.junit.jupiter.api.Order(3)
  void afterTheStoredTokenIsRevokedPsqlIsRefusedButTheListenerKeepsRunning() throws Exception {
    String dana = gw.tokenFor("dana");
    assertThat(gw.delete("/api/v1/tokens/" + aliceTokenId, dana).status()).isEqualTo(204);
    Run r = psql("SELECT 1");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("FATAL");
    assertThat(connect.isAlive()).isTrue();
  }

  @Test
  @org.junit.jupiter.api.Order(4)
  void listenerNeverShowsTheUpstreamPassword() throws Exception {
    psql("SELECT 1");
    assertThat(Files.readString(connectErr) + String.join("\n", gw.everythingClientsSaw))
        .doesNotContain(GatewayFixture.APP_PASSWORD);
  }
}
