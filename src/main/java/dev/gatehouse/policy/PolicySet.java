package dev.gatehouse.policy;

import dev.gatehouse.identity.Principal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An immutable, validated snapshot of the policy: the rules of all files, compiled and indexed.
 *
 * <p>Precedence: any matching deny wins, then review, then allow; among rules of one effect the
 * first in file order decides. Nothing matching is a deny by {@code default-deny}.
 *
 * <p>Speed: at load time every rule is entered in bitsets keyed by user, group and connection name
 * (rules with wildcards or no constraint go to "scan" sets). A decision ORs and ANDs a handful of
 * bitsets to find the few candidate rules, then checks only those, in file order. Only candidates
 * produce explanation lines.
 */
public final class PolicySet implements PolicyEngine {
  private static final Logger log = LoggerFactory.getLogger(PolicySet.class);
  private static final long[] EMPTY_BITS = new long[0];

  private final Rule[] rules;
  private final List<String> files;
  private final String digest;
  private final int words;
  private final Map<String, long[]> byUser = new HashMap<>();
  private final Map<String, long[]> byGroup = new HashMap<>();
  private final long[] subjectScan;
  private final Map<String, long[]> byConnection = new HashMap<>();
  private final long[] connectionScan;
  private final long[][] byKind = new long[ActionKind.values().length][];

  private PolicySet(List<Rule> rules, List<String> files, String digest) {
    this.rules = rules.toArray(new Rule[0]);
    this.files = List.copyOf(files);
    this.digest = digest;
    this.words = Math.max(1, (this.rules.length + 63) / 64);
    this.subjectScan = new long[words];
    this.connectionScan = new long[words];
    for (int k = 0; k < byKind.length; k++) {
      byKind[k] = new long[words];
    }
    for (Rule r : this.rules) {
      int i = r.index;
      if (r.anySubject() || !r.userGlobs.isEmpty() || !r.groupGlobs.isEmpty()) {
        set(subjectScan, i);
      }
      for (String u : r.users) {
        set(byUser.computeIfAbsent(u, k -> new long[words]), i);
      }
      for (String g : r.groups) {
        set(byGroup.computeIfAbsent(g, k -> new long[words]), i);
      }
      boolean scan = r.names == null;
      if (!scan) {
        for (Glob g : r.names) {
          if (g.isLiteral()) {
            set(byConnection.computeIfAbsent(g.literal(), k -> new long[words]), i);
          } else {
            scan = true;
          }
        }
      }
      if (scan) {
        set(connectionScan, i);
      }
      for (ActionKind k : ActionKind.values()) {
        if (k == ActionKind.CONNECT || r.matchers.isEmpty() || r.matchers.containsKey(k)) {
          set(byKind[k.ordinal()], i);
        }
      }
    }
  }

  private static void set(long[] bits, int i) {
    bits[i >>> 6] |= 1L << (i & 63);
  }

  /**
   * Loads and validates every file matched by the globs (in order; files of one glob sorted).
   *
   * @throws PolicyException listing every problem with file:line, or a glob that matches nothing
   */
  public static PolicySet load(List<String> fileGlobs) throws PolicyException {
    List<String> errors = new ArrayList<>();
    List<PolicyFiles.Source> sources =
        PolicyFiles.read(PolicyFiles.resolve(fileGlobs, errors), errors);
    if (!errors.isEmpty()) {
      throw new PolicyException(errors);
    }
    return fromSources(sources);
  }

  /**
   * Parses policy YAML held in memory (tests, the API's policy check, benchmarks).
   *
   * @param name shown in error messages and explanations in place of a file name
   */
  public static PolicySet parse(String name, String yaml) throws PolicyException {
    return fromSources(List.of(new PolicyFiles.Source(name, null, yaml)));
  }

