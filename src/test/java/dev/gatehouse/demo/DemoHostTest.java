package dev.gatehouse.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoHostTest {
  @TempDir Path dir;

  @Test
  void onlyTheBuildOutputIsWritableByTheRunner() throws Exception {
    Path project = dir.resolve("ci-project");
    Files.createDirectories(project);
    // a project left world-writable by an older demo is tightened too
    Files.setPosixFilePermissions(project, PosixFilePermissions.fromString("rwxrwxrwx"));
    DemoHost.writeProject(project);

    for (Path p : new Path[] {project, project.resolve("src"), project.resolve("Build.java")}) {
      String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
      assertThat(perms.substring(4)).as(p.toString()).doesNotContain("w");
      assertThat(Files.getOwner(p).getName()).isEqualTo(System.getProperty("user.name"));
    }
    assertThat(Files.isDirectory(project.resolve("build"))).isTrue();
    if ("root".equals(System.getProperty("user.name"))) {
      assertThat(Files.getOwner(project.resolve("build")).getName()).isEqualTo("nobody");
    }
  }
}
