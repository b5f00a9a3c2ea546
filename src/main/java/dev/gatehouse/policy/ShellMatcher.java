package dev.gatehouse.policy;

import java.util.List;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

/** {@code shell: {}} matcher: interactive shells. It has no fields; its presence is the grant. */
final class ShellMatcher implements KindMatcher {
  static final ShellMatcher INSTANCE = new ShellMatcher();

  static ShellMatcher parse(YamlReader r, Node node, String path) {
    if (node instanceof ScalarNode s && s.getTag().getValue().endsWith(":null")) {
      return INSTANCE;
    }
    return r.mapping(node, path, List.of()) == null ? null : INSTANCE;
  }

  @Override
  public ActionKind kind() {
    return ActionKind.SHELL;
  }

  @Override
  public String mismatch(Action action, Effect effect) {
    return null;
  }
}
