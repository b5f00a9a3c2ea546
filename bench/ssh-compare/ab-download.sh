#!/usr/bin/env bash
# A/B of SFTP downloads through two gateways, with direct alongside: 256 MB (SIZE_MB) downloads with
# the real scp, pinned as run.sh with PIN=1 (sshd and the client on CPU 0, the gateways on CPU 1), one
# cipher, interleaved (direct A B, then B A direct), REPS rounds after WARM untimed rounds. Prints
# each round's MB/s and ratios (A/direct, B/direct, B/A); take medians.
#
#   bench/ssh-compare/ab-download.sh                              # A and B: this checkout
#   OPTS_B=-Dsome.switch=true bench/ssh-compare/ab-download.sh    # a JVM option for B only
#   TOP_B=/path/to/other/checkout bench/ssh-compare/ab-download.sh
#
# Differences of a few per cent need a quiet machine and many rounds: one download swings by ±30 %
# while other builds run.
set -euo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}; topb=${TOP_B:-$top}
source "$top/bin/find-java.sh"; export JAVA_HOME
work=$(mktemp -d -t gh-sftpab.XXXXXX); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$work"; }
trap cleanup EXIT
chmod 755 "$work"
taskset -cp 0 $$ >/dev/null
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
A_SSH=$(port); A_API=$(port); B_SSH=$(port); B_API=$(port)
source "$top/bench/ssh-compare/setup.sh"
gatehouse_ssh_config "$work/ga" "$A_SSH" "$A_API"
gatehouse_ssh_config "$work/gb" "$B_SSH" "$B_API"
GATEHOUSE_JAVA_OPTS="-XX:ActiveProcessorCount=2 ${OPTS_A:-}" taskset -c 1 "$top/bin/gatehouse" serve --config "$work/ga/gatehouse.yaml" >"$work/ga.log" 2>&1 & pids+=($!)
GATEHOUSE_JAVA_OPTS="-XX:ActiveProcessorCount=2 ${OPTS_B:-}" taskset -c 1 "$topb/bin/gatehouse" serve --config "$work/gb/gatehouse.yaml" >"$work/gb.log" 2>&1 & pids+=($!)
for api in $A_API $B_API; do
for i in $(seq 1 120); do curl -sk "https://127.0.0.1:$api/healthz" >/dev/null 2>&1 && break; sleep 0.5; done; done
opts=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -c aes128-gcm@openssh.com)
head -c $((${SIZE_MB:-256} * 1024 * 1024)) /dev/urandom > "$work/files/f.bin"
run() { local t=$1; shift; local s e; rm -f "$work/d.bin"; s=$(date +%s.%N)
  case $t in
    direct) scp -q "${opts[@]}" "$@" -i "$work/keys/direct" -P "$SSHD_PORT" "$me@127.0.0.1:$work/files/f.bin" "$work/d.bin" ;;
    A) scp -q "${opts[@]}" "$@" -i "$work/keys/user" -P "$A_SSH" "bench+box@127.0.0.1:$work/files/f.bin" "$work/d.bin" ;;
    B) scp -q "${opts[@]}" "$@" -i "$work/keys/user" -P "$B_SSH" "bench+box@127.0.0.1:$work/files/f.bin" "$work/d.bin" ;;
  esac
  e=$(date +%s.%N); echo "scale=1; ${SIZE_MB:-256} * 1.048576 / ($e - $s)" | bc -l; }
for w in $(seq 1 ${WARM:-4}); do run A >/dev/null; run B >/dev/null; done
for rep in $(seq 1 ${REPS:-6}); do
  if [ $((rep % 2)) = 1 ]; then order="direct A B"; else order="B A direct"; fi
  declare -A r=()
  for t in $order; do r[$t]=$(run $t); done
  echo "rep $rep direct ${r[direct]} A ${r[A]} B ${r[B]} A/d $(echo "scale=2; ${r[A]} / ${r[direct]}" | bc -l) B/d $(echo "scale=2; ${r[B]} / ${r[direct]}" | bc -l) B/A $(echo "scale=2; ${r[B]} / ${r[A]}" | bc -l)"
done
