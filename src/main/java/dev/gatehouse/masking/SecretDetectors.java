package dev.gatehouse.masking;

import static dev.gatehouse.masking.Checks.isAlnum;
import static dev.gatehouse.masking.Checks.isBase64Url;
import static dev.gatehouse.masking.Checks.isDigit;
import static dev.gatehouse.masking.Checks.isLower;
import static dev.gatehouse.masking.Checks.isUpper;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Detectors for credentials: keys, tokens, passwords in connection strings and assignments. */
final class SecretDetectors {
  /**
   * An absolute path of two or more directories: the shell's {@code PWD} in env output, which a
   * password detector would otherwise take for {@code pwd=} (see {@code Assignment.shellPwd}).
   */
  static final String DIRECTORY_PATH = "(?:/[A-Za-z0-9._~-]+){2,}/?";

  private SecretDetectors() {}

  /**
   * Several keyword-gated expressions reported under one type. Each part runs only when one of its
   * own keywords occurs in the text.
   */
  static final class Composite extends Detector {
    final List<RegexDetector> parts;
    final List<String> keywords;
    final int needFlags;
    final int minTokenRun;
    private final List<Detector> more;

    Composite(
        String type, int priority, int needFlags, int minTokenRun, List<RegexDetector> parts) {
      this(type, priority, needFlags, minTokenRun, parts, List.of());
    }

    /**
     * With {@code more}: parts of the same type that need other gates (flags, token runs), so that
     * this composite's gates do not hide them and theirs do not arm it.
     */
    Composite(
        String type,
        int priority,
        int needFlags,
        int minTokenRun,
        List<RegexDetector> parts,
        List<Detector> more) {
      super(type, priority);
      this.more = List.copyOf(more);
      this.needFlags = needFlags;
      this.minTokenRun = minTokenRun;
      this.parts = List.copyOf(parts);
      List<String> kw = new ArrayList<>();
      for (RegexDetector p : parts) {
        for (String k : p.keywords()) {
          if (!kw.contains(k)) {
            kw.add(k);
          }
        }
      }
      this.keywords = List.copyOf(kw);
    }

    @Override
    List<String> keywords() {
      return keywords;
    }

    @Override
    List<Detector> parts() {
      if (more.isEmpty()) {
        return List.of(this);
      }
      List<Detector> all = new ArrayList<>(more.size() + 1);
      all.add(this);
      all.addAll(more);
      return all;
    }

    @Override
    int needFlags() {
      return needFlags;
    }

    @Override
    int minTokenRun() {
      return minTokenRun;
    }

    @Override
    void find(String text, List<Finding> out) {
      String lower = text.toLowerCase(Locale.ROOT);
      for (RegexDetector p : parts) {
        boolean hit = p.keywords().isEmpty();
        for (int k = 0; k < p.keywords().size() && !hit; k++) {
          hit = lower.contains(p.keywords().get(k));
        }
        if (hit) {
          p.find(text, out);
        }
      }
    }
  }

  private static RegexDetector part(String type, String regex, int group, String... keywords) {
    return RegexDetector.simple(type, 95, regex, group, keywords);
  }

  /**
   * Levels of escaping read through: JSON in a JSON string in a JSON string in a JSON string, each
   * level doubling the backslashes before a quote and adding one (1, 3, 7, 15).
   */
  static final int MAX_ESCAPE_DEPTH = 4;

  /** Backslashes before a quote at {@link #MAX_ESCAPE_DEPTH} levels of escaping. */
  static final int MAX_ESCAPE_RUN = (1 << MAX_ESCAPE_DEPTH) - 1;

  /**
   * A JSON quote, also escaped or doubled (see {@code Assignment#escapedValues}): captured as group
   * 1 and matched again by {@link #Q_AGAIN}, so that every quote of a member has the same escape.
   * Escaped by any run of up to {@link #MAX_ESCAPE_RUN} backslashes, not only by one: JSON held in
   * a JSON string is escaped once ({@code \"private_key_id\"}), and again when that string is
   * itself a member of a JSON document serialised as a string ({@code \\\"private_key_id\\\"}: a
   * log event whose message carries a request body; RFC 8259 section 7), or doubled as CSV and
   * PostgreSQL record text double it ({@code ""private_key_id""}). The run before the first quote
   * is read whole (no backslash before it), so a value's quotes are judged by the escape the key's
   * have.
   */
  private static final String Q = "(?<!\\\\)(\\\\{0," + MAX_ESCAPE_RUN + "}\"|\"\")";

  /** The quote {@link #Q} captured, again (a back reference to group 1). */
  private static final String Q_AGAIN = "\\1";

  /** Cloud and SaaS credentials with documented, recognisable formats. */
  static Composite cloudCredentials() {
    String t = "credential";
    // Every format has a run of at least 15 token characters ([A-Za-z0-9+/=_-]).
    return new Composite(
        t,
        95,
        0,
        15,
        List.of(
            // AWS access key ids (IAM user, temporary STS and other principal prefixes).
            part(
                t,
                "(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)"
                    + "[A-Z0-9]{16}(?![A-Za-z0-9])",
                0,
                "akia",
                "asia",
                "abia",
                "acca",
                "agpa",
                "aida",
                "aipa",
                "anpa",
                "anva",
                "apka",
                "aroa",
                "asca"),
            // AWS secret access key: 40 characters, recognisable only next to its name.
            part(
                t,
                "(?i:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key|aws_?secret)"
                    + "[\"']?\\s{0,4}(?:=|:|=>)\\s{0,4}[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
                1,
                "secret"),
            // GCP service-account JSON: the key and its id; also inside a JSON string
            // (\"private_key_id\":\"…\") or a CSV field or PostgreSQL record (doubled quotes).
            part(
                t,
                Q
                    + "private_key_id"
                    + Q_AGAIN
                    + "\\s{0,4}:\\s{0,4}"
                    + Q_AGAIN
                    + "([a-f0-9]{40})"
                    + Q_AGAIN,
                2,
                "private_key_id"),
            part(
                t,
                Q
                    + "private_key"
                    + Q_AGAIN
                    + "\\s{0,4}:\\s{0,4}"
                    + Q_AGAIN
                    + "([^\"]{1,8192})"
                    + Q_AGAIN,
                2,
                "\"private_key"),
            // Azure storage / service bus connection strings and SAS signatures.
            part(
                t,
                "(?i:AccountKey|SharedAccessKey)\\s{0,2}=\\s{0,2}([A-Za-z0-9+/]{20,128}={0,2})",
                1,
                "accountkey",
                "sharedaccesskey"),
            part(t, "[?&]sig=([A-Za-z0-9%+/=]{20,128})", 1, "sig="),
            // GitHub tokens (classic and fine-grained).
            part(
                t,
                "(?<![A-Za-z0-9_])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,251}(?![A-Za-z0-9_])",
                0,
                "ghp_",
                "gho_",
                "ghu_",
                "ghs_",
                "ghr_"),
            part(t, "(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,251}", 0, "github_pat_"),
            // GitLab personal, deploy and runner tokens.
            part(
                t,
                "(?<![A-Za-z0-9_-])(?:glpat|gldt|glrt|glptt)-[A-Za-z0-9_-]{20,64}",
                0,
                "glpat-",
                "gldt-",
                "glrt-",
                "glptt-"),
            // Slack bot/user/app tokens and incoming webhooks.
            part(t, "(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,251}", 0, "xox"),
            part(t, "(?<![A-Za-z0-9])xapp-[0-9]-[A-Za-z0-9-]{10,251}", 0, "xapp-"),
            part(
                t,
                "https://hooks\\.slack\\.com/(?:services|workflows)/([A-Za-z0-9/_]{20,120})",
                1,
                "hooks.slack.com"),
            // Stripe secret, restricted and publishable keys; webhook secrets.
            part(
                t,
                "(?<![A-Za-z0-9_])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,251}",
                0,
                "sk_",
                "rk_",
                "pk_"),
            part(t, "(?<![A-Za-z0-9_])whsec_[A-Za-z0-9+/=]{20,128}", 0, "whsec_"),
            // Google API keys, npm, PyPI, SendGrid, Twilio, OpenAI / Anthropic style keys.
            part(t, "(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])", 0, "aiza"),
            part(t, "(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])", 0, "npm_"),
            part(t, "pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,512}", 0, "pypi-"),
            part(t, "(?<![A-Za-z0-9_-])SG\\.[A-Za-z0-9_-]{16,32}\\.[A-Za-z0-9_-]{16,64}", 0, "sg."),
            // After a dash only when a number precedes it (an id joined by a dash: row-17-sk-…).
            part(
                t,
                "(?<![A-Za-z0-9_])(?<![A-Za-z_-]-)sk-(?:proj-|ant-[a-z0-9]{2,10}-|svcacct-)?[A-Za-z0-9_-]{20,251}",
                0,
                "sk-"),
            // HashiCorp Vault tokens, DigitalOcean, Shopify, Heroku-style prefixed tokens.
            // (Vault's three prefixes by name; DigitalOcean's three share their _v1_)
            part(t, "(?<![A-Za-z0-9_])hv[sbr]\\.[A-Za-z0-9_-]{20,251}", 0, "hvs.", "hvb.", "hvr."),
            part(t, "(?<![A-Za-z0-9_])do[opr]_v1_[a-f0-9]{64}", 0, "_v1_"),
            part(
                t,
                "(?<![A-Za-z0-9_])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
                0,
                "shpat_",
                "shpca_",
                "shppa_",
                "shpss_"),
            // Braintree access tokens (gitleaks braintree-api-key; sandbox ones too, which data
            // copied from a test account carries the same way).
            part(
                t,
                "access_token\\$(?:production|sandbox)\\$[0-9a-z]{16}\\$[0-9a-f]{32}",
                0,
                "access_token$"),
            // Docker Hub personal and organisation access tokens.
            part(t, "(?<![A-Za-z0-9_])dckr_(?:pat|oat)_[A-Za-z0-9_-]{20,64}", 0, "dckr_"),
            // Discord webhook: the id and token after /api/webhooks/ post to the channel
            // (https://discord.com/developers/docs/resources/webhook).
            part(
                t,
                "https://(?:(?:ptb|canary)\\.)?discord(?:app)?\\.com/api/(?:v\\d{1,2}/)?webhooks/"
                    + "(\\d{15,22}/[A-Za-z0-9_-]{60,100})",
                1,
                "discord"),
            // age identities (https://age-encryption.org/v1): Bech32 of the X25519 key.
            part(t, "AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}", 0, "age-secret-key-1"),
            // Linear API keys and OAuth tokens.
            part(
                t,
                "(?<![A-Za-z0-9_])lin_(?:api|oauth)_[A-Za-z0-9]{40}(?![A-Za-z0-9])",
                0,
                "lin_api_",
                "lin_oauth_"),
            // Sentry DSN: the public key (and the legacy secret key) in the user part
            // (https://docs.sentry.io/concepts/key-terms/dsn-explainer/).
            part(
                t,
                "(?i)https?://([0-9a-f]{32}(?::[0-9a-f]{32})?)@[A-Za-z0-9.-]{1,253}[:/]",
                1,
                "sentry",
                "ingest"),
            // Mapbox secret tokens (the public pk.eyJ… tokens are meant to be published).
            part(
                t,
                "(?<![A-Za-z0-9_-])sk\\.eyJ[A-Za-z0-9_-]{10,512}\\.[A-Za-z0-9_-]{20,128}",
                0,
                "sk.eyj"),
            // Atlassian API tokens (gitleaks atlassian-api-token: ATATT3 and 186 characters of
            // base64url, an '=' and a checksum among them): read whole, the entropy detector
            // stopped at the '=' and left the tail.
            part(t, "(?<![A-Za-z0-9_-])ATATT3[A-Za-z0-9_=-]{150,250}", 0, "atatt3"),
            // Databricks personal access tokens.
            part(t, "(?<![A-Za-z0-9])dapi[0-9a-f]{32}(?:-[0-9])?(?![A-Za-z0-9])", 0, "dapi"),
            // Mailchimp API keys: 32 hex digits and the data centre.
            part(t, "(?<![A-Za-z0-9])[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])", 0, "-us")),
        // Azure AD (Entra ID) client secrets: 3 characters, a digit, "Q~" and 31-34 more from
        // [A-Za-z0-9_~.-]; dots and tildes may leave no run of 15 token characters, so this part
        // has no token-run gate. Masked whole (the entropy detector alone kept about half).
        List.of(
            part(
                t,
                "(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}"
                    + "(?![A-Za-z0-9_~.-])",
                0,
                "q~")));
  }

