#!/usr/bin/env bash
# SSH through Gatehouse against direct, in one run: a real OpenSSH sshd as the target, the real
# OpenSSH ssh/scp clients, the same file and commands both ways.
#
#   bench/ssh-compare/run.sh                 # 256 MB scp up and down, 100 x `ssh host true`
#   SIZE_MB=64 LOOPS=50 ROUNDS=2 bench/ssh-compare/run.sh
#   PIN=1 bench/ssh-compare/run.sh           # the gateway on a core of its own (see below)
#   CIPHER=aes128-gcm@openssh.com PIN=1 bench/ssh-compare/run.sh   # one cipher on every leg
#   RELAY=0 bench/ssh-compare/run.sh         # without the TCP relay row (see below)
#
# RELAY=1 (the default) also runs every transfer and the command loop through haproxy, a plain TCP
# relay placed like the gateway (on CPU 1 with PIN=1) in front of the same sshd: what one more hop
# costs on this machine before any SSH work is done in it. It is the floor a relay's ratio is read
# against, as haproxy is in bench/pg-compare; the issue's target stays the ratio to direct.
#
# PIN=1 places the two ends (sshd, scp/ssh) on CPU 0 and the gateway JVM on CPU 1, for direct and
# gateway runs alike. Unpinned, on a two-core machine, the gateway's CPU is taken from the ends'
# (sshd and the client already use both cores direct), so the ratio measures the sum of three
# processes' CPU, not the relay; deployed, the gateway is a host of its own. Pinned, the ends get the
# same one core both ways and the ratio says how much the gateway in the path slows them. The
# gateway JVM keeps the ergonomics of two CPUs (-XX:ActiveProcessorCount=2: G1, two compiler
# threads) so that only the placement differs from an unpinned run.
#
# CIPHER makes every client (direct and to the gateway) ask for that cipher only. By default OpenSSH
# picks chacha20-poly1305 direct, while the gateway offers its clients AES-GCM and asks the target
# for it (docs/ssh.md), so through the gateway both ends spend less CPU per GB than direct: with
# CIPHER=aes128-gcm@openssh.com the ends do the same work both ways and the ratio is the relay's.
#
# Before the timed rounds, one untimed WARMUP_MB (default 1024) transfer each way, each protocol,
# each target, and one `ssh host true` each: both ends of the direct path are native code, the
# gateway is a JVM whose crypto and relay paths are interpreted until the JIT has compiled them
# (WARMUP_MB=0 times a cold gateway). 8 MB was not enough: C2 was still compiling through the first
# 128 MB timed transfer, about 3-5 s/GB of gateway CPU on its own, so whichever protocol was timed
# first looked dearer. 128 MB was not enough for SFTP downloads either (fourteenth session, pinned,
# one cipher): after 768 MB of them the next 256 MB download ran at 0.51 of direct and the ones after
# it at 0.77-0.94, while the timed rounds of the thirteenth session still showed 1.2-1.7 s/GB of JIT.
# The JIT column ("jit") is the gateway's compiler threads' share of its CPU per GB: near 0 means
# the figure is the relay's steady state.
#
# Prints, per round and on average: scp throughput (SFTP protocol, the OpenSSH 9 default, and the
# legacy -O protocol) and the time per `ssh host true`, direct and through the gateway, with the
# throughput ratio and the added latency per command. With each transfer, CPU seconds per GB moved:
# of the gateway JVM (utime+stime from /proc), of the target's sshd (its per-connection children, reaped
# into the listener's cutime+cstime) and of the local scp with its ssh. On a shared machine the wall
# clock swings with the load; CPU per GB says what each path costs. With the gateway's CPU, its write
# system calls per GB (syscw of /proc/PID/io; through the gateway only, direct shows 0).
# Needs: openssh-client, openssh-server (installed when missing and run as root), python3, curl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
SIZE_MB=${SIZE_MB:-256}
LOOPS=${LOOPS:-100}
ROUNDS=${ROUNDS:-2}
WARMUP_MB=${WARMUP_MB:-1024}
PIN=${PIN:-0}
RELAY=${RELAY:-1}

