package dev.gatehouse.postgres;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.postgres.PgCodec.Builder;
import dev.gatehouse.postgres.PgCodec.Message;
import dev.gatehouse.postgres.PgCodec.ProtocolViolation;
import dev.gatehouse.postgres.PgCodec.Reader;
import dev.gatehouse.postgres.PgCodec.Startup;
import dev.gatehouse.postgres.PgPipeline.Kind;
import dev.gatehouse.postgres.PgPipeline.Pending;
import dev.gatehouse.postgres.PgPipeline.Portal;
import dev.gatehouse.postgres.PgPipeline.Prepared;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, read top-down as the request flow: startup → TLS → authenticate → open the
 * gate session → connect the target → ready → relay.
 *
 * <p>The relay runs on two virtual threads. This session's thread reads the client's messages,
 * decides on them through the gate and writes them to the target; a second thread reads the
 * target's answers and writes them to the client. Each thread reads the next message only after
 * writing the previous one (backpressure), and results stream through frame by frame.
 *
 * <p>The target is the single sequencer of answers. A refused statement is never answered by the
 * gateway out of band: the gateway sends the target a fixed statement that always fails with a
 * syntax error ({@link #REFUSED_SQL}, never containing caller text) and replaces that error with
 * its own. So the refusal reaches the client in exactly the right place in a pipeline, an explicit
 * transaction enters the failed state ('E') as it would in PostgreSQL, and extended-protocol
 * messages up to the next Sync are skipped by the target itself.
 */
final class PgSession {
  private static final Logger log = LoggerFactory.getLogger(PgSession.class);

  /** Dropped startup parameters audited one by one; the rest share one record. */
  private static final int MAX_DROPPED_AUDITED = 8;

  /** Time allowed for the startup phase, as PostgreSQL's default {@code authentication_timeout}. */
  static final int STARTUP_TIMEOUT_MILLIS = 60_000;

  /** Sent to the target in place of a refused statement: always a syntax error, never runs. */
  static final String REFUSED_SQL =
      "/* gatehouse: refused by the gateway, this text never runs */ gatehouse_refused";

  /** Named statement used to fail a refused Parse/Bind/Execute without touching the unnamed one. */
  static final String REFUSED_STATEMENT = "_gatehouse_refused";

  /** Bound on the gateway's own bookkeeping of prepared statements and portals per session. */
  static final int MAX_PREPARED = 100_000;

  /** Each direction's share of the budget for large messages (see {@link PgLargeMessages}). */
  private final PgLargeMessages.Hold clientHold = new PgLargeMessages.Hold();

  private final PgLargeMessages.Hold targetHold = new PgLargeMessages.Hold();

  private final PgProtocolServer server;
  private final Socket raw;
  private volatile Socket client;
  private PgInput clientIn;

  // Bounds the client's startup (TLS, startup packet, password); see Deadline for why not
  // SO_TIMEOUT.
  private Deadline startupDeadline;
  private volatile OutputStream clientOut;
  private final ReentrantLock clientLock = new ReentrantLock();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean fatalSent = new AtomicBoolean();

  private GateSession gs;
  private PgUpstream up;
  private RowFilter rowFilter = RowFilter.IDENTITY;

  /**
   * The row filter emptied a CopyData of the current COPY TO STDOUT (its way of withholding what it
   * cannot mask): the rest of that COPY's data and its CopyDone are dropped. PostgreSQL never sends
   * an empty CopyData, and pgjdbc asserts that it gets none. Target-reader thread only.
   */
  private boolean copyWithheld;

  private int[] cancelKey;

  // Extended-protocol bookkeeping. Written by the session thread; the relay thread only removes
  // entries whose Parse or Bind failed at the target.
  private final Map<String, Prepared> statements = new ConcurrentHashMap<>();
  private final Map<String, Portal> portals = new ConcurrentHashMap<>();
  private final Queue<Pending> pending = new ConcurrentLinkedQueue<>();
  private boolean discarding;
  private long syncEpoch;

  /**
   * How many {@link Pending} the session thread has queued ({@link #awaitAnswer}), and that count
   * as the target reader last saw it with nothing left to answer right after a ReadyForQuery
   * ({@link #settle}). Equal: the target has answered everything sent so far and reported (in
   * ParameterStatus, which PostgreSQL sends only just before ReadyForQuery) every setting the
   * statements changed, so {@link #standardConformingStrings} is the value it lexes the next text
   * with. Each is written by one thread only.
   */
  private volatile long queued;

  private volatile long settledAt;

  /**
   * Client messages since a forwarded COPY FROM STDIN (simple or extended) with no CopyDone or
   * CopyFail yet: 0 none, 1 the COPY, 2 also some CopyData. Session thread only. See {@link
   * #dropSyncsIgnoredByCopy}.
   */
  private int copyInStarted;

  /** The target answered CopyInResponse and has not ended that COPY. Target-reader thread only. */
  private boolean targetInCopyIn;

  // Updated from the target's ParameterStatus, read when classifying.
  private volatile boolean standardConformingStrings = true;
  private volatile Charset clientCharset = StandardCharsets.UTF_8;
  // False once the target reports (PostgreSQL 18+) a search_path with pg_catalog behind another
  // schema: unqualified built-in names may then call user functions (SqlClassifier.classify).
  private volatile boolean catalogFirst = true;

  /**
   * {@link #catalogFirst} as the session started: false when PostgreSQL 18 reported a role's or
   * database's default search_path with a schema in front of pg_catalog. RESET ALL, RESET
   * search_path, SET search_path TO DEFAULT and DISCARD ALL return the path to that default.
   */
  private volatile boolean startCatalogFirst = true;

  /**
   * True once the session's search_path may have put a schema in front of pg_catalog: a start or
   * reported path that does ({@link #startCatalogFirst} false on PostgreSQL 18), or an allowed
   * statement that may set a path nobody can read here ({@code sets_search_path} {@code *}). Only
   * then can a pending statement take the path back to such a value (target reader and session
   * thread).
   */
  private volatile boolean unsafePathSeen;

  /**
   * {@link #queued} when a statement that may move search_path was last sent (session thread): SET
   * or set_config of search_path, RESET, DISCARD ALL, DO, CALL, a transaction statement (COMMIT
   * ends a SET LOCAL, ROLLBACK [TO] undoes a SET), a FunctionCall. Until the target has answered it
   * ({@link #settledAt} past it), its report of the path may still come: see {@link
   * #catalogFirstNow}.
   */
  private long pathMovedAt = -1;

  /**
   * Whether the target reports search_path in ParameterStatus: it did at startup. PostgreSQL 18
   * marks search_path GUC_REPORT and so sends it with the other startup values and after every
   * change; 17 and older never send it. Told from the report itself rather than from
   * server_version: what matters is whether reports come, and a version string can lie either way
   * (a fork or proxy that announces 18 without reporting, or a patched older server that reports).
   * A server that reports at startup reports every change (protocol-flow.html#PROTOCOL-ASYNC).
   */
  private volatile boolean reportsSearchPath;

  /**
   * Without reports ({@link #reportsSearchPath} false): the {@link Pending#seq} of the last allowed
   * statement that may have set a path nobody can read here ({@code sets_search_path} {@code *}, a
   * FunctionCall), session thread; and that of the last statement that set a path the gateway read
   * completely, with pg_catalog in front, for the session ({@link #restoresPath}), once its
   * transaction ended at a ReadyForQuery 'I' with no error after it, target reader. Unqualified
   * built-in names are trusted while the second is later (see {@link #catalogFirstNow}).
   */
  private volatile long unreadablePathAt = -1;

  private volatile long readablePathAt;

  /**
   * Target reader, without reports: the {@link Pending#seq} of a statement that set a readable path
   * ({@link #restoresPath}) and completed since the last ReadyForQuery, with no error and no other
   * statement that may move the path completed after it; -1 when none.
   */
  private long readablePathDone = -1;

  /** The settings that change how a statement is read, bound into review fingerprints. */
  private final PgReadingSettings readingSettings = new PgReadingSettings();

  // The schemas the session's search_path may name, for deny and review rules (set up with the
  // target connection, before the target reader thread starts).
  private PgSearchPath searchPath;

  /** Target logins the gateway holds for this connection ({@link #guardLogins}). */
  private Set<String> heldLogins = Set.of();

  /**
   * The connection's catalog ({@link PgProtocolServer#catalog}): what its database holds that may
   * run in place of a trusted built-in ({@link PgCatalog#shadows}), read at the session's start and
   * asked for every statement classified. Null before the target is connected.
   */
  private PgCatalog catalog;

  /** The {@link SqlShadows} the last classification used (session thread). */
  private SqlShadows lastShadows = SqlShadows.NONE;

  /**
   * The target's prepared statements by name as it confirmed them: SQL {@code PREPARE name AS ...}
   * and named protocol-level Parses, one namespace there: every {@code EXECUTE name} is decided as
   * the prepared statement ({@link SqlClassifier#executing}), under the policy and search_path of
   * the moment. Added and removed (Close, DEALLOCATE, DISCARD ALL) when the target confirms the
   * message or statement, by the target reader thread (see {@link #track}, {@link #parsed});
   * bounded like the protocol-level statements, and past the bound an EXECUTE of a statement not in
   * it is refused.
   */
  private final Map<String, Action> sqlPrepared = new ConcurrentHashMap<>();

  /**
   * PREPAREs forwarded to run and not answered yet, one entry per run, per name (immutable lists,
   * replaced whole): an EXECUTE behind them in the same query or pipeline is decided as all of them
   * and a confirmed one of that name (each new PREPARE may fail as a duplicate). A Parse holding a
   * PREPARE adds nothing until it is executed, so entries live only while the target has their
   * PREPARE (see {@link #notePreparing}), and their number is bounded by what is in flight.
   */
  private final Map<String, List<Action>> sqlPreparing = new ConcurrentHashMap<>();

  private volatile boolean sqlPreparedOverflow;

  /**
   * SQL cursors ({@code DECLARE name CURSOR ... FOR query}) the target confirmed, with the decision
   * on their query. A FETCH or MOVE runs more of that query, so when the policy changed since, the
   * DECLARE is decided again first ({@link #recheckCursor}). Removed on a confirmed CLOSE, DISCARD
   * ALL or protocol Close of the name ({@link #portalClosed}), and at a confirmed COMMIT or
   * ROLLBACK unless WITH HOLD; bounded like {@link #sqlPrepared}.
   */
  private final Map<String, SqlCursor> cursors = new ConcurrentHashMap<>();

  private volatile boolean cursorsOverflow;

  /**
   * Rows each SQL cursor has returned so far, for {@code max_rows} across its FETCHes ({@link
   * #overMaxRows}): a cursor declared through the gateway and a function's refcursor alike. Reset
   * by a confirmed DECLARE of the name, removed on a confirmed CLOSE, CLOSE ALL, DISCARD ALL,
   * protocol Close of the name, and at a transaction end unless the cursor is WITH HOLD; bounded
   * like {@link #cursors}.
   */
  private final Map<String, long[]> cursorRows = new ConcurrentHashMap<>();

  /** Identity matters: a later DECLARE of the same name with the same query is another cursor. */
  private static final class SqlCursor {
    final Action action;
    final AuthorizedAction decided;
    final boolean hold;

    /** {@link #portalSeq} when its DECLARE was decided: later than a Bind of the name or not. */
    final long declaredAt;

    SqlCursor(Action action, AuthorizedAction decided, boolean hold, long declaredAt) {
      this.action = action;
      this.decided = decided;
      this.hold = hold;
      this.declaredAt = declaredAt;
    }
  }

  /**
   * Named portals Bound through the protocol, with the {@link #portalSeq} of their last Bind. A SQL
   * FETCH or MOVE runs any portal of its name, a Bound one too (portals and cursors are one
   * namespace at the target, sql-fetch.html, protocol-flow.html), but a Bound portal is decided at
   * its Execute (when its statement has parameters, only there): FETCH would run it undecided (red
   * team rt16: FETCH of a portal Bound to {@code UPDATE ... RETURNING} ran the UPDATE). So a FETCH
   * or MOVE of a name Bound here is refused unless a SQL DECLARE of it was decided after that Bind
   * and confirmed (it could not have been created while the portal was open). Forgotten when the
   * transaction it was Bound in ends ({@link #transactionEnded}): a Bound portal is never holdable,
   * PostgreSQL drops it then, and no FETCH can run it any more; at the CloseComplete of a protocol
   * Close of its name ({@link #portalClosed}); and at a confirmed SQL CLOSE of its name, CLOSE ALL
   * or DISCARD ALL decided after its Bind ({@link #track}). Bounded like {@link #cursors}, beyond
   * which every FETCH of a name not DECLAREd here is refused.
   */
  private final Map<String, BoundPortal> boundPortals = new ConcurrentHashMap<>();

  /**
   * A Bind of a named portal: {@code seq} orders it with DECLAREs ({@link #portalSeq}), {@code
   * queuedAt} is its place in the queue of answers ({@link PgPipeline.Pending#seq}).
   */
  private record BoundPortal(long seq, long queuedAt) {}

  private volatile boolean boundPortalsOverflow;

  /** Orders Binds of named portals and DECLAREs (session thread only). */
  private long portalSeq;

  /**
   * What to do when a forwarded statement's outcome arrives (see {@link #track}), by the identity
   * of its decision; taken by {@link #record}.
   */
  private final Map<AuthorizedAction, java.util.function.Consumer<Boolean>> outcomes =
      new ConcurrentHashMap<>();

  // Set when the target reports an encoding the gateway cannot read safely; ends the session.
  private volatile String unreadableEncoding;

  PgSession(PgProtocolServer server, Socket socket) {
    this(server, socket, false);
  }

  /**
   * @param busy the listener is at its connection limit: answer the startup (or a cancel request)
   *     with FATAL 53300, as PostgreSQL does past max_connections, and nothing else
   */
  PgSession(PgProtocolServer server, Socket socket, boolean busy) {
    this.server = server;
    this.raw = socket;
    this.client = socket;
    this.busy = busy;
  }

  private final boolean busy;

  void run() {
    try {
      clientOut = new BufferedOutputStream(raw.getOutputStream(), 1 << 16);
      startupDeadline = Deadline.after(STARTUP_TIMEOUT_MILLIS);
      startupDeadline.watch(raw);
      Startup startup = negotiateTls();
      if (startup == null) {
        return; // a cancel request, or the client left
      }
      if (busy) {
        throw new PgErrors.Fatal(
            PgErrors.TOO_MANY_CONNECTIONS,
            "gatehouse: too many connections (at most "
                + server.maxConnections()
                + "); try again later");
      }
      Map<String, String> params = startup.parameters();
      requireTls();
      String user = params.get("user");
      if (user == null || user.isEmpty()) {
        throw new PgErrors.Fatal(
            PgErrors.INVALID_AUTHORIZATION, "no user name given; use your gateway identity");
      }
      String database = params.getOrDefault("database", user);
      negotiateProtocolVersion(startup, params);
      Principal principal = authenticate(user);
      if (principal == null) {
        return;
      }
      // The client has said all it has to say for the startup; the target connection has limits
      // of its own.
      startupDeadline.close();
      openGateSession(principal, database);
      connectTarget(params);
      ready();
      relay();
    } catch (PgErrors.Fatal f) {
      sendFatal(f.frame());
    } catch (ProtocolViolation e) {
      sendFatal(protocolViolation(e));
    } catch (IOException e) {
      if (startupDeadline != null && startupDeadline.expired()) {
        log.info("startup timeout for {}", raw.getRemoteSocketAddress());
      } else {
        log.debug("connection {} ended: {}", raw.getRemoteSocketAddress(), e.toString());
      }
    } catch (RuntimeException e) {
      log.error("postgres session failed", e);
      sendFatal(PgMessages.error("FATAL", "XX000", "gatehouse: internal error"));
    } finally {
      if (startupDeadline != null) {
        startupDeadline.close();
      }
      end();
    }
  }

  // ---- startup ----

  /**
   * Answers SSLRequest ('S' and upgrade when TLS is configured, 'N' otherwise) and GSSENCRequest
   * ('N': the client falls back), serves CancelRequest, and returns the StartupMessage. Startup
   * packets are read unbuffered so nothing sent after SSLRequest can be read before the handshake.
   */
  private Startup negotiateTls() throws IOException, PgErrors.Fatal {
    InputStream in = raw.getInputStream();
    boolean tlsDone = false;
    while (true) {
      Startup s = PgCodec.readStartup(in);
      if (s == null) {
        return null;
      }
      switch (s.code()) {
        case PgCodec.SSL_REQUEST -> {
          if (tlsDone) {
            throw new ProtocolViolation("SSLRequest after TLS was established");
          }
          if (server.tls() == null) {
            writeRaw('N');
            continue;
          }
          writeRaw('S');
          SSLSocket ssl =
              (SSLSocket)
                  server
                      .tls()
                      .getSocketFactory()
                      .createSocket(
                          raw, raw.getInetAddress().getHostAddress(), raw.getPort(), true);
          ssl.setUseClientMode(false);
          ssl.setHandshakeApplicationProtocolSelector(
              (sock, protocols) -> protocols.contains("postgresql") ? "postgresql" : "");
          ssl.startHandshake();
          client = ssl;
          in = ssl.getInputStream();
          clientOut = new BufferedOutputStream(ssl.getOutputStream(), 1 << 16);
          tlsDone = true;
        }
        case PgCodec.GSSENC_REQUEST -> writeRaw('N');
        case PgCodec.CANCEL_REQUEST -> {
          Reader r = new Reader(s.body());
          server.cancel(r.int32(), r.int32());
          return null;
        }
        default -> {
          if (!s.isProtocol3()) {
            throw new PgErrors.Fatal(
                PgErrors.FEATURE_NOT_SUPPORTED,
                "unsupported frontend protocol "
                    + (s.code() >>> 16)
                    + "."
                    + s.minorVersion()
                    + " (expected: 3.x)");
          }
          clientIn = new PgInput(in, 1 << 16, client instanceof SSLSocket);
          return s;
        }
      }
    }
  }

  private void writeRaw(char answer) throws IOException {
    clientOut.write(answer);
    clientOut.flush();
  }

  private void requireTls() throws PgErrors.Fatal {
    if (!(client instanceof SSLSocket) && !server.allowPlaintext()) {
      throw new PgErrors.Fatal(
          PgErrors.INVALID_AUTHORIZATION,
          "TLS is required: connect with sslmode=require or sslmode=verify-full");
    }
  }

  /** Protocol 3.x with x > 0, or {@code _pq_.} options: say we speak 3.0 without options. */
  private void negotiateProtocolVersion(Startup startup, Map<String, String> params)
      throws IOException {
    List<String> options = params.keySet().stream().filter(k -> k.startsWith("_pq_.")).toList();
    if (startup.minorVersion() > 0 || !options.isEmpty()) {
      send(PgMessages.negotiateProtocolVersion(0, options));
    }
  }

  /**
   * Asks for the password in clear text (inside TLS): it is a gateway token or API key, which the
   * gate verifies. The startup {@code user} must name the token's own subject. Too many failures
   * from the client's address or for the user end the connection with FATAL 28P01 (as a wrong
   * password does, https://www.postgresql.org/docs/current/errcodes-appendix.html) before the token
   * is looked at; the message says to wait, not whether the token was right.
   */
  private Principal authenticate(String user) throws IOException, PgErrors.Fatal {
    send(PgMessages.authenticationCleartextPassword());
    flushClient();
    Message m = PgCodec.readMessage(clientIn, PgCodec::clientLimit);
    if (m == null) {
      return null; // libpq hangs up here to prompt for a password, then reconnects
    }
    if (m.kind() != 'p') {
      throw new ProtocolViolation("expected a password message, got '" + m.kind() + "'");
    }
    String token = new Reader(m.body()).cstring();
    try {
      var attempt = new dev.gatehouse.gate.AuthAttempt("postgres", raw.getInetAddress(), user);
      return server.gate().authenticate(token, attempt);
    } catch (GateException e) {
      throw PgErrors.Fatal.of(e);
    }
  }

  private void openGateSession(Principal principal, String database) throws PgErrors.Fatal {
    try {
      gs =
          server
              .gate()
              .open(principal, database, "postgres", String.valueOf(raw.getRemoteSocketAddress()));
    } catch (GateException e) {
      throw PgErrors.Fatal.of(e);
    }
    // Revocation or expiry ends the live connection, from the gate's sweeper thread: hand over to a
    // virtual thread so a slow client cannot stall the sweeper.
    gs.onTerminate(() -> Thread.ofVirtual().start(this::terminatedByGate));
    // Escapes in string constants hide keywords from the stored text's redaction (E'pass\x77ord='),
    // and a mask must not cross a comment's or literal's end: the text is masked here, by token.
    gs.storedTextFilter(
        new GateSession.StoredTextFilter() {
          @Override
          public String apply(String text, UnaryOperator<String> mask) {
            return storedText(text, mask);
          }

          @Override
          public boolean masksFully() {
            return true;
          }
        });
  }

  /**
   * Opens the target with the gateway-held credentials and the client's harmless startup
   * parameters; dropped parameters are audited.
   */
  private void connectTarget(Map<String, String> params) throws PgErrors.Fatal {
    ConnectionConfig conn = gs.connection();
    Map<String, String> creds;
    try {
      creds = gs.upstreamCredentials();
    } catch (GateException e) {
      throw PgErrors.Fatal.of(e);
    }
    String user = creds.getOrDefault("username", conn.username());
    // (the configured password stands in for the connection's own login, never for a role's:
    // Gate#connectionCredentials, GateSession#forRole)
    String password = creds.get("password");
    if (user == null || user.isEmpty()) {
      throw new PgErrors.Fatal(
          PgErrors.CANNOT_CONNECT,
          "connection \"" + conn.name() + "\" has no user name for its target");
    }
    PgStartupParams.Filtered f = PgStartupParams.filter(params, gs.obligations().readOnly());
    int audited = 0;
    List<String> more = new ArrayList<>();
    for (Map.Entry<String, String> e : f.dropped().entrySet()) {
      if (audited == MAX_DROPPED_AUDITED) {
        // A startup packet can carry some 1,500 parameters: one durable record each would let one
        // connection flood the audit log. The rest go into a single record, by name.
        if (more.size() < 64) {
          more.add(e.getKey());
        }
        continue;
      }
      audited++;
      log.info("session {}: dropped startup parameter {}", gs.id(), e.getKey());
      try {
        gs.audit(
            "postgres.param_dropped",
            Map.of("parameter", e.getKey(), "value", gs.maskStoredValue(e.getValue())));
      } catch (GateException ex) {
        throw PgErrors.Fatal.of(ex);
      }
    }
    if (f.dropped().size() > audited) {
      try {
        gs.audit(
            "postgres.param_dropped",
            Map.of(
                "more_parameters", f.dropped().size() - audited, "names", String.join(",", more)));
      } catch (GateException ex) {
        throw PgErrors.Fatal.of(ex);
      }
    }
    rowFilter = server.rowFilter(gs);
    if (rowFilter != RowFilter.IDENTITY) {
      utf8Only(f.forwarded());
    }
    heldLogins = heldLogins(conn, user);
    searchPath = new PgSearchPath(user);
    searchPath.started(f.forwarded());
    readingSettings.started(f.forwarded());
    up = PgUpstream.connect(conn, user, password, f.forwarded());
    catalog = server.catalog(gs);
    // Read now, at the session's start, if no other session of the connection read it within the
    // TTL: functions and operators created outside the gateway that shadow built-ins.
    catalog.shadows();
  }

  /**
   * A masked session runs in UTF8: the row filter reads and rewrites values as UTF-8, so rows in
   * another client encoding would be masked wrongly (LATIN1 no-break spaces splitting a card
   * number) and rebuilt in the wrong encoding. Rather than transcode every value (and refuse the
   * encodings Java lacks, and mask characters a one-byte encoding cannot hold), a masked session
   * refuses a client_encoding other than UTF8 at startup, and opens the target with UTF8 so that a
   * role's or database's default cannot choose another; SET client_encoding is refused by
   * guardMasking, and a change reported any other way ends the session (trackParameter).
   */
  private void utf8Only(Map<String, String> forwarded) throws PgErrors.Fatal {
    for (var it = forwarded.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (e.getKey().equalsIgnoreCase("client_encoding")) {
        if (!PgMaskGuard.isUtf8(e.getValue())) {
          try {
            gs.audit(
                "postgres.masking_guard",
                Map.of("client_encoding", gs.maskStoredValue(e.getValue())));
          } catch (GateException ex) {
            throw PgErrors.Fatal.of(ex);
          }
          throw new PgErrors.Fatal(
              PgErrors.FEATURE_NOT_SUPPORTED,
              "client_encoding "
                  + e.getValue()
                  + " is refused: this session's results are masked, which needs UTF8"
                  + " (set PGCLIENTENCODING=UTF8)");
        }
        it.remove();
      }
    }
    forwarded.put("client_encoding", "UTF8");
  }

  /**
   * Tells the client it is in: AuthenticationOk, the target's ParameterStatus, the gateway's own
   * cancel key (mapped to the target's, which the client never sees), ReadyForQuery.
   */
  private void ready() throws IOException, PgErrors.Fatal {
    cancelKey = server.registerCancel(gs.connection().name(), up.pid, up.secretKey);
    up.parameters.forEach(this::trackParameter);
    reportsSearchPath = up.parameters.containsKey("search_path");
    startCatalogFirst = catalogFirst;
    if (unreadableEncoding != null) {
      throw unreadable();
    }
    send(PgMessages.authenticationOk());
    for (byte[] notice : up.notices) {
      send(maskFields('N', java.util.Arrays.copyOfRange(notice, 5, notice.length)));
    }
    for (byte[] ps : up.parameterStatus) {
      // Masked like later ones: a role's default application_name (ALTER ROLE … SET) is free
      // text the login reports (red team, issue #4).
      send(maskParameterStatus(java.util.Arrays.copyOfRange(ps, 5, ps.length)));
    }
    send(PgMessages.backendKeyData(cancelKey[0], cancelKey[1]));
    send(PgMessages.readyForQuery(up.transactionStatus));
    flushClient();
    log.info(
        "postgres session {}: {} on connection {}",
        gs.id(),
        gs.principal().subject(),
        gs.connection().name());
  }

  // ---- relay ----

  private void relay() throws IOException, PgErrors.Fatal {
    Thread target =
        PgProtocolServer.sessionThread()
            .name(Thread.currentThread().getName() + "-target")
            .start(this::relayTarget);
    try {
      relayClient();
    } catch (ProtocolViolation e) {
      // Say why before anything is closed: closing the target wakes the other thread, which
      // closes the client.
      sendFatal(protocolViolation(e));
      throw e;
    } catch (PgErrors.Fatal f) {
      sendFatal(f.frame());
      throw f;
    } finally {
      clientHold.release();
      shutdown();
      try {
        target.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Client → target: decide on each message, then forward it (or its refusal). */
  private void relayClient() throws IOException, PgErrors.Fatal {
    while (true) {
      Message m = PgCodec.readMessage(clientIn, PgCodec::clientLimit, clientHold);
      if (m == null) {
        return;
      }
      switch (m.kind()) {
        case 'Q' -> query(m);
        case 'P' -> parse(m);
        case 'B' -> bind(m);
        case 'E' -> execute(m);
        case 'D' -> describe(m);
        case 'C' -> close(m);
        case 'S' -> sync(m);
        case 'H' -> {
          if (!discarding) {
            forward(m);
            up.out.flush();
          }
        }
        case 'F' -> functionCall(m);
        case 'd', 'c', 'f' -> {
          // COPY data from the client, part of an allowed COPY (outside one the target ignores it)
          if (copyInStarted > 0) {
            copyInStarted = m.kind() == 'd' ? 2 : 0;
          }
          forward(m);
        }
        case 'X' -> {
          forward(m);
          up.out.flush();
          return;
        }
        default -> throw new ProtocolViolation("invalid frontend message type '" + m.kind() + "'");
      }
      clientHold.release();
      if (clientIn.drained()) {
        up.out.flush();
      }
    }
  }

  /**
   * Simple query: every statement is decided on before any is forwarded; if one is refused, none
   * runs (PostgreSQL would run a multi-statement Query as one implicit transaction, so all or
   * nothing is also what the caller expects).
   */
  private void query(Message m) throws IOException, PgErrors.Fatal {
    if (discarding) {
      return;
    }
    Reader r = new Reader(m.body());
    String sql = new String(r.cstringBytes(), clientCharset);
    r.end(); // "SELECT 1\0; DELETE ...\0" is malformed, not SELECT 1 (the server refuses it too)
    if (sql.length() > MAX_STATEMENT_TEXT) {
      refuseSimple(new Pending(Kind.QUERY, tooLong("Query", sql.length())));
      return;
    }
    boolean trusted = catalogFirstNow();
    List<SqlStatement> stmts = classify(sql, trusted);
    if (trusted && movesPathBeforeLast(stmts, unsafePathSeen)) {
      // The server resolves the names of each statement after the one before it ran, so the
      // statements behind a RESET ALL, or a COMMIT or ROLLBACK that ends a SET, may call functions
      // through a path with another schema in front of pg_catalog; and so may those behind a
      // statement that sets a path nobody can read here, in the first such query of a session too.
      trusted = false;
      stmts = classify(sql, false);
    }
    builtinsTrusted = trusted;
    List<AuthorizedAction> allowed = new ArrayList<>();
    // Several statements: approvals are spent only once all of them are allowed (red team rt12:
    // an approved statement's approval was spent though another one refused the whole query).
    deferSpending = stmts.size() > 1;
    try {
      for (SqlStatement s : stmts) {
        allowed.add(authorize(s));
      }
      if (deferSpending) {
        // all or none: a Query refused because one was used meanwhile leaves the others unspent
        gs.spendAll(allowed);
      }
    } catch (GateException e) {
      for (int i = 0; i < allowed.size(); i++) {
        forgetPreparing(stmts.get(i).action()); // the action noted, not the decorated one
        gs.completed(
            allowed.get(i), false, "not executed: another statement in the query was refused", 0);
      }
      refuseSimple(new Pending(Kind.QUERY, PgErrors.error(e)), e);
      return;
    } finally {
      deferSpending = false;
    }
    for (int i = 0; i < stmts.size(); i++) {
      track(allowed.get(i), stmts.get(i).action());
    }
    stmts.forEach(this::afterAuthorized);
    if (stmts.stream().anyMatch(s -> isCopyIn(s.action()))) {
      copyInStarted = 1;
    }
    awaitAnswer(new Pending(Kind.QUERY, allowed));
    forward(m);
    up.out.flush();
  }

  private static boolean isCopyIn(Action a) {
    return a != null && SqlKinds.COPY_IN.equals(a.string(Action.Attr.SQL_KIND));
  }

  /**
   * A statement or portal name of Parse, Bind, Describe, Execute or Close, or null when the gateway
   * could not key it as PostgreSQL does. The server keys these names by their first {@code
   * NAMEDATALEN - 1} = 63 bytes (prepare.c and portalmem.c hash them with a key of NAMEDATALEN
   * bytes), cutting a multi-byte character if need be, while SQL's PREPARE, DECLARE, EXECUTE and
   * FETCH names are identifiers clipped on a character boundary ({@link PgLexer#truncate}). Two
   * names the gateway told apart were one to the server (red team rt17: Parse of a 64-byte name as
   * SELECT, Close of another with the same 63 bytes, Parse of that one as an UPDATE, Execute of the
   * first: the UPDATE ran, unreviewed, recorded as the SELECT). Names of at most 63 ASCII bytes are
   * keyed alike everywhere; clients use such names (S_1, pdo_stmt_00000001, __asyncpg_stmt_1__), so
   * anything else is refused rather than modelled.
   */
  private static String protocolName(Reader r) throws ProtocolViolation {
    byte[] b = r.cstringBytes();
    if (b.length > PgLexer.MAX_IDENTIFIER_BYTES) {
      return null;
    }
    for (byte x : b) {
      if (x < 0x20) { // bytes from 0x80 on are negative
        return null;
      }
    }
    return new String(b, StandardCharsets.US_ASCII);
  }

  private static byte[] badName(String what) {
    return PgErrors.error(
        PgErrors.INVALID_NAME,
        "the "
            + what
            + " name is longer than 63 bytes or not printable ASCII; PostgreSQL keys protocol"
            + " names by their first 63 bytes, so the gateway accepts only names it keys the same"
            + " way");
  }

  /** Parse: decided here (a prepared statement holds exactly one statement). */
  private void parse(Message m) throws IOException, PgErrors.Fatal {
    if (discarding) {
      return;
    }
    Reader r = new Reader(m.body());
    String name = protocolName(r);
    if (name == null) {
      refuseExtended(badName("statement"));
      return;
    }
    String sql = new String(r.cstringBytes(), clientCharset);
    if (sql.length() > MAX_STATEMENT_TEXT) {
      refuseExtended(tooLong("Parse", sql.length()));
      return;
    }
    if (!name.isEmpty() && statements.containsKey(name)) {
      refuseExtended(
          PgErrors.error(
              PgErrors.DUPLICATE_STATEMENT, "prepared statement \"" + name + "\" already exists"));
      return;
    }
    if (statements.size() >= MAX_PREPARED) {
      refuseExtended(PgErrors.error("54000", "too many prepared statements in this session"));
      return;
    }
    boolean trusted = catalogFirstNow();
    builtinsTrusted = trusted;
    List<SqlStatement> stmts = classify(sql, trusted);
    if (stmts.size() > 1) {
      refuseExtended(
          PgErrors.error(
              PgErrors.SYNTAX_ERROR, "cannot insert multiple commands into a prepared statement"));
      return;
    }
    int declaredTypes = r.int16();
    if (r.remaining() < 4 * declaredTypes) {
      throw new ProtocolViolation("Parse message shorter than its parameter types");
    }
    int[] types = declaredTypes == 0 ? PgParamTypes.NONE : new int[declaredTypes];
    for (int i = 0; i < declaredTypes; i++) {
      types[i] = r.int32();
    }
    Prepared st;
    if (stmts.isEmpty()) {
      st = new Prepared(null, null, syncEpoch); // an empty query: nothing to decide
    } else {
      try {
        SqlStatement s = stmts.get(0);
        if (declaredTypes > 0
            || sql.indexOf('$') >= 0
            || s.action().string(SqlClassifier.ATTR_EXECUTED_NAME) != null) {
          // It may take parameters, which arrive only with Bind: decide now to refuse early, but
          // record (and hold for review) at Execute, when the record can carry the parameters.
          // A '$' inside a literal only moves the record to Execute; it loses nothing. An EXECUTE
          // is decided as the statement it runs, when it runs (see resolved).
          if (gs.check(searchPath.decorate(resolved(s.action()))).effect() == Effect.DENY) {
            decide(s); // records the denial and throws
          }
          guardReadOnly(s);
          guardLogins(s);
          guardMasking(s);
          st = new Prepared(s.action(), null, syncEpoch);
        } else {
          // A PREPARE in it prepares only when executed (see execute), not noted here.
          st = new Prepared(s.action(), decide(s), syncEpoch);
          st.pathAfterParse = searchPath.schemas();
        }
      } catch (GateException e) {
        refuseExtended(PgErrors.error(e), e);
        return;
      }
      afterAuthorized(stmts.get(0));
    }
    st.paramTypes = types;
    st.trust = trusted ? new Prepared.Trust(catalogFirst, unreadablePathAt, pathMovedAt) : null;
    st.shadows = lastShadows;
    statements.put(name, st);
    awaitAnswer(new Pending(Kind.PARSE, name, st, null, null));
    forward(m);
  }

  private void bind(Message m) throws IOException, PgErrors.Fatal {
    if (discarding) {
      return;
    }
    Reader r = new Reader(m.body());
    String portal = protocolName(r);
    String stmt = protocolName(r);
    if (portal == null || stmt == null) {
      refuseExtended(badName(portal == null ? "portal" : "statement"));
      return;
    }
    Prepared st = statements.get(stmt);
    if (st == null || !confirmed(st.epoch, st.parsed)) {
      refuseExtended(
          PgErrors.error(
              PgErrors.INVALID_STATEMENT_NAME,
              "prepared statement \"" + stmt + "\" was not prepared through the gateway"));
      return;
    }
    if (!portal.isEmpty() && portals.containsKey(portal)) {
      refuseExtended(
          PgErrors.error(PgErrors.DUPLICATE_CURSOR, "portal \"" + portal + "\" already exists"));
      return;
    }
    if (portals.size() >= MAX_PREPARED) {
      refuseExtended(PgErrors.error("54000", "too many open portals in this session"));
      return;
    }
    int paramsFrom = m.body().length - r.remaining();
    Portal p = new Portal(st, syncEpoch, recordedParameters(r));
    p.queuedAt = queued; // the Pending queued just below
    p.exactParams = exactParameters(m.body(), paramsFrom, m.body().length - r.remaining());
    p.resultFormats = PgPipeline.resultFormats(r);
    portals.put(portal, p);
    if (!portal.isEmpty()) {
      if (boundPortals.size() < MAX_PREPARED || boundPortals.containsKey(portal)) {
        boundPortals.put(portal, new BoundPortal(++portalSeq, queued));
      } else {
        boundPortalsOverflow = true;
      }
    }
    awaitAnswer(new Pending(Kind.BIND, portal, null, p, null));
    forward(m);
  }

  /**
   * Execute: runs under the Parse decision the first time; every later execution (and any after a
   * policy change) is decided and recorded again, so each execution has its own record.
   */
  private void execute(Message m) throws IOException, PgErrors.Fatal {
    if (discarding) {
      return;
    }
    String name = protocolName(new Reader(m.body()));
    if (name == null) {
      refuseExtended(badName("portal"));
      return;
    }
    Portal p = portals.get(name);
    if (p == null || !confirmed(p.epoch, p.bound)) {
      refuseExtended(
          PgErrors.error(
              PgErrors.INVALID_CURSOR_NAME,
              "portal \"" + name + "\" was not opened through the gateway"));
      return;
    }
    AuthorizedAction a = null;
    if (p.stmt.action != null) {
      try {
        a = p.auth; // continuing a suspended portal
        boolean pathCurrent;
        if (a == null) {
          a = p.stmt.takeParseDecision();
          // Compared with the schemas after the Parse decision: a SET search_path decided at
          // Parse grew them itself and must not be decided (and recorded) a second time.
          pathCurrent = searchPath.schemas() == p.stmt.pathAfterParse;
        } else {
          pathCurrent = searchPath.current(a.action());
        }
        // Classified trusting built-in names, and a new run when they are not trusted any more:
        // PostgreSQL plans it again under the path of now (sql-prepare.html), and lower(x) may
        // then call another schema's lower (pgjdbc binds a statement it prepared long before).
        builtinsTrusted = catalogFirstNow();
        refuseBoundPortal(p.stmt.action.string(SqlClassifier.ATTR_USES_CURSOR));
        boolean lostTrust = p.auth == null && lostTrust(p.stmt.trust);
        // Functions or operators created outside the gateway since the Parse (or gone): classified
        // again under what the catalog holds now, as trusting as the Parse was.
        boolean shadowsMoved = p.auth == null && !lostTrust && p.stmt.shadows != shadowsNow();
        if (a == null || gs.stale(a) || !pathCurrent || lostTrust || shadowsMoved) {
          recheckCursor(p.stmt.action);
          Action action =
              resolved(
                  lostTrust
                      ? untrusted(p.stmt.action)
                      : shadowsMoved ? reclassified(p.stmt) : p.stmt.action);
          a =
              gs.authorize(
                  withParameters(searchPath.decorate(action), p.params),
                  waitingFor(action, p.exactParams, p.params, p.stmt.paramTypes));
          searchPath.allowed(action);
          noteSettings(action);
        }
      } catch (GateException e) {
        refuseExtended(PgErrors.error(e), e);
        return;
      }
      if (a != p.auth) {
        notePreparing(p.stmt.action); // a new run: a PREPARE in it awaits the target's answer
        track(a, p.stmt.action);
        notePath(p.stmt.action); // it runs now, maybe long after its Parse was answered
      }
      p.auth = a;
    }
    describeForMasking(name, p);
    if (isCopyIn(p.stmt.action)) {
      copyInStarted = 1;
    }
    awaitAnswer(new Pending(Kind.EXECUTE, name, null, p, a));
    forward(m);
  }

  /**
   * In a masked session, makes sure the rows of an Execute are masked by the columns they really
   * have: a portal the client did not describe is described by the gateway itself, just before its
   * first Execute, and the answer (RowDescription or NoData) is kept, not relayed. A statement's
   * description is not enough: PostgreSQL re-plans a prepared statement whenever its search_path or
   * the objects it reads change, and keeps it as long as the result's column names and types stay
   * the same ("cached plan must not change result type"), so after {@code SET search_path = other}
   * the same columns can come from another table with other column rules. A portal's description is
   * fixed when it is bound and is what its Execute returns (<a
   * href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY">extended
   * query</a>: "the Describe ... portal variant ... description of the rows that will be
   * returned"). The message is sent in the client's pipeline, so it costs no round trip; after an
   * earlier error the target skips it like the Execute behind it.
   */
  private void describeForMasking(String name, Portal p) throws IOException {
    if (rowFilter == RowFilter.IDENTITY || p.describeSent) {
      return;
    }
    p.describeSent = true;
    awaitAnswer(new Pending(Kind.OWN_DESCRIBE, name, null, p, null));
    PgCodec.writeMessage(up.out, (byte) 'D', new Builder('D').int8('P').cstring(name).body());
  }

  private void describe(Message m) throws IOException {
    if (discarding) {
      return;
    }
    Reader r = new Reader(m.body());
    boolean statement = r.int8() == 'S';
    String name = protocolName(r);
    if (name == null) {
      refuseExtended(badName(statement ? "statement" : "portal"));
      return;
    }
    Portal described = statement ? null : portals.get(name);
    if (described != null) {
      described.describeSent = true;
    }
    // What is described, so its RowDescription can be kept for the rows of later Executes.
    awaitAnswer(
        new Pending(Kind.DESCRIBE, name, statement ? statements.get(name) : null, described, null));
    forward(m);
  }

  private void close(Message m) throws IOException {
    if (discarding) {
      return;
    }
    Reader r = new Reader(m.body());
    char what = (char) r.int8();
    String name = protocolName(r);
    if (name == null) {
      refuseExtended(badName(what == 'S' ? "statement" : "portal"));
      return;
    }
    Pending p = new Pending(Kind.CLOSE, what == 'S' ? name : null, null, null, null);
    if (what == 'S') {
      statements.remove(name);
    } else {
      portals.remove(name);
      if (what == 'P' && !name.isEmpty()) {
        BoundPortal bound = boundPortals.get(name); // the Bind this Close follows, if any
        p.closedPortal = () -> portalClosed(name, bound);
      }
    }
    awaitAnswer(p);
    forward(m);
  }

  /**
   * CloseComplete of a named portal (target reader thread): the target dropped the portal of that
   * name, whether a Bind opened it or a SQL DECLARE (one namespace; portalmem.c PortalDrop; "It is
   * not an error to issue Close against a nonexistent ... portal name", protocol-flow.html), so
   * FETCH protection for the name ends: a later cursor of the name (a function's refcursor) was
   * decided as the closed cursor's DECLARE, counted on from its rows, or refused as a Bound portal.
   * Protocol names are at most 63 ASCII bytes ({@link #protocolName}), keyed by the target as these
   * maps key a cursor name (folded and clipped by {@link PgLexer}), so only the closed name is
   * forgotten. {@link #cursors} and {@link #cursorRows} gain entries only on this thread, in the
   * order of the answers (a recheck on the session thread only replaces a cursor's decision), so
   * what they hold now existed before the Close. {@code bound} is the Bind seen when the Close was
   * sent: one sent behind the Close is put before this answer arrives and must stay. A Close the
   * target skipped (an earlier error of its pipeline) has no CloseComplete and forgets nothing.
   */
  private void portalClosed(String name, BoundPortal bound) {
    if (bound != null) {
      boundPortals.remove(name, bound);
    }
    cursors.remove(name);
    cursorRows.remove(name);
  }

  private void sync(Message m) throws IOException {
    discarding = false;
    syncEpoch++;
    Pending p = new Pending(Kind.SYNC, (byte[]) null);
    p.duringCopy = copyInStarted;
    awaitAnswer(p);
    forward(m);
    up.out.flush();
  }

  /**
   * The client-side large object functions libpq and pgjdbc call with FunctionCall, by their fixed
   * OIDs (src/include/catalog/pg_proc.dat; built-in OIDs do not change between versions):
   * lo_create, lo_open, lo_close, loread, lowrite, lo_lseek, lo_creat, lo_tell, lo_unlink,
   * lo_truncate, lo_lseek64, lo_tell64, lo_truncate64. Not the server-side lo_import/lo_export
   * (server files).
   */
  static final java.util.Set<Integer> LARGE_OBJECT_FUNCTIONS =
      java.util.Set.of(715, 952, 953, 954, 955, 956, 957, 958, 964, 1004, 3170, 3171, 3172);

  /**
   * FunctionCall calls a function by OID, bypassing SQL text. It is described as an unparsed
   * statement of unknown kind, so only a rule that allows unknown statements can allow it; it is
   * refused in read-only sessions, and in masked sessions except for {@link
   * #LARGE_OBJECT_FUNCTIONS}.
   */
  private void functionCall(Message m) throws IOException, PgErrors.Fatal {
    if (discarding) {
      return;
    }
    int oid = new Reader(m.body()).int32();
    Action action =
        new Action(
            ActionKind.SQL,
            "FunctionCall oid=" + Integer.toUnsignedString(oid),
            Map.of(Action.Attr.SQL_KIND, "unknown", Action.Attr.SQL_UNPARSED, true));
    AuthorizedAction a;
    try {
      if (gs.obligations().readOnly()) {
        // A function called by OID could be set_config: the read-only guard cannot see it.
        throw new GateException(
            GateException.Reason.FORBIDDEN,
            "this session is read-only; FunctionCall messages (large objects: psql's"
                + " \\lo_import and \\lo_export, pgjdbc's LargeObjectManager) are refused");
      }
      if (rowFilter != RowFilter.IDENTITY && !LARGE_OBJECT_FUNCTIONS.contains(oid)) {
        // FunctionCallResponse is a bare value with no RowDescription: no column rule can apply,
        // and query_to_xml('SELECT email FROM customers', ...) called by OID would return the raw
        // values to a masked session. Fail closed, as for binary COPY output; only the large
        // object functions clients call this way stay (their data is in no column either way).
        throw new GateException(
            GateException.Reason.FORBIDDEN,
            "this session's results are masked and a FunctionCall's result cannot be;"
                + " call the function with SELECT");
      }
      // Its arguments are not in the action: bound into a review's fingerprint from the message.
      a =
          gs.authorize(
              action,
              reviewWaiting(
                  exactParameters(m.body(), 0, m.body().length),
                  List.of(),
                  List.of(),
                  PgParamTypes.NONE,
                  PgParamTypes.NONE));
      searchPath.unreadable();
      readingSettings.unknownChange();
      unreadablePath(); // a function called by OID may be set_config
      pathMovedAt = queued;
    } catch (GateException e) {
      refuseSimple(new Pending(Kind.QUERY, PgErrors.error(e)), e);
      return;
    }
    awaitAnswer(new Pending(Kind.QUERY, List.of(a)));
    forward(m);
    up.out.flush();
  }

  /**
   * Decides on one statement, after the read-only guard, with the schemas its bare names may be in;
   * a search_path it sets counts from the next statement on, also in the same query. An EXECUTE is
   * decided as the statement it runs ({@link #resolved}); a FETCH or MOVE first has its cursor's
   * DECLARE decided again when the policy changed ({@link #recheckCursor}).
   */
  private AuthorizedAction authorize(SqlStatement s) throws GateException {
    AuthorizedAction a = decide(s);
    notePreparing(s.action());
    return a;
  }

  /**
   * {@code a} was allowed to run: a setting it may change counts for the review fingerprints of the
   * statements decided after it, also in the same Query or pipeline ({@link PgReadingSettings}).
   */
  private void noteSettings(Action a) {
    readingSettings.note(a);
  }

  /**
   * {@link #authorize} without noting a PREPARE: for a Parse, whose statement runs (and prepares)
   * only when executed, maybe never.
   */
  private AuthorizedAction decide(SqlStatement s) throws GateException {
    guardReadOnly(s);
    guardLogins(s);
    guardMasking(s);
    recheckCursor(s.action());
    Action action = resolved(s.action());
    AuthorizedAction a =
        gs.authorize(
            searchPath.decorate(action), waitingFor(action, null, List.of(), PgParamTypes.NONE));
    searchPath.allowed(action);
    noteSettings(action);
    return a;
  }

  /**
   * The action to decide for {@code action}: for {@code EXECUTE name} of a statement prepared
   * through the gateway (SQL PREPARE, or a protocol-level Parse: they share one namespace), the
   * prepared statement as it runs ({@link SqlClassifier#executing}); deciding it on every EXECUTE
   * takes a few microseconds, and so a policy change, a search_path change or a review applies to
   * each run. Any other action as it is: an EXECUTE of a name the gateway did not see prepared
   * keeps the kind execute.
   */
  private Action resolved(Action action) throws GateException {
    String name = action.string(SqlClassifier.ATTR_EXECUTED_NAME);
    if (name == null) {
      return action;
    }
    Action confirmed = sqlPrepared.get(name);
    lastConfirmedTypes = PgParamTypes.NONE;
    Prepared st = name.isEmpty() ? null : statements.get(name);
    List<Action> preparing = sqlPreparing.getOrDefault(name, List.of());
    if (st != null) {
      // A SQL PREPARE names its types in its text; a Parse declares them beside it (also when it
      // is the confirmed statement: a ParseComplete joins sqlPrepared, see parsed)
      lastConfirmedTypes = st.paramTypes;
    }
    if (confirmed == null) {
      confirmed = st == null ? null : st.action;
    } else if (st != null && st.action != null && st.action != confirmed) {
      // Both: SQL PREPARE and Parse share the target's one namespace, so one of them is gone
      // there (a protocol Close drops a SQL-prepared statement, a DEALLOCATE a Parsed one, and the
      // name can then be used again by the other). Which one the target has is not known here:
      // the EXECUTE is decided as either (red team rt16: a write Parsed under the name of a
      // closed SQL PREPARE of a SELECT ran as that SELECT).
      List<Action> both = new ArrayList<>(preparing.size() + 1);
      both.addAll(preparing);
      both.add(st.action);
      preparing = List.copyOf(both);
    }
    if (!builtinsTrusted) {
      // prepared while built-in names were trusted, perhaps; planned again under the path of now
      confirmed = confirmed == null ? null : untrusted(confirmed);
      preparing = preparing.stream().map(this::untrusted).toList();
    } else if (!shadowsNow().isEmpty()) {
      // prepared before a function or operator shadowing a built-in was seen, perhaps
      confirmed = confirmed == null ? null : shadowed(confirmed);
      preparing = preparing.stream().map(this::shadowed).toList();
    }
    if (confirmed == null && preparing.isEmpty()) {
      if (sqlPreparedOverflow) {
        throw new GateException(
            GateException.Reason.FORBIDDEN,
            "prepared statement \""
                + name
                + "\" cannot be checked: this session prepared more than "
                + MAX_PREPARED
                + " statements");
      }
      // Not prepared through the gateway: the target answers that it does not exist, unless a DO
      // block or a function prepared it (then only a rule allowing execute admits running it)
      return SqlClassifier.unseenPrepared(action);
    }
    if (action == lastExecute && confirmed == lastConfirmed && preparing == lastPreparing) {
      return lastResolved; // the same EXECUTE text again (the classifier caches its action)
    }
    Action out = action;
    if (confirmed != null) {
      out = SqlClassifier.executing(out, confirmed);
    }
    // Every PREPARE of the name still awaiting the target's answer: which of them (if any) the
    // target will have when this EXECUTE runs is not known yet (a second one fails as a duplicate).
    for (Action p : candidates(confirmed, preparing)) {
      if (p != confirmed) {
        out = SqlClassifier.executing(out, p);
      }
    }
    lastExecute = action;
    lastConfirmed = confirmed;
    lastPreparing = preparing;
    lastResolved = out;
    return out;
  }

  /**
   * What an EXECUTE of a name may run: the confirmed statement (if any), then each different
   * pending PREPARE once (one text prepared twice is one action: the classifier caches it).
   */
  private static List<Action> candidates(Action confirmed, List<Action> preparing) {
    List<Action> out = new ArrayList<>(1 + preparing.size());
    if (confirmed != null) {
      out.add(confirmed);
    }
    for (Action p : preparing) {
      boolean seen = false;
      for (Action o : out) {
        seen |= o == p;
      }
      if (!seen) {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * Whether the statement being decided was classified trusting unqualified built-in names ({@link
   * #catalogFirstNow}), for the prepared statement an EXECUTE in it runs (session thread).
   */
  private boolean builtinsTrusted = true;

  /**
   * {@code a} (one statement) classified again without trusting unqualified built-in names: every
   * such call is then in {@code opaque_functions}.
   */
  private Action untrusted(Action a) {
    List<SqlStatement> again = classify(a.raw(), false);
    return again.size() == 1 ? again.get(0).action() : a;
  }

  /**
   * {@code a} (one statement) classified again trusting unqualified built-in names, under the
   * connection's {@link SqlShadows} of now (the classifier's cache answers when they are the same).
   */
  private Action shadowed(Action a) {
    List<SqlStatement> again = classify(a.raw(), true);
    return again.size() == 1 ? again.get(0).action() : untrusted(a);
  }

  /**
   * A prepared statement's action classified again, trusting unqualified built-in names as its
   * Parse did, under the connection's {@link SqlShadows} of now.
   */
  private Action reclassified(Prepared st) {
    List<SqlStatement> again = classify(st.action.raw(), st.trust != null);
    return again.size() == 1 ? again.get(0).action() : untrusted(st.action);
  }

  // resolved()'s last answer, by identity (session thread only): repeated EXECUTEs of one text
  // skip the merge (a few microseconds) and hit PgSearchPath's decoration memo.
  private Action lastExecute;
  private Action lastConfirmed;
  private List<Action> lastPreparing;
  private Action lastResolved;

  /**
   * The parameter types the Parse of the protocol-level statement {@link #resolved} last resolved
   * an EXECUTE to declared (none for a SQL PREPARE, whose text names them); set on every call, as
   * one text may be parsed again with other types under the same cached action.
   */
  private int[] lastConfirmedTypes = PgParamTypes.NONE;

  /**
   * A PREPARE was allowed and is forwarded to run: EXECUTEs behind it see it until the target
   * answers (see track). Each run is noted once and forgotten once, when its outcome is recorded
   * (or its query refused), so an entry lives only while its PREPARE is at the target: two runs of
   * one text (the classifier caches its action) are two entries, or the first answer would leave
   * the second unseen.
   */
  private void notePreparing(Action action) {
    String name = action.string(SqlClassifier.ATTR_PREPARED_NAME);
    if (name == null) {
      return;
    }
    if (sqlPreparing.size() >= MAX_PREPARED && !sqlPreparing.containsKey(name)) {
      sqlPreparedOverflow = true;
      return;
    }
    sqlPreparing.compute(
        name,
        (k, pending) -> {
          if (pending == null) {
            return List.of(action);
          }
          if (pending.size() >= MAX_PENDING_PER_NAME) {
            sqlPreparedOverflow = true; // EXECUTEs of names not tracked are refused from now on
            return pending;
          }
          List<Action> more = new ArrayList<>(pending);
          more.add(action);
          return List.copyOf(more);
        });
  }

  /** PREPAREs of one name pipelined before the target answered the first; more is refused. */
  private static final int MAX_PENDING_PER_NAME = 16;

  /** One run of the PREPARE {@code decided} no longer awaits the target (refused, failed, done). */
  private void forgetPreparing(Action decided) {
    String name = decided.string(SqlClassifier.ATTR_PREPARED_NAME);
    if (name == null) {
      return;
    }
    sqlPreparing.computeIfPresent(
        name,
        (k, pending) -> {
          List<Action> rest = new ArrayList<>(pending);
          for (int i = 0; i < rest.size(); i++) {
            if (rest.get(i) == decided) {
              rest.remove(i);
              break;
            }
          }
          return rest.isEmpty() ? null : List.copyOf(rest);
        });
  }

  /**
   * Refuses a FETCH or MOVE of {@code name} when it may be a portal Bound through the protocol
   * ({@link #boundPortals}): checked at every run, a Parse of the FETCH being decided before the
   * portal was Bound.
   */
  private void refuseBoundPortal(String name) throws GateException {
    if (name == null) {
      return;
    }
    SqlCursor c = cursors.get(name);
    BoundPortal bound = boundPortals.get(name);
    if ((bound != null || boundPortalsOverflow)
        && (c == null || (bound != null && c.declaredAt < bound.seq()))) {
      throw new GateException(
          GateException.Reason.FORBIDDEN,
          "\""
              + name
              + "\" may be a portal opened with Bind, which is decided when it is run with Execute;"
              + " FETCH and MOVE run only cursors DECLAREd through the gateway by that name");
    }
  }

  /**
   * Before a FETCH or MOVE of a cursor DECLAREd through the gateway: when the policy changed since
   * its DECLARE was decided, that is decided again (recorded, refused or held for review like any
   * decision), as the FETCH runs more of its query.
   */
  private void recheckCursor(Action action) throws GateException {
    String name = action.string(SqlClassifier.ATTR_USES_CURSOR);
    if (name == null) {
      return;
    }
    refuseBoundPortal(name);
    SqlCursor c = cursors.get(name);
    if (c == null) {
      if (cursorsOverflow) {
        throw new GateException(
            GateException.Reason.FORBIDDEN,
            "cursor \""
                + name
                + "\" cannot be checked again: this session declared more than "
                + MAX_PREPARED
                + " cursors");
      }
      return; // not declared through the gateway (a function's refcursor): the FETCH is decided
    }
    if (!gs.stale(c.decided)) {
      return;
    }
    AuthorizedAction again = gs.authorize(searchPath.decorate(c.action), reviewWaiting);
    gs.completed(again, true, "decided again before fetching from cursor " + name, 0);
    cursors.replace(name, c, new SqlCursor(c.action, again, c.hold, c.declaredAt));
  }

  /**
   * ParseComplete: a named statement is now in the target's one namespace of prepared statements,
   * which SQL EXECUTE reaches too, so it joins {@link #sqlPrepared} as a confirmed SQL PREPARE does
   * and leaves it only as those do: at a confirmed Close, DEALLOCATE of its name or DISCARD ALL
   * ({@link #closed}, {@link #track}). The protocol-level {@link #statements} are forgotten
   * earlier, at any DEALLOCATE or DISCARD decided (a Bind then fails closed), but the target may
   * keep them: DISCARD PLANS, a DEALLOCATE of another name or of one it does not know. Deciding an
   * EXECUTE from {@link #statements} alone then ran a Parsed write as an earlier SELECT of that
   * name, unreviewed (review of the sixteenth session). Target reader thread.
   */
  private void parsed(Pending p) {
    p.prepared.parsed.complete(true);
    if (p.name == null || p.name.isEmpty() || p.prepared.action == null) {
      return;
    }
    if (sqlPrepared.size() < MAX_PREPARED || sqlPrepared.containsKey(p.name)) {
      sqlPrepared.put(p.name, p.prepared.action);
    } else {
      sqlPreparedOverflow = true; // EXECUTEs of names not tracked are refused from now on
    }
  }

  /**
   * CloseComplete: a closed statement's name is free at the target (see {@link #parsed}); a closed
   * portal's, see {@link #portalClosed}.
   */
  private void closed(Pending p) {
    if (p.name != null) {
      sqlPrepared.remove(p.name);
    }
    if (p.closedPortal != null) {
      p.closedPortal.run();
    }
  }

  /**
   * Once a statement is forwarded: what the session learns when the target confirms it, applied by
   * {@link #record} (target reader thread). A PREPARE or DECLARE is remembered only then, and a
   * CLOSE, DEALLOCATE, DISCARD ALL or transaction end forgets only what existed when it was
   * decided: remembering a PREPARE that fails as a duplicate, or forgetting on a CLOSE that never
   * ran, would leave a live statement or cursor checked as something else.
   */
  private void track(AuthorizedAction a, Action action) {
    String prepared = action.string(SqlClassifier.ATTR_PREPARED_NAME);
    String declared = action.string(SqlClassifier.ATTR_DECLARES_CURSOR);
    String closes = action.string(SqlClassifier.ATTR_CLOSES);
    boolean ends = action.flag(SqlClassifier.ATTR_ENDS_TRANSACTION);
    if (a == null || (prepared == null && declared == null && closes == null && !ends)) {
      return;
    }
    String kind = action.string(Action.Attr.SQL_KIND);
    Map<String, SqlCursor> closedCursors = new HashMap<>();
    Map<String, BoundPortal> closedBound = new HashMap<>();
    Map<String, Action> deallocated = new HashMap<>();
    if (closes != null && !SqlKinds.DEALLOCATE.equals(kind)) {
      pick(cursors, closes, closedCursors);
      // CLOSE name drops the portal of the name, a Bound one too, and CLOSE ALL (and DISCARD ALL)
      // every portal but the one running it, whose statement is that CLOSE: a FETCH of it runs
      // nothing (portalcmds.c PerformPortalClose, portalmem.c PortalHashTableDeleteAll). The
      // Binds seen now, not one sent behind the statement.
      pick(boundPortals, closes, closedBound);
    }
    if (closes != null && !SqlKinds.CURSOR.equals(kind)) {
      pick(sqlPrepared, closes, deallocated);
    }
    boolean hold = action.flag(SqlClassifier.ATTR_WITH_HOLD);
    long declaredAt = declared != null ? ++portalSeq : 0;
    outcomes.put(
        a,
        ok -> {
          if (prepared != null) {
            forgetPreparing(action);
          }
          if (!ok) {
            return;
          }
          closedCursors.forEach(cursors::remove);
          closedBound.forEach(boundPortals::remove);
          if (ends) {
            // The cursors without HOLD as the target has them now: a DECLARE pipelined before
            // this end was confirmed before it (answers come in order), one after it not yet.
            cursors.values().removeIf(c -> !c.hold);
          }
          deallocated.forEach(sqlPrepared::remove);
          forgetCursorRows(declared, SqlKinds.DEALLOCATE.equals(kind) ? null : closes, ends);
          if (prepared != null) {
            if (sqlPrepared.size() < MAX_PREPARED || sqlPrepared.containsKey(prepared)) {
              sqlPrepared.put(prepared, action);
            } else {
              sqlPreparedOverflow = true;
            }
          }
          if (declared != null) {
            if (cursors.size() < MAX_PREPARED || cursors.containsKey(declared)) {
              cursors.put(declared, new SqlCursor(action, a, hold, declaredAt));
            } else {
              cursorsOverflow = true;
            }
          }
        });
  }

  /**
   * What a confirmed DECLARE (a new cursor: its count starts again), CLOSE or transaction end does
   * to {@link #cursorRows}. Called after {@link #cursors} lost the closed cursors, so a name still
   * there at a transaction end is a WITH HOLD cursor that lives on.
   */
  private void forgetCursorRows(String declared, String closes, boolean ends) {
    if (declared != null) {
      cursorRows.remove(declared);
    }
    if ("*".equals(closes)) {
      cursorRows.clear();
    } else if (closes != null) {
      cursorRows.remove(closes);
    }
    if (ends) {
      cursorRows.keySet().removeIf(name -> !cursors.containsKey(name));
    }
  }

  /** The entries {@code name} ({@code *}: all) selects, as they are now. */
  private static <V> void pick(Map<String, V> from, String name, Map<String, V> into) {
    if (name.equals("*")) {
      into.putAll(from);
    } else if (from.get(name) != null) {
      into.put(name, from.get(name));
    }
  }

  private void guardReadOnly(SqlStatement s) throws GateException {
    if (gs.obligations().readOnly() && PgReadOnly.liftsReadOnly(s.text(), builtinsOnly(s))) {
      gs.audit("postgres.read_only_violation", Map.of("statement", gs.maskStored(s.text())));
      throw new GateException(
          GateException.Reason.FORBIDDEN,
          "this session is read-only; statements that turn read-only mode off are refused");
    }
  }

  /**
   * Whether every function {@code s} calls and every operator it uses is a built-in the classifier
   * trusts, and its kind is known: then the read-only guard may read the setting of a {@code
   * set_config} from the statement ({@link PgReadOnly#liftsReadOnly(String, boolean)}). Not after a
   * search_path that puts a schema before pg_catalog, nor with a shadowing user function or
   * operator ({@link SqlShadows}): both make such calls opaque.
   */
  private static boolean builtinsOnly(SqlStatement s) {
    Action a = s.action();
    return a != null
        && !SqlKinds.UNKNOWN.equals(a.string(Action.Attr.SQL_KIND))
        && !a.flag(Action.Attr.SQL_UNPARSED)
        && a.list(SqlClassifier.ATTR_OPAQUE_FUNCTIONS).isEmpty();
  }

  /**
   * The target logins the gateway holds for {@code conn}: this session's ({@code user}), the
   * connection's own and its roles' (another session's login is as much the vault's as this one).
   */
  private static Set<String> heldLogins(ConnectionConfig conn, String user) {
    Set<String> out = new HashSet<>();
    out.add(user);
    if (conn.username() != null) {
      out.add(conn.username());
    }
    for (var role : conn.roles().values()) {
      if (role.username() != null) {
        out.add(role.username());
      }
    }
    return Set.copyOf(out);
  }

  /**
   * Refuses, whatever the policy allows, a statement that changes or drops a login the gateway
   * holds ({@link PgLoginGuard}): psql's {@code \password} would otherwise set the gateway's own
   * credential for the connection. 42501, audited; the session goes on.
   */
  private void guardLogins(SqlStatement s) throws GateException {
    String login = PgLoginGuard.changedLogin(s.text(), heldLogins);
    if (login == null) {
      return;
    }
    gs.audit("postgres.login_guard", Map.of("statement", gs.maskStored(s.text()), "login", login));
    throw new GateException(
        GateException.Reason.FORBIDDEN,
        "statements that change or drop a login the gateway holds are refused (here: "
            + login
            + "): the gateway logs in to connection \""
            + gs.connection().name()
            + "\" with it and keeps its credentials; change them in the gateway's configuration,"
            + " not through a session (psql's \\password sends such a statement)");
  }

  /**
   * In a masked session, refuses what the row filter could not read as it assumes (PgMaskGuard): a
   * COPY TO STDOUT whose options change the quote, delimiter, escape, null string or encoding of
   * its output, and a client_encoding other than UTF-8. Refused with 42501 and audited, like the
   * read-only guard; the session goes on.
   */
  private void guardMasking(SqlStatement s) throws GateException {
    if (rowFilter == RowFilter.IDENTITY) {
      return;
    }
    // Found by the classifier, with the tokens it lexed (a text the gateway could not read one way,
    // standard_conforming_strings unsettled in a pipeline, is one unknown statement: a COPY may
    // hide after its first statement).
    String copy = s.action().string(SqlClassifier.ATTR_COPY_OUT_OPTION);
    String encoding = s.action().string(SqlClassifier.ATTR_CLIENT_ENCODING);
    if (copy == null && encoding == null) {
      return;
    }
    String option = copy != null ? copy : encoding;
    gs.audit(
        "postgres.masking_guard",
        Map.of("statement", gs.maskStored(s.text()), "option", gs.maskStored(option)));
    throw new GateException(
        GateException.Reason.FORBIDDEN,
        copy != null ? PgMaskGuard.copyRefusal(option) : PgMaskGuard.settingRefusal(option));
  }

  /**
   * Longest statement text (a Query message's, all its statements together, or a Parse's) the
   * gateway decides on: the recorder keeps statements of up to 1,000,000 characters, and a longer
   * one would be refused there anyway, after it had been lexed, classified and masked (about a
   * hundred times its size in memory, seconds per megabyte). Refused before any of that, with 54000
   * ({@code program_limit_exceeded}); the session goes on.
   */
  static final int MAX_STATEMENT_TEXT = 1_000_000;

  private byte[] tooLong(String message, int length) throws IOException {
    try {
      gs.audit(
          "postgres.statement_too_long",
          Map.of("message", message, "characters", length, "limit", MAX_STATEMENT_TEXT));
    } catch (GateException e) {
      throw new IOException("cannot audit a refused statement", e); // fail closed: end the session
    }
    return PgErrors.error(
        "54000",
        "a "
            + message
            + " text of "
            + length
            + " characters is over the gateway's limit of "
            + MAX_STATEMENT_TEXT
            + " (statements are decided on and recorded whole)");
  }

  /** Longest parameter value kept in a record; longer ones are cut and their size noted. */
  static final int MAX_RECORDED_PARAM = 1024;

  /** Most parameters recorded per execution (the protocol allows 65535). */
  static final int MAX_RECORDED_PARAMS = 100;

  /**
   * The Bind parameters of a portal as they go into its record: text values masked with the
   * session's profile, binary ones as a bounded hex preview or, when their bytes read as text have
   * findings, as that text masked ({@link #renderBinaryParameter}), NULL as null. Reads the Bind
   * body after the portal and statement names.
   */
  private List<String> recordedParameters(Reader r) throws ProtocolViolation {
    int nFormats = r.int16();
    int[] formats = new int[nFormats];
    for (int i = 0; i < nFormats; i++) {
      formats[i] = r.int16();
    }
    int n = r.int16();
    if (n == 0) {
      return List.of();
    }
    List<String> out = new ArrayList<>(Math.min(n, MAX_RECORDED_PARAMS + 1));
    for (int i = 0; i < n; i++) {
      int len = r.int32();
      // A view, not a copy: a parameter can be megabytes, and only a bounded preview is recorded.
      int at = len < 0 ? -1 : r.skip(len);
      if (i >= MAX_RECORDED_PARAMS) {
        continue;
      }
      boolean binary = nFormats == 1 ? formats[0] == 1 : nFormats > i && formats[i] == 1;
      out.add(at < 0 ? null : renderParameter(r.array(), at, len, binary));
    }
    if (n > MAX_RECORDED_PARAMS) {
      out.add("… " + (n - MAX_RECORDED_PARAMS) + " more parameters");
    }
    return Collections.unmodifiableList(out);
  }

  private String renderParameter(byte[] body, int off, int len, boolean binary) {
    if (binary) {
      return renderBinaryParameter(body, off, len);
    }
    int read = Math.min(len, MASKED_PARAM_WIDE * 4);
    return recordedText(new String(body, off, read, clientCharset), read == len, len);
  }

  /**
   * A binary parameter as recorded. Its type is not known here, and bytea's binary form is its
   * bytes (pgjdbc's {@code setBytes}): the hex of a secret is the secret to whoever decodes it. So
   * the bytes are read as text (invalid UTF-8 kept as escapes, {@link PgBinaryValues#escapedUtf8})
   * and masked: when that finds nothing, the value is recorded as before, a hex preview of at most
   * 32 bytes, which shows a reviewer the exact value of a binary number; when it finds something,
   * as the masked text (bytes that are not UTF-8 shown as U+FFFD) after a note that it came in
   * binary.
   */
  private String renderBinaryParameter(byte[] body, int off, int len) {
    int read = Math.min(len, MASKED_PARAM_WIDE * 4);
    String escaped = PgBinaryValues.escapedUtf8(body, off, read);
    String text = escaped == null ? new String(body, off, read, StandardCharsets.UTF_8) : escaped;
    String scanned = text.length() <= MASKED_PARAM ? text : text.substring(0, MASKED_PARAM);
    if (gs.maskStoredValue(scanned).equals(scanned)) {
      int shown = Math.min(len, 32);
      return "\\x"
          + java.util.HexFormat.of().formatHex(body, off, off + shown)
          + (shown < len ? "… (" + len + " bytes)" : "");
    }
    String masked = recordedText(text, read == len, len);
    return "(binary) " + (escaped == null ? masked : shownEscapes(masked));
  }

  /** Escaped bytes ({@link PgBinaryValues#escapedUtf8}) as U+FFFD, for a record that is text. */
  private static String shownEscapes(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean escape =
          c >= 0xDC80 && c <= 0xDCFF && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
      out.append(escape ? '\uFFFD' : c);
    }
    return out.toString();
  }

  /**
   * How much of the masked text of a parameter cut before masking is dropped at its end: there a
   * secret across the cut is only partly there, which detection may not see. Up to this many
   * characters of it stay out of the record.
   */
  static final int UNMASKED_EDGE = 4 * 1024;

  /**
   * Characters of a text parameter masked before its record is cut to {@link #MAX_RECORDED_PARAM}:
   * masking first, so that a cut never leaves the first half of a secret unmasked (a card number or
   * a URL password across the cut). What is recorded, the {@link #UNMASKED_EDGE} after it and 1 Ki
   * for masks longer than what they replace: a parameter can be megabytes, up to {@link
   * #MAX_RECORDED_PARAMS} are masked per Bind, and only 1 Ki of each is kept.
   */
  static final int MASKED_PARAM = MAX_RECORDED_PARAM + UNMASKED_EDGE + 1024;

  /**
   * The wider window masked when masking {@link #MASKED_PARAM} characters left less than {@link
   * #MAX_RECORDED_PARAM} before the edge (masks much shorter than what they replace: a private key
   * near the start).
   */
  static final int MASKED_PARAM_WIDE = 16 * 1024;

  /**
   * A text parameter ({@code complete}: all of its {@code len} bytes; else a prefix) as recorded
   * and shown to reviewers: masked, then cut at {@link #MAX_RECORDED_PARAM} of the masked text with
   * its size noted.
   */
  String recordedText(String text, boolean complete, int len) {
    return recordedText(text, complete, len, gs::maskStoredValue);
  }

  /** {@link #recordedText(String, boolean, int)} with {@code mask} as the stored-text masking. */
  static String recordedText(
      String text, boolean complete, int len, java.util.function.UnaryOperator<String> mask) {
    boolean whole = complete && text.length() <= MASKED_PARAM;
    String masked = mask.apply(whole ? text : text.substring(0, MASKED_PARAM));
    int keep = whole ? masked.length() : Math.max(0, masked.length() - UNMASKED_EDGE);
    if (!whole && keep < MAX_RECORDED_PARAM && text.length() > MASKED_PARAM) {
      whole = complete && text.length() <= MASKED_PARAM_WIDE;
      masked = mask.apply(whole ? text : text.substring(0, MASKED_PARAM_WIDE));
      keep = whole ? masked.length() : Math.max(0, masked.length() - UNMASKED_EDGE);
    }
    if (keep > MAX_RECORDED_PARAM) {
      keep = MAX_RECORDED_PARAM;
    }
    if (keep < masked.length()
        && Character.isLowSurrogate(masked.charAt(keep))
        && keep > 0
        && Character.isHighSurrogate(masked.charAt(keep - 1))) {
      keep--; // not half a character
    }
    return keep == masked.length() && whole
        ? masked
        : masked.substring(0, keep) + "… (" + len + " bytes)";
  }

  private static Action withParameters(Action action, List<String> params) {
    if (params.isEmpty()) {
      return action;
    }
    return action.with(PARAMETERS, params);
  }

  /** Attribute holding the masked Bind parameters in an execution's record. */
  static final String PARAMETERS = "parameters";

  /**
   * Whether a statement before the last one in {@code stmts} may set a path nobody can read here,
   * or, when {@code anyMove}, may move the path at all ({@link #movesPath}).
   */
  private static boolean movesPathBeforeLast(List<SqlStatement> stmts, boolean anyMove) {
    for (int i = 0; i < stmts.size() - 1; i++) {
      Action a = stmts.get(i).action();
      if (anyMove
          ? movesPath(a)
          : a.list(SqlClassifier.ATTR_SETS_SEARCH_PATH).contains(Action.Attr.ANY_SCHEMA)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code a} may change search_path when it runs: it sets or resets it ({@code
   * sets_search_path}, {@code resets_search_path}; DO, CALL and unknown statements set {@code *}),
   * or it is a transaction statement, whose COMMIT ends a {@code SET LOCAL} and whose ROLLBACK [TO
   * SAVEPOINT] undoes a SET (sql-set.html).
   */
  private static boolean movesPath(Action a) {
    return !a.list(SqlClassifier.ATTR_SETS_SEARCH_PATH).isEmpty()
        || a.flag(SqlClassifier.ATTR_RESETS_SEARCH_PATH)
        || a.flag(SqlClassifier.ATTR_ENDS_TRANSACTION)
        || a.list(Action.Attr.SQL_KINDS).contains(SqlKinds.TRANSACTION);
  }

  /**
   * Notes an allowed statement (or a run of one) that is about to be sent: whether it may set a
   * path nobody can read here, and whether it may move the path at all ({@link #pathMovedAt}).
   */
  private void notePath(Action a) {
    if (a.list(SqlClassifier.ATTR_SETS_SEARCH_PATH).contains(Action.Attr.ANY_SCHEMA)) {
      unreadablePath();
    }
    if (movesPath(a)) {
      pathMovedAt = queued;
    }
  }

  /**
   * The statement about to be sent (the next {@link Pending}) may set a path nobody can read here.
   * PostgreSQL 18 reports what it set; older servers never do, and {@code set_config('search_path',
   * 'evil, pg_catalog', false)} in it would make {@code lower(x)} call {@code evil.lower}: see
   * {@link #catalogFirstNow}.
   */
  private void unreadablePath() {
    unsafePathSeen = true;
    unreadablePathAt = queued;
  }

  /**
   * Whether {@code a} sets search_path, for the session, to a value the gateway read completely and
   * that keeps pg_catalog in front: {@code SET search_path} to such names (the classifier makes any
   * other value unknown, {@code *}), {@code set_config('search_path', 'literal', false)}, RESET and
   * {@code SET search_path TO DEFAULT} back to the start path (trusted as far as the start was).
   * Not a transaction statement, nor {@code SET LOCAL} or {@code set_config(..., true)} (outside a
   * transaction block SET LOCAL changes nothing, and inside one it ends with it).
   */
  private boolean restoresPath(Action a) {
    List<String> sets = a.list(SqlClassifier.ATTR_SETS_SEARCH_PATH);
    return !sets.contains(Action.Attr.ANY_SCHEMA)
        && (!sets.isEmpty() || (a.flag(SqlClassifier.ATTR_RESETS_SEARCH_PATH) && startCatalogFirst))
        && !a.flag(SqlClassifier.ATTR_SEARCH_PATH_LOCAL)
        && !a.flag(SqlClassifier.ATTR_ENDS_TRANSACTION)
        && !a.list(Action.Attr.SQL_KINDS).contains(SqlKinds.TRANSACTION);
  }

  /**
   * Target reader, without search_path reports: {@code a} (the statement of {@code seq}) completed.
   * The path it read becomes trusted at the ReadyForQuery 'I' that ends its transaction, as long as
   * nothing else that may move the path (a ROLLBACK undoes a SET, COMMIT ends a SET LOCAL)
   * completed after it and no error rolled it back ({@link #pathSegmentEnded}).
   */
  private void pathCompleted(AuthorizedAction a, long seq) {
    if (reportsSearchPath || a == null) {
      return;
    }
    if (restoresPath(a.action())) {
      readablePathDone = seq;
    } else if (movesPath(a.action())) {
      readablePathDone = -1;
    }
  }

  /**
   * Target reader, without search_path reports, at a ReadyForQuery with transaction status {@code
   * status}: idle means the transaction of a completed readable SET committed (an error since
   * cleared it). A SET inside a transaction block still open counts only once a later one commits
   * outside it: COMMIT and ROLLBACK move the path themselves, so in doubt the names stay untrusted.
   */
  private void pathSegmentEnded(byte status) {
    if (!reportsSearchPath && status == 'I' && readablePathDone >= 0) {
      readablePathAt = Math.max(readablePathAt, readablePathDone);
    }
    readablePathDone = -1;
  }

  /**
   * Whether unqualified built-in names, trusted when a statement was parsed (the session's state
   * just after its Parse: {@code t}; null when they were not trusted), are not trusted any more
   * because of something after that Parse (the statement's own effect on the path does not count):
   * a reported path behind pg_catalog, a statement that may set a path nobody can read here with no
   * readable one committed since (no report), or a statement that may move the path still
   * unanswered (see {@link #catalogFirstNow}).
   */
  private boolean lostTrust(Prepared.Trust t) {
    return t != null
        && ((t.catalogFirst() && !catalogFirst)
            || (unreadablePathAt > t.unreadablePathAt() && readablePathAt <= unreadablePathAt)
            || (unsafePathSeen && settledAt <= pathMovedAt && pathMovedAt > t.pathMovedAt()));
  }

  /**
   * {@link #catalogFirst} as far as it holds for the next text. PostgreSQL reports search_path (18
   * and later) only at the ReadyForQuery after the statement that changed it, so while a statement
   * that may move the path is unanswered ({@link #pathMovedAt}), the value last reported may be
   * stale: {@code COMMIT} pipelined with {@code SELECT lower(x)} ends a {@code SET LOCAL
   * search_path = public} and takes the path back to a role default with {@code evil} in front of
   * pg_catalog before the SELECT is resolved. Until the answer is in, unqualified built-in names
   * are then not trusted (they are in {@code opaque_functions}), like after RESET ALL; a session
   * whose path never put a schema in front of pg_catalog ({@link #unsafePathSeen}) has no such
   * value to go back to and keeps trusting them.
   */
  private boolean catalogFirstNow() {
    return catalogFirst
        && (reportsSearchPath || readablePathAt > unreadablePathAt)
        && !(unsafePathSeen && settledAt <= pathMovedAt);
  }

  /**
   * SQL-level DEALLOCATE/DISCARD and cursor statements can free names that the protocol-level
   * statements and portals use, and the names could then be re-created in SQL behind the gateway's
   * back. Forget them, so a later Bind/Execute by name is refused rather than run under an old
   * decision.
   */
  private void afterAuthorized(SqlStatement s) {
    notePath(s.action());
    if (s.action().flag(SqlClassifier.ATTR_RESETS_SEARCH_PATH) && !startCatalogFirst) {
      // Back to the start path: trusted no more than at the start from the next statement on, in
      // the same pipeline too, before the target reports the path (PostgreSQL 18) or when it
      // never does; its report can only make it trusted again.
      catalogFirst = false;
    }
    String kind = s.action().string(Action.Attr.SQL_KIND);
    if ("deallocate".equals(kind) || "discard".equals(kind)) {
      statements.clear();
      portals.clear();
    } else if ("cursor".equals(kind)) {
      // Named portals may be cursors by the same name. The unnamed portal survives cursor
      // statements at the target, but when it runs a FETCH (or MOVE, or EXECUTE) its description
      // was fixed at Bind from the cursor as it was then: once the cursor is closed and declared
      // again its rows have other columns, which that description would mask by the wrong rules.
      portals
          .entrySet()
          .removeIf(e -> !e.getKey().isEmpty() || !e.getValue().stmt.describesEveryRun());
    }
  }

  /** How a statement without Bind parameters waits for review. */
  private final ReviewGate.Waiting reviewWaiting =
      reviewWaiting(null, List.of(), List.of(), PgParamTypes.NONE, PgParamTypes.NONE);

  /**
   * How {@code resolved} (what {@link #resolved} just returned) waits for review: with its Bind
   * parameters ({@code exactParams} for the fingerprint, the recorded {@code params} for
   * reviewers), and for an EXECUTE of a statement prepared through the gateway with the prepared
   * statement(s) it was decided as. Their text is in neither the EXECUTE's text nor its attributes
   * (which only say what kinds and tables it has: {@code WHERE id = $1} and {@code WHERE id > $1}
   * look alike), so an approval of {@code EXECUTE p(42)} would otherwise also run a {@code p}
   * prepared again with other text, and the reviewer would not see what {@code p} does.
   */
  private ReviewGate.Waiting waitingFor(
      Action resolved, byte[] exactParams, List<String> params, int[] types) {
    List<Action> prepared = List.of();
    int[] preparedTypes = PgParamTypes.NONE;
    if (resolved == lastResolved && resolved.string(SqlClassifier.ATTR_EXECUTED_NAME) != null) {
      prepared = candidates(lastConfirmed, lastPreparing);
      preparedTypes = lastConfirmedTypes;
    } else if (exactParams == null && params.isEmpty() && types.length == 0) {
      return reviewWaiting; // every statement without parameters: nothing allocated
    }
    return reviewWaiting(exactParams, params, prepared, types, preparedTypes);
  }

  /**
   * How a statement waits for review: the notice ({@link #held}); what exactly runs, for the review
   * fingerprint ({@link SqlCanonical}, with the exact Bind parameters, as the recorded ones are
   * masked and cut); and whether the client is still connected, so that an approval that arrives
   * after it left does not run the statement behind its back.
   */
  private ReviewGate.Waiting reviewWaiting(
      byte[] exactParams,
      List<String> params,
      List<Action> prepared,
      int[] types,
      int[] preparedTypes) {
    return new ReviewGate.Waiting() {
      @Override
      public void held(String reviewId, String message) {
        PgSession.this.held(reviewId, message);
      }

      @Override
      public String exactly(Action action) {
        String sql = SqlCanonical.of(action.raw(), standardConformingStrings);
        if (exactParams != null) {
          sql = sql + "\u0000" + HexFormat.of().formatHex(exactParams);
        }
        if (types.length > 0) {
          // Declared parameter types: the same Bind bytes are another value under another type.
          sql = sql + "\u0000" + PgParamTypes.exact(types);
        }
        // The settings that change how the text is read (DateStyle, TimeZone, ...).
        sql = sql + "\u0000S" + readingSettings.exact(gs.id());
        if (prepared.isEmpty()) {
          return sql;
        }
        // The prepared text as the server reads it, each length-prefixed after the EXECUTE's,
        // then the types a protocol-level one was parsed with.
        StringBuilder sb = ReviewGate.Waiting.part(new StringBuilder("P"), sql);
        for (Action p : prepared) {
          ReviewGate.Waiting.part(sb, SqlCanonical.of(p.raw(), standardConformingStrings));
        }
        return ReviewGate.Waiting.part(sb, PgParamTypes.exact(preparedTypes)).toString();
      }

      @Override
      public String shown(Action action) {
        return shownForReview(action, params, prepared, types, exactParams)
            + readingSettings.shown();
      }

      @Override
      public boolean defersSpending() {
        return deferSpending;
      }

      @Override
      public String shownMasked(Action action, UnaryOperator<String> maskStored) {
        return storedText(shown(action), maskStored);
      }

      @Override
      public boolean present() {
        return !closed.get() && !clientIn.peerGone(client);
      }
    };
  }

  /**
   * A statement's text (or a review's shown text) as stored and shown to others: encoded constants
   * read as the server reads them ({@link PgStoredText#decodeEscapes}), then masked within each
   * token ({@link PgStoredText#maskTokens}), so that no mask crosses a comment's or literal's end.
   */
  private String storedText(String text, UnaryOperator<String> mask) {
    boolean scs = standardConformingStrings;
    return PgStoredText.maskTokens(PgStoredText.decodeEscapes(text, scs, mask), scs, mask);
  }

  /**
   * The request as reviewers see it: the statement, then what an EXECUTE runs (the PREPARE, or the
   * Parse text of a protocol-level statement; two when a PREPARE of that name was not confirmed yet
   * and either may run), then the Bind parameters as they are recorded (masked for the requester's
   * profile, long ones cut; their exact values are bound by the fingerprint).
   */
  static String shownForReview(
      Action action, List<String> params, List<Action> prepared, int[] types, byte[] exactParams) {
    StringBuilder sb = new StringBuilder(action.raw());
    String name = action.string(SqlClassifier.ATTR_EXECUTED_NAME);
    for (int i = 0; i < prepared.size(); i++) {
      sb.append(i == 0 ? "\n\n-- runs prepared statement \"" : "\n\n-- or, if prepared again: \"")
          .append(name)
          .append("\":\n")
          .append(prepared.get(i).raw());
    }
    sb.append("\n\n-- gatehouse classification:").append(classification(action));
    if (!params.isEmpty()) {
      sb.append("\n\n-- parameters:");
      for (int i = 0; i < params.size(); i++) {
        String v = params.get(i);
        sb.append("\n-- ");
        if (i >= MAX_RECORDED_PARAMS) {
          sb.append(v); // "… N more parameters"
        } else {
          sb.append('$').append(i + 1).append(" = ");
          sb.append(v == null ? "NULL" : "'" + v.replace("'", "''") + "'");
          sb.append(PgParamTypes.note(types, exactParams, i));
        }
      }
    }
    return sb.toString();
  }

  /**
   * How the gateway read the statement, for reviewers (red team rt12: a "write" held for review was
   * also a role change or a server-file read, and the review did not say so): its kinds, the tables
   * it reads and writes, the functions it calls and those it cannot see into.
   */
  static String classification(Action action) {
    StringBuilder sb = new StringBuilder();
    List<String> kinds = action.list(Action.Attr.SQL_KINDS);
    if (kinds.isEmpty() && action.string(Action.Attr.SQL_KIND) != null) {
      kinds = List.of(action.string(Action.Attr.SQL_KIND));
    }
    classified(sb, "kinds", kinds);
    classified(sb, "reads", action.list(Action.Attr.SQL_TABLES_READ));
    classified(sb, "writes", action.list(Action.Attr.SQL_TABLES_WRITTEN));
    classified(sb, "functions", action.list(Action.Attr.SQL_FUNCTIONS));
    classified(sb, "opaque functions", action.list(Action.Attr.SQL_OPAQUE_FUNCTIONS));
    return sb.isEmpty() ? " (none)" : sb.toString();
  }

  private static void classified(StringBuilder sb, String what, List<String> values) {
    if (!values.isEmpty()) {
      sb.append(sb.isEmpty() ? " " : "; ")
          .append(what)
          .append(' ')
          .append(String.join(", ", values));
    }
  }

  /** Bind parameters up to this size are kept as they are; larger ones as their SHA-256. */
  static final int EXACT_PARAMS_KEPT = 1024;

  /**
   * The Bind message's parameter format codes and values, {@code body[from, to)}, for a review's
   * fingerprint; null when there are none. Small ones (every ordinary statement) are copied, which
   * costs less than a digest on every Bind; large ones are kept as their SHA-256, as values can be
   * megabytes and a portal lives until it is closed. A tag byte keeps the two forms apart.
   */
  private static byte[] exactParameters(byte[] body, int from, int to) {
    int n = to - from;
    if (n <= 4) {
      return null; // no format codes, no values
    }
    if (n <= EXACT_PARAMS_KEPT) {
      byte[] out = new byte[n + 1];
      out[0] = 'R';
      System.arraycopy(body, from, out, 1, n);
      return out;
    }
    try {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      md.update(body, from, n);
      byte[] digest = md.digest();
      byte[] out = new byte[digest.length + 1];
      out[0] = 'D';
      System.arraycopy(digest, 0, out, 1, digest.length);
      return out;
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** The review notice: the caller is held, with the review id to ask an approver about. */
  private void held(String reviewId, String message) {
    try {
      up.out.flush();
      send(PgMessages.notice("gatehouse: held for review " + reviewId + ": " + message));
      flushClient();
    } catch (IOException e) {
      log.debug("cannot send review notice", e);
    }
  }

  /**
   * True when the Parse/Bind behind a name really succeeded at the target. Within the current Sync
   * segment nothing needs checking: had it failed, the target skips this message too. Otherwise
   * wait for the target's answer, which is on its way.
   */
  private boolean confirmed(long epoch, CompletableFuture<Boolean> done) throws IOException {
    if (epoch == syncEpoch) {
      return true;
    }
    up.out.flush();
    // Poll, so that a target connection that died meanwhile cannot leave this thread waiting.
    while (!closed.get()) {
      try {
        return done.get(1, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        // still waiting for the target's answer
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } catch (ExecutionException e) {
        return false;
      }
    }
    return false;
  }

  private void refuseSimple(Pending p, GateException e) throws IOException, PgErrors.Fatal {
    if (e.reason() == GateException.Reason.SESSION_ENDED) {
      throw PgErrors.Fatal.of(e);
    }
    refuseSimple(p);
  }

  /** Fails a simple Query at the target, whose answer {@code p} replaces with its error. */
  private void refuseSimple(Pending p) throws IOException {
    awaitAnswer(p);
    up.out.write(PgMessages.query(REFUSED_SQL));
    up.out.flush();
  }

  private void refuseExtended(byte[] error, GateException e) throws IOException, PgErrors.Fatal {
    if (e.reason() == GateException.Reason.SESSION_ENDED) {
      throw PgErrors.Fatal.of(e);
    }
    refuseExtended(error);
  }

  /** Fails the current Sync segment at the target, then skips client messages until Sync. */
  private void refuseExtended(byte[] error) throws IOException {
    awaitAnswer(new Pending(Kind.PARSE, error));
    up.out.write(PgMessages.parse(REFUSED_STATEMENT, REFUSED_SQL));
    up.out.flush();
    discarding = true;
  }

  /** Queues what the target's next answer(s) belong to (session thread only). */
  private void awaitAnswer(Pending p) {
    p.seq = queued;
    pending.add(p);
    queued++; // after the add: see settle
  }

  /**
   * After a ReadyForQuery (target reader): the session is settled when nothing is pending. The
   * count is read before the queue, and the session thread counts after it adds: a Pending queued
   * at the same time is either seen in the queue or not yet counted, never counted as answered.
   */
  private void settle() {
    long q = queued;
    if (pending.isEmpty()) {
      settledAt = q;
    }
  }

  /**
   * The statements of {@code sql} as the target will read them. PostgreSQL lexes a Query or Parse
   * with its standard_conforming_strings of that moment (a Query's statements all at once, before
   * the first runs: exec_simple_query calls pg_parse_query on the whole string), and reports a
   * change only at its next ReadyForQuery. So while anything sent before is not answered up to a
   * ReadyForQuery, a statement already sent may have changed the setting without the gateway
   * knowing yet: RESET ALL or DISCARD ALL back to a different session default, set_config in a user
   * function, a ROLLBACK undoing such a change (sql-syntax-lexical.html §4.1.2.1). A text read the
   * same with either value (no backslash, or backslashes only inside strings whose statements
   * classify alike) is classified as usual; one read differently (a backslash before a quote can
   * end a '...' string or not) is one statement of kind unknown: the gateway cannot tell what will
   * run.
   */
  private List<SqlStatement> classify(String sql, boolean catalogFirst) {
    return PgLargeMessages.classify(sql.length(), () -> classifyNow(sql, catalogFirst));
  }

  private List<SqlStatement> classifyNow(String sql, boolean catalogFirst) {
    boolean settled = settledAt == queued; // read before the setting: see settle
    boolean scs = standardConformingStrings;
    SqlShadows shadows = shadowsNow();
    lastShadows = shadows;
    List<SqlStatement> stmts = SqlClassifier.classify(sql, scs, catalogFirst, shadows);
    if (!settled
        && sql.indexOf('\\') >= 0
        && !stmts.equals(SqlClassifier.classify(sql, !scs, catalogFirst, shadows))) {
      return SqlClassifier.unreadable(sql);
    }
    return stmts;
  }

  /** The connection's current {@link PgCatalog#shadows}; none before the target is connected. */
  private SqlShadows shadowsNow() {
    PgCatalog c = catalog;
    return c == null ? SqlShadows.NONE : c.shadows();
  }

  private void forward(Message m) throws IOException {
    PgCodec.writeMessage(up.out, m.type(), m.body());
  }

  /** Target → client, on its own thread: relay frame by frame, recording outcomes. */
  private void relayTarget() {
    try {
      while (true) {
        Message m = PgCodec.readMessage(up.in, PgCodec::serverLimit, targetHold);
        if (m == null) {
          break;
        }
        onTargetMessage(m);
        targetHold.release();
        if (up.in.drained()) {
          flushClient();
        }
      }
      flushClient();
    } catch (PgLargeMessages.Overloaded e) {
      log.warn("session {}: a result message cannot be held: {}", gs.id(), e.getMessage());
      sendFatal(PgMessages.error("FATAL", PgErrors.OUT_OF_MEMORY, "gatehouse: " + e.getMessage()));
    } catch (ProtocolViolation e) {
      log.error("session {}: the target broke the protocol: {}", gs.id(), e.getMessage());
      sendFatal(
          PgMessages.error(
              "FATAL",
              PgErrors.PROTOCOL_VIOLATION,
              "gatehouse: lost track of the target's answers; closing the connection"));
    } catch (IOException e) {
      if (!closed.get()) {
        log.debug("target connection ended: {}", e.toString());
      }
    } finally {
      targetHold.release();
      // Closed already: the client left (or the gateway is stopping) and the session closed the
      // target's socket under this reader. The server may still run what it was sent (a Query
      // runs to its end): the outcome is unknown, not a lost connection to the target.
      failOutstanding(
          closed.get()
              ? "no answer seen: the session ended before the target answered (it may have run)"
              : "the connection to the target was lost");
      shutdown();
    }
  }

  private void onTargetMessage(Message m) throws IOException {
    if (m.kind() == 'G') {
      targetInCopyIn = true;
    } else if (targetInCopyIn && (m.kind() == 'C' || m.kind() == 'E')) {
      targetInCopyIn = false;
      dropSyncsIgnoredByCopy(m.kind() == 'E');
    }
    Pending head = pending.peek();
    switch (m.kind()) {
      case 'D' -> {
        if (head != null
            && head.kind == Kind.EXECUTE
            && head.rows == 0
            && rowFilter != RowFilter.IDENTITY) {
          // The rows' own description and formats, whichever RowDescription was relayed last.
          rowFilter.onRowDescription(head.portal.resultDescription());
        }
        if (head != null) {
          head.rows++;
          if (overMaxRows(head)) {
            return; // counted for the record, not sent: see overMaxRows
          }
        }
        byte[] body = rowFilter.filterDataRow(m.body());
        send(m.type(), body);
        return;
      }
      case 'H' -> {
        copyWithheld = false;
        rowFilter.onCopyOut(m.body());
      }
      case 'd' -> {
        if (head != null && !isBinaryCopyTrailer(m.body())) {
          head.rows++;
          if (overMaxRows(head)) {
            return; // a COPY TO STDOUT row past max_rows: counted, not sent (see overMaxRows)
          }
        }
        byte[] body = rowFilter.filterCopyData(m.body());
        if (body.length == 0 && m.body().length > 0) {
          copyWithheld = true; // see copyWithheld
        }
        if (!copyWithheld) {
          send(m.type(), body);
        }
        return;
      }
      case 'c' -> {
        if (copyWithheld) {
          return;
        }
      }
      case 'T' -> {
        if (head != null && head.kind == Kind.OWN_DESCRIBE) {
          head.portal.description = m.body(); // see describeForMasking; not the client's
          pending.poll();
          return;
        }
        rowFilter.onRowDescription(m.body());
        byte[] described = maskColumnNames(m.body());
        if (head != null && head.kind == Kind.DESCRIBE) {
          if (head.prepared != null) {
            head.prepared.description = m.body();
          } else if (head.portal != null) {
            head.portal.description = m.body();
            if (head.portal.stmt.description == null && head.portal.stmt.describesEveryRun()) {
              // pgjdbc describes the portal of a statement's first run only, then binds the
              // statement again without any Describe: the columns are the statement's (Bind's
              // formats are applied per portal, see Portal.resultDescription).
              head.portal.stmt.description = m.body();
            }
          }
          pending.poll();
        }
        send((byte) 'T', described);
        return;
      }
      case 'n' -> {
        if (head != null && head.kind == Kind.OWN_DESCRIBE) {
          pending.poll();
          return; // the gateway's own Describe: not the client's
        }
        if (head != null && head.kind == Kind.DESCRIBE) {
          pending.poll();
        }
      }
      case 'C', 'I' -> {
        String tag = m.kind() == 'C' ? new Reader(m.body()).cstring() : "EMPTY";
        if (copyWithheld && head != null && head.kind == Kind.QUERY) {
          copyWithheld = false;
          send(withheldCopy(head, tag));
          return;
        }
        copyWithheld = false;
        completed(head, tag);
      }
      case 'V' -> completed(head, "FUNCTION CALL");
      case 's' -> {
        Pending p = expect(Kind.EXECUTE);
        p.portal.rows += p.rows;
      }
      case '1' -> parsed(expect(Kind.PARSE));
      case '2' -> expect(Kind.BIND).portal.bound.complete(true);
      case '3' -> closed(expect(Kind.CLOSE));
      case 'E' -> {
        copyWithheld = false;
        send(onError(head, m.body()));
        return;
      }
      case 'Z' -> {
        byte status = m.body().length == 1 ? m.body()[0] : 0;
        implicitTransactionEnded(status);
        pathSegmentEnded(status);
        long closer = readyForQuery();
        if (status == 'I' && closer >= 0) {
          transactionEnded(closer);
        }
        settle();
        send(m.type(), m.body());
        flushClient();
        return;
      }
      case 'N' -> {
        send(maskFields('N', m.body()));
        return;
      }
      case 'S' -> {
        Reader r = new Reader(m.body());
        trackParameter(r.cstring(), r.cstring());
        if (unreadableEncoding != null) {
          sendFatal(unreadable().frame());
          throw new IOException("closed: unsafe client_encoding " + unreadableEncoding);
        }
        send(maskParameterStatus(m.body()));
        return;
      }
      case 'A' -> {
        send(maskNotification(m.body()));
        return;
      }
      default -> {
        // CopyInResponse, CopyOutResponse, CopyBothResponse, CopyData, CopyDone,
        // ParameterDescription: relayed as they are.
      }
    }
    send(m.type(), m.body());
  }

  /**
   * PostgreSQL ignores Sync (and Flush) in copy-in mode (<a
   * href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-COPY">COPY
   * operations</a>: "The backend will ignore Flush and Sync messages received during copy-in
   * mode"), and libpq's extended-protocol COPY sends Sync right after Execute, before the data. No
   * ReadyForQuery answers such a Sync, so its pending entry must go when the COPY ends (its
   * CommandComplete or ErrorResponse, which {@code head} is about to take), or every later answer
   * would be paired with the wrong statement. Called only after CopyInResponse, so these Syncs were
   * read in copy mode, except when the COPY failed on its data: a Sync the client sent after some
   * CopyData may then have been read after the error and be answered. That case cannot be told
   * apart, so the session ends (fail closed) rather than risk pairing answers wrongly.
   */
  private void dropSyncsIgnoredByCopy(boolean failed) throws ProtocolViolation {
    var it = pending.iterator();
    if (!it.hasNext()) {
      return;
    }
    it.next(); // the COPY's own entry: its Query or Execute
    while (it.hasNext()) {
      Pending p = it.next();
      if (p.kind != Kind.SYNC || p.duringCopy == 0) {
        return;
      }
      if (failed && p.duringCopy == 2) {
        throw new ProtocolViolation("a Sync sent among the data of a failed COPY FROM STDIN");
      }
      it.remove();
    }
  }

  /**
   * The {@code max_rows} obligation of the rule that allowed the statement: rows past the limit are
   * not sent (the target still produces them; the client's result is simply cut), and the client is
   * told with a NoticeResponse, which the protocol allows at any point of a result. What counts:
   *
   * <ul>
   *   <li>DataRows per statement, and per portal for the extended protocol, so fetching a portal in
   *       chunks cannot get around it;
   *   <li>the rows of a COPY TO STDOUT: the target sends one CopyData message per row (<a
   *       href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-COPY">COPY
   *       operations</a>: "messages sent from the backend will always correspond to single data
   *       rows"), a CSV header line being one of them;
   *   <li>the rows of a SQL cursor across all its FETCHes ({@link #cursorRows}), so DECLARE and
   *       repeated FETCH (psql's FETCH_COUNT) cannot get around it either. Rows fetched again from
   *       a SCROLL cursor count again.
   * </ul>
   *
   * The notice goes with the first row cut of each statement, so a FETCH that gets nothing more
   * says why.
   */
  private boolean overMaxRows(Pending head) throws IOException {
    AuthorizedAction a =
        head.kind == Kind.QUERY
            ? (head.next < head.actions.size() ? head.actions.get(head.next) : null)
            : head.auth;
    if (a == null) {
      return false;
    }
    long max = a.decision().obligations().maxRows();
    String cursor = a.action().string(SqlClassifier.ATTR_USES_CURSOR);
    if (max <= 0 && cursor == null) {
      return false; // no limit, and no DECLARE's to take (every row of most statements)
    }
    String rule = a.decision().rule();
    SqlCursor declared = cursor == null ? null : cursors.get(cursor);
    if (declared != null && declared.decided != null) {
      // A FETCH names no tables, so a table-scoped max_rows matches only the DECLARE's rule: the
      // smaller of the two limits applies.
      long d = declared.decided.decision().obligations().maxRows();
      if (d > 0 && (max <= 0 || d < max)) {
        max = d;
        rule = declared.decided.decision().rule();
      }
    }
    if (max <= 0) {
      return false;
    }
    long statementRows = head.rows + (head.portal == null ? 0 : head.portal.rows);
    long sent = statementRows;
    if (cursor != null) {
      long[] fetched = cursorRows.get(cursor);
      if (fetched == null && cursorRows.size() >= MAX_PREPARED) {
        sent = max + statementRows; // cannot be tracked: fail closed, nothing more from it
      } else {
        if (fetched == null) {
          fetched = new long[1];
          cursorRows.put(cursor, fetched);
        }
        sent = Math.max(sent, ++fetched[0]);
      }
    }
    if (sent > max && (sent == max + 1 || statementRows == 1)) {
      send(
          PgMessages.notice(
              "gatehouse: result cut at "
                  + max
                  + " rows"
                  + (cursor == null ? "" : " of cursor " + cursor)
                  + " (max_rows of rule "
                  + rule
                  + ")"));
    }
    return sent > max;
  }

  /**
   * The file trailer of a binary COPY, a 16-bit -1 in a CopyData of its own (sql-copy.html, "File
   * Trailer"): passed even past max_rows, so the client's binary stream stays well-formed. A text
   * or CSV row always ends with a newline, so it is never these two bytes.
   */
  private static boolean isBinaryCopyTrailer(byte[] body) {
    return body.length == 2 && body[0] == (byte) 0xFF && body[1] == (byte) 0xFF;
  }

  /**
   * The end of a COPY TO STDOUT whose output the row filter withheld (binary COPY in a masked
   * session: it cannot be scanned). Instead of an empty, seemingly successful COPY the client gets
   * an error, which the protocol allows in place of CopyDone and CommandComplete (<a
   * href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-COPY">COPY
   * operations</a>), and the statement is recorded as failed. Only for a simple Query: in the
   * extended protocol the target, which saw no error, would not skip to Sync as the client then
   * expects, so there the withheld COPY just ends without data.
   */
  private byte[] withheldCopy(Pending head, String tag) {
    String why =
        "gatehouse: binary COPY output cannot be masked, so it is withheld in this session; use"
            + " FORMAT text or csv";
    if (head.next < head.actions.size()) {
      record(head.actions.get(head.next++), false, why + " (" + tag + ")", 0);
    }
    head.rows = 0;
    return PgMessages.error("ERROR", PgErrors.INSUFFICIENT_PRIVILEGE, why);
  }

  /** CommandComplete, EmptyQueryResponse or FunctionCallResponse for the head. */
  private void completed(Pending head, String tag) throws ProtocolViolation {
    if (head != null && head.kind == Kind.QUERY) {
      if (head.next < head.actions.size()) {
        AuthorizedAction a = head.actions.get(head.next++);
        pathCompleted(a, head.seq);
        // Several statements in one Query run in one implicit transaction, which a later one's
        // error rolls back (protocol-flow.html#PROTOCOL-FLOW-MULTI-STATEMENT); a single one is its
        // own transaction, which committed if it completed: recorded now. (The server commits a
        // Query's last statement before its CommandComplete, postgres.c exec_simple_query, so a
        // failing commit, a deferred constraint, is that statement's ErrorResponse.)
        if (!held(a, tag, head.rows, head.actions.size() > 1 ? "the end of its query" : null)) {
          record(a, true, tag, rows(tag, head.rows));
        }
      }
      head.rows = 0;
      return;
    }
    Pending p = expect(Kind.EXECUTE);
    long rows = p.portal.rows + p.rows;
    p.portal.rows = 0;
    p.portal.auth = null; // a completed portal's next Execute is a new execution
    pathCompleted(p.auth, p.seq);
    if (p.auth == null || !held(p.auth, tag, rows, "its Sync")) {
      record(p.auth, true, tag, rows(tag, rows));
    }
  }

  /**
   * Target reader: {@code a} completed, with {@code counted} rows. When it ran in the implicit
   * transaction that {@code closedBy} (null: nothing, it committed already) ends, its record is
   * held in {@link #uncommitted} and true returned; what it did to the session's state is taken
   * now. A statement that may end or open a transaction itself goes on with those held ({@link
   * #implicitTransactionGoesOn}).
   */
  private boolean held(AuthorizedAction a, String tag, long counted, String closedBy) {
    if (!rolledBackWithImplicitTransaction(a)) {
      implicitTransactionGoesOn(a, tag);
      return false;
    }
    if (!implicitTransaction || closedBy == null) {
      return false;
    }
    takeOutcome(a, true); // what the statement did to the session's state: it ran
    if (uncommitted.size() >= maxUncommitted) {
      // Bounded: a client that never sends Sync (or a Query of thousands of statements) cannot
      // make the gateway hold records without end. Those held are recorded now, saying that their
      // commit was not seen.
      recordUncommittedAsRun(" (recorded before " + closedBy + ": the commit was not seen)");
    }
    uncommitted.add(new Uncommitted(a, tag, rows(tag, counted)));
    return true;
  }

  /**
   * Most executions held in {@link #uncommitted}: a JDBC batch of this many rows sends one Sync
   * after them all; beyond it the records are written without waiting for the Sync.
   */
  static final int MAX_UNCOMMITTED = 4096;

  /** {@link #MAX_UNCOMMITTED}, lower in the test of the bound. */
  static volatile int maxUncommitted = MAX_UNCOMMITTED;

  private static final String ROLLED_BACK_BY_ERROR =
      "a later statement of its implicit transaction failed, so PostgreSQL rolled it back";

  /** Records the held executions as run, their tags followed by {@code note}. */
  private void recordUncommittedAsRun(String note) {
    for (Uncommitted u : uncommitted) {
      recordOutcome(u.a(), true, u.tag() + note, u.rows(), null);
    }
    uncommitted.clear();
  }

  /**
   * Target reader: whether the statements completed since the last ReadyForQuery run in the
   * implicit transaction the extended protocol starts when the session is idle ('I'), which
   * PostgreSQL commits only at Sync (protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY: "an implicit
   * transaction block ... closed by Sync"): a client that leaves before its Sync gets them rolled
   * back, and so does an error before it. Their records wait in {@link #uncommitted} until the
   * ReadyForQuery or the end of the session tells which. False from a statement on that may end or
   * open a transaction itself, until the next ReadyForQuery 'I'.
   */
  private boolean implicitTransaction = true;

  /**
   * Target reader: an ErrorResponse came since the last ReadyForQuery (the implicit one aborts).
   */
  private boolean segmentFailed;

  /**
   * Target reader: the error's code when it came after every statement of the segment completed, at
   * the implicit transaction's commit; null otherwise.
   */
  private String commitFailed;

  /** An Execute that completed in the implicit transaction, recorded when that ends. */
  private record Uncommitted(AuthorizedAction a, String tag, long rows) {}

  /** Target reader: see {@link #implicitTransaction}. */
  private final List<Uncommitted> uncommitted = new ArrayList<>();

  /** Statement kinds that run inside the transaction, so that its rollback undoes them. */
  private static final Set<String> TRANSACTIONAL =
      Set.of(
          SqlKinds.SELECT,
          SqlKinds.INSERT,
          SqlKinds.UPDATE,
          SqlKinds.DELETE,
          SqlKinds.MERGE,
          SqlKinds.TRUNCATE,
          SqlKinds.COPY_IN,
          SqlKinds.COPY_OUT,
          SqlKinds.SET,
          SqlKinds.RESET,
          SqlKinds.SHOW,
          SqlKinds.EXPLAIN,
          SqlKinds.LOCK,
          SqlKinds.NOTIFY,
          SqlKinds.LISTEN,
          SqlKinds.UNLISTEN,
          SqlKinds.CURSOR,
          SqlKinds.COMMENT,
          SqlKinds.GRANT,
          SqlKinds.REVOKE,
          SqlKinds.CREATE,
          SqlKinds.ALTER,
          SqlKinds.DROP);

  /**
   * Whether PostgreSQL rolls {@code a} back with an implicit transaction that never reaches Sync.
   * Not transaction statements (COMMIT commits it, BEGIN turns it into a block), DO and CALL (a
   * procedure may COMMIT), PREPARE (not transactional), nor what commits at once in the extended
   * protocol (postgres.c exec_execute_message, XACT_FLAGS_NEEDIMMEDIATECOMMIT): VACUUM and the
   * other maintenance commands, CREATE/DROP DATABASE or TABLESPACE, ALTER SYSTEM, subscriptions,
   * CONCURRENTLY. For those the record is what it always was: run when it completed.
   */
  private static boolean rolledBackWithImplicitTransaction(AuthorizedAction a) {
    Action action = a.action();
    if (!TRANSACTIONAL.containsAll(action.list(Action.Attr.SQL_KINDS))
        || action.flag(SqlClassifier.ATTR_ENDS_TRANSACTION)) {
      return false;
    }
    if (!anyDdl(action.list(Action.Attr.SQL_KINDS))) {
      return true;
    }
    String type = action.string(Action.Attr.SQL_OBJECT_TYPE);
    return !(type != null && IMMEDIATE_OBJECTS.contains(type))
        && !action.raw().toLowerCase(Locale.ROOT).contains("concurrently");
  }

  private static final Set<String> DDL = Set.of(SqlKinds.CREATE, SqlKinds.ALTER, SqlKinds.DROP);

  /** A loop, not a stream: every statement of a simple Query or Execute comes here. */
  private static boolean anyDdl(List<String> kinds) {
    for (int i = 0; i < kinds.size(); i++) {
      if (DDL.contains(kinds.get(i))) {
        return true;
      }
    }
    return false;
  }

  /** Objects whose CREATE, ALTER or DROP cannot run in a transaction block (and commit at once). */
  private static final Set<String> IMMEDIATE_OBJECTS =
      Set.of("database", "tablespace", "system", "subscription");

  /**
   * {@code a}, a statement that may commit or open a transaction itself, completed with {@code
   * tag}: those held in {@link #uncommitted} go on with it and are recorded as run, as every
   * statement of a transaction block is, unless it was a ROLLBACK (or ABORT), which rolled them
   * back. Nothing more is held until the next ReadyForQuery 'I', except after COMMIT, END or
   * ROLLBACK (not AND CHAIN, which opens a block again): the statements after it, in the same Query
   * or before the next Sync, run in a new implicit transaction
   * (protocol-flow.html#PROTOCOL-FLOW-MULTI-STATEMENT: "the second INSERT and the SELECT are still
   * treated as a single implicit transaction block"). PREPARE TRANSACTION also ends the
   * transaction, with its tag, so what follows it is implicit too.
   */
  private void implicitTransactionGoesOn(AuthorizedAction a, String tag) {
    boolean ends = a.action().flag(SqlClassifier.ATTR_ENDS_TRANSACTION);
    recordUncommitted(
        ends && tag.equals("ROLLBACK")
            ? "a ROLLBACK in its implicit transaction rolled it back"
            : null);
    implicitTransaction = ends && !a.action().flag(SqlClassifier.ATTR_CHAINS_TRANSACTION);
  }

  /** Target reader, at a ReadyForQuery with transaction status {@code status}. */
  private void implicitTransactionEnded(byte status) {
    recordUncommitted(
        commitFailed != null
            ? "its commit failed (" + commitFailed + "), so PostgreSQL rolled it back"
            : segmentFailed ? ROLLED_BACK_BY_ERROR : null);
    segmentFailed = false;
    commitFailed = null;
    implicitTransaction = status == 'I';
  }

  /**
   * Records the statements held in {@link #uncommitted}: as run when {@code notCommitted} is null,
   * else as failed, not committed for that reason, their approvals (if any) not executed.
   */
  private void recordUncommitted(String notCommitted) {
    for (Uncommitted u : uncommitted) {
      boolean ok = notCommitted == null;
      recordOutcome(
          u.a(),
          ok,
          ok ? u.tag() : "not committed (" + u.tag() + "): " + notCommitted,
          u.rows(),
          "not committed: " + notCommitted);
    }
    uncommitted.clear();
  }

  /** ErrorResponse: who failed, and what the client sees. */
  private byte[] onError(Pending head, byte[] body) throws ProtocolViolation {
    segmentFailed = true;
    readablePathDone = -1; // the transaction of a SET before it rolls back
    Map<Character, String> f = PgMessages.parseFields(body, clientCharset);
    if (head != null && head.kind == Kind.SYNC && !uncommitted.isEmpty()) {
      // Every execution completed, then an error for the Sync: the implicit transaction's commit
      // failed (a deferred constraint, a serialization failure). The extended protocol commits at
      // Sync, after the CommandCompletes. Only the code: the message may hold data.
      commitFailed = "ERROR " + f.getOrDefault('C', "");
    }
    // In a masked session, an error quoting converted input shows (and records) what the client
    // sent only (PgEchoedInput); computed before the head is taken off the queue.
    Map<Character, String> echoed =
        rowFilter != RowFilter.IDENTITY && PgEchoedInput.applies(f.get('C'))
            ? PgEchoedInput.fields(f, sentText(head))
            : null;
    String summary =
        "ERROR "
            + f.getOrDefault('C', "")
            + ": "
            + (echoed != null ? echoed : f).getOrDefault('M', "");
    if (head != null && head.kind == Kind.QUERY) {
      if (head.next < head.actions.size()) {
        record(head.actions.get(head.next++), false, summary, 0);
      }
    } else if (head != null && head.kind != Kind.SYNC) {
      pending.poll();
      fail(head, summary);
    }
    if (head != null && head.denial != null) {
      return head.denial;
    }
    return echoed != null ? maskFields('E', echoed, null) : maskFields('E', f, body);
  }

  /**
   * The statement text the client sent for the message {@code head} answers, as far as the session
   * knows it (each statement of a Query, the Parse of an Execute's or Bind's statement); null when
   * it cannot tell. What an error may quote back unredacted ({@link PgEchoedInput}).
   */
  private static String sentText(Pending head) {
    if (head == null) {
      return null;
    }
    if (head.kind == Kind.QUERY) {
      StringBuilder b = new StringBuilder();
      for (AuthorizedAction a : head.actions) {
        b.append(a.action().raw()).append('\n');
      }
      return b.toString();
    }
    if (head.prepared != null) {
      return head.prepared.action.raw();
    }
    if (head.portal != null) {
      return head.portal.stmt.action.raw();
    }
    return head.auth == null ? null : head.auth.action().raw();
  }

  /**
   * ReadyForQuery ends a simple Query or a Sync segment. Whatever is still pending before it was
   * skipped by the target after an error. Returns the queue place of the Query or Sync it answers,
   * or -1.
   */
  private long readyForQuery() {
    while (true) {
      Pending p = pending.poll();
      if (p == null) {
        return -1;
      }
      if (p.kind == Kind.QUERY) {
        for (int i = p.next; i < p.actions.size(); i++) {
          record(p.actions.get(i), false, "not executed: an earlier statement failed", 0);
        }
        return p.seq;
      }
      if (p.kind == Kind.SYNC) {
        return p.seq;
      }
      fail(p, "not executed: an earlier message failed");
    }
  }

  /**
   * Target reader, at a ReadyForQuery 'I' answering the Query or Sync queued at {@code closer}: no
   * transaction is open, so every portal Bound before that message is gone at the target. A portal
   * lasts until the end of its transaction unless closed
   * (protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY: "a named portal object lasts till the end of the
   * current transaction"); only DECLARE ... WITH HOLD makes one outlive it, and a Bind cannot.
   * Without this, a new Bind of the name after a ROLLBACK, or after an error ended an implicit
   * transaction at Sync, was refused as a duplicate. A Bind queued after {@code closer} (pipelined
   * behind it) belongs to a later transaction and is kept; the removals compare the value, so one
   * the session thread puts meanwhile stays.
   */
  private void transactionEnded(long closer) {
    // At every autocommit statement's ReadyForQuery: mostly nothing to look at
    if (!portals.isEmpty()) {
      portals.values().removeIf(p -> p.queuedAt < closer);
    }
    if (!boundPortals.isEmpty()) {
      boundPortals.values().removeIf(b -> b.queuedAt() < closer);
    }
  }

  private void fail(Pending p, String summary) {
    switch (p.kind) {
      case PARSE -> {
        if (p.prepared != null) {
          p.prepared.parsed.complete(false);
          statements.remove(p.name, p.prepared);
        }
      }
      case BIND -> {
        p.portal.bound.complete(false);
        portals.remove(p.name, p.portal);
      }
      case EXECUTE -> {
        p.portal.auth = null;
        record(p.auth, false, summary, p.rows);
      }
      default -> {}
    }
  }

  private void failOutstanding(String why) {
    // The held statements' implicit transaction ends at the first Query or Sync sent after them. A
    // server that read it runs it to its end though the connection is gone (it reads nothing
    // else until then, and finds out only when a send fails or at client_connection_check_interval)
    // and commits: PgUncommittedTest.aClientLeavingBeforeTheEndOfItsQuery and
    // aClientLeavingAfterItsSyncWasSent. A refused Query fails at the target, which rolls them
    // back;
    // nothing sent closing them, the server rolls them back too.
    Pending closer = null;
    for (Pending q : pending) {
      if (q.kind == Kind.QUERY || q.kind == Kind.SYNC) {
        closer = q;
        break;
      }
    }
    if (!segmentFailed && closer != null && closer.denial == null) {
      recordUncommittedAsRun(
          closer.kind == Kind.QUERY
              ? " (the session ended before its query did; PostgreSQL runs the query to its end"
                  + " and commits it unless a statement fails or it sees the connection lost first)"
              : " (the session ended after its Sync was sent, before the answer; PostgreSQL"
                  + " commits at Sync unless a statement fails or it sees the connection lost"
                  + " first)");
    }
    recordUncommitted(
        segmentFailed
            ? ROLLED_BACK_BY_ERROR
            : "the session ended before Sync, and PostgreSQL rolls back an implicit transaction"
                + " that Sync did not close");
    // The client left or the connection to the target was lost: a statement the target was sent
    // and has not answered may have run, and committed, when the first Query or Sync at or after it
    // was sent to run (not refused, PostgreSQL runs a Query to its end and commits at Sync) and no
    // error of its segment came first (segmentFailed is about the first segment). Its approval is
    // then not "not executed" but of unknown outcome. A lost connection tells no more than a
    // client leaving: the target may have committed and lost only its answer.
    List<Pending> left = new ArrayList<>();
    Pending p;
    while ((p = pending.poll()) != null) {
      left.add(p);
    }
    boolean firstSegment = true;
    for (int i = 0; i < left.size(); i++) {
      p = left.get(i);
      boolean mayRun = !(firstSegment && segmentFailed) && closedBySent(left, i);
      if (p.kind == Kind.QUERY) {
        for (int j = p.next; j < p.actions.size(); j++) {
          if (mayRun) {
            recordUnanswered(p.actions.get(j), why);
          } else {
            record(p.actions.get(j), false, why, 0);
          }
        }
      } else if (p.kind == Kind.EXECUTE && mayRun) {
        p.portal.auth = null;
        recordUnanswered(p.auth, why);
      } else {
        fail(p, why);
      }
      firstSegment &= p.kind != Kind.QUERY && p.kind != Kind.SYNC;
    }
  }

  /** Whether the first Query or Sync at or after {@code left[i]} was sent to run (not refused). */
  private static boolean closedBySent(List<Pending> left, int i) {
    for (int j = i; j < left.size(); j++) {
      Pending q = left.get(j);
      if (q.kind == Kind.QUERY || q.kind == Kind.SYNC) {
        return q.denial == null;
      }
    }
    return false;
  }

  /**
   * {@code a} was sent to the target, which never answered (the client left, or the connection to
   * the target was lost): recorded as not seen to succeed ({@code why}), and its approval, if any,
   * as of unknown outcome rather than not executed (the target may have run and committed it:
   * PgUncommittedTest).
   */
  private void recordUnanswered(AuthorizedAction a, String why) {
    if (a != null) {
      takeOutcome(a, false);
      gs.completed(a, false, why, 0);
      gs.approvalOutcomeUnknown(a, why);
    }
  }

  /**
   * Set while the statements of a multi-statement Query are decided ({@link
   * ReviewGate.Waiting#defersSpending}): their approvals are spent by {@link GateSession#spendAll}.
   * Session thread only.
   */
  private boolean deferSpending;

  private Pending expect(Kind kind) throws ProtocolViolation {
    Pending p = pending.poll();
    if (p == null || p.kind != kind) {
      // The target answered something we did not ask for: we can no longer tell which answer
      // belongs to which decision, so stop rather than mis-record.
      throw new ProtocolViolation(
          "the target's answers are out of order (expected " + kind + ", pending " + p + ")");
    }
    return p;
  }

  private void record(AuthorizedAction a, boolean ok, String summary, long rows) {
    if (a != null) {
      takeOutcome(a, ok);
      // A fixed reason: the target's error text may hold data.
      recordOutcome(a, ok, summary, rows, "the statement failed or was skipped at the target");
    }
  }

  /**
   * Records {@code a}'s outcome; when it failed or did not take effect, an approval it ran under
   * changed nothing ({@code notExecuted} on the review's trail).
   */
  private void recordOutcome(
      AuthorizedAction a, boolean ok, String summary, long rows, String notExecuted) {
    gs.completed(a, ok, summary, rows);
    if (!ok) {
      gs.approvalNotExecuted(a, notExecuted);
    }
  }

  /** Runs what {@code a}'s outcome does to the session's bookkeeping ({@link #track}). */
  private void takeOutcome(AuthorizedAction a, boolean ok) {
    var outcome = outcomes.isEmpty() ? null : outcomes.remove(a);
    if (outcome != null) {
      outcome.accept(ok);
    }
  }

  /** The rows recorded: those counted, or the tag's (a COPY's counted rows include its header). */
  private static long rows(String tag, long counted) {
    return counted > 0 && !tag.startsWith("COPY") ? counted : PgMessages.tagRows(tag);
  }

  /**
   * Fields of an error or notice that carry no data: severity, SQLSTATE, positions and the server's
   * source location (<a
   * href="https://www.postgresql.org/docs/current/protocol-error-fields.html">error fields</a>).
   * Every other field is masked, unknown future ones included: besides message, detail, hint,
   * context and query, PL/pgSQL's {@code RAISE ... USING SCHEMA/TABLE/COLUMN/DATATYPE/CONSTRAINT =
   * expr} puts any value into the schema, table, column, data type and constraint name fields.
   */
  private static final String UNMASKED_FIELDS = "SVCPpFLR";

  /**
   * A notice or error with every field that can carry data masked for this session (see {@link
   * #UNMASKED_FIELDS}); the frame as it came when masking changes nothing. Read and rebuilt in the
   * client's encoding.
   */
  private byte[] maskFields(char type, byte[] body) throws ProtocolViolation {
    return maskFields(type, PgMessages.parseFields(body, clientCharset), body);
  }

  /**
   * {@link #maskFields(char, byte[])} of fields already read from {@code body}; {@code body} null:
   * the fields were changed before (an error's echoed input, {@link PgEchoedInput}), so the message
   * is rebuilt from them whether masking changes them or not.
   */
  private byte[] maskFields(char type, Map<Character, String> fields, byte[] body) {
    Charset cs = clientCharset;
    Map<Character, String> f = new LinkedHashMap<>(fields);
    boolean changed = body == null;
    for (Map.Entry<Character, String> e : f.entrySet()) {
      if (UNMASKED_FIELDS.indexOf(e.getKey()) < 0) {
        String masked = gs.mask(e.getValue());
        changed |= !masked.equals(e.getValue());
        e.setValue(masked);
      }
    }
    return changed ? PgMessages.fields(type, f, cs) : new Builder(type).bytes(body).frame();
  }

  /**
   * NotificationResponse (int32 pid, channel, payload): the payload is data, and {@code SELECT
   * pg_notify('c', email) FROM customers} would otherwise hand a masked session the raw values.
   * Channel and payload are masked like a notice's message.
   */
  private byte[] maskNotification(byte[] body) throws ProtocolViolation {
    Charset cs = clientCharset;
    Reader r = new Reader(body);
    int pid = r.int32();
    String channel = r.cstring(cs);
    String payload = r.cstring(cs);
    String maskedChannel = gs.mask(channel);
    String maskedPayload = gs.mask(payload);
    if (maskedChannel.equals(channel) && maskedPayload.equals(payload)) {
      return new Builder('A').bytes(body).frame();
    }
    return new Builder('A')
        .int32(pid)
        .cstring(maskedChannel, cs)
        .cstring(maskedPayload, cs)
        .frame();
  }

  /**
   * RowDescription (int16 count; per field a name, then 18 bytes: table oid, column number, type
   * oid, type size, type modifier, format): in a masked session the names are masked like a
   * notice's text, since a column can be named after data ({@code SELECT 1 AS "4111…"}, or a table
   * created with such names: red team, issue #4). Unchanged names keep the message as it is.
   */
  private byte[] maskColumnNames(byte[] body) throws ProtocolViolation {
    if (rowFilter == RowFilter.IDENTITY) {
      return body;
    }
    Charset cs = clientCharset;
    Reader r = new Reader(body);
    int n = r.int16();
    String[] names = null;
    for (int i = 0; i < n; i++) {
      String name = r.cstring(cs);
      r.skip(18);
      String masked = gs.mask(name);
      if (!masked.equals(name)) {
        if (names == null) {
          names = new String[n];
        }
        names[i] = masked;
      }
    }
    if (names == null) {
      return body;
    }
    Builder b = new Builder().int16(n);
    Reader again = new Reader(body);
    again.int16();
    for (int i = 0; i < n; i++) {
      String name = again.cstring(cs);
      int fixed = again.skip(18);
      b.cstring(names[i] != null ? names[i] : name, cs);
      b.bytes(java.util.Arrays.copyOfRange(body, fixed, fixed + 18));
    }
    return b.body();
  }

  /**
   * Reported settings whose values are enumerations, numbers or versions, passed to the client as
   * they are (protocol-flow.html, "Asynchronous Operations", and the GUC_REPORT settings of
   * guc_tables.c). Every other one is masked: free text a statement can set from table data
   * (application_name, search_path, TimeZone with a POSIX abbreviation in angle brackets), and
   * settings a later server reports that this list does not know yet.
   */
  private static final java.util.Set<String> REPORTED_AS_IS =
      java.util.Set.of(
          "server_version",
          "server_encoding",
          "client_encoding",
          "DateStyle",
          "IntervalStyle",
          "integer_datetimes",
          "standard_conforming_strings",
          "is_superuser",
          "in_hot_standby",
          "default_transaction_read_only",
          "scram_iterations");

  /**
   * ParameterStatus: {@code application_name}, (PostgreSQL 18) {@code search_path} and {@code
   * TimeZone} are free text a statement can set from table data ({@code
   * set_config('application_name', email, false)}), and the target reports the new value to the
   * client; they are masked like a notice, as is any setting not in {@link #REPORTED_AS_IS}. The
   * gateway itself tracks the unmasked values.
   */
  private byte[] maskParameterStatus(byte[] body) throws ProtocolViolation {
    Charset cs = clientCharset;
    Reader r = new Reader(body);
    String name = r.cstring(cs);
    String value = r.cstring(cs);
    if (!REPORTED_AS_IS.contains(name)) {
      String masked = gs.mask(value);
      if (!masked.equals(value)) {
        return new Builder('S').cstring(name, cs).cstring(masked, cs).frame();
      }
    }
    return new Builder('S').bytes(body).frame();
  }

  private void trackParameter(String name, String value) {
    readingSettings.reported(name, value);
    switch (name) {
      case "standard_conforming_strings" -> standardConformingStrings = PgStartupParams.isOn(value);
      case "search_path" -> {
        catalogFirst = PgStartupParams.safeSearchPath(value);
        if (!catalogFirst) {
          unsafePathSeen = true;
        }
        searchPath.value(value);
      }
      case "client_encoding" -> {
        clientCharset = charset(value);
        if (!PgStartupParams.safeClientEncoding(value)
            || (rowFilter != RowFilter.IDENTITY && !PgMaskGuard.isUtf8(value))) {
          unreadableEncoding = value;
        }
      }
      default -> {}
    }
  }

  /**
   * The target reports a client encoding in which the gateway would read statements differently
   * from the server (see PgStartupParams.safeClientEncoding): from a database or role default, or a
   * SET the policy allowed. Nothing more can be classified safely, so the session ends.
   */
  private PgErrors.Fatal unreadable() {
    String why =
        "the session's client_encoding is "
            + unreadableEncoding
            + (PgStartupParams.safeClientEncoding(unreadableEncoding)
                ? ", in which the gateway cannot mask results (it masks UTF8); use UTF8"
                : ", in which the gateway cannot read statements safely (a multibyte character can"
                    + " end in a backslash); use UTF8");
    try {
      gs.audit("postgres.unsafe_encoding", Map.of("client_encoding", unreadableEncoding));
    } catch (GateException e) {
      // The session ends either way.
      log.error("session {}: cannot record the unsafe encoding: {}", gs.id(), e.getMessage());
    }
    return new PgErrors.Fatal(PgErrors.FEATURE_NOT_SUPPORTED, "gatehouse: " + why);
  }

  /**
   * The Java charset of a client encoding, by the name the server reports in ParameterStatus (<a
   * href="https://www.postgresql.org/docs/current/multibyte.html#MULTIBYTE-CHARSET-SUPPORTED">supported
   * character sets</a>): statements are read, and masked errors and notices rebuilt, in it.
   */
  private static Charset charset(String pgEncoding) {
    String n = pgEncoding.toUpperCase(Locale.ROOT);
    String java =
        switch (n) {
          // SQL_ASCII is bytes, not text: ISO-8859-1 keeps every byte as it is
          case "SQL_ASCII", "LATIN1" -> "ISO-8859-1";
          case "LATIN2" -> "ISO-8859-2";
          case "LATIN3" -> "ISO-8859-3";
          case "LATIN4" -> "ISO-8859-4";
          case "LATIN5" -> "ISO-8859-9";
          case "LATIN6" -> "ISO-8859-10";
          case "LATIN7" -> "ISO-8859-13";
          case "LATIN8" -> "ISO-8859-14";
          case "LATIN9" -> "ISO-8859-15";
          case "LATIN10" -> "ISO-8859-16";
          case "ISO_8859_5", "ISO_8859_6", "ISO_8859_7", "ISO_8859_8" ->
              "ISO-8859-" + n.substring(n.length() - 1);
          case "WIN866" -> "IBM866";
          case "WIN874" -> "x-windows-874";
          case "KOI8R" -> "KOI8-R";
          case "KOI8U" -> "KOI8-U";
          case "EUC_JP" -> "EUC-JP";
          case "EUC_KR" -> "EUC-KR";
          case "EUC_CN" -> "GB2312";
          case "EUC_TW" -> "x-EUC-TW";
          default -> n.startsWith("WIN125") ? "windows-" + n.substring(3) : "UTF-8";
        };
    // An encoding this JVM lacks (EUC_JIS_2004, MULE_INTERNAL): UTF-8 still reads the ASCII bytes
    // right, which is all classification needs in an encoding whose multibyte bytes are >= 0x80.
    return Charset.isSupported(java) ? Charset.forName(java) : StandardCharsets.UTF_8;
  }

  // ---- client output (shared by both threads; whole frames under the lock) ----

  private void send(byte[] frame) throws IOException {
    clientLock.lock();
    try {
      clientOut.write(frame);
    } finally {
      clientLock.unlock();
    }
  }

  private void send(byte type, byte[] body) throws IOException {
    clientLock.lock();
    try {
      PgCodec.writeMessage(clientOut, type, body);
    } finally {
      clientLock.unlock();
    }
  }

  private void flushClient() throws IOException {
    clientLock.lock();
    try {
      clientOut.flush();
    } finally {
      clientLock.unlock();
    }
  }

  private void sendFatal(byte[] frame) {
    if (closed.get() || !fatalSent.compareAndSet(false, true)) {
      return;
    }
    try {
      send(frame);
      flushClient();
    } catch (IOException e) {
      log.debug("cannot send FATAL to client", e);
    }
  }

  private byte[] protocolViolation(ProtocolViolation e) {
    if (e instanceof PgLargeMessages.Overloaded) {
      log.warn("message from {} cannot be held: {}", raw.getRemoteSocketAddress(), e.getMessage());
      return PgMessages.error("FATAL", PgErrors.OUT_OF_MEMORY, "gatehouse: " + e.getMessage());
    }
    log.info("protocol violation from {}: {}", raw.getRemoteSocketAddress(), e.getMessage());
    return PgMessages.error("FATAL", PgErrors.PROTOCOL_VIOLATION, "gatehouse: " + e.getMessage());
  }

  private void terminatedByGate() {
    String why = gs.endedBecause();
    log.info("postgres session {} terminated by the gate: {}", gs.id(), why);
    sendFatal(
        PgMessages.error(
            "FATAL", PgErrors.ADMIN_SHUTDOWN, "gatehouse: terminating connection: " + why));
    shutdown();
  }

  /** Closes both sides; safe to call from any thread, more than once. */
  void shutdown() {
    if (closed.compareAndSet(false, true)) {
      if (up != null) {
        up.close();
      }
      PgUpstream.closeQuietly(client);
      PgUpstream.closeQuietly(raw);
    }
  }

  private void end() {
    shutdown();
    if (cancelKey != null) {
      server.unregisterCancel(cancelKey[0]);
    }
    if (gs != null) {
      gs.close();
    }
  }
}
