package dev.gatehouse.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** POSIX shell-word splitting (XCU 2.3, 2.6.7) and when a line needs a shell. */
class CommandLineTest {
  static Stream<Arguments> lines() {
    return Stream.of(
        // line, argv, needs_shell
        Arguments.of("npm ci", List.of("npm", "ci"), false),
        Arguments.of("  npm   ci  ", List.of("npm", "ci"), false),
        Arguments.of("npm\tci", List.of("npm", "ci"), false),
        Arguments.of("", List.of(), false),
        Arguments.of("   ", List.of(), false),
        Arguments.of("echo 'a b'", List.of("echo", "a b"), false),
        Arguments.of("echo \"a b\"", List.of("echo", "a b"), false),
        Arguments.of("echo ''", List.of("echo", ""), false),
        Arguments.of("echo \"\" x", List.of("echo", "", "x"), false),
        Arguments.of("np'm' pub\"lish\"", List.of("npm", "publish"), false),
        Arguments.of("echo 'it'\\''s'", List.of("echo", "it's"), false),
        Arguments.of("echo a\\ b", List.of("echo", "a b"), false),
        Arguments.of("n\\pm", List.of("npm"), false),
        Arguments.of("echo 'a\\b'", List.of("echo", "a\\b"), false), // no escapes in '...'
        Arguments.of("echo \"a\\b\"", List.of("echo", "a\\b"), false), // \b is literal in "..."
        Arguments.of("echo \"a\\\"b\"", List.of("echo", "a\"b"), false),
        Arguments.of("echo \"a\\\\b\"", List.of("echo", "a\\b"), false),
        Arguments.of("npm pub\\\nlish", List.of("npm", "publish"), false), // line continuation
        Arguments.of("echo \"a\\\nb\"", List.of("echo", "ab"), false),
        Arguments.of("echo 'a\nb'", List.of("echo", "a\nb"), false),
        Arguments.of("echo '$HOME `x` *'", List.of("echo", "$HOME `x` *"), false),
        Arguments.of("echo '|;&<>()'", List.of("echo", "|;&<>()"), false),
        Arguments.of("kubectl get pods -o=jsonpath={.x}", null, true), // braces
        Arguments.of("git log HEAD~1", List.of("git", "log", "HEAD~1"), false),
        Arguments.of("mvn -Dx=a=b verify", List.of("mvn", "-Dx=a=b", "verify"), false),
        Arguments.of("echo a#b", List.of("echo", "a#b"), false), // # inside a word
        Arguments.of("echo #comment", null, true),
        Arguments.of("ls ~", null, true),
        Arguments.of("ls ~/x", null, true),
        Arguments.of("npm ci --prefix=~/x", null, true),
        Arguments.of("echo a:~/b", null, true),
        Arguments.of("echo '~'", List.of("echo", "~"), false),
        Arguments.of("npm test | tee x", null, true),
        Arguments.of("a; b", null, true),
        Arguments.of("a && b", null, true),
        Arguments.of("a || b", null, true),
        Arguments.of("a & b", null, true),
        Arguments.of("a > out", null, true),
        Arguments.of("a < in", null, true),
        Arguments.of("(a)", null, true),
        Arguments.of("echo $HOME", null, true),
        Arguments.of("echo \"$HOME\"", null, true),
        Arguments.of("echo \"`id`\"", null, true),
        Arguments.of("echo $(id)", null, true),
        Arguments.of("echo $'\\x41'", null, true), // ANSI-C quoting is not POSIX sh
        Arguments.of("ls *.log", null, true),
        Arguments.of("ls a?", null, true),
        Arguments.of("ls [ab]", null, true),
        Arguments.of("a\nb", null, true),
        Arguments.of("echo 'unterminated", null, true),
        Arguments.of("echo \"unterminated", null, true),
        Arguments.of("echo trailing\\", null, true),
        Arguments.of("A=1 npm ci", null, true), // an assignment: the shell runs npm with A set
        Arguments.of("_x9=1 npm ci", null, true),
        Arguments.of("'A=1' npm ci", List.of("A=1", "npm", "ci"), false), // quoted: a word
        Arguments.of("A\\=1 npm ci", List.of("A=1", "npm", "ci"), false),
        Arguments.of("9A=1 npm ci", List.of("9A=1", "npm", "ci"), false), // not a name
        Arguments.of("npm ci A=1", List.of("npm", "ci", "A=1"), false), // only leading words
        Arguments.of("! npm ci", null, true),
        Arguments.of("find . ! -name x", List.of("find", ".", "!", "-name", "x"), false),
        Arguments.of("npm ci\u0000", List.of("npm", "ci\u0000"), false), // kept; policy denies
        Arguments.of("npm\u00a0ci", List.of("npm\u00a0ci"), false)); // NBSP is not a blank
  }

  @ParameterizedTest
  @MethodSource("lines")
  void splitsLikeAPosixShell(String line, List<String> argv, boolean needsShell) {
    CommandLine c = CommandLine.parse(line);

    assertThat(c.needsShell()).as("needs_shell of %s", line).isEqualTo(needsShell);
    if (argv != null) {
      assertThat(c.argv()).isEqualTo(argv);
    }
  }

