package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.policy.PolicySet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Errors that quote back a converted value, through the gateway with the demo policy (engineering:
 * masking {@code pii}) and pgjdbc: the object-name types rewrite a value before they quote it, so
 * content detection alone let {@code SELECT email::regclass} show the local part of every address
 * with a two-label domain (red team rt18mask, F3). What the client itself wrote still comes back.
 */
class PgEchoedInputGatewayTest {
  static final String CONN = "echo-payments";
  static final String TOKEN = "tok-echo-eng-0001";

  private static PgTestSupport t;
  private static Gate gate;
  private static PgProtocolServer server;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    t.freshDatabase(
        "gh_echo",
        """
          CREATE TABLE public.customers (id int, email text, iban text, note text);
          INSERT INTO public.customers VALUES
            (1, 'noor_fernandes@qq.com', 'SE10-1732-9892-1997-8176-6650', 'vip since 2019');
          ALTER TABLE public.customers OWNER TO gh_scram;
          """);
    t.addDemoConnection(CONN, "gh_echo", "gh_scram");
    t.addPrincipal(TOKEN, "erin", Set.of("engineering"));
    PolicySet policy =
        PgTestSupport.policy(
            dir,
            "demo.yaml",
            Files.readString(Path.of("examples/policies/demo.yaml")).replace("payments-db", CONN));
    MaskingEngine engine =
        MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "echo"), 0));
    gate = t.gateWith(() -> policy).redactor(engine::redact).build();
    server = t.serve(gate, engine);
  }

  @AfterAll
  static void stop() {
    PgTestSupport.close(server, gate);
  }

  private static Connection erin() throws SQLException {
    return PgTestSupport.plainJdbc(server, CONN, "erin", TOKEN, "");
  }

  private static String error(Statement st, String sql) {
    SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(sql));
    assertThat((Throwable) e).as(sql).isNotNull();
    return e.getSQLState() + " " + e.getMessage();
  }

  @Test
  void aNameCastOfAColumnQuotesNoneOfItsValue() throws Exception {
    try (Connection c = erin();
        Statement st = c.createStatement()) {
      String email = error(st, "SELECT email::regclass FROM customers");
      assertThat(email).startsWith("3F000").contains("\"[REDACTED]\"").doesNotContain("noor");
      String iban = error(st, "SELECT iban::regclass FROM customers");
      assertThat(iban).startsWith("42P01").doesNotContain("1732").doesNotContain("se10");
      assertThat(error(st, "SELECT note::regrole FROM customers")).doesNotContain("vip");
      assertThat(error(st, "SELECT note::regtype FROM customers")).doesNotContain("vip");
      // An input function's own error: the whole value, not only what detection finds in it.
      assertThat(error(st, "SELECT note::int FROM customers"))
          .startsWith("22P02")
          .contains("\"[REDACTED]\"")
          .doesNotContain("vip");
      // The JSON parser quotes the input unquoted in its CONTEXT (JSON data, line 1: …).
      assertThat(error(st, "SELECT ('{\"a\": ' || note || '}')::json FROM customers"))
          .startsWith("22P02")
          .doesNotContain("vip")
          .doesNotContain("since");
    }
  }

  @Test
  void whatTheClientWroteComesBack() throws Exception {
    try (Connection c = erin();
        Statement st = c.createStatement()) {
      assertThat(error(st, "SELECT 'NoSuchTable'::regclass"))
          .contains("relation \"nosuchtable\" does not exist");
      assertThat(error(st, "SELECT 'twelve'::int"))
          .contains("invalid input syntax for type integer: \"twelve\"");
      assertThat(error(st, "SELECT nosuchcolumn FROM customers"))
          .contains("column \"nosuchcolumn\" does not exist");
    }
    // A bound parameter is not in the statement's text: its echo is redacted (the client has it).
    try (Connection c = erin();
        PreparedStatement ps = c.prepareStatement("SELECT ?::regclass")) {
      ps.setString(1, "nosuchtable");
      SQLException e = catchThrowableOfType(SQLException.class, ps::executeQuery);
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getMessage()).contains("[REDACTED]").doesNotContain("nosuchtable");
    }
  }
}
