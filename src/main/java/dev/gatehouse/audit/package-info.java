/**
 * The audit log and session recordings.
 *
 * <h2>Main types</h2>
 *
 * <ul>
 *   <li>{@link dev.gatehouse.audit.ChainedAuditLog}: the {@link dev.gatehouse.audit.AuditLog} in
 *       the store. Records form one SHA-256 hash chain ({@code hash = SHA-256(prev_hash + "\n" +
 *       canonical JSON)}); a single writer thread commits queued appends in batches (group commit)
 *       under a row lock on {@code audit_chain_head}, so replicas on one PostgreSQL store extend
 *       one chain. Signed checkpoints (Ed25519, keyset sealed under the master key) pin the head.
 *   <li>{@link dev.gatehouse.audit.AuditVerifier}: walks the chain and checkpoints, names the first
 *       bad record.
 *   <li>{@link dev.gatehouse.audit.AuditExporter} (JSON Lines) and {@link
 *       dev.gatehouse.audit.AuditSinks} (file and webhook tailers with stored offsets).
 *   <li>{@link dev.gatehouse.audit.StoreSessionRecorder} and {@link
 *       dev.gatehouse.audit.SessionQueries}: what sessions did, for list/show/replay.
 * </ul>
 *
 * <h2>The hot path</h2>
 *
 * <pre>
 *  session thread ──actionDecided──▶ queue ──▶ whoever holds the journal lock (a session thread,
 *  session thread ──streamChunk────▶ queue     the group's leader) writes everything queued with
 *                                              one write + one fdatasync ({@code Journal}) and
 *                                              releases every caller
 *  session thread ──actionCompleted▶ queue ──▶ (not waited for; the next group or the flusher)
 *                                     │
 *                                     └──▶ audit-writer thread, one store transaction per few ms:
 *                                          action rows (outcomes folded in), chained audit records,
 *                                          the head, the journal position ──▶ COMMIT
 *  caller ──append(event)──▶ journal, then waits for the store commit (it returns the seq)
 * </pre>
 *
 * With {@code audit.durability: store} there is no journal: one writer thread commits each batch
 * (and syncs the embedded store) before releasing its callers.
 *
 * <p>Every call returns only after its record is durable, and throws if it is not (callers fail
 * closed). The hash format is documented on {@code AuditRecord} so that exported logs can be
 * verified without this code.
 */
package dev.gatehouse.audit;
