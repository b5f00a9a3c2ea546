package dev.gatehouse.approval;

import dev.gatehouse.policy.Action;
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
