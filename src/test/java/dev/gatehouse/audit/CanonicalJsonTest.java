package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CanonicalJson writes the common values itself; what it writes must be exactly what Jackson's
 * canonical mapper writes, since records already in the store were written by Jackson and the same
 * event must always give the same bytes.
 */
class CanonicalJsonTest {

  private static String jackson(Object value) throws Exception {
    return CanonicalJson.MAPPER.writeValueAsString(value);
  }

  @Test
  void everyCharacterIsEscapedAsJacksonDoes() throws Exception {
    StringBuilder all = new StringBuilder();
    for (char c = 0; c < 0x300; c++) {
      all.append(c);
    }
    all.append("\u2028\u2029\uFEFF\uD83D\uDE00\uD800 lone \uDC00 end");
    String s = all.toString();
    assertThat(CanonicalJson.write(s)).isEqualTo(jackson(s));
    assertThat(CanonicalJson.string(s)).isEqualTo(jackson(s));
    for (char c = 0; c < 0x80; c++) {
      String one = "a" + c + "b";
      assertThat(CanonicalJson.string(one)).as("char %d", (int) c).isEqualTo(jackson(one));
    }
    assertThat(CanonicalJson.string(null)).isEqualTo("null");
    assertThat(CanonicalJson.string("")).isEqualTo("\"\"");
  }

  /** The decision event written from its fields is the canonical JSON of its map, byte for byte. */
  @Test
  void theDecisionEventWrittenDirectlyIsItsCanonicalJson() throws Exception {
    String[] optional = {null, "", "x\"y\\z\n\u0001é😀"};
    String longText = "SELECT '" + "a".repeat(JournalOp.AUDIT_TEXT_LIMIT) + "'";
    int cases = 0;
    for (String raw : List.of("SELECT 1", "", "SELECT '\t\u2028'", longText)) {
      for (String a : optional) {
        for (String b : optional) {
          JournalOp.Action op =
              new JournalOp.Action(
                  1L, 42L, "s", "alice", "prod", "sql", raw, "{}", "allow", a, b, a, b, a);
          assertThat(op.decisionJson()).isEqualTo(jackson(op.event()));
          assertThat(op.decisionJson()).isEqualTo(CanonicalJson.write(op.event()));
          cases++;
        }
      }
    }
    assertThat(cases).isEqualTo(36);
  }

  @Test
  void recordedShapesMatchJackson() throws Exception {
    Map<String, Object> data = new HashMap<>();
    data.put("statement", "select");
    data.put("tables_read", List.of("public.pgbench_accounts", "b\"q"));
    data.put("kinds", List.of("update", "insert"));
    data.put("has_where", true);
    data.put("unparsed", false);
    data.put("action_id", 123456789012L);
    data.put("n", 7);
    data.put("empty_list", List.of());
    data.put("empty_map", Map.of());
    data.put("nested", Map.of("z", List.of(Map.of("b", 1L, "a", "x")), "a", "tab\there"));
    data.put("parameters", Arrays.asList("1", null, "\\x00ff"));
    data.put("null_value", null);
    data.put("Upper", "sorted before lower case");
    data.put("ünï", "cödé");
    assertThat(CanonicalJson.write(data)).isEqualTo(jackson(data));
    assertThat(CanonicalJson.write(Map.of())).isEqualTo("{}");
    // Past the insertion sort's size: the other sorting path, the same order.
    Map<String, Object> wide = new HashMap<>();
    for (int i = 0; i < 70; i++) {
      wide.put(Integer.toString(i * 7919 % 1000, 36) + (i % 3 == 0 ? "Z" : "a"), (long) i);
    }
    assertThat(CanonicalJson.write(wide)).isEqualTo(jackson(wide));
    assertThat(CanonicalJson.write(List.of("a", 1L))).isEqualTo(jackson(List.of("a", 1L)));
  }

  @Test
  void otherValuesAreLeftToJackson() throws Exception {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("b", 1.5d);
    data.put("a", Instant.ofEpochSecond(1_700_000_000L));
    data.put("c", new int[] {1, 2});
    data.put("d", Map.of(1, "integer key"));
    assertThat(CanonicalJson.write(data)).isEqualTo(jackson(data)).contains("2023-11-14T22:13:20Z");
    // Deeper than the direct writer goes: Jackson writes it, the same way.
    Object deep = "leaf";
    for (int i = 0; i < 40; i++) {
      deep = List.of(Map.of("k" + i, deep));
    }
    assertThat(CanonicalJson.write(deep)).isEqualTo(jackson(deep));
  }

  @Test
  void randomTextMatchesJackson() throws Exception {
    Random random = new Random(42);
    for (int round = 0; round < 2000; round++) {
      char[] chars = new char[random.nextInt(40)];
      for (int i = 0; i < chars.length; i++) {
        chars[i] = (char) (random.nextBoolean() ? random.nextInt(0x80) : random.nextInt(0x10000));
      }
      String s = new String(chars);
      Map<String, Object> m = new HashMap<>();
      m.put(s, s);
      m.put("list", new ArrayList<>(List.of(s, s + s)));
      assertThat(CanonicalJson.write(m)).isEqualTo(jackson(m));
    }
  }
}
