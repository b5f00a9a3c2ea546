package dev.gatehouse.masking;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Loads secret rules from a gitleaks configuration (TOML): {@code [[rules]]} with {@code id},
 * {@code regex}, {@code secretGroup}, {@code entropy}, {@code keywords} and {@code
 * [rules.allowlist]} ({@code regexes}, {@code stopwords}); a global {@code [allowlist]} applies to
 * every rule. Rules that match only file paths are skipped (there are no paths here). Go's RE2
 * syntax is mostly Java's; named groups {@code (?P<n>…)} are rewritten to {@code (?<n>…)}.
 */
final class GitleaksRules {
  private GitleaksRules() {}

  static List<Detector> load(Path path) {
    try {
      return parse(path.toString(), new TomlMapper().readTree(path.toFile()));
    } catch (JsonProcessingException e) {
      throw new MaskingConfigException(
          path
              + ":"
              + (e.getLocation() == null ? 0 : e.getLocation().getLineNr())
              + ": invalid TOML: "
              + e.getOriginalMessage(),
          e);
    } catch (IOException e) {
      throw new MaskingConfigException(path + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  static List<Detector> parse(String file, String toml) {
    try {
      return parse(file, new TomlMapper().readTree(toml));
    } catch (JsonProcessingException e) {
      throw new MaskingConfigException(
          file
              + ":"
              + (e.getLocation() == null ? 0 : e.getLocation().getLineNr())
              + ": invalid TOML: "
              + e.getOriginalMessage(),
          e);
    }
  }

  private static List<Detector> parse(String file, JsonNode root) {
    List<Pattern> globalAllow = new ArrayList<>();
    List<String> globalStop = new ArrayList<>();
    allowlist(file, "[allowlist]", root.path("allowlist"), globalAllow, globalStop);
    for (JsonNode a : root.path("allowlists")) {
      allowlist(file, "[[allowlists]]", a, globalAllow, globalStop);
    }
    List<Detector> out = new ArrayList<>();
    int index = 0;
    for (JsonNode r : root.path("rules")) {
      index++;
      String id = r.path("id").asText("");
      String where = file + ": rule #" + index + (id.isEmpty() ? "" : " '" + id + "'");
      if (id.isEmpty()) {
        throw new MaskingConfigException(where + ": missing 'id'");
      }
      String regex = r.path("regex").asText("");
      if (regex.isEmpty()) {
        continue; // path-only rule
      }
      Pattern p;
      try {
        p = Pattern.compile(fromGo(regex));
      } catch (PatternSyntaxException e) {
        throw new MaskingConfigException(where + ": invalid regex: " + e.getDescription(), e);
      }
      int groups = p.matcher("").groupCount();
      int group = r.path("secretGroup").asInt(0);
      if (group == 0 && groups > 0 && !r.has("secretGroup")) {
        group = 0; // gitleaks uses the whole match or the first group; mask the whole match
      }
      if (group < 0 || group > groups) {
        throw new MaskingConfigException(
            where + ": secretGroup " + group + " (expected: 0.." + groups + ")");
      }
      List<Pattern> allow = new ArrayList<>(globalAllow);
      List<String> stop = new ArrayList<>(globalStop);
      allowlist(file, where, r.path("allowlist"), allow, stop);
      for (JsonNode a : r.path("allowlists")) {
        allowlist(file, where, a, allow, stop);
      }
      List<String> keywords = new ArrayList<>();
      for (JsonNode k : r.path("keywords")) {
        keywords.add(k.asText());
      }
      double entropy = r.path("entropy").asDouble(0);
      out.add(
          new RegexDetector(
              id,
              90,
              p,
              group,
              entropy > 0 ? RegexDetector.Validator.ENTROPY : RegexDetector.Validator.NONE,
              entropy,
              keywords,
              allow,
              stop));
    }
    return out;
  }

  private static void allowlist(
      String file, String where, JsonNode a, List<Pattern> allow, List<String> stop) {
    if (a.isMissingNode() || a.isNull()) {
      return;
    }
    for (JsonNode re : a.path("regexes")) {
      try {
        allow.add(Pattern.compile(fromGo(re.asText())));
      } catch (PatternSyntaxException e) {
        throw new MaskingConfigException(
            (where.startsWith(file) ? where : file + ": " + where)
                + ": invalid allowlist regex: "
                + e.getDescription(),
            e);
      }
    }
    for (JsonNode s : a.path("stopwords")) {
      stop.add(s.asText());
    }
  }

  /** RE2 to java.util.regex: named groups, and {@code \z} is the same. */
  static String fromGo(String re) {
    return re.replace("(?P<", "(?<");
  }
}
