/**
 * SSH gateway: OpenSSH clients ({@code ssh}, {@code scp}, {@code sftp}) log in as {@code
 * IDENTITY+CONNECTION}; every exec request, shell, file operation and port forward is decided by
 * the shared {@link dev.gatehouse.gate.Gate}, recorded, and relayed to the target over the
 * gateway's own SSH session, logged in with credentials the caller never sees and a pinned host
 * key. Built on Apache MINA SSHD (server and client).
 *
 * <p>Specifications: <a href="https://www.rfc-editor.org/rfc/rfc4252">RFC 4252</a> (authentication:
 * publickey, password, banner), <a href="https://www.rfc-editor.org/rfc/rfc4254">RFC 4254</a>
 * (connection protocol: session channels, pty-req, env, exec, shell, subsystem, window-change,
 * signal, exit-status, exit-signal, direct-tcpip, tcpip-forward, forwarded-tcpip), OpenSSH PROTOCOL
 * section 2.4 (streamlocal: direct-streamlocal@openssh.com, streamlocal-forward@openssh.com,
 * forwarded-streamlocal@openssh.com), OpenSSH PROTOCOL.agent (auth-agent-req@openssh.com,
 * auth-agent@openssh.com), <a href="https://www.rfc-editor.org/rfc/rfc4256">RFC 4256</a>
 * (keyboard-interactive: not offered), <a href="https://www.rfc-editor.org/rfc/rfc4253">RFC
 * 4253</a> (transport, disconnect), SFTP v3 <a
 * href="https://datatracker.ietf.org/doc/html/draft-ietf-secsh-filexfer-02">
 * draft-ietf-secsh-filexfer-02</a>.
 *
 * <p>Main types: {@link dev.gatehouse.ssh.SshProtocolServer} (listener, the only public class),
 * {@code SshConnection} (one client connection: gate session, lazy upstream), {@code SshUpstream}
 * (MINA client session to the target: host key pinning, vault credentials), {@code SshUpstreamPool}
 * (authenticated upstream sessions reused across client connections, one lease at a time), {@code
 * SshLogin} ({@code IDENTITY+CONNECTION}), {@code SshChannelCommand} (base of channel handlers:
 * streams, refusals, exit status and signal), {@code SshTargetCommand} (exec and shell relayed to
 * an ssh target; {@code SshCommandPaths} checks an exec request's path arguments where the target
 * resolves them, with the file relays' {@code SftpPathResolver}), {@code SshRunnerCommand} (exec on
 * an exec connection, via {@link dev.gatehouse.runner.CommandRunner}), {@code SshTransferCommand}
 * (sftp subsystem and legacy scp, via {@code SftpRelay}/{@code ScpRelay}; the client's data reaches
 * them through {@code SshChannelInput}, the target's through the same on {@code
 * SshTransferChannels}), {@code SshFiles} (file decisions and records), {@code SshForwarding}
 * (forwarding decisions: handlers, refusals), {@code SshForwards} (one connection's remote forwards
 * and agent grant), {@code SshRelayChannel} (a channel relayed to one the gateway opens on the
 * other leg: {@code SshDirectTcpip} for local forwarding (TCP or Unix socket) through the target,
 * {@code SshForwardedTcpip} (TCP or Unix socket) and {@code SshAgentChannel} from the target back
 * to the client via {@code SshOpeningChannel}), {@code SshStreams} (masked pumps), {@code
 * SshCommandLog} (best-effort typed-line audit), {@code SshHostKey} (the gateway's ed25519 host key
 * in DATA_DIR), {@code SshRemoteHosts} (ssh connections as exec runners: {@link
 * dev.gatehouse.runner.RemoteHosts} over {@code SshUpstream}), {@code SshGatheringTransport}
 * (MINA's NIO2 transport, both legs, with queued packets sent in one gathering write), {@code
 * SshCipherOffer} (the cipher offer to each client: AES-GCM only to clients that list it).
 *
 * <pre>
 *  ssh client                    gatehouse                                     sshd (target)
 *    │ KEX (gateway host key) ─────▶│                                              │
 *    │ userauth alice+web publickey▶│ SshKeyAuthenticator(alice, key) → Principal  │
 *    │   (or password = token)      │ Gate.authenticate(token), subject == alice   │
 *    │                              │ Gate.open(alice, web) CONNECT, session start │
 *    │◀──── success / banner+failure│                                              │
 *    │ channel-open session ───────▶│                                              │
 *    │ pty-req, env, exec "ls -l /" ▶│ CommandLine.parse → command action           │
 *    │                              │ GateSession.authorize: policy, review, record│
 *    │◀─ stderr "gatehouse: denied…"│   denied: exit-status 126                    │
 *    │                              │   allowed: KEX, pinned host key check ──────▶│
 *    │                              │            userauth with vault key/password ▶│
 *    │                              │            exec "ls -l /" (re-quoted) ──────▶│
 *    │◀── stdout/stderr (masked) ───│◀──────────────────────── data, extended data │
 *    │ data (stdin), signal ───────▶│──────────────────────────────────────────────▶│
 *    │◀── exit-status / exit-signal │◀──────────────────── exit-status/exit-signal │
 *    │                              │ GateSession.completed("exit N", bytes)       │
 *    │        … token revoked …     │ GateSession.onTerminate → disconnect         │
 *    │◀── disconnect "gatehouse: session ended: …"                                 │
 * </pre>
 */
package dev.gatehouse.ssh;
