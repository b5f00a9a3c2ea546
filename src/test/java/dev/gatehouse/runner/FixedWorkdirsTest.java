package dev.gatehouse.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up warnings for fixed workdirs that several exec connections share (issue 6). */
class FixedWorkdirsTest {
  @TempDir Path dir;

  static ExecConfig exec(String workspace, Path workdir, String runAs, String runner) {
    return new ExecConfig(
        List.of("/bin/true"),
        workspace,
        workdir,
        Map.of(),
        List.of(),
        List.of(),
        Duration.ofSeconds(30),
        1 << 20,
        0,
        Duration.ZERO,
        0,
        "none",
        true,
        runAs,
        runner,
        List.of());
  }

  private Path shared(String mode) throws Exception {
    Path w = Files.createDirectories(dir.resolve("shared"));
    Files.setPosixFilePermissions(w, PosixFilePermissions.fromString(mode));
    return w;
  }

  @Test
  void aSharedFixedWorkdirTheJobsCanWriteIsReported() throws Exception {
    Path w = shared("rwxrwxrwx");
    Map<String, ExecConfig> execs = new LinkedHashMap<>();
    execs.put("builds", exec("fixed", w, null, null));
    execs.put("deploys", exec("fixed", w.resolve("../shared"), null, null));
    execs.put("other", exec("fixed", Files.createDirectories(dir.resolve("own")), null, null));
    execs.put("fresh", exec("fresh", w, null, null));
    assertThat(FixedWorkdirs.warnings(execs))
        .singleElement()
        .satisfies(
            m ->
                assertThat(m)
                    .contains("fixed workdir " + w + " is shared by connections builds, deploys")
                    .contains("writable by"));
  }

  @Test
  void notReportedWhenAloneOrNotWritableByTheJobs() throws Exception {
    Path w = shared("rwxrwxrwx");
    assertThat(FixedWorkdirs.warnings(Map.of("builds", exec("fixed", w, null, null)))).isEmpty();
    assumeTrue(Sandbox.ROOT, "run_as applies only to a root gateway");
    // root's 0755 directory: run_as nobody cannot write it
    Files.setPosixFilePermissions(w, PosixFilePermissions.fromString("rwxr-xr-x"));
    Map<String, ExecConfig> execs = new LinkedHashMap<>();
    execs.put("a", exec("fixed", w, null, null));
    execs.put("b", exec("fixed", w, "nobody", null));
    assertThat(FixedWorkdirs.warnings(execs)).isEmpty();
    // owned by nobody: its jobs can
    Files.setAttribute(w, "unix:uid", Sandbox.ids("nobody")[0]);
    assertThat(FixedWorkdirs.warnings(execs))
        .singleElement()
        .satisfies(m -> assertThat(m).contains("uid " + Sandbox.ids("nobody")[0]));
  }

  @Test
  void aGroupWritableDirectoryIsReportedForItMayBeAnAclMask() throws Exception {
    assumeTrue(Sandbox.ROOT, "run_as applies only to a root gateway");
    // root:root 0775: nobody (primary group nogroup) cannot write it by the mode bits alone, but
    // setfacl -m u:nobody:rwx on a 0755 directory shows exactly this mode (the group bits are the
    // ACL's mask), and the JDK reads no POSIX ACL on Linux
    Path w = shared("rwxrwxr-x");
    Files.setAttribute(w, "unix:uid", 0);
    Files.setAttribute(w, "unix:gid", 0);
    Map<String, ExecConfig> execs = new LinkedHashMap<>();
    execs.put("a", exec("fixed", w, "nobody", null));
    execs.put("b", exec("fixed", w, "nobody", null));
    assertThat(FixedWorkdirs.warnings(execs))
        .singleElement()
        .satisfies(m -> assertThat(m).contains("group write bit").contains("POSIX ACL"));
  }

  @Test
  void onARunnerTheLoginOwnsIt() {
    Path w = Path.of("/srv/builds");
    Map<String, ExecConfig> execs = new LinkedHashMap<>();
    execs.put("a", exec("fixed", w, null, "build-host"));
    execs.put("b", exec("fixed", w, null, "build-host"));
    execs.put("c", exec("fixed", w, null, "other-host"));
    execs.put("d", exec("fixed", w, null, null)); // on this host: another directory
    assertThat(FixedWorkdirs.warnings(execs))
        .singleElement()
        .satisfies(
            m ->
                assertThat(m)
                    .contains("/srv/builds on runner build-host is shared by connections a, b")
                    .contains("the runner's login"));
  }
}
