package dev.gatehouse.policy;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * {@code forward:} matcher for SSH port, agent and X11 forwarding requests.
 *
 * <p>{@code ssh -D} cannot be told apart from {@code ssh -L}: its SOCKS proxy runs in the client,
 * which opens the same {@code direct-tcpip} channel (RFC 4254 section 7.2), so the gateway decides
 * both as {@code local}. A rule listing {@code dynamic} therefore matches {@code local} actions
 * too: an allow rule for {@code dynamic} lets {@code -D} work (and {@code -L}, which reaches no
 * more than {@code -D} can), and a deny rule for {@code dynamic} refuses both rather than neither.
 */
final class ForwardMatcher implements KindMatcher {
  static final List<String> KEYS = List.of("types");
  static final Set<String> TYPES = Set.of("local", "remote", "dynamic", "agent", "x11");

  private final Set<String> types;

  private ForwardMatcher(Set<String> types) {
    this.types = types;
  }

  static ForwardMatcher parse(YamlReader r, Node node, String path) {
    Map<String, Node> m = r.mapping(node, path, KEYS);
    if (m == null) {
      return null;
    }
    Set<String> types = null;
    if (m.containsKey("types")) {
      List<String> l = r.strings(m.get("types"), path + ".types");
      if (l != null) {
        types = new LinkedHashSet<>();
        for (String t : l) {
          String v = t.toLowerCase(Locale.ROOT);
          if (!TYPES.contains(v)) {
            r.error(
                m.get("types"),
                path + ".types",
                t + " (expected local, remote, dynamic, agent or x11)");
          }
          types.add(v);
        }
      }
    }
    return new ForwardMatcher(types == null ? null : Set.copyOf(types));
  }

  @Override
  public ActionKind kind() {
    return ActionKind.FORWARD;
  }

  @Override
  public String mismatch(Action action, Effect effect) {
    if (types == null) {
      return null;
    }
    String t = action.string(Action.Attr.FORWARD_TYPE);
    String v = t == null ? null : t.toLowerCase(Locale.ROOT);
    return v != null && (types.contains(v) || "local".equals(v) && types.contains("dynamic"))
        ? null
        : "forwarding type " + t + " is not in " + types;
  }
}
