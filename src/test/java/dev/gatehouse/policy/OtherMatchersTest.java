package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.attrs;
import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OtherMatchersTest {
  private static Effect effect(PolicySet p, Action a) {
    return decide(p, human("a"), target("host"), a).effect();
  }

  @Test
  void fileMatcherChecksNormalisedPathsAndOps() {
    PolicySet p =
        policy(
            """
            rules:
              - id: read-logs
                effect: allow
                file: { paths: [/var/log, "/srv/*/public/**"], ops: [read] }
            """);

    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/var/log/syslog", "op", "read")))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/srv/app/public/a/b.css", "op", "read")))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/var/log/syslog", "op", "write")))
        .isEqualTo(Effect.DENY);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/var/log/../../etc/shadow", "op", "read")))
        .isEqualTo(Effect.DENY);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "var/log/x", "op", "read")))
        .isEqualTo(Effect.DENY);
    // the read group covers browsing; deleting and unknown ops are not reads
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/var/log", "op", "list")))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/var/log/syslog", "op", "stat")))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/var/log/syslog", "op", "remove")))
        .isEqualTo(Effect.DENY);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/var/log/syslog", "op", "chown")))
        .isEqualTo(Effect.DENY);
  }

  @Test
  void fileOpGroupsAndDenyRulesOnUnknownOps() {
    PolicySet p =
        policy(
            """
            rules:
              - id: no-odd-ops
                effect: deny
                file: { paths: [/srv], ops: [delete] }
              - id: uploads
                effect: allow
                file: { paths: [/srv], ops: [write, rename] }
            """);

    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/srv/a", "op", "write")))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/srv/d", "op", "mkdir")))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/srv/a", "op", "symlink")))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/srv/a", "op", "rmdir")))
        .isEqualTo(Effect.DENY);
    assertThat(effect(p, attrs(ActionKind.FILE, "path", "/srv/a", "op", "read")))
        .isEqualTo(Effect.DENY);
  }

  @Test
  void httpMatcherChecksMethodsAndPathGlobs() {
    PolicySet p =
        policy(
            """
            rules:
              - id: api-read
                effect: allow
                http: { methods: [GET, head], paths: ["/api/*/items", "/public/**"] }
            """);

    assertThat(effect(p, attrs(ActionKind.HTTP, "method", "GET", "path", "/api/v1/items?x=1")))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.HTTP, "method", "HEAD", "path", "/public/a/b")))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.HTTP, "method", "POST", "path", "/api/v1/items")))
        .isEqualTo(Effect.DENY);
    assertThat(effect(p, attrs(ActionKind.HTTP, "method", "GET", "path", "/api/v1/x/items")))
        .isEqualTo(Effect.DENY);
    assertThat(effect(p, attrs(ActionKind.HTTP, "method", "GET", "path", "/public/../admin")))
        .isEqualTo(Effect.DENY);
  }

  @Test
  void mcpMatcherChecksToolGlobs() {
    PolicySet p =
        policy("rules: [{ id: t, effect: allow, mcp: { tools: [\"search_*\", fetch] } }]");

    assertThat(effect(p, attrs(ActionKind.MCP, "tool", "search_docs"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.MCP, "tool", "fetch"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.MCP, "tool", "delete_repo"))).isEqualTo(Effect.DENY);
  }

  @Test
  void forwardMatcherChecksTypes() {
    PolicySet p = policy("rules: [{ id: f, effect: allow, forward: { types: [local, agent] } }]");

    assertThat(effect(p, attrs(ActionKind.FORWARD, "forward", "local"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.FORWARD, "forward", "agent"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, attrs(ActionKind.FORWARD, "forward", "remote"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, attrs(ActionKind.FORWARD, "forward", "x11"))).isEqualTo(Effect.DENY);
  }

  @Test
  void shellMatcherAllowsInteractiveShellsOnly() {
    PolicySet p = policy("rules: [{ id: s, effect: allow, shell: {} }]");

    assertThat(effect(p, attrs(ActionKind.SHELL))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, Fixtures.command("ls"))).isEqualTo(Effect.DENY);
  }
}
