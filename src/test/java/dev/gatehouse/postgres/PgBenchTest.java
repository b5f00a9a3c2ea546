package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_BENCH;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.postgres.PgTestSupport.Run;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * pgbench initialises (DDL, COPY, VACUUM) and runs in all three query modes through the gateway.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PgBenchTest {
  private static PgTestSupport t;

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
  }

  private static Run pgbench(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add("/usr/bin/pgbench");
    cmd.addAll(List.of("-h", "127.0.0.1", "-p", String.valueOf(t.port()), "-U", "bench"));
    cmd.addAll(List.of(args));
    cmd.add("bench");
    return PgTestSupport.run(TOKEN_BENCH, Map.of("PGSSLMODE", "require"), cmd);
  }

  @Test
  @Order(1)
  void initialises() throws Exception {
    Run r = pgbench("-i", "-s", "1", "-q");
    assertThat(r.exit()).as(r.all()).isZero();
    assertThat(r.err()).contains("done");
  }

  @Order(2)
  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended", "prepared"})
  void runsSelectOnlyInEveryQueryMode(String mode) throws Exception {
    Run r = pgbench("-S", "-t", "200", "-c", "2", "-M", mode, "-n");
    assertThat(r.exit()).as(r.all()).isZero();
    assertThat(r.out())
        .contains("query mode: " + mode)
        .contains("number of failed transactions: 0");
  }

  @Test
  @Order(3)
  void runsReadWriteTransactions() throws Exception {
    Run r = pgbench("-t", "50", "-c", "2", "-M", "prepared", "-n");
    assertThat(r.exit()).as(r.all()).isZero();
    assertThat(r.out()).contains("number of failed transactions: 0");
  }
}
