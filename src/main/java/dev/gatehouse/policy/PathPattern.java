package dev.gatehouse.policy;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A path constraint: a glob when it has wildcards ({@code /var/log/**}), otherwise a directory
 * prefix ({@code /var/log} matches {@code /var/log} and everything below it, not {@code
 * /var/logs}). Paths are normalised before matching so {@code /var/log/../../etc/shadow} is seen as
 * {@code /etc/shadow}.
 */
final class PathPattern {
  private final String text;
  private final Glob glob;
  private final String prefix;

  private PathPattern(String text, Glob glob, String prefix) {
    this.text = text;
    this.glob = glob;
    this.prefix = prefix;
  }

  static PathPattern compile(String text) {
    if (!text.startsWith("/")) {
      throw new IllegalArgumentException(
          "path: " + text + " (expected an absolute path or glob such as /var/log/**)");
    }
    boolean wild = text.indexOf('*') >= 0 || text.indexOf('?') >= 0 || text.indexOf('[') >= 0;
    if (wild) {
      return new PathPattern(text, Glob.compile(text, true, false), null);
    }
    String p = normalize(text);
    return new PathPattern(text, null, p.equals("/") ? "/" : p);
  }

  /** Matches a normalised absolute path. */
  boolean matches(String normalized) {
    if (glob != null) {
      return glob.matches(normalized);
    }
    if (prefix.equals("/")) {
      return true;
    }
    return normalized.equals(prefix)
        || (normalized.startsWith(prefix) && normalized.charAt(prefix.length()) == '/');
  }

  /**
   * Resolves {@code .}, {@code ..} and repeated slashes; relative paths are resolved against {@code
   * cwd} when it is absolute. Returns null when the path cannot be made absolute.
   */
  static String resolve(String path, String cwd) {
    if (path == null || path.isEmpty()) {
      return null;
    }
    if (!path.startsWith("/")) {
      if (cwd == null || !cwd.startsWith("/")) {
        return null;
      }
      path = cwd + "/" + path;
    }
    return normalize(path);
  }

  static String normalize(String path) {
    if (path.indexOf("/.") < 0 && path.indexOf("//") < 0 && !path.endsWith("/")) {
      return path;
    }
    Deque<String> parts = new ArrayDeque<>();
    for (String seg : path.split("/")) {
      if (seg.isEmpty() || seg.equals(".")) {
        continue;
      }
      if (seg.equals("..")) {
        parts.pollLast();
      } else {
        parts.addLast(seg);
      }
    }
    return "/" + String.join("/", parts);
  }

  @Override
  public String toString() {
    return text;
  }
}
