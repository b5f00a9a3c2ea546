package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Engine API: profiles, fail-closed behaviour, column maskers and column rules with globs. */
class MaskingEngineTest {
  static final MaskingEngine BUILTIN = MaskingEngine.create(null);

  @TempDir Path dir;

  MaskingEngine withRules(String yaml) throws IOException {
    Path f = dir.resolve("rules.yaml");
    Files.writeString(f, yaml);
    return MaskingEngine.create(
        new MaskingConfig(List.of(f.toString()), new Secret("key", "test"), 0));
  }

  @Test
  void builtInProfilesExist() {
    assertThat(BUILTIN.profiles()).contains("none", "default", "secrets", "pii");
  }

  @Test
  void noneProfileMasksNothing() {
    String text = "password=hunter2 jane@example.com 4532015112830366";
    assertThat(BUILTIN.redact("none", text)).isEqualTo(text);
    assertThat(BUILTIN.columnMasker("none", "db", "public", "t", "c").isIdentity()).isTrue();
  }

  @Test
  void defaultProfileMasksSecretsButNotPersonalData() {
    String out = BUILTIN.redact("default", "password=hunter2 mail jane@example.com");
    assertThat(out).doesNotContain("hunter2").contains("jane@example.com");
  }

  @Test
  void piiProfileMasksPersonalDataWithItsStyles() {
    String out =
        BUILTIN.redact(
            "pii", "jane@example.com paid 4532 0151 1283 0366, SSN 123-45-6789 from 10.1.2.3");
    assertThat(out)
        .isEqualTo(
            "j****@example.com paid **** **** **** 0366, SSN [REDACTED:ssn] from [REDACTED:ip]");
  }

  @Test
  void unknownProfileFailsClosedWithPiiStrength() {
    assertThat(BUILTIN.redact("no-such-profile", "call 415-555-0100"))
        .isEqualTo(BUILTIN.redact("pii", "call 415-555-0100"))
        .doesNotContain("555-0100");
    assertThat(BUILTIN.redact(null, "jane@example.com")).isEqualTo("j****@example.com");
  }

  @Test
  void columnMaskerWithoutRuleUsesContentDetection() {
    ColumnMasker m = BUILTIN.columnMasker("pii", "db", "public", "notes", "body");
    assertThat(m.masksAll()).isFalse();
    assertThat(m.mask("reach me at jane@example.com").value())
        .isEqualTo("reach me at j****@example.com");
    MaskResult plain = m.mask("nothing to see");
    assertThat(plain.masked()).isFalse();
    assertThat(plain.value()).isEqualTo("nothing to see");
    assertThat(m.mask(null).isNull()).isTrue();
  }

  @Test
  void columnRulesMatchByGlobsOnConnectionSchemaTableAndColumn() throws IOException {
    MaskingEngine e =
        withRules(
            """
            profiles:
              support:
                extends: pii
                columns:
                  - {connection: payments-*, schema: public, table: customers, column: email, style: partial}
                  - {connection: "*", table: "cust*", column: "*_ssn", style: "null"}
                  - {column: card_number, style: {style: partial, keep: 4}, type: card}
                  - {column: api_token, style: hash}
                  - {column: nickname, style: none}
            """);
    ColumnMasker email = e.columnMasker("support", "payments-db", "public", "customers", "email");
    assertThat(email.masksAll()).isTrue();
    assertThat(email.mask("john@example.com").value()).isEqualTo("j****@example.com");
    assertThat(e.masksColumn("support", "payments-db", "PUBLIC", "Customers", "EMAIL")).isTrue();
    assertThat(e.masksColumn("support", "billing-db", "public", "customers", "email")).isFalse();
    assertThat(e.masksColumn("support", "payments-db", "audit", "customers", "email")).isFalse();

    MaskResult ssn = e.columnMasker("support", "x", null, "customers", "tax_ssn").mask("1");
    assertThat(ssn.isNull()).isTrue();
    assertThat(ssn.masked()).isTrue();

    assertThat(
            e.columnMasker("support", "x", "s", "orders", "card_number")
                .mask("4532-0151-1283-0366")
                .value())
        .isEqualTo("****-****-****-0366");
    String h = e.columnMasker("support", "x", "s", "t", "api_token").mask("abc").value();
    assertThat(h).startsWith("h:");
    assertThat(e.columnMasker("support", "y", "s2", "t2", "api_token").mask("abc").value())
        .as("deterministic so masked values still join")
        .isEqualTo(h);
    ColumnMasker exempt = e.columnMasker("support", "x", "s", "t", "nickname");
    assertThat(exempt.isIdentity()).isTrue();
    assertThat(exempt.mask("jane@example.com").value()).isEqualTo("jane@example.com");
  }

  @Test
  void binaryColumnsCanAskWhetherContentIsScanned() {
    assertThat(BUILTIN.detectsContent("pii")).isTrue();
    assertThat(BUILTIN.detectsContent("none")).isFalse();
    assertThat(BUILTIN.forcesText("pii", "db", "public", "t", "amount")).isTrue();
    assertThat(BUILTIN.forcesText("none", "db", "public", "t", "amount")).isFalse();
    assertThat(BUILTIN.masksColumn("pii", "db", "public", "t", "amount")).isFalse();
  }
}
