package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgProtocolRedTeamTest.bind;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.close;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.count;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.errorText;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.execute;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.firstColumn;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.parse;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.sqlStates;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.sync;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.Obligations;
import dev.gatehouse.policy.PolicyEngine;
import dev.gatehouse.policy.PolicyRequest;
import dev.gatehouse.policy.ReviewRequirement;
import dev.gatehouse.postgres.PgCodec.Message;
import dev.gatehouse.postgres.PgProtocolRedTeamTest.Raw;
import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Session state the gateway keeps while statements are still at the target, checked with a raw
 * protocol client that pipelines messages without waiting for answers (<a
 * href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-PIPELINING">pipelining</a>):
 * PREPAREs of one name not yet answered, Parses of a PREPARE that never run, and
 * standard_conforming_strings changed by a statement the target has not answered yet. A {@code
 * pg_sleep} at the head of a pipeline keeps its answers back until the gateway has decided the
 * whole pipeline.
 */
class PgPipelineStateTest {
  static final String SECRET = "pp.secret@example.com";

  /**
   * Read as one SELECT of two literals with standard_conforming_strings on ({@code 'a\'}, then a
   * dollar-quoted string), as a SELECT of one literal ({@code \'} escapes the quote) and a DROP
   * with it off.
   */
  static final String DROP_HIDDEN_WHEN_OFF = "SELECT 'a\\', $$'; DROP TABLE pp_victim; --$$";

  /** The same trick the other way round: hidden when the gateway reads off and the target on. */
  static final String DROP_HIDDEN_WHEN_ON = "SELECT 'x\\'; DROP TABLE pp_victim; --'";

  /** A single statement (a Parse holds one) that reads pp_secret only with the setting off. */
  static final String READ_HIDDEN_WHEN_OFF =
      "SELECT 'a\\', $$' || (SELECT v FROM pp_secret) || '$$";

  private static PgTestSupport t;
  private static PgProtocolServer server;

  /** Every review filed: the raw text, what reviewers are shown, the fingerprint text. */
  record Filed(String raw, String shown, String exactly) {}

  static final List<Filed> reviews = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS pp_secret");
      s.execute("CREATE TABLE pp_secret (v text)");
      s.execute("INSERT INTO pp_secret VALUES ('" + SECRET + "')");
      // A user function the classifier cannot see into: it changes a setting for the session.
      s.execute(
          "CREATE OR REPLACE FUNCTION pp_scs(v text) RETURNS text LANGUAGE sql AS"
              + " $$ SELECT set_config('standard_conforming_strings', v, false) $$");
    }
    Gate gate =
        t.gateWith(Policy::new)
            .reviews(
                (sessionId, principal, target, action, decision, waiting) -> {
                  reviews.add(
                      new Filed(action.raw(), waiting.shown(action), waiting.exactly(action)));
                  waiting.held("rev-" + reviews.size(), "ask a dba");
                  // The reviewer approves PREPAREs and refuses every EXECUTE.
                  boolean ok = !action.raw().startsWith("EXECUTE");
                  return new ReviewGate.Outcome(ok, "rev-" + reviews.size(), "test reviewer");
                })
            .build();
    server = t.serve(gate);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @BeforeEach
  void tables() throws Exception {
    reviews.clear();
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS pp_keep");
      s.execute("CREATE TABLE pp_keep (id int)");
      s.execute("INSERT INTO pp_keep VALUES (1), (2), (3)");
      s.execute("CREATE TABLE IF NOT EXISTS pp_victim (id int)");
    }
  }

  /** Deletes need review, DROP, unknown statements and reads of pp_secret are denied. */
  static final class Policy implements PolicyEngine {
    @Override
    public Decision decide(PolicyRequest r) {
      if (r.action().kind() == ActionKind.CONNECT) {
        return new Decision(Effect.ALLOW, "connect", "ok", null, Obligations.NONE, List.of());
      }
      String kind = r.action().string(Action.Attr.SQL_KIND);
      if (kind.equals("drop") || kind.equals("unknown")) {
        return Decision.deny("no-" + kind, kind + " statements are not allowed", List.of());
      }
      if (r.action().list(Action.Attr.SQL_TABLES_READ).contains("pp_secret")) {
        return Decision.deny("no-secret", "pp_secret is not for you", List.of());
      }
      if (kind.equals("delete")) {
        return new Decision(
            Effect.REVIEW,
            "review-delete",
            "deletes need a dba's approval",
            new ReviewRequirement(List.of("dba"), 1, false, false, Duration.ofMinutes(5)),
            null,
            List.of());
      }
      return new Decision(Effect.ALLOW, "allow-" + kind, "ok", null, null, List.of());
    }

    @Override
    public long generation() {
      return 0;
    }
  }

  Raw client() throws Exception {
    return new Raw(server.address().getPort());
  }

  /** Parse, Bind and Execute of {@code sql} as the unnamed statement and portal. */
  static byte[][] run(String sql) {
    return new byte[][] {parse("", sql), bind("", ""), execute("", 0)};
  }

  static byte[] frames(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static byte[] frames(byte[][]... groups) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[][] g : groups) {
      out.writeBytes(frames(g));
    }
    return out.toByteArray();
  }

  static final byte[][] SYNC = {sync()};

  static boolean victimExists() throws Exception {
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT to_regclass('pp_victim') IS NOT NULL")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  static List<Filed> reviewsOf(String raw) {
    return reviews.stream().filter(f -> f.raw().equals(raw)).toList();
  }

  // ---- pending PREPAREs of one name ----

  @Test
  void anExecuteBehindTwoPendingPreparesOfItsNameIsDecidedAsTheOneThatRuns() throws Exception {
    try (Raw r = client()) {
      // Three Sync segments sent at once. The second PREPARE fails as a duplicate, so the third
      // segment's EXECUTE runs the first one's DELETE: a gateway that kept only the latest
      // pending PREPARE per name decided it as SELECT 1.
      r.send(
          frames(
              run("SELECT pg_sleep(0.5)"),
              run("PREPARE s AS DELETE FROM pp_keep WHERE id = 1"),
              SYNC,
              run("PREPARE s AS SELECT 1"),
              SYNC,
              run("EXECUTE s"),
              SYNC));
      assertThat(sqlStates(r.untilReady())).isEmpty();
      assertThat(sqlStates(r.untilReady())).containsExactly("42P05");
      List<Message> ms = r.untilReady();
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(count("pp_keep")).isEqualTo(3);
      // The review of the EXECUTE showed, and its fingerprint bound, the DELETE it would run.
      assertThat(reviewsOf("EXECUTE s"))
          .singleElement()
          .satisfies(
              f -> {
                assertThat(f.shown()).contains("DELETE FROM pp_keep WHERE id = 1");
                assertThat(f.exactly()).contains("delete").contains("pp_keep").contains("select");
              });
      // Once answered, EXECUTE s is the confirmed DELETE alone.
      assertThat(sqlStates(r.query("EXECUTE s"))).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(reviewsOf("EXECUTE s").getLast().shown())
          .contains("DELETE FROM pp_keep WHERE id = 1")
          .doesNotContain("SELECT 1");
    }
  }

  @Test
  void anExecuteBehindPrepareDeallocatePrepareIsDecidedAsEveryCandidate() throws Exception {
    for (String[] order :
        List.of(
            new String[] {"SELECT 1", "DELETE FROM pp_keep WHERE id = 2"},
            new String[] {"DELETE FROM pp_keep WHERE id = 2", "SELECT 1"})) {
      reviews.clear();
      try (Raw r = client()) {
        // One segment: PREPARE, DEALLOCATE, PREPARE again and EXECUTE, before any is answered.
        r.send(
            frames(
                run("SELECT pg_sleep(0.3)"),
                run("PREPARE s AS " + order[0]),
                run("DEALLOCATE s"),
                run("PREPARE s AS " + order[1]),
                run("EXECUTE s"),
                SYNC));
        List<Message> ms = r.untilReady();
        // A DELETE among the candidates: the EXECUTE is reviewed (and refused by the reviewer)
        // with the DELETE shown, whichever of the two runs.
        assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
        assertThat(reviewsOf("EXECUTE s"))
            .singleElement()
            .satisfies(f -> assertThat(f.shown()).contains("DELETE FROM pp_keep WHERE id = 2"));
        assertThat(count("pp_keep")).isEqualTo(3);
        // Answered: the name is what the target has, the second PREPARE.
        ms = r.query("EXECUTE s");
        if (order[1].equals("SELECT 1")) {
          assertThat(sqlStates(ms)).isEmpty();
          assertThat(firstColumn(ms)).containsExactly("1");
        } else {
          assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
        }
      }
    }
  }

  // ---- Parses of a PREPARE that never run ----

  @Test
  void aParsedButNeverExecutedPrepareIsNotTakenForALaterOne() throws Exception {
    String never = "PREPARE s AS DELETE FROM pp_keep WHERE id = 1";
    for (byte[] left :
        List.of(
            frames(parse("p", never), close('S', "p"), sync()), // closed
            frames(parse("p", never), sync()), // kept, never bound
            frames(parse("p", never), bind("x", "p"), run("DROP TABLE pp_keep")[0], sync()))) {
      try (Raw r = client()) {
        List<Message> ms = r.send(left).untilReady();
        assertThat(sqlStates(ms)).doesNotContain("42P05");
        assertThat(sqlStates(r.query("PREPARE s AS SELECT 1"))).isEmpty();
        // The target runs SELECT 1: that is what the EXECUTE is decided as, not the DELETE of a
        // PREPARE that was only parsed.
        ms = r.query("EXECUTE s");
        assertThat(sqlStates(ms)).isEmpty();
        assertThat(firstColumn(ms)).containsExactly("1");
        assertThat(reviewsOf("EXECUTE s")).isEmpty();
      }
    }
    assertThat(count("pp_keep")).isEqualTo(3);
  }

  @Test
  void parsesOfPreparesThatNeverRunDoNotFillTheSessionsBookkeeping() throws Exception {
    try (Raw r = client()) {
      // More distinct PREPARE names than the gateway tracks (PgSession.MAX_PREPARED), each only
      // parsed as the unnamed statement. Were they noted, the bound would be reached and every
      // EXECUTE of a name not tracked refused from then on.
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int i = 0; i <= PgSession.MAX_PREPARED; i++) {
        out.writeBytes(parse("", "PREPARE n" + i + " AS SELECT " + i));
      }
      out.writeBytes(sync());
      assertThat(sqlStates(r.send(out.toByteArray()).untilReady())).isEmpty();
      // A name never prepared: the target's own answer, not the gateway's refusal.
      assertThat(sqlStates(r.query("EXECUTE fresh"))).containsExactly("26000");
      assertThat(sqlStates(r.query("PREPARE fresh AS SELECT 7"))).isEmpty();
      assertThat(firstColumn(r.query("EXECUTE fresh"))).containsExactly("7");
    }
  }

  // ---- standard_conforming_strings changing under a pipeline ----

  @Test
  void aStatementBehindAFunctionThatTurnsOffStandardStringsIsNotMisread() throws Exception {
    try (Raw r = client()) {
      // The function's change is reported only at the ReadyForQuery after the sleep; the Query
      // is decided before that, and the target reads it with the setting off: a SELECT and a DROP.
      r.send(
          frames(
              run("SELECT pp_scs('off'), pg_sleep(0.5)"),
              SYNC,
              new byte[][] {PgMessages.query(DROP_HIDDEN_WHEN_OFF)}));
      assertThat(sqlStates(r.untilReady())).isEmpty();
      List<Message> ms = r.untilReady();
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(errorText(ms)).contains("no-unknown");
      assertThat(victimExists()).isTrue();
      // Settled: the gateway now reads the text as the target does, and the DROP is denied as one.
      ms = r.query(DROP_HIDDEN_WHEN_OFF);
      assertThat(errorText(ms)).contains("no-drop");
      assertThat(victimExists()).isTrue();
      // A backslash that means the same either way is no reason to refuse, pipelined or not.
      r.send(
          frames(
              run("SELECT pp_scs('on'), pg_sleep(0.2)"), run("SELECT 'C:\\temp' AS path"), SYNC));
      ms = r.untilReady();
      assertThat(sqlStates(ms)).isEmpty();
      assertThat(firstColumn(ms)).contains("C:\\temp");
    }
  }

  @Test
  void aParseBehindAFunctionThatTurnsOffStandardStringsCannotHideARead() throws Exception {
    try (Raw r = client()) {
      r.send(
          frames(
              run("SELECT pp_scs('off'), pg_sleep(0.5)"),
              SYNC, // its own implicit transaction, which commits the change
              run(READ_HIDDEN_WHEN_OFF),
              SYNC));
      assertThat(sqlStates(r.untilReady())).isEmpty();
      List<Message> ms = r.untilReady();
      assertThat(sqlStates(ms)).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(errorText(ms)).doesNotContain(SECRET);
      assertThat(firstColumn(ms)).doesNotContain(SECRET);
      assertThat(firstColumn(r.query("SHOW standard_conforming_strings"))).containsExactly("off");
    }
  }

  @Test
  void resetAllBackToTheStartupValueIsNotMisread() throws Exception {
    try (Raw r =
        new Raw(server.address().getPort(), Map.of("standard_conforming_strings", "off"))) {
      assertThat(firstColumn(r.query("SHOW standard_conforming_strings"))).containsExactly("off");
      assertThat(sqlStates(r.query("SELECT pp_scs('on')"))).isEmpty();
      // In one Query the target lexes every statement before the first runs: the RESET ALL does
      // not change how the rest of the string is read, and the gateway reads it the same way.
      List<Message> ms = r.query("RESET ALL; " + DROP_HIDDEN_WHEN_OFF);
      assertThat(sqlStates(ms)).isEmpty();
      assertThat(firstColumn(ms)).containsExactly("a\\");
      assertThat(victimExists()).isTrue();
      // Pipelined: the RESET ALL (back to off) is not answered when the next Query is decided.
      assertThat(sqlStates(r.query("SELECT pp_scs('on')"))).isEmpty();
      r.send(
          PgMessages.query("RESET ALL; SELECT pg_sleep(0.5)"),
          PgMessages.query(DROP_HIDDEN_WHEN_OFF));
      assertThat(sqlStates(r.untilReady())).isEmpty();
      assertThat(sqlStates(r.untilReady())).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(victimExists()).isTrue();
      assertThat(firstColumn(r.query("SHOW standard_conforming_strings"))).containsExactly("off");
    }
  }

  @Test
  void aRollbackUndoingAChangeIsNotMisread() throws Exception {
    try (Raw r = client()) {
      assertThat(sqlStates(r.query("BEGIN; SELECT pp_scs('off')"))).isEmpty();
      // The gateway knows off now; the ROLLBACK puts the target back to on before the next Query.
      r.send(
          PgMessages.query("ROLLBACK; SELECT pg_sleep(0.5)"),
          PgMessages.query(DROP_HIDDEN_WHEN_ON));
      assertThat(sqlStates(r.untilReady())).isEmpty();
      assertThat(sqlStates(r.untilReady())).containsExactly(PgErrors.INSUFFICIENT_PRIVILEGE);
      assertThat(victimExists()).isTrue();
      assertThat(firstColumn(r.query("SHOW standard_conforming_strings"))).containsExactly("on");
    }
  }
}
