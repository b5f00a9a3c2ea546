package dev.gatehouse.policy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * {@code forward:} matcher for SSH port, agent and X11 forwarding requests: the forwarding type
 * and, for port forwarding, where it leads.
 *
 * <p>{@code ssh -D} cannot be told apart from {@code ssh -L}: its SOCKS proxy runs in the client,
 * which opens the same {@code direct-tcpip} channel (RFC 4254 section 7.2), so the gateway decides
 * both as {@code local}. A rule listing {@code dynamic} therefore matches {@code local} actions
 * too: an allow rule for {@code dynamic} lets {@code -D} work (and {@code -L}, which reaches no
 * more than {@code -D} can), and a deny rule for {@code dynamic} refuses both rather than neither.
 *
 * <p>{@code destinations} narrows {@code local} (and {@code dynamic}) to the host and port a {@code
 * direct-tcpip} channel asks the target to connect to (RFC 4254 section 7.2, "host to connect",
 * "port to connect"); {@code listen} narrows {@code remote} to the address and port a {@code
 * tcpip-forward} request asks the target to bind (RFC 4254 section 7.1, "address to bind", "port
 * number to bind"), like OpenSSH's {@code PermitOpen} and {@code PermitListen}. A rule that names
 * them matches only requests that match one entry, so an allow rule permits nothing else (deny by
 * default). The host is matched as the client sent it: the gateway does not resolve names, so
 * {@code localhost}, {@code 127.0.0.1} and {@code 127.1} are different strings. That makes an allow
 * list exact, and a deny list by host an audit aid rather than a boundary (docs/policy.md).
 *
 * <p>Unix-domain socket forwarding (OpenSSH PROTOCOL section 2.4: {@code
 * direct-streamlocal@openssh.com} for {@code local}, {@code streamlocal-forward@openssh.com} for
 * {@code remote}) carries a socket path instead of a host and port. An entry with {@code path} (a
 * {@link PathPattern}: a glob such as {@code /run/app/*.sock}, or a directory and everything below
 * it) matches only socket forwards, an entry with a host or ports only TCP ones, so a rule that
 * names TCP destinations allows no socket and the other way round. The path is compared normalised
 * ({@code .}, {@code ..}, repeated slashes resolved), as the file matcher compares paths; a
 * relative path, which the target would resolve against a directory the policy does not know,
 * matches no allow rule that names destinations and every deny rule that does (fail closed). A rule
 * without {@code destinations} or {@code listen} matches socket forwards of its types as it matches
 * TCP ones.
 *
 * <p>A rule with {@code destinations} or {@code listen} must list its types, and every type listed
 * must be one those keys narrow: otherwise a deny rule written for one destination would refuse
 * every other forwarding type, and an allow rule would permit other types whatever their
 * destination.
 */
final class ForwardMatcher implements KindMatcher {
  static final List<String> KEYS = List.of("types", "destinations", "listen");
  static final Set<String> TYPES = Set.of("local", "remote", "dynamic", "agent", "x11");
  static final List<String> DESTINATION_KEYS = List.of("host", "ports", "path");
  static final List<String> LISTEN_KEYS = List.of("address", "ports", "path");

  /** Highest TCP port (RFC 793: a 16-bit field). */
  static final int MAX_PORT = 65_535;

  private final Set<String> types;
  private final List<Endpoint> destinations;
  private final List<Endpoint> listen;

  private ForwardMatcher(Set<String> types, List<Endpoint> destinations, List<Endpoint> listen) {
    this.types = types;
    this.destinations = destinations;
    this.listen = listen;
  }

  /**
   * One {@code destinations} or {@code listen} entry: a host glob (null: any) and port ranges
   * (empty: any), each range {@code [low, high]}; or, for socket forwards, a socket path pattern
   * (then host and ports are unset).
   */
  record Endpoint(Glob host, List<int[]> ports, PathPattern path) {
    /** A TCP forward to or on {@code h}:{@code port}; a socket entry matches none. */
    boolean matches(String h, Long port) {
      if (path != null) {
        return false;
      }
      if (host != null && !host.matches(normalise(h))) {
        return false;
      }
      if (ports.isEmpty()) {
        return true;
      }
      if (port == null) {
        return false;
      }
      for (int[] r : ports) {
        if (port >= r[0] && port <= r[1]) {
          return true;
        }
      }
      return false;
    }

    /**
     * A socket forward to or on the normalised absolute {@code socket}; a TCP entry matches none.
     */
    boolean matchesSocket(String socket) {
      return path != null && path.matches(socket);
    }

    @Override
    public String toString() {
      if (path != null) {
        return "unix:" + path;
      }
      StringBuilder b = new StringBuilder(host == null ? "*" : host.toString()).append(':');
      if (ports.isEmpty()) {
        return b.append('*').toString();
      }
      for (int i = 0; i < ports.size(); i++) {
        int[] r = ports.get(i);
        b.append(i == 0 ? "" : ",").append(r[0]);
        if (r[1] != r[0]) {
          b.append('-').append(r[1]);
        }
      }
      return b.toString();
    }
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
    List<Endpoint> destinations =
        m.containsKey("destinations")
            ? endpoints(r, m.get("destinations"), path + ".destinations", "host", 1)
            : null;
    // Port 0 asks the target to choose (RFC 4254 section 7.1), so listen may name it.
    List<Endpoint> listen =
        m.containsKey("listen")
            ? endpoints(r, m.get("listen"), path + ".listen", "address", 0)
            : null;
    if (m.containsKey("destinations") || m.containsKey("listen")) {
      Node at = m.containsKey("destinations") ? m.get("destinations") : m.get("listen");
      String key = m.containsKey("destinations") ? "destinations" : "listen";
      if (!m.containsKey("types")) {
        r.error(
            at,
            path + "." + key,
            "needs types (expected types: [local] with destinations, [remote] with listen), so the"
                + " rule does not also apply to other forwarding types whatever their destination");
      } else if (types != null) {
        // A key no listed type reads would be silently ignored: say so instead.
        if (m.containsKey("destinations")
            && !types.contains("local")
            && !types.contains("dynamic")) {
          r.error(
              m.get("destinations"),
              path + ".destinations",
              "apply to local and dynamic, and types lists neither (expected types: [local])");
        }
        if (m.containsKey("listen") && !types.contains("remote")) {
          r.error(
              m.get("listen"),
              path + ".listen",
              "applies to remote, and types does not list it (expected types: [remote])");
        }
        for (String t : types) {
          boolean local = t.equals("local") || t.equals("dynamic");
          if (local && !m.containsKey("destinations")) {
            r.error(
                m.get("types"),
                path + ".types",
                t
                    + " is not narrowed by listen, which applies to remote only (expected"
                    + " destinations for local and dynamic, or a separate rule)");
          } else if (t.equals("remote") && !m.containsKey("listen")) {
            r.error(
                m.get("types"),
                path + ".types",
                "remote is not narrowed by destinations, which apply to local and dynamic only"
                    + " (expected listen for remote, or a separate rule)");
          } else if (!local && !t.equals("remote") && TYPES.contains(t)) {
            r.error(
                m.get("types"),
                path + ".types",
                t
                    + " has no host or port to narrow (expected only local, dynamic and remote in a"
                    + " rule with "
                    + key
                    + "; put "
                    + t
                    + " in a separate rule)");
          }
        }
      }
    }
    return new ForwardMatcher(types == null ? null : Set.copyOf(types), destinations, listen);
  }

  private static List<Endpoint> endpoints(
      YamlReader r, Node node, String path, String hostKey, int minPort) {
    List<Node> items =
        r.sequence(node, path, " such as [{ " + hostKey + ": db-*, ports: [5432] }]");
    if (items == null) {
      return null;
    }
    if (items.isEmpty()) {
      r.error(
          node,
          path,
          "empty (expected at least one entry; an empty list would match nothing, remove the key"
              + " to match any)");
    }
    List<Endpoint> out = new ArrayList<>();
    List<String> keys = hostKey.equals("host") ? DESTINATION_KEYS : LISTEN_KEYS;
    for (int i = 0; i < items.size(); i++) {
      String p = path + "[" + i + "]";
      Map<String, Node> e = r.mapping(items.get(i), p, keys);
      if (e == null) {
        continue;
      }
      if (e.isEmpty()) {
        r.error(items.get(i), p, "empty (expected " + hostKey + ", ports or both, or a path)");
        continue;
      }
      if (e.containsKey("path")) {
        if (e.size() > 1) {
          r.error(
              items.get(i),
              p,
              "path with "
                  + hostKey
                  + " or ports (expected a socket path alone: a Unix socket has no host or port;"
                  + " put TCP destinations in another entry)");
          continue;
        }
        PathPattern socket = socketPattern(r, e.get("path"), p + ".path");
        if (socket != null) {
          out.add(new Endpoint(null, List.of(), socket));
        }
        continue;
      }
      Glob host = null;
      if (e.containsKey(hostKey)) {
        host = hostGlob(r, e.get(hostKey), p + "." + hostKey);
      }
      List<int[]> ports = List.of();
      if (e.containsKey("ports")) {
        ports = ports(r, e.get("ports"), p + ".ports", minPort);
      }
      out.add(new Endpoint(host, ports, null));
    }
    return List.copyOf(out);
  }

  /** A socket path entry: an absolute path or glob, as the file matcher's ({@link PathPattern}). */
  private static PathPattern socketPattern(YamlReader r, Node n, String path) {
    String s = r.string(n, path);
    if (s == null) {
      return null;
    }
    if (s.chars().anyMatch(c -> c < ' ' || c == 0x7f)) {
      r.error(n, path, "has a control character (expected a socket path such as /run/app.sock)");
      return null;
    }
    try {
      return PathPattern.compile(s);
    } catch (IllegalArgumentException e) {
      r.error(n, path, e.getMessage());
      return null;
    }
  }

  private static Glob hostGlob(YamlReader r, Node n, String path) {
    String s = r.string(n, path);
    if (s == null) {
      return null;
    }
    if (s.isEmpty() || s.chars().anyMatch(c -> c <= ' ' || c == '/' || c == 0x7f)) {
      r.error(
          n, path, "\"" + s + "\" (expected a host name, address or glob such as db-*.internal)");
      return null;
    }
    // One colon is a port typed into the host (IPv6 addresses have at least two).
    int colon = s.indexOf(':');
    if (colon >= 0 && colon == s.lastIndexOf(':')) {
      r.error(
          n,
          path,
          s
              + " looks like host:port (expected the port in ports: { host: "
              + s.substring(0, colon)
              + ", ports: ["
              + s.substring(colon + 1)
              + "] })");
      return null;
    }
    try {
      return Glob.compile(normalise(s), false, true);
    } catch (IllegalArgumentException e) {
      r.error(n, path, e.getMessage());
      return null;
    }
  }

  private static List<int[]> ports(YamlReader r, Node n, String path, int minPort) {
    List<Node> items = n instanceof ScalarNode ? List.of(n) : r.sequence(n, path, " such as [22]");
    if (items == null) {
      return List.of();
    }
    String expected =
        " (expected a port "
            + minPort
            + "-"
            + MAX_PORT
            + " or a range such as 8000-8099"
            + (minPort == 0 ? "; 0 is the port the target chooses for -R 0:..." : "")
            + ")";
    if (items.isEmpty()) {
      r.error(n, path, "empty" + expected);
    }
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      Node item = items.get(i);
      String p = n instanceof ScalarNode ? path : path + "[" + i + "]";
      String s = r.string(item, p);
      if (s == null) {
        continue;
      }
      String t = s.strip();
      int dash = t.indexOf('-', 1);
      int lo = port(dash < 0 ? t : t.substring(0, dash).strip(), minPort);
      int hi = dash < 0 ? lo : port(t.substring(dash + 1).strip(), minPort);
      if (lo < 0 || hi < 0) {
        r.error(item, p, s + expected);
      } else if (lo > hi) {
        r.error(
            item,
            p,
            s + " is an empty range (expected the lower port first: " + hi + "-" + lo + ")");
      } else {
        out.add(new int[] {lo, hi});
      }
    }
    return List.copyOf(out);
  }

  /** The port, or -1 when {@code s} is not a whole number in range. */
  private static int port(String s, int minPort) {
    if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return -1;
    }
    int v = Integer.parseInt(s);
    return v >= minPort && v <= MAX_PORT ? v : -1;
  }

  /**
   * How hosts are compared: lower case (DNS names are case-insensitive, RFC 4343), without one
   * trailing dot (the same absolute name) and without the brackets of an IPv6 literal ({@code
   * [::1]}), so those spellings cannot slip past a rule.
   */
  static String normalise(String host) {
    if (host == null) {
      return null;
    }
    String h = host.strip().toLowerCase(Locale.ROOT);
    if (h.length() > 2 && h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.length() > 1 && h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return h;
  }

  /** The action's port: a number, or digits (a policy test may quote it); else null. */
  private static Long portOf(Object v) {
    if (v instanceof Number n) {
      return n.longValue();
    }
    if (v instanceof String s
        && !s.isEmpty()
        && s.length() <= 5
        && s.chars().allMatch(Character::isDigit)) {
      return Long.parseLong(s);
    }
    return null;
  }

  /** Why a rule without path entries does not allow (or hold) a forward to a Unix socket. */
  static final String NO_SOCKET_PATHS =
      "the rule names no socket paths; a forward to a Unix socket needs a path entry"
          + " (destinations or listen: [{path: ...}])";

  @Override
  public ActionKind kind() {
    return ActionKind.FORWARD;
  }

  @Override
  public String mismatch(Action action, Effect effect) {
    if (types == null) {
      // forward: {} names no socket paths either (see below).
      return action.attributes().get(Action.Attr.FORWARD_PATH) == null || effect == Effect.DENY
          ? null
          : NO_SOCKET_PATHS;
    }
    String t = action.string(Action.Attr.FORWARD_TYPE);
    String v = t == null ? null : t.toLowerCase(Locale.ROOT);
    if (v == null || !(types.contains(v) || "local".equals(v) && types.contains("dynamic"))) {
      return "forwarding type " + t + " is not in " + types;
    }
    List<Endpoint> where =
        switch (v) {
          case "local", "dynamic" -> destinations; // a -D connection leads somewhere too
          case "remote" -> listen;
          default -> null;
        };
    Object socket = action.attributes().get(Action.Attr.FORWARD_PATH);
    if (where == null) {
      // A Unix socket is allowed only by a rule that names it: a rule written for TCP forwards
      // must not open /var/run/docker.sock on the target (OpenSSH, too, keeps
      // AllowStreamLocalForwarding apart from AllowTcpForwarding). Deny rules match every socket.
      return socket == null || effect == Effect.DENY ? null : NO_SOCKET_PATHS;
    }
    if (socket != null) {
      String p = socket instanceof String s ? PathPattern.resolve(s, null) : null;
      if (p == null) {
        // Fail closed, as for a TCP forward that names no host: every deny rule, no allow rule.
        return effect == Effect.DENY ? null : "the " + v + " forward names no absolute socket path";
      }
      for (Endpoint e : where) {
        if (e.matchesSocket(p)) {
          return null;
        }
      }
      return (v.equals("remote") ? "listen socket " : "destination socket ")
          + socket
          + " is not in "
          + where;
    }
    String host = action.string(Action.Attr.FORWARD_HOST);
    Long port = portOf(action.attributes().get(Action.Attr.FORWARD_PORT));
    if (host == null || port == null) {
      // Fail closed: a request that does not say where it leads matches every deny rule and no
      // allow rule that names destinations.
      return effect == Effect.DENY ? null : "the " + v + " forward names no host and port";
    }
    for (Endpoint e : where) {
      if (e.matches(host, port)) {
        return null;
      }
    }
    return (v.equals("remote") ? "listen address " : "destination ")
        + host
        + ":"
        + port
        + " is not in "
        + where;
  }
}
