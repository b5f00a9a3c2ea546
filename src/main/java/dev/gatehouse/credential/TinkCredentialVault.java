package dev.gatehouse.credential;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import dev.gatehouse.store.Database;
import dev.gatehouse.store.StoreException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Credential vault with envelope encryption: an AES256_GCM Tink keyset (the data keys) lives in the
 * store sealed under the {@link MasterKey}; each connection's fields are one JSON map sealed with
 * the primary data key, with the connection name as associated data so that ciphertexts cannot be
 * swapped between rows.
 *
 * <p>Rotation adds a new primary data key and keeps the old ones, so a replica that still holds the
 * previous keyset reloads it when it meets a ciphertext it cannot open. What this does not
 * guarantee: after a master-key rotation, other replicas keep working only until they restart; they
 * must be restarted with the new master key.
 */
public final class TinkCredentialVault implements CredentialVault {
  static final String KEYSET = "credentials";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<TreeMap<String, String>> FIELDS = new TypeReference<>() {};

  private final Database db;
  private final AuditLog audit;
  private volatile KeysetStore keysets;
  private volatile Aead data;

  /**
   * Opens the vault, creating its data keyset on first use.
   *
   * @throws MasterKeyMismatchException when {@code masterKey} does not open the stored keyset
   */
  public TinkCredentialVault(Database db, MasterKey masterKey, AuditLog audit) {
    this.db = Objects.requireNonNull(db, "db");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.keysets = new KeysetStore(db, Objects.requireNonNull(masterKey, "masterKey"));
    this.data = aead(keysets.loadOrCreate(KEYSET, PredefinedAeadParameters.AES256_GCM));
  }

