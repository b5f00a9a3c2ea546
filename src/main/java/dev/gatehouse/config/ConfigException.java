package dev.gatehouse.config;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The configuration is invalid. Holds every problem found in one pass, so a user fixes the whole
 * file in one go instead of one error per run. {@link #getMessage()} renders one line per problem,
 * compiler style: {@code gatehouse.yaml:12: connections[0].port: "abc" is not a number (expected an
 * integer 1-65535)}.
 *
 * <p>Messages never contain secret values: secret fields only ever hold references, and the loader
 * reports the reference (variable name, file path), not what it resolved to.
 */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient List<Problem> problems;

  public ConfigException(List<Problem> problems) {
    super(render(problems));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one problem");
    }
    this.problems = List.copyOf(problems);
  }

  /** The problems, ordered by file and line. */
  public List<Problem> problems() {
    return problems;
  }

  private static String render(List<Problem> problems) {
    return problems.stream().map(Problem::toString).collect(Collectors.joining("\n"));
  }

  /**
   * One problem.
   *
   * @param file the file as the user named it, for example {@code gatehouse.yaml}
   * @param line 1-based line number; 0 when the problem is not tied to a line (unreadable file)
   * @param path the key path, for example {@code connections[0].port}; empty for the whole file
   * @param message what is wrong, quoting the offending value (never a secret)
   * @param fix what to do about it, for example {@code did you mean `data_dir`?}; may be null
   */
  public record Problem(String file, int line, String path, String message, String fix) {
    public Problem {
      Objects.requireNonNull(file, "file");
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(message, "message");
    }

    /** {@code file:line: path: message (fix)}, leaving out the parts that are absent. */
    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder(file);
      if (line > 0) {
        sb.append(':').append(line);
      }
      sb.append(": ");
      if (!path.isEmpty()) {
        sb.append(path).append(": ");
      }
      sb.append(message);
      if (fix != null && !fix.isEmpty()) {
        sb.append(" (").append(fix).append(')');
      }
      return sb.toString();
    }
  }
}
