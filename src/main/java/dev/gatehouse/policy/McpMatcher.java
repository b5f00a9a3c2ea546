package dev.gatehouse.policy;

import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;

/** {@code mcp:} matcher: tool name globs for Model Context Protocol tool calls. */
final class McpMatcher implements KindMatcher {
  static final List<String> KEYS = List.of("tools");

  private final List<Glob> tools;

  private McpMatcher(List<Glob> tools) {
    this.tools = tools;
  }

  static McpMatcher parse(YamlReader r, Node node, String path) {
    Map<String, Node> m = r.mapping(node, path, KEYS);
    if (m == null) {
      return null;
    }
    List<Glob> tools = null;
    if (m.containsKey("tools")) {
      tools = SqlMatcher.globs(r, m.get("tools"), path + ".tools");
    }
    return new McpMatcher(tools);
  }

  @Override
  public ActionKind kind() {
    return ActionKind.MCP;
  }

  @Override
  public String mismatch(Action action, Effect effect) {
    if (tools == null) {
      return null;
    }
    String tool = action.string(Action.Attr.MCP_TOOL);
    return tool != null && SqlMatcher.any(tools, tool)
        ? null
        : "tool " + tool + " does not match " + tools;
  }
}
