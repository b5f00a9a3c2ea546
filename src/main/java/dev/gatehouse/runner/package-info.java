/**
 * Sandboxed command execution for exec connections, shared by the exec API and SSH: binaries
 * resolved by absolute path, a clean environment plus injected secrets, workspaces, limits,
 * process-group kill, bubblewrap isolation when installed, exact-secret masking of all output.
 */
package dev.gatehouse.runner;
