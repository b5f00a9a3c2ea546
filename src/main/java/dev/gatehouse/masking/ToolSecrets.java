package dev.gatehouse.masking;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Secrets in the shapes that common tools print them: a base64-encoded PEM private key ({@code
 * kubectl config view --raw}: {@code client-key-data}), the values of sensitive Terraform outputs
 * ({@code terraform output -json}) and registry credentials in a Docker {@code config.json}. Each
 * is gated by its own keyword, so ordinary values never run them.
 */
final class ToolSecrets {
  private ToolSecrets() {}

  /** Longest base64 key looked at: a 4096-bit RSA key in PEM is about 3.3 KB, 4.4 KB in base64. */
  static final int MAX_BASE64_KEY = 16 * 1024;

  /**
   * A line of a wrapped base64 key has at least this many characters (RFC 4648 section 3.1 encoders
   * wrap at 64 or 76, RFC 7468 section 2 at 64): a shorter line is the last one.
   */
  static final int WRAP_MIN = 60;

  /** base64 of "-----BEGIN" at the start of the encoded data. */
  static final String BEGIN_B64 = "LS0tLS1CRUdJTi";

  static boolean isBase64(char c) {
    return Checks.isAlnum(c) || c == '+' || c == '/' || c == '=';
  }

  /**
   * A PEM private key encoded in base64 again, as kubeconfig ({@code client-key-data}), Kubernetes
   * secrets and Helm values carry it: a base64 run that starts with {@link #BEGIN_B64} and whose
   * decoded start is a private-key BEGIN line (a certificate, {@code -----BEGIN CERTIFICATE-----},
   * is public and stays). A run wrapped into lines of {@link #WRAP_MIN}+ characters is followed
   * across its line breaks.
   */
  static final class Base64PrivateKey extends Detector {
    private static final Pattern BEGIN =
        Pattern.compile("-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----");

    Base64PrivateKey() {
      super("private_key", 99);
    }

    @Override
    int minTokenRun() {
      return BEGIN_B64.length();
    }

    /**
     * The encoded BEGIN less its first two characters: keywords are indexed by their first two
     * letters, and "ls" starts many English words ("else", "tools") where "0t" starts none.
     */
    @Override
    List<String> keywords() {
      return List.of(BEGIN_B64.substring(2).toLowerCase(java.util.Locale.ROOT));
    }

    @Override
    void find(String s, List<Finding> out) {
      int from = 0;
      int i;
      while ((i = s.indexOf(BEGIN_B64, from)) >= 0) {
        from = i + BEGIN_B64.length();
        if (i > 0 && isBase64(s.charAt(i - 1))) {
          continue;
        }
        int end = runEnd(s, i);
        if (isKeyHeader(s, i, end)) {
          add(out, i, end);
          from = end;
        }
      }
    }

    /** End of the base64 run at {@code i}, across the line breaks of a wrapped run. */
    static int runEnd(String s, int i) {
      int n = Math.min(s.length(), i + MAX_BASE64_KEY);
      int j = i;
      int lineStart = i;
      while (true) {
        while (j < n && isBase64(s.charAt(j))) {
          j++;
        }
        if (j - lineStart < WRAP_MIN) {
          return j;
        }
        int k = j;
        if (k < n && s.charAt(k) == '\r') {
          k++;
        }
        if (k >= n || s.charAt(k) != '\n') {
          return j;
        }
        int next = k + 1;
        int e = next;
        while (e < n && isBase64(s.charAt(e))) {
          e++;
        }
        // The next line continues the key only if it is base64 through its end.
        boolean whole = e > next && (e == s.length() || s.charAt(e) == '\n' || s.charAt(e) == '\r');
        if (!whole) {
          return j;
        }
        lineStart = next;
        j = e;
      }
    }

    /** True when the run decodes to the start of a private-key BEGIN line. */
    static boolean isKeyHeader(String s, int start, int end) {
      // 64 characters decode to 48 bytes: the longest BEGIN line (three words) fits.
      StringBuilder b = new StringBuilder(64);
      for (int k = start; k < end && b.length() < 64; k++) {
        char c = s.charAt(k);
        if (c != '\r' && c != '\n') {
          b.append(c);
        }
      }
      int len = b.length() - b.length() % 4;
      byte[] d = Checks.decodeBase64(b.substring(0, len));
      if (d == null) {
        return false;
      }
      return BEGIN.matcher(new String(d, StandardCharsets.ISO_8859_1)).lookingAt();
    }
  }

  /**
   * An {@code assignment} part armed by one JSON member name (with its quotes) and a colon, so that
   * only JSON that has the member runs it.
   */
  abstract static class JsonMember extends Detector {
    private final List<String> keywords;

    JsonMember(String quotedName) {
      super("assignment", 75);
      this.keywords = List.of(quotedName);
    }

    @Override
    final int needFlags() {
      return F_COLON;
    }

    @Override
    final List<String> keywords() {
      return keywords;
    }
  }

  /**
   * The value of a sensitive Terraform output in {@code terraform output -json} (and {@code
   * terraform show -json} outputs): an object with {@code "sensitive": true} and then a {@code
   * "value"} member (Terraform writes the members in alphabetical order: sensitive, type, value;
   * https://developer.hashicorp.com/terraform/cli/commands/output). The string inside the quotes is
   * masked, or every string value inside an object or list value, so the JSON stays well formed.
   * Numbers and booleans are left alone (a masked number would not be JSON).
   */
  static final class TerraformSensitive extends JsonMember {
    private static final Pattern SENSITIVE = Pattern.compile("\"sensitive\"\\s{0,8}:\\s{0,8}true");

