package dev.gatehouse.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The detection gaps closed in the tenth session (issue #4): values the {@code pii} profile let
 * through before, each with look-alikes that must stay unmasked. Every value is masked by the real
 * engine on the String path and on the UTF-8 byte path.
 */
class DetectionGapsTest {
  static MaskingEngine engine;
  static Profile pii;

  @BeforeAll
  static void engine() {
    MaskingRedTeamTest.engine(); // the same engine and pii profile as the red team's corpus
    engine = MaskingRedTeamTest.engine;
    pii = MaskingRedTeamTest.pii;
  }

  /** Each {text, part that must not survive}: masked on both paths. */
  static void assertMasked(String[][] cases) {
    List<String> leaks = new ArrayList<>();
    for (String[] c : cases) {
      String masked = engine.redact("pii", c[0]);
      if (masked.equals(c[0]) || masked.contains(c[1])) {
        leaks.add(c[0] + " => " + masked);
      }
      byte[] b = c[0].getBytes(StandardCharsets.UTF_8);
      long armed = pii.scanner.armedUtf8(b, 0, b.length);
      List<Finding> viaBytes = pii.scanner.scanWith(c[0], armed, b, 0, b.length);
      if (viaBytes.isEmpty()) {
        leaks.add("(bytes) " + c[0]);
      }
    }
    assertThat(leaks).as("values that leak").isEmpty();
  }

  static void assertNotMasked(String... texts) {
    List<String> fps = new ArrayList<>();
    for (String t : texts) {
      List<Finding> f = pii.scanner.scan(t);
      if (!f.isEmpty()) {
        fps.add(t + " => " + f);
      }
    }
    assertThat(fps).as("look-alikes masked").isEmpty();
  }

  static final String[] INVISIBLES = {
    "\u00ad", "\u034f", "\u061c", "\u180e", "\u200b", "\u200e", "\u200f", "\u202a", "\u202b",
    "\u202c", "\u202d", "\u202e", "\u2060", "\u2062", "\u2063", "\u2064", "\u2066", "\u2067",
    "\u2068", "\u2069", "\ufe00", "\ufe0f", "\ufeff"
  };

  @Test
  void invisibleCharactersInsideValuesAreReadThrough() {
    List<String[]> cases = new ArrayList<>();
    for (String x : INVISIBLES) {
      cases.add(
          new String[] {
            "paid 4111" + x + "1111" + x + "1111" + x + "1111 ok", "1111" + x + "1111"
          });
      cases.add(new String[] {"paid 4111 1111 1111 1" + x + "111", "4111 1111 1111"});
      cases.add(new String[] {"call +44 20" + x + " 7946 0958", "7946"});
      cases.add(new String[] {"mail jo" + x + "hn.smith@example.com", "smith@example"});
      cases.add(new String[] {"ssn 536-22" + x + "-1234", "536-22"});
    }
    assertMasked(cases.toArray(String[][]::new));
    List<String> looks = new ArrayList<>();
    for (String x : INVISIBLES) {
      looks.add("version 1.2" + x + ".3 released");
      looks.add("\u200f" + "total 1,234.50 " + x + "ok");
      looks.add("order " + x + "12345" + x + " shipped 2026-11-22" + x);
      looks.add("\u2764" + x + " 10:45:12 ok");
    }
    assertNotMasked(looks.toArray(String[]::new));
  }

  @Test
  void phoneFormatsFromTheRedTeam() throws Exception {
    assertMasked(
        new String[][] {
          {"{\"phone\":\"020 7946 0958\"}", "7946 0958"},
          {"{\"phone\":\"02079460958\"}", "2079460958"},
          {"{\"phone\": \"4155550100\"}", "4155550100"},
          {"call (+44) 20 7946 0958 now", "7946 0958"},
          {"(+353) 87 123 4567", "123 4567"},
          {"звоните 8 (495) 123-45-67", "123-45-67"},
          {"тел. 8 (812) 765-43-21", "765-43-21"},
          {"mobile 087 123 4567", "123 4567"},
          {"call 087 123 4567", "123 4567"},
          {"+353 87 123 4567", "123 4567"},
          {"021 123 4567", "123 4567"},
          {"+64 21 123 4567", "123 4567"},
        });
    assertNotMasked(
        "{\"phone_count\":\"3\"}",
        "{\"zip\":\"02079\"}",
        "8 (495) items",
        "(+44) only",
        "in 2026 (2025) 12-34-56",
        "8 (100) 123-45-67 - 1",
        "page 8 (495) 123",
        "score 021 123");
    ObjectMapper json = new ObjectMapper();
    JsonNode doc =
        json.readTree(
            "{\"phone\":\"02079460958\",\"mobile\":4155550100,\"order\":\"02079460958\","
                + "\"customer\":{\"phone_number\":\"+44 20 7946 0958\",\"fax\":\"0201234567\"}}");
    JsonNode out = engine.maskJson("pii", doc, List.of());
    assertThat(out.get("phone").asText()).doesNotContain("2079460958");
    assertThat(out.get("mobile").asText()).doesNotContain("4155550100");
    assertThat(out.get("order").asText()).isEqualTo("02079460958");
    assertThat(out.at("/customer/phone_number").asText()).doesNotContain("7946");
    assertThat(out.at("/customer/fax").asText()).doesNotContain("201234567");
  }

  @Test
  void punycodeDomainsBraintreeTokensPuttyKeysAndNationalInsuranceNumbers() {
    String putty =
        "PuTTY-User-Key-File-3: ssh-ed25519\n"
            + "Encryption: none\n"
            + "Comment: ed25519-key-20261122\n"
            + "Public-Lines: 2\n"
            + "AAAAC3NzaC1lZDI1NTE5AAAAIDc2Vm9Hz0iW1mCqkq0hJ0FZ8Xw7a9s3L1n\n"
            + "c2Vm9Hz0iW1mCqkq0hJ0\n"
            + "Private-Lines: 1\n"
            + "AAAAIFd3rPq0xk2QmT7vYc8sZ1n4uJ0bHf6aWgE5cK9tLrXoPz1Q\n"
            + "Private-MAC: 5b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c\n";
    assertMasked(
        new String[][] {
          {"user@xn--bcher-kva.example", "user@xn--bcher"},
          {"contact: anna@xn--mnchen-3ya.de now", "anna@xn--"},
          {"bob@mail.xn--80akhbyknj4f.xn--p1ai", "bob@mail"},
          {
            "BT_TOKEN=access_token$production$j8k2m4n6p8q2r4t6$0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "0f1e2d3c4b5a69788796"
          },
          {
            "access_token$sandbox$3g5h7j9k2m4n6p8q$a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "a1b2c3d4e5f60718293a"
          },
          {putty, "AAAAIFd3rPq0xk2QmT7vYc8sZ1n4uJ0bHf6aWgE5cK9tLrXoPz1Q"},
          {
            putty.replace("File-3", "File-2"),
            "AAAAIFd3rPq0xk2QmT7vYc8sZ1n4uJ0bHf6aWgE5cK9tLrXoPz1Q"
          },
          {"NI number QQ 12 34 56 C", "12 34 56"},
          {"nino: AB123456C", "AB123456"},
          {"National Insurance: JG 10 37 95 A", "10 37 95"},
          {
            "token access_token$production$j8k2m4n6p8q2r4t6$0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "0f1e2d3c"
          },
        });
    assertNotMasked(
        "python xn--bcher-kva.example",
        "see https://xn--bcher-kva.example/path",
        "access_token$production$",
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: laptop\nPublic-Lines: 2",
        "Public-Lines: 2",
        "BG 12 34 56 C",
        "NI GB123456A",
        "NI number AB 12 34 56 E",
        "nino DQ123456C",
        "DQ123456C",
        "QQ123456E",
        "NT 12 34 56 A",
        "AB12345678",
        "AB123456",
        "part ZZ123456B",
        "flight QF123456 A",
        "plate AB 12 CDE");
  }

  @Test
  void nationalPhonesGluedToAPhoneWordOrAfterAShortNumber() {
    assertMasked(
        new String[][] {
          {"tel0201234567", "201234567"},
          {"Tel0612345678 bitte", "612345678"},
          {"1 020 7946 0958", "7946 0958"},
          {"qty 2 020 7946 0958", "7946 0958"},
        });
    assertNotMasked(
        "hotel0201234567", "motel 2 rooms", "1 2026 11 22", "12 345 678 901", "3 020 79");
  }
}
