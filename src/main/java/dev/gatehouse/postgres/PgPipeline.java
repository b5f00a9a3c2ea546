package dev.gatehouse.postgres;

import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.policy.Action;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The session's bookkeeping of the extended protocol: prepared statements and portals as the
 * gateway knows them, and the queue of messages forwarded to the target whose answers are still
 * due. The session thread adds; the relay thread consumes in the target's answer order.
 */
final class PgPipeline {
  private PgPipeline() {}

  enum Kind {
    QUERY,
    PARSE,
    BIND,
    DESCRIBE,
    EXECUTE,
    CLOSE,
    SYNC
  }

  /** A prepared statement as the gateway knows it. */
  static final class Prepared {
    final Action action;
    final long epoch;
    final CompletableFuture<Boolean> parsed = new CompletableFuture<>();
    private AuthorizedAction parseDecision;

    Prepared(Action action, AuthorizedAction parseDecision, long epoch) {
      this.action = action;
      this.parseDecision = parseDecision;
      this.epoch = epoch;
    }

    /** The Parse decision, usable by the first Execute only. */
    AuthorizedAction takeParseDecision() {
      AuthorizedAction a = parseDecision;
      parseDecision = null;
      return a;
    }
  }

  /** A portal as the gateway knows it. */
  static final class Portal {
    final Prepared stmt;
    final long epoch;
    final CompletableFuture<Boolean> bound = new CompletableFuture<>();

    /** The Bind parameters as recorded: masked, bounded; empty when there are none. */
    final List<String> params;

    volatile AuthorizedAction auth;
    long rows;

    Portal(Prepared stmt, long epoch, List<String> params) {
      this.stmt = stmt;
      this.epoch = epoch;
      this.params = params;
    }
  }

  /** A message forwarded to the target whose answer is still due, in order. */
  static final class Pending {
    final Kind kind;
    final byte[] denial;
    final List<AuthorizedAction> actions;
    final String name;
    final Prepared prepared;
    final Portal portal;
    final AuthorizedAction auth;
    int next;
    long rows;

    Pending(Kind kind, byte[] denial) {
      this(kind, denial, List.of(), null, null, null, null);
    }

    Pending(Kind kind, List<AuthorizedAction> actions) {
      this(kind, null, actions, null, null, null, null);
    }

    Pending(Kind kind, String name, Prepared prepared, Portal portal, AuthorizedAction auth) {
      this(kind, null, List.of(), name, prepared, portal, auth);
    }

    private Pending(
        Kind kind,
        byte[] denial,
        List<AuthorizedAction> actions,
        String name,
        Prepared prepared,
        Portal portal,
        AuthorizedAction auth) {
      this.kind = kind;
      this.denial = denial;
      this.actions = actions;
      this.name = name;
      this.prepared = prepared;
      this.portal = portal;
      this.auth = auth;
    }

    @Override
    public String toString() {
      return kind.name();
    }
  }
}
