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
 * expansion, tilde expansion, comments, a leading {@code NAME=value} assignment, an unterminated
 * quote) is marked {@code needs_shell}, and a rule must allow {@code shell} for it to run (then it
 * is run as {@code /bin/sh -c LINE}).
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
    int quotedFrom = -1; // length of the current word when its first quote or escape began
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
        quotedFrom = quotedFrom < 0 ? cur.length() : quotedFrom;
      } else if (c == '\\') {
        quotedFrom = quotedFrom < 0 ? cur.length() : quotedFrom;
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
          needsShell |= argv.isEmpty() && assignment(cur, quotedFrom);
          argv.add(cur.toString());
          cur.setLength(0);
          inWord = false;
          quotedFrom = -1;
        }
      } else {
        if ("|&;<>()$`*?[]{}~\n#!".indexOf(c) >= 0 && needsShellAt(c, cur, inWord, argv)) {
          needsShell = true;
        }
        cur.append(c);
        inWord = true;
      }
    }
    if (inWord) {
      needsShell |= argv.isEmpty() && assignment(cur, quotedFrom);
      argv.add(cur.toString());
    }
    if (quote != 0) {
      needsShell = true;
    }
    return new CommandLine(line, argv, needsShell);
  }

  /**
   * Whether an unquoted special character changes the meaning. {@code #} only starts a comment at
   * the start of a word, {@code !} only negates at the start of the command, {@code ~} expands at
   * the start of a word or after {@code =} or {@code :}. (A leading {@code NAME=value} assignment
   * is checked when its word ends, see {@link #assignment}.)
   */
  private static boolean needsShellAt(
      char c, StringBuilder cur, boolean inWord, List<String> argv) {
    return switch (c) {
      case '#' -> !inWord; // a comment starts at the start of a word
      case '!' -> !inWord && argv.isEmpty(); // a reserved word only where a command starts
      // tilde expansion: at the start of a word, and after = or : (bash expands --dir=~/x)
      case '~' -> !inWord || cur.isEmpty() || "=:".indexOf(cur.charAt(cur.length() - 1)) >= 0;
      default -> true;
    };
  }

  /**
   * Whether the first word is an unquoted {@code NAME=value} assignment: a shell would set an
   * environment variable and run the next word, so the line needs a shell.
   */
  /**
   * Whether {@code word} is a shell variable assignment, {@code NAME=value}, or bash's {@code
   * NAME+=value} (bash(1) PARAMETERS: "the += operator can be used to append"; {@code X+=1 npm
   * publish} runs npm publish in bash).
   */
  static boolean isAssignment(String word) {
    return assignedName(word) != null;
  }

  /** The name {@link #isAssignment} assigns, or null when {@code word} is not an assignment. */
  static String assignedName(String word) {
    int eq = word.indexOf('=');
    if (eq <= 0) {
      return null;
    }
    String name = word.substring(0, word.charAt(eq - 1) == '+' ? eq - 1 : eq);
    return !name.isEmpty() && isName(name) ? name : null;
  }

  private static boolean assignment(CharSequence word, int quotedFrom) {
    int eq = -1;
    for (int i = 0; i < word.length(); i++) {
      if (word.charAt(i) == '=') {
        eq = i;
        break;
      }
    }
    if (eq <= 0 || (quotedFrom >= 0 && quotedFrom <= eq)) {
      return false;
    }
    return isName(word.subSequence(0, eq));
  }

  /** A POSIX name: a letter or underscore, then letters, digits and underscores. */
  static boolean isName(CharSequence s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || c == '_'
              || (i > 0 && c >= '0' && c <= '9');
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /**
   * The simple commands a shell would run for {@code line}, approximately: words split at unquoted
   * {@code ; & | ( )}, newlines and backquotes, command substitutions {@code $(...)} and {@code
   * `...`} (also inside double quotes) added as commands of their own, redirections and their
   * targets dropped (a target that looks like a command line, such as the text of a here-string
   * {@code bash <<< 'npm publish'}, is read as one too), comments skipped. Used by deny rules,
   * which must see {@code npm publish} in {@code echo ok && npm publish}; an approximation that
   * errs on the side of finding more commands, never fewer, for ordinary lines. Past {@link
   * #MAX_DEPTH} nested substitutions or {@link #MAX_COMMANDS} commands the rest is not read: use
   * {@link #split} to learn whether the list is whole.
   */
  public static List<List<String>> commands(String line) {
    return split(line).commands();
  }

  /** Substitutions nested deeper than this are not read (the split is then incomplete). */
  static final int MAX_DEPTH = 4;

  /** At most this many simple commands are collected (the split is then incomplete). */
  static final int MAX_COMMANDS = 256;

  /**
   * The simple commands of a shell line, and whether that list is whole. A deny rule must assume
   * the worst about a line that was not read whole: padding with 300 harmless commands or six
   * nested {@code $( )} must not hide {@code npm publish}.
   */
  public record Split(List<List<String>> commands, boolean complete) {}

  /** {@link #commands}, with whether every command of the line was read. */
  public static Split split(String line) {
    List<List<String>> out = new ArrayList<>();
    boolean[] cut = new boolean[1];
    // bash, ksh, zsh, busybox ash and dash 0.5.13 read $'...' as ANSI-C quoting, where \' is a
    // quote inside the string (bash(1) QUOTING), so in bash `echo $'\''; npm publish` runs npm;
    // older dash reads $ then a plain quoted '\'. Which shell /bin/sh is cannot be known here. A
    // here-document's body is data, where a quote opens nothing (cat <<EOF, it's, EOF, then npm
    // publish runs), but << is also arithmetic's shift ((( x = 1<<2 ))). The line is read each way
    // (more commands, never fewer); each reading is linear.
    int modes = (line.contains("$'") ? ANSI_C : 0) | (line.contains("<<") ? HEREDOCS : 0);
    for (int mode = 0; mode <= modes; mode++) {
      if ((mode & ~modes) == 0) {
        commands(line, out, 0, cut, mode);
      }
    }
    return new Split(out, !cut[0]);
  }

  /** A reading of {@link #commands}: bash's ANSI-C quotes. */
  private static final int ANSI_C = 1;

  /** A reading of {@link #commands}: {@code <<} starts a here-document. */
  private static final int HEREDOCS = 2;

  /** Here-documents whose bodies start after the next newline (XCU 2.7.4). */
  private static final class Heredocs {
    /**
     * 0, or the kind of here-document whose delimiter is the next word: 1 {@code <<}, 2 {@code
     * <<-}.
     */
    int next;

    /** Whether the word being read has a quote or backslash (the body is then not expanded). */
    boolean quoted;

    /** Delimiter, quoted, strip tabs. */
    final List<Object[]> pending = new ArrayList<>();

    /** After a word ended: if it was a delimiter (it went to {@code dropped}), remember it. */
    void wordEnded(List<String> dropped, int before) {
      if (next != 0 && dropped.size() > before) {
        pending.add(new Object[] {dropped.get(dropped.size() - 1), quoted, next == 2});
        next = 0;
      }
      quoted = false;
    }
  }

  /**
   * Skips the bodies of the pending here-documents starting at {@code pos} (after a newline),
   * reading the command substitutions of those whose delimiter is unquoted (XCU 2.7.4: their body
   * is expanded, quotes are not special), and returns the index after the last delimiter line (the
   * line's length when a delimiter is missing: bash reads to the end).
   */
  private static int heredocBodies(
      String line,
      int pos,
      Heredocs hd,
      List<List<String>> out,
      int depth,
      boolean[] cut,
      int mode) {
    int n = line.length();
    for (Object[] h : hd.pending) {
      String delimiter = (String) h[0];
      while (pos < n) {
        int e = line.indexOf('\n', pos);
        if (e < 0) {
          e = n;
        }
        int from = pos;
        if ((Boolean) h[2]) {
          while (from < e && line.charAt(from) == '\t') {
            from++;
          }
        }
        boolean end =
            line.regionMatches(from, delimiter, 0, delimiter.length())
                && from + delimiter.length() == e;
        if (!end && !(Boolean) h[1]) {
          for (int k = pos; k < e; k++) {
            char c = line.charAt(k);
            if (c == '\\') {
              k++;
            } else if (c == '`' || (c == '$' && k + 1 < n && line.charAt(k + 1) == '(')) {
              k = substitution(line, k, out, depth, cut, mode);
            }
          }
        }
        pos = Math.min(n, e + 1);
        if (end) {
          break;
        }
      }
    }
    hd.pending.clear();
    return pos;
  }

  private static void commands(
      String line, List<List<String>> out, int depth, boolean[] cut, int mode) {
    if (depth > MAX_DEPTH || out.size() >= MAX_COMMANDS) {
      cut[0] = true;
      return;
    }
    List<String> words = new ArrayList<>();
    List<String> dropped = new ArrayList<>(); // redirection targets
    StringBuilder cur = new StringBuilder();
    boolean inWord = false;
    boolean dropNext = false;
    char quote = 0;
    Heredocs hd = new Heredocs();
    int n = line.length();
    for (int i = 0; i < n; i++) {
      char c = line.charAt(i);
      int before = dropped.size();
      if (quote == '\'') {
        if (c == '\'') {
          quote = 0;
        } else {
          cur.append(c);
        }
        continue;
      }
      if (quote == '"') {
        if (c == '"') {
          quote = 0;
        } else if (c == '\\' && i + 1 < n) {
          cur.append(line.charAt(++i));
        } else if (c == '`' || (c == '$' && i + 1 < n && line.charAt(i + 1) == '(')) {
          int end = substitution(line, i, out, depth, cut, mode);
          cur.append(line, i, Math.min(n, end + 1));
          i = end;
        } else {
          cur.append(c);
        }
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
        inWord = true;
        hd.quoted = true;
      } else if (c == '\\') {
        hd.quoted = true;
        if (i + 1 < n) {
          char next = line.charAt(++i);
          if (next != '\n') {
            cur.append(next);
            inWord = true;
          }
        }
      } else if (c == '#' && !inWord) {
        while (i + 1 < n && line.charAt(i + 1) != '\n') {
          i++;
        }
      } else if (c == ' ' || c == '\t') {
        dropNext = endWord(words, dropped, cur, inWord, dropNext);
        inWord = false;
        hd.wordEnded(dropped, before);
      } else if (c == '<' || c == '>') {
        if (inWord && allDigits(cur)) {
          cur.setLength(0);
          inWord = false;
        }
        dropNext = endWord(words, dropped, cur, inWord, dropNext);
        inWord = false;
        hd.wordEnded(dropped, before);
        boolean heredoc =
            (mode & HEREDOCS) != 0
                && c == '<'
                && i + 1 < n
                && line.charAt(i + 1) == '<'
                && (i + 2 >= n || line.charAt(i + 2) != '<');
        while (i + 1 < n && "<>&|".indexOf(line.charAt(i + 1)) >= 0) {
          i++;
        }
        if (heredoc) {
          hd.next = i + 1 < n && line.charAt(i + 1) == '-' ? 2 : 1;
          i += hd.next - 1;
        }
        dropNext = true;
      } else if (c == '`' || (c == '$' && i + 1 < n && line.charAt(i + 1) == '(')) {
        int end = substitution(line, i, out, depth, cut, mode);
        cur.append(line, i, Math.min(n, end + 1));
        inWord = true;
        i = end;
      } else if ((mode & ANSI_C) != 0 && c == '$' && i + 1 < n && line.charAt(i + 1) == '\'') {
        int end = i + 2;
        while (end < n && line.charAt(end) != '\'') {
          end += line.charAt(end) == '\\' ? 2 : 1;
        }
        end = Math.min(end, n - 1);
        cur.append(line, i, end + 1); // kept with its $: a word the shell computes
        inWord = true;
        i = end;
      } else if (";&|()\n".indexOf(c) >= 0) {
        dropNext = endWord(words, dropped, cur, inWord, dropNext);
        hd.wordEnded(dropped, before);
        // a redirection ends here: <(npm publish) and >(...) are process substitutions (bash(1)
        // Process Substitution), whose first word is a command, not the redirection's target
        dropNext = false;
        inWord = false;
        if (!words.isEmpty()) {
          add(out, words, cut);
          words.clear();
        }
        if (c == '\n' && !hd.pending.isEmpty()) {
          i = heredocBodies(line, i + 1, hd, out, depth, cut, mode) - 1;
        }
      } else {
        cur.append(c);
        inWord = true;
      }
    }
    endWord(words, dropped, cur, inWord, dropNext);
    if (!words.isEmpty()) {
      add(out, words, cut);
    }
    // bash <<< 'npm publish', sh < <(...): a redirection target that looks like a command line is
    // read as one too (more commands, never fewer)
    for (String d : dropped) {
      if (looksLikeCommands(d)) {
        commands(d, out, depth + 1, cut, mode);
      }
    }
  }

  /**
   * Reads the command substitution ({@code $(...)} or backquotes) starting at {@code i} as commands
   * and returns the index of its end (see {@link #substitutionEnd}). Inside backquotes a backslash
   * before {@code $}, a backquote or a backslash is removed before the text is read as commands
   * (XCU 2.6.3), so {@code `echo \`npm publish\``} runs {@code npm publish}.
   */
  private static int substitution(
      String line, int i, List<List<String>> out, int depth, boolean[] cut, int mode) {
    int end = substitutionEnd(line, i);
    boolean backquote = line.charAt(i) == '`';
    String inner =
        line.substring(backquote ? i + 1 : i + 2, Math.max(end, backquote ? i + 1 : i + 2));
    if (backquote) {
      StringBuilder b = new StringBuilder(inner.length());
      for (int k = 0; k < inner.length(); k++) {
        char c = inner.charAt(k);
        if (c == '\\' && k + 1 < inner.length() && "$`\\".indexOf(inner.charAt(k + 1)) >= 0) {
          c = inner.charAt(++k);
        }
        b.append(c);
      }
      inner = b.toString();
    }
    commands(inner, out, depth + 1, cut, mode);
    return end;
  }

  private static void add(List<List<String>> out, List<String> words, boolean[] cut) {
    if (words.size() > 1 && words.get(0).equals("function")) {
      // bash's function NAME { ...: the body's first command follows NAME (bash(1) Shell Function
      // Definitions); f() { ... } needs no help, the parentheses end a command already
      words = words.subList(2, words.size());
      if (words.isEmpty()) {
        return;
      }
    }
    if (out.size() >= MAX_COMMANDS) {
      cut[0] = true;
    } else {
      out.add(List.copyOf(words));
    }
  }

  /** Whether a word contains blanks or shell syntax, so that it may be a command line itself. */
  static boolean looksLikeCommands(String t) {
    for (int i = 0; i < t.length(); i++) {
      if (" \t\n;&|()`$<>".indexOf(t.charAt(i)) >= 0) {
        return true;
      }
    }
    return false;
  }

  private static boolean endWord(
      List<String> words,
      List<String> dropped,
      StringBuilder cur,
      boolean inWord,
      boolean dropNext) {
    if (!inWord) {
      return dropNext;
    }
    if (!dropNext) {
      words.add(cur.toString());
    } else {
      dropped.add(cur.toString());
    }
    cur.setLength(0);
    return false;
  }

  private static boolean allDigits(CharSequence s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return !s.isEmpty();
  }

  /**
   * Index of the backquote or parenthesis closing the substitution starting at {@code i}, or the
   * line's length. Quotes and escapes inside are honoured (XCU 2.6.3: in {@code $(echo ")"; npm
   * publish)} the first {@code )} is quoted and the substitution runs {@code npm publish} too), as
   * are nested {@code $( )}; a stray unquoted {@code )} (a {@code case} pattern) ends it early,
   * which only splits the line into more commands.
   */
  private static int substitutionEnd(String line, int i) {
    return substitutionEnd(line, i, 0);
  }

  private static int substitutionEnd(String line, int i, int nesting) {
    int n = line.length();
    if (nesting > 64) {
      return n; // bounded recursion: the rest of the line is read as the substitution
    }
    if (line.charAt(i) == '`') {
      int j = i + 1;
      while (j < n && line.charAt(j) != '`') {
        j += line.charAt(j) == '\\' ? 2 : 1;
      }
      return Math.min(j, n);
    }
    int depth = 0;
    char quote = 0;
    // a case's patterns end in an unbalanced ) that does not end the substitution (XCU 2.9.4.3:
    // $(case x in x) npm publish;; esac) runs npm publish): case and esac are counted where a
    // command starts, and a ) at the substitution's own level inside a case ends a pattern
    int cases = 0;
    boolean command = true;
    for (int j = i + 1; j < n; j++) {
      char c = line.charAt(j);
      if (quote == 0 && command && c >= 'a' && c <= 'z') {
        int e = j;
        while (e < n && line.charAt(e) >= 'a' && line.charAt(e) <= 'z') {
          e++;
        }
        boolean word = e == n || " \t\n;&|()".indexOf(line.charAt(e)) >= 0;
        String w = line.substring(j, e);
        if (word && w.equals("case")) {
          cases++;
        } else if (word && w.equals("esac")) {
          cases = Math.max(0, cases - 1);
        }
        command = word && RESERVED_BEFORE_COMMAND.contains(w);
        j = e - 1;
        continue;
      }
      if (quote == 0 && ";&|(\n".indexOf(c) >= 0) {
        command = true;
      } else if (quote == 0 && c != ' ' && c != '\t' && c != ')') {
        command = false;
      }
      if (quote == '\'') {
        if (c == '\'') {
          quote = 0;
        }
      } else if (c == '\\') {
        j++;
      } else if (quote == '"') {
        if (c == '"') {
          quote = 0;
        } else if (c == '$' && j + 1 < n && line.charAt(j + 1) == '(') {
          j = substitutionEnd(line, j, nesting + 1);
        } else if (c == '`') {
          j = substitutionEnd(line, j, nesting + 1);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '`') {
        j = substitutionEnd(line, j, nesting + 1);
      } else if (c == '(') {
        depth++;
      } else if (c == ')' && depth == 1 && cases > 0) {
        command = true; // the end of a case pattern
      } else if (c == ')' && --depth == 0) {
        return j;
      }
    }
    return n;
  }

  /** Reserved words after which a command starts (XCU 2.4). */
  private static final java.util.Set<String> RESERVED_BEFORE_COMMAND =
      java.util.Set.of("then", "do", "else", "elif", "if", "while", "until", "time");

  /**
   * argv as one POSIX shell line that {@link #parse} (and any POSIX shell) splits back into exactly
   * these words, needing no shell: words of safe characters as they are, anything else in single
   * quotes, inside which nothing is special (a quote is written {@code '\''}). A {@code =} in the
   * first word is quoted, or a shell would read the word as an assignment (XCU 2.9.1); a leading
   * {@code ~} is quoted against tilde expansion (XCU 2.6.1), a leading {@code =} against zsh's
   * command-path expansion. A backslash is written outside the quotes, escaped ({@code 'a'\\'b'}
   * for {@code a\b}): the target account's login shell runs the line, and fish reads {@code \'}
   * inside single quotes as a quote, so {@code 'a\'\'' /etc/shadow \'\'''} (the one POSIX word
   * {@code a\' /etc/shadow \'}) would be three words to fish, {@code /etc/shadow} among them. With
   * no backslash inside quotes, POSIX shells and fish split the line alike.
   */
  public static String quote(List<String> argv) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < argv.size(); i++) {
      String a = argv.get(i);
      if (i > 0) {
        sb.append(' ');
      }
      // zsh replaces an unquoted leading = by a command's path (EQUALS option): =ls is /usr/bin/ls
      boolean safe =
          !a.isEmpty()
              && a.matches("[A-Za-z0-9_@%+=:,./-]+")
              && (i > 0 || a.indexOf('=') < 0)
              && a.charAt(0) != '=';
      if (safe) {
        sb.append(a);
      } else {
        sb.append('\'');
        for (int k = 0; k < a.length(); k++) {
          char c = a.charAt(k);
          sb.append(c == '\'' ? "'\\''" : c == '\\' ? "'\\\\'" : String.valueOf(c));
        }
        sb.append('\'');
      }
    }
    return sb.toString();
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
