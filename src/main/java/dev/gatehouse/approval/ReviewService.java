package dev.gatehouse.approval;

import dev.gatehouse.approval.ReviewException.Kind;
import dev.gatehouse.approval.ReviewStore.GrantRow;
import dev.gatehouse.approval.ReviewStore.Row;
import dev.gatehouse.approval.ReviewStore.VoteRow;
import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import dev.gatehouse.config.GatehouseConfig.ApprovalsConfig;
import dev.gatehouse.gate.GrantSource;
import dev.gatehouse.gate.Redactor;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.ReviewRequirement;
import dev.gatehouse.policy.Target;
import dev.gatehouse.store.Database;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Just-in-time approvals: "one command, one decision". Holds exactly the request the policy sent
 * for review, asks the right people, and lets it run once they approve. Also files and serves
 * time-boxed grants (roles on one connection until a deadline).
 *
 * <p>Everything lives in the store (tables {@code reviews}, {@code review_votes}, {@code grants}),
 * so any replica can vote on a review filed on another, and a restart loses nothing. A held caller
 * parks its (virtual) thread on a {@link Condition}; it is woken by a vote on this replica, by
 * {@code NOTIFY gatehouse_reviews} from another replica (PostgreSQL store), and in any case by
 * polling its review every {@code pollInterval} (the only mechanism on H2, and the fallback when
 * the LISTEN connection is lost).
 *
 * <p>An approved one-shot review is spent by a single conditional UPDATE, so it runs at most once
 * across all replicas, within its validity window. A caller that disconnected while held stops
 * waiting ({@link Waiting#present}) and its request does not run, even if the approval comes later;
 * it re-runs the identical request after approval: the request fingerprint ({@link Fingerprint},
 * bound to exactly what runs as the protocol reads it) finds the approval.
 *
 * <pre>
 *   session ──await()──▶ approved&amp;unused for fingerprint? ── yes ─▶ consume ─▶ run
 *                         │ no
 *                         ▼
 *                       pending for fingerprint? ── no ─▶ file rv_… ─▶ webhooks
 *                         ▼
 *                       held(id) ─▶ park ◀── vote here / NOTIFY / poll
 *                         ▼
 *                       approved ─▶ consume ─▶ run │ denied/expired ─▶ 42501 │ maxWait ─▶ stays pending
 * </pre>
 *
 * <p>What people type is masked as it comes in, with the stored-text redactor the notifier and the
 * session recordings use ({@link Redactor#redactStored}): the statement shown to reviewers (with
 * its justification comment and its literals), the justification, a grant's reason and every vote's
 * reason. The store, the API, the audit log and the webhooks then carry only masked text, while the
 * held statement runs as it came (its fingerprint is taken over the unmasked request).
 */
public final class ReviewService implements ReviewGate, GrantSource, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReviewService.class);

  /** The PostgreSQL notification channel; the payload is the review id. */
  static final String CHANNEL = "gatehouse_reviews";

  /** Action attribute in which a protocol passes the requester's justification. */
  public static final String JUSTIFICATION = Action.Attr.JUSTIFICATION;

  static final Duration DEFAULT_MAX_WAIT = Duration.ofMinutes(15);
  static final Duration DEFAULT_EXPIRY = Duration.ofHours(1);

  /** The longest grant one can ask for: long-lived access belongs in the policy, not a grant. */
  static final Duration MAX_GRANT = Duration.ofDays(1);

  /**
   * Grant reviewers when none are configured: one approval from the {@code admins} group, with a
   * reason.
   */
  public static final Function<String, ReviewRequirement> ADMINS_APPROVE_GRANTS =
      role -> new ReviewRequirement(List.of("admins"), 1, false, true, null);

  /**
   * Knobs for tests and operators.
   *
   * @param pollInterval how often a held caller re-reads its review, and the sweeper runs
   * @param listen LISTEN for votes from other replicas (PostgreSQL store only)
   * @param grantCacheTtl how long the in-memory copy of the grants is used before reloading
   */
  record Tuning(Duration pollInterval, boolean listen, Duration grantCacheTtl) {
    static final Tuning DEFAULT = new Tuning(Duration.ofSeconds(1), true, Duration.ofSeconds(1));
  }

  private static final String ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";

  private final Database db;
  private final AuditLog audit;
  private final Duration maxWait;
  private final Duration defaultExpiry;
  private final Clock clock;
  private final ReviewNotifier notifier;
  private final Redactor redactor;
  private final Function<String, ReviewRequirement> grantRules;
  private final Tuning tuning;
  private final SecureRandom random = new SecureRandom();
  private final ConcurrentHashMap<String, Signal> signals = new ConcurrentHashMap<>();
  private final ScheduledExecutorService sweeper;
  private final Thread listener;
  private final ReentrantLock grantLoad = new ReentrantLock();
  private final AtomicLong grantGeneration = new AtomicLong();
  private volatile GrantCache grantCache;
  private volatile boolean closed;

  /**
   * A review service whose grant requests are approved by the {@code admins} group ({@link
   * #ADMINS_APPROVE_GRANTS}).
   */
  public ReviewService(
      Database db, AuditLog audit, ApprovalsConfig config, Clock clock, ReviewNotifier notifier) {
    this(db, audit, config, clock, notifier, ADMINS_APPROVE_GRANTS);
  }

  /**
   * @param grantRules who reviews a request for a role (by role name); return null for a role that
   *     cannot be requested
   */
  public ReviewService(
      Database db,
      AuditLog audit,
      ApprovalsConfig config,
      Clock clock,
      ReviewNotifier notifier,
      Function<String, ReviewRequirement> grantRules) {
    this(db, audit, config, clock, notifier, grantRules, Tuning.DEFAULT);
  }

  /** Starts the expiry sweeper and, on PostgreSQL, the LISTEN thread; {@link #close} stops them. */
  ReviewService(
      Database db,
      AuditLog audit,
      ApprovalsConfig config,
      Clock clock,
      ReviewNotifier notifier,
      Function<String, ReviewRequirement> grantRules,
      Tuning tuning) {
    this.db = java.util.Objects.requireNonNull(db, "db");
    this.audit = java.util.Objects.requireNonNull(audit, "audit");
    this.clock = clock == null ? Clock.systemUTC() : clock;
    this.notifier = notifier == null ? ReviewNotifier.none(audit) : notifier;
    this.redactor = this.notifier.redactor();
    this.grantRules = grantRules == null ? ADMINS_APPROVE_GRANTS : grantRules;
    this.tuning = tuning;
    this.maxWait = positiveOr(config == null ? null : config.maxWait(), DEFAULT_MAX_WAIT);
    this.defaultExpiry = positiveOr(config == null ? null : config.defaultExpiry(), DEFAULT_EXPIRY);
    this.sweeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "review-sweeper");
              t.setDaemon(true);
              return t;
            });
    long every = tuning.pollInterval().toMillis();
    sweeper.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
    if (tuning.listen() && db.dialect() == Database.Dialect.POSTGRES) {
      listener = new Thread(this::listen, "review-listener");
      listener.setDaemon(true);
      listener.start();
    } else {
      listener = null;
    }
  }

  // ---------------------------------------------------------------- holding (ReviewGate)

  @Override
  public Outcome await(
      String sessionId,
      Principal principal,
      Target target,
      Action action,
      Decision decision,
      Waiting waiting)
      throws InterruptedException {
    ReviewRequirement req = decision.review();
    if (req == null || req.reviewerGroups().isEmpty()) {
      return new Outcome(
          false,
          null,
          "rule "
              + decision.rule()
              + " asks for review but names no reviewer groups (expected: at least one)");
    }
    String fingerprint =
        Fingerprint.of(principal.subject(), target.name(), action, waiting.exactly(action));
    boolean defer = waiting.defersSpending();
    Optional<String> spent =
        defer
            ? findApproved(fingerprint, decision.rule())
            : consumeApproved(fingerprint, decision.rule(), sessionId, principal, target);
    if (spent.isPresent()) {
      return new Outcome(true, spent.get(), "approved");
    }
    long now = clock.millis();
    Row row =
        db.transaction(
            c ->
                ReviewStore.byFingerprint(c, fingerprint, "pending", now).stream()
                    .filter(r -> r.rule().equals(decision.rule()))
                    .findFirst()
                    .orElse(null));
    if (row == null) {
      String justification = justification(action);
      if (req.requireJustification() && justification == null) {
        return new Outcome(
            false,
            null,
            "rule "
                + decision.rule()
                + " needs a justification before it can be reviewed; none was given. "
                + (action.kind() == ActionKind.SQL
                    ? "Start the statement with a comment such as"
                        + " /* justification: TICKET-123 */ and re-run"
                    : "Give one with the request (attribute \""
                        + JUSTIFICATION
                        + "\") and re-run"));
      }
      row =
          file(
              sessionId,
              principal,
              target,
              action,
              waiting.shownMasked(
                  action, t -> redactor.redactStored(decision.obligations().maskingProfile(), t)),
              decision,
              req,
              fingerprint,
              justification);
    }
    waiting.held(row.id(), heldMessage(row));
    return waitFor(row.id(), sessionId, waiting);
  }

  /** {@link #consumeApproved} without spending it: for {@link Waiting#defersSpending}. */
  private Optional<String> findApproved(String fingerprint, String rule) {
    long now = clock.millis();
    return db.transaction(
        c -> {
          for (Row r : ReviewStore.byFingerprint(c, fingerprint, "approved", now)) {
            if (r.consumedAt() == null && r.rule().equals(rule)) {
              return Optional.of(r.id());
            }
          }
          return Optional.<String>empty();
        });
  }

  /**
   * All or none: the approvals of one message's statements are spent in one transaction, rolled
   * back when one of them was used meanwhile or has lapsed, so that a message refused for that
   * reason leaves the others unspent for its re-run.
   */
  @Override
  public boolean spendAll(List<String> reviewIds, String sessionId) {
    long now = clock.millis();
    try {
      return db.transaction(
          c -> {
            List<Row> spent = new ArrayList<>(reviewIds.size());
            // In id order: two messages spending the same reviews lock their rows in one order.
            for (String id : reviewIds.stream().sorted().toList()) {
              Row r = ReviewStore.find(c, id, false).orElse(null);
              if (r == null || !ReviewStore.consume(c, r.id(), sessionId, now)) {
                throw new NotAll();
              }
              spent.add(r);
            }
            // Audited once all are spent: a rolled-back spending must not be logged as consumed.
            for (Row r : spent) {
              auditConsumed(r.id(), r.subject(), sessionId, r.connection(), r.rule());
            }
            return true;
          });
    } catch (NotAll e) {
      return false;
    }
  }

  /** Rolls back {@link #spendAll}'s transaction: one of the approvals cannot be spent. */
  private static final class NotAll extends RuntimeException {
    NotAll() {
      super(null, null, false, false);
    }
  }

  @Override
  public void notExecuted(String reviewId, String sessionId, String why) {
    auditRun("review.not_executed", reviewId, sessionId, why);
  }

  @Override
  public void outcomeUnknown(String reviewId, String sessionId, String why) {
    auditRun("review.outcome_unknown", reviewId, sessionId, why);
  }

  /** Audits {@code event} about how review {@code reviewId}'s statement ran (or did not). */
  private void auditRun(String event, String reviewId, String sessionId, String why) {
    try {
      db.transaction(
          c -> {
            Row r = ReviewStore.find(c, reviewId, false).orElse(null);
            if (r != null) {
              appendAudit(
                  event,
                  r.subject(),
                  sessionId,
                  r.connection(),
                  data("review_id", r.id(), "session_id", sessionId, "reason", why));
            }
            return null;
          });
    } catch (RuntimeException e) {
      log.warn("cannot record {} for review {}", event, reviewId, e);
    }
  }

  /** Spends review {@code id}'s approval and audits it, in one transaction; false if unusable. */
  private boolean consumeIn(
      java.sql.Connection c,
      String id,
      String subject,
      String sessionId,
      String connection,
      String rule,
      long now)
      throws java.sql.SQLException {
    if (!ReviewStore.consume(c, id, sessionId, now)) {
      return false;
    }
    // Inside the transaction: if the audit log cannot take it, the approval stays unspent.
    auditConsumed(id, subject, sessionId, connection, rule);
    return true;
  }

  private void auditConsumed(
      String id, String subject, String sessionId, String connection, String rule) {
    appendAudit(
        "review.consumed",
        subject,
        sessionId,
        connection,
        data("review_id", id, "session_id", sessionId, "rule", rule));
  }

  /**
   * Spends an approved, unexpired, unused review of this fingerprint filed under the same rule, if
   * there is one. Requiring the same rule means a policy change that moves the request to another
   * rule (other reviewers, more approvals) asks again rather than honouring the old approval.
   */
  private Optional<String> consumeApproved(
      String fingerprint, String rule, String sessionId, Principal principal, Target target) {
    long now = clock.millis();
    return db.transaction(
        c -> {
          for (Row r : ReviewStore.byFingerprint(c, fingerprint, "approved", now)) {
            if (r.consumedAt() == null
                && r.rule().equals(rule)
                && consumeIn(
                    c, r.id(), principal.subject(), sessionId, target.name(), r.rule(), now)) {
              return Optional.of(r.id());
            }
          }
          return Optional.<String>empty();
        });
  }

  private Row file(
      String sessionId,
      Principal principal,
      Target target,
      Action action,
      String shown,
      Decision decision,
      ReviewRequirement req,
      String fingerprint,
      String justification) {
    long now = clock.millis();
    Duration expiry = positiveOr(req.expiresAfter(), defaultExpiry);
    String profile = decision.obligations().maskingProfile();
    Row row =
        new Row(
            newId("rv_"),
            "action",
            "pending",
            fingerprint,
            sessionId,
            principal.subject(),
            target.name(),
            action.kind().wireName(),
            shown, // masked by the protocol's rules (Waiting.shownMasked)
            decision.rule(),
            decision.reason(),
            req.reviewerGroups(),
            Math.max(1, req.approvals()),
            req.allGroups(),
            masked(profile, justification),
            profile,
            now,
            now + expiry.toMillis(),
            expiry.toMillis(),
            null,
            null,
            null,
            null,
            null,
            notifier.enabled() ? "sending" : "none",
            null,
            null);
    db.transaction(
        c -> {
          ReviewStore.insert(c, row);
          // The statement itself is not audited here: the session recording holds its masked form,
          // linked by review id, once it is decided. Nor is its fingerprint: an
          // unkeyed SHA-256 over the unmasked request, it would let a reader of the exported log
          // test guesses of a masked value (an SSN has 10^9 candidates).
          appendAudit(
              "review.requested",
              principal.subject(),
              sessionId,
              target.name(),
              data(
                  "review_id", row.id(),
                  "kind", "action",
                  "action_kind", row.actionKind(),
                  "rule", row.rule(),
                  "reviewers", row.reviewerGroups(),
                  "approvals", row.approvalsRequired(),
                  "all_groups", row.allGroups(),
                  "justification", row.justification(),
                  "expires_at", Instant.ofEpochMilli(row.expiresAt()).toString()));
          return null;
        });
    sendNotifications(row);
    return row;
  }

  private Outcome waitFor(String id, String sessionId, Waiting waiting)
      throws InterruptedException {
    Signal s = signals.compute(id, (k, v) -> (v == null ? new Signal() : v).enter());
    long deadline = clock.millis() + maxWait.toMillis();
    try {
      while (true) {
        long seen = s.generation();
        if (closed) {
          return new Outcome(
              false,
              id,
              "the gateway is shutting down; review "
                  + id
                  + " stays pending; re-run after approval");
        }
        Row r = db.transaction(c -> ReviewStore.find(c, id, false)).orElse(null);
        if (r == null) {
          return new Outcome(false, id, "review " + id + " no longer exists");
        }
        long now = clock.millis();
        if ((r.state().equals("pending") || r.state().equals("approved")) && !waiting.present()) {
          // Checked before an approval is spent: a caller that is gone must not have its request
          // run behind it (nobody would see the result). The approval stays for an identical
          // re-run.
          return callerGone(r);
        }
        switch (r.state()) {
          case "approved" -> {
            return afterApproval(r, sessionId, waiting.defersSpending());
          }
          case "denied" -> {
            return new Outcome(false, id, deniedReason(r));
          }
          case "expired" -> {
            return new Outcome(false, id, "review expired");
          }
          default -> {
            // pending: keep waiting
          }
        }
        if (now >= r.expiresAt()) {
          expire(id, now);
          continue;
        }
        if (now >= deadline) {
          return new Outcome(
              false,
              id,
              "still pending after "
                  + Durations.format(maxWait)
                  + "; re-run after approval (review "
                  + id
                  + ")");
        }
        long sleep =
            Math.min(
                tuning.pollInterval().toMillis(), Math.min(deadline - now, r.expiresAt() - now));
        s.awaitChange(seen, Math.max(1, sleep));
      }
    } finally {
      signals.computeIfPresent(id, (k, v) -> v.exit());
    }
  }

  private Outcome afterApproval(Row r, String sessionId, boolean defer) {
    long now = clock.millis();
    boolean spent =
        defer
            ? r.consumedAt() == null // spent by ReviewGate.spend once the whole message is allowed
            : db.transaction(
                c -> consumeIn(c, r.id(), r.subject(), sessionId, r.connection(), r.rule(), now));
    if (spent) {
      return new Outcome(true, r.id(), "approved by " + r.decidedBy());
    }
    return new Outcome(
        false,
        r.id(),
        "review "
            + r.id()
            + " was approved, but its approval was already used or has lapsed; re-run to file a"
            + " new review");
  }

  private static Outcome callerGone(Row r) {
    return new Outcome(
        false,
        r.id(),
        "not executed: the caller disconnected while held; review "
            + r.id()
            + (r.state().equals("approved")
                ? " stays approved for an identical re-run"
                : " stays pending"));
  }

  private static String deniedReason(Row r) {
    return "denied by "
        + r.decidedBy()
        + (r.decisionReason() == null ? " (no reason given)" : ": " + r.decisionReason());
  }

  private String heldMessage(Row r) {
    StringBuilder sb =
        new StringBuilder("held for review ")
            .append(r.id())
            .append(": needs ")
            .append(Tally.describe(r.reviewerGroups(), r.approvalsRequired(), r.allGroups()))
            .append("; approve with: gatehouse reviews approve ")
            .append(r.id());
    String link = notifier.link(r.id());
    if (link != null) {
      sb.append(" or at ").append(link);
    }
    return sb.toString();
  }

  /**
   * The profile a grant request's reason (and its votes' reasons) are masked with: no rule with
   * masking obligations decides a grant request, so it gets {@code pii}, the profile masking falls
   * back to for an unknown one (fail closed): a reason names a ticket, not a card number.
   */
  static final String GRANT_PROFILE = "pii";

  /**
   * Free text a person typed (a justification, a reason), stripped, as it may be stored and shown
   * to others ({@link Redactor#redactStored}); null when blank.
   */
  private String masked(String profile, String text) {
    return text == null || text.isBlank() ? null : redactor.redactStored(profile, text.strip());
  }

  /** From the action attribute the protocol filled in (for SQL, from a leading comment). */
  private static String justification(Action action) {
    String j = action.string(JUSTIFICATION);
    return j == null || j.isBlank() ? null : j.strip();
  }

  // ---------------------------------------------------------------- voting

  /** Approves as {@code reviewer}; releases the held request once the review's rules are met. */
  public ReviewView approve(String id, Principal reviewer, String reason) {
    return vote(id, reviewer, true, reason);
  }

  /** Denies as {@code reviewer}: one deny from an eligible reviewer ends the request. */
  public ReviewView deny(String id, Principal reviewer, String reason) {
    return vote(id, reviewer, false, reason);
  }

  private ReviewView vote(String id, Principal reviewer, boolean approve, String reason) {
    long now = clock.millis();
    boolean[] grantApproved = {false};
    ReviewView after =
        db.transaction(
            c -> {
              Row r =
                  ReviewStore.find(c, id, true)
                      .orElseThrow(
                          () ->
                              new ReviewException(
                                  Kind.NOT_FOUND, "review " + id + " does not exist"));
              // The reason is shown to the requester and other reviewers, stored and exported:
              // masked for the review's profile, as its statement is, and by content when that
              // profile reads data unmasked (a reviewer's words are not the requester's data).
              String why =
                  reason == null || reason.isBlank()
                      ? null
                      : redactor.redactTyped(r.maskingProfile(), GRANT_PROFILE, reason.strip());
              if (!r.state().equals("pending")) {
                throw new ReviewException(
                    Kind.CONFLICT,
                    "review "
                        + id
                        + " is already "
                        + r.state()
                        + (r.decidedBy() == null ? "" : " (by " + r.decidedBy() + ")"));
              }
              if (now >= r.expiresAt()) {
                throw new ReviewException(
                    Kind.CONFLICT,
                    "review " + id + " expired at " + Instant.ofEpochMilli(r.expiresAt()));
              }
              if (r.subject().equals(reviewer.subject())) {
                throw new ReviewException(
                    Kind.FORBIDDEN,
                    "\""
                        + reviewer.subject()
                        + "\" filed review "
                        + id
                        + " and cannot review it: self-approval never counts, not even for"
                        + " admins (expected: a member of "
                        + String.join(" or ", r.reviewerGroups())
                        + ")");
              }
              List<String> asGroups = new ArrayList<>();
              for (String g : r.reviewerGroups()) {
                if (reviewer.groups().contains(g)) {
                  asGroups.add(g);
                }
              }
              if (asGroups.isEmpty()) {
                throw new ReviewException(
                    Kind.FORBIDDEN,
                    "\""
                        + reviewer.subject()
                        + "\" is not a reviewer of review "
                        + id
                        + " (expected: a member of "
                        + String.join(" or ", r.reviewerGroups())
                        + ")");
              }
              List<VoteRow> votes = new ArrayList<>(ReviewStore.votes(c, id));
              if (votes.stream().anyMatch(v -> v.voter().equals(reviewer.subject()))) {
                throw new ReviewException(
                    Kind.CONFLICT, "\"" + reviewer.subject() + "\" already voted on review " + id);
              }
              String verdict = approve ? "approve" : "deny";
              ReviewStore.insertVote(c, id, reviewer.subject(), verdict, why, asGroups, now);
              votes.add(new VoteRow(reviewer.subject(), verdict, why, asGroups, now));
              appendAudit(
                  "review.vote",
                  reviewer.subject(),
                  r.sessionId(),
                  r.connection(),
                  data(
                      "review_id", id,
                      "vote", verdict,
                      "reviewer", reviewer.subject(),
                      "as_groups", asGroups,
                      "reason", why));
              if (!approve) {
                ReviewStore.decide(c, id, "denied", now, reviewer.subject(), why, r.expiresAt());
                appendAudit(
                    "review.denied",
                    reviewer.subject(),
                    r.sessionId(),
                    r.connection(),
                    data("review_id", id, "by", reviewer.subject(), "reason", why));
              } else if (Tally.satisfied(
                  r.reviewerGroups(),
                  r.approvalsRequired(),
                  r.allGroups(),
                  Tally.approvers(votes))) {
                approved(c, r, reviewer, why, votes, now);
                grantApproved[0] = r.kind().equals("grant");
              }
              notifyReplicas(c, id);
              return load(c, id).orElseThrow();
            });
    signal(id);
    if (grantApproved[0]) {
      grantGeneration.incrementAndGet(); // this replica sees the new grant at once
    }
    return after;
  }

  private void approved(
      Connection c, Row r, Principal reviewer, String why, List<VoteRow> votes, long now)
      throws SQLException {
    // A one-shot approval is valid for the rule's expiry from the moment it is given, so a caller
    // who disconnected has that long to re-run it.
    long validUntil = r.kind().equals("action") ? now + r.expiresAfterMs() : r.expiresAt();
    ReviewStore.decide(c, r.id(), "approved", now, reviewer.subject(), why, validUntil);
    appendAudit(
        "review.approved",
        reviewer.subject(),
        r.sessionId(),
        r.connection(),
        data(
            "review_id", r.id(),
            "approvers", List.copyOf(Tally.approvers(votes).keySet()),
            "valid_until", Instant.ofEpochMilli(validUntil).toString()));
    if (r.kind().equals("grant")) {
      GrantRow g =
          new GrantRow(
              newId("gr_"),
              r.id(),
              r.subject(),
              r.connection(),
              r.grantRole(),
              now,
              now + r.grantDurationMs());
      ReviewStore.insertGrant(c, g);
      appendAudit(
          "grant.approved",
          reviewer.subject(),
          null,
          r.connection(),
          data(
              "review_id", r.id(),
              "grant_id", g.id(),
              "subject", r.subject(),
              "role", g.role(),
              "starts_at", Instant.ofEpochMilli(g.startsAt()).toString(),
              "ends_at", Instant.ofEpochMilli(g.endsAt()).toString()));
    }
  }

  // ---------------------------------------------------------------- reading

  /**
   * Reviews in a state, newest first.
   *
   * @param state pending, approved, denied, expired or all
   * @param limit at most this many (1..500)
   */
  public List<ReviewView> list(String state, int limit) {
    String s = state == null || state.isBlank() ? "all" : state.strip();
    if (!List.of("pending", "approved", "denied", "expired", "all").contains(s)) {
      throw new ReviewException(
          Kind.INVALID,
          "state: " + state + " (expected: pending, approved, denied, expired or all)");
    }
    expireDue();
    int n = Math.max(1, Math.min(500, limit));
    return db.transaction(
        c -> {
          List<ReviewView> out = new ArrayList<>();
          for (Row r : ReviewStore.list(c, s.equals("all") ? null : s, null, null, n)) {
            out.add(view(r, ReviewStore.votes(c, r.id())));
          }
          return out;
        });
  }

  /** One review with its votes. */
  public Optional<ReviewView> show(String id) {
    expireDue();
    return db.transaction(c -> load(c, id));
  }

  private static Optional<ReviewView> load(Connection c, String id) throws SQLException {
    Optional<Row> r = ReviewStore.find(c, id, false);
    if (r.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(view(r.get(), ReviewStore.votes(c, id)));
  }

  private static ReviewView view(Row r, List<VoteRow> votes) {
    return new ReviewView(
        r.id(),
        r.kind(),
        r.state(),
        r.subject(),
        r.connection(),
        r.actionKind(),
        r.rawText(),
        r.rule(),
        r.sessionId(),
        r.holdReason(),
        r.reviewerGroups(),
        r.approvalsRequired(),
        r.allGroups(),
        r.justification(),
        votes.stream()
            .map(
                v ->
                    new ReviewView.Vote(
                        v.voter(), v.verdict(), v.reason(), Instant.ofEpochMilli(v.createdAt())))
            .toList(),
        Instant.ofEpochMilli(r.createdAt()),
        Instant.ofEpochMilli(r.expiresAt()),
        instant(r.decidedAt()),
        r.decidedBy(),
        r.decisionReason(),
        instant(r.consumedAt()),
        r.consumedSession(),
        r.notificationStatus(),
        r.grantRole(),
        r.grantDurationMs() == null ? null : Duration.ofMillis(r.grantDurationMs()));
  }

  // ---------------------------------------------------------------- grants (GrantSource)

  /**
   * Asks for {@code role} on {@code connection} for {@code duration}, from approval on. Files a
   * review of kind {@code grant} whose reviewers come from the grant rules given at construction.
   */
  public GrantView requestAccess(
      Principal requester, String connection, String role, Duration duration, String reason) {
    if (connection == null || connection.isBlank()) {
      throw new ReviewException(Kind.INVALID, "connection: blank (expected a connection name)");
    }
    if (role == null || role.isBlank() || role.contains(",")) {
      throw new ReviewException(
          Kind.INVALID, "role: " + role + " (expected a role name without commas)");
    }
    if (duration == null || duration.isNegative() || duration.isZero()) {
      throw new ReviewException(
          Kind.INVALID, "duration: " + duration + " (expected: more than 0, e.g. 30m)");
    }
    if (duration.compareTo(MAX_GRANT) > 0) {
      throw new ReviewException(
          Kind.INVALID,
          "duration: "
              + Durations.format(duration)
              + " (expected: at most "
              + Durations.format(MAX_GRANT)
              + ")");
    }
    ReviewRequirement req = grantRules.apply(role);
    if (req == null || req.reviewerGroups().isEmpty()) {
      throw new ReviewException(
          Kind.INVALID,
          "role " + role + " cannot be requested: no reviewers are configured for it");
    }
    String why = masked(GRANT_PROFILE, reason);
    if (req.requireJustification() && why == null) {
      throw new ReviewException(
          Kind.INVALID, "reason: blank (expected: why you need role " + role + ", e.g. a ticket)");
    }
    long now = clock.millis();
    Duration expiry = positiveOr(req.expiresAfter(), defaultExpiry);
    Row row =
        new Row(
            newId("rv_"),
            "grant",
            "pending",
            null,
            null,
            requester.subject(),
            connection,
            "grant",
            "grant role " + role + " on " + connection + " for " + Durations.format(duration),
            "grant:" + role,
            "time-boxed access to role " + role,
            req.reviewerGroups(),
            Math.max(1, req.approvals()),
            req.allGroups(),
            why,
            GRANT_PROFILE,
            now,
            now + expiry.toMillis(),
            expiry.toMillis(),
            null,
            null,
            null,
            null,
            null,
            notifier.enabled() ? "sending" : "none",
            role,
            duration.toMillis());
    db.transaction(
        c -> {
          ReviewStore.insert(c, row);
          appendAudit(
              "grant.requested",
              requester.subject(),
              null,
              connection,
              data(
                  "review_id", row.id(),
                  "role", role,
                  "duration", Durations.format(duration),
                  "reason", why,
                  "reviewers", row.reviewerGroups()));
          return null;
        });
    sendNotifications(row);
    return grantView(row, null, now);
  }

  /** Grant requests and grants, newest first; {@code subject} null means everyone's. */
  public List<GrantView> grants(String subject, int limit) {
    long now = clock.millis();
    int n = Math.max(1, Math.min(500, limit));
    return db.transaction(
        c -> {
          List<GrantView> out = new ArrayList<>();
          for (Row r : ReviewStore.list(c, null, "grant", subject, n)) {
            out.add(grantView(r, ReviewStore.grantOf(c, r.id()).orElse(null), now));
          }
          return out;
        });
  }

  private static GrantView grantView(Row r, GrantRow g, long now) {
    String state = r.state();
    if (g != null) {
      state = now < g.endsAt() ? "active" : "ended";
    } else if (state.equals("pending") && now >= r.expiresAt()) {
      state = "expired";
    }
    return new GrantView(
        r.id(),
        state,
        r.subject(),
        r.connection(),
        r.grantRole(),
        Duration.ofMillis(r.grantDurationMs()),
        r.justification(),
        Instant.ofEpochMilli(r.createdAt()),
        g == null ? null : Instant.ofEpochMilli(g.startsAt()),
        g == null ? null : Instant.ofEpochMilli(g.endsAt()));
  }

  /**
   * Roles of {@code principal}'s active grants on {@code connection}. Served from memory, reloaded
   * from the store at most every second, so grants approved on another replica appear within a
   * second. Ends are checked against {@code now} on every call, so a grant ends on time even
   * between reloads. If the store cannot be read, the last known grants are used (a grant can only
   * add privileges, so missing a new one is the safe error).
   */
  @Override
  public Set<String> activeRoles(Principal principal, String connection, Instant now) {
    List<GrantRow> rows = grants().byKey.get(key(principal.subject(), connection));
    if (rows == null) {
      return Set.of();
    }
    long t = now.toEpochMilli();
    Set<String> roles = new HashSet<>();
    for (GrantRow g : rows) {
      if (g.startsAt() <= t && t < g.endsAt()) {
        roles.add(g.role());
      }
    }
    return roles;
  }

  private GrantCache grants() {
    GrantCache c = grantCache;
    long generation = grantGeneration.get();
    if (c != null
        && c.generation == generation
        && System.nanoTime() - c.loadedNanos < tuning.grantCacheTtl().toNanos()) {
      return c;
    }
    // One caller reloads; the others keep using the old copy (ends are still exact) unless there
    // is none yet.
    if (c != null && !grantLoad.tryLock()) {
      return c;
    }
    if (c == null) {
      grantLoad.lock();
    }
    try {
      GrantCache current = grantCache;
      if (current != null && current != c && current.generation == generation) {
        return current; // another caller reloaded while we waited
      }
      long now = clock.millis();
      List<GrantRow> rows = db.transaction(conn -> ReviewStore.grantsEndingAfter(conn, now));
      Map<String, List<GrantRow>> byKey = new HashMap<>();
      for (GrantRow g : rows) {
        byKey.computeIfAbsent(key(g.subject(), g.connection()), k -> new ArrayList<>()).add(g);
      }
      // Tagged with the generation read before the query: a grant approved meanwhile makes this
      // copy stale at once, so the next call reloads.
      GrantCache fresh = new GrantCache(System.nanoTime(), generation, byKey);
      grantCache = fresh;
      return fresh;
    } catch (RuntimeException e) {
      log.warn("cannot reload grants; using the last known ones", e);
      return c == null ? GrantCache.EMPTY : c;
    } finally {
      grantLoad.unlock();
    }
  }

  private static String key(String subject, String connection) {
    return subject + '\u0000' + connection;
  }

  private record GrantCache(long loadedNanos, long generation, Map<String, List<GrantRow>> byKey) {
    static final GrantCache EMPTY = new GrantCache(0, -1, Map.of());
  }

  // ---------------------------------------------------------------- expiry, notification

  private void sweep() {
    try {
      expireDue();
      auditEndedGrants();
    } catch (RuntimeException e) {
      log.warn("review sweep failed; retrying", e);
    }
  }

  /** Expires every pending review past its expiry (each exactly once across replicas). */
  private void expireDue() {
    long now = clock.millis();
    for (String id : db.transaction(c -> ReviewStore.duePending(c, now))) {
      expire(id, now);
    }
  }

  private void expire(String id, long now) {
    boolean changed =
        db.transaction(
            c -> {
              Optional<Row> r = ReviewStore.find(c, id, true);
              if (r.isEmpty() || !ReviewStore.expire(c, id, now)) {
                return false;
              }
              appendAudit(
                  "review.expired",
                  "system",
                  r.get().sessionId(),
                  r.get().connection(),
                  data(
                      "review_id", id,
                      "kind", r.get().kind(),
                      "expired_at", Instant.ofEpochMilli(r.get().expiresAt()).toString()));
              notifyReplicas(c, id);
              return true;
            });
    if (changed) {
      signal(id);
    }
  }

  private void auditEndedGrants() {
    long now = clock.millis();
    db.transaction(
        c -> {
          for (GrantRow g : ReviewStore.endedUnaudited(c, now)) {
            if (ReviewStore.claimGrantEnd(c, g.id())) {
              appendAudit(
                  "grant.expired",
                  "system",
                  null,
                  g.connection(),
                  data(
                      "grant_id", g.id(),
                      "review_id", g.reviewId(),
                      "subject", g.subject(),
                      "role", g.role(),
                      "ended_at", Instant.ofEpochMilli(g.endsAt()).toString()));
            }
          }
          return null;
        });
  }

  private void sendNotifications(Row row) {
    if (!notifier.enabled()) {
      return;
    }
    notifier
        .send(view(row, List.of()), row.maskingProfile())
        .thenAccept(
            status -> {
              try {
                db.transaction(
                    c -> {
                      ReviewStore.notificationStatus(c, row.id(), status);
                      return null;
                    });
              } catch (RuntimeException e) {
                log.warn("cannot store notification status of review {}", row.id(), e);
              }
            });
  }

  // ---------------------------------------------------------------- across replicas

  /** NOTIFY at commit, so listeners on other replicas re-read the review. */
  private void notifyReplicas(Connection c, String id) throws SQLException {
    if (db.dialect() != Database.Dialect.POSTGRES) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
      ps.setString(1, CHANNEL);
      ps.setString(2, id);
      ps.execute();
    }
  }

  /**
   * Keeps one pooled connection LISTENing on {@link #CHANNEL} and wakes the waiters of each
   * notified review. After a lost connection it wakes every waiter (they re-read) and reconnects
   * with backoff; polling covers the gap.
   */
  private void listen() {
    long backoff = 500;
    while (!closed) {
      try (Connection c = db.dataSource().getConnection()) {
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN " + CHANNEL);
        }
        PGConnection pg = c.unwrap(PGConnection.class);
        signalAll();
        backoff = 500;
        try {
          while (!closed) {
            PGNotification[] ns = pg.getNotifications(500);
            if (ns != null) {
              for (PGNotification n : ns) {
                signal(n.getParameter());
              }
            }
          }
        } finally {
          // The connection goes back to the pool: do not leave it subscribed.
          try (Statement st = c.createStatement()) {
            st.execute("UNLISTEN *");
          } catch (SQLException ignored) {
            // closing anyway
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (closed) {
          return;
        }
        log.warn(
            "review listener lost its store connection; retrying in {} ms (polling continues)",
            backoff,
            e);
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ie) {
          return;
        }
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  private void signal(String id) {
    Signal s = signals.get(id);
    if (s != null) {
      s.fire();
    }
  }

  private void signalAll() {
    signals.values().forEach(Signal::fire);
  }

  /**
   * Wakes the callers held on one review. A lock and condition rather than {@code synchronized}, so
   * a parked virtual thread never pins its carrier.
   */
  private static final class Signal {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long generation;
    private int waiters; // changed only inside ConcurrentHashMap.compute for this key

    Signal enter() {
      waiters++;
      return this;
    }

    Signal exit() {
      return --waiters == 0 ? null : this;
    }

    long generation() {
      lock.lock();
      try {
        return generation;
      } finally {
        lock.unlock();
      }
    }

    void fire() {
      lock.lock();
      try {
        generation++;
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    void awaitChange(long seen, long millis) throws InterruptedException {
      long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
      lock.lock();
      try {
        while (generation == seen && nanos > 0) {
          nanos = changed.awaitNanos(nanos);
        }
      } finally {
        lock.unlock();
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private void appendAudit(
      String type, String actor, String sessionId, String connection, Map<String, Object> data) {
    audit.append(new AuditEvent(type, actor, sessionId, connection, data));
  }

  /** An audit data map from key/value pairs, leaving out null values. */
  private static Map<String, Object> data(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      if (kv[i + 1] != null) {
        m.put((String) kv[i], kv[i + 1]);
      }
    }
    return m;
  }

  private String newId(String prefix) {
    StringBuilder sb = new StringBuilder(prefix);
    for (int i = 0; i < 10; i++) {
      sb.append(ID_ALPHABET.charAt(random.nextInt(ID_ALPHABET.length())));
    }
    return sb.toString();
  }

  private static Instant instant(Long millis) {
    return millis == null ? null : Instant.ofEpochMilli(millis);
  }

  private static Duration positiveOr(Duration d, Duration fallback) {
    return d == null || d.isZero() || d.isNegative() ? fallback : d;
  }

  /** Stops the sweeper, the listener and the notifier; reviews stay in the store. */
  @Override
  public void close() {
    closed = true;
    signalAll(); // held callers get an answer now, not when the store is gone
    sweeper.shutdownNow();
    if (listener != null) {
      listener.interrupt();
      try {
        listener.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    notifier.close();
  }
}
