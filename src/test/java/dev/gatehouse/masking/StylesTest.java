package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StylesTest {
  static final Keyed KEY = Keyed.of("test-key");

  @Test
  void partialCardKeepsLastFourAndSeparators() {
    Style s = new Style.Partial(4);
    assertThat(s.apply("4532-0151-1283-0366", "card")).isEqualTo("****-****-****-0366");
    assertThat(s.apply("4532 0151 1283 0366", "card")).isEqualTo("**** **** **** 0366");
    assertThat(s.apply("4532015112830366", "card")).isEqualTo("************0366");
  }

  @Test
  void partialEmailKeepsFirstCharacterAndDomain() {
    assertThat(new Style.Partial(-1).apply("john.doe@example.com", "email"))
        .isEqualTo("j****@example.com");
    // A one-character local part would be shown whole by keeping the first character.
    assertThat(new Style.Partial(-1).apply("a@example.com", "email"))
        .isEqualTo("*****@example.com");
    assertThat(new Style.Partial(-1).apply("ab@example.com", "email"))
        .isEqualTo("a****@example.com");
  }

  @Test
  void partialUrlEncodedEmailKeepsFirstCharacterAndDomain() {
    assertThat(new Style.Partial(-1).apply("carol%40example.net", "email"))
        .isEqualTo("c****%40example.net");
  }

  @Test
  void partialEmailShapeIsRecognisedInAColumnWithAnotherName() {
    assertThat(new Style.Partial(-1).apply("mary@example.org", "contact"))
        .isEqualTo("m****@example.org");
  }

  @Test
  void partialPhoneKeepsTheLastDigitsOnly() {
    assertThat(new Style.Partial(2).apply("+1 415 555 0100", "phone")).isEqualTo("+* *** *** **00");
    assertThat(new Style.Partial(4).apply("(415) 555-0100", "phone")).isEqualTo("(***) ***-0100");
  }

  @Test
  void partialIbanKeepsCountryAndLastFour() {
    assertThat(new Style.Partial(4).apply("DE89 3704 0044 0532 0130 00", "iban"))
        .isEqualTo("DE** **** **** **** **30 00");
  }

  @Test
  void partialNeverRevealsMoreThanHalfOfAShortValue() {
    assertThat(new Style.Partial(4).apply("ab12", "code")).isEqualTo("**12");
  }

  @Test
  void redactionTextIsConfigurable() {
    assertThat(new Style.Redact(null).apply("x", "ssn")).isEqualTo("[REDACTED:ssn]");
    assertThat(new Style.Redact("****").apply("x", "ssn")).isEqualTo("****");
  }

  @Test
  void hashIsDeterministicPrefixedAndTruncated() {
    Style h = new Style.Hash(KEY, 16);
    String a = h.apply("jane@example.com", "email");
    assertThat(a).startsWith("h:").hasSize(18).isEqualTo(h.apply("jane@example.com", "other"));
    assertThat(h.apply("jane@example.org", "email")).isNotEqualTo(a);
  }

  @Test
  void hashDependsOnTheKey() {
    String a = new Style.Hash(KEY, 16).apply("jane@example.com", "email");
    String b = new Style.Hash(Keyed.of("other-key"), 16).apply("jane@example.com", "email");
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void formatPreservingKeepsLengthShapeAndSeparators() {
    Style f = new Style.Fpe(KEY);
    String in = "4532-0151-1283-0366 Ab.c";
    String out = f.apply(in, "card");
    assertThat(out).hasSameSizeAs(in).isNotEqualTo(in).isEqualTo(f.apply(in, "card"));
    for (int i = 0; i < in.length(); i++) {
      char a = in.charAt(i);
      char b = out.charAt(i);
      if (Character.isDigit(a)) {
        assertThat(Character.isDigit(b)).isTrue();
      } else if (Character.isUpperCase(a)) {
        assertThat(Character.isUpperCase(b)).isTrue();
      } else if (Character.isLowerCase(a)) {
        assertThat(Character.isLowerCase(b)).isTrue();
      } else {
        assertThat(b).isEqualTo(a);
      }
    }
  }

  @Test
  void formatPreservingHandlesValuesLongerThanOneMacBlock() {
    String in = "1234567890".repeat(10);
    String out = new Style.Fpe(KEY).apply(in, "x");
    assertThat(out).hasSize(100).containsOnlyDigits().isNotEqualTo(in);
  }

  @Test
  void formatPreservingDependsOnTheKey() {
    assertThat(new Style.Fpe(KEY).apply("4532015112830366", "card"))
        .isNotEqualTo(new Style.Fpe(Keyed.of("k2")).apply("4532015112830366", "card"));
  }

  @Test
  void nullStyleIsNullForColumnsAndRedactionInText() {
    Style n = new Style.Null(new Style.Redact(null));
    assertThat(n.isNull()).isTrue();
    assertThat(n.apply("secret", "ssn")).isEqualTo("[REDACTED:ssn]");
  }
}
