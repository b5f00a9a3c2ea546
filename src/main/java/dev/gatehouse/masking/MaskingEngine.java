package dev.gatehouse.masking;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The masking engine: named profiles of detectors, styles and column rules, applied to result
 * values, free text, JSON documents and terminal streams. Immutable and thread safe once created; a
 * configuration reload creates a new engine.
 *
 * <p>Whether a principal sees unmasked data ({@code none}) is decided by policy; the engine obeys
 * the profile it is given. An unknown profile name fails closed: the {@code pii} profile is used
 * and a warning is logged once per name.
 */
public final class MaskingEngine {
  private static final Logger log = LoggerFactory.getLogger(MaskingEngine.class);
  private static final String FAIL_CLOSED = "pii";

  private static final ColumnMasker IDENTITY =
      new ColumnMasker() {
        @Override
        public MaskResult mask(String value) {
          return MaskResult.unchanged(value);
        }

        @Override
        public boolean masksAll() {
          return false;
        }

        @Override
        public boolean isIdentity() {
          return true;
        }

        @Override
        public boolean mayChange(byte[] utf8, int off, int len) {
          return false;
        }
      };

  private final Map<String, Profile> profiles;
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  private MaskingEngine(Map<String, Profile> profiles) {
    this.profiles = Map.copyOf(profiles);
  }

  /**
   * Builds the engine from the {@code masking:} configuration, or the built-in profiles only when
   * {@code cfg} is null.
   *
   * @throws MaskingConfigException when a rule file is invalid (the message names file and line)
   */
  public static MaskingEngine create(MaskingConfig cfg) {
    Keyed keyed;
    if (cfg != null && cfg.hmacKey() != null && !cfg.hmacKey().reveal().isEmpty()) {
      keyed = Keyed.of(cfg.hmacKey().reveal());
    } else {
      keyed = Keyed.random();
      log.warn(
          "masking: no hmac_key configured; hashed and format-preserving values change on"
              + " restart");
    }
    double threshold =
        cfg != null && cfg.entropyThreshold() > 0
            ? cfg.entropyThreshold()
            : Builtins.DEFAULT_ENTROPY_THRESHOLD;
    RuleFiles.Collected collected = new RuleFiles.Collected();
    List<Detector> gitleaks = new ArrayList<>();
    if (cfg != null) {
      List<Path> files;
      try {
        // The configured entries are globs (masking/*.toml), as the configuration reference says.
        files = cfg.ruleFiles();
      } catch (java.io.IOException e) {
        throw new MaskingConfigException("cannot list the masking rule files: " + e.getMessage());
      }
      for (Path p : files) {
        if (p.toString().endsWith(".toml")) {
          gitleaks.addAll(GitleaksRules.load(p));
        } else {
          RuleFiles.load(p, keyed, collected);
        }
      }
    }
    return build(keyed, threshold, collected, gitleaks);
  }

  /** Builds from already collected rules (also used by tests with in-memory files). */
  static MaskingEngine build(
      Keyed keyed, double threshold, RuleFiles.Collected collected, List<Detector> gitleaks) {
    Map<String, Detector> known = new LinkedHashMap<>();
    for (Detector d : Builtins.secretDetectors(threshold)) {
      known.put(d.type, d);
    }
    for (Detector d : Builtins.piiDetectors()) {
      known.put(d.type, d);
    }
    for (Detector d : gitleaks) {
      known.put(d.type, d);
    }
    known.putAll(collected.detectors);
    List<Detector> extraSecrets = new ArrayList<>(gitleaks);
    extraSecrets.addAll(collected.secretCategory);
    Style.Redact redaction = new Style.Redact(collected.redaction);
    Map<String, ProfileBuilder> builders =
        Builtins.profiles(threshold, redaction, extraSecrets, collected.piiCategory);
    Map<String, ProfileBuilder> resolved = new HashMap<>(builders);
    Set<String> overridden = new HashSet<>();
    for (RuleFiles.ProfileDef def : collected.profiles.values()) {
      resolve(def, collected, builders, resolved, overridden, new HashSet<>(), known);
    }
    Map<String, Profile> out = new LinkedHashMap<>();
    resolved.forEach((name, b) -> out.put(name, b.build()));
    return new MaskingEngine(out);
  }

