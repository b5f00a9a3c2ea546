package dev.gatehouse.ssh;

import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File transfers (SFTP, legacy scp) in the gate's terms: every operation the relays see is decided
 * as a {@code file} action, and every completed transfer or change is an audit event.
 *
 * <p>The policy's {@code file} matcher knows two operations: {@code read} and {@code write}. The
 * relays' finer operations map onto them by what they can change: {@code read}, {@code list} and
 * {@code stat} are reads; {@code write}, {@code mkdir}, {@code rmdir}, {@code remove}, {@code
 * rename}, {@code setstat} and {@code symlink} are writes. The fine operation is kept in the action
 * text and in the audit event.
 */
final class SshFiles implements SftpRelay.PathPolicy, SftpRelay.Recorder {
  private static final Logger log = LoggerFactory.getLogger(SshFiles.class);
  private static final Set<String> READS = Set.of("read", "list", "stat");

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

  static String policyOp(String op) {
    return READS.contains(op) ? "read" : "write";
  }

  @Override
  public String check(String op, String path) {
    Map<String, Object> attrs = new HashMap<>();
    attrs.put(Action.Attr.FILE_PATH, path == null ? "" : path);
    attrs.put(Action.Attr.FILE_OP, policyOp(op));
    Action action = new Action(ActionKind.FILE, protocol + " " + op + " " + path, attrs);
    try {
      // Not held for review: a transfer protocol has no way to tell its user that it waits.
      gate.authorize(action, null);
      return null;
    } catch (GateException e) {
      return "gatehouse: " + e.getMessage();
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
