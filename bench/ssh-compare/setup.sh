# Sourced by run.sh and ab-cpu.sh, after $work is made: a real OpenSSH sshd as the target on
# 127.0.0.1:$SSHD_PORT (pid $sshd_pid, host key $hostkey) for user $me, with keys in $work/keys
# (gateway: the key the gateway holds; user: the one users log in to the gateway with; direct: for
# direct connections), files under $work/files, and
#   gatehouse_ssh_config DIR SSH_PORT API_PORT
# which writes DIR/gatehouse.yaml and DIR/policies/ for a gateway in front of it (data in DIR/data).
# Needs port() and $pids (the caller's cleanup ends them).
SSHD_PORT=$(port)
me=$(id -un)
mkdir -p "$work/sshd" "$work/files" "$work/keys"
ssh-keygen -q -t ed25519 -N '' -f "$work/sshd/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -f "$work/keys/gateway"
ssh-keygen -q -t ed25519 -N '' -f "$work/keys/user"
ssh-keygen -q -t ed25519 -N '' -f "$work/keys/direct"
cat "$work/keys/gateway.pub" "$work/keys/direct.pub" > "$work/sshd/authorized_keys"
cat > "$work/sshd/sshd_config" <<CFG
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $work/sshd/host_ed25519
AuthorizedKeysFile $work/sshd/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile $work/sshd/sshd.pid
Subsystem sftp internal-sftp
CFG
echo "== target: $(/usr/sbin/sshd -V 2>&1 | head -1) on $SSHD_PORT (user $me)"
/usr/sbin/sshd -D -e -f "$work/sshd/sshd_config" 2>"$work/sshd/log" & pids+=($!)
sshd_pid=$!
sleep 1
hostkey=$(cut -d' ' -f1,2 "$work/sshd/host_ed25519.pub")

gatehouse_ssh_config() {
  local dir=$1 ssh=$2 api=$3
  mkdir -p "$dir/policies"
  cat > "$dir/policies/bench.yaml" <<CFG
version: 1
rules:
  - id: bench-true
    subjects: { groups: [bench] }
    connections: { names: [box] }
    effect: allow
    command: { binary: "true" }
  - id: bench-files
    subjects: { groups: [bench] }
    connections: { names: [box] }
    effect: allow
    file: { paths: ["$work/files/**"] }
  - id: bench-scp
    subjects: { groups: [bench] }
    connections: { names: [box] }
    effect: allow
    command: { binary: scp, flags: { allowed: [-t, -f, -d, -r, -p, -v] }, paths: ["$work/files"] }
CFG
  cat > "$dir/gatehouse.yaml" <<CFG
server:
  data_dir: $dir/data
  api: { host: 127.0.0.1, port: $api }
  postgres: { enabled: false }
  ssh: { enabled: true, host: 127.0.0.1, port: $ssh }
identity:
  users:
    - { subject: admin, kind: human, groups: [admins], role: admin }
    - subject: bench
      kind: service
      groups: [bench]
      ssh_keys: ["$(cat "$work/keys/user.pub")"]
connections:
  - name: box
    type: ssh
    host: 127.0.0.1
    port: $SSHD_PORT
    username: $me
    ssh:
      host_keys: ["$hostkey"]
      private_key: \${file:$work/keys/gateway}
policy:
  files: [policies/*.yaml]
CFG
}

# Waits for a gateway's API to answer /readyz; shows its log and fails when it does not.
await_gateway() { # api_port log
  for _ in $(seq 1 120); do
    curl -ksf "https://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0; sleep 1
  done
  tail -50 "$2"; return 1
}
