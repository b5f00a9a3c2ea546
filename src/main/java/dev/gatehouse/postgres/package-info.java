/**
 * PostgreSQL protocol gateway: native clients (psql, pgbench, JDBC) connect here as if it were the
 * database; every statement is decided on by the shared {@link dev.gatehouse.gate.Gate}, recorded,
 * and forwarded to the target with credentials the caller never sees.
 *
 * <p>Wire protocol v3: <a
 * href="https://www.postgresql.org/docs/current/protocol.html">https://www.postgresql.org/docs/current/protocol.html</a>
 *
 * <p>Main types: {@link dev.gatehouse.postgres.PgProtocolServer} (listener, the only public class),
 * {@code PgSession} (one connection, the request flow), {@code PgUpstream} (client to the target),
 * {@code PgCodec} (bounded frame reader/writer), {@code PgMessages}, {@code PgErrors} (SQLSTATEs),
 * {@code PgStartupParams} (startup parameter allowlist), {@code PgReadOnly}, {@code PgScram},
 * {@code PgPipeline} (extended-protocol bookkeeping), {@code RowFilter} (masking seam), {@code
 * SqlClassifier} (statement → policy action), {@code PgSearchPath} (the schemas a bare table name
 * may resolve in, for deny and review rules).
 *
 * <pre>
 *  client                     gatehouse                                    target
 *    │ SSLRequest ─────────────▶│                                            │
 *    │◀──────────────────── 'S' │ (TLS handshake)                            │
 *    │ StartupMessage ─────────▶│ user = identity, database = connection     │
 *    │◀── AuthCleartextPassword │                                            │
 *    │ Password(token) ────────▶│ gate.authenticate → gate.open (CONNECT)    │
 *    │                          │ ── SSLRequest/Startup (filtered params) ──▶│
 *    │                          │◀── SCRAM / md5 / password (vault creds) ──▶│
 *    │◀ AuthOk, ParameterStatus │◀──────── ParameterStatus, BackendKeyData ──│
 *    │◀ BackendKeyData (own key), ReadyForQuery                              │
 *    │ Query / Parse ──────────▶│ classify → authorize each statement        │
 *    │                          │   allowed: ─────────── forward ───────────▶│
 *    │                          │   refused: ── REFUSED_SQL (syntax error) ─▶│
 *    │◀─ rows, CommandComplete ─│◀─ streamed frame by frame, outcome recorded│
 *    │◀─ ErrorResponse 42501 ───│◀─ (target's error replaced by the refusal) │
 *    │◀────── ReadyForQuery ────│◀─────────── ReadyForQuery (I / T / E) ─────│
 * </pre>
 */
package dev.gatehouse.postgres;
