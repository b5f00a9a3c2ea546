package dev.gatehouse.masking;

import static dev.gatehouse.masking.DetectionGapsTest.assertMasked;
import static dev.gatehouse.masking.DetectionGapsTest.assertNotMasked;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The false positives of the sixteenth session's blind check (issue #4): a corpus generated outside
 * the project, inserted into the demo's database and read through the gateway, masked nine
 * look-alikes of 1,200. Each is here with the real values next to it that must stay masked, on the
 * String and the UTF-8 byte paths.
 */
class BlindCheck16Test {
  @BeforeAll
  static void engine() {
    DetectionGapsTest.engine(); // the red team's engine and pii profile
  }

  @Test
  void aDigitRunInsideAHexDigestIsNotACard() {
    assertNotMasked(
        "e93aabcf9d98b7f5952891608736bc542333d455", // SHA-1: a Luhn-valid 13-digit run inside
        "ref sha256:7b5a71a3352e36425fc1e80c0512f69971883087d398f365237829760898ed24 ok",
        "commit E93AABCF9D98B7F5952891608736BC542333D455",
        "image@sha256:7b5a71a3352e36425fc1e80c0512f69971883087d398f365237829760898ed24");
    assertMasked(
        new String[][] {
          // A card glued to a word, or to a short hex-looking word, is still a card.
          {"card4111111111111111", "4111111111111111"},
          {"abc4111111111111111def", "4111111111111111"},
          {"deadbeef4111111111111111cafe", "4111111111111111"},
          // Mixed letter case: not a digest.
          {"e93aabcf9d98b7f5952891608736BC542333d455", "5952891608736"},
          // Part of a longer word with other letters: not a hex token standing alone.
          {"xe93aabcf9d98b7f5952891608736bc542333d455z", "5952891608736"},
          {"sha e93aabcf9d98b7f 5952891608736 bc542333d455", "5952891608736"},
          {"4111111111111111 e93aabcf9d98b7f5952891608736bc542333d455", "4111111111111111"}
        });
  }

  @Test
  void fourGroupsOfFourDigitsAreNotAPhoneNumber() {
    assertNotMasked(
        "0423-8508-0689-7870",
        "0076 3009 2317 5966",
        "ref 0829-8413-6320-2925 ok",
        "0335 0959 3432 5140",
        "0875.8550.1116.8119");
    assertMasked(
        new String[][] {
          {"0423-8508-0689", "8508-0689"}, // twelve digits, three groups: a national number
          {"020 7946 0958", "7946 0958"},
          {"+49 1511 2345 6789", "2345 6789"}, // a + number keeps its reading
          {"4111-1111-1111-1111", "4111-1111-1111"}, // a Luhn-valid card is still a card
          {"call 0171 2345678", "2345678"}
        });
  }

  @Test
  void anAtlassianApiTokenIsMaskedWhole() {
    String token =
        "ATATT3xFfGF0zIv0B7s2fvqR3NSlnZngz-bQSal09Nji5zNujy7IEazcwYWRgwY_-bQdpGl_gHysW0t_slAsEjfd"
            + "Kdu1oRg3tOJ3fBNiW1LtV7ZuZOztxjmYGpfLHtwS4cuaVsdLO-3ZhOCFkvlltY0jcJqy8WtvFSQq_JF8=v4g"
            + "m=MDsbv-kioTaJ_Uwfp8";
    assertMasked(
        new String[][] {
          {token, "MDsbv-kioTaJ_Uwfp8"},
          {"JIRA_API_TOKEN=" + token, "v4gm"},
          {"curl -u me@example.com:" + token + " https://x.atlassian.net", "Uwfp8"}
        });
    assertNotMasked("ATATT3 is the prefix of Atlassian API tokens", "see ATATT3xFfGF0 docs");
  }

  @Test
  void theDigestLookAroundIsBounded() {
    // Unbounded, the digest check scanned the whole hex run for every candidate: quadratic.
    String unit = "4111111111111111a";
    String big = unit.repeat(256 * 1024 / unit.length());
    java.util.List<Finding> found = DetectionGapsTest.pii.scanner.scan(big);
    // A run longer than a SHA-512 is not a digest, so the look-around stops after 128 characters
    // and the glued cards are read (unbounded, 1 of the 15,000 was): more than Scanner.MAX_FINDINGS
    // of them, so the value is masked whole.
    org.assertj.core.api.Assertions.assertThat(found)
        .containsExactly(new Finding(0, big.length(), Scanner.TOO_MANY, Integer.MAX_VALUE));
    assertNotMasked("x e93aabcf9d98b7f5952891608736bc542333d455 y");
    assertMasked(
        new String[][] {
          {"a".repeat(120) + "4111111111111111" + "b".repeat(10), "4111111111111111"}
        });
  }
}
