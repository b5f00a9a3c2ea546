package dev.gatehouse.postgres;

import static dev.gatehouse.postgres.PgTestSupport.TOKEN_ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.postgres.PgBinaryValues.Form;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Binary-format results through the real gateway with real pgjdbc, masked with the {@code pii}
 * profile by a {@link PgRowMasker} whose {@link PgCatalog} resolves type OIDs on the target (the
 * embedded PostgreSQL of {@link PgTestSupport}). pgjdbc receives results in binary once a statement
 * is server-prepared ({@code prepareThreshold=-1}: from the first use) for the OIDs it decodes in
 * binary (text[] and varchar[] by default; others through {@code binaryTransferEnable}). Each test
 * also checks, from the RowDescription the client got, that the columns really were binary.
 */
class PgBinaryMaskingTest {
  static final String EMAIL = "ann.smith@example.com";
  static final String EMAIL_MASKED = "a****@example.com";
  static final String CARD = "4111 1111 1111 1111";

  private static PgTestSupport t;
  private static PgProtocolServer masked;
  private static PgCatalog catalog;
  private static final Map<String, Integer> oids = new java.util.HashMap<>();

  /** Column formats of every RowDescription the masker saw, in order. */
  private static final List<Map<String, Integer>> formats = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    t = PgTestSupport.get();
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS bm_people");
      s.execute("DROP TYPE IF EXISTS bm_person, bm_mood, bm_tx CASCADE");
      s.execute("DROP DOMAIN IF EXISTS bm_contact CASCADE");
      s.execute("CREATE EXTENSION IF NOT EXISTS citext");
      s.execute("CREATE EXTENSION IF NOT EXISTS hstore");
      s.execute("CREATE TYPE bm_mood AS ENUM ('calm', '" + EMAIL + "')");
      s.execute("CREATE DOMAIN bm_contact AS text");
      s.execute("CREATE TYPE bm_person AS (id int, email text, contact bm_contact, tags text[])");
      s.execute(
          """
          CREATE TABLE bm_people (
            id int, emails text[], cards varchar[], grid text[], mood bm_mood,
            contact bm_contact, ci citext, person bm_person, attrs hstore, moods bm_mood[],
            nums int4[])""");
      s.execute(
          "INSERT INTO bm_people VALUES (1,"
              + " ARRAY['"
              + EMAIL
              + "', NULL, 'plain'],"
              + " ARRAY['"
              + CARD
              + "', 'card: "
              + CARD
              + "']::varchar[],"
              + " '[0:1][1:2]={{a,bob@example.com},{NULL,\"x y\"}}',"
              + " '"
              + EMAIL
              + "', '"
              + EMAIL
              + "', '"
              + EMAIL
              + "',"
              + " ROW(7, '"
              + EMAIL
              + "', 'carol@example.org', ARRAY['"
              + EMAIL
              + "', 'x']),"
              + " 'mail=>"
              + EMAIL
              + "', ARRAY['calm', '"
              + EMAIL
              + "']::bm_mood[], ARRAY[1, 2])");
      for (String type : List.of("bm_mood", "bm_contact", "citext", "bm_person", "hstore")) {
        try (ResultSet rs = s.executeQuery("SELECT '" + type + "'::regtype::oid")) {
          rs.next();
          oids.put(type, rs.getInt(1));
        }
      }
    }
    MaskingEngine engine = PgRowMaskerTest.rulesEngine(dir);
    catalog = new PgCatalog(t.connections.get("conn"), () -> t.vault.get("conn"));
    masked = new PgProtocolServer(t.gate, "127.0.0.1", 0, null, true, t.connections::get);
    masked.rowFilters(
        gs -> {
          PgRowMasker m = new PgRowMasker(engine, "pii", gs.connection().name(), catalog);
          return new RowFilter() {
            @Override
            public void onRowDescription(byte[] body) {
              if (body != null) { // null: rows that no description plans (they fail closed)
                formats.add(columnFormats(body));
              }
              m.onRowDescription(body);
            }

            @Override
            public byte[] filterDataRow(byte[] body) {
              return m.filterDataRow(body);
            }
          };
        });
    masked.start();
  }

  @AfterAll
  static void stop() throws Exception {
    masked.close();
    catalog.close();
  }

  /** {column name: format code} of a RowDescription body. */
  static Map<String, Integer> columnFormats(byte[] body) {
    ByteBuffer b = ByteBuffer.wrap(body);
    int n = b.getShort();
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      int start = b.position();
      while (b.get() != 0) {
        // the name's terminator
      }
      String name = new String(body, start, b.position() - start - 1, StandardCharsets.UTF_8);
      b.position(b.position() + 4 + 2 + 4 + 2 + 4);
      out.put(name, (int) b.getShort());
    }
    return out;
  }

  /** A pgjdbc connection through the masking gateway; {@code binary}: prepared, binary results. */
  static Connection connect(boolean binary, String binaryOids) throws SQLException {
    return PgTestSupport.plainJdbc(
        masked,
        "conn",
        "alice",
        TOKEN_ALICE,
        (binary ? "&prepareThreshold=-1" : "&preferQueryMode=simple")
            + (binaryOids == null ? "" : "&binaryTransferEnable=" + binaryOids));
  }

  /** Runs {@code sql} as a prepared statement and checks the client got these columns binary. */
  static ResultSet query(Connection c, String sql, String... binaryColumns) throws SQLException {
    formats.clear();
    PreparedStatement ps = c.prepareStatement(sql);
    ResultSet rs = ps.executeQuery();
    assertThat(rs.next()).isTrue();
    Map<String, Integer> last = formats.get(formats.size() - 1);
    for (String col : binaryColumns) {
      assertThat(last).as("format of " + col).containsEntry(col, 1);
    }
    return rs;
  }

  private static String oid(String type) {
    return String.valueOf(oids.get(type));
  }

  @Test
  void textAndVarcharArraysAreMaskedAndPgjdbcDecodesThem() throws Exception {
    try (Connection c = connect(true, null);
        ResultSet rs =
            query(
                c, "SELECT emails, cards, grid, nums FROM bm_people", "emails", "cards", "grid")) {
      assertThat((Object[]) rs.getArray(1).getArray()).containsExactly(EMAIL_MASKED, null, "plain");
      Object[] cards = (Object[]) rs.getArray(2).getArray();
      assertThat(cards[0]).isEqualTo("**** **** **** 1111");
      assertThat((String) cards[1]).startsWith("card: ").endsWith("1111").doesNotContain(CARD);
      Array grid = rs.getArray(3);
      String[][] cells = (String[][]) grid.getArray();
      assertThat(cells[0]).containsExactly("a", "b****@example.com");
      assertThat(cells[1]).containsExactly(null, "x y");
      assertThat(PgBinaryValuesTest.readArray(rs.getBytes(3)).lowerBounds()).containsExactly(0, 1);
      assertThat((Object[]) rs.getArray(4).getArray()).containsExactly(1, 2);
    }
  }

  @Test
  void enumDomainAndCitextValuesAreMaskedInBinary() throws Exception {
    String binary = String.join(",", oid("bm_mood"), oid("citext"), "TEXT");
    try (Connection c = connect(true, binary);
        ResultSet rs =
            query(c, "SELECT mood, contact, ci FROM bm_people", "mood", "contact", "ci")) {
      assertThat(rs.getString(1)).isEqualTo(EMAIL_MASKED);
      assertThat(rs.getString(2)).isEqualTo(EMAIL_MASKED); // a domain is sent as its base type
      // pgjdbc's getString gives null for a binary value of an extension type; the bytes are the
      // value.
      assertThat(new String(rs.getBytes(3), StandardCharsets.UTF_8)).isEqualTo(EMAIL_MASKED);
    }
  }

  @Test
  void compositeValuesAndRowsAreMaskedFieldByField() throws Exception {
    String binary = String.join(",", oid("bm_person"), "2249");
    try (Connection c = connect(true, binary);
        ResultSet rs =
            query(
                c,
                "SELECT person, ROW(1, '" + EMAIL + "'::text) AS r FROM bm_people",
                "person",
                "r")) {
      // pgjdbc hands a binary value of a type it does not decode over as the raw bytes.
      List<Object[]> fields = PgBinaryValuesTest.readRecord(rs.getBytes(1));
      assertThat(fields).extracting(f -> f[0]).contains(23, 25, 1009);
      assertThat(text(fields.get(1))).isEqualTo(EMAIL_MASKED);
      assertThat(text(fields.get(2))).isEqualTo("c****@example.org"); // the domain field
      assertThat(PgBinaryValuesTest.readArray((byte[]) fields.get(3)[1]).elements())
          .containsExactly(EMAIL_MASKED, "x");
      List<Object[]> row = PgBinaryValuesTest.readRecord(rs.getBytes(2));
      assertThat(text(row.get(1))).isEqualTo(EMAIL_MASKED);
    }
  }

  @Test
  void arrayOfEnumIsMaskedAndATypeWeCannotReadIsNull() throws Exception {
    String binary = String.join(",", oid("hstore"), arrayOid());
    try (Connection c = connect(true, binary);
        ResultSet rs = query(c, "SELECT attrs, moods, id FROM bm_people", "attrs", "moods")) {
      assertThat(rs.getBytes(1)).isNull();
      assertThat(rs.wasNull()).isTrue();
      byte[] moods = rs.getBytes(2);
      assertThat(PgBinaryValuesTest.readArray(moods).elements())
          .containsExactly("calm", EMAIL_MASKED);
      assertThat(rs.getInt(3)).isEqualTo(1);
    }
  }

  /**
   * pgjdbc describes a server-prepared statement once and later executes it with Bind and Execute
   * only: its rows must be masked by its own description and Bind's formats, not by whichever
   * RowDescription passed last (here an int column, whose plan is to pass values through).
   */
  @Test
  void reExecutedStatementIsMaskedByItsOwnDescription() throws Exception {
    try (Connection c = connect(true, null);
        PreparedStatement emails = c.prepareStatement("SELECT emails FROM bm_people");
        PreparedStatement ids = c.prepareStatement("SELECT id FROM bm_people")) {
      for (int run = 0; run < 3; run++) {
        try (ResultSet rs = emails.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat((Object[]) rs.getArray(1).getArray())
              .as("run " + run)
              .containsExactly(EMAIL_MASKED, null, "plain");
        }
        try (ResultSet rs = ids.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getInt(1)).isEqualTo(1);
        }
      }
    }
  }

  /**
   * A prepared FETCH is described once, from the cursor as it was then; a later run returns the
   * rows of the cursor as it is now. Its statement description must not plan them (the reviewer's
   * case: an int column's plan passed the e-mails of a redeclared cursor through): the gateway
   * describes the new portal itself, so the text comes masked, in the binary int format pgjdbc
   * asked for from the old description (as PostgreSQL itself would send the raw text), and pgjdbc
   * reads its first four bytes as an int.
   */
  @Test
  void aPreparedFetchOfARedeclaredCursorIsNotPlannedByItsOldDescription() throws Exception {
    try (Connection c = connect(true, null);
        Statement s = c.createStatement()) {
      s.execute("DECLARE bm_c CURSOR WITH HOLD FOR SELECT 1::int AS n");
      try (PreparedStatement fetch = c.prepareStatement("FETCH ALL FROM bm_c")) {
        try (ResultSet rs = fetch.executeQuery()) {
          assertThat(rs.next()).isTrue();
        }
        s.execute("CLOSE bm_c");
        s.execute("DECLARE bm_c CURSOR WITH HOLD FOR SELECT contact::text FROM bm_people");
        try (ResultSet rs = fetch.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getObject(1))
              .isEqualTo(ByteBuffer.wrap(EMAIL_MASKED.getBytes(StandardCharsets.UTF_8)).getInt());
        }
      } finally {
        s.execute("CLOSE bm_c");
      }
    }
  }

  /**
   * A type created in the client's open transaction is invisible to the catalog's side connection:
   * its values are NULL until the commit, and masked, not NULL, after it.
   */
  @Test
  void typeCreatedInAnOpenTransactionIsReadAfterTheCommit() throws Exception {
    try (Connection c = connect(true, "2249")) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TYPE bm_tx AS ENUM ('" + EMAIL + "')");
      }
      String sql = "SELECT ROW(1, '" + EMAIL + "'::bm_tx) AS r";
      try (ResultSet rs = query(c, sql, "r")) {
        assertThat(PgBinaryValuesTest.readRecord(rs.getBytes(1)).get(1)[1]).isNull();
      }
      c.commit();
      try (ResultSet rs = query(c, sql, "r")) {
        assertThat(text(PgBinaryValuesTest.readRecord(rs.getBytes(1)).get(1)))
            .isEqualTo(EMAIL_MASKED);
      }
    }
  }

  @Test
  void textFormatResultsAreStillMasked() throws Exception {
    try (Connection c = connect(false, null);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT emails, mood, person, attrs, ci FROM bm_people")) {
      assertThat(rs.next()).isTrue();
      assertThat(formats.get(formats.size() - 1).values()).containsOnly(0);
      assertThat((Object[]) rs.getArray(1).getArray()).containsExactly(EMAIL_MASKED, null, "plain");
      assertThat(rs.getString(2)).isEqualTo(EMAIL_MASKED);
      assertThat(rs.getString(3)).contains(EMAIL_MASKED).doesNotContain(EMAIL);
      assertThat(rs.getString(4)).contains(EMAIL_MASKED).doesNotContain(EMAIL);
      assertThat(rs.getString(5)).isEqualTo(EMAIL_MASKED);
    }
  }

  /**
   * Every built-in OID that {@link PgBinaryValues} classifies without a lookup has, on a real
   * server, the send function its form stands for (ranges and multiranges of non-text types are
   * read as plain).
   */
  @Test
  void builtInTypeTableMatchesPgType() throws Exception {
    Set<String> rangeSends = Set.of("pg_catalog.range_send", "pg_catalog.multirange_send");
    List<String> mismatches = new ArrayList<>();
    try (Connection c = t.direct("gh_test");
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT n.nspname || '.' || p.proname FROM pg_type t"
                    + " JOIN pg_proc p ON p.oid = t.typsend"
                    + " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE t.oid = ?")) {
      for (Map.Entry<Integer, Form> e : PgBinaryValues.builtins().entrySet()) {
        ps.setInt(1, e.getKey());
        try (ResultSet rs = ps.executeQuery()) {
          String send = rs.next() ? rs.getString(1) : null;
          Form expected =
              send != null && rangeSends.contains(send) ? Form.PLAIN : PgBinaryValues.ofSend(send);
          if (expected != e.getValue()) {
            mismatches.add(e.getKey() + " " + send + " " + e.getValue());
          }
        }
      }
    }
    assertThat(mismatches).isEmpty();
    assertThat(PgBinaryValues.builtins()).hasSizeGreaterThan(100);
  }

  private static String arrayOid() throws SQLException {
    try (Connection c = t.direct("gh_test");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT '_bm_mood'::regtype::oid")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static String text(Object[] field) {
    return field[1] == null ? null : new String((byte[]) field[1], StandardCharsets.UTF_8);
  }
}
