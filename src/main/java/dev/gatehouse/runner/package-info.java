/**
 * Sandboxed command execution for exec connections, shared by the exec API and SSH: binaries
 * resolved by absolute path, a clean environment plus injected secrets, workspaces, limits,
 * process-group kill, bubblewrap isolation when installed, exact-secret masking of all output.
 *
 * <p>Main types: {@link dev.gatehouse.runner.CommandRunner} (the flow), {@link
 * dev.gatehouse.runner.ExecRequest} (what to run), {@link dev.gatehouse.runner.Execution} (signals
 * to a running command). Everything else is package-private: {@code Sandbox} builds the host
 * command line, {@code Workspace} owns directories and secret files, {@code WorkspaceOwner} names
 * them after a locked owner id so that what a dead gateway left is removed at the next start,
 * {@code OutputPump} masks and records one output stream, {@code ProcessExecution} signals and
 * kills the process group. With {@code exec.runner}, {@code RemoteRun} runs the same flow on an SSH
 * target through {@link dev.gatehouse.runner.RemoteHosts} (implemented by the SSH package, wired by
 * the server): {@code RemoteScript} builds the command strings, {@code RemoteExecution} signals
 * over a second channel, {@code RemoteJobs} keeps a lease on each target so that job directories a
 * dead gateway left there are swept; both kinds of run are supervised by the same loop ({@code
 * Running}). This package may use the gate, policy, masking and config, never a protocol, the API,
 * the CLI or the server (enforced by ArchitectureTest). See docs/exec.md.
 *
 * <pre>
 *  API / SSH         CommandRunner              GateSession            host
 *     │ run(request) ──▶│ describe: binaries,       │                     │
 *     │                 │ env_allow, workspace, cwd │                     │
 *     │ ◀─ 126 + line ──│ (refused)                 │                     │
 *     │                 │ authorize(COMMAND) ──────▶│ policy, review,     │
 *     │ ◀─ held ────────│ ◀─────────────────────────│ durable record      │
 *     │ ◀─ 126 + line ──│ (denied)                  │                     │
 *     │                 │ upstreamCredentials() ───▶│ (secrets)           │
 *     │                 │ setsid [bwrap] [setpriv] [prlimit] env … ──────▶│ process group
 *     │ ◀─ onStart ─────│                           │                     │
 *     │ ◀─ masked out ──│ ◀── stdout/stderr ──────────────────────────────│
 *     │ ── stdin ──────▶│ ────────────────────────────────────────────────▶
 *     │ ── signal ─────▶│ kill -SIG -PGID ────────────────────────────────▶
 *     │ ◀─ exit N ──────│ completed("exit N") ─────▶│                     │
 * </pre>
 */
package dev.gatehouse.runner;
