package dev.gatehouse.config;

import static dev.gatehouse.config.ConfigTesting.failure;
import static dev.gatehouse.config.ConfigTesting.onlyProblem;
import static dev.gatehouse.config.ConfigTesting.parse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigException.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretReferenceTest {
  @TempDir Path dir;

  @Test
  void inlineSecretIsRejectedWithoutEchoingIt() {
    ConfigException e = failure("server:\n  master_key: hunter2-inline\n", dir, Map.of());

    assertThat(e.problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.line()).isEqualTo(2);
              assertThat(p.path()).isEqualTo("server.master_key");
              assertThat(p.message()).isEqualTo("inline secrets are not allowed");
              assertThat(p.fix()).isEqualTo("use ${env:NAME} or ${file:PATH}");
            });
    assertThat(e.getMessage()).doesNotContain("hunter2");
  }

  @Test
  void referenceMixedWithLiteralTextCountsAsInline() {
    Problem p = onlyProblem("masking:\n  hmac_key: prefix-${env:KEY}\n", dir, Map.of("KEY", "k"));

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.message()).isEqualTo("inline secrets are not allowed");
  }

  @Test
  void everySecretFieldRejectsInlineValues() {
    String yaml =
        """
        server: {master_key: a}
        store: {type: postgres, url: "jdbc:postgresql://db/g", password: b}
        connections:
          - {name: pg, type: postgres, host: h, username: u, password: c}
        audit:
          sinks:
            - {type: webhook, url: "https://siem.example", authorization: d}
        masking: {hmac_key: e}
        """;
    ConfigException e = failure(yaml, dir, Map.of());

    assertThat(e.problems())
        .extracting(Problem::line, Problem::path)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1, "server.master_key"),
            org.assertj.core.groups.Tuple.tuple(2, "store.password"),
            org.assertj.core.groups.Tuple.tuple(4, "connections[0].password"),
            org.assertj.core.groups.Tuple.tuple(7, "audit.sinks[0].authorization"),
            org.assertj.core.groups.Tuple.tuple(8, "masking.hmac_key"));
    assertThat(e.problems())
        .allSatisfy(p -> assertThat(p.message()).isEqualTo("inline secrets are not allowed"));
  }

  @Test
  void envReferenceResolvesAndRemembersItsOrigin() throws Exception {
    GatehouseConfig c =
        parse("server:\n  master_key: ${env:GH_MASTER}\n", dir, Map.of("GH_MASTER", "s3cr3t"));

    Secret key = c.server().masterKey();
    assertThat(key.reveal()).isEqualTo("s3cr3t");
    assertThat(key.origin()).isEqualTo("env:GH_MASTER");
    assertThat(key.matches("s3cr3t")).isTrue();
  }

  @Test
  void fileReferenceResolvesRelativeToTheConfigAndDropsTheTrailingNewline() throws Exception {
    Files.createDirectories(dir.resolve("secrets"));
    Files.writeString(dir.resolve("secrets/pg"), "pa ss\n");
    String yaml =
        "connections:\n  - {name: pg, type: postgres, host: h, username: u,"
            + " password: \"${file:secrets/pg}\"}\n";

    Secret pw = parse(yaml, dir, Map.of()).connection("pg").password();

    assertThat(pw.reveal()).isEqualTo("pa ss");
    assertThat(pw.origin()).isEqualTo("file:" + dir.resolve("secrets/pg"));
  }

  @Test
  void onlyOneTrailingNewlineIsDropped() throws Exception {
    Files.writeString(dir.resolve("key"), "abc\r\n");

    Secret s = parse("masking:\n  hmac_key: ${file:key}\n", dir, Map.of()).masking().hmacKey();

    assertThat(s.reveal()).isEqualTo("abc");
  }

  @Test
  void missingEnvironmentVariableIsNamed() {
    Problem p =
        onlyProblem(
            "store:\n  type: postgres\n  url: jdbc:postgresql://db/g\n  password: ${env:PGPASS}\n",
            dir,
            Map.of());

    assertThat(p.line()).isEqualTo(4);
    assertThat(p.path()).isEqualTo("store.password");
    assertThat(p.message()).isEqualTo("environment variable PGPASS is not set");
  }

  @Test
  void emptyEnvironmentVariableIsRejected() {
    Problem p = onlyProblem("server:\n  master_key: ${env:K}\n", dir, Map.of("K", ""));

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.message()).isEqualTo("environment variable K is empty");
  }

  @Test
  void missingSecretFileIsNamed() {
    Problem p = onlyProblem("server:\n  master_key: ${file:keys/master}\n", dir, Map.of());

    assertThat(p.line()).isEqualTo(2);
    assertThat(p.message())
        .isEqualTo("secret file " + dir.resolve("keys/master") + " does not exist");
  }

  @Test
  void emptySecretFileIsRejected() throws Exception {
    Files.writeString(dir.resolve("empty"), "\n");

    Problem p = onlyProblem("server:\n  master_key: ${file:empty}\n", dir, Map.of());

    assertThat(p.message()).isEqualTo("secret file " + dir.resolve("empty") + " is empty");
  }

  @Test
  void secretWrittenAsAMappingIsRejected() {
    Problem p = onlyProblem("server:\n  master_key:\n    env: K\n", dir, Map.of("K", "v"));

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.message())
        .isEqualTo("expected a ${env:NAME} or ${file:PATH} reference, found a mapping");
  }

  @Test
  void fileReferencesAreOnlyForSecretFields() {
    Problem p = onlyProblem("server:\n  api:\n    host: ${file:host.txt}\n", dir, Map.of());

    assertThat(p.line()).isEqualTo(3);
    assertThat(p.message()).isEqualTo("${file:…} references are only allowed in secret fields");
  }

  @Test
  void missingEnvironmentVariableInAPlainFieldIsNamed() {
    Problem p =
        onlyProblem(
            "connections:\n  - name: pg\n    type: postgres\n    host: ${env:PGHOST}\n    username: u\n",
            dir,
            Map.of());

    assertThat(p.line()).isEqualTo(4);
    assertThat(p.message()).isEqualTo("environment variable PGHOST is not set");
  }

  @Test
  void secretToStringShowsOnlyTheOrigin() throws Exception {
    GatehouseConfig c =
        parse(
            "server:\n  master_key: ${env:GH_MASTER}\n", dir, Map.of("GH_MASTER", "s3cr3t-value"));

    assertThat(c.server().masterKey().toString()).isEqualTo("Secret[env:GH_MASTER]");
    assertThat(c.toString()).doesNotContain("s3cr3t-value").contains("Secret[env:GH_MASTER]");
  }

  @Test
  void problemsNeverShowResolvedValues() {
    String yaml =
        """
        server:
          master_key: ${env:MASTER}
          api:
            port: ${env:API_PORT}
        approvals:
          public_url: ${env:PUBLIC_URL}
        """;
    ConfigException e =
        failure(
            yaml,
            dir,
            Map.of(
                "MASTER", "m-value", "API_PORT", "port-value", "PUBLIC_URL", "ftp://token-value"));

    assertThat(e.problems()).extracting(Problem::line).containsExactly(4, 6);
    assertThat(e.getMessage())
        .contains("\"${env:API_PORT}\" (resolved value) is not a number")
        .doesNotContain("m-value", "port-value", "token-value");
  }
}
