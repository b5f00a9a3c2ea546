package dev.gatehouse.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DisplayTextTest {

  @Test
  void plainTextIsReturnedAsItIs() {
    String s = "SELECT 'café', E'\\n' FROM t -- ok";
    assertThat(DisplayText.oneLine(s)).isSameAs(s);
    assertThat(DisplayText.oneLine(null)).isEmpty();
  }

  @Test
  void terminalControlsAreMadeVisible() {
    assertThat(DisplayText.oneLine("a\rb\u001b[2Kc\u0007d\u007fe\u009bf\u0000g\th\ni"))
        .isEqualTo("a\\rb\\u001B[2Kc\\u0007d\\u007Fe\\u009Bf\\u0000g\\th\\ni");
  }

  @Test
  void bidiAndInvisibleFormatCharactersAreMadeVisible() {
    assertThat(
            DisplayText.oneLine(
                "\u202aa\u202bb\u202cc\u202dd\u202ee\u2066f\u2067g\u2068h\u2069i\u200ej\u200bk"
                    + "\ufeffl\u2028m\u2029n\u00ado\udb40\udc41p\ud800q"))
        .isEqualTo(
            "\\u202Aa\\u202Bb\\u202Cc\\u202Dd\\u202Ee\\u2066f\\u2067g\\u2068h\\u2069i\\u200Ej"
                + "\\u200Bk\\uFEFFl\\u2028m\\u2029n\\u00ADo\\u{E0041}p\\uD800q");
  }

  @Test
  void linesKeepLineBreaksAndIndentTheContinuation() {
    assertThat(DisplayText.lines("UPDATE t\n\tSET a = 1\r\nstate: approved\u001b[1A", "    "))
        .isEqualTo("UPDATE t\n    \tSET a = 1\\r\n    state: approved\\u001B[1A");
  }
}
