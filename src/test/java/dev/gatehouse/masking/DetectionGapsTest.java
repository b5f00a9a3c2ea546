package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The detection gaps closed in the tenth session (issue #4): values the {@code pii} profile let
 * through before, each with look-alikes that must stay unmasked. Every value is masked by the real
 * engine on the String path and on the UTF-8 byte path.
 */
class DetectionGapsTest {
  static MaskingEngine engine;
  static Profile pii;

  @BeforeAll
  static void engine() {
    engine = MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "test"), 0));
    pii =
        Builtins.profiles(
                Builtins.DEFAULT_ENTROPY_THRESHOLD, new Style.Redact(null), List.of(), List.of())
            .get("pii")
            .build();
  }

  /** Each {text, part that must not survive}: masked on both paths. */
  private static void assertMasked(String[][] cases) {
    List<String> leaks = new ArrayList<>();
    for (String[] c : cases) {
      String masked = engine.redact("pii", c[0]);
      if (masked.equals(c[0]) || masked.contains(c[1])) {
        leaks.add(c[0] + " => " + masked);
      }
      byte[] b = c[0].getBytes(StandardCharsets.UTF_8);
      long armed = pii.scanner.armedUtf8(b, 0, b.length);
      List<Finding> viaBytes = pii.scanner.scanWith(c[0], armed, b, 0, b.length);
      if (viaBytes.isEmpty()) {
        leaks.add("(bytes) " + c[0]);
      }
    }
    assertThat(leaks).as("values that leak").isEmpty();
  }

  private static void assertNotMasked(String... texts) {
    List<String> fps = new ArrayList<>();
    for (String t : texts) {
      List<Finding> f = pii.scanner.scan(t);
      if (!f.isEmpty()) {
        fps.add(t + " => " + f);
      }
    }
    assertThat(fps).as("look-alikes masked").isEmpty();
  }

  static final String[] INVISIBLES = {
    "\u00ad", "\u034f", "\u061c", "\u180e", "\u200b", "\u200e", "\u200f", "\u202a", "\u202b",
    "\u202c", "\u202d", "\u202e", "\u2060", "\u2062", "\u2063", "\u2064", "\u2066", "\u2067",
    "\u2068", "\u2069", "\ufe00", "\ufe0f", "\ufeff"
  };

  @Test
  void invisibleCharactersInsideValuesAreReadThrough() {
    List<String[]> cases = new ArrayList<>();
    for (String x : INVISIBLES) {
      cases.add(
          new String[] {
            "paid 4111" + x + "1111" + x + "1111" + x + "1111 ok", "1111" + x + "1111"
          });
      cases.add(new String[] {"paid 4111 1111 1111 1" + x + "111", "4111 1111 1111"});
      cases.add(new String[] {"call +44 20" + x + " 7946 0958", "7946"});
      cases.add(new String[] {"mail jo" + x + "hn.smith@example.com", "smith@example"});
      cases.add(new String[] {"ssn 536-22" + x + "-1234", "536-22"});
    }
    assertMasked(cases.toArray(String[][]::new));
    List<String> looks = new ArrayList<>();
    for (String x : INVISIBLES) {
      looks.add("version 1.2" + x + ".3 released");
      looks.add("\u200f" + "total 1,234.50 " + x + "ok");
      looks.add("order " + x + "12345" + x + " shipped 2026-11-22" + x);
      looks.add("\u2764" + x + " 10:45:12 ok");
    }
    assertNotMasked(looks.toArray(String[]::new));
  }

  @Test
  void phoneFormatsFromTheRedTeam() throws Exception {
    assertMasked(
        new String[][] {
          {"{\"phone\":\"020 7946 0958\"}", "7946 0958"},
          {"{\"phone\":\"02079460958\"}", "2079460958"},
          {"{\"phone\": \"4155550100\"}", "4155550100"},
          {"call (+44) 20 7946 0958 now", "7946 0958"},
          {"(+353) 87 123 4567", "123 4567"},
          {"звоните 8 (495) 123-45-67", "123-45-67"},
          {"тел. 8 (812) 765-43-21", "765-43-21"},
          {"mobile 087 123 4567", "123 4567"},
          {"call 087 123 4567", "123 4567"},
          {"+353 87 123 4567", "123 4567"},
          {"021 123 4567", "123 4567"},
          {"+64 21 123 4567", "123 4567"},
        });
    assertNotMasked(
        "{\"phone_count\":\"3\"}",
        "{\"zip\":\"02079\"}",
        "8 (495) items",
        "(+44) only",
        "in 2026 (2025) 12-34-56",
        "8 (100) 123-45-67 - 1",
        "page 8 (495) 123",
        "score 021 123");
    ObjectMapper json = new ObjectMapper();
    JsonNode doc =
        json.readTree(
            "{\"phone\":\"02079460958\",\"mobile\":4155550100,\"order\":\"02079460958\","
                + "\"customer\":{\"phone_number\":\"+44 20 7946 0958\",\"fax\":\"0201234567\"}}");
    JsonNode out = engine.maskJson("pii", doc, List.of());
    assertThat(out.get("phone").asText()).doesNotContain("2079460958");
    assertThat(out.get("mobile").asText()).doesNotContain("4155550100");
    assertThat(out.get("order").asText()).isEqualTo("02079460958");
    assertThat(out.at("/customer/phone_number").asText()).doesNotContain("7946");
    assertThat(out.at("/customer/fax").asText()).doesNotContain("201234567");
  }
}
