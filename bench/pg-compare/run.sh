#!/usr/bin/env bash
# pgbench -S through direct, haproxy (TCP relay), pgbouncer (session mode; plaintext and with client
# TLS) and Gatehouse (policy + recording on; TLS unmasked, plaintext unmasked, TLS with the pii
# masking profile), interleaved in one run so that machine noise hits every target alike.
# haproxy cannot terminate PostgreSQL's TLS (it starts with SSLRequest inside the protocol), so
# pgbouncer-tls is the TLS-terminating proxy to hold Gatehouse (TLS) against, and gatehouse-plain the
# one to hold against haproxy and pgbouncer; the difference between the two Gatehouse rows is the
# cost of TLS.
# Prints TPS and average latency per target, each proxy's ratio to direct and its own CPU per
# statement (/proc of its processes); then the added connection set-up time and Gatehouse's memory
# with 1,000 idle connections.
#
# TARGETS may also name java-threads and java-loop: a plain TCP relay in Java (JavaRelay.java, no
# protocol work) with two blocking threads per connection, as the gateway relays, and with one
# event loop, as haproxy does; they tell the cost of the I/O model apart from the gateway's work.
#
#   bench/pg-compare/run.sh                       # defaults: 10 s per cell, 2 rounds, scale 10
#   DURATION=30 ROUNDS=3 bench/pg-compare/run.sh
#   DURABILITY=os bench/pg-compare/run.sh         # the journal written to the OS without fdatasync
#   MODES= IDLE=10 ROWS_TEST=200000 bench/pg-compare/run.sh   # only the masking cost on wide rows
#
# ROWS_TEST=N (N >= 2000) also creates a 14-column `customers` table of N rows (the shape of
# MaskingBenchmark's `customers`: ids, an order number, a name, one email column, short words,
# numbers, two timestamps, an optional note) and reads 1,000 rows per query with pgbench (extended
# protocol, ROWS_CLIENTS clients) direct and through Gatehouse as three principals: masking none,
# column rules only (a rule for the email column, no content detection: `columns-only`) and the pii
# profile (content detection on every text value). The share "pii ÷ column rules" is issue #4's
# target measured end to end (at least 0.85).
#
# PIN=1 places PostgreSQL and pgbench on CPU 0 and every relay (haproxy, both pgbouncers, the
# gateway JVM) on CPU 1, for direct and relayed runs alike, as bench/ssh-compare does. Unpinned, on a
# two-core machine, a relay's CPU is taken from the database and the client (direct already keeps
# both cores busy at 32 clients), so a ratio measures the CPU sum of three processes; deployed, the
# gateway is a host of its own. Pinned, the database and client get the same one core both ways
# and the ratio says how much a relay with a core of its own slows them. The gateway JVM keeps the
# ergonomics of two CPUs (-XX:ActiveProcessorCount=2) so that only the placement differs.
#
# Needs: Debian postgresql (server binaries), postgresql-client (psql, pgbench), haproxy, pgbouncer,
# python3. Installs the missing Debian packages when run as root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-3}       # untimed seconds per mode, client count and target before the timed rounds
SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-"1 32"}
MODES=${MODES-"simple extended prepared"}   # MODES= (empty): no pgbench -S cells
IDLE=${IDLE:-1000}
LARGE_MB=${LARGE_MB:-0}   # >0: also stream a table of about this many MB through COPY, masking off/on
ROWS_TEST=${ROWS_TEST:-0} # >0: also read 1,000-row pages of a customers table, masking none/columns/pii
ROWS_CLIENTS=${ROWS_CLIENTS:-"1 4"}
DURABILITY=${DURABILITY:-fsync}   # Gatehouse audit.durability: fsync (default), os or store
PIN=${PIN:-0}

need=()
command -v pgbench >/dev/null || need+=(postgresql-client postgresql-contrib)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v haproxy >/dev/null || need+=(haproxy)
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
source "$top/bin/find-java.sh"

relay=()   # the command prefix that places a relay
if [ "$PIN" = 1 ]; then
  [ "$(nproc)" -ge 2 ] || { echo "PIN=1 needs two CPUs"; exit 1; }
  taskset -cp 0 $$ >/dev/null # this shell, so PostgreSQL and every pgbench it starts
  relay=(taskset -c 1)
  GATEHOUSE_SERVE_OPTS="-XX:ActiveProcessorCount=2 ${GATEHOUSE_SERVE_OPTS:-}"
  echo "== pinned: PostgreSQL and pgbench on CPU 0, haproxy, pgbouncer and the gateway on CPU 1"
