package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgProtocolRedTeamTest.parse;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.sqlStates;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.stillUsable;
import static dev.gatehouse.postgres.PgProtocolRedTeamTest.sync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.postgres.PgCodec.Message;
import dev.gatehouse.postgres.PgProtocolRedTeamTest.Raw;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Statements too long to decide on, and the gateway-wide budget for messages held whole (red team
 * rt12: three 30 MB statements from one principal stalled the gateway in garbage collection for
 * everyone, because a statement was lexed, classified and masked before the recorder's 1,000,000
 * character limit refused it).
 */
class PgLargeMessagesTest {
  private static PgTestSupport t;

  @BeforeAll
  static void start() throws Exception {
    t = PgTestSupport.get();
  }

  @Test
  void aQueryOverTheLimitIsRefusedBeforeItIsClassifiedAndTheSessionGoesOn() throws Exception {
    String longest = "SELECT '" + "x".repeat(PgSession.MAX_STATEMENT_TEXT - 10) + "'";
    String tooLong = longest + "  ";
    assertThat(longest.length()).isLessThanOrEqualTo(PgSession.MAX_STATEMENT_TEXT);
    assertThat(tooLong.length()).isGreaterThan(PgSession.MAX_STATEMENT_TEXT);
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      List<Message> ms = r.query(tooLong);
      assertThat(sqlStates(ms)).containsExactly("54000");
      assertThat(PgProtocolRedTeamTest.errorText(ms))
          .contains("over the gateway's limit of " + PgSession.MAX_STATEMENT_TEXT);
      stillUsable(r);
      // one character less and it is decided on (and runs) as before
      assertThat(sqlStates(r.query(longest))).isEmpty();
    }
    assertThat(t.audit)
        .map(AuditEvent::type)
        .as("the refusal is audited, without the text")
        .contains("postgres.statement_too_long");
    assertThat(
            t.audit.stream()
                .filter(e -> e.type().equals("postgres.statement_too_long"))
                .map(e -> e.data().toString()))
        .allSatisfy(d -> assertThat(d).doesNotContain("xxxx"));
  }

  @Test
  void aParseOverTheLimitIsRefusedAndTheSyncSegmentSkipped() throws Exception {
    String tooLong = "SELECT '" + "y".repeat(PgSession.MAX_STATEMENT_TEXT) + "'";
    try (Raw r = new Raw(t.plaintextServer.address().getPort())) {
      List<Message> ms =
          r.send(
                  parse("big", tooLong),
                  PgProtocolRedTeamTest.bind("", "big"),
                  PgProtocolRedTeamTest.execute("", 0),
                  sync())
              .untilReady();
      assertThat(sqlStates(ms)).containsExactly("54000");
      assertThat(ms.stream().map(Message::kind)).doesNotContain('D');
      stillUsable(r);
    }
  }

  @Test
  void largeBodiesTakeTheirSizeFromTheSharedBudgetUntilHandled() throws Exception {
    int before = PgLargeMessages.availableKib();
    PgLargeMessages.Hold hold = new PgLargeMessages.Hold();
    byte[] body = new byte[PgLargeMessages.LARGE + 4096];
    Message m = PgCodec.readMessage(new ByteArrayInputStream(frame('B', body)), b -> 1 << 30, hold);
    assertThat(m.body()).hasSize(body.length);
    assertThat(before - PgLargeMessages.availableKib())
        .as("a body over 1 MiB holds its size, in KiB")
        .isEqualTo((body.length + 1023) / 1024);
    hold.release();
    assertThat(PgLargeMessages.availableKib()).isEqualTo(before);
    hold.release(); // safe to repeat
    assertThat(PgLargeMessages.availableKib()).isEqualTo(before);

    // small messages are not counted
    PgCodec.readMessage(new ByteArrayInputStream(frame('B', new byte[1000])), b -> 1 << 30, hold);
    assertThat(PgLargeMessages.availableKib()).isEqualTo(before);
  }

  @Test
  void aBodyLargerThanTheWholeBudgetEndsItsSessionWithOutOfMemory() {
    int max = (1 << 30) - 1; // PQ_LARGE_MESSAGE_LIMIT
    assumeThat((long) max >> 10)
        .as("this JVM's budget (a quarter of the heap) is smaller than 1 GiB")
        .isGreaterThan(PgLargeMessages.availableKib());
    PgLargeMessages.Hold hold = new PgLargeMessages.Hold();
    // only the header is sent: the budget is asked for before the body is read
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    header.write('B');
    header.writeBytes(new byte[] {0x3F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
    int before = PgLargeMessages.availableKib();
    assertThatThrownBy(
            () ->
                PgCodec.readMessage(new ByteArrayInputStream(header.toByteArray()), b -> max, hold))
        .isInstanceOf(PgLargeMessages.Overloaded.class)
        .hasMessageContaining("larger than the gateway holds in memory");
    assertThat(PgLargeMessages.availableKib()).isEqualTo(before);
  }

  private static byte[] frame(char type, byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(type);
    int len = body.length + 4;
    out.writeBytes(
        new byte[] {(byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
    out.writeBytes(body);
    return out.toByteArray();
  }
}
