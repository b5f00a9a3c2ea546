package dev.gatehouse.credential;

import java.util.Map;
import java.util.Optional;

/**
 * Target credentials, sealed at rest with AEAD and opened only to hand them to an upstream client.
 * Values are keyed by connection name and then by field ({@code password}, {@code private_key},
 * {@code env:NPM_TOKEN}, ...).
 */
public interface CredentialVault {

  /** Seals and stores the fields for a connection, replacing what was there. */
  void put(String connection, Map<String, String> fields);

  /** Opens the fields for a connection; empty when none are stored. */
  Optional<Map<String, String>> open(String connection);

  /** Connection names with stored credentials (never the values). */
  java.util.Set<String> connections();
}