  static Stream<Arguments> simpleCommands() {
    return Stream.of(
        Arguments.of("npm ci", List.of(List.of("npm", "ci"))),
        Arguments.of(
            "echo ok && npm publish", List.of(List.of("echo", "ok"), List.of("npm", "publish"))),
        Arguments.of("a;b|c", List.of(List.of("a"), List.of("b"), List.of("c"))),
        Arguments.of("(a) & b", List.of(List.of("a"), List.of("b"))),
        Arguments.of("npm test > out.txt 2>&1", List.of(List.of("npm", "test"))),
        Arguments.of("> /dev/null npm publish", List.of(List.of("npm", "publish"))),
        Arguments.of(
            "echo $(npm publish) x",
            List.of(List.of("npm", "publish"), List.of("echo", "$(npm publish)", "x"))),
        Arguments.of(
            "echo \"`npm publish`\"",
            List.of(List.of("npm", "publish"), List.of("echo", "`npm publish`"))),
        Arguments.of("echo 'a; b'", List.of(List.of("echo", "a; b"))),
        Arguments.of("npm ci # && npm publish", List.of(List.of("npm", "ci"))),
        Arguments.of("a\nb", List.of(List.of("a"), List.of("b"))));
  }

  @ParameterizedTest
  @MethodSource("simpleCommands")
  void findsTheSimpleCommandsOfAShellLine(String line, List<List<String>> expected) {
    assertThat(CommandLine.commands(line)).isEqualTo(expected);
  }

  @Test
  void splitHonoursQuotesInSubstitutionsAndSaysWhenItStopped() {
    assertThat(CommandLine.commands("echo $(echo \")\"; npm publish)"))
        .contains(List.of("npm", "publish"));
    assertThat(CommandLine.commands("echo \"$(printf ')'; npm publish)\""))
        .contains(List.of("npm", "publish"));
    assertThat(CommandLine.commands("bash <<< 'npm publish'")).contains(List.of("npm", "publish"));
    assertThat(CommandLine.split("a; b").complete()).isTrue();
    assertThat(CommandLine.split("true;".repeat(300) + "npm publish").complete()).isFalse();
    assertThat(CommandLine.split("echo " + "$(".repeat(6) + "x" + ")".repeat(6)).complete())
        .isFalse();
    // bounded: deep nesting inside quotes neither overflows the stack nor passes as complete
    String deep = "echo \"" + "$(\"".repeat(20_000) + "x";
    assertThat(CommandLine.split(deep).complete()).isFalse();
  }

  /** Fifteenth red-team round: each command was not found before. */
  @Test
  void findsCommandsInCaseSubstitutionsNestedBackquotesAndAnsiCQuotes() {
    // a case pattern's ) does not end $( ) (XCU 2.9.4.3); nor does a quoted one
    assertThat(CommandLine.commands("echo $(case x in x) npm publish;; esac)"))
        .contains(List.of("npm", "publish"));
    assertThat(CommandLine.commands("echo $(case x in a|b) echo esac;; y) npm publish;; esac)"))
        .contains(List.of("npm", "publish"));
    assertThat(CommandLine.commands("echo \"$(case x in (x) npm publish;; esac)\" ok"))
        .contains(List.of("npm", "publish"));
    // the substitution still ends where the shell ends it: ls is a command of its own
    assertThat(CommandLine.commands("echo $(if a; then case b in b) c;; esac; fi); ls"))
        .contains(List.of("ls"));
    // inside backquotes \` is a backquote: a substitution inside the substitution (XCU 2.6.3)
    assertThat(CommandLine.commands("echo `echo \\`npm publish\\``"))
        .contains(List.of("npm", "publish"));
    // bash reads $'\'' as one quote character, older dash as $ and a quoted backslash: both ways
    assertThat(CommandLine.commands("echo $'\\''; npm publish"))
        .contains(List.of("npm", "publish"));
    assertThat(CommandLine.commands("echo $'a\\'\nnpm publish\necho '"))
        .contains(List.of("npm", "publish"));
    // a here-document's body is data: its quote opens nothing, the line after its end runs
    assertThat(CommandLine.commands("cat <<EOF\nit's\nEOF\nnpm publish\necho '"))
        .contains(List.of("npm", "publish"));
    assertThat(
            CommandLine.commands("cat <<-\"E\" <<F; ls\n\tit's\n\tE\n\"\nF\nnpm publish\necho '"))
        .contains(List.of("npm", "publish"), List.of("ls"));
    // an unquoted delimiter's body is expanded: its substitutions run
    assertThat(CommandLine.commands("cat <<EOF\n'$(npm publish)\nEOF"))
        .contains(List.of("npm", "publish"));
    // << is also arithmetic's shift: the line is read without here-documents too
    assertThat(CommandLine.commands("((x=1<<2))\nnpm publish\n2"))
        .contains(List.of("npm", "publish"));
  }

