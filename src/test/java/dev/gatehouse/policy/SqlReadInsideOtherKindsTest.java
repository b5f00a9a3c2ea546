package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Red team rt19: a deny rule on reading a table ({@code statements: [read], tables: [customers]})
 * did not match statements of other kinds that read it: {@code CREATE TABLE x AS SELECT ssn FROM
 * customers} ([create]) and {@code INSERT INTO scratch.x SELECT ssn FROM customers} ([insert]), so
 * a principal allowed to create tables, or to write scratch tables, copied the table and read the
 * copy. A deny rule listing select now also matches any statement whose read tables match it.
 */
class SqlReadInsideOtherKindsTest {
  static final PolicySet P =
      policy(
          """
          rules:
            - id: analysts
              effect: allow
              sql: { statements: [read, create] }
            - id: scratch
              effect: allow
              sql: { statements: [write], tables_written: ["scratch.*"] }
            - id: no-customers
              effect: deny
              sql: { statements: [read], tables: [public.customers] }
              reason: customers are not for analysts
            - id: no-ledger-writes
              effect: deny
              sql: { statements: [write], tables: [scratch.ledger] }
          """);

  private static Action sql(String kind, List<String> kinds, List<String> read, List<String> w) {
    Map<String, Object> a = new HashMap<>();
    a.put(Action.Attr.SQL_KIND, kind);
    a.put(Action.Attr.SQL_KINDS, kinds);
    a.put(Action.Attr.SQL_TABLES_READ, read);
    a.put(Action.Attr.SQL_TABLES_WRITTEN, w);
    return new Action(ActionKind.SQL, kind, a);
  }

  private static Decision decision(Action a) {
    return decide(P, human("alice"), target("db"), a);
  }

  @Test
  void aDenyOfReadingATableMatchesEveryStatementThatReadsIt() {
    // CREATE TEMP TABLE x AS SELECT ssn FROM customers; before: allowed by analysts
    Decision ctas = decision(sql("create", List.of("create"), List.of("customers"), List.of("x")));
    assertThat(ctas.effect()).isEqualTo(Effect.DENY);
    assertThat(ctas.rule()).isEqualTo("no-customers");
    // INSERT INTO scratch.x SELECT ssn FROM customers; before: allowed by scratch
    Decision copy =
        decision(sql("insert", List.of("insert"), List.of("customers"), List.of("scratch.x")));
    assertThat(copy.effect()).isEqualTo(Effect.DENY);
    assertThat(copy.rule()).isEqualTo("no-customers");
  }

  @Test
  void whatDoesNotReadTheTableIsUnchanged() {
    assertThat(decision(sql("select", List.of("select"), List.of("customers"), List.of())).effect())
        .isEqualTo(Effect.DENY);
    assertThat(
            decision(sql("insert", List.of("insert"), List.of("orders"), List.of("scratch.x")))
                .effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(decision(sql("create", List.of("create"), List.of(), List.of("x"))).effect())
        .isEqualTo(Effect.ALLOW);
    // writing customers is no read of it: the read deny does not apply (no rule allows it here)
    Decision write =
        decision(sql("insert", List.of("insert"), List.of(), List.of("public.customers")));
    assertThat(write.rule()).isNotEqualTo("no-customers");
    // a deny of writes is not widened: reading scratch.ledger into a create is no write of it
    assertThat(
            decision(sql("create", List.of("create"), List.of("scratch.ledger"), List.of("x")))
                .effect())
        .isEqualTo(Effect.ALLOW);
  }

  /**
   * Red team rt20: a review rule on reading a table was not widened like the deny rule, so the
   * rules that admit create and scratch writes allowed copying the reviewed table unreviewed.
   */
  static final PolicySet REVIEWED =
      policy(
          """
          rules:
            - id: analysts
              effect: allow
              sql: { statements: [read, create] }
            - id: scratch
              effect: allow
              sql: { statements: [write], tables_written: ["scratch.*"] }
            - id: customers-reviewed
              effect: review
              review: { groups: [dpo] }
              sql: { statements: [read], tables: [public.customers] }
          """);

  @Test
  void aReviewOfReadingATableHoldsEveryStatementThatReadsIt() {
    for (Action a :
        List.of(
            sql("create", List.of("create"), List.of("customers"), List.of("x")),
            sql("insert", List.of("insert"), List.of("customers"), List.of("scratch.x")))) {
      Decision d = decide(REVIEWED, human("alice"), target("db"), a);
      assertThat(d.effect()).as(a.raw()).isEqualTo(Effect.REVIEW); // before: ALLOW
      assertThat(d.rule()).isEqualTo("customers-reviewed");
    }
    // what does not read customers is still allowed
    assertThat(
            decide(
                    REVIEWED,
                    human("alice"),
                    target("db"),
                    sql("insert", List.of("insert"), List.of("orders"), List.of("scratch.x")))
                .effect())
        .isEqualTo(Effect.ALLOW);
    // a copy that nothing else admits is denied, not held: the review is only about the read
    Decision other =
        decide(
            REVIEWED,
            human("alice"),
            target("db"),
            sql("insert", List.of("insert"), List.of("customers"), List.of("public.orders")));
    assertThat(other.effect()).isEqualTo(Effect.DENY);
    assertThat(other.reason()).contains("reviews only part of it");
  }
}
