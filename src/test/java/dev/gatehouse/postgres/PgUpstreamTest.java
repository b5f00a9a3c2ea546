package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_ALICE;
import static dev.gatehouse.postgres.PgTestSupport.UPSTREAM_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The gateway's own client to the target: each authentication method and TLS mode, proven by the
 * target's {@code system_user} ({@code method:role}) and {@code pg_stat_ssl}.
 */
class PgUpstreamTest {
  private static PgTestSupport t;

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
  }

  @ParameterizedTest
  @CsvSource({
    "conn,          scram-sha-256:gh_scram, true",
    "conn_md5,      md5:gh_md5,             false",
    "conn_pw,       password:gh_pw,         true",
    "conn_require,  scram-sha-256:gh_scram, true",
    "conn_verify,   scram-sha-256:gh_scram, true"
  })
  void authenticatesAndEncryptsPerConnection(String conn, String systemUser, boolean ssl)
      throws Exception {
    try (Connection c = t.jdbc(conn, "alice", TOKEN_ALICE, "");
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT system_user, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo(systemUser);
      assertThat(rs.getBoolean(2)).isEqualTo(ssl);
    }
  }

  @Test
  void verifyFullChecksTheHostName() {
    assertThatThrownBy(() -> t.jdbc("conn_verify_wronghost", "alice", TOKEN_ALICE, "").close())
        .isInstanceOf(SQLException.class)
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"));
  }

  @Test
  void wrongUpstreamPasswordIsReportedWithoutSecrets() {
    assertThatThrownBy(() -> t.jdbc("conn_badpw", "alice", TOKEN_ALICE, "").close())
        .isInstanceOf(SQLException.class)
        .satisfies(
            e -> {
              assertThat(((SQLException) e).getSQLState()).isEqualTo("08001");
              assertThat(e.getMessage())
                  .contains("refused the gateway's connection (SQLSTATE 28P01)")
                  .doesNotContain(UPSTREAM_PASSWORD)
                  .doesNotContain("gh_scram");
            });
  }

  @Test
  void clientNeverSeesTheTargetsCancelKey() throws Exception {
    try (Connection c = t.jdbc("conn", "alice", TOKEN_ALICE, "");
        ResultSet rs = c.createStatement().executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      int targetPid = rs.getInt(1);
      int clientPid = c.unwrap(org.postgresql.PGConnection.class).getBackendPID();
      assertThat(clientPid).isNotEqualTo(targetPid);
    }
  }
}
