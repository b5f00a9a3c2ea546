#!/usr/bin/env bash
# A/B of the SSH gateway's cost per byte: two builds of Gatehouse side by side in front of one real
# OpenSSH sshd, the real scp client through each in turn (SFTP and legacy -O, up and down; cell by
# cell, the order of the builds swapped every round, so machine noise hits both alike). Per
# transfer, from /proc of the gateway JVM: CPU seconds per GB (utime+stime; in brackets without the
# JIT compiler threads), and read and write system calls per GB (syscr, syscw of /proc/PID/io),
# which the load of a shared machine cannot blur.
#
#   bench/ssh-compare/ab-cpu.sh /tmp/base            # BASE: a directory with gatehouse.jar + lib/
#   SIZE_MB=128 ROUNDS=5 WARMUP_MB=256 bench/ssh-compare/ab-cpu.sh /tmp/base
#
# The second build (B) is this checkout's target/ unless NEW names another directory. Prints one
# line per transfer and the medians. Needs what run.sh needs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BASE=${1:?usage: ab-cpu.sh BASE_DIR (with gatehouse.jar and lib/)}
NEW=${NEW:-$top/target}
SIZE_MB=${SIZE_MB:-128}
ROUNDS=${ROUNDS:-5}
WARMUP_MB=${WARMUP_MB:-256}
JVM_OPTS=${JVM_OPTS:-}
source "$top/bin/find-java.sh"

work=$(mktemp -d -t gh-sshab.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1; rm -rf "$work" 2>/dev/null || true # a gateway may still be writing its data dir
}
trap cleanup EXIT
chmod 755 "$work"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
source "$here/setup.sh"

declare -A PID PORT
start_gateway() { # name dir
  local g=$1 dir=$2 ssh api
  ssh=$(port); api=$(port)
  gatehouse_ssh_config "$work/$g" "$ssh" "$api"
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow $JVM_OPTS \
    -jar "$dir/gatehouse.jar" serve --config "$work/$g/gatehouse.yaml" >"$work/$g.log" 2>&1 &
  PID[$g]=$!; pids+=($!); PORT[$g]=$ssh
  await_gateway "$api" "$work/$g.log"
}
start_gateway A "$BASE"
start_gateway B "$NEW"
echo "== A: $BASE (pid ${PID[A]}), B: $NEW (pid ${PID[B]})"

# "ticks jit_ticks syscr syscw" of a gateway JVM.
probe() {
  python3 - "${PID[$1]}" <<'PY'
import os, sys
pid = sys.argv[1]
def ticks(path):
    with open(path) as f:
        s = f.read()
    rest = s[s.rindex(')') + 2:].split()
    return int(rest[11]) + int(rest[12]), s[s.index('(') + 1:s.rindex(')')]
total, _ = ticks(f'/proc/{pid}/stat')
jit = 0
for t in os.listdir(f'/proc/{pid}/task'):
    try:
        n, name = ticks(f'/proc/{pid}/task/{t}/stat')
    except (FileNotFoundError, ProcessLookupError, ValueError):
        continue
    if 'CompilerThre' in name:
        jit += n
io = dict(line.split(': ') for line in open(f'/proc/{pid}/io').read().splitlines())
print(total, jit, io['syscr'], io['syscw'])
PY
}

opts=(-q -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$work/keys/user")
tck=$(getconf CLK_TCK)
# One transfer through gateway G: prints "cpu cpu_without_jit reads/GB writes/GB MB/s".
transfer() { # gateway proto(sftp|legacy) dir(up|down) MB
  local g=$1 proto=$2 dir=$3 mb=$4 extra=() t0 j0 r0 w0 t1 j1 r1 w1 s e
  [ "$proto" = legacy ] && extra=(-O)
  read -r t0 j0 r0 w0 < <(probe "$g")
  s=$(date +%s.%N)
  if [ "$dir" = up ]; then
    scp "${opts[@]}" "${extra[@]}" -P "${PORT[$g]}" "$work/payload" "bench+box@127.0.0.1:$work/files/ab.bin"
  else
    scp "${opts[@]}" "${extra[@]}" -P "${PORT[$g]}" "bench+box@127.0.0.1:$work/files/ab.bin" "$work/down.bin"
  fi
  e=$(date +%s.%N)
  sleep 0.2
  read -r t1 j1 r1 w1 < <(probe "$g")
  awk -v t=$((t1 - t0)) -v j=$((j1 - j0)) -v r=$((r1 - r0)) -v w=$((w1 - w0)) -v mb="$mb" -v tck="$tck" \
    -v secs="$(echo "$e - $s" | bc -l)" \
    'BEGIN { gb = mb / 1024; printf "%.2f %.2f %.0f %.0f %.1f\n", t / tck / gb, (t - j) / tck / gb, r / gb, w / gb, mb / secs }'
}

if [ "$WARMUP_MB" -gt 0 ]; then
  echo "== warm-up: $WARMUP_MB MB each way, each protocol, each gateway (untimed)"
  head -c $((WARMUP_MB * 1024 * 1024)) /dev/urandom > "$work/payload"
  for g in A B; do for proto in sftp legacy; do for dir in up down; do
    transfer "$g" "$proto" "$dir" "$WARMUP_MB" >/dev/null
  done; done; done
fi

head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom > "$work/payload"
sum=$(sha256sum "$work/payload" | cut -d' ' -f1)
declare -A CPU NOJIT RD WR
echo "== $SIZE_MB MB transfers, $ROUNDS rounds: gateway CPU s/GB (without JIT), reads/GB, writes/GB, MB/s"
for r in $(seq 1 "$ROUNDS"); do
  order="A B"; [ $((r % 2)) = 0 ] && order="B A"
  for proto in sftp legacy; do for dir in up down; do for g in $order; do
    read -r cpu nojit rd wr mbs < <(transfer "$g" "$proto" "$dir" "$SIZE_MB")
    f=$work/files/ab.bin; [ "$dir" = down ] && f=$work/down.bin
    [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sum" ] || { echo "$dir corrupted ($g $proto)"; exit 1; }
    k=$g,$proto,$dir
    CPU[$k]="${CPU[$k]:-} $cpu"; NOJIT[$k]="${NOJIT[$k]:-} $nojit"; RD[$k]="${RD[$k]:-} $rd"; WR[$k]="${WR[$k]:-} $wr"
    printf '  round %d %-6s %-4s %s  CPU %5.2f (%5.2f) s/GB  reads %7d/GB  writes %7d/GB  %6.1f MB/s\n' \
      "$r" "$proto" "$dir" "$g" "$cpu" "$nojit" "$rd" "$wr" "$mbs"
  done; done; done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "| transfer | A: CPU s/GB | B: CPU s/GB | A: reads/GB | B: reads/GB | A: writes/GB | B: writes/GB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for proto in sftp legacy; do for dir in up down; do
  row="| $proto $dir |"
  for g in A B; do
    row="$row $(echo "${CPU[$g,$proto,$dir]}" | median) ($(echo "${NOJIT[$g,$proto,$dir]}" | median)) |"
  done
  for g in A B; do row="$row $(echo "${RD[$g,$proto,$dir]}" | median) |"; done
  for g in A B; do row="$row $(echo "${WR[$g,$proto,$dir]}" | median) |"; done
  echo "$row"
done; done
