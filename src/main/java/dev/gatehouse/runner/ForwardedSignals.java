package dev.gatehouse.runner;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import dev.gatehouse.config.GatehouseConfig.SshTargetConfig;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which signals a caller may send to a running command (Ctrl-C in {@code gatehouse exec}, {@code
 * POST /api/v1/exec/{id}/signal}, an SSH {@code signal} request, RFC 4254 section 6.9).
 *
 * <p>An allow-list, fail closed. {@link #DEFAULT} holds the signals whose meaning is "stop" or
 * "resume" for every program: a caller can always end what it started. SIGUSR1 and SIGUSR2 have no
 * such meaning; each program gives them its own, and some give them a dangerous one: Node.js opens
 * its inspector on 127.0.0.1:9229 on SIGUSR1 (nodejs.org/api/debugger.html, "Advanced usage"),
 * which lets any process that reaches the job's loopback run code in the job, injected secrets
 * included. They are forwarded only where the connection lists them ({@code exec.signals_allow},
 * and {@code ssh.signals_allow} for what an {@code ssh} connection relays to its target). STOP/TSTP
 * and the rest are never forwarded (no stopping a job under the sandbox's limits).
 */
public final class ForwardedSignals {
  /** Forwarded on every connection. */
  public static final Set<String> DEFAULT = ExecConfig.DEFAULT_SIGNALS;

  /** {@link #DEFAULT} only: the signals forwarded where nothing was opted in. */
  public static final ForwardedSignals DEFAULTS = new ForwardedSignals(DEFAULT);

  private final Set<String> allowed;

  private ForwardedSignals(Set<String> allowed) {
    this.allowed = allowed;
  }

  /** What {@code cfg} forwards: {@link #DEFAULT} plus its {@code signals_allow} (checked there). */
  public static ForwardedSignals of(ExecConfig cfg) {
    return of(cfg.signalsAllow());
  }

  /**
   * What an {@code ssh} connection relays to its target: {@link #DEFAULT} plus its {@code
   * ssh.signals_allow} (checked there); the defaults alone without one.
   */
  public static ForwardedSignals of(SshTargetConfig cfg) {
    return cfg == null ? DEFAULTS : of(cfg.signalsAllow());
  }

  private static ForwardedSignals of(java.util.List<String> signalsAllow) {
    if (signalsAllow.isEmpty()) {
      return DEFAULTS;
    }
    Set<String> all = new TreeSet<>(DEFAULT);
    all.addAll(signalsAllow);
    return new ForwardedSignals(Set.copyOf(all));
  }

  /** The name without {@code SIG}, upper case ({@code sigint} is {@code INT}). */
  public static String name(String signal) {
    return ExecConfig.signalName(signal);
  }

  /** Whether {@code signal} may be forwarded. */
  public boolean allows(String signal) {
    return allowed.contains(name(signal));
  }

  /** The canonical name of {@code signal}; refused (to the caller) unless it is allowed. */
  String check(String signal) {
    String sig = name(signal);
    if (!allowed.contains(sig)) {
      String why =
          ExecConfig.OPT_IN_SIGNALS.contains(sig)
              ? " is not forwarded on this connection (exec.signals_allow; Node.js opens its"
                  + " inspector on SIGUSR1)"
              : " is not forwarded";
      throw new IllegalArgumentException(
          "signal: " + signal + why + " (expected one of " + new TreeSet<>(allowed) + ")");
    }
    return sig;
  }
}
