package dev.gatehouse.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsMaterialTest {
  @Test
  void theSelfSignedPairIsReadBackOnTheNextStart(@TempDir Path dataDir) throws Exception {
    TlsMaterial first = TlsMaterial.load(null, null, dataDir);
    Path key = dataDir.resolve("tls/gatehouse.key");
    assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----");

    TlsMaterial second = TlsMaterial.load(null, null, dataDir);
    assertThat(second.certificate()).isEqualTo(first.certificate());
    assertThat(second.serverContext().getProtocol()).isEqualTo("TLS");
  }

  @Test
  void anUnreadableSelfSignedPairIsReplaced(@TempDir Path dataDir) throws Exception {
    TlsMaterial first = TlsMaterial.load(null, null, dataDir);
    // What earlier versions wrote on JDK 24+: a SEC1 EC key without its curve.
    Files.writeString(
        dataDir.resolve("tls/gatehouse.key"),
        "-----BEGIN EC PRIVATE KEY-----\n"
            + "MCUCAQEEIGq8Vw3m1VqXH5pXg0d2qZb5m4uQmX2cTjv1Ck8c9fQ6\n"
            + "-----END EC PRIVATE KEY-----\n");

    TlsMaterial second = TlsMaterial.load(null, null, dataDir);
    assertThat(second.certificate()).isNotEqualTo(first.certificate());
    assertThat(TlsMaterial.load(null, null, dataDir).certificate()).isEqualTo(second.certificate());
    assertThat(second.serverContext().getProtocol()).isEqualTo("TLS");
    try (var files = Files.list(dataDir.resolve("tls"))) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.startsWith("gatehouse.key.unreadable-"));
    }
    assertThat(Files.getPosixFilePermissions(dataDir.resolve("tls/gatehouse.key")))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
  }

  @Test
  void aKeyUnreadableForAnotherReasonIsAnErrorAndIsKept(@TempDir Path dataDir) throws Exception {
    TlsMaterial.load(null, null, dataDir);
    Path key = dataDir.resolve("tls/gatehouse.key");
    String encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    Files.writeString(key, encrypted);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> TlsMaterial.load(null, null, dataDir))
        .isInstanceOf(java.io.IOException.class);
    assertThat(Files.readString(key)).isEqualTo(encrypted);
  }
}