  /** Passwords inside connection URLs and ADO/ODBC/JDBC key-value connection strings. */
  static Composite connectionStrings() {
    String t = "connection_password";
    // scheme://user:password@host needs a colon, Password=… an equals sign.
    return new Composite(
        t,
        92,
        Detector.F_COLON | Detector.F_EQ,
        0,
        List.of(
            part(
                t,
                "(?i)(?<![A-Za-z0-9+.-])[a-z][a-z0-9+.-]{1,30}://[^\\s:/?#@\"'<>]{0,128}"
                    + ":([^\\s/\"'<>]{1,256})@[A-Za-z0-9\\[]",
                1,
                "://"),
            new RegexDetector(
                t,
                95,
                Pattern.compile(
                    "(?i)(?:^|[;?&\\s\"'])"
                        // the shell's PWD at a line's start, as env prints it, with a directory
                        // of two or more levels (PWD=/tmp/gatehouse-job-a8Kq2ZxR7m/work): not an
                        // ODBC password, which follows a ';' (…;UID=sa;PWD=/Tr0ub/4dor;)
                        + "(?!(?<![^\\r\\n])pwd="
                        + DIRECTORY_PATH
                        + "(?=\\s|$))"
                        + "(?:password|pwd)\\s{0,3}=\\s{0,3}"
                        + "(\\{[^}]{0,256}\\}|\"[^\"]{0,256}\"|'[^']{0,256}'"
                        // not ending in the backslash of an escaped quote (password=\"…\" in a
                        // JSON string): masked alone it would leave the quote unescaped
                        + "|[^;&\\s\"'\\u001b]{1,256}(?<![^\\\\]\\\\))"),
                1,
                RegexDetector.Validator.NONE,
                0,
                List.of("password", "pwd"),
                // References to a secret are not the secret: ${VAR}, {{var}}, %(var)s.
                // A command substitution ($(cat file), `cat file`) is not one either, nor what
                // terraform plan shows instead of a value: (sensitive value), (known after apply).
                List.of(
                    Pattern.compile(
                        "^(?:\\$\\{[^}]*\\}|\\{\\{.*\\}\\}|%\\([a-z_]+\\)s|\\$\\(.*|`.*"
                            + "|\\((?:sensitive|known)\\b.*)$")),
                List.of())),
        // Passwords on the command lines of database and network clients, and in the files and
        // tables that tools print (each gated by its own tool name or file shape).
        List.of(
            ToolSecrets.commandLines(),
            ToolSecrets.oracleLogins(),
            ToolSecrets.redisPasswords(),
            new ToolSecrets.KeyValueTable(),
            new ToolSecrets.PgPass()));
  }

  /**
   * The value after a bare {@code pass} key ({@code pass=hunter2}, {@code PASS: Tr0ub4dor&3},
   * {@code ?user=bob&pass=letmein}), which {@link Assignment} reads only as the end of a longer
   * name ({@code DB_PASS}): alone the word is as often a count or a status ({@code pass: 12 fail:
   * 0}, {@code pass: yes}, {@code Pass: Gold}). So the value is read as a password when it has a
   * letter and a digit or another character (what a password policy asks for), and any value that
   * is not a status word when the key is a URL query parameter or a user or login key comes before
   * it on the same line ({@code login: admin / pass: letmein}).
   */
  static final class BarePass extends Detector {
    private static final Pattern KEY_VALUE =
        Pattern.compile(
            "(?i)(?<![A-Za-z0-9_-])pass[\"']?[^\\S\\r\\n]{0,2}(?:(=)|:)[^\\S\\r\\n]{0,3}"
                + "(?:\"([^\"\\r\\n]{1,128})\"|'([^'\\r\\n]{1,128})'"
                + "|([^\\s\"',;<>)}\\]\\u001b]{1,128}))");

    /** Values that are a status, a count or a reference, not a password. */
    private static final Pattern NOT_A_VALUE =
        Pattern.compile(
            "(?i)true|false|yes|no|ok|none|null|nil|n/?a|on|off|y|n|x|pass(?:ed)?|fail(?:ed)?"
                + "|skip(?:ped)?|[-*.?]+|\\$\\{.*|\\{\\{.*|%\\([a-z_]+\\)s|\\$\\(.*|`.*");

    /** A user or login key before the value, on its line. */
    private static final Pattern USER_KEY =
        Pattern.compile(
            "(?i)(?<![A-Za-z])(?:user(?:[_-]?name)?|login|usr|uid|account)[\"']?[^\\S\\r\\n]{0,2}[:=]");

    BarePass() {
      super("assignment", 75);
    }

    @Override
    List<String> keywords() {
      return List.of("pass");
    }

    @Override
    int needFlags() {
      return F_EQ | F_COLON;
    }

    @Override
    void find(String s, List<Finding> out) {
      Matcher m = KEY_VALUE.matcher(s);
      while (m.find()) {
        int g = m.group(2) != null ? 2 : m.group(3) != null ? 3 : 4;
        int from = m.start(g);
        int to = m.end(g);
        if (g == 4 && m.group(1) != null && s.indexOf('&', from) >= 0) {
          // after "=" a bare value ends at "&", the next parameter of a URL query or form (after
          // ": " it is a character of the password, "pass: Tr0ub4dor&3")
          int amp = s.indexOf('&', from);
          to = amp < to ? amp : to;
        }
        String v = s.substring(from, to);
        if (v.isEmpty() || NOT_A_VALUE.matcher(v).matches()) {
          continue;
        }
        boolean letter = false;
        boolean other = false;
        for (int i = 0; i < v.length(); i++) {
          char c = v.charAt(i);
          letter |= Character.isLetter(c);
          other |= !Character.isLetter(c);
        }
        if ((letter && other) || inCredentialContext(s, m.start())) {
          add(out, from, to);
        }
      }
    }

    /** A URL query parameter ({@code ?pass=}, {@code &pass=}), or a user key before on the line. */
    private static boolean inCredentialContext(String s, int key) {
      if (key > 0 && (s.charAt(key - 1) == '?' || s.charAt(key - 1) == '&')) {
        return true;
      }
      int line = Math.max(s.lastIndexOf('\n', key - 1) + 1, Math.max(0, key - 256));
      return USER_KEY.matcher(s).region(line, key).find();
    }
  }

  /**
   * The value of a name that ends in {@code _AUTH} or {@code -auth} ({@code REDIS_AUTH=…}, the
   * Redis password of many compose files and Helm charts, {@code PROXY_AUTH=user:pass}, {@code
   * smtp-auth: …}), which {@link Assignment} does not read: the word names an authentication method
   * as often ({@code SMTP_AUTH=login}, {@code DB_AUTH=scram-sha-256}, {@code proxy_auth: ntlm}). So
   * the value is read only when it looks like a password: 10 or more characters with a letter and a
   * digit, and not a lower-case hyphenated identifier (a method or a cipher's name, {@code
   * scram-sha-256}, {@code aes-256-gcm}). Red team mask20.
   */
  static final class AuthName extends Detector {
    private static final Pattern KEY_VALUE =
        Pattern.compile(
            "(?i)(?<=[A-Za-z0-9][_-])auth[\"']?[^\\S\\r\\n]{0,2}[:=][^\\S\\r\\n]{0,3}"
                // a quoted value whose closing quote never comes on its line is read to its end
                + "(?:\"([^\"\\r\\n]{10,256})(?:\"|(?=\\r?\\n|$))|'([^'\\r\\n]{10,256})'"
                + "|([^\\s\"',;<>)}\\]\\u001b]{10,256}))");

    private static final Pattern IDENTIFIER = Pattern.compile("[a-z0-9]+(?:-[a-z0-9]+)+");

    AuthName() {
      super("assignment", 75);
    }

    @Override
    List<String> keywords() {
      return List.of("_auth", "-auth");
    }

    @Override
    int needFlags() {
      return F_EQ | F_COLON;
    }

    @Override
    void find(String s, List<Finding> out) {
      Matcher m = KEY_VALUE.matcher(s);
      while (m.find()) {
        int g = m.group(1) != null ? 1 : m.group(2) != null ? 2 : 3;
        String v = m.group(g);
        if (IDENTIFIER.matcher(v).matches()
            || v.startsWith("${")
            || v.startsWith("$(")
            || v.startsWith("{{")) {
          continue;
        }
        boolean letter = false;
        boolean digit = false;
        for (int i = 0; i < v.length(); i++) {
          char c = v.charAt(i);
          letter |= Character.isLetter(c);
          digit |= isDigit(c);
        }
        if (letter && digit) {
          add(out, m.start(g), m.end(g));
        }
      }
    }
  }

