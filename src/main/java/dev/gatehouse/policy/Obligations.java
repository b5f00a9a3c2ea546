package dev.gatehouse.policy;

import java.time.Duration;

/**
 * What the gateway must do while carrying out an allowed action.
 *
 * @param maskingProfile name of the masking profile to apply ({@code none} means unmasked)
 * @param readOnly the session must be read-only, enforced by the target too where possible
 * @param maxRows maximum rows returned per statement, COPY TO STDOUT rows included, and per SQL
 *     cursor across its FETCHes; 0 means no limit
 * @param maxSessionDuration the session ends after this long; null means no limit
 * @param recording {@code full} (input and masked output), {@code metadata} (no output) or {@code
 *     none} is not offered: every action is at least recorded with metadata
 * @param upstreamRole the name of one of the connection's {@code roles} (alternative logins to the
 *     target) the session logs in with; null for the connection's own {@code username}. Read from
 *     the CONNECT decision only: a session has one login. When the rules granting a connection name
 *     different roles, the merge holds them all, sorted and joined by commas ({@link
 *     #upstreamRoleConflict}); a role name cannot hold a comma, and such a CONNECT is denied.
 */
public record Obligations(
    String maskingProfile,
    boolean readOnly,
    long maxRows,
    Duration maxSessionDuration,
    String recording,
    String upstreamRole) {

  public static final Obligations NONE = new Obligations("default", false, 0, null, "full", null);

  /** Obligations with the connection's own login (no {@link #upstreamRole}). */
  public Obligations(
      String maskingProfile,
      boolean readOnly,
      long maxRows,
      Duration maxSessionDuration,
      String recording) {
    this(maskingProfile, readOnly, maxRows, maxSessionDuration, recording, null);
  }

  /** The granting rules name different upstream roles: the connection is refused. */
  public boolean upstreamRoleConflict() {
    return upstreamRole != null && upstreamRole.indexOf(',') >= 0;
  }
}