  private static ProfileBuilder resolve(
      RuleFiles.ProfileDef def,
      RuleFiles.Collected collected,
      Map<String, ProfileBuilder> builtins,
      Map<String, ProfileBuilder> resolved,
      Set<String> done,
      Set<String> visiting,
      Map<String, Detector> known) {
    if (done.contains(def.name)) {
      return resolved.get(def.name);
    }
    if (!visiting.add(def.name)) {
      throw new MaskingConfigException(
          def.where + ": profile '" + def.name + "' extends itself (cycle " + visiting + ")");
    }
    ProfileBuilder base;
    String ext = def.extendsName;
    if (ext == null) {
      // Redefining a built-in name without extends starts from that built-in.
      base = builtins.containsKey(def.name) ? builtins.get(def.name) : null;
    } else if (collected.profiles.containsKey(ext) && !ext.equals(def.name)) {
      base =
          resolve(
              collected.profiles.get(ext), collected, builtins, resolved, done, visiting, known);
    } else if (builtins.containsKey(ext)) {
      base = builtins.get(ext);
    } else {
      throw new MaskingConfigException(
          def.extendsWhere
              + ": profile '"
              + def.name
              + "' extends unknown profile '"
              + ext
              + "' (expected one of "
              + new java.util.TreeSet<>(
                  java.util.stream.Stream.concat(
                          builtins.keySet().stream(), collected.profiles.keySet().stream())
                      .toList())
              + ")");
    }
    ProfileBuilder b =
        base == null
            ? new ProfileBuilder(def.name, builtins.get("none").fallback)
            : base.copyAs(def.name);
    def.file.apply(def, b, known);
    resolved.put(def.name, b);
    done.add(def.name);
    visiting.remove(def.name);
    return b;
  }

  /** Names of all profiles. */
  public Set<String> profiles() {
    return profiles.keySet();
  }

  private Profile profile(String name) {
    Profile p = name == null ? null : profiles.get(name);
    if (p != null) {
      return p;
    }
    if (warned.add(String.valueOf(name))) {
      log.warn("masking: unknown profile '{}', masking with '{}' (fail closed)", name, FAIL_CLOSED);
    }
    return profiles.get(FAIL_CLOSED);
  }

  /** Free text with every detected value masked by the profile's style for its type. */
  public String redact(String profile, String text) {
    return profile(profile).redact(text);
  }

  /**
   * SQL's own password syntax: {@code CREATE|ALTER ROLE … [ENCRYPTED] PASSWORD 'x'} (PostgreSQL
   * CREATE ROLE), {@code OPTIONS (… password 'x')} (CREATE USER MAPPING, CREATE SERVER), MySQL's
   * {@code IDENTIFIED [WITH plugin] BY 'x'}. A string literal with {@code ''} or a backslash escape
   * inside is read whole (in a standard string a backslash may run on to a later quote, which masks
   * more). The content detector of the same syntax ({@code SecretDetectors.PasswordSyntax}) reads
   * it within a line; stored statement texts are also read across line breaks ({@link
   * #redactStored}).
   */
  private static final java.util.regex.Pattern SQL_PASSWORD =
      SecretDetectors.PasswordSyntax.sqlPassword("\\s");

  /**
   * {@link #redact} for text that is stored or shown to others (a statement's text in the recording
   * and the review request, its outcome). A profile that detects nothing ({@code none}, or one made
   * of column rules only) lets a principal see data unmasked, not the recording keep credentials:
   * such text is masked with {@code secrets}. Also SQL's password syntax, which the content
   * detectors leave to this pass (see {@link #SQL_PASSWORD}). Hex literals ({@code 0x6a6f…}, {@code
   * X'6a6f…'}) are read as the text they stand for ({@link HexLiterals}).
   */
  public String redactStored(String profile, String text) {
    if (text == null) {
      return null;
    }
    return redactStoredText(profile, HexLiterals.mask(text, t -> redactStoredText(profile, t)));
  }

  private String redactStoredText(String profile, String text) {
    Profile p = profile(profile);
    Profile secrets = profile("secrets");
    if (!p.detectsContent()) {
      p = secrets;
    }
    String masked = p.redact(text);
    if (p != secrets && !p.detects(secrets)) {
      // A custom profile without the secret detectors (detectors: [email], no extends) would
      // store credentials: the stored text is masked for them too.
      masked = secrets.redact(masked);
    }
    if (!Checks.containsIgnoreCase(masked, "password")
        && !Checks.containsIgnoreCase(masked, "identified")) {
      return masked;
    }
    java.util.regex.Matcher m = SQL_PASSWORD.matcher(masked);
    List<Finding> found = new ArrayList<>();
    while (m.find()) {
      found.add(new Finding(m.start(1), m.end(1), "assignment", 75));
    }
    return found.isEmpty() ? masked : p.apply(masked, found, 0, masked.length());
  }

  /**
   * {@link #redact} for UTF-8 text: the same array when nothing is found, otherwise the masked text
   * encoded as UTF-8. The detectors' pre-filter runs over the bytes, so text in which no detector
   * can find anything is never decoded.
   */
  public byte[] redactUtf8(String profile, byte[] utf8) {
    byte[] masked = profile(profile).redactUtf8Bytes(utf8, 0, utf8.length);
    return masked == null ? utf8 : masked;
  }

  /**
   * The masker for one result column: the first matching column rule of the profile masks every
   * value; otherwise values are masked by content detection; for {@code none} nothing is done.
   */
  public ColumnMasker columnMasker(
      String profile, String connection, String schema, String table, String column) {
    return columnMasker(profile, connection, schema, table, column, column);
  }

