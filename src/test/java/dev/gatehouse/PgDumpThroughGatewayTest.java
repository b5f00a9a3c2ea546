package dev.gatehouse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.server.GatehouseServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pg_dump 15 (Debian's, as psql) through the gateway. The target is PostgreSQL 14: pg_dump refuses
 * a server of a newer major than its own ("aborting because of server version mismatch"), and every
 * other test's target is 17. A DBA dumps everything; a masked principal's pg_dump is refused before
 * it reads a row (docs/postgres.md#client-compatibility), never a dump of raw values.
 */
class PgDumpThroughGatewayTest {
  @TempDir Path dir;

  static final String EMAIL = "edsger.bakr1@example.org";
  static final String SSN = "219-68-7824";

  record Run(int exit, String out, String err) {}

  static Run pgDump(GatehouseServer gw, String user, String token, String... args)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add("/usr/bin/pg_dump");
    cmd.add(
        "--dbname=host=127.0.0.1 port="
            + gw.postgresPort()
            + " dbname=shop user="
            + user
            + " sslmode=require");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
    pb.environment().put("PGPASSWORD", token);
    Path out = Files.createTempFile(dirOf(), "dump", ".out");
    Path err = Files.createTempFile(dirOf(), "dump", ".err");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static Path dirOf() throws Exception {
    return Files.createTempDirectory("gh-dump");
  }

  @Test
  void pgDumpOfAMaskedPrincipalDumpsMaskedDataOrIsRefused() throws Exception {
    try (EmbeddedPostgres target = PostgresTargetVersionsTest.start("14.18.0")) {
      String password = "pw-dump-14";
      try (Connection c = target.getPostgresDatabase().getConnection();
          Statement st = c.createStatement()) {
        st.execute("CREATE ROLE app LOGIN PASSWORD '" + password + "'");
        st.execute("CREATE DATABASE shop OWNER app");
      }
      try (Connection c = target.getDatabase("postgres", "shop").getConnection();
          Statement st = c.createStatement()) {
        st.execute(
            "CREATE TABLE customers (id int PRIMARY KEY, email text, ssn text);"
                + "INSERT INTO customers VALUES (1, '"
                + EMAIL
                + "', '"
                + SSN
                + "');"
                + "ALTER TABLE customers OWNER TO app");
      }
      Files.writeString(
          dir.resolve("policy.yaml"),
          """
          rules:
            - id: dba-all
              subjects: { groups: [dba] }
              connections: { names: [shop] }
              effect: allow
              sql: { statements: ["*"] }
              obligations: { masking: none }
            - id: eng-read
              subjects: { groups: [engineering] }
              connections: { names: [shop] }
              effect: allow
              sql: { statements: [read, session] }
              obligations: { masking: pii }
            - id: ci-read
              subjects: { groups: [ci] }
              connections: { names: [shop] }
              effect: allow
              sql: { statements: [read, session] }
              obligations: { read_only: true, masking: none }
          """);
      String yaml =
          """
          server:
            data_dir: data
            api: { host: 127.0.0.1, port: 0 }
            postgres: { host: 127.0.0.1, port: 0 }
            ssh: { enabled: false }
          identity:
            users:
              - { subject: dba, kind: human, groups: [dba], role: user }
              - { subject: eng, kind: human, groups: [engineering], role: user }
              - { subject: ci, kind: service, groups: [ci] }
          connections:
            - { name: shop, type: postgres, host: 127.0.0.1, port: %d, database: shop,
                username: app, password: "${env:SHOP_PASSWORD}", tls: { mode: disable } }
          policy: { files: [policy.yaml] }
          """
              .formatted(target.getPort());
      try (GatehouseServer gw =
          GatehouseServer.start(
              ConfigLoader.parse(yaml, "v.yaml", dir, Map.of("SHOP_PASSWORD", password)))) {
        String dba = gw.tokens().issueForUser("dba", null, Set.of(), "test").secret();
        String eng = gw.tokens().issueForUser("eng", null, Set.of(), "test").secret();
        String ci = gw.tokens().issueForUser("ci", null, Set.of(), "test").secret();
        // a DBA (unmasked, everything allowed): a full dump, plain and custom format
        Run d = pgDump(gw, "dba", dba);
        assertThat(d.exit()).as(d.err()).isZero();
        assertThat(d.out())
            .contains("CREATE TABLE public.customers")
            .contains("1\t" + EMAIL + "\t" + SSN);
        Path archive = Files.createTempFile(dirOf(), "shop", ".dump");
        Run fc = pgDump(gw, "dba", dba, "-Fc", "-f", archive.toString());
        assertThat(fc.exit()).as(fc.err()).isZero();
        Process list =
            new ProcessBuilder("/usr/bin/pg_restore", "-l", archive.toString())
                .redirectErrorStream(true)
                .start();
        String toc = new String(list.getInputStream().readAllBytes());
        assertThat(list.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(toc).contains("TABLE public customers").contains("TABLE DATA public customers");
        Run data = pgDump(gw, "dba", dba, "--data-only", "-t", "customers");
        assertThat(data.exit()).as(data.err()).isZero();
        assertThat(data.out()).contains(EMAIL).doesNotContain("CREATE TABLE");

        // a masked principal: refused at pg_dump's first set_config(name, ...) FROM pg_settings,
        // before any data is read; never a dump with raw values
        for (String[] args :
            List.of(new String[0], new String[] {"--data-only", "-t", "customers"})) {
          Run e = pgDump(gw, "eng", eng, args);
          assertThat(e.exit()).as(e.out()).isNotZero();
          assertThat(e.err())
              .contains(
                  "ERROR:  gatehouse: set_config with a setting name that is not a string"
                      + " literal is refused in a masked session");
          assertThat(e.out()).doesNotContain(EMAIL).doesNotContain(SSN);
        }

        // a read-only session: the coarse read-only guard refuses pg_dump's set_config
        Run r = pgDump(gw, "ci", ci);
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("ERROR:  gatehouse: this session is read-only");
        assertThat(r.out()).doesNotContain(EMAIL);
      }
    }
  }
}
