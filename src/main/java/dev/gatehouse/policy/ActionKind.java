package dev.gatehouse.policy;

import java.util.Locale;

/** The kinds of action a protocol can ask the policy about. */
public enum ActionKind {
  /** A session being opened on a connection (before any statement or command). */
  CONNECT,
  SQL,
  COMMAND,
  SHELL,
  FILE,
  HTTP,
  MCP,
  /** A port, agent or X11 forwarding request. */
  FORWARD;

  public static ActionKind parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "action kind: "
              + text
              + " (expected one of connect, sql, command, shell, file, http, mcp,"
              + " forward)",
          e);
    }
  }

  /** Lower case, computed once: it is recorded with every statement. */
  private final String wireName = name().toLowerCase(Locale.ROOT);

  public String wireName() {
    return wireName;
  }
}
