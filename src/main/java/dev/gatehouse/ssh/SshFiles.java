package dev.gatehouse.ssh;

import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File transfers (SFTP, legacy scp) in the gate's terms: every operation the relays see is decided
 * as a {@code file} action with the relay's own operation ({@code read}, {@code list}, {@code
 * stat}, {@code write}, {@code mkdir}, {@code setstat}, {@code remove}, {@code rmdir}, {@code
 * rename}, {@code symlink}; rules may name them or their groups, see docs/policy.md), and every
 * completed transfer or change is an audit event.
 */
final class SshFiles implements SftpRelay.PathPolicy, SftpRelay.Recorder {
  private static final Logger log = LoggerFactory.getLogger(SshFiles.class);

  private final SshConnection conn;
  private final GateSession gate;
  private final String protocol;

  /**
   * @param protocol {@code sftp} or {@code scp}, for the action text and audit events
   */
  SshFiles(SshConnection conn, String protocol) {
    this.conn = conn;
    this.gate = conn.gate();
    this.protocol = protocol;
  }

  @Override
  public String check(String op, String path) {
    Map<String, Object> attrs = new HashMap<>();
    attrs.put(Action.Attr.FILE_PATH, path == null ? "" : path);
    attrs.put(Action.Attr.FILE_OP, op);
    Action action = new Action(ActionKind.FILE, protocol + " " + op + " " + path, attrs);
    try {
      // Not held for review: a transfer protocol has no way to tell its user that it waits.
      gate.authorize(action, null);
      return null;
    } catch (GateException e) {
      return "gatehouse: " + e.getMessage();
    }
  }

  /**
   * A name the policy could not be asked about (not UTF-8, or NUL inside): audited as {@code
   * ssh.file_refused}, through the session's audit like the other refusals the gate does not decide
   * ({@code ssh.forward_refused}, {@code exec.refused}). Nothing reached the target, so a failure
   * to record is logged and the refusal stands.
   */
  @Override
  public void refused(String op, String name, String reason) {
    Map<String, Object> data = new HashMap<>();
    data.put("protocol", protocol);
    data.put("op", op);
    data.put("path", gate.mask(name));
    data.put("reason", reason);
    try {
      gate.audit("ssh.file_refused", data);
    } catch (GateException e) {
      log.warn("cannot audit a refused file operation: {}", e.getMessage());
    }
  }

  @Override
  public void file(String op, String path, long bytes, String sha256) {
    Map<String, Object> data = new HashMap<>();
    data.put("protocol", protocol);
    data.put("op", op);
    data.put("path", gate.mask(String.valueOf(path)));
    data.put("bytes", bytes);
    if (sha256 != null) {
      data.put("sha256", sha256);
    }
    try {
      gate.audit("ssh.file", data);
    } catch (GateException e) {
      // The transfer already happened; nothing more may happen unrecorded: end the connection.
      log.error("cannot audit a file transfer: {}", e.getMessage());
      conn.disconnect("the gateway cannot record file transfers right now");
    }
  }
}
