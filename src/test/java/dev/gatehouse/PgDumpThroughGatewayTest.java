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
 * other test's target is 17. A DBA dumps everything; a read-only principal dumps everything too
 * (pg_dump's set_config of search_path and restrict_nonsystem_relation_kind cannot lift read-only);
 * a masked principal's dump holds masked values only, and restores with psql -f into a scratch
 * database (docs/postgres.md#client-compatibility).
 */
class PgDumpThroughGatewayTest {
  @TempDir Path dir;

  static final String EMAIL = "edsger.bakr1@example.org";
  static final String SSN = "219-68-7824";

  /** The row as a masked session's COPY TO STDOUT sends it (pii: content detection). */
  static final String MASKED_ROW = "1\te****@example.org\t[REDACTED:ssn]";

  record Run(int exit, String out, String err) {}

  static Run pgDump(GatehouseServer gw, String user, String token, String... args)
      throws Exception {
    return run(gw, "/usr/bin/pg_dump", "shop", user, token, args);
  }

  static Run run(
      GatehouseServer gw, String program, String db, String user, String token, String... args)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(program);
    cmd.add(
        "--dbname=host=127.0.0.1 port="
            + gw.postgresPort()
            + " dbname="
            + db
            + " user="
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

  static String withoutRestrictKey(String dump) {
    return dump.replaceAll("(?m)^\\\\(un)?restrict \\S+$", "\\\\$1restrict KEY");
  }

  private static Path dirOf() throws Exception {
    return Files.createTempDirectory("gh-dump");
  }

  @Test
  void pgDumpOfReadOnlyAndMaskedPrincipals() throws Exception {
    try (EmbeddedPostgres target = PostgresTargetVersionsTest.start("14.18.0")) {
      String password = "pw-dump-14";
      try (Connection c = target.getPostgresDatabase().getConnection();
          Statement st = c.createStatement()) {
        st.execute("CREATE ROLE app LOGIN PASSWORD '" + password + "'");
        st.execute("CREATE DATABASE shop OWNER app");
        st.execute("CREATE DATABASE scratch OWNER app");
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
              sql: { statements: [read, session, lock] }
              obligations: { masking: pii }
            - id: eng-scratch
              subjects: { groups: [engineering] }
              connections: { names: [scratch] }
              effect: allow
              sql: { statements: [read, session, write, ddl, lock] }
              obligations: { masking: pii }
            - id: ci-read
              subjects: { groups: [ci] }
              connections: { names: [shop] }
              effect: allow
              sql: { statements: [read, session, lock] }
              obligations: { read_only: true, masking: none }
            - id: bot-read
              subjects: { groups: [bot] }
              connections: { names: [shop] }
              effect: allow
              sql: { statements: [read, session, lock] }
              obligations: { read_only: true, masking: pii }
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
              - { subject: bot, kind: service, groups: [bot] }
          connections:
            - { name: shop, type: postgres, host: 127.0.0.1, port: %d, database: shop,
                username: app, password: "${env:SHOP_PASSWORD}", tls: { mode: disable } }
            - { name: scratch, type: postgres, host: 127.0.0.1, port: %d, database: scratch,
                username: app, password: "${env:SHOP_PASSWORD}", tls: { mode: disable } }
          policy: { files: [policy.yaml] }
          """
              .formatted(target.getPort(), target.getPort());
      try (GatehouseServer gw =
          GatehouseServer.start(
              ConfigLoader.parse(yaml, "v.yaml", dir, Map.of("SHOP_PASSWORD", password)))) {
        String dba = gw.tokens().issueForUser("dba", null, Set.of(), "test").secret();
        String eng = gw.tokens().issueForUser("eng", null, Set.of(), "test").secret();
        String ci = gw.tokens().issueForUser("ci", null, Set.of(), "test").secret();
        String bot = gw.tokens().issueForUser("bot", null, Set.of(), "test").secret();
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

        // a read-only session, unmasked: the same dump as the DBA's. Before, the read-only guard
        // refused pg_dump's set_config('search_path', '', false).
        Run r = pgDump(gw, "ci", ci);
        assertThat(r.exit()).as(r.err()).isZero();
        // (pg_dump 15.14 and later put a random \restrict key in each plain dump)
        assertThat(withoutRestrictKey(r.out())).isEqualTo(withoutRestrictKey(d.out()));

        // a masked principal (and a masked read-only one): every dump holds masked values only.
        // Before, the masking guard refused pg_dump's SELECT set_config(name, ...) FROM
        // pg_settings.
        for (String[] who : List.of(new String[] {"eng", eng}, new String[] {"bot", bot})) {
          Run e = pgDump(gw, who[0], who[1]);
          assertThat(e.exit()).as(e.err()).isZero();
          assertThat(e.out())
              .contains("CREATE TABLE public.customers")
              .contains("COPY public.customers (id, email, ssn) FROM stdin;")
              .contains(MASKED_ROW)
              .doesNotContain(EMAIL)
              .doesNotContain(SSN)
              .doesNotContain("edsger");
          Run e2 = pgDump(gw, who[0], who[1], "--data-only", "-t", "customers");
          assertThat(e2.exit()).as(e2.err()).isZero();
          assertThat(e2.out()).contains(MASKED_ROW).doesNotContain(EMAIL).doesNotContain(SSN);
          Path fc2 = Files.createTempFile(dirOf(), "masked", ".dump");
          Run c2 = pgDump(gw, who[0], who[1], "-Fc", "-f", fc2.toString());
          assertThat(c2.exit()).as(c2.err()).isZero();
          assertThat(Files.readAllBytes(fc2)).isNotEmpty();
          // -Fc compresses: read the data back through pg_restore
          Process back =
              new ProcessBuilder(
                      "/usr/bin/pg_restore",
                      "--data-only",
                      "-t",
                      "customers",
                      "-f",
                      "-",
                      fc2.toString())
                  .redirectErrorStream(true)
                  .start();
          String restored = new String(back.getInputStream().readAllBytes());
          assertThat(back.waitFor(60, TimeUnit.SECONDS)).isTrue();
          assertThat(restored).contains(MASKED_ROW).doesNotContain(EMAIL).doesNotContain(SSN);
        }

        // the masked plain dump restores with psql -f into a scratch database the policy lets the
        // masked principal write: the scratch copy holds the masked values. --no-owner and
        // --no-privileges: the rule allows no GRANT/REVOKE (the dump of a PostgreSQL 14 database
        // holds REVOKE USAGE ON SCHEMA public FROM PUBLIC)
        Path plain = Files.createTempFile(dirOf(), "masked", ".sql");
        Run forRestore = pgDump(gw, "eng", eng, "--no-owner", "--no-privileges");
        assertThat(forRestore.exit()).as(forRestore.err()).isZero();
        Files.writeString(plain, forRestore.out());
        Run restore =
            run(
                gw,
                "/usr/bin/psql",
                "scratch",
                "eng",
                eng,
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-f",
                plain.toString());
        assertThat(restore.exit()).as(restore.err() + restore.out()).isZero();
        try (Connection c = target.getDatabase("postgres", "scratch").getConnection();
            Statement st = c.createStatement();
            var rs = st.executeQuery("SELECT email, ssn FROM customers")) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1) + "\t" + rs.getString(2)).isEqualTo(MASKED_ROW.substring(2));
        }

        // still refused in a read-only session: a set_config that could lift it
        Path lift = Files.createTempFile(dirOf(), "lift", ".sql");
        Files.writeString(
            lift, "SELECT set_config('default_transaction_read_only', 'off', false);\n");
        Run l = run(gw, "/usr/bin/psql", "shop", "ci", ci, "-X", "-f", lift.toString());
        assertThat(l.err()).contains("ERROR:  gatehouse: this session is read-only");
      }
    }
  }
}
