package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_ALICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.postgres.PgCodec.Message;
import dev.gatehouse.postgres.PgTestSupport.Run;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile and unusual peers: malformed and oversized frames, request codes, abrupt disconnects on
 * either side, and review holds. The gateway must answer 08P01 and keep serving others.
 */
class PgEdgeTest {
  private static PgTestSupport t;

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS edge_items (id int)");
    }
  }

  /** A raw plaintext client that has logged in and seen ReadyForQuery. */
  private static Socket login() throws Exception {
    return login("alice", TOKEN_ALICE, "conn");
  }

  private static Socket login(String user, String token, String connection) throws Exception {
    Socket s = startup(user, token, connection);
    Message m;
    do {
      m = PgCodec.readMessage(s.getInputStream(), PgCodec::serverLimit);
    } while (m.kind() != 'Z');
    return s;
  }

  /** Sends the startup and password messages (no client_encoding: the target's default). */
  private static Socket startup(String user, String token, String connection) throws Exception {
    Socket s = new Socket("127.0.0.1", t.plaintextServer.address().getPort());
    s.setSoTimeout(10_000);
    Map<String, String> p = new LinkedHashMap<>();
    p.put("user", user);
    p.put("database", connection);
    OutputStream out = s.getOutputStream();
    out.write(PgMessages.startupMessage(p));
    out.flush();
    InputStream in = s.getInputStream();
    Message m = PgCodec.readMessage(in, PgCodec::serverLimit);
    assertThat(m.kind()).isEqualTo('R');
    out.write(PgMessages.passwordMessage(token));
    out.flush();
    return s;
  }

  /** The FATAL the client gets next, skipping what came before it; the connection then closes. */
  private static Map<Character, String> nextFatal(Socket s) throws Exception {
    Message m;
    do {
      m = PgCodec.readMessage(s.getInputStream(), PgCodec::serverLimit);
      assertThat(m).as("a FATAL before the end of the stream").isNotNull();
      assertThat(m.kind()).as("no ReadyForQuery before the FATAL").isNotEqualTo('Z');
    } while (m.kind() != 'E');
    Map<Character, String> f = PgMessages.parseFields(m.body());
    assertThat(f.get('S')).isEqualTo("FATAL");
    assertThat(s.getInputStream().read()).isEqualTo(-1);
    return f;
  }

  @Test
  void pastTheConnectionLimitTheStartupGets53300AndTheOthersGoOn() throws Exception {
    t.plaintextServer.maxConnections(1);
    try (Socket first = login()) {
      try (Socket second = new Socket("127.0.0.1", t.plaintextServer.address().getPort())) {
        second.setSoTimeout(10_000);
        second.getOutputStream().write(PgMessages.startupMessage(Map.of("user", "alice")));
        Map<Character, String> f = nextFatal(second);
        assertThat(f.get('C')).isEqualTo(PgErrors.TOO_MANY_CONNECTIONS);
        assertThat(f.get('M')).contains("too many connections (at most 1)");
      }
      // the first session is untouched
      OutputStream out = first.getOutputStream();
      out.write(PgMessages.query("SELECT 1"));
      out.flush();
      Message m;
      do {
        m = PgCodec.readMessage(first.getInputStream(), PgCodec::serverLimit);
      } while (m.kind() != 'Z');
    } finally {
      t.plaintextServer.maxConnections(PgProtocolServer.MAX_CONNECTIONS);
    }
    gatewayStillServes();
  }

  @Test
  void anEncodingTheGatewayCannotReadEndsTheSession() throws Exception {
    // SJIS can end a character in 0x5C, a backslash to a UTF-8 reader: what the gateway took for
    // one statement could be two to the server. bench may run anything, so the SET reaches the
    // target; its ParameterStatus ends the session.
    try (Socket s = login("bench", PgTestSupport.TOKEN_BENCH, "conn")) {
      OutputStream out = s.getOutputStream();
      out.write(PgMessages.query("SET client_encoding = 'SJIS'"));
      out.flush();
      Map<Character, String> f = nextFatal(s);
      assertThat(f.get('C')).isEqualTo(PgErrors.FEATURE_NOT_SUPPORTED);
      assertThat(f.get('M')).contains("client_encoding is SJIS").contains("use UTF8");
    }
    // A database whose default is such an encoding: refused at startup.
    try (Connection c = t.direct("gh_test");
        Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS gh_sjis");
      st.execute(
          "CREATE DATABASE gh_sjis ENCODING 'EUC_JP' LC_COLLATE 'C' LC_CTYPE 'C'"
              + " TEMPLATE template0");
      st.execute("ALTER DATABASE gh_sjis SET client_encoding = 'SJIS'");
    }
    t.addConnection("conn_sjis", "gh_sjis", "gh_scram", "disable");
    try (Socket s = startup("bench", PgTestSupport.TOKEN_BENCH, "conn_sjis")) {
      Map<Character, String> f = nextFatal(s);
      assertThat(f.get('C')).isEqualTo(PgErrors.FEATURE_NOT_SUPPORTED);
      assertThat(f.get('M')).contains("client_encoding is SJIS");
    }
    gatewayStillServes();
  }

  private static Map<Character, String> expectFatal(Socket s) throws Exception {
    Message m = PgCodec.readMessage(s.getInputStream(), PgCodec::serverLimit);
    assertThat(m.kind()).isEqualTo('E');
    Map<Character, String> f = PgMessages.parseFields(m.body());
    assertThat(f.get('S')).isEqualTo("FATAL");
    assertThat(s.getInputStream().read()).isEqualTo(-1); // and the connection is closed
    return f;
  }

  private static void gatewayStillServes() throws Exception {
    try (Connection c = t.jdbc("conn", "alice", TOKEN_ALICE, "");
        ResultSet rs = c.createStatement().executeQuery("SELECT 'alive'")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("alive");
    }
  }

  @Test
  void oversizedMessageIsFatalProtocolViolation() throws Exception {
    try (Socket s = login()) {
      OutputStream out = s.getOutputStream();
      out.write(new byte[] {'Q', 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xf0});
      out.flush();
      Map<Character, String> f = expectFatal(s);
      assertThat(f.get('C')).isEqualTo("08P01");
      assertThat(f.get('M')).contains("invalid length");
    }
    gatewayStillServes();
  }

  @Test
  void aQueryWithBytesAfterItsStringIsFatalAndNotForwarded() throws Exception {
    // rt12 finding 9: classified by the text before the first NUL, the whole message was
    // forwarded, and the target's own error (with its source file and line) came back.
    try (Socket s = login()) {
      OutputStream out = s.getOutputStream();
      out.write(new PgCodec.Builder('Q').cstring("SELECT 1").cstring("; DELETE FROM t").frame());
      out.flush();
      Map<Character, String> f = expectFatal(s);
      assertThat(f.get('C')).isEqualTo(PgErrors.PROTOCOL_VIOLATION);
      assertThat(f.get('M')).startsWith("gatehouse: invalid message format");
      assertThat(f).doesNotContainKeys('F', 'L', 'R');
    }
    gatewayStillServes();
  }

  @Test
  void unknownMessageTypeIsFatalProtocolViolation() throws Exception {
    try (Socket s = login()) {
      s.getOutputStream().write(new byte[] {'z', 0, 0, 0, 4});
      s.getOutputStream().flush();
      assertThat(expectFatal(s).get('C')).isEqualTo("08P01");
    }
    gatewayStillServes();
  }

  @Test
  void oversizedStartupPacketIsRefused() throws Exception {
    try (Socket s = new Socket("127.0.0.1", t.plaintextServer.address().getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(new byte[] {0, 1, 0, 0, 0, 3, 0, 0});
      s.getOutputStream().flush();
      assertThat(expectFatal(s).get('C')).isEqualTo("08P01");
    }
    gatewayStillServes();
  }

  @Test
  void gssEncryptionAndTlsRequestsAreAnsweredNWhenNotOffered() throws Exception {
    try (Socket s = new Socket("127.0.0.1", t.plaintextServer.address().getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      DataInputStream in = new DataInputStream(s.getInputStream());
      out.write(new PgCodec.Builder().int32(PgCodec.GSSENC_REQUEST).frame());
      out.flush();
      assertThat((char) in.read()).isEqualTo('N');
      out.write(PgMessages.sslRequest());
      out.flush();
      assertThat((char) in.read()).isEqualTo('N');
      out.write(PgMessages.startupMessage(Map.of("user", "alice", "database", "conn")));
      out.flush();
      assertThat(PgCodec.readMessage(in, PgCodec::serverLimit).kind()).isEqualTo('R');
    }
  }

  @Test
  void newerMinorVersionAndProtocolOptionsAreNegotiatedDown() throws Exception {
    try (Socket s = new Socket("127.0.0.1", t.plaintextServer.address().getPort())) {
      s.setSoTimeout(10_000);
      byte[] startup =
          new PgCodec.Builder()
              .int32(PgCodec.PROTOCOL_3_0 | 2)
              .cstring("user")
              .cstring("alice")
              .cstring("database")
              .cstring("conn")
              .cstring("_pq_.test_option")
              .cstring("1")
              .int8(0)
              .frame();
      s.getOutputStream().write(startup);
      s.getOutputStream().flush();
      Message m = PgCodec.readMessage(s.getInputStream(), PgCodec::serverLimit);
      assertThat(m.kind()).isEqualTo('v');
      PgCodec.Reader r = new PgCodec.Reader(m.body());
      assertThat(r.int32()).isEqualTo(PgCodec.PROTOCOL_3_0);
      assertThat(r.int32()).isEqualTo(1);
      assertThat(r.cstring()).isEqualTo("_pq_.test_option");
      assertThat(PgCodec.readMessage(s.getInputStream(), PgCodec::serverLimit).kind())
          .isEqualTo('R');
    }
  }

  @Test
  void unsupportedProtocolVersionIsRefused() throws Exception {
    try (Socket s = new Socket("127.0.0.1", t.plaintextServer.address().getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(new PgCodec.Builder().int32(2 << 16).int8(0).frame());
      s.getOutputStream().flush();
      assertThat(expectFatal(s).get('C')).isEqualTo("0A000");
    }
  }

  @Test
  void targetDisconnectEndsTheClientConnection() throws Exception {
    try (Connection c = t.jdbc("conn", "alice", TOKEN_ALICE, "")) {
      int pid;
      try (ResultSet rs = c.createStatement().executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        pid = rs.getInt(1);
      }
      try (Connection d = t.direct("gh_test")) {
        d.createStatement().execute("SELECT pg_terminate_backend(" + pid + ")");
      }
      Thread.sleep(300);
      assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT 1"))
          .isInstanceOf(SQLException.class)
          .satisfies(
              e -> assertThat(((SQLException) e).getSQLState()).isIn("57P01", "08006", "08003"));
    }
  }

  @Test
  void clientDisconnectEndsTheTargetConnection() throws Exception {
    int pid;
    int before = t.gate.liveSessions();
    try (Socket s = login()) {
      OutputStream out = s.getOutputStream();
      out.write(PgMessages.query("SELECT pg_backend_pid()"));
      out.flush();
      Message m;
      String value = null;
      do {
        m = PgCodec.readMessage(s.getInputStream(), PgCodec::serverLimit);
        if (m.kind() == 'D') {
          PgCodec.Reader r = new PgCodec.Reader(m.body());
          r.int16();
          value = new String(r.bytes(r.int32()), java.nio.charset.StandardCharsets.UTF_8);
        }
      } while (m.kind() != 'Z');
      pid = Integer.parseInt(value);
      s.setSoLinger(true, 0); // abrupt: RST, no Terminate
    }
    long deadline = System.currentTimeMillis() + 10_000;
    boolean gone = false;
    while (!gone && System.currentTimeMillis() < deadline) {
      try (Connection d = t.direct("gh_test");
          ResultSet rs =
              d.createStatement()
                  .executeQuery("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)) {
        rs.next();
        gone = rs.getInt(1) == 0;
      }
      Thread.sleep(100);
    }
    assertThat(gone).isTrue();
    assertThat(t.gate.liveSessions()).isLessThanOrEqualTo(before);
  }

  @Test
  void bindToStatementPreparedInSqlIsRefused() throws Exception {
    try (Socket s = login()) {
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(PgMessages.query("PREPARE sneaky AS SELECT 1"));
      out.flush();
      Message m;
      do {
        m = PgCodec.readMessage(in, PgCodec::serverLimit);
      } while (m.kind() != 'Z');
      // Bind("" portal, "sneaky" statement, no params, no result formats), Execute, Sync
      out.write(
          new PgCodec.Builder('B')
              .cstring("")
              .cstring("sneaky")
              .int16(0)
              .int16(0)
              .int16(0)
              .frame());
      out.write(new PgCodec.Builder('E').cstring("").int32(0).frame());
      out.write(new PgCodec.Builder('S').frame());
      out.flush();
      m = PgCodec.readMessage(in, PgCodec::serverLimit);
      assertThat(m.kind()).isEqualTo('E');
      assertThat(PgMessages.parseFields(m.body()).get('C')).isEqualTo("26000");
      m = PgCodec.readMessage(in, PgCodec::serverLimit);
      assertThat(m.kind()).isEqualTo('Z');
      assertThat(m.body()[0]).isEqualTo((byte) 'I');
    }
  }

  @Test
  void rowFilterSeamCanRewriteResultRows() throws Exception {
    RowFilter stars =
        new RowFilter() {
          @Override
          public void onRowDescription(byte[] body) {}

          @Override
          public byte[] filterDataRow(byte[] body) {
            try {
              PgCodec.Reader r = new PgCodec.Reader(body);
              int n = r.int16();
              PgCodec.Builder b = new PgCodec.Builder('D').int16(n);
              for (int i = 0; i < n; i++) {
                int len = r.int32();
                if (len < 0) {
                  b.int32(-1);
                } else {
                  r.bytes(len);
                  b.int32(3).bytes("***".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
              }
              return b.body();
            } catch (PgCodec.ProtocolViolation e) {
              throw new IllegalStateException(e);
            }
          }
        };
    try (PgProtocolServer masked =
        new PgProtocolServer(t.gate, "127.0.0.1", 0, null, true, t.connections::get)) {
      masked.rowFilters(gs -> stars);
      masked.start();
      try (Connection c =
              java.sql.DriverManager.getConnection(
                  "jdbc:postgresql://127.0.0.1:"
                      + masked.address().getPort()
                      + "/conn?sslmode=disable&user=alice&password="
                      + TOKEN_ALICE);
          ResultSet rs = c.createStatement().executeQuery("SELECT 'secret', NULL::text")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("***");
        assertThat(rs.getString(2)).isNull();
      }
    }
  }

  @Test
  void heldStatementTellsTheClientTheReviewId() throws Exception {
    Run r =
        t.psql(
            TOKEN_ALICE,
            "alice",
            "conn",
            "require",
            "-c",
            "TRUNCATE edge_items",
            "-c",
            "SELECT 'done'");
    assertThat(r.exit()).as(r.all()).isZero();
    assertThat(r.err()).contains("held for review rev-42").contains("ask a dba");
    assertThat(r.out()).contains("done");
  }
}
