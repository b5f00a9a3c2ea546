/**
 * Protocol-neutral masking of sensitive values in results, texts, terminal streams and JSON.
 *
 * <p>Entry point: {@link dev.gatehouse.masking.MaskingEngine}. It holds named profiles (detectors,
 * styles per detected type, column rules) built from the built-ins and the rule files listed in
 * {@code masking.files}. Protocols ask it for a {@link dev.gatehouse.masking.ColumnMasker} per
 * result column, a {@link dev.gatehouse.masking.StreamMasker} per terminal stream, or mask free
 * text and JSON directly. Which profile applies is decided by policy, never here; an unknown
 * profile fails closed to {@code pii}.
 *
 * <p>Detection is a single pre-filter pass per value followed only by the detectors whose cheap
 * preconditions hold; see {@code Scanner}. What is and is not detected is listed in
 * docs/masking.md.
 */
package dev.gatehouse.masking;
