package dev.gatehouse.runner;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The environment that keeps pagers from running commands: no pager, and less in secure mode
 * (less(1) SECURITY: no shell, pipe, editor, lesskey file or LESSOPEN preprocessor). Local jobs get
 * it before the connection's own {@code env} (which may change it): they have no terminal, but less
 * reads a lesskey file from HOME, and its {@code #env} section can set LESSOPEN to a command, which
 * less runs even when it only copies its input. An SSH target's exec gets it through env(1) ({@link
 * #envCommand}), with a terminal or without: with one an allowed command that pages (journalctl,
 * git log, man, psql, aws) starts less, whose {@code !command} runs a shell; without one an editor
 * still reads {@code :!sh} from its input (docs/ssh.md).
 */
public final class PagerGuard {
  private PagerGuard() {}

  /** The variables, in a fixed order. */
  public static final Map<String, String> VARIABLES =
      ordered(
          "LESSSECURE", "1",
          "PAGER", "cat",
          "MANPAGER", "cat",
          "GIT_PAGER", "cat",
          "SYSTEMD_PAGER", "cat",
          "SYSTEMD_PAGERSECURE", "1",
          "PSQL_PAGER", "cat",
          "AWS_PAGER", "",
          // Editors: kubectl edit, crontab -e, git commit without -m start $EDITOR (vi if unset),
          // whose :!sh runs a shell even from stdin; false fails the edit instead.
          "EDITOR", "false",
          "VISUAL", "false",
          "GIT_EDITOR", "false",
          "GIT_SEQUENCE_EDITOR", "false",
          "KUBE_EDITOR", "false",
          "SYSTEMD_EDITOR", "false",
          "SUDO_EDITOR", "false");

  /**
   * {@code /usr/bin/env NAME=VALUE...}: the words that run the rest of a command line with them set
   * (absolute, so the target account's PATH cannot put another env first).
   */
  public static List<String> envCommand() {
    List<String> words = new ArrayList<>(VARIABLES.size() + 1);
    words.add("/usr/bin/env");
    VARIABLES.forEach((k, v) -> words.add(k + "=" + v));
    return List.copyOf(words);
  }

  private static Map<String, String> ordered(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return Collections.unmodifiableMap(m);
  }
}