  /**
   * A password written in a sentence: {@code the password is hunter2}, {@code my password was
   * "Fluffy 2024"}, {@code password for the VPN is Sup3rS3cret!}, {@code password has been reset to
   * Tmp-4821}, as support tickets and notes carry them. The sentence's word is no key, so most of
   * what follows it is prose ({@code the password is incorrect}, {@code is case-sensitive}, {@code
   * is 8 characters}): a bare word is read as a password only when it has a letter and a digit or a
   * symbol other than a hyphen (after dropping the sentence's closing punctuation); a quoted one
   * always.
   */
  static final class PasswordPhrase extends Detector {
    /** The words for password the phrase starts with (also TextStreamMasker's hold). */
    static final List<String> WORDS = List.of("password", "passwort", "passcode", "passphrase");

    private static final Pattern PHRASE =
        Pattern.compile(
            "(?i)(?<![A-Za-z])(?:"
                + String.join("|", WORDS)
                + ")"
                + "(?:(?:[^\\S\\r\\n]{1,3}for[^\\S\\r\\n]{1,3}(?:the[^\\S\\r\\n]{1,3})?[^\\s:=]{1,40})?"
                + "[^\\S\\r\\n]{1,3}(?:is|was|will[^\\S\\r\\n]{1,3}be"
                + "|(?:has[^\\S\\r\\n]{1,3}been[^\\S\\r\\n]{1,3})?(?:changed|set|reset)"
                + "[^\\S\\r\\n]{1,3}to)"
                + "[^\\S\\r\\n]{0,3}:?"
                // "temp password for Yuki Dubois: jY713i*UV1BdX": for, one to three words, a colon
                // (a support note's or an onboarding mail's line; red team mask20)
                + "|[^\\S\\r\\n]{1,3}for(?:[^\\S\\r\\n]{1,3}[^\\s:=]{1,40}){1,3}[^\\S\\r\\n]{0,3}:)"
                + "[^\\S\\r\\n]{1,3}(?:now[^\\S\\r\\n]{1,3})?"
                + "(?:\"([^\"\\r\\n]{1,128})\"|'([^'\\r\\n]{1,128})'|([^\\s\"']{1,128}))");

    PasswordPhrase() {
      super("assignment", 75);
    }

    @Override
    List<String> keywords() {
      return WORDS;
    }

    /**
     * Every word of the phrase has {@code ss} and then {@code w}, {@code c} or {@code p}: a
     * sentence with the keyword's letters (most of them) fails this before the keyword search.
     */
    @Override
    boolean hasAsciiGate() {
      return true;
    }

    @Override
    boolean gateAt(int c, byte[] b, int i, int end) {
      if ((c | 0x20) != 's' || i + 2 >= end || (b[i + 1] | 0x20) != 's') {
        return false;
      }
      int n = b[i + 2] | 0x20;
      return n == 'w' || n == 'c' || n == 'p';
    }

    @Override
    void find(String s, List<Finding> out) {
      Matcher m = PHRASE.matcher(s);
      while (m.find()) {
        if (m.group(3) == null) {
          int g = m.group(1) != null ? 1 : 2;
          if (!m.group(g).isBlank()) {
            add(out, m.start(g), m.end(g));
          }
          continue;
        }
        int from = m.start(3);
        int to = m.end(3);
        while (to > from && ".,;:!?)]}".indexOf(s.charAt(to - 1)) >= 0) {
          to--; // the sentence's punctuation, not the password's
        }
        boolean letter = false;
        boolean digitOrSymbol = false;
        for (int i = from; i < to; i++) {
          char c = s.charAt(i);
          letter |= Character.isLetter(c);
          digitOrSymbol |= !Character.isLetter(c) && c != '-';
        }
        if (letter && digitOrSymbol && !s.startsWith("${", from) && !s.startsWith("$(", from)) {
          add(out, from, to);
        }
      }
    }
  }

  /**
   * Values assigned to secret-looking names: {@code password=…}, {@code "api_key": "…"}, {@code
   * DB_PASSWORD=…}, {@code token: …}, {@code --password …}, {@code Authorization: Bearer …}. Only
   * the value is masked. Obvious non-values (true, false, null, empty, references like ${VAR}) are
   * left alone.
   */
  static final class Assignment extends Detector {
    static final String KEY =
        // A bare "pass" only as the end of a name (DB_PASS, smtp-pass): "pass: 12" is a test count.
        "(?:passwd|password|passphrase|passcode|pwd|(?<=[_-])pass|secret"
            // PublicKeyToken=b77a5c561934e089 in a .NET assembly name is public.
            + "|(?<!publickey)token|api[_-]?key"
            + "|apikey|access[_-]?key"
            // DB_PW, SMTP-PW (only as the end of a name, like pass); psw; APP_KEY (Laravel,
            // Datadog DD_APP_KEY); SECRET_KEY_BASE (Rails); secret_id (Vault AppRole).
            + "|(?<=[_-])pw|(?<![A-Za-z])psw|app[_-]?key|secret[_-]?key[_-]?base|secret[_-]?id"
            // The word in languages where it contains "pass", the keyword that arms this detector;
            // the words without it are found by OtherLanguages.
            + "|passwort|mot[ _]de[ _]passe|passord"
            // client-key-data: the client's private key in kubeconfig (kubectl config view --raw).
            + "|private[_-]?key|secret[_-]?key|client(?:[_-]?secret|[_-]key[_-]data)"
            + "|auth[_-]?token|credentials?"
            + "|session[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key)";

    /**
     * The assignment after a name, and the value: quoted (groups 1, 2) or bare (group 3). The value
     * starts on the name's line: after an empty prompt ({@code Password: }) the next line is
     * output, not its value. Or on the next line when that line is indented more than the name's:
     * YAML's plain scalar may start there (https://yaml.org/spec/1.2.2/#822-block-mappings), which
     * {@link #values} checks.
     */
    static final String VALUE =
        "[\"']?\\s{0,3}(?::=|=>|=|:)[^\\S\\r\\n]{0,3}(?:\\r?\\n[ \\t]{1,64})?"
            // A quoted value whose closing quote never comes on its line (password="Hunter2xyz,
            // cut or mistyped) is still the value: up to the line's end.
            + "(?:\"([^\"\\r\\n]{1,512})(?:\"|(?=\\r?\\n|$))"
            + "|'([^'\\r\\n]{1,512})(?:'|(?=\\r?\\n|$))"
            // A bare value does not start with { or [: "db_password": {"sensitive": true, …}
            // names an object (terraform output -json), whose members are read on their own.
            + "|([^\\s\"',;&<>\\u001b)}\\]{\\[][^\\s\"',;&<>\\u001b)}\\]]{0,511}))";

    private static final Pattern ASSIGN =
        // No identifier prefix in the expression (DB_PASSWORD matches at PASSWORD): a prefix
        // would be retried at every position and make the scan far slower.
        Pattern.compile("(?i)" + KEY + VALUE);
    private static final Pattern FLAG =
        Pattern.compile(
            "(?i)(?<![A-Za-z0-9])--(?:password|passwd|token|secret|api-key|apikey|client-secret"
                + "|secret-id|secret-key|access-token|auth-token|secret-access-key)[ =]"
                + "([^\\s\"'\\u001b]{1,256})");
    private static final Pattern BEARER =
        Pattern.compile("(?i)\\b(?:bearer|basic)\\s{1,3}([A-Za-z0-9._~+/-]{8,2048}=*)");

    /**
     * Other schemes of an Authorization header: {@code Token} (Django REST framework, GitHub),
     * {@code ApiKey}, {@code SSWS} (Okta), {@code Key}; only after the header's name, since "token"
     * is an ordinary word.
     */
    private static final Pattern AUTH_SCHEME =
        Pattern.compile(
            "(?i)authorization[\"']?\\s{0,3}[:=]\\s{0,3}[\"']?(?:token|api-?key|ssws|key)\\s{1,3}"
                + "([A-Za-z0-9._~+/-]{8,2048}=*)");

    /**
     * Signatures and keys in URL query parameters ({@code ?key=} of Google Maps and other APIs,
     * {@code Signature=} of CloudFront and S3 presigned URLs, {@code X-Amz-Signature=}, {@code
     * X-Goog-Signature=}, {@code sig=} of Azure SAS); other names are read by the assignment
     * expression. Words alone ({@code ?key=created_at}) stay.
     */
    private static final Detector URL_PARAMS =
        new RegexDetector(
                "assignment",
                75,
                Pattern.compile(
                    "(?i)[?&](?:key|signature|x-amz-signature|x-goog-signature|sig)=([^&#\\s\"'<>]{8,1024})"),
                1,
                RegexDetector.Validator.NONE,
                0,
                List.of("?key=", "&key=", "signature=", "?sig=", "&sig="),
                List.of(Pattern.compile("^[A-Za-z_.-]+$")),
                List.of())
            .needing(F_EQ);

    /**
     * A PIN written in capitals with 4 to 8 digits ({@code PIN: 4921}, {@code PIN_CODE=123456}); a
     * lower-case pin is as often a GPIO pin or a pinned version ({@code pin = 13}).
     */
    private static final Detector PIN =
        RegexDetector.simple(
                "assignment",
                75,
                "(?<![A-Za-z0-9_])PIN(?:[ _-]?(?:CODE|Code|code))?[\"']?\\s{0,3}[:=]\\s{0,3}[\"']?"
                    + "([0-9]{4,8})(?![0-9])",
                1,
                "pin")
            .needing(F_EQ | F_COLON);

    /**
     * An element named by a secret's name, in English or in another language ({@code
     * <Kennwort>…</Kennwort>}, {@code <db_senha>}): an XML configuration file has no {@code =} or
     * {@code :} for {@link OtherLanguages} to read. Those words only whole or after an underscore,
     * as {@link OtherLanguages} reads them ({@code <resenha>} is a review).
     */
    private static final Pattern XML =
        Pattern.compile(
            "(?i)<((?:[a-z_]{0,20}"
                + KEY
                + "|(?:[a-z_]{0,20}_)?(?:"
                + OtherLanguages.WORDS
                + ")))>([^<\\r\\n]{1,512})</\\1>");

    /**
     * {@link #XML} with its angle brackets escaped as HTML and XML text escape them ({@code
     * &lt;password&gt;…&lt;/password&gt;}: an element stored in a text column and escaped for a
     * page, or a value inside another element, XML 1.0 section 2.4).
     */
    private static final Pattern ESCAPED_XML =
        Pattern.compile(
            "(?i)&lt;((?:[a-z_]{0,20}"
                + KEY
                + "|(?:[a-z_]{0,20}_)?(?:"
                + OtherLanguages.WORDS
                + ")))&gt;([^<\\r\\n]{1,512}?)&lt;/\\1&gt;");

