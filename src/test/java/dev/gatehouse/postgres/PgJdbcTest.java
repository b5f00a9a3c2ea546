package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_ALICE;
import static dev.gatehouse.postgres.PgTestSupport.UPSTREAM_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.postgres.PgTestSupport.Decided;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.largeobject.LargeObjectManager;

/**
 * pgjdbc through the gateway: extended protocol, pipelining, binary transfer, streaming, cancel.
 */
class PgJdbcTest {
  private static PgTestSupport t;

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS jdbc_items (id int primary key, name text)");
      s.execute("CREATE TABLE IF NOT EXISTS jdbc_batch (id int, name text)");
      s.execute("CREATE TABLE IF NOT EXISTS jdbc_stale (id int)");
    }
  }

  private static Connection alice(String extra) throws SQLException {
    return t.jdbc("conn", "alice", TOKEN_ALICE, extra);
  }

  private static String state(Throwable e) {
    return e instanceof SQLException s ? s.getSQLState() : null;
  }

  @Test
  void serverPreparedStatementsRunAndAreRecorded() throws Exception {
    try (Connection c = alice("prepareThreshold=1")) {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_items VALUES (?, ?)")) {
        for (int i = 1; i <= 5; i++) {
          ps.setInt(1, i);
          ps.setString(2, "item-" + i);
          assertThat(ps.executeUpdate()).isEqualTo(1);
        }
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT name FROM jdbc_items WHERE id = ?")) {
        for (int i = 1; i <= 5; i++) {
          ps.setInt(1, i);
          try (ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("item-" + i);
          }
        }
        assertThat(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare()).isTrue();
      }
    }
    // every execution has its own decision record and outcome
    List<Decided> inserts =
        t.decided.stream().filter(d -> d.raw().startsWith("INSERT INTO jdbc_items")).toList();
    assertThat(inserts).hasSizeGreaterThanOrEqualTo(5);
    assertThat(inserts)
        .allSatisfy(
            d ->
                assertThat(t.outcomeOf(d.id()))
                    .hasValueSatisfying(o -> assertThat(o.summary()).isEqualTo("INSERT 0 1")));
    // each execution's record carries its own Bind parameters (binary int4 as hex, text as text)
    assertThat(inserts)
        .extracting(d -> d.action().attributes().get("parameters"))
        .contains(List.of("\\x00000003", "item-3"), List.of("\\x00000005", "item-5"));
  }

  @Test
  void bindParametersAreRecordedMaskedAndNulls() throws Exception {
    try (Connection c = alice("prepareThreshold=1");
        PreparedStatement ps =
            c.prepareStatement("SELECT ?::text AS a, ?::text AS b, ?::int AS c /* params */")) {
      ps.setString(1, "card 4111 1111 1111 1111 please");
      ps.setNull(2, java.sql.Types.VARCHAR);
      ps.setString(3, "7");
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
      }
    }
    Decided d =
        t.decided.stream().filter(x -> x.raw().contains("/* params */")).reduce((a, b) -> b).get();
    @SuppressWarnings("unchecked")
    List<String> params = (List<String>) d.action().attributes().get("parameters");
    assertThat(params).hasSize(3);
    assertThat(params.get(1)).isNull();
    assertThat(params.get(2)).isEqualTo("7");
    // the session's masking applies to what is recorded
    assertThat(params.get(0)).isEqualTo("card [card] please");
  }

  @Test
  void batchesArePipelined() throws Exception {
    try (Connection c = alice("reWriteBatchedInserts=false")) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_batch VALUES (?, ?)")) {
        for (int i = 0; i < 300; i++) {
          ps.setInt(1, i);
          ps.setString(2, "b" + i);
          ps.addBatch();
        }
        int[] counts = ps.executeBatch();
        assertThat(counts).hasSize(300).containsOnly(1);
      }
      c.commit();
      try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM jdbc_batch")) {
        rs.next();
        assertThat(rs.getInt(1)).isGreaterThanOrEqualTo(300);
      }
    }
  }

  @Test
  void binaryTransferWorks() throws Exception {
    try (Connection c = alice("binaryTransfer=true&prepareThreshold=1");
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT ?::int4, ?::int8, ?::float8, ?::bytea, ?::timestamp, ?::numeric, ?::text")) {
      Timestamp ts = Timestamp.valueOf("2024-02-29 12:34:56.789");
      for (int round = 0; round < 3; round++) {
        ps.setInt(1, 42);
        ps.setLong(2, 1L << 40);
        ps.setDouble(3, 2.5);
        ps.setBytes(4, new byte[] {0, 1, 2, (byte) 255});
        ps.setTimestamp(5, ts);
        ps.setBigDecimal(6, new java.math.BigDecimal("12345.6789"));
        ps.setString(7, "grüße");
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          assertThat(rs.getInt(1)).isEqualTo(42);
          assertThat(rs.getLong(2)).isEqualTo(1L << 40);
          assertThat(rs.getDouble(3)).isEqualTo(2.5);
          assertThat(rs.getBytes(4)).containsExactly(0, 1, 2, (byte) 255);
          assertThat(rs.getTimestamp(5)).isEqualTo(ts);
          assertThat(rs.getBigDecimal(6)).isEqualByComparingTo("12345.6789");
          assertThat(rs.getString(7)).isEqualTo("grüße");
        }
      }
    }
  }

  @Test
  void largeResultStreamsWithFetchSize() throws Exception {
    try (Connection c = alice("")) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.setFetchSize(1000);
        long n = 0;
        long sum = 0;
        try (ResultSet rs =
            s.executeQuery("SELECT g, repeat('x', 20) FROM generate_series(1, 1000000) g")) {
          while (rs.next()) {
            n++;
            sum += rs.getLong(1);
          }
        }
        assertThat(n).isEqualTo(1_000_000);
        assertThat(sum).isEqualTo(500000500000L);
      }
      c.commit();
    }
    Decided d =
        t.decided.stream()
            .filter(x -> x.raw().contains("generate_series(1, 1000000)"))
            .findFirst()
            .orElseThrow();
    assertThat(t.outcomeOf(d.id()))
        .hasValueSatisfying(o -> assertThat(o.rows()).isEqualTo(1_000_000));
  }

  @Test
  void deniedPreparedStatementKeepsConnectionUsable() throws Exception {
    try (Connection c = alice("prepareThreshold=1")) {
      assertThatThrownBy(() -> c.prepareStatement("DROP TABLE jdbc_items").execute())
          .satisfies(e -> assertThat(state(e)).isEqualTo("42501"))
          .hasMessageContaining("no-drop");
      try (ResultSet rs = c.createStatement().executeQuery("SELECT 'ok'")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("ok");
      }
    }
  }

  @Test
  void deniedStatementInExplicitTransactionAbortsIt() throws Exception {
    try (Connection c = alice("")) {
      c.setAutoCommit(false);
      c.createStatement().executeQuery("SELECT 1").close();
      assertThatThrownBy(() -> c.createStatement().execute("DROP TABLE jdbc_items"))
          .satisfies(e -> assertThat(state(e)).isEqualTo("42501"));
      assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT 2"))
          .satisfies(e -> assertThat(state(e)).isEqualTo("25P02"));
      c.rollback();
      try (ResultSet rs = c.createStatement().executeQuery("SELECT 3")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(3);
      }
    }
  }

  @Test
  void policyChangeIsEnforcedAtExecute() throws Exception {
    try (Connection c = alice("prepareThreshold=1");
        PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_stale VALUES (?)")) {
      ps.setInt(1, 1);
      ps.executeUpdate();
      t.extraDenied.add("insert");
      t.policyGeneration.incrementAndGet();
      try {
        ps.setInt(1, 2);
        assertThatThrownBy(ps::executeUpdate)
            .satisfies(e -> assertThat(state(e)).isEqualTo("42501"))
            .hasMessageContaining("changed-policy");
      } finally {
        t.extraDenied.remove("insert");
        t.policyGeneration.incrementAndGet();
      }
      ps.setInt(1, 3);
      ps.executeUpdate();
    }
    try (Connection c = t.direct("gh_test");
        ResultSet rs =
            c.createStatement()
                .executeQuery("SELECT array_agg(id ORDER BY id)::text FROM jdbc_stale")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("{1,3}");
    }
  }

  @Test
  void cancelStopsLongRunningQuery() throws Exception {
    try (Connection c = alice("");
        Statement s = c.createStatement()) {
      CompletableFuture<Throwable> result =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  s.execute("SELECT pg_sleep(30)");
                  return null;
                } catch (SQLException e) {
                  return e;
                }
              });
      Thread.sleep(1000);
      long start = System.nanoTime();
      s.cancel();
      Throwable e = result.get(15, TimeUnit.SECONDS);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      assertThat(state(e)).isEqualTo("57014");
      try (ResultSet rs = s.executeQuery("SELECT 'after-cancel'")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("after-cancel");
      }
    }
  }

  @Test
  void notificationsAreRelayed() throws Exception {
    try (Connection listener = alice("");
        Connection notifier = alice("")) {
      listener.createStatement().execute("LISTEN gh_channel");
      notifier.createStatement().execute("NOTIFY gh_channel, 'hello'");
      PGNotification[] n = listener.unwrap(PGConnection.class).getNotifications(5000);
      assertThat(n).isNotNull().hasSize(1);
      assertThat(n[0].getName()).isEqualTo("gh_channel");
      assertThat(n[0].getParameter()).isEqualTo("hello");
    }
  }

  @Test
  void functionCallIsDeniedUnlessPolicyAllowsUnknown() throws Exception {
    try (Connection c = alice("")) {
      c.setAutoCommit(false);
      LargeObjectManager lom = c.unwrap(PGConnection.class).getLargeObjectAPI();
      assertThatThrownBy(() -> lom.createLO(LargeObjectManager.READWRITE))
          .satisfies(e -> assertThat(state(e)).isEqualTo("42501"))
          .hasMessageContaining("no-unknown");
      c.rollback();
      c.createStatement().executeQuery("SELECT 1").close();
    }
  }

  @Test
  void wrongTokenUnknownDatabaseAndPlaintextHaveTheirSqlStates() {
    assertThatThrownBy(() -> t.jdbc("conn", "alice", "wrong", "").close())
        .satisfies(e -> assertThat(state(e)).isEqualTo("28P01"));
    assertThatThrownBy(() -> t.jdbc("nope", "alice", TOKEN_ALICE, "").close())
        .satisfies(e -> assertThat(state(e)).isEqualTo("3D000"));
    assertThatThrownBy(
            () ->
                java.sql.DriverManager.getConnection(
                        "jdbc:postgresql://127.0.0.1:"
                            + t.port()
                            + "/conn?sslmode=disable&user=alice&password="
                            + TOKEN_ALICE)
                    .close())
        .satisfies(e -> assertThat(state(e)).isEqualTo("28000"));
  }

  @Test
  void escalatingStartupParametersAreDroppedAndAudited() throws Exception {
    try (Connection c =
            alice("options=-c%20role%3Dpg_read_server_files%20-c%20search_path%3Dpublic");
        ResultSet rs =
            c.createStatement()
                .executeQuery("SELECT current_user, current_setting('search_path')")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("gh_scram");
      assertThat(rs.getString(2)).isEqualTo("public");
    }
    assertThat(t.audit)
        .anyMatch(
            e ->
                e.type().equals("postgres.param_dropped")
                    && "role".equals(e.data().get("parameter")));
  }

  @Test
  void revokedTokenEndsTheLiveSession() throws Exception {
    var p = t.addPrincipal("tok-alice-revocable", "alice");
    try (Connection c = t.jdbc("conn", "alice", "tok-alice-revocable", "")) {
      c.createStatement().executeQuery("SELECT 1").close();
      t.revoked.add(p.tokenId());
      t.gate.revoked(p.tokenId());
      Thread.sleep(300);
      assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT 1"))
          .satisfies(e -> assertThat(state(e)).isEqualTo("57P01"))
          .hasMessageContaining("terminating connection: token revoked");
    }
  }

  @Test
  void upstreamErrorsAreRelayedAndRecorded() throws Exception {
    try (Connection c = alice("")) {
      assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT * FROM no_such_table"))
          .satisfies(e -> assertThat(state(e)).isEqualTo("42P01"));
    }
    Decided d =
        t.decided.stream().filter(x -> x.raw().contains("no_such_table")).findFirst().orElseThrow();
    assertThat(t.outcomeOf(d.id()))
        .hasValueSatisfying(o -> assertThat(o.status()).isEqualTo("error"));
  }

  @Test
  void deniedStatementInPipelinedBatchRunsNothingOfTheBatch() throws Exception {
    try (Connection c = alice("")) {
      try (Statement s = c.createStatement()) {
        s.addBatch("INSERT INTO jdbc_batch VALUES (-1, 'before')");
        s.addBatch("DROP TABLE jdbc_batch");
        s.addBatch("INSERT INTO jdbc_batch VALUES (-2, 'after')");
        assertThatThrownBy(s::executeBatch)
            .isInstanceOf(java.sql.BatchUpdateException.class)
            .satisfies(e -> assertThat(state(e)).isEqualTo("42501"));
      }
      try (ResultSet rs =
          c.createStatement().executeQuery("SELECT count(*) FROM jdbc_batch WHERE id < 0")) {
        rs.next();
        assertThat(rs.getInt(1)).isZero();
      }
    }
  }

  @AfterAll
  static void credentialsNeverLeak() {
    assertThat(t.everythingRecorded()).doesNotContain(UPSTREAM_PASSWORD);
  }
}
