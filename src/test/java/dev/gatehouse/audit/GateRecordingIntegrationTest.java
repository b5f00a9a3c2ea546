package dev.gatehouse.audit;

import static dev.gatehouse.audit.AuditTestSupport.NO_SCHEDULE;
import static dev.gatehouse.audit.AuditTestSupport.newMasterKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.config.GatehouseConfig.UpstreamTlsConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.credential.MasterKey;
import dev.gatehouse.credential.TinkCredentialVault;
import dev.gatehouse.gate.AuthAttempt;
import dev.gatehouse.gate.AuthorizedAction;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.identity.Authenticator;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.Obligations;
import dev.gatehouse.store.Database;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The gate's shared flow over the real audit log, recorder and vault in one store. */
class GateRecordingIntegrationTest {
  static final TestStores stores = new TestStores();

  @AfterEach
  void closeStores() {
    stores.closeOpened();
  }

  @AfterAll
  static void stop() {
    stores.close();
  }

  static final Principal ALICE =
      new Principal("alice", Set.of("dev"), PrincipalKind.HUMAN, "tok-1", null, Set.of(), Map.of());

  static final Authenticator AUTH =
      new Authenticator() {
        @Override
        public Principal authenticate(String credential) {
          return ALICE;
        }

        @Override
        public boolean stillValid(Principal principal, Instant now) {
          return true;
        }
      };

  /** The masking engine wired as the server wires it (GatehouseServer). */
  static dev.gatehouse.gate.Redactor redactor() {
    var engine =
        dev.gatehouse.masking.MaskingEngine.create(
            new dev.gatehouse.config.GatehouseConfig.MaskingConfig(
                List.of(), new Secret("k", "test"), 0));
    return dev.gatehouse.gate.Redactor.of(engine::redact, engine::redactStored);
  }

  private static String hex(String s) {
    return java.util.HexFormat.of().formatHex(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Obligations of a principal allowed to see data unmasked (dana in the demo). */
  static final Obligations UNMASKED = new Obligations("none", false, 0, null, "full");

  @ParameterizedTest
  @EnumSource(TestStores.Kind.class)
  void everyStatementThroughTheGateIsRecordedAndAudited(TestStores.Kind kind) throws Exception {
    Database db = stores.open(kind);
    MasterKey key = newMasterKey();
    ConnectionConfig prod =
        new ConnectionConfig(
            "prod",
            "postgres",
            "db.internal",
            5432,
            "app",
            "app",
            new Secret("pg-pass", "test"),
            Map.of(),
            new UpstreamTlsConfig("disable", null),
            Map.of());
    try (ChainedAuditLog audit = new ChainedAuditLog(db, key, NO_SCHEDULE)) {
      TinkCredentialVault vault = new TinkCredentialVault(db, key, audit);
      vault.put("prod", Map.of("password", "pg-pass"));
      try (Gate gate =
          Gate.builder()
              .authenticator(AUTH)
              .connections(name -> name.equals("prod") ? prod : null)
              .policy(
                  () ->
                      req ->
                          req.action().kind() == ActionKind.CONNECT
                                  || "select".equals(req.action().string(Action.Attr.SQL_KIND))
                              ? new Decision(Effect.ALLOW, "reads", "", null, UNMASKED, List.of())
                              : Decision.deny("no-writes", "writes are not allowed", List.of()))
              .redactor(redactor())
              .audit(audit)
              .recorder(new StoreSessionRecorder(db, audit))
              .vault(vault)
              .build()) {
        String sessionId;
        try (GateSession s =
            gate.open(
                gate.authenticate("token", new AuthAttempt("test", null, null)),
                "prod",
                "postgres",
                "1.2.3.4")) {
          sessionId = s.id();
          assertThat(s.upstreamCredentials()).containsEntry("password", "pg-pass");
          AuthorizedAction ok =
              s.authorize(
                  new Action(ActionKind.SQL, "SELECT 1", Map.of(Action.Attr.SQL_KIND, "select")),
                  null);
          s.completed(ok, true, "SELECT 1", 1);
          // A principal who sees data unmasked: the recording still keeps no credential.
          for (String raw :
              List.of(
                  "SELECT dblink_connect('host=db user=app password=N3w-R0le-pw')",
                  "ALTER ROLE app WITH PASSWORD 'N3w-R0le-pw'",
                  // a MySQL hex literal: the text it stands for is read (sixteenth session)
                  "SELECT 0x" + hex("password=N3w-R0le-pw"))) {
            AuthorizedAction pw =
                s.authorize(
                    new Action(ActionKind.SQL, raw, Map.of(Action.Attr.SQL_KIND, "select")), null);
            s.completed(pw, true, "SELECT 1", 1);
          }
          assertThatThrownBy(
                  () ->
                      s.authorize(
                          new Action(
                              ActionKind.SQL,
                              "DELETE FROM t",
                              Map.of(Action.Attr.SQL_KIND, "delete")),
                          null))
              .isInstanceOf(GateException.class);
        }

        SessionDetail d = new SessionQueries(db).show(sessionId).orElseThrow();
        assertThat(d.session().endReason()).isEqualTo("closed");
        assertThat(d.actions())
            .extracting(SessionAction::raw)
            .containsExactly(
                "SELECT 1",
                "SELECT dblink_connect('host=db user=app password=[REDACTED:connection_password]')",
                "ALTER ROLE app WITH PASSWORD '[REDACTED:assignment]'",
                "SELECT 0x" + hex("password=[REDACTED:connection_password]"),
                "DELETE FROM t");
        assertThat(d.actions())
            .extracting(SessionAction::effect)
            .containsExactly("allow", "allow", "allow", "allow", "deny");
        assertThat(d.actions().get(0).status()).isEqualTo("ok");
      }
      StringWriter out = new StringWriter();
      new AuditExporter(db).export(out, null, 0);
      assertThat(out.toString().lines().map(l -> l.replaceAll(".*\"type\":\"([^\"]+)\".*", "$1")))
          .containsExactly(
              "session.start",
              "decision",
              "decision",
              "decision",
              "decision",
              "decision",
              "session.end");
      assertThat(out.toString()).doesNotContain("pg-pass");
    }
    assertThat(new AuditVerifier(db).verify().ok()).isTrue();
  }
}