    /**
     * A secret named by an attribute instead of an element or a key: .NET appSettings and
     * connection settings ({@code <add key="DbPassword" value="…" />}, the {@code <appSettings>}
     * section of an app.config or web.config), Spring, Ant and Log4j {@code <property
     * name="password" value="…"/>}, and java.util.Properties' XML form ({@code <entry
     * key="password">…</entry>}, its DTD http://java.sun.com/dtd/properties.dtd). The attribute
     * must end with the secret's name ({@code key="PasswordMinLength" value="12"} is a setting
     * about passwords); the value is group 1 (attribute) or 3 (element text). None of these has an
     * {@code =} or {@code :} after the name, so {@link #ASSIGN} never read them (red team mask20).
     */
    private static final Pattern KEYED_ATTR =
        Pattern.compile(
            "(?i)\\b(?:key|name)=\"[A-Za-z0-9_.:-]{0,40}?"
                + KEY
                + "\"\\s{1,3}value=\"([^\"\\r\\n]{1,512})\""
                + "|<(entry|property|param|add)\\s{1,3}(?:key|name)=\"[A-Za-z0-9_.:-]{0,40}?"
                + KEY
                + "\"\\s{0,3}>([^<\\r\\n]{1,512})</\\2>");

    private static final Set<String> NON_VALUES =
        Set.of(
            "true",
            "false",
            "null",
            "none",
            "nil",
            "undefined",
            "yes",
            "no",
            "required",
            "optional",
            "string",
            "redacted",
            "[redacted]",
            "********",
            "****",
            "*",
            "\"\"",
            "''",
            // YAML block scalars (the value is on the next lines) and Ansible Vault's tag.
            "|",
            "|-",
            ">",
            ">-",
            "!vault",
            // What terraform plan prints instead of a value: (sensitive value), (known after
            // apply); the bare value stops at the space.
            "(sensitive",
            "(sensitive)",
            "(known");

    private static final Detector OTHER_LANGUAGES = new OtherLanguages();
    private static final Detector NON_LATIN_WORDS = new NonLatinWords();
    private static final Detector COOKIE = new Cookie();
    private static final Detector PASSWORD_SYNTAX = new PasswordSyntax();
    private static final Detector BARE_PASS = new BarePass();
    private static final Detector PASSWORD_PHRASE = new PasswordPhrase();
    private static final Detector AUTH_NAME = new AuthName();
    private static final Detector TERRAFORM = new ToolSecrets.TerraformSensitive();
    private static final Detector DOCKER_AUTH = new ToolSecrets.DockerAuth();

    Assignment() {
      super("assignment", 75);
    }

    /**
     * This, {@link OtherLanguages} and the assignments that tools print as JSON (sensitive
     * Terraform outputs, Docker registry auth), gated separately.
     */
    @Override
    List<Detector> parts() {
      return List.of(
          this,
          TAGGED,
          ESCAPED_TAGGED,
          OTHER_LANGUAGES,
          NON_LATIN_WORDS,
          TERRAFORM,
          DOCKER_AUTH,
          URL_PARAMS,
          PIN,
          COOKIE,
          PASSWORD_SYNTAX,
          BARE_PASS,
          PASSWORD_PHRASE,
          AUTH_NAME);
    }

    /**
     * Assignments need = or :, flags --; Bearer values are searched here too when the value has one
     * of them, and by {@link Tagged} when it has a {@code >}, which is also where XML elements
     * (each with a {@code >} and a {@code </}) are searched.
     */
    @Override
    int needFlags() {
      return F_EQ | F_COLON | F_DASH;
    }

    private static final Detector TAGGED = new Tagged();

    /** {@link #ESCAPED_XML}, gated by the escaped closing tag's start. */
    private static final Detector ESCAPED_TAGGED =
        new Detector("assignment", 75) {
          @Override
          List<String> keywords() {
            return List.of("&lt;/");
          }

          @Override
          void find(String s, List<Finding> out) {
            elementValues(this, ESCAPED_XML.matcher(s), out);
          }
        };

    /**
     * The searches of {@link Assignment} that need none of {@code = : -}: XML elements ({@code
     * <password>…</password>}) and Bearer or Basic values, for a value with a {@code >} (the gate
     * this detector had). Gated by a closing tag's {@code </} or the scheme's name instead of the
     * secret words: free text with an address in angle brackets ({@code <ann@example.com>}) has the
     * letters of {@code pass} but neither, and before paid for a search of the secret words over
     * the whole value. Every XML element this finds has a {@code </} and every Bearer value its
     * scheme's name, so nothing is found less.
     */
    private static final class Tagged extends Detector {
      Tagged() {
        super("assignment", 75);
      }

      @Override
      int needFlags() {
        return F_GT;
      }

      @Override
      List<String> keywords() {
        return List.of("</", "bearer", "basic");
      }

      @Override
      void find(String s, List<Finding> out) {
        bearer(this, s, out);
        xml(this, s, out);
      }
    }

    private static void bearer(Detector d, String s, List<Finding> out) {
      Matcher m = BEARER.matcher(s);
      while (m.find()) {
        addValue(d, out, m.start(1), m.end(1), m.group(1));
      }
    }

    private static void xml(Detector d, String s, List<Finding> out) {
      if (s.indexOf('<') >= 0) {
        elementValues(d, XML.matcher(s), out);
      }
    }

    /** The element contents (group 2) of every match of {@link #XML} or {@link #ESCAPED_XML}. */
    private static void elementValues(Detector d, Matcher m, List<Finding> out) {
      while (m.find()) {
        addValue(d, out, m.start(2), m.end(2), m.group(2));
      }
    }

    @Override
    List<String> keywords() {
      return List.of(
          "pass",
          "pwd",
          "secret",
          "token",
          "key",
          "credential",
          "bearer",
          "basic",
          "_pw",
          "-pw",
          "psw",
          "ssws");
    }

    @Override
    void find(String s, List<Finding> out) {
      Matcher m = ASSIGN.matcher(s);
      values(this, s, m, out);
      if (s.indexOf("\"\"") >= 0 || s.indexOf("\\\"") >= 0) {
        escapedValues(s, out);
      }
      if (s.indexOf("--") >= 0) {
        m = FLAG.matcher(s);
        int from = 0;
        while (m.find(from)) {
          addValue(this, out, m.start(1), m.end(1), m.group(1));
          // a flag inside the value (--password a1|--password b2): read again from the value
          from = m.group(1).contains("--") ? m.start(1) : m.end();
        }
      }
      bearer(this, s, out);
      // The attribute forms have a quote after key= or name=; a value without one pays one scan.
      if (s.indexOf("=\"") >= 0
          && (Checks.containsIgnoreCase(s, "key=\"") || Checks.containsIgnoreCase(s, "name=\""))) {
        m = KEYED_ATTR.matcher(s);
        while (m.find()) {
          int g = m.group(1) != null ? 1 : 3;
          addValue(this, out, m.start(g), m.end(g), m.group(g));
        }
      }
      if (Checks.containsIgnoreCase(s, "authorization")) {
        m = AUTH_SCHEME.matcher(s);
        while (m.find()) {
          addValue(this, out, m.start(1), m.end(1), m.group(1));
        }
      }
    }

    /**
     * Assignments written inside a quoted string whose quotes are escaped: doubled in CSV fields
     * and PostgreSQL record and array text ({@code "password: ""P@ssw0rd123"""}, RFC 4180 section
     * 2; PostgreSQL manual, section 8.16.6), or escaped with a backslash in JSON strings and array
     * text ({@code "{\"password\":\"Tr0ub4dor&3\"}"}, RFC 8259 section 7). The escapes are decoded
     * one level at a time and {@link #ASSIGN} reads each decoded text; a value is reported at its
     * place in the original only if the quotes around it (a quoted value) or the text from the name
     * to it (a bare value) held an escape of that level, so that an empty value ({@code
     * "password":"","user":"bob"}, whose {@code ""} decodes to one quote) is not read as the text
     * up to the next quote, and a value is read at one level only.
     *
     * <p>A level after the first is decoded while the text still holds an escaped quote, up to
     * {@link #MAX_ESCAPE_DEPTH} levels: JSON stringified into a member of JSON that is itself held
     * in a string ({@code {\"n\": \"{\\\"password\\\": \\\"…\\\"}\"}}, a log event's message
     * carrying a request body) escapes its quotes with three backslashes, and the next level with
     * seven. The two quotes of a quoted value must stand for the same escape in the original (the
     * same run of backslashes or doubling), as a JSON writer writes them.
     */
    private void escapedValues(String s, List<Finding> out) {
      String text = s;
      int[] at = null; // where each character of text starts in s (null: text is s)
      for (int level = 1; level <= MAX_ESCAPE_DEPTH; level++) {
        int n = text.length();
        int[] from = new int[n + 1]; // where each decoded character starts in text
        StringBuilder d = new StringBuilder(n);
        int k = 0;
        for (int i = 0; i < n; k++) {
          from[k] = i;
          char c = text.charAt(i);
          char next = i + 1 < n ? text.charAt(i + 1) : 0;
          if ((c == '"' && next == '"') || (c == '\\' && (next == '"' || next == '\\'))) {
            d.append(next);
            i += 2;
          } else {
            d.append(c);
            i++;
          }
        }
        from[k] = n;
        int[] orig = new int[n + 1]; // where each decoded character starts in s
        for (int m = 0; m <= k; m++) {
          orig[m] = at == null ? from[m] : at[from[m]];
        }
        String u = d.toString();
        escapedValues(u, from, orig, out);
        if (u.indexOf("\\\"") < 0) {
          return; // no escaped quote left: no deeper level
        }
        text = u;
        at = orig;
      }
    }

    /**
     * The values {@link #ASSIGN} reads in {@code u}, one level of escapes decoded: {@code from}
     * maps its characters to the text before this level's decoding, {@code orig} to the value.
     */
    private void escapedValues(String u, int[] from, int[] orig, List<Finding> out) {
      Matcher m = ASSIGN.matcher(u);
      List<Finding> found = new Scanner.Findings(); // capped like the outer list
      while (m.find()) {
        for (int g = 1; g <= 3; g++) {
          int st = m.start(g);
          int en = m.end(g);
          if (m.group(g) == null || !onNameLine(u, m, g)) {
            continue;
          }
          boolean escaped =
              g == 3
                  ? from[st] - from[m.start()] != st - m.start()
                  : from[st] - from[st - 1] == 2
                      && from[en + 1] - from[en] == 2
                      && orig[st] - orig[st - 1] == orig[en + 1] - orig[en];
          if (escaped) {
            found.clear();
            addValue(this, found, st, en, m.group(g));
            for (Finding f : found) {
              add(out, orig[f.start()], orig[f.end()]);
            }
          }
        }
      }
    }

