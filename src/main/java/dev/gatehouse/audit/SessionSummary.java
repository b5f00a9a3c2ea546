package dev.gatehouse.audit;

import java.time.Instant;

/**
 * One recorded session, as listed by {@code gatehouse sessions list}.
 *
 * @param endedAt null while the session is live (or the gateway stopped without ending it)
 * @param actions number of actions decided in the session
 * @param denied how many of them were denied
 */
public record SessionSummary(
    String id,
    String subject,
    String connection,
    String protocol,
    String clientAddress,
    Instant startedAt,
    Instant endedAt,
    String endReason,
    long actions,
    long denied) {}
