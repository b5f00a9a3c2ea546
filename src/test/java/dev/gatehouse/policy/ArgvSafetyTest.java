package dev.gatehouse.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Code points that render as nothing but are not category Cf (Hangul fillers, the braille blank,
 * the combining grapheme joiner, variation selectors that select nothing) make a word differ from
 * what it shows; a variation selector right after an emoji or an ideograph is text.
 */
class ArgvSafetyTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "c\u3164i", // HANGUL FILLER
        "c\uFFA0i", // HALFWIDTH HANGUL FILLER
        "c\u115Fi", // HANGUL CHOSEONG FILLER
        "c\u1160i", // HANGUL JUNGSEONG FILLER
        "c\u2800i", // BRAILLE PATTERN BLANK
        "c\u034Fi", // COMBINING GRAPHEME JOINER
        "c\u17B4i", // KHMER VOWEL INHERENT AQ
        "ci\uFE0F", // VS16 after an ASCII letter
        "c\uFE00i", // VS1
        "\uFE0Fci", // VS16 at the start
        "ci\uDB40\uDD00", // VS17 U+E0100
        "1\uFE0F", // after a digit (a keycap's base is ASCII: refused)
        "\u2764\uFE0F\uFE0F", // a second selector selects nothing
        "pub\u180Blish", // MONGOLIAN FREE VARIATION SELECTOR ONE after a Latin letter
      })
  void invisibleCodePointsAreUnsafe(String word) {
    String why = ArgvSafety.problem(List.of("npm", word), null);
    assertThat(why).as(word).isNotNull().startsWith("argument 1 ").contains("invisible");
    int cp = word.codePoints().filter(c -> c >= 0x80).reduce((a, b) -> b).getAsInt();
    assertThat(why).contains(String.format("U+%04X", cp));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "fix \u2764\uFE0F tests", // ❤️ HEAVY BLACK HEART + VS16
        "\u2714\uFE0F done", // ✔️
        "\u263A\uFE0E", // ☺ + VS15 (text presentation)
        "\uD83D\uDC4D\uFE0F", // 👍 + VS16
        "\u845B\uDB40\uDD00", // 葛 + VS17 (an Ideographic Variation Sequence)
        "\u8279\uFE00", // 艹 + VS1 (CJK)
        "\u1820\u180B", // MONGOLIAN LETTER A + FVS1
        "über Москва 日本語",
      })
  void textWithSelectorsIsSafe(String message) {
    assertThat(ArgvSafety.problem(List.of("git", "commit", "-m", message), null))
        .as(message)
        .isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"\u3164", "n\u2800pm", "npm\uFE0F"})
  void theBinaryToo(String binary) {
    assertThat(ArgvSafety.problem(List.of(binary, "ci"), null)).startsWith("argv[0] ");
  }
}
