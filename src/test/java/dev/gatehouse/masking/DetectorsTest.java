package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Positives and negatives for every built-in detector, as found by the {@code pii} profile. */
class DetectorsTest {
  static final Profile PII =
      Builtins.profiles(3.5, new Style.Redact(null), List.of(), List.of()).get("pii").build();

  static List<String> types(String text) {
    return PII.scanner.scan(text).stream().map(Finding::type).distinct().toList();
  }

  static String found(String text) {
    List<Finding> f = PII.scanner.scan(text);
    return f.isEmpty() ? "" : text.substring(f.get(0).start(), f.get(0).end());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "jane.doe@example.com",
        "J.Smith+tag@mail.example.co.uk",
        "contact: o'brien@example.ie.",
        "ops_team-1@sub.domain.example.io",
        "MIXED.Case@Example.ORG",
        "reply-to=carol%40example.net",
        "?email=dave.smith%40mail.example.org&x=1",
        "mailto:Erin%2Bnews%40Example.CO.UK"
      })
  void emailAddressesAreDetected(String text) {
    assertThat(types(text)).containsExactly("email");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "git@github.com:acme/api.git",
        "user@localhost",
        "npm install left-pad@1.3.0",
        "image@sha256:abcdef",
        "@mention in chat",
        "postgres://app@db.internal:5432/orders",
        "https://registry.npmjs.org/%40babel%2Fcore",
        "npm install left-pad%401.3.0",
        "git clone git%40github.com:acme/api.git",
        "100%40 of them",
        "u=carol%2540example.net"
      })
  void nonAddressesWithAtSignsAreNotEmails(String text) {
    assertThat(types(text)).doesNotContain("email");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "(415) 555-0100",
        "415-555-0100",
        "415.555.0100",
        "+1 415 555 0100",
        "+14155550100",
        "1-800-555-0199",
        "+1 (415) 555-0100",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "020 7946 0958",
        "07700 900123",
        "+49 30 12345678",
        "030 12345678",
        "0151-23456789",
        "+33 1 23 45 67 89",
        "01 23 45 67 89",
        "0049 30 1234567",
        "+91 98765 43210",
        "+86 138 0013 8000",
        "+353 1 234 5678",
        "+7 495 123-45-67",
        "(415)555-0100",
        "+49 (0) 30 1234567",
        "+81-3-1234-5678",
        "+1 (555) 123-4567 ext. 89",
        "call me at +1 415 555 0100 tomorrow"
      })
  void phoneNumbersInCommonFormatsAreDetected(String text) {
    assertThat(types(text)).containsExactly("phone");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "2024-01-02",
        "10.11.2024",
        "4155550100",
        "123-456-7890",
        "ISBN 978-3-16-148410-0",
        "order 12345678 shipped",
        "ORD-415-555-0100",
        "1 2 3 4 5 6 7 8 9",
        "+05:30"
      })
  void numbersThatAreNotPhoneNumbersAreIgnored(String text) {
    assertThat(types(text)).doesNotContain("phone");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "4532015112830366",
        "4532 0151 1283 0366",
        "4532-0151-1283-0366",
        "5425233430109903",
        "2223000048410010",
        "374245455400126",
        "3742 454554 00126",
        "6011000990139424",
        "3530111333300000",
        "36227206271667",
        "6212345678901265",
        "4222222222222",
        "3056 9309 0259 04",
        "paid with 4111 1111 1111 1111 today",
        "card: 4111.1111.1111.1111",
        "5555.5555.5555.4444",
        "4532\u00a00151\u00a01283\u00a00366",
        "4532\u202f0151\u20091283\u00a00366",
        "4532 0151\u00a01283 0366",
        "3782\u00a0822463\u00a010005",
        "625033 5974782423062",
        "625033-5974782423062",
        "625033\u00a05974782423062"
      })
  void luhnValidCardsWithKnownPrefixesAreDetected(String text) {
    assertThat(types(text)).containsExactly("card");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "4532015112830367",
        "4532 0151 1283 0367",
        "1234567812345670",
        "9999999999999995",
        "45320151128303660",
        "order 4532015112830366123",
        "4532.0151.1283.0367",
        "4111.1111-1111.1111",
        "v4111.1111.1111.1111",
        "192.168.100.200",
        "total 1.234.567.890.123,45",
        "4532\u00a00151-1283-0366",
        "4532\u20080151-1283\u20080366",
        "625033.5974782423062",
        "625033/5974782423062",
        "625033 5974782423063",
        "4532015 112830366"
      })
  void luhnInvalidOrUnknownNumbersAreNotCards(String text) {
    assertThat(types(text)).doesNotContain("card");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "GB82 WEST 1234 5698 7654 32",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "NO9386011117947",
        "pay to CH9300762011623852957 now"
      })
  void ibansWithValidChecksumAreDetected(String text) {
    assertThat(types(text)).containsExactly("iban");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"DE89370400440532013001", "XX89370400440532013000", "GB82WEST1234569876543"})
  void ibansWithBadChecksumCountryOrLengthAreIgnored(String text) {
    assertThat(types(text)).doesNotContain("iban");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"123-45-6789", "078 05 1120", "SSN: 123456789", "social security 219099999"})
  void ssnsAreDetected(String text) {
    assertThat(types(text)).containsExactly("ssn");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "123-00-4567",
        "123-45-0000",
        "123456789"
      })
  void neverIssuedSsnsAndBareNumbersAreIgnored(String text) {
    assertThat(types(text)).doesNotContain("ssn");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "192.168.1.10",
        "from 10.0.0.1:5432",
        "8.8.8.8.",
        "2001:db8::1",
        "fe80::1ff:fe23:4567:890a",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "::ffff:192.0.2.128",
        "[2001:db8::2]:443",
        "::1"
      })
  void ipAddressesAreDetected(String text) {
    assertThat(types(text)).containsExactly("ip");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "v1.2.3.4",
        "version 4.2.1.0",
        "1.2.3.4-beta",
        "256.1.1.1",
        "01.02.03.04",
        "10.0.19045.2965",
        "12:34:56",
        "00:1a:2b:3c:4d:5e",
        "std::vector",
        "1.2.3"
      })
  void versionsTimesAndMacAddressesAreNotIps(String text) {
    assertThat(types(text)).doesNotContain("ip");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz"
      })
  void jwtsAreDetected(String text) {
    assertThat(types(text)).contains("jwt");
  }

  @ParameterizedTest
  @ValueSource(strings = {"eyJmb28iOiJiYXIifQ.eyJ4IjoxfQ.abc", "eyJ.not.a.jwt"})
  void jwtLookalikesWithoutAlgAreNotJwts(String text) {
    assertThat(types(text)).doesNotContain("jwt");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjE\\n-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC (truncated"
      })
  void privateKeyBlocksAreDetected(String text) {
    assertThat(types(text)).containsExactly("private_key");
    assertThat(found(text)).startsWith("-----BEGIN");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "AKIAIOSFODNN7EXAMPLE|AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY|wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a|ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "glpat-xQx9bZc1aB2cD3eF4gH5|glpat-xQx9bZc1aB2cD3eF4gH5",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx|xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc|sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "AccountName=a;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq==;|Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq==",
        "\"private_key_id\": \"0123456789abcdef0123456789abcdef01234567\"|0123456789abcdef0123456789abcdef01234567"
      })
  void cloudAndSaasCredentialsAreDetected(String text, String secret) {
    assertThat(types(text)).containsExactly("credential");
    assertThat(found(text)).isEqualTo(secret);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "postgres://app:s3cret!@db.internal:5432/app|s3cret!",
        "mysql://root:hunter2@10.0.0.5/shop|hunter2",
        "mongodb+srv://u:p%40ss@cluster0.example.net/db|p%40ss",
        "Server=db;Database=Orders;User Id=sa;Password=Tr0ub4dor&3x;|Tr0ub4dor&3x",
        "Data Source=db;Pwd={we;ird};|{we;ird}"
      })
  void connectionStringPasswordsAreMaskedButNotTheRest(String text, String password) {
    assertThat(types(text)).contains("connection_password");
    assertThat(PII.redact(text))
        .doesNotContain(password)
        .contains("[REDACTED:connection_password]");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "password=hunter2|hunter2",
        "\"api_key\": \"abc 123 def\"|abc 123 def",
        "DB_PASSWORD=Sup3rS3cret|Sup3rS3cret",
        "secret: swordfish|swordfish",
        "mysql --password p4ss -u root|p4ss",
        "Authorization: Bearer abcdefgh12345678|abcdefgh12345678",
        "<password>letmein</password>|letmein",
        // Only a '>' among the gate characters: searched by the tagged part.
        "<db><password>letmein</password></db>|letmein",
        "> Bearer abcdefgh12345678 (quoted)|abcdefgh12345678",
        // Elements named in other languages (XML has no = or : for the other-language words).
        "<Kennwort>Geheim2024</Kennwort>|Geheim2024",
        "<config><db_senha>pg s3nha</db_senha></config>|pg s3nha",
        "<wachtwoord>Welkom01</wachtwoord> id=7|Welkom01",
        "Kennwort=Geheim2024|Geheim2024",
        "CONTRASEÑA: Clave#99|Clave#99",
        "db.senha = 'pg s3nha'|pg s3nha",
        "\"wachtwoord\":\"Welkom01\"|Welkom01",
        "HASLO=Tajne2024|Tajne2024"
      })
  void secretAssignmentsMaskTheValueOnly(String text, String value) {
    String masked = PII.redact(text);
    assertThat(masked).doesNotContain(value);
    assertThat(masked.length()).isGreaterThan(0);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "password_reset=true",
        "token_count: 15",
        "secret: null",
        "password=${DB_PASS}",
        "pass: 12 fail: 0",
        "resenha: boa leitura",
        "kennwort_reset=true",
        "Kennwort vergessen? Hier klicken",
        "senha: ${SENHA}",
        "heslo dne: Svoboda",
        "<resenha>boa leitura</resenha>",
        "<p>Kennwort vergessen?</p>"
      })
  void assignmentLookalikesAreIgnored(String text) {
    assertThat(types(text)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "session 7fG2kLq9ZxPw3RtY8vBn4MjH",
        "X-Api: Q2hhbmdlTWVQbGVhc2UxMjM0NTY3ODkwQUJDREVGRw9x1Z+/",
        "ref dG9rZW46Ym9yaW5nAbCdEf0123456789XyZ"
      })
  void highEntropyTokensAreDetected(String text) {
    assertThat(types(text)).containsExactly("high_entropy");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "3b9e90c0-0f85-4e55-9f77-1c35e4852946",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "build-20240102-1a2b3c4",
        "getUserAccountBalanceFromDatabase",
        "MyVeryLongClassNameForTestingPurposes123",
        "/usr/local/lib/python3.11/site-packages",
        "SGVsbG8gV29ybGQsIHRoaXMgaXMgYSB0ZXN0IG1lc3NhZ2U=",
        "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC",
        "com.fasterxml.jackson.databind.ObjectMapper"
      })
  void identifiersHashesAndEncodedTextAreNotHighEntropySecrets(String text) {
    assertThat(types(text)).isEmpty();
  }

  /**
   * The masking red team's findings F0, F0b and F1: a value after a CSV field or record field that
   * is a short number ({@code 139,}), after a number and a space or dot, or glued to a letter.
   * {@code found} is the span detected, {@code type} its detector.
   */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "1,139,5555-5414-7943-4616,1473.29,EUR|5555-5414-7943-4616|card",
        "(1,139,5555-5414-7943-4616,1473.29,EUR,settled)|5555-5414-7943-4616|card",
        "43,4111111111111111|4111111111111111|card",
        "12,4111111111111111|4111111111111111|card",
        "items:3,4111111111111111|4111111111111111|card",
        "1 5555-5414-7943-4616|5555-5414-7943-4616|card",
        "1.5555-5414-7943-4616|5555-5414-7943-4616|card",
        "x5555-5414-7943-4616|5555-5414-7943-4616|card",
        "Invoice 7 4111 1111 1111 1111|4111 1111 1111 1111|card",
        "qty 2 4111111111111111|4111111111111111|card",
        "5 4111-1111-1111-1111|4111-1111-1111-1111|card",
        "4111 1111 1111 1111x|4111 1111 1111 1111|card",
        "INV4111111111111111|4111111111111111|card",
        "1,078-05-1120|078-05-1120|ssn",
        "(7,078-05-1120,Jane)|078-05-1120|ssn",
        "1.078-05-1120|078-05-1120|ssn",
        "x078-05-1120|078-05-1120|ssn",
        "078-05-1120x|078-05-1120|ssn",
        "16,+14155550123|+14155550123|phone",
        "x+14155550123|+14155550123|phone",
        "+14155550123x|+14155550123|phone",
        "1.+14155550123|+14155550123|phone",
        "139,020 7946 0958|020 7946 0958|phone",
        "12,06 12 34 56 78|06 12 34 56 78|phone",
        "xDE89370400440532013000|DE89370400440532013000|iban",
        "DE89370400440532013000x|DE89370400440532013000|iban"
      })
  void valuesAfterAShortNumberOrGluedToALetterAreDetected(String text, String span, String type) {
    assertThat(found(text)).isEqualTo(span);
    assertThat(types(text)).containsExactly(type);
  }

  /** What the relaxed boundaries above still leave alone. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "0,4111111111111111",
        "1.4111111111111111",
        "v4111.1111.1111.1111",
        "1,234,567.89",
        "12,345 units",
        "total 1,234,567,890,123,456",
        "sha de89370400440532013000ab",
        "1+14155550123",
        "x020 7946 0958"
      })
  void decimalsVersionsAndGluedWeakShapesStayUnmasked(String text) {
    assertThat(types(text)).isEmpty();
  }

  /**
   * Assignments inside a quoted string whose quotes are doubled (CSV, PostgreSQL record text) or
   * backslash-escaped (JSON string, array text): finding F0b.
   */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "(yaml_pw,\"password: \"\"P@ssw0rd123\"\"\")|P@ssw0rd123",
        "(json_pw,\"{\"\"username\"\":\"\"svc\"\",\"\"password\"\":\"\"Tr0ub4dor&3\"\"}\")|Tr0ub4dor&3",
        "\"{\\\"password\\\":\\\"Tr0ub4dor&3\\\"}\"|Tr0ub4dor&3",
        "{\"{\\\"private_key_id\\\":\\\"1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b\\\"}\"}|5e6f7a8b9c0d"
      })
  void assignmentsWithEscapedQuotesMaskTheValue(String text, String value) {
    assertThat(text).contains(value);
    assertThat(PII.redact(text)).doesNotContain(value);
  }

  @ParameterizedTest
  @ValueSource(strings = {"{\"password\":\"\",\"user\":\"bob\"}", "(a,\"\"\"\",b)", "x \"\" y"})
  void emptyQuotedValuesAreNotReadAsAssignments(String text) {
    assertThat(PII.redact(text)).isEqualTo(text);
  }
}
