package dev.gatehouse.approval;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * SQL for the reviews, review_votes and grants tables (V5__approvals.sql). Every method runs on a
 * connection inside the caller's transaction; the same statements work on H2 and PostgreSQL.
 */
final class ReviewStore {
  private ReviewStore() {}

  /** One row of {@code reviews}. Times are epoch milliseconds. */
  record Row(
      String id,
      String kind,
      String state,
      String fingerprint,
      String sessionId,
      String subject,
      String connection,
      String actionKind,
      String rawText,
      String rule,
      String holdReason,
      List<String> reviewerGroups,
      int approvalsRequired,
      boolean allGroups,
      String justification,
      String maskingProfile,
      long createdAt,
      long expiresAt,
      long expiresAfterMs,
      Long decidedAt,
      String decidedBy,
      String decisionReason,
      Long consumedAt,
      String consumedSession,
      String notificationStatus,
      String grantRole,
      Long grantDurationMs) {}

  /** One row of {@code review_votes}. */
  record VoteRow(
      String voter, String verdict, String reason, List<String> voterGroups, long createdAt) {}

  /** One row of {@code grants}. */
  record GrantRow(
      String id,
      String reviewId,
      String subject,
      String connection,
      String role,
      long startsAt,
      long endsAt) {}

  private static final String COLUMNS =
      "id, kind, state, fingerprint, session_id, subject, connection_name, action_kind, raw_text,"
          + " rule_id, hold_reason, reviewer_groups, approvals_required, all_groups,"
          + " justification, masking_profile, created_at, expires_at, expires_after_ms,"
          + " decided_at, decided_by, decision_reason, consumed_at, consumed_session,"
          + " notification_status, grant_role, grant_duration_ms";

