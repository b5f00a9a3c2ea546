package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.postgres.PgCodec.Message;
import dev.gatehouse.postgres.PgCodec.ProtocolViolation;
import dev.gatehouse.postgres.PgCodec.Startup;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Codec, message and helper tests on byte fixtures, without sockets. */
class PgCodecTest {

  private static ByteArrayInputStream in(byte[]... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return new ByteArrayInputStream(b.toByteArray());
  }

  private static byte[] hex(String h) {
    return java.util.HexFormat.of().parseHex(h.replace(" ", ""));
  }

  @Test
  void parsesStartupMessageParameters() throws Exception {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("user", "alice");
    params.put("database", "conn");
    params.put("application_name", "psql");
    Startup s = PgCodec.readStartup(in(PgMessages.startupMessage(params)));
    assertThat(s.isProtocol3()).isTrue();
    assertThat(s.minorVersion()).isZero();
    assertThat(s.parameters()).containsExactlyEntriesOf(params);
  }

  @Test
  void parsesSslRequestFromBytes() throws Exception {
    Startup s = PgCodec.readStartup(in(hex("00000008 04d2162f")));
    assertThat(s.code()).isEqualTo(PgCodec.SSL_REQUEST);
  }

  @Test
  void parsesCancelRequest() throws Exception {
    Startup s = PgCodec.readStartup(in(PgMessages.cancelRequest(1234, -5)));
    assertThat(s.code()).isEqualTo(PgCodec.CANCEL_REQUEST);
    PgCodec.Reader r = new PgCodec.Reader(s.body());
    assertThat(r.int32()).isEqualTo(1234);
    assertThat(r.int32()).isEqualTo(-5);
  }

  @Test
  void oversizedStartupPacketIsRejected() {
    assertThatThrownBy(() -> PgCodec.readStartup(in(hex("00002711 00030000"))))
        .isInstanceOf(ProtocolViolation.class)
        .hasMessageContaining("10001");
    assertThatThrownBy(() -> PgCodec.readStartup(in(hex("00000004"))))
        .isInstanceOf(ProtocolViolation.class);
  }

  @Test
  void unterminatedStartupParametersAreRejected() throws Exception {
    Startup s = PgCodec.readStartup(in(hex("0000000e 00030000 7573657200 6162")));
    assertThatThrownBy(s::parameters).isInstanceOf(ProtocolViolation.class);
  }

  @Test
  void duplicateStartupParameterIsRejected() throws Exception {
    byte[] body = "user\0a\0user\0b\0\0".getBytes(StandardCharsets.US_ASCII);
    Startup s = new Startup(PgCodec.PROTOCOL_3_0, body);
    assertThatThrownBy(s::parameters).hasMessageContaining("given twice");
  }

  @Test
  void framesTypedMessages() throws Exception {
    byte[] q = PgMessages.query("select 1");
    assertThat(q).startsWith(hex("51 0000000d"));
    Message m = PgCodec.readMessage(in(q, PgMessages.terminate()), PgCodec::clientLimit);
    assertThat(m.kind()).isEqualTo('Q');
    assertThat(new PgCodec.Reader(m.body()).cstring()).isEqualTo("select 1");
  }

  @Test
  void readsPipelinedMessagesInOrderAndEofCleanly() throws Exception {
    ByteArrayInputStream s = in(PgMessages.parse("s1", "select 1"), hex("53 00000004"));
    assertThat(PgCodec.readMessage(s, PgCodec::clientLimit).kind()).isEqualTo('P');
    assertThat(PgCodec.readMessage(s, PgCodec::clientLimit).kind()).isEqualTo('S');
    assertThat(PgCodec.readMessage(s, PgCodec::clientLimit)).isNull();
  }

  @Test
  void oversizedMessageIsRejectedBeforeAllocation() {
    // a Sync claiming 1 MiB: small messages are capped at PQ_SMALL_MESSAGE_LIMIT
    assertThatThrownBy(() -> PgCodec.readMessage(in(hex("53 00100004")), PgCodec::clientLimit))
        .isInstanceOf(ProtocolViolation.class)
        .hasMessageContaining("'S'");
    // a Query claiming 2 GiB-ish (negative as int32)
    assertThatThrownBy(() -> PgCodec.readMessage(in(hex("51 ffffffff")), PgCodec::clientLimit))
        .isInstanceOf(ProtocolViolation.class);
    // a Query beyond the SQL text limit
    int tooLong = PgCodec.MAX_SQL_TEXT_MESSAGE + 5;
    byte[] head = new PgCodec.Builder().int32(tooLong).frame();
    byte[] typed = new byte[] {'Q', head[4], head[5], head[6], head[7]};
    assertThatThrownBy(() -> PgCodec.readMessage(in(typed), PgCodec::clientLimit))
        .isInstanceOf(ProtocolViolation.class);
    // a length below 4
    assertThatThrownBy(() -> PgCodec.readMessage(in(hex("51 00000003")), PgCodec::clientLimit))
        .isInstanceOf(ProtocolViolation.class);
  }

