/**
 * The protocol-neutral policy engine: {@code (principal, connection, action) -> decision +
 * obligations + explanation}.
 *
 * <p>Entry points for the rest of the gateway:
 *
 * <ul>
 *   <li>{@link dev.gatehouse.policy.PolicySet#load} / {@link dev.gatehouse.policy.PolicySet#parse}:
 *       validate YAML policy files into an immutable, indexed snapshot, or fail with a {@link
 *       dev.gatehouse.policy.PolicyException} whose problems name file:line and the fix.
 *   <li>{@link dev.gatehouse.policy.ReloadingPolicyEngine}: the engine the gateway runs; swaps
 *       snapshots atomically on change, keeps the old one when a change is invalid, audits reloads.
 *   <li>{@link dev.gatehouse.policy.PolicyTestRunner}: runs {@code *.policytest.yaml} files ({@code
 *       gatehouse policy test}).
 *   <li>{@link dev.gatehouse.policy.PolicyCheck}: decides one request given as plain data and
 *       renders the decision ({@code gatehouse policy check}, {@code POST /api/v1/policy/check}).
 * </ul>
 *
 * <pre>
 *  files ──YamlReader/RuleParser──▶ Rule[] ──index (user, group, connection, kind bitsets)──▶ PolicySet
 *  request ──candidates = subjects ∩ connection ∩ kind──▶ in file order: subject/connection check,
 *          per-kind matcher, CEL condition ──▶ first deny | first review | first allow | default-deny
 * </pre>
 *
 * The user guide is docs/policy.md. Everything not listed above is package-private and may change.
 */
package dev.gatehouse.policy;
