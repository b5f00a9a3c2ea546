package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.gate.Gate;
import dev.gatehouse.policy.ReloadingPolicyEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session's terms follow the policy: pgjdbc sessions through the gateway to the embedded
 * PostgreSQL, and a policy file the test reloads under them. A reload that changes what the session
 * was opened with (its masking profile, read-only, upstream role) ends it with {@code 57P01}, and a
 * new connection gets the new terms; a reload that leaves them as they were does not disturb it;
 * one that no longer lets the principal connect ends an idle session too (the sweeper). Before
 * this, each kept its session's original terms until the client disconnected.
 */
class PgSessionTermsGatewayTest {
  static final String TOKEN = "tok-terms-0001";
  static final String CONN = "terms";

  static final String POLICY =
      """
      version: 1
      rules:
        - id: work
          subjects: { groups: [terms] }
          connections: { names: [terms] }
          effect: allow
          sql: { statements: [read, write, session, transaction] }
          obligations: { masking: none }
      """;

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;
  private static Path policyFile;
  private static ReloadingPolicyEngine engine;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    t.freshDatabase(
        "gh_terms",
        """
          CREATE TABLE public.notes (id int, body text);
          INSERT INTO public.notes VALUES (1, 'call 4111 1111 1111 1111');
          ALTER TABLE public.notes OWNER TO gh_scram;
          """);
    t.addConnection(CONN, "gh_terms", "gh_scram", "prefer");
    t.addPrincipal(TOKEN, "tess", Set.of("terms"));
    policyFile = dir.resolve("terms.yaml");
    Files.writeString(policyFile, POLICY);
    engine = ReloadingPolicyEngine.load(List.of(policyFile.toString()), null);
    gate =
        t.gateWith(() -> engine)
            .redactor(
                (profile, text) ->
                    "none".equals(profile) ? text : text.replace("4111 1111 1111 1111", "[card]"))
            .build();
    server = t.serve(gate);
  }

  @AfterEach
  void restorePolicy() throws Exception {
    reload(POLICY);
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  private static void reload(String policy) throws Exception {
    PgTestSupport.reload(engine, policyFile, policy);
  }

  private static Connection tess() throws SQLException {
    return PgTestSupport.plainJdbc(server, CONN, "tess", TOKEN, "");
  }

  private static String one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      assertThat(rs.next()).isTrue();
      return rs.getString(1);
    }
  }

  /** The error of a cast that quotes the note's text back (PostgreSQL's invalid input syntax). */
  private static String castError(Statement st) {
    SQLException e =
        catchThrowableOfType(SQLException.class, () -> one(st, "SELECT body::int FROM notes"));
    assertThat((Throwable) e).isNotNull();
    return e.getMessage();
  }

  @Test
  void aReloadThatTurnsMaskingOnEndsTheUnmaskedSession() throws Exception {
    try (Connection c = tess();
        Statement st = c.createStatement()) {
      assertThat(one(st, "SELECT body FROM notes")).isEqualTo("call 4111 1111 1111 1111");
      assertThat(castError(st)).contains("4111 1111 1111 1111");
      reload(POLICY.replace("masking: none", "masking: pii"));
      SQLException e =
          catchThrowableOfType(SQLException.class, () -> one(st, "SELECT body FROM notes"));
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState()).isEqualTo(PgErrors.ADMIN_SHUTDOWN);
      assertThat(e.getMessage())
          .contains("the policy changed this session's terms (masking pii, was none)")
          .doesNotContain("4111");
    }
    try (Connection c = tess();
        Statement st = c.createStatement()) {
      // The new session is masked: the error that carries the value (the stand-in masker here).
      assertThat(castError(st)).contains("call [card]").doesNotContain("4111");
    }
  }

  @Test
  void aReloadThatMakesThePrincipalReadOnlyEndsTheWritableSession() throws Exception {
    try (Connection c = tess();
        Statement st = c.createStatement()) {
      assertThat(one(st, "SHOW default_transaction_read_only")).isEqualTo("off");
      reload(POLICY.replace("masking: none", "masking: none, read_only: true"));
      SQLException e =
          catchThrowableOfType(
              SQLException.class, () -> st.executeUpdate("UPDATE notes SET body = 'x'"));
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState()).isEqualTo(PgErrors.ADMIN_SHUTDOWN);
      assertThat(e.getMessage()).contains("read_only true, was false");
    }
    try (Connection c = tess();
        Statement st = c.createStatement()) {
      assertThat(one(st, "SHOW default_transaction_read_only")).isEqualTo("on");
      assertThat(one(st, "SELECT body FROM notes")).isEqualTo("call 4111 1111 1111 1111");
    }
  }

  @Test
  void aReloadThatKeepsTheTermsKeepsTheSession() throws Exception {
    try (Connection c = tess();
        Statement st = c.createStatement()) {
      assertThat(one(st, "SELECT count(*) FROM notes")).isEqualTo("1");
      reload(
          POLICY
              + """
                - id: no-ledger
                  subjects: { groups: [terms] }
                  effect: deny
                  sql: { statements: [read], tables: [ledger] }
              """);
      Thread.sleep(1_500); // the sweeper decides the CONNECT again at least once
      assertThat(one(st, "SELECT count(*) FROM notes")).isEqualTo("1");
      assertThat(c.isValid(2)).isTrue();
    }
  }

  @Test
  void aReloadThatRevokesTheConnectionEndsAnIdleSession() throws Exception {
    try (Connection c = tess();
        Statement st = c.createStatement()) {
      assertThat(one(st, "SELECT count(*) FROM notes")).isEqualTo("1");
      reload(POLICY.replace("groups: [terms]", "groups: [someone-else]"));
      // No statement from the client: the sweeper ends the session within about a second.
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (c.isValid(1) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(c.isValid(1)).isFalse();
    }
    SQLException refused = catchThrowableOfType(SQLException.class, () -> tess().close());
    assertThat((Throwable) refused).isNotNull();
    assertThat(refused.getSQLState()).isEqualTo(PgErrors.INSUFFICIENT_PRIVILEGE);
  }
}
