package dev.gatehouse.postgres;

import dev.gatehouse.postgres.PgToken.Kind;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A lexer that follows PostgreSQL's lexical rules (server {@code src/backend/parser/scan.l}), as
 * documented in "SQL Syntax › Lexical Structure":
 * https://www.postgresql.org/docs/current/sql-syntax-lexical.html
 *
 * <p>It exists so that the gateway sees the same token boundaries as the server: where a string,
 * comment or dollar quote ends decides where a statement ends, and a disagreement there is an
 * evasion. Whitespace and comments are dropped. An unterminated construct, a character PostgreSQL
 * rejects (NUL) or a malformed number is reported as an error; the classifier then treats the whole
 * input as unknown.
 *
 * <p>Not a validator: input the server would reject for grammar reasons lexes fine here. The input
 * must be the text as the server decodes it (after client_encoding conversion).
 */
final class PgLexer {

  /**
   * NAMEDATALEN - 1: PostgreSQL truncates identifiers to 63 bytes (sql-syntax-lexical.html §4.1.1),
   * so {@code a…(70 chars)} and its 63-byte prefix name the same object.
   */
  static final int MAX_IDENTIFIER_BYTES = 63;

  /** Result of lexing: tokens up to the first error, and the error (null when none). */
  record Result(List<PgToken> tokens, String error, int errorOffset) {
    boolean ok() {
      return error == null;
    }
  }

  /** One statement of a query string, as split at top-level semicolons. */
  record Segment(String text, int start, int end, List<PgToken> tokens, String error) {}

  private final String s;
  private final boolean standardConformingStrings;
  private final List<PgToken> out = new ArrayList<>();
  private int pos;

  private PgLexer(String s, boolean standardConformingStrings) {
    this.s = s;
    this.standardConformingStrings = standardConformingStrings;
  }

  /**
   * Lexes {@code sql}.
   *
   * @param standardConformingStrings the session's standard_conforming_strings: when off, a
   *     backslash in an ordinary {@code '...'} string is an escape character
   *     (sql-syntax-lexical.html §4.1.2.2), which changes where the string ends
   */
  static Result lex(String sql, boolean standardConformingStrings) {
    PgLexer lx = new PgLexer(sql, standardConformingStrings);
    try {
      lx.run();
      return new Result(List.copyOf(lx.out), null, -1);
    } catch (LexError e) {
      return new Result(List.copyOf(lx.out), e.getMessage(), e.offset);
    }
  }

  /**
   * Splits a query string into statements at top-level semicolons: not inside parentheses, strings,
   * quoted identifiers, comments or dollar quotes, and not inside a {@code BEGIN ATOMIC ... END}
   * routine body of CREATE FUNCTION/PROCEDURE (sql-createfunction.html, "sql_body").
   *
   * <p>psql's heuristic (psqlscan.l) counts BEGIN, CASE and END; that can be fooled into gluing two
   * server statements together ({@code CREATE FUNCTION begin() ...; DROP ...}, or a column label
   * {@code AS case} inside the body), which would hide the second statement. We follow the grammar
   * instead (gram.y {@code opt_routine_body}): the body is the first {@code BEGIN ATOMIC} at
   * parenthesis depth 0 of the statement, and every statement in it ends with {@code ;}, so it
   * closes at the first {@code END} directly after {@code ;} or {@code ATOMIC}. A CASE's END never
   * directly follows {@code ;}. On input the server would reject we may split too often, never too
   * rarely.
   *
   * <p>Segments without tokens (empty statements, comments) are dropped. After a lexer error, the
   * rest of the input from the start of the failing statement is one segment carrying the error.
   */
  static List<Segment> split(String sql, boolean standardConformingStrings) {
    Result r = lex(sql, standardConformingStrings);
    List<PgToken> toks = r.tokens();
    List<Segment> segs = new ArrayList<>();
    int textStart = 0;
    int first = 0;
    int paren = 0;
    boolean inBody = false;
    boolean bodySeen = false;
    for (int i = 0; i < toks.size(); i++) {
      PgToken t = toks.get(i);
      if (t.is("(")) {
        paren++;
      } else if (t.is(")")) {
        if (paren > 0) {
          paren--;
        }
      } else if (t.kind() == Kind.IDENT && paren == 0 && isCreateRoutine(toks, first, i)) {
        String v = t.value();
        if (!bodySeen
            && v.equals("begin")
            && i + 1 < toks.size()
            && toks.get(i + 1).isWord("atomic")) {
          inBody = true;
          bodySeen = true;
        } else if (inBody
            && v.equals("end")
            && (toks.get(i - 1).is(";") || toks.get(i - 1).isWord("atomic"))) {
          inBody = false;
        }
      } else if (t.is(";") && paren == 0 && !inBody) {
        addSegment(segs, sql, textStart, t.start(), toks.subList(first, i), null);
        textStart = t.end();
        first = i + 1;
        bodySeen = false;
      }
    }
    if (r.ok()) {
      addSegment(segs, sql, textStart, sql.length(), toks.subList(first, toks.size()), null);
    } else {
      List<PgToken> rest = toks.subList(first, toks.size());
      String text = sql.substring(textStart).strip();
      segs.add(new Segment(text, textStart, sql.length(), List.copyOf(rest), r.error()));
    }
    return segs;
  }

