package dev.gatehouse.config;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * File globs for {@code policy.files} and {@code masking.files}, in {@link
 * java.nio.file.FileSystem#getPathMatcher} syntax: {@code *} stays within one directory, {@code **}
 * crosses directories, {@code {a,b}} and {@code [..]} as usual.
 */
final class Globs {
  private Globs() {}

  static boolean isGlob(String s) {
    return s.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
  }

  /**
   * The pattern made absolute against {@code baseDir}, with its fixed (glob-free) leading
   * directories normalized, so that the result no longer depends on the working directory.
   */
  static String absolute(String pattern, Path baseDir) {
    String p = pattern.startsWith("/") ? pattern : baseDir.toAbsolutePath() + "/" + pattern;
    Split s = split(p);
    return s.rest.isEmpty() ? s.root.toString() : join(s.root, s.rest);
  }

  /** The union of {@link #match} over several patterns, sorted, each file once. */
  static List<Path> matchAll(List<String> absolutePatterns) throws IOException {
    java.util.TreeSet<Path> all = new java.util.TreeSet<>();
    for (String p : absolutePatterns) {
      all.addAll(match(p));
    }
    return List.copyOf(all);
  }

  /** Regular files matching an absolute pattern from {@link #absolute}, sorted. */
  static List<Path> match(String absolutePattern) throws IOException {
    Split s = split(absolutePattern);
    if (s.rest.isEmpty()) {
      return Files.isRegularFile(s.root) ? List.of(s.root) : List.of();
    }
    if (!Files.isDirectory(s.root)) {
      return List.of();
    }
    int depth = s.rest.contains("**") ? Integer.MAX_VALUE : s.rest.split("/").length;
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + join(s.root, s.rest));
    List<Path> out = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(s.root, depth)) {
      walk.filter(Files::isRegularFile).filter(matcher::matches).sorted().forEach(out::add);
    }
    return List.copyOf(out);
  }

  private static String join(Path root, String rest) {
    String r = root.toString();
    return r.endsWith("/") ? r + rest : r + "/" + rest;
  }

  private record Split(Path root, String rest) {}

  /** Splits at the first segment containing glob characters. */
  private static Split split(String absolutePattern) {
    String[] segments = absolutePattern.split("/", -1);
    StringBuilder root = new StringBuilder("/");
    int i = 0;
    for (; i < segments.length; i++) {
      if (isGlob(segments[i])) {
        break;
      }
      if (!segments[i].isEmpty()) {
        root.append(segments[i]).append('/');
      }
    }
    String rest = String.join("/", java.util.Arrays.copyOfRange(segments, i, segments.length));
    return new Split(Path.of(root.toString()).normalize(), rest);
  }
}
