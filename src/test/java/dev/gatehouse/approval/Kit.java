package dev.gatehouse.approval;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import dev.gatehouse.audit.SessionRecorder;
import dev.gatehouse.config.GatehouseConfig.ApprovalsConfig;
import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.credential.CredentialVault;
import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.gate.GrantSource;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.identity.AuthenticationException;
import dev.gatehouse.identity.Authenticator;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.Obligations;
import dev.gatehouse.policy.PolicyEngine;
import dev.gatehouse.policy.PolicyRequest;
import dev.gatehouse.policy.ReviewRequirement;
import dev.gatehouse.store.Database;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/** Trivial real collaborators for approval tests: a gate on one connection, in-memory logs. */
final class Kit {
  private Kit() {}

  static final String CONN = "prod";

  static Principal user(String subject, String... groups) {
    return new Principal(
        subject,
        Set.of(groups),
        PrincipalKind.HUMAN,
        "tok-" + subject,
        null,
        Set.of(),
        Map.of("role", "user"));
  }

  static Principal admin(String subject, String... groups) {
    return new Principal(
        subject,
        Set.of(groups),
        PrincipalKind.HUMAN,
        "tok-" + subject,
        null,
        Set.of(),
        Map.of("role", "admin"));
  }

  static Action sql(String raw) {
    return new Action(ActionKind.SQL, raw, Map.of());
  }

  static ReviewRequirement needs(int approvals, boolean allGroups, String... groups) {
    return new ReviewRequirement(List.of(groups), approvals, allGroups, false, null);
  }

  static ApprovalsConfig approvals(Duration maxWait) {
    return new ApprovalsConfig(maxWait, Duration.ofHours(1), null, List.of());
  }

  static ReviewService service(Database db, AuditLog audit, Clock clock, ReviewService.Tuning t) {
    return service(db, audit, clock, t, Duration.ofMinutes(15));
  }

  static ReviewService service(
      Database db, AuditLog audit, Clock clock, ReviewService.Tuning t, Duration maxWait) {
    return new ReviewService(
        db,
        audit,
        approvals(maxWait),
        clock,
        ReviewNotifier.none(audit),
        ReviewService.ADMINS_APPROVE_GRANTS,
        t);
  }

  static ReviewService.Tuning polling(long millis) {
    return new ReviewService.Tuning(Duration.ofMillis(millis), false, Duration.ofSeconds(1));
  }

  /** Audit log kept in a list. */
  static final class ListAudit implements AuditLog {
    final List<AuditEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public long append(AuditEvent event) {
      events.add(event);
      return events.size();
    }

    List<String> types() {
      return events.stream().map(AuditEvent::type).toList();
    }

    List<AuditEvent> of(String type) {
      return events.stream().filter(e -> e.type().equals(type)).toList();
    }
  }

  /** Session recorder kept in memory. */
  static final class ListRecorder implements SessionRecorder {
    final List<String> decided = new CopyOnWriteArrayList<>();
    final AtomicLong ids = new AtomicLong();

    @Override
    public void sessionStarted(
        String sessionId,
        String subject,
        String connection,
        String protocol,
        String client,
        String details) {}

    @Override
    public long actionDecided(
        String sessionId, Action action, String maskedRaw, Decision decision, String reviewId) {
      decided.add(decision.effect() + " " + maskedRaw + " " + reviewId);
      return ids.incrementAndGet();
    }

    @Override
    public void actionCompleted(
        long actionId, String status, String summary, long rows, Duration duration) {}

    @Override
    public void streamChunk(String sessionId, char direction, byte[] maskedData) {}

    @Override
    public void sessionEnded(String sessionId, String reason) {}
  }

  static final class MapVault implements CredentialVault {
    final Map<String, Map<String, String>> m = new ConcurrentHashMap<>();

    @Override
    public void put(String connection, Map<String, String> fields) {
      m.put(connection, fields);
    }

    @Override
    public Optional<Map<String, String>> open(String connection) {
      return Optional.ofNullable(m.get(connection));
    }

    @Override
    public Set<String> connections() {
      return m.keySet();
    }
  }

  /**
   * A tiny policy: CONNECT and SELECT are allowed; DELETE is allowed for the {@code writer} group
   * (the grant tests' role) and denied otherwise; anything else (DROP, UPDATE, ...) is held for the
   * review requirement currently set.
   */
  static final class TestPolicy implements PolicyEngine {
    final AtomicReference<ReviewRequirement> review = new AtomicReference<>(needs(1, false, "dba"));
    final AtomicReference<String> reviewRule = new AtomicReference<>("ddl-review");
    final AtomicReference<Obligations> reviewObligations = new AtomicReference<>(Obligations.NONE);

