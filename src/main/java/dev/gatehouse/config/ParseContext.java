package dev.gatehouse.config;

import dev.gatehouse.config.ConfigException.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * State of one parse: where the text came from, how references resolve, and the problems found so
 * far. Converters return null both when a value is absent and when it is invalid; in the second
 * case they have recorded a problem, so the caller may substitute a default and carry on: the
 * loader never returns a configuration once any problem was recorded.
 */
final class ParseContext {
  /** Secret files are keys and passwords; anything bigger is a wrong path, not a secret. */
  static final int MAX_SECRET_FILE_BYTES = 64 * 1024;

  static final String SECRET_FIX = "use ${env:NAME} or ${file:PATH}";

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern SECRET_REF = Pattern.compile("\\$\\{(env|file):([^}]*)}");
  private static final Pattern INTEGER = Pattern.compile("[+-]?\\d{1,18}");
  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

  final String file;
  final Path baseDir;
  private final Map<String, String> env;
  private final List<Problem> problems = new ArrayList<>();

  ParseContext(String file, Path baseDir, Map<String, String> env) {
    this.file = file;
    this.baseDir = baseDir.toAbsolutePath().normalize();
    this.env = env;
  }

  void problem(Node at, String path, String message, String fix) {
    problem(line(at), path, message, fix);
  }

  void problem(int line, String path, String message, String fix) {
    problems.add(new Problem(file, line, path, message, fix));
  }

  boolean hasProblems() {
    return !problems.isEmpty();
  }

  /** Problems in file order; the sort is stable, so problems on one line keep their order. */
  List<Problem> problems() {
    List<Problem> sorted = new ArrayList<>(problems);
    sorted.sort(Comparator.comparingInt(Problem::line));
    return sorted;
  }

  static int line(Node n) {
    return n == null ? 0 : n.getStartMark().getLine() + 1;
  }

  /** True for an absent value: no node, {@code ~}, {@code null} or nothing after the colon. */
  static boolean isNull(Node n) {
    return n == null || (n instanceof ScalarNode s && Tag.NULL.equals(s.getTag()));
  }

  static String kindOf(Node n) {
    if (n instanceof MappingNode) {
      return "a mapping";
    }
    if (n instanceof SequenceNode) {
      return "a list";
    }
    return "a value";
  }

  static String child(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  static String item(String path, int index) {
    return path + "[" + index + "]";
  }

  /**
   * A value for messages, as written in the file. A value that came through a reference is shown as
   * the reference only: environment variables may hold things (webhook URLs with tokens) that
   * should not end up in logs.
   */
  static String show(Node n) {
    if (!(n instanceof ScalarNode s)) {
      return kindOf(n);
    }
    String raw = s.getValue();
    String quoted = "\"" + shorten(raw) + "\"";
    return raw.contains("${") ? quoted + " (resolved value)" : quoted;
  }

  static String show(String raw) {
    return "\"" + shorten(raw) + "\"";
  }

  private static String shorten(String s) {
    String oneLine = s.replace("\n", "\\n");
    return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 57) + "...";
  }

  // ---- scalars -------------------------------------------------------------------------------

  /**
   * The text of a non-secret scalar with {@code ${env:NAME}} references expanded ({@code $${}
   * writes a literal {@code ${}). Null when absent, or when not a scalar or a reference dangles
   * (problem recorded).
   */
  String text(Node n, String path, String expected) {
    if (isNull(n)) {
      return null;
    }
    if (!(n instanceof ScalarNode s)) {
      problem(n, path, "expected " + expected + ", found " + kindOf(n), null);
      return null;
    }
    return expand(s, path);
  }

