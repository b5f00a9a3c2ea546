package dev.gatehouse.approval;

import static dev.gatehouse.approval.Kit.CONN;
import static dev.gatehouse.approval.Kit.user;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.approval.Kit.ListAudit;
import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.gate.GrantSource;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.policy.CommandLine;
import dev.gatehouse.policy.ReloadingPolicyEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review 13, F5: the path arguments a protocol checks again on the target (SSH exec, {@code
 * SshCommandPaths}) are those of the policy that decided, not of the one in force when it asks: a
 * reload that keeps the rule's id but gives it {@code args} makes its first word no path argument,
 * and a link given there would never be resolved. A real gate, policy engine and reload; the
 * approval kit's gate is the smallest one to build.
 */
class PathArgumentsAfterReloadTest {
  static final String PATHS =
      """
      rules:
        - id: cat-srv
          effect: allow
          command: { binary: cat, paths: [/srv/**] }
      """;
  static final String ARGS_THEN_PATHS =
      """
      rules:
        - id: cat-srv
          effect: allow
          command: { binary: cat, args: ["*"], paths: [/srv/**] }
      """;

  @Test
  void aCommandDecidedBeforeAReloadHasNoPathArgumentsToTellAfterIt(@TempDir Path dir)
      throws Exception {
    Path file = Files.writeString(dir.resolve("p.yaml"), PATHS);
    ListAudit audit = new ListAudit();
    try (ReloadingPolicyEngine engine = ReloadingPolicyEngine.load(List.of(file.toString()), null);
        Gate gate = Kit.gate(engine, audit, ReviewGate.NONE, GrantSource.NONE, Clock.systemUTC())) {
      GateSession s = gate.open(user("sue", "ops"), CONN, "postgres", "127.0.0.1");
      AuthorizedAction cat =
          s.authorize(CommandLine.parse("cat /srv/link /srv/b").toAction(), null);
      assertThat(s.pathArguments(cat)).containsExactly("/srv/link", "/srv/b");

      Files.writeString(file, ARGS_THEN_PATHS);
      assertThat(engine.reload()).isTrue();

      // the reloaded rule constrains only /srv/b; the deciding one constrained both
      assertThat(engine.pathArguments("cat-srv", cat.action())).containsExactly("/srv/b");
      assertThat(s.pathArguments(cat)).as("cannot tell: the caller refuses").isNull();
      assertThat(s.stale(cat)).isTrue();
      // decided under the new policy: its words
      AuthorizedAction now =
          s.authorize(CommandLine.parse("cat /srv/link /srv/b").toAction(), null);
      assertThat(s.pathArguments(now)).containsExactly("/srv/b");
    }
  }
}
