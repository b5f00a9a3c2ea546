package dev.gatehouse.postgres;

import dev.gatehouse.postgres.PgToken.Kind;
import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;

/**
 * The stored text of a statement with its encoded string constants read as the server reads them
 * (the recording and review requests, {@link dev.gatehouse.gate.GateSession#maskStored}). An escape
 * string {@code E'pass\x77ord=Kx7…'} (sql-syntax-lexical.html §4.1.2.2), a Unicode escape string
 * {@code U&'pass\0077ord=…'} (§4.1.2.3), or an ordinary string with backslash escapes when
 * standard_conforming_strings is off, says {@code password=Kx7…} to the server, while the redactor
 * reads the escapes and finds no keyword. Each string constant whose value differs from its body is
 * masked on its value; when that finds something, the constant is replaced by an ordinary one
 * holding the masked value (so the record reads {@code 'password=[REDACTED:…]'}), and the text is
 * then masked as a whole as before. So is a constant holding bytea hex ({@code '\x7061…'}), whose
 * bytes are read as text. Constants without escapes, or without findings, stay as typed.
 */
final class PgStoredText {
  private PgStoredText() {}

  /**
   * Longest text lexed here: a statement is up to the protocol's message limit, and the redactor
   * reads all of it anyway; beyond this the text is left to the redactor alone.
   */
  static final int MAX_LEXED = 1 << 20;

  static String decodeEscapes(
      String text, boolean standardConformingStrings, UnaryOperator<String> maskStored) {
    boolean passwords = containsPasswordWord(text);
    if (text.length() > MAX_LEXED || text.indexOf('\\') < 0 && !hasUescape(text) && !passwords) {
      return text; // every escape of E'', U&'' and non-standard '' strings has a backslash
    }
    PgLexer.Result r = PgLexer.lex(text, standardConformingStrings);
    StringBuilder out = null;
    int copied = 0;
    PgToken previous = null;
    for (PgToken t : r.tokens()) {
      PgToken before = previous;
      previous = t;
      boolean constant = t.kind() == Kind.STRING || t.kind() == Kind.DOLLAR_STRING;
      if (constant && passwords && namesPassword(before)) {
        // The constant is a password in SQL's own syntax, however it is spelled: a dollar quote,
        // U&'', a comment or a line break before it, a quoted option name (red team, eleventh
        // session: `PASSWORD $$…$$` and `OPTIONS ("password" '…')` were recorded in clear).
        if (out == null) {
          out = new StringBuilder(text.length() + 32);
        }
        out.append(text, copied, t.start()).append(PASSWORD_MARK);
        copied = t.end();
        continue;
      }
      if (t.kind() != Kind.STRING) {
        continue;
      }
      String masked = byteaHex(t.value(), maskStored); // '\x7061…'::bytea, read as its bytes
      if (!t.value().equals(plainBody(t.text()))) {
        masked = maskStored.apply(masked);
      }
      if (masked.equals(t.value())) {
        continue;
      }
      if (out == null) {
        out = new StringBuilder(text.length() + 32);
      }
      out.append(text, copied, t.start()).append('\'').append(masked.replace("'", "''"));
      out.append('\'');
      copied = t.end();
    }
    return out == null ? text : out.append(text, copied, text.length()).toString();
  }

  /**
   * A constant holding bytea hex ({@code '\x70617373…'}): its {@code \x} runs decoded, masked as
   * text and written back as hex ({@link PgBinaryValues#hexRuns}); the value itself otherwise.
   */
  private static String byteaHex(String value, UnaryOperator<String> maskStored) {
    byte[] b = value.getBytes(StandardCharsets.UTF_8);
    byte[] masked =
        PgBinaryValues.hexRuns(
            (x, o, l) -> PgBinaryValues.bytes(maskStored, x, o, l), b, 0, b.length);
    return masked == null ? value : new String(masked, StandardCharsets.UTF_8);
  }

  /** What a password constant is recorded as: an ordinary constant, so the record still parses. */
  static final String PASSWORD_MARK = "'[REDACTED:password]'";

  /**
   * The word before a string constant that makes it a password: {@code PASSWORD} of CREATE/ALTER
   * ROLE/USER ({@code [ENCRYPTED] PASSWORD '…'}, sql-createrole.html), or a {@code password} option
   * of a user mapping or foreign server ({@code OPTIONS (password '…')}, also quoted: {@code
   * "password"}). Comments are not tokens, so one between the word and the constant changes
   * nothing.
   */
  private static boolean namesPassword(PgToken t) {
    return t != null
        && (t.kind() == Kind.IDENT && t.value().equals("password")
            || t.kind() == Kind.QUOTED_IDENT && t.value().equalsIgnoreCase("password"));
  }

  /** Whether the text holds the word {@code password} in any case (cheaper than lexing it). */
  private static boolean containsPasswordWord(String text) {
    for (int i = 2; i + 6 <= text.length(); i++) {
      char c = text.charAt(i);
      if ((c == 's' || c == 'S') && text.regionMatches(true, i - 2, "password", 0, 8)) {
        return true;
      }
    }
    return false;
  }

  /** UESCAPE lets a Unicode escape string use another escape character than the backslash. */
  private static boolean hasUescape(String text) {
    int amp = text.indexOf('&'); // a U& string comes before its UESCAPE
    for (int j = Math.max(amp, 0); amp >= 0 && j + 7 <= text.length(); j++) {
      if (text.regionMatches(true, j, "uescape", 0, 7)) {
        return true;
      }
    }
    return false;
  }

  /**
   * What a string constant says when nothing in it is an escape: the text between its first and
   * last quote with {@code ''} read as one quote. For a constant continued on another line this
   * holds the quotes and space between its parts, so it differs from the value, and the constant is
   * masked by its value when that has findings.
   */
  private static String plainBody(String tokenText) {
    int first = tokenText.indexOf('\'');
    int last = tokenText.lastIndexOf('\'');
    if (first < 0 || last <= first) {
      return null;
    }
    String body = tokenText.substring(first + 1, last);
    return body.replace("''", "'");
  }
}
