package dev.gatehouse.approval;

import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The identity of a request for review: who, on which connection, which kind of action, exactly
 * what runs, and how the gateway classified it. Re-running the identical request finds the same
 * review; anything else is a new request.
 *
 * <p>"Exactly what runs" is what the protocol gives ({@link
 * dev.gatehouse.gate.ReviewGate.Waiting#exactly}): for PostgreSQL the statement's tokens as the
 * server lexes them (comments dropped, so the justification comment and layout do not count) and
 * the exact Bind parameters; for commands the exact argv, environment and working directory.
 * Without it, the raw text byte for byte: no whitespace or comment folding here, since where a
 * comment ends (a newline after {@code --}, nested {@code /* *}{@code /}, a shell {@code #}) is the
 * protocol's grammar, and folding across it made two different requests one (a newline after {@code
 * --} turning a comment into code).
 *
 * <p>Every attribute but the justification is bound too (statement kinds, tables, search path,
 * argv, binary, cwd, ...), so any difference in how the gateway classified the request also makes
 * it another request.
 */
final class Fingerprint {

  private Fingerprint() {}

  static String of(String subject, String connection, Action action, String exactly) {
    List<String> parts = new ArrayList<>();
    parts.add(subject);
    parts.add(connection);
    parts.add(action.kind().wireName());
    // "=" or "~" tells the two sources apart, so a raw text can never pose as a protocol's form.
    parts.add(exactly == null ? "=" + action.raw() : "~" + exactly);
    for (Map.Entry<String, Object> e : new TreeMap<>(action.attributes()).entrySet()) {
      if (e.getKey().equals(ReviewService.JUSTIFICATION)) {
        continue; // a re-run with another justification still finds its approval
      }
      parts.add(e.getKey());
      value(parts, e.getValue());
    }
    return sha256(parts);
  }

  /** A value as typed parts: a list's size then its items, so no two values share a rendering. */
  private static void value(List<String> parts, Object v) {
    if (v instanceof List<?> l) {
      parts.add("[" + l.size());
      for (Object o : l) {
        value(parts, o);
      }
    } else if (v == null) {
      parts.add("N");
    } else {
      parts.add(v.getClass().getSimpleName().charAt(0) + v.toString());
    }
  }

  /**
   * The justification in a leading SQL comment ({@code /* justification: OPS-42 *}{@code /} or
   * {@code -- justification: OPS-42}), or null. It lets a psql user give one without any client
   * support. The comment is delimited by PostgreSQL's rules (sql-syntax-lexical.html §4.1.5): block
   * comments nest, so {@code /* justification: /* *}{@code / x *}{@code /} ends at the second
   * {@code *}{@code /}, and a line comment ends at a newline or carriage return. What the reviewer
   * is shown as the justification is then exactly what the server skips.
   */
  static String sqlJustification(Action action) {
    if (action.kind() != ActionKind.SQL) {
      return null;
    }
    String s = action.raw();
    int i = 0;
    while (i < s.length() && isSqlSpace(s.charAt(i))) {
      i++;
    }
    String body;
    if (s.startsWith("/*", i)) {
      int end = blockCommentEnd(s, i);
      if (end < 0) {
        return null; // unterminated: the server rejects the statement anyway
      }
      body = s.substring(i + 2, end - 2);
    } else if (s.startsWith("--", i)) {
      int end = i + 2;
      while (end < s.length() && s.charAt(end) != '\n' && s.charAt(end) != '\r') {
        end++;
      }
      body = s.substring(i + 2, end);
    } else {
      return null;
    }
    body = body.strip();
    if (!body.regionMatches(true, 0, "justification", 0, "justification".length())) {
      return null;
    }
    String rest = body.substring("justification".length()).stripLeading();
    if (!rest.startsWith(":")) {
      return null;
    }
    String j = rest.substring(1).strip();
    return j.isEmpty() ? null : j;
  }

  /** Just past the {@code *}{@code /} that closes the block comment at {@code from}, or -1. */
  private static int blockCommentEnd(String s, int from) {
    int depth = 0;
    int i = from;
    while (i < s.length()) {
      if (s.startsWith("/*", i)) {
        depth++;
        i += 2;
      } else if (s.startsWith("*/", i)) {
        depth--;
        i += 2;
        if (depth == 0) {
          return i;
        }
      } else {
        i++;
      }
    }
    return -1;
  }

  /** PostgreSQL's whitespace (scan.l {@code space}: space, tab, newline, CR, form feed, VT). */
  private static boolean isSqlSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
  }

  private static String sha256(List<String> parts) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (String p : parts) {
        byte[] b = p.getBytes(StandardCharsets.UTF_8);
        // Length-prefix every part so that ("ab","c") and ("a","bc") differ.
        md.update(Integer.toString(b.length).getBytes(StandardCharsets.US_ASCII));
        md.update((byte) ':');
        md.update(b);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
