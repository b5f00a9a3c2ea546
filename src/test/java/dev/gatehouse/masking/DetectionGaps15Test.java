package dev.gatehouse.masking;

import static dev.gatehouse.masking.DetectionGapsTest.assertMasked;
import static dev.gatehouse.masking.DetectionGapsTest.assertNotMasked;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The detection gaps closed in the fifteenth session (issue #4): a card joined to a word by a
 * slash, the middle dot, bullet, VT and FF between digit groups. Every value is masked by the real
 * engine on the String path and on the UTF-8 byte path, with look-alikes that must stay unmasked.
 */
class DetectionGaps15Test {
  @BeforeAll
  static void engine() {
    DetectionGapsTest.engine(); // the red team's engine and pii profile
  }

  @Test
  void aCardJoinedToAWordBySlashIsRead() {
    assertMasked(
        new String[][] {
          {"x/4017440016962", "4017440016962"},
          {"path/4111111111111111", "4111111111111111"},
          {"GET /api/orders/5500005555555559 200", "5500005555555559"},
          {"https://shop.example/v1/cards/4111111111111111?x=1", "4111111111111111"},
          {"s3://bucket/exports/378282246310005.csv", "378282246310005"},
          {"v1/4111111111111111", "4111111111111111"},
          {"card/4111111111111111/5500005555555559", "5500005555555559"}
        });
    assertNotMasked(
        "x/4017440016963", // Luhn-invalid
        "/api/orders/1700000000000", // epoch milliseconds: no issuer prefix
        "/users/id 1234567890123456789", // a Snowflake id
        "12/4111111111111111", // a fraction: digits only before the slash
        "ratio 3/4111111111111111",
        "x/40174400169621", // glued to a longer run
        "img/1.4111111111111111");
  }

  @Test
  void middleDotsBulletsAndLayoutControlsBetweenDigitGroups() {
    String[] seps = {"\u00b7", "\u2022", "\u000b", "\u000c"};
    List<String[]> cases = new ArrayList<>();
    for (String x : seps) {
      cases.add(new String[] {"card 4111" + x + "1111" + x + "1111" + x + "1111", "4111" + x});
      cases.add(new String[] {"4111" + x + "1111" + x + "1111" + x + "1111", "1111" + x + "1111"});
      cases.add(new String[] {"amex 3782" + x + "822463" + x + "10005 ok", "822463"});
      cases.add(new String[] {"call 415" + x + "555" + x + "0100", "555" + x + "0100"});
      cases.add(new String[] {"+44" + x + "20" + x + "7946" + x + "0958", "7946"});
      cases.add(
          new String[] {"tel 01" + x + "23" + x + "45" + x + "67" + x + "89", "45" + x + "67"});
      cases.add(new String[] {"020" + x + "7946" + x + "0958", "7946" + x + "0958"});
      cases.add(new String[] {"536" + x + "22" + x + "1234", "22" + x + "1234"});
      cases.add(new String[] {"SSN: 078" + x + "05" + x + "1120", "1120"});
    }
    assertMasked(cases.toArray(String[][]::new));
    List<String> looks = new ArrayList<>();
    for (String x : seps) {
      looks.add("4111" + x + "1111" + x + "1111" + x + "1112"); // Luhn-invalid
      looks.add("2024" + x + "05" + x + "01"); // a date
      looks.add("12" + x + "345" + x + "678"); // a product
      looks.add("666" + x + "22" + x + "1234"); // an area never issued
      looks.add("536" + x + "00" + x + "1234"); // group 00
      looks.add("1" + x + "2" + x + "3" + x + "4"); // a list
      looks.add("item 3" + x + " 4111 1111 1111 1112");
      looks.add("4111" + x + "1111 1111" + x + "1111"); // mixed separators
    }
    looks.add("col\u00b7lecció 2024\u00b705\u00b701");
    looks.add("• 1234 • 5678 • 9012 •");
    looks.add("3\u00b714159");
    assertNotMasked(looks.toArray(String[]::new));
  }

  @Test
  void aNumberAfterDigitsAndAMiddleDotBulletOrLayoutControlIsStillRead() {
    // Review 15: these characters join groups only when they are the only separator; after a
    // short number (a list number, a date, a quantity) the number that follows is read alone, as
    // before they joined groups at all.
    String[] seps = {"\u00b7", "\u2022", "\u000b", "\u000c"};
    List<String[]> cases = new ArrayList<>();
    for (String x : seps) {
      cases.add(new String[] {"1" + x + "4111111111111111", "4111111111111111"});
      cases.add(new String[] {"20240101" + x + "4111111111111111", "4111111111111111"});
      cases.add(new String[] {"12" + x + "4111111111111111", "4111111111111111"});
      cases.add(new String[] {"ref 7" + x + "5500005555555559 ok", "5500005555555559"});
      cases.add(new String[] {"1" + x + "415 555 0100", "555 0100"});
      cases.add(new String[] {"12" + x + "415-555-0100", "555-0100"});
      cases.add(new String[] {"1" + x + "078-05-1120", "078-05-1120"});
      cases.add(new String[] {"x" + x + "536" + x + "22" + x + "1234", "22" + x + "1234"});
    }
    assertMasked(cases.toArray(String[][]::new));
    List<String> looks = new ArrayList<>();
    for (String x : seps) {
      looks.add("1" + x + "4111111111111112"); // Luhn-invalid
      looks.add("12" + x + "415 555"); // too short
    }
    assertNotMasked(looks.toArray(String[]::new));
  }

  @Test
  void fullWidthColonAndEqualsAreNotReadAsAsciiByOtherDetectors() {
    // Review 15: read as ':' for every detector, U+FF1A made an address before it a URL's
    // user@host:path and started an IPv6 run at the word before it.
    assertMasked(
        new String[][] {
          {"联系 bob@example.com：请回复", "bob@example.com"},
          {"邮箱：bob@example.com：请回复", "bob@example.com"},
          {"地址：2001:db8::8a2e:370:7334", "8a2e:370:7334"},
          {"IP：2001:db8::8a2e:370:7334", "8a2e:370:7334"},
          {"IP＝2001:db8::8a2e:370:7334", "8a2e:370:7334"},
          {"密码：a1b2c3d4|密码：e5f6g7h8", "e5f6g7h8"},
          {"密码 ＝ Secr3tValue", "Secr3tValue"}
        });
    assertNotMasked("时间：10：45", "比例＝3：4", "密码：********");
  }

  @Test
  void aProfileWithMoreThan64DetectorsReadsTheFullWidthSeparatorsAfterTheWords() {
    // Its gates are the exact pre-filter, which sees ASCII ':' and '=' only.
    Profile big = MaskingRedTeamTest.piiWithMoreThan64Detectors();
    for (String v :
        new String[] {
          "密码：abc12345",
          "密碼＝Secr3tValue",
          "パスワード：ひみつ1234",
          "пароль：Qwerty123",
          "联系 bob@example.com：请回复"
        }) {
      byte[] b = v.getBytes(StandardCharsets.UTF_8);
      assertThat(big.scanner.scan(v))
          .as(v)
          .isNotEmpty()
          .isEqualTo(DetectionGapsTest.pii.scanner.scan(v));
      assertThat(big.scanner.scanWith(v, big.scanner.armedUtf8(b, 0, b.length), b, 0, b.length))
          .as("(bytes) " + v)
          .isNotEmpty();
    }
  }

  @Test
  void theWordForPasswordInOtherScriptsBeforeColonOrEquals() {
    assertMasked(
        new String[][] {
          {"пароль=секрет123", "секрет123"},
          {"Пароль: Tr0ub4dor&3", "Tr0ub4dor"},
          {"ПАРОЛЬ = hunter2xyz", "hunter2xyz"},
          {"логин: ivan, пароль: Qwerty123", "Qwerty123"},
          {"{\"пароль\": \"s3cr3t-Pa55\"}", "s3cr3t-Pa55"},
          {"парола: Zx9-qwe-77", "Zx9-qwe-77"},
          {"лозинка=Lozinka2024", "Lozinka2024"},
          {"密码: abc12345", "abc12345"},
          {"用户名: admin 密码=P@ssw0rd!", "P@ssw0rd!"},
          {"密码：abc12345", "abc12345"},
          {"密碼＝Secr3tValue", "Secr3tValue"},
          {"パスワード: hunter2-jp", "hunter2-jp"},
          {"パスワード：ひみつ1234", "ひみつ1234"},
          {"κωδικός: Kod1kos99", "Kod1kos99"},
          {"ΚΩΔΙΚΟΣ=Kod1kos99", "Kod1kos99"},
          {"Κωδικός πρόσβασης: Pr0sv4si", "Pr0sv4si"},
          {"비밀번호: Bimil1234", "Bimil1234"},
          {"סיסמה: Sisma2024", "Sisma2024"},
          {"كلمة المرور: Kalima99", "Kalima99"},
          {"पासवर्ड: Hindi-pw-1", "Hindi-pw-1"},
          {"รหัสผ่าน=Thai-pw-22", "Thai-pw-22"},
          {"şifre: Sifre2024!", "Sifre2024!"},
          {"ŞİFRE=Sifre2024!", "Sifre2024!"},
          {"DB пароль: x7Yq9z", "x7Yq9z"}
        });
    assertNotMasked(
        "пароль",
        "Забыли пароль? Нажмите здесь",
        "пароль: ********",
        "пароль: ${DB_PASSWORD}",
        "паролька: 12", // a longer word
        "Время: 10:45, пароль сменён",
        "密码错误",
        "修改密码 2024-05-01 10:00",
        "パスワードを忘れた場合",
        "κωδικός",
        "Müller: 10:45",
        "Émile=1",
        "São Paulo: 12 orders",
        "şifre",
        "сообщение: привет",
        "time: 10:00 — ok",
        "время 10:00:00");
  }

  @Test
  void everyWordInEveryCasePassesTheTwoLetterPrefilter() {
    // Every word of NonLatinWords.SPACED and UNSPACED (each alternative spelled out).
    String[] words = {
      "пароль",
      "парола",
      "лозинка",
      "κωδικός",
      "κωδικος",
      "κωδικός πρόσβασης",
      "συνθηματικό",
      "συνθηματικο",
      "şifre",
      "şıfre",
      "סיסמה",
      "סיסמא",
      "كلمة المرور",
      "كلمة السر",
      "رمز عبور",
      "पासवर्ड",
      "密码",
      "密碼",
      "パスワード",
      "비밀번호",
      "암호",
      "รหัสผ่าน"
    };
    List<String[]> cases = new ArrayList<>();
    for (String w : words) {
      String title = w.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + w.substring(1);
      for (String v : new String[] {w, title, w.toUpperCase(java.util.Locale.ROOT)}) {
        assertThat(SecretDetectors.NonLatinWords.mayHaveWord(v + ": x")).as(v).isTrue();
        cases.add(new String[] {v + ": Zq7-secret", "Zq7-secret"});
        cases.add(new String[] {v + "：Zq7-secret", "Zq7-secret"});
      }
    }
    cases.add(new String[] {"ŞIFRE=Zq7-secret", "Zq7-secret"});
    assertMasked(cases.toArray(String[][]::new));
    // Common words with the first letters only (п, л, σ, κ, ر, ك, ס) do not run the expression.
    for (String v :
        new String[] {
          "список: 10, время=5, лето: 2", "σύνολο: 12, κατάσταση=ok", "رقم: 5, كتاب=1", "שם: דוד"
        }) {
      assertThat(SecretDetectors.NonLatinWords.mayHaveWord(v)).as(v).isFalse();
    }
  }

  @Test
  void theWordsOutsideAsciiArmOnlyValuesWithANonAsciiCharacterAndAColonOrEquals() {
    Scanner sc = DetectionGapsTest.pii.scanner;
    List<Detector> ds = sc.detectors();
    int d = -1;
    for (int k = 0; k < ds.size(); k++) {
      d = ds.get(k) instanceof SecretDetectors.NonLatinWords ? k : d;
    }
    assertThat(d).isNotNegative();
    long bit = 1L << d;
    for (String ascii : new String[] {"10:45:00", "password=x", "a=b", "Müller", "密码"}) {
      byte[] b = ascii.getBytes(StandardCharsets.UTF_8);
      assertThat(sc.armedChars(ascii) & bit).as(ascii).isZero();
      assertThat(sc.armedUtf8(b, 0, b.length) & bit).as(ascii).isZero();
    }
    for (String wide : new String[] {"пароль: x1", "Müller: 10:45", "密码＝x"}) {
      byte[] b = wide.getBytes(StandardCharsets.UTF_8);
      assertThat(sc.armedUtf8(b, 0, b.length) & bit).as(wide).isEqualTo(bit);
    }
  }
}