fi

work=$(mktemp -d -t gh-pgcompare.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "pgbouncer $work/" 2>/dev/null || true
  [ -f "$work/pg/postmaster.pid" ] && su postgres -c "$PGBIN/pg_ctl -D $work/pg stop -m fast" >/dev/null 2>&1 || true
  sleep 1; rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(port); HAPORT=$(port); BOUNCEPORT=$(port); BOUNCETLSPORT=$(port); GHPG=$(port); GHAPI=$(port)
PASS=bench-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')

echo "== target: PostgreSQL $($PGBIN/postgres --version | awk '{print $3}') on $PGPORT"
mkdir "$work/pg" "$work/sock"; chown postgres "$work/pg" "$work/sock"
echo "$PASS" > "$work/pw"; chmod 644 "$work/pw"
su postgres -c "$PGBIN/initdb -D $work/pg -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile=$work/pw" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $work/pg -o '-p $PGPORT -k $work/sock -c max_connections=$((IDLE + 200)) -c listen_addresses=127.0.0.1' -l $work/pg/server.log start" >/dev/null
psql -h "$work/sock" -p "$PGPORT" -U postgres -q -c "CREATE ROLE bench LOGIN PASSWORD '$PASS'" -c "CREATE DATABASE bench OWNER bench"
export PGPASSWORD=$PASS
pgbench -q -i -s "$SCALE" -h 127.0.0.1 -p "$PGPORT" -U bench bench >/dev/null 2>&1

cat > "$work/haproxy.cfg" <<CFG
global
  maxconn $((IDLE + 200))
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
listen pg
  bind 127.0.0.1:$HAPORT
  server pg 127.0.0.1:$PGPORT
CFG
"${relay[@]}" haproxy -q -f "$work/haproxy.cfg" & pids+=($!); HAPID=$!

# java-threads and java-loop (only when TARGETS names them): a plain TCP relay in Java in the
# gateway's I/O model (two blocking threads per connection) and in haproxy's (one event loop),
# with no protocol work; see JavaRelay.java.
JTPORT=$(port); JLPORT=$(port)
case " ${TARGETS:-} " in *" java-threads "* | *" java-loop "*)
  "${relay[@]}" "$JAVA_HOME/bin/java" "$here/JavaRelay.java" threads "$JTPORT" "$PGPORT" & pids+=($!); JTPID=$!
  "${relay[@]}" "$JAVA_HOME/bin/java" "$here/JavaRelay.java" loop "$JLPORT" "$PGPORT" & pids+=($!); JLPID=$!
  ;;
esac

cat > "$work/userlist.txt" <<CFG
"bench" "$PASS"
CFG
cat > "$work/pgbouncer.ini" <<CFG
[databases]
bench = host=127.0.0.1 port=$PGPORT dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCEPORT
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = session
max_client_conn = $((IDLE + 200))
default_pool_size = 64
unix_socket_dir =
logfile = $work/sock/pgbouncer.log
CFG
# The same pgbouncer with client TLS required (a self-signed pair, like Gatehouse's own).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$work/bouncer.key" -out "$work/bouncer.crt" >/dev/null 2>&1
sed -e "s/^listen_port = .*/listen_port = $BOUNCETLSPORT/" -e "s|pgbouncer.log|pgbouncer-tls.log|" \
  "$work/pgbouncer.ini" > "$work/pgbouncer-tls.ini"
cat >> "$work/pgbouncer-tls.ini" <<CFG
client_tls_sslmode = require
client_tls_key_file = $work/bouncer.key
client_tls_cert_file = $work/bouncer.crt
CFG
chown -R postgres "$work/pgbouncer.ini" "$work/pgbouncer-tls.ini" "$work/userlist.txt" \
  "$work/bouncer.key" "$work/bouncer.crt"
"${relay[@]}" su postgres -s /bin/sh -c "pgbouncer $work/pgbouncer.ini" & pids+=($!)
"${relay[@]}" su postgres -s /bin/sh -c "pgbouncer $work/pgbouncer-tls.ini" & pids+=($!)

