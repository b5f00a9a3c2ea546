package dev.gatehouse.runner;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The host programs the runner builds a process from, found once at fixed system locations (never
 * via PATH): {@code setsid}, {@code kill}, {@code setpriv}, {@code prlimit} (util-linux), {@code
 * env} (coreutils) and {@code bwrap}.
 */
final class Tools {
  private static final List<String> DIRS = List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin");

  private Tools() {}

  /** Looked up once per name (every command and signal needs several of them). */
  private static final Map<String, Optional<String>> FOUND = new ConcurrentHashMap<>();

  /** The absolute path of {@code name} in a system directory, or null when it is not installed. */
  static String find(String name) {
    return FOUND.computeIfAbsent(name, Tools::look).orElse(null);
  }

  private static Optional<String> look(String name) {
    for (String d : DIRS) {
      Path p = Path.of(d, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p.toString());
      }
    }
    return Optional.empty();
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
