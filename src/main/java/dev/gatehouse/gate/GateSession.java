package dev.gatehouse.gate;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.Obligations;
import dev.gatehouse.policy.Target;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One caller's session on one connection. Created only by {@link Gate#open}. Thread-safe: a
 * protocol may authorize from its session thread while the sweeper ends the session on revocation.
 */
public final class GateSession implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GateSession.class);

  private final Gate gate;
  private final String id;
  private final Principal principal;
  private final ConnectionConfig connection;
  private final Target target;
  private final Decision connectDecision;
  private final String protocol;
  private final Instant started;

  /**
   * The policy generation under which {@link #connectDecision} was last confirmed ({@link
   * #termsReason}). Written by whichever thread confirms (the session's, the sweeper); a race only
   * repeats a check.
   */
  private volatile long termsGeneration;

  private final AtomicReference<String> endedBecause = new AtomicReference<>();
  private final List<Runnable> onTerminate = new CopyOnWriteArrayList<>();

  GateSession(
      Gate gate,
      String id,
      Principal principal,
      ConnectionConfig connection,
      Target target,
      Decision connectDecision,
      long termsGeneration,
      String protocol) {
    this.gate = gate;
    this.termsGeneration = termsGeneration;
    this.id = id;
    this.principal = principal;
    this.connection = connection;
    this.target = target;
    this.connectDecision = connectDecision;
    this.protocol = protocol;
    this.started = gate.clock().instant();
  }

  public String id() {
    return id;
  }

  public Principal principal() {
    return principal;
  }

  public ConnectionConfig connection() {
    return connection;
  }

  public Target target() {
    return target;
  }

  /** Session-wide obligations from the CONNECT decision (read-only, masking, max duration). */
  public Obligations obligations() {
    return connectDecision.obligations();
  }

  /**
   * The credentials this session's upstream client logs in with ({@link Gate#connectionCredentials}
   * with the upstream role's login in place of the connection's: {@link #forRole}). Never put them
   * in a message, a log line or a recording.
   */
  public Map<String, String> upstreamCredentials() throws GateException {
    return forRole(
        gate.connectionCredentials(connection), obligations().upstreamRole(), connection.name());
  }

  /** Why a session whose rules name {@code role} is refused on a connection without it. */
  static String undefinedRole(String role, String connection) {
    return "the policy gives this session the upstream role \""
        + role
        + "\", which connection \""
        + connection
        + "\" does not define (connections[].roles)";
  }

  /** Vault fields of a connection's {@code roles} entry: {@code role.NAME.username} and so on. */
  public static final String ROLE_PREFIX = "role.";

  /** The login fields a role replaces as a whole (a role without a password has none). */
  private static final List<String> LOGIN_FIELDS = List.of("username", "password", "private_key");

  /**
   * The credentials a session with {@code role} (the CONNECT decision's {@code upstream_role}, or
   * null) logs in with: the connection's fields with the role's login in place of its own, and
   * never another role's. A role the connection does not define (a policy naming a role for a
   * connection glob that matches a connection without it, or a vault written by an older
   * configuration) refuses the session rather than fall back to the connection's own login, which
   * is usually the more powerful one.
   */
  static Map<String, String> forRole(Map<String, String> all, String role, String connection)
      throws GateException {
    Map<String, String> out = new java.util.HashMap<>();
    for (Map.Entry<String, String> e : all.entrySet()) {
      if (!e.getKey().startsWith(ROLE_PREFIX)
          && (role == null || !LOGIN_FIELDS.contains(e.getKey()))) {
        out.put(e.getKey(), e.getValue());
      }
    }
    if (role == null) {
      return out;
    }
    String prefix = ROLE_PREFIX + role + ".";
    if (!all.containsKey(prefix + "username")) {
      throw new GateException(GateException.Reason.FORBIDDEN, undefinedRole(role, connection));
    }
    for (String f : LOGIN_FIELDS) {
      String v = all.get(prefix + f);
      if (v != null) {
        out.put(f, v);
      }
    }
    return out;
  }

  /** Masks text for this session's masking profile (results, errors, notices, recordings). */
  public String mask(String text) {
    return gate.redactor().redact(obligations().maskingProfile(), text);
  }

  /**
   * Masks text that is stored or shown to others (the action's text in the record and the review
   * request, its outcome): credentials always, also for a principal allowed to see data unmasked
   * ({@link Redactor#redactStored}). What a DBA may type and see ({@code ALTER ROLE app PASSWORD
   * '…'}) is not what the recording may keep.
   */
  public String maskStored(String text) {
    StoredTextFilter f = storedTextFilter;
    String prepared = f == null || text == null ? text : f.apply(text, this::redactStored);
    return f != null && text != null && f.masksFully() ? prepared : redactStored(prepared);
  }

  /**
   * {@link #maskStored} for a value that is data, not a statement in the protocol's syntax (a bound
   * parameter, a setting's value): masked as it is, without the protocol's {@link
   * StoredTextFilter}, which would read its quotes and backslashes as the statement's.
   */
  public String maskStoredValue(String text) {
    return redactStored(text);
  }

  private String redactStored(String text) {
    return gate.redactor().redactStored(obligations().maskingProfile(), text);
  }

  /**
   * A protocol's own rewriting of text before {@link #maskStored} masks it: where the protocol's
   * syntax encodes text (PostgreSQL's {@code E'pass\x77ord=…'}) the redactor, which reads the text
   * as it is, does not see what it says. Given the text and the stored-text masker, returns the
   * text with such parts replaced where their decoded form has findings (or the text itself).
   */
  @FunctionalInterface
  public interface StoredTextFilter {
    String apply(String text, java.util.function.UnaryOperator<String> maskStored);

    /**
     * True when {@link #apply} returns the text fully masked (PostgreSQL masks within each token,
     * so that no mask crosses a comment's or literal's end): it is then not masked again whole.
     */
    default boolean masksFully() {
      return false;
    }
  }

  private volatile StoredTextFilter storedTextFilter;

  /** Installs the protocol's {@link StoredTextFilter} (null: none). */
  public void storedTextFilter(StoredTextFilter f) {
    this.storedTextFilter = f;
  }

  /**
   * Decides on an action, holds it for review when the policy says so, and durably records it.
   * Returns the proof needed to forward it; throws when it must not run.
   *
   * @param waiting told once when the action is held for review (may be null: then a review
   *     decision is refused rather than held)
   */
  public AuthorizedAction authorize(Action action, ReviewGate.Waiting waiting)
      throws GateException {
    ensureAlive();
    long generation = gate.policyGeneration();
    Decision decision = gate.decide(principal, target, action);
    termsStillHold();
    String maskedRaw = maskStored(action.raw());
    // What is stored and shown to others carries the justification masked: the review, its audit
    // event and notifications, and the recording. The caller's action runs as it came.
    Action stored = justificationMasked(action);
    String reviewId = null;
    if (decision.effect() == Effect.REVIEW) {
      if (waiting == null) {
        record(stored, maskedRaw, decision, null);
        throw new GateException(
            GateException.Reason.FORBIDDEN,
            "this action needs approval, which this client cannot wait for (rule "
                + decision.rule()
                + ")",
            decision);
      }
      ReviewGate.Outcome outcome;
      try {
        outcome = gate.reviews().await(id, principal, target, stored, decision, waiting);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new GateException(GateException.Reason.SESSION_ENDED, "interrupted while held");
      } catch (RuntimeException e) {
        log.error("review failed; denying", e);
        throw new GateException(
            GateException.Reason.UNAVAILABLE, "the approval service is unavailable");
      }
      reviewId = outcome.reviewId();
      if (!outcome.approved()) {
        Decision denied =
            new Decision(
                Effect.DENY,
                decision.rule(),
                outcome.reason(),
                decision.review(),
                decision.obligations(),
                decision.explanation());
        record(stored, maskedRaw, denied, reviewId);
        throw new GateException(
            GateException.Reason.REVIEW_DENIED,
            (reviewId == null ? "not approved: " : "review " + reviewId + " not approved: ")
                + outcome.reason(),
            denied);
      }
      ensureAlive();
    }
    long recordId = record(stored, maskedRaw, decision, reviewId);
    if (decision.effect() == Effect.DENY) {
      throw new GateException(
          GateException.Reason.FORBIDDEN,
          "denied by rule " + decision.rule() + ": " + decision.reason(),
          decision);
    }
    return new AuthorizedAction(recordId, action, decision, reviewId, generation);
  }

  /**
   * Spends the approvals the actions of one message were allowed under, when {@link
   * ReviewGate.Waiting#defersSpending} left them unspent: called once every statement of the
   * message was allowed, just before they are forwarded. All or none (one store transaction):
   * throws, with none spent, when one was used meanwhile or has lapsed, or when two actions found
   * the same approval (it approves one run); then nothing of the message may run.
   */
  public void spendAll(List<AuthorizedAction> actions) throws GateException {
    List<String> reviews = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Decision held = null; // the first reviewed action's decision, for the refusal
    for (AuthorizedAction a : actions) {
      if (a.reviewId() == null) {
        continue;
      }
      if (!seen.add(a.reviewId())) {
        throw new GateException(
            GateException.Reason.REVIEW_DENIED,
            "review "
                + a.reviewId()
                + " approves one run of its statement, and this query runs it more than once",
            a.decision());
      }
      reviews.add(a.reviewId());
      held = held == null ? a.decision() : held;
    }
    if (reviews.isEmpty()) {
      return;
    }
    boolean spent;
    try {
      spent = gate.reviews().spendAll(reviews, id);
    } catch (RuntimeException e) {
      log.error("cannot spend approvals; denying", e);
      throw new GateException(
          GateException.Reason.UNAVAILABLE, "the approval service is unavailable");
    }
    if (!spent) {
      throw new GateException(
          GateException.Reason.REVIEW_DENIED,
          "an approval this query runs under (review "
              + String.join(", ", reviews)
              + ") was already used or has lapsed, so none of them was spent; re-run to file a"
              + " new review",
          held);
    }
  }

  /**
   * {@code a} ran under a spent approval and did not take effect ({@code why}): recorded on the
   * review's audit trail ({@link ReviewGate#notExecuted}). Nothing for an action without a review.
   */
  public void approvalNotExecuted(AuthorizedAction a, String why) {
    if (a.reviewId() != null) {
      gate.reviews().notExecuted(a.reviewId(), id, why);
    }
  }

  /**
   * {@code a} ran under a spent approval and its outcome is not known ({@code why}: the client left
   * before the target answered, and the target may have run it): recorded on the review's audit
   * trail ({@link ReviewGate#outcomeUnknown}). Nothing for an action without a review.
   */
  public void approvalOutcomeUnknown(AuthorizedAction a, String why) {
    if (a.reviewId() != null) {
      gate.reviews().outcomeUnknown(a.reviewId(), id, why);
    }
  }

  /**
   * The policy's decision on an action, neither recorded nor held for review: for refusing early (a
   * PostgreSQL Parse) what is authorized, and recorded with its parameters, later (its Execute). A
   * denial found here must still go through {@link #authorize} so that it is recorded.
   */
  public Decision check(Action action) throws GateException {
    ensureAlive();
    return gate.decide(principal, target, action);
  }

  /**
   * The path arguments of an authorized command that the deciding rule's {@code paths} constrained
   * (the words as written), for a protocol that checks again where they really lead; empty when
   * none; null when they cannot be told (a shell line, or the policy was reloaded since it decided:
   * the rule may be gone, or constrain other words under the same id): then such a protocol
   * refuses.
   */
  public List<String> pathArguments(AuthorizedAction a) {
    return gate.pathArguments(a);
  }

  /**
   * {@link #pathArguments(AuthorizedAction)} for a decision {@link #check} just took, before the
   * action is held for review: the words the rule constrains in the policy in force. A protocol
   * that checks them before the review tells them again once approved ({@code a}'s policy) and
   * refuses when they differ.
   */
  public List<String> pathArguments(Decision decision, Action action) {
    return gate.pathArguments(decision.rule(), action, gate.policyGeneration());
  }

  /**
   * Decides on {@code action}, what the approved or allowed {@code decided} really does (the same
   * command with the real paths of its path arguments in place of the words), and records it. A
   * review by the rule that held {@code decided} is admitted under {@code decided}'s approval: its
   * reviewers were shown where the paths lead before they approved, and the caller checked that
   * this is still so. Anything else is {@link #authorize(Action, ReviewGate.Waiting)} without
   * waiting: a review by another rule is refused (its reviewers saw nothing).
   */
  public AuthorizedAction authorizeUnder(Action action, AuthorizedAction decided)
      throws GateException {
    ensureAlive();
    long generation = gate.policyGeneration();
    Decision decision = gate.decide(principal, target, action);
    termsStillHold();
    if (decision.effect() != Effect.REVIEW
        || decided.reviewId() == null
        || !decision.rule().equals(decided.decision().rule())) {
      return authorize(action, null);
    }
    long recordId =
        record(justificationMasked(action), maskStored(action.raw()), decision, decided.reviewId());
    return new AuthorizedAction(recordId, action, decision, decided.reviewId(), generation);
  }

  /**
   * Records {@code action}, which {@code decision} (from {@link #check}) would hold for review, as
   * refused before a review was filed ({@code why}, masked here): the protocol found it cannot run
   * whatever a reviewer says, so no reviewer is asked.
   */
  public void refusedBeforeReview(Action action, Decision decision, String why)
      throws GateException {
    record(
        justificationMasked(action),
        maskStored(action.raw()),
        new Decision(
            Effect.DENY,
            decision.rule(),
            maskStored(why),
            decision.review(),
            decision.obligations(),
            decision.explanation()),
        null);
  }

  /** True when {@code a} was decided under an older policy and must be decided again. */
  public boolean stale(AuthorizedAction a) {
    return a.policyGeneration() != gate.policyGeneration();
  }

  /**
   * {@code action} with its justification masked like the raw text it was copied from (a comment, a
   * variable, a request field): it is stored with the review and the recording, exported in the
   * audit event {@code review.requested}, and sent to reviewers. Masked here for the recording (the
   * approval service masks what it stores again, with the review's profile). Not part of the review
   * fingerprint, so masking it does not change which approval a re-run finds.
   */
  private Action justificationMasked(Action action) {
    String justification = action.string(Action.Attr.JUSTIFICATION);
    return justification == null
        ? action
        : action.with(Action.Attr.JUSTIFICATION, maskStored(justification));
  }

  /**
   * {@code action} as the recording keeps it: its argv and environment variable names masked, since
   * the sessions API serves the attributes next to the masked text (a token typed as {@code
   * --token=…} would otherwise be stored in clear). A word alone often does not say it is a
   * password ({@code --password Zq8v…}, {@code mysql -pZq8v…}): the words are masked together, as
   * one line, and a word that no longer appears in the masked line was (partly) a credential there;
   * it is kept masked on its own if that finds it, else redacted whole. A word that does appear in
   * the masked line shows nothing the masked text does not. Only for the recording: the review's
   * fingerprint is taken over the request as it runs.
   */
  private Action argvMasked(Action action) {
    Action out = action;
    for (String key : WORD_LISTS) {
      List<String> words = out.list(key);
      List<String> masked = maskedWords(words);
      if (masked != words) {
        out = out.with(key, masked);
      }
    }
    return out;
  }

  /** The attributes {@link #argvMasked} masks: every action is recorded, so not a list per call. */
  private static final List<String> WORD_LISTS =
      List.of(Action.Attr.CMD_ARGV, Action.Attr.CMD_ENV, Action.Attr.CMD_REAL_PATHS);

  /** {@code words} masked in context (see {@link #argvMasked}); the same list when none changed. */
  private List<String> maskedWords(List<String> words) {
    if (words.isEmpty()) {
      return words;
    }
    String line = String.join(" ", words);
    String maskedLine = maskStored(line);
    if (maskedLine.equals(line)) {
      return words; // nothing found in context, so nothing in a word alone either
    }
    List<String> out = new ArrayList<>(words.size());
    boolean changed = false;
    for (String word : words) {
      String m = word;
      if (!maskedLine.contains(word)) {
        m = maskStored(word);
        if (m.equals(word)) {
          m = REDACTED_WORD;
        }
      }
      changed |= !m.equals(word);
      out.add(m);
    }
    return changed ? List.copyOf(out) : words;
  }

  /** What a recorded word becomes when only its context showed it to be a credential. */
  static final String REDACTED_WORD = "[REDACTED]";

  private long record(Action action, String maskedRaw, Decision decision, String reviewId)
      throws GateException {
    try {
      return gate.recorder().actionDecided(id, argvMasked(action), maskedRaw, decision, reviewId);
    } catch (RuntimeException e) {
      log.error("cannot record action; failing closed", e);
      throw new GateException(
          GateException.Reason.UNAVAILABLE, "the gateway cannot record this action right now");
    }
  }

  /**
   * Records the outcome of an authorized action.
   *
   * @param ok whether it succeeded
   * @param summary command tag, exit status or error text; masked here before it is stored
   * @param rows rows or bytes affected/returned
   */
  public void completed(AuthorizedAction a, boolean ok, String summary, long rows) {
    Duration took = Duration.ofNanos(System.nanoTime() - a.startedNanos());
    try {
      gate.recorder()
          .actionCompleted(a.recordId(), ok ? "ok" : "error", maskStored(summary), rows, took);
    } catch (RuntimeException e) {
      // The action already ran; we cannot undo it, but we stop the session so that nothing more
      // runs unrecorded.
      log.error("cannot record outcome of action {}; ending session", a.recordId(), e);
      terminate("recording failed");
    }
  }

  /** Appends masked terminal/stream data to the recording. */
  public void recordStream(char direction, byte[] maskedData) {
    try {
      gate.recorder().streamChunk(id, direction, maskedData);
    } catch (RuntimeException e) {
      log.error("cannot record stream data; ending session", e);
      terminate("recording failed");
    }
  }

  /** Appends an audit event in this session's name (for example a dropped startup parameter). */
  public void audit(String type, Map<String, Object> data) throws GateException {
    gate.appendAudit(new AuditEvent(type, principal.subject(), id, connection.name(), data));
  }

  /**
   * Registers code to run when the session is ended from outside (revocation, expiry, a policy
   * change); returns what unregisters it, for code that lives shorter than the session (one command
   * of a long-lived SSH connection: otherwise one hook per command stays for the connection's
   * life).
   */
  public Runnable onTerminate(Runnable r) {
    onTerminate.add(r);
    if (endedBecause.get() != null) {
      r.run();
    }
    return () -> onTerminate.remove(r);
  }

  /** How many termination hooks are registered (for tests of the code that registers them). */
  public int terminateHooks() {
    return onTerminate.size();
  }

  /** Null while alive; otherwise why it ended. */
  public String endedBecause() {
    return endedBecause.get();
  }

  /**
   * Ends the session when it may no longer run (called by the gate's sweeper every second). {@code
   * recheckTerms}: decide the CONNECT again even when the policy has not changed, so that a
   * time-boxed grant that ended or a rule's time condition that no longer holds ends the session
   * too, not only the next statement's decision.
   */
  void checkAlive(boolean recheckTerms) {
    String why = deathReason(recheckTerms);
    if (why != null) {
      terminate(why);
    }
  }

  private String deathReason() {
    return deathReason(false);
  }

  private String deathReason(boolean recheckTerms) {
    if (endedBecause.get() != null) {
      return endedBecause.get();
    }
    Instant now = gate.clock().instant();
    if (!gate.authenticator().stillValid(principal, now)) {
      return "the session's token expired or was revoked";
    }
    Duration max = obligations().maxSessionDuration();
    if (max != null && !now.isBefore(started.plus(max))) {
      return "the maximum session duration (" + max + ") was reached";
    }
    return termsReason(recheckTerms);
  }

  /**
   * Why the session's terms no longer hold, or null. A session's terms are its CONNECT decision:
   * that it may connect at all, and the obligations fixed when it opened (masking profile,
   * read-only, the upstream role it logged in as, row limit, maximum duration, recording).
   * Statements are decided one by one under the policy in force, but these are properties of the
   * session (its upstream login, its masker), so a session cannot take new ones in place: when the
   * policy no longer grants the same terms, the session ends and the client reconnects under the
   * new ones. Otherwise a policy that turned masking on for a principal, or moved them to a weaker
   * upstream role, would leave their open sessions unmasked or on the stronger login until they
   * disconnect. Decided again when the policy has changed since the terms were last confirmed (a
   * volatile read per action otherwise), and every second by the sweeper ({@code always}) for
   * grants and time conditions.
   */
  private String termsReason(boolean always) {
    long generation = gate.policyGeneration();
    if (!always && generation == termsGeneration) {
      return null;
    }
    Decision now = gate.decide(principal, target, Action.connect());
    if (now.effect() != Effect.ALLOW) {
      return "the policy no longer lets \""
          + principal.subject()
          + "\" connect to \""
          + connection.name()
          + "\": "
          + now.reason()
          + " (rule "
          + now.rule()
          + ")";
    }
    String changed = termsChanged(obligations(), now.obligations());
    if (changed != null) {
      return "the policy changed this session's terms ("
          + changed
          + "); reconnect to continue under the new ones";
    }
    termsGeneration = generation;
    return null;
  }

  /** The obligations that differ between {@code was} and {@code now}, described; null if none. */
  static String termsChanged(Obligations was, Obligations now) {
    List<String> out = new ArrayList<>();
    term(out, "masking", was.maskingProfile(), now.maskingProfile());
    term(out, "read_only", was.readOnly(), now.readOnly());
    term(out, "upstream_role", was.upstreamRole(), now.upstreamRole());
    term(out, "max_rows", was.maxRows(), now.maxRows());
    term(out, "max_session_duration", was.maxSessionDuration(), now.maxSessionDuration());
    term(out, "recording", was.recording(), now.recording());
    if (out.isEmpty() && !was.equals(now)) {
      out.add("obligations"); // a field added to Obligations and not named above: still a change
    }
    return out.isEmpty() ? null : String.join(", ", out);
  }

  private static void term(List<String> out, String name, Object was, Object now) {
    if (!java.util.Objects.equals(was, now)) {
      out.add(name + " " + (now == null ? "none" : now) + ", was " + (was == null ? "none" : was));
    }
  }

  /**
   * After a decision: a policy swapped in between {@link #ensureAlive} and the decision decided
   * under terms not yet confirmed, so they are confirmed now (two volatile reads otherwise), rather
   * than let the action run on the old terms until the sweeper's next round.
   */
  private void termsStillHold() throws GateException {
    if (gate.policyGeneration() != termsGeneration) {
      ensureAlive();
    }
  }

  private void ensureAlive() throws GateException {
    String why = deathReason();
    if (why != null) {
      terminate(why);
      throw new GateException(GateException.Reason.SESSION_ENDED, why);
    }
  }

  /** Ends the session from outside; idempotent. */
  void terminate(String reason) {
    if (endedBecause.compareAndSet(null, reason)) {
      for (Runnable r : onTerminate) {
        try {
          r.run();
        } catch (RuntimeException e) {
          log.warn("terminate hook failed", e);
        }
      }
      finish(reason);
    }
  }

  @Override
  public void close() {
    if (endedBecause.compareAndSet(null, "closed")) {
      finish("closed");
    }
  }

  private void finish(String reason) {
    gate.closed(this);
    try {
      gate.recorder().sessionEnded(id, reason);
      Map<String, Object> data = new HashMap<>();
      data.put("protocol", protocol);
      data.put("reason", reason);
      gate.appendAudit(
          new AuditEvent("session.end", principal.subject(), id, connection.name(), data));
    } catch (RuntimeException | GateException e) {
      log.error("cannot record end of session {}", id, e);
    }
  }
}
