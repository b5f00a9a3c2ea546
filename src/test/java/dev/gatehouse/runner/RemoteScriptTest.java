package dev.gatehouse.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.policy.CommandLine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command strings for SSH runners, run here the way sshd runs them ({@code bash -c STRING}, as
 * the login shell would), with hostile paths and values.
 */
class RemoteScriptTest {
  @TempDir Path dir;

  static final String HOSTILE = "it's $(touch PWNED) `touch PWNED2`; x";

  static final String OWNER = "00112233445566ff";

  static ExecConfig fixed(Path workdir, long memory) {
    return new ExecConfig(
        List.of("/usr/bin/printf"),
        "fixed",
        workdir,
        Map.of(),
        List.of(),
        List.of(),
        Duration.ofSeconds(30),
        1 << 20,
        memory,
        Duration.ZERO,
        0,
        "none",
        true,
        null,
        "box",
        List.of());
  }

  record Out(int status, String out, String err) {}

  /** Runs {@code command} as sshd would: the login shell gets it as one -c argument. */
  Out login(String command, byte[] stdin) throws Exception {
    // The target's temporary directory, where the runner's root goes: this test's own.
    ProcessBuilder b = new ProcessBuilder("/bin/bash", "-c", command).directory(dir.toFile());
    b.environment().put("TMPDIR", Files.createDirectories(dir.resolve("tmp")).toString());
    Process p = b.start();
    try (var in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin);
      }
    } catch (java.io.IOException e) {
      // The script may end (a refusal) before it reads its input: a broken pipe, as sshd would
      // see it. What the script printed and its status are what the test asserts.
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new Out(p.exitValue(), out, err);
  }

  @Test
  void hostilePathsAndValuesStayLiteralThroughSetupAndRun() throws Exception {
    Path workdir = dir.resolve(HOSTILE);
    ExecConfig cfg = fixed(workdir, 64L << 20);
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", "/usr/bin:/bin");
    env.put("VALUE", HOSTILE + "\nsecond line");
    Out setup = login(RemoteScript.setup(cfg, OWNER), RemoteScript.envFile(env));
    assertThat(setup.status()).as(setup.err()).isZero();
    String[] paths = setup.out().split("\n");
    assertThat(paths).hasSize(2);
    assertThat(Path.of(paths[1])).isEqualTo(workdir.toRealPath());
    Path envFile = Path.of(paths[0], RemoteScript.ENV_FILE);
    assertThat(Files.getPosixFilePermissions(envFile))
        .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    String run =
        RemoteScript.run(
            paths[0],
            paths[1],
            null,
            cfg,
            Map.of("HOME", paths[1]),
            List.of(
                "/bin/sh",
                "-c",
                "printf '[%s]' \"$VALUE\" \"$1\" \"$2\"; ulimit -v",
                "sh",
                "$VALUE",
                HOSTILE));
    Out r = login(run, null);
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("[" + HOSTILE + "\nsecond line][$VALUE][" + HOSTILE + "]65536\n");
    assertThat(envFile).doesNotExist(); // removed before the command ran
    Out v =
        login(
            RemoteScript.run(
                paths[0],
                paths[1],
                null,
                cfg,
                Map.of(),
                List.of("/bin/sh", "-c", "printf %s \"$VALUE\"")),
            null);
    assertThat(v.out()).isEqualTo("");
    assertThat(v.status()).as("the env file is consumed by the first run").isEqualTo(127);
    assertThat(dir.resolve("PWNED")).doesNotExist();
    assertThat(dir.resolve("PWNED2")).doesNotExist();
    assertThat(workdir.resolve("PWNED")).doesNotExist();

    Out clean = login(RemoteScript.cleanup(paths[0], null, false), null);
    assertThat(clean.status()).as(clean.err()).isZero();
    assertThat(Path.of(paths[0])).doesNotExist();
    assertThat(workdir).isDirectory(); // fixed: kept
  }

  static ExecConfig freshIn(Path workdir) {
    ExecConfig f = fixed(workdir, 0);
    return new ExecConfig(
        f.binaries(),
        "fresh",
        workdir,
        f.env(),
        f.envAllow(),
        f.secrets(),
        f.timeout(),
        f.maxOutput(),
        0,
        Duration.ZERO,
        0,
        "none",
        true,
        null,
        "box",
        List.of());
  }

  @Test
  void jobsLiveUnderThePrivateRootNamedByOwnerAndClock() throws Exception {
    Path workdir = dir.resolve("builds");
    Out setup = login(RemoteScript.setup(freshIn(workdir), OWNER), new byte[0]);
    assertThat(setup.status()).as(setup.err()).isZero();
    String[] paths = setup.out().split("\n");
    Path job = Path.of(paths[0]);
    Path root = dir.resolve("tmp").toRealPath().resolve("gatehouse-runner-" + uid());
    assertThat(job.getParent()).isEqualTo(root);
    assertThat(job.getFileName().toString()).matches("job-" + OWNER + "-[1-9][0-9]+\\.\\w{10}");
    assertThat(Path.of(paths[1]).getFileName().toString())
        .startsWith("gatehouse-ws-" + OWNER + "-");
    assertThat(Files.readString(job.resolve(RemoteScript.WS_FILE)).strip()).isEqualTo(paths[1]);
    assertThat(Files.readString(root.resolve("lease-" + OWNER)).strip()).matches("[1-9][0-9]+");
    assertThat(Files.getPosixFilePermissions(root))
        .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
  }

  @Test
  void setupRefusesARootThatIsALink() throws Exception {
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Path elsewhere = Files.createDirectories(dir.resolve("someone-elses"));
    Files.createSymbolicLink(tmp.resolve("gatehouse-runner-" + uid()), elsewhere);
    Out setup = login(RemoteScript.setup(fixed(dir.resolve("w"), 0), OWNER), new byte[0]);
    assertThat(setup.status()).isNotZero();
    assertThat(setup.err()).contains("is not a private directory of this user");
    try (var list = Files.list(elsewhere)) {
      assertThat(list).isEmpty();
    }
    Out sweep = login(RemoteScript.sweep(OWNER, List.of(), 600), null);
    assertThat(sweep.out()).isEqualTo("0\n");
  }

  @Test
  void sweepRemovesOnlyJobsNoLiveGatewayOwns() throws Exception {
    Path workdir = dir.resolve("builds");
    String dead = "0123456789abcdef";
    String alive = "fedcba9876543210";
    // A dead gateway's job with a fresh workspace in workdir, made by setup itself.
    Out setup = login(RemoteScript.setup(freshIn(workdir), dead), new byte[0]);
    assertThat(setup.status()).as(setup.err()).isZero();
    Path deadJob = Path.of(setup.out().split("\n")[0]);
    Path deadWs = Path.of(setup.out().split("\n")[1]);
    Path root = deadJob.getParent();
    Files.writeString(root.resolve("lease-" + dead), "1000\n"); // it died long ago
    Path oldDeadJob = Files.createDirectories(root.resolve("job-" + dead + "-1000.A"));
    Files.move(deadJob, oldDeadJob, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    long now = java.time.Instant.now().getEpochSecond();
    Path aliveJob = Files.createDirectories(root.resolve("job-" + alive + "-1000.B"));
    Files.writeString(root.resolve("lease-" + alive), now + "\n");
    Path mineLive = Files.createDirectories(root.resolve("job-" + OWNER + "-" + now + ".C"));
    Path mineOrphan = Files.createDirectories(root.resolve("job-" + OWNER + "-" + now + ".D"));
    // A job whose ws file points outside any workspace the scheme made: only the job goes.
    Path victim = Files.createDirectories(dir.resolve("victim"));
    Path pointing = Files.createDirectories(root.resolve("job-" + dead + "-1000.E"));
    Files.writeString(pointing.resolve(RemoteScript.WS_FILE), victim + "\n");
    Path recentDead = Files.createDirectories(root.resolve("job-" + dead + "-" + now + ".F"));

    Out sweep =
        login(RemoteScript.sweep(OWNER, List.of(mineLive.getFileName().toString()), 600), null);
    assertThat(sweep.status()).as(sweep.err()).isZero();
    assertThat(sweep.out()).isEqualTo("3\n");
    assertThat(oldDeadJob).doesNotExist();
    assertThat(deadWs).doesNotExist(); // named in its ws file, made by setup
    assertThat(pointing).doesNotExist();
    assertThat(victim).isDirectory();
    assertThat(mineOrphan).doesNotExist();
    assertThat(mineLive).isDirectory();
    assertThat(aliveJob).isDirectory(); // old, but its gateway renewed the lease
    assertThat(recentDead).isDirectory(); // made after the lease went stale: not yet
    assertThat(root.resolve("lease-" + alive)).exists();
    assertThat(root.resolve("lease-" + dead)).exists(); // a directory of it is left
    Files.delete(recentDead);
    login(RemoteScript.sweep(OWNER, List.of(), 600), null);
    assertThat(root.resolve("lease-" + dead)).doesNotExist();
    assertThat(dir.resolve("PWNED")).doesNotExist();
  }

  private static String uid() throws Exception {
    Process p = new ProcessBuilder("id", "-u").start();
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
  }

  @Test
  void theRunIsEnvDashIShCWithTheDecidedArgvLast() {
    String run =
        RemoteScript.run(
            "/tmp/j", "/tmp/j/work", null, fixed(Path.of("/w"), 0), Map.of(), List.of("/bin/x"));
    List<String> argv = CommandLine.parse(run).argv();
    assertThat(argv.subList(0, 4)).containsExactly("/usr/bin/env", "-i", "/bin/sh", "-c");
    assertThat(argv.get(4))
        .startsWith(
            "[ -r '/tmp/j/env' ] || exit 127; . '/tmp/j/env'; command -p rm -f '/tmp/j/env'");
    assertThat(argv.get(4))
        .contains("; trap : " + RemoteScript.TRAPPED + "; '/bin/x'; s=$?;")
        .endsWith("; exit $s");
  }

  /** A job set up as RemoteRun does, with file secret {@code K}; returns {job, workspace}. */
  private String[] jobWithSecret(ExecConfig cfg) throws Exception {
    Out setup =
        login(
            RemoteScript.setup(cfg, OWNER), RemoteScript.envFile(Map.of("PATH", "/usr/bin:/bin")));
    assertThat(setup.status()).as(setup.err()).isZero();
    String[] paths = setup.out().split("\n");
    String secret = paths[0] + "/" + RemoteScript.SECRETS + "/K";
    Out up = login(RemoteScript.upload(secret), "s3cr3t".getBytes(StandardCharsets.UTF_8));
    assertThat(up.status()).as(up.err()).isZero();
    return paths;
  }

  @Test
  void fileSecretsAreRemovedOnTheTargetWhenTheCommandEndsWithoutTheGatewaysCleanup()
      throws Exception {
    ExecConfig cfg = freshIn(dir.resolve("builds"));
    String[] paths = jobWithSecret(cfg);
    Path job = Path.of(paths[0]);
    Path secrets = job.resolve(RemoteScript.SECRETS);
    Path tmp = job.resolve(RemoteScript.TMP);
    String run =
        RemoteScript.run(
            paths[0],
            paths[1],
            null,
            cfg,
            Map.of("K", secrets.resolve("K").toString(), "TMPDIR", tmp.toString()),
            List.of("/bin/sh", "-c", "cat \"$K\"; echo; stat -c %a \"$TMPDIR\"; exit 3"));
    Out r = login(run, null);
    assertThat(r.status()).as(r.err()).isEqualTo(3); // the command's own status
    assertThat(r.out()).isEqualTo("s3cr3t\n700\n"); // and a private temporary directory
    assertThat(secrets).doesNotExist();
    assertThat(job).isDirectory(); // the rest is the gateway's cleanup

    // killed by a signal: the secrets go too, and the script ends by the same signal
    paths = jobWithSecret(cfg);
    secrets = Path.of(paths[0]).resolve(RemoteScript.SECRETS);
    Out killed =
        login(
            RemoteScript.run(
                paths[0],
                paths[1],
                null,
                cfg,
                Map.of(),
                List.of("/bin/sh", "-c", "kill -s TERM $$; sleep 5")),
            null);
    assertThat(killed.status()).isEqualTo(128 + 15);
    assertThat(secrets).doesNotExist();
  }

  @Test
  void aSecretIsWrittenOnlyToANewFile() throws Exception {
    String[] paths = jobWithSecret(freshIn(dir.resolve("builds")));
    Path elsewhere = Files.writeString(dir.resolve("elsewhere"), "untouched");
    Path planted = Path.of(paths[0], RemoteScript.SECRETS, "L");
    Files.createSymbolicLink(planted, elsewhere);
    Out up = login(RemoteScript.upload(planted.toString()), "s3cr3t".getBytes());
    assertThat(up.status()).isNotZero();
    assertThat(Files.readString(elsewhere)).isEqualTo("untouched");
  }

  @Test
  void variableNamesMustBeShellNames() {
    assertThatThrownBy(() -> RemoteScript.envFile(Map.of("A;rm -rf /", "x")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void limitsBecomeUlimits() {
    ExecConfig c =
        new ExecConfig(
            List.of(),
            "fresh",
            null,
            Map.of(),
            List.of(),
            List.of(),
            Duration.ofSeconds(30),
            1,
            (512L << 20) + 1,
            Duration.ofSeconds(7),
            100,
            "auto",
            true,
            null,
            "box",
            List.of());
    assertThat(RemoteScript.limits(c))
        .containsExactly(
            "ulimit -v 524289",
            "ulimit -S -t 7 && ulimit -H -t 8",
            "{ ulimit -u 100 2>/dev/null || ulimit -p 100; }");
  }
}
