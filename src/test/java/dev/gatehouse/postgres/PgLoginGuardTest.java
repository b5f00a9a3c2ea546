package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PgLoginGuardTest {
  static final Set<String> HELD = Set.of("payments_app", "payments_rw", "Mixed");

  @ParameterizedTest
  @ValueSource(
      strings = {
        // psql 15 \password (exec_command_password: fmtId(user), PQencryptPasswordConn)
        "ALTER USER payments_app PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b'",
        "alter role payments_rw with encrypted password 'x'",
        "ALTER ROLE \"Mixed\" PASSWORD NULL",
        "ALTER ROLE current_user PASSWORD 'x'",
        "ALTER USER SESSION_USER VALID UNTIL 'infinity'",
        "ALTER ROLE CURRENT_ROLE NOLOGIN",
        "ALTER ROLE payments_app RENAME TO x",
        "SELECT 1; ALTER ROLE payments_app PASSWORD 'x'",
        "DROP ROLE payments_rw",
        "DROP USER IF EXISTS a, payments_rw",
        "DO $$ BEGIN ALTER ROLE payments_app PASSWORD 'x'; END $$",
        "DO $$ BEGIN EXECUTE 'ALTER ROLE ' || current_user || ' PASSWORD ''x'''; END $$",
        "DO $$BEGIN EXECUTE format('ALTER USER %I PASSWORD %L', current_user, 'x'); END$$",
        "DO $$ BEGIN EXECUTE 'DROP ROLE ' || 'payments_rw'; END $$",
        "ALTER ROLE U&\"payments\\005fapp\" PASSWORD 'x'",
        // coarse: a literal is read as code too (a DO body or EXECUTE text is one)
        "SELECT 'alter role payments_app password' AS note",
        "ALTER /* c */ ROLE -- c\n payments_app PASSWORD 'x'",
      })
  void refused(String sql) {
    assertThat(PgLoginGuard.changedLogin(sql, HELD)).as(sql).isNotNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT password FROM users",
        "ALTER ROLE other PASSWORD 'x'",
        "ALTER ROLE payments_app SET work_mem = '8MB'",
        "ALTER ROLE current_user RESET ALL",
        "ALTER ROLE payments_app CONNECTION LIMIT 5",
        "ALTER ROLE \"MIXED\" PASSWORD 'x'",
        "ALTER ROLE mixed PASSWORD 'x'",
        "ALTER USER MAPPING FOR current_user SERVER s OPTIONS (SET password 'x')",
        "DROP ROLE other, another",
        "CREATE ROLE payments_ro2 LOGIN PASSWORD 'x'",
        "SELECT rolname FROM pg_roles WHERE rolname = current_user",
      })
  void allowed(String sql) {
    assertThat(PgLoginGuard.changedLogin(sql, HELD)).as(sql).isNull();
  }
}
