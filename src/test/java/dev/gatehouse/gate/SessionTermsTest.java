package dev.gatehouse.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.Obligations;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What {@link GateSession#termsChanged} reports as a change of a live session's terms. */
class SessionTermsTest {
  static final Obligations BASE =
      new Obligations("none", false, 0, Duration.ofHours(8), "full", "writer");

  @Test
  void theSameTermsAreNoChange() {
    assertThat(
            GateSession.termsChanged(
                BASE, new Obligations("none", false, 0, Duration.ofHours(8), "full", "writer")))
        .isNull();
  }

  @Test
  void eachChangedObligationIsNamedWithItsNewAndOldValue() {
    assertThat(
            GateSession.termsChanged(
                BASE, new Obligations("pii", true, 100, Duration.ofHours(1), "metadata", null)))
        .isEqualTo(
            "masking pii, was none, read_only true, was false, upstream_role none, was writer,"
                + " max_rows 100, was 0, max_session_duration PT1H, was PT8H,"
                + " recording metadata, was full");
    assertThat(
            GateSession.termsChanged(
                BASE, new Obligations("none", false, 0, Duration.ofHours(8), "full", "reader")))
        .isEqualTo("upstream_role reader, was writer");
  }
}