  static void insert(Connection c, Row r) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO reviews ("
                + COLUMNS
                + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
      int i = 1;
      ps.setString(i++, r.id());
      ps.setString(i++, r.kind());
      ps.setString(i++, r.state());
      ps.setString(i++, r.fingerprint());
      ps.setString(i++, r.sessionId());
      ps.setString(i++, r.subject());
      ps.setString(i++, r.connection());
      ps.setString(i++, r.actionKind());
      ps.setString(i++, r.rawText());
      ps.setString(i++, r.rule());
      ps.setString(i++, r.holdReason());
      ps.setString(i++, String.join(",", r.reviewerGroups()));
      ps.setInt(i++, r.approvalsRequired());
      ps.setBoolean(i++, r.allGroups());
      ps.setString(i++, r.justification());
      ps.setString(i++, r.maskingProfile());
      ps.setLong(i++, r.createdAt());
      ps.setLong(i++, r.expiresAt());
      ps.setLong(i++, r.expiresAfterMs());
      setLong(ps, i++, r.decidedAt());
      ps.setString(i++, r.decidedBy());
      ps.setString(i++, r.decisionReason());
      setLong(ps, i++, r.consumedAt());
      ps.setString(i++, r.consumedSession());
      ps.setString(i++, r.notificationStatus());
      ps.setString(i++, r.grantRole());
      setLong(ps, i, r.grantDurationMs());
      ps.executeUpdate();
    }
  }

  static Optional<Row> find(Connection c, String id, boolean forUpdate) throws SQLException {
    List<Row> rows =
        query(
            c,
            "SELECT " + COLUMNS + " FROM reviews WHERE id = ?" + (forUpdate ? " FOR UPDATE" : ""),
            id);
    return rows.stream().findFirst();
  }

  /**
   * Unexpired reviews of this fingerprint in a state, oldest first; for {@code approved}, only
   * those not used yet.
   */
  static List<Row> byFingerprint(Connection c, String fingerprint, String state, long now)
      throws SQLException {
    return query(
        c,
        "SELECT "
            + COLUMNS
            + " FROM reviews WHERE fingerprint = ? AND state = ? AND expires_at > ?"
            + (state.equals("approved") ? " AND consumed_at IS NULL" : "")
            + " ORDER BY created_at, id",
        fingerprint,
        state,
        now);
  }

  /** Newest first; {@code state} null means all. */
  static List<Row> list(Connection c, String state, String kind, String subject, int limit)
      throws SQLException {
    StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM reviews WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    if (state != null) {
      sql.append(" AND state = ?");
      args.add(state);
    }
    if (kind != null) {
      sql.append(" AND kind = ?");
      args.add(kind);
    }
    if (subject != null) {
      sql.append(" AND subject = ?");
      args.add(subject);
    }
    sql.append(" ORDER BY created_at DESC, id DESC LIMIT ").append(Math.max(1, limit));
    return query(c, sql.toString(), args.toArray());
  }

  /** Ids of pending reviews whose expiry has passed. */
  static List<String> duePending(Connection c, long now) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT id FROM reviews WHERE state = 'pending' AND expires_at <= ? ORDER BY id")) {
      ps.setLong(1, now);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
      }
    }
    return ids;
  }

  /**
   * Moves an unexpired review from {@code pending} to {@code approved} or {@code denied}; returns
   * false when it was no longer pending (another replica or reviewer got there first).
   */
  static boolean decide(
      Connection c, String id, String state, long now, String by, String reason, long expiresAt)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE reviews SET state = ?, decided_at = ?, decided_by = ?, decision_reason = ?,"
                + " expires_at = ? WHERE id = ? AND state = 'pending' AND expires_at > ?")) {
      ps.setString(1, state);
      ps.setLong(2, now);
      ps.setString(3, by);
      ps.setString(4, reason);
      ps.setLong(5, expiresAt);
      ps.setString(6, id);
      ps.setLong(7, now);
      return ps.executeUpdate() == 1;
    }
  }

  /** Moves a pending review past its expiry to {@code expired}; true for exactly one caller. */
  static boolean expire(Connection c, String id, long now) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE reviews SET state = 'expired', decided_at = ?, decided_by = 'system',"
                + " decision_reason = 'no decision before it expired'"
                + " WHERE id = ? AND state = 'pending' AND expires_at <= ?")) {
      ps.setLong(1, now);
      ps.setString(2, id);
      ps.setLong(3, now);
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Marks an approved one-shot review as used. The conditions make this the single point where an
   * approval is spent: at most one caller, on any replica, sees {@code true}.
   */
  static boolean consume(Connection c, String id, String sessionId, long now) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE reviews SET consumed_at = ?, consumed_session = ? WHERE id = ? AND kind ="
                + " 'action' AND state = 'approved' AND consumed_at IS NULL AND expires_at > ?")) {
      ps.setLong(1, now);
      ps.setString(2, sessionId);
      ps.setString(3, id);
      ps.setLong(4, now);
      return ps.executeUpdate() == 1;
    }
  }

  static void notificationStatus(Connection c, String id, String status) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("UPDATE reviews SET notification_status = ? WHERE id = ?")) {
      ps.setString(1, status);
      ps.setString(2, id);
      ps.executeUpdate();
    }
  }

  static void insertVote(
      Connection c,
      String reviewId,
      String voter,
      String verdict,
      String reason,
      List<String> g,
      long at)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO review_votes (review_id, voter, verdict, reason, voter_groups,"
                + " created_at) VALUES (?,?,?,?,?,?)")) {
      ps.setString(1, reviewId);
      ps.setString(2, voter);
      ps.setString(3, verdict);
      ps.setString(4, reason);
      ps.setString(5, String.join(",", g));
      ps.setLong(6, at);
      ps.executeUpdate();
    }
  }

  static List<VoteRow> votes(Connection c, String reviewId) throws SQLException {
    List<VoteRow> out = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT voter, verdict, reason, voter_groups, created_at FROM review_votes"
                + " WHERE review_id = ? ORDER BY id")) {
      ps.setString(1, reviewId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new VoteRow(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  split(rs.getString(4)),
                  rs.getLong(5)));
        }
      }
    }
    return out;
  }

  static void insertGrant(Connection c, GrantRow g) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO grants (id, review_id, subject, connection_name, role_name, starts_at,"
                + " ends_at, end_audited) VALUES (?,?,?,?,?,?,?,FALSE)")) {
      ps.setString(1, g.id());
      ps.setString(2, g.reviewId());
      ps.setString(3, g.subject());
      ps.setString(4, g.connection());
      ps.setString(5, g.role());
      ps.setLong(6, g.startsAt());
      ps.setLong(7, g.endsAt());
      ps.executeUpdate();
    }
  }

  /** Grants that have not ended at {@code now}. */
  static List<GrantRow> grantsEndingAfter(Connection c, long now) throws SQLException {
    return grants(c, "SELECT " + GRANT_COLUMNS + " FROM grants WHERE ends_at > ?", now);
  }

  static Optional<GrantRow> grantOf(Connection c, String reviewId) throws SQLException {
    return grants(c, "SELECT " + GRANT_COLUMNS + " FROM grants WHERE review_id = ?", reviewId)
        .stream()
        .findFirst();
  }

  /** Grants that ended but whose end is not audited yet. */
  static List<GrantRow> endedUnaudited(Connection c, long now) throws SQLException {
    return grants(
        c,
        "SELECT " + GRANT_COLUMNS + " FROM grants WHERE ends_at <= ? AND end_audited = FALSE",
        now);
  }

  /** Claims the audit of a grant's end; true for exactly one caller. */
  static boolean claimGrantEnd(Connection c, String grantId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE grants SET end_audited = TRUE WHERE id = ? AND end_audited = FALSE")) {
      ps.setString(1, grantId);
      return ps.executeUpdate() == 1;
    }
  }

  private static final String GRANT_COLUMNS =
      "id, review_id, subject, connection_name, role_name, starts_at, ends_at";

  private static List<GrantRow> grants(Connection c, String sql, Object arg) throws SQLException {
    List<GrantRow> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, arg);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new GrantRow(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getString(5),
                  rs.getLong(6),
                  rs.getLong(7)));
        }
      }
    }
    return out;
  }

  private static List<Row> query(Connection c, String sql, Object... args) throws SQLException {
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(row(rs));
        }
      }
    }
    return out;
  }

  private static Row row(ResultSet rs) throws SQLException {
    return new Row(
        rs.getString("id"),
        rs.getString("kind"),
        rs.getString("state"),
        rs.getString("fingerprint"),
        rs.getString("session_id"),
        rs.getString("subject"),
        rs.getString("connection_name"),
        rs.getString("action_kind"),
        rs.getString("raw_text"),
        rs.getString("rule_id"),
        rs.getString("hold_reason"),
        split(rs.getString("reviewer_groups")),
        rs.getInt("approvals_required"),
        rs.getBoolean("all_groups"),
        rs.getString("justification"),
        rs.getString("masking_profile"),
        rs.getLong("created_at"),
        rs.getLong("expires_at"),
        rs.getLong("expires_after_ms"),
        nullableLong(rs, "decided_at"),
        rs.getString("decided_by"),
        rs.getString("decision_reason"),
        nullableLong(rs, "consumed_at"),
        rs.getString("consumed_session"),
        rs.getString("notification_status"),
        rs.getString("grant_role"),
        nullableLong(rs, "grant_duration_ms"));
  }

  private static Long nullableLong(ResultSet rs, String col) throws SQLException {
    long v = rs.getLong(col);
    return rs.wasNull() ? null : v;
  }

  private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
    if (v == null) {
      ps.setNull(i, Types.BIGINT);
    } else {
      ps.setLong(i, v);
    }
  }

  static List<String> split(String s) {
    if (s == null || s.isEmpty()) {
      return List.of();
    }
    return Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
  }
}
