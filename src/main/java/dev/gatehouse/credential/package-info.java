/**
 * Sealed secrets.
 *
 * <ul>
 *   <li>{@link dev.gatehouse.credential.MasterKey}: the root key (config {@code server.master_key}
 *       or a generated {@code DATA_DIR/master.key}); only ever used to derive per-purpose keys that
 *       seal keysets.
 *   <li>{@link dev.gatehouse.credential.KeysetStore}: Tink keysets in the store ({@code keysets}),
 *       each sealed under the master key with its name as associated data.
 *   <li>{@link dev.gatehouse.credential.TinkCredentialVault}: envelope encryption of connection
 *       credentials (AES-256-GCM data keys, connection name as associated data), rotation of data
 *       keys and of the master key.
 * </ul>
 *
 * <pre>
 *   master key ──HKDF("gatehouse/keyset/credentials")──▶ AES-GCM ──seals──▶ keysets['credentials']
 *   keysets['credentials'] (primary data key) ──AEAD(ad = connection)──▶ credentials.sealed
 * </pre>
 *
 * No value, key or plaintext appears in a log line, exception message or {@code toString}.
 */
package dev.gatehouse.credential;
