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
      // A notice flushes what the server has buffered, the INSERT's CommandComplete before it
      s.execute(
          "CREATE OR REPLACE FUNCTION uc_notice_then_sleep() RETURNS int LANGUAGE plpgsql AS"
              + " $$BEGIN RAISE NOTICE 'sleeping'; PERFORM pg_sleep(1); RETURN 1; END$$");
      s.execute("GRANT EXECUTE ON FUNCTION uc_notice_then_sleep() TO gh_scram");
      // A deferred foreign key: checked at the commit, after the INSERT's CommandComplete
      s.execute("DROP TABLE IF EXISTS uc_child, uc_parent");
      s.execute("CREATE TABLE uc_parent (id int PRIMARY KEY)");
      s.execute("CREATE TABLE uc_child (p int REFERENCES uc_parent DEFERRABLE INITIALLY DEFERRED)");
      s.execute("GRANT ALL ON uc_parent, uc_child TO gh_scram");
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

  @Test
  void executionsAfterACommitBeforeSyncStartAnotherImplicitTransaction() throws Exception {
    // The server commits a transaction statement at once and starts the next execution in a new
    // implicit transaction, which again only Sync commits (postgres.c exec_execute_message).
    String first = "INSERT INTO uc_rows VALUES ('before-commit')";
    String second = "INSERT INTO uc_rows VALUES ('after-commit')";
    try (Raw r = raw()) {
      executeWithoutSync(r, first);
      executeWithoutSync(r, "COMMIT");
      executeWithoutSync(r, second);
    }
    assertThat(outcome(first).summary()).isEqualTo("INSERT 0 1");
    assertThat(rows("before-commit")).isOne();
    assertThat(outcome(second).summary()).startsWith("not committed (INSERT 0 1): the session");
    assertThat(rows("after-commit")).isZero();
  }

  // ---- several statements in one simple Query: one implicit transaction
  // (protocol-flow.html#PROTOCOL-FLOW-MULTI-STATEMENT) ----

  @Test
  void aQuerysInsertRolledBackByALaterStatementIsRecordedAsNotCommitted() throws Exception {
    String insert = "INSERT INTO uc_rows VALUES ('query-failed-later')";
    try (Raw r = raw()) {
      assertThat(sqlStates(r.query(insert + "; SELECT 1/0"))).containsExactly("22012");
      PgProtocolRedTeamTest.stillUsable(r);
    }
    Outcome o = outcome(insert);
    assertThat(o.status()).isEqualTo("error");
    assertThat(o.summary())
        .isEqualTo(
            "not committed (INSERT 0 1): a later statement of its implicit transaction failed, so"
                + " PostgreSQL rolled it back");
    assertThat(outcome("SELECT 1/0").status()).isEqualTo("error");
    assertThat(rows("query-failed-later")).isZero();
  }

  @Test
  void aQuerysStatementsAreRecordedAsRunWhenItEndsWell() throws Exception {
    String insert = "INSERT INTO uc_rows VALUES ('query-ok')";
    try (Raw r = raw()) {
      assertThat(sqlStates(r.query(insert + "; SELECT 'query-ok-select'"))).isEmpty();
      var d =
          t.decided.stream().filter(x -> x.raw().equals(insert)).reduce((a, b) -> b).orElseThrow();
      assertThat(t.outcomeOf(d.id()).map(Outcome::summary))
          .as("recorded before the client's ReadyForQuery")
          .contains("INSERT 0 1");
    }
    assertThat(outcome(insert).status()).isEqualTo("ok");
    assertThat(outcome("SELECT 'query-ok-select'").summary()).isEqualTo("SELECT 1");
    assertThat(rows("query-ok")).isOne();
  }

  @Test
  void whatACommitInTheQueryCommittedStaysRecordedAsRun() throws Exception {
    // "the first INSERT is committed by the explicit COMMIT command. The second INSERT and the
    // SELECT are still treated as a single implicit transaction block" (protocol-flow.html)
    String first = "INSERT INTO uc_rows VALUES ('query-committed')";
    String second = "INSERT INTO uc_rows VALUES ('query-after-commit')";
    try (Raw r = raw()) {
      assertThat(sqlStates(r.query(first + "; COMMIT; " + second + "; SELECT 1/0")))
          .containsExactly("22012");
    }
    assertThat(outcome(first))
        .extracting(Outcome::status, Outcome::summary)
        .containsExactly("ok", "INSERT 0 1");
    assertThat(rows("query-committed")).isOne();
    Outcome o = outcome(second);
    assertThat(o.status()).isEqualTo("error");
    assertThat(o.summary()).startsWith("not committed (INSERT 0 1): a later statement");
    assertThat(rows("query-after-commit")).isZero();
  }

  @Test
  void aBlockCommittedInTheQueryStaysRecordedAsRun() throws Exception {
    String first = "INSERT INTO uc_rows VALUES ('query-block')";
    String second = "INSERT INTO uc_rows VALUES ('query-after-block')";
    try (Raw r = raw()) {
      assertThat(sqlStates(r.query("BEGIN; " + first + "; COMMIT; " + second + "; SELECT 1/0")))
          .containsExactly("22012");
    }
    assertThat(outcome(first).status()).isEqualTo("ok");
    assertThat(rows("query-block")).isOne();
    assertThat(outcome(second).summary()).startsWith("not committed (INSERT 0 1)");
    assertThat(rows("query-after-block")).isZero();
  }

  @Test
  void aRollbackInTheQueryIsRecordedAsRollingBackWhatCameBefore() throws Exception {
    String insert = "INSERT INTO uc_rows VALUES ('query-rolled-back')";
    String after = "INSERT INTO uc_rows VALUES ('query-after-rollback')";
    try (Raw r = raw()) {
      assertThat(sqlStates(r.query(insert + "; ROLLBACK; " + after))).isEmpty();
    }
    Outcome o = outcome(insert);
    assertThat(o.status()).isEqualTo("error");
    assertThat(o.summary())
        .isEqualTo(
            "not committed (INSERT 0 1): a ROLLBACK in its implicit transaction rolled it back");
    assertThat(rows("query-rolled-back")).isZero();
    assertThat(outcome(after).status()).isEqualTo("ok");
    assertThat(rows("query-after-rollback")).isOne();
  }

  @Test
  void aQuerysHeldStatementsAreBoundedToo() throws Exception {
    String first = "INSERT INTO uc_rows VALUES ('query-held-first')";
    String last = "INSERT INTO uc_rows VALUES ('query-held-last')";
    PgSession.maxUncommitted = 2;
    try (Raw r = raw()) {
      String more = "INSERT INTO uc_rows VALUES ('query-held-more')";
      assertThat(sqlStates(r.query(first + "; " + more + "; " + last + "; SELECT 1/0")))
          .containsExactly("22012");
    } finally {
      PgSession.maxUncommitted = PgSession.MAX_UNCOMMITTED;
    }
    assertThat(outcome(first).summary())
        .isEqualTo("INSERT 0 1 (recorded before the end of its query: the commit was not seen)");
    assertThat(outcome(last).summary()).startsWith("not committed (INSERT 0 1)");
    assertThat(rows("query-held-first")).isZero();
  }

  @Test
  void aQueryInsideABlockIsRecordedAsItsStatementsComplete() throws Exception {
    // As for the extended protocol (anExplicitTransactionsStatementsAreRecordedAsTheyComplete):
    // the block's end is a statement of its own.
    String insert = "INSERT INTO uc_rows VALUES ('query-in-block')";
    try (Raw r = raw()) {
      assertThat(sqlStates(r.query("BEGIN"))).isEmpty();
      assertThat(sqlStates(r.query(insert + "; SELECT 1/0"))).containsExactly("22012");
      assertThat(outcome(insert))
          .extracting(Outcome::status, Outcome::summary)
          .containsExactly("ok", "INSERT 0 1");
      assertThat(sqlStates(r.query("ROLLBACK"))).isEmpty();
    }
    assertThat(rows("query-in-block")).isZero();
  }

  private static final String COMMIT_FAILED =
      "not committed (INSERT 0 1): its commit failed (ERROR 23503), so PostgreSQL rolled it back";

  @Test
  void aSingleStatementQueryWhoseCommitFailsIsRecordedAsFailed() throws Exception {
    // The server commits a Query's last statement before its CommandComplete: the deferred check
    // failing at the commit is the INSERT's own ErrorResponse, no CommandComplete comes.
    String insert = "INSERT INTO uc_child VALUES (4242)";
    try (Raw r = raw()) {
      List<Message> ms = r.query(insert);
      assertThat(sqlStates(ms)).containsExactly("23503");
      assertThat(ms.stream().map(Message::kind)).doesNotContain('C');
      PgProtocolRedTeamTest.stillUsable(r);
    }
    assertThat(outcome(insert).status()).isEqualTo("error");
    assertThat(outcome(insert).summary()).startsWith("ERROR 23503");
    assertThat(count("uc_child")).isZero();
  }

  @Test
  void anExecutionWhoseCommitAtSyncFailsIsRecordedAsNotCommitted() throws Exception {
    // The extended protocol commits at Sync: CommandComplete, then the Sync's ErrorResponse
    String insert = "INSERT INTO uc_child VALUES (4343)";
    try (Raw r = raw()) {
      List<Message> ms =
          r.send(parse("", insert), bind("", ""), execute("", 0), sync()).untilReady();
      assertThat(sqlStates(ms)).containsExactly("23503");
    }
    assertThat(outcome(insert))
        .extracting(Outcome::status, Outcome::summary)
        .containsExactly("error", COMMIT_FAILED);
    assertThat(count("uc_child")).isZero();
  }

  @Test
  void aSingleStatementQueryIsRecordedAsItCompletes() throws Exception {
    String insert = "INSERT INTO uc_rows VALUES ('query-single')";
    try (Raw r = raw()) {
      r.send(PgMessages.query(insert));
      Message m;
      while ((m = r.read()).kind() != 'C') {
        assertThat(m.kind()).isNotEqualTo('E');
      }
      // its own transaction: recorded at its CommandComplete, not held for the ReadyForQuery
      assertThat(outcome(insert).summary()).isEqualTo("INSERT 0 1");
      assertThat(r.untilReady()).isNotEmpty();
    }
    assertThat(rows("query-single")).isOne();
  }

  @Test
  void aClientLeavingAfterItsSyncWasSent() throws Exception {
    // The INSERT completed, the Sync is on its way behind a SELECT that sleeps: the server runs
    // both, commits at the Sync, and only then finds the connection gone.
    String insert = "INSERT INTO uc_rows VALUES ('sync-sent')";
    try (Raw r = raw()) {
      r.send(
          parse("", insert),
          bind("", ""),
          execute("", 0),
          parse("", "SELECT uc_notice_then_sleep()"),
          bind("", ""),
          execute("", 0),
          sync());
      Message m;
      while ((m = r.read()).kind() != 'C') {
        assertThat(m.kind()).isNotEqualTo('E');
      }
    } // the client leaves while the SELECT sleeps
    Outcome o = outcome(insert);
    assertThat(o.status()).isEqualTo("ok");
    assertThat(o.summary()).startsWith("INSERT 0 1 (the session ended after its Sync was sent");
    for (int i = 0; i < 100 && rows("sync-sent") == 0; i++) {
      Thread.sleep(50); // the SELECT sleeps a second, then the Sync commits
    }
    assertThat(rows("sync-sent")).isOne();
  }

  @Test
  void aClientLeavingBeforeTheEndOfItsQuery() throws Exception {
    // Unlike a pipeline left before Sync, the server runs the Query to its end, commits, and
    // only then fails to answer: the INSERT stays, and its record says so.
    String insert = "INSERT INTO uc_rows VALUES ('query-left')";
    try (Raw r = raw()) {
      r.send(PgMessages.query(insert + "; SELECT uc_notice_then_sleep()"));
      Message m;
      while ((m = r.read()).kind() != 'C') {
        assertThat(m.kind()).isNotEqualTo('E');
      }
    } // the client leaves while the SELECT sleeps
    Outcome o = outcome(insert);
    assertThat(o.status()).isEqualTo("ok");
    assertThat(o.summary())
        .startsWith("INSERT 0 1 (the session ended before its query did; PostgreSQL runs");
    for (int i = 0; i < 100 && rows("query-left") == 0; i++) {
      Thread.sleep(50); // the SELECT sleeps a second, then the query commits
    }
    assertThat(rows("query-left")).isOne();
    // The SELECT's answer never came: not "lost" (the target was fine), not known to have failed.
    Outcome select = outcome("SELECT uc_notice_then_sleep()");
    assertThat(select.summary())
        .isEqualTo(
            "no answer seen: the session ended before the target answered (it may have run)");
  }
}