    /** How far after {@code "sensitive": true} the value is looked for. */
    static final int WINDOW = 8192;

    TerraformSensitive() {
      super("\"sensitive\"");
    }

    @Override
    void find(String s, List<Finding> out) {
      Matcher m = SENSITIVE.matcher(s);
      while (m.find()) {
        scan(s, m.end(), out, this);
      }
    }

    /**
     * The start of the last {@code "sensitive": true} in {@code s} from {@code floor} if its object
     * has not ended before {@code cut}, or -1: a stream holds it back from there, so that the value
     * is read with its object (the members come line by line).
     */
    static int openFrom(String s, int floor, int cut) {
      int i = s.lastIndexOf("\"sensitive\"");
      if (i < floor || i < 0 || i >= cut) {
        return -1;
      }
      Matcher m = SENSITIVE.matcher(s);
      if (!m.find(i) || m.start() != i) {
        // "sensitive" without ": true" yet may still become one
        return s.length() - i < 24 && s.indexOf('\n', i) < 0 ? i : -1;
      }
      int end = objectEnd(s, m.end());
      return end < 0 || end > cut ? i : -1;
    }

    /** End of the object that the text from {@code from} is in, or -1 if it has not ended. */
    private static int objectEnd(String s, int from) {
      int n = Math.min(s.length(), from + WINDOW);
      int end = walk(s, from, n, (q, e, depth, name) -> false);
      return end < 0 && n < s.length() ? n : end; // the window ended: give up on this object
    }

    /** Adds the strings of the {@code "value"} member after {@code from} in the same object. */
    private static void scan(String s, int from, List<Finding> out, Detector d) {
      int n = Math.min(s.length(), from + WINDOW);
      walk(
          s,
          from,
          n,
          (q, e, depth, name) -> {
            if (depth != 0 || !name || e - q != 7 || !s.startsWith("\"value\"", q)) {
              return false;
            }
            int v = skipSpace(s, skipSpace(s, e, n) + 1, n);
            if (v < n && s.charAt(v) == '"') {
              int ve = stringEnd(s, v, n);
              if (ve > 0) {
                d.add(out, v + 1, ve - 1);
              }
            } else if (v < n && (s.charAt(v) == '{' || s.charAt(v) == '[')) {
              // an object or list: every string in it that is not a member name
              walk(
                  s,
                  v + 1,
                  n,
                  (vq, ve, vd, vname) -> {
                    if (!vname) {
                      d.add(out, vq + 1, ve - 1);
                    }
                    return false;
                  });
            } // a number, boolean or null stays (masked, it would not be JSON)
            return true;
          });
    }

    /** What {@link #walk} calls for each string; true stops the walk. */
    private interface Strings {
      boolean string(int quote, int end, int depth, boolean name);
    }

    /**
     * Walks JSON text from {@code i} (inside an object or list, at depth 0) to {@code n}, calling
     * {@code strings} for each complete string with its depth and whether it is a member name.
     * Returns the index after the bracket that closes the enclosing object or list, the end of the
     * string at which {@code strings} stopped, or -1 when the text ended first.
     */
    private static int walk(String s, int i, int n, Strings strings) {
      int depth = 0;
      while (i < n) {
        char c = s.charAt(i);
        if (c == '"') {
          int e = stringEnd(s, i, n);
          if (e < 0) {
            return -1;
          }
          int k = skipSpace(s, e, n);
          if (strings.string(i, e, depth, k < n && s.charAt(k) == ':')) {
            return e;
          }
          i = e;
          continue;
        }
        if (c == '{' || c == '[') {
          depth++;
        } else if ((c == '}' || c == ']') && --depth < 0) {
          return i + 1;
        }
        i++;
      }
      return -1;
    }

    /** End (after the closing quote) of the JSON string at {@code q}, or -1 if unfinished. */
    private static int stringEnd(String s, int q, int n) {
      for (int i = q + 1; i < n; i++) {
        char c = s.charAt(i);
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          return i + 1;
        } else if (c == '\n') {
          return -1;
        }
      }
      return -1;
    }

    private static int skipSpace(String s, int i, int n) {
      while (i < n
          && (s.charAt(i) == ' '
              || s.charAt(i) == '\t'
              || s.charAt(i) == '\n'
              || s.charAt(i) == '\r')) {
        i++;
      }
      return i;
    }
  }

  /**
   * Registry credentials in a Docker {@code config.json} ({@code "auths": {"registry": {"auth":
   * "…"}}}, https://docs.docker.com/reference/cli/docker/login/): the {@code auth} member is base64
   * of {@code user:password}. Masked when it decodes to printable text with a colon between a
   * non-empty user and password; other {@code "auth"} values (a mode name, a flag) stay.
   */
  static final class DockerAuth extends JsonMember {
    private static final Pattern AUTH =
        Pattern.compile("\"auth\"\\s{0,8}:\\s{0,8}\"([A-Za-z0-9+/]{4,2048}={0,2})\"");

    DockerAuth() {
      super("\"auth\"");
    }

    @Override
    void find(String s, List<Finding> out) {
      Matcher m = AUTH.matcher(s);
      while (m.find()) {
        byte[] d = Checks.decodeBase64(m.group(1));
        if (d == null || !Checks.looksLikeText(d)) {
          continue;
        }
        String t = new String(d, StandardCharsets.UTF_8);
        int colon = t.indexOf(':');
        if (colon > 0 && colon < t.length() - 1) {
          add(out, m.start(1), m.end(1));
        }
      }
    }
  }
}
