package dev.gatehouse.masking;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Generates the efficacy corpus deterministically (fixed seeds): sensitive values of every detector
 * type in several formats, some embedded in free text, and non-sensitive look-alikes. Lines are
 * {@code type<TAB>value<TAB>secret} (secret: the part that must not survive masking) and {@code
 * lookalike<TAB>value<TAB>kind}; {@code \n}, {@code \t} and {@code \\} are escaped.
 *
 * <p>Regenerate with {@code java … CorpusGenerator src/test/resources/masking}; {@code
 * CorpusFilesTest} checks that the committed files match this generator.
 */
final class CorpusGenerator {
  static final String SENSITIVE = "sensitive.tsv";
  static final String LOOKALIKES = "lookalikes.tsv";

  private final Random r;
  private final List<String> lines = new ArrayList<>();

  private CorpusGenerator(long seed) {
    this.r = new Random(seed);
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "src/test/resources/masking");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(SENSITIVE), String.join("\n", sensitive()) + "\n");
    Files.writeString(dir.resolve(LOOKALIKES), String.join("\n", lookalikes()) + "\n");
  }

  static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t");
  }

  static String unescape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char n = s.charAt(++i);
        b.append(n == 'n' ? '\n' : n == 't' ? '\t' : n);
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** Reads a corpus file into {label, value, third} triples. */
  static List<String[]> read(Path p) throws IOException {
    List<String[]> out = new ArrayList<>();
    for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t", -1);
      out.add(new String[] {f[0], unescape(f[1]), f.length > 2 ? unescape(f[2]) : unescape(f[1])});
    }
    return out;
  }

  private void emit(String type, String value, String secret) {
    lines.add(type + "\t" + escape(value) + "\t" + escape(secret));
  }

  // --- random helpers -------------------------------------------------------------------------

  private static final String UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  private static final String LOWER = "abcdefghijklmnopqrstuvwxyz";
  private static final String DIGITS = "0123456789";
  private static final String ALNUM = UPPER + LOWER + DIGITS;
  private static final String B64URL = ALNUM + "-_";
  private static final String HEX = "0123456789abcdef";

  private String pick(String... xs) {
    return xs[r.nextInt(xs.length)];
  }

  private String chars(String alphabet, int n) {
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  private int between(int lo, int hi) {
    return lo + r.nextInt(hi - lo + 1);
  }

  private String digits(int n) {
    return chars(DIGITS, n);
  }

  private static int luhnCheck(String payload) {
    int sum = 0;
    boolean dbl = true;
    for (int i = payload.length() - 1; i >= 0; i--) {
      int d = payload.charAt(i) - '0';
      if (dbl) {
        d *= 2;
        if (d > 9) {
          d -= 9;
        }
      }
      sum += d;
      dbl = !dbl;
    }
    return (10 - sum % 10) % 10;
  }

  private String card(String prefix, int len) {
    String p = prefix + digits(len - prefix.length() - 1);
    return p + luhnCheck(p);
  }

  private String group(String digits, int... sizes) {
    String sep = pick(" ", "-");
    StringBuilder b = new StringBuilder();
    int at = 0;
    for (int s : sizes) {
      if (at > 0) {
        b.append(sep);
      }
      b.append(digits, at, Math.min(digits.length(), at + s));
      at += s;
    }
    return b.toString();
  }

  private String formatCard(String d) {
    int f = r.nextInt(3);
    if (f == 0) {
      return d;
    }
    return switch (d.length()) {
      case 15 -> group(d, 4, 6, 5);
      case 14 -> group(d, 4, 6, 4);
      case 16 -> group(d, 4, 4, 4, 4);
      case 19 -> group(d, 4, 4, 4, 4, 3);
      default -> d;
    };
  }

  private String randomCard() {
    return switch (r.nextInt(10)) {
      case 0, 1 -> card("4", 16);
      case 2 -> card("4", 13);
      case 3 -> card(String.valueOf(between(51, 55)), 16);
      case 4 -> card(String.valueOf(between(2221, 2720)), 16);
      case 5 -> card(pick("34", "37"), 15);
      case 6 -> card(pick("6011", "65", "644"), 16);
      case 7 -> card(String.valueOf(between(3528, 3589)), 16);
      case 8 -> card(pick("36", "38", "300", "305"), 14);
      default -> card("62", pick("16", "19").equals("16") ? 16 : 19);
    };
  }

  private String iban(String country, String bbanShape) {
    StringBuilder bban = new StringBuilder();
    for (char c : bbanShape.toCharArray()) {
      bban.append(
          c == 'n'
              ? chars(DIGITS, 1)
              : c == 'a'
                  ? chars(UPPER, 1)
                  : chars(ALNUM.toUpperCase(Locale.ROOT).substring(0, 36), 1));
    }
    String rearranged = bban + country + "00";
    int rem = 0;
    for (char c : rearranged.toCharArray()) {
      if (Character.isDigit(c)) {
        rem = (rem * 10 + (c - '0')) % 97;
      } else {
        rem = (rem * 100 + (c - 'A' + 10)) % 97;
      }
    }
    int check = 98 - rem;
    return country + (check < 10 ? "0" : "") + check + bban;
  }

  private String printIban(String iban) {
    if (r.nextBoolean()) {
      return iban;
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < iban.length(); i += 4) {
      if (i > 0) {
        b.append(' ');
      }
      b.append(iban, i, Math.min(iban.length(), i + 4));
    }
    return b.toString();
  }

  private String randomIban() {
    return switch (r.nextInt(10)) {
      case 0 -> iban("DE", "nnnnnnnnnnnnnnnnnn");
      case 1 -> iban("GB", "aaaannnnnnnnnnnnnn");
      case 2 -> iban("FR", "nnnnnnnnnnxxxxxxxxxxxnn");
      case 3 -> iban("ES", "nnnnnnnnnnnnnnnnnnnn");
      case 4 -> iban("NL", "aaaannnnnnnnnn");
      case 5 -> iban("IT", "annnnnnnnnnxxxxxxxxxxxx");
      case 6 -> iban("CH", "nnnnnxxxxxxxxxxxx");
      case 7 -> iban("BE", "nnnnnnnnnnnn");
      case 8 -> iban("NO", "nnnnnnnnnnn");
      default -> iban("PL", "nnnnnnnnnnnnnnnnnnnnnnnn");
    };
  }

  private String ssn() {
    int area;
    do {
      area = between(1, 899);
    } while (area == 666);
    return String.format("%03d", area)
        + String.format("%02d", between(1, 99))
        + String.format("%04d", between(1, 9999));
  }

  private String formatSsn(String d) {
    return switch (r.nextInt(4)) {
      case 0, 1 -> d.substring(0, 3) + "-" + d.substring(3, 5) + "-" + d.substring(5);
      case 2 -> d.substring(0, 3) + " " + d.substring(3, 5) + " " + d.substring(5);
      default -> pick("SSN: ", "ssn ", "SSN#", "Social Security Number: ") + d;
    };
  }

  private String nanp() {
    return between(2, 9) + digits(2) + between(2, 9) + digits(2) + digits(4);
  }

  private String randomPhone() {
    String n = nanp();
    String a = n.substring(0, 3);
    String e = n.substring(3, 6);
    String s = n.substring(6);
    return switch (r.nextInt(16)) {
      case 0 -> "(" + a + ") " + e + "-" + s;
      case 1 -> a + "-" + e + "-" + s;
      case 2 -> a + "." + e + "." + s;
      case 3 -> "+1 " + a + " " + e + " " + s;
      case 4 -> "+1" + n;
      case 5 -> "1-" + a + "-" + e + "-" + s;
      case 6 -> "+1 (" + a + ") " + e + "-" + s;
      case 7 -> "+44 20 " + between(7000, 8999) + " " + digits(4);
      case 8 -> "020 " + between(7000, 8999) + " " + digits(4);
      case 9 -> "07" + digits(3) + " " + digits(6);
      case 10 -> "+44 7" + digits(3) + " " + digits(6);
      case 11 -> "+49 30 " + digits(between(7, 8));
      case 12 -> "0" + pick("30", "89", "151", "170", "40") + " " + digits(between(7, 8));
      case 13 ->
          "+33 "
              + between(1, 9)
              + " "
              + digits(2)
              + " "
              + digits(2)
              + " "
              + digits(2)
              + " "
              + digits(2);
      case 14 ->
          "0"
              + between(1, 9)
              + " "
              + digits(2)
              + " "
              + digits(2)
              + " "
              + digits(2)
              + " "
              + digits(2);
      default ->
          "+" + pick("61", "81", "34", "39", "31", "46", "91", "55") + digits(between(8, 10));
    };
  }

  private String ipv4() {
    return between(1, 254) + "." + between(0, 255) + "." + between(0, 255) + "." + between(1, 254);
  }

  private String ipv6() {
    List<String> g = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      g.add(Integer.toHexString(r.nextInt(65536)));
    }
    return switch (r.nextInt(6)) {
      case 0 -> String.join(":", g);
      case 1 -> "2001:db8::" + g.get(6) + ":" + g.get(7);
      case 2 -> "fe80::" + g.get(4) + ":" + g.get(5) + ":" + g.get(6) + ":" + g.get(7);
      case 3 -> "::ffff:" + ipv4();
      case 4 -> g.get(0) + ":" + g.get(1) + "::" + g.get(7);
      default -> String.join(":", g).toUpperCase(Locale.ROOT);
    };
  }

  private String b64url(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private String jwt() {
    String alg = pick("HS256", "RS256", "ES256", "PS512");
    String header =
        r.nextBoolean()
            ? "{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}"
            : "{\"typ\":\"JWT\",\"alg\":\"" + alg + "\",\"kid\":\"" + chars(HEX, 8) + "\"}";
    String payload =
        "{\"sub\":\""
            + between(1000, 99999)
            + "\",\"name\":\""
            + pick("Ann", "Bo", "Chen")
            + "\",\"iat\":"
            + between(1600000000, 1800000000)
            + "}";
    return b64url(header.getBytes(StandardCharsets.UTF_8))
        + "."
        + b64url(payload.getBytes(StandardCharsets.UTF_8))
        + "."
        + chars(B64URL, alg.startsWith("HS") ? 43 : 86);
  }

  private String pem(String label, String nl) {
    StringBuilder b = new StringBuilder("-----BEGIN " + label + "-----" + nl);
    int lines = between(3, 12);
    for (int i = 0; i < lines; i++) {
      b.append(chars(ALNUM + "+/", 64)).append(nl);
    }
    b.append(chars(ALNUM + "+/", between(10, 60))).append("==").append(nl);
    b.append("-----END ").append(label).append("-----");
    return b.toString();
  }

  private String base62(int n) {
    return chars(ALNUM, n);
  }

  // --- sensitive ------------------------------------------------------------------------------

  static List<String> sensitive() {
    CorpusGenerator g = new CorpusGenerator(20261122L);
    g.genSensitive();
    new CorpusGenerator(20261123L).redTeamData11(g);
    new CorpusGenerator(20261124L).fifteenthSession(g);
    new CorpusGenerator(20261125L).sixteenthSession(g);
    new CorpusGenerator(20261126L).eighteenthSession(g);
    new CorpusGenerator(20261127L).redTeam18Mask(g);
    new CorpusGenerator(20261128L).nineteenthSession(g);
    new CorpusGenerator(20261129L).twentiethSession(g);
    return g.lines;
  }

  /**
   * The data red team's eleventh-session leaks (their own seed, so that the rows before stay as
   * they were): grouped cards before an expiry, CVV, time or four digits; string_agg of
   * assignments; COPY rows with an id first; phones before a CSV field; escaped quoted emails;
   * escaped XML password elements (control characters are in RedTeamDataFindingsTest: the corpus
   * files are read by lines).
   */
  private void redTeamData11(CorpusGenerator out) {
    String[] bins = {"4166", "4539", "5425", "6011", "5018"};
    String[] after = {" 12/27", " 123", " 10:45", " 1234", " 04/29"};
    for (int i = 0; i < 40; i++) {
      String payload = pick(bins) + digits(11);
      String card = payload + luhnCheck(payload);
      String sep = i % 3 == 0 ? "\u00a0" : " ";
      String grouped =
          String.join(
              sep,
              card.substring(0, 4),
              card.substring(4, 8),
              card.substring(8, 12),
              card.substring(12));
      out.emit("card", grouped + after[i % after.length], card.substring(4, 8));
    }
    for (int i = 0; i < 16; i++) {
      String payload = "37" + digits(12);
      String amex = payload + luhnCheck(payload);
      String row = (100001 + i) + "\t" + amex.substring(0, 4) + " " + amex.substring(4, 10);
      out.emit(
          "card", row + " " + amex.substring(10) + after[i % after.length], amex.substring(4, 10));
    }
    String[] words = {"secret", "PASSWORD", "api_key", "token", "Passwort", "mot de passe"};
    String[] seps = {"|", "/", ";", "&"};
    for (int i = 0; i < 24; i++) {
      String w = words[i % words.length];
      String a = chars(ALNUM, 10);
      String b = chars(ALNUM, 10);
      String c = chars(ALNUM, 10);
      String sep = seps[i % seps.length];
      String eq = w.equals("token") ? "=" : ": ";
      out.emit("assignment", w + eq + a + sep + w + eq + b + sep + w + eq + c, b);
    }
    for (int i = 0; i < 8; i++) {
      String a = chars(ALNUM, 8) + "@" + chars(ALNUM, 3);
      String b = chars(ALNUM, 8) + "@" + chars(ALNUM, 3);
      out.emit(
          "assignment",
          "--password " + a + "|--password " + b + "|https://u:" + chars(ALNUM, 9) + "@ex.com/p",
          b);
    }
    String[][] fixed = {
      {"card", "17\t4017440016962", "4017440016962"},
      {"card", "100033\t6304774760739563974", "6304774760739563974"},
      {"card", "100030\t6759239322368147 12/29", "6759239322368147"},
      {"card", "row-17-6304774760739563974", "6304774760739563974"},
      {"credential", "row-17-sk-ant-api03-" + chars(ALNUM, 40), "sk-ant-api03-"},
      {"ip", "row-17-8.8.8.8", "8.8.8.8"},
      {"ip", "row-100017-203.0.114.7", "203.0.114.7"},
      {"assignment", "row-17---password 9LwIih@2sSas", "9LwIih@2sSas"},
      {"assignment", "&lt;password&gt;Ka11q9*xdtIn&lt;/password&gt;", "Ka11q9*xdtIn"},
      {"assignment", "<v>&lt;password&gt;Wq9!zr5Tk&lt;/password&gt;</v>", "Wq9!zr5Tk"},
      {"phone", "móvil: 01 23 45 67 89,151", "45 67"},
      {"phone", "WhatsApp 612 34 56 78,154", "34 56"},
      {"phone", "Tel: +7 495 123-45-67,160", "123-45"},
      {"phone", "fax: 8 (495) 123-45-67,161", "123-45"},
      {"phone", "141,415.555.0177", "555.01"},
      {"email", "\"\"\"john.smith\"\"@example.com\",5", "john.smith"},
      {"email", "{\"v\":\"\\\"john.smith\\\"@example.com\"}", "john.smith"}
    };
    for (String[] f : fixed) {
      out.emit(f[0], f[1], f[2]);
    }
  }

  private void genSensitive() {
    String[] first = {
      "john",
      "mary",
      "j.smith",
      "anna-lena",
      "o'brien",
      "li.wei",
      "x",
      "ops+alerts",
      "user_42",
      "Zoe.Miller"
    };
    String[] domains = {
      "example.com",
      "mail.example.org",
      "corp.example.co.uk",
      "gmail.com",
      "uni-hamburg.de",
      "sub.domain.example.io",
      "example.travel"
    };
    for (int i = 0; i < 180; i++) {
      String e =
          pick(first)
              + (r.nextInt(3) == 0 ? String.valueOf(between(1, 999)) : "")
              + "@"
              + pick(domains);
      if (r.nextInt(10) == 0) {
        e = e.toUpperCase(Locale.ROOT);
      }
      emit("email", e, e);
    }
    for (int i = 0; i < 220; i++) {
      String p = randomPhone();
      emit("phone", p, p);
    }
    for (int i = 0; i < 220; i++) {
      String c = formatCard(randomCard());
      emit("card", c, c);
    }
    for (int i = 0; i < 140; i++) {
      String iban = printIban(randomIban());
      emit("iban", iban, iban);
    }
    for (int i = 0; i < 140; i++) {
      String d = ssn();
      String f = formatSsn(d);
      String secretPart = f.contains("-") || f.contains(" ") && !f.contains(":") ? f : d;
      if (f.startsWith("ssn ") || f.startsWith("SSN")) {
        secretPart = d;
      }
      emit("ssn", f, secretPart);
    }
    for (int i = 0; i < 160; i++) {
      String ip = i % 2 == 0 ? ipv4() : ipv6();
      String v =
          r.nextInt(4) == 0
              ? pick("host ", "from ", "src=", "[") + ip + pick("", ":443", "]", " port 22")
              : ip;
      emit("ip", v, ip);
    }
    for (int i = 0; i < 90; i++) {
      String t = jwt();
      String v =
          r.nextBoolean()
              ? t
              : pick("Authorization: Bearer ", "id_token=", "\"token\": \"", "jwt ") + t;
      emit("jwt", v, t);
    }
    String[] labels = {
      "RSA PRIVATE KEY",
      "PRIVATE KEY",
      "EC PRIVATE KEY",
      "OPENSSH PRIVATE KEY",
      "ENCRYPTED PRIVATE KEY",
      "DSA PRIVATE KEY",
      "PGP PRIVATE KEY BLOCK"
    };
    for (int i = 0; i < 50; i++) {
      String k = pem(pick(labels), r.nextInt(4) == 0 ? "\\n" : "\n");
      String body = k.substring(k.indexOf("-----", 10) + 5, k.indexOf("-----END"));
      emit("private_key", k, body.strip().substring(0, 40));
    }
    genCredentials();
    genConnections();
    genAssignments();
    for (int i = 0; i < 160; i++) {
      String tok =
          r.nextBoolean()
              ? base62(between(24, 64))
              : chars(ALNUM + "+/", between(28, 60)) + pick("", "=", "==");
      if (tok.chars().noneMatch(Character::isUpperCase)
          || tok.chars().noneMatch(Character::isDigit)) {
        tok = "Q7" + tok + "x9";
      }
      String v = pick("", "session ", "X-Session: ", "cookie sid=", "ref ", "id ") + tok;
      emit("high_entropy", v, tok);
    }
    genEmbedded();
    genNoBreakSpaceAndLongCards();
    genEncodedEmails();
    genOtherLanguagePasswords();
    genNoBreakSpacePhones();
    genOtherLanguageElements();
    genEleventhSession();
    genUnicodeSeparators();
  }

  /**
   * The Unicode spaces and dashes that the scanner reads as a space or a hyphen (separatorFold).
   */
  private static final String[] OTHER_SEPARATORS = {
    "\u2007", "\u2002", "\u2003", "\u2005", "\u2008", "\u200a", "\u205f", "\u1680", "\u2028",
    "\u2010", "\u2011", "\u2012", "\u2014", "\u2212", "\uff0d", "\ufe63"
  };

  /**
   * The second red team's separators (F11), colour codes inside values (F12) and password values
   * cut by {@code & < " ;} (F8).
   */
  private void genUnicodeSeparators() {
    for (int i = 0; i < 48; i++) {
      String sep = OTHER_SEPARATORS[i % OTHER_SEPARATORS.length];
      String d = card(pick("4", "51", "6011"), 16);
      String c = String.join(sep, d.substring(0, 4), d.substring(4, 8), d.substring(8, 12));
      c += sep + d.substring(12);
      emit("card", i % 2 == 0 ? c : "card no. " + c + " (export)", c);
      String p = randomPhone();
      p = regroup(p.indexOf('(') < 0 ? p : "+44 20 " + between(7000, 8999) + " " + digits(4), sep);
      emit("phone", i % 3 == 0 ? "Tel. " + p : p, p);
      String ssn = between(1, 665) + sep + (10 + between(0, 89)) + sep + (1000 + between(0, 8999));
      ssn = ssn.length() == 11 ? ssn : "536" + sep + "22" + sep + "1234";
      emit("ssn", "SSN " + ssn, ssn);
    }
    String[] ats = {"\ufe6b", "\uff20"};
    String[] dots = {"\uff0e", "\u3002", "\uff61", "."};
    for (int i = 0; i < 16; i++) {
      String local = pick("bob.smith", "erin_k", "h.oneil", "grace") + between(1, 99);
      String mail = local + ats[i % 2] + pick("example", "mail") + dots[i % 4] + pick("com", "org");
      emit("email", pick("mail ", "from: ", "") + mail, local);
    }
    for (int i = 0; i < 24; i++) {
      String d = card(pick("4", "51"), 16);
      String esc = pick("\u001b[1;31m", "\u001b[0m", "\u001b[1m", "\u001b[32m");
      String v = d.substring(0, 4) + esc + d.substring(4, 8) + "\u001b[0m" + d.substring(8);
      emit("card", pick("card ", "paid ", "") + v, d.substring(8, 14));
      String pw = password();
      String tail = pick("&", "<", "\"", ";") + "R" + digits(2) + pick("xyz", "Cd34>Ef", "q9");
      emit(
          "assignment", pick("password=", "DB_PASSWORD=", "secret=", "api_key=") + pw + tail, tail);
    }
  }

  /**
   * The eleventh session's formats: card security codes, SQL password syntax and .netrc entries in
   * results, 8-8 cards, IBANs grouped by underscores, SSNs with slashes, Russian toll-free and
   * trunk-8 numbers without parentheses, British numbers with the trunk 0 in parentheses, UAE and
   * Brazilian mobiles.
   */
  private void genEleventhSession() {
    for (int i = 0; i < 40; i++) {
      String code = digits(pick("3", "4").equals("3") ? 3 : 4);
      String v =
          switch (i % 8) {
            case 0 -> "cvv: " + code;
            case 1 -> "{\"cvc\":\"" + code + "\"}";
            case 2 -> "CVV2=" + code;
            case 3 -> "card ending 1111, security code: " + code;
            case 4 -> "cvc2 = " + code + " exp 12/29";
            case 5 -> "'cvv': '" + code + "'";
            case 6 -> "Security-Code: " + code;
            default -> "payment.cvv=" + code + "&amount=12";
          };
      int at = v.lastIndexOf(code);
      emit("cvv", v, v.substring(at - 1, at + code.length()));
    }
    for (int i = 0; i < 40; i++) {
      String pw = pick("R0le", "Fdw", "Netrc", "My") + "-" + chars(ALNUM, between(8, 14));
      String v =
          switch (i % 8) {
            case 0 -> "ALTER ROLE app WITH ENCRYPTED PASSWORD '" + pw + "' VALID UNTIL 'infinity'";
            case 1 -> "CREATE ROLE r" + between(1, 99) + " LOGIN PASSWORD '" + pw + "'";
            case 2 -> "CREATE USER 'app'@'%' IDENTIFIED BY '" + pw + "'";
            case 3 -> "ALTER USER u IDENTIFIED WITH caching_sha2_password BY '" + pw + "'";
            case 4 ->
                "CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'x', password '" + pw + "')";
            case 5 -> "machine api" + between(1, 9) + ".example.com login bob password " + pw;
            case 6 -> "machine ftp.example.org\n  login alice\n  password " + pw + "\n";
            default -> "machine buildhost login ci password " + pw;
          };
      emit("assignment", v, pw);
    }
    for (int i = 0; i < 20; i++) {
      String d = card("4", 16);
      emit(
          "card",
          "card " + d.substring(0, 8) + pick(" ", "-") + d.substring(8),
          d.substring(4, 12));
    }
    for (int i = 0; i < 20; i++) {
      String iban = randomIban();
      StringBuilder b = new StringBuilder();
      for (int k = 0; k < iban.length(); k += 4) {
        b.append(k > 0 ? "_" : "").append(iban, k, Math.min(iban.length(), k + 4));
      }
      emit("iban", "IBAN " + b, b.substring(5, 14));
    }
    for (int i = 0; i < 20; i++) {
      String d = ssn();
      String f = d.substring(0, 3) + "/" + d.substring(3, 5) + "/" + d.substring(5);
      emit("ssn", pick("SSN ", "SSN: ", "social security ") + f, f);
    }
    for (int i = 0; i < 40; i++) {
      String v;
      String secret;
      switch (i % 8) {
        case 0 -> {
          secret = digits(3) + "-" + digits(2) + "-" + digits(2);
          v = "8-800-" + secret;
        }
        case 1 -> {
          secret = digits(3) + " " + digits(2) + " " + digits(2);
          v = "8 9" + digits(2) + " " + secret;
        }
        case 2 -> {
          secret = digits(4) + " " + digits(4);
          v = "+44 (0)20 " + secret;
        }
        case 3 -> {
          secret = digits(4) + " " + digits(4);
          v = "office (0)20 " + secret;
        }
        case 4 -> {
          secret = digits(3) + " " + digits(4);
          v = "+971 5" + between(0, 8) + " " + secret;
        }
        case 5 -> {
          secret = digits(3) + " " + digits(4);
          v = "mobile: 05" + between(0, 8) + " " + secret;
        }
        case 6 -> {
          secret = "9" + digits(4) + "-" + digits(4);
          v = "+55 11 " + secret;
        }
        default -> {
          secret = "9" + digits(4) + "-" + digits(4);
          v =
              "("
                  + pick("11", "21", "31", "41", "51", "61", "71", "81", "85", "92")
                  + ") "
                  + secret;
        }
      }
      emit("phone", v, secret);
    }
  }

  /** Phone numbers whose groups are joined by no-break or thin spaces (copied from a web page). */
  private void genNoBreakSpacePhones() {
    for (int i = 0; i < 40; i++) {
      String p = randomPhone();
      if (p.indexOf(' ') < 0 && p.indexOf('-') < 0) {
        p = "+44 20 " + between(7000, 8999) + " " + digits(4);
      }
      p = regroup(p, pick(NO_BREAK_SPACES));
      emit("phone", i % 2 == 0 ? p : pick("Tel. ", "call ", "phone: ") + p + " (office)", p);
    }
  }

  /** XML elements named by the word for password in another language. */
  private void genOtherLanguageElements() {
    String[] names = {"Kennwort", "senha", "wachtwoord", "db_senha", "adgangskode", "heslo"};
    for (int i = 0; i < 24; i++) {
      String pw = password();
      String name = names[i % names.length];
      String el = "<" + name + ">" + pw + "</" + name + ">";
      emit(
          "assignment",
          i % 2 == 0 ? el : "<connection><user>app</user>" + el + "</connection>",
          pw);
    }
  }

  /** The no-break and thin spaces of browsers and spreadsheet exports (Checks.isNoBreakSpace). */
  private static final String[] NO_BREAK_SPACES = {"\u00a0", "\u202f", "\u2009"};

  private String regroup(String grouped, String sep) {
    return grouped.replace(" ", sep).replace("-", sep);
  }

  /**
   * Cards grouped by no-break or thin spaces, and 19-digit cards grouped 6-13 (UnionPay, Chinese
   * bank cards) by a space, a dash or a no-break space.
   */
  private void genNoBreakSpaceAndLongCards() {
    for (int i = 0; i < 60; i++) {
      String d = randomCard();
      String c =
          switch (d.length()) {
            case 15 -> group(d, 4, 6, 5);
            case 14 -> group(d, 4, 6, 4);
            case 19 -> group(d, 4, 4, 4, 4, 3);
            default -> group(d, 4, 4, 4, 4);
          };
      c = regroup(c, pick(NO_BREAK_SPACES));
      String v = i % 3 == 0 ? pick("Kartennummer : ", "carte ", "card no. ") + c + " (export)" : c;
      emit("card", v, c);
    }
    for (int i = 0; i < 30; i++) {
      String d = card(pick("62", "6212", "6228", "4", "60"), 19);
      String c = d.substring(0, 6) + pick(" ", "-", pick(NO_BREAK_SPACES)) + d.substring(6);
      emit("card", i % 2 == 0 ? c : "paid with " + c + " on " + between(1, 28) + " May", c);
    }
  }

  /** Addresses URL-encoded ({@code %40}), in query strings, mailto links and form posts. */
  private void genEncodedEmails() {
    String[] locals = {"carol", "dave.smith", "erin_k", "frank%2Bnews", "GRACE", "h.o'neil"};
    String[] domains = {"example.net", "mail.example.org", "example.co.uk", "EXAMPLE.ORG"};
    for (int i = 0; i < 40; i++) {
      String local = pick(locals) + (r.nextBoolean() ? String.valueOf(between(1, 99)) : "");
      String e = local + "%40" + pick(domains);
      String v =
          switch (i % 5) {
            case 0 -> "https://shop.example/unsubscribe?email=" + e + "&list=" + between(1, 99);
            case 1 -> "reply-to=" + e;
            case 2 -> "<a href=\"mailto:" + e + "\">mail</a>";
            case 3 -> "GET /api/users?q=" + e + " HTTP/1.1";
            default -> e;
          };
      emit("email", v, local);
    }
  }

  /** Passwords assigned under the word for password in languages where it has no "pass". */
  private void genOtherLanguagePasswords() {
    String[] names = {
      "Kennwort",
      "contraseña",
      "Contrasena",
      "senha",
      "wachtwoord",
      "lösenord",
      "adgangskode",
      "salasana",
      "heslo",
      "hasło",
      "jelszó",
      "lozinka",
      "geslo",
      "parool",
      "DB_KENNWORT",
      "app.senha"
    };
    for (int i = 0; i < 48; i++) {
      String pw = password();
      String name = names[i % names.length];
      String v =
          switch (i % 3) {
            case 0 -> name + "=" + pw;
            case 1 -> name + ": " + pw;
            default -> "\"" + name + "\": \"" + pw + "\"";
          };
      emit("assignment", v, pw);
    }
  }

  private void genCredentials() {
    for (int i = 0; i < 300; i++) {
      String v;
      String secret;
      switch (i % 15) {
        case 0 -> {
          secret = pick("AKIA", "ASIA") + chars(UPPER + DIGITS, 16);
          v = r.nextBoolean() ? secret : "aws_access_key_id = " + secret;
        }
        case 1 -> {
          secret = chars(ALNUM + "/+", 40);
          v =
              pick(
                      "aws_secret_access_key = ",
                      "AWS_SECRET_ACCESS_KEY=",
                      "\"SecretAccessKey\": \"",
                      "secret_access_key: ")
                  + secret;
        }
        case 2 -> {
          String key = pem("PRIVATE KEY", "\\n");
          secret = key.substring(28, 68);
          v =
              "{\"type\": \"service_account\", \"project_id\": \"demo-"
                  + digits(6)
                  + "\", \"private_key_id\": \""
                  + chars(HEX, 40)
                  + "\", \"private_key\": \""
                  + key
                  + "\\n\", \"client_email\": \"svc@demo.iam.gserviceaccount.com\"}";
        }
        case 3 -> {
          secret = chars(ALNUM + "+/", 86) + "==";
          v =
              "DefaultEndpointsProtocol=https;AccountName=acct"
                  + digits(4)
                  + ";AccountKey="
                  + secret
                  + ";EndpointSuffix=core.windows.net";
        }
        case 4 -> {
          secret = pick("ghp_", "gho_", "ghu_", "ghs_", "ghr_") + base62(36);
          v = r.nextBoolean() ? secret : "GITHUB_TOKEN " + secret;
        }
        case 5 -> {
          secret = "github_pat_" + base62(22) + "_" + base62(59);
          v = secret;
        }
        case 6 -> {
          secret = "glpat-" + chars(ALNUM + "-_", 20);
          v = r.nextBoolean() ? secret : "token " + secret;
        }
        case 7 -> {
          secret =
              "xox"
                  + pick("b", "p", "a", "r", "s")
                  + "-"
                  + digits(11)
                  + "-"
                  + digits(12)
                  + "-"
                  + base62(24);
          v = secret;
        }
        case 8 -> {
          secret = pick("sk_live_", "rk_live_", "pk_live_", "sk_test_") + base62(between(24, 99));
          v = r.nextBoolean() ? secret : "stripe key " + secret;
        }
        case 9 -> {
          secret = "AIza" + chars(ALNUM + "-_", 35);
          v = "key=" + secret;
        }
        case 10 -> {
          secret = "npm_" + base62(36);
          v = "//registry.npmjs.org/:_authToken=" + secret;
        }
        case 11 -> {
          secret = "SG." + chars(ALNUM + "-_", 22) + "." + chars(ALNUM + "-_", 43);
          v = secret;
        }
        case 12 -> {
          secret = "sk-" + pick("", "proj-") + base62(48);
          v = "OPENAI_API_KEY " + secret;
        }
        case 13 -> {
          secret =
              "https://hooks.slack.com/services/T"
                  + chars(UPPER + DIGITS, 8)
                  + "/B"
                  + chars(UPPER + DIGITS, 10)
                  + "/"
                  + base62(24);
          v = secret;
          secret = secret.substring(secret.lastIndexOf('/') + 1);
        }
        default -> {
          secret = "hvs." + chars(ALNUM + "-_", 24);
          v = "VAULT_TOKEN " + secret;
        }
      }
      emit("credential", v, secret);
    }
  }

  private String password() {
    return switch (r.nextInt(4)) {
      case 0 -> chars(ALNUM, between(8, 20));
      case 1 ->
          pick("Summer", "Winter", "Hunter", "Dragon") + between(10, 2099) + pick("!", "#", "");
      case 2 -> chars(ALNUM + "!#%^*", between(10, 24));
      default -> pick("s3cr3t", "p4ssw0rd", "letmein", "changeme") + digits(3);
    };
  }

  private void genConnections() {
    String[] schemes = {
      "postgres",
      "postgresql",
      "mysql",
      "mongodb",
      "mongodb+srv",
      "redis",
      "amqp",
      "mssql",
      "jdbc:postgresql"
    };
    for (int i = 0; i < 130; i++) {
      String pw = password();
      String user = pick("app", "admin", "svc_orders", "root", "reporting");
      String host =
          pick(
              "db.internal",
              "10.1.2.3",
              "prod-db.example.com",
              "cluster0.ab1cd.mongodb.net",
              "localhost");
      String v;
      switch (i % 4) {
        case 0, 1 ->
            v =
                pick(schemes)
                    + "://"
                    + user
                    + ":"
                    + pw
                    + "@"
                    + host
                    + pick("", ":5432", ":3306")
                    + "/"
                    + pick("orders", "app", "");
        case 2 ->
            v =
                "Server="
                    + host
                    + ";Database="
                    + pick("Orders", "CRM")
                    + ";User Id="
                    + user
                    + ";Password="
                    + pw
                    + ";"
                    + pick("", "Encrypt=true;");
        default ->
            v =
                "jdbc:postgresql://"
                    + host
                    + ":5432/app?user="
                    + user
                    + "&password="
                    + pw
                    + pick("", "&ssl=true");
      }
      emit("connection_password", v, pw);
    }
  }

  private void genAssignments() {
    for (int i = 0; i < 160; i++) {
      String pw = password();
      String v;
      switch (i % 10) {
        case 0 -> v = "password=" + pw;
        case 1 -> v = "\"api_key\": \"" + pw + "\"";
        case 2 -> v = "DB_PASSWORD=" + pw;
        case 3 -> v = "token: " + pw;
        case 4 -> v = "client_secret = '" + pw + "'";
        case 5 -> v = "mysql -u root --password " + pw;
        case 6 -> v = "export API_TOKEN=" + pw;
        case 7 -> v = "<password>" + pw + "</password>";
        case 8 -> v = "secret: \"" + pw + "\"";
        default -> v = "spring.datasource.password=" + pw;
      }
      emit("assignment", v, pw);
    }
  }

  private void genEmbedded() {
    for (int i = 0; i < 320; i++) {
      String type;
      String secret;
      String v;
      switch (i % 8) {
        case 0 -> {
          type = "phone";
          secret = randomPhone();
          v = "call me at " + secret + " re order " + between(10000, 99999);
        }
        case 1 -> {
          type = "card";
          secret = formatCard(randomCard());
          v =
              "Customer paid with card "
                  + secret
                  + " on "
                  + between(1, 28)
                  + " March, please refund.";
        }
        case 2 -> {
          type = "email";
          secret = pick("jane", "bob.smith", "k.tanaka") + between(1, 99) + "@example.com";
          v = "Ticket from " + secret + ": cannot log in since Tuesday.";
        }
        case 3 -> {
          type = "ssn";
          String d = ssn();
          secret = d.substring(0, 3) + "-" + d.substring(3, 5) + "-" + d.substring(5);
          v = "Applicant " + pick("A. Jones", "M. Chen") + ", SSN " + secret + ", approved.";
        }
        case 4 -> {
          type = "iban";
          secret = printIban(randomIban());
          v = "Please transfer EUR " + between(10, 999) + ",00 to " + secret + " by Friday.";
        }
        case 5 -> {
          type = "ip";
          secret = ipv4();
          v = "Failed login for admin from " + secret + " after " + between(3, 9) + " attempts";
        }
        case 6 -> {
          type = "credential";
          secret = "AKIA" + chars(UPPER + DIGITS, 16);
          v = "found key " + secret + " in commit " + chars(HEX, 7);
        }
        default -> {
          type = "connection_password";
          secret = password();
          v =
              "ERROR: could not connect to postgres://app:"
                  + secret
                  + "@db.internal:5432/app (timeout)";
        }
      }
      emit(type, v, secret);
    }
  }

  // --- look-alikes ----------------------------------------------------------------------------

  static List<String> lookalikes() {
    CorpusGenerator g = new CorpusGenerator(7L);
    g.genLookalikes();
    new CorpusGenerator(20261123L).redTeamData11Lookalikes(g);
    new CorpusGenerator(20261124L).fifteenthSessionLookalikes(g);
    new CorpusGenerator(20261125L).sixteenthSessionLookalikes(g);
    new CorpusGenerator(20261126L).eighteenthSessionLookalikes(g);
    new CorpusGenerator(20261127L).redTeam18MaskLookalikes(g);
    new CorpusGenerator(20261128L).nineteenthSessionLookalikes(g);
    new CorpusGenerator(20261129L).twentiethSessionLookalikes(g);
    return g.lines;
  }

  /**
   * The fifteenth session's gaps (their own seed): cards joined to a word by a slash, card, phone
   * and SSN groups joined by a middle dot or a bullet (VT and FF are in DetectionGaps15Test: the
   * corpus files are read by lines), the word for password in scripts other than Latin.
   */
  private void fifteenthSession(CorpusGenerator out) {
    String[] paths = {"x/", "path/", "/orders/", "cards/", "v1/", "GET /pay/", "s3://b/in/"};
    String[][] cards = {{"4", "16"}, {"51", "16"}, {"37", "15"}, {"6011", "16"}, {"4", "13"}};
    for (int i = 0; i < 28; i++) {
      String[] c = cards[i % cards.length];
      String card = card(c[0], Integer.parseInt(c[1]));
      out.emit("card", paths[i % paths.length] + card + pick("", " 200", "/x", "?a=1"), card);
    }
    String[] dots = {"\u00b7", "\u2022"};
    for (int i = 0; i < 16; i++) {
      String x = dots[i % 2];
      String card = card(pick("4", "52", "6011"), 16);
      String g =
          String.join(
              x,
              card.substring(0, 4),
              card.substring(4, 8),
              card.substring(8, 12),
              card.substring(12));
      out.emit("card", pick("", "card ", "paid ") + g, card.substring(4, 8));
    }
    for (int i = 0; i < 16; i++) {
      String x = dots[i % 2];
      String n = nanp();
      String v =
          i % 4 == 3
              ? "0" + between(1, 9) + x + digits(2) + x + digits(2) + x + digits(2) + x + digits(2)
              : n.substring(0, 3) + x + n.substring(3, 6) + x + n.substring(6);
      out.emit("phone", pick("call ", "", "tel ") + v, v.substring(v.length() - 7));
    }
    for (int i = 0; i < 12; i++) {
      String x = dots[i % 2];
      String d = ssn();
      String v = d.substring(0, 3) + x + d.substring(3, 5) + x + d.substring(5);
      out.emit("ssn", pick("", "SSN ", "id ") + v, v.substring(4));
    }
    String[] words = {
      "пароль",
      "Пароль",
      "ПАРОЛЬ",
      "парола",
      "лозинка",
      "密码",
      "密碼",
      "パスワード",
      "비밀번호",
      "κωδικός",
      "Κωδικός πρόσβασης",
      "סיסמה",
      "كلمة المرور",
      "पासवर्ड",
      "รหัสผ่าน",
      "şifre"
    };
    String[] assigns = {": ", "=", " = ", "：", "\": \""};
    for (int i = 0; i < 32; i++) {
      String pw = pick("Zx", "Qw", "Pa", "Mn") + chars(ALNUM, between(6, 12)) + pick("", "!", "-7");
      String a = assigns[i % assigns.length];
      String w = words[i % words.length];
      String v = a.startsWith("\"") ? "{\"" + w + a + pw + "\"}" : w + a + pw;
      out.emit("assignment", pick("", "логин: ivan ", "user admin ", "DB ") + v, pw);
    }
  }

  /**
   * The sixteenth session's gaps (their own seed): a card security code after the word and a space,
   * {@code #} or {@code no.}; redis {@code masterauth}; an address at a dotless A-label; NANP
   * numbers with a space, then a dash, dot, middle dot or bullet.
   */
  private void sixteenthSession(CorpusGenerator out) {
    String[] words = {"CVV", "cvv", "CVC", "cvc", "CVV2", "CVC2", "Cvv"};
    String[] seps = {" ", "# ", "#", " no. ", " No ", "\t", " #", "  "};
    for (int i = 0; i < 32; i++) {
      String code = i % 3 == 0 ? between(3, 9) + digits(3) : digits(3);
      String v =
          pick("", "card ok, ", "exp 12/27 ", "Visa ending 4242 ")
              + words[i % words.length]
              + seps[i % seps.length]
              + code
              + pick("", ".", " ok", ", thanks", "\n");
      out.emit("cvv", v.strip(), code);
    }
    for (int i = 0; i < 12; i++) {
      String pw = pick("Zx", "Qw", "Pa", "Mn") + chars(ALNUM, between(8, 16)) + pick("", "!", "@x");
      String v =
          switch (i % 4) {
            case 0 -> "masterauth " + pw;
            case 1 -> "  masterauth \"" + pw + "\"";
            case 2 -> "CONFIG SET masterauth " + pw;
            default -> "# replica\nmasterauth " + pw + "\nmasterport 6379";
          };
      out.emit("connection_password", v, pw);
    }
    String[] labels = {"xn--80ak6aa92e", "xn--p1ai", "xn--90ais", "xn--j1amh", "xn--d1acj3b"};
    for (int i = 0; i < 12; i++) {
      String local = pick("ivan", "olga", "user", "m.petrova", "info") + digits(2);
      String v = local + "@" + labels[i % labels.length];
      out.emit("email", pick("", "mail ", "to: ", "contact ") + v + pick("", " today", "."), local);
    }
    String[] marks = {"\u00b7", "\u2022", "-", "."};
    for (int i = 0; i < 16; i++) {
      String n = nanp();
      String v =
          n.substring(0, 3) + " " + n.substring(3, 6) + marks[i % marks.length] + n.substring(6);
      out.emit("phone", pick("call ", "", "tel ", "phone: ") + v, n.substring(3, 6));
    }
  }

  /**
   * The eighteenth session's gaps (their own seed): a card security code after its longer names and
   * a space (English, German, French, Spanish, Italian; {@code CID} on an Amex), and addresses
   * written to escape harvesters ({@code (at)}, {@code [dot]}, {@code [.]}, the words {@code at}
   * and {@code dot}).
   */
  private void eighteenthSession(CorpusGenerator out) {
    String[] names = {
      "security code",
      "Security Code",
      "SECURITY CODE",
      "card security code",
      "card verification value",
      "Card Verification Code",
      "CVV code",
      "cvc number",
      "Sicherheitscode",
      "Kartenprüfnummer",
      "code de sécurité",
      "Code de securite",
      "cryptogramme visuel",
      "código de seguridad",
      "codice di sicurezza",
      "CID"
    };
    String[] seps = {" ", " ", "  ", ": ", " : ", " #", "\t", " no. "};
    for (int i = 0; i < 48; i++) {
      String name = names[i % names.length];
      boolean cid = name.equals("CID");
      String code = cid || i % 3 == 0 ? between(3, 9) + digits(3) : digits(3);
      String v =
          (cid
                  ? pick("Amex 3782, ", "American Express card, ", "card: amex ")
                  : pick("", "card ok, ", "exp 12/27 "))
              + name
              + seps[i % seps.length]
              + code
              + pick("", ".", " ok", ", thanks");
      out.emit("cvv", v, code);
    }
    String[][] forms = {
      {"(at)", "(dot)"},
      {" [at] ", " [dot] "},
      {" {at} ", " {dot} "},
      {"<at>", "<dot>"},
      {"(AT)", "(DOT)"},
      {"[at]", "."},
      {" at ", " dot "},
      {" AT ", " DOT "},
      {"@", "[.]"},
      {"@", "(.)"},
      {"@", "[dot]"},
      {" at ", "(dot)"}
    };
    String[] domains = {"example", "mail.example", "firma", "correo", "post"};
    String[] tlds = {"com", "org", "de", "co.uk", "io", "net"};
    for (int i = 0; i < 48; i++) {
      String[] f = forms[i % forms.length];
      String local = pick("ana", "jo", "m.petrova", "li_wei", "olga") + digits(2);
      String dom = pick(domains) + "." + pick(tlds);
      String v = local + f[0] + dom.replace(".", f[1]);
      out.emit(
          "email",
          pick("", "mail ", "contact: ", "write to ") + v + pick("", " today", "."),
          local);
    }
  }

  /**
   * {@code body} (JSON text) held in a JSON string {@code depth} times over, as a log event's
   * stringified message holds a request body: each level a member of an object serialised into the
   * next one's string (RFC 8259 section 7: backslashes and quotes escaped).
   */
  private static String nestJson(String body, int depth) {
    for (int i = 0; i < depth; i++) {
      body = "{\"n\": \"" + body.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
    }
    return body;
  }

  /**
   * The masking red team rt18mask's findings (their own seed): secrets in JSON escaped twice or
   * three times over (F2: a GCP {@code private_key_id} and a {@code "password"} member in a log
   * event's stringified message), and the layouts that stay phone numbers and cards after F4-F6:
   * NANP numbers with a slash, German numbers with a slash after the trunk-0 area code, Italian
   * mobiles written 3-3-4 whatever the exchange, a NANP-invalid exchange after a phone word, a
   * Diners number 4-4-4-2 and a 12-digit Maestro 4-4-4.
   */
  private void redTeam18Mask(CorpusGenerator out) {
    for (int i = 0; i < 24; i++) {
      int depth = 2 + i % 2; // the members' quotes escaped by 3 or 7 backslashes
      String id = chars(HEX, 40);
      String gcp =
          "{\"type\": \"service_account\", \"project_id\": \"billing-prod-"
              + digits(4)
              + "\", \"private_key_id\": \""
              + id
              + "\"}";
      out.emit(
          "credential", nestJson(pick("export TOKEN_X=", "found in logs: ", "") + gcp, depth), id);
      String pw = pick("Pa55w0rd_", "Tr0ub4dor&", "Summer2024!") + base62(5);
      String member =
          pick("{\"password\": \"", "{\"user\": \"bob\", \"password\": \"", "\"password\":\"")
              + pw
              + pick("\"}", "\", \"ok\": true}");
      out.emit("assignment", nestJson(member, depth), pw);
    }
    for (int i = 0; i < 40; i++) {
      String[] nanp = nanpParts();
      String area = nanp[0];
      String exch = nanp[1];
      String line = nanp[2];
      String v =
          switch (i % 8) {
            case 0 -> area + "/" + exch + "-" + line;
            case 1 -> "0" + pick("151", "170", "30", "89", "40") + "/" + between(2, 9) + digits(6);
            case 2 ->
                "3" + between(2, 9) + digits(1) + " " + between(0, 1) + digits(2) + " " + line;
            case 3 -> "3" + between(2, 9) + digits(1) + " " + exch + " " + line;
            case 4 -> area + "-" + between(0, 1) + digits(2) + "-" + line;
            case 5 -> "(" + area + ") " + between(0, 1) + digits(2) + "-" + line;
            case 6 -> area + " " + exch + "-" + line;
            default -> area + "." + exch + "." + line;
          };
      String word =
          i % 8 == 4 || i % 8 == 5
              ? pick("phone: ", "tel ", "Mobile: ", "fax ")
              : pick("", "call ", "tel ");
      out.emit("phone", word + v, v.substring(0, v.length() - 2));
    }
    for (int i = 0; i < 16; i++) {
      String d = card(pick("300", "305", "36", "38"), 14);
      String v =
          d.substring(0, 4)
              + " "
              + d.substring(4, 8)
              + " "
              + d.substring(8, 12)
              + " "
              + d.substring(12);
      out.emit("card", pick("", "card ", "Diners ") + v, d.substring(4, 8));
      String m = card(pick("50", "56", "63", "67"), 12);
      String w = m.substring(0, 4) + " " + m.substring(4, 8) + " " + m.substring(8);
      out.emit("card", pick("", "maestro ", "card: ") + w, m.substring(4, 8));
    }
  }

  /**
   * Look-alikes of the red team rt18mask's false positives: lot, batch and reference numbers {@code
   * ddd/ddd/dddd} and NANP-shaped numbers whose exchange starts with 0 or 1 (F4), 22-digit USPS
   * tracking numbers printed 4-4-4-4-4-2 that hold a Luhn-valid card reading after their first
   * group (F5), and a Luhn-invalid 16-digit number in fours after a COPY row's id and a tab whose
   * last 12 digits are a Luhn-valid Maestro number (F6); and JSON escaped twice over whose {@code
   * "password"} member is empty or a reference.
   */
  private void redTeam18MaskLookalikes(CorpusGenerator out) {
    for (int i = 0; i < 40; i++) {
      String area = between(2, 9) + digits(2);
      String v =
          switch (i % 5) {
            case 0 -> pick("lot ", "batch ") + area + "/" + digits(3) + "/" + digits(4);
            case 1 -> "ref " + area + "-" + between(0, 1) + digits(2) + "-" + digits(4);
            case 2 -> "(" + area + ") " + between(0, 1) + digits(2) + "-" + digits(4);
            case 3 -> between(4, 9) + digits(2) + "." + between(0, 1) + digits(2) + "." + digits(4);
            default -> area + "/" + between(0, 1) + digits(2) + "-" + digits(4);
          };
      out.look("rt18mask_phone", v);
    }
    String[] usps = {"9400", "9405", "9205", "9270", "9361", "9374"};
    for (int i = 0; i < 36; i++) {
      String rest;
      switch (i % 3) {
        case 0 -> // an 18-digit reading 4-4-4-4-2 from the second group
            rest = card(pick("62", "65", "56", "67"), 18);
        case 1 -> // a 16-digit reading 4-4-4-4 from the second group
            rest = card(pick("4", "51", "6011", "3530"), 16) + digits(2);
        default -> // a 14-digit reading 4-4-4-2 from the third group
            rest = digits(4) + card(pick("56", "67", "36", "38"), 14);
      }
      String n = pick(usps) + rest;
      StringBuilder b = new StringBuilder();
      for (int k = 0; k < 22; k += 4) {
        b.append(k == 0 ? "" : " ").append(n, k, Math.min(22, k + 4));
      }
      out.look("rt18mask_tracking", b.toString());
    }
    for (int i = 0; i < 16; i++) {
      String tail = card(pick("56", "63", "67", "68"), 12);
      String first;
      do {
        first = between(1, 9) + digits(3);
      } while (luhnCheck((first + tail).substring(0, 15)) == (first + tail).charAt(15) - '0');
      String v =
          first
              + "  "
              + tail.substring(0, 4)
              + "  "
              + tail.substring(4, 8)
              + "  "
              + tail.substring(8);
      out.look("rt18mask_tab", between(1, 9999) + "\t" + v);
    }
    for (int i = 0; i < 8; i++) {
      String member =
          pick(
              "{\"password\": \"\", \"user\": \"bob\"}",
              "{\"password\": \"${DB_PASSWORD}\"}",
              "{\"password\":null}");
      out.look("rt18mask_json", nestJson(member, 2 + i % 2));
    }
  }

  /**
   * The nineteenth session's gap: the value after a bare {@code pass} key with a letter and a digit
   * or symbol, or after a user key or as a URL query parameter (SecretDetectors.BarePass).
   */
  private void nineteenthSession(CorpusGenerator out) {
    for (int i = 0; i < 40; i++) {
      String pw =
          switch (i % 4) {
            case 0 -> pick("hunter", "Summer", "admin", "Welcome", "qwerty") + digits(2 + i % 3);
            case 1 -> chars(ALNUM, 8 + i % 5) + digits(2);
            case 2 -> pick("Tr0ub4dor&3", "p@ssW0rd!", "Xk9#mQ2$", "zebra-42-Lamp");
            default -> pick("letmein", "dragonfly", "sunshine", "123456", "000000");
          };
      boolean strong = i % 4 != 3;
      String v =
          strong
              ? pick("pass=", "PASS=", "pass: ", "Pass: ", "\"pass\": \"") + pw
              : pick("user=bob&pass=", "login: admin / pass: ", "?user=cam&pass=", "usr=ops pass=")
                  + pw;
      if (v.contains("\"pass\": \"")) {
        v = "{" + v + "\"}";
      }
      out.emit("assignment", pick("", "config: ", "curl 'https://cam.example/api?") + v, pw);
    }
    for (int i = 0; i < 24; i++) {
      // a password in a sentence: a letter and a digit or symbol, or quoted
      String pw =
          i % 3 == 2
              ? pick("Fluffy dog", "blue moon", "letmein")
              : pick("hunter", "Summer", "Tmp-", "Xk9#mQ") + digits(2 + i % 3);
      String q = i % 3 == 2 ? pick("\"", "'") : "";
      out.emit(
          "assignment",
          pick("the password is ", "Customer said their password is ", "password was ")
              + pick("", "now ")
              + q
              + pw
              + q
              + pick("", ".", ", please change it"),
          pw);
    }
    for (int i = 0; i < 24; i++) {
      // a phone number after a verb of calling (or the accented móvil)
      String number = pick("07700", "07911", "0203", "0612") + digits(6);
      out.emit(
          "phone",
          pick("call me on ", "call ", "reach us at ", "text me at ", "Call back on ", "móvil: ")
              + number
              + pick("", ".", " after 6pm"),
          number);
    }
    for (int i = 0; i < 24; i++) {
      // the Faker library's en_US formats with an extension glued on
      String[] p = nanpParts();
      String number =
          switch (i % 4) {
            case 0 -> p[0] + "-" + p[1] + "-" + p[2];
            case 1 -> "(" + p[0] + ")" + p[1] + "-" + p[2];
            case 2 -> p[0] + "." + p[1] + "." + p[2];
            default -> "001-" + p[0] + "-" + p[1] + "-" + p[2];
          };
      out.emit("phone", pick("", "Phone: ", "contact ") + number + "x" + digits(1 + i % 5), number);
    }
    for (int i = 0; i < 16; i++) {
      // Faker's en_GB and de_DE layouts: the trunk 0 in parentheses right after the country code
      String rest = i % 2 == 0 ? digits(4) + " " + digits(6) : digits(4) + " " + digits(5);
      out.emit("phone", pick("+44", "+49") + "(0)" + rest, rest);
    }
    for (int i = 0; i < 16; i++) {
      // JCB's 15-digit ranges (Faker's jcb15)
      String payload = pick("1800", "2131") + digits(10);
      String card = payload + luhnCheck(payload);
      out.emit("card", pick("", "card ", "JCB: ") + card, card);
    }
  }

  /**
   * The twentieth session's gaps (the outside corpus of red team mask20): a phone number at the
   * start of a line written as COPY text or a JSON string writes it (after {@code \\n} or {@code
   * \\t}), Spanish fixed lines 2-3-2-2, secrets named by an XML attribute ({@code <add
   * key="DbPassword" value="…"/>}, {@code <entry key="password">…</entry>}), {@code password for
   * NAME: …}, and the value of a {@code _AUTH} name.
   */
  private void twentiethSession(CorpusGenerator out) {
    for (int i = 0; i < 24; i++) {
      String number =
          switch (i % 4) {
            case 0 -> "020 7946 " + digits(4);
            case 1 -> "06 " + digits(2) + " " + digits(2) + " " + digits(2) + " " + digits(2);
            case 2 -> "(" + between(201, 989) + ") " + between(200, 989) + "-" + digits(4);
            default -> "0" + between(151, 179) + " " + between(1, 9) + digits(7);
          };
      String esc = pick("\\n", "\\n", "\\t", "\\r\\n");
      out.emit(
          "phone",
          pick("Best regards,", "{\"sig\": \"Kind regards", "Call log:")
              + esc
              + pick("Anna Rossi", "Support")
              + esc
              + number
              + pick("", "\"}", esc + "Sent from my phone"),
          number);
    }
    for (int i = 0; i < 16; i++) {
      String number = pick("91", "93") + " " + digits(3) + " " + digits(2) + " " + digits(2);
      out.emit("phone", pick("", "Tel: ", "llamar al ", "{\"telefono\": \"") + number, number);
    }
    for (int i = 0; i < 24; i++) {
      String pw =
          pick("Summer", "Winter", "Dragon") + between(2019, 2026) + pick("!", "#", "%", "");
      if (i % 2 == 1) {
        pw = chars(ALNUM, 10 + i % 6);
      }
      String v =
          switch (i % 5) {
            case 0 -> "<add key=\"DbPassword\" value=\"" + pw + "\" />";
            case 1 -> "<add key=\"Smtp.Password\" value=\"" + pw + "\"/>";
            case 2 -> "<property name=\"password\" value=\"" + pw + "\"/>";
            case 3 -> "<entry key=\"password\">" + pw + "</entry>";
            default -> "<param name=\"apiKey\" value=\"" + pw + "\" />";
          };
      out.emit("assignment", pick("", "  ", "<appSettings>") + v, pw);
    }
    for (int i = 0; i < 16; i++) {
      String pw = chars(ALNUM, 8 + i % 5) + pick("*", "^", "1", "#");
      out.emit(
          "assignment",
          pick("temp password for ", "Password for ", "new password for ")
              + pick("Yuki Dubois", "the VPN", "bob", "ops admin account")
              + pick(": ", " : ", ":  ")
              + pw,
          pw);
    }
    for (int i = 0; i < 16; i++) {
      String pw =
          i % 2 == 0 ? chars(ALNUM, 12 + i % 5) : pick("Monkey", "Winter") + between(2019, 2026);
      out.emit(
          "assignment",
          pick("REDIS_AUTH=", "redis_auth: ", "PROXY_AUTH=user:", "\"cache_auth\": \"") + pw,
          pw);
    }
  }

  /** Look-alikes of the twentieth session's gaps and of its outside corpus's false positives. */
  private void twentiethSessionLookalikes(CorpusGenerator out) {
    String lowerDigits = "bcdfghjklmnpqrstvwxz2456789";
    for (int i = 0; i < 16; i++) {
      // Kubernetes pod names: a Deployment's, its pod-template hash, a random suffix
      out.look(
          "twentieth_lookalike",
          pick("pod/api-", "pod/checkout-", "", "Pulled image for pod web-")
              + chars(lowerDigits, 8 + i % 3)
              + "-"
              + chars(lowerDigits, 5));
    }
    String[] texts = {
      "hello Chloé Okafor",
      "hello Liam Müller",
      "Grüße aus München",
      "café crème brûlée",
      "señor Núñez, ¿qué tal?",
      "Ålesund og Tromsø"
    };
    for (String t : texts) {
      out.look(
          "twentieth_lookalike",
          Base64.getEncoder().encodeToString(t.getBytes(StandardCharsets.UTF_8)));
    }
    for (int i = 0; i < 12; i++) {
      // Amazon-style order numbers 3-7-7 starting with 0 (with 00, see the report: an
      // international prefix)
      out.look(
          "twentieth_lookalike", "Order 0" + between(10, 99) + "-" + digits(7) + "-" + digits(7));
    }
    String[] more = {
      "SMTP_AUTH=login",
      "DB_AUTH=scram-sha-256",
      "proxy_auth: ntlm",
      "MAIL_AUTH=plain",
      "REDIS_AUTH=${REDIS_PASSWORD}",
      "HTTP_AUTH=aes-256-gcm",
      "<add key=\"PasswordMinLength\" value=\"12\" />",
      "<entry key=\"password.policy\">strong</entry>",
      "<property name=\"passwordEncoder\" value=\"bcrypt\"/>",
      "<add key=\"DbPassword\" value=\"${DB_PASSWORD}\" />",
      "password for the account: expired",
      "Password for root: 90 days",
      "password for bob: ********",
      "Qty 12 345 67 89",
      "90 123 45 67"
    };
    for (String t : more) {
      out.look("twentieth_lookalike", t);
    }
  }

  /** Look-alikes of the nineteenth session's gaps: counts and words after {@code pass}, prose. */
  private void nineteenthSessionLookalikes(CorpusGenerator out) {
    for (int i = 0; i < 30; i++) {
      out.look(
          "nineteenth_lookalike",
          switch (i % 6) {
            case 0 -> "pass: " + between(0, 500) + " fail: " + between(0, 9);
            case 1 -> "Tests: pass=" + between(1, 99) + " fail=0 skip=" + between(0, 4);
            case 2 -> "pass: " + pick("yes", "no", "true", "false", "ok", "n/a", "skipped");
            case 3 -> "Pass: " + pick("Gold", "Silver", "first", "all", "Weekly");
            case 4 -> pick("bypass=", "compass: ", "overpass: ") + chars(ALNUM, 6);
            default -> "pass rate " + between(50, 100) + "%, pass: " + between(1, 9) + "/10";
          });
    }
    for (int i = 0; i < 18; i++) {
      out.look(
          "nineteenth_lookalike",
          pick("the password is ", "Password was ", "your password is ")
              + pick(
                  "incorrect.",
                  "case-sensitive",
                  between(8, 16) + " characters long",
                  "reset.",
                  "e-mailed to you",
                  "required",
                  "at least " + between(8, 12) + " characters"));
    }
    for (int i = 0; i < 12; i++) {
      out.look(
          "nineteenth_lookalike",
          pick("reach ", "contact ", "call ID ", "civil case ", "arrived at ")
              + between(1, 9)
              + digits(7)
              + pick("", " users", "."));
    }
  }

  /** Look-alikes of the eighteenth session's gaps. */
  private void eighteenthSessionLookalikes(CorpusGenerator out) {
    String[] texts = {
      "security code review",
      "security code review 2024",
      "error code 1234",
      "zip code 12345",
      "code 1234",
      "promo code 4411",
      "customer CID 4321 opened a ticket",
      "CID 1234",
      "cid: 7781",
      "Sicherheitscode-Generator 2000",
      "code de sécurité sociale 123",
      "meet at noon dot",
      "look at example.com",
      "look at example dot com",
      "at the end",
      "Put a dot at the end of the sentence",
      "the red dot at the top right",
      "Meet at the Dot Com Cafe",
      "He worked at a dot com startup",
      "we met at the dot com bubble",
      "find us at example dot com",
      "email me at example dot com",
      "we are at example.com now",
      "see (at) noon",
      "list [.] item",
      "v1.2 (dot) release"
    };
    for (String t : texts) {
      out.look("eighteenth_lookalike", t);
    }
    for (int i = 0; i < 12; i++) {
      // a year after the name and before more words; a number too long; an error or area code
      out.look(
          "eighteenth_lookalike",
          pick("security code ", "Sicherheitscode ", "card verification value ")
              + between(1990, 2030)
              + pick(" policy", " update", " rules apply"));
      out.look(
          "eighteenth_lookalike",
          pick("security code ", "code de sécurité ") + between(1, 9) + digits(4));
      out.look("eighteenth_lookalike", pick("error code ", "area code ", "code ") + digits(4));
      out.look(
          "eighteenth_lookalike",
          pick("arrived at ", "looked at ", "meet at ")
              + pick("noon", "the station", "home")
              + pick(" dot", ", then a dot", " on the dot"));
    }
  }

  /** Look-alikes of the sixteenth session's gaps. */
  private void sixteenthSessionLookalikes(CorpusGenerator out) {
    String[] texts = {
      "cvv codes 2024 policy",
      "CVC 2024 conference in Lisbon",
      "CVV 2019 standards apply",
      "cvv 12",
      "CVV 12345",
      "CVC 4.0 release",
      "cvv length 3",
      "the cvv is printed on the back",
      "cvc2 check failed",
      "CVV 1,234 attempts",
      "Set masterauth on the replica",
      "the masterauth directive is unset",
      "master authentication 2024",
      "pkg@xn--",
      "user@xn-80ak6aa92e",
      "x@com",
      "git@xn--80ak6aa92e:org/repo",
      "https://user@xn--80ak6aa92e/",
      "123 456-7890",
      "415 555-0100x",
      "415 555-010",
      "2024 555-0100",
      "100 200.3000",
      "run 12 555-0100x"
    };
    for (String t : texts) {
      out.look("sixteenth_lookalike", t);
    }
    for (int i = 0; i < 8; i++) {
      // a year after the word and before more words; a number too long; an area code with a 1 or 0
      out.look(
          "sixteenth_lookalike",
          pick("CVC ", "cvv ", "CVV2 ")
              + between(1990, 2030)
              + pick(" policy", " update", " rules apply"));
      out.look("sixteenth_lookalike", pick("cvv ", "CVC# ") + between(1, 9) + digits(4));
      out.look(
          "sixteenth_lookalike",
          between(0, 1) + digits(2) + " " + digits(3) + pick("-", ".", "\u00b7") + digits(4));
    }
  }

  /** Look-alikes of the fifteenth session's gaps. */
  private void fifteenthSessionLookalikes(CorpusGenerator out) {
    for (int i = 0; i < 12; i++) {
      // a Luhn-invalid card after a word and a slash, ids without an issuer prefix
      String card = card("4", 16);
      String bad = card.substring(0, 15) + (char) ('0' + (card.charAt(15) - '0' + 1) % 10);
      out.look("slash_id", pick("x/", "o/", "id/") + bad);
      out.look("slash_id", "GET /o/17" + digits(11) + " 200");
      out.look("slash_id", "ratio " + between(1, 9) + "/" + card);
    }
    String[] dots = {"\u00b7", "\u2022"};
    for (int i = 0; i < 12; i++) {
      String x = dots[i % 2];
      String card = card("4", 16);
      String bad = card.substring(0, 15) + (char) ('0' + (card.charAt(15) - '0' + 1) % 10);
      out.look(
          "dot_groups",
          String.join(
              x,
              bad.substring(0, 4),
              bad.substring(4, 8),
              bad.substring(8, 12),
              bad.substring(12)));
      out.look(
          "dot_groups", "20" + between(10, 29) + x + "0" + between(1, 9) + x + between(10, 28));
      out.look("dot_groups", "666" + x + digits(2) + x + digits(4));
      out.look("dot_groups", x + " " + digits(2) + " " + x + " " + digits(3) + " " + x);
    }
    String[] texts = {
      "Забыли пароль? Нажмите здесь",
      "пароль: ********",
      "пароль: ${DB_PASSWORD}",
      "паролька: 12",
      "Время: 10:45, пароль сменён",
      "密码错误，请重试",
      "修改密码 2024-05-01 10:00",
      "パスワードを忘れた場合",
      "κωδικός προϊόντος 4411",
      "Müller: 10:45",
      "São Paulo: 12 orders",
      "сообщение: привет",
      "şifre değiştirildi",
      "Kraków=3"
    };
    for (int i = 0; i < 28; i++) {
      out.look("assign_like_scripts", texts[i % texts.length]);
    }
  }

  /** The look-alikes the data and exec red teams saw masked in the eleventh session. */
  private void redTeamData11Lookalikes(CorpusGenerator out) {
    for (int i = 0; i < 12; i++) {
      // EAN-13 codes with a valid GS1 check digit after the word
      String payload = "590" + digits(9);
      int sum = 0;
      for (int k = 0; k < 12; k++) {
        sum += (payload.charAt(k) - '0') * (k % 2 == 0 ? 1 : 3);
      }
      out.look("ean13", pick("EAN ", "EAN: ", "GTIN ") + payload + (10 - sum % 10) % 10);
    }
    for (int i = 0; i < 12; i++) {
      StringBuilder b = new StringBuilder("Lottery");
      for (int k = 0; k < 6; k++) {
        b.append(' ').append(String.format(Locale.ROOT, "%02d", between(1, 49)));
      }
      out.look("lottery", b.toString());
    }
    for (int i = 0; i < 12; i++) {
      out.look("order_ref", pick("PO-", "INV-", "ORD_") + "2026-" + digits(12));
    }
    for (int i = 0; i < 12; i++) {
      String job = "/tmp/gatehouse-job-" + chars(ALNUM, 12);
      out.look("env_path", pick("HOME=", "TMPDIR=", "OLDPWD=") + job);
      out.look("env_path", "PWD=" + job + "/work");
    }
  }

  /** A NANP number's area code, exchange (both NXX: 2-9, then two digits) and line. */
  private String[] nanpParts() {
    String area = between(2, 9) + digits(2);
    String exchange = between(2, 9) + digits(2);
    return new String[] {area, exchange, digits(4)};
  }

  private void look(String kind, String value) {
    lines.add("lookalike\t" + escape(value) + "\t" + kind);
  }

  private String uuid() {
    return chars(HEX, 8)
        + "-"
        + chars(HEX, 4)
        + "-4"
        + chars(HEX, 3)
        + "-"
        + pick("8", "9", "a", "b")
        + chars(HEX, 3)
        + "-"
        + chars(HEX, 12);
  }

  private void genLookalikes() {
    for (int i = 0; i < 160; i++) {
      String u = uuid();
      look(
          "uuid",
          r.nextInt(5) == 0 ? u.toUpperCase(Locale.ROOT) : r.nextBoolean() ? u : "request_id=" + u);
    }
    for (int i = 0; i < 160; i++) {
      look(
          "build_id",
          switch (i % 5) {
            case 0 ->
                "build-"
                    + between(2020, 2026)
                    + String.format("%02d%02d", between(1, 12), between(1, 28))
                    + "-"
                    + chars(HEX, 7);
            case 1 -> "ci-" + between(1000, 99999) + "-" + chars(HEX, 8);
            case 2 ->
                "release-"
                    + between(1, 9)
                    + "."
                    + between(0, 30)
                    + "."
                    + between(0, 9)
                    + "-rc"
                    + between(1, 5);
            case 3 -> "job/" + pick("deploy", "test", "lint") + "/" + between(100, 99999);
            default ->
                pick("app", "api", "worker")
                    + "-"
                    + pick("prod", "staging")
                    + "-"
                    + chars(LOWER + DIGITS, 10)
                    + "-"
                    + chars(LOWER + DIGITS, 5);
          });
    }
    for (int i = 0; i < 160; i++) {
      look(
          "order_number",
          switch (i % 5) {
            case 0 ->
                "ORD-" + between(2019, 2026) + "-" + String.format("%06d", between(1, 999999));
            case 1 -> "#A" + digits(8);
            case 2 -> "PO " + "45" + digits(8);
            case 3 -> "INV-" + digits(4) + "/" + digits(3);
            default -> "order " + digits(between(5, 9)) + " shipped";
          });
    }
    for (int i = 0; i < 160; i++) {
      int y = between(2000, 2030);
      int mo = between(1, 12);
      int d = between(1, 28);
      int h = between(0, 23);
      int mi = between(0, 59);
      int s = between(0, 59);
      look(
          "timestamp",
          switch (i % 5) {
            case 0 -> String.format("%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
            case 1 ->
                String.format(
                    "%04d-%02d-%02d %02d:%02d:%02d.%03d", y, mo, d, h, mi, s, between(0, 999));
            case 2 -> String.valueOf(1600000000000L + r.nextInt(Integer.MAX_VALUE) * 10L);
            case 3 ->
                String.format(
                    "%04d-%02d-%02dT%02d:%02d:%02d+%02d:00", y, mo, d, h, mi, s, between(0, 12));
            default ->
                String.format(
                    "[%02d/%s/%04d:%02d:%02d:%02d +0000]",
                    d, pick("Jan", "Feb", "Mar"), y, h, mi, s);
          });
    }
    for (int i = 0; i < 120; i++) {
      int y = between(1950, 2030);
      int mo = between(1, 12);
      int d = between(1, 28);
      look(
          "date",
          switch (i % 4) {
            case 0 -> String.format("%04d-%02d-%02d", y, mo, d);
            case 1 -> String.format("%02d/%02d/%04d", mo, d, y);
            case 2 -> String.format("%02d.%02d.%04d", d, mo, y);
            default -> String.format("%04d%02d%02d", y, mo, d);
          });
    }
    for (int i = 0; i < 150; i++) {
      look(
          "git_sha",
          i % 3 == 0 ? chars(HEX, 7) : i % 3 == 1 ? chars(HEX, 40) : "commit " + chars(HEX, 40));
    }
    for (int i = 0; i < 150; i++) {
      look(
          "hash",
          switch (i % 4) {
            case 0 -> chars(HEX, 64);
            case 1 -> "sha256:" + chars(HEX, 64);
            case 2 -> chars(HEX, 32);
            default -> chars(HEX, 128).toUpperCase(Locale.ROOT);
          });
    }
    for (int i = 0; i < 150; i++) {
      look(
          "version",
          switch (i % 6) {
            case 0 -> "v" + between(0, 9) + "." + between(0, 30) + "." + between(0, 30);
            case 1 -> between(0, 9) + "." + between(0, 30) + "." + between(0, 30);
            case 2 -> between(1, 5) + "." + between(0, 20) + "." + between(0, 9) + "-SNAPSHOT";
            case 3 ->
                "v"
                    + between(1, 9)
                    + "."
                    + between(0, 9)
                    + "."
                    + between(0, 9)
                    + "."
                    + between(0, 99);
            case 4 ->
                "version "
                    + between(1, 9)
                    + "."
                    + between(0, 9)
                    + "."
                    + between(0, 9)
                    + "."
                    + between(0, 999);
            default ->
                between(1, 9)
                    + "."
                    + between(0, 9)
                    + "."
                    + between(0, 9)
                    + "."
                    + between(0, 9)
                    + "-"
                    + pick("beta", "rc1", "alpha.2");
          });
    }
    String[] prose = {
      "We shipped %d units in %d and %d more in Q1.",
      "Room %d, floor %d, building %d.",
      "The invoice total is $%d,%03d.00 for %d items.",
      "Call volume rose %d%% to %d calls on %d March.",
      "Page %d of %d, %d results found.",
      "Temperature %d.%d C at %d m altitude.",
      "Error code %d after %d retries (limit %d).",
    };
    for (int i = 0; i < 210; i++) {
      look(
          "prose",
          String.format(
              prose[i % prose.length], between(1, 9999), between(1, 999), between(1, 2030)));
    }
    for (int i = 0; i < 160; i++) {
      String c = randomCard();
      int last = c.charAt(c.length() - 1) - '0';
      String bad = c.substring(0, c.length() - 1) + ((last + between(1, 9)) % 10);
      look("luhn_invalid", i % 2 == 0 ? bad : formatCard(bad));
    }
    for (int i = 0; i < 150; i++) {
      String s;
      switch (i % 5) {
        case 0 ->
            s =
                "000-"
                    + String.format("%02d", between(1, 99))
                    + "-"
                    + String.format("%04d", between(1, 9999));
        case 1 ->
            s =
                "666-"
                    + String.format("%02d", between(1, 99))
                    + "-"
                    + String.format("%04d", between(1, 9999));
        case 2 ->
            s =
                between(900, 999)
                    + "-"
                    + String.format("%02d", between(1, 99))
                    + "-"
                    + String.format("%04d", between(1, 9999));
        case 3 ->
            s =
                String.format("%03d", between(1, 665))
                    + "-00-"
                    + String.format("%04d", between(1, 9999));
        default ->
            s =
                String.format("%03d", between(1, 665))
                    + "-"
                    + String.format("%02d", between(1, 99))
                    + "-0000";
      }
      look("invalid_ssn", s);
    }
    for (int i = 0; i < 150; i++) {
      look(
          "tracking",
          switch (i % 4) {
            case 0 -> "1Z" + chars(UPPER + DIGITS, 6) + digits(10);
            case 1 -> "9400" + digits(18);
            case 2 ->
                "9400 " + digits(4) + " " + digits(4) + " " + digits(4) + " " + digits(4) + " "
                    + digits(2);
            default -> pick("JD", "LX", "RR") + digits(9) + pick("GB", "DE", "CN");
          });
    }
    for (int i = 0; i < 100; i++) {
      look(
          "url",
          switch (i % 4) {
            case 0 ->
                "https://www.example.com/"
                    + pick("docs", "api/v2", "search")
                    + "?q="
                    + chars(LOWER, 6)
                    + "&page="
                    + between(1, 99);
            case 1 ->
                "postgres://"
                    + pick("app", "report")
                    + "@db.internal:5432/"
                    + pick("orders", "crm");
            case 2 ->
                "git@github.com:" + pick("acme", "gatehouse") + "/" + pick("api", "web") + ".git";
            default ->
                "s3://"
                    + pick("logs", "backups")
                    + "-"
                    + digits(4)
                    + "/"
                    + between(2020, 2026)
                    + "/"
                    + String.format("%02d", between(1, 12))
                    + "/";
          });
    }
    String[] idents = {
      "getUserAccountBalanceFromDatabase",
      "AbstractSingletonProxyFactoryBean",
      "customer_lifetime_value_usd",
      "/usr/local/lib/python3.11/site-packages",
      "com.fasterxml.jackson.databind.ObjectMapper",
      "INFO [main] Started Application in 3.21 seconds",
      "node_modules/@babel/core/lib/index.js",
      "HttpServletRequestWrapperFactory",
      "/var/lib/postgresql/16/main/base",
      "SELECT id, email FROM customers WHERE id = 42"
    };
    for (int i = 0; i < 150; i++) {
      look(
          "identifier",
          idents[i % idents.length] + (i >= idents.length ? " " + between(1, 99) : ""));
    }
    for (int i = 0; i < 60; i++) {
      look(
          "mac_time",
          i % 2 == 0
              ? String.join(
                  ":",
                  chars(HEX, 2),
                  chars(HEX, 2),
                  chars(HEX, 2),
                  chars(HEX, 2),
                  chars(HEX, 2),
                  chars(HEX, 2))
              : String.format("%02d:%02d:%02d", between(0, 23), between(0, 59), between(0, 59)));
    }
    String[] texts = {
      "Hello World, this is a test message",
      "The quick brown fox jumps over the lazy dog",
      "user preferences saved successfully",
      "{\"theme\":\"dark\",\"lang\":\"en\"}"
    };
    for (int i = 0; i < 60; i++) {
      look(
          "base64_text",
          Base64.getEncoder()
              .encodeToString(
                  (texts[i % texts.length] + " #" + i).getBytes(StandardCharsets.UTF_8)));
    }
    for (int i = 0; i < 80; i++) {
      look(
          "money",
          switch (i % 4) {
            case 0 -> "$" + between(1, 999) + "," + String.format("%03d", between(0, 999)) + ".00";
            case 1 ->
                "EUR "
                    + between(1, 999)
                    + "."
                    + String.format("%03d", between(0, 999))
                    + ","
                    + digits(2);
            case 2 -> "balance: " + between(1, 99999) + "." + digits(2);
            default -> between(1, 99) + "." + digits(2) + " USD";
          });
    }
    for (int i = 0; i < 60; i++) {
      look(
          "isbn_misc",
          switch (i % 3) {
            case 0 ->
                "ISBN 978-"
                    + between(0, 9)
                    + "-"
                    + digits(2)
                    + "-"
                    + digits(6)
                    + "-"
                    + between(0, 9);
            case 1 -> "password_reset=true";
            default -> "token_count: " + between(1, 4096);
          });
    }
    lookNoBreakSpaceNumbers();
    lookEncodedNonAddresses();
    lookOtherLanguageWords();
    lookNoBreakSpaceNonPhones();
    lookEleventhSession();
    lookUnicodeSeparators();
  }

  /**
   * Ranges, amounts, dates and sentences with Unicode spaces, dashes and full stops; coloured log
   * lines; query strings and assignments whose {@code & ;} separate parameters.
   */
  private void lookUnicodeSeparators() {
    for (int i = 0; i < 48; i++) {
      String sep = OTHER_SEPARATORS[i % OTHER_SEPARATORS.length];
      look(
          "unicode_separator",
          switch (i % 6) {
            case 0 -> "pages " + between(1, 99) + sep + between(100, 300) + " of the report";
            case 1 -> "total " + between(1, 9) + sep + digits(3) + sep + digits(3) + " EUR";
            case 2 -> "temperature " + sep + between(1, 30) + " to " + sep + between(1, 9);
            case 3 ->
                "le " + between(1, 28) + sep + "mai" + sep + "2024 à " + between(10, 23) + "h";
            case 4 -> "ISBN 978" + sep + between(1, 9) + sep + digits(3) + sep + digits(5);
            default -> "from " + (2000 + between(0, 25)) + sep + (2026 + between(0, 9)) + " ok";
          });
    }
    for (int i = 0; i < 24; i++) {
      look(
          "ansi_or_query",
          switch (i % 6) {
            case 0 -> "\u001b[32mINFO\u001b[0m request took " + between(10, 9999) + " ms";
            case 1 -> "\u001b[1;31mERROR\u001b[0m exit " + between(1, 255);
            case 2 -> "price=" + between(1, 999) + "&qty=" + between(1, 20) + "&lang=en";
            case 3 -> "会议在" + between(1, 12) + "点。明天见。";
            case 4 -> "build " + digits(4) + " \u001b[1m" + digits(4) + "\u001b[0m passed";
            default ->
                "v" + between(1, 9) + "。" + between(0, 9) + "．" + between(0, 20) + " released";
          });
    }
  }

  /**
   * Amounts, counts and dates grouped by no-break spaces, which the phone detector now reads as
   * spaces: no trunk 0, no + and no NANP 3-3-4 grouping, so no phone number.
   */
  private void lookNoBreakSpaceNonPhones() {
    look("assign_like_i18n", "<resenha>ótimo produto</resenha>");
    look("assign_like_i18n", "<p>Kennwort vergessen?</p>");
    look("assign_like_i18n", "<titulo>senha forte</titulo>");
    for (int i = 0; i < 30; i++) {
      String sep = pick(NO_BREAK_SPACES);
      look(
          "nbsp_number",
          switch (i % 5) {
            case 0 -> "Umsatz " + between(1, 9) + sep + digits(3) + sep + digits(3) + sep + "EUR";
            case 1 -> between(10, 99) + sep + digits(3) + sep + digits(3) + sep + "habitants";
            case 2 ->
                "le " + between(1, 28) + sep + "mai" + sep + "2024 à " + between(10, 23) + "h";
            case 3 -> "ISBN 978" + sep + between(1, 9) + sep + digits(2) + sep + digits(6);
            default -> "Seite " + between(1, 99) + sep + "von" + sep + between(100, 999);
          });
    }
  }

  /**
   * Numbers grouped by no-break spaces that are no card: French and SI thousands, 19-digit
   * Luhn-invalid 6-13 groupings, decimals with 6 and 13 digits, an id and epoch milliseconds.
   */
  private void lookNoBreakSpaceNumbers() {
    for (int i = 0; i < 40; i++) {
      String sep = pick(NO_BREAK_SPACES);
      look(
          "nbsp_number",
          switch (i % 4) {
            case 0 ->
                between(1, 999) + sep + digits(3) + sep + digits(3) + "," + digits(2) + sep + "€";
            case 1 -> "Population" + sep + between(1, 99) + sep + digits(3) + sep + digits(3);
            case 2 ->
                "total " + between(1, 9) + sep + digits(3) + sep + digits(3) + sep + digits(3);
            default -> between(10, 99) + sep + digits(3) + sep + digits(3) + " km";
          });
    }
    for (int i = 0; i < 40; i++) {
      String d = card(pick("62", "6212", "4", "60"), 19);
      String bad = d.substring(0, 18) + (char) ('0' + (d.charAt(18) - '0' + 1) % 10);
      look(
          "long_number",
          switch (i % 4) {
            case 0 -> "ref " + bad.substring(0, 6) + pick(" ", "-") + bad.substring(6);
            case 1 -> "ref " + bad.substring(0, 6) + pick(NO_BREAK_SPACES) + bad.substring(6);
            case 2 -> "ratio " + d.substring(0, 6) + "." + d.substring(6);
            default -> "pid " + between(100000, 199999) + " 17" + digits(11);
          });
    }
  }

  /** {@code %40} and other escapes that are no address: npm scopes, versions, digests, paths. */
  private void lookEncodedNonAddresses() {
    for (int i = 0; i < 40; i++) {
      look(
          "url_encoded",
          switch (i % 8) {
            case 0 ->
                "https://registry.npmjs.org/%40" + pick("babel", "types", "angular") + "%2Fcore";
            case 1 -> "npm install lodash%40" + between(1, 4) + "." + between(0, 17) + ".0";
            case 2 -> "docker pull nginx%40sha256:" + chars(HEX, 16);
            case 3 -> "git clone git%40github.com:org/repo" + between(1, 99) + ".git";
            case 4 -> "q=%40mention%20" + pick("someone", "team", "ops");
            case 5 -> "path=%2Fhome%2Fuser%40" + pick("host", "localhost", "build01");
            case 6 -> "progress " + between(1, 99) + "%25 done, " + between(1, 9) + "%40 retries";
            default -> "discount=" + between(5, 50) + "%25&code=SPRING%40" + between(1, 99);
          });
    }
  }

  /** Look-alikes of the eleventh session's formats. */
  private void lookEleventhSession() {
    String[] texts = {
      "CSC 2024 annual meeting",
      "cvv: required",
      "CVC 4.0 release notes",
      "security code 2024-05-01 rotated",
      "cvv_length=3",
      "the cvv field holds 3 or 4 digits",
      "ALTER ROLE app PASSWORD NULL",
      "SELECT password_reset FROM users",
      "the machine asked for a password again",
      "Machine learning password strength estimator",
      "identified by the customer as damaged",
      "written by 'Anna' in 2021",
      "range 20240101 20241231",
      "1234\n5678\n9012\n3456",
      "4532\n0151\n1283\n0366",
      "date 12/22/1234",
      "ref 536/22/12345",
      "version 8-800-555",
      "qty (0)20",
      "Giovanni AB123456C",
      "order for Bellini: AB123456C",
      "mini AB123456C"
    };
    lookCycling("eleventh_session", texts, 44);
    for (int i = 0; i < 20; i++) {
      // Two 8-digit ids: Luhn-invalid, or without a card prefix
      String a = "7" + digits(7);
      look("id_pairs", "ids " + a + " " + digits(8));
    }
  }

  /** The words for password in other languages, not assigned, or assigned no value. */
  private void lookOtherLanguageWords() {
    String[] texts = {
      "resenha: ótimo produto, recomendo",
      "Kennwort vergessen? Hier zurücksetzen.",
      "kennwort_reset=true",
      "senha: ********",
      "Kennwort: ${DB_KENNWORT}",
      "heslo dne: Svoboda",
      "Contraseña olvidada",
      "wachtwoord vergeten? klik hier",
      "lösenordet har gått ut",
      "salasana_vaihdettu=true",
      "senha: null",
      "wachtwoord: <redacted>"
    };
    lookCycling("assign_like_i18n", texts, 36);
  }

  /** {@code n} look-alikes of one kind, cycling through {@code texts}. */
  private void lookCycling(String kind, String[] texts, int n) {
    for (int i = 0; i < n; i++) {
      look(kind, texts[i % texts.length]);
    }
  }
}
