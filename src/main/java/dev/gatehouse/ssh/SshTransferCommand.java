package dev.gatehouse.ssh;

import dev.gatehouse.gate.GateException;
import dev.gatehouse.policy.CommandLine;
import java.io.IOException;
import java.io.InputStream;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.sshd.client.channel.ClientChannel;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.channel.ChannelSessionAware;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.subsystem.SubsystemFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A file transfer on an {@code ssh} connection: the {@code sftp} subsystem (RFC 4254 section 6.5;
 * what OpenSSH 9 {@code scp} and {@code sftp} use) relayed by {@link SftpRelay}, or a legacy {@code
 * scp -t|-f PATH} exec request relayed by {@link ScpRelay}. The relays decide every path as a
 * {@code file} action and record every transfer ({@link SshFiles}); the data itself is not masked
 * (it is files, not terminal output).
 */
final class SshTransferCommand extends SshChannelCommand implements ChannelSessionAware {
  private static final Logger log = LoggerFactory.getLogger(SshTransferCommand.class);

  /** The flags OpenSSH's scp passes to the remote scp ({@code scp.c}: -v -r -p -d, then -t|-f). */
  private static final Set<String> SCP_FLAGS = Set.of("-v", "-r", "-p", "-d", "-t", "-f");

  private final List<String> scpArgv; // null for sftp
  private volatile ClientChannel upstream;

  private SshTransferCommand(SshConnection conn, List<String> scpArgv) {
    super(conn);
    this.scpArgv = scpArgv;
  }

  /**
   * The client's data reaches the relay through {@link SshChannelInput} instead of MINA's pipe: a
   * transfer is where a client sends window after window, and the pipe's compaction costs CPU for
   * every byte (see there). MINA calls this before it hands out the streams.
   */
  @Override
  public void setChannelSession(ChannelSession session) {
    in = SshChannelInput.install(session);
  }

  static SshTransferCommand sftp(SshConnection conn) {
    return new SshTransferCommand(conn, null);
  }

  /** True for an exec line that runs the remote end of legacy scp; it is never run as a command. */
  static boolean isScp(String line) {
    CommandLine cl;
    try {
      cl = CommandLine.parse(line);
    } catch (IllegalArgumentException e) {
      return false;
    }
    List<String> a = cl.argv();
    if (a.isEmpty() || !(a.get(0).equals("scp") || a.get(0).endsWith("/scp"))) {
      return false;
    }
    return a.contains("-t") || a.contains("-f");
  }

  static SshTransferCommand scp(SshConnection conn, String line) {
    return new SshTransferCommand(conn, CommandLine.parse(line).argv());
  }

  @Override
  void run() throws Exception {
    if (!"ssh".equals(conn.type())) {
      // Only the sftp subsystem gets here on an exec connection: exec lines, scp's among them, go
      // to SshRunnerCommand (SshProtocolServer.command).
      refuseRecorded("request", "sftp", "file transfer is not offered on exec connections");
      return;
    }
    String mode = null;
    String path = null;
    if (scpArgv != null) {
      // scp [-v] [-r] [-p] [-d] -t|-f [--] PATH: anything else is refused, not guessed at.
      int i = 1;
      for (; i < scpArgv.size(); i++) {
        String a = scpArgv.get(i);
        if (a.equals("--")) {
          i++;
          break;
        }
        if (!a.startsWith("-")) {
          break;
        }
        if (!SCP_FLAGS.contains(a)) {
          refuse("scp option " + a + " is not supported through the gateway");
          return;
        }
        if (a.equals("-t") || a.equals("-f")) {
          if (mode != null) {
            refuse("scp: both -t and -f given");
            return;
          }
          mode = a.substring(1);
        }
      }
      if (mode == null || i != scpArgv.size() - 1) {
        refuse("scp: expected exactly one path after -t or -f");
        return;
      }
      path = scpArgv.get(i);
    }
    SshUpstream up;
    try {
      up = conn.upstream();
    } catch (GateException e) {
      refuse(e);
      return;
    }
    ClientChannel ch;
    if (scpArgv == null) {
      ch = SshTransferChannels.sftp(up.session());
    } else {
      List<String> remote = new java.util.ArrayList<>(scpArgv.subList(0, scpArgv.size() - 1));
      if (!remote.contains("--")) {
        remote.add("--");
      }
      remote.add(path);
      remote.set(0, "scp");
      ch = SshTransferChannels.exec(up.session(), CommandLine.quote(remote));
    }
    upstream = ch;
    try {
      ch.open().verify(SshUpstream.CONNECT_TIMEOUT);
    } catch (IOException e) {
      log.warn("upstream {} channel failed: {}", scpArgv == null ? "sftp" : "scp", e.toString());
      refuse("the target refused the file transfer");
      return;
    }
    // Drain the target's stderr into the client's, masked (scp prints errors there).
    Thread errors =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    SshStreams.pumpMasked(ch.getInvertedErr(), err, conn.masker(), b -> {});
                  } catch (IOException e) {
                    // channel closed
                  }
                });
    SshFiles files = new SshFiles(conn, scpArgv == null ? "sftp" : "scp");
    InputStream fromTarget = SshTransferChannels.input(ch);
    try (SftpPathResolver resolver = new SftpPathResolver(() -> pathChannel(up))) {
      if (scpArgv == null) {
        new SftpRelay(in, out, fromTarget, ch.getInvertedIn(), files, files, resolver).run();
      } else {
        new ScpRelay(mode, path, in, out, fromTarget, ch.getInvertedIn(), files, files, resolver)
            .run();
      }
    } catch (IOException e) {
      log.info("file transfer ended: {}", e.toString());
    }
    ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), SshUpstream.CONNECT_TIMEOUT);
    errors.join(1000);
    Integer status = ch.getExitStatus();
    exit(status == null ? (scpArgv == null ? 0 : 1) : status);
  }

  /**
   * A second {@code sftp} channel on the same upstream session, for {@link SftpPathResolver}: the
   * same account and login directory as the transfer, so relative names resolve alike. Also for the
   * path arguments of exec requests ({@link SshCommandPaths}).
   */
  static SftpPathResolver.Channel pathChannel(SshUpstream up) throws IOException {
    ClientChannel side = SshTransferChannels.sftp(up.session());
    side.open().verify(SshUpstream.CONNECT_TIMEOUT);
    return new SftpPathResolver.Channel(
        SshTransferChannels.input(side), side.getInvertedIn(), () -> side.close(false));
  }

  @Override
  void cancel() {
    ClientChannel ch = upstream;
    if (ch != null) {
      ch.close(false);
    }
  }

  /** The {@code sftp} subsystem. */
  static final class Factory implements SubsystemFactory {
    @Override
    public String getName() {
      return "sftp";
    }

    @Override
    public Command createSubsystem(ChannelSession channel) throws IOException {
      SshConnection c = SshConnection.of(channel.getSession());
      if (c == null) {
        throw new IOException("subsystem on a connection without a gate session");
      }
      return sftp(c);
    }
  }
}
