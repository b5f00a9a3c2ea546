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
 * masked on its value; when that finds something, the constant is replaced by one holding the
 * masked value (so the record reads {@code 'password=[REDACTED:…]'}; {@code E'…'} with doubled
 * backslashes when the value holds one, so that it ends where it did under either
 * standard_conforming_strings), and the text is then masked by token ({@link #maskTokens}). So is a
 * constant holding bytea hex ({@code '\x7061…'}), whose bytes are read as text. Constants without
 * escapes, or without findings, stay as typed.
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
    if (text.length() > MAX_LEXED
        || text.indexOf('\\') < 0 && !hasUescape(text) && !containsPasswordWord(text)) {
      // Every escape of E'', U&'' and non-standard '' strings, and of a U&"…" name, has a
      // backslash or a UESCAPE; a name that reads password without one holds the word.
      return text;
    }
    // Tokens up to a lexer error are read as the server reads them: their constants are decoded
    // and masked all the same (returning the text as typed would record E'pass\x77ord=…' before
    // the error in clear). The text from the error on stays as typed, still fails to lex in
    // maskTokens, and so is masked whole there (review 13, F7).
    PgLexer.Result r = PgLexer.lex(text, standardConformingStrings);
    StringBuilder out = null;
    int copied = 0;
    PgToken previous = null;
    for (PgToken t : r.tokens()) {
      PgToken before = previous;
      previous = t;
      boolean constant = t.kind() == Kind.STRING || t.kind() == Kind.DOLLAR_STRING;
      if (constant && namesPassword(before)) {
        // The constant is a password in SQL's own syntax, however it is spelled: a dollar quote,
        // U&'', a comment or a line break before it, a quoted option name (red team, eleventh
        // session: `PASSWORD $$…$$` and `OPTIONS ("password" '…')` were recorded in clear). The
        // name is decided on its lexed value: `U&"p\0061ssword"` does not hold the word (review
        // 13, F4).
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
      // Written so that it reads as this value under either string setting: an ordinary '…' with
      // a backslash in it ends early with standard_conforming_strings off (a value ending in \
      // escaped the closing quote and the constant ran on over the live SQL after it: review 13,
      // F5).
      out.append(text, copied, t.start()).append(constant(t, masked));
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

  /**
   * {@code text} (a statement, or a review's shown text: statements and {@code --} comment lines)
   * masked so that no mask crosses a token boundary: each string constant, quoted identifier,
   * number, identifier and comment body is masked on its own, with the text of the two tokens
   * before it as context (so {@code password = 'hunter2'} is still found), and written back with
   * its own delimiters; operators, punctuation and the comment delimiters stay as typed. Masking
   * the whole text let a keyword in a comment eat the comment's end and the live SQL behind it (red
   * team rt12: {@code WHERE id = 1 /* password: *}{@code / OR id <= 50} was stored and shown to the
   * reviewer as {@code WHERE id = 1 /* password: [REDACTED:assignment] <= 50}). What masking the
   * whole text then still finds (a secret split over several tokens) redacts each constant, number
   * and comment body it touches, whole. Text the lexer cannot read, or longer than {@link
   * #MAX_LEXED}, is masked whole as before: the server does not run it as read here.
   */
  static String maskTokens(
      String text, boolean standardConformingStrings, UnaryOperator<String> mask) {
    String whole = mask.apply(text);
    if (whole.equals(text) || text.length() > MAX_LEXED) {
      return whole; // nothing found (nearly every statement): one pass, as before
    }
    PgLexer.Result r = PgLexer.lex(text, standardConformingStrings);
    if (!r.ok()) {
      return whole;
    }
    String out = rebuild(text, r, mask, null);
    for (int round = 0; round < 3; round++) {
      String again = mask.apply(out);
      if (again.equals(out)) {
        return out;
      }
      // A finding across tokens: redact every value it touches, each within its own bounds.
      int from = commonPrefix(out, again);
      int to = out.length() - commonSuffix(out, again, from);
      PgLexer.Result rr = PgLexer.lex(out, standardConformingStrings);
      if (!rr.ok()) {
        return again;
      }
      // First values and comment bodies; if that is not enough, identifiers too (a password typed
      // bare after a keyword in free text is an identifier here).
      out = rebuild(out, rr, UnaryOperator.identity(), new int[] {from, to, round});
    }
    // Still a finding: every value redacted whole rather than a mask across tokens.
    PgLexer.Result last = PgLexer.lex(out, standardConformingStrings);
    return last.ok()
        ? rebuild(out, last, UnaryOperator.identity(), new int[] {0, out.length(), 1})
        : whole;
  }

  /** The mark of a value redacted whole because a finding crossed into it. */
  static final String REDACTED = "[REDACTED]";

  /**
   * {@code text} with each token and comment body masked on its own ({@code region} null), or with
   * the values and comment bodies overlapping {@code region} ({@code [from, to, idents]}) replaced
   * by {@link #REDACTED}, identifiers too when {@code idents > 0}.
   */
  private static String rebuild(
      String text, PgLexer.Result r, UnaryOperator<String> mask, int[] region) {
    StringBuilder out = new StringBuilder(text.length() + 32);
    java.util.List<PgToken> tokens = r.tokens();
    int at = 0;
    for (int k = 0; k < tokens.size(); k++) {
      PgToken t = tokens.get(k);
      gap(text, at, t.start(), mask, region, out);
      String context = k < 2 ? "" : text.substring(tokens.get(k - 2).start(), t.start());
      if (context.length() > 256) {
        context = context.substring(context.length() - 256);
      }
      // Touching counts: a detector keeps the keyword before what it masks, so the diff starts
      // just after a keyword that may end a token or comment body.
      boolean hit = region != null && t.start() <= region[1] && t.end() >= region[0];
      switch (t.kind()) {
        case STRING, DOLLAR_STRING -> {
          String v = region == null ? masked(context, t.value(), mask) : hit ? REDACTED : t.value();
          out.append(v.equals(t.value()) ? t.text() : constant(t, v));
        }
        case QUOTED_IDENT -> {
          String v = region == null ? mask.apply(t.value()) : hit ? REDACTED : t.value();
          out.append(v.equals(t.value()) ? t.text() : '"' + v.replace("\"", "\"\"") + '"');
        }
        case NUMBER, BIT_STRING -> {
          String v = region == null ? masked(context, t.text(), mask) : hit ? REDACTED : t.text();
          out.append(v);
        }
        case IDENT ->
            out.append(
                region == null ? mask.apply(t.text()) : hit && region[2] > 0 ? REDACTED : t.text());
        case PARAM, OPERATOR, PUNCT, OTHER -> out.append(t.text());
      }
      at = t.end();
    }
    gap(text, at, text.length(), mask, region, out);
    return out.toString();
  }

  /** {@code body} masked after {@code context}; redacted whole when its mask reached back. */
  private static String masked(String context, String body, UnaryOperator<String> mask) {
    if (context.isEmpty()) {
      return mask.apply(body);
    }
    String both = mask.apply(context + body);
    String before = mask.apply(context);
    if (both.startsWith(before)) {
      return both.substring(before.length());
    }
    String alone = mask.apply(body);
    return alone.equals(body) ? REDACTED : alone;
  }

  /**
   * A changed string constant, read as {@code value} under either string setting: with a backslash
   * in it an escape string {@code E'…'} with each backslash doubled (an {@code N'…'} is no escape
   * string: {@code N'C:\\dir'} reads two backslashes with standard_conforming_strings on, so it
   * loses its N, shown only), else {@code '…'} or {@code N'…'} as typed.
   */
  private static String constant(PgToken t, String value) {
    String quoted = value.replace("'", "''");
    if (value.indexOf('\\') >= 0) {
      return "E'" + quoted.replace("\\", "\\\\") + "'";
    }
    char first = Character.toUpperCase(t.text().charAt(0));
    return (first == 'N' ? "N'" : "'") + quoted + "'";
  }

  /**
   * The whitespace and comments between two tokens (the lexer found nothing else there): each
   * comment's body masked on its own, its delimiters kept. A block comment's body keeps its nested
   * delimiters as they were, or is redacted whole.
   */
  private static void gap(
      String text, int from, int to, UnaryOperator<String> mask, int[] region, StringBuilder out) {
    int i = from;
    while (i < to) {
      int start;
      int bodyEnd;
      int end;
      if (text.startsWith("--", i)) {
        start = i + 2;
        int nl = i + 2;
        while (nl < to && text.charAt(nl) != '\n' && text.charAt(nl) != '\r') {
          nl++;
        }
        bodyEnd = nl;
        end = nl;
      } else if (text.startsWith("/*", i)) {
        start = i + 2;
        int depth = 1;
        int j = i + 2;
        while (j < to && depth > 0) {
          if (text.startsWith("/*", j)) {
            depth++;
            j += 2;
          } else if (text.startsWith("*/", j)) {
            depth--;
            j += 2;
          } else {
            j++;
          }
        }
        end = j;
        bodyEnd = depth == 0 ? j - 2 : j;
      } else {
        out.append(text.charAt(i++));
        continue;
      }
      String body = text.substring(start, bodyEnd);
      boolean hit = region != null && start <= region[1] && bodyEnd >= region[0];
      String m = region == null ? mask.apply(body) : hit ? " " + REDACTED + " " : body;
      if (!sameDelimiters(body, m)) {
        m = " " + REDACTED + " ";
      }
      out.append(text, i, start).append(m).append(text, bodyEnd, end);
      i = end;
    }
  }

  /** Whether masking left a comment body's comment delimiters and line breaks as they were. */
  private static boolean sameDelimiters(String body, String masked) {
    return count(body, "/*") == count(masked, "/*")
        && count(body, "*/") == count(masked, "*/")
        && body.indexOf('\n') < 0 == masked.indexOf('\n') < 0
        && body.indexOf('\r') < 0 == masked.indexOf('\r') < 0;
  }

  private static int count(String s, String what) {
    int n = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  private static int commonPrefix(String a, String b) {
    int n = 0;
    while (n < a.length() && n < b.length() && a.charAt(n) == b.charAt(n)) {
      n++;
    }
    return n;
  }

  private static int commonSuffix(String a, String b, int prefix) {
    int n = 0;
    while (n < a.length() - prefix
        && n < b.length() - prefix
        && a.charAt(a.length() - 1 - n) == b.charAt(b.length() - 1 - n)) {
      n++;
    }
    return n;
  }
}
