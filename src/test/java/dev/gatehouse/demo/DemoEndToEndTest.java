package dev.gatehouse.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code gatehouse demo}, started as a newcomer would, and its tour run with the real clients: psql
 * for the database, the {@code gatehouse} CLI for the build runner, OpenSSH for the demo host.
 */
class DemoEndToEndTest {
  @TempDir static Path dir;
  static DemoCommand demo;
  static CompletableFuture<Integer> running;
  static Map<String, String> env;

  @BeforeAll
  static void start() throws Exception {
    demo = new DemoCommand();
    Path data = dir.resolve("demo");
    String[] args = {
      "--data-dir", data.toString(),
      "--api-port", String.valueOf(freePort()),
      "--pg-port", String.valueOf(freePort()),
      "--ssh-port", String.valueOf(freePort())
    };
    running = CompletableFuture.supplyAsync(() -> new CommandLine(demo).execute(args));
    Path envFile = data.resolve("demo.env");
    for (int i = 0; i < 600 && !Files.exists(envFile) && !running.isDone(); i++) {
      Thread.sleep(200);
    }
    assertThat(running.isDone()).as("demo exited early").isFalse();
    assertThat(envFile).exists();
    env = new HashMap<>();
    for (String line : Files.readAllLines(envFile)) {
      if (line.startsWith("export ")) {
        String kv = line.substring("export ".length());
        int eq = kv.indexOf('=');
        env.put(kv.substring(0, eq), kv.substring(eq + 1));
      }
    }
    env.put("DATA", data.toString());
  }

  @AfterAll
  static void stop() throws Exception {
    if (demo != null) {
      demo.stop();
      assertThat(running.get(60, TimeUnit.SECONDS)).isZero();
    }
  }

  @Test
  void demoEnvHasEveryPortAndToken() {
    assertThat(env)
        .containsKeys(
            "GATEHOUSE_API",
            "GATEHOUSE_PG_PORT",
            "GATEHOUSE_SSH_PORT",
            "ALICE_TOKEN",
            "DANA_TOKEN",
            "CI_TOKEN",
            "GATEHOUSE_DEMO_KEYS");
  }

