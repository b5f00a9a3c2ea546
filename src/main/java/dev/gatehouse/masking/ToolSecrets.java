package dev.gatehouse.masking;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Secrets in the shapes that common tools print them: a base64-encoded PEM private key ({@code
 * kubectl config view --raw}: {@code client-key-data}), the values of sensitive Terraform outputs
 * ({@code terraform output -json}), registry credentials in a Docker {@code config.json}, passwords
 * on client command lines ({@code mysql -pX}, {@code curl -u user:X}; also as {@code ps aux} shows
 * them), Oracle {@code user/password@db} logins, redis {@code requirepass} and the rows of {@code
 * vault kv get} and MySQL tables. Each is gated by its own keyword (a tool name, a file's shape),
 * so ordinary values never run them.
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

  /** Type of the passwords found on command lines and in credential files. */
  static final String CONNECTION = "connection_password";

  /** A shell variable, {@code $PW} or {@code ${PW}}. */
  private static final String VAR = "\\$\\{?[A-Za-z_][A-Za-z0-9_]*\\}?";

  /** A bare value: up to a space, quote, shell operator or escape sequence. */
  private static final String BARE = "[^\\s'\"|;&<>`\\u001b]";

  /**
   * A password value on a command line: single-quoted (group 1), double-quoted (group 2) or bare
   * (group 3). A bare or double-quoted value that is only a shell reference ({@code $PW}, {@code
   * ${PW}}, {@code $(cat f)}) is not the secret: the shell expands it. In single quotes the shell
   * expands nothing, so {@code -p'$uperSecret9'} is the password itself (POSIX shell, 2.2.2
   * Single-Quotes: https://pubs.opengroup.org/onlinepubs/9799919799/utilities/V3_chap02.html).
   */
  static final String VALUE =
      "(?:'([^'\\r\\n]{1,256})'"
          + "|\"(?!(?:"
          + VAR
          + "|\\$\\([^\"]*)\")([^\"\\r\\n]{1,256})\""
          + "|(?!"
          + VAR
          + "(?!"
          + BARE
          + ")|\\$\\()("
          + BARE
          + "{1,256}))";

  /**
   * The rest of a command before an option: nothing, or a space and other arguments on the same
   * line that are not another command ({@code |}, {@code ;}, {@code &}); then the space before the
   * option.
   */
  private static final String ARGS = "(?:\\s[^\\r\\n|;&]{0,512}?)?\\s";

  /** A tool name not inside a longer word or path part ({@code /usr/bin/mysql} still counts). */
  private static final String B = "(?<![A-Za-z0-9_.-])";

  /** The closing double quote, or the end of the line when the quote is left open. */
  private static final String END_QUOTE = "(?:\"|(?=[\\r\\n])|$)";

  /**
   * A user name and a password joined by {@code sep} in one shell word: the password in groups 1
   * ({@code 'user:pw'}, up to the closing quote, spaces included), 2 ({@code "user:pw"}, not a
   * shell reference alone) or 3 to 5 ({@link #VALUE} after a bare user: {@code user:pw}, {@code
   * user:'pw'}).
   */
  private static String userAndValue(char sep, int minUser) {
    // A quote left open (a cut line) runs to the end of the line: fail closed, as the value
    // before this expression read quotes did.
    String user = "{" + minUser + ",128}" + sep;
    return "(?:'[^\\s"
        + sep
        + "']"
        + user
        + "([^'\\r\\n]{1,256})"
        + END_QUOTE.replace('"', '\'')
        + "|\"[^\\s"
        + sep
        + "\"]"
        + user
        + "(?!(?:"
        + VAR
        + "|\\$\\([^\"]*)\")([^\"\\r\\n]{1,256})"
        + END_QUOTE
        + "|[^\\s"
        + sep
        + "'\"]"
        + user
        + VALUE
        + ")";
  }

  /**
   * Placeholders are not the secret: {@code ****}, {@code <password>}, an option. Shell references
   * ({@code $PW}) are left out by {@link #VALUE} itself, which knows the quotes.
   */
  private static final List<Pattern> REFERENCES =
      List.of(Pattern.compile("^(?:\\*{1,16}|<[^>]{0,64}>|-.*)$"));

  private static RegexDetector cli(String regex, String... keywords) {
    return new RegexDetector(
        CONNECTION,
        95,
        Pattern.compile(regex),
        1,
        RegexDetector.Validator.NONE,
        0,
        List.of(keywords),
        REFERENCES,
        List.of());
  }

  /**
   * Passwords given as options to database and network clients. Armed only by the tool's name:
   * {@code -p} is a port or a path flag for most other tools ({@code ssh -p 2222}, {@code mkdir
   * -p}, {@code docker run -p 8080:80}), so the option is read only after that name on the same
   * command. A client that prompts ({@code mysql -p} alone, {@code curl -u user}) has no value to
   * mask.
   */
  static SecretDetectors.Composite commandLines() {
    return new SecretDetectors.Composite(
        CONNECTION,
        95,
        Detector.F_DASH,
        0,
        List.of(
            // MySQL and MariaDB clients: the password glued to -p
            // (https://dev.mysql.com/doc/refman/8.4/en/connection-options.html#option_general_password).
            cli(
                B
                    + "(?:mysql(?:dump|admin|import|check|show|slap|binlog|pump)?"
                    + "|mariadb(?:-dump|-admin|-import|-check|-show|-slap|-binlog)?)(?:\\.exe)?"
                    + ARGS
                    + "-p"
                    + VALUE,
                "mysql",
                "mariadb"),
            // redis-cli -a PASSWORD, --pass PASSWORD
            // (https://redis.io/docs/latest/develop/tools/cli/).
            cli(B + "redis-cli(?:\\.exe)?" + ARGS + "(?:-a|--pass)\\s+" + VALUE, "redis-cli"),
            // sshpass -p PASSWORD: only among sshpass's own options, before the command it runs
            // (whose -p is a port: sshpass -f file ssh -p 2222 host).
            cli(B + "sshpass(?:\\s+-(?:[fdP]\\s*\\S{1,256}|[ve]))*\\s+-p\\s*" + VALUE, "sshpass"),
            // SQL Server clients: -P password (-p is something else there).
            cli(B + "(?i:sqlcmd|osql)(?:\\.exe)?" + ARGS + "-P\\s*" + VALUE, "sqlcmd", "osql"),
            // OpenLDAP clients: -w password (-W prompts).
            cli(
                B
                    + "ldap(?:search|modify|add|delete|whoami|passwd|compare|modrdn|exop|url)"
                    + ARGS
                    + "-w\\s*"
                    + VALUE,
                "ldap"),
            // Samba clients: -U user%password, --user=user%password.
            cli(
                B
                    + "(?:smbclient|smbcacls|smbget|smbmap|smbtree)"
                    + ARGS
                    + "(?:-U\\s*|--user[=\\s])"
                    + userAndValue('%', 1),
                "smb"),
            // htpasswd -b: the password is the last argument (after the file unless -n).
            cli(
                "(?m)"
                    + B
                    + "htpasswd(?=(?:\\s+-[A-Za-z]+(?:\\s+[0-9]{1,2})?)*?\\s+-[A-Za-z]*b[A-Za-z]*\\s)"
                    + "(?:\\s+-[A-Za-z]+(?:\\s+[0-9]{1,2})?)+(?:\\s+[^\\s|;&<>-][^\\s|;&<>]{0,255}){1,2}"
                    + "\\s+"
                    + VALUE
                    + "(?=[ \\t]*(?:$|[|;&<>]))",
                "htpasswd"),
            // Registry logins: docker login -p PASSWORD (and podman, buildah, skopeo).
            cli(
                B + "(?:docker|podman|buildah|skopeo)\\s+login" + ARGS + "-p\\s+" + VALUE,
                "docker",
                "podman",
                "buildah",
                "skopeo"),
            // az login -p SECRET (a service principal's secret or certificate path).
            cli(B + "az\\s+login" + ARGS + "(?:-p|--password)(?:\\s+|=)" + VALUE, "az login"),
            // curl -u user:password, --user user:password, --proxy-user, -U
            // (https://curl.se/docs/manpage.html#-u); without the colon curl prompts.
            cli(
                B
                    + "curl(?:\\.exe)?"
                    + ARGS
                    + "(?:-u\\s*|--user(?:\\s+|=)|-U\\s*|--proxy-user(?:\\s+|=))"
                    + userAndValue(':', 0),
                "curl")));
  }

  /** An Oracle password after the user's slash, not a shell reference ({@code scott/$PW@db}). */
  private static final String ORACLE_PW =
      "(?!" + VAR + "(?![^\\s/@\"'])|\\$\\()([^\\s/@\"']{1,128})";

  /**
   * Oracle logins {@code user/password@connect}: JDBC thin URLs ({@code
   * jdbc:oracle:thin:scott/tiger@//host:1521/svc}), EZConnect ({@code user/pw@//host}) and the
   * {@code sqlplus} command line (also {@code sqlplus sys/pw as sysdba}, without a connect
   * identifier). rman, expdp and impdp are not read: their names would take keyword slots of the
   * first pass (docs/masking.md, limits).
   */
  static SecretDetectors.Composite oracleLogins() {
    return new SecretDetectors.Composite(
        CONNECTION,
        95,
        0,
        0,
        List.of(
            cli(
                "(?<![A-Za-z0-9_$#/.-])[A-Za-z][A-Za-z0-9_$#]{0,127}/"
                    + ORACLE_PW
                    + "@(?://)?"
                    + "[A-Za-z0-9\\[(]",
                "jdbc:oracle",
                "@//"),
            cli(
                B
                    + "(?i:sqlplus)(?:\\.exe)?(?:\\s+-[A-Za-z]{1,16})*\\s+"
                    + "['\"]?[A-Za-z][A-Za-z0-9_$#]{0,127}/"
                    + ORACLE_PW
                    + "(?=[@\\s'\"]|$)",
                "sqlplus")));
  }

  /**
   * The redis password ({@code requirepass}, and the replica's {@code masterauth}) as redis.conf,
   * {@code CONFIG GET} and {@code CONFIG SET} show it
   * (https://redis.io/docs/latest/operate/oss_and_stack/management/replication/). Both words are
   * token runs of 10 or more characters: that gate keeps sentences with the letters of masterauth
   * (which most English sentences have) and no such long word from the keyword search.
   */
  static SecretDetectors.Composite redisPasswords() {
    return new SecretDetectors.Composite(
        CONNECTION,
        95,
        0,
        "masterauth".length(),
        List.of(
            cli(
                "\"(?:requirepass|masterauth)\"[ \\t]{0,8}\\r?\\n[ \\t]{0,8}[0-9]{1,3}\\)[ \\t]{0,4}"
                    + "\"([^\"\\r\\n]{1,512})\"",
                "requirepass",
                "masterauth"),
            // CONFIG GET without a terminal (redis-cli prints the name and the value as lines).
            cli(
                "(?m)^(?:requirepass|masterauth)\\r?\\n([^\\s\"]{1,512})\\r?$",
                "requirepass",
                "masterauth"),
            cli(
                "(?im)(?:^[ \\t]{0,8}|config\\s+set\\s+)(?:requirepass|masterauth)[ \\t]+" + VALUE,
                "requirepass",
                "masterauth")));
  }

  /**
   * The password of a {@code .pgpass} line ({@code hostname:port:database:username:password},
   * https://www.postgresql.org/docs/current/libpq-pgpass.html; {@code \:} and {@code \\} escape a
   * colon and a backslash): a line of exactly five fields, the host {@code *} or a host name or
   * address (with a letter or a dot), the port {@code *} or 1-5 digits, the database and user
   * {@code *} or a name with a letter, the password without spaces. Gated by four colons ({@link
   * Detector#F_COLON4}), settled on the bytes, so times and other colon-separated values do not run
   * it.
   */
  static final class PgPass extends Detector {
    PgPass() {
      super("connection_password", 92);
    }

    @Override
    int needFlags() {
      return F_COLON4;
    }

    @Override
    int minLength() {
      return 9; // *:*:*:*:p
    }

    @Override
    void find(String s, List<Finding> out) {
      int n = s.length();
      int[] colon = new int[4];
      for (int ls = 0; ls < n; ) {
        int le = s.indexOf('\n', ls);
        le = le < 0 ? n : le;
        int a = ls;
        while (a < le && (s.charAt(a) == ' ' || s.charAt(a) == '\t')) {
          a++;
        }
        int e = le;
        while (e > a && Character.isWhitespace(s.charAt(e - 1))) {
          e--;
        }
        int k = 0;
        int end = e;
        boolean ok = true;
        for (int i = a; i < e && ok; i++) {
          char c = s.charAt(i);
          if (c == '\\') {
            i++; // an escaped colon or backslash
          } else if (c == ':') {
            if (k == 4) {
              end = i; // libpq ends the password at an unescaped colon
              break;
            }
            colon[k++] = i;
          } else if (k < 4 && Character.isWhitespace(c)) {
            ok = false; // fields before the password hold none; the password may (libpq)
          }
        }
        if (ok
            && k == 4
            && colon[3] + 1 < end
            && !macAddress(s, a, e)
            && host(s, a, colon[0])
            && port(s, colon[0] + 1, colon[1])
            && name(s, colon[1] + 1, colon[2])
            && name(s, colon[2] + 1, colon[3])) {
          add(out, colon[3] + 1, end);
        }
        ls = le + 1;
      }
    }

    /**
     * Whether {@code s[from, to)} is a MAC address (EUI-48, or EUI-64: six or eight pairs of hex
     * digits between colons, as {@code ip link} and {@code arp} print them), which has the shape of
     * a .pgpass line with a two-character password ({@code ef:05:b4:b1:13:bb}).
     */
    private static boolean macAddress(String s, int from, int to) {
      int len = to - from;
      if (len != 17 && len != 23) {
        return false;
      }
      for (int i = 0; i < len; i++) {
        char c = s.charAt(from + i);
        if (i % 3 == 2 ? c != ':' : !Checks.isHex(c)) {
          return false;
        }
      }
      return true;
    }

    private static boolean host(String s, int from, int to) {
      if (to - from == 1 && s.charAt(from) == '*') {
        return true;
      }
      boolean letterOrDot = false;
      for (int i = from; i < to; i++) {
        char c = s.charAt(i);
        if (!(Checks.isAlnum(c) || c == '.' || c == '-' || c == '_')) {
          return false;
        }
        letterOrDot |= c == '.' || Checks.isAsciiLetter(c);
      }
      return to > from && to - from <= 253 && letterOrDot;
    }

    private static boolean port(String s, int from, int to) {
      if (to - from == 1 && s.charAt(from) == '*') {
        return true;
      }
      return to > from && to - from <= 5 && PiiDetectors.digits(s, from, to - from);
    }

    private static boolean name(String s, int from, int to) {
      if (to - from == 1 && s.charAt(from) == '*') {
        return true;
      }
      boolean letter = false;
      for (int i = from; i < to && !letter; i++) {
        letter = Character.isLetter(s.charAt(i));
      }
      return letter && to - from <= 128;
    }
  }

  /**
   * Secret rows of the key-value tables that tools print: {@code vault kv get} (a {@code Key Value}
   * header, then rows of a name and its value after two or more spaces) and MySQL ({@code SHOW
   * VARIABLES}, {@code SELECT}: {@code | password | value |}). Only rows whose name ends in a
   * secret's name ({@code password}, {@code api_key}, {@code db_secret}) are masked: {@code
   * token_ttl} and {@code created_time} are not secrets.
   */
  static final class KeyValueTable extends Detector {
    static final String NAME =
        "(?i:(?:[A-Za-z0-9_.-]{0,64}[_.-])?(?:password|passwd|pass|pwd|secret|token|api[_-]?key"
            + "|apikey|private[_-]?key|secret[_-]?key|access[_-]?key|client[_-]?secret"
            + "|credentials?|requirepass|masterauth))";
    private static final Pattern VAULT_HEADER = Pattern.compile("(?m)^Key[ \\t]+Value[ \\t]*\\r?$");
    private static final Pattern VAULT_ROW =
        Pattern.compile("(?m)^" + NAME + "[ \\t]{2,}(\\S[^\\r\\n]{0,511}?)[ \\t]*\\r?$");
    private static final Pattern TABLE_ROW =
        Pattern.compile(
            "(?m)\\|[ \\t]*" + NAME + "[ \\t]*\\|[ \\t]*([^|\\s][^|\\r\\n]{0,511}?)[ \\t]*\\|");

    KeyValueTable() {
      super(CONNECTION, 95);
    }

    /** The header's dashes ({@code --- -----}, {@code +----+}). */
    @Override
    int needFlags() {
      return F_DASH;
    }

    /** Both tables have a {@code Value} column. */
    @Override
    List<String> keywords() {
      return List.of("value");
    }

    @Override
    void find(String s, List<Finding> out) {
      Matcher h = VAULT_HEADER.matcher(s);
      if (h.find()) {
        Matcher m = VAULT_ROW.matcher(s);
        m.region(h.end(), s.length());
        while (m.find()) {
          value(out, m.start(1), m.end(1), m.group(1));
        }
      }
      if (s.indexOf('|') >= 0) {
        Matcher m = TABLE_ROW.matcher(s);
        while (m.find()) {
          value(out, m.start(1), m.end(1), m.group(1));
        }
      }
    }

    private void value(List<Finding> out, int start, int end, String v) {
      String l = v.toLowerCase(Locale.ROOT);
      if (!l.equals("null") && !l.equals("n/a") && !l.equals("<nil>") && !l.equals("-")) {
        add(out, start, end);
      }
    }
  }

  /**
   * True when {@code line} is the header of a table that {@link KeyValueTable} reads rows after
   * ({@code Key Value}, {@code | Variable_name | Value |}): the stream masker keeps it for
   * detection while rows follow.
   */
  static boolean keyValueHeader(String line) {
    return KeyValueTable.VAULT_HEADER.matcher(line).matches()
        || (line.startsWith("|") && TABLE_VALUE_HEADER.matcher(line).find());
  }

  /** A column named {@code value} in a MySQL header. */
  private static final Pattern TABLE_VALUE_HEADER =
      Pattern.compile("(?i)\\|[ \\t]*value[ \\t]*\\|");
}
