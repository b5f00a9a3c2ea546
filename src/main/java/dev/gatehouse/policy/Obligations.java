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
 */
public record Obligations(
    String maskingProfile,
    boolean readOnly,
    long maxRows,
    Duration maxSessionDuration,
    String recording) {

  public static final Obligations NONE = new Obligations("default", false, 0, null, "full");
}
