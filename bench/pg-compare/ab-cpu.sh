#!/usr/bin/env bash
# A/B of the PostgreSQL gateway's CPU per statement: two builds of Gatehouse side by side on one
# PostgreSQL target, pgbench -S against each in turn (alternating cell by cell, the order swapped
# every round, so machine noise hits both alike), the gateway's CPU time (user + system from
# /proc/PID/stat, JIT compiler threads left out) divided by the transactions pgbench reports.
#
#   bench/pg-compare/ab-cpu.sh /tmp/base                 # BASE: a directory with gatehouse.jar + lib/
#   MODES=prepared CLIENTS=32 ROUNDS=5 DURATION=20 SSL=require bench/pg-compare/ab-cpu.sh /tmp/base
#   BREAKDOWN=1 ...   # also the CPU per statement of each thread group (alive during the cell)
#
# The second build (B) is this checkout's target/ unless NEW names another directory. Prints one
# line per cell and the medians. Needs what run.sh needs (postgresql, pgbench, python3).
#
# On the 2-core VM of docs/benchmarks.md the gateway process started second ran 10-30 % slower
# than the first whatever build it ran (an A/A run, seventeenth session), so a single start order
# biases B/A. ORDERS (default "AB BA") runs the whole measurement once per start order, both
# gateways restarted in between, and the medians pool both halves; the per-order medians are printed
# too, so a slot bias shows as B/A moving with the order. ORDERS=AB is the old, biased behaviour.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BASE=${1:?usage: ab-cpu.sh BASE_DIR (with gatehouse.jar and lib/)}
NEW=${NEW:-$top/target}
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-8}
SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-"32 1"}
MODES=${MODES:-"simple extended prepared"}
SSL=${SSL:-disable}            # disable (plaintext) or require (TLS to the gateway)
DURABILITY=${DURABILITY:-os}
BREAKDOWN=${BREAKDOWN:-0}
JVM_OPTS=${JVM_OPTS:-}
ORDERS=${ORDERS:-"AB BA"}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
source "$top/bin/find-java.sh"
source "$here/gatehouse-config.sh"

