package dev.gatehouse.ssh;

import dev.gatehouse.config.GatehouseConfig.SshTargetConfig;
import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.CommandLine;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where an allowed exec request's path arguments really lead on the target (issue #6). A rule's
 * {@code command.paths} compares the words as written ({@code /var/log/s.log}); the target's kernel
 * follows symbolic links, so a link inside an allowed directory that points outside it ({@code
 * s.log -> /etc/shadow}) let {@code cat /var/log/s.log} print the file outside. So after the policy
 * allowed a command by a rule whose {@code paths} constrained some of its words ({@link
 * GateSession#pathArguments}), each of them is resolved on the target as the file relays resolve
 * theirs ({@link SftpPathResolver}: component by component over a second {@code sftp} channel of
 * the same upstream session, the same account and login directory, so a relative word starts where
 * the command starts). A program may follow a final link ({@code cat}) or act on the link itself
 * ({@code rm}, {@code ls -l}): both places count ({@link SftpPathResolver#resolveEither}).
 *
 * <p>When a real path differs from the word as the policy compared it, the policy is asked again
 * for the command with the real paths in place of the words (recorded like any decision): the
 * deciding rule's {@code paths} and every deny rule's see where the command will act. It must be
 * allowed, not held for review (the client would be waiting for a second approval it did not ask
 * for), and the rule allowing it must constrain no word that was not resolved. The command itself
 * runs as typed: the real paths are only for checking.
 *
 * <p>Refusals are exit status 126 with one stderr line. A denied real path and one the target
 * cannot place (a missing directory on the way, an unreadable link, too many links) get the same
 * line, naming the word as typed: telling them apart would tell a client that made a link what
 * exists outside the allowed tree. The precise reason is in the audit record ({@code
 * exec.refused}). A target whose {@code sftp} subsystem cannot be opened refuses every command with
 * path arguments (fail closed) unless the connection sets {@code ssh.resolve_command_paths: false}.
 *
 * <p>What this cannot close, as for the file relays: the check and the command are two steps;
 * someone who can change links in the allowed tree meanwhile (another session, a process on the
 * target) can still race it. Lines run by a shell ({@code shell: true}) are refused under a rule
 * with {@code paths}: the shell expands their words into paths no one checked.
 */
final class SshCommandPaths {
  private static final Logger log = LoggerFactory.getLogger(SshCommandPaths.class);

  private SshCommandPaths() {}

  /** The client's line when the target cannot be asked at all (no sftp subsystem, no channel). */
  static final String CANNOT_CHECK =
      "command refused: the gateway cannot check on the target where the command's paths lead";

  /**
   * The client's line for a path argument whose real location is denied or cannot be placed: the
   * same for both (see the class comment).
   */
  static String unplaced(String word) {
    return "command refused: where \""
        + word
        + "\" leads on the target is not allowed, or cannot be told";
  }

  /**
   * Checks where the path arguments of {@code authorized} (an exec request on {@code conn}) lead on
   * the target of {@code up}. Returns null when the command may run; otherwise the line for the
   * client, after the refusal was recorded ({@code exec.refused}, and the authorized action
   * completed as refused).
   */
  static String check(SshConnection conn, AuthorizedAction authorized, SshUpstream up) {
    GateSession gate = conn.gate();
    SshTargetConfig cfg = gate.connection().ssh();
    if (cfg != null && !cfg.resolveCommandPaths()) {
      return null;
    }
    Action action = authorized.action();
    List<String> words = gate.pathArguments(authorized);
    if (words == null) {
      return refuse(
          gate,
          authorized,
          action.flag(Action.Attr.CMD_NEEDS_SHELL)
              ? "a line run by a shell under a rule with paths: the shell expands its words into"
                  + " paths that cannot be checked where they lead on the target"
              : "the policy was reloaded since it allowed the command, or its engine cannot"
                  + " tell, so the path arguments its rule constrained cannot be told",
          CANNOT_CHECK);
    }
    if (words.isEmpty()) {
      return null;
    }
    Map<String, List<String>> reals = new LinkedHashMap<>();
    try (SftpPathResolver resolver =
        new SftpPathResolver(() -> SshTransferCommand.pathChannel(up))) {
      for (String w : new LinkedHashSet<>(words)) {
        try {
          reals.put(w, resolver.resolveEither(w));
        } catch (SftpPathResolver.Unresolved e) {
          return refuse(
              gate,
              authorized,
              "cannot tell where \"" + w + "\" is: " + e.getMessage(),
              unplaced(w));
        }
      }
    } catch (IOException e) {
      log.warn("path check on the target of {} failed: {}", gate.connection().name(), e.toString());
      return refuse(
          gate,
          authorized,
          "the target's sftp server, which places path arguments, cannot be asked: " + e,
          CANNOT_CHECK);
    }
    String first = null; // the first word that leads elsewhere, named to the client
    Set<String> checked = new HashSet<>();
    for (Map.Entry<String, List<String>> e : reals.entrySet()) {
      for (String real : e.getValue()) {
        checked.add(real);
        if (first == null && !real.equals(SftpRelay.normalize(null, e.getKey()))) {
          first = e.getKey();
        }
      }
    }
    if (first == null) {
      return null; // every word is where it says: the policy has seen the real paths
    }
    List<String> argv = action.list(Action.Attr.CMD_ARGV);
    Set<List<String>> variants = new LinkedHashSet<>();
    variants.add(substituted(argv, reals, 0)); // where final links lead
    variants.add(substituted(argv, reals, 1)); // the final links themselves
    for (List<String> variant : variants) {
      Map<String, Object> attrs = new HashMap<>(action.attributes());
      attrs.put(Action.Attr.CMD_ARGV, variant);
      Action real = new Action(ActionKind.COMMAND, CommandLine.quote(variant), attrs);
      AuthorizedAction again;
      try {
        // not held for review: the client asked for one decision, and waits for the command
        again = gate.authorize(real, null);
      } catch (GateException e) {
        return refuse(
            gate, authorized, "where the paths really lead: " + e.getMessage(), unplaced(first));
      }
      List<String> constrained = gate.pathArguments(again);
      if (constrained == null || !checked.containsAll(constrained)) {
        gate.completed(
            again, false, "refused: its rule constrains words that were not resolved", 0);
        return refuse(
            gate,
            authorized,
            "where the paths really lead, rule "
                + again.decision().rule()
                + " allows the command, and its paths constrain words that were not resolved",
            unplaced(first));
      }
      gate.completed(again, true, "paths checked on the target", 0);
    }
    return null;
  }

  /**
   * {@code argv} with every word after argv[0] that is a resolved path argument replaced by its
   * real path number {@code which} (the only one when there is one). Every occurrence: a word that
   * is also an option's value is then checked as a path too, never less.
   */
  private static List<String> substituted(
      List<String> argv, Map<String, List<String>> reals, int which) {
    List<String> out = new ArrayList<>(argv.size());
    for (int i = 0; i < argv.size(); i++) {
      List<String> r = i == 0 ? null : reals.get(argv.get(i));
      out.add(r == null ? argv.get(i) : r.get(Math.min(which, r.size() - 1)));
    }
    return List.copyOf(out);
  }

  /**
   * Records the refusal ({@code exec.refused} with the precise reason); returns the client line.
   */
  private static String refuse(
      GateSession gate, AuthorizedAction authorized, String reason, String told) {
    String masked = gate.maskStored(reason);
    SshForwarding.audit(
        gate,
        "exec.refused",
        Map.of("command", gate.maskStored(authorized.action().raw()), "reason", masked));
    gate.completed(authorized, false, "refused: " + masked, 0);
    return told;
  }
}
