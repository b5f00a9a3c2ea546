package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Profiles and custom detectors from YAML, gitleaks TOML, and their error messages. */
class RuleFilesTest {
  @TempDir Path dir;

  MaskingEngine load(String name, String content) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, content);
    return MaskingEngine.create(
        new MaskingConfig(List.of(f.toString()), new Secret("key", "test"), 0));
  }

  @Test
  void yamlProfileExtendsBuiltInAddsAndExcludesDetectorsAndOverridesStyles() throws IOException {
    MaskingEngine e =
        load(
            "rules.yaml",
            """
            detectors:
              - id: employee_id
                regex: '\\bEMP-(\\d{6})\\b'
                group: 1
                keywords: [emp-]
              - id: codename
                words: [Falcon, "blue heron"]
            profiles:
              support:
                extends: pii
                redaction: "****"
                detectors: [employee_id, codename]
                exclude: [ip]
                styles:
                  email: hash
                  card: {style: partial, keep: 2}
            """);
    String out =
        e.redact(
            "support",
            "EMP-123456 on project falcon and Blue Heron from 10.0.0.1, jane@example.com, 4532015112830366");
    assertThat(out)
        .startsWith("EMP-**** on project **** and **** from 10.0.0.1, h:")
        .endsWith(", **************66");
    assertThat(e.redact("pii", "project falcon")).isEqualTo("project falcon");
  }

  /**
   * {@code masking.files} entries are globs (docs/configuration.md, {@code [masking/*.toml]}): the
   * engine loads every match, in order, and a plain path that is missing still fails by name.
   */
  @Test
  void filesAreGlobsAndEveryMatchIsLoaded() throws IOException {
    Path sub = Files.createDirectories(dir.resolve("masking"));
    Files.writeString(
        sub.resolve("a.yaml"),
        """
        detectors:
          - id: codename
            words: [falcon]
        profiles:
          cols:
            extends: none
            detectors: [codename]
        """);
    Files.writeString(
        sub.resolve("b.toml"),
        """
        [[rules]]
        id = "acme-api-key"
        regex = '''acme_key=([a-z0-9]{32})'''
        secretGroup = 1
        keywords = ["acme"]
        """);
    MaskingEngine e =
        MaskingEngine.create(
            new MaskingConfig(
                List.of(sub + "/*.yaml", sub + "/*.toml"), new Secret("key", "test"), 0));
    assertThat(e.redact("cols", "project falcon")).isEqualTo("project [REDACTED:codename]");
    assertThat(e.redact("secrets", "acme_key=0123456789abcdef0123456789abcdef"))
        .doesNotContain("0123456789abcdef0123456789abcdef");
    assertThatThrownBy(
            () ->
                MaskingEngine.create(
                    new MaskingConfig(
                        List.of(sub.resolve("missing.yaml").toString()),
                        new Secret("key", "test"),
                        0)))
        .isInstanceOf(MaskingConfigException.class)
        .hasMessageContaining("missing.yaml");
  }

  @Test
  void customRegexDetectorWithLuhnValidatorRejectsInvalidNumbers() throws IOException {
    MaskingEngine e =
        load(
            "rules.yaml",
            """
            detectors:
              - id: loyalty_card
                regex: '\\bLC(\\d{10})\\b'
                group: 1
                validator: luhn
                category: pii
            """);
    assertThat(e.redact("pii", "LC0000000000 LC1234567897 LC1234567890"))
        .isEqualTo("LC[REDACTED:loyalty_card] LC[REDACTED:loyalty_card] LC1234567890");
    assertThat(e.redact("default", "LC1234567897")).isEqualTo("LC1234567897");
  }

  @Test
  void customDetectorsInSecretCategoryJoinTheDefaultProfile() throws IOException {
    MaskingEngine e =
        load(
            "rules.yaml",
            """
            detectors:
              - id: internal_token
                regex: 'itk_[a-z0-9]{12}'
                category: secret
            """);
    assertThat(e.redact("default", "use itk_abcdef123456 now"))
        .isEqualTo("use [REDACTED:internal_token] now");
  }

  @Test
  void unknownStyleNamesFileAndLine() {
    assertThatThrownBy(
            () ->
                load(
                    "bad.yaml",
                    """
                    profiles:
                      p:
                        extends: pii
                        styles:
                          email: partal
                    """))
        .isInstanceOf(MaskingConfigException.class)
        .hasMessageContaining("bad.yaml:5:")
        .hasMessageContaining("unknown style 'partal'")
        .hasMessageContaining("expected one of redact, partial");
  }

  @Test
  void unknownKeyNamesFileLineAndAllowedKeys() {
    assertThatThrownBy(
            () ->
                load(
                    "bad.yaml",
                    """
                    profiles:
                      p:
                        extend: pii
                    """))
        .hasMessageContaining("bad.yaml:3:")
        .hasMessageContaining("unknown key 'extend'")
        .hasMessageContaining("extends");
  }

  @Test
  void invalidRegexNamesFileAndLine() {
    assertThatThrownBy(
            () ->
                load(
                    "bad.yaml",
                    """
                    detectors:
                      - id: broken
                        regex: '(unclosed'
                    """))
        .hasMessageContaining("bad.yaml:3:")
        .hasMessageContaining("invalid regex for 'broken'");
  }

  @Test
  void unknownDetectorAndUnknownBaseProfileNameTheirLines() {
    assertThatThrownBy(
            () ->
                load(
                    "bad.yaml",
                    """
                    profiles:
                      p:
                        extends: pii
                        detectors: [nope]
                    """))
        .hasMessageContaining("bad.yaml:4:")
        .hasMessageContaining("unknown detector 'nope'");
    assertThatThrownBy(() -> load("bad2.yaml", "profiles:\n  p:\n    extends: piii\n"))
        .hasMessageContaining("bad2.yaml:3:")
        .hasMessageContaining("extends unknown profile 'piii'");
  }

  @Test
  void profileCyclesAreRejected() {
    assertThatThrownBy(
            () ->
                load(
                    "cycle.yaml",
                    """
                    profiles:
                      a: {extends: b}
                      b: {extends: a}
                    """))
        .hasMessageContaining("cycle.yaml:")
        .hasMessageContaining("extends itself");
  }

  @Test
  void malformedYamlNamesTheLine() {
    assertThatThrownBy(() -> load("broken.yaml", "profiles:\n  p:\n    extends: [pii\n"))
        .isInstanceOf(MaskingConfigException.class)
        .hasMessageContaining("broken.yaml:")
        .hasMessageContaining("invalid YAML");
  }

  @Test
  void gitleaksTomlRulesJoinTheSecretProfiles() throws IOException {
    MaskingEngine e =
        load(
            "gitleaks.toml",
            """
            title = "custom"

            [allowlist]
            stopwords = ["example"]

            [[rules]]
            id = "acme-api-key"
            description = "ACME API key"
            regex = '''(?i)acme[_-]?key\\s*[:=]\\s*['"]?(?P<key>[a-z0-9]{32})'''
            secretGroup = 1
            entropy = 3.0
            keywords = ["acme"]

            [[rules]]
            id = "acme-session"
            regex = '''acs_[A-Za-z0-9]{20}'''
            keywords = ["acs_"]
            [rules.allowlist]
            regexes = ['''acs_0{20}''']

            [[rules]]
            id = "path-only"
            path = '''\\.pem$'''
            """);
    assertThat(e.redact("default", "ACME_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0 ok"))
        .isEqualTo("ACME_KEY=[REDACTED:acme-api-key] ok");
    assertThat(e.redact("default", "acme_key: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
        .as("below the rule's entropy")
        .doesNotContain("acme-api-key");
    assertThat(e.redact("pii", "acs_AbCdEfGhIjKlMnOpQrSt")).isEqualTo("[REDACTED:acme-session]");
    assertThat(e.redact("pii", "acs_00000000000000000000")).isEqualTo("acs_00000000000000000000");
    assertThat(e.redact("none", "acs_AbCdEfGhIjKlMnOpQrSt")).isEqualTo("acs_AbCdEfGhIjKlMnOpQrSt");
  }

  @Test
  void gitleaksInvalidRegexNamesTheRule() {
    assertThatThrownBy(
            () -> load("bad.toml", "[[rules]]\nid = \"broken\"\nregex = '''(unclosed'''\n"))
        .isInstanceOf(MaskingConfigException.class)
        .hasMessageContaining("bad.toml")
        .hasMessageContaining("'broken'")
        .hasMessageContaining("invalid regex");
  }

  @Test
  void shippedExamplesLoad() {
    MaskingEngine e =
        MaskingEngine.create(
            new MaskingConfig(
                List.of("examples/masking/masking.yaml", "examples/masking/gitleaks.toml"),
                new Secret("key", "test"),
                0));
    assertThat(e.profiles()).contains("support", "analytics");
  }
}
