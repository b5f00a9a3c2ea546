package dev.gatehouse.ssh;

import dev.gatehouse.config.GatehouseConfig.SshTargetConfig;
import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.CommandLine;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
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
 * <p>A command held for review is checked so before its review is filed ({@link #beforeReview}):
 * the second decision may then be a review by the same rule, the reviewers are shown the real paths
 * (and their approval's fingerprint binds them), and once approved the paths are resolved again and
 * must lead where they were shown (a link swapped while the command was held refuses it).
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
   * What a command held for review was checked against before its review was filed: the real paths
   * of every word the holding rule's {@code paths} constrain, and the action to file, which shows
   * the reviewers where the words that lead elsewhere lead ({@link Action.Attr#CMD_REAL_PATHS}).
   */
  record Held(Action action, Map<String, List<String>> reals) {}

  /** A refusal already recorded; its message is the client's line. */
  static final class Refused extends Exception {
    Refused(String told) {
      super(told, null, false, false);
    }
  }

  /**
   * Before {@code action} is held for review ({@code held}, a decision {@link GateSession#check}
   * took): resolves the path arguments the holding rule constrains on the target, and decides again
   * with the real paths, as {@link #check} does for an allowed command, so that reviewers see, and
   * their approval's fingerprint covers, where the command will act. The second decision must admit
   * it: a review by the same rule, or an allow. Returns what to file and compare after approval
   * (null when the connection does not resolve paths); throws, after recording the refusal, when
   * the command cannot run whatever a reviewer says: no review is filed then.
   */
  static Held beforeReview(SshConnection conn, Action action, Decision held)
      throws Refused, GateException {
    GateSession gate = conn.gate();
    if (!resolving(gate)) {
      return null;
    }
    List<String> words = gate.pathArguments(held, action);
    if (words == null) {
      throw refuseHeld(gate, action, held, cannotTell(action), CANNOT_CHECK);
    }
    if (words.isEmpty()) {
      return new Held(action, Map.of());
    }
    Map<String, List<String>> reals;
    try {
      reals = resolve(gate, words, conn.upstream());
    } catch (GateException e) {
      throw refuseHeld(gate, action, held, e.getMessage(), e.getMessage());
    } catch (Unplaced e) {
      throw refuseHeld(gate, action, held, e.reason, e.told);
    }
    String first = firstElsewhere(reals);
    if (first == null) {
      return new Held(action, reals);
    }
    Set<String> checked = realPaths(reals);
    for (Action real : variants(action, reals)) {
      Decision again = gate.check(real);
      String why = null;
      if (again.effect() == Effect.DENY) {
        why = "denied by rule " + again.rule() + ": " + again.reason();
        try {
          // recorded as any denial is (authorize records it, then refuses)
          gate.completed(gate.authorize(real, null), false, "refused: denied", 0);
        } catch (GateException e) {
          why = e.getMessage();
        }
      } else if (again.effect() == Effect.REVIEW && !again.rule().equals(held.rule())) {
        why = "rule " + again.rule() + " holds it for review, not rule " + held.rule();
      } else {
        List<String> constrained = gate.pathArguments(again, real);
        if (constrained == null || !checked.containsAll(constrained)) {
          why =
              "rule "
                  + again.rule()
                  + " admits the command, and its paths constrain words that were not resolved";
        }
      }
      if (why != null) {
        throw refuseHeld(
            gate, action, held, "where the paths really lead: " + why, unplaced(first));
      }
    }
    List<String> shown = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : reals.entrySet()) {
      List<String> r = e.getValue();
      if (elsewhere(e.getKey(), r)) {
        shown.add(
            "\""
                + e.getKey()
                + "\" -> "
                + r.get(0)
                + (r.size() > 1 ? " (the link itself: " + r.get(1) + ")" : ""));
      }
    }
    return new Held(action.with(Action.Attr.CMD_REAL_PATHS, List.copyOf(shown)), reals);
  }

  /**
   * What reviewers are shown for a held command: the line as typed, and where its path arguments
   * lead when that is elsewhere ({@link #beforeReview}).
   */
  static String shown(Action action) {
    List<String> real = action.list(Action.Attr.CMD_REAL_PATHS);
    return real.isEmpty()
        ? action.raw()
        : action.raw() + "\n# where its paths lead on the target: " + String.join(", ", real);
  }

  /**
   * Checks where the path arguments of {@code authorized} (an exec request on {@code conn}) lead on
   * the target of {@code up}. Returns null when the command may run; otherwise the line for the
   * client, after the refusal was recorded ({@code exec.refused}, and the authorized action
   * completed as refused). An approved command ({@code held}: what {@link #beforeReview} resolved
   * before its review was filed) runs only when its paths still lead where the reviewers were shown
   * (a link swapped while it was held is refused, fail closed); its second decision may be a review
   * by the same rule, which the approval covers.
   */
  static String check(SshConnection conn, AuthorizedAction authorized, SshUpstream up, Held held) {
    GateSession gate = conn.gate();
    if (!resolving(gate)) {
      return null;
    }
    Action action = authorized.action();
    List<String> words = gate.pathArguments(authorized);
    if (words == null) {
      return refuse(gate, authorized, cannotTell(action), CANNOT_CHECK);
    }
    boolean approved = authorized.reviewId() != null;
    if (words.isEmpty() && (!approved || held == null || held.reals().isEmpty())) {
      return null;
    }
    if (approved && held == null) {
      // held by a policy reloaded after the gateway looked: its paths were not shown to anyone
      return refuse(
          gate,
          authorized,
          "the command was held for review by a policy loaded after its paths were checked",
          CANNOT_CHECK);
    }
    Map<String, List<String>> reals;
    try {
      reals = resolve(gate, words, up);
    } catch (Unplaced e) {
      return refuse(gate, authorized, e.reason, e.told);
    }
    String first = firstElsewhere(reals);
    if (approved && !reals.equals(held.reals())) {
      String changed = first;
      for (String w : reals.keySet()) {
        if (!reals.get(w).equals(held.reals().get(w))) {
          changed = w;
          break;
        }
      }
      return refuse(
          gate,
          authorized,
          "where the paths lead changed while the command was held for review: before "
              + held.reals()
              + ", now "
              + reals,
          changed == null ? CANNOT_CHECK : changedWhileHeld(changed));
    }
    if (first == null) {
      return null; // every word is where it says: the policy has seen the real paths
    }
    Set<String> checked = realPaths(reals);
    for (Action real : variants(action, reals)) {
      AuthorizedAction again;
      try {
        // not held for review: the client asked for one decision, and waits for the command; a
        // review by the rule that held it is covered by its approval (the reviewers saw these)
        again = gate.authorizeUnder(real, authorized);
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

  /** The client's line when a path argument leads elsewhere than when the command was held. */
  static String changedWhileHeld(String word) {
    return "command refused: where \""
        + word
        + "\" leads on the target changed while the command was held for review; run it again";
  }

  private static boolean resolving(GateSession gate) {
    SshTargetConfig cfg = gate.connection().ssh();
    return cfg == null || cfg.resolveCommandPaths();
  }

  private static String cannotTell(Action action) {
    return action.flag(Action.Attr.CMD_NEEDS_SHELL)
        ? "a line run by a shell under a rule with paths: the shell expands its words into"
            + " paths that cannot be checked where they lead on the target"
        : "the policy was reloaded since it decided on the command, or its engine cannot"
            + " tell, so the path arguments its rule constrained cannot be told";
  }

  /** A path argument that cannot be placed, or a target that cannot be asked. */
  private static final class Unplaced extends Exception {
    final String reason;
    final String told;

    Unplaced(String reason, String told) {
      super(reason, null, false, false);
      this.reason = reason;
      this.told = told;
    }
  }

  /** Each of {@code words} resolved on the target of {@code up}, in order. */
  private static Map<String, List<String>> resolve(
      GateSession gate, List<String> words, SshUpstream up) throws Unplaced {
    Map<String, List<String>> reals = new LinkedHashMap<>();
    try (SftpPathResolver resolver =
        new SftpPathResolver(() -> SshTransferCommand.pathChannel(up))) {
      for (String w : new LinkedHashSet<>(words)) {
        try {
          reals.put(w, resolver.resolveEither(w));
        } catch (SftpPathResolver.Unresolved e) {
          throw new Unplaced("cannot tell where \"" + w + "\" is: " + e.getMessage(), unplaced(w));
        }
      }
    } catch (IOException e) {
      log.warn("path check on the target of {} failed: {}", gate.connection().name(), e.toString());
      throw new Unplaced(
          "the target's sftp server, which places path arguments, cannot be asked: " + e,
          CANNOT_CHECK);
    }
    return reals;
  }

  private static boolean elsewhere(String word, List<String> reals) {
    for (String real : reals) {
      if (!real.equals(SftpRelay.normalize(null, word))) {
        return true;
      }
    }
    return false;
  }

  /** The first word that leads elsewhere, named to the client; null when none does. */
  private static String firstElsewhere(Map<String, List<String>> reals) {
    for (Map.Entry<String, List<String>> e : reals.entrySet()) {
      if (elsewhere(e.getKey(), e.getValue())) {
        return e.getKey();
      }
    }
    return null;
  }

  private static Set<String> realPaths(Map<String, List<String>> reals) {
    Set<String> checked = new HashSet<>();
    reals.values().forEach(checked::addAll);
    return checked;
  }

  /**
   * The command with the real paths in place of the words: where final links lead, and the final
   * links themselves (one action when they are the same).
   */
  private static Set<Action> variants(Action action, Map<String, List<String>> reals) {
    List<String> argv = action.list(Action.Attr.CMD_ARGV);
    Set<List<String>> argvs = new LinkedHashSet<>();
    argvs.add(substituted(argv, reals, 0)); // where final links lead
    argvs.add(substituted(argv, reals, 1)); // the final links themselves
    Set<Action> out = new LinkedHashSet<>();
    for (List<String> variant : argvs) {
      Map<String, Object> attrs = new HashMap<>(action.attributes());
      attrs.put(Action.Attr.CMD_ARGV, variant);
      attrs.remove(Action.Attr.CMD_REAL_PATHS);
      out.add(new Action(ActionKind.COMMAND, CommandLine.quote(variant), attrs));
    }
    return out;
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
    gate.approvalNotExecuted(authorized, "refused: " + masked);
    return told;
  }

  /**
   * Records the refusal of a command {@code held} would hold for review, before any review is filed
   * ({@code exec.refused}, and the decision as refused); returns the client's line.
   */
  private static Refused refuseHeld(
      GateSession gate, Action action, Decision held, String reason, String told) {
    String masked = gate.maskStored(reason);
    SshForwarding.audit(
        gate, "exec.refused", Map.of("command", gate.maskStored(action.raw()), "reason", masked));
    try {
      gate.refusedBeforeReview(action, held, "refused before review: " + reason);
    } catch (GateException e) {
      log.warn("cannot record a refused command: {}", e.getMessage());
    }
    return new Refused(told);
  }
}
