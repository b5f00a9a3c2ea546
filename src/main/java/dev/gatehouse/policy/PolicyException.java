package dev.gatehouse.policy;

import java.util.List;

/**
 * A policy (or policy test) file could not be loaded. Each problem names the file, the line and
 * what was expected, e.g. {@code policies/demo.yaml:12: rules[1].effect: "maybe" (expected allow,
 * deny or review)}.
 */
public final class PolicyException extends Exception {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  public PolicyException(List<String> problems) {
    super(summary(problems));
    this.problems = List.copyOf(problems);
  }

  /** Every problem found, one line each, in file order. */
  public List<String> problems() {
    return problems;
  }

  private static String summary(List<String> problems) {
    if (problems.size() == 1) {
      return problems.get(0);
    }
    return problems.size() + " problems:\n  " + String.join("\n  ", problems);
  }
}
