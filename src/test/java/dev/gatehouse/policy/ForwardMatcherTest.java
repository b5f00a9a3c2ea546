package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.attrs;
import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code forward:}: {@code dynamic} stands for {@code local}, which it cannot be told from; {@code
 * destinations} and {@code listen} narrow local and remote forwards to hosts and ports.
 */
class ForwardMatcherTest {
  private static Decision decideAt(PolicySet p, String type, String host, long port) {
    return Fixtures.decide(
        p,
        human("a"),
        target("host"),
        attrs(ActionKind.FORWARD, "forward", type, "host", host, "port", port));
  }

  private static Effect effect(PolicySet p, String type, String host, long port) {
    return decideAt(p, type, host, port).effect();
  }

  private static List<String> problems(String yaml) {
    PolicyException e =
        catchThrowableOfType(PolicyException.class, () -> PolicySet.parse("p.yaml", yaml));
    assertThat(e).as("expected a PolicyException").isNotNull();
    return e.problems();
  }

  static final String DESTINATIONS =
      """
      rules:
        - id: db
          effect: allow
          forward:
            types: [local]
            destinations:
              - { host: "db-*.internal", ports: [5432, "6000-6009"] }
              - { host: "127.0.0.1" }
        - id: listen
          effect: allow
          forward:
            types: [remote]
            listen: [{ address: localhost, ports: ["8000-8099", 0] }]
      """;

