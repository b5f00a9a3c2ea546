package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.postgres.PgCodec.Builder;
import dev.gatehouse.postgres.PgCodec.Message;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Red team at the wire-protocol level: raw message sequences a real client would not send, each
 * asserting the safe behaviour (refused with 42501 or the protocol's own error, or masked) and that
 * the session stays usable where the protocol allows. Protocol flow: <a
 * href="https://www.postgresql.org/docs/current/protocol-flow.html">protocol-flow.html</a>.
 */
class PgProtocolRedTeamTest {
  static final String CARD = "4111 1111 1111 1111";
  static final String SECRET = "ann.hidden@example.com";

  private static PgTestSupport t;
  private static PgProtocolServer masked;
  private static PgCatalog catalog;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS rt_keep");
      s.execute("CREATE TABLE rt_keep (id int)");
      s.execute("INSERT INTO rt_keep VALUES (1), (2), (3)");
      s.execute("DROP TABLE IF EXISTS rt_copy_target");
      s.execute("CREATE TABLE rt_copy_target (id int)");
      s.execute("DROP SCHEMA IF EXISTS rt_hidden CASCADE");
      s.execute("DROP TABLE IF EXISTS public.rt_t");
      s.execute("CREATE TABLE public.rt_t (v text)");
      s.execute("INSERT INTO public.rt_t VALUES ('harmless')");
      s.execute("CREATE SCHEMA rt_hidden");
      s.execute("CREATE TABLE rt_hidden.rt_t (v text)");
      s.execute("INSERT INTO rt_hidden.rt_t VALUES ('" + SECRET + "')");
      s.execute(
          """
          CREATE OR REPLACE FUNCTION rt_raise(x text) RETURNS int LANGUAGE plpgsql AS $$
          BEGIN
            RAISE EXCEPTION 'boom' USING DETAIL = x, HINT = x, COLUMN = x, CONSTRAINT = x,
              DATATYPE = x, TABLE = x, SCHEMA = x;
          END $$""");
      s.execute(
          """
          CREATE OR REPLACE FUNCTION rt_notice(x text) RETURNS int LANGUAGE plpgsql AS $$
          BEGIN
            RAISE NOTICE 'n' USING DETAIL = x, COLUMN = x, TABLE = x;
            RETURN 1;
          END $$""");
    }
    Path rules = dir.resolve("rules.yaml");
    Files.writeString(
        rules,
        """
        profiles:
          red:
            extends: none
            columns:
              - {schema: rt_hidden, table: rt_t, column: v, style: "null"}
        """);
    MaskingEngine engine =
        MaskingEngine.create(
            new MaskingConfig(List.of(rules.toString()), new Secret("k", "test"), 0));
    catalog = new PgCatalog(t.connections.get("conn"), () -> t.vault.get("conn"));
    masked = new PgProtocolServer(t.gate, "127.0.0.1", 0, null, true, t.connections::get);
    masked.rowFilters(gs -> new PgRowMasker(engine, "red", gs.connection().name(), catalog));
    masked.start();
  }

  @AfterAll
  static void stop() throws Exception {
    masked.close();
    catalog.close();
  }

  // ---- a raw protocol client ----

  /** A logged-in raw client (alice on connection conn), plaintext. */
  static final class Raw implements AutoCloseable {
    final Socket s;
    final OutputStream out;
    final InputStream in;

    /** What the login answered, up to its ReadyForQuery. */
    final List<Message> login;

    Raw(int port) throws Exception {
      this(port, Map.of());
    }

    /** With extra startup parameters. */
    Raw(int port, Map<String, String> extra) throws Exception {
      this(port, "alice", TOKEN_ALICE, extra);
    }

    Raw(int port, String user, String token, Map<String, String> extra) throws Exception {
      s = new Socket("127.0.0.1", port);
      s.setSoTimeout(15_000);
      // Each frame is written on its own: with Nagle's algorithm a frame after an unanswered one
      // waits for the peer's delayed ACK (~40 ms), directly to PostgreSQL as through the gateway.
      s.setTcpNoDelay(true);
      out = s.getOutputStream();
      in = s.getInputStream();
      Map<String, String> p = new LinkedHashMap<>();
      p.put("user", user);
      p.put("database", "conn");
      p.putAll(extra);
      out.write(PgMessages.startupMessage(p));
      out.flush();
      assertThat(read().kind()).isEqualTo('R');
      out.write(PgMessages.passwordMessage(token));
      out.flush();
      List<Message> ms = untilReady();
      assertThat(ms.stream().map(Message::kind)).contains('R').doesNotContain('E');
      login = ms;
    }

    Message read() throws Exception {
      Message m = PgCodec.readMessage(in, PgCodec::serverLimit);
      assertThat(m).as("the gateway closed the connection").isNotNull();
      return m;
    }

    Raw send(byte[]... frames) throws Exception {
      for (byte[] f : frames) {
        out.write(f);
      }
      out.flush();
      return this;
    }

    /** Messages up to and including the next ReadyForQuery. */
    List<Message> untilReady() throws Exception {
      List<Message> ms = new ArrayList<>();
      Message m;
      do {
        m = read();
        ms.add(m);
      } while (m.kind() != 'Z');
      return ms;
    }

    List<Message> query(String sql) throws Exception {
      send(PgMessages.query(sql));
      return untilReady();
    }

    @Override
    public void close() throws Exception {
      s.close();
    }
  }

  static byte[] parse(String name, String sql) {
    return new Builder('P').cstring(name).cstring(sql).int16(0).frame();
  }

  /** Bind with text parameters and the given result format (none: all text). */
  static byte[] bind(String portal, String stmt, String... params) {
    Builder b = new Builder('B').cstring(portal).cstring(stmt).int16(0).int16(params.length);
    for (String p : params) {
      byte[] v = p.getBytes(StandardCharsets.UTF_8);
      b.int32(v.length).bytes(v);
    }
    return b.int16(0).frame();
  }

  static byte[] execute(String portal, int maxRows) {
    return new Builder('E').cstring(portal).int32(maxRows).frame();
  }

  static byte[] describe(char what, String name) {
    return new Builder('D').int8(what).cstring(name).frame();
  }

  static byte[] close(char what, String name) {
    return new Builder('C').int8(what).cstring(name).frame();
  }

  static byte[] sync() {
    return new Builder('S').frame();
  }

  static List<String> sqlStates(List<Message> ms) throws Exception {
    List<String> out = new ArrayList<>();
    for (Message m : ms) {
      if (m.kind() == 'E') {
        out.add(PgMessages.parseFields(m.body()).get('C'));
      }
    }
    return out;
  }

  /** All fields of every ErrorResponse and NoticeResponse, as text. */
  static String errorText(List<Message> ms) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (Message m : ms) {
      if (m.kind() == 'E' || m.kind() == 'N') {
        sb.append(PgMessages.parseFields(m.body())).append('\n');
      }
    }
    return sb.toString();
  }

  /** First column of every DataRow, text format (null for SQL NULL). */
  static List<String> firstColumn(List<Message> ms) throws Exception {
    List<String> out = new ArrayList<>();
    for (Message m : ms) {
      if (m.kind() == 'D') {
        PgCodec.Reader r = new PgCodec.Reader(m.body());
        r.int16();
        int len = r.int32();
        out.add(len < 0 ? null : new String(r.bytes(len), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  static long keptRows() throws Exception {
    return count("rt_keep");
  }

  /** Rows of a table or view, read directly at the target. */
  static long count(String table) throws Exception {
    try (Connection c = PgTestSupport.get().direct("gh_test");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The OID of a function, by its signature, read directly at the target. */
  static int oidOf(String signature) throws Exception {
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT '" + signature + "'::regprocedure::oid")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  static void stillUsable(Raw r) throws Exception {
    assertThat(firstColumn(r.query("SELECT 41 + 1"))).containsExactly("42");
  }

  // ---- policy bypass ----

  /**
   * rt17: PostgreSQL keys protocol statement and portal names by their first 63 bytes, so two names
   * of 64 bytes that share those were one object to the server and two to the gateway (a Close of
   * one closed the other's SELECT, and a Parse of an UPDATE in its place ran under the SELECT's
   * decision). Such names, and names the gateway would decode differently (not printable ASCII),
   * are refused with 42602 in every message that carries one; nothing runs and the session goes on.
   */
  @Test
  void longOrNonAsciiProtocolNamesAreRefused() throws Exception {
    String a1 = "a".repeat(63) + "1";
    String a2 = "a".repeat(63) + "2";
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      for (byte[] frame :
          List.of(
              parse(a1, "SELECT 1"),
              parse("caf\u00e9", "SELECT 1"),
              parse("x\u0001", "SELECT 1"),
              bind(a2, ""),
              describe('S', a1),
              describe('P', a2),
              execute(a1, 0),
              close('S', a2),
              close('P', a1))) {
        List<Message> ms = r.send(frame, sync()).untilReady();
        assertThat(sqlStates(ms)).containsExactly(PgErrors.INVALID_NAME);
        assertThat(errorText(ms)).contains("longer than 63 bytes or not printable ASCII");
      }
      // 63 bytes is PostgreSQL's own limit, and fine
      String ok = "b".repeat(63);
      List<Message> ms =
          r.send(
                  parse(ok, "SELECT 41 + 1"),
                  bind(ok, ok),
                  execute(ok, 0),
                  close('P', ok),
                  close('S', ok),
                  sync())
              .untilReady();
      assertThat(sqlStates(ms)).isEmpty();
      assertThat(firstColumn(ms)).containsExactly("42");
      assertThat(keptRows()).isEqualTo(3);
      stillUsable(r);
    }
  }

  @Test
  void reParsingAClosedNameInOnePipelineIsDecidedAgain() throws Exception {
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      List<Message> ms =
          r.send(
                  parse("s", "SELECT 1"),
                  close('S', "s"),
                  parse("s", "DROP TABLE rt_keep"),
                  bind("", "s"),
                  execute("", 0),
                  sync())
              .untilReady();
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(keptRows()).isEqualTo(3);
      stillUsable(r);
    }
  }

  @Test
  void bindingAStatementWhoseParseFailedRunsNothing() throws Exception {
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      // refused by policy: the Bind and Execute behind it are skipped
      List<Message> ms =
          r.send(parse("d", "DROP TABLE rt_keep"), bind("", "d"), execute("", 0), sync())
              .untilReady();
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      // failed at the target, then bound in a later Sync segment: the gateway forgot the name
      ms = r.send(parse("f", "SELECT * FROM rt_no_such_table"), sync()).untilReady();
      assertThat(sqlStates(ms)).containsExactly("42P01");
      ms = r.send(bind("", "f"), execute("", 0), sync()).untilReady();
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INVALID_STATEMENT_NAME);
      assertThat(keptRows()).isEqualTo(3);
      stillUsable(r);
    }
  }

  @Test
  void namesFreedBySqlDeallocateOrDiscardCannotBeBoundAgain() throws Exception {
    for (String freeing : List.of("DEALLOCATE ALL", "DISCARD ALL", "DEALLOCATE s")) {
      try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
        assertThat(sqlStates(r.send(parse("s", "SELECT 1"), sync()).untilReady())).isEmpty();
        assertThat(sqlStates(r.query(freeing))).isEmpty();
        // the name is re-created behind the gateway's back in SQL
        assertThat(sqlStates(r.query("PREPARE s AS DELETE FROM rt_keep WHERE id = 99"))).isEmpty();
        List<Message> ms = r.send(bind("", "s"), execute("", 0), sync()).untilReady();
        assertThat(sqlStates(ms)).as(freeing).containsExactly(PgErrors.INVALID_STATEMENT_NAME);
        stillUsable(r);
      }
    }
  }

  @Test
  void aPortalClosedByCloseAllInASimpleQueryCannotBeExecuted() throws Exception {
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      r.query("BEGIN");
      List<Message> ms =
          r.send(
                  parse("g", "SELECT generate_series(1, 3)"),
                  bind("p", "g"),
                  execute("p", 1),
                  sync())
              .untilReady();
      assertThat(firstColumn(ms)).containsExactly("1");
      // CLOSE ALL closes the portal at the target; a cursor named p could be declared in its place
      assertThat(sqlStates(r.query("CLOSE ALL; DECLARE p CURSOR FOR SELECT 'other'"))).isEmpty();
      ms = r.send(execute("p", 0), sync()).untilReady();
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INVALID_CURSOR_NAME);
      assertThat(firstColumn(ms)).isEmpty();
      r.query("ROLLBACK");
      stillUsable(r);
    }
  }

  @Test
  void sqlPrepareIsDecidedAsTheStatementItPrepares() throws Exception {
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      t.extraDenied.add("delete");
      try {
        assertThat(sqlStates(r.query("PREPARE x AS DELETE FROM rt_keep")))
            .containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
        // never prepared, so EXECUTE fails at the target
        assertThat(sqlStates(r.query("EXECUTE x"))).containsExactly("26000");
      } finally {
        t.extraDenied.remove("delete");
      }
      assertThat(keptRows()).isEqualTo(3);
      stillUsable(r);
    }
  }

  @Test
  void aSuspendedPortalIsDecidedAgainAfterThePolicyChanged() throws Exception {
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      assertThat(sqlStates(r.query("BEGIN"))).isEmpty();
      List<Message> ms =
          r.send(
                  parse("g", "SELECT generate_series(1, 10)"),
                  bind("p", "g"),
                  execute("p", 2),
                  sync())
              .untilReady();
      assertThat(ms.stream().map(Message::kind)).contains('s');
      assertThat(firstColumn(ms)).containsExactly("1", "2");
      t.extraDenied.add("select");
      t.policyGeneration.incrementAndGet();
      try {
        ms = r.send(execute("p", 2), sync()).untilReady();
        assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
        assertThat(firstColumn(ms)).isEmpty();
      } finally {
        t.extraDenied.remove("select");
        t.policyGeneration.incrementAndGet();
      }
      r.query("ROLLBACK");
      stillUsable(r);
    }
  }

  @Test
  void aDeniedStatementAfterCommitInAnAbortedTransactionDoesNotRun() throws Exception {
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      r.query("BEGIN");
      assertThat(sqlStates(r.query("SELECT 1/0"))).containsExactly("22012");
      List<Message> ms = r.query("COMMIT; DROP TABLE rt_keep");
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      r.query("ROLLBACK");
      assertThat(keptRows()).isEqualTo(3);
      stillUsable(r);
    }
  }

  @Test
  void aFunctionCallByOidIsRefusedWhenOnlyKnownKindsAreAllowed() throws Exception {
    int oid = oidOf("pg_cancel_backend(int4)");
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      byte[] call =
          new Builder('F').int32(oid).int16(0).int16(1).int32(4).int32(1).int16(0).frame();
      List<Message> ms = r.send(call).untilReady();
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      stillUsable(r);
    }
  }

  @Test
  void copyDataOutsideCopyIsIgnoredAndTheSessionGoesOn() throws Exception {
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      r.send(
          new Builder('d').bytes("DROP TABLE rt_keep;\n".getBytes(StandardCharsets.UTF_8)).frame(),
          new Builder('c').frame());
      stillUsable(r);
      assertThat(keptRows()).isEqualTo(3);
    }
  }

  /**
   * A Query sent while the target waits for COPY data is consumed by the COPY as a protocol error,
   * and PostgreSQL then ends the connection ("protocol synchronization was lost"): the Query never
   * runs, and the gateway records it as not run rather than pairing later answers with it.
   */
  @Test
  void aQuerySentDuringCopyFromStdinNeverRuns() throws Exception {
    String lost = "DELETE FROM rt_keep WHERE id = 1";
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      r.send(PgMessages.query("COPY rt_keep FROM STDIN"));
      assertThat(r.read().kind()).isEqualTo('G');
      r.send(PgMessages.query(lost));
      List<String> severities = new ArrayList<>();
      Message m;
      while ((m = PgCodec.readMessage(r.in, PgCodec::serverLimit)) != null) {
        assertThat(m.kind()).isEqualTo('E');
        severities.add(PgMessages.parseFields(m.body()).get('S'));
      }
      assertThat(severities).containsExactly("ERROR", "FATAL");
    }
    assertThat(keptRows()).isEqualTo(3);
    assertThat(t.awaitOutcome(lost).status()).isEqualTo("error");
  }

  @Test
  void aSslRequestInTheMiddleOfASessionIsAProtocolViolation() throws Exception {
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      r.send(PgMessages.sslRequest());
      Message m = r.read();
      assertThat(m.kind()).isEqualTo('E');
      assertThat(PgMessages.parseFields(m.body()).get('C')).isEqualTo(PgErrors.PROTOCOL_VIOLATION);
      assertThat(r.in.read()).isEqualTo(-1);
    }
  }

  /**
   * {@code replication=database} would make the target a walsender, whose replication commands
   * (CREATE_REPLICATION_SLOT, BASE_BACKUP, START_REPLICATION) are not SQL the classifier knows;
   * {@code options} could set anything. Both are dropped: the session is an ordinary one.
   */
  @Test
  void replicationModeAndOptionsFromTheStartupPacketDoNotReachTheTarget() throws Exception {
    Map<String, String> extra = new LinkedHashMap<>();
    extra.put("replication", "database");
    extra.put("options", "-c session_replication_role=replica -c statement_timeout=12345");
    for (int i = 0; i < 500; i++) {
      extra.put("x_param_" + i, "v");
    }
    int auditedBefore = t.audit.size();
    try (Raw r = new Raw(t.plaintextServer.address().getPort(), extra)) {
      for (String cmd :
          List.of(
              "IDENTIFY_SYSTEM",
              "CREATE_REPLICATION_SLOT rt_slot LOGICAL pgoutput",
              "BASE_BACKUP",
              "START_REPLICATION SLOT rt_slot LOGICAL 0/0")) {
        assertThat(sqlStates(r.query(cmd)))
            .as(cmd)
            .containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      }
      assertThat(firstColumn(r.query("SHOW session_replication_role"))).containsExactly("origin");
      assertThat(firstColumn(r.query("SHOW statement_timeout"))).containsExactly("12345ms");
      stillUsable(r);
    }
    assertThat(count("pg_replication_slots")).isZero();
    // 500 dropped parameters are not 500 durable records: a few by name, the rest in one.
    var dropped =
        List.copyOf(t.audit.subList(auditedBefore, t.audit.size())).stream()
            .filter(e -> e.type().equals("postgres.param_dropped"))
            .toList();
    assertThat(dropped).hasSizeBetween(2, 9);
    assertThat(dropped).anyMatch(e -> e.data().containsKey("more_parameters"));
  }

  /** A refusal reaches a client that sends Flush instead of Sync (pipeline mode), then Sync. */
  @Test
  void aRefusalIsAnsweredOnFlushAndTheSegmentEndsAtSync() throws Exception {
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      r.send(
          parse("", "DROP TABLE rt_keep"), bind("", ""), execute("", 0), new Builder('H').frame());
      Message m = r.read();
      assertThat(m.kind()).isEqualTo('E');
      assertThat(PgMessages.parseFields(m.body()).get('C'))
          .isEqualTo(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(sqlStates(r.send(sync()).untilReady())).isEmpty();
      stillUsable(r);
    }
    assertThat(keptRows()).isEqualTo(3);
  }

  @Test
  void nothingAfterTerminateReachesTheTarget() throws Exception {
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      r.send(PgMessages.terminate(), PgMessages.query("DELETE FROM rt_keep"));
      assertThat(r.in.read()).isEqualTo(-1);
    }
    assertThat(keptRows()).isEqualTo(3);
  }

  /** COPY through the extended protocol is decided at Parse like any statement. */
  @Test
  void anExtendedProtocolCopyIsDecided() throws Exception {
    byte[] data = new Builder('d').bytes("7\n".getBytes(StandardCharsets.UTF_8)).frame();
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      t.extraDenied.add("copy_in");
      try {
        List<Message> ms =
            r.send(
                    parse("", "COPY rt_keep FROM STDIN"),
                    bind("", ""),
                    execute("", 0),
                    data,
                    new Builder('c').frame(),
                    sync())
                .untilReady();
        assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      } finally {
        t.extraDenied.remove("copy_in");
      }
      stillUsable(r);
    }
    assertThat(keptRows()).isEqualTo(3);
  }

  /**
   * libpq's extended-protocol COPY (PQexecParams): Parse, Bind, Execute and Sync at once, then the
   * data, CopyDone and a second Sync. PostgreSQL ignores a Sync received in copy-in mode, so only
   * the second is answered; the gateway must not wait for an answer to the first, or the answers to
   * everything after would be paired with the wrong statements.
   */
  @Test
  void aSyncSentDuringAnExtendedCopyIsIgnoredAsByPostgres() throws Exception {
    byte[] data = new Builder('d').bytes("7\n".getBytes(StandardCharsets.UTF_8)).frame();
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      r.send(parse("", "COPY rt_copy_target FROM STDIN"), bind("", ""), execute("", 0), sync());
      Message m;
      do {
        m = r.read();
      } while (m.kind() != 'G');
      List<Message> ms = r.send(data, data, new Builder('c').frame(), sync()).untilReady();
      assertThat(sqlStates(ms)).isEmpty();
      assertThat(ms.stream().map(Message::kind)).containsExactly('C', 'Z');
      // the next statements are answered, and recorded, as themselves
      for (String sql : List.of("SELECT 'after copy 1'", "SELECT 'after copy 2'")) {
        assertThat(sqlStates(r.query(sql))).isEmpty();
        var d =
            t.decided.stream().filter(x -> x.raw().equals(sql)).reduce((a, b) -> b).orElseThrow();
        assertThat(t.outcomeOf(d.id()).orElseThrow().summary()).isEqualTo("SELECT 1");
      }
      // and a COPY that fails on its data ends at the Sync after CopyDone, as in PostgreSQL
      r.send(parse("", "COPY rt_copy_target FROM STDIN"), bind("", ""), execute("", 0), sync());
      do {
        m = r.read();
      } while (m.kind() != 'G');
      byte[] bad = new Builder('d').bytes("x\n".getBytes(StandardCharsets.UTF_8)).frame();
      ms = r.send(bad, new Builder('c').frame(), sync()).untilReady();
      assertThat(sqlStates(ms)).containsExactly("22P02");
      stillUsable(r);
    }
    assertThat(count("rt_copy_target")).isEqualTo(2);
  }

  // ---- masking bypass ----

  /**
   * A statement described once, then run again after {@code SET search_path} made its table name
   * mean another table with the same column names and types: PostgreSQL re-plans it silently (its
   * result type did not change), so the old description names the wrong table.
   */
  @Test
  void aStatementDescribedBeforeASearchPathChangeIsMaskedByItsRowsRealTable() throws Exception {
    try (Raw r = new Raw(masked.address().getPort())) {
      List<Message> ms =
          r.send(
                  parse("s", "SELECT v FROM rt_t"),
                  describe('S', "s"),
                  bind("", "s"),
                  execute("", 0),
                  sync())
              .untilReady();
      assertThat(firstColumn(ms)).containsExactly("harmless");
      assertThat(sqlStates(r.query("SET search_path = rt_hidden, public"))).isEmpty();
      ms = r.send(bind("", "s"), execute("", 0), sync()).untilReady();
      assertThat(sqlStates(ms)).isEmpty();
      assertThat(firstColumn(ms)).containsExactly((String) null);
      // the same through a simple Query, for comparison
      assertThat(firstColumn(r.query("SELECT v FROM rt_t"))).containsExactly((String) null);
    }
  }

  @Test
  void twoPortalsInOnePipelineAreEachMaskedByTheirOwnColumns() throws Exception {
    try (Raw r = new Raw(masked.address().getPort())) {
      List<Message> ms =
          r.send(
                  parse("a", "SELECT v FROM public.rt_t"),
                  parse("b", "SELECT v FROM rt_hidden.rt_t"),
                  bind("pb", "b"),
                  bind("pa", "a"),
                  describe('P', "pa"),
                  describe('P', "pb"),
                  execute("pb", 0),
                  execute("pa", 0),
                  sync())
              .untilReady();
      assertThat(sqlStates(ms)).isEmpty();
      assertThat(firstColumn(ms)).containsExactly(null, "harmless");
    }
  }

  /**
   * The unnamed portal of a FETCH, described by the client while the cursor read a harmless table,
   * then executed after the cursor was closed and declared again over a masked one in the same
   * pipeline: the portal's description no longer tells the columns of its rows.
   */
  @Test
  void anUnnamedFetchPortalCannotOutliveItsCursor() throws Exception {
    try (Raw r = new Raw(masked.address().getPort())) {
      r.query("BEGIN; DECLARE c CURSOR FOR SELECT v FROM public.rt_t");
      List<Message> ms =
          r.send(
                  parse("f", "FETCH ALL FROM c"),
                  bind("", "f"),
                  describe('P', ""),
                  parse("x", "CLOSE c"),
                  bind("x", "x"),
                  execute("x", 0),
                  parse("y", "DECLARE c CURSOR FOR SELECT v FROM rt_hidden.rt_t"),
                  bind("y", "y"),
                  execute("y", 0),
                  execute("", 0),
                  sync())
              .untilReady();
      assertThat(firstColumn(ms)).doesNotContain(SECRET);
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INVALID_CURSOR_NAME);
      r.query("ROLLBACK");
      stillUsable(r);
    }
  }

  /** The gateway's own Describe of a portal that returns no rows gets NoData; not relayed. */
  @Test
  void portalsWithoutRowsAreAnsweredAsWithoutTheGateway() throws Exception {
    try (Raw r = new Raw(masked.address().getPort())) {
      List<Message> ms =
          r.send(
                  parse("", ""),
                  bind("", ""),
                  execute("", 0),
                  parse("", "SET application_name = 'x'"),
                  bind("", ""),
                  execute("", 0),
                  sync())
              .untilReady();
      assertThat(ms.stream().map(Message::kind))
          .containsExactly('1', '2', 'I', '1', '2', 'C', 'S', 'Z');
    }
  }

  /**
   * A FunctionCall's result (FunctionCallResponse) is a bare value with no RowDescription, so no
   * column rule can apply to it: with a policy that allows FunctionCall (kind unknown), a masked
   * session could read any table through {@code query_to_xml} by OID. Refused in masked sessions;
   * unmasked ones (large objects) keep it.
   */
  @Test
  void aFunctionCallCannotReadAroundMasking() throws Exception {
    int oid = oidOf("query_to_xml(text,bool,bool,text)");
    byte[] sql = "SELECT v FROM rt_hidden.rt_t".getBytes(StandardCharsets.UTF_8);
    byte[] call =
        new Builder('F')
            .int32(oid)
            .int16(0) // all arguments in text format
            .int16(4)
            .int32(sql.length)
            .bytes(sql)
            .int32(1)
            .bytes(new byte[] {'f'})
            .int32(1)
            .bytes(new byte[] {'f'})
            .int32(0)
            .int16(0) // result in text format
            .frame();
    try (Raw r =
        new Raw(masked.address().getPort(), "bench", PgTestSupport.TOKEN_BENCH, Map.of())) {
      List<Message> ms = r.send(call).untilReady();
      assertThat(ms.stream().map(Message::kind)).doesNotContain('V');
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      stillUsable(r);
    }
    try (Raw r =
        new Raw(
            t.plaintextServer.address().getPort(), "bench", PgTestSupport.TOKEN_BENCH, Map.of())) {
      List<Message> ms = r.send(call).untilReady();
      assertThat(sqlStates(ms)).isEmpty();
      assertThat(new String(ms.get(0).body(), StandardCharsets.UTF_8)).contains(SECRET);
    }
  }

  /** The OIDs the gateway lets masked sessions call are the large object functions. */
  @Test
  void theLargeObjectFunctionOidsAreWhatTheySay() throws Exception {
    List<String> names = new ArrayList<>();
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      for (int oid : PgSession.LARGE_OBJECT_FUNCTIONS) {
        try (ResultSet rs = s.executeQuery("SELECT proname FROM pg_proc WHERE oid = " + oid)) {
          assertThat(rs.next()).as("oid " + oid).isTrue();
          names.add(rs.getString(1));
        }
      }
    }
    assertThat(names)
        .containsExactlyInAnyOrder(
            "lo_create",
            "lo_open",
            "lo_close",
            "loread",
            "lowrite",
            "lo_lseek",
            "lo_creat",
            "lo_tell",
            "lo_unlink",
            "lo_truncate",
            "lo_lseek64",
            "lo_tell64",
            "lo_truncate64");
  }

  @Test
  void returningRowsOfAWriteAreMasked() throws Exception {
    try (Raw r = new Raw(masked.address().getPort())) {
      r.query("BEGIN");
      List<Message> ms = r.query("UPDATE rt_hidden.rt_t SET v = v RETURNING v");
      assertThat(firstColumn(ms)).containsExactly((String) null);
      r.query("ROLLBACK");
    }
  }

  /**
   * Red team, ninth round: column rules were matched on the result's column name, so an alias
   * ({@code SELECT v AS x}) or a subquery's renamed column left the column unmasked. The table OID
   * and attribute number in RowDescription name the table column, whatever the query called it.
   */
  @Test
  void aColumnRuleHoldsWhenTheColumnIsRenamedInTheQuery() throws Exception {
    try (Raw r = new Raw(masked.address().getPort())) {
      for (String sql :
          List.of(
              "SELECT v AS x FROM rt_hidden.rt_t",
              "SELECT x FROM (SELECT v AS x FROM rt_hidden.rt_t) s",
              "SELECT t.v AS \"harmless\" FROM rt_hidden.rt_t t")) {
        List<Message> ms = r.query(sql);
        assertThat(sqlStates(ms)).as(sql).isEmpty();
        assertThat(firstColumn(ms)).as(sql).containsOnlyNulls().isNotEmpty();
      }
    }
  }

  @Test
  void everyFreeTextFieldOfAnErrorOrNoticeIsMasked() throws Exception {
    try (Raw r = new Raw(masked.address().getPort())) {
      List<Message> ms = r.query("SELECT rt_raise('card " + CARD + "')");
      assertThat(sqlStates(ms)).containsExactly("P0001");
      assertThat(errorText(ms)).contains("[card]").doesNotContain(CARD);
      ms = r.query("SELECT rt_notice('card " + CARD + "')");
      assertThat(ms.stream().map(Message::kind)).contains('N');
      assertThat(errorText(ms)).contains("[card]").doesNotContain(CARD);
      stillUsable(r);
    }
  }

  /**
   * Red team (issue #4): a column named after data ({@code SELECT 1 AS "4111…"}, or a table created
   * with such names) reached the client in RowDescription, and a role's default application_name
   * reached it in the ParameterStatus of the login, both unmasked.
   */
  @Test
  void columnNamesAndSettingsReportedAtLoginAreMasked() throws Exception {
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      s.execute("ALTER DATABASE gh_test SET application_name = 'app card " + CARD + "'");
    }
    try (Raw r = new Raw(masked.address().getPort())) {
      String reported =
          r.login.stream()
              .filter(m -> m.kind() == 'S')
              .map(m -> new String(m.body(), java.nio.charset.StandardCharsets.UTF_8))
              .filter(b -> b.startsWith("application_name"))
              .findFirst()
              .orElseThrow();
      assertThat(reported).doesNotContain(CARD).contains("[card]");
      List<Message> ms = r.query("SELECT 1 AS \"card " + CARD + "\", 2 AS plain");
      assertThat(sqlStates(ms)).isEmpty();
      Message description = ms.stream().filter(m -> m.kind() == 'T').findFirst().orElseThrow();
      String names = new String(description.body(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(names).doesNotContain(CARD).contains("[card]").contains("plain");
      assertThat(firstColumn(ms)).containsExactly("1");
      stillUsable(r);
    } finally {
      try (Connection c = t.direct("gh_test");
          Statement s = c.createStatement()) {
        s.execute("ALTER DATABASE gh_test RESET application_name");
      }
    }
  }
}
