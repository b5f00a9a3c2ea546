package dev.gatehouse.approval;

import java.time.Duration;
import java.time.Instant;

/**
 * A time-boxed access grant request and, once approved, the grant itself.
 *
 * @param reviewId the review that decides (or decided) the request
 * @param state pending, denied, expired (never approved), active, or ended
 * @param subject who asked
 * @param connection the connection the role applies to
 * @param role the role (added to the principal's groups while active)
 * @param duration how long the grant lasts from approval
 * @param reason the requester's reason
 * @param requestedAt when it was asked for
 * @param startsAt when the grant became active (approval time), or null
 * @param endsAt when it ends, or null while not approved
 */
public record GrantView(
    String reviewId,
    String state,
    String subject,
    String connection,
    String role,
    Duration duration,
    String reason,
    Instant requestedAt,
    Instant startsAt,
    Instant endsAt) {}
