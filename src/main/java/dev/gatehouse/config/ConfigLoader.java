package dev.gatehouse.config;

import dev.gatehouse.config.ConfigException.Problem;
import dev.gatehouse.config.GatehouseConfig.ServerConfig;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads {@code gatehouse.yaml} into a validated {@link GatehouseConfig}. The file is composed into
 * SnakeYAML's node tree (not bound by reflection) so every value keeps its line number, then bound
 * section by section; all problems are collected and thrown together in one {@link
 * ConfigException}. See docs/configuration.md for every key, default and check.
 */
public final class ConfigLoader {
  /** Large enough for any sane configuration, small enough that a wrong path fails fast. */
  private static final int MAX_FILE_CHARS = 4 * 1024 * 1024;

  private ConfigLoader() {}

  /**
   * Loads a configuration file. Relative paths inside it resolve against the file's directory;
   * {@code ${env:…}} references resolve against this process's environment.
   */
  public static GatehouseConfig load(Path file) throws ConfigException {
    String name = file.toString();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw single(
          name, "file not found", "check the path, or run without a file to use the defaults");
    } catch (AccessDeniedException e) {
      throw single(name, "file is not readable", "check its permissions");
    } catch (CharacterCodingException e) {
      throw single(name, "file is not UTF-8 text", "save it as UTF-8");
    } catch (IOException e) {
      throw single(
          name, "cannot read file (" + e.getClass().getSimpleName() + ")", "check the path");
    }
    Path absolute = file.toAbsolutePath().normalize();
    return parse(text, name, absolute.getParent(), System.getenv(), absolute);
  }

  /**
   * Parses configuration text.
   *
   * @param yaml the YAML text
   * @param sourceName the file name shown in problems, for example {@code gatehouse.yaml}
   * @param baseDir the directory relative paths resolve against
   * @param env the environment for {@code ${env:NAME}} references (tests pass their own)
   */
  public static GatehouseConfig parse(
      String yaml, String sourceName, Path baseDir, Map<String, String> env)
      throws ConfigException {
    Path source;
    try {
      source = baseDir.toAbsolutePath().resolve(sourceName).normalize();
    } catch (InvalidPathException e) {
      source = null;
    }
    return parse(yaml, sourceName, baseDir, env, source);
  }

  /**
   * The configuration used when there is no file ({@code gatehouse demo}, {@code gatehouse serve}
   * without {@code --config}): every default from docs/configuration.md, with the given data
   * directory, no connections and no identities. {@link GatehouseConfig#source()} is null.
   */
  public static GatehouseConfig defaults(Path dataDir) {
    Objects.requireNonNull(dataDir, "dataDir");
    Path cwd = Path.of("").toAbsolutePath();
    ParseContext ctx = new ParseContext("<defaults>", cwd, Map.of());
    GatehouseConfig c = new ConfigBinder(ctx).bind(null, null);
    if (ctx.hasProblems()) {
      throw new IllegalStateException("defaults do not validate: " + ctx.problems());
    }
    ServerConfig s = c.server();
    ServerConfig server =
        new ServerConfig(
            dataDir.toAbsolutePath().normalize(),
            s.masterKey(),
            s.tls(),
            s.api(),
            s.postgres(),
            s.ssh());
    return new GatehouseConfig(
        null,
        server,
        c.store(),
        c.identity(),
        c.connections(),
        c.policy(),
        c.audit(),
        c.approvals(),
        c.masking(),
        c.logging());
  }

  private static GatehouseConfig parse(
      String yaml, String sourceName, Path baseDir, Map<String, String> env, Path source)
      throws ConfigException {
    Objects.requireNonNull(yaml, "yaml");
    Objects.requireNonNull(sourceName, "sourceName");
    Objects.requireNonNull(baseDir, "baseDir");
    Objects.requireNonNull(env, "env");
    if (yaml.length() > MAX_FILE_CHARS) {
      throw single(
          sourceName,
          "file is larger than " + MAX_FILE_CHARS + " characters",
          "check that this is the configuration file");
    }
    Node root = compose(yaml, sourceName);
    if (root == null) {
      throw new ConfigException(
          List.of(
              new Problem(
                  sourceName,
                  1,
                  "",
                  "file is empty",
                  "add at least one section, for example `server:`; see examples/gatehouse.yaml")));
    }
    ParseContext ctx = new ParseContext(sourceName, baseDir, env);
    GatehouseConfig config = new ConfigBinder(ctx).bind(root, source);
    if (ctx.hasProblems()) {
      throw new ConfigException(ctx.problems());
    }
    return config;
  }

  /** The node tree, or null for a file with no document (empty, or only comments). */
  private static Node compose(String yaml, String sourceName) throws ConfigException {
    LoaderOptions options = new LoaderOptions();
    options.setAllowRecursiveKeys(false);
    options.setMaxAliasesForCollections(50);
    options.setNestingDepthLimit(50);
    try {
      return new Yaml(options).compose(new StringReader(yaml));
    } catch (MarkedYAMLException e) {
      // Only the problem text and the line: SnakeYAML's full message quotes the source line, which
      // could hold a value the user would rather not see echoed in logs.
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      int line = mark == null ? 0 : mark.getLine() + 1;
      String problem =
          e.getContext() == null
              ? e.getProblem()
              : e.getProblem() == null ? e.getContext() : e.getContext() + ", " + e.getProblem();
      throw new ConfigException(
          List.of(new Problem(sourceName, line, "", "invalid YAML: " + problem, hint(problem))));
    } catch (YAMLException e) {
      throw single(sourceName, "invalid YAML: " + e.getMessage(), null);
    }
  }

  /** A fix for SnakeYAML's most common complaints; they name the symptom, not the cause. */
  static String hint(String problem) {
    String p = problem == null ? "" : problem;
    if (p.contains("\\t") || p.contains("\t")) {
      return "indent with spaces; YAML does not allow tabs";
    }
    if (p.contains("mapping values are not allowed")) {
      return "quote values that contain `: `, and check the indentation";
    }
    if (p.contains("expected a single document")) {
      return "keep the whole configuration in one document; remove the extra `---`";
    }
    if (p.contains("could not find expected ':'") || p.contains("expected <block end>")) {
      return "check the indentation: keys of one mapping line up, and each key is followed by `: `";
    }
    if (p.contains("found undefined alias")) {
      return "define the anchor (&name) before using the alias (*name)";
    }
    if (p.contains("unexpected end") || p.contains("<stream end>") || p.contains("expected ','")) {
      return "close the open quote or bracket";
    }
    return "check the indentation and quoting on this line and the one above";
  }

  private static ConfigException single(String file, String message, String fix) {
    return new ConfigException(List.of(new Problem(file, 0, "", message, fix)));
  }
}
