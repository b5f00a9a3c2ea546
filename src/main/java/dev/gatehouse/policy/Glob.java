package dev.gatehouse.policy;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A glob compiled once at load time.
 *
 * <p>Syntax: {@code *} any run of characters, {@code **} any run including the separator, {@code ?}
 * one character, {@code [abc]}, {@code [a-z]}, {@code [!a]} character classes, {@code \} escapes
 * the next character. In path mode {@code *} and {@code ?} stop at {@code /}; otherwise {@code *}
 * and {@code **} are the same. Exact and prefix globs (the common case: {@code payments-db}, {@code
 * payments-*}) never touch the regex engine, so matching allocates nothing.
 */
final class Glob {
  private enum Mode {
    EXACT,
    PREFIX,
    ANY,
    REGEX
  }

  private final String text;
  private final Mode mode;
  private final String literal;
  private final Pattern regex;
  private final boolean ignoreCase;

  private Glob(String text, Mode mode, String literal, Pattern regex, boolean ignoreCase) {
    this.text = text;
    this.mode = mode;
    this.literal = literal;
    this.regex = regex;
    this.ignoreCase = ignoreCase;
  }

  /**
   * Compiles a glob.
   *
   * @throws IllegalArgumentException with a message naming the glob and what is wrong
   */
  static Glob compile(String glob, boolean pathMode, boolean ignoreCase) {
    if (glob == null || glob.isEmpty()) {
      throw new IllegalArgumentException("glob: empty (expected a name or pattern such as db-*)");
    }
    StringBuilder re = new StringBuilder();
    StringBuilder lit = new StringBuilder();
    boolean special = false;
    boolean trailingStar = false;
    int n = glob.length();
    for (int i = 0; i < n; i++) {
      char c = glob.charAt(i);
      trailingStar = false;
      switch (c) {
        case '\\' -> {
          if (i + 1 >= n) {
            throw new IllegalArgumentException(
                "glob: " + glob + " ends with a lone \\ (expected \\ followed by a character)");
          }
          char next = glob.charAt(++i);
          re.append(Pattern.quote(String.valueOf(next)));
          if (!special) {
            lit.append(next);
          }
        }
        case '*' -> {
          boolean dbl = i + 1 < n && glob.charAt(i + 1) == '*';
          if (dbl) {
            i++;
          }
          re.append(pathMode && !dbl ? "[^/]*" : ".*");
          trailingStar = i == n - 1 && (dbl || !pathMode);
          special = true;
        }
        case '?' -> {
          re.append(pathMode ? "[^/]" : ".");
          special = true;
        }
        case '[' -> {
          int end = glob.indexOf(']', i + 2);
          if (end < 0) {
            throw new IllegalArgumentException(
                "glob: " + glob + " has an unclosed [ (expected a class such as [a-z])");
          }
          String cls = glob.substring(i + 1, end);
          if (cls.startsWith("!")) {
            cls = "^" + cls.substring(1);
          }
          re.append('[').append(cls.replace("\\", "\\\\").replace("[", "\\[")).append(']');
          i = end;
          special = true;
        }
        default -> {
          re.append(Pattern.quote(String.valueOf(c)));
          if (!special) {
            lit.append(c);
          }
        }
      }
    }
    if (!special) {
      return new Glob(glob, Mode.EXACT, lit.toString(), null, ignoreCase);
    }
    String prefix = lit.toString();
    boolean onlyTrailingStar =
        trailingStar
            && (glob.equals(prefix + "*") || glob.equals(prefix + "**"))
            && prefix.indexOf('\\') < 0;
    if (onlyTrailingStar) {
      return prefix.isEmpty()
          ? new Glob(glob, Mode.ANY, "", null, ignoreCase)
          : new Glob(glob, Mode.PREFIX, prefix, null, ignoreCase);
    }
    try {
      int flags = ignoreCase ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0;
      return new Glob(
          glob,
          Mode.REGEX,
          null,
          Pattern.compile(re.toString(), flags | Pattern.DOTALL),
          ignoreCase);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          "glob: " + glob + " is not a valid pattern (" + e.getDescription() + ")", e);
    }
  }

  /** True when the glob has no wildcard, so it can be used as an index key. */
  boolean isLiteral() {
    return mode == Mode.EXACT;
  }

  boolean matchesEverything() {
    return mode == Mode.ANY;
  }

  /** The literal text, for exact globs. */
  String literal() {
    return literal;
  }

  boolean matches(String s) {
    if (s == null) {
      return false;
    }
    return switch (mode) {
      case EXACT -> ignoreCase ? literal.equalsIgnoreCase(s) : literal.equals(s);
      case PREFIX -> s.regionMatches(ignoreCase, 0, literal, 0, literal.length());
      case ANY -> true;
      case REGEX -> regex.matcher(s).matches();
    };
  }

  @Override
  public String toString() {
    return text;
  }
}
