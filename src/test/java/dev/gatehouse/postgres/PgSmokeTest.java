package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PgSmokeTest {
  @Test
  void psqlSelectWorks() throws Exception {
    PgTestSupport t = PgTestSupport.get();
    PgTestSupport.Run r =
        t.psql(PgTestSupport.TOKEN_ALICE, "alice", "conn", "require", "-c", "select 40+2");
    System.out.println(r);
    assertThat(r.out().strip()).isEqualTo("42");
  }
}
