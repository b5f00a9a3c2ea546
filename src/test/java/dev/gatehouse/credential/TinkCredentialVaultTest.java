package dev.gatehouse.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.audit.AuditVerifier;
import dev.gatehouse.audit.ChainedAuditLog;
import dev.gatehouse.audit.TestStores;
import dev.gatehouse.config.GatehouseConfig.AuditConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.store.Database;
import dev.gatehouse.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TinkCredentialVaultTest {
  static final TestStores stores = new TestStores();
  static final AuditConfig NO_SCHEDULE = new AuditConfig(Duration.ZERO, List.of());
  static final String PASSWORD = "s3cr3t-Pa55word-do-not-leak";

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    stores.closeOpened();
  }

  @AfterAll
  static void stop() {
    stores.close();
  }

  static MasterKey newKey() {
    return MasterKey.fromSecret(new Secret(MasterKey.generate(), "test"));
  }

  private ChainedAuditLog audit(Database db, MasterKey key) {
    ChainedAuditLog log = new ChainedAuditLog(db, key, NO_SCHEDULE);
    closeables.add(log);
    return log;
  }

  private static List<byte[]> sealedColumn(Database db) {
    return db.transaction(
        c -> {
          List<byte[]> out = new ArrayList<>();
          try (var rs =
              c.createStatement()
                  .executeQuery("SELECT sealed FROM credentials ORDER BY connection")) {
            while (rs.next()) {
              out.add(rs.getBytes(1));
            }
          }
          return out;
        });
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void putThenOpenReturnsTheFields(TestStores.Kind kind) {
    Database db = stores.open(kind);
    MasterKey key = newKey();
    TinkCredentialVault vault = new TinkCredentialVault(db, key, audit(db, key));
    vault.put("prod", Map.of("password", PASSWORD, "username", "app"));
    vault.put("staging", Map.of("private_key", "-----BEGIN KEY-----"));

    assertThat(vault.open("prod")).contains(Map.of("password", PASSWORD, "username", "app"));
    assertThat(vault.open("missing")).isEmpty();
    assertThat(vault.connections()).containsExactly("prod", "staging");

    vault.put("prod", Map.of("password", "rotated"));
    assertThat(vault.open("prod")).contains(Map.of("password", "rotated"));
    assertThat(vault.remove("staging")).isTrue();
    assertThat(vault.connections()).containsExactly("prod");
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void storedColumnsNeverContainThePlaintext(TestStores.Kind kind) {
    Database db = stores.open(kind);
    MasterKey key = newKey();
    TinkCredentialVault vault = new TinkCredentialVault(db, key, audit(db, key));
    vault.put("prod", Map.of("password", PASSWORD));

    byte[] sealed = sealedColumn(db).get(0);
    String asText = new String(sealed, StandardCharsets.ISO_8859_1);
    assertThat(asText).doesNotContain(PASSWORD).doesNotContain("password");
    assertThat(vault.toString()).doesNotContain(PASSWORD);
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void wrongMasterKeyFailsClearly(TestStores.Kind kind) {
    Database db = stores.open(kind);
    MasterKey key = newKey();
    new TinkCredentialVault(db, key, audit(db, key)).put("prod", Map.of("password", PASSWORD));

    MasterKey wrong = newKey();
    assertThatThrownBy(() -> new TinkCredentialVault(db, wrong, new ChainedAuditLogStub()))
        .isInstanceOf(MasterKeyMismatchException.class)
        .hasMessageContaining("does not match the store's keyset \"credentials\"")
        .hasMessageContaining("restore the previous key")
        .hasMessageNotContaining(PASSWORD);
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void rotateResealsEveryCredentialUnderANewDataKey(TestStores.Kind kind) {
    Database db = stores.open(kind);
    MasterKey key = newKey();
    ChainedAuditLog audit = audit(db, key);
    TinkCredentialVault vault = new TinkCredentialVault(db, key, audit);
    vault.put("a", Map.of("password", "pa"));
    vault.put("b", Map.of("password", "pb"));
    List<byte[]> before = sealedColumn(db);

    assertThat(vault.rotate(null)).isEqualTo(2);

    List<byte[]> after = sealedColumn(db);
    for (int i = 0; i < 2; i++) {
      assertThat(after.get(i)).isNotEqualTo(before.get(i));
      // Tink's 5-byte prefix names the key: the new primary, not the old one.
      assertThat(java.util.Arrays.copyOf(after.get(i), 5))
          .isNotEqualTo(java.util.Arrays.copyOf(before.get(i), 5));
    }
    assertThat(vault.open("a")).contains(Map.of("password", "pa"));
    // A fresh vault (another replica, a restart) opens them too.
    assertThat(new TinkCredentialVault(db, key, audit).open("b"))
        .contains(Map.of("password", "pb"));
    assertThat(rotatedEvents(db)).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void rotateWithANewMasterKeyRewrapsEveryKeyset(TestStores.Kind kind) {
    Database db = stores.open(kind);
    MasterKey oldKey = newKey();
    ChainedAuditLog audit = audit(db, oldKey);
    TinkCredentialVault vault = new TinkCredentialVault(db, oldKey, audit);
    vault.put("a", Map.of("password", "pa"));
    List<byte[]> before = sealedColumn(db);
    MasterKey newKey = newKey();

    assertThat(vault.rotate(newKey)).isEqualTo(1);

    assertThat(sealedColumn(db).get(0)).isNotEqualTo(before.get(0));
    assertThat(vault.open("a")).contains(Map.of("password", "pa"));
    assertThat(new TinkCredentialVault(db, newKey, audit).open("a"))
        .contains(Map.of("password", "pa"));
    // The audit signing keyset moved to the new key too, so the audit log still opens.
    audit(db, newKey).checkpoint();
    assertThatThrownBy(() -> new TinkCredentialVault(db, oldKey, audit))
        .isInstanceOf(MasterKeyMismatchException.class);
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void ciphertextsCannotBeSwappedBetweenConnections(TestStores.Kind kind) {
    Database db = stores.open(kind);
    MasterKey key = newKey();
    TinkCredentialVault vault = new TinkCredentialVault(db, key, audit(db, key));
    vault.put("a", Map.of("password", "pa"));
    vault.put("b", Map.of("password", "pb"));
    db.transaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE credentials SET sealed = (SELECT sealed FROM credentials WHERE"
                      + " connection = 'b') WHERE connection = 'a'")) {
            return ps.executeUpdate();
          }
        });

    assertThatThrownBy(() -> vault.open("a"))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("connection \"a\" cannot be opened")
        .hasMessageNotContaining("pb");
    assertThat(vault.open("b")).contains(Map.of("password", "pb"));
  }

  private static long rotatedEvents(Database db) {
    return db.transaction(
        c -> {
          try (var rs =
              c.createStatement()
                  .executeQuery("SELECT COUNT(*) FROM audit_log WHERE type = 'keys.rotated'")) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  /** An audit log that must not be used: the vault fails before it would append. */
  private static final class ChainedAuditLogStub implements dev.gatehouse.audit.AuditLog {
    @Override
    public long append(dev.gatehouse.audit.AuditEvent event) {
      throw new AssertionError("unexpected append " + event.type());
    }
  }
}
