package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.approval.ReviewView;
import dev.gatehouse.audit.AuditExporter;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exec requests whose path arguments a rule's {@code paths} allowed are checked again where the
 * target (a real OpenSSH sshd) resolves them (SshCommandPaths, issue #6), with the real ssh client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshCommandPathsTest {
  static final String POLICY =
      """
      version: 1
      rules:
        - id: read-shared
          subjects: { groups: [eng] }
          effect: allow
          command: { binary: [cat, ls], paths: ["FILES/shared"], flags: { allowed: [-l] } }
        - id: head-files
          subjects: { groups: [eng] }
          effect: allow
          command: { binary: [head], paths: ["FILES"] }
        - id: tail-review
          subjects: { groups: [eng] }
          effect: review
          review: { groups: [leads], approvals: 1 }
          command: { binary: [tail], paths: ["FILES"] }
        - id: no-private
          subjects: { groups: [eng] }
          effect: deny
          command: { binary: [head, tail], paths: ["FILES/private"] }
          reason: private files stay private
        - id: ls-lines
          subjects: { groups: [eng] }
          effect: allow
          command: { binary: [ls], paths: ["FILES/shared"], shell: true }
      """;

  static final String CONNECTIONS =
      """
      - name: optout
        type: ssh
        host: 127.0.0.1
        port: SSHD_PORT
        username: USER
        ssh: { host_keys: ["TARGET_KEY"], private_key: "${env:GATEWAY_KEY}", resolve_command_paths: false }
      - name: nosftp
        type: ssh
        host: 127.0.0.1
        port: NOSFTP_PORT
        username: USER
        ssh: { host_keys: ["TARGET_KEY"], private_key: "${env:GATEWAY_KEY}" }
      - name: nosftp-optout
        type: ssh
        host: 127.0.0.1
        port: NOSFTP_PORT
        username: USER
        ssh: { host_keys: ["TARGET_KEY"], private_key: "${env:GATEWAY_KEY}", resolve_command_paths: false }
      """;

  static final String SECRET = "the-private-secret";

  SshFixture gw;
  Path shared;
  Path secret;

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    assumeTrue(SshFixture.available(), "OpenSSH client/server not installed");
    gw = new SshFixture(tmp, POLICY, CONNECTIONS);
    shared = gw.files.resolve("shared");
    Path priv = gw.files.resolve("private");
    Files.writeString(shared.resolve("plain.txt"), "plain text\n");
    secret = Files.writeString(priv.resolve("secret.txt"), SECRET + "\n");
    Files.createDirectories(priv.resolve("deep"));
    // out of the allowed directory, relative and absolute
    Files.createSymbolicLink(shared.resolve("escape.log"), Path.of("../private/secret.txt"));
    Files.createSymbolicLink(shared.resolve("abs.log"), secret);
    // staying inside it
    Files.createSymbolicLink(shared.resolve("inner.log"), Path.of("plain.txt"));
    // a directory link: sub/.. is private, not shared, to the kernel
    Files.createSymbolicLink(shared.resolve("sub"), Path.of("../private/deep"));
  }

  @AfterAll
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  private SshFixture.Run ssh(String connection, String command) throws Exception {
    return gw.ssh(gw.aliceKey, "alice+" + connection, null, command);
  }

  @Test
  void aPlainAllowedFileIsPrinted() throws Exception {
    var r = ssh("box", "cat " + shared.resolve("plain.txt"));
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("plain text\n");
  }

  @Test
  void aLinkThatStaysInsideTheAllowedPathsWorks() throws Exception {
    var r = ssh("box", "cat " + shared.resolve("inner.log"));
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("plain text\n");
  }

  @Test
  void aLinkInsideTheAllowedPathsToAFileOutsideIsDeniedAndAudited() throws Exception {
    for (String link : new String[] {"escape.log", "abs.log"}) {
      String word = shared.resolve(link).toString();
      var r = ssh("box", "cat " + word);
      assertThat(r.exit()).as(link).isEqualTo(126);
      assertThat(r.out()).doesNotContain(SECRET);
      assertThat(r.err().strip()).endsWith("\ngatehouse: " + SshCommandPaths.unplaced(word));
    }
    // ls -l acts on the link itself, cat follows it: a link whose target is outside is refused
    // either way (both places are checked)
    var ls = ssh("box", "ls -l " + shared.resolve("abs.log"));
    assertThat(ls.exit()).isEqualTo(126);
    String audit = audit();
    assertThat(audit).contains("exec.refused").contains("where the paths really lead");
    // the decision on the real path is recorded, with that path
    assertThat(audit).contains("cat " + secret);
  }

  @Test
  void dotDotAfterADirectoryLinkIsTakenWhereTheLinkLeads() throws Exception {
    // lexically shared/secret.txt (allowed, and absent); to the kernel private/secret.txt
    String word = shared + "/sub/../secret.txt";
    var r = ssh("box", "cat " + word);
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.out()).doesNotContain(SECRET);
    assertThat(r.err()).contains(SshCommandPaths.unplaced(word));
  }

  @Test
  void aDenyRulesPathsSeeTheRealPathToo() throws Exception {
    // head may read anything under FILES but not FILES/private: the link is lexically neither
    var r = ssh("box", "head " + shared.resolve("escape.log"));
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.out()).doesNotContain(SECRET);
    assertThat(audit()).contains("no-private");
    var plain = ssh("box", "head " + shared.resolve("plain.txt"));
    assertThat(plain.exit()).as(plain.err()).isZero();
  }

  @Test
  void aMissingDirectoryOnTheWayIsRefusedWithTheSameLine() throws Exception {
    String word = shared + "/sub/nothing/x";
    var r = ssh("box", "cat " + word);
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.err()).contains(SshCommandPaths.unplaced(word));
    assertThat(audit()).contains("does not exist");
  }

  @Test
  void aShellLineUnderARuleWithPathsIsRefused() throws Exception {
    // the shell expands the glob on the target, into names no one checked
    var r = ssh("box", "ls " + shared + "/*.log");
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.err()).contains(SshCommandPaths.CANNOT_CHECK);
    assertThat(audit()).contains("a line run by a shell");
  }

  @Test
  void aTargetWithoutSftpFailsClosedUnlessTheConnectionOptsOut() throws Exception {
    String plain = shared.resolve("plain.txt").toString();
    var closed = ssh("nosftp", "cat " + plain);
    assertThat(closed.exit()).isEqualTo(126);
    assertThat(closed.err()).contains(SshCommandPaths.CANNOT_CHECK);
    assertThat(closed.out()).isEmpty();
    var open = ssh("nosftp-optout", "cat " + plain);
    assertThat(open.exit()).as(open.err()).isZero();
    assertThat(open.out()).isEqualTo("plain text\n");
  }

  @Test
  void theOptOutComparesPathsAsWrittenOnly() throws Exception {
    var r = ssh("optout", "cat " + shared.resolve("abs.log"));
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains(SECRET); // what resolve_command_paths: false gives up
  }

  @Test
  void aHeldCommandShowsItsRealPathsToReviewersAndRunsOnceApproved() throws Exception {
    // the link stays inside FILES: held by the same rule where it really leads, so approvable
    String word = shared.resolve("inner.log").toString();
    Process p = held("tail " + word);
    var review = pendingFor(word);
    assertThat(review.statement()).contains("\"" + word + "\" -> " + shared.resolve("plain.txt"));
    gw.server.reviews().approve(review.id(), lee(), "ok");
    var r = gw.finish(p);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("plain text\n");
    assertThat(gw.server.reviews().show(review.id()).orElseThrow().consumedAt()).isNotNull();
  }

  @Test
  void aHeldCommandWhoseRealPathIsDeniedIsRefusedBeforeAnyReview() throws Exception {
    String word = shared.resolve("escape.log").toString();
    Process p = start("tail " + word);
    awaitHeldOrDone(p);
    assertThat(gw.errSoFar(p)).as("no review is filed").doesNotContain("held for review");
    var r = gw.finish(p);
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.out()).doesNotContain(SECRET);
    assertThat(r.err().strip()).endsWith("\ngatehouse: " + SshCommandPaths.unplaced(word));
    assertThat(gw.server.reviews().list("pending", 50))
        .noneMatch(v -> v.statement().contains(word));
    assertThat(audit()).contains("refused before review").contains("no-private");
  }

  @Test
  void aLinkSwappedWhileTheCommandIsHeldIsRefusedAfterApproval() throws Exception {
    Path other = Files.writeString(shared.resolve("other.txt"), "other text\n");
    Path link = Files.createSymbolicLink(shared.resolve("swap.log"), Path.of("plain.txt"));
    Process p = held("tail " + link);
    var review = pendingFor(link.toString());
    assertThat(review.statement()).contains("-> " + shared.resolve("plain.txt"));
    // still inside the allowed tree, but not where the reviewers were shown
    Files.delete(link);
    Files.createSymbolicLink(link, other.getFileName());
    gw.server.reviews().approve(review.id(), lee(), "ok");
    var r = gw.finish(p);
    assertThat(r.exit()).isEqualTo(126);
    assertThat(r.out()).doesNotContain("other text");
    assertThat(r.err()).contains(SshCommandPaths.changedWhileHeld(link.toString()));
    assertThat(audit()).contains("changed while the command was held for review");
  }

  /** Starts {@code command} on box; returns it once it is held for review. */
  private Process held(String command) throws Exception {
    Process p = start(command);
    awaitHeldOrDone(p);
    assertThat(gw.errSoFar(p)).contains("gatehouse: held for review rv_");
    return p;
  }

  private Process start(String command) throws Exception {
    List<String> cmd = gw.sshCommand(gw.aliceKey, "alice+box", List.of());
    cmd.add(command);
    Process p = gw.start(cmd, Map.of());
    p.getOutputStream().close();
    return p;
  }

  private void awaitHeldOrDone(Process p) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (p.isAlive() && !gw.errSoFar(p).contains("held for review") && System.nanoTime() < end) {
      Thread.sleep(100);
    }
  }

  private ReviewView pendingFor(String word) {
    return gw.server.reviews().list("pending", 50).stream()
        .filter(v -> v.statement().startsWith("tail " + word))
        .findFirst()
        .orElseThrow();
  }

  private static Principal lee() {
    return new Principal(
        "lee", Set.of("leads"), PrincipalKind.HUMAN, null, null, Set.of(), Map.of());
  }

  private String audit() {
    StringWriter w = new StringWriter();
    gw.server.awaitRecorded();
    new AuditExporter(gw.server.database()).export(w, null, 0);
    return w.toString();
  }
}
