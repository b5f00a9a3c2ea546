package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.Redactor;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.postgres.PgCodec.Message;
import dev.gatehouse.postgres.PgProtocolRedTeamTest.Raw;
import dev.gatehouse.postgres.PgTestSupport.Decided;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Secrets that reach the client or the recording in an encoded form (red team, eleventh session):
 * bytea in binary format (raw bytes) and in text format ({@code \x} hex), a bytea Bind parameter
 * recorded as hex, an {@code E''} literal whose escapes hide a keyword from the stored-text
 * redactor, and json, jsonb and record values in binary format read by pgjdbc. Through the real
 * gateway with the real masking engine ({@code default} profile: credentials) on the embedded
 * PostgreSQL of {@link PgTestSupport}.
 */
class PgEncodedSecretsTest {
  static final String SECRET = "Kx7Secret22Abc";
  static final String ASSIGNMENT = "password=" + SECRET;
  static final String STRIPE = "sk_live_RtBinaryParam0123456789ab";

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
    MaskingEngine engine =
        MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "enc"), 0));
    gate =
        t.gateWith(() -> t.new TestPolicy())
            .redactor(Redactor.of(engine::redact, engine::redactStored))
            .reviews(
                (sessionId, principal, target, action, decision, waiting) ->
                    new ReviewGate.Outcome(false, "none", "no reviews in this test"))
            .build();
    server = t.serve(gate, engine);
  }

  @AfterAll
  static void stop() {
    server.close();
    gate.close();
  }

  private static Connection jdbc(String extra) throws Exception {
    return PgTestSupport.plainJdbc(server, "conn", "alice", TOKEN_ALICE, "&" + extra);
  }

  private static String hex(String s) {
    return HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
  }

  /** Every value of every DataRow, as bytes (null for SQL NULL). */
  static List<byte[]> values(List<Message> ms) throws Exception {
    List<byte[]> out = new ArrayList<>();
    for (Message m : ms) {
      if (m.kind() == 'D') {
        PgCodec.Reader r = new PgCodec.Reader(m.body());
        int n = r.int16();
        for (int i = 0; i < n; i++) {
          int len = r.int32();
          out.add(len < 0 ? null : r.bytes(len));
        }
      }
    }
    return out;
  }

  private static String utf8(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  /** #3: FETCH from a BINARY cursor sends bytea as its raw bytes, the plaintext. */
  @Test
  void binaryCursorBytesAreScannedAsText() throws Exception {
    try (Raw r = new Raw(server.address().getPort())) {
      r.query("BEGIN");
      r.query(
          "DECLARE enc_c BINARY CURSOR FOR SELECT convert_to('"
              + ASSIGNMENT
              + "', 'UTF8') AS b, convert_to('"
              + STRIPE
              + "', 'UTF8') || '\\xff00'::bytea AS glued, '\\x00010203'::bytea AS blob");
      List<byte[]> v = values(r.query("FETCH ALL FROM enc_c"));
      r.query("COMMIT");
      assertThat(v).hasSize(3);
      assertThat(utf8(v.get(0))).startsWith("password=").doesNotContain(SECRET);
      // not valid UTF-8: the invalid bytes are kept, the text around them scanned
      assertThat(utf8(v.get(1))).doesNotContain(STRIPE).doesNotContain("RtBinaryParam");
      byte[] glued = v.get(1);
      assertThat(glued[glued.length - 2]).isEqualTo((byte) 0xff);
      assertThat(glued[glued.length - 1]).isEqualTo((byte) 0);
      assertThat(v.get(2)).containsExactly(0, 1, 2, 3); // bytes without a finding pass as they are
    }
  }

  /** #3, text format: the {@code \x} hex of a secret decodes to the secret. */
  @Test
  void hexTextOfByteaIsMasked() throws Exception {
    try (Connection c = jdbc("preferQueryMode=simple");
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT convert_to('"
                    + ASSIGNMENT
                    + "', 'UTF8') AS b, ARRAY[convert_to('"
                    + STRIPE
                    + "', 'UTF8')] AS a, ROW(1, convert_to('"
                    + STRIPE
                    + "', 'UTF8')) AS r, '\\x0001'::bytea AS plain")) {
      assertThat(rs.next()).isTrue();
      String b = rs.getString(1);
      assertThat(b).startsWith("\\x").doesNotContainIgnoringCase(hex(SECRET));
      assertThat(utf8(HexFormat.of().parseHex(b.substring(2))))
          .startsWith("password=")
          .doesNotContain(SECRET);
      assertThat(rs.getBytes(1)).asString(StandardCharsets.UTF_8).doesNotContain(SECRET);
      assertThat(rs.getString(2)).startsWith("{").doesNotContainIgnoringCase(hex(STRIPE));
      assertThat(rs.getString(3)).startsWith("(1,").doesNotContainIgnoringCase(hex(STRIPE));
      assertThat(rs.getString(4)).isEqualTo("\\x0001");
    }
  }

  /** #3, COPY: bytea columns are written as hex (with the backslash doubled). */
  @Test
  void hexOfByteaInCopyRowsIsMasked() throws Exception {
    try (Connection c = jdbc("preferQueryMode=simple")) {
      java.io.StringWriter out = new java.io.StringWriter();
      new org.postgresql.copy.CopyManager(c.unwrap(org.postgresql.core.BaseConnection.class))
          .copyOut(
              "COPY (SELECT 1 AS id, convert_to('"
                  + STRIPE
                  + "', 'UTF8') AS b, '\\x00010203'::bytea AS plain) TO STDOUT",
              out);
      String row = out.toString();
      assertThat(row)
          .startsWith("1\t\\\\x")
          .doesNotContainIgnoringCase(hex(STRIPE).substring(0, 16));
      assertThat(row).endsWith("\t\\\\x00010203\n");
      String hexOfMasked = row.substring(5, row.indexOf('\t', 5));
      assertThat(utf8(HexFormat.of().parseHex(hexOfMasked))).startsWith("[REDACTED:");
    }
  }

  /** #3, extended protocol: a Bind asking for bytea in binary format (pgjdbc does by default). */
  @Test
  void binaryByteaOfAPreparedStatementIsMasked() throws Exception {
    try (Connection c = jdbc("prepareThreshold=-1");
        PreparedStatement ps =
            c.prepareStatement("SELECT convert_to(?, 'UTF8') AS b, '\\x0001'::bytea AS plain")) {
      ps.setString(1, "note: " + STRIPE + " end");
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(utf8(rs.getBytes(1)))
            .startsWith("note: ")
            .endsWith(" end")
            .doesNotContain(STRIPE);
        assertThat(rs.getBytes(2)).containsExactly(0, 1);
      }
    }
  }

  /** #9: a bytea Bind parameter was recorded as the hex of its bytes. */
  @Test
  void binaryParameterIsRecordedAsMaskedText() throws Exception {
    try (Connection c = jdbc("prepareThreshold=-1");
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT length(?) + length(?) + length(?) + ? AS n /* enc-bind */")) {
      ps.setBytes(1, STRIPE.getBytes(StandardCharsets.UTF_8));
      byte[] glued = ("\u0001" + STRIPE + "?").getBytes(StandardCharsets.UTF_8);
      glued[glued.length - 1] = (byte) 0xff; // not UTF-8
      ps.setBytes(2, glued);
      ps.setBytes(3, new byte[] {0, 1, 2, 3, 'a', (byte) 0xff});
      ps.setInt(4, 7);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
      }
    }
    Decided d =
        t.decided.stream()
            .filter(x -> x.raw().contains("/* enc-bind */"))
            .reduce((a, b) -> b)
            .get();
    @SuppressWarnings("unchecked")
    List<String> params = (List<String>) d.action().attributes().get("parameters");
    assertThat(params).hasSize(4);
    assertThat(String.join("|", params))
        .doesNotContain(STRIPE)
        .doesNotContain("RtBinaryParam")
        .doesNotContainIgnoringCase(hex(STRIPE).substring(0, 16));
    assertThat(params.get(0)).isEqualTo("(binary) [REDACTED:credential]");
    assertThat(params.get(1)).isEqualTo("(binary) \u0001[REDACTED:credential]\uFFFD");
    assertThat(params.get(2)).isEqualTo("\\x0001020361ff");
    assertThat(params.get(3)).isEqualTo("\\x00000007");
  }

  /** #11: the escapes of an E'' literal hid the keyword from the stored statement's redaction. */
  @Test
  void escapeStringLiteralIsRedactedInTheStoredStatement() throws Exception {
    try (Connection c = jdbc("preferQueryMode=simple");
        Statement s = c.createStatement()) {
      s.execute("SELECT E'pass\\x77ord=" + SECRET + "' /* enc-e1 */");
      s.execute("SELECT E'a\\x1f--password NmMZTb@ix0wQ' /* enc-e2 */");
      s.execute("SELECT U&'pass\\0077ord=" + SECRET + "' /* enc-e3 */");
      s.execute("SELECT E'tab\\there', 'plain' /* enc-e4 */");
      s.execute("SELECT U&'pass!0077ord=" + SECRET + "' UESCAPE '!' /* enc-e6 */");
      s.execute("SELECT '\\x" + hex(ASSIGNMENT) + "'::bytea /* enc-e7 */");
    }
    String e1 = lastRaw("/* enc-e1 */");
    assertThat(e1).doesNotContain(SECRET).contains("password=").endsWith("/* enc-e1 */");
    assertThat(lastRaw("/* enc-e2 */")).doesNotContain("NmMZTb@ix0wQ");
    assertThat(lastRaw("/* enc-e3 */")).doesNotContain(SECRET);
    assertThat(lastRaw("/* enc-e6 */")).doesNotContain(SECRET);
    // Written back as E'\\x…': the same value under either standard_conforming_strings.
    assertThat(lastRaw("/* enc-e7 */")).startsWith("SELECT E'\\\\x").doesNotContain(hex(SECRET));
    // escapes without a finding stay as they were typed
    assertThat(lastRaw("/* enc-e4 */")).isEqualTo("SELECT E'tab\\there', 'plain' /* enc-e4 */");
  }

  private static String lastRaw(String marker) {
    return t.decided.stream()
        .filter(x -> x.raw().contains(marker))
        .reduce((a, b) -> b)
        .orElseThrow()
        .raw();
  }

  /**
   * #13: json, jsonb and record values in binary format (pgjdbc {@code binaryTransferEnable}) come
   * masked, not NULL. pgjdbc's getString/getObject give null for a binary value of a type it does
   * not decode itself (the same straight from PostgreSQL); getBytes gives the value.
   */
  @Test
  void binaryJsonJsonbAndRecordAreMaskedNotNull() throws Exception {
    String sql =
        "SELECT to_json('"
            + ASSIGNMENT
            + "'::text) AS j, jsonb_build_object('k', '"
            + ASSIGNMENT
            + "') AS jb, ROW(1, '"
            + ASSIGNMENT
            + "'::text) AS r";
    String opts = "prepareThreshold=-1&binaryTransferEnable=114,3802,2249";
    try (Connection c = jdbc(opts);
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      assertThat(rs.next()).isTrue();
      assertThat(utf8(rs.getBytes(1))).startsWith("\"password=[REDACTED:").doesNotContain(SECRET);
      byte[] jb = rs.getBytes(2);
      assertThat(jb[0]).isEqualTo((byte) 1); // jsonb's version byte
      assertThat(utf8(jb)).contains("[REDACTED:").doesNotContain(SECRET);
      byte[] r = rs.getBytes(3);
      assertThat(r).isNotNull();
      assertThat(utf8(r)).contains("password=").doesNotContain(SECRET);
      assertThat(rs.getString(1)).isNull(); // pgjdbc does not decode binary json itself
    }
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:"
                    + t.pg.getPort()
                    + "/gh_test?user=postgres&"
                    + opts);
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getBytes(1)).isNotNull();
      // what the red team read as "every value NULL": pgjdbc, not the gateway
      assertThat(rs.getString(1)).isNull();
      assertThat(rs.getString(2)).isNull();
      assertThat(rs.getString(3)).isNull();
    }
  }
}
