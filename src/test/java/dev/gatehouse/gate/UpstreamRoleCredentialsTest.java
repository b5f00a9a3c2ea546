package dev.gatehouse.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link GateSession#forRole}: the login a session with an upstream role gets from the vault. */
class UpstreamRoleCredentialsTest {
  static final Map<String, String> VAULT =
      Map.of(
          "username", "owner",
          "password", "owner-pw",
          "secret.TOKEN", "t0k",
          "role.writer.username", "app_rw",
          "role.writer.password", "rw-pw",
          "role.trusted.username", "app_trust");

  @Test
  void withoutARoleTheConnectionsOwnLoginAndNoRoleFields() throws Exception {
    assertThat(GateSession.forRole(VAULT, null, "db"))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("username", "owner", "password", "owner-pw", "secret.TOKEN", "t0k"));
  }

  @Test
  void aRoleReplacesTheLoginAndNoOtherRoleIsHandedOver() throws Exception {
    assertThat(GateSession.forRole(VAULT, "writer", "db"))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("username", "app_rw", "password", "rw-pw", "secret.TOKEN", "t0k"));
  }

  @Test
  void aRoleWithoutAPasswordNeverGetsTheConnectionsPassword() throws Exception {
    Map<String, String> c = GateSession.forRole(VAULT, "trusted", "db");
    assertThat(c).containsEntry("username", "app_trust").doesNotContainKey("password");
  }

  @Test
  void anUndefinedRoleRefusesRatherThanFallBackToTheOwner() {
    GateException e =
        catchThrowableOfType(GateException.class, () -> GateSession.forRole(VAULT, "reader", "db"));
    assertThat(e).isNotNull();
    assertThat(e.reason()).isEqualTo(GateException.Reason.FORBIDDEN);
    assertThat(e.getMessage()).contains("\"reader\"").contains("does not define");
  }
}
