package dev.gatehouse.policy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Resolves file globs ({@code policies/*.yaml}, {@code /etc/gatehouse/policies/**.yaml}) to files
 * in a stable order: globs in the order given, files of one glob sorted by path. A plain directory
 * means the {@code .yaml} and {@code .yml} files directly in it.
 */
final class PolicyFiles {
  private PolicyFiles() {}

  /** A file read from disk: its display name (as the user wrote the glob) and its text. */
  record Source(String name, Path path, String text) {}

  static List<Path> resolve(List<String> globs, List<String> errors) {
    Set<Path> out = new LinkedHashSet<>();
    for (String glob : globs) {
      List<Path> found = resolveOne(glob, errors);
      if (found != null && found.isEmpty()) {
        errors.add(glob + ": matches no files (expected at least one policy file)");
      }
      if (found != null) {
        out.addAll(found);
      }
    }
    return new ArrayList<>(out);
  }

  private static List<Path> resolveOne(String glob, List<String> errors) {
    int wild = firstWildcard(glob);
    try {
      if (wild < 0) {
        Path p = Paths.get(glob);
        if (Files.isDirectory(p)) {
          try (Stream<Path> s = Files.list(p)) {
            return s.filter(Files::isRegularFile)
                .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                .sorted()
                .toList();
          }
        }
        if (!Files.isRegularFile(p)) {
          errors.add(glob + ": no such file (check the path in the policy configuration)");
          return null;
        }
        return List.of(p);
      }
      int slash = glob.lastIndexOf('/', wild);
      Path base = slash < 0 ? Paths.get("") : Paths.get(glob.substring(0, slash + 1));
      Path absBase = base.toAbsolutePath().normalize();
      if (!Files.isDirectory(absBase)) {
        return List.of();
      }
      String absGlob =
          absBase + "/" + (slash < 0 ? glob : glob.substring(slash + 1)).replace("\\", "\\\\");
      PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + absGlob);
      String rest = slash < 0 ? glob : glob.substring(slash + 1);
      // without ** a glob cannot match deeper than its own number of segments
      int depth = rest.contains("**") ? Integer.MAX_VALUE : rest.split("/").length;
      try (Stream<Path> s = Files.walk(absBase, depth)) {
        return s.filter(Files::isRegularFile)
            .filter(matcher::matches)
            .sorted()
            .map(f -> base.resolve(absBase.relativize(f)))
            .toList();
      }
    } catch (IOException | RuntimeException e) {
      errors.add(glob + ": cannot be listed (" + e.getMessage() + ")");
      return null;
    }
  }

  private static int firstWildcard(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '*' || c == '?' || c == '[' || c == '{') {
        return i;
      }
    }
    return -1;
  }

  static List<Source> read(List<Path> paths, List<String> errors) {
    List<Source> out = new ArrayList<>();
    for (Path p : paths) {
      try {
        if (Files.size(p) > YamlReader.MAX_FILE_CHARS) {
          errors.add(p + ":1: larger than " + YamlReader.MAX_FILE_CHARS + " bytes (split it)");
          continue;
        }
        out.add(new Source(p.toString(), p, Files.readString(p, StandardCharsets.UTF_8)));
      } catch (IOException e) {
        errors.add(p + ":1: cannot be read (" + e + ")");
      }
    }
    return out;
  }
}