source "$here/gatehouse-config.sh"
gatehouse_config "$work/gh" "$GHAPI" "$GHPG" "$PGPORT" "$DURABILITY"
echo "== starting gatehouse (PostgreSQL on $GHPG, audit.durability: $DURABILITY)"
# GATEHOUSE_SERVE_OPTS: JVM options for the gateway only (not the CLI calls below), e.g. a JFR
# recording: GATEHOUSE_SERVE_OPTS="-XX:StartFlightRecording=filename=/tmp/pg.jfr,settings=profile"
BENCH_DB_PASSWORD=$PASS GATEHOUSE_JAVA_OPTS="${GATEHOUSE_JAVA_OPTS:-} ${GATEHOUSE_SERVE_OPTS:-}" \
  "${relay[@]}" "$top/bin/gatehouse" serve --config "$work/gh/gatehouse.yaml" >"$work/gh.log" 2>&1 & ghpid=$!; pids+=($ghpid)
for _ in $(seq 1 120); do
  curl -ksf "https://127.0.0.1:$GHAPI/readyz" >/dev/null 2>&1 && break; sleep 1
done
curl -ksf "https://127.0.0.1:$GHAPI/readyz" >/dev/null || { tail -50 "$work/gh.log"; exit 1; }
export GATEHOUSE_API="https://127.0.0.1:$GHAPI" GATEHOUSE_CACERT="$work/gh/data/tls/gatehouse.crt"
export GATEHOUSE_TOKEN=$(cat "$work/gh/data/admin.token")
GH_TOKEN=$("$top/bin/gatehouse" token issue --user bench --ttl 12h 2>/dev/null)
GH_PII_TOKEN=$("$top/bin/gatehouse" token issue --user bench-pii --ttl 12h 2>/dev/null)
GH_COLS_TOKEN=$("$top/bin/gatehouse" token issue --user bench-cols --ttl 12h 2>/dev/null)
jpid=$(pgrep -f "gatehouse.jar serve --config $work/gh/gatehouse.yaml" | head -n 1)

conninfo() { # target -> connection string (password via env)
  case $1 in
    direct) echo "host=127.0.0.1 port=$PGPORT dbname=bench user=bench sslmode=disable" ;;
    haproxy) echo "host=127.0.0.1 port=$HAPORT dbname=bench user=bench sslmode=disable" ;;
    java-threads) echo "host=127.0.0.1 port=$JTPORT dbname=bench user=bench sslmode=disable" ;;
    java-loop) echo "host=127.0.0.1 port=$JLPORT dbname=bench user=bench sslmode=disable" ;;
    pgbouncer) echo "host=127.0.0.1 port=$BOUNCEPORT dbname=bench user=bench sslmode=disable" ;;
    pgbouncer-tls) echo "host=127.0.0.1 port=$BOUNCETLSPORT dbname=bench user=bench sslmode=require" ;;
    gatehouse) echo "host=127.0.0.1 port=$GHPG dbname=bench user=bench sslmode=require" ;;
    gatehouse-plain) echo "host=127.0.0.1 port=$GHPG dbname=bench user=bench sslmode=disable" ;;
    gatehouse-pii) echo "host=127.0.0.1 port=$GHPG dbname=bench user=bench-pii sslmode=require" ;;
    gatehouse-cols) echo "host=127.0.0.1 port=$GHPG dbname=bench user=bench-cols sslmode=require" ;;
  esac
}
secret() {
  case $1 in
    gatehouse | gatehouse-plain) echo "$GH_TOKEN" ;;
    gatehouse-pii) echo "$GH_PII_TOKEN" ;;
    gatehouse-cols) echo "$GH_COLS_TOKEN" ;;
    *) echo "$PASS" ;;
  esac
}
run_pgbench() { # target mode clients extra... -> "tps latency_ms"
  local t=$1 m=$2 c=$3; shift 3
  local j=$(( c < 2 ? c : 2 ))
  local out
  if ! out=$(PGPASSWORD=$(secret "$t") pgbench -n -S -M "$m" -c "$c" -j "$j" "$@" "$(conninfo "$t")" 2>&1); then
    echo "pgbench failed against $t ($m, $c clients):" >&2; echo "$out" | tail -n 20 >&2; return 1
  fi
  echo "$out" | awk '/^latency average/ {lat=$4} /^tps/ {tps=$3} END {printf "%.0f %.3f\n", tps, lat}'
}

# gatehouse: masking none; gatehouse-pii: the same with content masking of every result value
targets=${TARGETS:-"direct haproxy pgbouncer pgbouncer-tls gatehouse gatehouse-plain gatehouse-pii"}
declare -A TPS LAT
# Warm-up: the gateway's JIT compiles each mode's path on first use (the first timed cell of a mode
# would otherwise measure the interpreter), and every target gets its caches filled alike.
if [ "$WARMUP" -gt 0 ]; then
  echo "== warm-up: ${WARMUP}s per mode, client count and target (not timed)"
  for m in $MODES; do for c in $CLIENTS; do for t in $targets; do
    run_pgbench "$t" "$m" "$c" -T "$WARMUP" >/dev/null
  done; done; done