    @Override
    public Decision decide(PolicyRequest r) {
      Action a = r.action();
      if (a.kind() == ActionKind.CONNECT) {
        return new Decision(Effect.ALLOW, "connect", "", null, Obligations.NONE, List.of());
      }
      String verb = a.raw().strip().split("\\s+")[0].toLowerCase();
      if (verb.equals("select")) {
        return new Decision(Effect.ALLOW, "reads", "", null, Obligations.NONE, List.of());
      }
      if (verb.equals("delete")) {
        return r.principal().groups().contains("writer")
            ? new Decision(Effect.ALLOW, "writers", "", null, Obligations.NONE, List.of())
            : Decision.deny("no-writes", "writes need the writer role", List.of());
      }
      return new Decision(
          Effect.REVIEW,
          reviewRule.get(),
          "schema changes need a DBA",
          review.get(),
          reviewObligations.get(),
          List.of());
    }
  }

  static Gate gate(
      PolicyEngine policy, ListAudit audit, ReviewGate reviews, GrantSource grants, Clock clock) {
    return gate(policy, audit, reviews, grants, clock, Map.of());
  }

  /** A gate whose authenticator knows {@code tokens} (bearer token → principal). */
  static Gate gate(
      PolicyEngine policy,
      ListAudit audit,
      ReviewGate reviews,
      GrantSource grants,
      Clock clock,
      Map<String, Principal> tokens) {
    Authenticator auth =
        new Authenticator() {
          @Override
          public Principal authenticate(String credential) throws AuthenticationException {
            Principal p = tokens.get(credential);
            if (p == null) {
              throw new AuthenticationException("unknown token");
            }
            return p;
          }

          @Override
          public boolean stillValid(Principal principal, Instant now) {
            return true;
          }
        };
    Function<String, ConnectionConfig> conns =
        name ->
            name.equals(CONN)
                ? new ConnectionConfig(
                    CONN,
                    "postgres",
                    "127.0.0.1",
                    5432,
                    "app",
                    "app",
                    null,
                    Map.of(),
                    null,
                    Map.of())
                : null;
    return Gate.builder()
        .authenticator(auth)
        .connections(conns)
        .policy(() -> policy)
        .audit(audit)
        .recorder(new ListRecorder())
        .vault(new MapVault())
        .reviews(reviews)
        .grants(grants)
        .clock(clock)
        .build();
  }

  /** Records what a held caller is told. */
  static class Held implements ReviewGate.Waiting {
    final CompletableFuture<String> id = new CompletableFuture<>();
    final List<String> messages = new CopyOnWriteArrayList<>();

    @Override
    public void held(String reviewId, String message) {
      messages.add(message);
      id.complete(reviewId);
    }
  }

  /** A caller's authorize running on its own virtual thread (interrupt it to "disconnect"). */
  record Run(Thread thread, CompletableFuture<AuthorizedAction> result) {}

  /** Runs {@code session.authorize} on a virtual thread, as a protocol session would. */
  static Run authorizeAsync(GateSession session, Action action, ReviewGate.Waiting waiting) {
    CompletableFuture<AuthorizedAction> f = new CompletableFuture<>();
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    f.complete(session.authorize(action, waiting));
                  } catch (Throwable e) {
                    f.completeExceptionally(e);
                  }
                });
    return new Run(t, f);
  }

  /**
   * Files {@code statement} for review through {@code s}, lets its caller wait out {@code svc}'s
   * max_wait (it must be short), and has carol (dba) approve it: an approval not used yet.
   */
  static String approvedButUnused(ReviewService svc, GateSession s, String statement)
      throws Exception {
    Held held = new Held();
    Run run = authorizeAsync(s, sql(statement), held);
    String id = held.id.get(10, java.util.concurrent.TimeUnit.SECONDS);
    try {
      run.result().get(10, java.util.concurrent.TimeUnit.SECONDS);
      throw new AssertionError("expected " + statement + " to stay pending");
    } catch (java.util.concurrent.ExecutionException e) {
      if (!String.valueOf(e.getCause().getMessage()).contains("still pending")) {
        throw e;
      }
    }
    svc.approve(id, user("carol", "dba"), "ok");
    return id;
  }

  /** A statement of a message of several: its approval is spent once all were allowed. */
  static Held deferring() {
    return new Held() {
      @Override
      public boolean defersSpending() {
        return true;
      }
    };
  }

  static Set<String> setOf(String... s) {
    return new HashSet<>(Arrays.asList(s));
  }
}
