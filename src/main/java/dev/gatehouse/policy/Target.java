package dev.gatehouse.policy;

import java.util.Map;

/** A connection as the policy sees it: its name, type and labels. Never its credentials. */
public record Target(String name, String type, Map<String, String> labels) {
  public Target {
    labels = Map.copyOf(labels);
  }
}
