package dev.gatehouse.policy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A command line split into argv with POSIX shell-word rules (XCU 2.3 Token Recognition, 2.6.7
 * Quote Removal), and whether it needs a shell to mean what it says.
 *
 * <p>Exec requests never run through a shell by default: the gateway runs argv directly. A line
 * whose meaning depends on a shell (pipes, lists, redirection, substitution, globbing, variable
 * expansion, an unterminated quote) is marked {@code needs_shell}, and a rule must allow {@code
 * shell} for it to run (then it is run as {@code /bin/sh -c LINE}).
 *
 * <p>Used by SSH exec requests (which carry one string) and by {@code gatehouse policy check}.
 */
public record CommandLine(String raw, List<String> argv, boolean needsShell) {
  /** Longest command line accepted (Linux ARG_MAX is 2 MiB; SSH exec strings are far shorter). */
  public static final int MAX_LENGTH = 128 * 1024;

  public CommandLine {
    argv = List.copyOf(argv);
  }

  /** Splits {@code line}; never throws for content, only for a line over {@link #MAX_LENGTH}. */
  public static CommandLine parse(String line) {
    if (line.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "command line of " + line.length() + " characters (at most " + MAX_LENGTH + ")");
    }
    List<String> argv = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean inWord = false;
    boolean needsShell = false;
    char quote = 0;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quote == '\'') {
        if (c == '\'') {
          quote = 0;
        } else {
          cur.append(c);
        }
      } else if (quote == '"') {
        if (c == '"') {
          quote = 0;
        } else if (c == '\\'
            && i + 1 < line.length()
            && "$`\"\\\n".indexOf(line.charAt(i + 1)) >= 0) {
          char next = line.charAt(++i);
          if (next != '\n') {
            cur.append(next);
          }
        } else {
          if (c == '$' || c == '`') {
            needsShell = true; // expansion inside double quotes
          }
          cur.append(c);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
        inWord = true;
      } else if (c == '\\') {
        if (i + 1 < line.length()) {
          char next = line.charAt(++i);
          if (next != '\n') { // backslash-newline is a line continuation
            cur.append(next);
            inWord = true;
          }
        } else {
          needsShell = true;
        }
      } else if (c == ' ' || c == '\t') {
        if (inWord) {
          argv.add(cur.toString());
          cur.setLength(0);
          inWord = false;
        }
      } else {
        if ("|&;<>()$`*?[]{}~\n#=".indexOf(c) >= 0 && needsShellAt(c, cur, inWord)) {
          needsShell = true;
        }
        cur.append(c);
        inWord = true;
      }
    }
    if (inWord) {
      argv.add(cur.toString());
    }
    if (quote != 0) {
      needsShell = true;
    }
    return new CommandLine(line, argv, needsShell);
  }

  /**
   * Whether an unquoted special character changes the meaning. {@code #} only starts a comment at
   * the start of a word; {@code =} only matters in a leading {@code NAME=value} assignment, which a
   * shell would treat as an environment variable, not a command.
   */
  private static boolean needsShellAt(char c, StringBuilder cur, boolean inWord) {
    return switch (c) {
      case '#' -> !inWord;
      case '=' -> false;
      default -> true;
    };
  }

  /** The policy action for this line, with the binary as typed (argv[0]). */
  public Action toAction() {
    return toAction(argv.isEmpty() ? "" : argv.get(0), Map.of(), null);
  }

  /**
   * The policy action for this line.
   *
   * @param binary the resolved binary (absolute path) or argv[0]
   * @param env names and values of the variables the caller sets
   * @param cwd the working directory asked for, or null
   */
  public Action toAction(String binary, Map<String, String> env, String cwd) {
    Map<String, Object> attrs = new HashMap<>();
    attrs.put(Action.Attr.CMD_ARGV, argv);
    attrs.put(Action.Attr.CMD_BINARY, binary);
    attrs.put(Action.Attr.CMD_NEEDS_SHELL, needsShell);
    if (!env.isEmpty()) {
      attrs.put(Action.Attr.CMD_ENV, List.copyOf(env.keySet()));
    }
    if (cwd != null) {
      attrs.put(Action.Attr.CMD_CWD, cwd);
    }
    return new Action(ActionKind.COMMAND, raw, attrs);
  }
}
