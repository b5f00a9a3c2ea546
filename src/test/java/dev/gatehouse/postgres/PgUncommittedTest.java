package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgProtocolRedTeamTest.bind;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.count;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.execute;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.parse;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.sqlStates;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.sync;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.postgres.PgCodec.Builder;
import dev.gatehouse.postgres.PgCodec.Message;
import dev.gatehouse.postgres.PgProtocolRedTeamTest.Raw;
import dev.gatehouse.postgres.PgTestSupport.Outcome;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Statements of the extended protocol's implicit transaction, which PostgreSQL commits only at Sync
 * (protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY): a client that leaves after Execute's
 * CommandComplete and before Sync has them rolled back, and so does an error before the Sync. Their
 * record says so (PgSession.uncommitted), with a raw protocol client against the embedded
 * PostgreSQL.
 */
class PgUncommittedTest {
  private static PgTestSupport t;

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS uc_rows");
      s.execute("CREATE TABLE uc_rows (v text)");
      s.execute("GRANT ALL ON uc_rows TO gh_scram");
    }
  }

  private static Raw raw() throws Exception {
    return new Raw(t.plaintextServer.address().getPort());
  }

  private static Outcome outcome(String sql) throws Exception {
    return t.awaitOutcome(sql);
  }

  /** Parse/Bind/Execute and a Flush, no Sync: the target answers the Execute and waits. */
  private static void executeWithoutSync(Raw r, String sql) throws Exception {
    r.send(parse("", sql), bind("", ""), execute("", 0), new Builder('H').frame());
    Message m;
    do {
      m = r.read();
      assertThat(m.kind()).isNotEqualTo('E');
    } while (m.kind() != 'C');
  }

  private static long rows(String v) throws Exception {
    return count("uc_rows WHERE v = '" + v + "'");
  }

  @Test
  void anInsertAbandonedBeforeSyncIsRecordedAsNotCommitted() throws Exception {
    String insert = "INSERT INTO uc_rows VALUES ('abandoned')";
    try (Raw r = raw()) {
      executeWithoutSync(r, insert);
    } // the client leaves; PostgreSQL rolls the implicit transaction back
    Outcome o = outcome(insert);
    assertThat(o.status()).isEqualTo("error");
    assertThat(o.summary()).startsWith("not committed (INSERT 0 1): the session ended before Sync");
    assertThat(rows("abandoned")).isZero();
  }

  @Test
  void executionsHeldWithoutSyncAreBoundedAndThenRecordedWithANote() throws Exception {
    String first = "INSERT INTO uc_rows VALUES ('held-first')";
    PgSession.maxUncommitted = 8; // 4,096 round trips in the gateway: a few minutes of test time
    try (Raw r = raw()) {
      executeWithoutSync(r, first);
      for (int i = 0; i < PgSession.maxUncommitted; i++) {
        executeWithoutSync(r, "INSERT INTO uc_rows VALUES ('held-more')");
      }
      // the client is still connected, and has not sent Sync: the first one is recorded already
      assertThat(outcome(first).summary())
          .isEqualTo("INSERT 0 1 (recorded before its Sync: the commit was not seen)");
    } finally {
      PgSession.maxUncommitted = PgSession.MAX_UNCOMMITTED;
    }
  }

  @Test
  void anInsertFollowedBySyncIsRecordedAsRun() throws Exception {
    String insert = "INSERT INTO uc_rows VALUES ('synced')";
    try (Raw r = raw()) {
      List<Message> ms =
          r.send(parse("", insert), bind("", ""), execute("", 0), sync()).untilReady();
      assertThat(sqlStates(ms)).isEmpty();
      var d =
          t.decided.stream().filter(x -> x.raw().equals(insert)).reduce((a, b) -> b).orElseThrow();
      assertThat(t.outcomeOf(d.id()).map(Outcome::status))
          .as("recorded before the client's ReadyForQuery")
          .contains("ok");
    }
    assertThat(outcome(insert).summary()).isEqualTo("INSERT 0 1");
    assertThat(rows("synced")).isOne();
  }

  @Test
  void anInsertRolledBackByALaterErrorBeforeSyncIsRecordedAsNotCommitted() throws Exception {
    String insert = "INSERT INTO uc_rows VALUES ('failed-later')";
    try (Raw r = raw()) {
      List<Message> ms =
          r.send(
                  parse("", insert),
                  bind("", ""),
                  execute("", 0),
                  parse("", "SELECT 1/0"),
                  bind("", ""),
                  execute("", 0),
                  sync())
              .untilReady();
      assertThat(sqlStates(ms)).containsExactly("22012");
      PgProtocolRedTeamTest.stillUsable(r);
    }
    Outcome o = outcome(insert);
    assertThat(o.status()).isEqualTo("error");
    assertThat(o.summary()).contains("not committed (INSERT 0 1)", "rolled it back");
    assertThat(rows("failed-later")).isZero();
  }

  @Test
  void anExplicitTransactionsStatementsAreRecordedAsTheyComplete() throws Exception {
    // In a transaction block the block's end is a statement of its own (COMMIT, ROLLBACK), and a
    // session that ends without one shows that none came: the INSERT is recorded as run.
    String insert = "INSERT INTO uc_rows VALUES ('in-block')";
    try (Raw r = raw()) {
      assertThat(sqlStates(r.query("BEGIN"))).isEmpty();
      executeWithoutSync(r, insert);
    }
    assertThat(outcome(insert).status()).isEqualTo("ok");
    assertThat(rows("in-block")).isZero();
  }
}
