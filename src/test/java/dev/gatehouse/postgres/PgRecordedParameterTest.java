package dev.gatehouse.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.MaskingConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.masking.MaskingEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * How much of a long Bind parameter is masked for its 1 Ki record (PgSession.recordedText), with
 * the real masking engine; end to end:
 * PgClientTourTest.longBindParametersAreMaskedBeforeTheyAreCut.
 */
class PgRecordedParameterTest {
  static final MaskingEngine ENGINE =
      MaskingEngine.create(new MaskingConfig(List.of(), new Secret("k", "test"), 0));

  /** The real stored-text masking, noting the length of every text it was given. */
  static final class Counting implements UnaryOperator<String> {
    final List<Integer> lengths = new ArrayList<>();

    @Override
    public String apply(String text) {
      lengths.add(text.length());
      return ENGINE.redactStored("pii", text);
    }
  }

  static String recorded(String text, Counting mask) {
    return PgSession.recordedText(text, true, text.length(), mask);
  }

  @Test
  void aLongParameterIsMaskedInAWindowAroundTheCutNotWhole() {
    int cut = PgSession.MAX_RECORDED_PARAM;
    // a card number and a URL password across the cut, in a 16 Ki parameter
    String card = "x".repeat(cut - 8) + " 4526018159083012 " + "y".repeat(15 * 1024);
    String url =
        "x".repeat(cut - 20) + " postgresql://app:S3cr3tPassw0rdLong@db/x " + "y".repeat(15 * 1024);
    for (String text : List.of(card, url)) {
      Counting mask = new Counting();
      String r = recorded(text, mask);
      assertThat(mask.lengths).containsExactly(PgSession.MASKED_PARAM);
      assertThat(PgSession.MASKED_PARAM).isLessThan(text.length() / 2);
      assertThat(r)
          .startsWith("xxxx")
          .endsWith("… (" + text.length() + " bytes)")
          .doesNotContain("S3cr3t", "45260181", "4526 ", "8159083012", "83012");
      assertThat(r.length()).isLessThanOrEqualTo(cut + 20);
    }
    // a short one is masked whole, as it is
    Counting mask = new Counting();
    assertThat(recorded("card 4526018159083012", mask)).doesNotContain("45260181");
    assertThat(mask.lengths).containsExactly("card 4526018159083012".length());
  }

  @Test
  void masksThatShrinkTheWindowMaskAWiderOne() {
    StringBuilder key = new StringBuilder("-----BEGIN RSA PRIVATE KEY-----\n");
    for (int i = 0; i < 90; i++) {
      key.append("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0g")
          .append(i % 10)
          .append('\n');
    }
    key.append("-----END RSA PRIVATE KEY-----\n");
    String text = key + "z".repeat(20 * 1024);
    Counting mask = new Counting();
    String r = recorded(text, mask);
    assertThat(mask.lengths).containsExactly(PgSession.MASKED_PARAM, PgSession.MASKED_PARAM_WIDE);
    assertThat(r).doesNotContain("MIIEowIBAAKCAQEA").contains("zzzz");
    assertThat(r.length()).isGreaterThan(PgSession.MAX_RECORDED_PARAM);
  }
}
