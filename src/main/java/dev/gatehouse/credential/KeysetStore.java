package dev.gatehouse.credential;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Parameters;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.signature.SignatureConfig;
import dev.gatehouse.store.Database;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Tink keysets kept in the store (table {@code keysets}), each sealed under an AEAD derived from
 * the {@link MasterKey} for its name, with the name as associated data. Used by the credential
 * vault (data keys) and the audit log (checkpoint signing keys).
 *
 * <p>Several replicas may start at once on one store: the first insert wins and the others read
 * what it wrote.
 */
public final class KeysetStore {
  static {
    try {
      AeadConfig.register();
      SignatureConfig.register();
    } catch (GeneralSecurityException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Database db;
  private final MasterKey masterKey;

  public KeysetStore(Database db, MasterKey masterKey) {
    this.db = db;
    this.masterKey = masterKey;
  }

  /**
   * Opens keyset {@code name}, generating it with {@code parameters} when the store has none.
   *
   * @throws MasterKeyMismatchException when the master key does not open the stored keyset
   */
  public KeysetHandle loadOrCreate(String name, Parameters parameters) {
    KeysetHandle existing = db.transaction(c -> load(c, name, false));
    if (existing != null) {
      return existing;
    }
    KeysetHandle fresh;
    try {
      fresh = KeysetHandle.generateNew(parameters);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("keyset " + name + ": cannot generate " + parameters, e);
    }
    try {
      db.transaction(
          c -> {
            insert(c, name, fresh);
            return null;
          });
      return fresh;
    } catch (RuntimeException raced) {
      // Most likely another replica inserted it between our read and insert: use theirs.
      KeysetHandle theirs = db.transaction(c -> load(c, name, false));
      if (theirs == null) {
        throw raced;
      }
      return theirs;
    }
  }

  /**
   * The public half of a signing keyset as Tink JSON (no secret), or null when absent. Needs no
   * master key, so a verifier can run without one.
   */
  public static String publicKeysetJson(Database db, String name) {
    return db.transaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT public_keyset FROM keysets WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? rs.getString(1) : null;
            }
          }
        });
  }

  /** Reads and opens a keyset inside {@code c}; null when absent. */
  KeysetHandle load(Connection c, String name, boolean forUpdate) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT sealed FROM keysets WHERE name = ?" + (forUpdate ? " FOR UPDATE" : ""))) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        return unseal(name, rs.getBytes(1), masterKey);
      }
    }
  }

  void insert(Connection c, String name, KeysetHandle handle) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO keysets (name, sealed, public_keyset, primary_key_id, updated_at)"
                + " VALUES (?, ?, ?, ?, ?)")) {
      ps.setString(1, name);
      ps.setBytes(2, seal(name, handle, masterKey));
      ps.setString(3, publicJson(handle));
      ps.setLong(4, Integer.toUnsignedLong(handle.getPrimary().getId()));
      ps.setLong(5, System.currentTimeMillis());
      ps.executeUpdate();
    }
  }

  void update(Connection c, String name, KeysetHandle handle, MasterKey sealingKey)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE keysets SET sealed = ?, public_keyset = ?, primary_key_id = ?, updated_at = ?"
                + " WHERE name = ?")) {
      ps.setBytes(1, seal(name, handle, sealingKey));
      ps.setString(2, publicJson(handle));
      ps.setLong(3, Integer.toUnsignedLong(handle.getPrimary().getId()));
      ps.setLong(4, System.currentTimeMillis());
      ps.setString(5, name);
      if (ps.executeUpdate() != 1) {
        throw new SQLException("keyset " + name + " vanished while being updated");
      }
    }
  }

  /**
   * Re-seals every keyset in the store under {@code newKey}, inside {@code c}. Returns the names
   * re-sealed. The caller switches to the new key only after its transaction commits.
   */
  List<String> resealAll(Connection c, MasterKey newKey) throws SQLException {
    List<String> names = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement("SELECT name FROM keysets ORDER BY name FOR UPDATE");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    for (String name : names) {
      KeysetHandle h = load(c, name, false);
      update(c, name, h, newKey);
    }
    return names;
  }

  MasterKey masterKey() {
    return masterKey;
  }

  private static byte[] seal(String name, KeysetHandle handle, MasterKey key) {
    try {
      return TinkProtoKeysetFormat.serializeEncryptedKeyset(
          handle, key.keysetAead(name), associatedData(name));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("keyset " + name + ": cannot seal", e);
    }
  }

  private static KeysetHandle unseal(String name, byte[] sealed, MasterKey key) {
    Aead aead = key.keysetAead(name);
    try {
      return TinkProtoKeysetFormat.parseEncryptedKeyset(sealed, aead, associatedData(name));
    } catch (GeneralSecurityException e) {
      throw new MasterKeyMismatchException(name, key, e);
    }
  }

  private static String publicJson(KeysetHandle handle) {
    try {
      return TinkJsonProtoKeysetFormat.serializeKeysetWithoutSecret(handle.getPublicKeysetHandle());
    } catch (GeneralSecurityException notAsymmetric) {
      return null; // symmetric keysets (AEAD) have no public half
    }
  }

  private static byte[] associatedData(String name) {
    return ("gatehouse/keyset/" + name).getBytes(StandardCharsets.UTF_8);
  }
}
