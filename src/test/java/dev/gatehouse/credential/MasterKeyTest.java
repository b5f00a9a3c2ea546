package dev.gatehouse.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.Secret;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MasterKeyTest {

  @Test
  void generatedKeysAreBase64Of32RandomBytes() {
    String a = MasterKey.generate();
    assertThat(Base64.getDecoder().decode(a)).hasSize(32);
    assertThat(MasterKey.generate()).isNotEqualTo(a);
  }

  @Test
  void missingKeyIsGeneratedOnceIntoTheDataDirWithOwnerOnlyPermissions(@TempDir Path dir)
      throws Exception {
    MasterKey first = MasterKey.loadOrGenerate(null, dir);
    Path file = dir.resolve(MasterKey.FILE_NAME);
    assertThat(file).exists();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    String stored = Files.readString(file).trim();
    assertThat(Base64.getDecoder().decode(stored)).hasSize(32);

    MasterKey second = MasterKey.loadOrGenerate(null, dir);
    assertThat(Files.readString(file).trim()).isEqualTo(stored);
    // Same key: a keyset sealed by one opens with the other.
    byte[] sealed = first.keysetAead("x").encrypt(new byte[] {1, 2, 3}, new byte[0]);
    assertThat(second.keysetAead("x").decrypt(sealed, new byte[0])).containsExactly(1, 2, 3);
  }

  @Test
  void configuredKeyWinsOverTheFile(@TempDir Path dir) {
    String value = MasterKey.generate();
    MasterKey k = MasterKey.loadOrGenerate(new Secret(value, "env:GATEHOUSE_MASTER_KEY"), dir);
    assertThat(k.origin()).isEqualTo("env:GATEHOUSE_MASTER_KEY");
    assertThat(dir.resolve(MasterKey.FILE_NAME)).doesNotExist();
    assertThat(k.toString()).isEqualTo("MasterKey[env:GATEHOUSE_MASTER_KEY]").doesNotContain(value);
  }

  @Test
  void invalidKeysAreRejectedWithoutQuotingThem() {
    String notBase64 = "this-is-not-base64!!";
    assertThatThrownBy(() -> MasterKey.fromSecret(new Secret(notBase64, "env:K")))
        .hasMessageContaining("env:K")
        .hasMessageContaining("not valid base64")
        .hasMessageNotContaining(notBase64);
    String shortKey = Base64.getEncoder().encodeToString(new byte[16]);
    assertThatThrownBy(() -> MasterKey.fromSecret(new Secret(shortKey, "file:/k")))
        .hasMessageContaining("16 bytes (expected: 32)")
        .hasMessageNotContaining(shortKey);
  }

  @Test
  void purposesGetIndependentKeys() throws Exception {
    MasterKey k = MasterKey.fromSecret(new Secret(MasterKey.generate(), "test"));
    byte[] sealed = k.keysetAead("credentials").encrypt(new byte[] {7}, new byte[0]);
    assertThatThrownBy(() -> k.keysetAead("audit-signing").decrypt(sealed, new byte[0]))
        .isInstanceOf(java.security.GeneralSecurityException.class);
  }
}
