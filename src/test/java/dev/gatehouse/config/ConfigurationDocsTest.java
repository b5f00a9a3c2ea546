package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/configuration.md must not fall behind the schema or the example. */
class ConfigurationDocsTest {
  private static final Path DOCS = Path.of("docs/configuration.md");

  @Test
  void everyKeyOfEverySectionIsDocumented() throws Exception {
    String docs = Files.readString(DOCS);
    List<String> keys = new ArrayList<>();
    for (List<String> section :
        List.of(
            ConfigBinder.TOP_KEYS,
            ConfigBinder.SERVER_KEYS,
            ConfigBinder.SSH_LISTENER_KEYS,
            ConfigBinder.AUTH_KEYS,
            ConfigBinder.STORE_KEYS,
            ConfigBinder.IDENTITY_KEYS,
            ConfigBinder.USER_KEYS,
            ConfigBinder.SSH_KEYS_KEYS,
            ConfigBinder.OIDC_KEYS,
            ConfigBinder.EXCHANGE_KEYS,
            ConfigBinder.CONNECTION_KEYS,
            ConfigBinder.UPSTREAM_TLS_KEYS,
            ConfigBinder.EXEC_KEYS,
            ConfigBinder.EXEC_SECRET_KEYS,
            ConfigBinder.SSH_TARGET_KEYS,
            ConfigBinder.POLICY_KEYS,
            ConfigBinder.AUDIT_KEYS,
            ConfigBinder.SINK_KEYS,
            ConfigBinder.APPROVALS_KEYS,
            ConfigBinder.WEBHOOK_KEYS,
            ConfigBinder.MASKING_KEYS,
            ConfigBinder.LOGGING_KEYS)) {
      keys.addAll(section);
    }
    for (String tlsKey : ConfigBinder.TLS_KEYS) {
      keys.add("tls." + tlsKey);
    }

    assertThat(keys)
        .allSatisfy(
            key ->
                assertThat(docs)
                    .as("docs/configuration.md documents `%s`", key)
                    .containsAnyOf("| `" + key + "` |", "## " + key));
  }

  @Test
  void docsEmbedTheExampleFileVerbatim() throws Exception {
    String example = Files.readString(Path.of("examples/gatehouse.yaml"));

    assertThat(Files.readString(DOCS)).contains("```yaml\n" + example + "```");
  }
}