  @Test
  void rejectsOverlongLines() {
    assertThatThrownBy(() -> CommandLine.parse("x".repeat(CommandLine.MAX_LENGTH + 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most");
  }

  @Test
  void actionCarriesArgvBinaryEnvAndCwd() {
    Action a =
        CommandLine.parse("npm ci")
            .toAction("/usr/bin/npm", java.util.Map.of("CI", "1"), "/builds/x");

    assertThat(a.kind()).isEqualTo(ActionKind.COMMAND);
    assertThat(a.list(Action.Attr.CMD_ARGV)).containsExactly("npm", "ci");
    assertThat(a.string(Action.Attr.CMD_BINARY)).isEqualTo("/usr/bin/npm");
    assertThat(a.list(Action.Attr.CMD_ENV)).containsExactly("CI");
    assertThat(a.string(Action.Attr.CMD_CWD)).isEqualTo("/builds/x");
    assertThat(a.flag(Action.Attr.CMD_NEEDS_SHELL)).isFalse();
  }

  @Test
  void unsafeArgvIsNamedPrecisely() {
    assertThat(ArgvSafety.problem(List.of("npm", "\u0440ublish"), null))
        .contains("only looks like \"publish\"")
        .contains("U+0440 CYRILLIC SMALL LETTER ER");
    assertThat(ArgvSafety.problem(List.of("npm", "c\u200bi"), null)).contains("U+200B");
    assertThat(ArgvSafety.problem(List.of("npm", "ci"), "/usr/bin/npm")).isNull();
    assertThat(ArgvSafety.problem(List.of("git", "commit", "-m", "line 1\nline 2"), null)).isNull();
    assertThat(ArgvSafety.problem(List.of("grep", "Москва", "über", "日本語"), null)).isNull();
    assertThat(ArgvSafety.problem(List.of(), null)).contains("empty");
    assertThat(ArgvSafety.problem(List.of("npm\n", "ci"), null)).contains("control");
  }

  @org.junit.jupiter.api.Test
  void quoteIsTheInverseOfParse() {
    List<List<String>> cases =
        List.of(
            List.of("echo", "a;", "id"),
            List.of("A=b", "x=y", "--opt=v"),
            List.of("printf", "it's", "", " ", "~root", "$HOME", "a\\b", "*", "new\nline"),
            List.of("grep", "-e", "x|y", "/var/log/app.log"));
    for (List<String> argv : cases) {
      CommandLine back = CommandLine.parse(CommandLine.quote(argv));
      assertThat(back.argv()).as(CommandLine.quote(argv)).isEqualTo(argv);
      assertThat(back.needsShell()).as(CommandLine.quote(argv)).isFalse();
    }
    assertThat(CommandLine.quote(List.of("A=b", "c=d"))).isEqualTo("'A=b' c=d");
  }

  /**
   * Red team round 4: the SSH target runs the quoted line with the account's login shell, which may
   * be fish, where {@code \'} inside single quotes is a quote. A word with a backslash before a
   * quote was three words to fish ({@code /etc/shadow} one of them) and one to POSIX shells, so a
   * rule allowing paths under /var/log let fish read /etc/shadow. The line must split alike.
   */
  @Test
  void quotedWordsSplitAlikeForPosixShellsAndFish() {
    List<List<String>> cases =
        List.of(
            List.of("cat", "/var/log/a\\' /etc/shadow \\'"),
            List.of("cat", "/var/log/a\\"),
            List.of("printf", "\\\\'x'\\", "it's", "a\\b c"),
            List.of("cat", "=ls"));
    for (List<String> argv : cases) {
      String line = CommandLine.quote(argv);
      assertThat(CommandLine.parse(line).argv()).as(line).isEqualTo(argv);
      assertThat(fishWords(line)).as(line).isEqualTo(argv);
    }
    assertThat(CommandLine.quote(List.of("cat", "=ls"))).isEqualTo("cat '=ls'");
  }

  /**
   * fish's reading of a line of quoted words and blanks (fishshell.com/docs/current/language.html,
   * Quotes and Escaping): inside single quotes only {@code \'} and {@code \\} are escapes; outside,
   * a backslash escapes the next character; a blank ends a word. An unterminated quote is an error.
   */
  private static List<String> fishWords(String line) {
    List<String> words = new java.util.ArrayList<>();
    StringBuilder w = new StringBuilder();
    boolean inWord = false;
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '\\'
            && i + 1 < line.length()
            && (line.charAt(i + 1) == '\'' || line.charAt(i + 1) == '\\')) {
          w.append(line.charAt(++i));
        } else if (c == '\'') {
          quoted = false;
        } else {
          w.append(c);
        }
      } else if (c == ' ') {
        if (inWord) {
          words.add(w.toString());
          w.setLength(0);
          inWord = false;
        }
      } else {
        inWord = true;
        if (c == '\'') {
          quoted = true;
        } else if (c == '\\' && i + 1 < line.length()) {
          w.append(line.charAt(++i));
        } else {
          w.append(c);
        }
      }
    }
    if (quoted) {
      throw new IllegalArgumentException("unterminated quote: " + line);
    }
    if (inWord) {
      words.add(w.toString());
    }
    return words;
  }
}
