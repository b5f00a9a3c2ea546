package dev.gatehouse.bench;

import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.PolicyRequest;
import dev.gatehouse.policy.PolicySet;
import dev.gatehouse.policy.Target;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decision latency against a policy of 1,000 generated rules (target: p99 below 20 µs on one
 * core). SampleTime mode so JMH reports the p50/p99 percentiles, not only the mean.
 *
 * <p>The policy mixes what real ones hold: per-group rules on named connections, wildcard
 * connection rules that every request has to look at, deny rules on secret tables, review rules
 * for writes, and CEL conditions on every tenth rule.
 *
 * <pre>bench/jmh/run.sh PolicyDecision -f 1 -wi 2 -i 3</pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
@State(Scope.Benchmark)
public class PolicyDecisionBenchmark {
  static final int RULES = 1000;
  static final int GROUPS = 100;
  static final int CONNECTIONS = 50;

  PolicySet policy;
  PolicyRequest select;
  PolicyRequest update;
  PolicyRequest unknownStatement;
  PolicyRequest connect;
  PolicyRequest stranger;
  PolicyRequest command;

  static String generate() {
    StringBuilder y = new StringBuilder("rules:\n");
    for (int i = 0; i < RULES; i++) {
      String group = "g" + (i % GROUPS);
      String conn = "db-" + (i % CONNECTIONS);
      y.append("  - id: rule-").append(i).append('\n');
      switch (i % 10) {
        case 0 -> // broad rule with a wildcard connection and a CEL condition
            y.append("    connections: { names: [\"db-").append(i % 7).append("*\"] }\n")
                .append("    subjects: { groups: [").append(group).append("] }\n")
                .append("    effect: allow\n")
                .append("    sql: { statements: [read] }\n")
                .append("    when: 'principal.kind == \"human\" &&")
                .append(" request.time.getHours(\"Europe/Berlin\") >= ")
                .append(5 + i % 3) // three distinct conditions among the candidates
                .append("'\n");
        case 1 ->
            y.append("    subjects: { groups: [").append(group).append("] }\n")
                .append("    connections: { names: [").append(conn).append("] }\n")
                .append("    effect: deny\n")
                .append("    sql: { tables: [\"secret").append(i).append(".*\"] }\n");
        case 2 ->
            y.append("    subjects: { groups: [").append(group).append("] }\n")
                .append("    connections: { names: [db-").append((i + 2) % CONNECTIONS).append("] }\n")
                .append("    effect: review\n")
                .append("    review: { groups: [dba], approvals: 1 }\n")
                .append("    sql: { statements: [write], require_where: true }\n");
        case 3 ->
            y.append("    subjects: { users: [user").append(i).append("] }\n")
                .append("    connections: { names: [").append(conn).append("] }\n")
                .append("    effect: allow\n")
                .append("    command: { binary: npm, subcommand: [ci, test],")
                .append(" flags_with_values: [--loglevel] }\n");
        default ->
            y.append("    subjects: { groups: [").append(group).append("], kinds: [human] }\n")
                .append("    connections: { names: [").append(conn).append("],")
                .append(" labels: { env: prod } }\n")
                .append("    effect: allow\n")
                .append("    sql: { statements: [read, session], tables: [\"public.*\", \"app")
                .append(i)
                .append(".*\"] }\n")
                .append("    obligations: { masking: pii, max_rows: 1000 }\n");
      }
    }
    return y.toString();
  }

  @Setup
  public void setUp() throws Exception {
    policy = PolicySet.parse("generated.yaml", generate());
    if (policy.size() != RULES) {
      throw new IllegalStateException("rules: " + policy.size() + " (expected " + RULES + ")");
    }
    Principal alice =
        new Principal(
            "alice", Set.of("g0", "g2", "g4", "g14", "g21", "g30"), PrincipalKind.HUMAN, "t", null, Set.of(), Map.of());
    Target db = new Target("db-4", "postgres", Map.of("env", "prod"));
    Instant at = Instant.parse("2026-01-05T10:00:00Z");
    select =
        new PolicyRequest(
            alice,
            db,
            new Action(
                ActionKind.SQL,
                "select",
                Map.of(
                    Action.Attr.SQL_KIND, "select",
                    Action.Attr.SQL_TABLES_READ, List.of("public.payments", "public.users"))),
            at);
    update =
        new PolicyRequest(
            alice,
            db,
            new Action(
                ActionKind.SQL,
                "update",
                Map.of(
                    Action.Attr.SQL_KIND, "update",
                    Action.Attr.SQL_TABLES_WRITTEN, List.of("public.payments"),
                    Action.Attr.SQL_HAS_WHERE, true)),
            at);
    unknownStatement =
        new PolicyRequest(
            alice, db, new Action(ActionKind.SQL, "?", Map.of(Action.Attr.SQL_KIND, "unknown")), at);
    connect = new PolicyRequest(alice, db, Action.connect(), at);
    Principal nobody =
        new Principal("eve", Set.of("sales"), PrincipalKind.HUMAN, "t", null, Set.of(), Map.of());
    stranger = new PolicyRequest(nobody, db, select.action(), at);
    command =
        new PolicyRequest(
            new Principal("user3", Set.of(), PrincipalKind.SERVICE, "t", null, Set.of(), Map.of()),
            new Target("db-3", "exec", Map.of()),
            new Action(
                ActionKind.COMMAND,
                "npm --loglevel silent test",
                Map.of(
                    Action.Attr.CMD_BINARY, "/usr/bin/npm",
                    Action.Attr.CMD_ARGV, List.of("npm", "--loglevel", "silent", "test"))),
            at);
    // guard against measuring the wrong thing: each request must get the intended decision
    expect(select, "ALLOW");
    expect(update, "REVIEW");
    expect(unknownStatement, "DENY");
    expect(connect, "ALLOW");
    expect(stranger, "DENY");
    expect(command, "ALLOW");
  }

  private void expect(PolicyRequest r, String effect) {
    Decision d = policy.decide(r);
    if (!d.effect().name().equals(effect)) {
      throw new IllegalStateException(
          r.action().kind() + " " + r.action().raw() + ": " + d + " (expected " + effect + ")");
    }
  }

  @Benchmark
  public Decision selectAllowed() {
    return policy.decide(select);
  }

  @Benchmark
  public Decision updateNeedsReview() {
    return policy.decide(update);
  }

  @Benchmark
  public Decision unknownStatementDenied() {
    return policy.decide(unknownStatement);
  }

  @Benchmark
  public Decision connectMergesObligations() {
    return policy.decide(connect);
  }

  @Benchmark
  public Decision strangerDefaultDeny() {
    return policy.decide(stranger);
  }

  @Benchmark
  public Decision commandAllowed() {
    return policy.decide(command);
  }
}