  @Test
  void anAllowRuleWithDestinationsAllowsOnlyThoseHostsAndPorts() {
    PolicySet p = policy(DESTINATIONS);

    assertThat(effect(p, "local", "db-1.internal", 5432)).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "local", "DB-2.Internal.", 6009)).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "local", "127.0.0.1", 22)).isEqualTo(Effect.ALLOW);
    // deny by default: no entry matches
    assertThat(effect(p, "local", "db-1.internal", 22)).isEqualTo(Effect.DENY);
    assertThat(effect(p, "local", "db-1.internal", 6010)).isEqualTo(Effect.DENY);
    assertThat(effect(p, "local", "web.internal", 5432)).isEqualTo(Effect.DENY);
    assertThat(effect(p, "local", "localhost", 22)).isEqualTo(Effect.DENY);
    // the destinations do not leak into remote, which has its own listen list
    assertThat(effect(p, "remote", "db-1.internal", 5432)).isEqualTo(Effect.DENY);
    Decision d = decideAt(p, "local", "web.internal", 5432);
    assertThat(d.reason()).contains("web.internal:5432");
  }

  @Test
  void aDynamicRequestIsHeldToTheDestinationsToo() {
    // The gateway sends -D connections as local ones; a policy test may name them dynamic.
    PolicySet p =
        policy(
            "rules: [{ id: socks, effect: allow, forward: { types: [dynamic],"
                + " destinations: [{ host: db, ports: [5432] }] } }]");
    assertThat(effect(p, "dynamic", "db", 5432)).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "dynamic", "elsewhere", 5432)).isEqualTo(Effect.DENY);
    assertThat(decideAt(p, "dynamic", "elsewhere", 5432).reason()).contains("elsewhere:5432");
  }

  @Test
  void anAllowRuleWithListenAllowsOnlyThoseBindAddressesAndPorts() {
    PolicySet p = policy(DESTINATIONS);

    assertThat(effect(p, "remote", "localhost", 8080)).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "remote", "localhost", 0)).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "remote", "localhost", 9000)).isEqualTo(Effect.DENY);
    // "" is every address on the target (RFC 4254 section 7.1): not localhost
    assertThat(effect(p, "remote", "", 8080)).isEqualTo(Effect.DENY);
    assertThat(effect(p, "remote", "0.0.0.0", 8080)).isEqualTo(Effect.DENY);
  }

  @Test
  void aDenyRuleWithDestinationsRefusesOnlyThoseAndFailsClosedWithoutAHost() {
    PolicySet p =
        policy(
            """
            rules:
              - { id: all, effect: allow, forward: {} }
              - id: no-ssh
                effect: deny
                forward: { types: [local], destinations: [{ ports: [22] }] }
            """);

    assertThat(effect(p, "local", "anything", 22)).isEqualTo(Effect.DENY);
    assertThat(effect(p, "local", "anything", 80)).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "remote", "localhost", 22)).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "agent")).isEqualTo(Effect.ALLOW);
    // a local action that does not say where it leads matches the deny rule
    assertThat(effect(p, "local")).isEqualTo(Effect.DENY);
  }

  @Test
  void aPolicyTestCanGiveTheHostAndPort() {
    PolicySet p = policy(DESTINATIONS);
    Action a =
        RequestSpec.actions(
                java.util.Map.of(
                    "kind", "forward", "forward", "local", "host", "db-7.internal", "port", 5432),
                null,
                null)
            .get(0);
    assertThat(Fixtures.decide(p, human("a"), target("host"), a).effect()).isEqualTo(Effect.ALLOW);
  }

  @Test
  void badPortsHostsAndTypeCombinationsAreLoadErrors() {
    List<String> problems =
        problems(
            """
            rules:
              - id: a
                effect: allow
                forward:
                  types: [local]
                  destinations:
                    - { host: "db:5432", ports: [0, 70000, "9-1", "80-x", http] }
                    - { host: "[a-" }
                    - {}
              - id: b
                effect: allow
                forward: { destinations: [{ host: db }] }
              - id: c
                effect: deny
                forward: { types: [local, agent], destinations: [{ host: db }] }
              - id: d
                effect: allow
                forward: { types: [local, remote], destinations: [{ host: db }] }
              - id: e
                effect: allow
                forward: { types: [remote], listen: [] }
              - id: f
                effect: allow
                forward:
                  types: [remote]
                  destinations: [{ host: db }]
                  listen: [{ ports: [8080] }]
            """);

    assertThat(problems)
        .anySatisfy(
            p ->
                assertThat(p)
                    .contains("destinations[0].host: db:5432 looks like host:port")
                    .contains("{ host: db, ports: [5432] }"))
        .anySatisfy(p -> assertThat(p).contains("ports[0]: 0 (expected a port 1-65535"))
        .anySatisfy(p -> assertThat(p).contains("ports[1]: 70000 (expected a port 1-65535"))
        .anySatisfy(p -> assertThat(p).contains("ports[2]: 9-1 is an empty range"))
        .anySatisfy(p -> assertThat(p).contains("ports[3]: 80-x (expected"))
        .anySatisfy(p -> assertThat(p).contains("ports[4]: http (expected"))
        .anySatisfy(p -> assertThat(p).contains("destinations[1].host").contains("unclosed ["))
        .anySatisfy(p -> assertThat(p).contains("destinations[2]: empty"))
        .anySatisfy(p -> assertThat(p).contains("rules[1] (b)").contains("needs types"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .contains("rules[2] (c)")
                    .contains("agent has no host or port to narrow"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .contains("rules[3] (d)")
                    .contains("remote is not narrowed by destinations"))
        .anySatisfy(p -> assertThat(p).contains("rules[4] (e)").contains("listen: empty"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .contains("rules[5] (f).forward.destinations: apply to local and dynamic"));
  }

  private static Effect socket(PolicySet p, String type, String path) {
    return decide(
            p, human("a"), target("host"), attrs(ActionKind.FORWARD, "forward", type, "path", path))
        .effect();
  }

  static final String SOCKETS =
      """
      rules:
        - id: app
          effect: allow
          forward:
            types: [local]
            destinations:
              - { path: "/run/app/*.sock" }
              - { path: /srv/sockets }
              - { host: 127.0.0.1 }
        - id: no-docker
          effect: deny
          forward:
            types: [local]
            destinations: [{ path: /var/run/docker.sock }]
        - id: remote-socket
          effect: allow
          forward:
            types: [remote]
            listen: [{ path: "/home/*/fwd-*.sock" }]
      """;

  @Test
  void socketPathEntriesNarrowSocketForwardsAndOnlyThem() {
    PolicySet p = policy(SOCKETS);

    assertThat(socket(p, "local", "/run/app/web.sock")).isEqualTo(Effect.ALLOW);
    assertThat(socket(p, "local", "/srv/sockets/a/b.sock")).isEqualTo(Effect.ALLOW);
    // * stops at a slash, and the path is compared normalised: .. cannot climb out of the glob
    assertThat(socket(p, "local", "/run/app/sub/web.sock")).isEqualTo(Effect.DENY);
    assertThat(socket(p, "local", "/run/app/../docker.sock")).isEqualTo(Effect.DENY);
    assertThat(socket(p, "local", "/srv/sockets/../../var/run/docker.sock")).isEqualTo(Effect.DENY);
    // a relative path: no allow rule with destinations, every deny rule with them (fail closed)
    Decision relative =
        decide(
            p,
            human("a"),
            target("host"),
            attrs(ActionKind.FORWARD, "forward", "local", "path", "app.sock"));
    assertThat(relative.effect()).isEqualTo(Effect.DENY);
    assertThat(relative.rule()).isEqualTo("no-docker");
    Decision docker =
        decide(
            p,
            human("a"),
            target("host"),
            attrs(ActionKind.FORWARD, "forward", "local", "path", "/var/run/docker.sock"));
    assertThat(docker.rule()).isEqualTo("no-docker");
    // a TCP entry matches no socket, a socket entry no TCP destination
    assertThat(socket(p, "local", "/127.0.0.1")).isEqualTo(Effect.DENY);
    assertThat(effect(p, "local", "127.0.0.1", 22)).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "local", "localhost", 22)).isEqualTo(Effect.DENY);
    // listen paths for remote, not local, and the other way round
    assertThat(socket(p, "remote", "/home/alice/fwd-1.sock")).isEqualTo(Effect.ALLOW);
    assertThat(socket(p, "remote", "/run/app/web.sock")).isEqualTo(Effect.DENY);
    assertThat(socket(p, "local", "/home/alice/fwd-1.sock")).isEqualTo(Effect.DENY);
    assertThat(
            decide(
                    p,
                    human("a"),
                    target("host"),
                    attrs(ActionKind.FORWARD, "forward", "local", "path", "/tmp/x.sock"))
                .reason())
        .contains("/tmp/x.sock");
    // a rule without path entries allows TCP forwards, never a socket (docker.sock on the target)
    PolicySet any =
        policy("rules: [{ id: l, effect: allow, forward: { types: [local, remote] } }]");
    assertThat(socket(any, "local", "/run/docker.sock")).isEqualTo(Effect.DENY);
    assertThat(socket(any, "remote", "/run/anything.sock")).isEqualTo(Effect.DENY);
    assertThat(
            decide(
                    any,
                    human("a"),
                    target("host"),
                    attrs(ActionKind.FORWARD, "forward", "local", "path", "/run/docker.sock"))
                .reason())
        .contains("unix:/run/docker.sock");
    // nor does forward: {}, nor a rule without matchers (it allows every kind, not sockets)
    PolicySet empty = policy("rules: [{ id: e, effect: allow, forward: {} }]");
    assertThat(socket(empty, "local", "/run/docker.sock")).isEqualTo(Effect.DENY);
    assertThat(socket(empty, "remote", "/run/x.sock")).isEqualTo(Effect.DENY);
    PolicySet everything = policy("rules: [{ id: all, effect: allow }]");
    assertThat(socket(everything, "local", "/run/docker.sock")).isEqualTo(Effect.DENY);
    // ... while a deny rule without entries refuses sockets as it refuses TCP forwards
    PolicySet denyAll =
        policy(
            """
            rules:
              - { id: all, effect: allow, forward: { types: [local], destinations: [{ path: /run }] } }
              - { id: none, effect: deny, forward: { types: [local] } }
            """);
    assertThat(socket(denyAll, "local", "/run/app.sock")).isEqualTo(Effect.DENY);
  }

  @Test
  void aPolicyTestCanGiveTheSocketPath() {
    Action a =
        RequestSpec.actions(
                java.util.Map.of("kind", "forward", "forward", "local", "path", "/run/app/x.sock"),
                null,
                null)
            .get(0);
    assertThat(Fixtures.decide(policy(SOCKETS), human("a"), target("host"), a).effect())
        .isEqualTo(Effect.ALLOW);
  }

  @Test
  void badSocketPathEntriesAreLoadErrors() {
    List<String> problems =
        problems(
            """
            rules:
              - id: a
                effect: allow
                forward:
                  types: [local]
                  destinations:
                    - { path: /run/app.sock, host: db }
                    - { path: relative.sock }
                    - { path: "/run/[a-" }
              - id: b
                effect: allow
                forward:
                  types: [remote]
                  listen: [{ path: /run/x.sock, ports: [80] }]
            """);
    assertThat(problems)
        .anySatisfy(
            p -> assertThat(p).contains("destinations[0]: path with host or ports (expected a"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .contains("destinations[1].path")
                    .contains("expected an absolute path"))
        .anySatisfy(p -> assertThat(p).contains("destinations[2].path").contains("unclosed ["))
        .anySatisfy(p -> assertThat(p).contains("listen[0]: path with address or ports"));
  }

  private static Effect effect(PolicySet p, String type) {
    return decide(p, human("a"), target("host"), attrs(ActionKind.FORWARD, "forward", type))
        .effect();
  }

  @Test
  void aDynamicAllowRuleAllowsLocalActionsButNothingElse() {
    PolicySet p = policy("rules: [{ id: d, effect: allow, forward: { types: [dynamic] } }]");

    assertThat(effect(p, "local")).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "dynamic")).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "remote")).isEqualTo(Effect.DENY);
    assertThat(effect(p, "agent")).isEqualTo(Effect.DENY);
  }

  @Test
  void aDynamicDenyRuleRefusesLocalToo() {
    PolicySet p =
        policy(
            """
            rules:
              - { id: all, effect: allow, forward: {} }
              - { id: no-socks, effect: deny, forward: { types: [dynamic] } }
            """);

    assertThat(effect(p, "local")).isEqualTo(Effect.DENY);
    assertThat(effect(p, "remote")).isEqualTo(Effect.ALLOW);
  }

  @Test
  void aLocalRuleDoesNotAllowTheOtherTypes() {
    PolicySet p = policy("rules: [{ id: l, effect: allow, forward: { types: [LOCAL] } }]");

    assertThat(effect(p, "local")).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, "dynamic")).isEqualTo(Effect.DENY);
    assertThat(effect(p, "remote")).isEqualTo(Effect.DENY);
  }
}
