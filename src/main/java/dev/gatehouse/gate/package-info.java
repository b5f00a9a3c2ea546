/**
 * The one authorization routine every protocol goes through, so that security steps cannot drift
 * apart between listeners.
 *
 * <p>Main types:
 *
 * <ul>
 *   <li>{@link dev.gatehouse.gate.Gate}: authenticate, open a session (CONNECT decision, session
 *       recorded), end sessions on revocation.
 *   <li>{@link dev.gatehouse.gate.GateSession}: per action: decide, hold for review, record, then
 *       hand out an {@link dev.gatehouse.gate.AuthorizedAction}.
 *   <li>{@link dev.gatehouse.gate.AuthAttempt} and the package-private {@code AuthThrottle}: failed
 *       authentications counted per client address and per claimed identity ({@code server.auth});
 *       past the limit, an address's attempts are refused without checking the credential, and an
 *       identity's failed attempts are refused (its valid credentials still get in), for a back-off
 *       that grows per period up to a cap.
 *   <li>{@link dev.gatehouse.gate.GateException}: which step refused, for each protocol to word in
 *       its own format ({@link dev.gatehouse.gate.GateException#retryAfter()} when throttled).
 * </ul>
 *
 * <pre>
 *   listener ──authenticate(credential, attempt)──▶ Gate
 *                 AuthThrottle.check ── throttled? ──▶ GateException(retryAfter): 28P01 / SSH
 *                                                      disconnect / HTTP 429 + Retry-After
 *                 Authenticator ── fails? ──▶ AuthThrottle.failed (auth.throttled once per period)
 *                               ── ok ──────▶ AuthThrottle.succeeded (address starts over) ─▶ Principal
 *   listener ──open(principal, connection)────▶ Gate ──▶ policy(CONNECT), recorder, audit ─▶ GateSession
 *   listener ──authorize(action)──────────────▶ GateSession ──▶ policy ─▶ review? ─▶ record
 * </pre>
 */
package dev.gatehouse.gate;
