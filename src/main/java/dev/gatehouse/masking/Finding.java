package dev.gatehouse.masking;

/**
 * A sensitive span {@code [start, end)} of a text, found by the detector of {@code type}. Higher
 * {@code priority} wins when two findings overlap (a valid SSN beats a phone-shaped reading of the
 * same digits).
 */
record Finding(int start, int end, String type, int priority) {}