  @Test
  void truncatedMessageIsAnEof() {
    assertThatThrownBy(() -> PgCodec.readMessage(in(hex("51 00000010 6162")), PgCodec::clientLimit))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void errorFieldsRoundTrip() throws Exception {
    byte[] e = PgMessages.error("ERROR", "42501", "gatehouse: denied");
    Message m = PgCodec.readMessage(in(e), PgCodec::serverLimit);
    assertThat(m.kind()).isEqualTo('E');
    assertThat(PgMessages.parseFields(m.body()))
        .containsEntry('S', "ERROR")
        .containsEntry('C', "42501")
        .containsEntry('M', "gatehouse: denied");
  }

  @Test
  void commandTagRows() {
    assertThat(PgMessages.tagRows("INSERT 0 5")).isEqualTo(5);
    assertThat(PgMessages.tagRows("SELECT 12")).isEqualTo(12);
    assertThat(PgMessages.tagRows("COPY 500")).isEqualTo(500);
    assertThat(PgMessages.tagRows("CREATE TABLE")).isZero();
    assertThat(PgMessages.tagRows("BEGIN")).isZero();
  }

  @Test
  void scramMatchesRfc7677Example() throws Exception {
    PgScram s = new PgScram("pencil", "rOprNGfwEbeRWgbNEkqO", "user");
    assertThat(new String(s.clientFirst(), StandardCharsets.UTF_8))
        .isEqualTo("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    byte[] fin =
        s.clientFinal(
            ("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    + "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
                .getBytes(StandardCharsets.UTF_8));
    assertThat(new String(fin, StandardCharsets.UTF_8))
        .isEqualTo(
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    s.verifyServerFinal(
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(
            () ->
                s.verifyServerFinal(
                    ("v=" + Base64.getEncoder().encodeToString(new byte[32]))
                        .getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("signature");
  }

  @Test
  void md5PasswordHash() throws Exception {
    // "md5" + md5(md5("secret" + "bob") + salt), PostgreSQL's md5 method
    assertThat(PgUpstream.md5("secret", "bob", new byte[] {1, 2, 3, 4}))
        .isEqualTo("md5f21dfe33ff3a9e03dbc3e008251fe5cc");
  }

  @Test
  void startupParametersAreFiltered() {
    Map<String, String> client = new LinkedHashMap<>();
    client.put("user", "alice");
    client.put("database", "conn");
    client.put("application_name", "psql");
    client.put("DateStyle", "ISO");
    client.put("role", "postgres");
    client.put("session_authorization", "postgres");
    client.put("replication", "database");
    client.put(
        "options", "-c search_path=app --statement-timeout=5s -c role=admin -c work_mem=1MB");
    client.put("_pq_.command_marker", "1");
    PgStartupParams.Filtered f = PgStartupParams.filter(client, false);
    assertThat(f.forwarded())
        .containsEntry("application_name", "psql")
        .containsEntry("DateStyle", "ISO")
        .containsEntry("search_path", "app")
        .containsEntry("statement_timeout", "5s")
        .containsEntry("work_mem", "1MB")
        .doesNotContainKeys(
            "user", "database", "role", "session_authorization", "replication", "options");
    assertThat(f.dropped()).containsKeys("role", "session_authorization", "replication");
    assertThat(f.dropped()).containsEntry("role", "admin"); // from options: the later one wins
  }

  @Test
  void readOnlySessionForcesReadOnlyDefault() {
    Map<String, String> client = new LinkedHashMap<>();
    client.put("default_transaction_read_only", "off");
    client.put("options", "-c default_transaction_read_only=false");
    PgStartupParams.Filtered f = PgStartupParams.filter(client, true);
    assertThat(f.forwarded()).containsEntry("default_transaction_read_only", "on").hasSize(1);
    assertThat(f.dropped()).containsKey("default_transaction_read_only");
  }

  @Test
  void optionsAreSplitLikePostgres() {
    assertThat(PgStartupParams.splitOptions("  -c a=b\\ c   -c d=e "))
        .isEqualTo(List.of("-c", "a=b c", "-c", "d=e"));
  }

  @Test
  void readOnlyGuardCatchesWaysToTurnItOff() {
    for (String s :
        List.of(
            "SET default_transaction_read_only = off",
            "set  default_transaction_read_only to false",
            "SET SESSION default_transaction_read_only = 0",
            "SET transaction_read_only = off",
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
            "BEGIN READ WRITE",
            "START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ\n  WRITE",
            "begin read/**/write",
            "SELECT set_config('default_transaction_read_only', 'off', false)",
            "ALTER ROLE x SET default_transaction_read_only = off",
            "SET U&\"default_transaction_read_onl\\0079\" = off")) {
      assertThat(PgReadOnly.liftsReadOnly(s)).as(s).isTrue();
    }
    for (String s :
        List.of(
            "SELECT 1",
            "SHOW default_transaction_read_only",
            "BEGIN READ ONLY",
            "BEGIN",
            "INSERT INTO t VALUES (1)")) {
      assertThat(PgReadOnly.liftsReadOnly(s)).as(s).isFalse();
    }
  }

  @Test
  void describeSqlReturnsOneActionPerStatement() {
    assertThat(PgProtocolServer.describeSql("select 1; drop table t"))
        .extracting(a -> a.string("statement"))
        .containsExactly("select", "drop");
  }
}