  private String expand(ScalarNode s, String path) {
    String raw = s.getValue();
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < raw.length()) {
      if (raw.startsWith("$${", i)) {
        out.append("${");
        i += 3;
        continue;
      }
      if (!raw.startsWith("${", i)) {
        out.append(raw.charAt(i++));
        continue;
      }
      int end = raw.indexOf('}', i);
      if (end < 0) {
        problem(
            s,
            path,
            "unterminated reference in " + show(raw),
            "close it with }, or write $${ for a literal ${");
        return null;
      }
      String ref = raw.substring(i + 2, end);
      if (ref.startsWith("env:")) {
        String value = envValue(s, path, ref.substring(4));
        if (value == null) {
          return null;
        }
        out.append(value);
      } else if (ref.startsWith("file:")) {
        problem(
            s,
            path,
            "${file:…} references are only allowed in secret fields",
            "use ${env:NAME} here, or write the value inline");
        return null;
      } else {
        problem(
            s,
            path,
            "unknown reference ${" + ref + "}",
            "use ${env:NAME}, or write $${ for a literal ${");
        return null;
      }
      i = end + 1;
    }
    return out.toString();
  }

  private String envValue(Node at, String path, String name) {
    if (!ENV_NAME.matcher(name).matches()) {
      problem(
          at,
          path,
          "\"" + shorten(name) + "\" is not a valid environment variable name",
          "use letters, digits and _, not starting with a digit");
      return null;
    }
    String value = env.get(name);
    if (value == null) {
      problem(
          at,
          path,
          "environment variable " + name + " is not set",
          "set " + name + " in the environment that starts gatehouse");
      return null;
    }
    return value;
  }

  /** A scalar as an integer in {@code [min, max]}; {@code expected} reads "an integer 1-65535". */
  Integer integer(Node n, String path, long min, long max, String expected) {
    String text = text(n, path, expected);
    if (text == null) {
      return null;
    }
    String raw = ((ScalarNode) n).getValue();
    String t = text.trim();
    if (!INTEGER.matcher(t).matches()) {
      problem(
          n,
          path,
          show(n) + (t.matches("[+-]?\\d+") ? " is out of range" : " is not a number"),
          "expected " + expected);
      return null;
    }
    long v = Long.parseLong(t);
    if (v < min || v > max) {
      problem(n, path, show(n) + " is out of range", "expected " + expected);
      return null;
    }
    return (int) v;
  }

  Double decimal(Node n, String path, double minExclusive, double max, String expected) {
    String text = text(n, path, expected);
    if (text == null) {
      return null;
    }
    String raw = ((ScalarNode) n).getValue();
    String t = text.trim();
    if (!DECIMAL.matcher(t).matches()) {
      problem(n, path, show(n) + " is not a number", "expected " + expected);
      return null;
    }
    double v = Double.parseDouble(t);
    if (!(v > minExclusive && v <= max)) {
      problem(n, path, show(n) + " is out of range", "expected " + expected);
      return null;
    }
    return v;
  }

  /**
   * Only {@code true} and {@code false}: YAML 1.1's {@code yes}/{@code no}/{@code on}/{@code off}
   * are rejected rather than guessed, since they also read as plain words (the "Norway problem").
   */
  Boolean bool(Node n, String path) {
    String text = text(n, path, "true or false");
    if (text == null) {
      return null;
    }
    return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> {
        problem(n, path, show(n) + " is not a boolean", "expected true or false");
        yield null;
      }
    };
  }

  Duration duration(Node n, String path, Duration min, Duration max) {
    String text = text(n, path, "a duration");
    if (text == null) {
      return null;
    }
    String raw = ((ScalarNode) n).getValue();
    Duration d = Durations.parse(text);
    if (d == null) {
      problem(n, path, show(n) + " is not a duration", "expected " + Durations.FORMS);
      return null;
    }
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      problem(
          n,
          path,
          show(n) + " is out of range",
          "expected a duration from " + Durations.format(min) + " to " + Durations.format(max));
      return null;
    }
    return d;
  }

  /** One of {@code allowed}, exactly as spelt there; {@code what} reads "connection type". */
  String choice(Node n, String path, String what, List<String> allowed) {
    String text = text(n, path, "one of " + String.join(", ", allowed));
    if (text == null) {
      return null;
    }
    if (allowed.contains(text)) {
      return text;
    }
    String guess = Suggestions.closest(text, allowed);
    String fix =
        (guess == null ? "" : "did you mean `" + guess + "`? ")
            + "expected one of "
            + String.join(", ", allowed);
    problem(n, path, show(n) + " is not a valid " + what, fix);
    return null;
  }

  /** A file system path, relative ones resolved against the configuration file's directory. */
  Path path(Node n, String path) {
    String text = text(n, path, "a path");
    if (text == null) {
      return null;
    }
    if (text.isBlank()) {
      problem(n, path, "path is empty", "give a file path, or remove the key");
      return null;
    }
    try {
      return baseDir.resolve(text.trim()).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      problem(n, path, show(n) + " is not a valid path", e.getReason());
      return null;
    }
  }

  /** Like {@link #path} and the file must exist and be readable. */
  Path existingFile(Node n, String path, String what) {
    Path p = path(n, path);
    if (p == null) {
      return null;
    }
    if (!Files.isRegularFile(p)) {
      problem(
          n,
          path,
          what + " " + p + " does not exist",
          "fix the path; relative paths resolve against " + baseDir);
      return null;
    }
    if (!Files.isReadable(p)) {
      problem(n, path, what + " " + p + " is not readable", "check its permissions");
      return null;
    }
    return p;
  }

  // ---- secrets -------------------------------------------------------------------------------

  /**
   * A secret: exactly one {@code ${env:NAME}} or {@code ${file:PATH}} reference. Inline values are
   * rejected so that configuration files can be committed and reviewed; messages name the reference
   * but never show a value, inline or resolved.
   */
  Secret secret(Node n, String path) {
    if (isNull(n)) {
      return null;
    }
    if (!(n instanceof ScalarNode s)) {
      problem(
          n, path, "expected a ${env:NAME} or ${file:PATH} reference, found " + kindOf(n), null);
      return null;
    }
    Matcher m = SECRET_REF.matcher(s.getValue().trim());
    if (!m.matches()) {
      problem(n, path, "inline secrets are not allowed", SECRET_FIX);
      return null;
    }
    String ref = m.group(2).trim();
    if (m.group(1).equals("env")) {
      String value = envValue(n, path, ref);
      if (value == null) {
        return null;
      }
      if (value.isEmpty()) {
        problem(n, path, "environment variable " + ref + " is empty", "set it to the secret value");
        return null;
      }
      return new Secret(value, "env:" + ref);
    }
    if (ref.isEmpty()) {
      problem(n, path, "${file:} needs a path", SECRET_FIX);
      return null;
    }
    Path file = baseDir.resolve(ref).normalize();
    String value = readSecretFile(n, path, file);
    return value == null ? null : new Secret(value, "file:" + file);
  }

  private String readSecretFile(Node at, String path, Path file) {
    String fix = "fix the path; relative paths resolve against " + baseDir;
    try {
      if (Files.isDirectory(file)) {
        problem(at, path, "secret file " + file + " is a directory", fix);
        return null;
      }
      if (Files.size(file) > MAX_SECRET_FILE_BYTES) {
        problem(
            at,
            path,
            "secret file " + file + " is larger than " + MAX_SECRET_FILE_BYTES + " bytes",
            fix);
        return null;
      }
      String value = Files.readString(file, StandardCharsets.UTF_8);
      // Editors and `echo` add one trailing newline that is not part of the secret.
      if (value.endsWith("\r\n")) {
        value = value.substring(0, value.length() - 2);
      } else if (value.endsWith("\n")) {
        value = value.substring(0, value.length() - 1);
      }
      if (value.isEmpty()) {
        problem(at, path, "secret file " + file + " is empty", "write the secret into it");
        return null;
      }
      return value;
    } catch (NoSuchFileException e) {
      problem(at, path, "secret file " + file + " does not exist", fix);
    } catch (AccessDeniedException e) {
      problem(at, path, "secret file " + file + " is not readable", "check its permissions");
    } catch (IOException e) {
      problem(
          at,
          path,
          "cannot read secret file " + file + " (" + e.getClass().getSimpleName() + ")",
          fix);
    }
    return null;
  }
}
