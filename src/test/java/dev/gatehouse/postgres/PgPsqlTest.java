package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_ALICE;
import static dev.gatehouse.postgres.PgTestSupport.TOKEN_READER;
import static dev.gatehouse.postgres.PgTestSupport.UPSTREAM_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.postgres.PgTestSupport.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real psql 15 client through the gateway. */
class PgPsqlTest {
  private static PgTestSupport t;
  private static final List<String> seenByClients = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS psql_items (id int, name text)");
      s.execute("CREATE TABLE IF NOT EXISTS psql_multi (id int)");
      s.execute("CREATE TABLE IF NOT EXISTS psql_copy (id int, name text)");
    }
  }

  private static Run psql(String token, String user, String db, String sslmode, String... args)
      throws Exception {
    Run r = t.psql(token, user, db, sslmode, args);
    synchronized (seenByClients) {
      seenByClients.add(r.all());
    }
    return r;
  }

  @Test
  void selectWorks() throws Exception {
    Run r = psql(TOKEN_ALICE, "alice", "conn", "require", "-c", "select 40+2");
    assertThat(r.exit()).as(r.all()).isZero();
    assertThat(r.out().strip()).isEqualTo("42");
  }

  @Test
  void deniedStatementInTransactionFailsItAndKeepsSessionUsable() throws Exception {
    Path script = Files.createTempFile("deny", ".sql");
    Files.writeString(
        script,
        """
        BEGIN;
        SELECT 'in-tx';
        DROP TABLE psql_items;
        SELECT 'after-deny';
        ROLLBACK;
        SELECT 'still-usable';
        """);
    Run r = psql(TOKEN_ALICE, "alice", "conn", "require", "-f", script.toString());
    assertThat(r.out()).contains("in-tx").contains("still-usable").doesNotContain("after-deny");
    assertThat(r.err())
        .contains("42501")
        .contains("no-drop")
        .contains("25P02"); // the transaction is failed after the refusal, as in PostgreSQL
    try (Connection c = t.direct("gh_test");
        ResultSet rs =
            c.createStatement().executeQuery("SELECT to_regclass('psql_items') IS NOT NULL")) {
      rs.next();
      assertThat(rs.getBoolean(1)).isTrue();
    }
  }

  @Test
  void deniedStatementOutsideTransactionLeavesSessionIdle() throws Exception {
    Run r =
        psql(
            TOKEN_ALICE,
            "alice",
            "conn",
            "require",
            "-c",
            "DROP TABLE psql_items",
            "-c",
            "SELECT 'next'");
    assertThat(r.err()).contains("42501").contains("drop statements are not allowed");
    assertThat(r.out()).contains("next");
  }

  @Test
  void multiStatementQueryWithOneDeniedRunsNothing() throws Exception {
    Run r =
        psql(
            TOKEN_ALICE,
            "alice",
            "conn",
            "require",
            "-c",
            "INSERT INTO psql_multi VALUES (1); DROP TABLE psql_multi");
    assertThat(r.err()).contains("42501");
    try (Connection c = t.direct("gh_test");
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM psql_multi")) {
      rs.next();
      assertThat(rs.getInt(1)).isZero();
    }
    // the allowed statement was decided and recorded, then recorded as not executed
    var insert =
        t.decided.stream()
            .filter(d -> d.raw().equals("INSERT INTO psql_multi VALUES (1)"))
            .findFirst()
            .orElseThrow();
    assertThat(t.outcomeOf(insert.id()))
        .hasValueSatisfying(
            o -> {
              assertThat(o.status()).isEqualTo("error");
              assertThat(o.summary()).startsWith("not executed");
            });
  }

  @Test
  void copyInAndOutWithBackslashCopy() throws Exception {
    Path in = Files.createTempFile("copy-in", ".csv");
    Path out = Files.createTempFile("copy-out", ".csv");
    StringBuilder csv = new StringBuilder();
    for (int i = 1; i <= 500; i++) {
      csv.append(i).append(",name-").append(i).append('\n');
    }
    Files.writeString(in, csv.toString());
    Run r =
        psql(
            TOKEN_ALICE,
            "alice",
            "conn",
            "require",
            "-c",
            "\\copy psql_copy from '" + in + "' csv",
            "-c",
            "\\copy (select * from psql_copy order by id) to '" + out + "' csv");
    assertThat(r.exit()).as(r.all()).isZero();
    assertThat(Files.readString(out)).isEqualTo(csv.toString());
    assertThat(t.outcomes.stream().anyMatch(o -> o.summary().equals("COPY 500") && o.rows() == 500))
        .isTrue();
  }

  @Test
  void copyToServerFileIsDenied() throws Exception {
    Run r = psql(TOKEN_ALICE, "alice", "conn", "require", "-c", "COPY psql_copy TO '/tmp/x.csv'");
    assertThat(r.err()).contains("42501").contains("copy_program");
  }

  @Test
  void gsetWorks() throws Exception {
    Path script = Files.createTempFile("gset", ".sql");
    Files.writeString(script, "SELECT 6*7 AS answer \\gset\n\\echo answer=:answer\n");
    Run r = psql(TOKEN_ALICE, "alice", "conn", "require", "-f", script.toString());
    assertThat(r.out()).contains("answer=42");
  }

  @Test
  void wrongTokenIsRejected() throws Exception {
    Run r = psql("not-a-token", "alice", "conn", "require", "-c", "select 1");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("unknown or revoked token");
  }

  @Test
  void userMustMatchTheTokenIdentity() throws Exception {
    Run r = psql(TOKEN_ALICE, "bob", "conn", "require", "-c", "select 1");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("does not match the identity");
  }

  @Test
  void unknownDatabaseIsRejected() throws Exception {
    Run r = psql(TOKEN_ALICE, "alice", "nosuchconn", "require", "-c", "select 1");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("connection \"nosuchconn\" does not exist");
  }

  @Test
  void plaintextIsRefusedWhenNotAllowed() throws Exception {
    Run r = psql(TOKEN_ALICE, "alice", "conn", "disable", "-c", "select 1");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("TLS is required");
  }

  @Test
  void plaintextWorksWhenAllowed() throws Exception {
    List<String> cmd =
        List.of(
            "/usr/bin/psql",
            "host=127.0.0.1 port="
                + t.plaintextServer.address().getPort()
                + " dbname=conn user=alice sslmode=prefer",
            "-X",
            "-A",
            "-t",
            "-c",
            "select 'plain'");
    Run r = PgTestSupport.run(TOKEN_ALICE, java.util.Map.of(), cmd);
    assertThat(r.out().strip()).as(r.all()).isEqualTo("plain");
  }

  @Test
  void readOnlySessionCannotTurnReadOnlyOff() throws Exception {
    Run r =
        psql(
            TOKEN_READER,
            "reader",
            "conn",
            "require",
            "-c",
            "SET default_transaction_read_only = off",
            "-c",
            "BEGIN READ WRITE",
            "-c",
            "INSERT INTO psql_items VALUES (99, 'x')",
            "-c",
            "SHOW default_transaction_read_only");
    assertThat(r.err()).contains("42501").contains("read-only");
    assertThat(r.err()).contains("25006"); // the target itself refuses the write
    assertThat(r.out().strip()).isEqualTo("on");
    assertThat(t.audit).anyMatch(e -> e.type().equals("postgres.read_only_violation"));
  }

  @AfterAll
  static void credentialsNeverLeak() {
    synchronized (seenByClients) {
      assertThat(String.join("\n", seenByClients)).doesNotContain(UPSTREAM_PASSWORD);
    }
    assertThat(t.everythingRecorded()).doesNotContain(UPSTREAM_PASSWORD);
  }
}
