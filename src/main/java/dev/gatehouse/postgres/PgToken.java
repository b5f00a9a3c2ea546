package dev.gatehouse.postgres;

/**
 * One lexical token of a PostgreSQL statement, as produced by {@link PgLexer}.
 *
 * @param kind what the token is
 * @param text the exact source text of the token (for a concatenated string constant, the whole
 *     span including the whitespace between the parts)
 * @param value the normalised value: identifiers case-folded (unquoted) or unescaped (quoted) and
 *     truncated as PostgreSQL does; string constants with escapes processed; otherwise the text
 * @param start offset of the first character in the input
 * @param end offset just past the last character in the input
 */
record PgToken(Kind kind, String text, String value, int start, int end) {

  enum Kind {
    /** Unquoted identifier or key word; value is folded to lower case. */
    IDENT,
    /** Double-quoted identifier ({@code "a""b"} or {@code U&"..."}); value keeps case. */
    QUOTED_IDENT,
    /** Character string constant: {@code '..'}, {@code E'..'}, {@code U&'..'}, {@code N'..'}. */
    STRING,
    /** Dollar-quoted string constant: value is the body. */
    DOLLAR_STRING,
    /** Bit-string constant {@code B'..'} or {@code X'..'}: value is the digits. */
    BIT_STRING,
    /** Numeric constant. */
    NUMBER,
    /** Positional parameter {@code $n}. */
    PARAM,
    /** Operator (possibly multi-character). */
    OPERATOR,
    /** Special character: {@code ( ) [ ] , ; : :: . :=}. */
    PUNCT,
    /** Any other single character (the server's parser would reject it). */
    OTHER
  }

  boolean is(String punctOrOp) {
    return (kind == Kind.PUNCT || kind == Kind.OPERATOR) && text.equals(punctOrOp);
  }

  /** True for an unquoted identifier / key word equal to {@code word} (lower case). */
  boolean isWord(String word) {
    return kind == Kind.IDENT && value.equals(word);
  }

  boolean isName() {
    return kind == Kind.IDENT || kind == Kind.QUOTED_IDENT;
  }

  boolean isString() {
    return kind == Kind.STRING || kind == Kind.DOLLAR_STRING;
  }
}
