/**
 * Just-in-time approvals: review requests for single actions ("one command, one decision"), votes,
 * time-boxed grants, and the waiting and release of held requests across replicas.
 *
 * <p>Main types: {@link dev.gatehouse.approval.ReviewService} (the {@code ReviewGate} and {@code
 * GrantSource} the gate calls, plus the voting API), {@link dev.gatehouse.approval.ReviewNotifier}
 * (webhooks). See docs/approvals.md for the model and what callers see per protocol.
 */
package dev.gatehouse.approval;
