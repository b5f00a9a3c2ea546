package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_ALICE;
import static dev.gatehouse.postgres.PgTestSupport.TOKEN_BENCH;
import static dev.gatehouse.postgres.PgTestSupport.TOKEN_READER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Session caps per principal and per connection (red team rt12, finding 6: one principal's 320
 * sessions used up the target's max_connections and the DBA was refused by the target). Real pgjdbc
 * clients through the gateway to the embedded PostgreSQL.
 */
class PgSessionLimitsTest {
  private static PgTestSupport t;

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
    limited("limits_pp", 0, 2);
    limited("limits_total", 3, 0);
  }

  private static void limited(String name, int max, int perPrincipal) {
    t.addConnection(name, "gh_test", "gh_scram", "disable");
    t.connections.put(name, t.connections.get(name).withSessionLimits(max, perPrincipal));
  }

  private static Connection open(String conn, String user, String token) throws SQLException {
    return t.jdbc(conn, user, token, "");
  }

  private static SQLException refused(String conn, String user, String token) {
    SQLException e =
        catchThrowableOfType(SQLException.class, () -> open(conn, user, token).close());
    assertThat((Throwable) e).as(user + " on " + conn).isNotNull();
    return e;
  }

  private static int one(Connection c) throws SQLException {
    try (ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** Opens once the gateway has let go of a closed session (its end is noticed asynchronously). */
  private static Connection openSoon(String conn, String user, String token) throws Exception {
    long until = System.nanoTime() + 10_000_000_000L;
    while (true) {
      try {
        return open(conn, user, token);
      } catch (SQLException e) {
        if (System.nanoTime() > until) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  @Test
  void onePrincipalCannotTakeMoreThanItsShare() throws Exception {
    List<Connection> open = new ArrayList<>();
    try {
      open.add(open("limits_pp", "alice", TOKEN_ALICE));
      open.add(open("limits_pp", "alice", TOKEN_ALICE));

      SQLException e = refused("limits_pp", "alice", TOKEN_ALICE);
      assertThat(e.getSQLState()).isEqualTo(PgErrors.TOO_MANY_CONNECTIONS);
      assertThat(e.getMessage())
          .contains("\"alice\" already has 2 sessions open on connection \"limits_pp\"")
          .contains("max_sessions_per_principal")
          .doesNotContain(String.valueOf(t.pg.getPort()));
      assertThat(t.audit)
          .anyMatch(
              a ->
                  a.type().equals("session.denied")
                      && "limits_pp".equals(a.connection())
                      && "session-limit".equals(a.data().get("rule")));

      // someone else still gets in, and alice again once she has closed one
      try (Connection reader = open("limits_pp", "reader", TOKEN_READER)) {
        assertThat(one(reader)).isEqualTo(1);
      }
      open.remove(0).close();
      open.add(openSoon("limits_pp", "alice", TOKEN_ALICE));
      assertThat(one(open.get(1))).isEqualTo(1);
    } finally {
      for (Connection c : open) {
        c.close();
      }
    }
  }

  @Test
  void aConnectionCapCountsEveryPrincipal() throws Exception {
    List<Connection> open = new ArrayList<>();
    try {
      open.add(open("limits_total", "alice", TOKEN_ALICE));
      open.add(open("limits_total", "alice", TOKEN_ALICE));
      open.add(open("limits_total", "reader", TOKEN_READER));

      SQLException e = refused("limits_total", "bench", TOKEN_BENCH);
      assertThat(e.getSQLState()).isEqualTo(PgErrors.TOO_MANY_CONNECTIONS);
      assertThat(e.getMessage()).contains("max_sessions").contains("3 sessions open");
      // other connections are counted apart
      try (Connection c = open("conn", "bench", TOKEN_BENCH)) {
        assertThat(one(c)).isEqualTo(1);
      }
      open.remove(2).close();
      open.add(openSoon("limits_total", "bench", TOKEN_BENCH));
    } finally {
      for (Connection c : open) {
        c.close();
      }
    }
  }

  @Test
  void aConnectionHasAPerPrincipalCapByDefault() {
    ConnectionConfig c = t.connections.get("conn");
    assertThat(c.maxSessionsPerPrincipal())
        .isEqualTo(ConnectionConfig.DEFAULT_MAX_SESSIONS_PER_PRINCIPAL)
        .isBetween(1, 50);
    assertThat(c.maxSessions()).isZero();
  }
}