    /** The values of every match of {@link #ASSIGN} or {@link OtherLanguages#ASSIGN}. */
    static void values(Detector d, String s, Matcher m, List<Finding> out) {
      int from = 0;
      while (m.find(from)) {
        from = m.end();
        for (int g = 1; g <= 3; g++) {
          if (m.group(g) != null && onNameLine(s, m, g)) {
            int end = g == 3 ? phraseEnd(d, s, m) : m.end(g);
            String v = s.substring(m.start(g), end);
            // A bare value that ends in the backslash of an escaped quote (stripe.api_key =
            // \"sk_live_…\" in a JSON string) stops before it: masking the backslash alone would
            // leave the quote unescaped and the JSON invalid; the escaped value is read by
            // escapedValues.
            if (g == 3 && end < s.length() && s.charAt(end) == '"' && oddBackslashes(s, end)) {
              end--;
              v = v.substring(0, v.length() - 1);
            }
            if (g == 3 && shellPwd(s, m.start(), v)) {
              continue;
            }
            addValue(d, out, m.start(g), end, v);
            if (g == 3 && (end != m.end(g) || hasSeparator(v))) {
              // Another assignment inside the bare value ("secret: a1|secret: b2|secret: c3",
              // "Passwort: a1|mot de passe: b2", string_agg of values): read again from the
              // value's start, not past it.
              from = m.start(g);
            }
          }
        }
      }
    }

    /** Whether {@code v} has {@code :} or {@code =}, or their full-width forms (密码：a1|密码：b2). */
    private static boolean hasSeparator(String v) {
      for (int i = 0, n = v.length(); i < n; i++) {
        char c = v.charAt(i);
        if (c == ':' || c == '=' || c == '\uff1a' || c == '\uff1d') {
          return true;
        }
      }
      return false;
    }

    private static final Pattern DIRECTORY = Pattern.compile(DIRECTORY_PATH);

    /**
     * Whether a match at {@code from} is the shell's {@code PWD=} or {@code OLDPWD=} at a line's
     * start with a directory as its value, as {@code env} prints it ({@code
     * PWD=/tmp/gatehouse-job-a8Kq2ZxR7m/work}), not a password: after anything else ({@code
     * …;UID=sa;PWD=/Tr0ub/4dor}) it is one.
     */
    private static boolean shellPwd(String s, int from, String v) {
      int key = s.startsWith("OLDPWD=", from - 3) ? from - 3 : from;
      return s.startsWith("PWD=", from)
          && (key == 0 || s.charAt(key - 1) == '\n' || s.charAt(key - 1) == '\r')
          && DIRECTORY.matcher(v).matches();
    }

    /** Whether an odd number of backslashes ends right before {@code end} (an escape). */
    static boolean oddBackslashes(String s, int end) {
      int k = end;
      while (k > 0 && s.charAt(k - 1) == '\\') {
        k--;
      }
      return ((end - k) & 1) == 1;
    }

    /** How far past its first word {@link #phraseEnd} reads a password (characters). */
    private static final int PHRASE_MAX = 128;

    /**
     * The end of a bare value (group 3): a password written after a password word and {@code ": "}
     * ({@code password: correct horse battery staple}, {@code Password: Summer 2024!}, {@code new
     * password: Tr0ub4dor&3}) runs to the end of its line, across single spaces and {@code &}
     * (which end a bare value elsewhere, as in a URL query), within {@link #PHRASE_MAX} characters.
     * It stops at a structural delimiter (quote, comma, semicolon, bracket, tab, two spaces, line
     * end, escape) and before a word that is itself a key ({@code user:}, {@code a=b}) or opens a
     * parenthesis. Not for {@code =} assignments (a command line or a query string goes on after a
     * space) nor after a non-value ({@code Password: required for login}).
     */
    private static int phraseEnd(Detector d, String s, Matcher m) {
      int st = m.start(3);
      int end = gluedEnd(s, m.start(), m.end(3));
      if (s.charAt(st - 1) != ' ' || !passwordKey(d, s, m.start(), st)) {
        return end;
      }
      String first = m.group(3);
      if (NON_VALUES.contains(first.toLowerCase(Locale.ROOT))) {
        return end;
      }
      int n = Math.min(s.length(), st + PHRASE_MAX);
      int k = end;
      while (k < n) {
        // the rest of a word that a '&' cut (Tr0ub4dor&3), or the next word after one space
        boolean glued = s.charAt(k) == '&';
        if (!glued && (s.charAt(k) != ' ' || k + 1 >= n)) {
          break;
        }
        int w = glued ? k : k + 1;
        boolean key = false;
        while (w < n && !phraseStop(s.charAt(w))) {
          key |= s.charAt(w) == '=';
          w++;
        }
        char head = s.charAt(k + (glued ? 0 : 1));
        if (w == k + 1 || key || head == '(' || head == '[' || s.charAt(w - 1) == ':') {
          break;
        }
        k = w;
        end = w;
      }
      return end;
    }

    /**
     * The end of a bare value that {@code & < " ;} cut inside its token ({@code
     * password=Tr0ub4dor&3xyz}, {@code secret=Ab12<Cd34>Ef56}, {@code password=Ab12"Cd34Ef}): the
     * value runs on to the end of the token, within {@link #PHRASE_MAX} characters, across each
     * such character followed by a letter or a digit, unless the piece after it is another
     * assignment ({@code pwd=x;uid=bob}, {@code password=x&user=bob}), a tag without digits ({@code
     * x<br>}, {@code x</td>}), or the assignment is a URL query parameter ({@code ?password=x&y},
     * where {@code &} separates parameters). A quote before a delimiter ({@code "password=x", …})
     * still ends the value. Where the connection-string reading of {@code password=} (which ends at
     * the character) wins, the rest is kept as an uncovered part ({@code Scanner#resolve}).
     */
    private static int gluedEnd(String s, int name, int end) {
      int t = name;
      while (t > 0 && (isAlnum(s.charAt(t - 1)) || "_-.".indexOf(s.charAt(t - 1)) >= 0)) {
        t--;
      }
      if (t > 0 && (s.charAt(t - 1) == '?' || s.charAt(t - 1) == '&')) {
        return end; // a URL query parameter
      }
      int n = Math.min(s.length(), end + PHRASE_MAX);
      int k = end;
      while (k + 1 < n && "&<\";".indexOf(s.charAt(k)) >= 0 && isAlnum(s.charAt(k + 1))) {
        int w = k + 1;
        boolean key = false;
        boolean digit = false;
        while (w < n && !gluedStop(s.charAt(w))) {
          key |= s.charAt(w) == '=' || s.charAt(w) == ':';
          digit |= isDigit(s.charAt(w));
          w++;
        }
        if (key || (s.charAt(k) == '<' && !digit)) {
          break;
        }
        k = w;
      }
      return k;
    }

    private static boolean gluedStop(char c) {
      return c <= ' '
          || c == '&'
          || c == '<'
          || c == '"'
          || c == ';'
          || c == '\''
          || c == ','
          || c == ')'
          || c == '}'
          || c == ']'
          || c == '\u001b';
    }

    private static boolean phraseStop(char c) {
      return c == ' '
          || c == '\t'
          || c == '\r'
          || c == '\n'
          || c == '"'
          || c == '\''
          || c == ','
          || c == ';'
          || c == '<'
          || c == '>'
          || c == ')'
          || c == '}'
          || c == ']'
          || c == '\u001b';
    }

    /**
     * Whether the name before {@code ": "} is a password word (not a token, key or secret name,
     * whose values do not hold spaces): pass..., pwd, psw, mot de passe, or a word of {@link
     * OtherLanguages}; the name and {@code ':'} come first in the match.
     */
    private static boolean passwordKey(Detector d, String s, int from, int valueStart) {
      boolean colon = false;
      for (int k = from; k < valueStart; k++) {
        char c = s.charAt(k);
        if (c == '=') {
          return false;
        }
        colon |= c == ':';
      }
      if (!colon) {
        return false;
      }
      if (d instanceof OtherLanguages) {
        return true;
      }
      return s.regionMatches(true, from, "pass", 0, 4)
          || s.regionMatches(true, from, "pwd", 0, 3)
          || s.regionMatches(true, from, "psw", 0, 3)
          || s.regionMatches(true, from, "mot", 0, 3);
    }

    /**
     * Whether a value is on its name's line, or on the next line indented more than the name's line
     * (a YAML block mapping's value; the next line at the same or less indentation is another key
     * or output after an empty prompt) and not itself a key ({@code password:} over {@code
     * min_length: 12} is a mapping), a sequence entry ({@code - a}) or a comment.
     */
    private static boolean onNameLine(String s, Matcher m, int g) {
      int nl = m.start(g) - 1;
      while (nl > m.start() && s.charAt(nl) != '\n') {
        nl--; // the separator and the blanks after it: a few characters
      }
      if (s.charAt(nl) != '\n') {
        return true;
      }
      int line = s.lastIndexOf('\n', m.start() - 1) + 1;
      int indent = indentation(s, nl + 1);
      char first = s.charAt(m.start(g));
      return indent > indentation(s, line)
          && s.charAt(m.end(g) - 1) != ':'
          && first != '#'
          && !(first == '-' && m.end(g) == m.start(g) + 1);
    }

    private static int indentation(String s, int line) {
      int k = line;
      while (k < s.length() && (s.charAt(k) == ' ' || s.charAt(k) == '\t')) {
        k++;
      }
      return k - line;
    }

    static void addValue(Detector d, List<Finding> out, int start, int end, String v) {
      String t = v.trim();
      if (t.isEmpty() || NON_VALUES.contains(t.toLowerCase(Locale.ROOT))) {
        return;
      }
      if (t.startsWith("${")
          || t.startsWith("$(")
          || t.startsWith("`")
          || (t.startsWith("{{") && t.endsWith("}}"))
          || (t.startsWith("<") && t.endsWith(">"))
          || t.chars().allMatch(c -> c == '*' || c == 'x' || c == 'X')) {
        return;
      }
      d.add(out, start, end);
    }

    /**
     * The word for password in languages where it does not contain "pass" (German Kennwort, Spanish
     * contraseña, Portuguese senha, Dutch wachtwoord, Swedish lösenord, Danish adgangskode, Finnish
     * salasana, Czech and Slovak heslo, Polish hasło, Hungarian jelszó, Croatian and Serbian
     * lozinka, Slovenian geslo, Estonian parool), assigned with {@code =} or {@code :} ({@code
     * Kennwort=…}, {@code "senha": "…"}), not in XML or command-line flags.
     *
     * <p>A separate part of {@link Assignment} so that its words do not arm the assignment
     * expression: it needs {@code =} or {@code :} (not the dash or {@code >} that dates and markup
     * have), its keywords are whole words (all their letters must occur before they are searched
     * for), and its expression runs only when one of them occurs. Words spelled with letters
     * outside ASCII are searched by their ASCII part ({@code senord}, {@code jelsz}).
     */
    static final class OtherLanguages extends Detector {
      /** The words; shared with the JSON member names ({@link JsonMasking}). */
      static final String WORDS =
          "kennwort|contrase[ñÑn]a|senha|wachtwoord|l[öÖo]senord|adgangskode|salasana|heslo"
              + "|has[łŁl]o|jelsz[óÓo]|lozinka|geslo|parool";