  private static void addSegment(
      List<Segment> segs, String sql, int from, int to, List<PgToken> toks, String error) {
    if (toks.isEmpty()) {
      return;
    }
    segs.add(new Segment(sql.substring(from, to).strip(), from, to, List.copyOf(toks), error));
  }

  /** CREATE [OR REPLACE] FUNCTION|PROCEDURE at the start of the current statement. */
  private static boolean isCreateRoutine(List<PgToken> toks, int first, int upTo) {
    int i = first;
    if (i >= upTo || !toks.get(i).isWord("create")) {
      return false;
    }
    i++;
    if (i + 1 < upTo && toks.get(i).isWord("or") && toks.get(i + 1).isWord("replace")) {
      i += 2;
    }
    return i < upTo && (toks.get(i).isWord("function") || toks.get(i).isWord("procedure"));
  }

  // ---------------------------------------------------------------------------------------------

  private static final class LexError extends Exception {
    private static final long serialVersionUID = 1L;
    final int offset;

    LexError(String message, int offset) {
      super(message + " at offset " + offset, null, false, false);
      this.offset = offset;
    }
  }

  private char at(int i) {
    return i < s.length() ? s.charAt(i) : '\0';
  }

  private boolean has(int i) {
    return i < s.length();
  }

  /** {@code space [ \t\n\r\f\v]} (scan.l; \v since PostgreSQL 16). */
  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
  }

  /** {@code ident_start [A-Za-z\200-\377_]}: any non-ASCII character counts as a letter. */
  static boolean isIdentStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
  }

  /** {@code ident_cont [A-Za-z\200-\377_0-9\$]}. */
  static boolean isIdentCont(char c) {
    return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$';
  }

  /** {@code dolq_cont}: like ident_cont but without {@code $}. */
  private static boolean isDolqCont(char c) {
    return isIdentStart(c) || (c >= '0' && c <= '9');
  }

  /** {@code op_chars [\~\!\@\#\^\&\|\`\?\+\-\*\/\%\<\>\=]} (sql-syntax-lexical.html §4.1.3). */
  private static boolean isOpChar(char c) {
    return "~!@#^&|`?+-*/%<>=".indexOf(c) >= 0;
  }

  private void run() throws LexError {
    int nul = s.indexOf('\0');
    if (nul >= 0) {
      // The Query and Parse messages carry NUL-terminated strings; a NUL inside (even within a
      // string constant) means client, gateway and server could disagree on where the text ends.
      throw new LexError("NUL character in query", nul);
    }
    while (pos < s.length()) {
      char c = s.charAt(pos);
      if (isSpace(c)) {
        pos++;
      } else if (c == '-' && at(pos + 1) == '-') {
        skipLineComment();
      } else if (c == '/' && at(pos + 1) == '*') {
        skipBlockComment();
      } else if (c == '\'') {
        stringConstant(pos, pos + 1, 'q');
      } else if (c == '"') {
        quotedIdentifier(pos, pos + 1, false);
      } else if ((c == 'e' || c == 'E') && at(pos + 1) == '\'') {
        stringConstant(pos, pos + 2, 'e');
      } else if ((c == 'n' || c == 'N') && at(pos + 1) == '\'') {
        // National character: same rules as an ordinary string (§4.1.2.1).
        stringConstant(pos, pos + 2, 'q');
      } else if ((c == 'b' || c == 'B') && at(pos + 1) == '\'') {
        bitString(pos);
      } else if ((c == 'x' || c == 'X') && at(pos + 1) == '\'') {
        bitString(pos);
      } else if ((c == 'u' || c == 'U') && at(pos + 1) == '&' && at(pos + 2) == '\'') {
        if (!standardConformingStrings) {
          // scan.l: "unsafe use of string constant with Unicode escapes" (§4.1.2.3).
          throw new LexError("U&'' string with standard_conforming_strings off", pos);
        }
        stringConstant(pos, pos + 3, 'u');
      } else if ((c == 'u' || c == 'U') && at(pos + 1) == '&' && at(pos + 2) == '"') {
        quotedIdentifier(pos, pos + 3, true);
      } else if (isIdentStart(c)) {
        identifier();
      } else if (c == '$') {
        dollar();
      } else if ((c >= '0' && c <= '9') || (c == '.' && Character.isDigit(at(pos + 1)))) {
        number();
      } else if (c == ':' && at(pos + 1) == ':') {
        emit(Kind.PUNCT, pos, pos + 2, "::");
      } else if (c == ':' && at(pos + 1) == '=') {
        emit(Kind.PUNCT, pos, pos + 2, ":=");
      } else if (c == '.' && at(pos + 1) == '.') {
        emit(Kind.PUNCT, pos, pos + 2, "..");
      } else if ("()[],;:.".indexOf(c) >= 0) {
        emit(Kind.PUNCT, pos, pos + 1, null);
      } else if (isOpChar(c)) {
        operator();
      } else {
        emit(Kind.OTHER, pos, pos + 1, null);
      }
    }
  }

  private void emit(Kind kind, int start, int end, String value) {
    String text = s.substring(start, end);
    out.add(new PgToken(kind, text, value == null ? text : value, start, end));
    pos = end;
  }

  /**
   * The text inside the comment that opens {@code sql} (after whitespace), delimited as the server
   * delimits it (§4.1.5: block comments nest, a line comment ends at a newline or carriage return);
   * null when {@code sql} does not start with a comment, or the comment is unterminated (the server
   * rejects the statement).
   */
  static String leadingComment(String sql) {
    int i = 0;
    while (i < sql.length() && isSpace(sql.charAt(i))) {
      i++;
    }
    PgLexer lx = new PgLexer(sql, true);
    lx.pos = i;
    if (sql.startsWith("/*", i)) {
      try {
        lx.skipBlockComment();
      } catch (LexError e) {
        return null;
      }
      return sql.substring(i + 2, lx.pos - 2);
    }
    if (sql.startsWith("--", i)) {
      lx.skipLineComment();
      return sql.substring(i + 2, lx.pos);
    }
    return null;
  }

  /** {@code --} to end of line (§4.1.5). */
  private void skipLineComment() {
    while (pos < s.length() && s.charAt(pos) != '\n' && s.charAt(pos) != '\r') {
      pos++;
    }
  }

  /** {@code /* ... *}{@code /}, which nest in PostgreSQL unlike the SQL standard (§4.1.5). */
  private void skipBlockComment() throws LexError {
    int start = pos;
    int depth = 0;
    while (pos < s.length()) {
      if (s.startsWith("/*", pos)) {
        depth++;
        pos += 2;
      } else if (s.startsWith("*/", pos)) {
        depth--;
        pos += 2;
        if (depth == 0) {
          return;
        }
      } else {
        pos++;
      }
    }
    throw new LexError("unterminated /* comment", start);
  }

  private void identifier() {
    int start = pos;
    int i = pos;
    while (i < s.length() && isIdentCont(s.charAt(i))) {
      i++;
    }
    String text = s.substring(start, i);
    out.add(new PgToken(Kind.IDENT, text, truncate(foldCase(text)), start, i));
    pos = i;
  }

  /**
   * Key words and unquoted identifiers are case-folded to lower case (§4.1.1). PostgreSQL folds
   * only ASCII letters in multi-byte encodings (downcase_identifier), so we do the same.
   */
  static String foldCase(String text) {
    StringBuilder b = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        if (b == null) {
          b = new StringBuilder(text);
        }
        b.setCharAt(i, (char) (c + ('a' - 'A')));
      }
    }
    return b == null ? text : b.toString();
  }

  /** Truncates to {@link #MAX_IDENTIFIER_BYTES} UTF-8 bytes on a character boundary. */
  static String truncate(String name) {
    if (name.length() * 3 <= MAX_IDENTIFIER_BYTES) {
      return name;
    }
    int bytes = 0;
    for (int i = 0; i < name.length(); ) {
      int cp = name.codePointAt(i);
      int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (bytes + n > MAX_IDENTIFIER_BYTES) {
        return name.substring(0, i);
      }
      bytes += n;
      i += Character.charCount(cp);
    }
    return name;
  }

  /**
   * {@code "..."} with {@code ""} for a quote; or {@code U&"..."} with Unicode escapes and an
   * optional following {@code UESCAPE 'c'} (§4.1.1). A zero-length quoted identifier is an error.
   */
  private void quotedIdentifier(int start, int bodyStart, boolean unicode) throws LexError {
    StringBuilder v = new StringBuilder();
    int i = bodyStart;
    while (true) {
      if (i >= s.length()) {
        throw new LexError("unterminated quoted identifier", start);
      }
      char c = s.charAt(i);
      if (c == '"') {
        if (at(i + 1) == '"') {
          v.append('"');
          i += 2;
          continue;
        }
        i++;
        break;
      }
      v.append(c);
      i++;
    }
    if (v.isEmpty()) {
      throw new LexError("zero-length delimited identifier", start);
    }
    String value = v.toString();
    int end = i;
    if (unicode) {
      char esc = '\\';
      int[] u = uescape(end);
      if (u != null) {
        esc = (char) u[0];
        end = u[1];
      }
      value = decodeUnicodeEscapes(value, esc, start);
    }
    out.add(new PgToken(Kind.QUOTED_IDENT, s.substring(start, end), truncate(value), start, end));
    pos = end;
  }

  /**
   * Looks for {@code UESCAPE 'c'} after a Unicode literal (whitespace and comments may come
   * between: the server handles it in the grammar filter, parser.c). Returns {escape char, end}.
   */
  private int[] uescape(int from) throws LexError {
    int i = skipSpaceAndComments(from);
    if (!s.regionMatches(true, i, "uescape", 0, 7) || isIdentCont(at(i + 7))) {
      return null;
    }
    int j = skipSpaceAndComments(i + 7);
    if (at(j) != '\'' || !has(j + 2) || s.charAt(j + 2) != '\'' || at(j + 3) == '\'') {
      throw new LexError("UESCAPE must be followed by a simple string literal", i);
    }
    char c = s.charAt(j + 1);
    if (Character.digit(c, 16) >= 0 || c == '+' || c == '\'' || c == '"' || isSpace(c)) {
      throw new LexError("invalid Unicode escape character", j);
    }
    return new int[] {c, j + 3};
  }

  private int skipSpaceAndComments(int from) throws LexError {
    int save = pos;
    pos = from;
    try {
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (isSpace(c)) {
          pos++;
        } else if (c == '-' && at(pos + 1) == '-') {
          skipLineComment();
        } else if (c == '/' && at(pos + 1) == '*') {
          skipBlockComment();
        } else {
          break;
        }
      }
      return pos;
    } finally {
      pos = save;
    }
  }

  /** Unicode escapes {@code \XXXX} and {@code \+XXXXXX}, escape char doubled for itself. */
  private static String decodeUnicodeEscapes(String body, char esc, int offset) throws LexError {
    if (body.indexOf(esc) < 0) {
      return body;
    }
    StringBuilder b = new StringBuilder(body.length());
    for (int i = 0; i < body.length(); ) {
      char c = body.charAt(i);
      if (c != esc) {
        b.append(c);
        i++;
        continue;
      }
      if (i + 1 < body.length() && body.charAt(i + 1) == esc) {
        b.append(esc);
        i += 2;
        continue;
      }
      int digits = 4;
      int p = i + 1;
      if (p < body.length() && body.charAt(p) == '+') {
        digits = 6;
        p++;
      }
      int cp = hex(body, p, digits);
      if (cp < 0 || !Character.isValidCodePoint(cp) || cp == 0) {
        throw new LexError("invalid Unicode escape", offset);
      }
      // A surrogate pair may be written as two escapes.
      if (Character.isHighSurrogate((char) cp) && cp < 0x10000) {
        int q = p + digits;
        if (q + 4 < body.length() + 1 && q < body.length() && body.charAt(q) == esc) {
          int lo = hex(body, q + 1, 4);
          if (lo >= 0 && Character.isLowSurrogate((char) lo)) {
            b.appendCodePoint(Character.toCodePoint((char) cp, (char) lo));
            i = q + 5;
            continue;
          }
        }
        throw new LexError("invalid Unicode surrogate pair", offset);
      }
      b.appendCodePoint(cp);
      i = p + digits;
    }
    return b.toString();
  }

  private static int hex(String t, int from, int digits) {
    if (from + digits > t.length()) {
      return -1;
    }
    int v = 0;
    for (int k = 0; k < digits; k++) {
      int d = Character.digit(t.charAt(from + k), 16);
      if (d < 0) {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  /**
   * String constants (§4.1.2.1–4.1.2.3). {@code mode}: 'q' ordinary (backslash is an escape only
   * when standard_conforming_strings is off), 'e' escape string (backslash always escapes), 'u'
   * Unicode escape string. Two constants separated only by whitespace that contains at least one
   * newline are one constant (§4.1.2.1, scan.l {@code quotecontinue}); the continuation is lexed in
   * the mode of the first part.
   */
  private void stringConstant(int start, int bodyStart, char mode) throws LexError {
    boolean backslash = mode == 'e' || (mode == 'q' && !standardConformingStrings);
    StringBuilder raw = new StringBuilder();
    int i = bodyStart;
    while (true) {
      if (i >= s.length()) {
        throw new LexError("unterminated quoted string", start);
      }
      char c = s.charAt(i);
      if (c == '\'') {
        if (at(i + 1) == '\'') {
          raw.append("''");
          i += 2;
          continue;
        }
        int cont = continuation(i + 1);
        if (cont >= 0) {
          i = cont;
          continue;
        }
        i++;
        break;
      }
      if (c == '\\' && backslash) {
        if (i + 1 >= s.length()) {
          throw new LexError("unterminated quoted string", start);
        }
        raw.append(c).append(s.charAt(i + 1));
        i += 2;
        continue;
      }
      raw.append(c);
      i++;
    }
    String value;
    int end = i;
    if (mode == 'u') {
      char esc = '\\';
      int[] u = uescape(end);
      if (u != null) {
        esc = (char) u[0];
        end = u[1];
      }
      value = decodeUnicodeEscapes(raw.toString().replace("''", "'"), esc, start);
    } else if (backslash) {
      value = decodeBackslashEscapes(raw.toString(), start);
    } else {
      value = raw.toString().replace("''", "'");
    }
    out.add(new PgToken(Kind.STRING, s.substring(start, end), value, start, end));
    pos = end;
  }

  /**
   * After a closing quote at {@code from - 1}: if horizontal whitespace or {@code --} comments, a
   * newline, then more whitespace or {@code --} comments each ending in a newline lead to another
   * quote, returns the offset just after that quote; else -1 (scan.l {@code quotecontinue}). Block
   * comments do not qualify.
   */
  private int continuation(int from) {
    int i = from;
    // horiz_whitespace: spaces, tabs, form feeds and -- comments (up to, not including, the
    // newline)
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == ' ' || c == '\t' || c == '\f' || c == 0x0B) {
        i++;
      } else if (c == '-' && at(i + 1) == '-') {
        while (i < s.length() && s.charAt(i) != '\n' && s.charAt(i) != '\r') {
          i++;
        }
      } else {
        break;
      }
    }
    if (!(at(i) == '\n' || at(i) == '\r') || !has(i)) {
      return -1;
    }
    while (i < s.length()) {
      char c = s.charAt(i);
      if (isSpace(c)) {
        i++;
      } else if (c == '-' && at(i + 1) == '-') {
        int j = i;
        while (j < s.length() && s.charAt(j) != '\n' && s.charAt(j) != '\r') {
          j++;
        }
        if (j >= s.length()) {
          return -1;
        }
        i = j;
      } else if (c == '\'') {
        return i + 1;
      } else {
        return -1;
      }
    }
    return -1;
  }

  /**
   * Backslash escapes of E'' strings (§4.1.2.2, Table 4.1): \b \f \n \r \t, octal \o \oo \ooo, hex
   * \xh \xhh, \\uXXXX, \\UXXXXXXXX, any other char stands for itself. Octal and hex escapes give
   * bytes, which must form valid UTF-8 together with their neighbours.
   */
  private static String decodeBackslashEscapes(String raw, int offset) throws LexError {
    if (raw.indexOf('\\') < 0) {
      return raw.replace("''", "'");
    }
    ByteBuffer bytes = ByteBuffer.allocate(raw.length() * 4 + 8);
    StringBuilder plain = new StringBuilder();
    for (int i = 0; i < raw.length(); ) {
      char c = raw.charAt(i);
      if (c == '\'') { // '' (the only way a quote appears in raw besides \')
        plain.append('\'');
        i += 2;
        continue;
      }
      if (c != '\\') {
        plain.append(c);
        i++;
        continue;
      }
      flush(plain, bytes);
      char n = raw.charAt(i + 1);
      i += 2;
      switch (n) {
        case 'b' -> bytes.put((byte) '\b');
        case 'f' -> bytes.put((byte) '\f');
        case 'n' -> bytes.put((byte) '\n');
        case 'r' -> bytes.put((byte) '\r');
        case 't' -> bytes.put((byte) '\t');
        case 'x' -> {
          int v = -1;
          int k = 0;
          while (k < 2 && i + k < raw.length() && Character.digit(raw.charAt(i + k), 16) >= 0) {
            v = (v < 0 ? 0 : v * 16) + Character.digit(raw.charAt(i + k), 16);
            k++;
          }
          if (k == 0) {
            bytes.put((byte) 'x'); // "\x" without digits is just x
          } else {
            bytes.put((byte) v);
            i += k;
          }
        }
        case 'u', 'U' -> {
          int digits = n == 'u' ? 4 : 8;
          int cp = hex(raw, i, digits);
          if (cp < 0 || !Character.isValidCodePoint(cp) || cp == 0) {
            throw new LexError("invalid Unicode escape", offset);
          }
          i += digits;
          if (Character.isHighSurrogate((char) cp) && cp < 0x10000) {
            int lo = raw.startsWith("\\u", i) ? hex(raw, i + 2, 4) : -1;
            if (lo < 0 || !Character.isLowSurrogate((char) lo)) {
              throw new LexError("invalid Unicode surrogate pair", offset);
            }
            cp = Character.toCodePoint((char) cp, (char) lo);
            i += 6;
          }
          plain.appendCodePoint(cp);
          flush(plain, bytes);
        }
        default -> {
          if (n >= '0' && n <= '7') {
            int v = n - '0';
            int k = 0;
            while (k < 2
                && i + k < raw.length()
                && raw.charAt(i + k) >= '0'
                && raw.charAt(i + k) <= '7') {
              v = v * 8 + (raw.charAt(i + k) - '0');
              k++;
            }
            i += k;
            if ((v & 0xFF) == 0) {
              throw new LexError("invalid byte sequence: \\0 in string", offset);
            }
            bytes.put((byte) v);
          } else {
            plain.append(n);
          }
        }
      }
    }
    flush(plain, bytes);
    bytes.flip();
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(bytes)
          .toString();
    } catch (CharacterCodingException e) {
      throw new LexError("invalid byte sequence for encoding UTF8 in string", offset);
    }
  }

  private static void flush(StringBuilder plain, ByteBuffer bytes) {
    if (!plain.isEmpty()) {
      bytes.put(plain.toString().getBytes(StandardCharsets.UTF_8));
      plain.setLength(0);
    }
  }

  /**
   * {@code B'0101'} / {@code X'1F'} (§4.1.2.5): no escapes; the body ends at the first quote. May
   * continue across a newline like other string constants.
   */
  private void bitString(int start) throws LexError {
    boolean binary = s.charAt(start) == 'b' || s.charAt(start) == 'B';
    StringBuilder v = new StringBuilder();
    int i = start + 2;
    while (true) {
      if (i >= s.length()) {
        throw new LexError("unterminated bit string literal", start);
      }
      char c = s.charAt(i);
      if (c == '\'') {
        int cont = continuation(i + 1);
        if (cont >= 0) {
          i = cont;
          continue;
        }
        i++;
        break;
      }
      if (binary ? (c != '0' && c != '1') : Character.digit(c, 16) < 0) {
        throw new LexError("invalid digit in bit string", i);
      }
      v.append(c);
      i++;
    }
    out.add(new PgToken(Kind.BIT_STRING, s.substring(start, i), v.toString(), start, i));
    pos = i;
  }

  /**
   * {@code $n} parameter, or a dollar-quoted string {@code $tag$...$tag$} whose tag follows the
   * rules of an unquoted identifier except that it cannot contain {@code $} (§4.1.2.4). A lone
   * {@code $} that starts neither is returned as a single character (scan.l {@code dolqfailed}).
   */
  private void dollar() throws LexError {
    int start = pos;
    char n = at(pos + 1);
    if (n >= '0' && n <= '9') {
      int i = pos + 1;
      while (i < s.length() && Character.isDigit(s.charAt(i))) {
        i++;
      }
      if (has(i) && isIdentStart(s.charAt(i))) {
        throw new LexError("trailing junk after parameter", start);
      }
      emit(Kind.PARAM, start, i, null);
      return;
    }
    int i = pos + 1;
    if (isIdentStart(n) && has(pos + 1)) {
      i++;
      while (i < s.length() && isDolqCont(s.charAt(i))) {
        i++;
      }
    }
    if (at(i) != '$' || !has(i)) {
      emit(Kind.OTHER, start, start + 1, null);
      return;
    }
    String delim = s.substring(start, i + 1);
    int bodyStart = i + 1;
    int close = s.indexOf(delim, bodyStart);
    if (close < 0) {
      throw new LexError("unterminated dollar-quoted string", start);
    }
    int end = close + delim.length();
    out.add(
        new PgToken(
            Kind.DOLLAR_STRING,
            s.substring(start, end),
            s.substring(bodyStart, close),
            start,
            end));
    pos = end;
  }

  /**
   * Numeric constants (§4.1.2.6): decimal with optional {@code _} between digits, {@code 0x},
   * {@code 0o}, {@code 0b} prefixes, fractions, exponents. A number immediately followed by an
   * identifier character is an error since PostgreSQL 15 ("trailing junk after numeric literal");
   * {@code 1..2} lexes as {@code 1} {@code ..} {@code 2}.
   */
  private void number() throws LexError {
    int start = pos;
    int i = pos;
    char p = Character.toLowerCase(at(i + 1));
    if (at(i) == '0' && (p == 'x' || p == 'o' || p == 'b')) {
      int radix = p == 'x' ? 16 : p == 'o' ? 8 : 2;
      i += 2;
      int digits = 0;
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c == '_' && Character.digit(at(i + 1), radix) >= 0 && has(i + 1)) {
          i++;
        } else if (Character.digit(c, radix) >= 0) {
          i++;
          digits++;
        } else {
          break;
        }
      }
      if (digits == 0) {
        throw new LexError("invalid " + p + " integer", start);
      }
    } else {
      i = decinteger(i);
      if (at(i) == '.' && at(i + 1) == '.') {
        emit(Kind.NUMBER, start, i, null);
        return;
      }
      if (at(i) == '.' && has(i)) {
        i++;
        if (Character.isDigit(at(i))) {
          i = decinteger(i);
        }
      }
      if ((at(i) == 'e' || at(i) == 'E') && has(i)) {
        int j = i + 1;
        if (at(j) == '+' || at(j) == '-') {
          j++;
          if (!Character.isDigit(at(j))) {
            throw new LexError("trailing junk after numeric literal", start);
          }
        }
        if (Character.isDigit(at(j))) {
          i = decinteger(j);
        }
      }
    }
    if (has(i) && isIdentStart(s.charAt(i))) {
      throw new LexError("trailing junk after numeric literal", start);
    }
    emit(Kind.NUMBER, start, i, null);
  }

  private int decinteger(int from) {
    int i = from;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (Character.isDigit(c) && c < 0x80) {
        i++;
      } else if (c == '_' && i > from && at(i + 1) >= '0' && at(i + 1) <= '9' && has(i + 1)) {
        i++;
      } else {
        break;
      }
    }
    return i;
  }

  /**
   * Operators (§4.1.3): the longest run of operator characters, cut before an embedded {@code --}
   * or {@code /*} (those start comments), and stripped of a trailing {@code +}/{@code -} unless the
   * operator also contains one of {@code ~ ! @ # % ^ & | ` ?} — so {@code a=-1} is {@code =} and
   * {@code -1}.
   */
  private void operator() {
    int start = pos;
    int i = pos;
    while (i < s.length() && isOpChar(s.charAt(i))) {
      i++;
    }
    String op = s.substring(start, i);
    int n = op.length();
    int cut = -1;
    int a = op.indexOf("/*");
    int b = op.indexOf("--");
    if (a >= 0 && b >= 0) {
      cut = Math.min(a, b);
    } else {
      cut = Math.max(a, b);
    }
    if (cut >= 0) {
      n = cut;
    }
    if (n > 1 && (op.charAt(n - 1) == '+' || op.charAt(n - 1) == '-')) {
      boolean special = false;
      for (int k = n - 2; k >= 0; k--) {
        if ("~!@#^&|`?%".indexOf(op.charAt(k)) >= 0) {
          special = true;
          break;
        }
      }
      if (!special) {
        do {
          n--;
        } while (n > 1 && (op.charAt(n - 1) == '+' || op.charAt(n - 1) == '-'));
      }
    }
    // n == 0 cannot happen: a run starting with "--" or "/*" was taken as a comment.
    emit(Kind.OPERATOR, start, start + n, null);
  }
}