  @Override
  public void put(String connection, Map<String, String> fields) {
    requireName(connection);
    byte[] sealed = seal(data, connection, fields);
    db.transaction(
        c -> {
          try (PreparedStatement up =
              c.prepareStatement(
                  "UPDATE credentials SET sealed = ?, updated_at = ? WHERE connection = ?")) {
            up.setBytes(1, sealed);
            up.setLong(2, System.currentTimeMillis());
            up.setString(3, connection);
            if (up.executeUpdate() == 1) {
              return null;
            }
          }
          try (PreparedStatement in =
              c.prepareStatement(
                  "INSERT INTO credentials (connection, sealed, updated_at) VALUES (?, ?, ?)")) {
            in.setString(1, connection);
            in.setBytes(2, sealed);
            in.setLong(3, System.currentTimeMillis());
            in.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public Optional<Map<String, String>> open(String connection) {
    requireName(connection);
    byte[] sealed =
        db.transaction(
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement("SELECT sealed FROM credentials WHERE connection = ?")) {
                ps.setString(1, connection);
                try (ResultSet rs = ps.executeQuery()) {
                  return rs.next() ? rs.getBytes(1) : null;
                }
              }
            });
    if (sealed == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(unseal(data, connection, sealed));
    } catch (GeneralSecurityException first) {
      // Another replica may have rotated in a new data key: reload the keyset once and retry.
      Aead reloaded = aead(db.transaction(c -> keysets.load(c, KEYSET, false)));
      try {
        Map<String, String> fields = unseal(reloaded, connection, sealed);
        data = reloaded;
        return Optional.of(fields);
      } catch (GeneralSecurityException e) {
        throw new StoreException(
            "credentials for connection \""
                + connection
                + "\" cannot be opened: the ciphertext does not belong to this connection or"
                + " was sealed with a key this store does not have (expected: a row written by"
                + " this vault for this connection)",
            e);
      }
    }
  }

  @Override
  public Set<String> connections() {
    return db.transaction(
        c -> {
          Set<String> names = new LinkedHashSet<>();
          try (PreparedStatement ps =
                  c.prepareStatement("SELECT connection FROM credentials ORDER BY connection");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              names.add(rs.getString(1));
            }
          }
          return Collections.unmodifiableSet(names);
        });
  }

  /** Removes a connection's credentials; returns whether there were any. */
  public boolean remove(String connection) {
    return db.transaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM credentials WHERE connection = ?")) {
            ps.setString(1, connection);
            return ps.executeUpdate() > 0;
          }
        });
  }

  /**
   * Adds a new primary data key and re-seals every credential under it, in one transaction. With
   * {@code newMasterKey}, also re-seals every keyset in the store (data keys and audit signing
   * keys) under the new master key; the process must then be started with that key. Appends a
   * {@code keys.rotated} audit event.
   *
   * @return the number of credentials re-sealed
   */
  public int rotate(MasterKey newMasterKey) {
    KeysetStore current = keysets;
    record Outcome(int resealed, Aead data, long primaryKeyId, List<String> rewrapped) {}
    Outcome out =
        db.transaction(
            c -> {
              KeysetHandle old = current.load(c, KEYSET, true);
              if (old == null) {
                throw new SQLException("keyset " + KEYSET + " is missing from the store");
              }
              KeysetHandle rotated = addPrimary(old);
              Aead oldAead = aead(old);
              Aead newAead = aead(rotated);
              int n = reseal(c, oldAead, newAead);
              current.update(c, KEYSET, rotated, current.masterKey());
              List<String> rewrapped =
                  newMasterKey == null ? List.of() : current.resealAll(c, newMasterKey);
              return new Outcome(
                  n, newAead, Integer.toUnsignedLong(rotated.getPrimary().getId()), rewrapped);
            });
    data = out.data();
    if (newMasterKey != null) {
      keysets = new KeysetStore(db, newMasterKey);
    }
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("keyset", KEYSET);
    event.put("resealed", (long) out.resealed());
    event.put("primary_key_id", out.primaryKeyId());
    event.put("master_key_rotated", newMasterKey != null);
    event.put("keysets_rewrapped", out.rewrapped());
    audit.append(new AuditEvent("keys.rotated", "system", null, null, event));
    return out.resealed();
  }

  private static int reseal(Connection c, Aead oldAead, Aead newAead) throws SQLException {
    List<String> names = new ArrayList<>();
    List<byte[]> sealed = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT connection, sealed FROM credentials ORDER BY connection FOR UPDATE");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        names.add(rs.getString(1));
        sealed.add(rs.getBytes(2));
      }
    }
    try (PreparedStatement up =
        c.prepareStatement(
            "UPDATE credentials SET sealed = ?, updated_at = ? WHERE connection = ?")) {
      for (int i = 0; i < names.size(); i++) {
        Map<String, String> fields;
        try {
          fields = unseal(oldAead, names.get(i), sealed.get(i));
        } catch (GeneralSecurityException e) {
          throw new SQLException(
              "rotation aborted: credentials for connection \""
                  + names.get(i)
                  + "\" do not open with the current keyset",
              e);
        }
        up.setBytes(1, seal(newAead, names.get(i), fields));
        up.setLong(2, System.currentTimeMillis());
        up.setString(3, names.get(i));
        up.addBatch();
      }
      up.executeBatch();
    }
    return names.size();
  }

  private static KeysetHandle addPrimary(KeysetHandle old) throws SQLException {
    try {
      KeysetHandle.Builder b = KeysetHandle.newBuilder(old);
      b.addEntry(
          KeysetHandle.generateEntryFromParameters(PredefinedAeadParameters.AES256_GCM)
              .withRandomId()
              .makePrimary());
      return b.build();
    } catch (GeneralSecurityException e) {
      throw new SQLException("cannot add a new data key to keyset " + KEYSET, e);
    }
  }

  private static byte[] seal(Aead aead, String connection, Map<String, String> fields) {
    byte[] plain = null;
    try {
      plain = JSON.writeValueAsBytes(new TreeMap<>(fields));
      return aead.encrypt(plain, associatedData(connection));
    } catch (IOException | GeneralSecurityException e) {
      // Never include the fields: they are the secret.
      throw new IllegalStateException(
          "cannot seal credentials for connection \"" + connection + "\": " + e.getClass(), e);
    } finally {
      if (plain != null) {
        Arrays.fill(plain, (byte) 0);
      }
    }
  }

  private static Map<String, String> unseal(Aead aead, String connection, byte[] sealed)
      throws GeneralSecurityException {
    byte[] plain = aead.decrypt(sealed, associatedData(connection));
    try {
      return Collections.unmodifiableMap(JSON.readValue(plain, FIELDS));
    } catch (IOException e) {
      throw new GeneralSecurityException(
          "credentials for connection \"" + connection + "\" opened but are not a JSON map");
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  private static Aead aead(KeysetHandle handle) {
    if (handle == null) {
      throw new StoreException("keyset " + KEYSET + " is missing from the store");
    }
    try {
      return handle.getPrimitive(RegistryConfiguration.get(), Aead.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("keyset " + KEYSET + " does not hold AEAD keys", e);
    }
  }

  private static byte[] associatedData(String connection) {
    return ("gatehouse/credential/" + connection).getBytes(StandardCharsets.UTF_8);
  }

  private static void requireName(String connection) {
    if (connection == null || connection.isBlank()) {
      throw new IllegalArgumentException(
          "connection: \"" + connection + "\" (expected: a non-empty connection name)");
    }
  }

  @Override
  public String toString() {
    return "TinkCredentialVault[" + keysets.masterKey() + "]";
  }
}
