/**
 * Who is calling: credentials in, {@link dev.gatehouse.identity.Principal} out.
 *
 * <p>Main types:
 *
 * <ul>
 *   <li>{@link dev.gatehouse.identity.TokenService}: the gateway's {@link
 *       dev.gatehouse.identity.Authenticator}. Issues short-lived tokens ({@code ght_…}) and API
 *       keys ({@code ghk_…}), stores only SHA-256 hashes of their secrets, revokes them (ending
 *       live sessions on every replica within seconds), and accepts OIDC JWTs directly.
 *   <li>{@link dev.gatehouse.identity.OidcVerifier}: JWT verification against configured OIDC
 *       issuers (discovery, cached JWKS with rotation, algorithm allow-list, audience and times).
 *   <li>{@link dev.gatehouse.identity.TokenExchange}: RFC 8693 exchange of CI job tokens for
 *       gateway tokens, driven by {@code identity.token_exchange} mappings.
 *   <li>{@link dev.gatehouse.identity.SshKeys}: SSH public keys registered to identities; a key
 *       registered at run time never outlives the token that registered it unless a human admin
 *       grants more, up to {@code identity.ssh_keys.max_ttl} ({@link
 *       dev.gatehouse.identity.SshKeys#expiryFor}), and stops authenticating when that token is
 *       revoked (checked at every login, so on every replica).
 *   <li>{@link dev.gatehouse.identity.OidcLogin}: client side of {@code gatehouse login}
 *       (authorization code + PKCE with a loopback redirect, RFC 8252; device grant, RFC 8628).
 * </ul>
 *
 * <pre>
 *   ght_/ghk_ credential ─▶ TokenService ─▶ store (by id) ─▶ constant-time hash compare
 *                                        ─▶ expiry, revocation ─▶ Principal
 *   JWT ─────────────────▶ TokenService ─▶ OidcVerifier ─▶ JWKS (cached) ─▶ Principal
 *   CI JWT ──exchange()──▶ TokenExchange ─▶ OidcVerifier ─▶ mapping ─▶ TokenService.issue ─▶ ght_
 *   per action ──────────▶ TokenService.stillValid: expiry + in-memory revoked ids (≤ 2 s old)
 * </pre>
 *
 * <p>No credential secret ever appears in a log line, exception message, audit event or {@code
 * toString}.
 */
package dev.gatehouse.identity;
