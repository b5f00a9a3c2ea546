package dev.gatehouse.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.cli.Cli;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParseResult;

/** The reviewer and access commands parse as documented in docs/approvals.md. */
class ReviewCommandsTest {
  @Command(name = "gatehouse")
  static final class Root {}

  static CommandLine root() {
    CommandLine root = new CommandLine(new Root());
    Cli.register(root);
    return root;
  }

  static List<String> path(ParseResult r) {
    return r.asCommandLineList().stream().map(CommandLine::getCommandName).toList();
  }

  @Test
  void reviewCommandsParseWithIdAndReason() {
    ParseResult r = root().parseArgs("reviews", "approve", "rv_abc", "--reason", "looks fine");
    assertThat(path(r)).containsExactly("gatehouse", "reviews", "approve");
    ParseResult leaf = r.subcommand().subcommand();
    assertThat(leaf.matchedPositionalValue(0, "")).isEqualTo("rv_abc");
    assertThat(leaf.matchedOptionValue("--reason", "")).isEqualTo("looks fine");
    assertThat(path(root().parseArgs("reviews", "list", "--state", "all", "-o", "json")))
        .containsExactly("gatehouse", "reviews", "list");
    assertThat(path(root().parseArgs("reviews", "deny", "rv_abc", "--reason", "no")))
        .endsWith("deny");
  }

  @Test
  void accessRequestNeedsRoleAndDuration() {
    ParseResult r =
        root()
            .parseArgs(
                "access", "request", "prod", "--role", "writer", "--for", "30m", "--reason", "x");
    assertThat(r.subcommand().subcommand().matchedOptionValue("--for", "")).isEqualTo("30m");
    assertThatThrownBy(() -> root().parseArgs("access", "request", "prod", "--for", "30m"))
        .isInstanceOf(CommandLine.MissingParameterException.class)
        .hasMessageContaining("--role");
  }

  @Test
  void durationsParseAsPeopleTypeThem() {
    assertThat(Durations.parse("30m")).hasMinutes(30);
    assertThat(Durations.parse("1h30m")).hasMinutes(90);
    assertThat(Durations.parse("PT2H")).hasHours(2);
    assertThat(Durations.format(Durations.parse("1h30m"))).isEqualTo("1h30m");
    assertThatThrownBy(() -> Durations.parse("30 minutes"))
        .hasMessage("duration: 30 minutes (expected e.g. 30m, 1h30m, 2h)");
  }
}