need=()
command -v ssh >/dev/null || need+=(openssh-client)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ "$RELAY" = 1 ] && ! command -v haproxy >/dev/null && need+=(haproxy)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
source "$top/bin/find-java.sh"

pin_gateway=()
if [ "$PIN" = 1 ]; then
  [ "$(nproc)" -ge 2 ] || { echo "PIN=1 needs two CPUs"; exit 1; }
  taskset -cp 0 $$ >/dev/null # this shell, so sshd and every client it starts
  pin_gateway=(taskset -c 1)
  GATEHOUSE_JAVA_OPTS="-XX:ActiveProcessorCount=2 ${GATEHOUSE_JAVA_OPTS:-}"
  echo "== pinned: sshd and clients on CPU 0, the gateway on CPU 1"
fi

work=$(mktemp -d -t gh-sshcompare.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1; rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GH_SSH=$(port); GH_API=$(port)
source "$here/setup.sh"
gatehouse_ssh_config "$work/gh" "$GH_SSH" "$GH_API"
echo "== starting gatehouse (SSH on $GH_SSH)"
GATEHOUSE_JAVA_OPTS="${GATEHOUSE_JAVA_OPTS:-}" \
  "${pin_gateway[@]}" "$top/bin/gatehouse" serve --config "$work/gh/gatehouse.yaml" >"$work/gh.log" 2>&1 & pids+=($!)
gh_pid=$!   # bin/gatehouse execs java: this is the gateway JVM
await_gateway "$GH_API" "$work/gh.log"
targets="direct gatehouse"
if [ "$RELAY" = 1 ]; then
  HA_SSH=$(port)
  cat > "$work/haproxy.cfg" <<CFG
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
listen ssh
  bind 127.0.0.1:$HA_SSH
  server target 127.0.0.1:$SSHD_PORT
CFG
  "${pin_gateway[@]}" haproxy -q -f "$work/haproxy.cfg" & pids+=($!)
  targets="direct haproxy gatehouse"
  echo "== haproxy (TCP relay) on $HA_SSH in front of sshd"
fi

opts=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
[ -n "${CIPHER:-}" ] && opts+=(-c "$CIPHER")
direct=(-i "$work/keys/direct" -P "$SSHD_PORT")
gateway=(-i "$work/keys/user" -P "$GH_SSH")
dest() { case $1 in direct | haproxy) echo "$me@127.0.0.1" ;; gatehouse) echo "bench+box@127.0.0.1" ;; esac; }
key() { case $1 in direct | haproxy) echo "$work/keys/direct" ;; gatehouse) echo "$work/keys/user" ;; esac; }
sport() { case $1 in direct) echo "$SSHD_PORT" ;; haproxy) echo "$HA_SSH" ;; gatehouse) echo "$GH_SSH" ;; esac; }
now() { date +%s.%N; }
tck=$(getconf CLK_TCK)
# CPU ticks: the gateway JVM itself; sshd's finished per-connection children (cutime+cstime of the
# listener, which reaps them); this shell's finished children (scp and the ssh it runs).
gh_ticks() { awk '{print $14+$15}' "/proc/$gh_pid/stat"; }
# The gateway's write system calls (syscw of /proc/PID/io): a count the machine's load cannot blur.
gh_writes() { awk '/^syscw/ {print $2}' "/proc/$gh_pid/io"; }
# The gateway's JIT compiler threads ("C1 CompilerThre", "C2 CompilerThre"; comm holds spaces).
jit_ticks() {
  { cat /proc/"$gh_pid"/task/*/stat 2>/dev/null || true; } |
    awk '/\((C1|C2) CompilerThre/ { sub(/^[0-9]+ \(.*\) /, ""); sum += $12 + $13 } END { print sum + 0 }'
}
# sshd: the listener's reaped children (cutime+cstime) plus every live descendant's own and reaped
# time (the gateway's pooled upstream session stays open across transfers).
sshd_ticks() {
  # cat, not awk's own file list: a process may end while the list is read (and then cat fails,
  # which pipefail and set -e would make the end of the script).
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$sshd_pid" '
    { id = $1; sub(/^[0-9]+ \(.*\) /, ""); par[id] = $2; own[id] = $12 + $13 + $14 + $15; reaped[id] = $14 + $15 }
    END {
      for (id in par) {
        x = id; while (x != "" && x != root && x > 1) x = par[x]
        if (x == root) sum += (id == root ? reaped[id] : own[id])
      }
      print sum + 0
    }'
}
# `times` runs in this shell (a subshell would see its own children only), hence the file.
client_ticks() {
  times >"$work/times"
  awk 'NR==2 {gsub(/[ms]/," "); print ($1*60+$2+$3*60+$4)*'"$tck"'}' "$work/times"
}
# One timed scp: sets secs, and the CPU s/GB of the gateway, the target's sshd and the client.
timed_scp() {
  local g0 j0 d0 c0 w0 s e
  g0=$(gh_ticks); j0=$(jit_ticks); w0=$(gh_writes); d0=$(sshd_ticks); client_ticks >"$work/c0"; c0=$(cat "$work/c0")
  s=$(now); scp "$@"; e=$(now)
  sleep 0.2 # sshd reaps the session child just after the client sees the end
  secs=$(echo "$e - $s" | bc -l)
  cpu_gh=$(echo "($(gh_ticks) - $g0) / $tck * 1024 / $SIZE_MB" | bc -l)
  cpu_jit=$(echo "($(jit_ticks) - $j0) / $tck * 1024 / $SIZE_MB" | bc -l)
  writes_gh=$(echo "($(gh_writes) - $w0) * 1024 / $SIZE_MB" | bc -l)
  cpu_sshd=$(echo "($(sshd_ticks) - $d0) / $tck * 1024 / $SIZE_MB" | bc -l)
  client_ticks >"$work/c1"
  cpu_client=$(echo "($(cat "$work/c1") - $c0) / $tck * 1024 / $SIZE_MB" | bc -l)
}

echo "== $SIZE_MB MB test file"
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom > "$work/payload"
sum=$(sha256sum "$work/payload" | cut -d' ' -f1)

if [ "$WARMUP_MB" -gt 0 ]; then
  echo "== warm-up: $WARMUP_MB MB each way, each protocol, each target (untimed)"
  head -c $((WARMUP_MB * 1024 * 1024)) /dev/urandom > "$work/warm"
  for t in direct gatehouse; do # haproxy has nothing to warm up
    for extra in "" "-O"; do
      scp -q "${opts[@]}" $extra -i "$(key $t)" -P "$(sport $t)" "$work/warm" "$(dest $t):$work/files/warm.bin"
      scp -q "${opts[@]}" $extra -i "$(key $t)" -P "$(sport $t)" "$(dest $t):$work/files/warm.bin" "$work/warm.down"
    done
    ssh "${opts[@]}" -i "$(key $t)" -p "$(sport $t)" "$(dest $t)" true
  done
  rm -f "$work/files/warm.bin" "$work/warm.down"
fi

declare -A T
for r in $(seq 1 "$ROUNDS"); do
  for t in $targets; do
    for proto in sftp legacy; do
      extra=(); [ $proto = legacy ] && extra=(-O)
      rm -f "$work/files/up.bin" "$work/down.bin"
      timed_scp -q "${opts[@]}" "${extra[@]}" -i "$(key $t)" -P "$(sport $t)" "$work/payload" "$(dest $t):$work/files/up.bin"
      up=$secs; cu=("$cpu_gh" "$cpu_jit" "$writes_gh" "$cpu_sshd" "$cpu_client")
      [ "$(sha256sum "$work/files/up.bin" | cut -d' ' -f1)" = "$sum" ] || { echo "upload corrupted ($t $proto)"; exit 1; }
      timed_scp -q "${opts[@]}" "${extra[@]}" -i "$(key $t)" -P "$(sport $t)" "$(dest $t):$work/files/up.bin" "$work/down.bin"
      down=$secs; cdn=("$cpu_gh" "$cpu_jit" "$writes_gh" "$cpu_sshd" "$cpu_client")
      [ "$(sha256sum "$work/down.bin" | cut -d' ' -f1)" = "$sum" ] || { echo "download corrupted ($t $proto)"; exit 1; }
      if [ "$t" = gatehouse ]; then
        T[$proto,up,cpu]=$(echo "${T[$proto,up,cpu]:-0} + ${cu[0]}" | bc -l)
        T[$proto,down,cpu]=$(echo "${T[$proto,down,cpu]:-0} + ${cdn[0]}" | bc -l)
      fi
      T[$t,$proto,up]=$(echo "${T[$t,$proto,up]:-0} + $up" | bc -l)
      T[$t,$proto,down]=$(echo "${T[$t,$proto,down]:-0} + $down" | bc -l)
      printf '  round %d %-9s scp %-6s up %6.2f s (%6.1f MB/s)  down %6.2f s (%6.1f MB/s)\n' "$r" "$t" "$proto" \
        "$up" "$(echo "$SIZE_MB / $up" | bc -l)" "$down" "$(echo "$SIZE_MB / $down" | bc -l)"
      printf '          CPU s/GB  up: gateway %5.2f (jit %4.2f, %6.0f writes/GB) sshd %5.2f client %5.2f  down: gateway %5.2f (jit %4.2f, %6.0f writes/GB) sshd %5.2f client %5.2f\n' \
        "${cu[@]}" "${cdn[@]}"
    done
    s=$(now)
    for _ in $(seq 1 "$LOOPS"); do ssh "${opts[@]}" -i "$(key $t)" -p "$(sport $t)" "$(dest $t)" true; done
    e=$(now)
    ms=$(echo "($e - $s) * 1000 / $LOOPS" | bc -l)
    T[$t,loop]=$(echo "${T[$t,loop]:-0} + $ms" | bc -l)
    printf '  round %d %-9s %d x ssh host true: %6.1f ms each\n' "$r" "$t" "$LOOPS" "$ms"
  done
done

echo
echo "| measure | direct | through Gatehouse | ratio (Gatehouse / direct) | gateway CPU s/GB | TCP relay (haproxy) / direct |"
echo "|---|---:|---:|---:|---:|---:|"
for proto in sftp legacy; do for dir in up down; do
  d=$(echo "$SIZE_MB * $ROUNDS / ${T[direct,$proto,$dir]}" | bc -l)
  g=$(echo "$SIZE_MB * $ROUNDS / ${T[gatehouse,$proto,$dir]}" | bc -l)
  h=-; [ "$RELAY" = 1 ] && h=$(printf '%.2f' "$(echo "$SIZE_MB * $ROUNDS / ${T[haproxy,$proto,$dir]} / $d" | bc -l)")
  printf '| scp %s %s, %d MB | %.1f MB/s | %.1f MB/s | %.2f | %.2f | %s |\n' "$proto" "$dir" "$SIZE_MB" "$d" "$g" \
    "$(echo "$g / $d" | bc -l)" "$(echo "${T[$proto,$dir,cpu]} / $ROUNDS" | bc -l)" "$h"
done; done
d=$(echo "${T[direct,loop]} / $ROUNDS" | bc -l); g=$(echo "${T[gatehouse,loop]} / $ROUNDS" | bc -l)
h=-; [ "$RELAY" = 1 ] && h=$(printf '%+.1f ms' "$(echo "${T[haproxy,loop]} / $ROUNDS - $d" | bc -l)")
printf '| ssh host true (per command) | %.1f ms | %.1f ms | %+.1f ms | | %s |\n' "$d" "$g" "$(echo "$g - $d" | bc -l)" "$h"