      // Not after a letter or digit: "resenha" (Portuguese: review) is not "senha".
      private static final Pattern ASSIGN =
          Pattern.compile("(?iu)(?<![\\p{L}\\p{N}])(?:" + WORDS + ")" + VALUE);

      OtherLanguages() {
        super("assignment", 75);
      }

      @Override
      int needFlags() {
        return F_EQ | F_COLON;
      }

      @Override
      List<String> keywords() {
        return List.of(
            "kennwort",
            "contrase",
            "senha",
            "wachtwoord",
            "senord",
            "adgangskode",
            "salasana",
            "heslo",
            "haslo",
            "hasło",
            "jelsz",
            "lozinka",
            "geslo",
            "parool");
      }

      @Override
      void find(String s, List<Finding> out) {
        values(this, s, ASSIGN.matcher(s), out);
      }
    }
  }

  /**
   * The word for password in scripts other than Latin, and in Turkish, before {@code =} or {@code
   * :}: Russian and Ukrainian пароль, Bulgarian парола, Serbian and Macedonian лозинка, Greek
   * κωδικός (and κωδικός πρόσβασης) and συνθηματικό, Chinese 密码 and 密碼, Japanese パスワード, Korean 비밀번호
   * and 암호, Arabic كلمة المرور and كلمة السر, Persian رمز عبور, Hebrew סיסמה, Hindi पासवर्ड, Thai
   * รหัสผ่าน, Turkish şifre. A full-width colon or equals sign ({@code 密码：…}, as Chinese and
   * Japanese input methods type them) is read as the ASCII one here only: the scanner does not fold
   * them for every detector ({@link Checks#separatorFold}).
   *
   * <p>The keyword search is indexed by ASCII bigrams and cannot hold these words; the part is
   * gated instead by {@code =} or {@code :} together with a character outside ASCII ({@link
   * Detector#needsNonAscii}: an ASCII timestamp or assignment does not arm it), and then by one of
   * the words' first two letters in the value before its expression runs ({@link #mayHaveWord}: the
   * first letters alone, п, л, σ, ر, are in most Cyrillic, Greek and Arabic values). Words of
   * scripts written with spaces only whole ({@code пароль}, not a longer word ending in it);
   * Chinese, Japanese, Korean and Thai, written without spaces, also at the end of a longer word
   * ({@code 用户密码:}).
   */
  static final class NonLatinWords extends Detector {
    /** The words of scripts written with spaces (read whole); shared with {@link JsonMasking}. */
    static final String SPACED =
        "пароль|парола|лозинка|κωδικ[οό][σς](?:\\s{1,3}πρόσβασης)?|συνθηματικ[οό]|ş[iİı]fre"
            + "|סיסמ[הא]|كلمة\\s{1,3}(?:المرور|السر)|رمز\\s{1,3}عبور|पासवर्ड";

    /** The words of scripts written without spaces (also at the end of a longer word). */
    static final String UNSPACED = "密码|密碼|パスワード|비밀번호|암호|รหัสผ่าน";

    /** {@link Assignment#VALUE} with the full-width colon and equals sign U+FF1A and U+FF1D. */
    private static final String VALUE = wideSeparators(Assignment.VALUE);

    private static final Pattern ASSIGN =
        Pattern.compile("(?iu)(?:(?<![\\p{L}\\p{N}])(?:" + SPACED + ")|" + UNSPACED + ")" + VALUE);

    private static String wideSeparators(String value) {
      String ascii = "(?::=|=>|=|:)";
      if (!value.contains(ascii)) {
        throw new IllegalStateException("Assignment.VALUE has no separator alternation");
      }
      return value.replace(ascii, "(?::=|=>|=|:|\uff1a|\uff1d)");
    }

    /** The first letters of the words, in either case. */
    private static final String FIRST = "пПлЛκΚσΣşŞסكرप密パ비암ร";

    NonLatinWords() {
      super("assignment", 75);
    }

    @Override
    int needFlags() {
      return F_EQ | F_COLON;
    }

    @Override
    boolean needsNonAscii() {
      return true;
    }

    /**
     * The first two letters of the words, lower case ({@link Character#toLowerCase}: İ and I read
     * as i, as the expression's case-insensitive match reads them); every word of {@link #SPACED}
     * and {@link #UNSPACED} starts with one of them.
     */
    private static final String[] FIRST_TWO = {
      "па", "ло", "κω", "συ", "şi", "şı", "סי", "كل", "رم", "पा", "密码", "密碼", "パス", "비밀", "암호", "รห"
    };

    @Override
    void find(String s, List<Finding> out) {
      if (mayHaveWord(s)) {
        Assignment.values(this, s, ASSIGN.matcher(s), out);
      }
    }

    /** Whether {@code s} has the first two letters of one of the words ({@link #FIRST_TWO}). */
    static boolean mayHaveWord(String s) {
      for (int i = 0, n = s.length() - 1; i < n; i++) {
        char c = s.charAt(i);
        if (c >= '\u015e' && FIRST.indexOf(c) >= 0) {
          char a = Character.toLowerCase(c);
          char b = Character.toLowerCase(s.charAt(i + 1));
          for (String w : FIRST_TWO) {
            if (w.charAt(0) == a && w.charAt(1) == b) {
              return true;
            }
          }
        }
      }
      return false;
    }
  }

  /**
   * Passwords written after the word and whitespace, with no {@code =} or {@code :}: SQL's own
   * syntax in a result ({@code pg_stat_activity.query}, a log table, {@code SHOW CREATE USER}):
   * {@code CREATE|ALTER ROLE … [ENCRYPTED] PASSWORD 'x'} (PostgreSQL CREATE ROLE), {@code OPTIONS
   * (… password 'x')} (CREATE USER MAPPING), MySQL {@code IDENTIFIED [WITH plugin] BY 'x'} (the
   * string literal is masked; {@code WITH PASSWORD = 'x'} is an assignment); and {@code .netrc}
   * entries ({@code machine h login u password p}, as curl, ftp and git read them: the token after
   * {@code password}, on one line or several; {@code machine} must start a line or be followed by a
   * {@code login} or {@code account} token, so a sentence with the two words is not read).
   *
   * <p>Gated by the words {@code password} and {@code identified} and a token run of 8 (the word
   * itself). Their letters are in many sentences ("Customer asked to leave the parcel with the
   * neighbour"): such a value is searched for the two words on its bytes, one pass each, before it
   * is decoded ({@link Scanner#keywordsPresentUtf8}).
   */
  static final class PasswordSyntax extends Detector {
    private static final Pattern SQL = sqlPassword("[ \\t]");

    /**
     * SQL's password syntax ({@code [ENCRYPTED] PASSWORD 'x'}, {@code OPTIONS (password 'x')},
     * MySQL's {@code IDENTIFIED [WITH plugin] BY [PASSWORD] 'x'}), the literal in group 1, with
     * {@code space} (a character class) between the words and before the literal: spaces and tabs
     * for this detector, any white space for stored statements ({@code MaskingEngine.redactStored},
     * which also reads a literal on the next line).
     */
    static Pattern sqlPassword(String space) {
      String gap = space + "{1,3}";
      return Pattern.compile(
          "(?i)(?<![A-Za-z0-9_])(?:password|identified(?:\\s{1,3}with\\s{1,3}[A-Za-z0-9_']{1,64})?"
              + "\\s{1,3}by(?:"
              + gap
              + "password)?)"
              + gap
              + "[Ee]?'((?:[^'\\\\\\r\\n]|''|\\\\.){1,512})'");
    }

    /** Groups: the machine's name, the tokens between it and password, the password. */
    private static final Pattern NETRC =
        Pattern.compile(
            "(?i)(?<![A-Za-z0-9_])machine\\s{1,16}([^\\s]{1,253})"
                + "((?:\\s{1,16}(?:login|account|port)\\s{1,16}[^\\s]{1,256}){0,3})"
                + "\\s{1,16}password[ \\t]{1,16}([^\\s]{1,256})");

    PasswordSyntax() {
      super("assignment", 75);
    }

    @Override
    int minTokenRun() {
      return 8;
    }

    @Override
    int minLength() {
      return 12; // password 'x'
    }

    @Override
    List<String> keywords() {
      return List.of("password", "identified");
    }

    /**
     * The SQL forms need a {@code '} (the literal), a {@code .netrc} entry the word {@code
     * machine}: a sentence with the letters of {@code password} and neither ("Customer asked to
     * leave the parcel with the neighbour") fails before the keyword search.
     */
    @Override
    boolean hasAsciiGate() {
      return true;
    }

    @Override
    boolean gateAt(int c, byte[] b, int i, int end) {
      return c == '\'' || ((c | 0x20) == 'm' && machineAt(b, i + 1, end));
    }

    /** {@code achine} in either case at {@code i}. */
    private static boolean machineAt(byte[] b, int i, int end) {
      if (i + 6 > end) {
        return false;
      }
      for (int k = 0; k < 6; k++) {
        if ((b[i + k] | 0x20) != "achine".charAt(k)) {
          return false;
        }
      }
      return true;
    }

    @Override
    void find(String s, List<Finding> out) {
      Matcher m = SQL.matcher(s);
      while (m.find()) {
        Assignment.addValue(this, out, m.start(1), m.end(1), m.group(1));
      }
      m = NETRC.matcher(s);
      while (m.find()) {
        // A host name with a dot or a login token: "machine learning password strength" is not.
        String between = m.group(2).toLowerCase(Locale.ROOT);
        if (m.group(1).indexOf('.') >= 0
            || between.contains("login")
            || between.contains("account")) {
          Assignment.addValue(this, out, m.start(3), m.end(3), m.group(3));
        }
      }
    }
  }

  /**
   * The values of an HTTP {@code Cookie:} header (every {@code name=value} pair: a session id is a
   * bearer credential, RFC 6265 section 8.6) and of the first pair of a {@code Set-Cookie:} header
   * (its attributes, {@code Path=/}, {@code Expires=…}, are not secret), as curl -v, browser
   * exports and access logs print them. The header is read up to its line end, at most {@link #MAX}
   * characters.
   */
  static final class Cookie extends Detector {
    private static final int MAX = 4096;
    private static final Pattern HEADER =
        Pattern.compile("(?i)(?<![A-Za-z0-9-])(set-)?cookie[\"']?[ \t]{0,3}:[ \t]{0,3}");