work=$(mktemp -d -t gh-abcpu.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/pg/postmaster.pid" ] && su postgres -c "$PGBIN/pg_ctl -D $work/pg stop -m fast" >/dev/null 2>&1 || true
  sleep 1; rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(port)
PASS=bench-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir "$work/pg" "$work/sock"; chown postgres "$work/pg" "$work/sock"
echo "$PASS" > "$work/pw"; chmod 644 "$work/pw"
su postgres -c "$PGBIN/initdb -D $work/pg -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile=$work/pw" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $work/pg -o '-p $PGPORT -k $work/sock -c max_connections=200 -c listen_addresses=127.0.0.1' -l $work/pg/server.log start" >/dev/null
psql -h "$work/sock" -p "$PGPORT" -U postgres -q -c "CREATE ROLE bench LOGIN PASSWORD '$PASS'" -c "CREATE DATABASE bench OWNER bench"
PGPASSWORD=$PASS pgbench -q -i -s "$SCALE" -h 127.0.0.1 -p "$PGPORT" -U bench bench >/dev/null 2>&1

declare -A PID PORT TOKEN
start_gateway() { # name dir
  local g=$1 dir=$2 pgp api
  pgp=$(port); api=$(port)
  gatehouse_config "$work/$g" "$api" "$pgp" "$PGPORT" "$DURABILITY"
  # shellcheck disable=SC2086
  BENCH_DB_PASSWORD=$PASS "$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow $JVM_OPTS \
    -jar "$dir/gatehouse.jar" serve --config "$work/$g/gatehouse.yaml" >"$work/$g.log" 2>&1 &
  PID[$g]=$!; pids+=($!); PORT[$g]=$pgp
  for _ in $(seq 1 120); do curl -ksf "https://127.0.0.1:$api/readyz" >/dev/null 2>&1 && break; sleep 1; done
  curl -ksf "https://127.0.0.1:$api/readyz" >/dev/null || { tail -50 "$work/$g.log"; exit 1; }
  TOKEN[$g]=$(GATEHOUSE_API="https://127.0.0.1:$api" GATEHOUSE_CACERT="$work/$g/data/tls/gatehouse.crt" \
    GATEHOUSE_TOKEN=$(cat "$work/$g/data/admin.token") \
    "$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow -jar "$dir/gatehouse.jar" \
    token issue --user bench --ttl 12h 2>/dev/null)
}
declare -A DIR=([A]="$BASE" [B]="$NEW")
stop_gateways() {
  for g in A B; do
    if [ -n "${PID[$g]:-}" ]; then kill "${PID[$g]}" 2>/dev/null || true; wait "${PID[$g]}" 2>/dev/null || true; fi
    rm -rf "${work:?}/$g"
  done
}

# Ticks (1/100 s) of the process minus its JIT compiler threads; with BREAKDOWN, per thread group.
cat > "$work/cpu.py" <<'PY'
import os, re, sys
pid = sys.argv[1]
def ticks(path):
    with open(path) as f:
        s = f.read()
    rest = s[s.rindex(')') + 2:].split()
    return int(rest[11]) + int(rest[12]), s[s.index('(') + 1:s.rindex(')')]
total, _ = ticks(f'/proc/{pid}/stat')
groups = {}
for t in os.listdir(f'/proc/{pid}/task'):
    try:
        n, name = ticks(f'/proc/{pid}/task/{t}/stat')
    except (FileNotFoundError, ProcessLookupError, ValueError):
        continue
    if 'CompilerThre' in name:
        total -= n
        continue
    # comm is cut at 15 characters: pg-session-12 and pg-session-12-t(arget)
    m = re.fullmatch(r'pg-session-[0-9]+(-.*)?', name)
    g = ('target' if m.group(1) else 'session') if m else re.sub(r'[0-9]+', '#', name)
    groups[g] = groups.get(g, 0) + n
print(total, ' '.join(f'{k.replace(" ", "_")}={v}' for k, v in sorted(groups.items())))
PY
cpu() { python3 "$work/cpu.py" "${PID[$1]}"; }

cell() { # gateway mode clients seconds -> "tx us_per_tx tps [breakdown]"
  local g=$1 m=$2 c=$3 d=$4 j out t0 t1 b0 b1 tx
  j=$(( c < 2 ? c : 2 ))
  read -r t0 _ < <(cpu "$g")
  PGPASSWORD=${TOKEN[$g]} pgbench -n -S -M "$m" -c "$c" -j "$j" -T "$d" \
    "host=127.0.0.1 port=${PORT[$g]} dbname=bench user=bench sslmode=$SSL" >"$work/out" 2>&1 &
  local pb=$!
  if [ "$BREAKDOWN" = 1 ] && [ "$d" -ge 6 ]; then
    sleep 2; read -r _ b0 < <(cpu "$g"); sleep $((d - 4)); read -r _ b1 < <(cpu "$g")
  fi
  wait $pb || { cat "$work/out" >&2; tail -n 30 "$work/$g.log" >&2; return 1; }
  read -r t1 _ < <(cpu "$g")
  tx=$(awk '/number of transactions actually processed/ {split($0, a, ": "); split(a[2], b, "/"); print b[1]}' "$work/out")
  out="$tx $(echo "($t1 - $t0) * 10000 / $tx" | bc -l | xargs printf '%.1f') $(awk '/^tps/ {printf "%.0f", $3}' "$work/out")"
  if [ "$BREAKDOWN" = 1 ] && [ -n "${b0:-}" ]; then
    # per group: ticks over the middle (d-4) s, per statement at the cell's average rate
    out="$out $(python3 - "$b0" "$b1" "$tx" "$d" <<'PY'
import sys
a = dict(kv.split('=') for kv in sys.argv[1].split())
b = dict(kv.split('=') for kv in sys.argv[2].split())
rate = int(sys.argv[3]) / int(sys.argv[4])
n = rate * (int(sys.argv[4]) - 4)
print(' '.join(f'{k}={(int(b[k]) - int(a.get(k, 0))) * 10000 / n:.1f}' for k in sorted(b)
               if int(b[k]) - int(a.get(k, 0)) > 0))
PY
)"
  fi
  echo "$out"
}

declare -A RES
for o in $ORDERS; do
  first=${o:0:1}; second=${o:1:1}
  start_gateway "$first" "${DIR[$first]}"
  start_gateway "$second" "${DIR[$second]}"
  echo "== start order $o: A: $BASE (pid ${PID[A]}), B: $NEW (pid ${PID[B]}); sslmode=$SSL, durability $DURABILITY"
  echo "== warm-up ${WARMUP}s per mode and client count, each gateway"
  for m in $MODES; do for c in $CLIENTS; do for g in A B; do cell "$g" "$m" "$c" "$WARMUP" >/dev/null; done; done; done
  echo "== ${DURATION}s cells, $ROUNDS rounds (µs of gateway CPU per statement)"
  for r in $(seq 1 "$ROUNDS"); do
    order="A B"; [ $((r % 2)) = 0 ] && order="B A"
    for m in $MODES; do for c in $CLIENTS; do for g in $order; do
      read -r tx us tps rest < <(cell "$g" "$m" "$c" "$DURATION")
      RES[$g,$m,$c]="${RES[$g,$m,$c]:-} $us"
      RES[$o,$g,$m,$c]="${RES[$o,$g,$m,$c]:-} $us"
      printf '  %s round %d %-8s c=%-2s %s %7s tx %7s tps %7s µs/stmt %s\n' "$o" "$r" "$m" "$c" "$g" "$tx" "$tps" "$us" "${rest:-}"
    done; done; done
  done
  stop_gateways
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
hdr=""; sep=""; for o in $ORDERS; do hdr="$hdr B/A started $o |"; sep="$sep---:|"; done
echo; echo "| mode | clients | A µs/stmt (median) | B µs/stmt (median) | B/A |$hdr A cells | B cells |"
echo "|---|---:|---:|---:|---:|$sep---|---|"
for m in $MODES; do for c in $CLIENTS; do
  a=$(echo "${RES[A,$m,$c]}" | median); b=$(echo "${RES[B,$m,$c]}" | median)
  per=""
  for o in $ORDERS; do
    oa=$(echo "${RES[$o,A,$m,$c]}" | median); ob=$(echo "${RES[$o,B,$m,$c]}" | median)
    per="$per $(printf '%.2f' "$(echo "$ob / $oa" | bc -l)") |"
  done
  printf '| %s | %s | %s | %s | %.2f |%s%s |%s |\n' "$m" "$c" "$a" "$b" "$(echo "$b / $a" | bc -l)" "$per" "${RES[A,$m,$c]}" "${RES[B,$m,$c]}"
done; done
