package dev.gatehouse.approval;

import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The identity of a request for review: who, on which connection, which kind of action, the
 * normalised text and its bound parameters. Re-running the identical request finds the same review;
 * anything else is a new request. The requester's justification is deliberately not part of it, so
 * a re-run with another justification still finds its approval.
 */
final class Fingerprint {
  /** Attribute holding bound parameters (extended query protocol, prepared commands). */
  static final String PARAMS = "params";

  private Fingerprint() {}

  /**
   * A leading SQL comment carrying the requester's justification: {@code /* justification: OPS-42
   * *}{@code /} or {@code -- justification: OPS-42}. It lets a psql user give one without any
   * client support; it is not part of the fingerprint.
   */
  private static final Pattern SQL_JUSTIFICATION =
      Pattern.compile(
          "^\\s*(?:/\\*\\s*justification\\s*:\\s*(.*?)\\s*\\*/|--[ \\t]*justification[ \\t]*:[ \\t]*([^\\r\\n]*))",
          Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

  static String of(String subject, String connection, Action action) {
    Object params = action.attributes().get(PARAMS);
    return sha256(
        subject,
        connection,
        action.kind().wireName(),
        normalize(withoutJustification(action)),
        params == null ? "" : params.toString());
  }

  /** The justification in a leading SQL comment, or null. */
  static String sqlJustification(Action action) {
    if (action.kind() != ActionKind.SQL) {
      return null;
    }
    Matcher m = SQL_JUSTIFICATION.matcher(action.raw());
    if (!m.find()) {
      return null;
    }
    String j = (m.group(1) != null ? m.group(1) : m.group(2)).strip();
    return j.isEmpty() ? null : j;
  }

  private static String withoutJustification(Action action) {
    if (action.kind() != ActionKind.SQL) {
      return action.raw();
    }
    Matcher m = SQL_JUSTIFICATION.matcher(action.raw());
    return m.find() ? action.raw().substring(m.end()) : action.raw();
  }

  private static String sha256(String... parts) {
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

  /**
   * Collapses runs of whitespace outside quotes into one space and trims, so that re-typing a
   * statement with different line breaks finds its approval. Text inside single or double quotes is
   * kept as is: {@code 'a b'} and {@code 'a b'} are different values. Dollar-quoted bodies ({@code
   * $$…$$}) are not recognised and are collapsed like code; that can only make two statements that
   * differ in whitespace inside such a body share a fingerprint.
   */
  static String normalize(String raw) {
    StringBuilder sb = new StringBuilder(raw.length());
    char quote = 0;
    boolean pendingSpace = false;
    for (int i = 0; i < raw.length(); i++) {
      char ch = raw.charAt(i);
      if (quote != 0) {
        sb.append(ch);
        if (ch == quote) {
          quote = 0;
        }
        continue;
      }
      if (Character.isWhitespace(ch)) {
        pendingSpace = sb.length() > 0;
        continue;
      }
      if (pendingSpace) {
        sb.append(' ');
        pendingSpace = false;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
      }
      sb.append(ch);
    }
    return sb.toString();
  }
}
