package dev.gatehouse.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GlobTest {
  @Test
  void exactAndPrefixGlobs() {
    Glob exact = Glob.compile("payments-db", false, false);
    Glob prefix = Glob.compile("payments-*", false, false);

    assertThat(exact.isLiteral()).isTrue();
    assertThat(exact.matches("payments-db")).isTrue();
    assertThat(exact.matches("payments-db2")).isFalse();
    assertThat(prefix.matches("payments-eu")).isTrue();
    assertThat(prefix.matches("payments")).isFalse();
    assertThat(Glob.compile("*", false, false).matches("")).isTrue();
  }

  @Test
  void pathModeStarStaysInOneSegment() {
    Glob one = Glob.compile("/api/*/items", true, false);
    Glob any = Glob.compile("/var/log/**", true, false);

    assertThat(one.matches("/api/v1/items")).isTrue();
    assertThat(one.matches("/api/v1/x/items")).isFalse();
    assertThat(any.matches("/var/log/a/b/c")).isTrue();
    assertThat(Glob.compile("/var/log/*", true, false).matches("/var/log/a/b")).isFalse();
  }

  @Test
  void classesQuestionMarksEscapesAndCase() {
    assertThat(Glob.compile("db-[0-9]", false, false).matches("db-7")).isTrue();
    assertThat(Glob.compile("db-[!0-9]", false, false).matches("db-7")).isFalse();
    assertThat(Glob.compile("db-?", false, false).matches("db-x")).isTrue();
    assertThat(Glob.compile("a\\*b", false, false).matches("a*b")).isTrue();
    assertThat(Glob.compile("a\\*b", false, false).matches("axb")).isFalse();
    assertThat(Glob.compile("Public.*", false, true).matches("PUBLIC.Users")).isTrue();
    assertThat(Glob.compile("a.b", false, false).matches("axb")).isFalse();
  }

  @Test
  void invalidGlobsSayWhatIsWrong() {
    assertThatThrownBy(() -> Glob.compile("db-[0-9", false, false))
        .hasMessageContaining("db-[0-9 has an unclosed [");
    assertThatThrownBy(() -> Glob.compile("db\\", false, false)).hasMessageContaining("lone \\");
    assertThatThrownBy(() -> Glob.compile("", false, false)).hasMessageContaining("empty");
  }
}