    Cookie() {
      super("assignment", 75);
    }

    @Override
    int needFlags() {
      return F_EQ;
    }

    @Override
    List<String> keywords() {
      return List.of("cookie");
    }

    @Override
    void find(String s, List<Finding> out) {
      Matcher m = HEADER.matcher(s);
      int n = s.length();
      while (m.find()) {
        boolean set = m.group(1) != null;
        int k = m.end();
        int limit = Math.min(n, k + MAX);
        while (k < limit) {
          int eq = k;
          while (eq < limit && cookieNameChar(s.charAt(eq))) {
            eq++;
          }
          if (eq == k || eq >= limit || s.charAt(eq) != '=') {
            break;
          }
          int v = eq + 1;
          int e = v;
          while (e < limit && cookieValueChar(s.charAt(e))) {
            e++;
          }
          int vs = v < e && s.charAt(v) == '"' ? v + 1 : v;
          int ve = e > vs && s.charAt(e - 1) == '"' ? e - 1 : e;
          if (ve > vs) {
            add(out, vs, ve);
          }
          if (set || e + 1 >= limit || s.charAt(e) != ';') {
            break;
          }
          k = e + 1;
          while (k < limit && s.charAt(k) == ' ') {
            k++;
          }
        }
      }
    }

    /** A token character of RFC 9110 section 5.6.2 (a cookie name). */
    private static boolean cookieNameChar(char c) {
      return isAlnum(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    /** A cookie-octet of RFC 6265 section 4.1.1, or a quote around the value. */
    private static boolean cookieValueChar(char c) {
      // not ' either (allowed, but rare, and it ends the SQL literal around a header)
      return c > 0x20 && c < 0x7f && c != ';' && c != ',' && c != '\\' && c != '\'';
    }
  }

  /**
   * JSON Web Tokens (and JWE): dot-separated base64url parts whose header decodes to a JSON object
   * with an {@code alg} member.
   */
  static final class Jwt extends Detector {
    Jwt() {
      super("jwt", 96);
    }

    @Override
    int needFlags() {
      return F_ANYDOT;
    }

    @Override
    int minTokenRun() {
      return 10;
    }

    @Override
    List<String> keywords() {
      return List.of("eyj");
    }

    @Override
    void find(String s, List<Finding> out) {
      int n = s.length();
      int from = 0;
      int i;
      while ((i = s.indexOf("eyJ", from)) >= 0) {
        from = i + 3;
        if (i > 0 && (isBase64Url(s.charAt(i - 1)) || s.charAt(i - 1) == '.')) {
          continue;
        }
        int j = i;
        while (j < n && isBase64Url(s.charAt(j))) {
          j++;
        }
        int headerEnd = j;
        if (headerEnd - i < 10 || j >= n || s.charAt(j) != '.') {
          continue;
        }
        int parts = 1;
        int lastNonEmpty = j;
        while (j < n && s.charAt(j) == '.' && parts < 5) {
          j++;
          int ps = j;
          while (j < n && isBase64Url(s.charAt(j))) {
            j++;
          }
          parts++;
          if (j > ps) {
            lastNonEmpty = j;
          }
        }
        if (parts < 3) {
          continue;
        }
        byte[] header = Checks.decodeBase64(s.substring(i, headerEnd));
        if (header == null) {
          continue;
        }
        String h = Checks.utf8(header).trim();
        if (h.startsWith("{") && h.endsWith("}") && h.contains("\"alg\"")) {
          add(out, i, Math.max(j, lastNonEmpty));
          from = j;
        }
      }
    }
  }

  /**
   * PEM private key blocks (PKCS#1, PKCS#8, encrypted, EC, DSA, OpenSSH, PGP), also with escaped
   * newlines inside JSON strings. A block without its END line (truncated output) is masked to the
   * end of the text.
   */
  static final class PrivateKey extends Detector {
    private static final Pattern BEGIN =
        Pattern.compile("-----BEGIN ((?:[A-Z0-9]{1,20} ){0,3})PRIVATE KEY( BLOCK)?-----");
    private static final Pattern END =
        Pattern.compile("-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----");

    PrivateKey() {
      super("private_key", 99);
    }

    /**
     * This, the same key encoded in base64 again (kubeconfig) and PuTTY's key files, gated
     * separately.
     */
    @Override
    List<Detector> parts() {
      return List.of(this, BASE64, PUTTY);
    }

    /**
     * The private part of a PuTTY key file ({@code PuTTY-User-Key-File-2:} and {@code -3:}, PuTTY
     * manual appendix C.3): the base64 lines that {@code Private-Lines: N} announces, masked up to
     * the {@code Private-MAC:} (or {@code Private-Hash:}) line; the public lines stay readable.
     */
    private static final Detector PUTTY =
        new Composite(
            "putty_key",
            99,
            F_COLON,
            20, // a private line: 48 base64 characters for Ed25519, 64 per line for longer keys
            List.of(
                RegexDetector.simple(
                    "putty_key",
                    99,
                    "Private-Lines: ?\\d{1,3}\\r?\\n([A-Za-z0-9+/=]{1,128}(?![^\\r\\n])"
                        + "(?:\\r?\\n[A-Za-z0-9+/=]{1,128}(?![^\\r\\n])){0,255})",
                    1,
                    "private-lines:")));

    private static final Detector BASE64 = new ToolSecrets.Base64PrivateKey();

    @Override
    int needFlags() {
      return F_DASH5;
    }

    @Override
    List<String> keywords() {
      return List.of("-----begin");
    }

    @Override
    void find(String s, List<Finding> out) {
      Matcher b = BEGIN.matcher(s);
      int from = 0;
      while (from < s.length() && b.find(from)) {
        Matcher e = END.matcher(s);
        int end = e.find(b.end()) ? e.end() : s.length();
        add(out, b.start(), end);
        from = end;
      }
    }
  }

  /**
   * Random-looking tokens: runs of {@code [A-Za-z0-9+/=_-]} of at least {@code minLength}
   * characters whose Shannon entropy reaches the threshold. Excluded because they are identifiers
   * rather than secrets: pure hexadecimal (git SHAs, SHA-256/MD5 digests, UUIDs), tokens made of
   * dash- or underscore-separated words (build ids, slugs), letter-only CamelCase identifiers,
   * paths, subresource-integrity hashes, and base64 that decodes to printable text.
   */
  static final class Entropy extends Detector {
    final double threshold;
    final int minLength;

    Entropy(double threshold, int minLength) {
      super("high_entropy", 20);
      this.threshold = threshold;
      this.minLength = minLength;
    }

    @Override
    int minTokenRun() {
      return minLength;
    }

    /**
     * Identifiers that are random but public, not secrets: Stripe object ids ({@code ch_…}, {@code
     * cus_…}; https://docs.stripe.com/api, its secret keys {@code sk_}/{@code rk_} and a payment
     * intent's {@code pi_…_secret_…} do not match) and ULIDs minted this century
     * (https://github.com/ulid/spec: 26 Crockford base32 characters, the first two the top of a
     * millisecond timestamp, "01" from 2004 to 2039).
     */
    private static final Pattern PUBLIC_ID =
        Pattern.compile(
            "(?:ch|cus|pi|pm|in|sub|txn|evt|acct|price|prod|py|re|src|ba|seti|si|ii|il|po|tr|dp"
                + "|du|file|payout|plan|ipi|cn|prv|ic)_[A-Za-z0-9]{14,32}"
                + "|0[12][0-9A-HJKMNP-TV-Z]{24}");

    /**
     * The first directory of an absolute path that holds generated names (mktemp's, a job's
     * workspace: HOME, PWD and TMPDIR in {@code env} output), not secrets.
     */
    private static final Pattern SYSTEM_DIR =
        Pattern.compile("(?:tmp|var|home|usr|opt|run|srv|mnt|private|Users|root|workspace)/");

    static boolean tokenChar(char c) {
      return isAlnum(c) || c == '+' || c == '/' || c == '=' || c == '_' || c == '-';
    }

    @Override
    void find(String s, List<Finding> out) {
      int n = s.length();
      int i = 0;
      while (i < n) {
        if (!tokenChar(s.charAt(i))) {
          i++;
          continue;
        }
        int j = i;
        while (j < n && tokenChar(s.charAt(j))) {
          // '=' is base64 padding only at the end; inside a run it separates key=value.
          if (s.charAt(j) == '='
              && j + 1 < n
              && tokenChar(s.charAt(j + 1))
              && s.charAt(j + 1) != '=') {
            break;
          }
          j++;
        }
        if (j == i) {
          i++;
          continue;
        }
        int st = i;
        int en = j;
        while (st < en && (s.charAt(st) == '-' || s.charAt(st) == '/' || s.charAt(st) == '=')) {
          st++;
        }
        while (en > st && (s.charAt(en - 1) == '-' || s.charAt(en - 1) == '/')) {
          en--;
        }
        if (en - st >= minLength && en - st <= 1024 && secretLike(s, st, en)) {
          add(out, st, en);
        }
        i = j;
      }
    }

    boolean secretLike(String s, int st, int en) {
      int upper = 0;
      int lower = 0;
      int digit = 0;
      int seps = 0;
      int slashes = 0;
      boolean allHex = true;
      for (int k = st; k < en; k++) {
        char c = s.charAt(k);
        if (isUpper(c)) {
          upper++;
        } else if (isLower(c)) {
          lower++;
        } else if (isDigit(c)) {
          digit++;
        } else if (c == '-' || c == '_') {
          seps++;
        } else if (c == '/') {
          slashes++;
        }
        if (!(Checks.isHex(c) || c == '-')) {
          allHex = false;
        }
      }
      if (allHex) {
        return false;
      }
      int classes = (upper > 0 ? 1 : 0) + (lower > 0 ? 1 : 0) + (digit > 0 ? 1 : 0);
      if (classes < 2) {
        return false;
      }
      String tok = s.substring(st, en);
      String low = tok.toLowerCase(Locale.ROOT);
      if (low.startsWith("sha256-") || low.startsWith("sha384-") || low.startsWith("sha512-")) {
        return false;
      }
      if (PUBLIC_ID.matcher(tok).matches()) {
        return false;
      }
      if (seps > 0 && wordSegments(tok, "[-_]") >= 2) {
        return false;
      }
      if (seps > 0 && upper + lower <= 4 && referenceNumber(tok)) {
        return false; // PO-2026-813976723542, INV_2024_0042: a prefix and numbers
      }
      if (slashes > 0 && wordSegments(tok, "/") >= 2) {
        return false;
      }
      if (slashes > 0 && st > 0 && s.charAt(st - 1) == '/' && SYSTEM_DIR.matcher(tok).lookingAt()) {
        return false; // an absolute path under a system directory: /tmp/gatehouse-job-a8Kq2ZxR7m
      }
      if (digit == 0 && (upper < (upper + lower) * 0.25 || upper > (upper + lower) * 0.75)) {
        return false; // CamelCase identifier: capitals only at word starts
      }
      if (digit <= 4 && camelWordLetters(s, st, en) >= (upper + lower) * 0.9) {
        return false; // MyLongClassName2, getHttpRequest42: mostly capitalised words
      }
      if (upper == 0 && (en - st) < 24) {
        return false;
      }
      if (Checks.entropy(s, st, en) < threshold) {
        return false;
      }
      if (seps == 0 && slashes < 2) {
        byte[] decoded = Checks.decodeBase64(tok);
        if (decoded != null
            && decoded.length >= 8
            && (Checks.looksLikeText(decoded) || utf8Text(decoded))) {
          return false;
        }
      }
      if (upper == 0 && generatedName(tok)) {
        return false;
      }
      return !isPublic(s, st, en);
    }

    /**
     * Whether {@code b} is text in UTF-8 with letters outside ASCII ({@code
     * aGVsbG8gTGlhbSBNw7xsbGVy} is the base64 of {@code hello Liam Müller}; {@link
     * Checks#looksLikeText} counts only ASCII): well-formed UTF-8 (RFC 3629), no control character,
     * and at least one non-ASCII letter. Random bytes of a key are seldom well-formed UTF-8 over 8
     * bytes or more. Only reached for a token that passed every other test of {@link #secretLike}
     * (red team mask20).
     */
    static boolean utf8Text(byte[] b) {
      String t;
      try {
        t =
            StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                .decode(java.nio.ByteBuffer.wrap(b))
                .toString();
      } catch (java.nio.charset.CharacterCodingException e) {
        return false;
      }
      boolean nonAscii = false;
      for (int k = 0; k < t.length(); k++) {
        char c = t.charAt(k);
        if (c >= 0x80) {
          if (Character.isISOControl(c) || !Character.isDefined(c)) {
            return false;
          }
          nonAscii |= Character.isLetter(c);
        } else if (c < 0x20 || c == 0x7f) {
          return false;
        }
      }
      return nonAscii;
    }

    /**
     * A name Kubernetes generates for a pod of a Deployment: the ReplicaSet's name (the
     * Deployment's and a pod-template hash of 6 to 10 characters) and a random suffix of 5
     * (Kubernetes API conventions, generateName; names are lower-case DNS-1123 labels), as in
     * {@code pod/api-768d8ffde1-v8lqa} or {@code api-7d9f8b6c5d-x2v4q}. All lower case, so only a
     * token without capitals is tested; the ReplicaSet's own name ({@code web-768d8ffde1}) is
     * shorter than the length a lower-case token needs (red team mask20).
     */
    static boolean generatedName(String tok) {
      int last = tok.lastIndexOf('-');
      if (last < 0 || tok.length() - last - 1 != 5) {
        return false;
      }
      int prev = tok.lastIndexOf('-', last - 1);
      int hash = last - prev - 1;
      if (prev < 1 || hash < 6 || hash > 10) {
        return false;
      }
      for (int k = prev + 1; k < tok.length(); k++) {
        char c = tok.charAt(k);
        if (!(isLower(c) || isDigit(c) || k == last)) {
          return false;
        }
      }
      char before = tok.charAt(prev - 1);
      return isLower(before) || isDigit(before);
    }

    /** Whether {@code tok}'s letters are all in its first dash- or underscore-separated part. */
    static boolean referenceNumber(String tok) {
      int sep = 0;
      while (sep < tok.length() && tok.charAt(sep) != '-' && tok.charAt(sep) != '_') {
        sep++;
      }
      for (int k = sep; k < tok.length(); k++) {
        if (Character.isLetter(tok.charAt(k))) {
          return false;
        }
      }
      return true;
    }

    /** SSH public-key blob: the base64 of a uint32 length and then the key type's name. */
    private static final Pattern SSH_KEY_TYPE = Pattern.compile("(?:ssh|ecdsa|sk)-[a-z0-9@.-]+");

    /** The base64 of a PEM block that is public (RFC 7468): a public key or a certificate. */
    private static final Pattern PUBLIC_PEM =
        Pattern.compile("-----BEGIN (?:(?:RSA|EC|DSA|SSH2) )?(?:PUBLIC KEY|CERTIFICATE)-----");

    /**
     * Random-looking tokens that are published by design, so not secrets: an SSH public key (its
     * blob names the key type, RFC 4253 section 6.6: {@code ssh-ed25519 AAAAC3Nz…}), a key
     * fingerprint ({@code SHA256:…}), the body of a PEM public key or certificate, the payload of
     * an image, font, audio or video {@code data:} URI (RFC 2397) and a Go module hash ({@code h1:}
     * and the base64 of a SHA-256 in go.sum), a digest after {@code SHA-256=}, the base64 of a PNG
     * or GIF image and a public blockchain address ({@link Checks#blockchainAddress}). A bare
     * 44-character base64 value (32 bytes) is still masked: a WireGuard or Fernet key has that
     * shape as much as a SHA-256 digest. A private key (its own PEM block, any base64 that is not
     * one of these shapes) is still masked; the private-key detector does not look at this.
     */
    static boolean isPublic(String s, int st, int en) {
      int len = en - st;
      if (len >= 16 && s.startsWith("AAAA", st)) {
        byte[] d = Checks.decodeBase64(s.substring(st, st + 16));
        if (d != null && d.length >= 8) {
          int n =
              ((d[0] & 0xff) << 24) | ((d[1] & 0xff) << 16) | ((d[2] & 0xff) << 8) | (d[3] & 0xff);
          String name = new String(d, 4, d.length - 4, StandardCharsets.ISO_8859_1);
          if (n >= 7 && n <= 64 && SSH_KEY_TYPE.matcher(name).lookingAt()) {
            return true;
          }
        }
      }
      if (st >= 7 && (s.startsWith("SHA256:", st - 7) || s.startsWith("SHA512:", st - 7))) {
        return true; // ssh-keygen -l, ssh's host key prompt
      }
      if (st >= 3 && len == 44 && s.startsWith("h1:", st - 3) && s.charAt(en - 1) == '=') {
        return true; // go.sum
      }
      if (len == 44
          && s.charAt(en - 1) == '='
          && ((st >= 8 && s.regionMatches(true, st - 8, "sha-256=", 0, 8))
              || (st >= 9 && s.regionMatches(true, st - 9, "sha-256=:", 0, 9)))) {
        return true; // Digest: SHA-256=… (RFC 3230), Content-Digest: sha-256=:…=: (RFC 9530)
      }
      if (s.startsWith("iVBORw0KGgo", st) || s.startsWith("R0lGOD", st)) {
        return true; // the base64 of a PNG or GIF signature: an image, not a key
      }
      if (Checks.blockchainAddress(s, st, en)) {
        return true;
      }
      if (st >= 8 && s.startsWith(";base64,", st - 8)) {
        int d = s.lastIndexOf("data:", st - 8);
        if (d >= 0 && st - d <= 128) {
          String media = s.substring(d + 5, st - 8);
          if (media.indexOf(' ') < 0
              && (media.startsWith("image/")
                  || media.startsWith("font/")
                  || media.startsWith("audio/")
                  || media.startsWith("video/"))) {
            return true;
          }
        }
      }
      // Look back at most MAX_PUBLIC_PEM: lastIndexOf would walk to the start of the text for
      // every candidate token, quadratic in a long value with many of them.
      int b = -1;
      for (int k = Math.min(st, s.length() - 11), from = Math.max(0, st - MAX_PUBLIC_PEM);
          k >= from;
          k--) {
        if (s.charAt(k) == '-' && s.startsWith("-----BEGIN ", k)) {
          b = k;
          break;
        }
      }
      if (b >= 0) {
        Matcher m = PUBLIC_PEM.matcher(s);
        return m.region(b, Math.min(s.length(), b + 48)).lookingAt() && inPemBody(s, b, en);
      }
      return false;
    }

    /**
     * The largest distance from a public key's or certificate's BEGIN line to a token inside it:
     * RFC 7468 sets no limit; a certificate with many names is some kilobytes, and the bound keeps
     * the check of the lines in between short when many tokens follow a BEGIN line.
     */
    private static final int MAX_PUBLIC_PEM = 32 * 1024;

    /**
     * Whether the token that ends at {@code en} is in the body of the PEM block whose BEGIN line
     * starts at {@code b}: every line from the one after the BEGIN line to the token's own line is
     * base64 alone (RFC 7468 section 2: the encapsulated text is base64 lines, between the BEGIN
     * and the END line). The END line, and any line with other text (a truncated block followed by
     * more of a log), ends the block: a token after it is not exempt.
     */
    private static boolean inPemBody(String s, int b, int en) {
      int k = s.indexOf('\n', b);
      if (k < 0 || k >= en) {
        return false; // on the BEGIN line itself
      }
      int lineEnd = s.indexOf('\n', en);
      int stop = lineEnd < 0 ? s.length() : lineEnd;
      boolean base64 = false;
      boolean trailing = false;
      for (k++; k < stop; k++) {
        char c = s.charAt(k);
        if (c == '\n') {
          if (!base64) {
            return false; // an empty line ends the block too
          }
          base64 = false;
          trailing = false;
        } else if (c == ' ' || c == '\t' || c == '\r') {
          trailing = base64; // indentation, or the end of the line
        } else if (!trailing
            && ((c >= 'A' && c <= 'Z')
                || (c >= 'a' && c <= 'z')
                || (c >= '0' && c <= '9')
                || c == '+'
                || c == '/'
                || c == '=')) {
          base64 = true;
        } else {
          return false;
        }
      }
      return true;
    }

    /** Letters that belong to words of one capital and 2+ lower-case letters, or 3+ lower-case. */
    static int camelWordLetters(String s, int st, int en) {
      int inWords = 0;
      int k = st;
      while (k < en) {
        int w = k;
        if (isUpper(s.charAt(w))) {
          w++;
        }
        int lowStart = w;
        while (w < en && isLower(s.charAt(w))) {
          w++;
        }
        int lows = w - lowStart;
        if (lows >= 3 || (lows >= 2 && lowStart > k)) {
          inWords += w - k;
          k = w;
        } else {
          k = Math.max(k + 1, w);
        }
      }
      return inWords;
    }

    /** Segments that are plain lowercase or capitalised words of 3+ letters. */
    private static int wordSegments(String tok, String sep) {
      int words = 0;
      for (String seg : tok.split(sep)) {
        if (seg.length() >= 3 && seg.matches("[A-Z]?[a-z]+|[A-Z]+")) {
          words++;
        }
      }
      return words;
    }
  }
}
