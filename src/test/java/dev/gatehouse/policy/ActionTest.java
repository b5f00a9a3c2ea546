package dev.gatehouse.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ActionTest {

  @Test
  void withAddsOrReplacesOneAttributeAndLeavesTheOriginalAlone() {
    Action a = new Action(ActionKind.SQL, "SELECT 1", Map.of("statement", "select", "n", 1L));

    Action added = a.with("parameters", List.of("1"));
    assertThat(added.attributes())
        .isEqualTo(Map.of("statement", "select", "n", 1L, "parameters", List.of("1")));
    assertThat(added.kind()).isEqualTo(ActionKind.SQL);
    assertThat(added.raw()).isEqualTo("SELECT 1");

    Action replaced = added.with("statement", "insert");
    assertThat(replaced.attributes())
        .isEqualTo(Map.of("statement", "insert", "n", 1L, "parameters", List.of("1")));
    assertThat(a.attributes()).isEqualTo(Map.of("statement", "select", "n", 1L));
    assertThat(Action.connect().with("k", "v").attributes()).isEqualTo(Map.of("k", "v"));
    assertThatThrownBy(() -> a.with("k", null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> replaced.attributes().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
