package dev.gatehouse.masking;

import java.util.regex.Pattern;

/**
 * A case-insensitive name glob: {@code *} any run, {@code ?} one character, everything else
 * literal. SQL identifiers are compared case-insensitively on purpose: a rule for {@code email}
 * must also cover a quoted {@code "Email"} column, since masking too much is the safe failure.
 */
final class Glob {
  static final Glob ANY = new Glob("*");

  private final String source;
  private final Pattern pattern;
  private final boolean any;

  Glob(String glob) {
    this.source = glob;
    this.any = glob.equals("*") || glob.equals("**");
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        re.append(".*");
      } else if (c == '?') {
        re.append('.');
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    this.pattern = Pattern.compile(re.toString(), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
  }

  static Glob of(String glob) {
    return glob == null || glob.isEmpty() || glob.equals("*") ? ANY : new Glob(glob);
  }

  /** A null name (a protocol without schemas) matches only {@code *}. */
  boolean matches(String name) {
    if (any) {
      return true;
    }
    return name != null && pattern.matcher(name).matches();
  }

  @Override
  public String toString() {
    return source;
  }
}
