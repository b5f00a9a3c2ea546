package dev.gatehouse.demo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Random;

/**
 * Seeds the demo's {@code payments} database with realistic, deterministic fake data (same seed,
 * same rows, every run). Card numbers are Luhn-valid numbers in test ranges, phone numbers use the
 * fictional 555-01xx block, and SSNs are well-formed but invented; some customer notes carry PII in
 * free text so that content masking has something to find.
 */
final class DemoData {
  static final int CUSTOMERS = 1_000;
  static final int PAYMENTS = 12_000;
  private static final long SEED = 20261122L;

  private static final String[] FIRST = {
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Katherine",
    "Linus",
    "Margaret",
    "Niklaus",
    "Radia",
    "Shafi",
    "Tim",
    "Whitfield",
    "Yukihiro",
    "Zainab",
    "Hedy",
    "Dennis",
    "Ken",
    "Bjarne",
    "Guido",
    "James",
    "Anders",
    "Sophie",
    "Lars",
    "Mei",
    "Ravi",
    "Olga"
  };
  private static final String[] LAST = {
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "McCarthy",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Wirth",
    "Perlman",
    "Goldwasser",
    "Berners-Lee",
    "Diffie",
    "Matsumoto",
    "Bakr",
    "Lamarr",
    "Ritchie",
    "Thompson",
    "Stroustrup",
    "van Rossum",
    "Gosling",
    "Hejlsberg",
    "Wilson",
    "Bak",
    "Chen",
    "Patel",
    "Ivanova"
  };
  private static final String[] DOMAINS = {
    "example.com", "example.org", "example.net", "mail.example.com", "corp.example"
  };
  private static final String[] STATUS = {"settled", "settled", "settled", "pending", "failed"};
  private static final String[] CURRENCY = {"USD", "EUR", "GBP", "USD", "EUR"};
  private static final String[] CARD_PREFIX = {"4111", "4242", "5555", "5105", "3782", "6011"};

  private DemoData() {}

  static void create(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          """
          CREATE TABLE customers (
            id         bigint PRIMARY KEY,
            full_name  text NOT NULL,
            email      text NOT NULL UNIQUE,
            phone      text,
            ssn        text,
            notes      text
          );
          CREATE TABLE payments (
            id           bigint PRIMARY KEY,
            customer_id  bigint NOT NULL REFERENCES customers(id),
            card_number  text NOT NULL,
            amount       numeric(12,2) NOT NULL,
            currency     char(3) NOT NULL,
            status       text NOT NULL,
            created_at   timestamptz NOT NULL
          );
          CREATE INDEX payments_customer_idx ON payments(customer_id);
          """);
    }
    Random r = new Random(SEED);
    c.setAutoCommit(false);
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO customers (id, full_name, email, phone, ssn, notes) VALUES (?,?,?,?,?,?)")) {
      for (int i = 1; i <= CUSTOMERS; i++) {
        String first = FIRST[r.nextInt(FIRST.length)];
        String last = LAST[r.nextInt(LAST.length)];
        String email =
            (first + "." + last).toLowerCase().replaceAll("[^a-z.]", "")
                + i
                + "@"
                + DOMAINS[r.nextInt(DOMAINS.length)];
        String phone = String.format("+1 415 555 %04d", 100 + r.nextInt(100));
        String ssn =
            String.format(
                "%03d-%02d-%04d", 101 + r.nextInt(564), 1 + r.nextInt(98), 1 + r.nextInt(9998));
        ps.setLong(1, i);
        ps.setString(2, first + " " + last);
        ps.setString(3, email);
        ps.setString(4, phone);
        ps.setString(5, ssn);
        ps.setString(6, note(r, first, email, phone));
        ps.addBatch();
      }
      ps.executeBatch();
    }
    Instant base = Instant.parse("2026-01-01T00:00:00Z");
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO payments (id, customer_id, card_number, amount, currency, status,"
                + " created_at) VALUES (?,?,?,?,?,?,?)")) {
      String[] cards = new String[CUSTOMERS + 1];
      for (int i = 1; i <= PAYMENTS; i++) {
        int customer = 1 + r.nextInt(CUSTOMERS);
        if (cards[customer] == null) {
          cards[customer] = card(r);
        }
        ps.setLong(1, i);
        ps.setLong(2, customer);
        ps.setString(3, cards[customer]);
        ps.setBigDecimal(4, java.math.BigDecimal.valueOf(100 + r.nextInt(500_000), 2));
        ps.setString(5, CURRENCY[r.nextInt(CURRENCY.length)]);
        ps.setString(6, STATUS[r.nextInt(STATUS.length)]);
        ps.setTimestamp(7, Timestamp.from(base.plusSeconds(r.nextInt(300 * 86_400))));
        ps.addBatch();
        if (i % 2_000 == 0) {
          ps.executeBatch();
        }
      }
      ps.executeBatch();
    }
    c.commit();
    c.setAutoCommit(true);
  }

  private static String note(Random r, String first, String email, String phone) {
    return switch (r.nextInt(6)) {
      case 0 -> "Prefers contact by email at " + email + ".";
      case 1 -> "Call " + first + " back at " + phone + " about the refund.";
      case 2 -> "VIP customer since 2019.";
      case 3 -> "Disputed charge; see ticket OPS-" + (1000 + r.nextInt(9000)) + ".";
      case 4 -> "Asked to update billing address.";
      default -> null;
    };
  }

  /** A 16-digit (15 for Amex) Luhn-valid number with a test-range prefix, grouped by dashes. */
  static String card(Random r) {
    String prefix = CARD_PREFIX[r.nextInt(CARD_PREFIX.length)];
    int len = prefix.startsWith("37") ? 15 : 16;
    StringBuilder d = new StringBuilder(prefix);
    while (d.length() < len - 1) {
      d.append(r.nextInt(10));
    }
    d.append(luhnCheckDigit(d));
    if (len == 16) {
      return d.substring(0, 4)
          + "-"
          + d.substring(4, 8)
          + "-"
          + d.substring(8, 12)
          + "-"
          + d.substring(12);
    }
    return d.substring(0, 4) + "-" + d.substring(4, 10) + "-" + d.substring(10);
  }

  static int luhnCheckDigit(CharSequence payload) {
    int sum = 0;
    boolean dbl = true;
    for (int i = payload.length() - 1; i >= 0; i--) {
      int v = payload.charAt(i) - '0';
      if (dbl) {
        v *= 2;
        if (v > 9) {
          v -= 9;
        }
      }
      sum += v;
      dbl = !dbl;
    }
    return (10 - sum % 10) % 10;
  }
}
