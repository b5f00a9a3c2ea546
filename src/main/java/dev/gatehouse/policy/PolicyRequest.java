package dev.gatehouse.policy;

import dev.gatehouse.identity.Principal;
import java.time.Instant;

/** The input to a decision: who, on what, wants to do what, and when. */
public record PolicyRequest(Principal principal, Target target, Action action, Instant at) {}