  static PolicySet fromSources(List<PolicyFiles.Source> sources) throws PolicyException {
    List<String> errors = new ArrayList<>();
    List<Rule> rules = new ArrayList<>();
    Map<String, Rule> ids = new HashMap<>();
    MessageDigest sha = sha256();
    Map<String, Condition> conditions = new HashMap<>();
    for (PolicyFiles.Source s : sources) {
      YamlReader r = new YamlReader(s.name(), errors);
      for (Rule rule : RuleParser.parse(r, s.text(), rules.size(), conditions)) {
        Rule first = ids.putIfAbsent(rule.id, rule);
        if (first != null) {
          errors.add(
              rule.file
                  + ":"
                  + rule.line
                  + ": rule id \""
                  + rule.id
                  + "\" is already used at "
                  + first.file
                  + ":"
                  + first.line
                  + " (rule ids must be unique across all policy files)");
          continue;
        }
        rules.add(rule);
      }
      sha.update(s.name().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(s.text().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
    }
    if (!errors.isEmpty()) {
      throw new PolicyException(errors);
    }
    // indexes must be dense: duplicates were skipped, so renumber
    List<Rule> dense = new ArrayList<>(rules.size());
    for (Rule r : rules) {
      dense.add(r.index == dense.size() ? r : renumber(r, dense.size()));
    }
    return new PolicySet(
        dense,
        sources.stream().map(PolicyFiles.Source::name).toList(),
        HexFormat.of().formatHex(sha.digest()));
  }

  private static Rule renumber(Rule r, int index) {
    return new Rule(
        index,
        r.id,
        r.description,
        r.file,
        r.line,
        r.effect,
        r.reason,
        r.users,
        r.userGlobs,
        r.groups,
        r.groupGlobs,
        r.kinds,
        r.names,
        r.types,
        r.labels,
        r.matchers,
        r.obligations,
        r.review,
        r.when);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Number of rules. */
  public int size() {
    return rules.length;
  }

  /** Files the rules came from, in load order. */
  public List<String> files() {
    return files;
  }

  /** SHA-256 over file names and contents, to show which policy version decided. */
  public String digest() {
    return digest;
  }

  /** Rule ids in evaluation (file) order. */
  public List<String> ruleIds() {
    List<String> ids = new ArrayList<>(rules.length);
    for (Rule r : rules) {
      ids.add(r.id);
    }
    return ids;
  }

  /**
   * The words of a command action that rule {@code ruleId}'s {@code command.paths} constrained when
   * it decided the action; see {@link PolicyEngine#pathArguments}.
   */
  @Override
  public List<String> pathArguments(String ruleId, Action action) {
    for (Rule r : rules) {
      if (r.id.equals(ruleId)) {
        return r.matchers.get(ActionKind.COMMAND) instanceof CommandMatcher m
            ? m.pathArguments(action)
            : List.of();
      }
    }
    return null;
  }

  @Override
  public Decision decide(PolicyRequest request) {
    try {
      return evaluate(request);
    } catch (RuntimeException e) {
      // An engine must never throw for a request; an internal failure is a denial (fail closed).
      log.error("policy evaluation failed; denying", e);
      return Decision.deny(
          "policy-error",
          "the policy could not be evaluated",
          List.of("internal error while evaluating: " + e));
    } finally {
      CommandMatcher.endDecision(); // the action it remembered while checking rules
    }
  }

  private Decision evaluate(PolicyRequest req) {
    Principal p = req.principal();
    Target t = req.target();
    Action a = req.action();
    if (p == null || t == null || a == null) {
      return Decision.deny(
          Decision.DEFAULT_DENY,
          "incomplete request (principal, connection and action are all required)",
          List.of("request is missing its principal, connection or action"));
    }
    if (a.kind() == ActionKind.COMMAND) {
      String unsafe =
          ArgvSafety.problem(a.list(Action.Attr.CMD_ARGV), a.string(Action.Attr.CMD_BINARY));
      if (unsafe != null) {
        return Decision.deny(
            ArgvSafety.RULE,
            "command denied: " + unsafe,
            List.of(
                "the command is treated as the most dangerous kind and denied before any rule: "
                    + unsafe));
      }
    }
    long[] cand = candidates(p, t, a.kind());
    boolean connect = a.kind() == ActionKind.CONNECT;
    boolean unknownSql = a.kind() == ActionKind.SQL && unknownSql(a);
    boolean socketForward =
        a.kind() == ActionKind.FORWARD && a.attributes().get(Action.Attr.FORWARD_PATH) != null;
    List<String> explain = new ArrayList<>();
    Map<String, Object> vars = null;
    Map<Condition, Object> results = null; // rules sharing a condition evaluate it once
    Rule deny = null;
    Rule review = null;
    Rule allow = null;
    List<Rule> granting = connect ? new ArrayList<>(4) : null;
    int skipped = 0;
    Obligations merged = null; // CONNECT: obligations merged from the granting rules so far
    scan:
    for (int w = 0; w < words; w++) {
      long bits = cand[w];
      while (bits != 0) {
        int i = (w << 6) + Long.numberOfTrailingZeros(bits);
        bits &= bits - 1;
        Rule r = rules[i];
        if (!r.subjectMatches(p) || !r.connectionMatches(t)) {
          continue;
        }
        // Once a review (or allow) rule decides, later rules of that effect or a weaker one cannot
        // change the outcome; only a deny could. Skipping them also skips their CEL conditions.
        if (!connect
            && r.effect != Effect.DENY
            && (review != null || (allow != null && r.effect == Effect.ALLOW))) {
          skipped++;
          continue;
        }
        String why = null;
        if (connect) {
          if (r.effect == Effect.DENY && !r.matchers.isEmpty()) {
            why = "denies only some actions (it has per-kind matchers), not the connection";
          }
        } else if (!r.matchers.isEmpty()) {
          why = r.matchers.get(a.kind()).mismatch(a, r.effect);
        } else if (socketForward && r.effect != Effect.DENY) {
          // A rule without matchers allows every action kind, but a Unix socket on the target is
          // allowed only by a rule that names its path (ForwardMatcher).
          why = ForwardMatcher.NO_SOCKET_PATHS;
        } else if (unknownSql && r.effect != Effect.DENY) {
          why =
              "the statement is unknown or unparsed: only a rule whose sql.statements lists"
                  + " unknown or \"*\" can "
                  + (r.effect == Effect.REVIEW ? "review" : "allow")
                  + " it";
        }
        if (why != null) {
          explain.add(r.label + ": no match: " + why);
          continue;
        }
        if (r.when != null
            && connect
            && r.effect != Effect.DENY
            && merged != null
            && merged.equals(mergeConnect(granting, r))) {
          // The session is already allowed and this rule could not change the merged
          // obligations, so its condition cannot change the answer: skip the CEL evaluation.
          explain.add(r.connectSkipLine);
          continue;
        }
        if (r.when != null) {
          if (vars == null) {
            vars = Condition.variables(req);
          }
          if (results == null) {
            results = new IdentityHashMap<>(4);
          }
          String cond = condition(r, vars, results);
          if (cond != null) {
            explain.add(r.label + ": " + cond);
            if (!cond.startsWith("matches")) {
              continue;
            }
          } else {
            explain.add(r.matchesWhenLine);
          }
        } else {
          explain.add(r.matchesLine);
        }
        switch (r.effect) {
          case DENY -> {
            deny = r;
            break scan; // the first matching deny decides; nothing later can change that
          }
          case REVIEW -> {
            if (review == null) {
              review = r;
            }
            if (connect) {
              granting.add(r);
              merged = mergeConnect(granting);
            }
          }
          case ALLOW -> {
            if (allow == null) {
              allow = r;
            }
            if (connect) {
              granting.add(r);
              merged = mergeConnect(granting);
            }
          }
        }
      }
    }
    if (skipped > 0) {
      explain.add(
          skipped
              + " later allow/review rule(s) not evaluated: an earlier "
              + (review != null ? "review" : "allow")
              + " rule already decides unless a deny matches");
    }
    Parts parts = null;
    if (deny == null && review != null && a.kind() == ActionKind.SQL && !unknownSql) {
      parts = otherParts(req, cand, review, explain, results);
      if (parts != null && parts.unadmitted() != null) {
        return denyPart(req, review, parts, explain);
      }
    }
    return conclude(req, explain, deny, review, parts, allow, granting);
  }

  /**
   * The default-deny of a held SQL statement one of whose parts nothing admits, or another review
   * rule reviews with reviewers that cannot be combined with the holding rule's.
   */
  private static Decision denyPart(
      PolicyRequest req, Rule review, Parts parts, List<String> explain) {
    Action a = req.action();
    Part missing = parts.unadmitted();
    Rule other = parts.conflicting();
    String does =
        missing.kind() != null
            ? "does " + String.join(", ", SqlMatcher.kinds(a))
            : missing.function()
                ? "calls " + String.join(", ", a.list(Action.Attr.SQL_FUNCTIONS))
                : "touches " + String.join(", ", SqlMatcher.tables(a));
    String reason =
        other == null
            ? "no rule allows "
                + req.principal().subject()
                + " to run sql "
                + (missing.kind() != null
                    ? missing.kind()
                    : String.join(", ", SqlMatcher.kinds(a))
                        + (missing.function() ? " calling " : " on ")
                        + missing)
                + " on "
                + req.target().name()
                + " (the statement "
                + does
                + "; rule "
                + review.id
                + " reviews only part of it)"
            : "the statement "
                + does
                + ": rule "
                + review.id
                + " reviews it, and rule "
                + other.id
                + " reviews its "
                + (missing.kind() != null ? missing.kind() : missing.toString())
                + " with other reviewers, which one review cannot ask for together; run its"
                + " parts as separate statements";
    explain.add(
        "decision: deny by "
            + Decision.DEFAULT_DENY
            + ": rule "
            + review.id
            + " would hold the statement, but "
            + (other == null
                ? "no allow or review rule admits its " + missing
                : "its "
                    + missing
                    + " is reviewed by rule "
                    + other.id
                    + ", whose review requirement cannot be combined with "
                    + review.id
                    + "'s (other reviewer groups)"));
    return Decision.deny(Decision.DEFAULT_DENY, reason, explain);
  }

  /**
   * A part of a held SQL statement that the holding rule is not about: a {@code kind} it does not
   * list, or a table or ({@code function}) a called function it does not cover ({@code only}: the
   * statement narrowed to that table or function).
   */
  private record Part(String kind, Action only, boolean function) {
    /** A read-only built-in ({@link SqlMatcher#readOnly}): admitted without a rule. */
    boolean readOnly() {
      return function && SqlMatcher.readOnly(only);
    }

    @Override
    public String toString() {
      return kind != null
          ? "kind " + kind
          : function
              ? "function " + SqlMatcher.onlyFunction(only)
              : "table " + SqlMatcher.onlyTable(only);
    }
  }

  /**
   * What the other parts of a held SQL statement need: {@code unadmitted} (with {@code conflicting}
   * when it is reviewed by a rule whose requirement cannot be combined with the holding rule's) for
   * a denial, else the {@code review} requirement combined from the holding rule and the {@code
   * rules} that review the statement's other parts.
   */
  private record Parts(
      Part unadmitted, Rule conflicting, ReviewRequirement review, List<String> rules) {}

  /**
   * For a SQL statement that {@code review} would hold, the parts the rule is not about. A review
   * rule matches a statement when it lists any of its kinds (so that an upsert falls under a rule
   * reviewing update whatever allows insert) and when any touched table matches its {@code tables}
   * (so that joining a reviewed table with another does not skip the review), but the review must
   * not carry along what the rule is not about: {@code UPDATE t SET a = set_config('role', ...)} is
   * set_role and update, and a rule reviewing writes is no rule about role changes; {@code SELECT
   * ... FROM orders JOIN payroll} read payroll, and a rule reviewing orders is no rule about
   * payroll; {@code SELECT pg_sleep(1), my_fn()} called my_fn, and a rule reviewing pg_sleep is no
   * rule about my_fn. So each kind that {@code review} does not list, each touched table its {@code
   * tables}/{@code tables_written} do not cover ({@link SqlMatcher#uncoveredTables}), and each
   * called function its {@code functions} do not cover ({@link SqlMatcher#uncoveredFunctions}),
   * must be admitted by another rule applying here (a read-only built-in is admitted already, but a
   * review rule whose {@code functions} name it still reviews it, so file order does not decide
   * whose reviewers the statement gets): a rule without per-kind matchers, or an allow or review
   * rule whose {@code sql:} matches the statement for that kind (tables, functions, require_where
   * as for the whole statement), or for the statement narrowed to that table or function
   * (everything else as for the whole statement), and whose {@code when} is true (evaluated on the
   * whole statement). A part that a review rule admits (the first in file order) is that rule's to
   * review, whatever allows it too (review wins over allow): its requirement is combined with
   * {@code review}'s ({@link #combine}), and when they cannot be combined the statement is denied,
   * as it is when a part nothing admits. Allow rules need no such pass: one allow rule must list
   * every kind and cover every table and function itself.
   *
   * @return null when every part is admitted and no other review rule is involved
   */
  private Parts otherParts(
      PolicyRequest req,
      long[] cand,
      Rule review,
      List<String> explain,
      Map<Condition, Object> results) {
    Action a = req.action();
    List<Part> open = new ArrayList<>(2); // not yet reviewed
    List<String> kinds = SqlMatcher.kinds(a);
    // Also a statement of one kind: a review rule about reading a table holds an INSERT … SELECT
    // of it without listing insert (SqlMatcher, red team rt20), and the insert is then a part it
    // is not about, for another rule to admit.
    if (kinds.size() > 1 || !admits(review, a, kinds.get(0))) {
      for (String k : kinds) {
        if (!admits(review, a, k)) {
          open.add(new Part(k, null, false));
        }
      }
    }
    if (review.matchers.get(ActionKind.SQL) instanceof SqlMatcher m) {
      for (Action only : m.uncoveredTables(a)) {
        open.add(new Part(null, only, false));
      }
      for (Action only : m.uncoveredFunctions(a)) {
        open.add(new Part(null, only, true));
      }
    }
    if (open.isEmpty()) {
      return null;
    }
    List<Part> allowed = new ArrayList<>(open.size()); // of those, admitted by an allow rule
    for (Part part : open) {
      if (part.readOnly()) {
        allowed.add(part); // needs no allow rule, but a review rule naming it still reviews it
      }
    }
    ReviewRequirement combined = review.review;
    List<String> also = new ArrayList<>(2);
    Map<String, Object> vars = null;
    Map<Condition, Object> memo = results == null ? new IdentityHashMap<>(4) : results;
    for (int w = 0; w < words && !open.isEmpty(); w++) {
      long bits = cand[w];
      while (bits != 0 && !open.isEmpty()) {
        int i = (w << 6) + Long.numberOfTrailingZeros(bits);
        bits &= bits - 1;
        Rule r = rules[i];
        if (r == review
            || r.effect == Effect.DENY
            || !r.subjectMatches(req.principal())
            || !r.connectionMatches(req.target())) {
          continue;
        }
        List<Part> its = new ArrayList<>(open.size());
        for (Part part : open) {
          if (admits(r, a, part)
              && (r.effect == Effect.REVIEW || !allowed.contains(part))
              && (!part.readOnly() || names(r, part))) {
            its.add(part);
          }
        }
        if (its.isEmpty()) {
          continue;
        }
        if (r.when != null) {
          if (vars == null) {
            vars = Condition.variables(req);
          }
          if (condition(r, vars, memo) != null) {
            continue;
          }
        }
        String listed = String.join(", ", its.stream().map(Part::toString).toList());
        if (r.effect == Effect.ALLOW) {
          explain.add(r.label + ": admits " + listed + " of this statement");
          allowed.addAll(its);
          continue;
        }
        ReviewRequirement next = combine(combined, r.review);
        if (next == null) {
          explain.add(
              r.label
                  + ": reviews "
                  + listed
                  + " of this statement, with reviewers that cannot be combined with "
                  + review.id
                  + "'s into one review");
          return new Parts(its.get(0), r, null, null);
        }
        explain.add(
            r.label
                + ": reviews "
                + listed
                + " of this statement: its review requirement is combined with "
                + review.id
                + "'s");
        combined = next;
        also.add(r.id);
        open.removeAll(its);
      }
    }
    open.removeAll(allowed);
    if (!open.isEmpty()) {
      return new Parts(open.get(0), null, null, null);
    }
    return also.isEmpty() ? null : new Parts(null, null, combined, also);
  }

  /**
   * One review requirement that is met only when both {@code a} and {@code b} are, or null when the
   * model cannot say it: same reviewer groups (the most approvals, all_groups if either says so),
   * or one requirement whose every approval set meets the other too ({@link #implies}); either way
   * a justification if either requires one and the shorter expiry. {@code [team-leads]} and {@code
   * [security] x2} cannot be combined: "one team lead and two security approvers" is not a
   * requirement of groups, a count and all_groups.
   */
  static ReviewRequirement combine(ReviewRequirement a, ReviewRequirement b) {
    if (a == null || b == null) {
      return null;
    }
    ReviewRequirement base;
    if (Set.copyOf(a.reviewerGroups()).equals(Set.copyOf(b.reviewerGroups()))) {
      base =
          new ReviewRequirement(
              a.reviewerGroups(),
              Math.max(a.approvals(), b.approvals()),
              a.allGroups() || b.allGroups(),
              false,
              null);
    } else if (implies(a, b)) {
      base = a;
    } else if (implies(b, a)) {
      base = b;
    } else {
      return null;
    }
    Duration expiry =
        a.expiresAfter() == null
            ? b.expiresAfter()
            : b.expiresAfter() == null || a.expiresAfter().compareTo(b.expiresAfter()) <= 0
                ? a.expiresAfter()
                : b.expiresAfter();
    return new ReviewRequirement(
        base.reviewerGroups(),
        base.approvals(),
        base.allGroups(),
        a.requireJustification() || b.requireJustification(),
        expiry);
  }

  /**
   * True when every set of approvals that meets {@code x} meets {@code y} (for groups, count and
   * all_groups): every approver {@code x} accepts counts for {@code y} (its groups are among {@code
   * y}'s), it asks for at least as many, and {@code y} does not need each of its groups (the groups
   * differ, so some group of {@code y} might not contribute).
   */
  private static boolean implies(ReviewRequirement x, ReviewRequirement y) {
    return Set.copyOf(y.reviewerGroups()).containsAll(x.reviewerGroups())
        && Math.max(1, x.approvals()) >= Math.max(1, y.approvals())
        && !y.allGroups();
  }

  /** Whether {@code r} admits {@code part} of SQL statement {@code a} (not its condition). */
  private static boolean admits(Rule r, Action a, Part part) {
    if (part.kind() != null) {
      return admits(r, a, part.kind());
    }
    if (r.matchers.isEmpty()) {
      return true;
    }
    return r.matchers.get(ActionKind.SQL) instanceof SqlMatcher m
        && m.mismatch(part.only(), r.effect) == null;
  }

  /**
   * Whether {@code r}'s {@code functions} name the function of {@code part}: only such a (review)
   * rule takes up a read-only built-in's part, not one that matches every function (without {@code
   * functions}, or without any matcher), which would pull a review of tables into every statement
   * calling now().
   */
  private static boolean names(Rule r, Part part) {
    return r.matchers.get(ActionKind.SQL) instanceof SqlMatcher m && m.names(part.only());
  }

  /** Whether {@code r} admits kind {@code k} of SQL statement {@code a} (not its condition). */
  private static boolean admits(Rule r, Action a, String k) {
    if (r.matchers.isEmpty()) {
      return true;
    }
    return r.matchers.get(ActionKind.SQL) instanceof SqlMatcher m
        && m.lists(k)
        && m.mismatch(a, r.effect, k) == null;
  }

  /** Null when true; "matches ..." when a deny rule fails closed; otherwise why it does not. */
  private static String condition(
      Rule r, Map<String, Object> vars, Map<Condition, Object> results) {
    Object result = results.get(r.when);
    if (result == null) {
      try {
        result = r.when.eval(vars);
      } catch (Exception e) {
        result = e;
      }
      results.put(r.when, result);
    }
    if (result instanceof Boolean b) {
      return b ? null : "no match: when is false";
    }
    Exception e = (Exception) result;
    String msg = e.getMessage() == null ? e.toString() : e.getMessage();
    return r.effect == Effect.DENY
        ? "matches: when failed (" + msg + "), and a deny rule matches on error (fail closed)"
        : "no match: when failed (" + msg + "), so this rule does not apply";
  }

  private Decision conclude(
      PolicyRequest req,
      List<String> explain,
      Rule deny,
      Rule review,
      Parts parts,
      Rule allow,
      List<Rule> granting) {
    Action a = req.action();
    if (deny != null) {
      String reason = deny.reason != null ? deny.reason : "denied by rule " + deny.id;
      if (a.kind() == ActionKind.SQL && a.flag(Action.Attr.SQL_UNPARSED)) {
        // An unparsed statement counts as touching every table, so a deny rule about some tables
        // matches it too; its reason alone would accuse the caller of what the rule is about
        // (red team rt18pg F4: "other sessions' statements…" for a deeply nested SELECT).
        // A FunctionCall message (PostgreSQL's fast-path interface: psql's \lo_import and
        // \lo_export, pgjdbc's LargeObjectManager) has no SQL text at all: say so, rather than
        // that a statement the caller never wrote "could not be parsed".
        reason +=
            (a.raw().startsWith("FunctionCall oid=")
                    ? " (a FunctionCall message, as large-object clients such as psql's \\lo_import"
                        + " send, carries no SQL to read, so it counts as every kind, table and"
                        + " function"
                    : " (the statement could not be parsed, so it counts as every kind, table and"
                        + " function")
                + ", and every deny rule about SQL matches it)";
      }
      explain.add("decision: deny by " + deny.id + " (a matching deny rule wins over everything)");
      return Decision.deny(deny.id, reason, explain);
    }
    if (a.kind() == ActionKind.CONNECT && !granting.isEmpty()) {
      Obligations merged = mergeConnect(granting);
      if (merged.upstreamRoleConflict()) {
        StringBuilder who = new StringBuilder();
        for (Rule g : granting) {
          if (g.obligations.upstreamRole() != null) {
            who.append(who.isEmpty() ? "" : ", ")
                .append(g.id)
                .append(" (")
                .append(g.obligations.upstreamRole())
                .append(')');
          }
        }
        String reason =
            "the rules granting this connection name different upstream roles: "
                + who
                + "; a session logs in as one role, so the policy must name the same one";
        explain.add("decision: deny: " + reason);
        return Decision.deny(UPSTREAM_ROLE_CONFLICT, reason, explain);
      }
      Rule first = granting.get(0);
      explain.add(
          "decision: allow the connection: "
              + granting.size()
              + " allow/review rule(s) apply here; obligations merged from all of them");
      String reason = first.reason != null ? first.reason : "allowed by rule " + first.id;
      return new Decision(Effect.ALLOW, first.id, reason, null, merged, explain);
    }
    if (review != null) {
      ReviewRequirement required = parts == null ? review.review : parts.review();
      String reason =
          review.reason != null
              ? review.reason
              : "needs approval from " + String.join(", ", required.reviewerGroups());
      explain.add(
          "decision: review by "
              + review.id
              + (parts == null
                  ? " (a matching review rule wins over allow; the first one in file order decides)"
                  : ", with the review requirement of rule(s) "
                      + String.join(", ", parts.rules())
                      + " too (they review other parts of the statement: kinds, tables or"
                      + " functions)"));
      return new Decision(
          Effect.REVIEW, review.id, reason, required, review.obligations.resolve(), explain);
    }
    if (allow != null) {
      String reason = allow.reason != null ? allow.reason : "allowed by rule " + allow.id;
      explain.add("decision: allow by " + allow.id + " (the first matching allow rule)");
      return new Decision(
          Effect.ALLOW, allow.id, reason, null, allow.obligations.resolve(), explain);
    }
    String reason =
        "no rule allows "
            + req.principal().subject()
            + " to "
            + describe(a)
            + (a.kind() == ActionKind.CONNECT ? " " : " on ")
            + req.target().name()
            + alsoExecutes(a);
    explain.add("decision: deny by " + Decision.DEFAULT_DENY + ": " + reason);
    return Decision.deny(Decision.DEFAULT_DENY, reason, explain);
  }

  /** The rule named by a CONNECT refused for rules naming different upstream roles. */
  static final String UPSTREAM_ROLE_CONFLICT = "upstream-role-conflict";

  /**
   * CONNECT obligations: read-only only if every granting rule is; masking {@code none} only if
   * every rule says so, else the first other profile; the shortest session and row limits; the
   * strongest recording; the upstream role the rules that name one agree on (a rule without one has
   * no say; rules that disagree leave every name they gave, joined by commas, and the connection is
   * refused: which login a session may use is not a union of grants).
   */
  static Obligations mergeConnect(List<Rule> granting) {
    return mergeConnect(granting, null);
  }

  /** As {@link #mergeConnect(List)}, with {@code extra} (if not null) added after the others. */
  static Obligations mergeConnect(List<Rule> granting, Rule extra) {
    boolean readOnly = true;
    String masking = null;
    boolean allNone = true;
    Duration maxSession = null;
    long maxRows = 0;
    boolean full = false;
    java.util.TreeSet<String> roles = null;
    for (int i = 0, n = granting.size() + (extra == null ? 0 : 1); i < n; i++) {
      Rule.RuleObligations o =
          i < granting.size() ? granting.get(i).obligations : extra.obligations;
      readOnly &= Boolean.TRUE.equals(o.readOnly());
      String m = o.masking() == null ? Obligations.NONE.maskingProfile() : o.masking();
      if (!m.equals("none")) {
        allNone = false;
        if (masking == null) {
          masking = m;
        }
      }
      if (o.maxSession() != null
          && (maxSession == null || o.maxSession().compareTo(maxSession) < 0)) {
        maxSession = o.maxSession();
      }
      if (o.maxRows() != null && o.maxRows() > 0 && (maxRows == 0 || o.maxRows() < maxRows)) {
        maxRows = o.maxRows();
      }
      full |= o.recording() == null || o.recording().equals("full");
      if (o.upstreamRole() != null) {
        if (roles == null) {
          roles = new java.util.TreeSet<>();
        }
        roles.add(o.upstreamRole());
      }
    }
    return new Obligations(
        allNone ? "none" : masking,
        readOnly,
        maxRows,
        maxSession,
        full ? "full" : "metadata",
        roles == null ? null : String.join(",", roles));
  }

  private long[] candidates(Principal p, Target t, ActionKind kind) {
    long[] cand = subjectScan.clone();
    orInto(cand, byUser.get(p.subject()));
    for (String g : p.groups()) {
      orInto(cand, byGroup.get(g));
    }
    long[] conn = t.name() == null ? EMPTY_BITS : byConnection.getOrDefault(t.name(), EMPTY_BITS);
    long[] k = byKind[kind.ordinal()];
    for (int w = 0; w < words; w++) {
      long c = connectionScan[w] | (w < conn.length ? conn[w] : 0L);
      cand[w] &= c & k[w];
    }
    return cand;
  }

  private static void orInto(long[] into, long[] bits) {
    if (bits != null) {
      for (int w = 0; w < into.length; w++) {
        into[w] |= bits[w];
      }
    }
  }

  private static boolean unknownSql(Action a) {
    String kind = a.string(Action.Attr.SQL_KIND);
    return kind == null
        || kind.equals("unknown")
        || a.flag(Action.Attr.SQL_UNPARSED)
        || !SqlMatcher.KINDS.contains(kind);
  }

  /** A short, secret-free description of an action for reasons: "run sql update". */
  static String describe(Action a) {
    return switch (a.kind()) {
      case CONNECT -> "connect to";
      case SQL -> "run sql " + orUnknown(a.string(Action.Attr.SQL_KIND)) + knownCalls(a);
      case COMMAND -> {
        String bin = a.string(Action.Attr.CMD_BINARY);
        if (bin == null && !a.list(Action.Attr.CMD_ARGV).isEmpty()) {
          bin = a.list(Action.Attr.CMD_ARGV).get(0);
        }
        yield "run command " + (bin == null ? "(none)" : CommandMatcher.baseName(bin));
      }
      case SHELL -> "open an interactive shell";
      case FILE ->
          orUnknown(a.string(Action.Attr.FILE_OP))
              + " file "
              + orUnknown(a.string(Action.Attr.FILE_PATH));
      case HTTP ->
          "send HTTP "
              + orUnknown(a.string(Action.Attr.HTTP_METHOD))
              + " "
              + orUnknown(a.string(Action.Attr.HTTP_PATH));
      case MCP -> "call MCP tool " + orUnknown(a.string(Action.Attr.MCP_TOOL));
      case FORWARD -> {
        String to = a.string(Action.Attr.FORWARD_HOST);
        String port = a.string(Action.Attr.FORWARD_PORT);
        String socket = a.string(Action.Attr.FORWARD_PATH);
        yield "open "
            + orUnknown(a.string(Action.Attr.FORWARD_TYPE))
            + " forwarding"
            + (to != null && port != null
                ? " " + to + ":" + port
                : socket != null ? " unix:" + socket : "");
      }
    };
  }

  /**
   * For a SQL statement calling functions whose effect the classifier knows (in {@code functions}
   * but neither opaque nor read-only: {@code lo_export}, {@code lo_unlink}, {@code set_config},
   * {@code nextval}), " calling f, g": their effect often gave the kind, and "run sql copy_program"
   * alone did not tell the caller that it was {@code SELECT lo_export(…)} (red team rt21). Empty
   * otherwise.
   */
  static String knownCalls(Action a) {
    List<String> functions = a.list(Action.Attr.SQL_FUNCTIONS);
    if (functions.isEmpty() || !a.attributes().containsKey(Action.Attr.SQL_OPAQUE_FUNCTIONS)) {
      return ""; // not sorted by the classifier (a policy test's action): nothing known
    }
    List<String> known = new ArrayList<>(functions);
    known.removeAll(a.list(Action.Attr.SQL_OPAQUE_FUNCTIONS));
    known.removeAll(a.list(Action.Attr.SQL_READ_ONLY_FUNCTIONS));
    return known.isEmpty() ? "" : " calling " + String.join(", ", known);
  }

  /**
   * For a SQL statement that also runs a prepared statement ({@code CREATE TABLE t AS EXECUTE z}
   * where z was prepared out of the gateway's sight: kinds [create, execute]), the part of a
   * default-deny reason that says so; its kind alone ("run sql create") sent the reader to look for
   * a missing create rule (red team rt20). Empty otherwise.
   */
  static String alsoExecutes(Action a) {
    if (a.kind() != ActionKind.SQL
        || "execute".equals(a.string(Action.Attr.SQL_KIND))
        || !a.list(Action.Attr.SQL_KINDS).contains("execute")) {
      return "";
    }
    return " (the statement also runs a prepared statement, kind execute, and only a rule listing"
        + " execute allows that)";
  }

  private static String orUnknown(String s) {
    return s == null ? "unknown" : s;
  }
}
