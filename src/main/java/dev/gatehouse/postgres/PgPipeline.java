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
    /**
     * A Describe of a portal the gateway itself sent (PgSession.describeForMasking): not relayed.
     */
    OWN_DESCRIBE,
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

    /**
     * The session's tracked schemas just after the Parse decision, the statement's own SET
     * search_path included (PgSearchPath): the first Execute may use that decision only while they
     * are still the same list.
     */
    java.util.List<String> pathAfterParse;

    /** The RowDescription a Describe of this statement returned (formats all text); or null. */
    volatile byte[] description;

    /**
     * The parameter type OIDs the Parse declared (0: unspecified), bound into a review's
     * fingerprint: the same Bind bytes are another value under another type ({@link PgParamTypes}).
     */
    int[] paramTypes = PgParamTypes.NONE;

    /**
     * Non-null when it was classified trusting unqualified built-in names
     * (PgSession.catalogFirstNow): the session's search_path state just after the Parse. A run
     * after they stopped being trusted is decided again, classified without (PgSession.lostTrust).
     */
    Trust trust;

    /**
     * The connection's {@link SqlShadows} it was classified under: a first run under another is
     * classified and decided again (PgSession#reclassified).
     */
    SqlShadows shadows = SqlShadows.NONE;

    /** PgSession's catalogFirst, unreadablePathAt and pathMovedAt at a point in time. */
    record Trust(boolean catalogFirst, long unreadablePathAt, long pathMovedAt) {}

    Prepared(Action action, AuthorizedAction parseDecision, long epoch) {
      this.action = action;
      this.parseDecision = parseDecision;
      this.epoch = epoch;
    }

    /**
     * Whether a Describe of this statement tells the columns of every later run. Not for FETCH (and
     * MOVE) and EXECUTE: PostgreSQL fixes their description at prepare time from the cursor or
     * prepared statement as it was then, while a run returns the rows of the cursor as it is now
     * ({@code CLOSE c; DECLARE c ... FOR SELECT email ...} in between). Their rows are masked only
     * by their own portal's Describe, or fail closed.
     */
    boolean describesEveryRun() {
      String kind = action == null ? null : action.string(Action.Attr.SQL_KIND);
      return !SqlKinds.CURSOR.equals(kind) && !SqlKinds.EXECUTE.equals(kind);
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

    /**
     * The place of its Bind in the session's queue of answers ({@link Pending#seq}): a transaction
     * that ends at a later Query or Sync drops it (PgSession#transactionEnded).
     */
    long queuedAt;

    /** The Bind parameters as recorded: masked, bounded; empty when there are none. */
    final List<String> params;

    /** The exact Bind parameters (or their SHA-256), for a review fingerprint; null when none. */
    byte[] exactParams;

    volatile AuthorizedAction auth;
    long rows;

    /** Bind's result-column format codes (none: all text; one: every column). */
    short[] resultFormats = new short[0];

    /** The RowDescription a Describe of this portal returned (actual formats); or null. */
    volatile byte[] description;

    /** A Describe of this portal was sent to the target (by the client or the gateway). */
    boolean describeSent;

    /**
     * The RowDescription of the rows an Execute of this portal returns, with their actual formats:
     * the portal's own Describe, else its statement's with Bind's format codes applied (a client
     * such as pgjdbc describes a statement once and then binds it with binary result formats and no
     * further Describe). Null when neither was described through this session.
     */
    byte[] resultDescription() {
      byte[] own = description;
      if (own != null) {
        return own;
      }
      byte[] stmtDescription = stmt.describesEveryRun() ? stmt.description : null;
      return stmtDescription == null ? null : withFormats(stmtDescription, resultFormats);
    }

    Portal(Prepared stmt, long epoch, List<String> params) {
      this.stmt = stmt;
      this.epoch = epoch;
      this.params = params;
    }
  }

  /**
   * {@code description} (a RowDescription body) with each column's format code replaced by Bind's
   * result formats (https://www.postgresql.org/docs/current/protocol-message-formats.html: none
   * means text, one applies to every column, otherwise one per column).
   */
  static byte[] withFormats(byte[] description, short[] formats) {
    byte[] out = description.clone();
    int n = ((out[0] & 0xff) << 8) | (out[1] & 0xff);
    if (formats.length > 1 && formats.length != n) {
      return null; // the target refuses such a Bind; no rows follow
    }
    int p = 2;
    for (int i = 0; i < n; i++) {
      while (out[p] != 0) {
        p++; // the column name
      }
      p += 1 + 4 + 2 + 4 + 2 + 4; // terminator, table OID, attnum, type OID, typlen, typmod
      short f = formats.length == 0 ? 0 : formats.length == 1 ? formats[0] : formats[i];
      out[p] = (byte) (f >>> 8);
      out[p + 1] = (byte) f;
      p += 2;
    }
    return out;
  }

  /** Bind's result-column format codes, read after its parameters. */
  static short[] resultFormats(PgCodec.Reader r) throws PgCodec.ProtocolViolation {
    int n = r.int16();
    short[] formats = new short[n];
    for (int i = 0; i < n; i++) {
      formats[i] = (short) r.int16();
    }
    return formats;
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

    /** Its place in the session's queue (PgSession.awaitAnswer): later messages have larger. */
    long seq;

    /**
     * For a Sync the client sent after a COPY FROM STDIN began and before its CopyDone or CopyFail
     * (PgSession.copyInStarted): 1 when no CopyData came between, 2 after some did; 0 otherwise.
     */
    int duringCopy;

    /** For a Close of a named portal: what its CloseComplete does (PgSession.portalClosed). */
    Runnable closedPortal;

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