  @Test
  void aliceSeesCardNumbersMaskedThroughPsql() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")), "psql not installed");
    Run r =
        run(
            Map.of("PGPASSWORD", env.get("ALICE_TOKEN")),
            "psql",
            "host=127.0.0.1 port="
                + env.get("GATEHOUSE_PG_PORT")
                + " dbname=payments-db user=alice sslmode=require",
            "-At",
            "-c",
            "SELECT card_number FROM payments ORDER BY id LIMIT 3");
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.out.lines().toList())
        .hasSize(3)
        .allSatisfy(line -> assertThat(line).matches("\\*{4}-\\*{4}-\\*{4}-\\d{4}"));
  }

  /** psql through the gateway as {@code user} with {@code token}: the first column, one line. */
  private static Run psqlAs(String user, String token, String sql) throws Exception {
    return run(
        Map.of("PGPASSWORD", env.get(token)),
        "psql",
        "host=127.0.0.1 port="
            + env.get("GATEHOUSE_PG_PORT")
            + " dbname=payments-db user="
            + user
            + " sslmode=require",
        "-At",
        "-c",
        sql);
  }

  /**
   * Each group's sessions log in to the database as the role demo.yaml's {@code upstream_role}
   * names, so PostgreSQL enforces the limits too: alice's login may change rows but create nothing
   * (no function or operator in public to shadow a built-in, no temporary table to shadow
   * payments), ci-bot's may only read, dana's is the owner.
   */
  @Test
  void eachGroupLogsInToTheDatabaseAsItsOwnRole() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")), "psql not installed");
    String privileges =
        "SELECT current_user || ' ' || has_schema_privilege('public', 'CREATE') || ' '"
            + " || has_database_privilege(current_database(), 'TEMP') || ' '"
            + " || has_table_privilege('payments', 'UPDATE') || ' '"
            + " || has_table_privilege('payments', 'SELECT')";
    Run alice = psqlAs("alice", "ALICE_TOKEN", privileges);
    assertThat(alice.exit).as(alice.err).isZero();
    assertThat(alice.out.strip()).isEqualTo("payments_rw false false true true");
    Run ci = psqlAs("ci-bot", "CI_TOKEN", privileges);
    assertThat(ci.exit).as(ci.err).isZero();
    assertThat(ci.out.strip()).isEqualTo("payments_ro false false false true");
    Run dana = psqlAs("dana", "DANA_TOKEN", privileges);
    assertThat(dana.exit).as(dana.err).isZero();
    assertThat(dana.out.strip()).isEqualTo("payments_app true true true true");
    // A table dana creates is readable by the others' logins too (default privileges).
    Run create =
        psqlAs(
            "dana",
            "DANA_TOKEN",
            "CREATE TABLE refunds_audit (id int); SELECT has_table_privilege('payments_ro',"
                + " 'refunds_audit', 'SELECT') AND has_table_privilege('payments_rw',"
                + " 'refunds_audit', 'INSERT')");
    assertThat(create.exit).as(create.err).isZero();
    assertThat(create.out.strip()).endsWith("t");
  }

  /**
   * The README's review: alice's UPDATE is held until dana approves it with the CLI, then runs in
   * alice's session, as payments_rw, and psql prints UPDATE 1.
   */
  @Test
  void alicesHeldWriteRunsAsHerRoleOnceDanaApproves() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")), "psql not installed");
    // A thread of its own: the common pool (one thread on two cores) runs the demo itself.
    java.util.concurrent.ExecutorService psqlThread =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    CompletableFuture<Run> held =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return psqlAs(
                    "alice",
                    "ALICE_TOKEN",
                    "/* justification: E2E-17 */ UPDATE payments SET status = 'e2e-approved'"
                        + " WHERE id = 77 RETURNING current_user");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            psqlThread);
    psqlThread.shutdown();
    String id = null;
    String seen = "";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (id == null && System.nanoTime() < deadline && !held.isDone()) {
      // the tests of this class run one at a time: alice's only pending review is this one
      Run list = cli(env.get("DANA_TOKEN"), "reviews", "list");
      seen = list.exit + " " + list.out + list.err;
      for (String line : list.out.lines().toList()) {
        java.util.regex.Matcher m =
            java.util.regex.Pattern.compile("(rv_[A-Za-z0-9_-]+)").matcher(line);
        if (line.contains("alice") && m.find()) {
          id = m.group(1);
        }
      }
      if (id == null) {
        Thread.sleep(200);
      }
    }
    assertThat(id)
        .as(
            "a pending review of alice's UPDATE; reviews list: %s; psql: %s",
            seen, held.isDone() ? held.getNow(null) : "still held")
        .isNotNull();
    Run approve =
        cli(env.get("DANA_TOKEN"), "reviews", "approve", id, "--reason", "refund confirmed");
    assertThat(approve.exit).as(approve.err).isZero();
    Run r = held.get(60, TimeUnit.SECONDS);
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.out).contains("payments_rw").contains("UPDATE 1");
    Run check =
        run(
            Map.of(),
            "psql",
            env.get("TARGET_URL"),
            "-At",
            "-c",
            "SELECT status FROM payments WHERE id = 77");
    assertThat(check.out.strip()).isEqualTo("e2e-approved");
  }

  /**
   * The embedded target is reachable only with a password: no trusted superuser over TCP (the
   * embedded server's default) and no Unix socket in /tmp, so a local user cannot get past the
   * gateway. The app role's password in demo.env still loads data directly.
   */
  @Test
  void theTargetAdmitsNoOneWithoutAPassword() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")), "psql not installed");
    java.net.URI target = java.net.URI.create(env.get("TARGET_URL"));
    Run superuser =
        run(
            Map.of("PGPASSWORD", ""),
            "psql",
            "host=127.0.0.1 port=" + target.getPort() + " dbname=payments user=postgres",
            "-w",
            "-At",
            "-c",
            "SELECT 1");
    assertThat(superuser.exit).isNotZero();
    assertThat(superuser.err).contains("password");
    Run app =
        run(
            Map.of(),
            "psql",
            env.get("TARGET_URL"),
            "-At",
            "-c",
            "SELECT count(*) > 0 FROM payments");
    assertThat(app.exit).as(app.err).isZero();
    assertThat(app.out.strip()).isEqualTo("t");
    try (var sockets = Files.newDirectoryStream(Path.of("/tmp"), ".s.PGSQL." + target.getPort())) {
      assertThat(sockets).as("a Unix socket of the target in /tmp").isEmpty();
    }
  }

  @Test
  void ciBotBuildsAndTestsAndTheDeployTokenStaysHidden() throws Exception {
    Run r = cli(env.get("CI_TOKEN"), "exec", "build-runner", "--", "java", "Build.java", "test");
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.out).contains("test: all checks passed").contains("DEPLOY_TOKEN=");
    assertThat(r.out + r.err).doesNotContainPattern("dpl_[0-9a-f]{32}");
  }

  @Test
  void ciBotMayNotPublish() throws Exception {
    Run r = cli(env.get("CI_TOKEN"), "exec", "build-runner", "--", "java", "Build.java", "publish");
    assertThat(r.exit).isEqualTo(126);
    assertThat(r.err).contains("ci-never-publish");
    assertThat(r.out).doesNotContain("uploading");
  }

  /**
   * The red team's bypass: HotSpot runs -XX:OnOutOfMemoryError's command line when a tiny heap runs
   * out, which published and printed the deploy token 4 characters a line (past masking).
   */
  @Test
  void ciBotMayNotRunACommandThroughAJvmOption() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Run r =
        cli(
            env.get("CI_TOKEN"),
            "exec",
            "build-runner",
            "--",
            "java",
            "-XX:MaxHeapSize=3m",
            "-XX:OnOutOfMemoryError="
                + java
                + " Build.java publish; printenv DEPLOY_TOKEN | fold -w4",
            "Build.java",
            "test");
    assertThat(r.exit).as(r.err).isEqualTo(126);
    assertThat(r.err).contains("gatehouse: denied by rule default-deny");
    assertThat(r.out).doesNotContain("uploading").doesNotContain("test: all checks passed");
  }

  @Test
  void theHostRunnerRunsOnTheSshHostAndItsTokenStaysHidden() throws Exception {
    Run uname = cli(env.get("ALICE_TOKEN"), "exec", "host-runner", "--", "uname", "-s");
    assertThat(uname.exit).as(uname.err).isZero();
    assertThat(uname.out.strip()).isEqualTo("Linux");
    Run token = cli(env.get("ALICE_TOKEN"), "exec", "host-runner", "--", "printenv", "HOST_TOKEN");
    assertThat(token.exit).as(token.err).isZero();
    assertThat(token.out).contains("[REDACTED");
    assertThat(token.out + token.err).doesNotContainPattern("hst_[0-9a-f]{32}");
    Run shell = cli(env.get("ALICE_TOKEN"), "exec", "host-runner", "--", "df", "--output=source");
    assertThat(shell.exit).isEqualTo(126);
    assertThat(shell.err).contains("gatehouse: denied");
  }

  @Test
  void aliceReadsTheHostLogsMaskedOverSsh() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh")), "OpenSSH client not installed");
    String host = env.get("DEMO_HOST_DIR");
    Run r = ssh("alice", "tail -n 20 " + host + "/logs/app.log");
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.out).contains("payments-api started");
    assertThat(r.out).doesNotContain("jane.doe@example.com", "4111 1111 1111 1111", "219-09-9999");

    Run denied = ssh("alice", "cat " + host + "/secrets.env");
    assertThat(denied.exit).isEqualTo(126);
    assertThat(denied.err).contains("denied");
    assertThat(denied.out).doesNotContain("sk_live");
  }

  /**
   * Red team, issue #6: a link inside the logs alice may read, to the secrets file outside them, is
   * refused where the host resolves it (docs/ssh.md, "Where path arguments lead").
   */
  @Test
  void aliceCannotReadTheSecretsThroughALinkInTheLogs() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh")), "OpenSSH client not installed");
    String host = env.get("DEMO_HOST_DIR");
    Path link = Path.of(host, "logs", "s.log");
    Files.createSymbolicLink(link, Path.of("../secrets.env"));
    try {
      Run r = ssh("alice", "cat " + link);
      assertThat(r.exit).isEqualTo(126);
      assertThat(r.err).contains("command refused: where");
      assertThat(r.out).doesNotContain("sk_live").doesNotContain("STRIPE");
    } finally {
      Files.delete(link);
    }
  }

  @Test
  void danaRunsAShellLineOnTheHost() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh")), "OpenSSH client not installed");
    Run r = ssh("dana", "echo hello from $USER | tr a-z A-Z");
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.out).contains("HELLO FROM DEMO");
  }

  @Test
  void danaDownloadsOverSftpAndAliceMayNot() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/sftp")), "OpenSSH sftp not installed");
    String host = env.get("DEMO_HOST_DIR");
    Path got = dir.resolve("secrets-copy.env");
    Path batch = dir.resolve("sftp-batch");
    Files.writeString(batch, "get " + host + "/secrets.env " + got + "\n");
    Run dana = sftp("dana", batch);
    assertThat(dana.exit).as(dana.out + dana.err).isZero();
    assertThat(got).content().contains("STRIPE_SECRET_KEY");

    Path aliceGot = dir.resolve("alice-copy.log");
    Files.writeString(batch, "get " + host + "/logs/app.log " + aliceGot + "\n");
    Run alice = sftp("alice", batch);
    assertThat(alice.exit).isNotZero();
    assertThat(aliceGot).doesNotExist();
  }

  /**
   * Red team, issue #6: dana may do anything under the host directory, and a link she makes there
   * ({@code up -> .}) or finds there ({@code etclink -> /etc}) must not take her above it. The demo
   * data directory (demo.env: every token) is the host directory's parent.
   */
  @Test
  void danaCannotLeaveTheHostDirectoryThroughLinks() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/sftp")), "OpenSSH sftp not installed");
    String host = env.get("DEMO_HOST_DIR");
    Path etc = Path.of(host, "etclink");
    if (!Files.exists(etc, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      Files.createSymbolicLink(etc, Path.of("/etc"));
    }
    Path out = Files.createDirectories(dir.resolve("dana-links"));
    Path batch = dir.resolve("sftp-links");
    Files.writeString(
        batch,
        String.join(
            "\n",
            "symlink . " + host + "/up",
            "-get " + host + "/up/../demo.env " + out + "/demo.env",
            "-get " + host + "/etclink/hostname " + out + "/hostname",
            "-ls " + host + "/etclink/",
            "get " + host + "/up/logs/app.log " + out + "/app.log",
            ""));
    Run dana = sftp("dana", batch);
    assertThat(dana.exit).as(dana.out + dana.err).isZero();
    try (var got = Files.list(out)) {
      assertThat(got.map(p -> p.getFileName().toString())).containsExactly("app.log");
    }
    // sftp's glob reports the refused STAT as "not found"; nothing of the files came back.
    assertThat(dana.out + dana.err).doesNotContain("_TOKEN").doesNotContain("passwd");
  }

  static Run sftp(String user, Path batch) throws Exception {
    return run(
        Map.of(),
        "sftp",
        "-F",
        env.get("GATEHOUSE_SSH_CONFIG"),
        "-o",
        "BatchMode=yes",
        "-i",
        env.get("GATEHOUSE_DEMO_KEYS") + "/" + user,
        "-b",
        batch.toString(),
        user + "+demo-host@gatehouse-demo");
  }

  record Run(int exit, String out, String err) {}

  static Run ssh(String user, String command) throws Exception {
    return run(
        Map.of(),
        "ssh",
        "-F",
        env.get("GATEHOUSE_SSH_CONFIG"),
        "-o",
        "BatchMode=yes",
        "-i",
        env.get("GATEHOUSE_DEMO_KEYS") + "/" + user,
        user + "+demo-host@gatehouse-demo",
        command);
  }

  static Run cli(String token, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.gatehouse.Gatehouse");
    cmd.addAll(List.of(args));
    Map<String, String> e = new HashMap<>();
    e.put("GATEHOUSE_API", env.get("GATEHOUSE_API"));
    e.put("GATEHOUSE_CACERT", env.get("GATEHOUSE_CACERT"));
    e.put("GATEHOUSE_TOKEN", token);
    e.put("XDG_CONFIG_HOME", dir.resolve("xdg").toString());
    return run(e, cmd.toArray(String[]::new));
  }

  static Run run(Map<String, String> extraEnv, String... cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(extraEnv);
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    p.getOutputStream().close();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s finished", List.of(cmd)).isTrue();
    return new Run(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
