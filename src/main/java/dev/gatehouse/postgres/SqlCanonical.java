package dev.gatehouse.postgres;

import dev.gatehouse.postgres.PgToken.Kind;

/**
 * A statement as the server reads it, for matching a re-run with its approval: its tokens as {@link
 * PgLexer} finds them (the server's own rules: nested comments, dollar quotes, E'' strings,
 * standard_conforming_strings), comments and layout dropped, each token as its kind and exact value
 * (unquoted identifiers folded and truncated as PostgreSQL does, quoted ones kept, string constants
 * after escape processing, a national character constant {@code N'…'} told apart from {@code '…'}),
 * each length-prefixed. Two texts have one form only when the server reads the same tokens from
 * both; a newline after {@code --} or a nested {@code /*} changes the tokens, so it changes the
 * form.
 *
 * <p>It holds unmasked values: it goes into the review fingerprint (a digest) and nowhere else.
 */
final class SqlCanonical {
  private SqlCanonical() {}

  static String of(String text, boolean standardConformingStrings) {
    PgLexer.Result r = PgLexer.lex(text, standardConformingStrings);
    if (!r.ok()) {
      // The server rejects it (or reads it in a way we do not model): only the identical text,
      // under the same setting, is the same request.
      return "!" + (standardConformingStrings ? '1' : '0') + text;
    }
    StringBuilder sb = new StringBuilder(text.length() + 4 * r.tokens().size());
    for (PgToken t : r.tokens()) {
      String v =
          switch (t.kind()) {
            case IDENT, QUOTED_IDENT, DOLLAR_STRING, STRING -> t.value();
            // B'101' and X'101' have the same digits but are different values. Every bit string
            // carries its letter, and the digits cannot hold one, so no value fakes another's.
            case BIT_STRING -> Character.toLowerCase(t.text().charAt(0)) + t.value();
            case NUMBER, PARAM, OPERATOR, PUNCT, OTHER -> t.text();
          };
      sb.append(code(t)).append(v.length()).append(':').append(v);
    }
    return sb.toString();
  }

  /**
   * The token's kind, and for a string constant its type: {@code N'abc'} is of type character
   * (bpchar), whose comparisons ignore trailing spaces ({@code 'abc' = N'abc '} is true, {@code
   * 'abc'::text = 'abc '} is not), so it has a code of its own. A prefix on the value instead
   * ({@code "N" + value}) made {@code N'abc'} and {@code 'Nabc'} one form, so one approval (review
   * 13, F3). E'' and U&'' are text like '' (sql-syntax-lexical.html §4.1.2): the same value is the
   * same constant.
   */
  private static char code(PgToken t) {
    return t.kind() == Kind.STRING && national(t) ? 'c' : code(t.kind());
  }

  /** {@code N'…'} or {@code n'…'}: a national character constant (§4.1.2.1). */
  private static boolean national(PgToken t) {
    char c = t.text().charAt(0);
    return c == 'n' || c == 'N';
  }

  private static char code(Kind k) {
    return switch (k) {
      case IDENT -> 'i';
      case QUOTED_IDENT -> 'q';
      case STRING -> 's';
      case DOLLAR_STRING -> 'd';
      case BIT_STRING -> 'b';
      case NUMBER -> 'n';
      case PARAM -> 'p';
      case OPERATOR -> 'o';
      case PUNCT -> 'u';
      case OTHER -> 'x';
    };
  }
}
