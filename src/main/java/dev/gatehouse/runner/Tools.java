package dev.gatehouse.runner;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The host programs the runner builds a process from, found once at fixed system locations (never
 * via PATH): {@code setsid}, {@code kill}, {@code setpriv}, {@code prlimit} (util-linux), {@code
 * env} (coreutils) and {@code bwrap}.
 */
final class Tools {
  private static final List<String> DIRS = List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin");

  private Tools() {}

  /** The absolute path of {@code name} in a system directory, or null when it is not installed. */
  static String find(String name) {
    for (String d : DIRS) {
      Path p = Path.of(d, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }

  /** Like {@link #find}, but a missing tool is an error naming the package that provides it. */
  static String require(String name, String pkg) {
    String p = find(name);
    if (p == null) {
      throw new IllegalStateException(
          name + " not found in " + DIRS + " (install the Debian package " + pkg + ")");
    }
    return p;
  }
}