  /**
   * {@link #columnMasker} for a result column known by two names: the table column it comes from
   * ({@code column}) and the name the query gave it ({@code alias}, {@code SELECT ssn AS s}). The
   * rule on the table column decides; without one, a rule on the alias does (an expression has no
   * table column, and a cached column name may predate a RENAME COLUMN).
   */
  public ColumnMasker columnMasker(
      String profile, String connection, String schema, String table, String column, String alias) {
    Profile p = profile(profile);
    ColumnRule rule = p.columnRule(connection, schema, table, column);
    if (rule == null && alias != null && !alias.equals(column)) {
      rule = p.columnRule(connection, schema, table, alias);
      column = alias;
    }
    if (rule != null && !rule.style().keeps()) {
      return new RuleMasker(rule.style(), rule.typeFor(column));
    }
    if (rule != null || !p.detectsContent()) {
      return IDENTITY;
    }
    return new ContentMasker(p);
  }

  /** Whether the profile has column rules at all (else no column's name can matter). */
  public boolean hasColumnRules(String profile) {
    return !profile(profile).columns.isEmpty();
  }

  /**
   * True when a column rule masks every value of the column, so a protocol must not pass its binary
   * representation through unchanged.
   */
  public boolean masksColumn(
      String profile, String connection, String schema, String table, String column) {
    return columnMasker(profile, connection, schema, table, column).masksAll();
  }

  /**
   * True when values of this column may be changed at all (a column rule masks it, or the profile
   * scans content): a protocol should then receive the column in text format, or convert binary
   * values to text before masking. False means binary values may pass through untouched.
   */
  public boolean forcesText(
      String profile, String connection, String schema, String table, String column) {
    return !columnMasker(profile, connection, schema, table, column).isIdentity();
  }

  /**
   * True when the profile detects sensitive content in values of any column: a protocol should then
   * receive text values (or convert binary ones to text) so they can be scanned.
   */
  public boolean detectsContent(String profile) {
    return profile(profile).detectsContent();
  }

  /** A masker for one terminal or log stream. */
  public StreamMasker streamMasker(String profile) {
    return streamMasker(profile, List.of());
  }

  /**
   * A stream masker that, in addition to the profile, always removes the given literal values (for
   * example credentials the gateway injected into the session), also across chunks, with their hex
   * and base64 forms and, for a secret of several lines, its token-like words ({@link
   * ExactSecrets}); the value and its hex form in any case, and with terminal escape sequences
   * (colour codes) between its characters. Other transformations (URL encoding, a value split or
   * reversed) are not recognised.
   */
  public StreamMasker streamMasker(String profile, Collection<String> exactSecrets) {
    Profile p = profile(profile);
    List<ExactSecrets.Form> forms =
        exactSecrets.isEmpty() ? List.of() : ExactSecrets.forms(exactSecrets);
    // A profile that detects nothing (none) keeps output byte for byte, binary included; the exact
    // secrets are still removed. Every protocol gets the same rule here rather than deciding
    // itself.
    return p.detectsContent() ? new TextStreamMasker(p, forms) : new ExactStreamMasker(p, forms);
  }

  /**
   * A masked copy of {@code doc}: values selected by {@code jsonPaths} ({@code $.a.b[*].c}) are
   * redacted whole, then remaining values are masked by content. {@code doc} is not modified.
   *
   * @throws IllegalArgumentException for a malformed path
   */
  public JsonNode maskJson(String profile, JsonNode doc, List<String> jsonPaths) {
    return JsonMasking.mask(profile(profile), doc, jsonPaths == null ? List.of() : jsonPaths);
  }

  /** Column rule: every value gets the rule's style. */
  private record RuleMasker(Style style, String type) implements ColumnMasker {
    @Override
    public MaskResult mask(String value) {
      if (value == null) {
        return MaskResult.unchanged(null);
      }
      if (style.isNull()) {
        return MaskResult.masked(null);
      }
      return MaskResult.masked(style.apply(value, type));
    }

    @Override
    public boolean masksAll() {
      return true;
    }

    @Override
    public boolean isIdentity() {
      return false;
    }
  }

  /** No column rule: content detection on each value. */
  private record ContentMasker(Profile profile) implements ColumnMasker {
    @Override
    public MaskResult mask(String value) {
      if (value == null || value.isEmpty()) {
        return MaskResult.unchanged(value);
      }
      String masked = profile.redact(value);
      return masked == value ? MaskResult.unchanged(value) : MaskResult.masked(masked);
    }

    @Override
    public boolean mayChange(byte[] utf8, int off, int len) {
      return profile.scanner.mayMatch(utf8, off, len);
    }

    @Override
    public MaskResult maskUtf8(byte[] utf8, int off, int len) {
      String masked = profile.redactUtf8(utf8, off, len);
      return masked == null ? null : MaskResult.masked(masked);
    }

    @Override
    public byte[] maskUtf8Bytes(byte[] utf8, int off, int len) {
      return profile.redactUtf8Bytes(utf8, off, len);
    }

    @Override
    public boolean masksAll() {
      return false;
    }

    @Override
    public boolean isIdentity() {
      return false;
    }
  }
}