fi
# The relay's own CPU per statement (user + system time of its processes over the cell, from
# /proc, divided by the statements pgbench counted): what each relay takes from the two cores it
# shares with the database and the client. pgbouncer runs under su, so its pid is looked up.
relay_pids() { # target -> pids of its relay processes (none for direct)
  case $1 in
    haproxy) echo "$HAPID" ;;
    pgbouncer) pgrep -f "^pgbouncer $work/pgbouncer.ini" | tr '\n' ' ' ;;
    pgbouncer-tls) pgrep -f "^pgbouncer $work/pgbouncer-tls.ini" | tr '\n' ' ' ;;
    java-threads) echo "${JTPID:-}" ;;
    java-loop) echo "${JLPID:-}" ;;
    gatehouse*) echo "$jpid" ;;
  esac
}
ticks() { # pids... -> summed utime + stime in clock ticks
  local sum=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    sum=$(( sum + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat") ))
  done
  echo "$sum"
}
CLK_TCK=$(getconf CLK_TCK)
declare -A CPU
echo "== pgbench -S, ${DURATION}s per cell, $ROUNDS interleaved rounds"
for r in $(seq 1 "$ROUNDS"); do
  for m in $MODES; do for c in $CLIENTS; do for t in $targets; do
    # shellcheck disable=SC2046
    rp=$(relay_pids "$t"); t0=$(ticks $rp)
    read -r tps lat < <(run_pgbench "$t" "$m" "$c" -T "$DURATION")
    # shellcheck disable=SC2086
    t1=$(ticks $rp)
    TPS[$t,$m,$c]=$(( ${TPS[$t,$m,$c]:-0} + tps )); LAT[$t,$m,$c]=$(echo "${LAT[$t,$m,$c]:-0} + $lat" | bc -l)
    us=-; [ -n "$rp" ] && [ "$tps" -gt 0 ] && us=$(echo "($t1 - $t0) * 1000000 / $CLK_TCK / ($tps * $DURATION)" | bc -l)
    [ "$us" != - ] && CPU[$t,$m,$c]=$(echo "${CPU[$t,$m,$c]:-0} + $us" | bc -l)
    printf '  round %d %-8s c=%-2s %-9s %8s tps %8s ms  relay CPU %s µs/statement\n' "$r" "$m" "$c" "$t" "$tps" "$lat" \
      "$( [ "$us" = - ] && echo - || printf '%.0f' "$us")"
  done; done; done
done

out="$work/results.md"
{
  echo "| mode | clients | target | TPS | avg latency (ms) | ratio to direct | relay CPU per statement |"
  echo "|---|---:|---|---:|---:|---:|---:|"
  for m in $MODES; do for c in $CLIENTS; do
    d=$(( TPS[direct,$m,$c] / ROUNDS ))
    for t in $targets; do
      tps=$(( TPS[$t,$m,$c] / ROUNDS )); lat=$(echo "scale=3; ${LAT[$t,$m,$c]} / $ROUNDS" | bc -l)
      # Without direct among TARGETS there is nothing to divide by: the ratio prints as -.
      ratio=-; [ "$d" -gt 0 ] && ratio=$(printf '%.2f' "$(echo "$tps / $d" | bc -l)")
      cpu=-; [ -n "${CPU[$t,$m,$c]:-}" ] && cpu=$(printf '%.0f µs' "$(echo "${CPU[$t,$m,$c]} / $ROUNDS" | bc -l)")
      printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$m" "$c" "$t" "$tps" "$lat" "$ratio" "$cpu"
    done
  done; done
} > "$out"
echo; cat "$out"

if [ "$ROWS_TEST" -gt 0 ]; then
  [ "$ROWS_TEST" -ge 2000 ] || { echo "ROWS_TEST must be at least 2000"; exit 1; }
  echo; echo "== wide rows: a customers table of $ROWS_TEST rows, 1,000 rows per query (pgbench -M extended)"
  PGPASSWORD=$PASS psql -q -h 127.0.0.1 -p "$PGPORT" -U bench bench -c "DROP TABLE IF EXISTS customers" -c "
    CREATE TABLE customers AS
    SELECT 1000000 + i AS id,
           'ORD-2024-' || lpad(((i * 7919) % 1000000)::text, 6, '0') AS order_no,
           f || ' ' || l AS name,
           lower(f) || '.' || lower(l) || (i % 97) || '@example.com' AS email,
           (ARRAY['DE','NG','BR','JP','CA','PL','US','GB'])[1 + i % 8] AS country,
           (ARRAY['Berlin','Lagos','São Paulo','Osaka','Toronto','Kraków','Austin','London'])[1 + i % 8] AS city,
           'SKU-' || (10000 + (i * 31) % 90000) AS sku,
           1 + i % 5 AS quantity,
           ((1 + i % 500) + (10 + i % 90) / 100.0)::numeric(10,2) AS amount,
           (ARRAY['EUR','NGN','BRL','JPY','CAD','PLN','USD','GBP'])[1 + i % 8] AS currency,
           (ARRAY['pending','paid','shipped','delivered','returned','cancelled'])[1 + i % 6] AS status,
           timestamptz '2024-01-01' + (i * 7919 % 31536000) * interval '1 second' AS created_at,
           CASE WHEN i % 4 = 0 THEN NULL
                ELSE timestamptz '2025-01-01' + (i * 7907 % 31536000) * interval '1 second' END AS shipped_at,
           CASE WHEN i % 50 = 0 THEN 'Call back on +1 415 555 01' || (10 + i % 89)
                ELSE (ARRAY['','','','','','gift wrap','leave at door','fragile','express',
                  'Customer asked to leave the parcel with the neighbour.',
                  'Refund approved by support after call.'])[1 + i % 11] END AS note
    FROM generate_series(1, $ROWS_TEST) i,
         LATERAL (SELECT (ARRAY['Ann','Bo','Chen','Dana','Émile','Farah','Greta','Hiro','Ines'])[1 + i % 9] AS f,
                         (ARRAY['Smith','Okafor','Müller','Tanaka','Silva','Novak','García'])[1 + i % 7] AS l) n" \
    -c "ALTER TABLE customers ADD PRIMARY KEY (id)" -c "VACUUM ANALYZE customers" >/dev/null
  cat > "$work/rows.sql" <<SQL
\\set a random(1000001, $((1000000 + ROWS_TEST - 999)))
SELECT * FROM customers WHERE id BETWEEN :a AND :a + 999;
SQL
  rtargets="direct gatehouse gatehouse-cols gatehouse-pii"
  declare -A RT
  for c in $ROWS_CLIENTS; do for t in $rtargets; do
    run_pgbench "$t" extended "$c" -f "$work/rows.sql" -T "$WARMUP" >/dev/null
  done; done
  for r in $(seq 1 "$ROUNDS"); do
    for c in $ROWS_CLIENTS; do for t in $rtargets; do
      read -r tps lat < <(run_pgbench "$t" extended "$c" -f "$work/rows.sql" -T "$DURATION")
      RT[$t,$c]=$(echo "${RT[$t,$c]:-0} + $tps" | bc -l)
      printf '  round %d c=%-2s %-15s %7s pages/s (1,000 rows each) %8s ms\n' "$r" "$c" "$t" "$tps" "$lat"
    done; done
  done
  {
    echo; echo "| clients | direct | Gatehouse, masking none | Gatehouse, column rules only | Gatehouse, pii (content detection) | pii ÷ column rules |"
    echo "|---:|---:|---:|---:|---:|---:|"
    for c in $ROWS_CLIENTS; do
      d=${RT[direct,$c]}
      printf '| %s | %.0f | %.0f (%.2f) | %.0f (%.2f) | %.0f (%.2f) | **%.2f** |\n' "$c" "$(echo "$d / $ROUNDS" | bc -l)" \
        "$(echo "${RT[gatehouse,$c]} / $ROUNDS" | bc -l)" "$(echo "${RT[gatehouse,$c]} / $d" | bc -l)" \
        "$(echo "${RT[gatehouse-cols,$c]} / $ROUNDS" | bc -l)" "$(echo "${RT[gatehouse-cols,$c]} / $d" | bc -l)" \
        "$(echo "${RT[gatehouse-pii,$c]} / $ROUNDS" | bc -l)" "$(echo "${RT[gatehouse-pii,$c]} / $d" | bc -l)" \
        "$(echo "${RT[gatehouse-pii,$c]} / ${RT[gatehouse-cols,$c]}" | bc -l)"
    done
  } >> "$out"
  tail -n $(( $(echo $ROWS_CLIENTS | wc -w) + 2 )) "$out"
  # what each principal saw of one row: the email masked by the column rule and by content detection
  for t in gatehouse-cols gatehouse-pii; do
    PGPASSWORD=$(secret "$t") psql -X -At "$(conninfo "$t")" -c "SELECT email, note FROM customers WHERE id = 1000050" | sed "s/^/  $t: /"
  done
fi

echo; echo "== connection set-up (pgbench -C: a new connection per transaction, 1 client, 500 tx)"
for t in direct haproxy pgbouncer pgbouncer-tls gatehouse gatehouse-plain; do
  read -r tps lat < <(run_pgbench "$t" simple 1 -C -t 500)
  printf '  %-9s %8s ms per connect+query\n' "$t" "$lat"
done

echo; echo "== gatehouse memory with $IDLE idle TLS connections"
rss() { awk '/VmRSS/ {print $2}' "/proc/$jpid/status"; }
before=$(rss)
python3 "$here/idle_connections.py" 127.0.0.1 "$GHPG" bench bench "$GH_TOKEN" "$IDLE" 20 &
idlepid=$!
sleep 15
during=$(rss)
wait $idlepid || true
printf '  RSS before: %d MiB, with %d idle connections: %d MiB (%.1f KiB per connection)\n' \
  $((before / 1024)) "$IDLE" $((during / 1024)) "$(echo "($during - $before) / $IDLE" | bc -l)"
if [ "$LARGE_MB" -gt 0 ]; then
  rows=$(( LARGE_MB * 1024 * 1024 / 180 ))
  echo; echo "== large result: ~${LARGE_MB} MB ($rows rows of text with an email and a phone number each)"
  PGPASSWORD=$PASS psql -q -h 127.0.0.1 -p "$PGPORT" -U bench bench -c "DROP TABLE IF EXISTS big" -c \
    "CREATE TABLE big AS SELECT i, 'customer ' || i || ' <user' || i || '@example.com> +1 415 555 '
       || lpad((i % 100)::text, 4, '0') || ' ' || repeat('lorem ipsum ', 8) AS note
     FROM generate_series(1, $rows) i" >/dev/null
  PGPASSWORD=$PASS psql -At -h 127.0.0.1 -p "$PGPORT" -U bench bench -c "SELECT pg_size_pretty(pg_total_relation_size('big'))"
  copy_big() { # target user secret -> prints seconds and the gateway's peak RSS during the copy
    local conn
    case $1 in
      direct) conn="host=127.0.0.1 port=$PGPORT dbname=bench user=$2 sslmode=disable" ;;
      gatehouse) conn="host=127.0.0.1 port=$GHPG dbname=bench user=$2 sslmode=require" ;;
    esac
    local peak=0 start end
    start=$(date +%s.%N)
    PGPASSWORD=$3 psql -X -q "$conn" -c "\\copy (SELECT * FROM big) TO '$work/big.out'" &
    local p=$!
    while kill -0 $p 2>/dev/null; do
      r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.2
    done
    wait $p
    end=$(date +%s.%N)
    printf '%.2f %d %d\n' "$(echo "$end - $start" | bc -l)" $((peak / 1024)) "$(stat -c %s "$work/big.out")"
  }
  base=$(rss)
  read -r t0 _ b0 < <(copy_big direct bench "$PASS")
  read -r t1 m1 b1 < <(copy_big gatehouse bench "$GH_TOKEN")
  read -r t2 m2 b2 < <(copy_big gatehouse bench-pii "$GH_PII_TOKEN")
  printf '  direct                      %6.2f s  %7.1f MB/s\n' "$t0" "$(echo "$b0 / $t0 / 1048576" | bc -l)"
  printf '  gatehouse, masking none     %6.2f s  %7.1f MB/s  gateway peak RSS %d MiB (before: %d MiB)\n' "$t1" "$(echo "$b1 / $t1 / 1048576" | bc -l)" "$m1" $((base / 1024))
  printf '  gatehouse, masking pii      %6.2f s  %7.1f MB/s  gateway peak RSS %d MiB\n' "$t2" "$(echo "$b2 / $t2 / 1048576" | bc -l)" "$m2"
  grep -c '@example.com' "$work/big.out" >/dev/null && head -c 300 "$work/big.out"; echo
fi

echo; echo "results table: (copy into docs/benchmarks.md)"; cat "$out"
