package dev.gatehouse.policy;

import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.sql;
import static dev.gatehouse.policy.Fixtures.sqlWrite;
import static dev.gatehouse.policy.Fixtures.target;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SqlMatcherTest {
  private static Effect effect(PolicySet p, Action a) {
    return decide(p, human("alice"), target("db"), a).effect();
  }

  @Test
  void statementKindsAndGroupsMatch() {
    PolicySet p =
        policy(
            """
            rules:
              - id: reads
                effect: allow
                sql: { statements: [read] }
              - id: writes
                effect: review
                review: { groups: [dba] }
                sql: { statements: [write] }
            """);

    assertThat(effect(p, sql("select"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, sql("explain"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, sqlWrite("update", true, "t"))).isEqualTo(Effect.REVIEW);
    assertThat(effect(p, sqlWrite("copy_in", false, "t"))).isEqualTo(Effect.REVIEW);
    assertThat(effect(p, sql("drop"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, sql("copy_program"))).isEqualTo(Effect.DENY);
  }

  @Test
  void aReadOfEveryTableMeetsEveryDenyAndReviewRuleOnTables() {
    PolicySet p =
        policy(
            """
            rules:
              - id: reads
                effect: allow
                sql: { statements: [read] }
              - id: no-customers
                effect: deny
                sql: { statements: [read], tables: [public.customers] }
            """);
    // SELECT ... FROM pg_stats: planner statistics hold sample values of every table
    Action stats = sql("select", "pg_stats", Action.Attr.ANY_TABLE);
    assertThat(effect(p, stats)).isEqualTo(Effect.DENY);
    assertThat(effect(p, sql("select", "pg_stats"))).isEqualTo(Effect.ALLOW);

    PolicySet reviewed =
        policy(
            """
            rules:
              - id: reads
                effect: allow
                sql: { statements: [read] }
              - id: payments-reviewed
                effect: review
                review: { groups: [dba] }
                sql: { statements: [read], tables: ["billing.payments"] }
            """);
    assertThat(effect(reviewed, stats)).isEqualTo(Effect.REVIEW);

    // an allow rule with tables covers it only through a glob that matches every table
    PolicySet catalog =
        policy(
            """
            rules:
              - id: catalog
                effect: allow
                sql: { statements: [read], tables: ["pg_catalog.*", pg_stats] }
              - id: anything
                effect: allow
                sql: { statements: [read], tables: ["*"] }
            """);
    assertThat(decide(catalog, human("alice"), target("db"), stats).rule()).isEqualTo("anything");
    PolicySet catalogOnly =
        policy(
            """
            rules:
              - id: catalog
                effect: allow
                sql: { statements: [read], tables: ["pg_catalog.*", pg_stats] }
            """);
    assertThat(effect(catalogOnly, stats)).isEqualTo(Effect.DENY);
    assertThat(effect(catalogOnly, sql("select", "pg_stats"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void joiningAReviewedTableWithAnotherStillGoesToReview() {
    PolicySet p =
        policy(
            """
            rules:
              - id: reads
                effect: allow
                sql: { statements: [read] }
              - id: payments-need-review
                effect: review
                review: { groups: [dba] }
                sql: { statements: [read], tables: [public.payments] }
            """);

    assertThat(effect(p, sql("select", "public.payments", "public.other")))
        .isEqualTo(Effect.REVIEW);
    assertThat(effect(p, sql("select", "public.other"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void unqualifiedTableNamesMeetSchemaQualifiedGlobs() {
    PolicySet p =
        policy(
            """
            rules:
              - id: public-reads-and-writes
                effect: allow
                sql: { statements: [read, write], tables: ["public.*"] }
              - id: no-audit-writes
                effect: deny
                sql: { statements: [write], tables: [public.audit] }
              - id: nothing-secret
                effect: deny
                sql: { statements: [read, write], tables: ["secret.*"] }
            """);

    // allow: names as written (a bare pg_stat_activity is pg_catalog's, not public's)
    assertThat(effect(p, sql("select", "public.customers"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, sql("select", "customers"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, sql("select", "pg_stat_activity"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, sql("select", "other.customers"))).isEqualTo(Effect.DENY);
    // deny: an unqualified name is also read in pg_catalog and public, so a schema-qualified
    // deny catches it
    Decision audit = decide(p, human("alice"), target("db"), sqlWrite("delete", true, "audit"));
    assertThat(audit.effect()).isEqualTo(Effect.DENY);
    assertThat(audit.rule()).isEqualTo("no-audit-writes");
    Decision secret = decide(p, human("alice"), target("db"), sql("select", "secret.payments"));
    assertThat(secret.rule()).isEqualTo("nothing-secret");
    PolicySet catalog =
        policy(
            """
            rules:
              - { id: reads, effect: allow, sql: { statements: [read] } }
              - id: no-authid
                effect: deny
                sql: { statements: [read], tables: [pg_catalog.pg_authid] }
            """);
    assertThat(decide(catalog, human("alice"), target("db"), sql("select", "pg_authid")).rule())
        .isEqualTo("no-authid");
  }

  /** A select of {@code tables} in a session whose search_path has named {@code schemas}. */
  private static Action onPath(List<String> schemas, String... tables) {
    return Fixtures.attrs(
        ActionKind.SQL,
        Action.Attr.SQL_KIND,
        "select",
        Action.Attr.SQL_TABLES_READ,
        List.of(tables),
        Action.Attr.SQL_SEARCH_PATH,
        schemas);
  }

  private static final String PAYMENTS_POLICY =
      """
      rules:
        - { id: reads, effect: allow, sql: { statements: [read], tables: [payments, ledger, "app.*", "other.*"] } }
        - id: no-payments
          effect: deny
          sql: { statements: [read], tables: [app.payments] }
        - id: ledger-needs-review
          effect: review
          review: { groups: [dba] }
          sql: { statements: [read], tables: ["APP.Led*"] }
        - id: no-bad-functions
          effect: deny
          sql: { statements: [read], functions: [app.wipe] }
      """;

  @Test
  void bareNamesMeetDenyAndReviewRulesInEverySchemaTheSearchPathNamed() {
    PolicySet p = policy(PAYMENTS_POLICY);

    // No path seen: pg_catalog and public only, app.payments is another table.
    assertThat(effect(p, sql("select", "payments"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, onPath(List.of("other"), "payments"))).isEqualTo(Effect.ALLOW);
    // After SET search_path = app, public the bare name may be app.payments.
    Decision d =
        decide(p, human("alice"), target("db"), onPath(List.of("other", "app"), "payments"));
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo("no-payments");
    // Case-blind, like every table glob; review rules too; qualified names stay as written.
    assertThat(effect(p, onPath(List.of("App"), "PAYMENTS"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, onPath(List.of("app"), "ledger"))).isEqualTo(Effect.REVIEW);
    assertThat(effect(p, onPath(List.of("app"), "other.payments"))).isEqualTo(Effect.ALLOW);
    // Functions resolve along the same path.
    Action wipe =
        Fixtures.attrs(
            ActionKind.SQL,
            Action.Attr.SQL_KIND,
            "select",
            Action.Attr.SQL_FUNCTIONS,
            List.of("wipe"),
            Action.Attr.SQL_SEARCH_PATH,
            List.of("app"));
    assertThat(decide(p, human("alice"), target("db"), wipe).rule()).isEqualTo("no-bad-functions");
  }

  @Test
  void policyChecksAndTestsCanGiveTheSearchPath() {
    PolicySet p = policy(PAYMENTS_POLICY);
    List<Action> actions =
        RequestSpec.actions(
            Map.of(
                "kind",
                "sql",
                "statement",
                "select",
                "tables_read",
                List.of("payments"),
                "search_path",
                List.of("app")),
            null,
            null);

    assertThat(actions).hasSize(1);
    assertThat(effect(p, actions.get(0))).isEqualTo(Effect.DENY);
  }

  @Test
  void policyChecksAndTestsCanGiveTheKinds() {
    // An allow rule must list every kind a statement performs: an upsert given as its kinds.
    PolicySet p =
        policy("rules: [{ id: u, effect: allow, sql: { statements: [update], tables: [t] } }]");
    List<Action> upsert =
        RequestSpec.actions(
            Map.of(
                "kind",
                "sql",
                "statement",
                "update",
                "kinds",
                List.of("update", "insert"),
                "tables_written",
                List.of("t")),
            null,
            null);
    assertThat(effect(p, upsert.get(0))).isEqualTo(Effect.DENY);
    List<Action> update =
        RequestSpec.actions(
            Map.of("kind", "sql", "statement", "update", "tables_written", List.of("t")),
            null,
            null);
    assertThat(effect(p, update.get(0))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void allowRulesDoNotReadBareNamesInTheSearchPath() {
    PolicySet p =
        policy(
            "rules: [{ id: app, effect: allow, sql: { statements: [read], tables: [\"app.*\"] } }]");

    // Reading payments as app.payments would let app.* admit whatever the path resolves first.
    assertThat(effect(p, onPath(List.of("app"), "payments"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, onPath(List.of(Action.Attr.ANY_SCHEMA), "payments")))
        .isEqualTo(Effect.DENY);
  }

  @Test
  void anUnreadableSearchPathPutsBareNamesInAnySchemaForDenyAndReview() {
    PolicySet p = policy(PAYMENTS_POLICY);
    List<String> any = List.of(Action.Attr.ANY_SCHEMA);

    assertThat(effect(p, onPath(any, "payments"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, onPath(any, "ledger_2026"))).isEqualTo(Effect.REVIEW);
    assertThat(effect(p, onPath(any, "customers"))).isEqualTo(Effect.DENY); // not in reads
    PolicySet readsAll =
        policy(
            """
            rules:
              - { id: reads, effect: allow, sql: { statements: [read] } }
              - { id: no-payments, effect: deny, sql: { statements: [read], tables: [app.payments] } }
            """);
    assertThat(effect(readsAll, onPath(any, "customers"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(readsAll, onPath(any, "payments"))).isEqualTo(Effect.DENY);
  }

  @Test
  void aGlobMatchesABareNameInSomeSchemaWhereTheSchemaPartCanMatch() {
    // After its last dot, the part a bare name must match.
    assertThat(SqlMatcher.anySchemaTails("app.payments")).containsExactly("payments");
    assertThat(SqlMatcher.anySchemaTails("*.pay*")).containsExactly("pay*");
    assertThat(SqlMatcher.anySchemaTails("app\\.payments")).containsExactly("payments");
    assertThat(SqlMatcher.anySchemaTails("app.*")).containsExactly("*");
    // Without a dot, only a wildcard can take the schema's dot.
    assertThat(SqlMatcher.anySchemaTails("payments")).isEmpty();
    assertThat(SqlMatcher.anySchemaTails("pg_*")).containsExactly("*");
    assertThat(SqlMatcher.anySchemaTails("*_audit")).containsExactly("*_audit");
    assertThat(SqlMatcher.anySchemaTails("app?payments")).containsExactly("payments");
    assertThat(SqlMatcher.anySchemaTails("app[.]payments")).containsExactly("payments");
    assertThat(SqlMatcher.anySchemaTails("a\\*b")).isEmpty();

    PolicySet p =
        policy(
            """
            rules:
              - { id: reads, effect: allow, sql: { statements: [read] } }
              - { id: audit, effect: deny, sql: { statements: [read], tables: ["*_audit", x] } }
            """);
    List<String> any = List.of(Action.Attr.ANY_SCHEMA);
    assertThat(effect(p, onPath(any, "tour_audit"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, onPath(any, "tour_orders"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void unknownAndUnparsedAreAllowedOnlyByRulesListingUnknownOrStar() {
    PolicySet reads =
        policy("rules: [{ id: r, effect: allow, sql: { statements: [read, write, ddl] } }]");
    PolicySet unknown = policy("rules: [{ id: u, effect: allow, sql: { statements: [unknown] } }]");
    PolicySet star = policy("rules: [{ id: s, effect: allow, sql: { statements: [\"*\"] } }]");
    Action unparsed =
        Fixtures.attrs(
            ActionKind.SQL, Action.Attr.SQL_KIND, "select", Action.Attr.SQL_UNPARSED, true);

    assertThat(effect(reads, sql("unknown"))).isEqualTo(Effect.DENY);
    assertThat(effect(reads, unparsed)).isEqualTo(Effect.DENY);
    assertThat(effect(reads, sql("something_new"))).isEqualTo(Effect.DENY);
    assertThat(effect(unknown, sql("unknown"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(unknown, unparsed)).isEqualTo(Effect.ALLOW);
    assertThat(effect(star, sql("unknown"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(star, sql("drop"))).isEqualTo(Effect.ALLOW);
  }

  /** Red team rt18pg F4: the deny rule's own reason alone accused the caller of its subject. */
  @Test
  void anUnparsedStatementDeniedByATableRuleSaysItWasNotParsed() {
    PolicySet p =
        policy(
            """
            rules:
              - { id: all, effect: allow, sql: { statements: [unknown, read] } }
              - id: no-session-texts
                effect: deny
                reason: other sessions' statements are not for engineers
                sql: { statements: [read], tables: [pg_stat_activity] }
            """);
    Action unparsed =
        Fixtures.attrs(
            ActionKind.SQL, Action.Attr.SQL_KIND, "select", Action.Attr.SQL_UNPARSED, true);
    var d = decide(p, human("alice"), target("db"), unparsed);
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo("no-session-texts");
    assertThat(d.reason())
        .startsWith("other sessions' statements are not for engineers")
        .contains("could not be parsed");
    assertThat(decide(p, human("alice"), target("db"), sql("select")).effect())
        .isEqualTo(Effect.ALLOW);
  }

  @Test
  void unknownStatementFallsUnderEveryDenyRuleAboutSql() {
    PolicySet p =
        policy(
            """
            rules:
              - id: star
                effect: allow
                sql: { statements: ["*"] }
              - id: no-drops
                effect: deny
                sql: { statements: [drop] }
            """);

    Decision d = decide(p, human("alice"), target("db"), sql("unknown"));

    assertThat(d.rule()).isEqualTo("no-drops");
  }

  @Test
  void allowTablesMustCoverEveryTableTouched() {
    PolicySet p =
        policy(
            "rules: [{ id: pub, effect: allow, sql: { statements: [select], tables: [\"public.*\"] } }]");

    assertThat(effect(p, sql("select", "public.a", "PUBLIC.B"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, sql("select", "public.a", "secret.keys"))).isEqualTo(Effect.DENY);
  }

  @Test
  void denyTablesMatchWhenAnyTableTouchedMatches() {
    PolicySet p =
        policy(
            """
            rules:
              - id: all
                effect: allow
              - id: no-secrets
                effect: deny
                sql: { tables: ["secret.*"] }
            """);

    assertThat(decide(p, human("a"), target("db"), sql("select", "public.a", "secret.keys")).rule())
        .isEqualTo("no-secrets");
    assertThat(effect(p, sql("select", "public.a"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void tablesWrittenAndFunctionsAreChecked() {
    PolicySet p =
        policy(
            """
            rules:
              - id: scratch-writes
                effect: allow
                sql: { statements: [write], tables_written: ["scratch.*"] }
              - id: safe-functions
                effect: allow
                sql: { statements: [select], functions: [now, lower] }
            """);

    assertThat(effect(p, sqlWrite("insert", true, "scratch.t"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, sqlWrite("insert", true, "public.t"))).isEqualTo(Effect.DENY);
    assertThat(
            effect(
                p,
                Fixtures.attrs(
                    ActionKind.SQL,
                    Action.Attr.SQL_KIND,
                    "select",
                    Action.Attr.SQL_FUNCTIONS,
                    List.of("now"))))
        .isEqualTo(Effect.ALLOW);
    assertThat(
            effect(
                p,
                Fixtures.attrs(
                    ActionKind.SQL,
                    Action.Attr.SQL_KIND,
                    "select",
                    Action.Attr.SQL_FUNCTIONS,
                    List.of("pg_read_file"))))
        .isEqualTo(Effect.DENY);
  }

  @Test
  void requireWhereRejectsUpdateAndDeleteWithoutWhere() {
    PolicySet p =
        policy(
            "rules: [{ id: w, effect: allow, sql: { statements: [update, delete, insert], require_where: true } }]");

    assertThat(effect(p, sqlWrite("update", true, "t"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, sqlWrite("delete", false, "t"))).isEqualTo(Effect.DENY);
    assertThat(effect(p, sqlWrite("insert", false, "t"))).isEqualTo(Effect.ALLOW);
    assertThat(
            decide(p, human("a"), target("db"), sqlWrite("update", false, "t"))
                .explanation()
                .get(0))
        .contains("update without WHERE");
  }

  @Test
  void objectTypesLimitDdl() {
    PolicySet p =
        policy(
            "rules: [{ id: idx, effect: allow, sql: { statements: [create, drop], object_types: [index] } }]");

    assertThat(
            effect(
                p,
                Fixtures.attrs(
                    ActionKind.SQL,
                    Action.Attr.SQL_KIND,
                    "create",
                    Action.Attr.SQL_OBJECT_TYPE,
                    "index")))
        .isEqualTo(Effect.ALLOW);
    assertThat(
            effect(
                p,
                Fixtures.attrs(
                    ActionKind.SQL,
                    Action.Attr.SQL_KIND,
                    "drop",
                    Action.Attr.SQL_OBJECT_TYPE,
                    "table")))
        .isEqualTo(Effect.DENY);
  }

  /** A statement that does several things, as the classifier reports it ({@code kinds}). */
  private static Action multi(String table, boolean hasWhere, String... kinds) {
    return Fixtures.attrs(
        ActionKind.SQL,
        Action.Attr.SQL_KIND,
        kinds[0],
        Action.Attr.SQL_KINDS,
        List.of(kinds),
        Action.Attr.SQL_TABLES_WRITTEN,
        List.of(table),
        Action.Attr.SQL_HAS_WHERE,
        hasWhere);
  }

  /** What the classifier reports for INSERT ... ON CONFLICT (id) DO UPDATE SET ... [WHERE ...]. */
  private static Action upsert(boolean hasWhere) {
    return multi("payments", hasWhere, "update", "insert");
  }

  @Test
  void anUpsertNeedsARuleAllowingBothInsertAndUpdate() {
    PolicySet inserts =
        policy("rules: [{ id: i, effect: allow, sql: { statements: [insert, select] } }]");
    PolicySet updates = policy("rules: [{ id: u, effect: allow, sql: { statements: [update] } }]");
    PolicySet writes = policy("rules: [{ id: w, effect: allow, sql: { statements: [write] } }]");

    assertThat(effect(inserts, sqlWrite("insert", false, "payments"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(inserts, upsert(true))).isEqualTo(Effect.DENY);
    assertThat(effect(updates, upsert(true))).isEqualTo(Effect.DENY);
    assertThat(effect(writes, upsert(true))).isEqualTo(Effect.ALLOW);
    assertThat(
            String.join(
                "\n", decide(updates, human("alice"), target("db"), upsert(true)).explanation()))
        .contains("statement update (also insert) is not in [update]");
  }

  @Test
  void anUpsertFallsUnderDenyAndReviewRulesAboutUpdate() {
    PolicySet p =
        policy(
            """
            rules:
              - id: writes
                effect: allow
                sql: { statements: [insert, update] }
              - id: review-updates
                effect: review
                review: { groups: [dba] }
                sql: { statements: [update], tables: [payments] }
              - id: no-updates-of-ledger
                effect: deny
                sql: { statements: [update], tables_written: [ledger] }
            """);
    Action upsertLedger = multi("ledger", true, "update", "insert");
    Action deleteThenInsert = multi("ledger", true, "delete", "insert");

    Action mergeDeleting = multi("ledger", true, "merge", "delete");
    PolicySet noDeletes =
        policy(
            """
            rules:
              - id: writes
                effect: allow
                sql: { statements: [write] }
              - id: no-deletes
                effect: deny
                sql: { statements: [delete] }
            """);

    assertThat(decide(noDeletes, human("alice"), target("db"), mergeDeleting).rule())
        .isEqualTo("no-deletes");
    assertThat(effect(p, upsert(true))).isEqualTo(Effect.REVIEW);
    assertThat(effect(p, sqlWrite("insert", false, "payments"))).isEqualTo(Effect.ALLOW);
    assertThat(decide(p, human("alice"), target("db"), upsertLedger).rule())
        .isEqualTo("no-updates-of-ledger");
    assertThat(effect(p, deleteThenInsert)).isEqualTo(Effect.DENY);
  }

  @Test
  void aReviewRuleHoldsAStatementOnlyWhenEveryKindIsAdmitted() {
    // rt12 finding 5: UPDATE t SET a = set_config('role', ...) is [set_role, update]; a rule
    // reviewing writes matched it on update and carried the role change into the review queue.
    String rules =
        """
        rules:
          - id: reads
            effect: allow
            sql: { statements: [read, session] }
          - id: writes-reviewed
            effect: review
            review: { groups: [dba] }
            sql: { statements: [insert, update, delete, merge], require_where: true }
        """;
    PolicySet p = policy(rules);
    Action roleInUpdate = multi("payments", true, "set_role", "update");
    Action fileInUpdate = multi("payments", true, "copy_program", "update");

    Decision d = decide(p, human("alice"), target("db"), roleInUpdate);
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(Decision.DEFAULT_DENY);
    assertThat(d.reason()).contains("set_role").contains("writes-reviewed");
    assertThat(effect(p, fileInUpdate)).isEqualTo(Effect.DENY);
    // what the rule is about is still held: plain writes, an upsert, a MERGE that deletes
    assertThat(effect(p, sqlWrite("update", true, "payments"))).isEqualTo(Effect.REVIEW);
    assertThat(effect(p, upsert(true))).isEqualTo(Effect.REVIEW);
    assertThat(effect(p, multi("payments", true, "merge", "delete"))).isEqualTo(Effect.REVIEW);

    // another kind is admitted by an allow or review rule that applies: held
    PolicySet roles =
        policy(
            rules
                + """
                  - id: roles
                    effect: allow
                    sql: { statements: [set_role] }
                """);
    assertThat(effect(roles, roleInUpdate)).isEqualTo(Effect.REVIEW);
    assertThat(
            String.join(
                "\n", decide(roles, human("alice"), target("db"), roleInUpdate).explanation()))
        .contains("rule roles (allow")
        .contains("admits kind set_role of this statement");
    // ... but not by one whose condition is false, nor one for someone else
    PolicySet notNow =
        policy(
            rules
                + """
                  - id: roles
                    effect: allow
                    when: "false"
                    sql: { statements: [set_role] }
                  - id: bobs-roles
                    subjects: { users: [bob] }
                    effect: review
                    review: { groups: [dba] }
                    sql: { statements: [set_role] }
                """);
    assertThat(effect(notNow, roleInUpdate)).isEqualTo(Effect.DENY);
    // a deny rule still matches on any kind
    PolicySet denyRoles =
        policy(
            rules
                + """
                  - id: no-roles
                    effect: deny
                    sql: { statements: [set_role] }
                """);
    assertThat(decide(denyRoles, human("alice"), target("db"), roleInUpdate).rule())
        .isEqualTo("no-roles");
  }

  @Test
  void aKindReviewedByAnotherRuleNeedsThatRulesReviewersToo() {
    // review 13, F4: UPDATE t SET a = set_config('role', ...) held by a rule reviewing writes (one
    // team lead) went to review with that rule's requirement only, although role changes are
    // reserved for two security approvers by another review rule.
    String writes =
        """
        rules:
          - id: writes-review
            effect: review
            review: { groups: [team-leads] }
            sql: { statements: [update] }
        """;
    Action roleInUpdate = multi("payments", true, "update", "set_role");
    PolicySet p =
        policy(
            writes
                + """
                  - id: roles-review
                    effect: review
                    review: { groups: [security], approvals: 2 }
                    sql: { statements: [set_role] }
                """);

    Decision d = decide(p, human("alice"), target("db"), roleInUpdate);
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(Decision.DEFAULT_DENY);
    assertThat(d.reason()).contains("writes-review").contains("roles-review").contains("set_role");
    assertThat(String.join("\n", d.explanation()))
        .contains("reviewed by rule roles-review, whose review requirement cannot be combined");
    // each rule alone still holds what it is about
    assertThat(decide(p, human("alice"), target("db"), sqlWrite("update", true, "payments")))
        .extracting(Decision::effect, Decision::rule)
        .containsExactly(Effect.REVIEW, "writes-review");

    // an allow rule admitting the kind does not skip the review rule about it (review > allow)
    PolicySet allowedToo =
        policy(
            writes
                + """
                  - id: roles-allowed
                    effect: allow
                    sql: { statements: [set_role] }
                  - id: roles-review
                    effect: review
                    review: { groups: [security], approvals: 2 }
                    sql: { statements: [set_role] }
                """);
    assertThat(decide(allowedToo, human("alice"), target("db"), roleInUpdate).rule())
        .isEqualTo(Decision.DEFAULT_DENY);

    // the same reviewers: one review asking for what both rules ask
    PolicySet sameGroups =
        policy(
            """
            rules:
              - id: writes-review
                effect: review
                review: { groups: [dba], expires_after: 2h }
                sql: { statements: [update] }
              - id: roles-review
                effect: review
                review: { groups: [dba], approvals: 2, require_justification: true, expires_after: 30m }
                sql: { statements: [set_role] }
            """);
    Decision both = decide(sameGroups, human("alice"), target("db"), roleInUpdate);
    assertThat(both.effect()).isEqualTo(Effect.REVIEW);
    assertThat(both.rule()).isEqualTo("writes-review");
    assertThat(both.review())
        .isEqualTo(
            new ReviewRequirement(
                List.of("dba"), 2, false, true, java.time.Duration.ofMinutes(30)));
    assertThat(String.join("\n", both.explanation())).contains("roles-review");

    // one requirement that meets the other: two security approvers also meet "one of
    // team-leads or security"
    PolicySet stronger =
        policy(
            """
            rules:
              - id: writes-review
                effect: review
                review: { groups: [team-leads, security] }
                sql: { statements: [update] }
              - id: roles-review
                effect: review
                review: { groups: [security], approvals: 2 }
                sql: { statements: [set_role] }
            """);
    assertThat(decide(stronger, human("alice"), target("db"), roleInUpdate).review())
        .isEqualTo(
            new ReviewRequirement(
                List.of("security"), 2, false, false, java.time.Duration.ofHours(1)));
  }

  /** SELECT reading {@code tables} (a join), as the classifier reports it. */
  private static Action reads(String... tables) {
    return Fixtures.attrs(
        ActionKind.SQL,
        Action.Attr.SQL_KIND,
        "select",
        Action.Attr.SQL_KINDS,
        List.of("select"),
        Action.Attr.SQL_TABLES_READ,
        List.of(tables));
  }

  /** A review rule without tables or functions: it covers every table and function. */
  private static final String SELECTS_REVIEW =
      """
      rules:
        - id: selects-review
          effect: review
          review: { groups: [team-leads] }
          sql: { statements: [select] }
      """;

  private static final String ORDERS_REVIEW =
      """
      rules:
        - id: orders-review
          effect: review
          review: { groups: [team-leads] }
          sql: { statements: [select], tables: [orders] }
      """;

  @Test
  void aTableReviewedByAnotherRuleNeedsThatRulesReviewersToo() {
    // SELECT * FROM orders JOIN payroll held by a rule reviewing orders (one team lead) went to
    // review with that rule's requirement only: payroll is reserved for two security approvers.
    PolicySet p =
        policy(
            ORDERS_REVIEW
                + """
                  - id: payroll-review
                    effect: review
                    review: { groups: [security], approvals: 2 }
                    sql: { tables: [payroll] }
                """);
    Action join = reads("orders", "payroll");

    Decision d = decide(p, human("alice"), target("db"), join);
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(Decision.DEFAULT_DENY);
    assertThat(d.reason())
        .contains("orders-review")
        .contains("payroll-review")
        .contains("table payroll");
    assertThat(String.join("\n", d.explanation()))
        .contains("its table payroll is reviewed by rule payroll-review, whose review requirement");
    // each table alone is still held by the rule about it (first matching rule decides)
    assertThat(decide(p, human("alice"), target("db"), reads("orders")))
        .extracting(Decision::effect, Decision::rule)
        .containsExactly(Effect.REVIEW, "orders-review");
    assertThat(decide(p, human("alice"), target("db"), reads("payroll")))
        .extracting(Decision::effect, Decision::rule)
        .containsExactly(Effect.REVIEW, "payroll-review");

    // the same reviewers: one review asking for what both rules ask
    PolicySet sameGroups =
        policy(
            ORDERS_REVIEW
                + """
                  - id: payroll-review
                    effect: review
                    review: { groups: [team-leads], approvals: 2, require_justification: true }
                    sql: { tables: [payroll] }
                """);
    Decision both = decide(sameGroups, human("alice"), target("db"), join);
    assertThat(both.effect()).isEqualTo(Effect.REVIEW);
    assertThat(both.rule()).isEqualTo("orders-review");
    assertThat(both.review())
        .isEqualTo(
            new ReviewRequirement(
                List.of("team-leads"), 2, false, true, java.time.Duration.ofHours(1)));
    assertThat(String.join("\n", both.explanation()))
        .contains("reviews table payroll of this statement: its review requirement is combined");

    // an allow rule admitting payroll too does not skip the review rule about it (review > allow)
    PolicySet allowedToo =
        policy(
            ORDERS_REVIEW
                + """
                  - id: payroll-read
                    effect: allow
                    sql: { statements: [read], tables: [payroll] }
                  - id: payroll-review
                    effect: review
                    review: { groups: [security], approvals: 2 }
                    sql: { tables: [payroll] }
                """);
    assertThat(decide(allowedToo, human("alice"), target("db"), join).rule())
        .isEqualTo(Decision.DEFAULT_DENY);
  }

  /**
   * With {@code review} (one review rule, {@code holder}) and, after it, each of the {@code allows}
   * (an allow rule's {@code sql:}), {@code a} is held by {@code holder} with {@code requirement}
   * unchanged, the allow rule admitting {@code part}.
   */
  private static void heldWithAllowRules(
      String review,
      String holder,
      Action a,
      ReviewRequirement requirement,
      String part,
      String... allows) {
    for (String allow : allows) {
      PolicySet p = policy(review + "  - id: admits\n    effect: allow\n    sql: " + allow + "\n");
      Decision held = decide(p, human("alice"), target("db"), a);
      assertThat(held.effect()).as(allow).isEqualTo(Effect.REVIEW);
      assertThat(held.rule()).isEqualTo(holder);
      assertThat(held.review()).isEqualTo(requirement);
      assertThat(String.join("\n", held.explanation()))
          .contains("admits " + part + " of this statement");
    }
  }

  @Test
  void aReviewRuleHoldsAJoinOnlyWhenAnotherRuleAdmitsTheTablesItIsNotAbout() {
    PolicySet alone = policy(ORDERS_REVIEW);
    Action join = reads("orders", "payroll");
    ReviewRequirement ordersOnly =
        decide(alone, human("alice"), target("db"), reads("orders")).review();

    // nothing admits payroll: the review of orders does not carry it along
    Decision d = decide(alone, human("alice"), target("db"), join);
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(Decision.DEFAULT_DENY);
    assertThat(d.reason())
        .isEqualTo(
            "no rule allows alice to run sql select on table payroll on db (the statement"
                + " touches orders, payroll; rule orders-review reviews only part of it)");
    assertThat(String.join("\n", d.explanation()))
        .contains("no allow or review rule admits its table payroll");
    // a single table it covers: unchanged
    assertThat(decide(alone, human("alice"), target("db"), reads("orders")))
        .extracting(Decision::effect, Decision::rule)
        .containsExactly(Effect.REVIEW, "orders-review");
    // ... also read in public (a bare name in the schemas PostgreSQL looks in)
    assertThat(
            decide(
                    policy(ORDERS_REVIEW.replace("[orders]", "[public.orders]")),
                    human("alice"),
                    target("db"),
                    join.with(Action.Attr.SQL_TABLES_READ, List.of("orders")))
                .effect())
        .isEqualTo(Effect.REVIEW);
    // a statement reading every table (planner statistics) is not all about orders
    assertThat(decide(alone, human("alice"), target("db"), reads("orders", "*")).rule())
        .isEqualTo(Decision.DEFAULT_DENY);

    // an allow rule admitting payroll for the statement: held by orders-review, its requirement
    heldWithAllowRules(
        ORDERS_REVIEW,
        "orders-review",
        join,
        ordersOnly,
        "table payroll",
        "{ statements: [read], tables: [payroll, public.payroll] }",
        "{ statements: [read] }");
    // ... but not one that allows other kinds only, or for another principal
    PolicySet otherKinds =
        policy(
            ORDERS_REVIEW
                + """
                  - id: payroll-insert
                    effect: allow
                    sql: { statements: [insert], tables: [payroll] }
                  - id: bobs-payroll
                    effect: allow
                    subjects: { users: [bob] }
                    sql: { statements: [read], tables: [payroll] }
                """);
    assertThat(decide(otherKinds, human("alice"), target("db"), join).rule())
        .isEqualTo(Decision.DEFAULT_DENY);

    // a review rule without tables matches every table: nothing to admit
    PolicySet anyTable = policy(SELECTS_REVIEW);
    assertThat(decide(anyTable, human("alice"), target("db"), join).rule())
        .isEqualTo("selects-review");
    // tables_written only: it covers what the statement reads, not other written tables
    PolicySet written =
        policy(
            """
            rules:
              - id: orders-writes
                effect: review
                review: { groups: [team-leads] }
                sql: { statements: [insert], tables_written: [orders] }
            """);
    Action insertSelect =
        sqlWrite("insert", false, "orders").with(Action.Attr.SQL_TABLES_READ, List.of("payroll"));
    assertThat(decide(written, human("alice"), target("db"), insertSelect).rule())
        .isEqualTo("orders-writes");
    assertThat(
            decide(written, human("alice"), target("db"), sqlWrite("insert", false, "orders", "x"))
                .rule())
        .isEqualTo(Decision.DEFAULT_DENY);
  }

  /**
   * A statement of {@code kind} calling {@code functions} (reading {@code tables}), as the
   * PostgreSQL classifier reports it: {@code opaque} and {@code readOnly} are its opaque_functions
   * and read_only_functions (checked for these statements in SqlClassifierTest).
   */
  private static Action calls(
      String kind,
      List<String> functions,
      List<String> opaque,
      List<String> readOnly,
      String... tables) {
    return Fixtures.attrs(
        ActionKind.SQL,
        Action.Attr.SQL_KIND,
        kind,
        Action.Attr.SQL_KINDS,
        List.of(kind),
        Action.Attr.SQL_TABLES_READ,
        List.of(tables),
        Action.Attr.SQL_FUNCTIONS,
        functions,
        Action.Attr.SQL_OPAQUE_FUNCTIONS,
        opaque,
        Action.Attr.SQL_READ_ONLY_FUNCTIONS,
        readOnly);
  }

  private static final String SLEEP_REVIEW =
      """
      rules:
        - id: sleep-review
          effect: review
          review: { groups: [team-leads] }
          sql: { functions: [pg_sleep] }
      """;

  /** SELECT pg_sleep(1), my_opaque_fn(). */
  private static final Action SLEEP_AND_OPAQUE =
      calls("select", List.of("pg_sleep", "my_opaque_fn"), List.of("my_opaque_fn"), List.of());

  @Test
  void aReviewRuleHoldsACallOnlyWhenAnotherRuleAdmitsTheFunctionsItIsNotAbout() {
    // A rule reviewing pg_sleep matched any statement calling it, and its approval let through
    // whatever else the statement called: a function of the database's own, lo_export.
    PolicySet alone = policy(SLEEP_REVIEW);
    Decision d = decide(alone, human("alice"), target("db"), SLEEP_AND_OPAQUE);
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(d.rule()).isEqualTo(Decision.DEFAULT_DENY);
    assertThat(d.reason())
        .isEqualTo(
            "no rule allows alice to run sql select calling function my_opaque_fn on db (the"
                + " statement calls pg_sleep, my_opaque_fn; rule sleep-review reviews only part of"
                + " it)");
    assertThat(String.join("\n", d.explanation()))
        .contains("no allow or review rule admits its function my_opaque_fn");
    // SELECT pg_sleep(1), lo_export(1, '/tmp/x'): copy_program, which the rule lists (it has no
    // statements), but it is no rule about server files
    Action loExport = calls("copy_program", List.of("pg_sleep", "lo_export"), List.of(), List.of());
    assertThat(decide(alone, human("alice"), target("db"), loExport).rule())
        .isEqualTo(Decision.DEFAULT_DENY);
    // read-only built-ins need no rule: SELECT now(), pg_sleep(1), lower('x') is held
    Action builtins =
        calls("select", List.of("now", "pg_sleep", "lower"), List.of(), List.of("now", "lower"));
    assertThat(decide(alone, human("alice"), target("db"), builtins))
        .extracting(Decision::effect, Decision::rule)
        .containsExactly(Effect.REVIEW, "sleep-review");
    // ... unless nothing says they are read-only (a policy test that does not state it)
    assertThat(
            decide(
                    alone,
                    human("alice"),
                    target("db"),
                    Fixtures.attrs(
                        ActionKind.SQL,
                        Action.Attr.SQL_KIND,
                        "select",
                        Action.Attr.SQL_FUNCTIONS,
                        List.of("now", "pg_sleep")))
                .rule())
        .isEqualTo(Decision.DEFAULT_DENY);
    // a function the rule names, also in pg_catalog (a bare name in the schemas PostgreSQL looks
    // in): covered
    assertThat(
            decide(
                    policy(SLEEP_REVIEW.replace("[pg_sleep]", "[pg_catalog.pg_sleep]")),
                    human("alice"),
                    target("db"),
                    calls("select", List.of("pg_sleep"), List.of(), List.of()))
                .effect())
        .isEqualTo(Effect.REVIEW);

    // an allow rule that would allow the statement calling only my_opaque_fn: held, requirement
    // unchanged
    ReviewRequirement sleepOnly = decide(alone, human("alice"), target("db"), builtins).review();
    heldWithAllowRules(
        SLEEP_REVIEW,
        "sleep-review",
        SLEEP_AND_OPAQUE,
        sleepOnly,
        "function my_opaque_fn",
        "{ statements: [read], functions: [my_opaque_fn] }",
        "{ statements: [read] }");
    // ... but not one guarded against opaque calls (the demo's engineering-read), nor one that
    // allows reads only (lo_export is copy_program)
    PolicySet guarded =
        policy(
            SLEEP_REVIEW
                + """
                  - id: engineering-read
                    effect: allow
                    when: action.kind != "sql" || size(action.attributes.opaque_functions) == 0
                    sql: { statements: [read] }
                """);
    assertThat(decide(guarded, human("alice"), target("db"), SLEEP_AND_OPAQUE).rule())
        .isEqualTo(Decision.DEFAULT_DENY);
    assertThat(decide(guarded, human("alice"), target("db"), loExport).rule())
        .isEqualTo(Decision.DEFAULT_DENY);
    assertThat(decide(guarded, human("alice"), target("db"), builtins).rule())
        .isEqualTo("sleep-review");

    // a review rule about the other function: the requirements combine, or the statement is
    // denied naming both rules
    PolicySet otherReviewers =
        policy(
            SLEEP_REVIEW
                + """
                  - id: fn-review
                    effect: review
                    review: { groups: [security], approvals: 2 }
                    sql: { functions: ["*.my_opaque_fn"] }
                """);
    Decision conflict = decide(otherReviewers, human("alice"), target("db"), SLEEP_AND_OPAQUE);
    assertThat(conflict.rule()).isEqualTo(Decision.DEFAULT_DENY);
    assertThat(conflict.reason())
        .contains("sleep-review")
        .contains("fn-review")
        .contains("function my_opaque_fn");
    PolicySet sameReviewers =
        policy(
            SLEEP_REVIEW
                + """
                  - id: fn-review
                    effect: review
                    review: { groups: [team-leads], approvals: 2 }
                    sql: { functions: [my_opaque_fn] }
                """);
    Decision both = decide(sameReviewers, human("alice"), target("db"), SLEEP_AND_OPAQUE);
    assertThat(both.effect()).isEqualTo(Effect.REVIEW);
    assertThat(both.rule()).isEqualTo("sleep-review");
    assertThat(both.review().approvals()).isEqualTo(2);
    assertThat(String.join("\n", both.explanation())).contains("rule(s) fn-review too");

    // a review rule without functions covers every function; a deny rule matches on any one
    PolicySet anyFunction = policy(SELECTS_REVIEW);
    assertThat(decide(anyFunction, human("alice"), target("db"), SLEEP_AND_OPAQUE).rule())
        .isEqualTo("selects-review");
    PolicySet denied =
        policy(
            SLEEP_REVIEW
                + """
                  - id: no-lo
                    effect: deny
                    sql: { functions: [lo_export] }
                """);
    assertThat(decide(denied, human("alice"), target("db"), loExport).rule()).isEqualTo("no-lo");
  }

  @Test
  void aReviewRuleNamingAReadOnlyBuiltInReviewsItWhicheverRuleComesFirst() {
    // Review 15: a read-only built-in was no part at all, so with fn-review first, SELECT my_fn(),
    // now() was held for fn-review's reviewers alone; with now-review first, fn-review's
    // requirement was combined in (or the statement denied). Now both orders give the same.
    String fnReview =
        """
          - id: fn-review
            effect: review
            review: { groups: [team-leads] }
            sql: { functions: [my_fn] }
        """;
    String nowReview =
        """
          - id: now-review
            effect: review
            review: { groups: [team-leads], approvals: 2 }
            sql: { functions: [now] }
        """;
    Action a = calls("select", List.of("my_fn", "now"), List.of("my_fn"), List.of("now"));
    for (String rules : List.of(fnReview + nowReview, nowReview + fnReview)) {
      Decision d = decide(policy("rules:\n" + rules), human("alice"), target("db"), a);
      assertThat(d.effect()).as(rules).isEqualTo(Effect.REVIEW);
      assertThat(d.review().approvals()).as(rules).isEqualTo(2);
    }
    // reviewers that cannot be combined: denied in both orders
    String securityNow = nowReview.replace("[team-leads]", "[security]");
    for (String rules : List.of(fnReview + securityNow, securityNow + fnReview)) {
      assertThat(decide(policy("rules:\n" + rules), human("alice"), target("db"), a).rule())
          .as(rules)
          .isEqualTo(Decision.DEFAULT_DENY);
    }
    // still no allow rule needed for now(); and a review rule that does not name now (one
    // without functions) is not pulled in by it: fn-review holds alone, as for SELECT my_fn()
    String selects =
        """
          - id: selects-review
            effect: review
            review: { groups: [security] }
            sql: { statements: [select] }
        """;
    Decision alone =
        decide(policy("rules:\n" + fnReview + selects), human("alice"), target("db"), a);
    assertThat(alone.rule()).isEqualTo("fn-review");
    assertThat(alone.review().reviewerGroups()).containsExactly("team-leads");
  }

  @Test
  void aReviewRuleWithTablesAndFunctionsNeedsBothAdmitted() {
    // SELECT pg_sleep(1), my_opaque_fn() FROM orders JOIN payroll, held by a rule about pg_sleep
    // on orders: payroll and my_opaque_fn are parts of their own. The statement narrowed to
    // my_opaque_fn still reads orders and payroll.
    String rules =
        """
        rules:
          - id: orders-sleep
            effect: review
            review: { groups: [team-leads] }
            sql: { tables: [orders], functions: [pg_sleep] }
        """;
    Action a =
        calls(
            "select",
            List.of("pg_sleep", "my_opaque_fn"),
            List.of("my_opaque_fn"),
            List.of("pg_sleep"),
            "orders",
            "payroll");
    PolicySet payrollOnly =
        policy(
            rules
                + """
                  - id: payroll-read
                    effect: allow
                    sql: { statements: [read], tables: [payroll] }
                """);
    Decision d = decide(payrollOnly, human("alice"), target("db"), a);
    assertThat(d.rule()).isEqualTo(Decision.DEFAULT_DENY);
    assertThat(d.reason()).contains("calling function my_opaque_fn");
    assertThat(String.join("\n", d.explanation()))
        .contains("payroll-read (allow")
        .contains("admits table payroll of this statement");

    PolicySet reads =
        policy(
            rules
                + """
                  - id: reads
                    effect: allow
                    sql: { statements: [read] }
                """);
    Decision held = decide(reads, human("alice"), target("db"), a);
    assertThat(held)
        .extracting(Decision::effect, Decision::rule)
        .containsExactly(Effect.REVIEW, "orders-sleep");
    assertThat(String.join("\n", held.explanation()))
        .contains("admits table payroll, function my_opaque_fn of this statement");

    // review rules for the table and the function, the same reviewers: one review
    PolicySet reviewed =
        policy(
            rules
                + """
                  - id: payroll-review
                    effect: review
                    review: { groups: [team-leads], require_justification: true }
                    sql: { tables: [payroll], functions: [pg_sleep] }
                  - id: fn-review
                    effect: review
                    review: { groups: [team-leads], approvals: 2 }
                    sql: { functions: [my_opaque_fn] }
                """);
    Decision combined = decide(reviewed, human("alice"), target("db"), a);
    assertThat(combined.effect()).isEqualTo(Effect.REVIEW);
    assertThat(combined.review())
        .isEqualTo(
            new ReviewRequirement(
                List.of("team-leads"), 2, false, true, java.time.Duration.ofHours(1)));
    assertThat(String.join("\n", combined.explanation()))
        .contains("rule(s) payroll-review, fn-review too");
  }

  @Test
  void otherKindsAndOtherTablesCombineIntoOneReview() {
    PolicySet p =
        policy(
            """
            rules:
              - id: orders-updates
                effect: review
                review: { groups: [dba] }
                sql: { statements: [update], tables: [orders] }
              - id: roles-review
                effect: review
                review: { groups: [dba], approvals: 2 }
                sql: { statements: [set_role], tables: [orders] }
              - id: payroll-review
                effect: review
                review: { groups: [dba], require_justification: true }
                sql: { tables: [payroll] }
            """);
    Action a =
        multi("orders", true, "update", "set_role")
            .with(Action.Attr.SQL_TABLES_READ, List.of("payroll"));

    Decision d = decide(p, human("alice"), target("db"), a);
    assertThat(d.effect()).isEqualTo(Effect.REVIEW);
    assertThat(d.rule()).isEqualTo("orders-updates");
    assertThat(d.review())
        .isEqualTo(
            new ReviewRequirement(List.of("dba"), 2, false, true, java.time.Duration.ofHours(1)));
    assertThat(String.join("\n", d.explanation()))
        .contains("rule(s) roles-review, payroll-review too");
  }

  @Test
  void reviewRequirementsCombineOnlyWhenOneRequirementSaysBoth() {
    ReviewRequirement oneLead = new ReviewRequirement(List.of("leads"), 1, false, false, null);
    ReviewRequirement twoSecurity =
        new ReviewRequirement(List.of("security"), 2, false, false, null);
    ReviewRequirement leadAndSecurity =
        new ReviewRequirement(List.of("leads", "security"), 2, true, false, null);
    ReviewRequirement leadOrSecurity =
        new ReviewRequirement(List.of("security", "leads"), 1, false, false, null);

    assertThat(PolicySet.combine(oneLead, twoSecurity)).isNull();
    assertThat(PolicySet.combine(twoSecurity, oneLead)).isNull();
    // all_groups cannot be met by approvers of a subset of its groups
    assertThat(PolicySet.combine(twoSecurity, leadAndSecurity)).isNull();
    assertThat(PolicySet.combine(leadOrSecurity, twoSecurity)).isEqualTo(twoSecurity);
    // the same groups: the most approvals, all_groups if either says so
    assertThat(PolicySet.combine(leadOrSecurity, leadAndSecurity))
        .isEqualTo(new ReviewRequirement(List.of("security", "leads"), 2, true, false, null));
    assertThat(PolicySet.combine(leadAndSecurity, leadOrSecurity)).isEqualTo(leadAndSecurity);
    assertThat(PolicySet.combine(oneLead, null)).isNull();
  }

  @Test
  void requireWhereAppliesToTheUpdateOfAnUpsert() {
    PolicySet p =
        policy(
            "rules: [{ id: w, effect: allow, sql: { statements: [write], require_where: true } }]");

    assertThat(effect(p, upsert(false))).isEqualTo(Effect.DENY);
    assertThat(effect(p, upsert(true))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, sqlWrite("insert", false, "payments"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void aNameIsBareWhenItHasNoDotOutsideQuotes() {
    assertThat(SqlMatcher.isBare("payments")).isTrue();
    assertThat(SqlMatcher.isBare("\"pay.ments\"")).isTrue();
    assertThat(SqlMatcher.isBare("\"a\"\".b\"")).isTrue();
    assertThat(SqlMatcher.isBare("public.payments")).isFalse();
    assertThat(SqlMatcher.isBare("\"billing.prod\".payments")).isFalse();
    assertThat(SqlMatcher.isBare("app.\"pay.ments\"")).isFalse();
  }
}
